"""The verified-token cache: a repeat of a token that passed skips parsing and the signature.

Clients send the same access token with every request until it expires, so most
verifications repeat one that already passed. This cache remembers the tokens
that passed, keyed by their exact text (a token differing in a single character
is another key and is verified in full), and is bounded: the least recently used
entries make room for new ones.
It decides nothing: each hit is re-checked by the flow (``_flow.py``):

- the token's ``exp``, ``nbf``, ``iat`` and ``max_age`` against the clock, with
  the same function a full verification uses;
- that the key set its key came from is still the fresh one (a
  :data:`~bearerguard._keycache.KeySetStamp`): a rotation, a refresh that drops a
  key, or :meth:`~bearerguard.Verifier.forget_keys` turns every entry of that
  issuer into a miss, and a stale key set sends the hit down the full path, which
  refreshes it.

Entries that fail a re-check are dropped; expired ones are also swept out at most
a minute after their ``exp`` (plus leeway) by the next insertion, so an entry
never outlives its token by long even when nobody asks for it again.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from ._claims import Lifetime
from ._keycache import KeySetStamp
from ._token import AccessToken

__all__ = ["CachedToken", "TokenCache"]

_SWEEP_INTERVAL = 60.0  # seconds of wall-clock time between sweeps of expired entries


class CachedToken(NamedTuple):
    """A token that passed every check, with what its re-checks need."""

    token: AccessToken
    lifetime: Lifetime
    #: the key set that vouched for the signature; ``None`` for a shared secret
    stamp: KeySetStamp | None
    #: wall-clock time from which no check can pass any more (exp plus leeway)
    dead_at: float
    #: when it was (re)inserted, counted in insertions: its place in the eviction order
    serial: int


# The hot path builds one per new token: tuple.__new__ skips the Python-level __new__.
_cached_token: Callable[[tuple[Any, ...]], CachedToken] = functools.partial(
    tuple.__new__, CachedToken
)


class TokenCache:
    """At most ``maxsize`` verified tokens; the least recently used go first.

    Reads take no lock: a miss must cost next to nothing, because every new token
    is one. The ordered dict keeps insertion order, so its first key is the next
    to evict; a hit on an entry that has drifted into the older half of that order
    moves it to the end, so a token in use is never evicted by a stream of new
    ones (least recently used, give or take half the cache) and most hits write
    nothing. Writes hold
    ``lock``: the verifier, which owns the threads, passes a ``threading.Lock``
    (the core itself stays free of threads and I/O). Nothing inside the lock
    waits, so async callers hold it as briefly as threads do.

    Example::

        cache = TokenCache(1024, lock=threading.Lock())
        cache.put(raw, token, lifetime, stamp, dead_at=dead_at, now=now)
        cache.get(raw)     # the CachedToken, to be re-checked by the caller
    """

    def __init__(self, maxsize: int, *, lock: AbstractContextManager[Any]) -> None:
        if maxsize < 1:
            raise ValueError("a token cache holds at least one token")
        self.maxsize = maxsize
        self._entries: OrderedDict[str, CachedToken] = OrderedDict()
        self._lock = lock
        self._serial = 0
        self._renew_after = maxsize // 2
        self._next_sweep = -math.inf
        self._seen: set[int] = set()
        self._seen_max = 4 * maxsize

    def admit(self, raw: str) -> bool:
        """Whether to keep ``raw`` once it passes: only if it was seen recently already.

        Most tokens come back (a client reuses its token until it expires), but some
        never do; this doorkeeper (as in TinyLFU) spares those one-off tokens the
        cost of an entry and keeps them from evicting the tokens in use. It holds
        only hashes (a collision merely admits a token early) and starts afresh
        once it holds four times the cache's size. Without a lock: a race can
        only admit a token one sighting early or late.
        """
        seen = self._seen
        fingerprint = hash(raw)  # already computed by the lookup before: str caches it
        if fingerprint in seen:
            return True
        if len(seen) >= self._seen_max:
            seen.clear()
        seen.add(fingerprint)
        return False

    def get(self, raw: str) -> CachedToken | None:
        """The entry for exactly ``raw``, if any."""
        entry = self._entries.get(raw)  # a single dict operation: atomic, no lock needed
        if entry is not None and self._serial - entry.serial > self._renew_after:
            with self._lock:
                if self._entries.get(raw) is entry:  # not dropped or replaced meanwhile
                    self._serial += 1
                    self._entries[raw] = entry._replace(serial=self._serial)
                    self._entries.move_to_end(raw)
        return entry

    def put(
        self,
        raw: str,
        token: AccessToken,
        lifetime: Lifetime,
        stamp: KeySetStamp | None,
        *,
        dead_at: float,
        now: float,
    ) -> None:
        """Remember ``token`` for ``raw``; evict the least recently used entry if full."""
        with self._lock:
            entries = self._entries
            self._serial += 1
            entries[raw] = _cached_token((token, lifetime, stamp, dead_at, self._serial))
            entries.move_to_end(raw)  # a key that was already there moves to the end too
            if len(entries) > self.maxsize:
                entries.popitem(last=False)
            if now >= self._next_sweep:
                self._next_sweep = now + _SWEEP_INTERVAL
                for key in [key for key, cached in entries.items() if cached.dead_at <= now]:
                    del entries[key]

    def discard(self, raw: str) -> None:
        """Forget ``raw`` (a hit that failed its re-check)."""
        with self._lock:
            self._entries.pop(raw, None)

    def clear(self) -> None:
        """Forget every entry, and every token seen once."""
        with self._lock:
            self._entries.clear()
            self._seen.clear()

    def __len__(self) -> int:
        return len(self._entries)
