"""The JWKS benchmark's scenarios: each builds a fresh verifier, runs, and returns one row.

A row is a JSON-serialisable dict: ``scenario``, ``mode``, ``requests``, the
``fetches`` the provider counted (``discovery``/``jwks``), ``outcomes``, timings,
``target`` (in words) and ``met``. Fetch counts are exact; timings are not.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bearerguard import CachePolicy, Verifier
from bearerguard import _keys as bearerguard_keys
from benchmarks._jwks_drivers import MODES, Runner
from benchmarks._jwks_provider import CountingProvider
from benchmarks._jwks_tokens import API, RsaSigner, ec_jwk

__all__ = [
    "IN_FLIGHT",
    "ROUTINE_FETCHES",
    "Bench",
    "cold_start",
    "in_flight",
    "key_imports",
    "rotated_in",
    "rotation",
    "unknown_kids",
]

FETCH_TIMEOUT = 30.0  # a fetch held for a measurement must not time out
COOLDOWN = CachePolicy().unknown_kid_cooldown
KEY_SET_MAX_AGE = 600.0  # the provider's Cache-Control: max-age on its key sets
SLACK_MS = 10.0  # the in-flight target: p99 <= latency + this
# The latency rows time full verifications: with the verified-token cache on, the
# unheld rows (which go round the token pool until the fetch lands) would time hits.
TOKEN_CACHE_OFF = (
    {"token_cache_size": 0} if "token_cache_size" in inspect.signature(Verifier).parameters else {}
)


class Monotonic:
    """A verifier's monotonic clock: real time plus a jump, so a cooldown passes at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def skip(self, seconds: float) -> None:
        self.offset += seconds

    def skip_cooldown(self) -> None:
        self.skip(COOLDOWN + 1.0)


@dataclass
class Bench:
    """The provider, its keys, and tokens signed once for every scenario."""

    provider: CountingProvider
    requests: int
    samples: int
    workers: int
    current: RsaSigner = field(default_factory=lambda: RsaSigner("k1"))
    rotated: RsaSigner = field(default_factory=lambda: RsaSigner("k2"))
    stranger: RsaSigner = field(default_factory=lambda: RsaSigner("stranger"))
    other: RsaSigner = field(default_factory=lambda: RsaSigner("b1"))
    spare: dict[str, str] = field(default_factory=lambda: ec_jwk("e1"))
    pool: list[str] = field(default_factory=list)  # distinct valid tokens of tenant a

    def __post_init__(self) -> None:
        issuer = self.provider.issuer("a")
        # One more than measured: the first verifies during warm-up.
        self.pool = [self.current.token(issuer, serial) for serial in range(self.samples + 1)]

    @property
    def published(self) -> int:
        return 2  # k1 and e1 before a rotation; k2 joins them

    def reset(self) -> None:
        self.provider.publish("a", [self.current.jwk(), self.spare])
        self.provider.publish("b", [self.other.jwk()])

    def rotate(self) -> None:
        self.provider.publish("a", [self.current.jwk(), self.spare, self.rotated.jwk()])

    @contextlib.contextmanager
    def fresh(self, mode: str, **settings: Any) -> Iterator[tuple[Runner, Monotonic]]:
        """A new verifier for both tenants (nothing cached), driven the ``mode`` way."""
        self.reset()
        clock = Monotonic()
        verifier = Verifier(
            issuer=[self.provider.issuer("a"), self.provider.issuer("b")],
            audience=API,
            cache=CachePolicy(fetch_timeout=FETCH_TIMEOUT),
            monotonic=clock,
            **settings,
        )
        runner = MODES[mode](verifier)
        try:
            yield runner, clock
        finally:
            runner.close()

    def token(self, signer: RsaSigner, tenant: str = "a", *, kid: str | None = None) -> str:
        return signer.token(self.provider.issuer(tenant), secrets.randbits(64), kid=kid)


def fetch_counts(provider: CountingProvider, tenant: str, before: dict[str, int]) -> dict[str, int]:
    after = provider.hits(tenant)
    return {kind: after[kind] - before[kind] for kind in after}


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p99 / max in milliseconds (nearest rank)."""
    ordered = sorted(seconds)
    if not ordered:
        return {"p50": math.nan, "p99": math.nan, "max": math.nan}

    def rank(q: float) -> float:
        return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1] * 1e3

    return {"p50": rank(0.5), "p99": rank(0.99), "max": ordered[-1] * 1e3}


def _checks(**checks: bool) -> dict[str, Any]:
    """A row's named checks, and ``met`` when every one of them passed."""
    return {"checks": checks, "met": all(checks.values())}


def _fetch_row(
    scenario: str,
    mode: str,
    *,
    counted: dict[str, int],
    answers: Counter[str],
    wall: float,
    latencies: Sequence[float],
    target: str,
    **checks: bool,
) -> dict[str, Any]:
    """The row of a scenario that counts fetches under a burst of requests."""
    return {
        "scenario": scenario,
        "mode": mode,
        "requests": sum(answers.values()),
        "fetches": counted,
        "outcomes": dict(answers),
        "wall_ms": wall * 1e3,
        "latency_ms": percentiles_ms(latencies),
        "target": target,
        **_checks(**checks),
    }


# --- scenarios -----------------------------------------------------------------------------


def cold_start(bench: Bench, mode: str) -> dict[str, Any]:
    n = bench.requests
    with bench.fresh(mode) as (runner, _):
        before = bench.provider.hits("a")
        run = runner.burst([bench.pool[0]] * n, n)
        fetches = fetch_counts(bench.provider, "a", before)
    return _fetch_row(
        "cold start: concurrent first requests",
        mode,
        counted=fetches,
        answers=run.outcomes,
        wall=run.wall,
        latencies=run.latencies,
        target="discovery = 1, jwks = 1, all ok",
        fetches=fetches == {"discovery": 1, "jwks": 1},
        outcomes=run.outcomes == {"ok": n},
    )


def rotation(bench: Bench, mode: str) -> dict[str, Any]:
    n = bench.requests
    token = bench.token(bench.rotated)
    with bench.fresh(mode) as (runner, clock):
        warm = runner.one(bench.pool[0])
        bench.rotate()
        clock.skip_cooldown()  # a rotation comes long after the last fetch
        before = bench.provider.hits("a")
        run = runner.burst([token] * n, n)
        fetches = fetch_counts(bench.provider, "a", before)
    return _fetch_row(
        "rotation: concurrent requests, new kid",
        mode,
        counted=fetches,
        answers=run.outcomes,
        wall=run.wall,
        latencies=run.latencies,
        target="discovery = 0, jwks <= 1, all ok",
        fetches=fetches["discovery"] == 0 and fetches["jwks"] <= 1,
        outcomes=warm == "ok" and run.outcomes == {"ok": n},
    )


#: The routine fetch a rotation follows, by name: what the scenario's row calls it.
ROUTINE_FETCHES = {"first": "the first fetch", "ttl": "a TTL refresh"}


def rotated_in(bench: Bench, mode: str, after: str) -> dict[str, Any]:
    """A key published a second after a routine fetch: its first token must be accepted.

    Routine fetches (the first, a refresh past the TTL) start no unknown-kid
    cooldown, so that first request looks once (one fetch) rather than being
    refused until a cooldown has passed.
    """
    token = bench.token(bench.rotated)
    with bench.fresh(mode) as (runner, clock):
        before = bench.provider.hits("a")
        ready = [runner.one(bench.pool[0])]  # the first fetch
        if after == "ttl":
            clock.skip(KEY_SET_MAX_AGE + 1.0)  # the set is stale: the next use refreshes it
            ready.append(runner.one(bench.pool[0]))
        routine = fetch_counts(bench.provider, "a", before)
        clock.skip(1.0)
        bench.rotate()  # a second after that routine fetch
        before = bench.provider.hits("a")
        run = runner.burst([token], 1)  # the first request that names the new key
        fetches = fetch_counts(bench.provider, "a", before)
    row = _fetch_row(
        f"rotated in 1 s after {ROUTINE_FETCHES[after]}",
        mode,
        counted=fetches,
        answers=run.outcomes,
        wall=run.wall,
        latencies=run.latencies,
        target="discovery = 0, jwks = 1, first ok",
        fetches=fetches == {"discovery": 0, "jwks": 1},
        outcomes=run.outcomes == {"ok": 1},
        # The routine fetches did happen (and served) just before the rotation.
        routine=routine == {"discovery": 1, "jwks": len(ready)} and set(ready) == {"ok"},
    )
    return {**row, "routine_fetches": routine}


def unknown_kids(bench: Bench, mode: str, tokens: Sequence[str]) -> dict[str, Any]:
    n = len(tokens)
    callers = 100 if mode == "threads" else n
    with bench.fresh(mode) as (runner, _):
        warm = runner.one(bench.pool[0])
        # Right after the first (routine) fetch: it started no cooldown, so the first burst
        # may refetch once (a rotation may have published a kid), which starts one.
        before = bench.provider.hits("a")
        run = runner.burst(tokens, callers)
        first = fetch_counts(bench.provider, "a", before)
        again = runner.burst(tokens, callers)  # within the cooldown that refetch started
        fetches = fetch_counts(bench.provider, "a", before)
    outcomes = run.outcomes + again.outcomes
    row = _fetch_row(
        "unknown kids: random kids, 2 bursts",
        mode,
        counted=fetches,
        answers=outcomes,
        wall=run.wall + again.wall,
        latencies=run.latencies + again.latencies,
        target="discovery = 0, jwks <= 1, all 401",
        fetches=fetches["discovery"] == 0 and fetches["jwks"] <= 1,
        outcomes=warm == "ok" and outcomes == {"401": 2 * n},
    )
    return {**row, "fetches_first_burst": first}


IN_FLIGHT = {
    "none": "none (baseline)",
    "other": "other issuer's JWKS, held",
    "rotation": "same issuer, rotation, held",
    "unknown": "same issuer, unknown kid, held",
    "other-course": "other issuer, disc+JWKS, unheld",
    "rotation-course": "same issuer, rotation, unheld",
}


def in_flight(bench: Bench, mode: str, variant: str, latency_ms: float) -> dict[str, Any]:
    """Verify cached-key tokens while the provider holds one fetch unanswered.

    The ``-course`` variants hold nothing: the timing runs from just before the
    fetch starts until it has landed, so it also sees the fetch's own CPU work
    (the HTTP client, parsing the keys) competing for the interpreter.
    """
    tokens = bench.pool[1:]
    course = variant.endswith("-course")
    kind = variant.removesuffix("-course")
    with bench.fresh(mode, **TOKEN_CACHE_OFF) as (runner, clock):
        warm = runner.one(bench.pool[0])
        slow: str | None = None
        tenant, expected = "a", "-"
        if kind == "other":
            tenant, expected = "b", "ok"
            slow = bench.token(bench.other, "b")
        elif kind == "rotation":
            bench.rotate()  # the answer publishes the new kid
            clock.skip_cooldown()
            slow, expected = bench.token(bench.rotated), "ok"
        elif kind == "unknown":
            clock.skip_cooldown()
            slow, expected = bench.token(bench.stranger, kid=f"{secrets.randbits(64):016x}"), "401"
        hold = bench.provider.hold(tenant, "jwks") if slow is not None and not course else None
        before = bench.provider.hits(tenant)
        measured = runner.in_flight(slow, hold, tokens, bench.workers)
        fetches = fetch_counts(bench.provider, tenant, before)
    latency = percentiles_ms(measured.run.latencies)
    limit = latency_ms + SLACK_MS
    held = measured.arrived and measured.waiting if hold is not None else None
    return {
        "scenario": f"in flight: {IN_FLIGHT[variant]}",
        "variant": variant,
        "mode": mode,
        "requests": len(measured.run.latencies),
        "fetches": fetches,
        "outcomes": dict(measured.run.outcomes),
        "wall_ms": measured.run.wall * 1e3,
        "latency_ms": latency,
        "fetch_in_flight_throughout": held,
        "slow_caller": measured.slow_outcome,
        "target": f"p99 <= {limit:g} ms, all ok",
        "target_p99_ms": limit,
        **_checks(
            fetches=fetches["jwks"] == (0 if slow is None else 1),
            outcomes=warm == "ok"
            and measured.run.outcomes == {"ok": len(measured.run.latencies)}
            and measured.slow_outcome == expected,
            held=held is not False,  # a fetch meant to be held was in flight throughout
            p99=latency["p99"] <= limit,  # the one timing check: noisy hosts may miss it
        ),
    }


@contextlib.contextmanager
def counting_key_imports() -> Iterator[Callable[[], int]]:
    """Count calls of ``VerificationKey.from_jwk`` (one per JWK imported) while inside.

    The wrapper counts and calls the original: the keys imported, and every
    verification, are exactly what they would be without it.
    """
    cls = bearerguard_keys.VerificationKey
    original = cls.__dict__["from_jwk"]
    lock = threading.Lock()
    calls = [0]

    def from_jwk(klass: type[Any], jwk: Any) -> Any:
        with lock:
            calls[0] += 1
        return original.__func__(klass, jwk)

    setattr(cls, "from_jwk", classmethod(from_jwk))  # noqa: B010 - a class attribute, not a field
    try:
        yield lambda: calls[0]
    finally:
        setattr(cls, "from_jwk", original)  # noqa: B010


def key_imports(bench: Bench, mode: str) -> dict[str, Any]:
    tokens = bench.pool[1:]
    rotated = bench.token(bench.rotated)
    with bench.fresh(mode) as (runner, clock), counting_key_imports() as imports:
        before = bench.provider.hits("a")
        start = imports()
        cold = runner.one(bench.pool[0])
        at_cold = imports() - start
        start = imports()
        run = runner.burst(tokens, 200)
        warm = imports() - start
        bench.rotate()
        clock.skip_cooldown()
        start = imports()
        after = runner.one(rotated)
        at_rotation = imports() - start
        fetches = fetch_counts(bench.provider, "a", before)
    expected = {"cold_fetch": bench.published, "warm": 0, "rotation_fetch": bench.published + 1}
    observed = {"cold_fetch": at_cold, "warm": warm, "rotation_fetch": at_rotation}
    return {
        "scenario": "key imports per fetch / per request",
        "mode": mode,
        "requests": len(tokens) + 2,
        "fetches": fetches,
        "outcomes": dict(run.outcomes + Counter([cold, after])),
        "imports": observed,
        "target_imports": expected,
        "target": "imports = keys per fetch, 0 per request",
        **_checks(
            imports=observed == expected,
            fetches=fetches == {"discovery": 1, "jwks": 2},
            outcomes=run.outcomes == {"ok": len(tokens)} and cold == after == "ok",
        ),
    }
