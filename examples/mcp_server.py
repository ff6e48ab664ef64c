"""An MCP server protected by bearerguard: the official MCP SDK's server, bearerguard's checks.

Run from the repository root (``pip install 'bearerguard[examples]'``)::

    BEARERGUARD_ISSUER=https://your-tenant.auth0.com/ \\
    BEARERGUARD_RESOURCE=http://127.0.0.1:8000/mcp \\
    uvicorn examples.mcp_server:app

then point an MCP client at ``http://127.0.0.1:8000/mcp``. The resource is the URL
clients call, and the tokens' audience: no ``BEARERGUARD_AUDIENCE``. Write the issuer
exactly as your authorization server's metadata spells its ``issuer`` (Auth0's ends
with ``/``): MCP clients compare the two as strings.

A client without a token gets 401, reads the RFC 9728 metadata at
``/.well-known/oauth-protected-resource/mcp`` (its authorization server and the
``mcp:tools`` scope every call needs), logs its user in and calls the tools.
``whoami`` needs nothing more; ``list_contacts`` also needs ``read:contacts``, so a
token without it is refused with 403 ``insufficient_scope`` naming both scopes, and
the client asks its user for more (step-up).
"""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token

from bearerguard import Verifier
from bearerguard.mcp import protect

# No token_verifier and no auth here: bearerguard checks every request in front of the
# SDK's app and hands the SDK the verified token.
server = MCPServer("contacts")


@server.tool()
def whoami() -> dict[str, str | None]:
    """Who is calling, through which client, with which scopes."""
    token = get_access_token()
    if token is None:  # never so: protect() lets no request through without a token
        raise PermissionError("no access token")
    return {"user": token.subject, "client": token.client_id, "scopes": " ".join(token.scopes)}


@server.tool()
def list_contacts() -> dict[str, list[dict[str, str]]]:
    """The user's contacts (needs read:contacts)."""
    return {"contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}


# One verifier for the whole app: it caches the provider's keys. Nothing is fetched
# before the first token arrives, so importing this module never touches the network.
verifier = Verifier.from_env()

app = protect(
    server.streamable_http_app(),  # the MCP endpoint at /mcp
    verifier=verifier,
    scopes=["mcp:tools"],
    tool_scopes={"list_contacts": ["read:contacts"]},
)
