"""A DPoP proof is accepted once across the worker processes of a server sharing a real Redis.

Each app of ``tests/e2e/apps`` runs with two worker processes behind one port
(an ASGI app under ``uvicorn --workers 2``, a WSGI app under gunicorn's sync
workers), trusting the loopback identity provider over HTTP, DPoP allowed, and
``BEARERGUARD_REPLAY_STORE`` naming a ``redis-server`` the module starts on
127.0.0.1. Every answer names the process that gave it, so a test knows which
worker accepted a proof and which refused its replay. A request goes to the worker
a test names, every time: the client holds the other workers at gates meanwhile
(:mod:`tests.e2e.workers`), and proofs sent "at once" are held one in each worker,
then let go together.

The same servers with ``BEARERGUARD_REPLAY_STORE=memory`` are the contrast that
shows the tests can see the difference: each worker then remembers only the proofs
it accepted itself, so the other worker accepts the replay once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.redis_server import RedisServer

from .apps.gates import GATE_HEADER
from .dpop_client import DPoPClient
from .identity_provider import SUB, IdentityProvider
from .workers import WORKER_APPS, WorkerDeployment, deploy_workers, worker_of

pytestmark = pytest.mark.e2e

PATH = "/api/private"
# Each race between the workers, and each reach of a named worker, is run a few times over.
ROUNDS = 3


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module", params=list(WORKER_APPS))
def app(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def shared_store(
    app: str,
    identity_provider: IdentityProvider,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerDeployment]:
    """The app's workers, their proofs recorded in the one Redis."""
    tenant = identity_provider.add_tenant(f"{app}-redis")
    log_dir = tmp_path_factory.mktemp(f"{app}-redis")
    with deploy_workers(app, tenant, replay_store=redis_server.url, log_dir=log_dir) as api:
        yield api


@pytest.fixture(scope="module")
def memory_store(
    app: str, identity_provider: IdentityProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerDeployment]:
    """The app's workers, each recording proofs in its own process's memory."""
    tenant = identity_provider.add_tenant(f"{app}-memory")
    log_dir = tmp_path_factory.mktemp(f"{app}-memory")
    with deploy_workers(app, tenant, replay_store="memory", log_dir=log_dir) as api:
        yield api


@pytest.fixture
def client() -> DPoPClient:
    return DPoPClient()


def accepted_somewhere(api: WorkerDeployment, headers: dict[str, str]) -> int:
    """Send a new proof to whichever worker takes it; the worker that accepted it."""
    response = api.client.get(PATH, headers)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == SUB
    return worker_of(response)


def always(headers: dict[str, str]) -> Callable[[], dict[str, str]]:
    """``headers`` for every request: one proof sent to several workers."""
    return lambda: headers


def assert_replay_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_dpop_proof"
    assert 'DPoP realm="api", error="invalid_dpop_proof"' in response.headers["www-authenticate"]


# --- one Redis for every worker ----------------------------------------------------------------


def test_both_workers_answer_behind_the_one_port(shared_store: WorkerDeployment):
    first, second = shared_store.workers

    assert first != second
    assert shared_store.server.process.pid not in (first, second)  # workers, not the parent


def test_a_proof_one_worker_accepted_is_refused_by_the_other(
    shared_store: WorkerDeployment, client: DPoPClient
):
    token = client.bound_token(shared_store.tenant)
    headers = client.headers("GET", shared_store.url(PATH), token)
    acceptor = accepted_somewhere(shared_store, headers)

    replayed = shared_store.client.get_from(PATH, headers, other_than=acceptor)

    assert_replay_refused(replayed)
    assert worker_of(replayed) != acceptor


def test_a_proof_a_worker_accepted_is_refused_by_that_worker_too(
    shared_store: WorkerDeployment, client: DPoPClient
):
    token = client.bound_token(shared_store.tenant)
    headers = client.headers("GET", shared_store.url(PATH), token)
    acceptor = accepted_somewhere(shared_store, headers)

    replayed = shared_store.client.get_from(PATH, headers, worker=acceptor)

    assert_replay_refused(replayed)
    assert worker_of(replayed) == acceptor


def test_one_proof_sent_to_both_workers_at_once_is_accepted_exactly_once(
    shared_store: WorkerDeployment, client: DPoPClient
):
    token = client.bound_token(shared_store.tenant)
    url = shared_store.url(PATH)

    for _ in range(ROUNDS):
        # One request held in each worker, then let go together: two processes race to
        # record the same jti.
        answers = shared_store.client.from_each(PATH, always(client.headers("GET", url, token)))

        statuses = {answer.worker: answer.response.status_code for answer in answers}
        assert set(statuses) == set(shared_store.workers)
        assert sorted(statuses.values()) == [200, 401], statuses
        for answer in answers:
            if answer.response.status_code == 401:
                assert_replay_refused(answer.response)


# --- the contrast: one memory per worker process -----------------------------------------------


def test_with_memory_stores_the_other_worker_accepts_the_replay(
    memory_store: WorkerDeployment, client: DPoPClient
):
    token = client.bound_token(memory_store.tenant)
    headers = client.headers("GET", memory_store.url(PATH), token)
    acceptor = accepted_somewhere(memory_store, headers)

    replayed = memory_store.client.get_from(PATH, headers, other_than=acceptor)

    # The in-memory store lives in one process: the other worker never saw the proof. This
    # is the gap a shared store closes, and what the tests above would miss if both requests
    # had reached one worker.
    assert replayed.status_code == 200, replayed.text
    assert worker_of(replayed) != acceptor


def test_with_memory_stores_a_worker_still_refuses_its_own_replays(
    memory_store: WorkerDeployment, client: DPoPClient
):
    token = client.bound_token(memory_store.tenant)
    headers = client.headers("GET", memory_store.url(PATH), token)
    acceptor = accepted_somewhere(memory_store, headers)

    replayed = memory_store.client.get_from(PATH, headers, worker=acceptor)

    assert_replay_refused(replayed)
    assert worker_of(replayed) == acceptor


def test_with_memory_stores_one_proof_sent_to_both_workers_at_once_passes_on_both(
    memory_store: WorkerDeployment, client: DPoPClient
):
    token = client.bound_token(memory_store.tenant)
    headers = client.headers("GET", memory_store.url(PATH), token)

    answers = memory_store.client.from_each(PATH, always(headers))

    # What the race above would show of a store that is not shared.
    assert {answer.worker for answer in answers} == set(memory_store.workers)
    assert [answer.response.status_code for answer in answers] == [200, 200]


# --- the client: each request to the worker the test names -----------------------------------


def test_every_request_reaches_the_worker_it_names(shared_store: WorkerDeployment):
    for _ in range(ROUNDS):
        for worker in shared_store.workers:
            response = shared_store.client.get_from("/pid", {}, worker=worker)

            assert response.json()["pid"] == worker == worker_of(response)


@pytest.mark.parametrize(
    ("gate", "reason"),
    [
        ("no-such-gate", "no gate 'no-such-gate': create its folder"),
        ("../logs", "Worker-Gate must be 1 to 64 letters, digits"),
    ],
    ids=["unknown", "not-a-name"],
)
def test_a_request_naming_a_gate_the_test_did_not_create_is_refused_with_the_reason(
    shared_store: WorkerDeployment, gate: str, reason: str
):
    response = shared_store.client.get("/pid", {GATE_HEADER: gate})

    assert response.status_code == 400, response.text
    assert reason in response.json()["gate_refused"]
    assert worker_of(response) in shared_store.workers
