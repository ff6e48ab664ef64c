"""Verifier.verify_request: Bearer and DPoP (RFC 9449) credentials of a whole request.

Tokens are signed for real by the in-process provider; proofs by keys the tests
make. Each rule of the schemes (docs/security.md) has its row here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bearerguard import (
    AccessToken,
    ConfigurationError,
    HttpRequest,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    KeySetUnavailableError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UseDPoPNonceError,
    Verifier,
)
from bearerguard._dpop import token_hash
from bearerguard._replay import ReplayStoreUnavailable
from bearerguard._request import asgi_request
from bearerguard.testing._signing import SigningKey, compact_jws
from tests.support import NOW, Clock, Provider

MakeVerifier = Callable[..., Verifier]
URL = "https://api.example.com/api/contacts"
CLIENT_KEY = SigningKey("ES256")
OTHER_KEY = SigningKey("ES256")
SECRET = "a-long-shared-secret-for-dpop-nonces-0123456789"


def bound_token(provider: Provider, key: SigningKey = CLIENT_KEY, **claims: Any) -> str:
    return provider.token(cnf={"jkt": key.thumbprint()}, **claims)


_counter = iter(range(1_000_000))


def dpop_proof(
    token: str | None,
    *,
    key: SigningKey = CLIENT_KEY,
    method: str = "GET",
    url: str = URL,
    jti: str | None = None,
    **claims: Any,
) -> str:
    body: dict[str, Any] = {
        "jti": jti or f"jti-{next(_counter)}",
        "htm": method,
        "htu": url,
        "iat": int(NOW),
        **claims,
    }
    if token is not None:
        body.setdefault("ath", token_hash(token))
    header = {"typ": "dpop+jwt", "alg": key.algorithm, "jwk": key.bare_jwk()}
    return compact_jws(header, body, key)


def request(
    authorization: str | None = None, proofs: tuple[str, ...] = (), method: str = "GET"
) -> HttpRequest:
    fields = [("Authorization", authorization)] if authorization else []
    fields += [("DPoP", proof) for proof in proofs]
    return HttpRequest(method, URL, fields)


def dpop_request(token: str, proof: str | None = None, **proof_claims: Any) -> HttpRequest:
    return request(f"DPoP {token}", (proof or dpop_proof(token, **proof_claims),))


# --- what passes -------------------------------------------------------------------------------


def test_a_bound_token_with_its_proof_passes(make_verifier: MakeVerifier, provider: Provider):
    token = bound_token(provider)

    verified = make_verifier().verify_request(dpop_request(token))

    assert isinstance(verified, AccessToken)
    assert verified.confirmation == {"jkt": CLIENT_KEY.thumbprint()}


def test_an_unbound_token_as_bearer_passes_when_dpop_is_allowed(
    make_verifier: MakeVerifier, provider: Provider
):
    verified = make_verifier().verify_request(request(f"Bearer {provider.token()}"))

    assert verified.confirmation is None


def test_the_async_path_has_the_same_rules(make_verifier: MakeVerifier, provider: Provider):
    verifier = make_verifier()
    token = bound_token(provider)

    verified = asyncio.run(verifier.averify_request(dpop_request(token)))

    assert verified.subject == "auth0|123"
    replay = dpop_request(token, proof=dpop_proof(token, jti="same"))
    asyncio.run(verifier.averify_request(replay))
    with pytest.raises(InvalidDPoPProofError):
        asyncio.run(verifier.averify_request(replay))


def test_a_request_url_spelt_otherwise_is_the_same_target(
    make_verifier: MakeVerifier, provider: Provider
):
    token = bound_token(provider)
    proof = dpop_proof(token, url="HTTPS://api.example.com:443/api/contacts")

    make_verifier().verify_request(request(f"DPoP {token}", (proof,)))


def test_behind_a_proxy_public_url_gives_the_url_clients_use(
    make_verifier: MakeVerifier, provider: Provider
):
    token = bound_token(provider)
    proof = dpop_proof(token, url="https://api.example.com/v1/api/contacts")
    inside = HttpRequest(
        "GET",
        "http://10.0.0.7:8000/api/contacts",
        [("Authorization", f"DPoP {token}"), ("DPoP", proof)],
    )

    make_verifier(public_url="https://api.example.com/v1").verify_request(inside)
    with pytest.raises(InvalidDPoPProofError, match="htu"):
        make_verifier().verify_request(inside)


# --- the schemes -------------------------------------------------------------------------------


def test_no_credentials_offer_both_schemes_when_dpop_is_allowed(make_verifier: MakeVerifier):
    with pytest.raises(MissingTokenError) as refused:
        make_verifier().verify_request(request())

    challenge = refused.value.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api", DPoP realm="api", algs="')
    assert "ES256" in challenge
    assert make_verifier().authenticate_request(request()) is None


def test_a_bound_token_sent_as_bearer_is_refused(make_verifier: MakeVerifier, provider: Provider):
    with pytest.raises(SenderConstrainedTokenError):
        make_verifier().verify_request(request(f"Bearer {bound_token(provider)}"))


def test_a_bound_token_that_passed_as_dpop_is_still_refused_as_bearer(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier()
    token = bound_token(provider)
    for _ in range(3):  # the DPoP path's token cache admits it from its second sighting
        verifier.verify_request(dpop_request(token))

    with pytest.raises(SenderConstrainedTokenError):
        verifier.verify_request(request(f"Bearer {token}"))
    with pytest.raises(SenderConstrainedTokenError):
        verifier.verify_authorization(f"Bearer {token}")


def test_an_unbound_token_sent_as_dpop_is_refused(make_verifier: MakeVerifier, provider: Provider):
    token = provider.token()

    with pytest.raises(InvalidTokenError) as refused:
        make_verifier().verify_request(dpop_request(token))

    assert "cnf.jkt" in refused.value.reason
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer realm")


def test_a_bearer_request_with_a_dpop_header_is_malformed(
    make_verifier: MakeVerifier, provider: Provider
):
    token = provider.token()

    with pytest.raises(InvalidRequestError) as refused:
        make_verifier().verify_request(request(f"Bearer {token}", (dpop_proof(token),)))

    assert refused.value.status_code == 400


@pytest.mark.parametrize("count", [0, 2])
def test_the_dpop_scheme_needs_exactly_one_proof(
    make_verifier: MakeVerifier, provider: Provider, count: int
):
    token = bound_token(provider)
    proofs = tuple(dpop_proof(token) for _ in range(count))

    with pytest.raises(InvalidDPoPProofError, match=f"has {count}"):
        make_verifier().verify_request(request(f"DPoP {token}", proofs))


def test_required_takes_no_bearer_and_offers_no_bearer_challenge(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(dpop="required")

    with pytest.raises(MissingTokenError) as refused:
        verifier.verify_request(request(f"Bearer {provider.token()}"))

    assert refused.value.headers["WWW-Authenticate"].startswith('DPoP realm="api", algs=')
    assert "Bearer" not in refused.value.headers["WWW-Authenticate"]
    verifier.verify_request(dpop_request(bound_token(provider)))


def test_off_takes_no_dpop_and_still_refuses_bound_tokens(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(dpop="off")
    token = bound_token(provider)

    with pytest.raises(MissingTokenError) as refused:
        verifier.verify_request(dpop_request(token))
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    with pytest.raises(SenderConstrainedTokenError):
        verifier.verify_request(request(f"Bearer {token}"))


# --- the proof, checked against the request and the token ------------------------------------


@pytest.mark.parametrize(
    ("proof_claims", "words"),
    [
        ({"method": "POST"}, "htm"),
        ({"url": URL + "/1"}, "htu"),
        ({"iat": int(NOW) - 200}, "older than"),
        ({"ath": token_hash("another.token.here")}, "ath"),
    ],
)
def test_a_proof_of_another_request_or_token_is_refused(
    make_verifier: MakeVerifier, provider: Provider, proof_claims: dict[str, Any], words: str
):
    token = bound_token(provider)

    with pytest.raises(InvalidDPoPProofError) as refused:
        make_verifier().verify_request(dpop_request(token, **proof_claims))

    assert words in refused.value.reason
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer realm")
    assert (
        'DPoP realm="api", error="invalid_dpop_proof"' in refused.value.headers["WWW-Authenticate"]
    )


def test_a_proof_by_another_key_than_the_tokens_is_refused(
    make_verifier: MakeVerifier, provider: Provider
):
    token = bound_token(provider)

    with pytest.raises(InvalidDPoPProofError, match=r"cnf\.jkt"):
        make_verifier().verify_request(dpop_request(token, key=OTHER_KEY))


def test_a_bad_proof_is_refused_before_any_network(make_verifier: MakeVerifier, provider: Provider):
    token = bound_token(provider)

    with pytest.raises(InvalidDPoPProofError):
        make_verifier().verify_request(dpop_request(token, method="POST"))

    assert provider.jwks_hits == 0


def test_a_replayed_proof_is_refused(make_verifier: MakeVerifier, provider: Provider):
    verifier = make_verifier()
    token = bound_token(provider)
    proof = dpop_proof(token)

    verifier.verify_request(dpop_request(token, proof))
    with pytest.raises(InvalidDPoPProofError, match="used before"):
        verifier.verify_request(dpop_request(token, proof))


def test_a_refused_request_does_not_use_up_its_jti(make_verifier: MakeVerifier, provider: Provider):
    verifier = make_verifier(dpop_nonce=SECRET)
    token = bound_token(provider)
    without_nonce = dpop_proof(token, jti="first")

    with pytest.raises(UseDPoPNonceError) as asked:
        verifier.verify_request(dpop_request(token, without_nonce))
    nonce = asked.value.headers["DPoP-Nonce"]

    verifier.verify_request(dpop_request(token, dpop_proof(token, jti="first", nonce=nonce)))


# --- nonces ------------------------------------------------------------------------------------


def test_with_nonces_a_proof_without_one_gets_use_dpop_nonce_and_a_fresh_one(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(dpop_nonce=SECRET)
    token = bound_token(provider)

    with pytest.raises(UseDPoPNonceError) as refused:
        verifier.verify_request(dpop_request(token))

    assert refused.value.status_code == 401
    nonce = refused.value.headers["DPoP-Nonce"]
    assert 'error="use_dpop_nonce"' in refused.value.headers["WWW-Authenticate"]
    verifier.verify_request(dpop_request(token, nonce=nonce))
    with pytest.raises(UseDPoPNonceError):
        verifier.verify_request(dpop_request(token, nonce=nonce[:-2] + "AA"))


def test_another_worker_with_the_same_secret_accepts_the_nonce(
    make_verifier: MakeVerifier, provider: Provider
):
    token = bound_token(provider)
    with pytest.raises(UseDPoPNonceError) as refused:
        make_verifier(dpop_nonce=SECRET).verify_request(dpop_request(token))

    other_worker = make_verifier(dpop_nonce=SECRET)
    nonce = refused.value.headers["DPoP-Nonce"]
    other_worker.verify_request(dpop_request(token, nonce=nonce))


def test_bearer_requests_need_no_nonce(make_verifier: MakeVerifier, provider: Provider):
    make_verifier(dpop_nonce=SECRET).verify_request(request(f"Bearer {provider.token()}"))


def test_a_dpop_token_that_passed_gets_the_current_nonce_to_send_back(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(dpop_nonce=SECRET)
    token = bound_token(provider)
    with pytest.raises(UseDPoPNonceError) as refused:
        verifier.verify_request(dpop_request(token))
    nonce = refused.value.headers["DPoP-Nonce"]

    passed = verifier.verify_request(dpop_request(token, nonce=nonce))

    assert verifier.dpop_nonce_for(passed) == nonce  # the same period: the same nonce
    bearer_token = verifier.verify_request(request(f"Bearer {provider.token()}"))
    assert verifier.dpop_nonce_for(bearer_token) is None
    assert verifier.dpop_nonce_for(None) is None
    assert make_verifier().dpop_nonce_for(passed) is None  # nonces off


# --- the replay store ----------------------------------------------------------------------------


class DownStore:
    """A store that cannot answer (Redis unreachable)."""

    def remember(self, key: str, expires_at: float, now: float) -> bool:
        raise ReplayStoreUnavailable("connection refused", retry_after=2.0)

    async def aremember(self, key: str, expires_at: float, now: float) -> bool:
        raise ReplayStoreUnavailable("connection refused", retry_after=2.0)


def test_a_store_that_cannot_answer_fails_closed_with_503(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(replay_store=DownStore())
    token = bound_token(provider)

    with pytest.raises(KeySetUnavailableError) as refused:
        verifier.verify_request(dpop_request(token))
    assert refused.value.status_code == 503
    assert refused.value.headers["Retry-After"] == "2"
    with pytest.raises(KeySetUnavailableError):
        asyncio.run(verifier.averify_request(dpop_request(token)))
    verifier.verify_request(request(f"Bearer {provider.token()}"))  # Bearer needs no store


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"dpop": "yes"}, "dpop"),
        ({"dpop": True}, "dpop"),
        ({"dpop_algorithms": ["HS256"]}, "dpop_algorithms"),
        ({"dpop_algorithms": ["none"]}, "dpop_algorithms"),
        ({"dpop_algorithms": []}, "dpop_algorithms"),
        ({"dpop_proof_max_age": 0.5}, "dpop_proof_max_age"),
        ({"dpop_proof_max_age": 3600}, "dpop_proof_max_age"),
        ({"dpop_proof_max_age": "60"}, "dpop_proof_max_age"),
        ({"dpop_nonce": "short"}, "dpop_nonce"),
        ({"replay_store": "memcached://localhost"}, "replay_store"),
        ({"replay_store": object()}, "replay_store"),
        ({"public_url": "http://api.example.com"}, "public_url"),
        ({"public_url": "https://api.example.com/?x=1"}, "public_url"),
        ({"public_url": 5}, "public_url"),
    ],
)
def test_dpop_settings_are_checked(make_verifier: MakeVerifier, settings: dict, named: str):
    with pytest.raises(ConfigurationError) as refused:
        make_verifier(**settings)

    assert refused.value.setting == named


def test_only_the_allowed_proof_algorithms(make_verifier: MakeVerifier, provider: Provider):
    key = SigningKey("EdDSA")
    token = bound_token(provider, key)
    verifier = make_verifier(dpop_algorithms=["ES256"])

    with pytest.raises(InvalidDPoPProofError) as refused:
        verifier.verify_request(dpop_request(token, key=key))

    assert 'algs="ES256"' in refused.value.headers["WWW-Authenticate"]


def test_verify_request_takes_an_http_request(make_verifier: MakeVerifier):
    with pytest.raises(TypeError, match="HttpRequest"):
        make_verifier().verify_request({"Authorization": "Bearer x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", b"Bearer x")],
        "Authorization: Bearer x",
        [("Authorization",)],
        5,
    ],
)
def test_http_request_refuses_what_is_not_text_fields(headers: Any):
    with pytest.raises(TypeError, match="HttpRequest"):
        HttpRequest("GET", URL, headers)


def test_http_request_keeps_repeated_fields_visible():
    built = HttpRequest("GET", URL, [("DPoP", "a"), ("dpop", "b"), ("Accept", "x")])

    assert built.header_values("DPOP") == ("a", "b")
    assert HttpRequest("GET", URL, {"DPoP": "a"}).header_values("dpop") == ("a",)


class _Name(str):
    """A str subclass, as some frameworks hand header names over."""


@pytest.mark.parametrize(
    "headers",
    [
        [("DPoP", "a"), ("Accept", "x")],
        ((_Name("DPoP"), "a"), (_Name("Accept"), "x")),
        iter([("DPoP", "a"), ("Accept", "x")]),
        {"DPoP": "a", "Accept": "x"},
    ],
)
def test_http_request_takes_every_kind_of_fields_alike(headers: Any):
    assert HttpRequest("GET", URL, headers).headers == (("dpop", "a"), ("accept", "x"))


def test_an_asgi_request_has_lower_case_names_and_the_clients_url():
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/api/contacts",
        "query_string": b"page=2",
        "headers": [(b"Host", b"api.example.com"), (b"DPoP", b"a")],
    }

    built = asgi_request(scope)

    assert built.url == URL + "?page=2"
    assert built.headers == (("host", "api.example.com"), ("dpop", "a"))


def test_a_client_sending_proof_after_proof_is_checked_in_full_every_time(
    provider: Provider, make_verifier: MakeVerifier
):
    # The memos (proof header, URL forms, token hash) save work, never a check.
    token = bound_token(provider)
    verifier = make_verifier()
    for _ in range(3):
        verifier.verify_request(dpop_request(token))
    forged = dpop_request(token, proof=dpop_proof(token, url=URL + "/other"))
    with pytest.raises(InvalidDPoPProofError, match="htu"):
        verifier.verify_request(forged)
    other = bound_token(provider, sub="another-user")
    with pytest.raises(InvalidDPoPProofError, match="ath"):
        verifier.verify_request(dpop_request(token, proof=dpop_proof(other)))


def test_the_clock_is_the_verifiers(provider: Provider, make_verifier: MakeVerifier, clock: Clock):
    token = bound_token(provider)
    proof = dpop_proof(token)
    verifier = make_verifier()

    clock.advance(200)  # the proof is now too old for the verifier's clock
    with pytest.raises(InvalidDPoPProofError, match="older than"):
        verifier.verify_request(dpop_request(token, proof))


# --- settings by name ----------------------------------------------------------------------------


def test_the_dpop_settings_come_from_the_environment(provider: Provider, clock: Clock):
    verifier = Verifier.from_env(
        {
            "BEARERGUARD_ISSUER": "https://tenant.auth0.com/",
            "BEARERGUARD_AUDIENCE": "https://api.example.com",
            "BEARERGUARD_DPOP": "required",
            "BEARERGUARD_DPOP_ALGORITHMS": "ES256,EdDSA",
            "BEARERGUARD_DPOP_PROOF_MAX_AGE": "30",
            "BEARERGUARD_DPOP_NONCE_SECRET": SECRET,
            "BEARERGUARD_REPLAY_STORE": "memory",
            "BEARERGUARD_PUBLIC_URL": "https://api.example.com",
        },
        transport=provider.transport(),
        clock=clock.time,
        monotonic=clock.monotonic,
    )

    assert verifier.config.dpop == "required"
    assert verifier.config.dpop_algorithms == {"ES256", "EdDSA"}
    assert verifier.config.dpop_proof_max_age == 30.0
    assert verifier.config.public_url == "https://api.example.com"
    with pytest.raises(UseDPoPNonceError):  # nonces are on
        verifier.verify_request(dpop_request(bound_token(provider)))


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("BEARERGUARD_DPOP", "sometimes", "'off', 'allowed' or 'required'"),
        ("BEARERGUARD_DPOP_ALGORITHMS", "ES256,HS256", "asymmetric"),
        ("BEARERGUARD_DPOP_PROOF_MAX_AGE", "a minute", "a number of seconds"),
        ("BEARERGUARD_DPOP_NONCE_SECRET", "too-short", "32 bytes"),
        ("BEARERGUARD_REPLAY_STORE", "memcached://x", "redis://"),
        ("BEARERGUARD_PUBLIC_URL", "http://api.example.com", "https"),
    ],
)
def test_a_bad_dpop_variable_is_named(variable: str, value: str, words: str):
    environment = {
        "BEARERGUARD_ISSUER": "https://tenant.auth0.com/",
        "BEARERGUARD_AUDIENCE": "https://api.example.com",
        variable: value,
    }

    with pytest.raises(ConfigurationError) as refused:
        Verifier.from_env(environment)

    assert variable in str(refused.value)
    assert words in str(refused.value)
    if "SECRET" in variable:
        assert value not in str(refused.value)
