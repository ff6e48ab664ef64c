"""Gates: a test stops a request of these apps in the worker that took it, and lets it go later.

A worker process that holds a request at a gate accepts no other connection: a
gunicorn sync worker serves one request at a time, and a uvicorn worker waits at
the gate with its event loop blocked. The kernel then hands the next connection
to a worker that is not held, which is how a test decides, with no luck involved,
which worker answers: hold every other one first. A request passes a gate only
when the test opens it, so requests held at one gate on several workers go on
together.

The protocol, both ends of it (the apps call :func:`wait_at_gate`, the tests use
:class:`Gate`), is files in a folder the server is given as ``WORKER_GATES``:

* the test creates a gate: a folder of its own under ``WORKER_GATES``;
* a request names it in a ``Worker-Gate`` header; the worker that takes it
  records its arrival (``<pid>.arrived`` in the gate's folder), then waits;
* the test sees the arrival, so it knows which worker holds the request, and
  opens the gate when it chooses (it creates ``open`` in the folder);
* the worker lets the request through to the app. A gate that stays shut for
  :data:`HOLD_LIMIT` gets the request refused (408) instead of served late.

Example::

    gate = Gate.create(gates_folder)
    pending = pool.submit(httpx.get, url + "/pid", headers=gate.header)
    held = gate.wait_for_arrival(known=set(), pending=[pending])   # the worker holding it
    gate.open()
    pending.result()                                      # answered by worker ``held``
    gate.remove()
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The environment variable naming the folder of the gates; the server's workers inherit it.
GATES_VARIABLE = "WORKER_GATES"
#: The request header naming the gate a request waits at.
GATE_HEADER = "Worker-Gate"
# Long enough for a second worker still importing the app while the first is held; below
# gunicorn's worker timeout in the tests (20 s), which would kill a worker held longer.
HOLD_LIMIT = 15.0
# How often each side looks at the folder: short, as requests held on several workers
# should go on as nearly together as possible.
POLL = 0.001
_GATE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_OPEN = "open"
_ARRIVED = ".arrived"


class GateRefusal(Exception):
    """Why a request naming a gate may not go through: an HTTP status and what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def wait_at_gate(name: str) -> None:
    """Hold the request in this process until the test opens gate ``name``.

    Raises :class:`GateRefusal` when the server was given no ``WORKER_GATES``
    folder, ``name`` is no gate the test created, or the gate stays shut for
    :data:`HOLD_LIMIT` seconds.
    """
    folders = os.environ.get(GATES_VARIABLE)
    if not folders:
        raise GateRefusal(
            400,
            f"this server was started without {GATES_VARIABLE}: set it to a folder the "
            f"test creates gates in to use the {GATE_HEADER} header",
        )
    if not _GATE_NAME.fullmatch(name):
        raise GateRefusal(
            400, f"{GATE_HEADER} must be 1 to 64 letters, digits, '-' or '_', not {name!r}"
        )
    gate = Path(folders) / name
    if not gate.is_dir():
        raise GateRefusal(
            400, f"no gate {name!r}: create its folder in {GATES_VARIABLE} before sending requests"
        )
    (gate / f"{os.getpid()}{_ARRIVED}").touch()
    deadline = time.monotonic() + HOLD_LIMIT
    while not (gate / _OPEN).exists():
        if time.monotonic() > deadline:
            raise GateRefusal(408, f"gate {name!r} was not opened within {HOLD_LIMIT:g} s")
        time.sleep(POLL)


@dataclass(frozen=True)
class Gate:
    """The test's end of one gate: where workers record their arrival, and its opening."""

    folder: Path

    @classmethod
    def create(cls, gates: Path) -> Gate:
        """A new, shut gate in ``gates`` (the folder the server was given as ``WORKER_GATES``)."""
        folder = gates / secrets.token_hex(8)
        folder.mkdir(parents=True)
        return cls(folder)

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def header(self) -> dict[str, str]:
        """The header that sends a request to this gate."""
        return {GATE_HEADER: self.name}

    def arrivals(self) -> set[int]:
        """The process ids of the workers that have reached the gate."""
        return {int(path.name.removesuffix(_ARRIVED)) for path in self.folder.glob(f"*{_ARRIVED}")}

    def wait_for_arrival(self, *, known: set[int], pending: Iterable[Future[Any]]) -> int:
        """The worker that reaches the gate besides the ``known`` ones, once it has.

        ``pending`` are the requests that should be waiting at shut gates, the one on
        its way here included: any of them answered already (refused by its gate, say)
        is quoted rather than waited out. A worker still starting takes no connection
        yet; the wait is bounded by :data:`HOLD_LIMIT`, as those already held are.
        """
        deadline = time.monotonic() + HOLD_LIMIT
        while not (new := self.arrivals() - known):
            for request in pending:
                if request.done():
                    raise AssertionError(
                        f"a request sent to a gate was answered without being let through: "
                        f"{request.result()!r}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no worker but {sorted(known)} reached gate {self.name} "
                    f"within {HOLD_LIMIT:g} s"
                )
            time.sleep(POLL)
        assert len(new) == 1, f"workers {sorted(new)} reached gate {self.name} at once"
        return new.pop()

    def is_open(self) -> bool:
        return (self.folder / _OPEN).exists()

    def open(self) -> float:
        """Let every request held at the gate go on; when it opened (``time.monotonic()``,
        read just before, so that no wait timed from it is cut short)."""
        opened = time.monotonic()
        (self.folder / _OPEN).touch()
        return opened

    def remove(self) -> None:
        """Remove the gate's folder, once every request sent to the gate has been answered."""
        shutil.rmtree(self.folder, ignore_errors=True)
