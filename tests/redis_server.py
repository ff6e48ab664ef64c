"""A real redis-server for the tests: 127.0.0.1, a free port, a temporary folder, no persistence.

Debian's ``redis-server`` package provides the binary (``scripts/redis-setup.sh``
installs it). The server can be stopped and started again on the same port, and
hung (SIGSTOP) and resumed (SIGCONT), to test what a client sees meanwhile.

Example::

    with RedisServer() as server:
        store = RedisReplayStore(server.url)
        server.stop()
        server.start()   # the same port again
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SETUP = "bash scripts/redis-setup.sh"
START_TIMEOUT = 10.0


def redis_server_binary() -> str:
    """The redis-server to run; fails the test (never skips it) when there is none."""
    found = shutil.which("redis-server")
    for candidate in (found, "/usr/bin/redis-server", "/usr/sbin/redis-server"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        f"redis-server is not installed: the Redis replay-store tests need it. Run `{SETUP}` "
        "(as root it installs Debian's redis-server package).",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process at a time, always on the same port."""

    def __init__(self, *, password: str | None = None) -> None:
        self.binary = redis_server_binary()
        self.password = password
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bearerguard-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (on the same port as before) and wait until it answers."""
        assert self.process is None, "already running"
        command = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
            "--logfile", str(self.folder / "redis.log"),
            "--daemonize", "no",
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.01)

    def _answers(self) -> bool:
        """A PING answered (+PONG, or -NOAUTH from a server with a password)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (resumed first if hung); its keys are gone, as without persistence."""
        process, self.process = self.process, None
        if process is None:
            return
        if self.paused:
            self.resume(process)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def pause(self) -> None:
        """Hang the server: the kernel still accepts connections, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self, process: subprocess.Popen[bytes] | None = None) -> None:
        process = process or self.process
        assert process is not None
        process.send_signal(signal.SIGCONT)
        self.paused = False

    def restore(self) -> None:
        """Bring the server back whatever a test left it in: resumed if hung, started if stopped.

        A fixture shared by tests that hang or stop the server calls it after each one.
        """
        if self.paused:
            self.resume()
        if self.process is None:
            self.start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
