"""The key cache of a verifier whose issuers are resolved at run time (``issuer=`` a function).

Such a verifier trusts issuers it learns of from tokens, so what it keeps for them
must be bounded, and so must what an attacker can make it fetch: anyone can send
tokens naming thousands of made-up issuers that the function accepts.

- **A budget of new issuers.** An issuer is *new* the first time its keys are wanted
  (or again once forgotten); taking one in costs one unit of a token bucket holding
  ``CachePolicy.new_issuers_per_minute`` units (default 60, at most 6,000), refilled
  at that rate. With the bucket empty, a token of a new issuer is answered 503 with a
  ``Retry-After`` of the time until the next unit, as for an identity provider that
  cannot be reached: the client keeps its token and tries again. Known issuers never
  pay: they keep working whatever the flood.
- **A bound on the issuers kept.** At most ``CachePolicy.max_issuers`` issuers resolved at
  run time (default 1,000, at most 100,000) have cache entries (a discovery document and
  a key set each); taking in one more forgets the least recently used. Every use counts:
  a key lookup, and a remembered token's check of its key set, so an issuer in use is
  never the one forgotten. Since only a new issuer can push one out, a flood forgets at
  most ``new_issuers_per_minute`` issuers a minute, the least recently used first.
- **Failures forget.** An issuer whose first discovery or first key-set fetch fails is
  forgotten at once (no entry kept, no retries scheduled): a made-up issuer costs one
  unit of the budget each time it is tried, never a fetch a minute for as long as it
  is sent. An issuer that had keys keeps them through an outage (stale-if-error).

The issuers named in the configuration (``keys=``, ``jwks_uri=``,
``authorization_servers=``) are neither counted nor forgotten. The fetches in flight of
a forgotten issuer are let finish and their outcome dropped, never stored.

The bookkeeping (admission, eviction, the maps of who uses which key set) takes the lock
the verifier passes in; the lookups of known issuers take none.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager

from ._config import CachePolicy
from ._errors import KeySetUnavailableError
from ._keycache import (
    Fetch,
    FetchDiscovery,
    FetchKeySet,
    KeyCache,
    KeySetStamp,
    Outcome,
)
from ._keys import KeySet, VerificationKey

__all__ = ["ResolvedKeyCache"]

_BUDGET_HINT = (
    "New issuers arrive faster than CachePolicy(new_issuers_per_minute={rate}) lets this "
    "verifier take them in: their tokens are answered 503 until the budget refills. If "
    "they are real (many tenants at once, after a deployment), raise it; else a client is "
    "sending tokens of made-up issuers that the issuer= function accepts."
)


class ResolvedKeyCache(KeyCache):
    """A :class:`KeyCache` whose issuers beyond the ``configured`` ones are taken in on use,
    within a budget, and forgotten least recently used first beyond a bound.

    Example::

        cache = ResolvedKeyCache(policy, {}, {}, configured=(), lock=threading.Lock())
        cache.locate("https://t1.example.com/", "k1", "RS256", now, set())  # a new issuer:
        # FetchDiscovery(...), or 503 when new_issuers_per_minute are spent
    """

    def __init__(
        self,
        policy: CachePolicy,
        jwks_uris: Mapping[str, str],
        static: Mapping[str, KeySet] | None = None,
        *,
        configured: tuple[str, ...],
        lock: AbstractContextManager[object],
    ) -> None:
        super().__init__(policy, jwks_uris, static)
        self._configured = frozenset(configured)
        self._lock = lock
        #: the issuers resolved at run time that have entries, least recently used first
        self._known: OrderedDict[str, None] = OrderedDict()
        #: run-time issuer -> the JWKS URL its discovery named; URL -> the issuers using it,
        #: and the one whose use a remembered token's check of that key set counts as
        self._url_of: dict[str, str] = {}
        self._users: dict[str, set[str]] = {}
        self._owner: dict[str, str] = {}
        self._rate = policy.new_issuers_per_minute / 60.0  # units per second
        self._allowance = float(policy.new_issuers_per_minute)
        self._refilled_at = -math.inf

    # --- questions: a use of an issuer keeps it, a new one is taken in first ----------------

    def locate(
        self,
        issuer: str,
        kid: str | None,
        alg: str,
        now: float,
        refreshed: AbstractSet[tuple[str, str]],
    ) -> VerificationKey | Fetch:
        if issuer not in self._configured:
            self._use(issuer, now, refreshed)
        return super().locate(issuer, kid, alg, now, refreshed)

    def is_current(self, stamp: KeySetStamp, now: float) -> bool:
        # The base class's check, inline: it runs on every hit of the verified-token cache.
        entry = self._entries.get(stamp[0])
        if entry is None or entry.value is not stamp[1] or now >= entry.fresh_until:
            return False
        issuer = self._owner.get(stamp[0][1])
        if issuer is not None:  # a remembered token of a run-time issuer: a use, as a lookup is
            try:
                self._known.move_to_end(issuer)
            except KeyError:  # forgotten meanwhile on another thread
                return True
        return True

    def known_issuers(self) -> tuple[str, ...]:
        """The issuers resolved at run time that have entries now, least recently used first."""
        return tuple(self._known)

    def _use(self, issuer: str, now: float, refreshed: AbstractSet[tuple[str, str]]) -> None:
        """Keep ``issuer`` (most recently used), taking it in first if it is new."""
        try:
            self._known.move_to_end(issuer)  # the usual case: a known issuer, one operation
            return
        except KeyError:
            pass
        if refreshed:
            # This verification already waited for a fetch of the issuer's (its refreshed
            # fetches are all of this one issuer), which forgot it: the first fetch failed,
            # or the bound pushed it out meanwhile. That is the answer; no second unit spent.
            raise KeySetUnavailableError(
                retry_after=self.policy.failure_backoff,
                reason="The token's issuer was forgotten while its keys were fetched (the first "
                "fetch failed, or newer issuers pushed it out); its next token tries again.",
            )
        with self._lock:
            if issuer in self._known:
                return
            self._spend(now)
            while len(self._known) >= self.policy.max_issuers:
                victim, _ = self._known.popitem(last=False)  # the least recently used
                self._forget_issuer(victim)
            self._known[issuer] = None

    def _spend(self, now: float) -> None:
        """Take one unit of the new-issuer budget, or refuse (503) until one is back."""
        capacity = float(self.policy.new_issuers_per_minute)
        elapsed = max(0.0, now - self._refilled_at)
        allowance = min(capacity, self._allowance + elapsed * self._rate)
        self._refilled_at = max(now, self._refilled_at)
        if allowance < 1.0:
            self._allowance = allowance
            error = KeySetUnavailableError(
                retry_after=(1.0 - allowance) / self._rate,
                reason="The token's issuer is new, and this verifier has taken in as many new "
                "issuers as CachePolicy.new_issuers_per_minute allows for now.",
            )
            error.hint = _BUDGET_HINT.format(rate=self.policy.new_issuers_per_minute)
            raise error
        self._allowance = allowance - 1.0

    # --- transitions: only the fetches of issuers still known are begun and stored ----------

    def begin(self, fetch: Fetch, now: float) -> bool:
        with self._lock:
            if not self._wanted(fetch):
                return False  # its issuer was forgotten: the caller looks again
            return super().begin(fetch, now)

    def store(self, fetch: Fetch, outcome: Outcome, now: float) -> tuple[str, ...]:
        with self._lock:
            if not self._wanted(fetch):
                # Begun before its issuer was forgotten: the outcome and the entry go.
                self._entries.pop(fetch.key, None)
                return ()
            notes = super().store(fetch, outcome, now)
            if isinstance(fetch, FetchDiscovery):
                self._note_discovery(fetch.issuer)
            else:
                self._note_key_set(fetch)
            return notes

    def forget(self) -> None:
        with self._lock:
            for issuer in tuple(self._known):
                self._forget_issuer(issuer)
            super().forget()

    def _wanted(self, fetch: Fetch) -> bool:
        if isinstance(fetch, FetchDiscovery):
            return fetch.issuer in self._configured or fetch.issuer in self._known
        url = fetch.url
        return url in self._users or url in self._configured_urls()

    def _configured_urls(self) -> set[str]:
        return {url for issuer in self._configured if (url := self.jwks_uri(issuer))}

    def _note_discovery(self, issuer: str) -> None:
        """After a discovery of a run-time issuer: note its JWKS URL, or forget an issuer
        that never had one (its first discovery failed)."""
        if issuer in self._configured:
            return
        url = self._entries.get(("discovery", issuer))
        found = None if url is None else url.value
        if found is None:
            self._forget_issuer(issuer)
            return
        old = self._url_of.get(issuer)
        if old != found:
            if old is not None:
                self._leave(issuer, old)
            self._url_of[issuer] = found
            self._users.setdefault(found, set()).add(issuer)
            self._owner.setdefault(found, issuer)

    def _note_key_set(self, fetch: FetchKeySet) -> None:
        """After a key-set fetch: forget the run-time issuers of a URL that never served keys."""
        entry = self._entries.get(fetch.key)
        if entry is not None and entry.value is not None:
            return
        for issuer in tuple(self._users.get(fetch.url, ())):
            self._forget_issuer(issuer)

    def _forget_issuer(self, issuer: str) -> None:
        """Drop a run-time issuer and its entries (its key set too, unless another uses it)."""
        self._known.pop(issuer, None)
        self._entries.pop(("discovery", issuer), None)
        url = self._url_of.pop(issuer, None)
        if url is not None:
            self._leave(issuer, url)

    def _leave(self, issuer: str, url: str) -> None:
        users = self._users.get(url)
        if users is not None:
            users.discard(issuer)
            if users:
                if self._owner.get(url) == issuer:
                    self._owner[url] = next(iter(users))
                return
            del self._users[url]
            self._owner.pop(url, None)
        if url not in self._configured_urls():
            self._entries.pop(("jwks", url), None)
