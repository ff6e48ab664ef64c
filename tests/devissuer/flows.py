"""Walking the dev-issuer's browser flows over real HTTP, as a browser and an app would."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bearerguard.devissuer import DevIssuer

API = "https://api.example.com"
SPA = "spa-client"
WEB = "web-client"
M2M = "m2m-client"
CALLBACK = "http://127.0.0.1:8080/callback"


def pkce() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` pair, computed here as RFC 7636 says."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    http: httpx.Client, issuer: DevIssuer, base: str | None = None, **params: str | None
) -> httpx.Response:
    """``GET /authorize`` with the SPA's defaults; ``params`` add or replace (None drops)."""
    query = {
        "response_type": "code",
        "client_id": SPA,
        "redirect_uri": CALLBACK,
        "scope": "openid profile email read:messages",
        "audience": API,
        "state": "st-123",
        **params,
    }
    sent = {name: value for name, value in query.items() if value is not None}
    return http.get((base or issuer.url) + "authorize", params=sent)


def transaction(page: httpx.Response) -> str:
    """The hidden transaction id of a consent page."""
    found = re.search(r"name='transaction' value='([^']+)'", page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def decide(
    http: httpx.Client,
    issuer: DevIssuer,
    page: httpx.Response,
    *,
    decision: str = "allow",
    user: str = "auth0|alice",
) -> httpx.Response:
    """Answer a consent page: POST /authorize as its form does."""
    form = {"transaction": transaction(page), "user": user, "decision": decision}
    return http.post(str(page.url).split("?")[0], data=form)


def redirect_params(response: httpx.Response, *, fragment: bool = False) -> dict[str, str]:
    """The parameters a redirect carries back to the client (query, or fragment)."""
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    values = parse_qs(location.fragment if fragment else location.query, strict_parsing=True)
    return {name: value for name, (value,) in values.items()}


def code_for(
    http: httpx.Client, issuer: DevIssuer, *, user: str = "auth0|alice", **params: str
) -> dict[str, str]:
    """Sign in through the consent page; the redirect's parameters (code, state)."""
    page = authorize(http, issuer, **params)
    assert page.status_code == 200, page.text
    return redirect_params(decide(http, issuer, page, user=user))


def exchange(
    http: httpx.Client, issuer: DevIssuer, base: str | None = None, **params: str
) -> httpx.Response:
    """``POST /oauth/token`` with ``params``."""
    return http.post((base or issuer.url) + "oauth/token", data=params)


def tokens(
    http: httpx.Client,
    issuer: DevIssuer,
    *,
    scope: str = "openid profile email read:messages",
    user: str = "auth0|alice",
    **extra: str,
) -> dict[str, Any]:
    """The SPA's whole code flow with PKCE: the token response."""
    verifier, challenge = pkce()
    answer = code_for(
        http,
        issuer,
        user=user,
        scope=scope,
        code_challenge=challenge,
        code_challenge_method="S256",
        **extra,
    )
    response = exchange(
        http,
        issuer,
        grant_type="authorization_code",
        client_id=SPA,
        code=answer["code"],
        code_verifier=verifier,
        redirect_uri=CALLBACK,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- MCP clients: dynamic registration, loopback resources ------------------------------------

#: The loopback callback of a native MCP client, on a port nobody configured.
NATIVE_CALLBACK = "http://127.0.0.1:33418/callback"
#: What the official MCP Python SDK's client sends to register (OAuthClientMetadata, dumped
#: as it dumps it): no token_endpoint_auth_method, so the server picks one.
SDK_REGISTRATION: dict[str, Any] = {
    "response_types": ["code"],
    "scope": "mcp:tools",
    "client_name": "Example MCP client",
    "redirect_uris": [NATIVE_CALLBACK],
    "grant_types": ["authorization_code", "refresh_token"],
    "application_type": "native",
}


def register(http: httpx.Client, issuer: DevIssuer, metadata: Any) -> httpx.Response:
    """``POST`` ``metadata`` as JSON to the registration endpoint (RFC 7591 §3.1)."""
    return http.post(issuer.endpoints()["registration"], json=metadata)


def registered_client(http: httpx.Client, issuer: DevIssuer, **metadata: Any) -> str:
    """Register the SDK's client metadata (``metadata`` add or replace); its client_id."""
    response = register(http, issuer, {**SDK_REGISTRATION, **metadata})
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


def mcp_resource(port: int = 8000, host: str = "127.0.0.1") -> str:
    """The URL of an MCP server on loopback: what an MCP client sends as ``resource``."""
    return f"http://{host}:{port}/mcp"
