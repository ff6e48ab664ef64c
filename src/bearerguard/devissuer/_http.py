"""Requests and responses as plain values, and the parameter parsing OAuth asks for.

The routes of :mod:`._app` take a :class:`Request` and return a
:class:`Response`; only :mod:`._server` talks to sockets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ._errors import OAuthError

__all__ = ["Request", "Response", "body_params", "query_params"]


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request; ``headers`` has lower-case names (one value each)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = json.dumps(value, indent=2).encode() + b"\n"
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def html(cls, page: str, status: int = 200) -> Response:
        return cls(
            status,
            page.encode(),
            {
                "Content-Type": "text/html; charset=utf-8",
                # The pages hold no script and are never framed (no clickjacking of Allow).
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "frame-ancestors 'none'",
                "X-Frame-Options": "DENY",
                "Cache-Control": "no-store",
            },
        )

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(
            status,
            text.encode(),
            {
                "Content-Type": "text/plain; charset=utf-8",
                # Never sniffed as HTML, whatever a crafted parameter shown in it looks like.
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
                "Cache-Control": "no-store",
            },
        )

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location, "Cache-Control": "no-store"})

    @classmethod
    def oauth_error(cls, error: OAuthError, headers: Mapping[str, str] | None = None) -> Response:
        return cls.json(error.to_json(), error.status, {**error.headers, **(headers or {})})


def query_params(query: str) -> dict[str, str]:
    """The parameters of a query string; a repeated one is refused (RFC 6749 §3.1)."""
    return _unique(parse_qsl(query, keep_blank_values=True), "query")


def body_params(request: Request) -> dict[str, str]:
    """The parameters of a form-encoded or JSON body (Auth0 accepts both)."""
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            value = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_request", "The JSON body does not parse.") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise OAuthError(
                "invalid_request", "The JSON body must be an object of string parameters."
            )
        return {name: v for name, v in value.items() if v}
    if content_type in ("application/x-www-form-urlencoded", ""):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise OAuthError("invalid_request", "The form body is not UTF-8.") from None
        return _unique(parse_qsl(text, keep_blank_values=True), "body")
    raise OAuthError(
        "invalid_request",
        "Send the parameters as application/x-www-form-urlencoded (or application/json).",
    )


def _unique(pairs: list[tuple[str, str]], where: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise OAuthError("invalid_request", f"Parameter {name!r} is repeated in the {where}.")
        params[name] = value
    # "Parameters sent without a value MUST be treated as if they were omitted" (RFC 6749 §3.1).
    return {name: value for name, value in params.items() if value}
