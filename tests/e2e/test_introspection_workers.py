"""A fleet of worker processes sharing a real Redis asks the introspection endpoint once per token.

Each app of ``tests/e2e/apps`` runs with two worker processes behind one port (an
ASGI app under ``uvicorn --workers 2``: the shared cache's asyncio client; a WSGI
app under gunicorn's sync workers: its sync client), configured by the environment
alone: ``BEARERGUARD_INTROSPECTION_*`` point it at a counting introspection endpoint
this module serves on 127.0.0.1 (:mod:`tests.e2e.introspection_endpoint`), which
authenticates the API's client secret and counts its calls per token, and
``BEARERGUARD_INTROSPECTION_SHARED_CACHE`` names a ``redis-server`` the module
starts. Every answer names the worker that gave it, and each request goes to the
worker a test names: the client holds the other one at a gate meanwhile
(:mod:`tests.e2e.workers`). So "asked by one worker, then by the other" is what
happened, not what the kernel happened to choose.

What must hold (``Introspection(shared_cache=...)``):

* a token one worker asked about is taken by the other from Redis: one call per
  token, however many workers see it; an inactive answer (a revoked or unknown
  token) is shared too, for ``inactive_ttl``;
* the contrast, the same servers without the shared cache: each worker asks for
  itself, two calls per token. What the tests above would miss if both requests
  had reached one worker;
* Redis stopped mid-run: the workers still answer, each asking the endpoint itself
  (the endpoint is the authority: a cache outage is not the API's), and each says
  so with a WARNING in the server's log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.redis_server import RedisServer

from .identity_provider import SUB, IdentityProvider
from .introspection_endpoint import IntrospectionEndpoint
from .workers import WORKER_APPS, WorkerDeployment, deploy_workers

pytestmark = pytest.mark.e2e

PATH = "/api/private"
# How many tokens "several tokens" are: each sent first to one worker, then to the other.
TOKENS = 4
# The cache's default key prefix: what the servers are given, as they are given no other.
PREFIX = "bearerguard:introspection:"
# An inactive answer is reused this long (the default is 10 s): ample for two requests on a
# loaded machine, so that the second one falls within it every time.
INACTIVE_TTL = "60"
# What a worker logs when the shared cache fails and it asks the endpoint instead.
CACHE_FAILED = "The shared introspection cache failed"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[IntrospectionEndpoint]:
    with IntrospectionEndpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module", params=list(WORKER_APPS))
def app(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def introspecting(
    app: str,
    name: str,
    *,
    identity_provider: IdentityProvider,
    endpoint: IntrospectionEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
    shared_cache: str | None,
) -> Iterator[WorkerDeployment]:
    """``app``'s workers asking ``endpoint`` about a tenant's opaque tokens of its own, their
    answers shared in the Redis at ``shared_cache`` (or each kept by its own worker)."""
    tenant = identity_provider.add_tenant(f"{app}-{name}")
    log_dir = tmp_path_factory.mktemp(f"{app}-{name}")
    settings = {
        **endpoint.settings(tenant),
        "BEARERGUARD_INTROSPECTION_INACTIVE_TTL": INACTIVE_TTL,
    }
    if shared_cache is not None:
        settings["BEARERGUARD_INTROSPECTION_SHARED_CACHE"] = shared_cache
    with deploy_workers(
        app, tenant, replay_store="memory", log_dir=log_dir, settings=settings
    ) as api:
        yield api


@pytest.fixture(scope="module")
def shared(
    app: str,
    identity_provider: IdentityProvider,
    endpoint: IntrospectionEndpoint,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerDeployment]:
    """The app's workers, their answers shared in the one Redis."""
    yield from introspecting(
        app,
        "shared",
        identity_provider=identity_provider,
        endpoint=endpoint,
        tmp_path_factory=tmp_path_factory,
        shared_cache=redis_server.url,
    )


@pytest.fixture(scope="module")
def unshared(
    app: str,
    identity_provider: IdentityProvider,
    endpoint: IntrospectionEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerDeployment]:
    """The app's workers, each keeping the answers it got in its own process's memory."""
    yield from introspecting(
        app,
        "unshared",
        identity_provider=identity_provider,
        endpoint=endpoint,
        tmp_path_factory=tmp_path_factory,
        shared_cache=None,
    )


@pytest.fixture(scope="module")
def stoppable_redis(app: str) -> Iterator[RedisServer]:
    """A Redis of the app's own, which a test stops: the other servers' Redis stays up."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def stoppable(
    app: str,
    identity_provider: IdentityProvider,
    endpoint: IntrospectionEndpoint,
    stoppable_redis: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerDeployment]:
    """The app's workers, their answers shared in a Redis that a test stops."""
    yield from introspecting(
        app,
        "stoppable",
        identity_provider=identity_provider,
        endpoint=endpoint,
        tmp_path_factory=tmp_path_factory,
        shared_cache=stoppable_redis.url,
    )


@pytest.fixture
def stopped_redis(stoppable_redis: RedisServer) -> Iterator[RedisServer]:
    """The stoppable Redis, answering when the test starts and started again after it."""
    stoppable_redis.restore()
    yield stoppable_redis
    stoppable_redis.restore()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def granted_by(api: WorkerDeployment, worker: int, token: str) -> httpx.Response:
    """``token`` sent to ``worker`` alone, and taken."""
    response = api.client.get_from(PATH, bearer(token), worker=worker)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == SUB
    return response


def refused_by(api: WorkerDeployment, worker: int, token: str) -> httpx.Response:
    """``token`` sent to ``worker`` alone, and refused as not active."""
    response = api.client.get_from(PATH, bearer(token), worker=worker)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    return response


def in_redis(server: RedisServer, token: str) -> bool:
    """Whether ``server`` holds an answer about ``token`` (under its hash, never its text)."""
    with redis.Redis.from_url(server.url) as inspect:
        key = PREFIX + hashlib.sha256(token.encode()).hexdigest()
        return bool(inspect.exists(key))


def warnings_of(api: WorkerDeployment, message: str) -> set[int]:
    """The workers that logged a WARNING starting with ``message`` (``tests/e2e/apps/logs.py``
    says how each line reads)."""
    line = re.compile(rf"^WARNING bearerguard \[(\d+)\]: {re.escape(message)}", re.MULTILINE)
    return {int(pid) for pid in line.findall(api.server.log())}


# --- the endpoint the workers ask ------------------------------------------------------------


def test_the_endpoint_counts_only_calls_with_the_apis_client_secret(
    endpoint: IntrospectionEndpoint, identity_provider: IdentityProvider
):
    token = endpoint.issue(identity_provider.add_tenant("endpoint-check"))
    refused_before = endpoint.refused

    with httpx.Client(trust_env=False) as http:
        wrong = http.post(endpoint.url, data={"token": token}, auth=(endpoint.client_id, "nope"))
        right = http.post(
            endpoint.url, data={"token": token}, auth=(endpoint.client_id, endpoint.client_secret)
        )
        unknown = http.post(
            endpoint.url, data={"token": "x"}, auth=(endpoint.client_id, endpoint.client_secret)
        )

    assert wrong.status_code == 401
    assert endpoint.refused == refused_before + 1
    assert right.json()["active"] is True
    assert right.json()["sub"] == SUB
    assert unknown.json() == {"active": False}
    assert endpoint.calls(token) == 1


# --- one Redis for every worker --------------------------------------------------------------


def test_a_token_one_worker_asked_about_is_taken_by_the_other_without_a_call(
    shared: WorkerDeployment, endpoint: IntrospectionEndpoint, redis_server: RedisServer
):
    first, second = shared.workers
    token = endpoint.issue(shared.tenant)

    granted_by(shared, first, token)
    assert endpoint.calls(token) == 1
    assert in_redis(redis_server, token)  # written before the first worker answered

    granted_by(shared, second, token)

    # The second worker had no answer of its own: it took the first one's from Redis.
    assert endpoint.calls(token) == 1


def test_several_tokens_cost_one_call_each_whichever_worker_sees_them_first(
    shared: WorkerDeployment, endpoint: IntrospectionEndpoint
):
    tokens = [endpoint.issue(shared.tenant) for _ in range(TOKENS)]

    for index, token in enumerate(tokens):
        first, second = shared.workers[index % 2], shared.workers[(index + 1) % 2]
        granted_by(shared, first, token)
        granted_by(shared, second, token)
        granted_by(shared, first, token)  # its own cache, now

    assert [endpoint.calls(token) for token in tokens] == [1] * TOKENS


@pytest.mark.parametrize("kind", ["revoked", "unknown"])
def test_an_inactive_answer_is_shared_too(
    shared: WorkerDeployment, endpoint: IntrospectionEndpoint, kind: str
):
    first, second = shared.workers
    if kind == "revoked":
        token = endpoint.issue(shared.tenant)
        endpoint.revoke(token)
    else:
        token = "fleet_at_" + secrets.token_urlsafe(24)  # never issued

    refused_by(shared, first, token)
    refused_by(shared, second, token)

    # Within inactive_ttl the other worker takes the "not active" from Redis as well.
    assert endpoint.calls(token) == 1


# --- the contrast: each worker keeps its own answers ----------------------------------------


def test_without_the_shared_cache_each_worker_asks_for_itself(
    unshared: WorkerDeployment, endpoint: IntrospectionEndpoint
):
    first, second = unshared.workers
    token = endpoint.issue(unshared.tenant)

    granted_by(unshared, first, token)
    granted_by(unshared, second, token)
    assert endpoint.calls(token) == 2  # the gap the shared cache closes

    # Each worker still reuses the answer it got itself.
    granted_by(unshared, first, token)
    granted_by(unshared, second, token)
    assert endpoint.calls(token) == 2


def test_without_the_shared_cache_each_worker_asks_about_an_inactive_token(
    unshared: WorkerDeployment, endpoint: IntrospectionEndpoint
):
    first, second = unshared.workers
    token = endpoint.issue(unshared.tenant)
    endpoint.revoke(token)

    refused_by(unshared, first, token)
    refused_by(unshared, second, token)

    assert endpoint.calls(token) == 2


# --- Redis stopped mid-run ---------------------------------------------------------------------


def test_with_redis_stopped_each_worker_asks_the_endpoint_itself_and_warns(
    stoppable: WorkerDeployment, endpoint: IntrospectionEndpoint, stopped_redis: RedisServer
):
    first, second = stoppable.workers
    before = endpoint.issue(stoppable.tenant)
    granted_by(stoppable, first, before)
    granted_by(stoppable, second, before)
    assert endpoint.calls(before) == 1  # the shared cache at work while Redis answers
    assert not warnings_of(stoppable, CACHE_FAILED)

    stopped_redis.stop()
    token = endpoint.issue(stoppable.tenant)

    # Not a 503: the endpoint is the authority, and each worker asks it for itself.
    granted_by(stoppable, first, token)
    granted_by(stoppable, second, token)
    assert endpoint.calls(token) == 2
    assert warnings_of(stoppable, CACHE_FAILED) == {first, second}

    # What each worker had already been told still stands, without a call.
    granted_by(stoppable, first, before)
    granted_by(stoppable, second, before)
    assert endpoint.calls(before) == 1
