"""A tiny OAuth server on 127.0.0.1, just what ``bearerguard token`` speaks.

Implements its metadata document (OpenID Connect discovery, RFC 8414 metadata,
or none), the authorization endpoint (auto-approve, or a consent page answered
by POSTing to it), and the token endpoint for the client-credentials,
authorization-code (PKCE S256) and refresh-token grants, with RFC 6749 §5.2
errors. The paths are Auth0's by default (``/authorize``, ``/oauth/token``);
:meth:`StubIssuer.keycloak` serves Keycloak's instead. Tokens are opaque
strings: these tests are about the protocol, the real dev issuer's tests verify
real tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from bearerguard._background import serve_in_background, stop_serving

REDIRECT_URI = "http://127.0.0.1:8080/callback"
AUDIENCE = "https://api.example.com"
OTHER_API = "https://other.example.com"
APIS = (AUDIENCE, OTHER_API)
KEYCLOAK_REALM = "/realms/demo"
KEYCLOAK_OIDC = KEYCLOAK_REALM + "/protocol/openid-connect"


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    path: str
    params: dict[str, str]  # the last value of each field
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of each field
    authorization: str | None = None
    dpop: str | None = None  # the DPoP proof header, when the client sent one


@dataclass
class StubIssuer:
    """Start with ``with StubIssuer() as issuer:``; ``issuer.url`` is the issuer URL."""

    auto_approve: bool = True
    #: answer every /authorize with a redirect carrying this state instead of the client's
    forged_state: str | None = None
    #: replaces the error_description of every token error (to test hostile text)
    error_description: str | None = None
    #: the issuer URL's path: "/" as at Auth0, "/realms/demo" as at Keycloak (no trailing slash)
    issuer_path: str = "/"
    token_path: str = "/oauth/token"
    authorize_path: str = "/authorize"
    #: the metadata served: "openid" (OIDC discovery), "oauth" (RFC 8414 only), or None
    metadata: str | None = "openid"
    #: fields of the metadata document to replace or add (None removes one)
    metadata_changes: dict[str, Any] = field(default_factory=dict)
    #: DPoP (RFC 9449): answer token_type "DPoP" to a token request with a proof (the
    #: tokens stay opaque: the dev issuer's tests check real bindings)
    binds_dpop: bool = False
    #: DPoP: the nonce a proof must carry, else 400 use_dpop_nonce handing out offered_nonce
    demand_nonce: str | None = None
    offered_nonce: str | None = None
    seen: list[Seen] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @classmethod
    def keycloak(cls, **options: Any) -> StubIssuer:
        """A realm at Keycloak's paths: none of them is Auth0's."""
        return cls(
            issuer_path=KEYCLOAK_REALM,
            token_path=KEYCLOAK_OIDC + "/token",
            authorize_path=KEYCLOAK_OIDC + "/auth",
            **options,
        )

    @property
    def origin(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.origin + self.issuer_path

    @property
    def metadata_path(self) -> str | None:
        """Where the metadata is served (RFC 8414 §3.1 inserts the well-known part first)."""
        path = self.issuer_path.rstrip("/")
        if self.metadata == "openid":
            return path + "/.well-known/openid-configuration"
        if self.metadata == "oauth":
            return "/.well-known/oauth-authorization-server" + path
        return None

    def requests_to(self, method: str, path: str) -> list[dict[str, str]]:
        return [s.params for s in self.seen if s.method == method and s.path == path]

    def all_requests_to(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def __enter__(self) -> StubIssuer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                stub.handle(self, "GET", parts.path, parse_qsl(parts.query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                stub.handle(self, "POST", urlsplit(self.path).path, parse_qsl(body))

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
        self,
        http: BaseHTTPRequestHandler,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
    ) -> None:
        lists: dict[str, list[str]] = {}
        for name, value in pairs:
            lists.setdefault(name, []).append(value)
        seen = Seen(
            method,
            path,
            dict(pairs),
            lists,
            http.headers.get("Authorization"),
            http.headers.get("DPoP"),
        )
        self.seen.append(seen)
        if path == self.metadata_path and method == "GET":
            send(http, 200, json.dumps(self.document()).encode(), "application/json")
        elif path == self.authorize_path:
            self.authorize(http, method, seen.params)
        elif path == self.token_path and method == "POST":
            if (
                seen.dpop is not None
                and self.demand_nonce is not None
                and proof_claims(seen.dpop).get("nonce") != self.demand_nonce
            ):
                body = {"error": "use_dpop_nonce", "error_description": "Use this nonce."}
                nonce = self.offered_nonce or self.demand_nonce
                headers = {"DPoP-Nonce": nonce}
                send(http, 400, json.dumps(body).encode(), "application/json", headers)
                return
            status, body = self.token(seen)
            if status == 200 and self.binds_dpop and seen.dpop is not None:
                body["token_type"] = "DPoP"
            send(http, status, json.dumps(body).encode(), "application/json")
        else:
            send(http, 404, b"not found", "text/plain")

    def document(self) -> dict[str, Any]:
        """The metadata document, with :attr:`metadata_changes` applied."""
        document: dict[str, Any] = {
            "issuer": self.url,
            "authorization_endpoint": self.origin + self.authorize_path,
            "token_endpoint": self.origin + self.token_path,
            "jwks_uri": self.origin + "/jwks",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
        document.update(self.metadata_changes)
        return {name: value for name, value in document.items() if value is not None}

    def authorize(self, http: BaseHTTPRequestHandler, method: str, params: dict[str, str]) -> None:
        if params.get("client_id") != "spa-client" or params.get("redirect_uri") != REDIRECT_URI:
            body = {"error": "invalid_request", "error_description": "Unknown client or redirect"}
            send(http, 400, json.dumps(body).encode(), "application/json")
            return
        if method == "GET" and not self.auto_approve:
            page = f"<!doctype html><form method=post action={self.authorize_path}>Allow?</form>"
            send(http, 200, page.encode(), "text/html")
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

    def token(self, request: Seen) -> tuple[int, dict[str, Any]]:
        form = request.params
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self.client_credentials(request)
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or form.get("redirect_uri") != code["redirect_uri"]:
                return self.error(400, "invalid_grant", "Unknown or used code.")
            if challenge(form.get("code_verifier", "")) != code.get("code_challenge"):
                return self.error(400, "invalid_grant", "PKCE verification failed.")
            return 200, self.issue(code["scope"], refresh="offline_access" in code["scope"])
        if grant == "refresh_token":
            scope = self.refresh_tokens.get(form.get("refresh_token", ""))
            if scope is None:
                return self.error(400, "invalid_grant", "Unknown refresh token.")
            return 200, self.issue(form.get("scope") or scope, refresh=False)
        return self.error(400, "unsupported_grant_type", f"Grant type {grant} is not supported.")

    def client_credentials(self, request: Seen) -> tuple[int, dict[str, Any]]:
        form = request.params
        client = basic(request.authorization) or (form.get("client_id"), form.get("client_secret"))
        if client != ("m2m-client", "m2m-secret"):
            return self.error(401, "invalid_client", "Client authentication failed.")
        resources = request.lists.get("resource", [])
        if any(resource not in APIS for resource in resources):
            return self.error(400, "invalid_target", "Unknown resource.")
        audience = form.get("audience")
        if audience is None and not resources:
            return self.error(400, "invalid_request", "Name an API.")
        if audience is not None and audience not in APIS:
            return self.error(403, "access_denied", "Unknown audience.")
        return 200, self.issue(form.get("scope") or "read:contacts", refresh=False)

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


def basic(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` of HTTP Basic credentials, form-urldecoded (RFC 6749 §2.3.1)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def proof_claims(proof: str) -> dict[str, Any]:
    """The claims of a DPoP proof, decoded (the stub checks nothing of it)."""
    payload = proof.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def send(
    http: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    http.send_response(status)
    for name, value in (headers or {}).items():
        http.send_header(name, value)
    http.send_header("Content-Type", content_type)
    http.send_header("Content-Length", str(len(body)))
    http.end_headers()
    http.wfile.write(body)
