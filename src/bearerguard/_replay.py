"""The replay store of DPoP proofs: each proof's ``jti`` is accepted once (RFC 9449 §11.1).

A DPoP proof is a signed JWT that a client makes for one request; whoever
captures it (a log, a proxy, a browser extension) could send it again within the
few seconds or minutes the verifier accepts it. The verifier therefore records
each proof's ``jti`` (as an opaque key it builds from it) until the instant the
proof would be refused anyway, and refuses any key it has recorded.

:class:`ReplayStore` is the interface a store implements;
:class:`MemoryReplayStore` is the in-process one (one process, one host). A store
that cannot answer raises :class:`ReplayStoreUnavailable`, which the verifier
turns into a 503: a replay check that cannot be made refuses the request.

A shell module: the memory store owns a ``threading.Lock``.
"""

from __future__ import annotations

import heapq
import math
import threading
from typing import Protocol, runtime_checkable

from ._coerce import given
from ._errors import ConfigurationError

__all__ = ["MemoryReplayStore", "ReplayStore", "ReplayStoreUnavailable"]

_SETTING = "replay_store"
_INF = math.inf
_heappush = heapq.heappush
_heappop = heapq.heappop


class ReplayStoreUnavailable(Exception):
    """The replay store cannot answer (down, timed out, full): refuse the request with a 503.

    ``retry_after`` is the number of seconds after which asking again may work; the
    message says what failed, for the logs (it never reaches the client).

    Example::

        raise ReplayStoreUnavailable("redis at cache:6379 timed out after 0.2 s", retry_after=2)
    """

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        # The verifier turns this into a Retry-After header: a negative, infinite or nan
        # delay from a store's arithmetic must not break the refusal it is part of.
        self.retry_after = float(retry_after) if 0 <= retry_after < _INF else 1.0


@runtime_checkable
class ReplayStore(Protocol):
    """Records keys once: the first ``remember`` of a key answers True, any other False.

    ``key`` is an opaque string the verifier builds from the proof's ``jti`` (a
    hash); a store must not assume anything of its form.
    ``expires_at`` is the wall-clock instant (seconds since the epoch) after which
    the verifier refuses the proof anyway, derived from the proof itself (its
    ``iat`` plus the accepted age and leeway), so that every presentation of a
    proof carries the same ``expires_at`` and the store need not remember the key
    past it. ``now`` is the verifier's clock.

    The contract, for any implementation:

    - **Atomic.** Checking and recording are one step: of any number of threads,
      tasks or hosts remembering the same key at once, at most one gets True.
    - **True means recorded.** True only if the key was not recorded and now is,
      until ``expires_at`` at least.
    - **False when in doubt.** False if the key is recorded, and also whenever the
      store cannot vouch that it would have remembered the key: a window that has
      already closed (``expires_at <= now``), one that never closes (infinite or
      nan), or a key older than what a full store still remembers.
    - **Raise when unable to answer.** A store that cannot reach its backend, or
      times out, raises :class:`ReplayStoreUnavailable` (never returns True on
      doubt). It bounds its own waits: the verifier adds no timeout of its own.
    - ``aremember`` answers the same question for asyncio callers without
      blocking the event loop.

    A Redis store fits in a few lines: ``SET key "" NX PX ttl`` is atomic and
    answers whether it created the key. Use the delay ``expires_at - now``
    rather than an absolute time, so that the Redis host's clock does not matter,
    and run Redis with ``maxmemory-policy noeviction``: an evicting Redis would
    silently forget live keys (and accept their replays), while a full
    ``noeviction`` Redis refuses the write, which the store raises as
    :class:`ReplayStoreUnavailable`. (A failover to a replica that had not yet
    received the latest keys forgets those too: replication is asynchronous.)::

        def remember(self, key: str, expires_at: float, now: float) -> bool:
            if not now < expires_at < math.inf:
                return False
            ttl_ms = math.ceil((expires_at - now) * 1000)
            try:
                created = self.redis.set(self.prefix + key, b"", nx=True, px=ttl_ms)
            except redis.RedisError as exc:
                raise ReplayStoreUnavailable(f"redis: {exc}", retry_after=1) from exc
            return created is True
    """

    def remember(self, key: str, expires_at: float, now: float) -> bool:
        """True if ``key`` was new and is now recorded until ``expires_at``; else False."""
        ...

    async def aremember(self, key: str, expires_at: float, now: float) -> bool:
        """:meth:`remember` for asyncio callers."""
        ...


class MemoryReplayStore:
    """The keys of one process, at most ``max_entries`` of them, each until it expires.

    A full store never forgets a key that could still be replayed. To make room it
    evicts the keys that expire first and raises its *horizon* to their expiry:
    from then on it refuses every key whose ``expires_at`` is at or before the
    horizon, since it can no longer tell those apart from keys it forgot. Under a
    flood of proofs the accepted window shrinks (fresh proofs, whose windows end
    last, still pass), and it never reopens: the horizon never goes down. A new key
    that would itself be among the first to go is refused without evicting
    anything. Expired keys make room without touching the horizon.

    Keys are kept, and evicted, by the second they expire in: each is remembered
    until its ``expires_at`` rounded up to a whole second (a fraction of a second
    longer, never shorter), so the horizon is a whole second too. The clock is taken
    as never going back: a key whose ``expires_at`` is at or before the latest
    ``now`` seen is refused, because it may have been purged.

    Memory: about 50 bytes per entry besides the key string, which the store keeps
    (a 43-character key takes about 90), so 100 000 entries (the default bound) take
    about 15 MB. Time: amortised O(1) per call; a replay is answered without taking
    the lock.

    Thread-safe (one ``threading.Lock``, never held across anything that waits); one
    store serves one process: workers on several hosts need a shared store.

    Example::

        store = MemoryReplayStore(max_entries=100_000)
        store.remember("k1", expires_at=now + 300, now=now)   # True: first sighting
        store.remember("k1", expires_at=now + 300, now=now)   # False: a replay
    """

    __slots__ = ("_expiries", "_floor", "_groups", "_horizon", "_keys", "_lock", "max_entries")

    def __init__(self, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError(
                f"{_SETTING}: MemoryReplayStore's max_entries must be a positive integer; "
                f"got {given(max_entries)}. Write e.g. MemoryReplayStore(max_entries=100_000).",
                setting=_SETTING,
            )
        self.max_entries = int(max_entries)
        # Every key recorded, and the same keys grouped by the second they expire in, with
        # those seconds in a heap (the first to go on top). A window of a few minutes makes a
        # few hundred groups however many keys: recording a key is a set insert and a list
        # append, the heap (a push or a pop costs about a microsecond) moves about once a
        # second, and a whole group leaves in one C call.
        self._keys: set[str] = set()
        self._groups: dict[float, list[str]] = {}
        self._expiries: list[float] = []
        self._horizon = -_INF
        # The larger of the horizon and the latest `now` seen: keys expiring at or before it
        # are refused (one that expired before the latest `now` may have been purged: the
        # clock is taken as never going back). Invariants, true at every instant since the
        # floor is raised only after the groups it passes are gone: the groups partition
        # _keys, _expiries holds exactly their expiries, and each expires after the floor.
        self._floor = -_INF
        self._lock = threading.Lock()

    @property
    def horizon(self) -> float:
        """Keys expiring at or before this instant are refused.

        ``-inf`` until a full store evicts a key that had not expired.
        """
        return self._horizon

    def remember(self, key: str, expires_at: float, now: float) -> bool:
        """True if ``key`` was new and is now recorded until ``expires_at``; else False.

        Amortised O(1): each second's group enters and leaves the heap once, in
        O(log s) for s seconds of window, and leaves the set in one call.
        """
        # A window already closed, or one that never closes (inf, nan), is never recorded:
        # there is nothing to vouch for, and a nan would break the heap's order.
        if not now < expires_at < _INF:
            return False
        keys = self._keys
        # A replay needs no lock while the clock has not passed the floor: every key in the
        # set expires after the floor (see __init__), so one found there is still live, and
        # a membership test is atomic.
        if now <= self._floor and key in keys:
            return False
        lock = self._lock
        # acquire/release rather than `with`: the context-manager calls cost a fifth of
        # the whole call.
        lock.acquire()
        try:
            if now > self._floor:
                expiries = self._expiries
                if expiries and expiries[0] <= now:
                    self._purge(now)
                self._floor = now  # raised only once nothing at or before it is left
            if expires_at <= self._floor or key in keys:
                return False
            # Kept until the next whole second (ceil): a fraction longer, never shorter, and
            # a client choosing fractional `iat`s cannot make a group (a heap entry) per key.
            due = -(-expires_at // 1.0)
            if len(keys) >= self.max_entries and not self._make_room(due):
                return False
            keys.add(key)
            group = self._groups.get(due)
            if group is None:
                self._groups[due] = [key]
                _heappush(self._expiries, due)
            else:
                group.append(key)
            return True
        finally:
            lock.release()

    async def aremember(self, key: str, expires_at: float, now: float) -> bool:
        """:meth:`remember` for asyncio callers: nothing inside waits, so nothing is awaited."""
        return self.remember(key, expires_at, now)

    def _purge(self, now: float) -> None:
        """Forget every group that has expired by ``now``."""
        expiries = self._expiries
        while expiries and expiries[0] <= now:
            self._keys.difference_update(self._groups.pop(_heappop(expiries)))

    def _make_room(self, due: float) -> bool:
        """Evict the keys that expire first, unless the new key would expire no later."""
        first = self._expiries[0]  # a full store holds at least one group
        if due <= first:
            return False  # it would be among the first to go: refusing it forgets nothing
        _heappop(self._expiries)
        self._keys.difference_update(self._groups.pop(first))
        self._horizon = max(self._horizon, first)
        self._floor = max(self._floor, first)  # raised once the group is gone, as in remember
        return True

    def __len__(self) -> int:
        """The keys held, expired ones included until a later call purges them."""
        return len(self._keys)

    def __repr__(self) -> str:
        return (
            f"MemoryReplayStore(max_entries={self.max_entries}, entries={len(self)}, "
            f"horizon={self._horizon!r})"
        )
