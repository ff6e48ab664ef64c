"""How the JWKS benchmark drives a verifier: threads call ``verify``, tasks ``averify``.

Both drivers offer the same three things, so every scenario is written once:
``one`` verification, a ``burst`` of verifications by many concurrent callers
released together (a barrier for threads, one ``gather`` for tasks), each call
timed, and ``in_flight``: timed verifications while a slow caller's fetch is in
flight. Outcomes are labelled ``"ok"``, the refusal's HTTP status (``"401"``), or
the type of any other exception, which would be a bug the benchmark should show.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bearerguard import AccessToken, BearerError, Verifier
from benchmarks._jwks_provider import Hold

__all__ = ["MODES", "Burst", "InFlight", "Runner", "Tasks", "Threads", "label"]

WAIT = 60.0  # seconds: only ever reached if something hangs
HEAD_START = 0.005  # seconds the timing callers run before an unheld fetch starts


def label(result: object) -> str:
    """``"ok"`` for a token, the HTTP status for a refusal, else the exception's type."""
    if isinstance(result, AccessToken):
        return "ok"
    if isinstance(result, BearerError):
        return str(result.status_code)
    return type(result).__name__


@dataclass
class Burst:
    """What a set of verifications gave: outcomes, per-call latencies (s), wall time (s)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0

    def add(self, calls: Sequence[tuple[str, float]]) -> None:
        for outcome, seconds in calls:
            self.outcomes[outcome] += 1
            self.latencies.append(seconds)


@dataclass
class InFlight:
    """A measurement taken while a held fetch was (supposedly) in flight, and its slow caller."""

    run: Burst
    arrived: bool  # the held fetch reached the provider before the measurement started
    waiting: bool  # the caller that started it was still waiting when the measurement ended
    slow_outcome: str


def share_of(
    tokens: Sequence[str], index: int, callers: int, until: Callable[[], bool] | None
) -> Iterator[str]:
    """Caller ``index``'s tokens: one pass, or round and round until ``until()`` holds."""
    share = tokens[index::callers]
    if until is None:
        yield from share
        return
    while share:
        for token in share:
            if until():
                return
            yield token


class Threads:
    """Drives a verifier from threads with ``verify()``."""

    name = "threads"

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier

    def close(self) -> None:
        pass

    def one(self, token: str) -> str:
        try:
            return label(self.verifier.verify(token))
        except Exception as exc:  # a BearerError, or a bug this benchmark should show
            return label(exc)

    def burst(
        self, tokens: Sequence[str], callers: int, until: Callable[[], bool] | None = None
    ) -> Burst:
        """``tokens`` shared out over ``callers`` threads, all released by one barrier."""
        callers = max(1, min(callers, len(tokens)))
        barrier = threading.Barrier(callers + 1, timeout=WAIT)
        calls: list[list[tuple[str, float]]] = [[] for _ in range(callers)]

        def work(index: int) -> None:
            barrier.wait()
            mine = calls[index]
            for token in share_of(tokens, index, callers, until):
                start = time.perf_counter()
                outcome = self.one(token)
                mine.append((outcome, time.perf_counter() - start))

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(callers)]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join(WAIT)
        result = Burst(wall=time.perf_counter() - start)
        for share in calls:
            result.add(share)
        return result

    def in_flight(
        self, slow: str | None, hold: Hold | None, tokens: Sequence[str], workers: int
    ) -> InFlight:
        """Time ``tokens`` while ``slow``'s fetch is held by the provider (or, with no
        ``hold``, for as long as that fetch takes its natural course)."""
        slow_outcome: list[str] = []
        done = threading.Event()

        def call_slowly() -> None:
            if hold is None:
                time.sleep(HEAD_START)
            slow_outcome.append(self.one(slow) if slow is not None else "-")
            done.set()

        caller = threading.Thread(target=call_slowly) if slow is not None else None
        gc.collect()
        arrived = True
        if caller is not None:
            caller.start()
            if hold is not None:
                arrived = hold.wait_arrived(WAIT)
        run = self.burst(tokens, workers, done.is_set if hold is None and caller else None)
        waiting = caller is not None and caller.is_alive()
        if hold is not None:
            hold.release()
        if caller is not None:
            caller.join(WAIT)
        return InFlight(run, arrived, waiting, slow_outcome[0] if slow_outcome else "-")


class Tasks:
    """Drives a verifier from asyncio tasks with ``averify()``, on one loop per scenario."""

    name = "tasks"

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def _run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    async def _one(self, token: str) -> str:
        try:
            return label(await self.verifier.averify(token))
        except Exception as exc:  # a BearerError, or a bug this benchmark should show
            return label(exc)

    def one(self, token: str) -> str:
        return str(self._run(self._one(token)))

    async def _burst(
        self,
        tokens: Sequence[str],
        callers: int,
        *,
        pause: bool,
        until: Callable[[], bool] | None = None,
    ) -> Burst:
        callers = max(1, min(callers, len(tokens)))

        async def work(index: int) -> list[tuple[str, float]]:
            calls = []
            for token in share_of(tokens, index, callers, until):
                start = time.perf_counter()
                if pause:
                    # Queue behind whatever else the loop runs (the fetch, the other
                    # callers), as a request arriving now would: its wait is timed too.
                    await asyncio.sleep(0)
                outcome = await self._one(token)
                calls.append((outcome, time.perf_counter() - start))
            return calls

        start = time.perf_counter()
        shares = await asyncio.gather(*(work(i) for i in range(callers)))
        result = Burst(wall=time.perf_counter() - start)
        for share in shares:
            result.add(share)
        return result

    def burst(self, tokens: Sequence[str], callers: int) -> Burst:
        result: Burst = self._run(self._burst(tokens, callers, pause=False))
        return result

    def in_flight(
        self, slow: str | None, hold: Hold | None, tokens: Sequence[str], workers: int
    ) -> InFlight:
        """As :meth:`Threads.in_flight`, with tasks on this runner's loop."""

        async def call_slowly(token: str) -> str:
            if hold is None:
                await asyncio.sleep(HEAD_START)
            return await self._one(token)

        async def scenario() -> InFlight:
            gc.collect()
            caller = asyncio.create_task(call_slowly(slow)) if slow is not None else None
            arrived = True
            if caller is not None and hold is not None:
                arrived = await asyncio.to_thread(hold.wait_arrived, WAIT)
            until = caller.done if hold is None and caller is not None else None
            run = await self._burst(tokens, workers, pause=True, until=until)
            waiting = caller is not None and not caller.done()
            if hold is not None:
                hold.release()
            outcome = await asyncio.wait_for(caller, WAIT) if caller is not None else "-"
            return InFlight(run, arrived, waiting, outcome)

        result: InFlight = self._run(scenario())
        return result


Runner = Threads | Tasks
MODES: dict[str, Callable[[Verifier], Runner]] = {"threads": Threads, "tasks": Tasks}
