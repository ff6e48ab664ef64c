"""What every benchmark script shares: its command line and how it says met / NOT met."""

from __future__ import annotations

import argparse
import base64
import gc
import json
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "command_line",
    "emit",
    "interleaved",
    "seconds_main",
    "signature_of",
    "time_round",
    "verdict",
    "warmed_and_timed",
]


def verdict(flag: bool) -> str:
    """How the tables mark a target."""
    return "met" if flag else "NOT met"


def command_line(doc: str | None) -> argparse.ArgumentParser:
    """A parser described by the module docstring's first line, with ``--json``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def emit(result: dict[str, Any], report: Callable[[dict[str, Any]], str], as_json: bool) -> int:
    """Print ``result`` as JSON or as its table; the exit status (0: a missed target is
    a finding, which the table states, not a failure to run)."""
    print(json.dumps(result, indent=2) if as_json else report(result))
    return 0


def signature_of(jws: str) -> tuple[bytes, bytes]:
    """A compact JWS's signing input and decoded signature: what a floor checks directly."""
    signing_input, _, signature = jws.rpartition(".")
    return signing_input.encode("ascii"), base64.urlsafe_b64decode(signature + "==")


def time_round(fn: Callable[[int], object], start: int, count: int) -> float:
    """Mean nanoseconds per call of ``fn(i)`` for ``i`` in ``start .. start+count``, with
    the garbage collector off while timing."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        for i in range(start, start + count):
            fn(i)
        elapsed = time.perf_counter_ns() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / count


def interleaved(
    candidates: Mapping[str, Callable[[int], object]], rounds: int, per_round: int
) -> dict[str, list[float]]:
    """Each candidate's mean ns per call in each round, the candidates taking turns in every
    round (noise from a shared host hits them alike) over consecutive indices of their pools."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    position = 0
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name].append(time_round(fn, position, per_round))
        position += per_round
    return samples


def warmed_and_timed(
    candidates: Mapping[str, Callable[[int], object]],
    rounds: int,
    per_round: int,
    warm_up: range,
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each candidate called on the ``warm_up`` indices first, then timed as
    :func:`interleaved` times them: the samples (mean ns per call, round by round) and
    their medians in µs.

    Example::

        samples, medians = warmed_and_timed(candidates, 7, 200, range(pool_size - 20, pool_size))
    """
    for fn in candidates.values():
        for i in warm_up:
            fn(i)
    samples = interleaved(candidates, rounds, per_round)
    return samples, {name: statistics.median(values) / 1000 for name, values in samples.items()}


def seconds_main(
    doc: str | None,
    run: Callable[[float], dict[str, Any]],
    report: Callable[[dict[str, Any]], str],
    argv: list[str] | None,
) -> int:
    """The command line of a micro benchmark: ``--seconds`` (its timing budget) and ``--json``."""
    parser = command_line(doc)
    parser.add_argument("--seconds", type=float, default=3.0, help="approximate timing budget")
    args = parser.parse_args(argv)
    return emit(run(args.seconds), report, args.json)
