"""Which redirect URIs a client may use, and which web origins may call the token endpoint.

Redirect URIs match by exact string comparison (RFC 9700 §4.1.3), with the one
exception RFC 8252 §7.3 makes: "The authorization server MUST allow any port to
be specified at the time of the request for loopback IP redirect URIs". An app
that listens on loopback (a native app, or an API serving Swagger UI on
``uvicorn --port 8001``) cannot know its port when it is registered. So, for a
*public* client only, a registered URI ``http://<loopback host>[:port]<path>``
matches a requested URI that is the same string except for the port (any port,
or none). The host is the same host (``127.0.0.1`` does not match
``localhost``), the path and query are exact, and neither has a fragment.
Confidential clients stay exact: their redirect URIs are ordinary web servers.

The loopback hosts are ``localhost``, ``[::1]`` and the literals ``127.x.y.z``,
written in lower case. Parsing is a strict pattern rather than ``urlsplit``,
which reads ``http://127.0.0.1:8000@evil.example/`` as a URI of ``evil.example``:
here anything but a port between the host and the path is simply not loopback,
so it falls back to exact comparison.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

from ._config import ClientConfig

__all__ = ["LoopbackRedirect", "WebOrigins", "loopback_redirect", "redirect_uri_matches"]

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_HOST = rf"(?P<host>localhost|\[::1\]|127(?:\.{_OCTET}){{3}})"
# No leading zero: a port is written one way, so "identical except for the port" stays simple.
_PORT = r"(?::(?P<port>[1-9][0-9]{0,4}))?"
_LOOPBACK_URI = re.compile(rf"http://{_HOST}{_PORT}(?P<rest>[/?][^#]*)?")
_LOOPBACK_ORIGIN = re.compile(rf"http://{_HOST}{_PORT}")
_MAX_PORT = 65535


class LoopbackRedirect(NamedTuple):
    """A loopback redirect URI, taken apart: what must match, and the port that need not."""

    host: str
    port: int | None
    rest: str  # the path and query, exactly as written ("" when there is neither)


def loopback_redirect(uri: str) -> LoopbackRedirect | None:
    """``uri`` taken apart when it is an ``http`` URI of a loopback host, else ``None``.

    Example::

        loopback_redirect("http://127.0.0.1:8000/docs/oauth2-redirect")
        # LoopbackRedirect(host='127.0.0.1', port=8000, rest='/docs/oauth2-redirect')
        loopback_redirect("http://127.0.0.1:8000@evil.example/")   # None
    """
    found = _LOOPBACK_URI.fullmatch(uri)
    if found is None:
        return None
    port = _port(found.group("port"))
    if port == 0:
        return None
    return LoopbackRedirect(found.group("host"), port, found.group("rest") or "")


def redirect_uri_matches(client: ClientConfig, requested: str) -> bool:
    """Whether ``requested`` is one of ``client``'s redirect URIs, as the module docstring says.

    Example::

        redirect_uri_matches(spa, "http://127.0.0.1:8123/callback")   # True: public, loopback
        redirect_uri_matches(web, "http://127.0.0.1:8123/callback")   # False: confidential
    """
    if requested in client.redirect_uris:
        return True
    if not client.public:
        return False
    asked = loopback_redirect(requested)
    if asked is None:
        return False
    return any(
        registered is not None and (registered.host, registered.rest) == (asked.host, asked.rest)
        for registered in map(loopback_redirect, client.redirect_uris)
    )


class WebOrigins:
    """The origins whose scripts may call the token and userinfo endpoints (CORS).

    Those of the registered redirect URIs (Auth0's "allowed web origins": a SPA
    calls from where it is served), and, for the loopback redirect URIs of public
    clients, their host on any port, as their redirect URIs match on any port.

    Example::

        origins = WebOrigins(config.clients)
        origins.allows("http://127.0.0.1:8001")   # True when a public client has a
                                                  # redirect URI on http://127.0.0.1
    """

    def __init__(self, clients: Iterable[ClientConfig]) -> None:
        clients = tuple(clients)
        self._exact = {
            f"{parts.scheme}://{parts.netloc}".lower()
            for client in clients
            for parts in map(urlsplit, client.redirect_uris)
        }
        self._loopback_hosts = {
            found.host
            for client in clients
            if client.public
            for found in map(loopback_redirect, client.redirect_uris)
            if found is not None
        }

    def allows(self, origin: str) -> bool:
        """Whether a request with this ``Origin`` header may read the answer."""
        if origin.lower() in self._exact:
            return True
        found = _LOOPBACK_ORIGIN.fullmatch(origin)
        return (
            found is not None
            and found.group("host") in self._loopback_hosts
            and _port(found.group("port")) != 0
        )


def _port(digits: str | None) -> int | None:
    """The port, ``None`` when absent, 0 when out of range (so that it matches nothing)."""
    if digits is None:
        return None
    port = int(digits)
    return port if port <= _MAX_PORT else 0
