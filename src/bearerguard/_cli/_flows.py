"""The OAuth flows of ``bearerguard token``: client credentials, authorization code
with PKCE, refresh token and the legacy implicit flow (RFC 6749 §4, RFC 7636).

Each flow builds its requests from the session; :func:`get_token` opens the HTTP
client, runs the flow the arguments name, and turns every transport failure into
a :class:`~._token_error.TokenError` that names the URL (never its query, which
may hold a state or a code).

Example::

    response = get_token(endpoints, args, settings, dpop=None)
    response["access_token"]
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bearerguard._config import is_loopback_host
from bearerguard._mint import SigningKey
from bearerguard.devissuer._pkce import s256

from ._authorization_endpoint import authorize
from ._output import safe
from ._provider import Endpoints
from ._provider_answers import checked_token_response
from ._token_endpoint import request_token
from ._token_error import TokenError
from ._token_session import Session
from ._token_settings import TokenSettings

__all__ = ["FLOWS", "TIMEOUT", "get_token"]

TIMEOUT = 10.0


def get_token(
    endpoints: Endpoints,
    args: argparse.Namespace,
    settings: TokenSettings,
    dpop: SigningKey | None = None,
) -> dict[str, Any]:
    """Run the flow; every failure of the exchange is a :class:`TokenError`."""
    # Proxy settings from the environment are for the outside world: a proxy must
    # never see a loopback provider's requests (nor answer them).
    urls = (settings.issuer, endpoints.token, endpoints.authorization)
    local = any(is_loopback_host(urlsplit(url).hostname or "") for url in urls if url)
    with httpx.Client(timeout=TIMEOUT, trust_env=not local) as http:
        session = Session(http, endpoints, args, settings, dpop)
        try:
            return _GRANTS[args.flow](session)
        except httpx.ConnectError as exc:
            raise TokenError(
                f"cannot connect to {_url_of(exc, settings.issuer)}: is the provider running?"
            ) from None
        except httpx.TimeoutException as exc:
            raise TokenError(
                f"{_url_of(exc, settings.issuer)} did not answer within {TIMEOUT:g} s."
            ) from None
        except httpx.HTTPError as exc:
            raise TokenError(
                f"the request to {_url_of(exc, settings.issuer)} failed: "
                f"{type(exc).__name__}: {safe(str(exc))}"
            ) from None


def _url_of(exc: httpx.HTTPError, fallback: str) -> str:
    """The URL of the request that failed, without its query (it may hold a state or code)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised before any request was made
        return safe(fallback)
    return safe(str(url.copy_with(query=None, fragment=None)))


def _client_credentials(session: Session) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_id": session.args.client_id,
        "client_secret": session.settings.secret,
        "audience": session.settings.audience,
        "resource": session.resources,
        "scope": session.args.scope,
    }
    return request_token(session, form)


def _authorization_code(session: Session) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)  # 64 characters: RFC 7636 §4.1 asks for 43 to 128
    pkce = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    if session.dpop is not None:  # RFC 9449 §10: the code is bound to the key from the start
        pkce["dpop_jkt"] = session.dpop.thumbprint()
    answer = authorize(session, response_type="code", extra=pkce)
    code = answer.get("code")
    if not code:
        raise TokenError("the issuer redirected without a code.")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": session.args.redirect_uri,
        "client_id": session.args.client_id,
        "client_secret": session.settings.secret,
        # RFC 8707 §2.2: the token may be asked for the resources authorized, by name.
        "resource": session.resources,
    }
    return request_token(session, form)


def _refresh_token(session: Session) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": session.args.refresh_token,
        "client_id": session.args.client_id,
        "client_secret": session.settings.secret,
        "resource": session.resources,
        "scope": session.args.scope,
    }
    return request_token(session, form)


def _implicit(session: Session) -> dict[str, Any]:
    response: dict[str, Any] = authorize(session, response_type="token", extra={})
    response.pop("state", None)
    if response.get("expires_in", "").isdigit():
        response["expires_in"] = int(response["expires_in"])
    return checked_token_response(response)


_GRANTS: dict[str, Callable[[Session], dict[str, Any]]] = {
    "client-credentials": _client_credentials,
    "authorization-code": _authorization_code,
    "refresh-token": _refresh_token,
    "implicit": _implicit,
}
#: the flows' names, as ``--flow`` takes them
FLOWS = tuple(_GRANTS)
