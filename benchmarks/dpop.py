"""Micro benchmark of DPoP: ``Verifier.verify_request()`` against its two signature floors.

Usage::

    python benchmarks/dpop.py [--seconds N] [--json]

One process, one run, the candidates taking turns in every round (noise from a
shared host hits them alike), the garbage collector off inside a timed loop,
medians of the per-round means. Nothing touches the network: the token's key set
is served in-process and cached before timing starts, and the verifier's clock
is fixed at the moment the proofs were made, so none goes stale during the run.

Candidates:

* token floor: a raw ``cryptography`` RS256 verify of each token's own signature;
* proof floor: a raw ES256 verify of each proof's own signature;
* new token + new proof: ``verify_request()`` of a DPoP request whose token and
  proof were never seen (a pool signed in advance, walked without repeating);
* cached token + new proof: the same token every time (answered by the
  verified-token cache) with a new proof each call, as a client makes requests;
* replay check: the in-memory replay store recording a new ``jti``;
* Redis round trip (reported, no target): ``RedisReplayStore.remember`` of new keys
  against a ``redis-server`` this benchmark starts on loopback, when there is one.

Targets (RFC 9449 work): new token + new proof at most 1.35x the sum of the two
floors; cached token + new proof at most 1.2x the proof floor; the replay check
under 1 µs.
"""

from __future__ import annotations

import base64
import json
import platform
import statistics
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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from bearerguard import HttpRequest, Verifier
from bearerguard._mint import SigningKey, dpop_proof
from bearerguard._replay import MemoryReplayStore
from benchmarks._common import interleaved, seconds_main, verdict
from benchmarks._redis_round_trip import measure_round_trip
from benchmarks.micro import API, ISSUER, JWKS_URI, _jwk, _sign, _signature_of

URL = "https://api.example.com/api/contacts"
TARGET_NEW_OVER_FLOORS = 1.35
TARGET_CACHED_OVER_PROOF = 1.2
TARGET_REPLAY_US = 1.0


def _proof(client: SigningKey, token: str, now: int, serial: int) -> str:
    return dpop_proof(client, method="GET", url=URL, iat=now, jti=f"b-{serial}", access_token=token)


def _der(raw: bytes) -> bytes:
    """A JWS ES256 signature (``r || s``) as the DER that ``cryptography`` verifies."""
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def _request(token: str, proof: str) -> HttpRequest:
    return HttpRequest("GET", URL, [("Authorization", f"DPoP {token}"), ("DPoP", proof)])


def run(seconds: float) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = SigningKey("ES256")
    jwk, jkt = client.bare_jwk(), client.thumbprint()
    now = int(time.time())
    jwks = json.dumps({"keys": [_jwk(key)]}).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=jwks, headers={"content-type": "application/json"}
        )
    )
    verifier = Verifier(
        issuer=ISSUER, audience=API, jwks_uri=JWKS_URI, transport=transport, clock=lambda: now
    )
    verifier.warm_up()

    rounds = 15
    # Signing a token costs about a millisecond, a proof a tenth of that: the pools are
    # capped, and sized so that no timed call sees a token or proof twice.
    per_round = max(60, min(int(seconds * 1e6 / rounds / 400), 4000 // rounds))
    pool_size = rounds * per_round + 50
    tokens = [_sign(key, now, serial, cnf={"jkt": jkt}) for serial in range(pool_size)]
    proofs = [_proof(client, tokens[i], now, i) for i in range(pool_size)]
    cached = _sign(key, now, pool_size, cnf={"jkt": jkt})
    cached_proofs = [_proof(client, cached, now, pool_size + 1 + i) for i in range(pool_size)]
    for _ in range(2):  # the token cache admits a token from its second sighting
        verifier.verify_request(_request(cached, _proof(client, cached, now, -1 - _)))

    token_parts = [_signature_of(token) for token in tokens]
    proof_parts = [(data, _der(raw)) for data, raw in map(_signature_of, proofs)]
    public = key.public_key()
    client_public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="), "big"),
        int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big"),
        ec.SECP256R1(),
    ).public_key()
    pkcs1, sha256, ecdsa = padding.PKCS1v15(), hashes.SHA256(), ec.ECDSA(hashes.SHA256())
    store = MemoryReplayStore()
    verify_request = verifier.verify_request

    def token_floor(i: int) -> None:
        data, signature = token_parts[i % pool_size]
        public.verify(signature, data, pkcs1, sha256)

    def proof_floor(i: int) -> None:
        data, signature = proof_parts[i % pool_size]
        client_public.verify(signature, data, ecdsa)

    def new_new(i: int) -> None:
        verify_request(_request(tokens[i], proofs[i]))

    def cached_new(i: int) -> None:
        verify_request(_request(cached, cached_proofs[i]))

    def replay(i: int) -> None:
        store.remember(f"bench-{i}", now + 90.0, now)

    candidates: dict[str, Callable[[int], None]] = {
        "token_floor": token_floor,
        "proof_floor": proof_floor,
        "new_token_new_proof": new_new,
        "cached_token_new_proof": cached_new,
        "replay_check": replay,
    }
    # Sanity: a request of the pool passes and names its client's key.
    assert verify_request(_request(tokens[-1], proofs[-1])).confirmation == {"jkt": jkt}  # noqa: S101
    for name in ("token_floor", "proof_floor", "replay_check"):  # warm-up without using the pools
        for i in range(pool_size - 50, pool_size):
            candidates[name](i)
    samples = interleaved(candidates, rounds, per_round)
    medians = {name: statistics.median(values) / 1000 for name, values in samples.items()}
    floors = medians["token_floor"] + medians["proof_floor"]
    # The same ratios round by round: the candidates of one round ran within a second of
    # each other, so a burst of load on the shared host moves both sides of a round's ratio.
    new_by_round = [
        new / (token + proof)
        for new, token, proof in zip(
            samples["new_token_new_proof"],
            samples["token_floor"],
            samples["proof_floor"],
            strict=True,
        )
    ]
    cached_by_round = [
        cached / proof
        for cached, proof in zip(
            samples["cached_token_new_proof"], samples["proof_floor"], strict=True
        )
    ]
    redis = measure_round_trip(max(200, min(int(seconds * 1000), 5000)))
    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "rounds": rounds,
        "per_round": per_round,
        "us_median": medians,
        "us_min": {name: min(values) / 1000 for name, values in samples.items()},
        "new_over_floors": medians["new_token_new_proof"] / floors,
        "cached_over_proof_floor": medians["cached_token_new_proof"] / medians["proof_floor"],
        "new_over_floors_by_round": _spread(new_by_round),
        "cached_over_proof_floor_by_round": _spread(cached_by_round),
        "replay_us": medians["replay_check"],
        "redis": redis,
    }


def _spread(ratios: list[float]) -> dict[str, float]:
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}


def report(result: dict[str, Any]) -> str:
    labels = {
        "token_floor": "token floor (RS256)",
        "proof_floor": "proof floor (ES256)",
        "new_token_new_proof": "new token + new proof",
        "cached_token_new_proof": "cached token + new proof",
        "replay_check": "replay check (memory)",
    }
    lines = [
        f"Python {result['python']}, cryptography {result['cryptography']}",
        f"{result['rounds']} interleaved rounds x {result['per_round']} calls, gc off while "
        "timing; every timed token and proof distinct",
        "",
        f"{'candidate':<28}{'min µs':>9}{'median µs':>11}",
    ]
    for name, label in labels.items():
        lines.append(f"{label:<28}{result['us_min'][name]:>9.2f}{result['us_median'][name]:>11.2f}")
    new, cached, replay = (
        result["new_over_floors"],
        result["cached_over_proof_floor"],
        result["replay_us"],
    )
    lines += [
        "",
        f"new token + new proof / both floors : {new:.2f}x  (target <= "
        f"{TARGET_NEW_OVER_FLOORS}x: {verdict(new <= TARGET_NEW_OVER_FLOORS)})",
        f"cached token + new proof / proof floor : {cached:.2f}x  (target <= "
        f"{TARGET_CACHED_OVER_PROOF}x: {verdict(cached <= TARGET_CACHED_OVER_PROOF)})",
        "round by round (median, min-max): new "
        + _spread_text(result["new_over_floors_by_round"])
        + ", cached "
        + _spread_text(result["cached_over_proof_floor_by_round"]),
        f"replay check : {replay:.2f} µs  (target < {TARGET_REPLAY_US} µs: "
        f"{verdict(replay < TARGET_REPLAY_US)})",
        _redis_line(result["redis"]),
    ]
    return "\n".join(lines)


def _spread_text(spread: dict[str, float]) -> str:
    return f"{spread['median']:.2f}x ({spread['min']:.2f}x-{spread['max']:.2f}x)"


def _redis_line(redis: dict[str, Any]) -> str:
    if "skipped" in redis:
        return f"Redis round trip : not measured ({redis['skipped']})"
    return (
        f"Redis round trip (loopback, SET NX PX) : {redis['us_median']:.1f} µs median, "
        f"{redis['us_p99']:.1f} µs p99 over {redis['calls']} new keys (reported, no target)"
    )


def main(argv: list[str] | None = None) -> int:
    return seconds_main(__doc__, run, report, argv)


if __name__ == "__main__":
    sys.exit(main())
