"""Requests to a server of several worker processes, each sent to the worker the test names.

The apps in ``tests/e2e/apps`` put the answering process's id in a ``Worker-Pid``
header on every response, refusals included, so a test always knows which worker
answered. Which worker *takes* a new connection is the kernel's choice, among the
workers waiting to accept one; an idle worker may win that race every time. So
:class:`WorkerClient` leaves it no choice: it holds the workers it does not want
at a gate (:mod:`tests.e2e.apps.gates`: a held worker, gunicorn's sync worker or
uvicorn's with its event loop blocked, accepts no connection), sends the request
on a new connection, which only the wanted worker can take, then lets the others
go. The same gates line requests up, one held in each worker, and let them go
on together. No connection is kept, so the apps' servers may close every one.

:func:`deploy_workers` serves one of :data:`WORKER_APPS` (an ASGI app under
``uvicorn --workers 2``, a WSGI app under gunicorn's sync workers) with DPoP
allowed, the replay store the test names and any other settings it gives
(introspection's, say).

Example::

    with deploy_workers("asgi-uvicorn", tenant, replay_store=redis.url, log_dir=tmp) as api:
        first, second = api.workers
        response = api.client.get_from("/pid", {}, worker=second)   # answered by second
        answers = api.client.from_each("/pid", lambda: {})          # one from each, together
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from .apps.gates import GATES_VARIABLE, Gate
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

Headers = Mapping[str, str]


@dataclass(frozen=True)
class Answer:
    """A response, and how long it took from the moment the request could go on (sent, or
    let through its gate) to the answer."""

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


@dataclass(frozen=True, repr=False)
class _Sent:
    """A response, and when it had been read (``time.monotonic()``)."""

    response: httpx.Response
    finished: float

    def __repr__(self) -> str:
        return f"{self.response.status_code} {self.response.text}"


@dataclass(frozen=True)
class _Held:
    """A request waiting at ``gate`` in ``worker``, and its answer to come."""

    worker: int
    gate: Gate
    sent: Future[_Sent]

    def answered(self) -> _Sent:
        """The answer, once it came: from the worker that held the request."""
        sent = self.sent.result()
        answered_by = worker_of(sent.response)
        assert answered_by == self.worker, (
            f"worker {answered_by} answered a request worker {self.worker} held: {sent!r}"
        )
        return sent

    def answer(self, *, since: float) -> Answer:
        """The answer, timed from ``since`` (when its gate opened)."""
        sent = self.answered()
        return Answer(sent.response, sent.finished - since)


class _Gatekeeper:
    """Requests held at gates, each waiting for its answer in a thread of its own.

    On exit every gate is opened, every answer awaited and every gate removed, so that
    no worker stays held after a failed test.
    """

    def __init__(self, send: Callable[[str, Headers], _Sent], folder: Path, threads: int) -> None:
        self._send = send
        self._folder = folder
        self._pool = ThreadPoolExecutor(max_workers=threads)
        self._gates: list[Gate] = []
        self._held: list[_Held] = []

    def gate(self) -> Gate:
        """A new, shut gate."""
        gate = Gate.create(self._folder)
        self._gates.append(gate)
        return gate

    def hold(self, gate: Gate, path: str, headers: Headers) -> _Held:
        """Send a GET of ``path`` to ``gate`` on a new connection; once a worker holds it.

        The workers held at gates still shut accept no connection, so one that is not
        held takes it.
        """
        sent = self._pool.submit(self._send, path, {**headers, **gate.header})
        waiting = [held.sent for held in self._held if not held.gate.is_open()]
        worker = gate.wait_for_arrival(
            known={held.worker for held in self._held if held.gate == gate},
            pending=[sent, *waiting],
        )
        held = _Held(worker, gate, sent)
        self._held.append(held)
        return held

    def __enter__(self) -> _Gatekeeper:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for gate in self._gates:
            gate.open()
        self._pool.shutdown(wait=True)
        for gate in self._gates:
            gate.remove()


class WorkerClient:
    """An HTTP client for a multi-worker server: each request to the worker the test names.

    ``gates`` is the folder the server's workers were given as ``WORKER_GATES``.

    Example::

        with WorkerClient("http://127.0.0.1:8000", gates) as client:
            first, second = client.discover_workers(2)
            worker_of(client.get_from("/pid", {}, worker=second))   # second, every time
    """

    def __init__(self, base_url: str, gates: Path) -> None:
        self.base_url = base_url
        self.gates = gates
        #: The process ids of the server's workers, once discovered.
        self.workers: list[int] = []
        # No connection kept: each request is a new connection, which the kernel gives to a
        # worker waiting to accept one (not one held at a gate).
        self._http = httpx.Client(
            trust_env=False,
            timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def get(self, path: str, headers: Headers | None = None) -> httpx.Response:
        """GET ``path`` on a new connection, answered by any worker."""
        return self._http.get(self.base_url + path, headers=headers)

    def discover_workers(self, count: int) -> list[int]:
        """Hold ``count`` requests for ``/pid`` at one gate, each in a worker none of the
        others holds, then let them go; the workers' process ids, in the order they took them.
        """
        with self._gatekeeper(threads=count) as keeper:
            gate = keeper.gate()
            held = [keeper.hold(gate, "/pid", {}) for _ in range(count)]
            gate.open()
            for request in held:
                assert request.answered().response.status_code == 200
        self.workers = [request.worker for request in held]
        return self.workers

    def get_from(
        self,
        path: str,
        headers: Headers,
        *,
        worker: int | None = None,
        other_than: int | None = None,
    ) -> httpx.Response:
        """GET ``path`` from ``worker`` (or from a worker other than ``other_than``).

        The request is sent once, to that worker alone: the others are held at gates
        until it has answered.
        """
        if (worker is None) == (other_than is None):
            raise TypeError("name either the worker=... to reach or the one to avoid (other_than=)")
        wanted = worker if worker is not None else self._other_than(other_than)
        with self._holding_all_but(wanted):
            response = self.get(path, headers)
        assert worker_of(response) == wanted, (
            f"worker {worker_of(response)} answered though every worker but {wanted} was held"
        )
        return response

    def from_each(self, path: str, make_headers: Callable[[], Headers]) -> list[Answer]:
        """GET ``path`` from every worker at once, with new headers (a new proof, say) for
        each request; the answers, one per worker, timed from the moment they went on.

        The requests are held at one gate, one in each worker, then let go together.
        """
        with self._gatekeeper() as keeper:
            gate = keeper.gate()
            held = [keeper.hold(gate, path, make_headers()) for _ in self.workers]
            opened = gate.open()
            answers = [request.answer(since=opened) for request in held]
        assert sorted(answer.worker for answer in answers) == sorted(self.workers)
        return answers

    @contextlib.contextmanager
    def _holding_all_but(self, wanted: int) -> Iterator[None]:
        """Every worker but ``wanted`` held at a gate while the block runs.

        Each hold goes to a worker not held yet, perhaps ``wanted`` itself: that one is
        let go (first holding the others) before the block.
        """
        assert wanted in self.workers, f"no worker {wanted} among {self.workers}"
        others = set(self.workers) - {wanted}
        with self._gatekeeper() as keeper:
            held: list[_Held] = []
            while not others <= {request.worker for request in held}:
                request = keeper.hold(keeper.gate(), "/pid", {})
                assert request.worker in self.workers, (
                    f"worker {request.worker} is none of {self.workers}: was one restarted?"
                )
                held.append(request)
            for request in held:
                if request.worker == wanted:
                    request.gate.open()
            yield
            for request in held:
                request.gate.open()
            for request in held:
                assert request.answered().response.status_code == 200

    def _other_than(self, avoided: int | None) -> int:
        assert avoided in self.workers, f"no worker {avoided} among {self.workers}"
        return next(worker for worker in self.workers if worker != avoided)

    def _gatekeeper(self, threads: int | None = None) -> _Gatekeeper:
        return _Gatekeeper(self._send, self.gates, threads or len(self.workers))

    def _send(self, path: str, headers: Headers) -> _Sent:
        response = self.get(path, headers)
        return _Sent(response, time.monotonic())

    def close(self) -> None:
        self._http.close()

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
    app: str,
    tenant: Tenant,
    *,
    replay_store: str,
    log_dir: Path,
    settings: Mapping[str, str] | None = None,
) -> Iterator[WorkerDeployment]:
    """Serve ``WORKER_APPS[app]`` trusting ``tenant``, DPoP allowed, proofs kept in
    ``replay_store`` (``memory`` or a ``redis://`` URL), its gates in ``log_dir``;
    yields once every worker has been held at a gate and answered.

    ``settings`` are more of the server's environment (``BEARERGUARD_INTROSPECTION_*``,
    say); they may not name the gates' folder, which the workers must share with the test.
    """
    gates = log_dir / "gates"
    if settings is not None and GATES_VARIABLE in settings:
        raise ValueError(
            f"settings may not set {GATES_VARIABLE}: deploy_workers gives the workers the "
            "gates in log_dir"
        )
    gates.mkdir()
    environment = {
        **server_environment(tenant.issuers, tenant.audience),
        "BEARERGUARD_DPOP": "allowed",
        "BEARERGUARD_REPLAY_STORE": replay_store,
        **(settings or {}),
        GATES_VARIABLE: str(gates),
    }
    served = WORKER_APPS[app]
    with (
        serve_app(served, environment=environment, log_dir=log_dir, ready_path="/pid") as server,
        WorkerClient(server.url, gates) as client,
    ):
        workers = client.discover_workers(WORKERS)
        yield WorkerDeployment(served, server, tenant, client, workers)
