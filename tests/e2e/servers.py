"""Start an example under a real server on 127.0.0.1, and make sure it is gone afterwards.

A server is a subprocess (``python -m uvicorn`` / ``python -m gunicorn``) started
from the repository root in a session and process group of its own, so that
stopping it reaches every process it forked (gunicorn's worker included) and a
Ctrl-C in the terminal never reaches it half-way: the fixtures stop it, in order.
It binds port 0 of 127.0.0.1 and names the port it got in its log, which is
also where its stdout and stderr go and what a failure quotes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bearerguard._cli._process import LoggedServer, spawn_logged
from bearerguard._cli.demo import _no_control_socket

from .identity_provider import HOST, Tenant

REPO_ROOT = Path(__file__).resolve().parents[2]
# Generous deadlines: they bound a broken run, they do not measure speed. A cold
# import of Django or FastAPI on a loaded CI machine can take seconds.
START_DEADLINE = 60.0
STOP_DEADLINE = 15.0
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class ServerKind:
    """A server program: its command line for an app, and how it says where it listens.

    The server binds port 0 and the OS picks a free port, which the server then
    names in its log: no other process can take that port in between, as it could
    take one we had picked and released.
    """

    name: str
    arguments: tuple[str, ...]
    listening: re.Pattern[str]

    def command(self, target: str) -> list[str]:
        return [sys.executable, "-m", self.name, target, *self.arguments]


UVICORN = ServerKind(
    "uvicorn",
    (
        *("--host", HOST),
        *("--port", "0"),
        *("--timeout-graceful-shutdown", "3"),
    ),
    re.compile(rf"Uvicorn running on http://{re.escape(HOST)}:(\d+)"),
)


GUNICORN = ServerKind(
    "gunicorn",
    (
        *("--bind", f"{HOST}:0"),
        *("--workers", "1"),  # one worker, one key cache: the fetch counts mean something
        *("--timeout", "20"),
        *("--graceful-timeout", "3"),
        *_no_control_socket(),
    ),
    re.compile(rf"Listening at: http://{re.escape(HOST)}:(\d+)"),
)


@dataclass(frozen=True)
class Example:
    """One runnable example: the app, and the server it is documented with."""

    name: str
    server: ServerKind
    target: str

    @property
    def asgi(self) -> bool:
        return self.server is UVICORN


EXAMPLES: dict[str, Example] = {
    example.name: example
    for example in (
        Example("fastapi", UVICORN, "examples.fastapi_app:app"),
        Example("starlette", UVICORN, "examples.starlette_app:app"),
        Example("flask", GUNICORN, "examples.flask_app:app"),
        Example("django", GUNICORN, "examples.django_app.wsgi:application"),
        Example("django-asgi", UVICORN, "examples.django_app.asgi:application"),
    )
}


def example_environment(issuers: Sequence[str], resource: str) -> dict[str, str]:
    """The environment of an example's server, as the README starts them: the issuers and
    ``BEARERGUARD_RESOURCE`` (the audience defaults to it), no ``BEARERGUARD_AUDIENCE``.

    The example then serves its RFC 9728 metadata, and every refusal names it.
    """
    return {**_base_environment(issuers), "BEARERGUARD_RESOURCE": resource}


def server_environment(issuers: Sequence[str], audience: str) -> dict[str, str]:
    """The environment of a server of the tests' own apps: the issuers and
    ``BEARERGUARD_AUDIENCE`` (no resource: no metadata, challenges without it)."""
    return {**_base_environment(issuers), "BEARERGUARD_AUDIENCE": audience}


def _base_environment(issuers: Sequence[str]) -> dict[str, str]:
    """Ours, minus anything that would change what a server trusts, plus the issuers."""
    env = {name: value for name, value in os.environ.items() if not _inherited_setting(name)}
    env["BEARERGUARD_ISSUER"] = ",".join(issuers)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
    )
    env["PYTHONUNBUFFERED"] = "1"  # a server that dies still leaves its last words in the log
    return env


def _inherited_setting(name: str) -> bool:
    return (
        name.startswith("BEARERGUARD_")
        # Another test in this session may have pointed Django at its own settings.
        or name == "DJANGO_SETTINGS_MODULE"
        # httpx honours proxy variables: the fetches must go straight to the loopback provider.
        or name.lower() in {"http_proxy", "https_proxy", "all_proxy"}
    )


Server = LoggedServer  # a running example server subprocess, leader of its own process group


@contextlib.contextmanager
def serve(
    example: Example,
    *,
    issuers: Sequence[str],
    resource: str,
    log_dir: Path,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``example`` on 127.0.0.1 until the block ends, then stop it and check it is gone.

    Started as the README starts it (:func:`example_environment`), with any other
    ``BEARERGUARD_*`` ``settings``. Fails, quoting the server's log, if it dies starting
    or does not answer in time.
    """
    log_path = log_dir / f"{example.name}.log"
    process = spawn_logged(
        example.server.command(example.target),
        cwd=REPO_ROOT,
        env={**example_environment(issuers, resource), **(settings or {})},
        log_path=log_path,
    )
    server = Server(process, log_path, host=HOST, stop_deadline=STOP_DEADLINE)
    try:
        _wait_until_answering(example, server)
        yield server
    finally:
        server.stop()
        assert server.gone(), f"{example.name}: processes left in group {server.group}"


def _wait_until_answering(example: Example, server: Server) -> None:
    """Read the server's port from its log, then poll until it answers HTTP."""
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        problem = server.wait_until_answering(
            example.server.listening,
            lambda port: _answers(client, f"http://{HOST}:{port}/api/public"),
            within=START_DEADLINE,
        )
    if problem is not None:
        command = " ".join(example.server.command(example.target))
        pytest.fail(f"{example.name} ({command}) {problem}:\n{server.log()}", pytrace=False)


def _answers(client: httpx.Client, url: str) -> bool:
    try:
        client.get(url)
    except httpx.TransportError:
        return False
    return True


@dataclass
class Deployment:
    """An example running under a real server and trusting one tenant of the provider."""

    example: Example
    server: Server
    tenant: Tenant
    client: httpx.Client

    def get(
        self, path: str, *, token: str | None = None, authorization: str | None = None
    ) -> httpx.Response:
        """GET ``path``, with ``Authorization: Bearer <token>`` or a raw ``authorization``."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if authorization is not None:
            headers["Authorization"] = authorization
        return self.client.get(self.server.url + path, headers=headers)


@contextlib.contextmanager
def deploy(example: str, tenant: Tenant, log_dir: Path) -> Iterator[Deployment]:
    """Serve ``example`` trusting both issuers of ``tenant`` (its own and its custom domain),
    its resource the tenant's audience."""
    with (
        serve(
            EXAMPLES[example], issuers=tenant.issuers, resource=tenant.audience, log_dir=log_dir
        ) as server,
        httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as client,
    ):
        yield Deployment(EXAMPLES[example], server, tenant, client)


# --- apps of the tests' own, under several worker processes ----------------------------------

#: What installs the servers (uvicorn, gunicorn) with the rest of the test dependencies.
SERVERS_SETUP = "bash scripts/bootstrap.sh dev"
#: Worker processes behind one port: the parent binds it, every worker accepts on it.
WORKERS = 2

UVICORN_WORKERS = ServerKind(
    "uvicorn",
    (
        *UVICORN.arguments,
        *("--workers", str(WORKERS)),
    ),
    UVICORN.listening,
)

GUNICORN_WORKERS = ServerKind(
    "gunicorn",
    (
        *("--bind", f"{HOST}:0"),
        *("--workers", str(WORKERS)),  # sync workers: one request at a time each
        *("--timeout", "20"),  # above tests.e2e.apps.gates.HOLD_LIMIT (15 s): a held worker lives
        *("--graceful-timeout", "3"),
        *_no_control_socket(),
    ),
    GUNICORN.listening,
)


def require_server(kind: ServerKind) -> None:
    """Fail the test (never skip it) when ``kind``'s program is not installed."""
    if importlib.util.find_spec(kind.name) is None:
        pytest.fail(
            f"{kind.name} is not installed: the end-to-end tests serve apps with it. Run "
            f"`{SERVERS_SETUP}` (it installs the test dependencies, {kind.name} included).",
            pytrace=False,
        )


@contextlib.contextmanager
def serve_app(
    app: Example,
    *,
    environment: Mapping[str, str],
    log_dir: Path,
    ready_path: str = "/api/public",
) -> Iterator[Server]:
    """Run ``app`` with ``environment`` until the block ends, then stop it and check it is gone.

    Like :func:`serve`, for an app of the tests' own (``app.target`` may name a module
    under ``tests``) or an example with settings of the test's own: the caller gives the
    whole environment (start from :func:`server_environment`, or :func:`example_environment`
    for an example) and the public path that answers once the server is up.

    Example::

        environment = {**server_environment(tenant.issuers, tenant.audience),
                       "BEARERGUARD_DPOP": "required"}
        with serve_app(app, environment=environment, log_dir=tmp_path, ready_path="/pid") as s:
            httpx.get(s.url + "/pid")
    """
    require_server(app.server)
    log_path = log_dir / f"{app.name}.log"
    process = spawn_logged(
        app.server.command(app.target), cwd=REPO_ROOT, env=environment, log_path=log_path
    )
    server = Server(process, log_path, host=HOST, stop_deadline=STOP_DEADLINE)
    try:
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            problem = server.wait_until_answering(
                app.server.listening,
                lambda port: _answers(client, f"http://{HOST}:{port}{ready_path}"),
                within=START_DEADLINE,
            )
        if problem is not None:
            command = " ".join(app.server.command(app.target))
            pytest.fail(f"{app.name} ({command}) {problem}:\n{server.log()}", pytrace=False)
        yield server
    finally:
        server.stop()
        assert server.gone(), f"{app.name}: processes left in group {server.group}"


# --- an app whose settings name its own URL (an MCP server's resource) -----------------------


def bound_listener() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1, for :func:`serve_on`.

    Bound before the server starts, so that the app's settings can name its URL (an
    MCP server's ``BEARERGUARD_RESOURCE``) and no other process can take the port.
    """
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen()
    return listener


@contextlib.contextmanager
def serve_on(
    listener: socket.socket,
    target: str,
    *,
    environment: Mapping[str, str],
    log_dir: Path,
    ready_path: str,
) -> Iterator[Server]:
    """Run the ASGI app ``target`` under uvicorn on ``listener`` until the block ends.

    The socket is handed to uvicorn (``--fd``), then closed here: the server holds its
    own copy. Fails, quoting the log, if the server dies starting or does not answer
    ``ready_path`` in time; stops it and checks its process group is gone afterwards.

    Example::

        listener = bound_listener()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
        with serve_on(listener, "examples.mcp_server:app", environment=env,
                      log_dir=tmp_path, ready_path="/.well-known/oauth-protected-resource/mcp"):
            ...
    """
    require_server(UVICORN)
    name = target.partition(":")[0]
    log_path = log_dir / f"{name}.log"
    fd = listener.fileno()
    command = [sys.executable, "-m", "uvicorn", target, "--fd", str(fd)]
    command += ["--timeout-graceful-shutdown", "3"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stopped as a group, like every example server
            pass_fds=(fd,),
        )
    port = listener.getsockname()[1]
    listener.close()
    server = Server(process, log_path, host=HOST, port=port, stop_deadline=STOP_DEADLINE)
    try:
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            problem = server.wait_until_answering(
                UVICORN.listening,  # unused: the port is known
                lambda port: _answers(client, f"http://{HOST}:{port}{ready_path}"),
                within=START_DEADLINE,
            )
        if problem is not None:
            pytest.fail(f"{target} ({' '.join(command)}) {problem}:\n{server.log()}", pytrace=False)
        yield server
    finally:
        server.stop()
        assert server.gone(), f"{target}: processes left in group {server.group}"
