"""What each signature algorithm costs ``verify()``: RS256, ES256, EdDSA and ML-DSA-44/65/87.

Usage::

    python benchmarks/signatures.py [--seconds N] [--json]

For each algorithm, one key (made by bearerguard's own minting), a verifier that
allows that algorithm alone with the key set cached (served in-process), and a
pool of distinct Auth0-shaped access tokens signed in advance. Two candidates
per algorithm take turns in every round: ``verify()`` of a token not seen
before (the verified-token cache on, as by default), and the algorithm's
signature primitive alone on the same tokens' signing inputs and signatures
(decoded in advance). Medians of the per-round means; the garbage collector is
off while timing. The table also gives the token's length and the public key's
size in the key set: ML-DSA's signatures and keys are kilobytes.
"""

from __future__ import annotations

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

from bearerguard import Verifier
from bearerguard._keys import VerificationKey
from bearerguard._mint import SigningKey, compact_jws
from benchmarks._common import seconds_main, signature_of, warmed_and_timed
from benchmarks.micro import ISSUER, cached_verifier, token_claims

ALGORITHMS = ("RS256", "ES256", "EdDSA", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
ROUNDS = 7


def _warm_verifier(key: SigningKey) -> Verifier:
    """A verifier allowing ``key``'s algorithm alone, its key set already cached."""
    return cached_verifier(key.public_jwk(), algorithms=[key.algorithm])


def run(seconds: float, algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, Any]:
    # About 60 µs a call on average over both candidates of every algorithm; the pools cover
    # every timed verify(), so none is verified twice (signing costs up to a millisecond).
    per_round = max(20, min(int(seconds * 1e6 / ROUNDS / len(algorithms) / 2 / 60), 300))
    pool_size = ROUNDS * per_round + 20  # and 20 for the warm-up
    now = int(time.time())
    candidates: dict[str, Callable[[int], object]] = {}
    sizes: dict[str, dict[str, int]] = {}
    for alg in algorithms:
        key = SigningKey(alg)
        verifier = _warm_verifier(key)
        header = {"alg": alg, "typ": "JWT", "kid": key.kid}
        pool = [compact_jws(header, token_claims(now, serial), key) for serial in range(pool_size)]
        signatures = [signature_of(token) for token in pool]
        plan = verifier._plan  # the benchmark times the pipeline's own signature check
        found = plan.cache.locate(ISSUER, key.kid, alg, time.monotonic(), set())
        assert isinstance(found, VerificationKey)  # noqa: S101 - warm_up() cached the key set
        primitive, public_key = plan.primitives[alg], found.public_key
        # Sanity: the verifier accepts the token, and the primitive its signature.
        assert verifier.verify(pool[0]).subject == token_claims(now, 0)["sub"]  # noqa: S101
        assert primitive.verify(signatures[0][0], public_key, signatures[0][1])  # noqa: S101
        verify = verifier.verify
        check = primitive.verify

        def whole(i: int, verify: Any = verify, pool: list[str] = pool) -> object:
            return verify(pool[i % pool_size])

        def signature(
            i: int, check: Any = check, key: Any = public_key, pairs: Any = signatures
        ) -> object:
            signing_input, raw = pairs[i % pool_size]
            return check(signing_input, key, raw)

        candidates[f"{alg} verify()"] = whole
        candidates[f"{alg} signature"] = signature
        jwk_text = json.dumps(key.public_jwk(), separators=(",", ":"))
        sizes[alg] = {
            "token_chars": len(pool[0]),
            "signature_bytes": len(signatures[0][1]),
            "jwk_chars": len(jwk_text),
        }
    warm_up = range(pool_size - 20, pool_size)  # the last 20 tokens of each pool
    _, medians = warmed_and_timed(candidates, ROUNDS, per_round, warm_up)
    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "rounds": ROUNDS,
        "per_round": per_round,
        "distinct_tokens": pool_size,
        "algorithms": list(algorithms),
        "sizes": sizes,
        "us_median": medians,
    }


def report(result: dict[str, Any]) -> str:
    medians, sizes = result["us_median"], result["sizes"]
    base = medians.get("RS256 verify()")
    lines = [
        f"{result['rounds']} interleaved rounds of {result['per_round']} distinct tokens per "
        f"algorithm (cryptography {result['cryptography']}, Python {result['python']})",
        "",
        f"{'algorithm':<11}{'verify() µs':>13}{'signature µs':>14}{'vs RS256':>10}"
        f"{'token chars':>13}{'JWK chars':>11}",
    ]
    for alg in result["algorithms"]:
        whole, alone = medians[f"{alg} verify()"], medians[f"{alg} signature"]
        ratio = f"{whole / base:.2f}x" if base else "-"
        lines.append(
            f"{alg:<11}{whole:>13.1f}{alone:>14.1f}{ratio:>10}"
            f"{sizes[alg]['token_chars']:>13}{sizes[alg]['jwk_chars']:>11}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return seconds_main(__doc__, run, report, argv)


if __name__ == "__main__":
    sys.exit(main())
