"""A minimal identity provider on 127.0.0.1: it publishes the benchmark key's JWKS, nothing else.

The servers under load get its URL as ``BEARERGUARD_JWKS_URI`` (so no discovery
document is needed, and the issuer in the tokens need not name this server's
port, which changes every run). It runs in a daemon thread of the benchmark
process, answers with ``Cache-Control: max-age=86400`` so that no verifier's
keys expire during a run, and counts the fetches: each server fetches once when
it starts (its ``warm_up()``), and a fetch during a measurement would show.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from bearerguard._background import serve_in_background, stop_serving

__all__ = ["JWKS_PATH", "KeyServer"]

HOST = "127.0.0.1"
JWKS_PATH = "/.well-known/jwks.json"


class KeyServer:
    """Serves ``{"keys": [jwk]}`` at ``jwks_uri`` until closed; a context manager."""

    def __init__(self, jwk: dict[str, str]) -> None:
        self.body = json.dumps({"keys": [jwk]}).encode()
        self.fetches = 0
        self._lock = threading.Lock()
        self._server = _Server((HOST, 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread = serve_in_background(self._server, name=f"key-server-{self.port}")

    @property
    def jwks_uri(self) -> str:
        return f"http://{HOST}:{self.port}{JWKS_PATH}"

    def count(self) -> None:
        with self._lock:
            self.fetches += 1

    def close(self) -> None:
        stop_serving(self._server, self._thread, timeout=5)

    def __enter__(self) -> KeyServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: KeyServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path != JWKS_PATH:
            self.send_error(404)
            return
        owner = self.server.owner
        owner.count()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "max-age=86400")
        self.send_header("Content-Length", str(len(owner.body)))
        self.end_headers()
        self.wfile.write(owner.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fetch count says what was asked
