"""``bearerguard.testing.FakeIssuer``: real tokens, a fake provider, nothing left behind.

Every token here goes through a real :class:`Verifier` built with no transport:
the only way its keys can arrive is the fake's in-process interception (a real
fetch would fail: the fake's hosts do not exist and there is no network). Every
signature is really checked; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import bearerguard.testing
from bearerguard import (
    AccessToken,
    ConfigurationError,
    ExpiredTokenError,
    ImmatureTokenError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
    UnknownKeyError,
    Verifier,
)
from bearerguard._background import serve_in_background, stop_serving
from bearerguard._intercept import interceptions
from bearerguard._jose import b64url_decode
from bearerguard._keycache import discovery_urls
from bearerguard.testing import FakeIssuer

from .support import NOW, Clock

Verify = Callable[[Verifier, str], AccessToken]

ALGORITHMS = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448",
]  # fmt: skip
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(autouse=True)
def nothing_left_active() -> Iterator[None]:
    """Each test must stop its fakes; a leftover would break every later test of the run."""
    yield
    leftovers = interceptions.active_issuers()
    for issuer in leftovers:
        interceptions.deactivate(issuer)
    assert leftovers == ()


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer()


def verifier_for(fake: FakeIssuer, **settings: Any) -> Verifier:
    """The application's verifier: the fake's issuer and audience, and no transport."""
    settings.setdefault("issuer", fake.issuer)
    settings.setdefault("audience", fake.audience)
    settings.setdefault("algorithms", [fake.algorithm])
    return Verifier(**settings)


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, unverified: to look at what was minted."""
    header, claims, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(claims))


def test_the_public_surface_is_one_sorted_all():
    assert bearerguard.testing.__all__ == sorted(bearerguard.testing.__all__)
    assert bearerguard.testing.__all__ == ["ClientCertificate", "DPoPKey", "FakeIssuer"]
    assert FakeIssuer.__module__.startswith("bearerguard.testing")


# --- minting --------------------------------------------------------------------------------


def test_a_minted_token_verifies_through_the_applications_verifier(
    issuer: FakeIssuer, verify: Verify
):
    verifier = verifier_for(issuer)
    with issuer:
        token = verify(verifier, issuer.token(scopes=["read:contacts"]))
    assert token.subject == "auth0|test-user"
    assert token.issuer == issuer.issuer
    assert token.scopes == {"read:contacts"}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_signs_tokens_the_verifier_accepts(algorithm: str, verify: Verify):
    fake = FakeIssuer(algorithm=algorithm)
    verifier = verifier_for(fake)
    with fake:
        token = verify(verifier, fake.token())
    assert token.header["alg"] == algorithm
    assert token.header["kid"] == fake.kid


@pytest.mark.parametrize(
    ("algorithm", "crv", "signature_bytes"),
    [("EdDSA", "Ed25519", 64), ("Ed25519", "Ed25519", 64), ("Ed448", "Ed448", 114)],
)
def test_eddsa_names_publish_a_key_of_their_curve(algorithm: str, crv: str, signature_bytes: int):
    fake = FakeIssuer(algorithm=algorithm)
    (jwk,) = fake.jwks()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", crv, algorithm)
    assert len(b64url_decode(fake.token().rsplit(".", 1)[1])) == signature_bytes


def test_a_verifier_allowing_only_ed25519_refuses_the_other_eddsa_names(verify: Verify):
    """RFC 9864's names are algorithms of their own: allowing "Ed25519" allows neither the
    polymorphic "EdDSA" (even on an Ed25519 key) nor "Ed448"."""
    fakes = {alg: FakeIssuer(algorithm=alg) for alg in ("Ed25519", "EdDSA", "Ed448")}
    for alg, fake in fakes.items():
        verifier = verifier_for(fake, algorithms=["Ed25519"])
        with fake:
            if alg == "Ed25519":
                assert verify(verifier, fake.token()).header["alg"] == "Ed25519"
            else:
                with pytest.raises(InvalidTokenError) as caught:
                    verify(verifier, fake.token())
                assert type(caught.value) is InvalidTokenError  # the allow-list, not the key


def test_the_claims_are_auth0_like_and_follow_the_clock(clock: Clock):
    fake = FakeIssuer("tenant.auth0.com", audience="https://api.example.com", clock=clock.time)
    header, claims = decode(fake.token())
    assert header == {"alg": "RS256", "typ": "at+jwt", "kid": fake.kid}
    jti = claims.pop("jti")
    assert claims == {
        "iss": "https://tenant.auth0.com/",
        "sub": "auth0|test-user",
        "aud": "https://api.example.com",
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
        "azp": "bearerguard-test-client",
        "client_id": "bearerguard-test-client",
    }
    assert isinstance(jti, str)
    assert jti != decode(fake.token())[1]["jti"]  # unique per token


def test_lifetime_and_expires_in_set_exp(clock: Clock):
    fake = FakeIssuer(lifetime=300, clock=clock.time)
    assert decode(fake.token())[1]["exp"] == int(NOW) + 300
    assert decode(fake.token(expires_in=60))[1]["exp"] == int(NOW) + 60
    with pytest.raises(TypeError, match="expires_in"):
        fake.token(expires_in=60, exp=int(NOW) + 5)


def test_several_audiences_become_an_array():
    fake = FakeIssuer(audience=["https://api.example.com", "https://tenant.auth0.com/userinfo"])
    assert fake.audience == ("https://api.example.com", "https://tenant.auth0.com/userinfo")
    assert decode(fake.token())[1]["aud"] == list(fake.audience)
    verifier = verifier_for(fake, audience="https://api.example.com")
    with fake:
        assert verifier.verify(fake.token()).audience == fake.audience


@pytest.mark.parametrize(
    ("scopes", "claim"),
    [
        (["read:contacts", "write:contacts"], "read:contacts write:contacts"),
        ("read:contacts write:contacts", "read:contacts write:contacts"),
        (("read:contacts", "read:contacts"), "read:contacts"),
        ("openid", "openid"),
    ],
)
def test_scopes_become_the_scope_claim(issuer: FakeIssuer, scopes, claim):
    token = issuer.token(scopes=scopes)
    assert decode(token)[1]["scope"] == claim
    with issuer:
        assert verifier_for(issuer).verify(token).scopes == set(claim.split(" "))


@pytest.mark.parametrize("scopes", [(), [], ""])
def test_no_scopes_means_no_scope_claim(issuer: FakeIssuer, scopes):
    assert "scope" not in decode(issuer.token(scopes=scopes))[1]


@pytest.mark.parametrize(
    "scopes",
    [["read contacts"], [""], ['say"hi'], ["back\\slash"], "read:contacts  write:contacts", [3]],
)
def test_bad_scope_names_are_refused_with_a_clear_message(issuer: FakeIssuer, scopes):
    with pytest.raises(ConfigurationError, match="is not a scope name"):
        issuer.token(scopes=scopes)


def test_scopes_and_a_raw_scope_claim_do_not_mix(issuer: FakeIssuer):
    with pytest.raises(TypeError, match="not both"):
        issuer.token(scopes=["read:contacts"], scope="admin")
    # A raw claim alone is taken as it is: negative tests need wrong types too.
    assert decode(issuer.token(scope=["not", "a", "string"]))[1]["scope"] == ["not", "a", "string"]


def test_any_claim_can_be_set_replaced_or_removed(issuer: FakeIssuer):
    claims = decode(issuer.token(sub=None, azp="my-spa", gty="client-credentials", jti=None))[1]
    assert "sub" not in claims
    assert "jti" not in claims
    assert claims["azp"] == "my-spa"
    assert claims["gty"] == "client-credentials"
    assert "aud" not in decode(issuer.token(aud=None))[1]
    assert "iss" not in decode(issuer.token(iss=None))[1]


def test_a_removed_exp_is_refused_by_the_verifier(issuer: FakeIssuer):
    with issuer, pytest.raises(InvalidClaimsError):
        verifier_for(issuer).verify(issuer.token(exp=None))


def test_datetimes_become_numeric_dates(issuer: FakeIssuer):
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    claims = decode(issuer.token(auth_time=moment, exp=moment))[1]
    assert claims["auth_time"] == claims["exp"] == int(moment.timestamp())


@pytest.mark.parametrize("namespace", ["https://example.com/", "https://example.com"])
def test_namespaced_claims_read_back_with_access_token_claim(issuer: FakeIssuer, namespace):
    url_named: dict[str, Any] = {"https://other.example/plan": "pro"}
    token = issuer.token(
        namespace=namespace,
        roles=["admin"],
        email="ada@example.com",
        permissions=["read:contacts"],  # Auth0's own claim: never namespaced
        org_id="org_123",
        **url_named,  # already a URL: left as it is
    )
    claims = decode(token)[1]
    assert claims["https://example.com/roles"] == ["admin"]
    assert claims["permissions"] == ["read:contacts"]
    assert claims["org_id"] == "org_123"
    assert claims["https://other.example/plan"] == "pro"
    assert "roles" not in claims
    with issuer:
        verified = verifier_for(issuer).verify(token)
    assert verified.claim("roles", namespace="https://example.com/") == ["admin"]
    assert verified.claim("email", namespace="https://example.com") == "ada@example.com"


def test_an_empty_namespace_is_refused(issuer: FakeIssuer):
    with pytest.raises(ConfigurationError, match="namespace"):
        issuer.token(namespace="", roles=["admin"])


def test_header_members_can_be_set_and_removed_but_alg_cannot(issuer: FakeIssuer):
    header = decode(issuer.token(headers={"typ": "JWT", "x-test": 1}))[0]
    assert header == {"alg": "RS256", "typ": "JWT", "kid": issuer.kid, "x-test": 1}
    assert decode(issuer.token(headers={"kid": None, "typ": None}))[0] == {"alg": "RS256"}
    with pytest.raises(ConfigurationError, match="unsigned_token"):
        issuer.token(headers={"alg": "HS256"})


def test_a_token_without_kid_still_verifies_when_one_key_fits(issuer: FakeIssuer):
    with issuer:
        verifier_for(issuer).verify(issuer.token(headers={"kid": None}))


def test_the_tokens_satisfy_an_rfc9068_strict_verifier(issuer: FakeIssuer, verify: Verify):
    with issuer:
        token = verify(verifier_for(issuer, rfc9068_strict=True), issuer.token())
    assert token.client_id == "bearerguard-test-client"


def test_auth_header_carries_a_bearer_token(issuer: FakeIssuer):
    headers = issuer.auth_header(scopes="read:contacts")
    assert list(headers) == ["Authorization"]
    with issuer:
        token = verifier_for(issuer).verify_authorization(headers["Authorization"])
    token.require_scopes("read:contacts")


# --- deliberately broken tokens ---------------------------------------------------------------

BROKEN: dict[str, tuple[Callable[[FakeIssuer], str], type[Exception]]] = {
    "expired": (lambda fake: fake.expired_token(), ExpiredTokenError),
    "immature": (lambda fake: fake.immature_token(), ImmatureTokenError),
    "tampered": (lambda fake: fake.tampered_token(scopes="read:contacts"), InvalidSignatureError),
    "unsigned": (lambda fake: fake.unsigned_token(), MalformedTokenError),
    "unknown key": (lambda fake: fake.unknown_key_token(), UnknownKeyError),
    "attacker key, real kid": (
        lambda fake: fake.unknown_key_token(headers={"kid": fake.kid}),
        InvalidSignatureError,
    ),
    "wrong audience": (
        lambda fake: fake.token(aud="https://other-api.example"),
        InvalidAudienceError,
    ),
    "wrong issuer": (lambda fake: fake.token(iss="https://evil.example/"), InvalidIssuerError),
}


@pytest.mark.parametrize("case", BROKEN)
def test_each_broken_token_is_refused_with_its_precise_error(
    issuer: FakeIssuer, verify: Verify, case
):
    mint, error = BROKEN[case]
    verifier = verifier_for(issuer)
    with issuer:
        verify(verifier, issuer.token())  # the keys are cached: only the token is at fault
        with pytest.raises(error) as refused:
            verify(verifier, mint(issuer))
    assert refused.type is error


@pytest.mark.parametrize("case", BROKEN)
def test_each_broken_token_is_also_refused_by_a_fresh_verifier(issuer: FakeIssuer, case):
    mint, error = BROKEN[case]
    with issuer, pytest.raises(error) as refused:
        verifier_for(issuer).verify(mint(issuer))
    assert refused.type is error


def test_broken_tokens_take_the_arguments_of_token(issuer: FakeIssuer, clock: Clock):
    fake = FakeIssuer(clock=clock.time)
    for token in (
        fake.expired_token(sub="auth0|eve", scopes="read:contacts"),
        fake.immature_token(sub="auth0|eve", scopes="read:contacts"),
        fake.unknown_key_token(sub="auth0|eve", scopes="read:contacts"),
    ):
        claims = decode(token)[1]
        assert (claims["sub"], claims["scope"]) == ("auth0|eve", "read:contacts")
    assert decode(fake.expired_token())[1]["exp"] == int(NOW) - 3600
    assert decode(fake.immature_token())[1]["nbf"] == int(NOW) + 3600
    assert decode(fake.expired_token(exp=int(NOW) - 5))[1]["exp"] == int(NOW) - 5
    with pytest.raises(TypeError, match="exp"):
        fake.expired_token(expires_in=10)


def test_the_tampered_token_claims_more_than_was_signed(issuer: FakeIssuer):
    header, claims = decode(issuer.tampered_token(scopes="read:contacts"))
    assert header["kid"] == issuer.kid
    assert claims["scope"] == "read:contacts admin"
    assert decode(issuer.tampered_token())[1]["scope"] == "admin"


def test_the_unsigned_token_says_alg_none_and_has_no_signature(issuer: FakeIssuer):
    token = issuer.unsigned_token()
    assert token.endswith(".")
    assert decode(token)[0]["alg"] == "none"


def test_the_unknown_key_is_never_published(issuer: FakeIssuer):
    header = decode(issuer.unknown_key_token())[0]
    assert header["kid"] not in {key["kid"] for key in issuer.jwks()["keys"]}


# --- keys and rotation -----------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_key_set_publishes_public_keys_only(algorithm):
    fake = FakeIssuer(algorithm=algorithm)
    (key,) = fake.jwks()["keys"]
    assert not PRIVATE_MEMBERS & key.keys()
    assert (key["kid"], key["alg"], key["use"]) == (fake.kid, algorithm, "sig")


def test_each_fake_owns_fresh_keys():
    first, second = FakeIssuer(), FakeIssuer()
    assert first.kid != second.kid
    assert first.jwks()["keys"][0]["n"] != second.jwks()["keys"][0]["n"]


def test_its_repr_never_shows_a_private_key(issuer: FakeIssuer):
    issuer.token()  # the key exists now
    text = repr(issuer)
    assert text == (
        f"FakeIssuer(issuer='https://fake-issuer.bearerguard.test/', algorithm='RS256', "
        f"kid={issuer.kid!r}, active=False)"
    )


def test_rotate_keeping_the_old_key_verifies_old_and_new_tokens_at_once(
    issuer: FakeIssuer, verify: Verify
):
    verifier = verifier_for(issuer)
    with issuer:
        old = issuer.token()
        verify(verifier, old)  # keys cached, the unknown-kid cooldown just started
        old_kid = issuer.kid
        new_kid = issuer.rotate()
        assert issuer.kid == new_kid != old_kid
        assert [key["kid"] for key in issuer.jwks()["keys"]] == [new_kid, old_kid]
        assert verify(verifier, issuer.token()).header["kid"] == new_kid
        assert verify(verifier, old).header["kid"] == old_kid


def test_rotate_dropping_the_old_key_refuses_old_tokens_at_once(issuer: FakeIssuer, verify: Verify):
    verifier = verifier_for(issuer)
    with issuer:
        old = issuer.token()
        verify(verifier, old)
        new_kid = issuer.rotate(keep_old=False)
        assert [key["kid"] for key in issuer.jwks()["keys"]] == [new_kid]
        assert verify(verifier, issuer.token()).header["kid"] == new_kid
        with pytest.raises(UnknownKeyError):
            verify(verifier, old)


def test_a_rotation_while_stopped_is_served_when_started_again(issuer: FakeIssuer):
    verifier = verifier_for(issuer)
    with issuer:
        verifier.verify(issuer.token())
    issuer.rotate(keep_old=False)
    with issuer:
        verifier.verify(issuer.token())


# --- activation ------------------------------------------------------------------------------


def test_verifiers_created_before_and_after_activation_both_use_the_fake(
    issuer: FakeIssuer, verify: Verify
):
    before = verifier_for(issuer)
    with issuer:
        after = verifier_for(issuer)
        assert verify(before, issuer.token()).subject == "auth0|test-user"
        assert verify(after, issuer.token()).subject == "auth0|test-user"


def test_start_and_stop(issuer: FakeIssuer):
    states = [issuer.active]
    assert issuer.start() is issuer
    states.append(issuer.active)
    assert interceptions.active_issuers() == (issuer.issuer,)
    issuer.stop()
    states.append(issuer.active)
    assert interceptions.active_issuers() == ()
    issuer.stop()  # stopping twice is harmless
    assert states == [False, True, False]


def test_starting_a_fake_twice_is_a_mistake(issuer: FakeIssuer):
    with issuer, pytest.raises(RuntimeError, match="already active"):
        issuer.start()


def test_two_fakes_for_one_issuer_is_a_mistake(issuer: FakeIssuer):
    with issuer:
        other = FakeIssuer(issuer.issuer)
        with pytest.raises(RuntimeError, match="already active"):
            other.start()
        assert not other.active
        verifier_for(issuer).verify(issuer.token())  # the first one still answers


def test_the_context_manager_stops_the_fake_whatever_happens(issuer: FakeIssuer):
    seen = []

    def fail() -> None:
        with issuer as active:
            seen.append((active is issuer, issuer.active))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail()
    assert seen == [(True, True)]
    assert not issuer.active
    assert interceptions.active_issuers() == ()


def test_as_a_decorator_the_fake_is_active_during_each_call(issuer: FakeIssuer):
    verifier = verifier_for(issuer)

    @issuer
    def protected_call(scope: str) -> str:
        """Calls the API."""
        assert issuer.active
        return verifier.verify(issuer.token(scopes=scope)).subject or ""

    assert protected_call.__name__ == "protected_call"
    assert protected_call.__doc__ == "Calls the API."
    assert not issuer.active
    assert protected_call("read:contacts") == "auth0|test-user"
    assert not issuer.active
    assert protected_call(scope="write:contacts") == "auth0|test-user"  # and again


def test_as_a_decorator_of_a_coroutine_function_the_fake_is_active_across_awaits(
    issuer: FakeIssuer,
):
    verifier = verifier_for(issuer)

    @issuer
    async def protected_call() -> str:
        await asyncio.sleep(0)
        assert issuer.active
        return (await verifier.averify(issuer.token())).subject or ""

    assert asyncio.iscoroutinefunction(protected_call)
    assert asyncio.run(protected_call()) == "auth0|test-user"
    assert not issuer.active


def test_as_a_decorator_the_fake_stops_when_the_call_raises(issuer: FakeIssuer):
    @issuer
    def failing() -> None:
        raise ValueError("boom")

    @issuer
    async def afailing() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        failing()
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(afailing())
    assert not issuer.active


def test_as_a_class_decorator_the_fake_is_active_in_each_test_method(issuer: FakeIssuer):
    @issuer
    class Suite:
        def test_one(self) -> bool:
            return issuer.active

        async def test_two(self) -> bool:
            return issuer.active

        def helper(self) -> bool:
            return issuer.active

    assert Suite().test_one()
    assert asyncio.run(Suite().test_two())
    assert not Suite().helper()
    assert not issuer.active


@dataclass
class Recorder:
    """An httpx transport standing in for the network: records and answers 503."""

    urls: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return httpx.Response(503)


def test_after_stop_the_verifiers_fetch_for_real_again(issuer: FakeIssuer):
    network = Recorder()
    verifier = verifier_for(issuer, transport=httpx.MockTransport(network.handle))
    with issuer:
        token = issuer.token()
        verifier.verify(token)
    assert network.urls == []  # everything came from the fake
    with pytest.raises(KeySetUnavailableError):
        verifier.verify(token)  # its keys went with the fake
    assert network.urls == [discovery_urls(issuer.issuer)[0]]


def test_a_fake_for_the_applications_real_issuer():
    fake = FakeIssuer("tenant.auth0.com", audience="https://api.example.com")
    assert fake.issuer == "https://tenant.auth0.com/"
    assert fake.jwks_uri == "https://tenant.auth0.com/.well-known/jwks.json"
    document = fake.discovery_document()
    assert document["issuer"] == fake.issuer
    assert document["jwks_uri"] == fake.jwks_uri
    assert document["authorization_endpoint"] == "https://tenant.auth0.com/authorize"
    assert document["token_endpoint"] == "https://tenant.auth0.com/oauth/token"
    verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
    with fake:
        assert verifier.verify(fake.token()).issuer == "https://tenant.auth0.com/"


def test_an_issuer_with_a_path_is_kept_as_the_verifier_keeps_it(verify: Verify):
    fake = FakeIssuer("https://sso.example.com/realms/main")
    assert fake.issuer == "https://sso.example.com/realms/main"
    assert fake.jwks_uri == "https://sso.example.com/realms/main/.well-known/jwks.json"
    verifier = Verifier(issuer="https://sso.example.com/realms/main", audience=fake.audience)
    with fake:
        verify(verifier, fake.token())


def test_two_fakes_for_two_issuers_at_once(verify: Verify):
    tenant = FakeIssuer("tenant.auth0.com")
    custom_domain = FakeIssuer("login.example.com")
    verifier = verifier_for(tenant, issuer=[tenant.issuer, custom_domain.issuer])
    with tenant, custom_domain:
        assert set(interceptions.active_issuers()) == {tenant.issuer, custom_domain.issuer}
        assert verify(verifier, tenant.token()).issuer == tenant.issuer
        assert verify(verifier, custom_domain.token()).issuer == custom_domain.issuer
        # One issuer's key never vouches for a token claiming to come from the other.
        with pytest.raises(UnknownKeyError):
            verify(verifier, tenant.token(iss=custom_domain.issuer))


def test_an_explicit_jwks_uri_like_the_applications(verify: Verify):
    jwks_uri = "https://keys.example.com/tenant/jwks.json"
    fake = FakeIssuer("tenant.auth0.com", jwks_uri=jwks_uri)
    assert fake.discovery_document()["jwks_uri"] == jwks_uri
    verifier = verifier_for(fake, jwks_uri=jwks_uri)  # skips discovery
    with fake:
        verify(verifier, fake.token())


def test_it_answers_its_own_urls_only_and_only_while_active(issuer: FakeIssuer):
    oidc, rfc8414 = discovery_urls(issuer.issuer)
    with issuer:
        for url in (oidc, rfc8414):
            answer = interceptions.answer(url)
            assert answer is not None
            assert json.loads(answer.body) == issuer.discovery_document()
        answer = interceptions.answer(issuer.jwks_uri)
        assert answer is not None
        assert json.loads(answer.body) == issuer.jwks()
        assert interceptions.answer(issuer.issuer + "userinfo") is None
        assert interceptions.answer("https://elsewhere.example/.well-known/jwks.json") is None
    assert interceptions.answer(issuer.jwks_uri) is None


def test_the_key_set_is_computed_per_fetch(issuer: FakeIssuer):
    with issuer:
        new_kid = issuer.rotate()
        answer = interceptions.answer(issuer.jwks_uri)
        assert answer is not None
        assert json.loads(answer.body)["keys"][0]["kid"] == new_kid


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"issuer": "http://tenant.example.com/"}, "https://"),
        ({"issuer": "tenant.example.com/path"}, "without a scheme"),
        ({"algorithm": "HS256"}, "signs with one of"),
        ({"algorithm": "none"}, "signs with one of"),
        ({"audience": []}, "audience"),
        ({"audience": ""}, "audience"),
        ({"jwks_uri": "http://keys.example.com/jwks.json"}, "jwks_uri"),
        ({"lifetime": 0}, "lifetime"),
        ({"lifetime": -5}, "lifetime"),
        ({"lifetime": float("inf")}, "lifetime"),
        ({"lifetime": True}, "lifetime"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_construction(arguments, message):
    with pytest.raises(ConfigurationError, match=message):
        FakeIssuer(**arguments)


def test_plain_http_is_fine_for_loopback_issuers():
    assert FakeIssuer("http://127.0.0.1:8080/").issuer == "http://127.0.0.1:8080/"
    assert FakeIssuer("http://localhost:8080/realms/dev").jwks_uri == (
        "http://localhost:8080/realms/dev/.well-known/jwks.json"
    )


# --- nothing left behind ---------------------------------------------------------------------


@dataclass
class LoopbackProvider:
    """Serves discovery and JWKS over real HTTP on 127.0.0.1 and records what was asked."""

    port: int
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@contextmanager
def loopback_provider() -> Iterator[LoopbackProvider]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                provider.requests.append(self.path)
            document = provider.documents.get(self.path)
            body = json.dumps(document).encode()
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider = LoopbackProvider(port=server.server_address[1])
    thread = serve_in_background(server, name="loopback-provider")
    try:
        yield provider
    finally:
        stop_serving(server, thread)


def test_the_interception_leaves_no_global_state_behind():
    """A verifier after the fake (new, or one that lived through it) fetches over the network."""
    with loopback_provider() as provider:
        fake = FakeIssuer(provider.issuer)  # its documents and keys, served for real too
        provider.documents = {
            "/.well-known/openid-configuration": fake.discovery_document(),
            "/.well-known/jwks.json": fake.jwks(),
        }
        lived_through = verifier_for(fake)
        with fake:
            lived_through.verify(fake.token())
        assert provider.requests == []  # the fake answered in-process
        assert interceptions.active_issuers() == ()

        fresh = verifier_for(fake)
        assert fresh.verify(fake.token()).subject == "auth0|test-user"
        token = asyncio.run(lived_through.averify(fake.token()))
        assert token.subject == "auth0|test-user"

        fetched = ["/.well-known/openid-configuration", "/.well-known/jwks.json"]
        assert provider.requests == fetched * 2  # each verifier went to the server itself
