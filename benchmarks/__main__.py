"""Every benchmark in one run: ``python -m benchmarks`` (``bash scripts/bench.sh`` sets up first).

Usage::

    python -m benchmarks [--only micro,steps,dpop,load,jwks,memory,signatures] [--quick]
                         [--save FILE]

Runs, in turn:

* ``micro``: ``verify()`` against the raw signature check and PyJWT, and a cache hit;
* ``steps``: what each step of ``verify()`` costs on its own;
* ``dpop``: ``verify_request()`` of DPoP requests against the two raw signature checks,
  the in-memory replay check and the Redis store's round trip;
* ``load``: requests/s under wrk, guarded against unguarded, four adapters (and the
  DPoP route against its two-signature floor, ASGI and FastAPI);
* ``jwks``: fetch counts under herds and unknown kids, latency while a fetch is in flight;
* ``memory``: a million distinct tokens, the process's growth and every cache's size;
* ``signatures``: ``verify()`` and the bare signature check per algorithm, ML-DSA's included
  (figures to compare, no target).

Each prints its own table; a summary of every target follows. ``--quick`` shrinks
each run (a smoke test of the whole set, about two minutes, not figures to quote);
``--save`` writes every result as JSON. The exit status is 0 even when a target
is missed: the tables say so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks import dpop, introspection, jwe, jwks, load, memory, micro, signatures, steps
from benchmarks._common import verdict

Runner = Callable[[bool], dict[str, Any]]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


RUNNERS: dict[str, Runner] = {
    "micro": lambda quick: micro.run(1.0 if quick else 4.0),
    "steps": lambda quick: steps.run(500 if quick else 2000),
    "dpop": lambda quick: dpop.run(1.0 if quick else 4.0),
    "load": lambda quick: load.run(
        seconds=2 if quick else 5, rounds=1 if quick else 3, progress=_progress
    ),
    "jwks": lambda quick: jwks.run(),
    "memory": lambda quick: memory.run(tokens=100_000 if quick else 1_000_000),
    "signatures": lambda quick: signatures.run(1.0 if quick else 6.0),
    "jwe": lambda quick: jwe.run(1.0 if quick else 4.0),
}
REPORTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "micro": micro.report,
    "steps": steps.report,
    "dpop": dpop.report,
    "load": load.report,
    "jwks": jwks.report,
    "memory": memory.report,
    "signatures": signatures.report,
    "jwe": jwe.report,
}
RUNNERS["introspection"] = lambda quick: introspection.run(1.0 if quick else 3.0)
REPORTS["introspection"] = introspection.report


def summary(results: dict[str, dict[str, Any]]) -> str:
    """One line per target, met or not, across every benchmark that ran."""
    lines = ["", "== summary"]

    if "micro" in results:
        m = results["micro"]
        lines += [
            f"verify() of a new token / floor   {m['bearerguard_over_floor']:6.2f}x  "
            f"(<= {micro.TARGET_FLOOR_RATIO}x)  "
            f"{verdict(m['bearerguard_over_floor'] <= micro.TARGET_FLOOR_RATIO)}",
            f"PyJWT decode / verify()           {m['pyjwt_over_bearerguard']:6.2f}x  "
            f"(>= {micro.TARGET_PYJWT_SPEEDUP}x)  "
            f"{verdict(m['pyjwt_over_bearerguard'] >= micro.TARGET_PYJWT_SPEEDUP)}",
            f"repeat verification (cache hit)   {m['hit_us']:6.2f} µs (<= {micro.TARGET_HIT_US} µs)"
            f"  {verdict(m['hit_us'] <= micro.TARGET_HIT_US)}",
        ]
    if "dpop" in results:
        d = results["dpop"]
        new, cached, replay = d["new_over_floors"], d["cached_over_proof_floor"], d["replay_us"]
        lines += [
            f"DPoP new token + proof / floors   {new:6.2f}x  (<= {dpop.TARGET_NEW_OVER_FLOORS}x)  "
            f"{verdict(new <= dpop.TARGET_NEW_OVER_FLOORS)}",
            f"DPoP cached token + proof / floor {cached:6.2f}x  "
            f"(<= {dpop.TARGET_CACHED_OVER_PROOF}x)  "
            f"{verdict(cached <= dpop.TARGET_CACHED_OVER_PROOF)}",
            f"DPoP replay check (memory)        {replay:6.2f} µs (< {dpop.TARGET_REPLAY_US} µs)"
            f"  {verdict(replay < dpop.TARGET_REPLAY_US)}",
        ]
    if "load" in results:
        for setup in results["load"]["setups"]:
            name = setup["name"]
            if "error" in setup:
                lines.append(f"{name:<34}{'':8}  FAILED: {setup['error']}")
                continue
            for mode, target in setup["targets"].items():
                lines.append(
                    f"{name + ' ' + mode:<34}{setup['ratios'][mode]:6.2f}x  (>= {target}x)  "
                    f"{verdict(setup['met'][mode])}"
                )
    if "jwks" in results:
        lines.append(
            f"{'JWKS herds, cooldown, in-flight p99':<34}{'':8}{verdict(results['jwks']['met'])}"
        )
    if "memory" in results:
        lines.append(
            f"{'memory bound and cache bounds':<34}{'':8}{verdict(results['memory']['met'])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", help=f"comma-separated, among {','.join(RUNNERS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    parser.add_argument("--save", type=Path, help="write every result to this JSON file")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(RUNNERS)
    unknown = [name for name in chosen if name not in RUNNERS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    results: dict[str, dict[str, Any]] = {}
    for name in chosen:
        print(f"\n== {name}", flush=True)
        started = time.monotonic()
        results[name] = RUNNERS[name](args.quick)
        print(REPORTS[name](results[name]))
        print(f"({name}: {time.monotonic() - started:.0f} s)", flush=True)
    print(summary(results))
    if args.save:
        args.save.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
