"""The round trip of the Redis replay store, against a redis-server started on loopback.

``bearerguard.redis.RedisReplayStore.remember`` sends one ``SET key 1 NX PX ms``
and waits for the answer: its cost is a loopback round trip, which this measures
on a throwaway ``redis-server`` (127.0.0.1, a free port, no persistence) that it
starts and stops itself. Without a ``redis-server`` binary or the ``redis``
client, the figure is reported as not measured, with the reason.

Example::

    measure_round_trip(2000)   # {'us_median': 48.1, 'us_p99': 95.0, ...} or {'skipped': '...'}
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["measure_round_trip"]

_START_DEADLINE = 10.0


def measure_round_trip(calls: int) -> dict[str, Any]:
    """Time ``calls`` ``remember`` calls of new keys through the Redis store (µs each)."""
    binary = shutil.which("redis-server")
    if binary is None:
        return {"skipped": "no redis-server on PATH (scripts/redis-setup.sh installs it)"}
    if importlib.util.find_spec("redis") is None:
        return {"skipped": "the redis client is not installed (pip install 'bearerguard[redis]')"}
    # The optional extra, imported once it is known to be there.
    store_module = importlib.import_module("bearerguard.redis")

    with _redis_server(binary) as url:
        store = store_module.RedisReplayStore(url)
        try:
            now = time.time()
            store.remember("warm-up", now + 90, now)  # connects: not part of the figure
            times = []
            for i in range(calls):
                started = time.perf_counter_ns()
                fresh = store.remember(f"bench-{i}", now + 90, now)
                times.append((time.perf_counter_ns() - started) / 1000)
                if not fresh:
                    raise RuntimeError("the Redis store refused a new key")
            replayed = store.remember("bench-0", now + 90, now)
        finally:
            store.close()
    times.sort()
    return {
        "calls": calls,
        "us_median": statistics.median(times),
        "us_p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "replay_refused": not replayed,
    }


@contextlib.contextmanager
def _redis_server(binary: str) -> Iterator[str]:
    """A redis-server on 127.0.0.1 for the block; its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bearerguard-bench-redis-") as folder:
        command = [
            binary,
            *("--bind", "127.0.0.1"),
            *("--port", str(port)),
            *("--save", ""),
            *("--appendonly", "no"),
            *("--dir", folder),
            *("--daemonize", "no"),
        ]
        process = subprocess.Popen(  # noqa: S603 - our own argument list
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + _START_DEADLINE
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}")
                time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
