"""The MCP Python SDK's names bearerguard.mcp uses, imported once, with a clear error when
the SDK is missing or too old to carry what bearerguard hands it."""

from __future__ import annotations

try:
    import pydantic_core
    from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken as MCPAccessToken
    from mcp.server.auth.provider import TokenVerifier
    from starlette.authentication import AuthCredentials
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "bearerguard.mcp needs the MCP Python SDK: pip install 'bearerguard[mcp]'"
    ) from exc

# Releases before 1.27.2 have no subject and claims fields, and pydantic would drop those
# values silently: the SDK could then no longer tell one user's session from another's.
if not {"subject", "claims"} <= MCPAccessToken.model_fields.keys():  # pragma: no cover
    raise ImportError(
        "bearerguard.mcp needs mcp 1.27.2 or later (its AccessToken has no subject and "
        "claims): pip install --upgrade 'bearerguard[mcp]'"
    )

__all__ = [
    "AuthContextMiddleware",
    "AuthCredentials",
    "AuthenticatedUser",
    "MCPAccessToken",
    "TokenVerifier",
    "pydantic_core",
]
