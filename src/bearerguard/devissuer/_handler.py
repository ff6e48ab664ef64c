"""The socket side of the dev-issuer: an HTTP server reading requests into values.

Each request becomes a :class:`._http.Request` for :meth:`._app.App.handle`, and
its :class:`._http.Response` is written back. Connections are HTTP/1.0 (closed
after each answer), so no idle keep-alive thread outlives the server.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from bearerguard._background import QuietHTTPServer

from ._app import App
from ._http import Request, Response

__all__ = ["Server", "Server6", "logger"]

logger = logging.getLogger("bearerguard.devissuer")
MAX_BODY = 64 * 1024  # token and consent requests are small; anything larger is refused


class Server(QuietHTTPServer):
    """Serves :class:`._app.App` (set as ``app`` before serving), a thread per request."""

    app: App

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)

    def report_error(self, request: Any, client_address: Any) -> None:
        logger.exception("dev-issuer: error while serving %s", client_address)


class Server6(Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "bearerguard-dev-issuer"
    timeout = 30  # a client that stops sending mid-request frees its thread eventually

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self._send(Response.json({"error": "length_required"}, 411))
            return
        size = int(length) if length and length.isdigit() else 0
        if size > MAX_BODY:
            self._send(Response.json({"error": "request_too_large"}, 413))
            return
        request = Request(
            method=self.command,
            path=path,
            query=query,
            headers=_headers(self.headers.items()),
            body=self.rfile.read(size) if size else b"",
        )
        try:
            response = self.server.app.handle(request)
        except Exception:
            logger.exception("dev-issuer: %s %s failed", self.command, path)
            response = Response.json(
                {"error": "server_error", "error_description": "See the dev-issuer's log."}, 500
            )
        self._send(response)

    do_GET = do_POST = do_OPTIONS = _serve

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def _headers(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    # A repeated field is joined as HTTP lists are (RFC 9110 §5.3), so two Authorization
    # headers become one malformed value and are refused rather than one being picked.
    joined: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined
