"""Per-tool scopes: a ``tools/call`` of a tool that needs scopes the token lacks is refused
with 403 ``insufficient_scope`` naming every scope the call needs (the MCP step-up); and,
when asked, ``tools/list`` answers without the tools the token cannot call.

What a request calls is decided by its JSON-RPC body, read whole and replayed to the
app. The 2026-07-28 revision's ``Mcp-Method``/``Mcp-Name`` headers only speed up a
refusal: the SDK holds the body to them on that revision's requests only, so a call
the headers would allow is still judged by its body. A token that may call every
tool costs no body read at all.
"""

from __future__ import annotations

from collections.abc import Mapping

from bearerguard._middleware import refusal
from bearerguard._token import AccessToken, RequiredScopes
from bearerguard.asgi import ASGIApp, Receive, Scope, Send, access_token

from ._listing import listing_filter
from ._messages import answer, called_tools, header_call, listing_ids, parse, read_body

__all__ = ["TOO_LARGE", "ToolScopes"]

TOO_LARGE = b'{"error":"request_too_large","error_description":"Request body too large"}'


class ToolScopes:
    """Refuses a ``tools/call`` whose tool needs scopes the token lacks: 403
    ``insufficient_scope`` naming all of them. With ``hide_tools``, a ``tools/list``
    answer leaves out the tools the token could not call.

    Example::

        app = ToolScopes(app, {"list_contacts": RequiredScopes(["read:contacts"])},
                         max_body_size=4 * 1024 * 1024, hide_tools=False)
    """

    def __init__(
        self,
        app: ASGIApp,
        requirements: Mapping[str, RequiredScopes],
        max_body_size: int,
        *,
        hide_tools: bool = False,
    ) -> None:
        self.app = app
        self.requirements = requirements
        self.max_body_size = max_body_size
        self.hide_tools = hide_tools

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = access_token(scope)
        if scope["type"] != "http" or scope["method"] != "POST" or token is None:
            await self.app(scope, receive, send)  # only a POST carries a JSON-RPC call
            return
        denied = self._denied(token)
        if not denied:  # every tool is open to this token: nothing to read
            await self.app(scope, receive, send)
            return
        claimed = header_call(scope["headers"])
        if claimed in denied:  # refused on the client's own word: the body need not be read
            await self._refuse(send, denied[claimed], token)
            return
        read = await read_body(receive, self.max_body_size)
        if read is None:
            await answer(send, 413, [("Content-Type", "application/json")], TOO_LARGE)
            return
        body, replay = read
        parsed = parse(body)
        for tool in called_tools(parsed):
            if tool in denied:
                await self._refuse(send, denied[tool], token)
                return
        if self.hide_tools:
            ids = listing_ids(parsed)
            if ids:
                send = listing_filter(send, ids, denied.keys())
        await self.app(scope, replay, send)

    def _denied(self, token: AccessToken) -> dict[str, RequiredScopes]:
        """The tools ``token`` may not call, with what each needs."""
        return {
            tool: needed
            for tool, needed in self.requirements.items()
            if not needed.granted_by(token)
        }

    @staticmethod
    async def _refuse(send: Send, needed: RequiredScopes, token: AccessToken) -> None:
        status, fields, payload = refusal(needed.refusal(token))
        await answer(send, status, fields, payload)
