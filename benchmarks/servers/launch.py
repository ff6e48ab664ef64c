"""Start a benchmark app under uvicorn or gunicorn on 127.0.0.1, and make sure it is gone after.

A server is a subprocess (``python -m uvicorn`` / ``python -m gunicorn``) leading
a session and process group of its own: stopping it reaches every process it
forked (gunicorn's worker included), and a Ctrl-C in the terminal reaches only
the benchmark, whose ``finally`` then stops the servers in order (SIGTERM to
the group, SIGKILL if it lingers, SIGKILL again for anything left behind). The
apps also watch the benchmark's pid (``_serving``), for the case where it is
killed outright. A server binds port 0, and the OS picks a free port, which
the server names in its log: nothing can take it in between.

Server settings, as the issue asks: ONE worker process each. uvicorn runs with
``--loop uvloop --http httptools`` (production's fast loop and parser) and no
access log. gunicorn runs ``-w 1`` with the worker class asked for: ``sync``
(the default, which answers one request per connection and closes it) or
``gthread`` (which keeps connections alive, as the load generator does).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bearerguard._cli._process import LoggedServer, spawn_logged

from . import AUDIENCE, ISSUER, PARENT_PID_VARIABLE

__all__ = [
    "UVICORN",
    "Server",
    "ServerError",
    "ServerSpec",
    "gunicorn",
    "serve",
    "server_environment",
    "uvicorn",
]

HOST = "127.0.0.1"
START_DEADLINE = 60.0  # bounds a broken start; a cold Django import on a busy host takes seconds
STOP_DEADLINE = 10.0
GTHREAD_THREADS = 4


class ServerError(RuntimeError):
    """A server did not start, or did not answer; the message quotes its log."""


@dataclass(frozen=True)
class ServerSpec:
    """A server program and its settings; ``command(target)`` runs ``target`` under it."""

    label: str
    program: str
    arguments: tuple[str, ...]
    listening: re.Pattern[str]

    def command(self, target: str) -> list[str]:
        return [sys.executable, "-m", self.program, *self.arguments, target]


def uvicorn(*, loop: str = "uvloop", http: str = "httptools") -> ServerSpec:
    """uvicorn, one process; the benchmark uses production's uvloop and httptools.

    (The tests use ``asyncio`` and ``h11``: CI installs uvicorn without its extras.)
    """
    return ServerSpec(
        f"uvicorn --loop {loop} --http {http} (1 process, keep-alive)",
        "uvicorn",
        (
            *("--host", HOST),
            *("--port", "0"),
            *("--loop", loop),
            *("--http", http),
            "--no-access-log",
            *("--lifespan", "off"),
            *("--timeout-graceful-shutdown", "3"),
            "--factory",  # targets are create_app functions: keys are fetched at start-up
        ),
        re.compile(rf"Uvicorn running on http://{re.escape(HOST)}:(\d+)"),
    )


UVICORN = uvicorn()


def gunicorn(worker_class: str) -> ServerSpec:
    """gunicorn with one worker of ``worker_class`` (``sync`` or ``gthread``)."""
    threads = ("--threads", str(GTHREAD_THREADS)) if worker_class == "gthread" else ()
    label = (
        f"gunicorn -w 1 -k gthread --threads {GTHREAD_THREADS} (keep-alive)"
        if worker_class == "gthread"
        else f"gunicorn -w 1 -k {worker_class} (closes the connection after each response)"
    )
    return ServerSpec(
        label,
        "gunicorn",
        (
            *("--bind", f"{HOST}:0"),
            *("--workers", "1"),
            *("--worker-class", worker_class),
            *threads,
            *("--keep-alive", "5"),  # gthread only; the sync worker never keeps a connection
            *("--timeout", "30"),
            *("--graceful-timeout", "3"),
            *_no_control_socket(),
        ),
        re.compile(rf"Listening at: http://{re.escape(HOST)}:(\d+)"),
    )


def _no_control_socket() -> tuple[str, ...]:
    # Gunicorn 25.1+ opens a control socket under $HOME unless told not to.
    parts = importlib.metadata.version("gunicorn").split(".")
    major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    return ("--no-control-socket",) if (major, minor) >= (25, 1) else ()


def server_environment(jwks_uri: str, python_path: list[str]) -> dict[str, str]:
    """Ours, minus whatever would change what a server trusts or where it fetches, plus theirs."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("BEARERGUARD_")
        and name != "DJANGO_SETTINGS_MODULE"
        and name.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update(
        BEARERGUARD_ISSUER=ISSUER,
        BEARERGUARD_AUDIENCE=AUDIENCE,
        BEARERGUARD_JWKS_URI=jwks_uri,
        PYTHONPATH=os.pathsep.join([*python_path, *filter(None, [os.environ.get("PYTHONPATH")])]),
        PYTHONUNBUFFERED="1",  # a server that dies still leaves its last words in the log
    )
    env[PARENT_PID_VARIABLE] = str(os.getpid())
    return env


Server = LoggedServer  # a running server subprocess, leader of its own process group


@contextlib.contextmanager
def serve(
    spec: ServerSpec,
    target: str,
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
    ready_path: str = "/unguarded",
) -> Iterator[Server]:
    """Run ``target`` under ``spec`` until the block ends, then stop it and its whole group.

    Raises :class:`ServerError`, quoting the server's log, if it dies while
    starting or does not answer ``ready_path`` in time.
    """
    process = spawn_logged(spec.command(target), cwd=cwd, env=env, log_path=log_path)
    server = Server(process, log_path, host=HOST, stop_deadline=STOP_DEADLINE)
    try:
        _wait_until_answering(spec, target, server, ready_path)
        yield server
    finally:
        server.stop()


def _wait_until_answering(spec: ServerSpec, target: str, server: Server, path: str) -> None:
    problem = server.wait_until_answering(
        spec.listening, lambda port: _answers(server, path), within=START_DEADLINE
    )
    if problem is not None:
        raise ServerError(f"{' '.join(spec.command(target))} {problem}:\n{server.log()}")


def _answers(server: Server, path: str) -> bool:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=2.0)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True
