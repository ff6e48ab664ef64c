"""Reading an MCP request's JSON-RPC body without consuming it, and answering in raw ASGI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bearerguard.asgi import Message, Receive, Send

from ._sdk import pydantic_core

__all__ = ["TOOL_CALL", "answer", "called_tools", "read_body"]

TOOL_CALL = "tools/call"  # the JSON-RPC method of a tool call; params.name names the tool


async def read_body(receive: Receive, limit: int) -> tuple[bytes, Receive] | None:
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


def called_tools(body: bytes) -> Iterator[str]:
    """The tools a JSON-RPC body calls (a batch may call several).

    Parsed as the SDK parses it (pydantic's JSON parser), so both read the same call;
    a body the SDK cannot parse calls nothing, and the SDK answers it with 400.
    """
    try:
        parsed: Any = pydantic_core.from_json(body)
    except ValueError:
        return
    for message in parsed if isinstance(parsed, list) else (parsed,):
        if isinstance(message, dict) and message.get("method") == TOOL_CALL:
            params = message.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                yield params["name"]


async def answer(send: Send, status: int, fields: list[tuple[str, str]], body: bytes) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fields]
    if not any(name == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
