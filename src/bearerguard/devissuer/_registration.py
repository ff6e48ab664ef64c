"""Dynamic client registration (RFC 7591): what an MCP client does before it signs in.

The dev-issuer registers **public native clients** only: no secret
(``token_endpoint_auth_method`` ``none``; PKCE protects their codes) and
loopback redirect URIs, which match on any port later (RFC 8252 §7.3), as the
redirect URIs of configured public clients do. That is what the MCP SDKs'
OAuth clients register. A request that leaves ``token_endpoint_auth_method``
out (RFC 7591's default is ``client_secret_basic``) is registered with
``none`` instead, which §3.2.1 allows ("MAY ... substitute"), and the answer
says so, as it returns every registered value.

The answer is §3.2.1's: ``201 Created`` with ``client_id``,
``client_id_issued_at`` and the registered metadata. A refusal is §3.2.2's:
``400`` with ``invalid_redirect_uri`` or ``invalid_client_metadata`` and a
description naming the field and what to send. Metadata this server has no
use for (``jwks``, ``jwks_uri``, ``software_statement``, anything unknown) is
ignored, as §2 asks, and not returned. ``scope`` is kept and returned but does
not limit what the client may ask for later: an MCP client steps up to scopes
it did not register with (the MCP specification's scope challenges).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from bearerguard._errors import SCOPE_TOKEN
from bearerguard._urls import resource_problem

from ._checks import KeyProblem
from ._config import ClientConfig, DevIssuerConfig
from ._directory import REGISTERED_PREFIX, ClientDirectory
from ._errors import OAuthError
from ._redirects import loopback_redirect

__all__ = ["MAX_REDIRECT_URIS", "register_client"]

MAX_REDIRECT_URIS = 10
_GRANT_TYPES = ("authorization_code", "refresh_token")
_TEXT_FIELDS = ("client_name", "software_id", "software_version")
_URL_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
_APPLICATION_TYPES = ("native", "web")
_MAX_TEXT = 200
_LOOPBACK_EXAMPLE = "http://127.0.0.1:33418/callback"


def register_client(
    config: DevIssuerConfig,
    clients: ClientDirectory,
    *,
    body: bytes,
    content_type: str | None,
    now: float,
) -> dict[str, Any]:
    """Register the client a registration request describes; the §3.2.1 response body.

    Raises :class:`~bearerguard.devissuer._errors.OAuthError` with the §3.2.2 code
    (``invalid_redirect_uri``, ``invalid_client_metadata``), or 429 when the
    directory is full.

    Example::

        register_client(config, clients, content_type="application/json", now=time.time(),
                        body=b'{"redirect_uris": ["http://127.0.0.1:33418/callback"]}')
        # {'client_id': 'registered-...', 'client_id_issued_at': 1767225600,
        #  'token_endpoint_auth_method': 'none', 'grant_types': ['authorization_code'], ...}
    """
    if not config.users:
        raise OAuthError(
            "access_denied",
            "This tenant has no users, so a registered client could sign nobody in: add "
            'users to the configuration ("users": [{"sub": "auth0|alice"}]) and restart.',
            status=403,
        )
    metadata = _json_object(body, content_type)
    registered = {
        "redirect_uris": _redirect_uris(metadata.get("redirect_uris")),
        "token_endpoint_auth_method": _auth_method(metadata.get("token_endpoint_auth_method")),
        "grant_types": _grant_types(metadata.get("grant_types")),
        "response_types": _response_types(metadata.get("response_types")),
        **_optional(metadata),
    }
    client_id = REGISTERED_PREFIX + secrets.token_urlsafe(16)
    try:
        client = ClientConfig(
            client_id=client_id,
            name=registered.get("client_name"),
            public=True,
            grant_types=registered["grant_types"],
            redirect_uris=registered["redirect_uris"],
        )
    except KeyProblem as exc:  # what the checks above let through, the client's own checks catch
        raise _invalid(f"{exc.key} {exc.problem}") from None
    clients.add(client)
    return {"client_id": client_id, "client_id_issued_at": int(now), **registered}


def _json_object(body: bytes, content_type: str | None) -> Mapping[str, Any]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    how = "Send the client metadata as one JSON object with Content-Type: application/json"
    if media_type != "application/json":
        raise _invalid(f"{how} (RFC 7591 §3.1); got Content-Type {content_type!r}.")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _invalid(f"The body is not JSON. {how}.") from None
    if not isinstance(value, dict):
        raise _invalid(f"The body is JSON but not an object. {how}.")
    return value


def _redirect_uris(value: object) -> list[str]:
    if value is None:
        raise _invalid_uri(
            "redirect_uris is required: list where the authorization endpoint may send the "
            f'browser back, e.g. "redirect_uris": ["{_LOOPBACK_EXAMPLE}"].'
        )
    if not isinstance(value, list) or not value or not all(isinstance(u, str) for u in value):
        raise _invalid_uri(
            f'redirect_uris must be a non-empty list of strings, e.g. ["{_LOOPBACK_EXAMPLE}"]; '
            f"got {_shown(value)}."
        )
    if len(value) > MAX_REDIRECT_URIS:
        raise _invalid_uri(
            f"redirect_uris lists {len(value)} URIs; register at most {MAX_REDIRECT_URIS} (a "
            "loopback one matches on any port, so one per path is enough)."
        )
    for index, uri in enumerate(value):
        if resource_problem(uri) is not None or loopback_redirect(uri) is None:
            raise _invalid_uri(
                f"redirect_uris[{index}] is {_shown(uri)}: this dev-issuer registers native "
                "apps that listen on loopback (RFC 8252 §7.3), so write an http URL of "
                "127.0.0.1, [::1] or localhost in lower case, without user information or a "
                f"fragment, such as {_LOOPBACK_EXAMPLE!r}. Any port matches later."
            )
    return list(dict.fromkeys(value))


def _auth_method(value: object) -> str:
    if value is None or value == "none":
        return "none"
    raise _invalid(
        f"token_endpoint_auth_method is {_shown(value)}, but this dev-issuer registers public "
        'clients only, which have no secret (PKCE protects their codes): send "none", or leave '
        "it out."
    )


def _grant_types(value: object) -> list[str]:
    if value is None:
        return ["authorization_code"]  # RFC 7591 §2's default
    allowed = " and ".join(_GRANT_TYPES)
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise _invalid(f"grant_types must be a list of strings; got {_shown(value)}.")
    for grant_type in value:
        if grant_type not in _GRANT_TYPES:
            raise _invalid(
                f"grant_types lists {_shown(grant_type)}; a registered client may use "
                f"{allowed} only (public clients sign users in; client_credentials needs a "
                "configured confidential client)."
            )
    if "authorization_code" not in value:
        raise _invalid(
            f'grant_types must include "authorization_code" (refresh tokens come from it): '
            f"got {_shown(value)}."
        )
    return list(dict.fromkeys(value))


def _response_types(value: object) -> list[str]:
    if value is None:
        return ["code"]  # RFC 7591 §2's default
    if not isinstance(value, list) or value == [] or any(item != "code" for item in value):
        raise _invalid(
            f'response_types must be ["code"] (the authorization code flow); got {_shown(value)}.'
        )
    return ["code"]


def _optional(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The optional metadata this server keeps and returns, each checked."""
    kept: dict[str, Any] = {}
    for name in (*_TEXT_FIELDS, *_URL_FIELDS, "scope", "application_type", "contacts"):
        value = metadata.get(name)
        if value is None:
            continue
        if name == "contacts":
            if not isinstance(value, list) or not all(_is_text(item) for item in value):
                raise _invalid(f"contacts must be a list of strings; got {_shown(value)}.")
        elif not _is_text(value):
            raise _invalid(
                f"{name} must be a string of at most {_MAX_TEXT} characters without control "
                f"characters or surrounding spaces; got {_shown(value)}."
            )
        elif name in _URL_FIELDS and not _is_web_url(value):
            raise _invalid(f"{name} must be an http or https URL; got {_shown(value)}.")
        elif name == "scope" and not all(SCOPE_TOKEN.fullmatch(s) for s in value.split(" ")):
            raise _invalid(
                "scope must be scope names separated by single spaces, without double quotes "
                "or backslashes (RFC 6749 §3.3), e.g. 'mcp:tools offline_access'; got "
                f"{_shown(value)}."
            )
        elif name == "application_type" and value not in _APPLICATION_TYPES:
            raise _invalid(f'application_type must be "native" or "web"; got {_shown(value)}.')
        kept[name] = value
    return kept


def _is_text(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= _MAX_TEXT
        and value == value.strip()
        and not any(ch < " " or ch == "\x7f" for ch in value)
    )


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _shown(value: object) -> str:
    """A value from the request, as a JSON literal cut short: safe to quote in a message."""
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _invalid(description: str) -> OAuthError:
    return OAuthError("invalid_client_metadata", description)


def _invalid_uri(description: str) -> OAuthError:
    return OAuthError("invalid_redirect_uri", description)
