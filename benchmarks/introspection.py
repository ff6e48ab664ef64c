"""Micro benchmark of an opaque token answered from the introspection cache (RFC 7662).

Usage::

    python benchmarks/introspection.py [--seconds N] [--json]

A verifier with ``introspection=`` whose endpoint (an in-process
``httpx.MockTransport``) answered once for each token of a small pool; then timed,
interleaved round by round as in ``micro``:

* introspection hit: ``Verifier.verify()`` of an opaque token whose answer is cached
  (hashing the token, the cache lookup, the lifetime re-check; target under 2 µs);
* introspection hit, header: ``Verifier.authenticate()`` of an ``Authorization``
  field carrying it (what the adapters call);
* JWT hit: ``Verifier.verify()`` of a JWT answered by the verified-token cache, for
  comparison.

Nothing touches the network; the endpoint is asked once per token, before timing.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.append(str(Path(__file__).resolve().parent.parent / "src"))
    sys.path.append(str(Path(__file__).resolve().parent.parent))

import httpx

from bearerguard import Introspection, Verifier
from bearerguard.testing import FakeIssuer
from benchmarks._common import seconds_main, verdict, warmed_and_timed

ISSUER = "https://tenant.auth0.com/"
API = "https://api.example.com"
ENDPOINT = "https://tenant.auth0.com/oauth/introspect"
JWT_ISSUER = "https://jwt-issuer.bearerguard.test/"
SCOPE = "openid profile email read:contacts write:contacts"
TARGET_HIT_US = 2.0
ROUNDS = 7
POOL = 64


def _endpoint(calls: list[int]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        now = int(time.time())
        body = {
            "active": True, "iss": ISSUER, "aud": API, "sub": "auth0|bench", "scope": SCOPE,
            "client_id": "bench-client", "token_type": "Bearer", "iat": now, "exp": now + 3600,
        }  # fmt: skip
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    return httpx.MockTransport(answer)


def run(seconds: float = 3.0) -> dict[str, Any]:
    """Time the candidates for about ``seconds``; return the medians and the target's verdict."""
    calls: list[int] = []
    verifier = Verifier(
        issuer=ISSUER,
        audience=API,
        introspection=Introspection(url=ENDPOINT, client_id="api", client_secret="bench"),
        transport=_endpoint(calls),
    )
    opaque = [f"bench-opaque-token-{i:04d}-2YotnFZFEjr1zCsicMWpAA" for i in range(POOL)]
    headers = [f"Bearer {token}" for token in opaque]
    for token in opaque:
        verifier.verify(token)
    # Another issuer: a fake of ISSUER would answer its introspection endpoint itself.
    with FakeIssuer(JWT_ISSUER, audience=API) as issuer:
        jwt_verifier = Verifier(issuer=JWT_ISSUER, audience=API)
        jwts = [issuer.token(scopes=SCOPE) for _ in range(POOL)]
        for token in jwts:
            jwt_verifier.verify(token)
        verify, authenticate, jwt_verify = (
            verifier.verify,
            verifier.authenticate,
            jwt_verifier.verify,
        )
        candidates = {
            "introspection hit": lambda i: verify(opaque[i % POOL]),
            "introspection hit, header": lambda i: authenticate(headers[i % POOL]),
            "JWT hit": lambda i: jwt_verify(jwts[i % POOL]),
        }
        per_round = max(1000, int(seconds * 1_000_000 / ROUNDS / len(candidates) / 2))
        _, medians = warmed_and_timed(candidates, ROUNDS, per_round, range(POOL))
    hit = medians["introspection hit"]
    return {
        "python": platform.python_version(),
        "rounds": ROUNDS,
        "per_round": per_round,
        "distinct_tokens": POOL,
        "endpoint_calls": len(calls),
        "us_median": medians,
        "hit_us": hit,
        "target_hit_us": TARGET_HIT_US,
        "met": hit <= TARGET_HIT_US,
    }


def report(result: dict[str, Any]) -> str:
    medians = result["us_median"]
    lines = [
        f"{result['rounds']} interleaved rounds of {result['per_round']} calls over "
        f"{result['distinct_tokens']} tokens (Python {result['python']}); the endpoint "
        f"was asked {result['endpoint_calls']} times, before timing",
        "",
        f"{'candidate':<30}{'µs':>8}",
    ]
    lines.extend(f"{name:<30}{value:>8.2f}" for name, value in medians.items())
    lines += [
        "",
        f"introspection hit {result['hit_us']:.2f} µs (<= {result['target_hit_us']} µs)  "
        f"{verdict(result['met'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return seconds_main(__doc__, run, report, argv)


if __name__ == "__main__":
    sys.exit(main())
