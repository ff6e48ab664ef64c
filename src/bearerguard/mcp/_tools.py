"""Per-tool scopes: a ``tools/call`` of a tool that needs scopes the token lacks is refused
with 403 ``insufficient_scope`` naming every scope the call needs (the MCP step-up)."""

from __future__ import annotations

from collections.abc import Mapping

from bearerguard._errors import InsufficientScopeError
from bearerguard._middleware import refusal
from bearerguard._token import RequiredScopes
from bearerguard.asgi import ASGIApp, Receive, Scope, Send, access_token

from ._messages import answer, called_tools, read_body

__all__ = ["TOO_LARGE", "ToolScopes"]

TOO_LARGE = b'{"error":"request_too_large","error_description":"Request body too large"}'


class ToolScopes:
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
        read = await read_body(receive, self.max_body_size)
        if read is None:
            await answer(send, 413, [("Content-Type", "application/json")], TOO_LARGE)
            return
        body, replay = read
        try:
            for tool in called_tools(body):
                requirement = self.requirements.get(tool)
                if requirement is not None:
                    requirement.enforce(token)
        except InsufficientScopeError as exc:
            status, fields, payload = refusal(exc)
            await answer(send, status, fields, payload)
            return
        await self.app(scope, replay, send)
