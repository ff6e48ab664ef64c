"""A small MCP-shaped protected resource on loopback, for driving MCP clients at the dev-issuer.

It plays the resource server's part of the MCP authorization spec and nothing
more: ``POST /mcp`` needs a token the dev-issuer issued for this resource
(checked by bearerguard's ``Verifier``, keys fetched from the dev-issuer over
HTTP), answers 401 with ``resource_metadata`` and ``scope`` in its challenge,
403 ``insufficient_scope`` naming every scope a call needs (a body of
``{"tool": "admin"}`` needs ``mcp:admin`` as well), and serves its RFC 9728
metadata at the path-inserted well-known URL. Its challenges are written here:
the dev-issuer is what the tests are about.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from bearerguard import BearerError, Verifier
from bearerguard._background import serve_in_background, stop_serving

TOOL_SCOPES = ("mcp:tools",)
ADMIN_SCOPES = ("mcp:tools", "mcp:admin")


class ProtectedResource:
    """``with ProtectedResource(issuer.url) as mcp: mcp.url`` is ``http://127.0.0.1:<port>/mcp``."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.metadata_url = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
        self.calls: list[dict[str, Any]] = []  # what each admitted call's token said
        self._server.resource = self  # type: ignore[attr-defined]
        self.verifier = Verifier(issuer=issuer, audience=self.url)

    def metadata(self) -> dict[str, Any]:
        return {
            "resource": self.url,
            "authorization_servers": [self._issuer],
            "scopes_supported": list(ADMIN_SCOPES),
            "bearer_methods_supported": ["header"],
        }

    def challenge(self, scopes: tuple[str, ...], error: str | None = None) -> str:
        parts = [f'error="{error}"'] if error else []
        parts += [f'scope="{" ".join(scopes)}"', f'resource_metadata="{self.metadata_url}"']
        return "Bearer " + ", ".join(parts)

    def __enter__(self) -> ProtectedResource:
        self._thread = serve_in_background(self._server, name="mcp-protected-resource")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stop_serving(self._server, self._thread)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        resource: ProtectedResource = self.server.resource  # type: ignore[attr-defined]
        if self.path == "/.well-known/oauth-protected-resource/mcp":
            self._answer(200, resource.metadata())
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:
        resource: ProtectedResource = self.server.resource  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        needed = ADMIN_SCOPES if body.get("tool") == "admin" else TOOL_SCOPES
        try:
            token = resource.verifier.authenticate(self.headers.get("Authorization"))
        except BearerError as exc:
            headers = {"WWW-Authenticate": resource.challenge(needed, exc.error)}
            self._answer(exc.status_code, exc.json_body(), headers)
            return
        if token is None:
            self._answer(401, {}, {"WWW-Authenticate": resource.challenge(needed)})
            return
        if not set(needed) <= token.scopes:
            challenge = resource.challenge(needed, "insufficient_scope")
            self._answer(403, {"error": "insufficient_scope"}, {"WWW-Authenticate": challenge})
            return
        call = {"sub": token.subject, "aud": token.claims["aud"], "scopes": sorted(token.scopes)}
        resource.calls.append(call)
        self._answer(200, call)

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read the answers, not a log
