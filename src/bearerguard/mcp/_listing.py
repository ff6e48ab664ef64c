"""Hiding the tools a token cannot call from a ``tools/list`` answer, when asked to.

The SDK answers a POST either with one JSON body or with a stream of server-sent
events, one JSON-RPC message per event. Only the answers to the request's own
``tools/list`` ids are touched: their ``result.tools`` loses the tools the token
lacks scopes for; every other message, and every other byte, passes unchanged.
A stream is filtered event by event as it flows, never held back whole.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from bearerguard.asgi import Message, Send

from ._messages import parse

__all__ = ["listing_filter"]


def listing_filter(send: Send, ids: Collection[Any], hidden: Collection[str]) -> Send:
    """A ``send`` that drops the ``hidden`` tools from the answers to the ``tools/list``
    requests ``ids``, in a JSON body or an event stream alike.

    Example::

        send = listing_filter(send, ids=[2], hidden={"delete_contact"})
    """
    mode: str | None = None  # "json", "events", or None: pass through
    pending = b""
    newline = b""  # an event stream's line ending: CRLF (the SDK's) or LF, as first seen
    start: Message = {}  # the answer's start, held (JSON) until the length is known

    def edit(message: Any) -> Any:
        """``message`` without the hidden tools, if it answers one of the ``ids``."""
        if isinstance(message, list):
            return [edit(item) for item in message]
        if not isinstance(message, dict) or message.get("id") not in ids:
            return message
        result = message.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return message
        tools = [
            tool
            for tool in result["tools"]
            if not (isinstance(tool, dict) and tool.get("name") in hidden)
        ]
        return {**message, "result": {**result, "tools": tools}}

    def edited(data: bytes) -> bytes:
        parsed = parse(data)
        if parsed is None:
            return data
        changed = edit(parsed)
        if changed == parsed:
            return data
        return json.dumps(changed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def edited_event(event: bytes) -> bytes:
        lines = event.split(newline)
        data = [line for line in lines if line.startswith(b"data:")]
        if len(data) != 1:  # a ping, a comment, or a multi-line payload the SDK never sends
            return event
        payload = data[0][5:].lstrip(b" ")
        replacement = edited(payload)
        if replacement is payload:
            return event
        return newline.join(b"data: " + replacement if line is data[0] else line for line in lines)

    async def filtered(message: Message) -> None:
        nonlocal mode, pending, start, newline
        if message["type"] == "http.response.start":
            kind = _content_type(message)
            if message["status"] != 200 or kind not in ("application/json", "text/event-stream"):
                await send(message)
                return
            mode = "json" if kind == "application/json" else "events"
            # The length changes with the content: dropped, and set again for JSON.
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"
            ]
            start = {**message, "headers": headers}
            if mode == "events":
                await send(start)
            return
        if message["type"] != "http.response.body" or mode is None:
            await send(message)
            return
        pending += message.get("body", b"")
        more = message.get("more_body", False)
        if mode == "json":
            if more:
                return
            body = edited(pending)
            headers = [*start["headers"], (b"content-length", str(len(body)).encode("ascii"))]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if not newline and b"\n" in pending:
            newline = b"\r\n" if b"\r\n" in pending else b"\n"
        out = b""
        if newline:  # events end with a blank line; a partial one waits for the rest
            end = newline * 2
            complete, _, pending = pending.rpartition(end)
            if complete:
                out = end.join(edited_event(event) for event in complete.split(end)) + end
        if not more:
            out, pending = out + pending, b""
        await send({"type": "http.response.body", "body": out, "more_body": more})

    return filtered


def _content_type(start: Message) -> str | None:
    for key, value in start.get("headers", []):
        if key.lower() == b"content-type":
            text: str = value.decode("latin-1")
            return text.partition(";")[0].strip().lower()
    return None
