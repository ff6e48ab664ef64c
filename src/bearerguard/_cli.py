"""The ``bearerguard`` command line.

``bearerguard demo`` shows the verifier doing its job with no account and no
network: an in-process identity provider publishes discovery and a JWKS, real
RS256 tokens are minted for it, and each is answered exactly as an API would
answer it (status and ``WWW-Authenticate`` challenge).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ._errors import BearerError
from ._verifier import Verifier
from ._version import __version__

ISSUER = "https://demo-tenant.example-idp.test/"
CUSTOM_DOMAIN = "https://login.example.test/"
AUDIENCE = "https://api.example.test"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bearerguard`` command."""
    parser = argparse.ArgumentParser(
        prog="bearerguard",
        description="Protect HTTP APIs with OAuth 2.0 / OIDC JWT bearer access tokens.",
    )
    parser.add_argument("--version", action="version", version=f"bearerguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="verify real tokens from an in-process identity provider (no network)",
        description="Mint real tokens for an in-process identity provider and show how "
        "bearerguard answers each one. Exits 0 when every answer is the expected one.",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(print)
    parser.print_help()
    return 0


@dataclass
class _DemoProvider:
    """Discovery and JWKS for two issuer URLs (an Auth0 tenant and its custom domain)."""

    keys: dict[str, Any] = field(default_factory=dict)
    up: bool = True
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            published.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": published}

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            if not self.up:
                return httpx.Response(503)
            url = str(request.url)
            for issuer in (ISSUER, CUSTOM_DOMAIN):
                if url == issuer + ".well-known/openid-configuration":
                    doc = {"issuer": issuer, "jwks_uri": issuer + ".well-known/jwks.json"}
                    return httpx.Response(200, json=doc)
                if url == issuer + ".well-known/jwks.json":
                    self.fetches += 1
                    return httpx.Response(200, json=self.jwks())
            return httpx.Response(404)

        return httpx.MockTransport(handle)


def run_demo(say: Callable[[str], None]) -> int:
    """Walk through the verifier's answers; return 0 if each was the expected one."""

    def new_key() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    # Like Auth0, the provider publishes the current key and the next one.
    provider = _DemoProvider(keys={"key-1": new_key(), "key-2": new_key()})
    verifier = Verifier(
        issuer=[ISSUER, CUSTOM_DOMAIN],
        audience=AUDIENCE,
        scope_claims=("scope", "permissions"),
        transport=provider.transport(),
    )
    now = int(time.time())

    def mint(kid: str = "key-1", key: Any = None, **claims: Any) -> str:
        payload = {
            "iss": ISSUER, "sub": "auth0|demo-user", "aud": [AUDIENCE, ISSUER + "userinfo"],
            "iat": now, "exp": now + 600, "azp": "demo-spa", "scope": "openid read:contacts",
            **claims,
        }  # fmt: skip
        return jwt.encode(
            payload, key or provider.keys[kid], algorithm="RS256", headers={"kid": kid}
        )

    say(f"bearerguard {__version__} demo: an API with audience {AUDIENCE}")
    say(f"trusting {ISSUER} and its custom domain {CUSTOM_DOMAIN}")
    say("(the identity provider runs in-process: no account, no network)\n")

    failures = 0

    def step(
        title: str, authorization: str | None, expect: int, scopes: Sequence[str] = ()
    ) -> None:
        nonlocal failures
        try:
            token = verifier.verify_authorization(authorization)
            token.require_scopes(*scopes)
            status, detail = 200, f"sub={token.subject} scopes={sorted(token.scopes)}"
        except BearerError as exc:
            status = exc.status_code
            detail = "; ".join(f"{k}: {v}" for k, v in exc.headers.items())
        verdict = "ok  " if status == expect else "FAIL"
        failures += status != expect
        say(f"[{verdict}] {title}\n       -> {status} {detail}")

    bearer = "Bearer "
    step("valid token, route needs read:contacts", bearer + mint(), 200, ["read:contacts"])
    step("Auth0 RBAC permissions claim grants write:contacts",
         bearer + mint(permissions=["write:contacts"]), 200, ["write:contacts"])  # fmt: skip
    step("same token, route needs delete:contacts", bearer + mint(), 403, ["delete:contacts"])
    step("token from the custom domain", bearer + mint(iss=CUSTOM_DOMAIN), 200, ["read:contacts"])
    step("no Authorization header", None, 401)
    step("Authorization: Basic (another scheme)", "Basic ZGVtbzpkZW1v", 401)
    step("malformed header: Bearer followed by two tokens", "Bearer a.b.c d.e.f", 400)
    step("expired token", bearer + mint(exp=now - 3600, iat=now - 7200), 401)
    step("token for another API (audience)", bearer + mint(aud="https://other-api.test"), 401)
    step("token from an untrusted issuer (no fetch is made)",
         bearer + mint(iss="https://evil.example.test/"), 401)  # fmt: skip
    step("signed by an attacker's key with our kid", bearer + mint(key=new_key()), 401)
    step("encrypted token (JWE) sent without an audience", bearer + "e.e.e.e.e", 401)
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600}, "", algorithm="none")
    step("alg: none", bearer + unsigned, 401)

    step("key rotation: a token signed by the provider's next key", bearer + mint("key-2"), 200)
    fetches = provider.fetches
    provider.keys["key-3"] = new_key()
    for _ in range(3):
        step("unknown kid within the 30 s cooldown: refused, provider not asked again",
             bearer + mint("key-3"), 401)  # fmt: skip
    failures += provider.fetches != fetches
    provider.up = False
    step("provider down: cached keys keep serving", bearer + mint("key-1"), 200)
    say(
        f"\nJWKS fetches for all of the above: {provider.fetches} (one per issuer URL, then cached)"
    )
    if failures:
        say(f"{failures} step(s) did not behave as expected")
        return 1
    say("every answer was the expected one")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
