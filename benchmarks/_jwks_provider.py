"""A counting identity provider on 127.0.0.1 for the JWKS benchmark, in its own process.

The benchmark's claims are about how often a real ``Verifier`` asks the provider
for its documents, so the provider is a real HTTP server on loopback (not a mock
transport): the verifier's own sync and async fetch code runs, sockets and all.
Each tenant lives under its own path (``http://127.0.0.1:PORT/a/``), serving
OpenID Connect discovery and a JWK Set, and every request is counted on arrival.

An artificial latency stands in for the round trip to a real provider. A request
can also be *held* (answered only once released), so that a fetch stays in
flight for exactly as long as a measurement needs it to.

The server runs in a child process (``python _jwks_provider.py``), as a real
provider is remote: in the benchmark's process its handler threads would compete
for the interpreter lock with the verifications being timed. The parent steers
it through a small control API under ``/_bench/`` (never counted) and stops it
by closing its stdin, so the child also ends if the parent dies.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bearerguard._background import serve_in_background, stop_serving

__all__ = ["CountingProvider", "Hold"]

DISCOVERY = "discovery"
JWKS = "jwks"
_DOCUMENTS = {".well-known/openid-configuration": DISCOVERY, "jwks.json": JWKS}
_HOLD_LIMIT = 60.0  # seconds: a held request is answered by then even if nobody releases it
_CONTROL_TIMEOUT = _HOLD_LIMIT + 10.0


# --- the parent's side -------------------------------------------------------------------------


class Hold:
    """The next request for one tenant's document, held by the provider until released."""

    def __init__(self, provider: CountingProvider, tenant: str, kind: str) -> None:
        self._provider = provider
        self._path = f"{tenant}/{kind}"
        self.released = False

    def wait_arrived(self, timeout: float) -> bool:
        """Block until the held request reached the provider: a fetch is then in flight."""
        answer = self._provider.control("GET", f"arrived/{self._path}?timeout={timeout:g}")
        return bool(answer["arrived"])

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._provider.control("POST", f"release/{self._path}")


class CountingProvider:
    """Tenants' discovery documents and key sets, served by a child process on loopback.

    Example::

        with CountingProvider(latency=0.05) as provider:
            provider.publish("a", [jwk])
            issuer = provider.issuer("a")        # http://127.0.0.1:PORT/a/
            ...
            provider.hits("a")                   # {"discovery": 1, "jwks": 1}
    """

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> CountingProvider:
        command = [sys.executable, __file__, "--latency", repr(self.latency)]
        self._process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None  # noqa: S101 - asked for above
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.__exit__()
            raise RuntimeError(f"the benchmark's provider did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None  # noqa: S101 - asked for in __enter__
        assert process.stdout is not None  # noqa: S101
        process.stdin.close()  # the child's signal to stop
        try:
            process.wait(10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def control(self, method: str, path: str, body: bytes | None = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=_CONTROL_TIMEOUT)
        try:
            connection.request(method, f"/_bench/{path}", body=body)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"provider control {path}: HTTP {response.status}")
            return json.loads(payload)
        finally:
            connection.close()

    def issuer(self, tenant: str) -> str:
        return f"http://127.0.0.1:{self.port}/{tenant}/"

    def publish(self, tenant: str, jwks: Sequence[Mapping[str, str]]) -> None:
        """Serve ``jwks`` as the tenant's key set from now on (a rotation, for a warm verifier)."""
        self.control("POST", f"keys/{tenant}", json.dumps({"keys": list(jwks)}).encode())

    def hold(self, tenant: str, kind: str) -> Hold:
        """Hold the next ``kind`` (``"discovery"``/``"jwks"``) request of ``tenant``."""
        self.control("POST", f"hold/{tenant}/{kind}")
        return Hold(self, tenant, kind)

    def hits(self, tenant: str) -> dict[str, int]:
        """Requests counted so far for ``tenant``'s documents, by kind."""
        return {str(k): int(v) for k, v in self.control("GET", f"hits/{tenant}").items()}


# --- the child's side --------------------------------------------------------------------------


class _ServerHold:
    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.released = threading.Event()


class _State:
    """What the provider serves and has seen; shared by its handler threads."""

    def __init__(self, latency: float, port: int) -> None:
        self.latency = latency
        self.port = port
        self.lock = threading.Lock()
        self.hits: Counter[tuple[str, str]] = Counter()
        self.key_sets: dict[str, bytes] = {}
        self.pending: dict[tuple[str, str], _ServerHold] = {}  # not yet reached by a request
        self.holds: dict[tuple[str, str], _ServerHold] = {}  # not yet released

    def document(self, tenant: str, kind: str) -> tuple[int, bytes]:
        """Count the request, wait as a provider would, and produce the document."""
        with self.lock:
            if tenant not in self.key_sets:
                return 404, b'{"error": "not found"}'
            self.hits[(tenant, kind)] += 1
            hold = self.pending.pop((tenant, kind), None)
        if hold is not None:
            hold.arrived.set()
            hold.released.wait(_HOLD_LIMIT)
        time.sleep(self.latency)
        if kind == JWKS:
            with self.lock:
                return 200, self.key_sets[tenant]
        issuer = f"http://127.0.0.1:{self.port}/{tenant}/"
        document = {"issuer": issuer, "jwks_uri": issuer + "jwks.json"}
        return 200, json.dumps(document).encode()

    def control(self, verb: str, args: list[str], query: str, body: bytes) -> Any:
        key = (args[0], args[1]) if len(args) == 2 else ("", "")
        with self.lock:
            if verb == "hits" and len(args) == 1:
                return {kind: self.hits[(args[0], kind)] for kind in (DISCOVERY, JWKS)}
            if verb == "keys" and len(args) == 1:
                self.key_sets[args[0]] = body
                return {}
            if verb == "hold":
                self.pending[key] = self.holds[key] = _ServerHold()
                return {}
            hold = self.holds.get(key)
        if verb == "arrived" and hold is not None:
            timeout = float(query.removeprefix("timeout=") or _HOLD_LIMIT)
            return {"arrived": hold.arrived.wait(timeout)}
        if verb == "release" and hold is not None:
            with self.lock:
                self.holds.pop(key, None)
                self.pending.pop(key, None)
            hold.released.set()
            return {}
        return None

    def release_all(self) -> None:
        with self.lock:
            holds = list(self.holds.values())
            self.holds.clear()
            self.pending.clear()
        for hold in holds:
            hold.released.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Room for every caller at once: were single flight broken, the extra fetches must
    # show up in the counts, not as connections refused by a short listen queue.
    request_queue_size = 1024
    state: _State


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        if parts[0] == "_bench":
            self._control(parts[1:], query, b"")
            return
        tenant, _, rest = path.lstrip("/").partition("/")
        kind = _DOCUMENTS.get(rest)
        if kind is None:
            self._send(404, b'{"error": "not found"}')
            return
        self._send(*self.server.state.document(tenant, kind))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.partition("?")[0].strip("/").split("/")
        if parts[0] != "_bench":
            self._send(405, b"{}")
            return
        self._control(parts[1:], self.path.partition("?")[2], body)

    def _control(self, parts: list[str], query: str, body: bytes) -> None:
        answer = self.server.state.control(parts[0], parts[1:], query, body) if parts else None
        if answer is None:
            self._send(404, b'{"error": "no such control"}')
        else:
            self._send(200, json.dumps(answer).encode())

    def _send(self, status: int, body: bytes) -> None:
        with contextlib.suppress(OSError):  # a client that gave up is no error of ours
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the counts are the log


def serve(latency: float) -> None:
    """Serve until stdin closes; print the port first so the parent can connect."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = _State(latency, int(server.server_address[1]))
    thread = serve_in_background(server, name="jwks-bench-provider")
    print(server.state.port, flush=True)
    try:
        sys.stdin.read()  # returns at EOF: the parent closed our stdin, or died
    finally:
        server.state.release_all()
        stop_serving(server, thread)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the JWKS benchmark's counting provider")
    parser.add_argument("--latency", type=float, required=True, help="seconds per request")
    serve(parser.parse_args().latency)
