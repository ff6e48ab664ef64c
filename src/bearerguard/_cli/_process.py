"""Servers run as subprocesses that lead their own process group (``start_new_session``).

Stopping the leader alone would leave a gunicorn or uvicorn worker behind; these
stop the whole group. Shared by ``bearerguard demo``, the end-to-end tests and the
load benchmark, which all start example servers on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["group_gone", "spawn_logged", "stop_group"]


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
