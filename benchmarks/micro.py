"""Micro benchmark of ``Verifier.verify()`` against the signature floor and PyJWT.

Usage::

    python benchmarks/micro.py [--seconds N] [--json]

One process, one run: the candidates take turns within every round (so noise
from a shared host hits them alike), the garbage collector is off inside a
timed loop, and the table gives medians of the per-round means. Nothing touches
the network: the key set is served by an in-process ``httpx.MockTransport``
and cached by ``warm_up()`` before timing starts.

Candidates:

* floor: a raw ``cryptography`` RSA PKCS#1 v1.5 SHA-256 verify of each token's
  own signature (decoded in advance), walking the same pool as bearerguard: the
  ratios are against this floor, the cost of checking the very same signatures;
* floor, one signature: the same verify of one token's signature over and over
  (the caches stay warm with the same bytes; reported for comparison);
* bearerguard: ``Verifier.verify()`` of tokens not seen before (a pool of
  distinct tokens signed in advance, walked through without repeating while it
  lasts), with the verified-token cache on as by default (so the cost of filling
  it is included);
* bearerguard hit: ``Verifier.verify()`` of a token verified before, answered by
  the verified-token cache (lifetime and key set re-checked);
* PyJWT: ``jwt.decode`` with a pre-loaded key and the same checks;
* parse: bearerguard's strict parse alone (a yardstick, not a target).
"""

from __future__ import annotations

import base64
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.append(str(Path(__file__).resolve().parent.parent / "src"))
    sys.path.append(str(Path(__file__).resolve().parent.parent))

import cryptography
import httpx
import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bearerguard import Verifier
from bearerguard._jose import parse_token
from benchmarks._common import seconds_main, verdict, warmed_and_timed

ISSUER = "https://tenant.auth0.com/"
API = "https://api.example.com"
USERINFO = "https://tenant.auth0.com/userinfo"
JWKS_URI = "https://tenant.auth0.com/.well-known/jwks.json"
KID = "bench-key-1"
SCOPE = "openid profile email read:contacts write:contacts read:orders offline_access"
TARGET_FLOOR_RATIO = 1.5
STRETCH_FLOOR_RATIO = 1.4
TARGET_PYJWT_SPEEDUP = 2.3
TARGET_HIT_US = 3.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": _b64(n), "e": _b64(e)}


def token_claims(now: int, serial: int, **claims: Any) -> dict[str, Any]:
    """An Auth0-shaped access token's claims, its subject made of ``serial``; ``claims`` are
    added (``cnf``, ...)."""
    return {
        "iss": ISSUER,
        "sub": f"auth0|{600000 + serial:024x}",
        "aud": [API, USERINFO],
        "iat": now,
        "exp": now + 86400,
        "azp": "Xq7sdf8Gh2kLmN3pQrStUvWx9YzAbC1d",
        "scope": SCOPE,
        "https://example.com/roles": ["admin", "editor"],
        **claims,
    }


def _sign(key: rsa.RSAPrivateKey, now: int, serial: int, **claims: Any) -> str:
    """A token like the provider's, signed by ``key``; ``claims`` are added (``cnf``, ...)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": KID}
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(token_claims(now, serial, **claims), separators=(",", ":")).encode())
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)


def cached_verifier(jwk: dict[str, Any], **settings: Any) -> Verifier:
    """A verifier of the issuer and API above (and ``settings``) whose key set, ``jwk`` alone,
    is served in-process and already cached."""
    jwks = json.dumps({"keys": [jwk]}).encode()
    headers = {"content-type": "application/json"}
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=jwks, headers=headers)
    )
    verifier = Verifier(
        issuer=ISSUER, audience=API, jwks_uri=JWKS_URI, transport=transport, **settings
    )
    verifier.warm_up()
    return verifier


def warm_verifier(key: rsa.RSAPrivateKey) -> Verifier:
    """A verifier with default settings whose key set (``key``'s) is already cached."""
    return cached_verifier(_jwk(key))


def _signature_of(token: str) -> tuple[bytes, bytes]:
    """The signing input and the decoded signature: what the floor verifies."""
    signing_input, _, signature = token.rpartition(".")
    return signing_input.encode("ascii"), base64.urlsafe_b64decode(signature + "==")


def run(seconds: float) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    verifier = warm_verifier(key)

    rounds = 15
    # Six candidates per round (about 20 + 20 + 40 + 2 + 75 + 10 µs a call); the pool of distinct
    # tokens covers every timed bearerguard call, so none is verified twice while timed
    # (signing costs about a millisecond a token, hence the cap).
    per_round = max(100, min(int(seconds * 1e6 / rounds / 165), 8000 // rounds))
    pool_size = rounds * per_round + 50  # and 50 for the warm-up
    now = int(time.time())
    pool = [_sign(key, now, serial) for serial in range(pool_size)]
    assert len(set(pool)) == pool_size  # noqa: S101
    signatures = [_signature_of(token) for token in pool]
    floor_input, floor_signature = signatures[0]

    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    verify = verifier.verify
    decode = jwt.decode
    pyjwt_options: Any = {"require": ["exp", "iss", "aud", "sub"]}  # PyJWT's Options dict

    def floor(i: int) -> None:
        public.verify(floor_signature, floor_input, pkcs1, sha256)

    def floor_each(i: int) -> None:
        signing_input, signature = signatures[i % pool_size]
        public.verify(signature, signing_input, pkcs1, sha256)

    def bearerguard(i: int) -> None:
        verify(pool[i % pool_size])

    repeated = _sign(key, now, pool_size)  # not in the pool
    verify(repeated)

    def hit(i: int) -> None:
        verify(repeated)

    def pyjwt(i: int) -> None:
        decode(
            pool[i % pool_size],
            public,
            algorithms=["RS256"],
            audience=API,
            issuer=ISSUER,
            leeway=30,
            options=pyjwt_options,
        )

    def parse(i: int) -> None:
        parse_token(pool[i % pool_size], max_size=16384)

    # Sanity: every candidate accepts the good token and agrees on its claims.
    token = verify(pool[0])
    assert token.subject == pyjwt_claims(pool[0], public)["sub"]  # noqa: S101
    assert "read:contacts" in token.scopes  # noqa: S101

    candidates: dict[str, Callable[[int], None]] = {
        "floor": floor,
        "floor_each": floor_each,
        "bearerguard": bearerguard,
        "hit": hit,
        "pyjwt": pyjwt,
        "parse": parse,
    }
    warm_up = range(pool_size - 50, pool_size)  # the last 50 tokens of the pool
    samples, medians = warmed_and_timed(candidates, rounds, per_round, warm_up)
    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "pyjwt": jwt.__version__,
        "rounds": rounds,
        "per_round": per_round,
        "distinct_tokens": pool_size,
        "tokens_reused": rounds * per_round > pool_size,
        "token_length": len(pool[0]),
        "us_median": medians,
        "us_min": {name: min(values) / 1000 for name, values in samples.items()},
        "us_max": {name: max(values) / 1000 for name, values in samples.items()},
        "bearerguard_over_floor": medians["bearerguard"] / medians["floor_each"],
        "bearerguard_over_one_signature": medians["bearerguard"] / medians["floor"],
        "pyjwt_over_bearerguard": medians["pyjwt"] / medians["bearerguard"],
        "hit_us": medians["hit"],
    }


def pyjwt_claims(token: str, public: Any) -> dict[str, Any]:
    return jwt.decode(token, public, algorithms=["RS256"], audience=API, issuer=ISSUER)


def report(result: dict[str, Any]) -> str:
    lines = [
        f"Python {result['python']}, cryptography {result['cryptography']}, "
        f"PyJWT {result['pyjwt']}",
        f"{result['rounds']} interleaved rounds x {result['per_round']} calls, gc off while "
        f"timing; {result['distinct_tokens']} distinct tokens of {result['token_length']} chars"
        + (" (pool wrapped: some tokens verified twice)" if result["tokens_reused"] else ""),
        "",
        f"{'candidate':<28}{'min µs':>9}{'median µs':>11}{'max µs':>9}{'x floor':>9}",
    ]
    labels = {
        "floor": "floor, one signature",
        "floor_each": "floor, each token's own",
        "bearerguard": "bearerguard verify()",
        "hit": "bearerguard cache hit",
        "pyjwt": "PyJWT jwt.decode",
        "parse": "bearerguard parse only",
    }
    floor = result["us_median"]["floor_each"]
    for name, label in labels.items():
        median = result["us_median"][name]
        lines.append(
            f"{label:<28}{result['us_min'][name]:>9.2f}{median:>11.2f}"
            f"{result['us_max'][name]:>9.2f}{median / floor:>9.2f}"
        )
    over_floor = result["bearerguard_over_floor"]
    speedup = result["pyjwt_over_bearerguard"]
    lines += [
        "",
        f"bearerguard / floor : {over_floor:.2f}x  (target <= {TARGET_FLOOR_RATIO}x, "
        f"stretch <= {STRETCH_FLOOR_RATIO}x: "
        f"{verdict(over_floor <= TARGET_FLOOR_RATIO)}; "
        f"{result['bearerguard_over_one_signature']:.2f}x one signature verified over and over)",
        f"PyJWT / bearerguard : {speedup:.2f}x  (target >= {TARGET_PYJWT_SPEEDUP}x: "
        f"{verdict(speedup >= TARGET_PYJWT_SPEEDUP)})",
        f"cache hit           : {result['hit_us']:.2f} µs  (target <= {TARGET_HIT_US} µs: "
        f"{verdict(result['hit_us'] <= TARGET_HIT_US)})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return seconds_main(__doc__, run, report, argv)


if __name__ == "__main__":
    sys.exit(main())
