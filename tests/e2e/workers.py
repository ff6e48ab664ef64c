"""Requests to a server of several worker processes, each answer naming the worker that gave it.

The apps in ``tests/e2e/apps`` put the answering process's id in a ``Worker-Pid``
header on every response, refusals included, so a test always knows which worker
answered. To reach a given worker, :class:`WorkerClient` relies on keep-alive: a
connection stays with the worker that accepted it, so it opens connections until
it holds one per worker. A server that keeps no connection (gunicorn's sync
workers close each one) leaves the next request to whichever worker accepts it
first; the client then sends the request again on new connections until the
wanted worker answers.

:func:`deploy_workers` serves one of :data:`WORKER_APPS` (an ASGI app under
``uvicorn --workers 2``, a WSGI app under gunicorn's sync workers) with DPoP
allowed and the replay store the test names.

Example::

    with deploy_workers("asgi-uvicorn", tenant, replay_store=redis.url, log_dir=tmp) as api:
        first, second = api.workers
        response = api.client.get_from("/pid", worker=second)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from .identity_provider import Tenant
from .servers import (
    GUNICORN_WORKERS,
    UVICORN_WORKERS,
    WORKERS,
    Example,
    Server,
    serve_app,
    server_environment,
)

PID_HEADER = "worker-pid"
REQUEST_TIMEOUT = 30.0
# New connections reach each of two idle workers about half of the time, though a worker
# may win several in a row: 60 misses in a row mean the wanted worker does not answer.
ATTEMPTS = 60
# A worker still importing the app answers nothing yet; the first one may be up seconds earlier.
DISCOVERY_DEADLINE = 60.0

Headers = Mapping[str, str]


@dataclass(frozen=True)
class Answer:
    """A response and how long it took, from sending the request to reading the answer."""

    response: httpx.Response
    seconds: float

    @property
    def worker(self) -> int:
        return worker_of(self.response)


def worker_of(response: httpx.Response) -> int:
    """The process id of the worker that gave ``response``."""
    assert PID_HEADER in response.headers, (
        f"no {PID_HEADER} header in the answer ({response.status_code}): {response.text}"
    )
    return int(response.headers[PID_HEADER])


class WorkerClient:
    """An HTTP client for a multi-worker server: a connection held per worker, answers tagged.

    Example::

        with WorkerClient("http://127.0.0.1:8000") as client:
            first, second = client.discover_workers(2)
            worker_of(client.get_from("/pid", worker=second))   # second
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        # No connection kept: each request goes to whichever worker accepts it first.
        self._any = self._connection(keep_alive=False)
        # One kept connection per worker, found by discover_workers.
        self._held: dict[int, httpx.Client] = {}

    @staticmethod
    def _connection(*, keep_alive: bool) -> httpx.Client:
        limits = (
            httpx.Limits(max_connections=1, max_keepalive_connections=1)
            if keep_alive
            else httpx.Limits(max_keepalive_connections=0)
        )
        return httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT, limits=limits)

    def get(self, path: str, headers: Headers | None = None) -> httpx.Response:
        """GET ``path`` on a new connection, answered by any worker."""
        return self._any.get(self.base_url + path, headers=headers)

    def discover_workers(self, count: int) -> list[int]:
        """Open connections until ``count`` different workers have answered ``/pid``, and
        hold one connection to each; their process ids, in the order they answered."""
        deadline = time.monotonic() + DISCOVERY_DEADLINE
        while len(self._held) < count:
            assert time.monotonic() < deadline, (
                f"only workers {list(self._held)} answered within {DISCOVERY_DEADLINE:g} s; "
                f"{count} were started"
            )
            connection = self._connection(keep_alive=True)
            pid = worker_of(connection.get(self.base_url + "/pid"))
            if pid in self._held:
                connection.close()
            else:
                self._held[pid] = connection
        return list(self._held)

    def get_from(
        self,
        path: str,
        headers: Headers,
        *,
        worker: int | None = None,
        other_than: int | None = None,
    ) -> httpx.Response:
        """GET ``path`` from ``worker`` (or from any worker but ``other_than``).

        Where the held connection was closed, the request goes again on new
        connections until the wanted worker answers, and the other workers' answers
        are dropped: use it only for requests that change nothing where they land
        elsewhere, such as a proof that has already been used.
        """
        if (worker is None) == (other_than is None):
            raise TypeError("name either the worker=... to reach or the one to avoid (other_than=)")
        if worker is None:
            worker = next(pid for pid in self._held if pid != other_than)
        return self._reach(worker, path, lambda: headers)[-1].response

    def until_each_answers(
        self, path: str, make_headers: Callable[[], Headers], workers: Iterable[int]
    ) -> list[Answer]:
        """GET ``path`` from each of ``workers``, with new headers (a new proof) for every
        request sent; every answer, the other workers' included, with the time it took.

        The first requests go at once, one on each held connection: a sync worker busy
        with one (waiting on a hung Redis, say) leaves the next connection to another
        worker, so each is reached even where no connection is kept.
        """
        wanted = list(workers)
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            first = list(
                pool.map(
                    lambda worker: self._send(
                        self._held.get(worker, self._any), path, make_headers()
                    ),
                    wanted,
                )
            )
        reached = {answer.worker for answer in first}
        missed = [worker for worker in wanted if worker not in reached]
        return first + [
            answer for worker in missed for answer in self._reach(worker, path, make_headers)
        ]

    def _reach(self, worker: int, path: str, make_headers: Callable[[], Headers]) -> list[Answer]:
        """Send on the connection held to ``worker``, then on new ones until it answers."""
        held = self._held.get(worker)
        answers: list[Answer] = []
        for attempt in range(ATTEMPTS):
            connection = held if attempt == 0 and held is not None else self._any
            answers.append(self._send(connection, path, make_headers()))
            if answers[-1].worker == worker:
                return answers
        others = sorted({answer.worker for answer in answers})
        raise AssertionError(f"{ATTEMPTS} requests to {path} were all answered by {others}")

    def _send(self, connection: httpx.Client, path: str, headers: Headers) -> Answer:
        start = time.monotonic()
        response = connection.get(self.base_url + path, headers=headers)
        return Answer(response, time.monotonic() - start)

    def close(self) -> None:
        for connection in (self._any, *self._held.values()):
            connection.close()

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


#: The apps of ``tests/e2e/apps`` under the servers that run them with several workers.
WORKER_APPS: dict[str, Example] = {
    app.name: app
    for app in (
        Example("asgi-uvicorn", UVICORN_WORKERS, "tests.e2e.apps.asgi_worker:app"),
        Example("wsgi-gunicorn", GUNICORN_WORKERS, "tests.e2e.apps.wsgi_worker:application"),
    )
}


@dataclass
class WorkerDeployment:
    """An app served by several workers, every one of them seen answering."""

    app: Example
    server: Server
    tenant: Tenant
    client: WorkerClient
    workers: list[int]

    def url(self, path: str) -> str:
        """The URL a client uses for ``path``: what its DPoP proofs name (``htu``)."""
        return self.server.url + path


@contextlib.contextmanager
def deploy_workers(
    app: str, tenant: Tenant, *, replay_store: str, log_dir: Path
) -> Iterator[WorkerDeployment]:
    """Serve ``WORKER_APPS[app]`` trusting ``tenant``, DPoP allowed, proofs kept in
    ``replay_store`` (``memory`` or a ``redis://`` URL); yields once every worker answers."""
    environment = {
        **server_environment(tenant.issuers, tenant.audience),
        "BEARERGUARD_DPOP": "allowed",
        "BEARERGUARD_REPLAY_STORE": replay_store,
    }
    served = WORKER_APPS[app]
    with (
        serve_app(served, environment=environment, log_dir=log_dir, ready_path="/pid") as server,
        WorkerClient(server.url) as client,
    ):
        workers = client.discover_workers(WORKERS)
        yield WorkerDeployment(served, server, tenant, client, workers)
