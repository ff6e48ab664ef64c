"""Single-flight refreshes of the key cache, shared by threads and asyncio tasks.

For each cache entry at most one fetch is in flight. The first caller leads it;
every other caller, on any thread or event loop, waits for the same result.
The lock guards only the in-flight table (no I/O under it), so verifications
with cached keys and fetches for other issuers never wait on a fetch.
An async lead runs as a task owned by the refresher: cancelling the request that
started it does not cancel the fetch the others are waiting for. The warnings
the cache returns (failed refreshes, skipped keys) are logged here, on the
``bearerguard`` logger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ._drive import adrive, drive
from ._fetch import afetch, fetch
from ._intercept import interceptions
from ._keycache import Fetch, KeyCache, Outcome

__all__ = ["Refresher"]

# The core cannot log (logging imports threading); it returns notes and this shell logs them.
logger = logging.getLogger("bearerguard")


@dataclass(slots=True)
class _InFlight:
    started: float
    done: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)


class Refresher:
    """Runs the fetches a :class:`KeyCache` asks for, one at a time per entry."""

    def __init__(
        self,
        cache: KeyCache,
        monotonic: Callable[[], float],
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._cache = cache
        self._policy = cache.policy
        self._monotonic = monotonic
        self._transport = transport
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str], _InFlight] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # A lead that outlives this (its thread or event loop died) is taken over.
        self._wait_limit = 2 * self._policy.fetch_timeout + 1.0

    def refresh(self, request: Fetch) -> None:
        """Settle ``request`` in the cache, fetching it or waiting for whoever is."""
        flight, lead = self._join(request)
        if flight is None:
            return
        if lead:
            outcome: Outcome | None = None
            try:
                outcome = drive(request.plan(), self.fetch)
            finally:
                self._settle(request, flight, outcome)
            return
        # On a timeout the caller re-reads the cache, which still says what to do.
        with contextlib.suppress(concurrent.futures.TimeoutError):
            flight.done.result(timeout=self._wait_limit)

    async def arefresh(self, request: Fetch) -> None:
        """Like :meth:`refresh`, without blocking the event loop."""
        flight, lead = self._join(request)
        if flight is None:
            return
        if lead:
            task = asyncio.get_running_loop().create_task(self._alead(request, flight))
            self._tasks.add(task)  # keep a reference: the loop holds tasks only weakly
            task.add_done_callback(self._tasks.discard)
        await _wait(flight.done, self._wait_limit)

    async def _alead(self, request: Fetch, flight: _InFlight) -> None:
        outcome: Outcome | None = None
        try:
            outcome = await adrive(request.plan(), self._afetch)
        finally:
            self._settle(request, flight, outcome)

    def fetch(self, url: str) -> Outcome:
        """One GET as the refreshes make it (the testing interceptions first)."""
        return interceptions.answer(url) or fetch(url, self._policy, self._transport)

    async def _afetch(self, url: str) -> Outcome:
        return interceptions.answer(url) or await afetch(url, self._policy, self._async_transport)

    def _join(self, request: Fetch) -> tuple[_InFlight | None, bool]:
        now = self._monotonic()
        with self._lock:
            flight = self._in_flight.get(request.key)
            if flight is not None and now - flight.started < self._wait_limit:
                return flight, False
            if not self._cache.begin(request, now):
                return None, False  # settled since the caller looked: it will look again
            flight = self._in_flight[request.key] = _InFlight(now)
            return flight, True

    def _settle(self, request: Fetch, flight: _InFlight, outcome: Outcome | None) -> None:
        try:
            if outcome is None:
                notes = self._cache.abandon(request, self._monotonic())
            else:
                notes = self._cache.store(request, outcome, self._monotonic())
            for note in notes:
                logger.warning("%s", note)
        finally:
            with self._lock:
                if self._in_flight.get(request.key) is flight:
                    del self._in_flight[request.key]
            flight.done.set_result(None)


async def _wait(done: concurrent.futures.Future[None], timeout: float) -> None:
    """Await a thread-safe future without ever cancelling it.

    (``asyncio.wrap_future`` would cancel the shared future along with the waiter.)
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object) -> None:
        # A closed event loop has nobody waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, waiter)

    done.add_done_callback(wake)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(waiter, timeout)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
