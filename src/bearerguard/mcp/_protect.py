"""``protect()``: bearerguard's ASGI middleware in front of the SDK's streamable-HTTP app,
handing each verified token to the SDK as its own authenticated user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bearerguard._coerce import names
from bearerguard._errors import ConfigurationError
from bearerguard._token import RequiredScopes
from bearerguard._verifier import Verifier, verifier_argument
from bearerguard.asgi import ASGIApp, BearerMiddleware, Receive, Rule, Scope, Send, access_token

from ._sdk import AuthContextMiddleware, AuthCredentials, AuthenticatedUser
from ._tokens import sdk_access_token
from ._tools import ToolScopes

__all__ = ["DEFAULT_MAX_BODY_SIZE", "mcp_resource", "protect", "scope_list"]

#: The largest request body :func:`protect` reads to find the tool a call names: the
#: SDK's own default limit (4 MiB), past which the SDK refuses the request anyway.
DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024


def protect(
    app: ASGIApp,
    *,
    verifier: Verifier,
    scopes: str | Iterable[str] = (),
    tool_scopes: Mapping[str, str | Iterable[str]] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    hide_tools: bool = False,
) -> ASGIApp:
    """Guard an MCP SDK streamable-HTTP app with bearerguard; tools still read the token
    with the SDK's ``get_access_token()``.

    Every request needs a valid token carrying ``scopes`` (none: any valid token),
    checked by :class:`~bearerguard.asgi.BearerMiddleware`: ``Bearer`` and DPoP
    tokens as the verifier's ``dpop`` setting says, RFC 6750 refusals whose
    challenges name the RFC 9728 metadata, 503 with ``Retry-After`` while the
    provider's keys cannot be had or its introspection endpoint gives no usable
    answer. Opaque tokens (the verifier's ``introspection=``) and encrypted ones
    (its ``decryption_keys=``) pass as JWTs do. The metadata document is served at its
    path-inserted URL, derived from the verifier (its ``authorization_servers``
    are the issuers as configured; its ``scopes_supported`` the configured ones,
    else ``scopes``). The verified token is then handed to the SDK as its
    ``AuthenticatedUser`` (``scope["user"]``, ``scope["auth"]``, the context
    ``get_access_token()`` reads), mapped as :class:`BearerTokenVerifier` maps it.

    ``tool_scopes`` names the scopes a tool needs beyond ``scopes``: a
    ``tools/call`` of such a tool by a token without them is refused with 403
    ``insufficient_scope`` whose ``scope`` lists every scope the call needs, so
    an MCP client steps up and retries. The call is read from the JSON-RPC body,
    which is then handed to the app unchanged; bodies over ``max_body_size``
    bytes are refused with 413. The 2026-07-28 revision's ``Mcp-Method`` and
    ``Mcp-Name`` headers refuse a call without reading its body; they never let
    one through. A token that may call every tool costs no body read.

    Listing tools hides nothing unless ``hide_tools=True``: then the answer to a
    ``tools/list`` leaves out the tools the token lacks scopes for (a call to one
    is refused all the same).

    ``verifier`` needs a ``resource`` (the MCP server's URL, also its tokens'
    audience): MCP clients find their authorization server through the metadata.
    Build the SDK's server *without* its own ``token_verifier``/``auth``: its
    Bearer-only backend would overrule this one.

    Example::

        server = MCPServer("contacts")
        app = protect(
            server.streamable_http_app(),
            verifier=Verifier(issuer="https://tenant.auth0.com/",
                              resource="https://mcp.example.com/mcp"),
            scopes=["mcp:tools"],
            tool_scopes={"list_contacts": ["read:contacts"]},
        )
    """
    verifier = verifier_argument(verifier, "protect(verifier=...)")
    mcp_resource(verifier, "protect()")
    _refuse_sdk_auth(app)
    endpoint = scope_list(scopes, "scopes", "scopes=['mcp:tools']")
    calls = _tool_requirements(tool_scopes, endpoint)
    if not isinstance(hide_tools, bool):
        raise ConfigurationError(
            f"hide_tools must be True or False, got {hide_tools!r}.", setting="hide_tools"
        )
    if type(max_body_size) is not int or max_body_size <= 0:
        raise ConfigurationError(
            f"max_body_size must be a positive number of bytes, got {max_body_size!r}: "
            "e.g. max_body_size=4 * 1024 * 1024.",
            setting="max_body_size",
        )
    guarded: ASGIApp = _SDKAuthentication(app, verifier)
    if calls:
        guarded = ToolScopes(guarded, calls, max_body_size, hide_tools=hide_tools)
    # One rule for every path of the app: the SDK's app is the MCP endpoint (and whatever
    # custom routes it has), all of which need a token.
    return BearerMiddleware(guarded, verifier=verifier, rules=[Rule("/{path:path}", *endpoint)])


def mcp_resource(verifier: Verifier, caller: str) -> str:
    """The verifier's ``resource``, which every way of guarding an MCP server needs.

    Example::

        mcp_resource(verifier, "protect()")   # 'https://mcp.example.com/mcp'
    """
    resource = verifier.config.resource
    if resource is None:
        raise ConfigurationError(
            f"{caller} needs a verifier with a resource: MCP clients find the authorization "
            "server through its RFC 9728 metadata. Pass resource='https://mcp.example.com/mcp' "
            "(the MCP endpoint's URL) or set BEARERGUARD_RESOURCE.",
            setting="resource",
        )
    return resource


def _refuse_sdk_auth(app: ASGIApp) -> None:
    """Refuse an app built with the SDK's own auth, whose backend would overrule ours."""
    for middleware in getattr(app, "user_middleware", None) or ():
        if getattr(middleware, "cls", None) is AuthContextMiddleware:
            raise ConfigurationError(
                "protect() was given an MCP app built with its own auth: its Bearer-only "
                "backend would replace the token bearerguard verified (and refuse DPoP). Build "
                "the server without it: MCPServer('contacts') without token_verifier= and "
                "auth=, or FastMCP('contacts') without auth=; bearerguard verifies every "
                "request and fills get_access_token() itself.",
                setting="app",
            )


def scope_list(value: object, setting: str, example: str) -> tuple[str, ...]:
    """Scope names, checked: one string is one scope; RFC 6749 §3.3 names only.

    Example::

        scope_list("mcp:tools", "scopes", "scopes=['mcp:tools']")   # ('mcp:tools',)
    """
    return RequiredScopes(names(value, setting, example, allow_empty=True)).names


def _tool_requirements(tool_scopes: object, endpoint: tuple[str, ...]) -> dict[str, RequiredScopes]:
    """Each tool's whole requirement: the endpoint's scopes, then the tool's own."""
    example = "tool_scopes={'list_contacts': ['read:contacts']}"
    if tool_scopes is None:
        return {}
    if not isinstance(tool_scopes, Mapping):
        raise ConfigurationError(
            f"tool_scopes must map tool names to the scopes they need, got "
            f"{type(tool_scopes).__name__}: e.g. {example}.",
            setting="tool_scopes",
        )
    requirements = {}
    for tool, needed in tool_scopes.items():
        if not isinstance(tool, str) or not tool:
            raise ConfigurationError(
                f"tool_scopes is keyed by tool names (non-empty strings), got {tool!r}: "
                f"e.g. {example}.",
                setting="tool_scopes",
            )
        own = scope_list(needed, f"tool_scopes[{tool!r}]", example)
        if own:
            # The 403 names every scope the call needs (the MCP step-up asks for them all).
            requirements[tool] = RequiredScopes(tuple(dict.fromkeys((*endpoint, *own))))
    return requirements


class _SDKAuthentication:
    """Hands the token bearerguard verified to the SDK: ``scope["user"]`` and
    ``scope["auth"]`` as its ``AuthenticationMiddleware`` would set them, and the
    context its ``get_access_token()`` reads (through its own ``AuthContextMiddleware``)."""

    def __init__(self, app: ASGIApp, verifier: Verifier) -> None:
        self.app = AuthContextMiddleware(app)
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = access_token(scope)
        if token is not None:
            sdk_token = sdk_access_token(self.verifier, token)
            # The SDK binds a session to the principal in scope["user"] (client, issuer,
            # subject), so a session goes on with a stepped-up token of the same user.
            scope = {
                **scope,
                "user": AuthenticatedUser(sdk_token),
                "auth": AuthCredentials(sdk_token.scopes),
            }
        await self.app(scope, receive, send)
