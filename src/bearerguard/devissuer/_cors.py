"""Cross-origin reads (CORS): the headers that let a web page's script read an answer.

Two policies. ``ANY_ORIGIN``: the public documents (discovery, metadata, JWKS),
which anyone may read. ``WEB_ORIGINS``: the token and userinfo endpoints, for
the origins of :class:`._redirects.WebOrigins` only, since a SPA (or Swagger UI)
calls them from where it is served. Pages (/authorize, the index) and
/dev/rotate have no policy and get no CORS headers: a browser navigates to them,
and no script of another origin may read or trigger them.

A preflight (``OPTIONS``) is answered by :func:`cors_headers` for the headers
browsers, Swagger UI and auth0-spa-js send (:data:`ALLOWED_HEADERS`); an answer
of the token and userinfo endpoints exposes :data:`EXPOSED_HEADERS`, so that a
script can read the challenge of a 401.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._redirects import WebOrigins

__all__ = [
    "ALLOWED_HEADERS",
    "ANY_ORIGIN",
    "EXPOSED_HEADERS",
    "WEB_ORIGINS",
    "allowed_headers",
    "cors_headers",
]

ANY_ORIGIN = "*"
WEB_ORIGINS = "web origins"
#: Request headers a cross-origin script may send. Swagger UI's token exchange sends
#: X-Requested-With, auth0-spa-js sends Auth0-Client, DPoP clients DPoP (RFC 9449), and
#: MCP clients in a browser (the MCP Inspector, on the TypeScript SDK) MCP-Protocol-Version
#: with their metadata discovery and registration requests.
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Requested-With",
    "Accept",
    "Accept-Language",
    "Content-Language",
    "Cache-Control",
    "Pragma",
    "DPoP",
    "Auth0-Client",
    "MCP-Protocol-Version",
)
#: Response headers a cross-origin script may read, beyond the CORS-safelisted ones.
EXPOSED_HEADERS = ("WWW-Authenticate", "DPoP-Nonce")
_MAX_AGE = "600"
_BY_NAME = {name.lower(): name for name in ALLOWED_HEADERS}


def allowed_headers(requested: str | None) -> str | None:
    """The ``Access-Control-Allow-Headers`` answer to a preflight's
    ``Access-Control-Request-Headers`` (``None``: send no such header).

    The rule: every requested header that is one of :data:`ALLOWED_HEADERS`
    (compared case-insensitively; blank items and repeats ignored) is listed, in
    the order and spelling of :data:`ALLOWED_HEADERS`. So when every requested
    header is allowed the answer covers them all, and the browser sends the
    request. A requested header outside the list is left out, and the browser
    then refuses the request, naming the header in its console: a real
    authorization server refuses it too, and an app that works only against the
    dev-issuer helps nobody. A preflight that requests no header gets none.

    Example::

        allowed_headers("x-requested-with,content-type")   # 'Content-Type, X-Requested-With'
        allowed_headers("x-custom")                        # None
    """
    asked = {item.strip().lower() for item in (requested or "").split(",")}
    listed = [name for name in ALLOWED_HEADERS if name.lower() in asked]
    return ", ".join(listed) or None


def cors_headers(
    *,
    policy: str,
    methods: Sequence[str],
    origin: str | None,
    preflight: bool,
    requested_headers: str | None,
    origins: WebOrigins,
) -> dict[str, str]:
    """The CORS headers of an answer under ``policy`` (``ANY_ORIGIN`` or ``WEB_ORIGINS``).

    ``Vary`` names what the answer depends on, so that no cache hands one
    origin's answer to another: ``Origin`` under ``WEB_ORIGINS``, and
    ``Access-Control-Request-Headers`` for a preflight. A refused origin gets
    the ``Vary`` and nothing else.
    """
    vary = []
    if policy == WEB_ORIGINS:
        vary.append("Origin")
    if preflight:
        vary.append("Access-Control-Request-Headers")
    headers = {"Vary": ", ".join(vary)} if vary else {}
    if policy == ANY_ORIGIN:
        headers["Access-Control-Allow-Origin"] = "*"
    elif origin is not None and origins.allows(origin):
        headers["Access-Control-Allow-Origin"] = origin
        if not preflight:
            headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    else:
        return headers
    if preflight:
        headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        allowed = allowed_headers(requested_headers)
        if allowed is not None:
            headers["Access-Control-Allow-Headers"] = allowed
        headers["Access-Control-Max-Age"] = _MAX_AGE
    return headers
