"""Where the time of ``verify()`` goes: each step of the pipeline timed on its own.

Usage::

    python benchmarks/steps.py [--tokens N] [--json]

The same tokens as ``micro.py`` (an Auth0-shaped RS256 access token, distinct
for every call). Each step of ``_flow.verify_now`` is called in its own loop
over the tokens, with the inputs the previous steps produced computed in
advance, so a row is that step's cost alone; the rows add up to less than a
whole ``verify()``, whose Python work between two signature checks also evicts
the processor's caches. Medians of interleaved rounds; the garbage collector is
off while timing. A yardstick for finding the next microsecond, not a target.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.append(str(Path(__file__).resolve().parent.parent / "src"))
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric import rsa

from bearerguard import Verifier
from bearerguard._claims import check_claims, claim_lifetime, unverified_issuer
from bearerguard._jose import parse_token
from bearerguard._keys import VerificationKey
from benchmarks import micro
from benchmarks._common import command_line, emit

ROUNDS = 7


def run(tokens: int = 2000) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = micro.warm_verifier(key)
    now = int(time.time())
    pool = [micro._sign(key, now, serial) for serial in range(tokens)]
    plan = verifier._plan  # the benchmark times the pipeline's own steps
    config, cache, primitive = plan.config, plan.cache, plan.primitives["RS256"]
    assert plan.tokens is not None  # noqa: S101 - the default verifier caches tokens
    token_cache = plan.tokens
    verifier.verify(pool[0])  # the header segment is remembered from here on
    segment = pool[0].split(".", 1)[0]
    header, alg, kid = plan.headers[segment]
    parsed = [parse_token(raw, max_size=config.max_token_size, header=header) for raw in pool]
    found = cache.locate(micro.ISSUER, kid, alg, time.monotonic(), set())
    assert isinstance(found, VerificationKey)  # noqa: S101 - warm_up() cached the key set
    public_key = found.public_key
    lifetimes = [claim_lifetime(p.claims) for p in parsed]
    header_view = MappingProxyType(dict(header))
    wall = time.time()

    steps: dict[str, Callable[[int], object]] = {
        "verify() of a new token, whole": lambda i: Verifier.verify(verifier, fresh[i]),
        "cache lookup + doorkeeper": lambda i: (
            token_cache.get(fresh[i]),
            token_cache.admit(fresh[i]),
        ),
        "header memo lookup": lambda i: plan.headers.get(fresh[i][: fresh[i].find(".")]),
        "parse (shape, base64, claims JSON)": lambda i: parse_token(
            fresh[i], max_size=config.max_token_size, header=header
        ),
        "issuer allow-list": lambda i: unverified_issuer(parsed[i].claims, config),
        "key lookup": lambda i: cache.locate(micro.ISSUER, kid, alg, time.monotonic(), set()),
        "signature (RS256)": lambda i: primitive.verify(
            parsed[i].signing_input, public_key, parsed[i].signature
        ),
        "lifetime claims read": lambda i: claim_lifetime(parsed[i].claims),
        "claims checked, AccessToken built": lambda i: check_claims(
            dict(parsed[i].claims),
            header_view,
            pool[i],
            config,
            wall,
            issuer=micro.ISSUER,
            lifetime=lifetimes[i],
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in steps}
    fresh: list[str] = []
    for _ in range(ROUNDS):
        for name, step in steps.items():
            # New string objects, as a server gets them: their hash is not computed yet.
            fresh[:] = ["".join((raw[:10], raw[10:])) for raw in pool]
            gc.disable()
            started = time.perf_counter_ns()
            for i in range(tokens):
                step(i)
            samples[name].append((time.perf_counter_ns() - started) / tokens / 1000)
            gc.enable()
            token_cache.clear()  # the whole verify() row must keep meeting new tokens
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {"tokens": tokens, "rounds": ROUNDS, "us_median": medians}


def report(result: dict[str, Any]) -> str:
    medians = result["us_median"]
    whole = next(iter(medians.values()))
    lines = [
        f"{result['rounds']} interleaved rounds over {result['tokens']} distinct tokens",
        "",
        f"{'step':<38}{'µs':>8}{'share':>8}",
    ]
    for name, value in medians.items():
        lines.append(f"{name:<38}{value:>8.2f}{value / whole:>8.0%}")
    steps = sum(list(medians.values())[1:])
    lines.append(f"{'sum of the steps':<38}{steps:>8.2f}{steps / whole:>8.0%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument("--tokens", type=int, default=2000, help="distinct tokens (2000)")
    args = parser.parse_args(argv)
    return emit(run(args.tokens), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
