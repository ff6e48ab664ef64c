"""RedisIntrospectionCache (bearerguard.redis): a fleet asks the introspection endpoint once
per token, against a real redis-server started and stopped here (tests/redis_server.py).

Two verifiers stand for two workers (or hosts): each has its own in-process cache, and they
share one Redis. Redis holds token hashes and answers, never a token's text. When Redis is
stopped or hung, a worker asks the endpoint itself (the endpoint is the authority; a cache
outage must not become the API's), with a WARNING in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Iterator

import pytest
import redis

from bearerguard import ConfigurationError, Introspection, InvalidTokenError, Verifier
from bearerguard.redis import RedisIntrospectionCache
from bearerguard.testing import FakeIssuer
from tests.redis_server import RedisServer
from tests.support import AUDIENCE, ISSUER

pytestmark = pytest.mark.e2e
PREFIX = "test:introspection:"


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        yield issuer


def worker(issuer: FakeIssuer, cache: RedisIntrospectionCache, **settings: object) -> Verifier:
    return Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        introspection=issuer.introspection(shared_cache=cache, **settings),
    )


def test_a_fleet_asks_the_endpoint_once_per_token(server: RedisServer, issuer: FakeIssuer) -> None:
    cache = RedisIntrospectionCache(server.url, prefix=PREFIX)
    first, second = worker(issuer, cache), worker(issuer, cache)
    token = issuer.opaque_token(scopes=["read:contacts"])
    assert first.verify(token).scopes == {"read:contacts"}
    assert second.verify(token).scopes == {"read:contacts"}
    assert asyncio.run(worker(issuer, cache).averify(token)).subject == "auth0|test-user"
    assert issuer.introspection_calls == 1

    async_token = issuer.opaque_token()
    asyncio.run(first.averify(async_token))
    second.verify(async_token)
    assert issuer.introspection_calls == 2


def test_redis_holds_hashes_and_answers_never_the_token(
    server: RedisServer, issuer: FakeIssuer
) -> None:
    cache = RedisIntrospectionCache(server.url, prefix=PREFIX)
    token = issuer.opaque_token()
    worker(issuer, cache, cache_ttl=120).verify(token)
    inspect = redis.Redis.from_url(server.url)
    key = PREFIX + hashlib.sha256(token.encode()).hexdigest()
    assert inspect.keys("*") == [key.encode()]
    value = inspect.get(key)
    assert value is not None
    assert token.encode() not in value
    assert json.loads(value)["answer"]["active"] is True
    assert 0 < inspect.pttl(key) <= 120_000  # never past cache_ttl (nor exp)
    inspect.close()


def test_an_inactive_answer_is_shared_briefly(server: RedisServer, issuer: FakeIssuer) -> None:
    cache = RedisIntrospectionCache(server.url, prefix=PREFIX)
    for verifier in (worker(issuer, cache), worker(issuer, cache)):
        with pytest.raises(InvalidTokenError, match="not active"):
            verifier.verify("revoked-or-unknown")
    assert issuer.introspection_calls == 1
    inspect = redis.Redis.from_url(server.url)
    key = PREFIX + hashlib.sha256(b"revoked-or-unknown").hexdigest()
    assert 0 < inspect.pttl(key) <= 10_000
    inspect.close()


def test_a_record_past_its_time_is_not_used(server: RedisServer, issuer: FakeIssuer) -> None:
    cache = RedisIntrospectionCache(server.url, prefix=PREFIX)
    token = issuer.opaque_token()
    stale = {"until": time.time() - 1, "answer": {"active": True, "aud": AUDIENCE, "exp": 9e9}}
    key = hashlib.sha256(token.encode()).hexdigest()
    cache.put(key, json.dumps(stale).encode(), 60)
    worker(issuer, cache).verify(token)
    assert issuer.introspection_calls == 1  # asked the endpoint instead


def test_redis_stopped_means_asking_the_endpoint_with_a_warning(
    server: RedisServer, issuer: FakeIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    cache = RedisIntrospectionCache(server.url, prefix=PREFIX, timeout=0.5)
    server.stop()
    verifier = worker(issuer, cache)
    token = issuer.opaque_token()
    with caplog.at_level(logging.WARNING, logger="bearerguard"):
        assert verifier.verify(token).issuer == ISSUER
        assert asyncio.run(worker(issuer, cache).averify(issuer.opaque_token())).issuer == ISSUER
    assert issuer.introspection_calls == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("shared introspection cache failed" in w for w in warnings)
    assert token not in caplog.text


def test_a_hung_redis_costs_about_its_timeout_then_is_left_alone(
    server: RedisServer, issuer: FakeIssuer
) -> None:
    cache = RedisIntrospectionCache(server.url, prefix=PREFIX, timeout=0.5)
    verifier = worker(issuer, cache)
    verifier.verify(issuer.opaque_token())  # connected
    server.pause()
    try:
        started = time.monotonic()
        verifier.verify(issuer.opaque_token())
        assert time.monotonic() - started < 3.0
        started = time.monotonic()
        verifier.verify(issuer.opaque_token())  # Redis left alone: no wait at all
        assert time.monotonic() - started < 0.4
    finally:
        server.resume()


def test_bad_arguments_name_the_cache() -> None:
    with pytest.raises(ConfigurationError, match="RedisIntrospectionCache needs the URL"):
        RedisIntrospectionCache()
    with pytest.raises(ConfigurationError, match="RedisIntrospectionCache's url must be"):
        RedisIntrospectionCache("http://localhost:6379")
    with pytest.raises(ConfigurationError, match="shared_cache must be a shared answer cache"):
        Introspection(client_id="api", client_secret="s", shared_cache="redis://localhost")
    assert "password" not in repr(RedisIntrospectionCache("redis://:password@localhost:6379/0"))
