"""What an MCP request calls: its JSON-RPC body (read without consuming it) and the
``Mcp-Method``/``Mcp-Name`` headers of the 2026-07-28 revision; answering in raw ASGI."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from typing import Any

from bearerguard.asgi import Message, Receive, Send, send_response

from ._sdk import pydantic_core

__all__ = [
    "TOOL_CALL",
    "TOOL_LIST",
    "answer",
    "called_tools",
    "header_call",
    "listing_ids",
    "parse",
    "read_body",
]

TOOL_CALL = "tools/call"  # the JSON-RPC method of a tool call; params.name names the tool
TOOL_LIST = "tools/list"  # the JSON-RPC method listing the tools; result.tools lists them
# The 2026-07-28 revision's routing headers (basic/transports): the method, and for a tool
# call the tool's name, as the client claims them. Non-ASCII names travel base64-encoded
# between "=?base64?" and "?=".
_METHOD_HEADER = b"mcp-method"
_NAME_HEADER = b"mcp-name"
_BASE64_NAME = re.compile(r"=\?base64\?(?P<payload>.*)\?=")


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


def called_tools(parsed: Any) -> Iterator[str]:
    """The tools a parsed JSON-RPC body calls (a batch may call several).

    Parsed as the SDK parses it (:func:`parse`), so both read the same call; a body
    the SDK cannot parse calls nothing, and the SDK answers it with 400.
    """
    for message in parsed if isinstance(parsed, list) else (parsed,):
        if isinstance(message, dict) and message.get("method") == TOOL_CALL:
            params = message.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                yield params["name"]


async def answer(send: Send, status: int, fields: list[tuple[str, str]], body: bytes) -> None:
    """Send a whole response, with its Content-Length when ``fields`` lack one."""
    if not any(name.lower() == "content-length" for name, _ in fields):
        fields = [*fields, ("Content-Length", str(len(body)))]
    await send_response(send, status, fields, body)


def parse(body: bytes) -> Any:
    """The JSON-RPC body as the SDK reads it (pydantic's JSON parser), or ``None``."""
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        return None


def listing_ids(parsed: Any) -> list[Any]:
    """The ids of the ``tools/list`` requests in a parsed body (a batch may hold several)."""
    return [
        message["id"]
        for message in (parsed if isinstance(parsed, list) else (parsed,))
        if isinstance(message, dict) and message.get("method") == TOOL_LIST and "id" in message
    ]


def header_call(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The tool a request's ``Mcp-Method``/``Mcp-Name`` headers say it calls, else ``None``.

    Only a claim: the client's, which an SDK holds the body to on some requests and
    not others. Good enough to refuse a call early; never enough to let one through.
    A header sent twice, or a name that does not decode, claims nothing.

    Example::

        header_call([(b"mcp-method", b"tools/call"), (b"mcp-name", b"list_contacts")])
        # 'list_contacts'
    """
    method = name = None
    for key, value in headers:
        if key == _METHOD_HEADER:
            if method is not None:
                return None
            method = value
        elif key == _NAME_HEADER:
            if name is not None:
                return None
            name = value
    if method != TOOL_CALL.encode("ascii") or name is None:
        return None
    return _decoded_name(name)


def _decoded_name(value: bytes) -> str | None:
    """An ``Mcp-Name`` value: the text itself, or the UTF-8 behind the base64 sentinel
    (canonical base64 only, so that one name has one spelling)."""
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    match = _BASE64_NAME.fullmatch(text)
    if match is None:
        return text
    payload = match["payload"]
    try:
        decoded = base64.b64decode(payload, validate=True)
        if base64.b64encode(decoded).decode("ascii") != payload:
            return None
        return decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
