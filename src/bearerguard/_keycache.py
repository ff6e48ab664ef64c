"""The key cache as a state machine: it decides *when* to fetch, never fetches.

One entry per JWKS URL and one per discovered issuer. Entries are immutable and
replaced whole, so readers on any thread see a consistent snapshot without a
lock. The I/O shell asks :meth:`KeyCache.locate` for a key; the answer is a key,
an error, or a fetch request. The shell performs the fetch (one at a time per
entry), then hands the outcome to :meth:`KeyCache.store`, which parses it once
and records the new state. All times are monotonic seconds.

Rules:

- a fetched key set is fresh for its ``Cache-Control: max-age`` (bounded) or the
  default TTL; once stale it is refreshed on next use, and while that refresh is
  in flight or failing, the stale keys keep serving for ``stale_if_error``;
- an unknown ``kid`` triggers at most one refetch per ``unknown_kid_cooldown``,
  counted from the start of the latest fetch an unknown ``kid`` asked for (a
  *probe*). Routine fetches (the first one, a refresh past the TTL) neither start
  nor reset the cooldown: a provider typically publishes its next key between
  them, and the first token signed with it must find it at once, not 401 for a
  cooldown because a routine fetch happened to run just before the rotation;
- a verification waits for at most one fetch of a key set (a probe joins a fetch
  already in flight rather than starting a second), and a probe that fails
  backs off like any other fetch;
- failures are never cached as key sets: they keep the last good set and delay
  the next attempt with an exponential backoff;
- a discovery document must name the configured issuer (any equivalent spelling of its URL);
- an issuer's configured keys (``keys=``, :mod:`._static_keys`) are an entry that is always
  fresh: found as fetched keys are, and a token whose kid they lack is refused (401), never
  fetched for.

The cache of a verifier whose issuers are resolved at run time bounds them
(:mod:`._resolved_cache`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from ._config import CachePolicy, check_url
from ._errors import ConfigurationError, KeySetUnavailableError, UnknownKeyError
from ._issuers import same_issuer
from ._keys import KeySet, KeySetError, VerificationKey, load_json_document

__all__ = [
    "STATIC_KEYS",
    "Document",
    "Fetch",
    "FetchDiscovery",
    "FetchFailure",
    "FetchKeySet",
    "KeyCache",
    "KeySetStamp",
    "discovery_urls",
    "json_body",
]

#: how the key set of an issuer with configured keys is named in place of a URL: no URL
#: starts so (check_url requires http or https), so nothing can be fetched from it
STATIC_KEYS = "keys="
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|=|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Document:
    """A provider's HTTP response: final status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A fetch that produced no response: refused, timed out, too large, redirected away."""

    reason: str


Outcome = Document | FetchFailure


@dataclass(frozen=True, slots=True)
class FetchKeySet:
    """Ask the shell to refresh the key set at ``url``.

    ``unknown_kid`` marks a probe: a fetch asked for because a token named a kid
    the fresh set lacks. Only a probe that starts (see :meth:`KeyCache.begin`)
    starts the unknown-kid cooldown; one that joins a fetch in flight changes nothing.
    """

    url: str
    generation: int
    unknown_kid: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return ("jwks", self.url)

    def plan(self) -> Generator[str, Outcome, Outcome]:
        """The URLs to fetch, in order: just the one."""
        return (yield self.url)


@dataclass(frozen=True, slots=True)
class FetchDiscovery:
    """Ask the shell to (re)discover the JWKS URL of ``issuer``."""

    issuer: str
    generation: int

    @property
    def key(self) -> tuple[str, str]:
        return ("discovery", self.issuer)

    def plan(self) -> Generator[str, Outcome, Outcome]:
        """OpenID Connect discovery first, then RFC 8414 metadata if that is not found."""
        outcome: Outcome = FetchFailure("no discovery URL")
        for url in discovery_urls(self.issuer):
            outcome = yield url
            if not (isinstance(outcome, Document) and outcome.status == 404):
                break
        return outcome


Fetch = FetchKeySet | FetchDiscovery
#: which key set a key came from: (cache entry, the KeySet object then in it)
KeySetStamp = tuple[tuple[str, str], KeySet]


def discovery_urls(issuer: str) -> tuple[str, str]:
    """Where an issuer publishes its metadata (OIDC Discovery §4; RFC 8414 §3.1).

    Example::

        discovery_urls("https://tenant.auth0.com/")
        # ('https://tenant.auth0.com/.well-known/openid-configuration',
        #  'https://tenant.auth0.com/.well-known/oauth-authorization-server')
    """
    base = issuer.rstrip("/")
    scheme, _, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    rfc8414 = f"{scheme}://{host}/.well-known/oauth-authorization-server{slash}{path}"
    return f"{base}/.well-known/openid-configuration", rfc8414


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    value: T | None = None  # last good KeySet (jwks) or JWKS URL (discovery)
    fresh_until: float = -math.inf
    usable_until: float = -math.inf
    # Start of the latest probe (a fetch asked for by an unknown kid): the unknown-kid
    # cooldown runs from here. Routine fetches leave it alone, so the first token of a
    # key published just after one of them is not refused for a whole cooldown.
    probed_at: float = -math.inf
    retry_at: float = -math.inf  # no new attempt before this, after failures
    failures: int = 0
    refreshing: bool = False
    generation: int = 0


_EMPTY: _Entry[Any] = _Entry()


class KeyCache:
    """Key sets and discovered JWKS URLs of a verifier's issuers.

    Example (the shell's view)::

        step = cache.locate(issuer, kid, alg, now, refreshed=set())
        if isinstance(step, VerificationKey): ...      # verify with it
        else: fetch step.plan() and cache.store(step, outcome, now)
    """

    def __init__(
        self,
        policy: CachePolicy,
        jwks_uris: Mapping[str, str],
        static: Mapping[str, KeySet] | None = None,
    ) -> None:
        self.policy = policy
        self._jwks_uris = dict(jwks_uris)
        self._entries: dict[tuple[str, str], _Entry[Any]] = {}
        # Configured keys: fresh for ever, under a name no URL has, so that the lookup of
        # every other issuer pays nothing for them. Their key sets raise on a miss.
        self._static: dict[tuple[str, str], _Entry[KeySet]] = {}
        for issuer, keys in (static or {}).items():
            url = self._jwks_uris[issuer] = STATIC_KEYS + issuer
            entry = _Entry(value=keys, fresh_until=math.inf, usable_until=math.inf)
            self._static["jwks", url] = self._entries["jwks", url] = entry

    # --- questions ------------------------------------------------------------------------

    def locate(
        self,
        issuer: str,
        kid: str | None,
        alg: str,
        now: float,
        refreshed: AbstractSet[tuple[str, str]],
    ) -> VerificationKey | Fetch:
        """Return the key for ``kid``/``alg`` of ``issuer``, or the fetch that must come first.

        ``refreshed`` holds the keys of the fetches this verification already waited
        for, so that one verification never asks for the same fetch twice.
        Raises :class:`UnknownKeyError` (401) or :class:`KeySetUnavailableError` (503).
        """
        url = self._jwks_uris.get(issuer)
        if url is None:
            found = self._discovered(issuer, now, refreshed)
            if not isinstance(found, str):
                return found
            url = found
        entry: _Entry[KeySet] = self._entries.get(("jwks", url), _EMPTY)
        keys = entry.value
        if keys is not None and now < entry.fresh_until:
            # The common case, decided without building the fetch: a fresh set holds the key.
            key = keys.find(kid, alg)
            if key is not None:
                return key
        fetch = FetchKeySet(url, entry.generation)
        tried = fetch.key in refreshed
        if keys is None:
            if tried or (now < entry.retry_at and not entry.refreshing):
                raise self._unavailable(entry, now)
            return fetch
        if now >= entry.fresh_until:
            if not tried and not entry.refreshing and now >= entry.retry_at:
                return fetch
            if now >= entry.usable_until:
                raise self._unavailable(entry, now)
        key = keys.find(kid, alg)
        if key is not None:
            return key
        next_probe = max(entry.probed_at + self.policy.unknown_kid_cooldown, entry.retry_at)
        if not tried and (entry.refreshing or now >= next_probe):
            # A rotation may have published this kid since the last fetch: look once. While a
            # fetch is in flight this joins it (same key and generation: the shell coalesces).
            return FetchKeySet(url, entry.generation, unknown_kid=True)
        if entry.failures:
            # The provider could not be asked: the kid may well be in the set it would serve,
            # and a 401 would make the client throw a good token away. Retry-After names the
            # next chance of a look: the next probe, or the routine refresh if that comes first.
            next_look = max(min(next_probe, entry.fresh_until), entry.retry_at)
            raise self._unavailable(entry, now, next_look)
        raise UnknownKeyError()

    def _discovered(
        self, issuer: str, now: float, refreshed: AbstractSet[tuple[str, str]]
    ) -> str | FetchDiscovery:
        entry: _Entry[str] = self._entries.get(("discovery", issuer), _EMPTY)
        if entry.value is not None and now < entry.fresh_until:
            return entry.value  # the common case, decided without building the fetch
        fetch = FetchDiscovery(issuer, entry.generation)
        tried = fetch.key in refreshed
        if entry.value is None:
            if tried or (now < entry.retry_at and not entry.refreshing):
                raise self._unavailable(entry, now)
            return fetch
        if (
            now >= entry.fresh_until
            and not tried
            and not entry.refreshing
            and now >= entry.retry_at
        ):
            return fetch
        return entry.value  # a stale URL is still the best guess while rediscovery fails

    def prefetch(
        self, issuer: str, now: float, refreshed: AbstractSet[tuple[str, str]]
    ) -> Fetch | None:
        """The fetch still needed before ``issuer`` has fresh keys; ``None`` once it has.

        Raises :class:`KeySetUnavailableError` when a fetch already tried left nothing usable.
        """
        url = self._jwks_uris.get(issuer)
        if url is None:
            disc: _Entry[str] = self._entries.get(("discovery", issuer), _EMPTY)
            rediscover = FetchDiscovery(issuer, disc.generation)
            if (disc.value is None or now >= disc.fresh_until) and rediscover.key not in refreshed:
                return rediscover
            if disc.value is None:
                raise self._unavailable(disc, now)
            url = disc.value
        entry: _Entry[KeySet] = self._entries.get(("jwks", url), _EMPTY)
        refetch = FetchKeySet(url, entry.generation)
        if (entry.value is None or now >= entry.fresh_until) and refetch.key not in refreshed:
            return refetch
        if entry.value is None:
            raise self._unavailable(entry, now)
        return None

    def stamp(self, issuer: str) -> KeySetStamp | None:
        """The key set of ``issuer`` as it stands, to tell later whether it still does.

        Taken *before* a key is located, so that a refresh landing in between can only
        make the stamp look older than the key, never newer.
        """
        url = self._jwks_uris.get(issuer)
        if url is None:
            url = self._entries.get(("discovery", issuer), _EMPTY).value
            if url is None:
                return None
        entry = self._entries.get(("jwks", url))
        if entry is None or entry.value is None:
            return None
        return ("jwks", url), entry.value

    def is_current(self, stamp: KeySetStamp, now: float) -> bool:
        """Whether the stamped key set is still the fresh one: no key left it since.

        A refresh that brings back the same keys keeps the key set (see :meth:`store`),
        so stamps outlive routine refreshes but never a rotation or :meth:`forget`.
        """
        entry = self._entries.get(stamp[0])
        return entry is not None and entry.value is stamp[1] and now < entry.fresh_until

    def _unavailable(
        self, entry: _Entry[Any], now: float, next_look: float | None = None
    ) -> KeySetUnavailableError:
        due = entry.retry_at if next_look is None else next_look
        wait = due - now if due > now else self.policy.failure_backoff
        return KeySetUnavailableError(retry_after=wait)

    def jwks_uri(self, issuer: str) -> str | None:
        """The configured or discovered JWKS URL of ``issuer``, if known yet (``None`` for an
        issuer with configured keys: it has none)."""
        url = self._jwks_uris.get(issuer)
        if url is not None:
            return None if url.startswith(STATIC_KEYS) else url
        entry: _Entry[str] = self._entries.get(("discovery", issuer), _EMPTY)
        return entry.value

    def key_set(self, url: str) -> KeySet | None:
        """The last good key set fetched from ``url``."""
        entry: _Entry[KeySet] = self._entries.get(("jwks", url), _EMPTY)
        return entry.value

    # --- transitions (called by the shell, at most one fetch per entry at a time) ----------

    def begin(self, fetch: Fetch, now: float) -> bool:
        """Mark ``fetch`` as started; ``False`` if another fetch finished since it was asked.

        A probe (``FetchKeySet.unknown_kid``) starts the unknown-kid cooldown here, whatever
        its outcome: a flood of random kids costs one fetch per cooldown even while the
        provider fails. A routine fetch leaves the cooldown as it was.
        """
        entry = self._entries.get(fetch.key, _EMPTY)
        if entry.generation != fetch.generation:
            return False
        probe = isinstance(fetch, FetchKeySet) and fetch.unknown_kid
        probed_at = now if probe else entry.probed_at
        self._entries[fetch.key] = replace(entry, refreshing=True, probed_at=probed_at)
        return True

    def store(self, fetch: Fetch, outcome: Outcome, now: float) -> tuple[str, ...]:
        """Record the outcome of ``fetch``: parse it once, keep the last good value on failure.

        Returns warnings for the shell to log (a failed refresh, skipped keys).

        An outcome for a generation that is already settled (a fetch that was
        taken over after hanging) is dropped: an older fetch never overwrites a newer one.
        """
        entry = self._entries.get(fetch.key, _EMPTY)
        if entry.generation != fetch.generation:
            return ()
        skipped: tuple[str, ...] = ()
        try:
            if isinstance(outcome, FetchFailure):
                raise KeySetError(outcome.reason)
            body = json_body(outcome)
            if isinstance(fetch, FetchKeySet):
                value: Any = KeySet.from_document(body, source=fetch.url)
                skipped = value.skipped
                if entry.value is not None and entry.value.fingerprint == value.fingerprint:
                    value = entry.value  # the same keys: stamps of the old set stay current
                ttl = self._ttl(outcome.headers.get("cache-control", ""))
                stale = self.policy.stale_if_error
            else:
                value = _jwks_uri_from_discovery(body, fetch.issuer)
                ttl, stale = self.policy.discovery_ttl, math.inf
        except KeySetError as why:
            failures = entry.failures + 1
            backoff = min(
                self.policy.failure_backoff * 2 ** min(failures - 1, 16),
                self.policy.max_failure_backoff,
            )
            kept = "keeping the last good copy" if entry.value is not None else "nothing cached"
            self._entries[fetch.key] = replace(
                entry,
                refreshing=False,
                failures=failures,
                retry_at=now + backoff,
                generation=entry.generation + 1,
            )
            return (
                f"Could not refresh {fetch.key[0]} for {fetch.key[1]}: {why} "
                f"({kept}; next attempt in {backoff:.0f} s)",
            )
        self._entries[fetch.key] = _Entry(
            value=value,
            fresh_until=now + ttl,
            usable_until=now + ttl + stale,
            probed_at=entry.probed_at,  # a refresh landing mid-cooldown does not end it
            generation=entry.generation + 1,
        )
        return skipped

    def forget(self) -> None:
        """Drop every key set and discovered URL, as if nothing had ever been fetched.

        Generations move on, so a fetch still in flight can no longer store its
        outcome; the next verification fetches afresh. The unknown-kid cooldown goes
        too. Configured keys (``keys=``) stay: they were never fetched. (Testing support
        calls this when a fake issuer starts or stops answering for an issuer.)
        """
        static = self._static
        self._entries = {
            key: static.get(key) or _Entry(generation=entry.generation + 1)
            for key, entry in self._entries.items()
        }

    def abandon(self, fetch: Fetch, now: float) -> tuple[str, ...]:
        """A started fetch ended without an outcome (e.g. cancelled): count it as a failure."""
        return self.store(fetch, FetchFailure("the fetch was abandoned"), now)

    def _ttl(self, cache_control: str) -> float:
        policy = self.policy
        if _NO_CACHE.search(cache_control):
            return policy.min_ttl
        match = _MAX_AGE.search(cache_control)
        if match is None:
            return policy.ttl
        return min(max(float(match.group(1)), policy.min_ttl), policy.max_ttl)


def json_body(document: Document) -> dict[str, Any]:
    """The JSON object a provider answered with; :class:`KeySetError` for anything else
    (a status other than 200, another content type, a body that is not strict JSON)."""
    if document.status != 200:
        raise KeySetError(f"the provider answered HTTP {document.status}")
    content_type = document.headers.get("content-type", "application/json").lower()
    if "json" not in content_type:
        raise KeySetError(f"the provider answered {content_type!r}, not JSON")
    return load_json_document(document.body)


def _jwks_uri_from_discovery(metadata: Mapping[str, Any], issuer: str) -> str:
    # OIDC Discovery §4.3 / RFC 8414 §3.3: the document must name our issuer (the same URL),
    # or anyone able to serve that URL could swap in their own keys.
    # Equal as issuer URLs (RFC 3986 §6.2.2-6.2.3, see _issuers): the same server either way.
    named = metadata.get("issuer")
    if not isinstance(named, str) or not same_issuer(named, issuer):
        shown = repr(named[:200]) if isinstance(named, str) else "no issuer"
        raise KeySetError(
            f"the discovery document names {shown}, not the configured issuer {issuer!r} "
            "(check the issuer setting, including its trailing slash)"
        )
    jwks_uri = metadata.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise KeySetError("the discovery document has no jwks_uri")
    try:
        check_url(jwks_uri, what="jwks_uri")
    except ConfigurationError as why:
        raise KeySetError(str(why)) from None
    return jwks_uri
