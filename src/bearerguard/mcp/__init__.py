"""MCP servers: a token verifier for the official MCP Python SDK, on a bearerguard verifier.

The SDK's built-in auth asks a ``TokenVerifier`` about each ``Authorization:
Bearer`` token; :class:`BearerTokenVerifier` answers with bearerguard's
checks (signature, issuer, audience, lifetime, strict claim types, one key
cache) and hands the SDK its ``AccessToken``, which tools read with
``get_access_token()``. Opaque tokens (the verifier's ``introspection=``, RFC
7662) and encrypted ones (its ``decryption_keys=``, JWE) reach the tools alike.

Example (an ``MCPServer`` of the SDK's 2.x line; 1.x calls it ``FastMCP``)::

    from mcp.server import MCPServer
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.auth.settings import AuthSettings

    from bearerguard import Verifier
    from bearerguard.mcp import BearerTokenVerifier

    # BEARERGUARD_ISSUER=https://tenant.auth0.com/
    # BEARERGUARD_RESOURCE=https://mcp.example.com/mcp  (the server's URL: RFC 8707)
    verifier = Verifier.from_env()
    server = MCPServer(
        "contacts",
        token_verifier=BearerTokenVerifier(verifier),
        auth=AuthSettings(
            issuer_url="https://tenant.auth0.com/",
            resource_server_url="https://mcp.example.com/mcp",
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def whoami() -> str:
        token = get_access_token()   # the SDK's AccessToken, mapped by bearerguard
        return f"{token.subject} via {token.client_id}"

    app = server.streamable_http_app()   # uvicorn module:app

What the SDK's Bearer-only path leaves out (DPoP, RFC 6750 challenges with
``scope`` and ``resource_metadata``, the metadata derived from the verifier,
per-tool scopes, 503 on a provider outage, its introspection endpoint's
included) is what :func:`protect` gives: it
guards the SDK's streamable-HTTP app (built *without* the SDK's own auth) with
bearerguard's ASGI middleware and hands each verified token to the SDK, so
``get_access_token()`` works in tools all the same::

    from mcp.server import MCPServer

    from bearerguard import Verifier
    from bearerguard.mcp import protect

    server = MCPServer("contacts")   # no token_verifier, no auth: bearerguard does both
    ...
    # BEARERGUARD_ISSUER=https://tenant.auth0.com/
    # BEARERGUARD_RESOURCE=https://mcp.example.com/mcp
    app = protect(
        server.streamable_http_app(),
        verifier=Verifier.from_env(),
        scopes=["mcp:tools"],
        tool_scopes={"list_contacts": ["read:contacts"]},
    )
"""

from __future__ import annotations

from ._protect import DEFAULT_MAX_BODY_SIZE, protect
from ._tokens import BearerTokenVerifier, sdk_access_token

__all__ = ["DEFAULT_MAX_BODY_SIZE", "BearerTokenVerifier", "protect", "sdk_access_token"]
