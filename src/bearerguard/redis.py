"""Redis shared by workers and hosts: the DPoP replay store and the introspection cache.

:class:`RedisIntrospectionCache` (at the end) shares introspection answers (RFC 7662), so that
a fleet asks the provider once per token; the rest of this docstring is the replay store's.


:class:`RedisReplayStore` records each accepted proof's key with one atomic command,
``SET <prefix><key> 1 NX PX <ms>``: of any number of workers, threads or tasks
presenting the same proof at once, exactly one is told the key is new. Install the
client with ``pip install 'bearerguard[redis]'`` (the official ``redis`` package)::

    from bearerguard import Verifier
    from bearerguard.redis import RedisReplayStore

    verifier = Verifier(
        issuer="https://tenant.auth0.com/",
        audience="https://api.example.com",
        replay_store=RedisReplayStore("redis://localhost:6379/0"),
    )

What it guarantees, and what it needs of Redis:

* **Each key once.** ``remember`` answers True only when Redis created the key;
  an existing key, or any answer but "created", is False.
* **No cleanup.** Each key carries its own expiry (the delay until the verifier
  would refuse the proof anyway, at least 1 ms), so Redis drops it by itself.
  Delays rather than instants are sent: the Redis host's clock does not matter.
* **Fail closed, quickly.** Any Redis error (refused or lost connection, a
  timeout, an error reply such as ``OOM`` or ``READONLY``, a wrong password)
  raises :class:`~bearerguard._replay.ReplayStoreUnavailable` (``retry_after``
  1 s), which the verifier answers with a 503 and ``Retry-After``; it never
  answers True when unsure. Every wait on the network (connecting, each reply)
  is bounded by ``timeout`` (default 1 s) and nothing is retried, so with Redis
  stopped, unreachable or hung a call fails within about ``timeout``. (A Redis
  that answers, but each step just under ``timeout``, can take a few of them
  when a new connection is made: the connection's handshake is a reply too.)
  A command that timed out may still be carried out once a hung Redis resumes:
  that proof then counts as used, which refuses nothing a client should send
  (RFC 9449 clients make a fresh proof for every request, retries included).
* **Recovery by itself.** A failed connection is dropped; the next call
  connects again, so once Redis is back nothing needs restarting.
* **Persistence.** A Redis restarted without persistence forgets the keys it
  held: a proof replayed within ``dpop_proof_max_age`` (plus twice the leeway)
  of such a restart can pass once more. Run Redis with ``appendonly yes`` (with
  ``appendfsync everysec`` a crash of the host can still lose the last second),
  or accept that window.
* **Memory.** Never let Redis evict these keys: an evicted key is a forgotten
  proof, whose replay passes. Use ``maxmemory-policy noeviction`` (a full Redis
  then refuses the write, which this store raises as unavailable). ``volatile-*``
  policies evict precisely keys with an expiry, which all of these are: use one
  only on a Redis sized never to reach ``maxmemory``. ``allkeys-*`` policies
  break the guarantee.
* **Replicas.** Point the store at the primary. Replication is asynchronous: a
  failover to a replica that had not yet received the latest keys forgets them,
  with the same window as a restart without persistence.

One store serves any number of threads (redis-py's connection pool is
thread-safe) and event loops: the asyncio client of each loop is made on first
use in that loop and closed when the loop shuts down (the end of
``asyncio.run()``), so a process may run one loop after another.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._coerce import given
from ._errors import ConfigurationError
from ._replay import ReplayStoreUnavailable

try:
    import redis
    import redis.asyncio
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.connection import parse_url as _parse_url
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "bearerguard.redis needs the redis client: pip install 'bearerguard[redis]'"
    ) from exc

__all__ = ["RedisIntrospectionCache", "RedisReplayStore"]

_SETTING = "replay_store"
_EXAMPLE = 'RedisReplayStore("redis://localhost:6379/0")'
_SCHEMES = ("redis", "rediss", "unix")
# URL query options that would replace the bound on every wait: the timeout= argument sets it.
_BOUND_OPTIONS = frozenset(
    {"socket_timeout", "socket_connect_timeout", "retry_on_timeout", "retry_on_error"}
)
_MAX_TIMEOUT = 30.0
_RETRY_AFTER = 1.0
_CAUGHT = (redis.RedisError, OSError, asyncio.TimeoutError)

# The client's own reading of a URL (untyped there): its options as keyword arguments.
_read_url: Callable[[str], dict[str, Any]] = _parse_url
_Loop = asyncio.AbstractEventLoop
_Closer = AsyncGenerator[None, None]


class RedisReplayStore:
    """The replay store of several workers and hosts: Redis remembers each proof's key.

    Give it either a URL or clients of your own:

    * ``url``: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...``
      (TLS) or ``unix:///path/to/redis.sock[?db=0]``. The store makes its clients
      from it on first use (no I/O at construction), with ``timeout`` on every
      connect and read and no retries, and closes them in :meth:`close` /
      :meth:`aclose`.
    * ``client`` (a ``redis.Redis`` or ``RedisCluster``) for :meth:`remember`, that is
      ``verify_request``, and/or ``async_client`` (their ``redis.asyncio`` kind) for
      :meth:`aremember`, ``averify_request``: lent, used as they are (their
      timeouts and retries are yours to bound) and never closed by the store.

    ``prefix`` starts every key the store writes; ``timeout`` (seconds, default 1)
    bounds each wait on a Redis the store connects to itself.

    There is deliberately no default URL: a store that quietly used each host's
    own Redis would share nothing between hosts.

    What it guarantees and what it needs of Redis (persistence, eviction,
    replicas): see the module's docstring.

    Example::

        store = RedisReplayStore("redis://:s3cret@cache.internal:6379/0", timeout=0.5)
        verifier = Verifier(issuer=..., audience=..., replay_store=store)
        store.remember("k1", expires_at=now + 90, now=now)   # True: first sighting
        store.remember("k1", expires_at=now + 90, now=now)   # False: a replay
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | redis.RedisCluster | None = None,
        async_client: redis.asyncio.Redis | redis.asyncio.RedisCluster | None = None,
        prefix: str = "bearerguard:dpop:",
        timeout: float = 1.0,
    ) -> None:
        self.timeout = _timeout_argument(timeout)
        self.prefix = _prefix_argument(prefix)
        _clients_argument(url, client, async_client)
        self._url = None if url is None else _url_argument(url)
        self._where, self._password = ("", None) if url is None else _describe(url)
        self._given = client
        self._given_async = async_client
        self._client: redis.Redis | None = None
        # The asyncio clients this store made, one per event loop, each with the
        # generator that closes it when its loop shuts down.
        self._aclients: dict[_Loop, tuple[redis.asyncio.Redis, _Closer]] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, expires_at: float, now: float) -> bool:
        """True if ``key`` was new and is now recorded until ``expires_at``; else False.

        Raises :class:`ReplayStoreUnavailable` when Redis cannot answer.
        """
        # A window already closed, or one that never closes (inf, nan): nothing to vouch for.
        if not now < expires_at < math.inf:
            return False
        try:
            created = self._sync_client().set(
                self.prefix + key, b"1", nx=True, px=_milliseconds(expires_at - now)
            )
        except _CAUGHT as exc:
            raise self._unavailable(exc) from exc
        return created is True

    async def aremember(self, key: str, expires_at: float, now: float) -> bool:
        """:meth:`remember` for asyncio callers, with the running loop's client."""
        if not now < expires_at < math.inf:
            return False
        try:
            client = await self._async_client()
            created = await client.set(
                self.prefix + key, b"1", nx=True, px=_milliseconds(expires_at - now)
            )
        except _CAUGHT as exc:
            raise self._unavailable(exc) from exc
        return created is True

    def close(self) -> None:
        """Close the connections of the sync client the store made (a later call reconnects).

        Asyncio clients are closed with their loop, or by :meth:`aclose`.
        """
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's client and the sync client, those the store made."""
        with self._lock:
            entry = self._aclients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[1].aclose()  # its finally closes the client
        self.close()

    def _sync_client(self) -> redis.Redis | redis.RedisCluster:
        if self._given is not None:
            return self._given
        client = self._client
        if client is None:
            if self._url is None:
                raise TypeError(
                    "This RedisReplayStore was given only an async_client, for "
                    "averify_request(); pass client=redis.Redis(...) too, or a URL."
                )
            with self._lock:
                if self._client is None:
                    self._client = redis.Redis.from_url(
                        self._url,
                        socket_timeout=self.timeout,
                        socket_connect_timeout=self.timeout,
                        retry=Retry(NoBackoff(), 0),
                    )
                client = self._client
        return client

    async def _async_client(self) -> redis.asyncio.Redis | redis.asyncio.RedisCluster:
        if self._given_async is not None:
            return self._given_async
        if self._url is None:
            raise TypeError(
                "This RedisReplayStore was given only a client, for verify_request(); "
                "pass async_client=redis.asyncio.Redis(...) too, or a URL."
            )
        loop = asyncio.get_running_loop()
        entry = self._aclients.get(loop)
        if entry is not None:
            return entry[0]
        client = redis.asyncio.Redis.from_url(
            self._url,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=AsyncRetry(NoBackoff(), 0),
        )
        closer = _close_with_loop(self._aclients, self._lock, loop, client)
        with self._lock:
            # Loops closed without shutting down (no asyncio.run()) never ran their
            # closer: their clients are dropped here, their sockets left to the collector.
            for stale in [other for other in self._aclients if other.is_closed()]:
                del self._aclients[stale]
            self._aclients[loop] = (client, closer)
        # Started once, the generator waits at its yield; the loop's shutdown
        # (loop.shutdown_asyncgens(), which asyncio.run() calls) closes it.
        await closer.__anext__()
        return client

    def _unavailable(self, exc: BaseException) -> ReplayStoreUnavailable:
        what = str(exc) or "no message"
        if self._password:
            what = what.replace(self._password, "***")
        where = f"redis at {self._where}" if self._where else "the redis client given"
        return ReplayStoreUnavailable(
            f"{where} did not answer ({type(exc).__name__}: {what})", retry_after=_RETRY_AFTER
        )

    def __repr__(self) -> str:
        if self._url is not None:
            source = repr(self._where)
        else:
            lent = {"client": self._given, "async_client": self._given_async}
            source = ", ".join(
                f"{name}={type(value).__name__}"
                for name, value in lent.items()
                if value is not None
            )
        return f"RedisReplayStore({source}, prefix={self.prefix!r}, timeout={self.timeout!r})"


async def _close_with_loop(
    clients: dict[_Loop, tuple[redis.asyncio.Redis, _Closer]],
    lock: threading.Lock,
    loop: _Loop,
    client: redis.asyncio.Redis,
) -> _Closer:
    """Wait at the yield until the loop shuts down (or :meth:`aclose`); then close ``client``."""
    try:
        yield
    finally:
        with lock:
            if loop in clients and clients[loop][0] is client:
                del clients[loop]
        await client.aclose()


def _milliseconds(delay: float) -> int:
    """The key's lifetime: rounded up (a fraction longer, never shorter), at least 1 ms."""
    return max(1, math.ceil(delay * 1000))


# --- the arguments -----------------------------------------------------------------------------


def _refuse(problem: str) -> ConfigurationError:
    return ConfigurationError(f"{_SETTING}: {problem}", setting=_SETTING)


def _timeout_argument(timeout: object) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout <= _MAX_TIMEOUT
    ):
        raise _refuse(
            f"RedisReplayStore's timeout must be a number of seconds above 0 and at most "
            f"{_MAX_TIMEOUT:g}; got {given(timeout)}. Write e.g. "
            'RedisReplayStore("redis://localhost:6379/0", timeout=1.0).'
        )
    return float(timeout)


def _prefix_argument(prefix: object) -> str:
    if not isinstance(prefix, str) or not prefix:
        raise _refuse(
            f"RedisReplayStore's prefix must be a non-empty string that keeps its keys apart "
            f"from others; got {given(prefix)}. Write e.g. "
            'RedisReplayStore("redis://localhost:6379/0", prefix="myapi:dpop:").'
        )
    return prefix


def _clients_argument(url: object, client: object, async_client: object) -> None:
    if client is not None and not isinstance(client, (redis.Redis, redis.RedisCluster)):
        hint = " (an asyncio client goes in async_client=)" if _is_async(client) else ""
        raise _refuse(
            f"RedisReplayStore's client must be a redis.Redis; got a "
            f"{type(client).__name__}{hint}. Write e.g. "
            'RedisReplayStore(client=redis.Redis.from_url("redis://localhost:6379/0")).'
        )
    if async_client is not None and not _is_async(async_client):
        raise _refuse(
            f"RedisReplayStore's async_client must be a redis.asyncio.Redis; got a "
            f"{type(async_client).__name__}. Write e.g. RedisReplayStore(async_client="
            'redis.asyncio.Redis.from_url("redis://localhost:6379/0")).'
        )
    given_clients = client is not None or async_client is not None
    if url is None and not given_clients:
        raise _refuse(
            f"RedisReplayStore needs the URL of the Redis every worker shares (there is no "
            f"default: each host's own Redis would share nothing). Write e.g. {_EXAMPLE}."
        )
    if url is not None and given_clients:
        raise _refuse(
            "RedisReplayStore takes a URL or clients, not both: the clients would be used "
            f"and the URL ignored. Write e.g. {_EXAMPLE}, or RedisReplayStore(client=...)."
        )


def _is_async(client: object) -> bool:
    return isinstance(client, (redis.asyncio.Redis, redis.asyncio.RedisCluster))


def _url_argument(url: object) -> str:
    if not isinstance(url, str):
        raise _refuse(
            f"RedisReplayStore's url must be a string; got {given(url, secret=True)}. "
            f"Write e.g. {_EXAMPLE}."
        )
    # The URL may hold a password: messages name its scheme, never repeat it.
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        ok = scheme in _SCHEMES and url[len(scheme) : len(scheme) + 3] == "://"
        if ok:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
        scheme = ""
    if not ok:
        shown = f"a {scheme}:// URL" if scheme else "a string that is no redis URL"
        raise _refuse(
            f"RedisReplayStore's url must be a redis://, rediss:// (TLS) or unix:// URL; got "
            f"{shown}. Write e.g. {_EXAMPLE}."
        )
    overriding = sorted(_BOUND_OPTIONS & parse_qs(parts.query).keys())
    if overriding:
        raise _refuse(
            f"RedisReplayStore's url sets {', '.join(overriding)}, which would change how long "
            "a call may wait; leave them out and write e.g. "
            'RedisReplayStore("redis://localhost:6379/0", timeout=0.5).'
        )
    try:
        _read_url(url)  # the client's own reading, so that a bad option fails now
    except ValueError as exc:
        raise _refuse(
            f"RedisReplayStore's url cannot be read: {exc} Write e.g. {_EXAMPLE}."
        ) from None
    return url


def _describe(url: str) -> tuple[str, str | None]:
    """Where the URL points, without its password (for messages and repr); the password."""
    options = _read_url(url)
    password = options.get("password")
    parts = urlsplit(url)
    user = options.get("username")
    credentials = f"{user or ''}:***@" if password else (f"{user}@" if user else "")
    scheme = parts.scheme.lower()
    db = options.get("db", 0)
    if scheme == "unix":
        return f"unix://{credentials}{options.get('path', '')}?db={db}", password
    host = str(options.get("host", "localhost"))
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{credentials}{host}:{options.get('port', 6379)}/{db}", password


class RedisIntrospectionCache:
    """Introspection answers shared by every worker and host, in Redis (RFC 7662).

    Pass it as ``Introspection(shared_cache=...)``. A worker that has no answer of its
    own for a token reads this cache before asking the endpoint, and writes every
    answer it gets (active or not) here, for as long as its own cache keeps it: never
    past the token's ``exp`` nor ``cache_ttl`` (``inactive_ttl`` for an inactive one).
    So a fleet asks the provider about a token about once per ``cache_ttl``.

    Keys are ``<prefix><SHA-256 of the token, hex>``: the token's text never reaches
    Redis. Values are the endpoint's JSON answer (the token's claims) and the time
    until which it holds; each key expires by itself.

    **Redis down.** Any Redis error (refused, timed out after ``timeout``, an error
    reply) falls back to asking the endpoint, as a worker without this cache would:
    the endpoint is the authority, and a cache outage must not become an outage of
    the API. The verifier logs a WARNING and leaves Redis alone for
    ``CachePolicy.failure_backoff`` seconds (at least 5), so requests do not each
    wait ``timeout`` for it.

    **Trust.** Whoever can write to this Redis can make tokens pass: an answer found
    here is taken as the endpoint's. Give it the protection of the verifier's own
    settings (a password, TLS, a network only the API reaches), as for the replay
    store.

    Arguments as :class:`RedisReplayStore`'s: a ``url`` (``redis://``, ``rediss://``,
    ``unix://``) or lent ``client`` / ``async_client``; ``prefix`` (default
    ``"bearerguard:introspection:"``) and ``timeout`` (seconds, default 1).

    Example::

        from bearerguard import Introspection, Verifier
        from bearerguard.redis import RedisIntrospectionCache

        verifier = Verifier(
            issuer="https://login.example.com/",
            audience="https://api.example.com",
            introspection=Introspection(
                client_id="api",
                client_secret=os.environ["INTROSPECTION_SECRET"],
                shared_cache=RedisIntrospectionCache("redis://cache.internal:6379/0"),
            ),
        )
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | redis.RedisCluster | None = None,
        async_client: redis.asyncio.Redis | redis.asyncio.RedisCluster | None = None,
        prefix: str = "bearerguard:introspection:",
        timeout: float = 1.0,
    ) -> None:
        try:
            # The same clients, bounds and checks as the replay store: one way to reach Redis.
            self._redis = RedisReplayStore(
                url, client=client, async_client=async_client, prefix=prefix, timeout=timeout
            )
        except ConfigurationError as exc:
            message = (
                str(exc)
                .replace(f"{_SETTING}: ", "")
                .replace("RedisReplayStore", "RedisIntrospectionCache")
                .replace(":dpop:", ":introspection:")
            )
            raise ConfigurationError(message, setting="shared_cache") from None
        self.prefix = self._redis.prefix
        self.timeout = self._redis.timeout

    def get(self, key: str) -> bytes | None:
        """The value stored under ``key`` (a token hash), or ``None``; raises when Redis fails."""
        try:
            value = self._redis._sync_client().get(self.prefix + key)
        except _CAUGHT as exc:
            raise self._redis._unavailable(exc) from exc
        return value if isinstance(value, bytes) else None

    async def aget(self, key: str) -> bytes | None:
        """:meth:`get` for asyncio callers."""
        try:
            client = await self._redis._async_client()
            value = await client.get(self.prefix + key)
        except _CAUGHT as exc:
            raise self._redis._unavailable(exc) from exc
        return value if isinstance(value, bytes) else None

    def put(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (at least 1 ms)."""
        try:
            self._redis._sync_client().set(self.prefix + key, value, px=_milliseconds(ttl))
        except _CAUGHT as exc:
            raise self._redis._unavailable(exc) from exc

    async def aput(self, key: str, value: bytes, ttl: float) -> None:
        """:meth:`put` for asyncio callers."""
        try:
            client = await self._redis._async_client()
            await client.set(self.prefix + key, value, px=_milliseconds(ttl))
        except _CAUGHT as exc:
            raise self._redis._unavailable(exc) from exc

    def close(self) -> None:
        """Close the connections of the sync client the cache made."""
        self._redis.close()

    async def aclose(self) -> None:
        """Close the running loop's client and the sync client, those the cache made."""
        await self._redis.aclose()

    def __repr__(self) -> str:
        return repr(self._redis).replace("RedisReplayStore", "RedisIntrospectionCache", 1)
