"""A counting token introspection endpoint (RFC 7662) on 127.0.0.1, reached over real sockets.

One ``ThreadingHTTPServer`` in a daemon thread answers ``POST /introspect`` as a
provider's endpoint does: the API authenticates with its client secret (HTTP Basic,
``client_secret_basic``: each part form-encoded, RFC 6749 §2.3.1), and the answer is
``{"active": true, "iss": ..., "aud": ..., "exp": ..., "sub": ..., "scope": ...}`` for
an opaque token the endpoint issued and has not revoked, ``{"active": false}`` for any
other. Every authenticated call is counted per token, so a test knows how many times a
fleet of workers asked about each one; a call with wrong credentials is refused (401)
and counted apart, never as a call about its token.

Example::

    with IntrospectionEndpoint() as endpoint:
        token = endpoint.issue(tenant)                    # vouched for, as tenant's issuer
        environment = endpoint.settings(tenant)           # BEARERGUARD_INTROSPECTION_*
        ...                                               # a server asks about the token
        endpoint.calls(token)                             # 1
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

from bearerguard._background import QuietHTTPServer, serve_in_background, stop_serving

from .identity_provider import HOST, SUB, Tenant

PATH = "/introspect"
CLIENT_ID = "fleet-api"
# The largest form the endpoint reads: a token and its hint, with room to spare.
MAX_FORM = 64 * 1024


class IntrospectionEndpoint:
    """The loopback endpoint. Use as a context manager; it stops with the block."""

    def __init__(self) -> None:
        self.client_id = CLIENT_ID
        self.client_secret = secrets.token_urlsafe(24)
        # Guards everything below: the handlers run in threads of their own.
        self._lock = threading.Lock()
        self._issued: dict[str, dict[str, Any]] = {}
        self._revoked: set[str] = set()
        self._calls: Counter[str] = Counter()
        self._refused = 0
        self._server = _Server((HOST, 0), _Handler)
        self._server.endpoint = self
        port = self._server.server_address[1]
        self.url = f"http://{HOST}:{port}{PATH}"
        self._thread = serve_in_background(
            self._server, name=f"introspection-endpoint-{port}", poll_interval=0.05
        )

    # --- tokens -------------------------------------------------------------------------

    def issue(
        self, tenant: Tenant, *, scope: str = "read:contacts", sub: str = SUB, lifetime: int = 3600
    ) -> str:
        """A new opaque token the endpoint vouches for, as ``tenant``'s issuer, for its audience."""
        token = "fleet_at_" + secrets.token_urlsafe(24)  # no JWT's shape: introspected
        now = int(time.time())
        claims = {
            "iss": tenant.issuer,
            "aud": tenant.audience,
            "sub": sub,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "client_id": self.client_id,
            "token_type": "Bearer",
        }
        with self._lock:
            self._issued[token] = claims
        return token

    def revoke(self, token: str) -> None:
        """From now on ``token`` is answered ``{"active": false}``."""
        with self._lock:
            if token not in self._issued:
                raise ValueError("revoke() takes a token this endpoint issued: issue() one first")
            self._revoked.add(token)

    # --- what the endpoint was asked ----------------------------------------------------------

    def calls(self, token: str) -> int:
        """How many authenticated calls asked about ``token``."""
        with self._lock:
            return self._calls[token]

    @property
    def refused(self) -> int:
        """How many calls were refused for their client credentials."""
        with self._lock:
            return self._refused

    # --- the servers that ask it ----------------------------------------------------------------

    def settings(self, tenant: Tenant) -> dict[str, str]:
        """The environment of a server that asks this endpoint about ``tenant``'s opaque
        tokens: its URL, the API's client, and whose endpoint it is (the tenant's own issuer,
        one of the two a server of the tests trusts)."""
        return {
            "BEARERGUARD_INTROSPECTION_URL": self.url,
            "BEARERGUARD_INTROSPECTION_CLIENT_ID": self.client_id,
            "BEARERGUARD_INTROSPECTION_CLIENT_SECRET": self.client_secret,
            "BEARERGUARD_INTROSPECTION_ISSUER": tenant.issuer,
        }

    def answer(self, authorization: str | None, form: dict[str, list[str]]) -> tuple[int, Any]:
        """Status and JSON body of a call with this ``Authorization`` header and form."""
        if not self._authenticated(authorization):
            with self._lock:
                self._refused += 1
            return 401, {"error": "invalid_client"}
        tokens = form.get("token", [])
        if len(tokens) != 1 or not tokens[0]:
            return 400, {"error": "invalid_request", "error_description": "one token, please"}
        token = tokens[0]
        with self._lock:
            self._calls[token] += 1
            claims = self._issued.get(token)
            if claims is None or token in self._revoked:
                return 200, {"active": False}
            return 200, {"active": True, **claims}

    def _authenticated(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            pair = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, colon, secret = pair.partition(":")
        return (
            bool(colon)
            and secrets.compare_digest(unquote(client_id), self.client_id)
            and secrets.compare_digest(unquote(secret), self.client_secret)
        )

    def close(self) -> None:
        stop_serving(self._server, self._thread)

    def __enter__(self) -> IntrospectionEndpoint:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Server(QuietHTTPServer):
    endpoint: IntrospectionEndpoint


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        if self.path != PATH:
            self._send(404, {"error": "not_found"})
            return
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_FORM:
            self._send(400, {"error": "invalid_request", "error_description": "a form, please"})
            return
        form = parse_qs(self.rfile.read(int(length)).decode("ascii", errors="replace"))
        status, body = self.server.endpoint.answer(self.headers.get("Authorization"), form)
        self._send(status, body)

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="introspection"')
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the counts say what was asked; a line per request would drown pytest's output
