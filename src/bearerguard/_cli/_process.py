"""Servers run as subprocesses that lead their own process group (``start_new_session``).

Stopping the leader alone would leave a gunicorn or uvicorn worker behind; these
stop the whole group. Shared by ``bearerguard demo``, the end-to-end tests and the
load benchmark, which all start example servers on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LoggedServer", "group_gone", "spawn_logged", "stop_group"]


def spawn_logged(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session (so a process group) of its own, its output in
    ``log_path``, its input closed.

    Example::

        process = spawn_logged(["uvicorn", "app:app"], cwd=root, env=env, log_path=log)
        ...
        stop_group(process)
    """
    with log_path.open("wb") as log:  # the child has its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - the caller's own argument list
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(process: subprocess.Popen[bytes], deadline: float = 10.0) -> None:
    """SIGTERM the group ``process`` leads, SIGKILL it if the leader lingers past
    ``deadline`` seconds, reap the leader, then SIGKILL whatever the group still holds
    (the worker of a master that crashed).

    Example::

        process = subprocess.Popen(command, start_new_session=True)
        ...
        stop_group(process)
    """
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(deadline)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
    _signal_group(process.pid, signal.SIGKILL)


def group_gone(process: subprocess.Popen[bytes], deadline: float = 10.0) -> bool:
    """Whether the leader has been reaped and, within ``deadline`` seconds, no process
    is left in its group."""
    if process.returncode is None:
        return False
    end = time.monotonic() + deadline
    while _group_alive(process.pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _signal_group(group: int, signum: signal.Signals) -> None:
    # PermissionError: the group is gone and its id taken by someone else's process.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LoggedServer:
    """A server started by :func:`spawn_logged`: its process group, its log, its port.

    The server binds port 0 and names the port the OS gave it in its log, which
    :meth:`wait_until_answering` reads: nothing can take the port in between.

    Example::

        server = LoggedServer(spawn_logged(command, cwd=root, env=env, log_path=log))
        problem = server.wait_until_answering(listening, answers, within=60)
        ...
        server.stop()
    """

    process: subprocess.Popen[bytes]
    log_path: Path
    host: str = "127.0.0.1"
    port: int = 0  # known once the server has said where it listens
    stop_deadline: float = 10.0  # seconds a stopped server gets before SIGKILL
    group: int = field(init=False)

    def __post_init__(self) -> None:
        self.group = self.process.pid  # start_new_session: the leader's pid names the group

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_answering(
        self, listening: re.Pattern[str], answers: Callable[[int], bool], *, within: float
    ) -> str | None:
        """Read the port from the log (``listening``'s first group), then poll until
        ``answers(port)``: ``None`` once it does, else why not (it died, or time ran out)."""
        deadline = time.monotonic() + within
        while self.process.poll() is None and time.monotonic() < deadline:
            if not self.port and (found := listening.search(self.log())):
                self.port = int(found[1])
            if self.port and answers(self.port):
                return None
            time.sleep(0.05)
        if self.process.poll() is None:
            return f"did not answer within {within:g} s"
        return f"exited with status {self.process.returncode}"

    def stop(self) -> None:
        """SIGTERM the whole group, SIGKILL it if it lingers, and reap the leader."""
        stop_group(self.process, self.stop_deadline)

    def gone(self) -> bool:
        """Whether the leader has been reaped and no process is left in its group."""
        return group_gone(self.process, self.stop_deadline)
