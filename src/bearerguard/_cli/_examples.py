"""The example APIs ``bearerguard demo`` serves: where they are, and how each is started.

The examples are the repository's ``examples/`` package (``examples.fastapi_app``
and its siblings), started as their docstrings document: ``uvicorn
examples.fastapi_app:app`` and so on, from the folder that holds ``examples/``.
A clone has that folder at its root. A wheel carries a copy of it at
``bearerguard/_examples/examples/`` (the build maps it there), so that an
installed bearerguard can run the demo too while ``examples`` never becomes a
top-level package of site-packages.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from ._process import stop_group

__all__ = [
    "API",
    "ENDPOINTS",
    "FRAMEWORKS",
    "PACKAGED",
    "Endpoint",
    "Example",
    "ExampleDidNotStart",
    "RunningExample",
    "find_examples",
    "holds_examples",
    "listen",
    "missing_modules",
    "no_control_socket",
    "run_example",
    "serve_example",
]

#: the API the examples are started with, as BEARERGUARD_RESOURCE: the dev issuer's API
#: identifier, and the tokens' audience (the verifier's audience defaults to the resource)
API = "https://api.example.com"
#: the copy of ``examples/`` a wheel installs with the package (absent in a clone)
PACKAGED = Path(__file__).resolve().parents[1] / "_examples"


@dataclass(frozen=True)
class Endpoint:
    """A route every example serves, and what it asks of a token."""

    path: str
    token: bool  # whether a token is needed at all
    scope: str | None = None  # the scope it must carry

    @property
    def needs(self) -> str:
        if self.scope:
            return f"a token with scope {self.scope}"
        return "any valid token" if self.token else "no token"


ENDPOINTS = (
    Endpoint("/api/public", token=False),
    Endpoint("/api/private", token=True),
    Endpoint("/api/private-scoped", token=True, scope="read:messages"),
    Endpoint("/api/contacts", token=True, scope="read:contacts"),
)

_READY_TIMEOUT = 60.0
_LOG_TAIL = 2000  # characters of a failed server's log worth showing


class ExampleDidNotStart(RuntimeError):
    """The example's server exited or never answered; the message holds its log."""


@dataclass(frozen=True)
class Example:
    """How an example API is served: the documented command, with a listening socket."""

    module: str
    server: str  # "uvicorn" or "gunicorn"
    imports: tuple[str, ...] = ()  # what the app needs beyond bearerguard (the extras' modules)

    def command(self, fd: int) -> list[str]:
        if self.server == "uvicorn":
            return [sys.executable, "-m", "uvicorn", self.module, "--fd", str(fd)]
        return [
            sys.executable, "-m", "gunicorn", "--bind", f"fd://{fd}", "--workers", "1",
            *no_control_socket(), self.module,
        ]  # fmt: skip


FRAMEWORKS: Mapping[str, Example] = {
    "fastapi": Example("examples.fastapi_app:app", "uvicorn", ("fastapi",)),
    "starlette": Example("examples.starlette_app:app", "uvicorn", ("starlette",)),
    "flask": Example("examples.flask_app:app", "gunicorn", ("flask",)),
    "django": Example(
        "examples.django_app.wsgi:application", "gunicorn", ("django", "rest_framework")
    ),
}


def holds_examples(folder: Path) -> bool:
    """Whether ``folder`` holds the ``examples`` package (its FastAPI app marks it)."""
    return (folder / "examples" / "fastapi_app.py").is_file()


def find_examples(start: Path | None = None) -> Path | None:
    """The folder holding ``examples/`` (the demo serves those apps), else ``None``.

    Looks in ``start`` (default: the working directory) and its parents: a clone
    you work in wins, with your edits. Then the copy installed with this package,
    which matches the installed code. Last, the folders above this package: an
    editable install of a clone, run from elsewhere.
    """
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents, PACKAGED, *Path(__file__).resolve().parents]
    return next((folder for folder in candidates if holds_examples(folder)), None)


def missing_modules(example: Example) -> list[str]:
    """The modules ``example`` needs (its framework, its server) that cannot be imported.

    Checked before starting it, so that a bare ``pip install bearerguard`` is told
    which extra to add rather than shown a server's traceback.
    """
    return [name for name in (*example.imports, example.server) if not _importable(name)]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or half-installed package
        return False


def listen(port: int = 0) -> socket.socket:
    """A socket listening on 127.0.0.1:``port`` (0: a free one), for the example's server.

    Bound here rather than by the server, so that the port is known (and an
    unavailable one reported) before the server starts. Raises OSError.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


@dataclass(frozen=True)
class RunningExample:
    """An example being served: where, by which process, and its log so far."""

    url: str
    process: subprocess.Popen[bytes]
    log: BinaryIO

    def log_tail(self) -> str:
        """The end of the server's log (under --serve it grows with every request)."""
        size = self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, size - 4 * _LOG_TAIL))  # UTF-8: at most 4 bytes a character
        return self.log.read().decode(errors="replace")[-_LOG_TAIL:]


@contextmanager
def serve_example(
    example: Example, root: Path, env: Mapping[str, str], listener: socket.socket | None = None
) -> Iterator[str]:
    """:func:`run_example`, for callers that need only the example's base URL."""
    with run_example(example, root, env, listener) as running:
        yield running.url


@contextmanager
def run_example(
    example: Example, root: Path, env: Mapping[str, str], listener: socket.socket | None = None
) -> Iterator[RunningExample]:
    """Run ``example`` (from the ``examples/`` in ``root``) under its server on ``listener``
    (default: a free port of 127.0.0.1) until it answers, then stop its whole process
    group on leaving. Raises :class:`ExampleDidNotStart` with the server's log.

    ``root`` goes first on the server's PYTHONPATH, before whatever is there already:
    the server imports ``examples`` from ``root`` and bearerguard from where this
    process found it (a wheel unpacked on PYTHONPATH, say).
    """
    listener = listener or listen()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    path = [str(root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(path)}
    with tempfile.TemporaryFile() as log, listener:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            example.command(listener.fileno()),
            cwd=root,
            env=environment,
            pass_fds=(listener.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its workers
        )
        listener.close()  # the server holds its own copy
        running = RunningExample(url, process, log)
        try:
            _wait_until_serving(running)
            yield running
        finally:
            stop_group(process)


def _wait_until_serving(example: RunningExample) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    with httpx.Client(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            if example.process.poll() is not None:
                break
            try:
                http.get(example.url + "api/public")
                return
            except httpx.TransportError:
                time.sleep(0.1)
    raise ExampleDidNotStart("The example API did not start:\n" + example.log_tail())


def no_control_socket() -> tuple[str, ...]:
    """Gunicorn's flag against the control socket it opens under $HOME since 25.1."""
    version = importlib.metadata.version("gunicorn").split(".")
    major, minor = int(version[0]), int(version[1]) if len(version) > 1 else 0
    return ("--no-control-socket",) if (major, minor) >= (25, 1) else ()
