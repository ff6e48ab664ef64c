"""MCP servers: a token verifier for the official MCP Python SDK, on a bearerguard verifier.

The SDK's built-in auth asks a ``TokenVerifier`` about each ``Authorization:
Bearer`` token; :class:`BearerTokenVerifier` answers with bearerguard's
checks (signature, issuer, audience, lifetime, strict claim types, one key
cache) and hands the SDK its ``AccessToken``, which tools read with
``get_access_token()``.

Example (an ``MCPServer`` of the SDK's 2.x line; 1.x calls it ``FastMCP``)::

    from mcp.server import MCPServer
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.auth.settings import AuthSettings

    from bearerguard import Verifier
    from bearerguard.mcp import BearerTokenVerifier

    # BEARERGUARD_ISSUER=https://tenant.auth0.com/
    # BEARERGUARD_AUDIENCE=https://mcp.example.com/mcp  (the server's URL: RFC 8707)
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
per-tool scopes, 503 on a provider outage) is what :func:`protect` gives: it
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

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ._coerce import names
from ._errors import BearerError, ConfigurationError, InsufficientScopeError
from ._issuers import same_issuer
from ._middleware import refusal
from ._token import AccessToken, RequiredScopes
from ._verifier import Verifier, verifier_argument
from .asgi import ASGIApp, BearerMiddleware, Message, Receive, Rule, Scope, Send, access_token

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

__all__ = ["DEFAULT_MAX_BODY_SIZE", "BearerTokenVerifier", "protect", "sdk_access_token"]

logger = logging.getLogger("bearerguard")


class BearerTokenVerifier(TokenVerifier):
    """The MCP SDK's ``TokenVerifier``, answering with a bearerguard :class:`Verifier`.

    ``verify_token`` runs the verifier's async path (``averify``: the event loop
    never waits on a key fetch, and every request shares the verifier's caches)
    and maps the verified token to the SDK's ``AccessToken``:

    - ``token``: the raw token;
    - ``client_id``: the ``client_id`` claim (RFC 9068 §2.2, the access-token
      claim for the client), else ``azp`` (OpenID Connect's authorized party,
      which Auth0 puts in its access tokens instead); both name the same client
      when a token has both. ``""`` when the token names no client: the SDK
      requires a string, and its principal is then told apart by issuer and
      subject;
    - ``scopes``: the granted scopes, sorted (the verifier's ``scope_claims``:
      ``scope``, ``scp``, and ``permissions`` when configured);
    - ``expires_at``: ``exp`` in whole seconds, rounded down;
    - ``resource``: the verifier's first configured audience that the token
      names, spelled as configured (RFC 8707: the resource it was issued for), what
      ``AuthSettings(validate_token_resource=True)`` compares with the
      server's ``resource_server_url``;
    - ``subject``: ``sub``; ``claims``: every claim, ``iss`` included (the SDK
      identifies a principal by client, issuer and subject).

    A refused token is ``None``, as the protocol asks, and the SDK answers 401;
    its answer says only "Authentication required", so the reason (expired,
    another audience, a bad signature, ...) is logged on the ``bearerguard``
    logger at INFO. A provider outage is not a refusal: when the issuer's keys
    cannot be had (bearerguard's 503), ``KeySetUnavailableError`` is raised,
    because the protocol has no answer for "try again later" and ``None`` would
    send the client to authorize again for nothing; the SDK's app answers 500.

    Example::

        server = MCPServer("contacts", token_verifier=BearerTokenVerifier(verifier),
                           auth=AuthSettings(issuer_url=..., resource_server_url=...))
    """

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier_argument(verifier, "BearerTokenVerifier(verifier)")
        if self.verifier.config.dpop == "required":
            # The SDK hands over Bearer tokens only, and averify() judges a token alone:
            # with DPoP required, this verifier would let through what the setting forbids.
            raise ConfigurationError(
                "BearerTokenVerifier cannot honour dpop='required': the MCP SDK's built-in auth "
                "accepts only Bearer tokens. Use dpop='allowed' (DPoP-bound tokens are still "
                "refused as Bearer tokens) or dpop='off' with this verifier.",
                setting="dpop",
            )

    async def verify_token(self, token: str) -> MCPAccessToken | None:
        """The SDK's ``AccessToken`` for a valid ``token``; ``None`` for a refused one.

        Raises ``KeySetUnavailableError`` when the issuer's keys cannot be
        fetched (see the class documentation).

        Example::

            access = await BearerTokenVerifier(verifier).verify_token(raw)
            access.subject, access.scopes    # ('auth0|123', ['read:contacts'])
        """
        try:
            verified = await self.verifier.averify(token)
        except BearerError as refusal:
            if refusal.status_code >= 500:  # the provider's fault, not the token's
                raise
            logger.info(
                "MCP server refused a bearer token (%d %s): %s",
                refusal.status_code,
                refusal.error,
                refusal.reason,
            )
            return None
        return self.access_token(verified)

    def access_token(self, token: AccessToken) -> MCPAccessToken:
        """The SDK's ``AccessToken`` for a token this verifier verified.

        Example::

            mcp_token = BearerTokenVerifier(verifier).access_token(verifier.verify(raw))
            mcp_token.resource    # 'https://mcp.example.com/mcp'
        """
        return sdk_access_token(self.verifier, token)


def sdk_access_token(verifier: Verifier, token: AccessToken) -> MCPAccessToken:
    """The SDK's ``AccessToken`` for ``token``, which ``verifier`` verified (the mapping
    :class:`BearerTokenVerifier` documents field by field).

    Example::

        sdk_access_token(verifier, verifier.verify(raw)).client_id    # 'the-client'
    """
    claims = token.claims
    return MCPAccessToken(
        token=token.raw,
        client_id=token.client_id or "",
        scopes=sorted(token.effective_scopes),
        expires_at=int(claims["exp"]),  # int() rounds a fractional exp down: never later
        resource=_resource_of(verifier, token),
        subject=token.subject,
        claims=dict(claims),
    )


def _resource_of(verifier: Verifier, token: AccessToken) -> str | None:
    """The first configured audience that ``token`` names, in the configured spelling.

    Compared as the verifier compares URL-shaped names (equal, or equal under RFC
    3986 §6.2.2-6.2.3), so that a token naming ``HTTPS://MCP.example.com:443/mcp``
    reports the ``https://mcp.example.com/mcp`` the server was configured with.
    """
    claimed = token.audience
    for configured in verifier.config.audiences:
        if configured in claimed or any(same_issuer(configured, aud) for aud in claimed):
            return configured
    return None


# --- protect(): bearerguard's ASGI middleware in front of the SDK's streamable-HTTP app ----

#: The largest request body :func:`protect` reads to find the tool a call names: the
#: SDK's own default limit (4 MiB), past which the SDK refuses the request anyway.
DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024
_TOOL_CALL = "tools/call"  # the JSON-RPC method of a tool call; params.name names the tool
_TOO_LARGE = b'{"error":"request_too_large","error_description":"Request body too large"}'


def protect(
    app: ASGIApp,
    *,
    verifier: Verifier,
    scopes: str | Iterable[str] = (),
    tool_scopes: Mapping[str, str | Iterable[str]] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> ASGIApp:
    """Guard an MCP SDK streamable-HTTP app with bearerguard; tools still read the token
    with the SDK's ``get_access_token()``.

    Every request needs a valid token carrying ``scopes`` (none: any valid token),
    checked by :class:`~bearerguard.asgi.BearerMiddleware`: ``Bearer`` and DPoP
    tokens as the verifier's ``dpop`` setting says, RFC 6750 refusals whose
    challenges name the RFC 9728 metadata, 503 with ``Retry-After`` while the
    provider's keys cannot be had. The metadata document is served at its
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
    bytes are refused with 413. Listing tools is not filtered.

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
    if verifier.resource_metadata_url is None:
        raise ConfigurationError(
            "protect() needs a verifier with a resource: MCP clients find the authorization "
            "server through its RFC 9728 metadata. Pass resource='https://mcp.example.com/mcp' "
            "(the MCP endpoint's URL) or set BEARERGUARD_RESOURCE.",
            setting="resource",
        )
    _refuse_sdk_auth(app)
    endpoint = _scope_list(scopes, "scopes", "scopes=['mcp:tools']")
    calls = _tool_requirements(tool_scopes, endpoint)
    if type(max_body_size) is not int or max_body_size <= 0:
        raise ConfigurationError(
            f"max_body_size must be a positive number of bytes, got {max_body_size!r}: "
            "e.g. max_body_size=4 * 1024 * 1024.",
            setting="max_body_size",
        )
    guarded: ASGIApp = _SDKAuthentication(app, verifier)
    if calls:
        guarded = _ToolScopes(guarded, calls, max_body_size)
    # One rule for every path of the app: the SDK's app is the MCP endpoint (and whatever
    # custom routes it has), all of which need a token.
    return BearerMiddleware(guarded, verifier=verifier, rules=[Rule("/{path:path}", *endpoint)])


def _refuse_sdk_auth(app: ASGIApp) -> None:
    """Refuse an app built with the SDK's own auth, whose backend would overrule ours."""
    for middleware in getattr(app, "user_middleware", None) or ():
        if getattr(middleware, "cls", None) is AuthContextMiddleware:
            raise ConfigurationError(
                "protect() was given an MCP app built with the SDK's own auth: its Bearer-only "
                "backend would replace the token bearerguard verified (and refuse DPoP). Build "
                "the server without token_verifier= and auth=, e.g. MCPServer('contacts'); "
                "bearerguard verifies every request and fills get_access_token() itself.",
                setting="app",
            )


def _scope_list(value: object, setting: str, example: str) -> tuple[str, ...]:
    """Scope names, checked: one string is one scope; RFC 6749 §3.3 names only."""
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
        own = _scope_list(needed, f"tool_scopes[{tool!r}]", example)
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


class _ToolScopes:
    """Refuses a ``tools/call`` whose tool needs scopes the token lacks: 403
    ``insufficient_scope`` naming all of them. The body is read whole, then replayed."""

    def __init__(
        self, app: ASGIApp, requirements: Mapping[str, RequiredScopes], max_body_size: int
    ) -> None:
        self.app = app
        self.requirements = requirements
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = access_token(scope)
        if scope["type"] != "http" or scope["method"] != "POST" or token is None:
            await self.app(scope, receive, send)  # only a POST carries a JSON-RPC call
            return
        # The body, not the Mcp-Method / Mcp-Name headers, decides: the SDK checks that
        # the headers agree with the body only on the 2026-07-28 revision's requests.
        read = await _read_body(receive, self.max_body_size)
        if read is None:
            await _answer(send, 413, [("Content-Type", "application/json")], _TOO_LARGE)
            return
        body, replay = read
        try:
            for tool in _called_tools(body):
                requirement = self.requirements.get(tool)
                if requirement is not None:
                    requirement.enforce(token)
        except InsufficientScopeError as exc:
            status, fields, payload = refusal(exc)
            await _answer(send, status, fields, payload)
            return
        await self.app(scope, replay, send)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, Receive] | None:
    """The request body and a ``receive`` that hands it (then the rest) to the app again;
    ``None`` when the body is over ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    pending: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending.append(message)  # the client left: the app must hear it too
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    pending.insert(0, {"type": "http.request", "body": body, "more_body": False})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return body, replay


def _called_tools(body: bytes) -> Iterator[str]:
    """The tools a JSON-RPC body calls (a batch may call several).

    Parsed as the SDK parses it (pydantic's JSON parser), so both read the same call;
    a body the SDK cannot parse calls nothing, and the SDK answers it with 400.
    """
    try:
        parsed: Any = pydantic_core.from_json(body)
    except ValueError:
        return
    for message in parsed if isinstance(parsed, list) else (parsed,):
        if isinstance(message, dict) and message.get("method") == _TOOL_CALL:
            params = message.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                yield params["name"]


async def _answer(send: Send, status: int, fields: list[tuple[str, str]], body: bytes) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fields]
    if not any(name == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
