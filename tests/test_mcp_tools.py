"""bearerguard.mcp per-tool scopes: which call a request makes, and what a listing shows.

A call is judged by its JSON-RPC body; the 2026-07-28 revision's ``Mcp-Method`` /
``Mcp-Name`` headers may refuse it before the body is read, never let it through.
A token that may call every tool is not slowed by a body read. With
``hide_tools=True`` a ``tools/list`` answer leaves out the tools the token cannot
call, in the SDK's event-stream answers and its JSON answers alike.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bearerguard import ConfigurationError, Verifier
from bearerguard.asgi import ASGIApp
from bearerguard.mcp import protect
from bearerguard.testing import FakeIssuer
from tests.test_mcp_protect import (
    ISSUER,
    TOOL_SCOPES,
    BearerAuth,
    Served,
    app_without_auth,
    contacts_server,
    serving,
)


def guarded(**protect_settings: Any) -> Callable[[str, Served], ASGIApp]:
    """The contacts server behind ``protect()`` with ``protect_settings`` (and
    ``json_response`` for the SDK's app)."""
    json_response = protect_settings.pop("json_response", False)

    def build(url: str, served: Served) -> ASGIApp:
        app = contacts_server(served).streamable_http_app(json_response=json_response)
        verifier = Verifier(issuer=ISSUER, resource=url)
        settings = {"scopes": ["mcp:tools"], "tool_scopes": TOOL_SCOPES, **protect_settings}
        return protect(app, verifier=verifier, **settings)

    return build


def listed(served: Served, token: str) -> list[str]:
    """The tool names the SDK's own client gets from ``tools/list`` with ``token``."""

    async def listing() -> list[str]:
        async with (
            httpx2.AsyncClient(auth=BearerAuth(token), trust_env=False, timeout=10.0) as http,
            Client(streamable_http_client(served.url, http_client=http)) as client,
        ):
            return sorted(tool.name for tool in (await client.list_tools()).tools)

    return asyncio.run(listing())


def tool_call(tool: str) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}}
    ).encode()


# Which call a request makes: the body decides, the headers may only refuse sooner


def test_a_call_the_headers_name_as_a_scoped_tool_is_refused_whatever_the_body() -> None:
    with serving(guarded()) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        bearer = {"Authorization": f"Bearer {issuer.token(scopes='mcp:tools')}"}
        headers = {**bearer, "Mcp-Method": "tools/call", "Mcp-Name": "list_contacts"}

        answer = served.post(tool_call("whoami"), headers)

    assert answer.status_code == 403
    assert 'scope="mcp:tools read:contacts"' in answer.headers["WWW-Authenticate"]


def test_a_base64_encoded_tool_name_in_the_header_is_read_as_the_name() -> None:
    encoded = base64.b64encode(b"list_contacts").decode("ascii")
    with serving(guarded()) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        headers = {
            "Authorization": f"Bearer {issuer.token(scopes='mcp:tools')}",
            "Mcp-Method": "tools/call",
            "Mcp-Name": f"=?base64?{encoded}?=",
        }

        answer = served.post(tool_call("whoami"), headers)

    assert answer.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Mcp-Method": "tools/call", "Mcp-Name": "whoami"},  # names an open tool
        {"Mcp-Method": "tools/list"},  # claims no call at all
        {"Mcp-Method": "tools/call", "Mcp-Name": "=?base64?not base64?="},  # does not decode
        {},
    ],
    ids=["open-tool", "other-method", "undecodable", "no-headers"],
)
def test_headers_that_claim_an_allowed_call_never_let_a_scoped_call_through(
    headers: dict[str, str],
) -> None:
    with serving(guarded()) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        sent = {"Authorization": f"Bearer {issuer.token(scopes='mcp:tools')}", **headers}

        answer = served.post(tool_call("list_contacts"), sent)

    assert answer.status_code == 403


def test_a_token_that_may_call_every_tool_is_not_held_to_the_body_limit() -> None:
    # The body is not read at all: the SDK gets the request as it came (and its own,
    # larger limit applies), where a token lacking a tool's scope gets 413 at 64 bytes.
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"p": "x" * 100}})
    with (
        serving(guarded(max_body_size=64)) as served,
        FakeIssuer(ISSUER, audience=served.url) as issuer,
    ):
        full = issuer.token(scopes="mcp:tools read:contacts")
        partial = issuer.token(scopes="mcp:tools")

        passed = served.post(body.encode(), {"Authorization": f"Bearer {full}"})
        read = served.post(body.encode(), {"Authorization": f"Bearer {partial}"})

    assert passed.status_code != 413
    assert read.status_code == 413


# What a listing shows


@pytest.mark.parametrize("json_response", [False, True], ids=["event-stream", "json"])
def test_hide_tools_leaves_out_the_tools_a_token_cannot_call(json_response: bool) -> None:
    build = guarded(hide_tools=True, json_response=json_response)
    with serving(build) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        partial = listed(served, issuer.token(scopes="mcp:tools"))
        full = listed(served, issuer.token(scopes="mcp:tools read:contacts"))
        refused = served.post_tool_call("list_contacts", issuer.token(scopes="mcp:tools"))

    assert partial == ["whoami"]
    assert full == ["list_contacts", "whoami"]
    assert refused.status_code == 403  # hidden, and still refused when called by name


def test_by_default_a_listing_hides_nothing() -> None:
    with serving(guarded()) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        names = listed(served, issuer.token(scopes="mcp:tools"))

    assert names == ["list_contacts", "whoami"]


def test_hide_tools_must_be_a_boolean() -> None:
    verifier = Verifier(issuer=ISSUER, resource="https://mcp.example.com/mcp")
    with pytest.raises(ConfigurationError, match="hide_tools must be True or False"):
        protect(app_without_auth(), verifier=verifier, tool_scopes=TOOL_SCOPES, hide_tools="yes")  # type: ignore[arg-type]
