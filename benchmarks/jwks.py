"""JWKS fetches under concurrency: a real ``Verifier`` against a counting loopback provider.

Usage::

    python benchmarks/jwks.py [--latency MS] [--requests N] [--unknown N] [--samples N] [--json]
    python -m benchmarks.jwks ...

Unit tests prove single flight with mock transports and gates; this measures it
end to end, sockets and all: a ``ThreadingHTTPServer`` on 127.0.0.1, in a child
process as a real provider is remote (in this process its threads would compete
for the interpreter lock with the verifications being timed), serves each
tenant's discovery document and JWK Set after an artificial latency (default
50 ms, standing in for the provider round trip) and counts every request on
arrival. Each scenario runs twice, with threads calling ``verify()`` and with
asyncio tasks calling ``averify()``, each time on a fresh verifier (discovery
on, RS256, default cache policy, except a fetch timeout of 30 s so that a fetch
held for a measurement cannot time out). Skipping the unknown-kid cooldown
or a key set's max-age moves the verifier's injected monotonic clock forward
instead of waiting.

Scenarios and targets:

* cold start: ``--requests`` (200) concurrent first requests released together
  (a barrier / one ``gather``): exactly 1 discovery and 1 JWKS fetch, all succeed;
* rotation: a warm verifier, the provider adds a key, the cooldown has passed;
  ``--requests`` concurrent tokens with the new kid: no discovery, <= 1 JWKS
  fetch, all succeed;
* a key rotated in right after a routine fetch (the first fetch, or a refresh
  past the key set's max-age): the provider adds a key a second later, and the
  first request with the new kid is accepted, at the cost of exactly 1 JWKS
  fetch (routine fetches start no unknown-kid cooldown);
* unknown kids: ``--unknown`` (1000) concurrent real RS256 tokens whose random
  kids the provider never published, right after the first (routine) fetch (so
  one refetch is allowed), then the same burst again within the cooldown that
  refetch started: <= 1 fetch in all, every one refused with 401;
* cached keys while a fetch is in flight: ``--samples`` (1000) distinct tokens
  with a cached key, verified by ``--workers`` (2) threads / tasks, each call
  timed: p99 <= one round trip + 10 ms (``--latency`` + 10). "Held" rows: the
  provider holds one fetch unanswered for the whole measurement (another
  issuer's JWKS; the same issuer's JWKS for a rotation, and for an unknown
  kid), and the caller that started it must still be waiting at the end.
  "Unheld" rows: the fetch (another issuer's discovery and JWKS; the same
  issuer's rotation) runs its natural course, and the callers go round the
  tokens from just before it starts until it has landed, so they also compete
  with the fetch's own work (building the HTTP client, parsing the keys). The
  baseline row times the same with no fetch at all. The verified-token cache is
  off in these rows so that every timed call is a full verification. A task's
  timed call starts with ``await asyncio.sleep(0)``: like a request arriving, it
  waits for whatever else the event loop is running;
* keys parsed once per fetch, never per request: ``VerificationKey.from_jwk``
  is wrapped to count calls (it still does the import): the cold fetch imports
  each published key once (2), ``--samples`` further verifications import
  none, the rotation refetch imports each key of the new set once (3).

Fetch counts and key imports are exact and do not depend on timing; latencies
do (the host is shared and noisy), which is why the baseline row is measured
the same way.
"""

from __future__ import annotations

import math
import platform
import secrets
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    _ROOT = Path(__file__).resolve().parent.parent
    sys.path.append(str(_ROOT / "src"))
    sys.path.append(str(_ROOT))

import cryptography
import httpx

from bearerguard._version import __version__ as bearerguard_version
from benchmarks._common import command_line, emit, verdict
from benchmarks._jwks_drivers import MODES
from benchmarks._jwks_provider import CountingProvider
from benchmarks._jwks_scenarios import (
    COOLDOWN,
    FETCH_TIMEOUT,
    IN_FLIGHT,
    ROUTINE_FETCHES,
    SLACK_MS,
    Bench,
    cold_start,
    in_flight,
    key_imports,
    rotated_in,
    rotation,
    unknown_kids,
)


def run(
    *,
    latency_ms: float = 50.0,
    requests: int = 200,
    unknown: int = 1000,
    samples: int = 1000,
    workers: int = 2,
) -> dict[str, Any]:
    """Run every scenario in both modes; a JSON-serialisable result (see ``report``)."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with CountingProvider(latency_ms / 1e3) as provider:
        bench = Bench(provider, requests=requests, samples=samples, workers=workers)
        strangers = [
            bench.token(bench.stranger, kid=f"{secrets.randbits(64):016x}") for _ in range(unknown)
        ]
        signed = time.perf_counter()
        for mode in MODES:
            rows.append(cold_start(bench, mode))
            rows.append(rotation(bench, mode))
            rows.extend(rotated_in(bench, mode, after) for after in ROUTINE_FETCHES)
            rows.append(unknown_kids(bench, mode, strangers))
            rows.extend(in_flight(bench, mode, variant, latency_ms) for variant in IN_FLIGHT)
            rows.append(key_imports(bench, mode))
    return {
        "benchmark": "jwks",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "bearerguard": bearerguard_version,
        "httpx": httpx.__version__,
        "cryptography": cryptography.__version__,
        "machine": f"{platform.system()} {platform.machine()}",
        "method": {
            "provider": "ThreadingHTTPServer on 127.0.0.1 in a child process, "
            "counting every request on arrival",
            "latency_ms": latency_ms,
            "requests": requests,
            "unknown": unknown,
            "samples": samples,
            "workers": workers,
            "unknown_kid_cooldown_s": COOLDOWN,
            "fetch_timeout_s": FETCH_TIMEOUT,
            "in_flight_target_ms": latency_ms + SLACK_MS,
        },
        "rows": rows,
        "met": all(row["met"] for row in rows),
        "signing_seconds": signed - started,
        "wall_seconds": time.perf_counter() - started,
    }


# --- report ----------------------------------------------------------------------------------


def _row_met(row: dict[str, Any]) -> str:
    """``met``, or ``NOT met`` naming the checks that failed."""
    failed = [name for name, ok in row["checks"].items() if not ok]
    return "met" if not failed else f"NOT met ({', '.join(failed)})"


def _outcomes(outcomes: dict[str, int]) -> str:
    return " ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))


def report(result: dict[str, Any]) -> str:
    """The result as three readable tables: fetch counts, latency in flight, key imports."""
    method = result["method"]
    rows = result["rows"]
    lines = [
        f"Python {result['python']}, bearerguard {result['bearerguard']}, httpx {result['httpx']}, "
        f"cryptography {result['cryptography']}, {result['machine']}",
        f"provider: {method['provider']}; latency {method['latency_ms']:g} ms per request; "
        f"unknown-kid cooldown {method['unknown_kid_cooldown_s']:g} s (skipped by clock)",
        "",
        "Fetches (exact counts; threads call verify(), tasks call averify())",
        f"{'scenario':<40}{'mode':<9}{'reqs':>6}{'disc':>6}{'jwks':>6}  {'outcomes':<16}"
        f"{'wall ms':>9}{'p50 ms':>8}{'max ms':>8}  {'target':<35}met",
    ]
    for row in rows:
        if row["scenario"].startswith(("in flight", "key imports")):
            continue
        latency = row["latency_ms"]
        lines.append(
            f"{row['scenario']:<40}{row['mode']:<9}{row['requests']:>6}"
            f"{row['fetches']['discovery']:>6}{row['fetches']['jwks']:>6}  "
            f"{_outcomes(row['outcomes']):<16}{row['wall_ms']:>9.1f}{latency['p50']:>8.1f}"
            f"{latency['max']:>8.1f}  {row['target']:<35}{_row_met(row)}"
        )
    limit = method["in_flight_target_ms"]
    lines += [
        "",
        f"Cached-key verifications while a fetch is in flight ({method['workers']} threads / "
        f"tasks; held: {method['samples']} distinct tokens while the provider holds the fetch; "
        "unheld: round the tokens until the fetch lands)",
        f"target p99 <= {method['latency_ms']:g} + {SLACK_MS:g} = {limit:g} ms; "
        "verified-token cache off, every call a full RS256 verification",
        f"{'fetch in flight':<34}{'mode':<9}{'verifs':>7}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}  {'p99/base':>8}  {'held':<8}{'slow caller':<13}met",
    ]
    baseline = {
        row["mode"]: row["latency_ms"]["p99"] for row in rows if row.get("variant") == "none"
    }
    for row in rows:
        if "variant" not in row:
            continue
        latency = row["latency_ms"]
        base = baseline.get(row["mode"], math.nan)
        held = {None: "-", True: "yes", False: "NO"}[row["fetch_in_flight_throughout"]]
        if row["variant"].endswith("-course"):
            held = "unheld"
        lines.append(
            f"{row['scenario'].removeprefix('in flight: '):<34}{row['mode']:<9}"
            f"{row['requests']:>7}{latency['p50']:>9.3f}{latency['p99']:>9.3f}"
            f"{latency['max']:>9.3f}  {latency['p99'] / base:>7.2f}x  {held:<8}"
            f"{row['slow_caller']:<13}{_row_met(row)}"
        )
    lines += [
        "",
        f"Key imports (VerificationKey.from_jwk calls, counted; 2 keys published, 3 after the "
        f"rotation; warm verifs: {method['samples']} distinct tokens)",
        f"{'mode':<9}{'cold fetch':>12}{'warm verifs':>13}{'rotation fetch':>16}"
        f"{'jwks fetches':>14}  met",
    ]
    for row in rows:
        if not row["scenario"].startswith("key imports"):
            continue
        seen, want = row["imports"], row["target_imports"]
        cells = [
            f"{seen[name]} (={want[name]})" for name in ("cold_fetch", "warm", "rotation_fetch")
        ]
        lines.append(
            f"{row['mode']:<9}{cells[0]:>12}{cells[1]:>13}{cells[2]:>16}"
            f"{row['fetches']['jwks']:>14}  {_row_met(row)}"
        )
    lines += [
        "",
        f"all targets: {verdict(result['met'])}; wall {result['wall_seconds']:.1f} s "
        f"(of which making keys and signing tokens {result['signing_seconds']:.1f} s)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument(
        "--latency", type=float, default=50.0, help="provider latency per request in ms (50)"
    )
    parser.add_argument("--requests", type=int, default=200, help="concurrent callers (200)")
    parser.add_argument("--unknown", type=int, default=1000, help="unknown-kid tokens (1000)")
    parser.add_argument(
        "--samples", type=int, default=1000, help="verifications timed per in-flight row (1000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="timing threads / tasks (2)")
    args = parser.parse_args(argv)
    result = run(
        latency_ms=args.latency,
        requests=args.requests,
        unknown=args.unknown,
        samples=args.samples,
        workers=args.workers,
    )
    return emit(result, report, args.json)


if __name__ == "__main__":
    sys.exit(main())
