"""bearerguard.mcp's reading of MCP messages: the routing headers' claim, and the
filter that hides tools from a listing as the answer flows (JSON or event stream)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bearerguard.mcp._listing import listing_filter
from bearerguard.mcp._messages import called_tools, header_call, listing_ids, parse

# The routing headers: a claim of which tool is called


@pytest.mark.parametrize(
    ("headers", "claimed"),
    [
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", b"list_contacts")], "list_contacts"),
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", b"=?base64?w6lsw6h2ZQ==?=")], "élève"),
        ([(b"mcp-method", b"tools/list")], None),
        ([(b"mcp-method", b"tools/call")], None),
        ([(b"mcp-name", b"list_contacts")], None),
        # sent twice: which copy counts is anyone's guess, so neither does
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", b"a"), (b"mcp-name", b"b")], None),
        (
            [(b"mcp-method", b"tools/call"), (b"mcp-method", b"tools/call"), (b"mcp-name", b"a")],
            None,
        ),
        # base64 that is not canonical, not base64, or not UTF-8 names nothing
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", b"=?base64?w6lsw6h2ZR==?=")], None),
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", b"=?base64?!!?=")], None),
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", b"=?base64?/w==?=")], None),
        ([(b"mcp-method", b"tools/call"), (b"mcp-name", "é".encode("latin-1"))], None),
    ],
    ids=[
        "plain",
        "base64",
        "other-method",
        "no-name",
        "no-method",
        "name-twice",
        "method-twice",
        "non-canonical",
        "not-base64",
        "not-utf8",
        "not-ascii",
    ],
)
def test_the_headers_claim_a_tool_call_only_when_unambiguous(
    headers: list[tuple[bytes, bytes]], claimed: str | None
) -> None:
    assert header_call(headers) == claimed


# The body: what it calls and lists


def test_a_body_names_every_tool_it_calls_and_every_listing_it_asks_for() -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "a"}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": 7}},
        {"jsonrpc": "2.0", "method": "tools/list"},  # a notification: nothing answers it
        "not a message",
    ]
    parsed = parse(json.dumps(batch).encode())

    assert list(called_tools(parsed)) == ["a"]
    assert listing_ids(parsed) == [2]
    assert parse(b"{not json") is None
    assert list(called_tools(None)) == []


# The listing filter


def listing(request_id: Any, *names: str) -> dict[str, Any]:
    tools = [{"name": name, "inputSchema": {"type": "object"}} for name in names]
    return {"jsonrpc": "2.0", "id": request_id, "result": {"tools": tools}}


def run(
    start: dict[str, Any], chunks: list[bytes], ids: list[Any] | None = None
) -> tuple[dict[str, Any], bytes, list[dict[str, Any]]]:
    """Send ``start`` then ``chunks`` through the filter (hiding ``secret``); what came out."""
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def flow() -> None:
        filtered = listing_filter(send, [1] if ids is None else ids, {"secret"})
        await filtered(start)
        for n, chunk in enumerate(chunks):
            more = n < len(chunks) - 1
            await filtered({"type": "http.response.body", "body": chunk, "more_body": more})

    asyncio.run(flow())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0], body, sent


def started(content_type: bytes, status: int = 200, length: int | None = None) -> dict[str, Any]:
    headers = [(b"content-type", content_type)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": status, "headers": headers}


def test_a_json_answer_loses_the_hidden_tools_and_gets_its_new_length() -> None:
    original = json.dumps(listing(1, "open", "secret")).encode()

    start, body, _ = run(
        started(b"application/json", length=len(original)), [original[:10], original[10:]]
    )

    assert json.loads(body)["result"]["tools"] == [
        {"name": "open", "inputSchema": {"type": "object"}}
    ]
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"], ids=["crlf", "lf"])
def test_an_event_stream_is_filtered_event_by_event_across_chunk_boundaries(
    newline: bytes,
) -> None:
    ping = b": ping" + newline + newline
    event = (
        b"event: message" + newline + b"data: " + json.dumps(listing(1, "secret", "open")).encode()
    )
    stream = ping + event + newline + newline
    chunks = [stream[:5], stream[5:40], stream[40:]]

    _, body, sent = run(started(b"text/event-stream"), chunks)

    events = body.split(newline + newline)
    assert events[0] == b": ping"
    data = events[1].split(newline)[1]
    assert data.startswith(b"data: ")
    assert [tool["name"] for tool in json.loads(data[6:])["result"]["tools"]] == ["open"]
    assert body.endswith(newline + newline)
    assert sent[-1]["more_body"] is False


@pytest.mark.parametrize(
    ("start", "payload"),
    [
        (started(b"application/json"), listing(2, "secret")),  # another request's answer
        (started(b"application/json", status=400), listing(1, "secret")),
        (started(b"text/plain"), listing(1, "secret")),
        (started(b"application/json"), {"jsonrpc": "2.0", "id": 1, "error": {"code": 1}}),
    ],
    ids=["other-id", "not-200", "not-json", "an-error"],
)
def test_anything_but_the_listing_it_was_asked_for_passes_untouched(
    start: dict[str, Any], payload: dict[str, Any]
) -> None:
    original = json.dumps(payload).encode()

    _, body, _ = run(start, [original])

    assert body == original
