"""Opaque access tokens judged by the provider's introspection endpoint (RFC 7662).

With ``introspection=Introspection(...)``, a token that is not a JWT goes to the
endpoint (JWTs stay local unless ``introspect_jwts=True``), authenticated with the
API's client credentials. Only ``"active": true`` passes, and then the answer meets
the checks a JWT's claims meet: issuer, audience, exp/nbf, scopes, cnf. Answers are
cached by token hash, never past ``exp`` nor ``cache_ttl``; inactive ones briefly.
Concurrent requests for one token make one call. Whatever goes wrong on the
provider's side is a 503 with ``Retry-After`` and an ERROR log, never an acceptance,
and the token's text appears in no log.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bearerguard import (
    BearerError,
    CachePolicy,
    ConfigurationError,
    ExpiredTokenError,
    HttpRequest,
    ImmatureTokenError,
    IntrospectionUnavailableError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
    SenderConstrainedTokenError,
    Verifier,
)
from bearerguard import Introspection as Introspection_
from bearerguard.testing import FakeIssuer
from tests.support import AUDIENCE, ISSUER, Clock

ENDPOINT = "https://tenant.auth0.com/oauth/introspect"
OPAQUE = "2YotnFZFEjr1zCsicMWpAA"  # RFC 6749's example access token


def Introspection(**settings: Any) -> Introspection_:
    return Introspection_(**{"client_id": "api", "client_secret": "s3cret", **settings})


def answer_of(**claims: Any) -> dict[str, Any]:
    """An active answer for this API, valid for an hour from the test clock."""
    now = int(Clock.now)
    base = {"active": True, "iss": ISSUER, "aud": AUDIENCE, "exp": now + 3600, "iat": now}
    return {name: v for name, v in {**base, **claims}.items() if v is not None}


class Endpoint:
    """An introspection endpoint on an httpx transport: counts calls, keeps the requests."""

    def __init__(
        self, respond: Callable[[httpx.Request], httpx.Response], delay: float = 0.0
    ) -> None:
        self.respond = respond
        self.delay = delay
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self.lock:
            self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        return self.respond(request)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        with self.lock:
            self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.respond(request)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[index].content.decode()).items()}


def answering(body: Any, status: int = 200, **headers: str) -> Callable[..., httpx.Response]:
    def respond(_: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(
            status, content=content, headers={"content-type": "application/json", **headers}
        )

    return respond


def verifier_for(endpoint: Endpoint, clock: Clock | None = None, **settings: Any) -> Verifier:
    clock = clock or Clock()
    cache = settings.pop("cache", None)
    return Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        introspection=Introspection(url=ENDPOINT, **settings),
        transport=httpx.MockTransport(endpoint.handle),
        async_transport=httpx.MockTransport(endpoint.ahandle),
        clock=clock.time,
        monotonic=clock.monotonic,
        cache=cache,
    )


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"client_id": ""}, "client_id must be a non-empty string"),
        ({"client_secret": None}, "needs one way to authenticate the API"),
        ({"client_secret": ""}, "client_secret must be a non-empty string"),
        ({"auth": "private_key_jwt"}, "auth='private_key_jwt' needs private_key="),
        ({"auth": "client_secret_jwt"}, "auth must be one of client_secret_basic"),
        ({"url": "http://idp.example.com/introspect"}, "https"),
        ({"cache_ttl": -1}, "cache_ttl"),
        ({"inactive_ttl": float("nan")}, "inactive_ttl"),
        ({"cache_size": 0}, "cache_size"),
        ({"introspect_jwts": "yes"}, "introspect_jwts must be True or False"),
    ],
)
def test_bad_settings_are_refused_saying_what_to_write(
    settings: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words):
        Introspection(**settings)


def test_the_settings_never_show_the_secret() -> None:
    assert "s3cret" not in repr(Introspection())


def test_introspection_must_be_the_settings_object() -> None:
    with pytest.raises(ConfigurationError, match="must be a bearerguard Introspection"):
        Verifier(issuer=ISSUER, audience=AUDIENCE, introspection={"client_id": "api"})  # type: ignore[arg-type]


def test_several_issuers_need_to_say_whose_endpoint_it_is() -> None:
    issuers = [ISSUER, "https://other.example.com/"]
    with pytest.raises(ConfigurationError, match="Introspection needs issuer="):
        Verifier(issuer=issuers, audience=AUDIENCE, introspection=Introspection())
    with pytest.raises(ConfigurationError, match="not one of the verifier's issuers"):
        Verifier(
            issuer=issuers,
            audience=AUDIENCE,
            introspection=Introspection(issuer="https://third.example.com/"),
        )
    verifier = Verifier(
        issuer=issuers, audience=AUDIENCE, introspection=Introspection(issuer="other.example.com")
    )
    assert verifier.config.introspection_issuer == "https://other.example.com/"


# --- the request ---------------------------------------------------------------------------


def test_the_request_is_a_form_with_the_token_and_basic_client_authentication() -> None:
    endpoint = Endpoint(answering(answer_of()))
    verifier_for(endpoint, client_id="api:1", client_secret="p@ss word").verify(OPAQUE)
    request = endpoint.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert endpoint.form() == {"token": OPAQUE, "token_type_hint": "access_token"}
    # RFC 6749 §2.3.1: each part form-encoded, then the pair in Basic.
    basic = base64.b64decode(request.headers["authorization"].removeprefix("Basic ")).decode()
    assert basic == "api%3A1:p%40ss%20word"


def test_client_secret_post_puts_the_credentials_in_the_form() -> None:
    endpoint = Endpoint(answering(answer_of()))
    verifier_for(endpoint, auth="client_secret_post").verify(OPAQUE)
    assert "authorization" not in endpoint.requests[0].headers
    assert endpoint.form()["client_id"] == "api"
    assert endpoint.form()["client_secret"] == "s3cret"


# --- judging the answer ---------------------------------------------------------------------


def test_an_active_answer_becomes_the_access_token_the_adapters_use() -> None:
    endpoint = Endpoint(answering(answer_of(scope="read:contacts write:contacts", sub="u1")))
    token = verifier_for(endpoint).verify(OPAQUE)
    assert token.scopes == {"read:contacts", "write:contacts"}
    assert token.subject == "u1"
    assert token.issuer == ISSUER
    assert token.audience == (AUDIENCE,)
    assert "active" not in token.claims
    token.require_scopes("read:contacts")


def test_without_iss_the_answer_speaks_for_the_endpoints_issuer() -> None:
    token = verifier_for(Endpoint(answering(answer_of(iss=None)))).verify(OPAQUE)
    assert token.issuer == ISSUER


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ({"active": False}, InvalidTokenError, "not active"),
        (answer_of(active="true"), InvalidTokenError, "not active"),
        (answer_of(active=1), InvalidTokenError, "not active"),
        ({k: v for k, v in answer_of().items() if k != "active"}, InvalidTokenError, "not active"),
        (answer_of(iss="https://evil.example.com/"), InvalidTokenError, "another issuer"),
        (answer_of(aud="https://other-api.example.com"), InvalidAudienceError, "aud"),
        (answer_of(aud=None), InvalidAudienceError, "aud claim is missing"),
        (answer_of(exp=None), InvalidClaimsError, "no valid exp"),
        (answer_of(exp="tomorrow"), InvalidClaimsError, "no valid exp"),
        (answer_of(exp=int(Clock.now) - 3600), ExpiredTokenError, "exp claim has passed"),
        (answer_of(nbf=int(Clock.now) + 3600), ImmatureTokenError, "nbf"),
        (answer_of(token_type="refresh_token"), InvalidTokenError, "another kind of token"),
        (answer_of(typ="Refresh"), InvalidTokenError, "another kind of token"),
        (answer_of(client_id=7), InvalidClaimsError, "client_id claim is not a string"),
        (answer_of(scope=["read"]), InvalidClaimsError, "scope claim has the wrong type"),
        (answer_of(cnf={"jkt": "abc"}), SenderConstrainedTokenError, "sender-constrained"),
    ],
)
def test_an_answer_is_judged_strictly(
    answer: dict[str, Any], error: type[Exception], words: str
) -> None:
    verifier = verifier_for(Endpoint(answering(answer)))
    with pytest.raises(error) as refused:
        verifier.verify(OPAQUE)
    assert refused.value.status_code == 401  # type: ignore[attr-defined]
    assert words in (refused.value.reason or "")  # type: ignore[attr-defined]


def test_the_tokens_a_dpop_or_bearer_answer_carries_are_accepted() -> None:
    for kind in ("Bearer", "bearer", "DPoP"):
        verifier_for(Endpoint(answering(answer_of(token_type=kind)))).verify(OPAQUE)


# --- which tokens go there -------------------------------------------------------------------


def test_jwts_stay_local_by_default_and_go_to_the_endpoint_when_asked() -> None:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        jwt = issuer.token()
        local = Verifier(issuer=ISSUER, audience=AUDIENCE, introspection=issuer.introspection())
        local.verify(jwt)
        assert issuer.introspection_calls == 0
        forged = jwt[:-8] + "AAAAAAAA"  # a JWT judged locally: its signature fails
        with pytest.raises(InvalidTokenError, match="signature"):
            local.verify(forged)
        assert issuer.introspection_calls == 0

        everything = Verifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            introspection=issuer.introspection(introspect_jwts=True),
        )
        with pytest.raises(InvalidTokenError, match="not active"):
            everything.verify(jwt)  # the fake knows only its opaque tokens
        assert issuer.introspection_calls == 1


def test_without_introspection_an_opaque_token_is_refused_as_before() -> None:
    with pytest.raises(InvalidTokenError):
        Verifier(issuer=ISSUER, audience=AUDIENCE).verify(OPAQUE)


@pytest.mark.parametrize("token", ["", "a b", "tok\nen", "é-token"])
def test_what_no_authorization_field_carries_is_never_sent(token: str) -> None:
    endpoint = Endpoint(answering(answer_of()))
    with pytest.raises(MalformedTokenError):
        verifier_for(endpoint).verify(token)
    assert endpoint.calls == 0


def test_a_token_of_lone_surrogates_is_refused_not_a_traceback() -> None:
    endpoint = Endpoint(answering(answer_of()))
    with pytest.raises(MalformedTokenError):
        verifier_for(endpoint).verify("abc\ud800")
    assert endpoint.calls == 0


def test_an_oversized_opaque_token_is_never_sent() -> None:
    endpoint = Endpoint(answering(answer_of()))
    with pytest.raises(InvalidTokenError, match="max_token_size"):
        verifier_for(endpoint).verify("a" * (16 * 1024 + 1))
    assert endpoint.calls == 0


# --- the cache ------------------------------------------------------------------------------


def test_cache_ttl_zero_asks_on_every_request() -> None:
    endpoint = Endpoint(answering(answer_of()))
    verifier = verifier_for(endpoint, Clock(), cache_ttl=0)
    verifier.verify(OPAQUE)
    assert endpoint.calls == 1


def test_an_answer_is_reused_until_cache_ttl() -> None:
    clock = Clock()
    endpoint = Endpoint(answering(answer_of()))
    verifier = verifier_for(endpoint, clock, cache_ttl=60)
    for _ in range(5):
        verifier.verify(OPAQUE)
    assert endpoint.calls == 1
    clock.advance(59)
    verifier.verify(OPAQUE)
    assert endpoint.calls == 1
    clock.advance(2)
    verifier.verify(OPAQUE)
    assert endpoint.calls == 2


def test_an_answer_is_never_reused_past_the_tokens_exp() -> None:
    clock = Clock()
    endpoint = Endpoint(answering(answer_of(exp=int(clock.now) + 20)))
    verifier = verifier_for(endpoint, clock, cache_ttl=300)
    verifier.verify(OPAQUE)
    clock.advance(21)  # past exp: asked again (accepted within the leeway of 30 s)
    verifier.verify(OPAQUE)
    assert endpoint.calls == 2
    clock.advance(30)
    with pytest.raises(ExpiredTokenError):
        verifier.verify(OPAQUE)


def test_an_inactive_answer_is_kept_briefly() -> None:
    clock = Clock()
    endpoint = Endpoint(answering({"active": False}))
    verifier = verifier_for(endpoint, clock, inactive_ttl=10)
    for _ in range(3):
        with pytest.raises(InvalidTokenError):
            verifier.verify(OPAQUE)
    assert endpoint.calls == 1
    clock.advance(11)
    with pytest.raises(InvalidTokenError):
        verifier.verify(OPAQUE)
    assert endpoint.calls == 2


def test_the_adapters_header_path_answers_from_the_same_cache() -> None:
    clock = Clock()
    endpoint = Endpoint(answering(answer_of(exp=int(clock.now) + 20, sub="auth0|alice")))
    verifier = verifier_for(endpoint, clock, cache_ttl=300)
    for _ in range(3):
        token = verifier.authenticate(f"Bearer {OPAQUE}")
        assert token is not None
        assert token.subject == "auth0|alice"
    assert endpoint.calls == 1
    clock.advance(51)  # past exp and its leeway: the cached answer no longer vouches
    with pytest.raises(ExpiredTokenError):
        verifier.authenticate(f"Bearer {OPAQUE}")


def test_a_cached_inactive_answer_is_refused_on_the_header_path_too() -> None:
    endpoint = Endpoint(answering({"active": False}))
    verifier = verifier_for(endpoint, inactive_ttl=10)
    for _ in range(2):
        with pytest.raises(InvalidTokenError, match="not active"):
            verifier.authenticate(f"Bearer {OPAQUE}")
    assert endpoint.calls == 1


def test_the_cache_is_bounded() -> None:
    endpoint = Endpoint(answering(answer_of()))
    verifier = verifier_for(endpoint, cache_size=2)
    for token in ("t1", "t2", "t3", "t1"):
        verifier.verify(token)
    assert endpoint.calls == 4  # t1 made room for t3


def test_a_revoked_token_is_refused_once_its_answer_is_no_longer_cached() -> None:
    clock = Clock()
    with FakeIssuer(ISSUER, audience=AUDIENCE, clock=clock.time) as issuer:
        verifier = Verifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            introspection=issuer.introspection(cache_ttl=30),
            clock=clock.time,
            monotonic=clock.monotonic,
        )
        token = issuer.opaque_token()
        verifier.verify(token)
        issuer.revoke(token)
        verifier.verify(token)  # within cache_ttl: the cached answer
        clock.advance(31)
        with pytest.raises(InvalidTokenError, match="not active"):
            verifier.verify(token)


def test_concurrent_threads_with_one_token_make_one_call() -> None:
    endpoint = Endpoint(answering(answer_of()), delay=0.3)
    verifier = verifier_for(endpoint)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(verifier.verify(OPAQUE))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert endpoint.calls == 1


def test_concurrent_tasks_with_one_token_make_one_call() -> None:
    endpoint = Endpoint(answering(answer_of()), delay=0.3)
    verifier = verifier_for(endpoint)

    async def main() -> list[object]:
        return list(await asyncio.gather(*(verifier.averify(OPAQUE) for _ in range(8))))

    assert len(asyncio.run(main())) == 8
    assert endpoint.calls == 1


# --- the provider's faults: 503, never a pass ------------------------------------------------


def redirect(_: httpx.Request) -> httpx.Response:
    return httpx.Response(307, headers={"location": ENDPOINT + "/elsewhere"})


@pytest.mark.parametrize(
    ("respond", "logged"),
    [
        (answering({"error": "server_error"}, 500), "gave no usable answer"),
        (answering(b"<html>down</html>", 200, **{"content-type": "text/html"}), "not JSON"),
        (answering(b"{not json"), "not JSON"),
        (answering([True]), "not a JSON object"),
        (answering({"active": True, "pad": "x" * 300_000}), "larger than"),
        (redirect, "redirected"),
        (answering({"error": "invalid_client"}, 401), "check Introspection(client_id="),
        (answering({"error": "forbidden"}, 403), "refused this API's client credentials"),
    ],
)
def test_a_provider_fault_is_a_503_with_an_error_log(
    respond: Callable[[httpx.Request], httpx.Response],
    logged: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = Endpoint(respond)
    for run in ("sync", "async"):
        caplog.clear()
        verifier = verifier_for(endpoint)  # a fresh one each time: no failure backoff
        with (
            caplog.at_level(logging.ERROR, logger="bearerguard"),
            pytest.raises(IntrospectionUnavailableError) as refused,
        ):
            verify(verifier, run)
        assert isinstance(refused.value, KeySetUnavailableError)
        assert refused.value.status_code == 503
        assert "Retry-After" in refused.value.headers
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert errors, "no ERROR log"
        assert logged in errors[0].getMessage()
        assert OPAQUE not in caplog.text


def verify(verifier: Verifier, run: str) -> None:
    if run == "sync":
        verifier.verify(OPAQUE)
    else:
        asyncio.run(verifier.averify(OPAQUE))


def test_a_slow_endpoint_is_cut_off_at_the_fetch_timeout() -> None:
    endpoint = Endpoint(answering(answer_of()), delay=2.0)
    verifier = verifier_for(endpoint, cache=CachePolicy(fetch_timeout=0.3))
    started = time.monotonic()
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify(OPAQUE)
    assert time.monotonic() - started < 1.5


def test_after_a_failure_new_tokens_are_refused_without_a_call_for_the_backoff() -> None:
    clock = Clock()
    endpoint = Endpoint(answering({}, 500))
    verifier = verifier_for(endpoint, clock, cache=CachePolicy(failure_backoff=5))
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify("t1")
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify("t2")
    assert endpoint.calls == 1
    clock.advance(6)
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify("t2")
    assert endpoint.calls == 2


def test_failures_are_not_cached() -> None:
    clock = Clock()
    replies = iter([answering({}, 502), answering(answer_of())])
    endpoint = Endpoint(lambda request: next(replies)(request))  # noqa: PLW0108 - one each
    verifier = verifier_for(endpoint, clock)
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify(OPAQUE)
    clock.advance(2)  # past the failure backoff
    assert verifier.verify(OPAQUE).issuer == ISSUER


# --- the FakeIssuer, discovery, binding ---------------------------------------------------------


def test_the_endpoint_comes_from_discovery_without_a_url() -> None:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        assert issuer.discovery_document()["introspection_endpoint"] == ENDPOINT
        verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, introspection=issuer.introspection())
        token = verifier.verify(issuer.opaque_token(scopes=["read:contacts"]))
        assert token.scopes == {"read:contacts"}
        assert asyncio.run(verifier.averify(issuer.opaque_token())).subject == "auth0|test-user"


def test_discovery_without_an_introspection_endpoint_is_a_503_saying_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def discovery(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": ISSUER + "jwks"})

    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        introspection=Introspection(),
        transport=httpx.MockTransport(discovery),
    )
    with (
        caplog.at_level(logging.ERROR, logger="bearerguard"),
        pytest.raises(IntrospectionUnavailableError),
    ):
        verifier.verify(OPAQUE)
    assert "introspection_endpoint" in caplog.text
    assert "Introspection(url=...)" in caplog.text


def test_the_fake_checks_the_client_credentials_both_ways() -> None:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        token = issuer.opaque_token()
        for auth in ("client_secret_basic", "client_secret_post"):
            verifier = Verifier(
                issuer=ISSUER, audience=AUDIENCE, introspection=issuer.introspection(auth=auth)
            )
            verifier.verify(token)
        wrong = Verifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            introspection=issuer.introspection(client_secret="wrong"),
        )
        with pytest.raises(IntrospectionUnavailableError):
            wrong.verify(token)


def test_a_dpop_bound_answer_binds_as_a_jwt_does() -> None:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, introspection=issuer.introspection())
        key = issuer.dpop_key()
        token = issuer.opaque_token(dpop_key=key)
        url = "https://api.example.com/contacts"

        def proved(by: Any) -> HttpRequest:
            proof = issuer.dpop_proof("GET", url, token=token, key=by)
            return HttpRequest("GET", url, {"Authorization": f"DPoP {token}", "DPoP": proof})

        assert verifier.verify_request(proved(key)).confirmation == {"jkt": key.jkt}
        with pytest.raises(SenderConstrainedTokenError):
            verifier.verify(token)  # as a bearer token: refused
        with pytest.raises(BearerError) as refused:
            verifier.verify_request(proved(issuer.dpop_key()))  # another key's proof
        assert refused.value.status_code in (400, 401)


def test_a_certificate_bound_answer_needs_the_certificate() -> None:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        verifier = Verifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            introspection=issuer.introspection(),
            client_certificate="tls",
        )
        cert = issuer.client_certificate()
        token = issuer.opaque_token(certificate=cert)
        url = "https://api.example.com/contacts"
        headers = {"Authorization": f"Bearer {token}"}
        sent = HttpRequest("GET", url, headers, client_certificate=cert.der)
        assert verifier.verify_request(sent).confirmation == {"x5t#S256": cert.thumbprint}
        with pytest.raises(InvalidTokenError):
            verifier.verify_request(HttpRequest("GET", url, headers))  # no certificate


def test_from_env_takes_introspection_as_an_override() -> None:
    environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
    verifier = Verifier.from_env(environ, introspection=Introspection())
    assert verifier.config.introspection == Introspection()


def test_a_fake_that_stops_takes_its_answers_with_it() -> None:
    issuer = FakeIssuer(ISSUER, audience=AUDIENCE)
    offline = httpx.MockTransport(lambda request: httpx.Response(503))
    verifier = Verifier(
        issuer=ISSUER, audience=AUDIENCE, introspection=issuer.introspection(), transport=offline
    )
    with issuer:
        token = issuer.opaque_token()
        verifier.verify(token)
    # Stopped: the answer is forgotten and the provider asked for real (here: down).
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify(token)
