"""A tiny Auth0-shaped OAuth server on 127.0.0.1, just what ``bearerguard token`` speaks.

Implements ``GET /authorize`` (auto-approve, or a consent page answered by
``POST /authorize``), and ``POST /oauth/token`` for the client-credentials,
authorization-code (PKCE S256) and refresh-token grants, with RFC 6749 §5.2
errors. Tokens are opaque strings: these tests are about the protocol, the
real dev issuer's tests verify real tokens.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from bearerguard._background import serve_in_background, stop_serving

REDIRECT_URI = "http://127.0.0.1:8080/callback"
AUDIENCE = "https://api.example.com"
CONSENT_PAGE = b"<!doctype html><form method=post action=/authorize>Allow?</form>"


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    path: str
    params: dict[str, str]


@dataclass
class StubIssuer:
    """Start with ``with StubIssuer() as issuer:``; ``issuer.url`` ends with a slash."""

    auto_approve: bool = True
    #: answer every /authorize with a redirect carrying this state instead of the client's
    forged_state: str | None = None
    #: replaces the error_description of every token error (to test hostile text)
    error_description: str | None = None
    seen: list[Seen] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def requests_to(self, method: str, path: str) -> list[dict[str, str]]:
        return [s.params for s in self.seen if s.method == method and s.path == path]

    def __enter__(self) -> StubIssuer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                stub.handle(self, "GET", parts.path, dict(parse_qsl(parts.query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                stub.handle(self, "POST", urlsplit(self.path).path, dict(parse_qsl(body)))

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = serve_in_background(self._server, name="stub-issuer", poll_interval=0.05)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        stop_serving(self._server, self._thread, timeout=5)

    # --- the protocol -------------------------------------------------------------------

    def handle(
        self, http: BaseHTTPRequestHandler, method: str, path: str, params: dict[str, str]
    ) -> None:
        self.seen.append(Seen(method, path, params))
        if path == "/authorize":
            self.authorize(http, method, params)
        elif path == "/oauth/token" and method == "POST":
            status, body = self.token(params)
            send(http, status, json.dumps(body).encode(), "application/json")
        else:
            send(http, 404, b"not found", "text/plain")

    def authorize(self, http: BaseHTTPRequestHandler, method: str, params: dict[str, str]) -> None:
        if params.get("client_id") != "spa-client" or params.get("redirect_uri") != REDIRECT_URI:
            body = {"error": "invalid_request", "error_description": "Unknown client or redirect"}
            send(http, 400, json.dumps(body).encode(), "application/json")
            return
        if method == "GET" and not self.auto_approve:
            send(http, 200, CONSENT_PAGE, "text/html")
            return
        state = self.forged_state or params.get("state", "")
        if method == "POST" and params.get("decision") != "allow":
            answer = {
                "error": "access_denied",
                "error_description": "The user said no",
                "state": state,
            }
        elif params["response_type"] == "code":
            code = f"code-{next(self._counter)}"
            self.codes[code] = params
            answer = {"code": code, "state": state}
        else:
            answer = {"access_token": f"implicit-at-{next(self._counter)}", "token_type": "Bearer",
                      "expires_in": "7200", "state": state}  # fmt: skip
        separator = "?" if params["response_type"] == "code" else "#"
        http.send_response(302)
        http.send_header("Location", REDIRECT_URI + separator + urlencode(answer))
        http.send_header("Content-Length", "0")
        http.end_headers()

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if (form.get("client_id"), form.get("client_secret")) != ("m2m-client", "m2m-secret"):
                return self.error(401, "invalid_client", "Client authentication failed.")
            if form.get("audience") != AUDIENCE:
                return self.error(403, "access_denied", "Unknown audience.")
            return 200, self.issue(form.get("scope") or "read:contacts", refresh=False)
        if grant == "authorization_code":
            request = self.codes.pop(form.get("code", ""), None)
            if request is None or form.get("redirect_uri") != request["redirect_uri"]:
                return self.error(400, "invalid_grant", "Unknown or used code.")
            if challenge(form.get("code_verifier", "")) != request.get("code_challenge"):
                return self.error(400, "invalid_grant", "PKCE verification failed.")
            return 200, self.issue(request["scope"], refresh="offline_access" in request["scope"])
        if grant == "refresh_token":
            scope = self.refresh_tokens.get(form.get("refresh_token", ""))
            if scope is None:
                return self.error(400, "invalid_grant", "Unknown refresh token.")
            return 200, self.issue(form.get("scope") or scope, refresh=False)
        return self.error(400, "unsupported_grant_type", f"Grant type {grant} is not supported.")

    def issue(self, scope: str, *, refresh: bool) -> dict[str, Any]:
        number = next(self._counter)
        answer: dict[str, Any] = {
            "access_token": f"stub-at-{number}",
            "token_type": "Bearer",
            "expires_in": 86400,
            "scope": scope,
        }
        if refresh:
            answer["refresh_token"] = f"stub-rt-{number}"
            self.refresh_tokens[answer["refresh_token"]] = scope
        return answer

    def error(self, status: int, code: str, description: str) -> tuple[int, dict[str, Any]]:
        return status, {"error": code, "error_description": self.error_description or description}


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def send(http: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    http.send_response(status)
    http.send_header("Content-Type", content_type)
    http.send_header("Content-Length", str(len(body)))
    http.end_headers()
    http.wfile.write(body)
