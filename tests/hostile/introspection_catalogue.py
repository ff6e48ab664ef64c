"""The hostile introspection catalogue: opaque tokens and the answers of an endpoint (RFC 7662).

Ids ``O00``-``O09``, one per rule, each case a variant of it, each row with its source in
``SOURCES``. ``O00`` holds the positive twins. The world is the main catalogue's (a tenant
and its custom domain, both trusted), with the tenant's introspection endpoint served
in-process on its own host (``ENDPOINT``): the verifier is given
``introspection=Introspection(url=ENDPOINT, issuer=<the tenant>, ...)``. Each case's
``prepare`` step tells the endpoint its answer for the case's token; every answer is
sent over HTTP as JSON, as a provider sends it.

The endpoint's faults (down, slow, oversized, redirected, refusing our credentials, not
JSON) are answered 503 with ``Retry-After``, not 401: ``tests/hostile/test_introspection.py``
runs them through the core and every adapter with checks of their own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import httpx

from bearerguard import (
    ExpiredTokenError,
    ImmatureTokenError,
    Introspection,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidSignatureError,
    InvalidTokenError,
    SenderConstrainedTokenError,
    Verifier,
)
from tests.support import AUDIENCE, CUSTOM_DOMAIN, ISSUER, rsa_key

from .builders import Case, Env, N, no, ok, signed

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "ENDPOINT",
    "INTROSPECTION",
    "INTROSPECTION_CATALOGUE",
    "SOURCES",
    "Endpoint",
    "with_endpoint",
]

ENDPOINT = "https://introspect.tenant.example/oauth/introspect"
CLIENT_ID, CLIENT_SECRET = "hostile-api", "hostile-secret"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # RFC 8693 §3
Respond = Callable[[httpx.Request], httpx.Response]


class Endpoint:
    """The tenant's introspection endpoint: answers per token, or a fault (``respond``)."""

    host = httpx.URL(ENDPOINT).host

    def __init__(self, respond: Respond | None = None, delay: float = 0.0) -> None:
        self.answers: dict[str, Any] = {}
        self.respond = respond
        self.delay = delay  # a slow endpoint
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        time.sleep(self.delay)
        return self._answer(request)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        await asyncio.sleep(self.delay)
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.respond is not None:
            return self.respond(request)
        form = parse_qs(request.content.decode())
        token = form.get("token", [""])[0]
        with self.lock:
            body = self.answers.get(token, {"active": False})
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )


def with_endpoint(
    env: Env, respond: Respond | None = None, delay: float = 0.0, **settings: Any
) -> dict[str, Any]:
    """Verifier settings: the endpoint served next to the tenant, and ``introspection=``."""
    return {
        **env.route(Endpoint(respond, delay)),
        "introspection": Introspection(
            url=ENDPOINT,
            issuer=ISSUER,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            **settings,
        ),
    }


def INTROSPECTION(env: Env) -> dict[str, Any]:
    return with_endpoint(env)


def _endpoint_of(env: Env) -> Endpoint:
    return next(p for p in env.others if isinstance(p, Endpoint))


def answer(**claims: Any) -> dict[str, Any]:
    """An active answer for this API, as a tenant's endpoint gives it; ``None`` removes."""
    base = {
        "active": True,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "auth0|123",
        "client_id": "client-1",
        "scope": "read:contacts",
        "token_type": "Bearer",
        "iat": N - 60,
        "exp": N + 3600,
    }
    return {name: value for name, value in {**base, **claims}.items() if value is not None}


def _opaque(case_id: str, token: str | None) -> str:
    return token or f"hostile-opaque-{case_id}-2YotnFZFEjr1zCsicMWpAA"


def _row(
    make: Callable[..., Case],
    id: str,
    *args: Any,
    body: Mapping[str, Any],
    token: str | None = None,
    **kw: Any,
) -> Case:
    """A case whose token is opaque and whose answer the endpoint is told first."""
    opaque = _opaque(id, token)

    def tell(env: Env, verifier: Verifier) -> None:
        _endpoint_of(env).answers[opaque] = dict(body)

    return make(id, *args, lambda env: opaque, settings=INTROSPECTION, prepare=(tell,), **kw)


def good(id: str, body: Mapping[str, Any], token: str | None = None, **kw: Any) -> Case:
    return _row(ok, id, body=body, token=token, **kw)


def bad(id: str, error: type[Any], body: Mapping[str, Any], **kw: Any) -> Case:
    return _row(no, id, error, body=body, **kw)


# A JWT signed by a key the tenant never published under its kid: an endpoint would say yes.
_FORGED_JWT = signed(key=lambda: rsa_key(7))


INTROSPECTION_CATALOGUE: list[Case] = [
    # O00: the positive twins.
    good("O00-active", answer()),
    good("O00-no-iss", answer(iss=None)),
    good("O00-dpop-token-type", answer(token_type="DPoP")),
    good("O00-no-token-type", answer(token_type=None)),
    good("O00-dotted-opaque", answer(), token="ory_at_2YotnFZFEjr1zCsicMWpAA.x9Zk1qL0"),
    good("O00-aud-array", answer(aud=["https://other.example.com", AUDIENCE])),
    # O01: active must be the JSON true, nothing that looks like it.
    bad("O01-active-string", InvalidTokenError, answer(active="true")),
    bad("O01-active-one", InvalidTokenError, answer(active=1)),
    bad("O01-active-list", InvalidTokenError, answer(active=[True])),
    # O02: active is required.
    bad("O02-missing-active", InvalidTokenError, answer(active=None)),
    bad("O02-empty-object", InvalidTokenError, {}),
    bad("O02-inactive", InvalidTokenError, {"active": False, "aud": AUDIENCE}),
    # O03: active, but for another audience (or none said).
    bad("O03-other-audience", InvalidAudienceError, answer(aud="https://other-api.example")),
    bad("O03-no-audience", InvalidAudienceError, answer(aud=None)),
    bad("O03-empty-audience", InvalidAudienceError, answer(aud=[])),
    # O04: active, but in another issuer's name (even one the verifier trusts).
    bad("O04-untrusted-issuer", InvalidTokenError, answer(iss="https://evil.example/")),
    bad("O04-other-trusted-issuer", InvalidTokenError, answer(iss=CUSTOM_DOMAIN)),
    bad("O04-issuer-not-string", InvalidTokenError, answer(iss=["https://tenant.auth0.com/"])),
    # O05: the lifetime the answer states is checked, as a JWT's is.
    bad("O05-expired", ExpiredTokenError, answer(exp=N - 3600)),
    bad("O05-no-exp", InvalidClaimsError, answer(exp=None)),
    bad("O05-exp-string", InvalidClaimsError, answer(exp=str(N + 3600))),
    bad("O05-exp-bool", InvalidClaimsError, answer(exp=True)),
    bad("O05-nbf-future", ImmatureTokenError, answer(nbf=N + 3600)),
    # O06: an answer about another kind of token (token_type_hint games).
    bad("O06-refresh-token", InvalidTokenError, answer(token_type="refresh_token")),
    bad(
        "O06-id-token",
        InvalidTokenError,
        answer(token_type="urn:ietf:params:oauth:token-type:id_token"),
    ),
    bad("O06-keycloak-refresh", InvalidTokenError, answer(typ="Refresh")),
    bad("O06-token-type-not-string", InvalidTokenError, answer(token_type=["Bearer"])),
    # O07: a JWT is verified locally (by default) however the endpoint would answer.
    no("O07-forged-jwt-stays-local", InvalidSignatureError, _FORGED_JWT, settings=INTROSPECTION),
    # O08: a bound answer (cnf) as a bearer token.
    bad("O08-dpop-bound", SenderConstrainedTokenError, answer(cnf={"jkt": "A" * 43})),
    bad("O08-certificate-bound", SenderConstrainedTokenError, answer(cnf={"x5t#S256": "A" * 43})),
    # O09: claims of the wrong JSON type.
    bad("O09-client-id-number", InvalidClaimsError, answer(client_id=7)),
    bad("O09-sub-object", InvalidClaimsError, answer(sub={"id": 1})),
    bad("O09-scope-list", InvalidClaimsError, answer(scope=["read:contacts"])),
]

SOURCES: Mapping[str, str] = {
    "O01": "RFC 7662 §2.2: active is a boolean; Spring Security's OpaqueTokenIntrospector and "
    "several peers coerce it (peers-2026-12.md, Introspection row): a string is not true",
    "O02": "RFC 7662 §2.2 (active REQUIRED) and §4 (an inactive or unknown token: active "
    "false, nothing else)",
    "O03": "RFC 7662 §4 (the resource decides whether the token is for it), RFC 8707 §2, "
    "RFC 9700 §2.3 (audience-restricted tokens), MCP authorization (reject tokens not "
    "naming the server)",
    "O04": "RFC 7662 §2.2 (iss) and RFC 9207 (mix-up): an endpoint speaks for its issuer only",
    "O05": "RFC 7662 §2.2 (exp, nbf as NumericDates) and RFC 7662 §4 (cache no longer than "
    "the token lives)",
    "O06": "RFC 7662 §2.1 (token_type_hint is a hint only) and §2.2 (token_type), RFC 7009 "
    "§2.1; Keycloak's typ claim: an answer about a refresh or ID token is no access token's",
    "O07": "RFC 8725 §3.1 and the design rule that a JWT is verified with the issuer's keys: "
    "introspection never makes a forged JWT pass (introspect_jwts=False, the default)",
    "O08": "RFC 9449 §6.2 and RFC 8705 §3.2 (cnf in introspection answers): a bound token "
    "is never accepted as a bearer token",
    "O09": "RFC 7662 §2.2 (scope a space-separated string; client_id, sub strings)",
}
