"""An ASGI app under uvicorn in a thread of the test process, on a loopback socket.

For tests that need the app's URL before the app is built (an MCP server's resource
names its own port): bind first, build, then run.

Example::

    with loopback_socket() as (sock, origin):
        with running(make_app(origin + "/mcp"), sock):
            httpx.get(origin + "/mcp")
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

START_DEADLINE = 30.0


@contextlib.contextmanager
def loopback_socket() -> Iterator[tuple[socket.socket, str]]:
    """A socket bound to a free port of 127.0.0.1, and its origin (``http://127.0.0.1:N``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def running(app: Any, sock: socket.socket) -> Iterator[None]:
    """Serve ``app`` on ``sock`` until the block ends; the server is stopped even on failure."""
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_DEADLINE
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start in time"
            time.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        thread.join(START_DEADLINE)
        assert not thread.is_alive(), "uvicorn did not stop"
