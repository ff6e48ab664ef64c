"""The example MCP server (``examples/mcp_server.py``) under uvicorn, logged in to by the
official MCP SDK's own client, end to end, against the dev issuer.

The dev issuer runs with its built-in configuration, auto-approving; the server
trusts it through ``BEARERGUARD_ISSUER`` and names its own URL as
``BEARERGUARD_RESOURCE`` (no audience setting). The SDK's ``OAuthClientProvider``
gets 401, reads the server's RFC 9728 metadata, finds the dev issuer there,
registers, authorizes with PKCE and the resource, and calls ``whoami``. Calling
``list_contacts`` without ``read:contacts`` gets 403 ``insufficient_scope`` naming
every scope the call needs; the SDK steps up and the call succeeds. Every token
comes from the dev issuer: none is made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

from bearerguard.devissuer import DevIssuer, default_config

from .servers import REQUEST_TIMEOUT, bound_listener, example_environment, serve_on

pytestmark = pytest.mark.e2e

METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"
# A native app's loopback redirect (RFC 8252 §7.3): nothing listens there, the browser
# below reads the redirect instead of following it.
CALLBACK = "http://127.0.0.1:8765/callback"
DEV_USER = "auth0|alice"  # who the dev issuer's built-in tenant signs in


@dataclass
class Exchange:
    """One HTTP request the MCP client sent, and the status and challenge it got."""

    method: str
    url: str
    status: int
    challenge: str | None


@dataclass
class Session:
    """What the MCP client saw and did while logging in and calling the tools."""

    exchanges: list[Exchange] = field(default_factory=list)
    authorizations: list[dict[str, str]] = field(default_factory=list)  # /authorize queries
    redirects: list[dict[str, str]] = field(default_factory=list)  # what came back
    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None

    # The SDK's TokenStorage, in memory.
    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info

    # The user's browser: opens the authorization URL, reads where it is redirected.
    async def open_browser(self, url: str) -> None:
        self.authorizations.append(_query(url))
        async with httpx2.AsyncClient(trust_env=False, timeout=REQUEST_TIMEOUT) as browser:
            answer = await browser.get(url)  # auto-approved: straight back to the client
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(CALLBACK + "?"), location
        self.redirects.append(_query(location))

    async def callback(self) -> AuthorizationCodeResult:
        answer = self.redirects[-1]
        return AuthorizationCodeResult(
            code=answer["code"], state=answer.get("state"), iss=answer.get("iss")
        )

    async def record(self, response: httpx2.Response) -> None:
        request = response.request
        self.exchanges.append(
            Exchange(
                request.method,
                str(request.url),
                response.status_code,
                response.headers.get("WWW-Authenticate"),
            )
        )

    def to(self, url: str) -> list[Exchange]:
        """The exchanges with ``url``, in order."""
        return [exchange for exchange in self.exchanges if exchange.url == url]


def _query(url: str) -> dict[str, str]:
    return {name: value for name, (value, *_) in parse_qs(urlsplit(url).query).items()}


@dataclass
class Served:
    """The example running under uvicorn, and the dev issuer it trusts."""

    issuer: DevIssuer
    url: str  # the MCP endpoint, which is also the resource

    @property
    def metadata_url(self) -> str:
        return self.url.replace("/mcp", METADATA_PATH)


@contextlib.contextmanager
def serving_example(
    listener: socket.socket, environment: dict[str, str], log_dir: Path
) -> Iterator[None]:
    """``examples/mcp_server.py`` under uvicorn on ``listener`` until the block ends."""
    with serve_on(
        listener,
        "examples.mcp_server:app",
        environment=environment,
        log_dir=log_dir,
        ready_path=METADATA_PATH,
    ):
        yield


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with DevIssuer(default_config(), auto_approve=True) as issuer:
        listener = bound_listener()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
        # The resource is the audience: no BEARERGUARD_AUDIENCE.
        environment = example_environment([issuer.url], url)
        with serving_example(listener, environment, tmp_path_factory.mktemp("mcp-server")):
            yield Served(issuer, url)


def call_tools(served: Served, session: Session, *names: str) -> list[Any]:
    """Call each tool in turn with the SDK's client, logging in as it needs; their answers."""

    async def calls() -> list[Any]:
        provider = OAuthClientProvider(
            server_url=served.url,
            client_metadata=OAuthClientMetadata(
                redirect_uris=[AnyUrl(CALLBACK)], client_name="bearerguard e2e MCP client"
            ),
            storage=session,
            redirect_handler=session.open_browser,
            callback_handler=session.callback,
        )
        answers = []
        async with (
            httpx2.AsyncClient(
                auth=provider,
                trust_env=False,
                timeout=REQUEST_TIMEOUT,
                event_hooks={"response": [session.record]},
            ) as http,
            Client(streamable_http_client(served.url, http_client=http)) as client,
        ):
            for name in names:
                result = await client.call_tool(name, {})
                assert not result.is_error, result
                answers.append(json.loads(result.content[0].text))  # type: ignore[union-attr]
        return answers

    return asyncio.run(calls())


@pytest.fixture(scope="module")
def logged_in(served: Served) -> tuple[Session, list[Any]]:
    """One client session: whoami, then list_contacts (step-up), then whoami again."""
    session = Session()
    answers = call_tools(served, session, "whoami", "list_contacts", "whoami")
    return session, answers


def test_the_client_is_refused_then_finds_the_issuer_in_the_metadata(
    served: Served, logged_in: tuple[Session, list[Any]]
) -> None:
    session, _ = logged_in
    first = session.to(served.url)[0]
    metadata = session.to(served.metadata_url)

    assert first.status == 401
    assert first.challenge is not None
    assert f'resource_metadata="{served.metadata_url}"' in first.challenge
    assert [exchange.status for exchange in metadata][:1] == [200]
    # The issuer's own metadata, found through the resource's authorization_servers.
    issuer_metadata = served.issuer.url + ".well-known/oauth-authorization-server"
    assert any(e.url == issuer_metadata and e.status == 200 for e in session.exchanges)


def test_the_client_registers_and_authorizes_for_the_resource_with_pkce(
    served: Served, logged_in: tuple[Session, list[Any]]
) -> None:
    session, _ = logged_in

    assert session.client_info is not None
    assert session.client_info.token_endpoint_auth_method == "none"  # a public client
    assert len(session.authorizations) == 2  # the first login, then the step-up
    for authorization in session.authorizations:
        assert authorization["resource"] == served.url
        assert authorization["code_challenge_method"] == "S256"
        assert authorization["client_id"] == session.client_info.client_id
    # The first login asks for what the metadata names; the dev issuer answers with iss.
    assert set(session.authorizations[0]["scope"].split()) == {"mcp:tools", "offline_access"}
    assert [redirect["iss"] for redirect in session.redirects] == [served.issuer.url] * 2


def test_the_unscoped_tool_answers_with_the_token_the_sdk_was_handed(
    served: Served, logged_in: tuple[Session, list[Any]]
) -> None:
    session, (whoami, _, _) = logged_in

    assert session.client_info is not None
    assert whoami == {
        "user": DEV_USER,
        "client": session.client_info.client_id,
        "scopes": "mcp:tools offline_access",
    }


def test_the_scoped_tool_is_refused_with_every_scope_it_needs_then_stepped_up(
    served: Served, logged_in: tuple[Session, list[Any]]
) -> None:
    session, (_, contacts, whoami_after) = logged_in
    refused = [e for e in session.to(served.url) if e.status == 403]

    assert len(refused) == 1
    assert refused[0].challenge is not None
    assert 'error="insufficient_scope"' in refused[0].challenge
    assert 'scope="mcp:tools read:contacts"' in refused[0].challenge
    assert f'resource_metadata="{served.metadata_url}"' in refused[0].challenge
    # The SDK asked for the union of what it had and what the challenge named.
    assert set(session.authorizations[1]["scope"].split()) == {
        "mcp:tools",
        "offline_access",
        "read:contacts",
    }
    assert contacts == {"contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
    assert whoami_after["scopes"] == "mcp:tools offline_access read:contacts"
