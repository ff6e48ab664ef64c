"""Reading what a provider answers ``bearerguard token``, as untrusted input.

A body is JSON only when it is a strict JSON object; an access token only when
it can follow ``Bearer`` in a header (so ``$TOKEN`` is safe in a shell); a
refusal is worded for the user from its RFC 6749 §5.2 error, else from the text
a browser would show of the page, cut short and made safe for a terminal.

Example::

    body = json_object(response)                       # None when not a JSON object
    if response.status_code != 200 or body is None:
        raise TokenError(describe_failure(response, "the token request", body))
    checked_token_response(body)                       # TokenError without an access_token
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from ._form import visible_text
from ._output import safe
from ._token_error import TokenError

__all__ = [
    "checked_token_response",
    "describe_failure",
    "json_object",
    "oauth_error",
]

# RFC 6750 §2.1 b64token: what may follow "Bearer " in a header, and so in $TOKEN.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAX_SHOWN = 300  # characters of an unexpected answer worth showing


def checked_token_response(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` when its ``access_token`` is usable in a header, else TokenError."""
    token = body.get("access_token")
    if not isinstance(token, str) or not _B64TOKEN.fullmatch(token):
        raise TokenError("the issuer's answer holds no usable access_token.")
    return body


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or ``None``; strict: NaN and Infinity are not JSON."""
    try:
        value = json.loads(response.content, parse_constant=_reject)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _reject(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def describe_failure(
    response: httpx.Response, what: str, body: Mapping[str, Any] | None = None
) -> str:
    """Why ``what`` failed, on one line: the OAuth error, else what the page says."""
    body = body if body is not None else json_object(response)
    if body is not None and isinstance(body.get("error"), str):
        return f"the issuer refused {what} (HTTP {response.status_code})\n  {oauth_error(body)}"
    text = response.text
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type:
        text = visible_text(text)  # an error page: what it says, not its markup
    # On one line; a plain-text page (the dev issuer's) says what to do after what went
    # wrong, so more of it is worth showing.
    limit = 3 * _MAX_SHOWN if content_type.startswith("text/plain") else _MAX_SHOWN
    text = " ".join(text[:limit].split())
    shown = f": {safe(text)}" if text else ""
    return f"{what} failed with HTTP {response.status_code}{shown}"


def oauth_error(body: Mapping[str, Any]) -> str:
    """``invalid_client: Client authentication failed.`` from an RFC 6749 §5.2 error."""
    message = safe(str(body.get("error")))
    description = body.get("error_description")
    if isinstance(description, str) and description:
        message += f": {safe(description[:_MAX_SHOWN])}"
    return message
