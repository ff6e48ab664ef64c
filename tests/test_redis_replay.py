"""RedisReplayStore (bearerguard.redis) against a real redis-server, started and stopped here.

Each server runs on 127.0.0.1 on a free port with no persistence (tests/redis_server.py);
the tests that start one are marked e2e. Nothing is mocked: a stopped server refuses
connections, a hung one (SIGSTOP) accepts them and never answers, a full one answers OOM.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from bearerguard import InvalidDPoPProofError, KeySetUnavailableError, Verifier
from bearerguard._errors import ConfigurationError
from bearerguard._replay import ReplayStoreUnavailable
from bearerguard.redis import RedisReplayStore
from tests.redis_server import RedisServer
from tests.support import Provider
from tests.test_adapter_imports import run_python
from tests.test_verify_request import bound_token, dpop_proof, dpop_request

e2e = pytest.mark.e2e
MakeVerifier = Callable[..., Verifier]
TIMEOUT = 1.0
# A failing call must end within the store's timeout; the margin is for a loaded machine.
BOUND = TIMEOUT + 2.0
PASSWORD = "pw-Zq8vLr2u"
_prefixes = itertools.count()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[RedisServer]:
    """One server for the tests that leave it running; each test writes under its own prefix."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A server of the test's own, for the tests that stop, hang or reconfigure it."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"test{next(_prefixes)}:dpop:"


@pytest.fixture
def inspect(shared_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client to look at what the store wrote."""
    client = redis.Redis.from_url(shared_server.url)
    yield client
    client.close()


@pytest.fixture
def store(shared_server: RedisServer, prefix: str) -> Iterator[RedisReplayStore]:
    store = RedisReplayStore(shared_server.url, prefix=prefix, timeout=TIMEOUT)
    yield store
    store.close()


def window(seconds: float = 60.0) -> dict[str, float]:
    now = time.time()
    return {"expires_at": now + seconds, "now": now}


def fails_within_bound(call: Callable[[], Any]) -> ReplayStoreUnavailable:
    start = time.monotonic()
    with pytest.raises(ReplayStoreUnavailable) as failed:
        call()
    elapsed = time.monotonic() - start
    assert elapsed < BOUND, f"the call took {elapsed:.2f} s"
    return failed.value


async def afails_within_bound(call: Callable[[], Any]) -> ReplayStoreUnavailable:
    start = time.monotonic()
    with pytest.raises(ReplayStoreUnavailable) as failed:
        await call()
    elapsed = time.monotonic() - start
    assert elapsed < BOUND, f"the call took {elapsed:.2f} s"
    return failed.value


def connected_clients(client: redis.Redis, expected: int) -> int:
    """The server's count of connections, once it reaches ``expected`` (or after 3 s)."""
    deadline = time.monotonic() + 3.0
    while True:
        count = int(client.info("clients")["connected_clients"])
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


# --- what the store records ---------------------------------------------------------------------


@e2e
def test_remember_records_a_key_once(store: RedisReplayStore):
    at = window()

    assert store.remember("k1", **at) is True
    assert store.remember("k1", **at) is False
    assert store.remember("k2", **at) is True


@e2e
def test_aremember_records_a_key_once_on_any_event_loop(
    store: RedisReplayStore, inspect: redis.Redis
):
    at = window()

    # Two asyncio.run() calls: two loops, each with a client of its own, closed with it.
    assert asyncio.run(store.aremember("k1", **at)) is True
    assert connected_clients(inspect, 1) == 1
    assert asyncio.run(store.aremember("k1", **at)) is False
    assert connected_clients(inspect, 1) == 1
    assert store.remember("k1", **at) is False  # one record, whichever client wrote it


@e2e
def test_keys_carry_the_prefix_and_expire_by_themselves(
    store: RedisReplayStore, inspect: redis.Redis, prefix: str
):
    assert store.remember("k1", **window(0.3)) is True

    assert inspect.keys(f"{prefix}*") == [f"{prefix}k1".encode()]
    assert 0 < inspect.pttl(f"{prefix}k1") <= 300
    time.sleep(0.5)
    assert inspect.exists(f"{prefix}k1") == 0
    assert store.remember("k1", **window(0.3)) is True  # expired: a new window


@e2e
def test_a_window_closed_or_never_closing_is_not_recorded(
    store: RedisReplayStore, inspect: redis.Redis, prefix: str
):
    now = time.time()

    assert store.remember("past", expires_at=now - 1, now=now) is False
    assert store.remember("now", expires_at=now, now=now) is False
    assert store.remember("inf", expires_at=math.inf, now=now) is False
    assert store.remember("nan", expires_at=math.nan, now=now) is False
    assert asyncio.run(store.aremember("inf", expires_at=math.inf, now=now)) is False
    assert inspect.keys(f"{prefix}*") == []
    # A window of a fraction of a millisecond is still recorded, for 1 ms.
    assert store.remember("tiny", expires_at=now + 1e-5, now=now) is True


@e2e
def test_of_many_threads_or_tasks_remembering_one_key_one_wins(store: RedisReplayStore):
    at = window()
    answers: list[bool] = []
    start = threading.Barrier(16)

    def remember() -> None:
        start.wait()
        answers.append(store.remember("sync", **at))

    threads = [threading.Thread(target=remember) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def many() -> list[bool]:
        return list(await asyncio.gather(*(store.aremember("async", **at) for _ in range(16))))

    assert sorted(answers) == [False] * 15 + [True]
    assert sorted(asyncio.run(many())) == [False] * 15 + [True]


@e2e
def test_lent_clients_are_used_as_they_are_and_never_closed(
    shared_server: RedisServer, prefix: str
):
    client = redis.Redis.from_url(shared_server.url)
    store = RedisReplayStore(client=client, prefix=prefix)

    assert store.remember("k1", **window()) is True
    store.close()
    assert client.ping() is True
    with pytest.raises(TypeError, match="async_client"):
        asyncio.run(store.aremember("k2", **window()))
    client.close()

    async def with_async_client() -> tuple[bool, bool]:
        async_client = redis.asyncio.Redis.from_url(shared_server.url)
        lent = RedisReplayStore(async_client=async_client, prefix=prefix)
        first = await lent.aremember("k1", **window())
        await lent.aclose()
        alive = await async_client.ping()
        await async_client.aclose()
        with pytest.raises(TypeError, match="client="):
            lent.remember("k1", **window())
        return first, alive

    assert asyncio.run(with_async_client()) == (False, True)


# --- workers sharing one Redis ------------------------------------------------------------------


@e2e
def test_a_proof_accepted_by_one_worker_is_refused_by_another(
    make_verifier: MakeVerifier, provider: Provider, shared_server: RedisServer, prefix: str
):
    # Two workers: two verifiers, each with its own store and connections, one Redis.
    first = make_verifier(replay_store=RedisReplayStore(shared_server.url, prefix=prefix))
    second = make_verifier(replay_store=RedisReplayStore(shared_server.url, prefix=prefix))
    token = bound_token(provider)
    proof = dpop_proof(token)

    first.verify_request(dpop_request(token, proof))

    for worker in (second, first):
        with pytest.raises(InvalidDPoPProofError, match="used before"):
            worker.verify_request(dpop_request(token, proof))
    second.verify_request(dpop_request(token))  # a fresh proof passes anywhere


@e2e
def test_the_same_through_averify_request(
    make_verifier: MakeVerifier, provider: Provider, shared_server: RedisServer, prefix: str
):
    first = make_verifier(replay_store=RedisReplayStore(shared_server.url, prefix=prefix))
    second = make_verifier(replay_store=RedisReplayStore(shared_server.url, prefix=prefix))
    token = bound_token(provider)
    proof = dpop_proof(token)

    asyncio.run(first.averify_request(dpop_request(token, proof)))

    with pytest.raises(InvalidDPoPProofError, match="used before"):
        asyncio.run(second.averify_request(dpop_request(token, proof)))
    with pytest.raises(InvalidDPoPProofError, match="used before"):
        second.verify_request(dpop_request(token, proof))  # sync and async share the record


# --- Redis stopped, hung, full ------------------------------------------------------------------


@e2e
def test_a_stopped_redis_fails_quickly_then_serves_again_once_back(server: RedisServer):
    store = RedisReplayStore(server.url, timeout=TIMEOUT)
    assert store.remember("before", **window()) is True

    server.stop()
    failed = fails_within_bound(lambda: store.remember("during", **window()))
    fails_within_bound(lambda: store.remember("during", **window()))
    server.start()  # the same port, nothing restarted on the client's side

    assert 1 <= failed.retry_after <= 2
    assert "ConnectionError" in str(failed)
    assert store.remember("during", **window()) is True
    # Without persistence the restart forgot "before" (the window the docstring warns of).
    assert store.remember("before", **window()) is True
    store.close()


@e2e
def test_a_stopped_redis_fails_quickly_on_the_asyncio_path_too(server: RedisServer):
    store = RedisReplayStore(server.url, timeout=TIMEOUT)

    async def run() -> None:
        assert await store.aremember("before", **window()) is True
        await asyncio.to_thread(server.stop)
        await afails_within_bound(lambda: store.aremember("during", **window()))
        await asyncio.to_thread(server.start)
        assert await store.aremember("during", **window()) is True

    asyncio.run(run())


@e2e
def test_a_hung_redis_fails_within_the_timeout_then_recovers(server: RedisServer):
    store = RedisReplayStore(server.url, timeout=TIMEOUT)
    assert store.remember("before", **window()) is True

    server.pause()
    try:
        failed = fails_within_bound(lambda: store.remember("during", **window()))
    finally:
        server.resume()

    assert "TimeoutError" in str(failed)
    assert store.remember("after", **window()) is True
    assert store.remember("before", **window()) is False  # still there: nothing was lost
    store.close()


@e2e
def test_a_hung_redis_fails_within_the_timeout_on_the_asyncio_path_too(server: RedisServer):
    store = RedisReplayStore(server.url, timeout=TIMEOUT)

    async def run() -> None:
        assert await store.aremember("before", **window()) is True
        server.pause()
        try:
            await afails_within_bound(lambda: store.aremember("during", **window()))
        finally:
            server.resume()
        assert await store.aremember("after", **window()) is True

    asyncio.run(run())


@e2e
def test_through_the_verifier_a_store_that_cannot_answer_is_a_503(
    make_verifier: MakeVerifier, provider: Provider, server: RedisServer
):
    verifier = make_verifier(replay_store=RedisReplayStore(server.url, timeout=TIMEOUT))
    token = bound_token(provider)
    verifier.verify_request(dpop_request(token))

    server.stop()
    for verify in (verifier.verify_request, lambda r: asyncio.run(verifier.averify_request(r))):
        start = time.monotonic()
        with pytest.raises(KeySetUnavailableError) as refused:
            verify(dpop_request(token))
        assert time.monotonic() - start < BOUND
        assert refused.value.status_code == 503
        assert refused.value.headers["Retry-After"] == "1"
    server.start()

    verifier.verify_request(dpop_request(token))
    asyncio.run(verifier.averify_request(dpop_request(token)))


@e2e
def test_an_error_reply_is_an_unavailable_store(server: RedisServer):
    store = RedisReplayStore(server.url, timeout=TIMEOUT)
    admin = redis.Redis.from_url(server.url)
    try:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)  # full: every write is refused with OOM
        full = fails_within_bound(lambda: store.remember("k1", **window()))
        admin.config_set("maxmemory", 0)
        admin.replicaof("127.0.0.1", "1")  # a read-only replica
        read_only = fails_within_bound(lambda: store.remember("k1", **window()))
        admin.replicaof("NO", "ONE")
    finally:
        admin.close()

    assert "OutOfMemoryError" in str(full)
    assert "ReadOnlyError" in str(read_only)
    assert store.remember("k1", **window()) is True  # nothing was recorded before
    store.close()


# --- the password, the arguments, the import ----------------------------------------------------


@e2e
def test_the_password_never_shows():
    with RedisServer(password=PASSWORD) as server:
        store = RedisReplayStore(server.url, timeout=TIMEOUT)
        wrong = RedisReplayStore(server.url.replace(PASSWORD, "not-" + PASSWORD))

        assert store.remember("k1", **window()) is True
        refused = fails_within_bound(lambda: wrong.remember("k1", **window()))
        server.stop()
        down = fails_within_bound(lambda: store.remember("k2", **window()))
        adown = fails_within_bound(lambda: asyncio.run(store.aremember("k2", **window())))
        store.close()

    assert "AuthenticationError" in str(refused)
    assert repr(store) == (
        f"RedisReplayStore('redis://:***@127.0.0.1:{server.port}/0', "
        "prefix='bearerguard:dpop:', timeout=1.0)"
    )
    for shown in (repr(store), repr(wrong), str(refused), str(down), str(adown)):
        assert PASSWORD not in shown
        assert f"127.0.0.1:{server.port}" in shown


def test_a_url_that_cannot_be_used_is_refused_without_repeating_its_password():
    with pytest.raises(ConfigurationError) as refused:
        RedisReplayStore(f"https://:{PASSWORD}@cache.internal:6379/0")

    assert refused.value.setting == "replay_store"
    assert PASSWORD not in str(refused.value)
    assert "a https:// URL" in str(refused.value)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, "needs the URL"),
        ({"url": 6379}, "must be a string"),
        ({"url": "localhost:6379"}, "redis://"),
        ({"url": "http://localhost:6379"}, "redis://"),
        ({"url": "redis:/localhost"}, "redis://"),
        ({"url": "redis://localhost:port/0"}, "redis://"),
        ({"url": "redis://localhost/0?socket_timeout=30"}, "socket_timeout"),
        ({"url": "redis://localhost/0?retry_on_timeout=yes"}, "retry_on_timeout"),
        ({"url": "redis://localhost/0?max_connections=many"}, "cannot be read"),
        ({"url": "redis://localhost", "client": redis.Redis()}, "not both"),
        ({"client": "redis://localhost"}, "must be a redis.Redis"),
        ({"client": redis.asyncio.Redis()}, "async_client="),
        ({"async_client": redis.Redis()}, "must be a redis.asyncio.Redis"),
        ({"url": "redis://localhost", "prefix": ""}, "prefix"),
        ({"url": "redis://localhost", "prefix": b"dpop:"}, "prefix"),
        ({"url": "redis://localhost", "timeout": 0}, "timeout"),
        ({"url": "redis://localhost", "timeout": -1}, "timeout"),
        ({"url": "redis://localhost", "timeout": True}, "timeout"),
        ({"url": "redis://localhost", "timeout": "1"}, "timeout"),
        ({"url": "redis://localhost", "timeout": math.inf}, "timeout"),
        ({"url": "redis://localhost", "timeout": math.nan}, "timeout"),
        ({"url": "redis://localhost", "timeout": 600}, "timeout"),
    ],
)
def test_bad_arguments_are_refused_naming_the_setting(arguments: dict[str, Any], says: str):
    with pytest.raises(ConfigurationError) as refused:
        RedisReplayStore(**arguments)

    assert refused.value.setting == "replay_store"
    assert says in str(refused.value)
    assert "Write e.g." in str(refused.value) or "write e.g." in str(refused.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://localhost", "redis://localhost:6379/0"),
        ("REDIS://user:pw@cache.internal:6380/2", "redis://user:***@cache.internal:6380/2"),
        ("rediss://[::1]:6390", "rediss://[::1]:6390/0"),
        ("unix:///run/redis.sock?db=3&password=pw", "unix://:***@/run/redis.sock?db=3"),
    ],
)
def test_the_repr_names_the_server_without_a_password(url: str, shown: str):
    assert repr(RedisReplayStore(url)) == (
        f"RedisReplayStore({shown!r}, prefix='bearerguard:dpop:', timeout=1.0)"
    )


def test_without_the_redis_client_the_import_names_the_extra():
    code = """
        import sys

        class Hide:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] == "redis":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, Hide())
        import bearerguard
        print("redis" in sys.modules)  # the core never imports it
        try:
            import bearerguard.redis
        except ImportError as exc:
            print(exc)
            print(type(exc.__cause__).__name__)
        """
    assert run_python(code) == [
        "False",
        "bearerguard.redis needs the redis client: pip install 'bearerguard[redis]'",
        "ModuleNotFoundError",
    ]
