"""Which API a request names: a configured one, or (when the tenant allows it) a loopback resource.

An MCP client names the server it wants a token for by that server's URL, sent
as ``resource`` (RFC 8707), and on a developer's machine that server listens on
loopback at a port nobody configured: ``http://127.0.0.1:8000/mcp``. A tenant
with ``loopback_resources`` (the built-in tenant has it) accepts such a URL as
the identifier of an API that exists for as long as it is asked for. The API
defines whatever scopes are asked for with it, so a client is granted what it
asks (the user's ``permissions``, when the user has any, still cap them).

A loopback resource is an ``http`` URL of ``127.x.y.z``, ``[::1]`` or
``localhost``, in lower case, on any port, read by the same strict parser as
loopback redirect URIs: ``http://127.0.0.1:8000@evil.example/`` is not one.
"""

from __future__ import annotations

from collections.abc import Iterable

from bearerguard._errors import SCOPE_TOKEN
from bearerguard._urls import resource_problem

from ._config import OIDC_SCOPES, ApiConfig, DevIssuerConfig
from ._redirects import loopback_redirect

__all__ = ["LOOPBACK_API_NAME", "find_api", "is_loopback_resource"]

LOOPBACK_API_NAME = "loopback resource"


def is_loopback_resource(identifier: str) -> bool:
    """Whether ``identifier`` is an RFC 8707 resource on a loopback host.

    Example::

        is_loopback_resource("http://127.0.0.1:8000/mcp")   # True
        is_loopback_resource("https://api.example.com")     # False
    """
    return resource_problem(identifier) is None and loopback_redirect(identifier) is not None


def find_api(
    config: DevIssuerConfig, identifier: str, scopes: Iterable[str] = ()
) -> ApiConfig | None:
    """The API ``identifier`` names, or ``None`` when the tenant has no such API.

    A configured API comes first. Otherwise, in a tenant with ``loopback_resources``,
    a loopback resource is an API of its own whose scopes are the API scopes among
    ``scopes`` (what the request asks for; OpenID Connect scopes and malformed names
    are left out, as they are no API's).

    Example::

        find_api(default_config(), "http://127.0.0.1:8000/mcp", ["mcp:tools", "openid"]).scopes
        # ('mcp:tools',)
    """
    configured = config.api(identifier)
    if configured is not None or not config.loopback_resources:
        return configured
    if not is_loopback_resource(identifier):
        return None
    own = [scope for scope in scopes if scope not in OIDC_SCOPES and SCOPE_TOKEN.fullmatch(scope)]
    return ApiConfig(identifier=identifier, name=LOOPBACK_API_NAME, scopes=tuple(own))
