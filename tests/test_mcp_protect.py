"""bearerguard.mcp.protect: bearerguard's ASGI protection in front of the MCP SDK's app.

The server is the SDK's own streamable-HTTP app (``MCPServer`` without auth of its
own) under uvicorn on 127.0.0.1, protected by ``protect()``; tokens are real (a
FakeIssuer signs them and answers the key fetches in-process). Calls that pass go
through the SDK's own client, Bearer and DPoP alike; refusals, which the app never
sees, are plain HTTP posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken as MCPAccessToken
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl

from bearerguard import ConfigurationError, Verifier
from bearerguard.asgi import ASGIApp
from bearerguard.mcp import BearerTokenVerifier, protect, sdk_access_token
from bearerguard.testing import DPoPKey, FakeIssuer
from tests.test_mcp import guide_app
from tests.uvicorn_thread import loopback_socket, running

ISSUER = "https://tenant.auth0.com/"
OTHER_API = "https://api.example.com"
TOOL_SCOPES = {"list_contacts": ["read:contacts"]}
ACCEPT = "application/json, text/event-stream"


@dataclass
class Served:
    """A protected MCP server on 127.0.0.1, and the access tokens its tools saw."""

    url: str
    seen: list[MCPAccessToken] = field(default_factory=list)

    @property
    def metadata_url(self) -> str:
        return self.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """A raw POST to the MCP endpoint."""
        sent = {"Accept": ACCEPT, "Content-Type": "application/json", **(headers or {})}
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            return client.post(self.url, content=body, headers=sent)

    def post_tool_call(self, tool: str, token: str | None = None, **headers: str) -> httpx.Response:
        """A JSON-RPC ``tools/call`` of ``tool`` as plain HTTP, with ``Bearer token``."""
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}}
        return self.post(json.dumps(call).encode(), headers)

    def call_tools(self, auth: httpx2.Auth, *tools: str) -> list[Any]:
        """Call each tool with the SDK's client, authenticated by ``auth``; their answers."""

        async def calls() -> list[Any]:
            answers = []
            async with (
                httpx2.AsyncClient(auth=auth, trust_env=False, timeout=10.0) as http,
                Client(streamable_http_client(self.url, http_client=http)) as client,
            ):
                for tool in tools:
                    result = await client.call_tool(tool, {})
                    assert not result.is_error, result
                    answers.append(json.loads(result.content[0].text))  # type: ignore[union-attr]
            return answers

        return asyncio.run(calls())


class BearerAuth(httpx2.Auth):
    """``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, Any, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class DPoPAuth(httpx2.Auth):
    """``Authorization: DPoP <token>`` and a fresh proof of each request, signed by ``key``."""

    def __init__(self, issuer: FakeIssuer, token: str, key: DPoPKey) -> None:
        self.issuer, self.token, self.key = issuer, token, key

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, Any, None]:
        url = str(request.url.copy_with(query=None))
        proof = self.issuer.dpop_proof(request.method, url, token=self.token, key=self.key)
        request.headers["Authorization"] = f"DPoP {self.token}"
        request.headers["DPoP"] = proof
        yield request


def contacts_server(served: Served) -> MCPServer:
    """The SDK's server, no auth of its own: ``whoami`` records the token it sees."""
    server = MCPServer("contacts")

    @server.tool()
    def whoami() -> dict[str, Any]:
        access = get_access_token()
        assert access is not None
        served.seen.append(access)
        return {"subject": access.subject, "scopes": access.scopes}

    @server.tool()
    def list_contacts() -> dict[str, Any]:
        return {"contacts": ["Ada Lovelace"]}

    return server


@contextlib.contextmanager
def serving(build: Callable[[str, Served], ASGIApp]) -> Iterator[Served]:
    """Run the app ``build(url, served)`` makes under uvicorn on 127.0.0.1, then stop it."""
    with loopback_socket() as (sock, origin):
        served = Served(f"{origin}/mcp")
        with running(build(served.url, served), sock):
            yield served


def protected(issuer: str = ISSUER, **verifier_settings: Any) -> Callable[[str, Served], ASGIApp]:
    """What :func:`serving` runs: the contacts server behind ``protect()``, its resource
    the served URL."""

    def build(url: str, served: Served) -> ASGIApp:
        verifier = Verifier(issuer=issuer, resource=url, **verifier_settings)
        app = contacts_server(served).streamable_http_app()
        return protect(app, verifier=verifier, scopes=["mcp:tools"], tool_scopes=TOOL_SCOPES)

    return build


@pytest.fixture
def served() -> Iterator[Served]:
    with serving(protected()) as running:
        yield running


@pytest.fixture
def issuer(served: Served) -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=served.url) as fake:
        yield fake


# The metadata, derived from the verifier


def test_the_metadata_names_the_issuer_as_configured_and_the_endpoint_scopes(
    served: Served,
) -> None:
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        answer = client.get(served.metadata_url)

    assert answer.status_code == 200
    document = answer.json()
    assert document["resource"] == served.url
    assert document["authorization_servers"] == [ISSUER]
    assert document["scopes_supported"] == ["mcp:tools"]
    assert document["bearer_methods_supported"] == ["header"]
    assert "ES256" in document["dpop_signing_alg_values_supported"]


def test_configured_scopes_supported_are_listed_instead() -> None:
    build = protected(scopes_supported=["mcp:tools", "read:contacts"])
    with serving(build) as served, httpx.Client(trust_env=False, timeout=10.0) as client:
        document = client.get(served.metadata_url).json()

    assert document["scopes_supported"] == ["mcp:tools", "read:contacts"]


# Refusals: bearerguard's RFC 6750 / RFC 9728 challenges, before the SDK's app


def test_a_call_without_a_token_is_401_with_a_bare_challenge_naming_the_metadata(
    served: Served,
) -> None:
    answer = served.post_tool_call("whoami")

    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert "error=" not in challenge  # RFC 6750 §3.1: no error code without a token
    assert f'resource_metadata="{served.metadata_url}"' in challenge
    assert served.seen == []


@pytest.mark.parametrize("kind", ["another audience", "expired", "badly signed", "bound to DPoP"])
def test_a_refused_token_is_401_invalid_token_and_no_tool_runs(
    served: Served, issuer: FakeIssuer, kind: str
) -> None:
    token = {
        "another audience": lambda: issuer.token(aud=OTHER_API, scopes="mcp:tools"),
        "expired": lambda: issuer.expired_token(scopes="mcp:tools"),
        "badly signed": lambda: issuer.tampered_token(scopes="mcp:tools"),
        # A bound token sent as a bearer token: never accepted so (RFC 9449 §7.2).
        "bound to DPoP": lambda: issuer.token(scopes="mcp:tools", dpop_key=issuer.dpop_key()),
    }[kind]()

    answer = served.post_tool_call("whoami", token)

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert f'resource_metadata="{served.metadata_url}"' in answer.headers["WWW-Authenticate"]
    assert served.seen == []


def test_a_token_without_the_endpoint_scope_is_403_naming_it(
    served: Served, issuer: FakeIssuer
) -> None:
    answer = served.post_tool_call("whoami", issuer.token(scopes="read:contacts"))

    assert answer.status_code == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:tools"' in challenge
    assert answer.json()["error"] == "insufficient_scope"


def test_a_provider_outage_is_503_with_retry_after() -> None:
    with socket.socket() as down:
        down.bind(("127.0.0.1", 0))  # bound, never listening: every connection refused
        unreachable = f"http://127.0.0.1:{down.getsockname()[1]}/"
        with serving(protected(issuer=unreachable)) as served:
            token = FakeIssuer(unreachable, audience=served.url).token(scopes="mcp:tools")
            answer = served.post_tool_call("whoami", token)

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert served.seen == []


# What passes reaches the tools as the SDK's AccessToken


def test_a_tool_sees_the_verified_token_mapped_for_the_sdk(
    served: Served, issuer: FakeIssuer
) -> None:
    raw = issuer.token(sub="auth0|alice", scopes="mcp:tools", client_id="agent")

    (answer,) = served.call_tools(BearerAuth(raw), "whoami")

    verifier = Verifier(issuer=ISSUER, resource=served.url)
    expected = sdk_access_token(verifier, verifier.verify(raw))
    assert answer == {"subject": "auth0|alice", "scopes": ["mcp:tools"]}
    assert served.seen == [expected]
    assert expected.resource == served.url
    assert expected.client_id == "agent"


def test_a_dpop_bound_token_with_its_proofs_reaches_the_tool(
    served: Served, issuer: FakeIssuer
) -> None:
    key = issuer.dpop_key()
    raw = issuer.token(sub="auth0|alice", scopes="mcp:tools", dpop_key=key)

    (answer,) = served.call_tools(DPoPAuth(issuer, raw, key), "whoami")

    assert answer["subject"] == "auth0|alice"
    assert [access.token for access in served.seen] == [raw]
    assert served.seen[0].claims is not None
    assert served.seen[0].claims["cnf"] == {"jkt": key.jkt}


def test_the_verifiers_leeway_applies_where_the_sdks_own_check_has_none(
    served: Served, issuer: FakeIssuer
) -> None:
    # Five seconds past exp: within the verifier's 30 s leeway. The SDK's own backend
    # drops any token whose exp has passed; protect() leaves that to the verifier.
    raw = issuer.token(scopes="mcp:tools", exp=int(time.time()) - 5)

    (answer,) = served.call_tools(BearerAuth(raw), "whoami")

    assert answer["scopes"] == ["mcp:tools"]


def test_implied_scopes_are_the_scopes_the_sdk_sees() -> None:
    build = protected(scope_implications={"contacts:admin": ["mcp:tools", "read:contacts"]})
    with serving(build) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        raw = issuer.token(scopes="contacts:admin")
        whoami, contacts = served.call_tools(BearerAuth(raw), "whoami", "list_contacts")

    assert whoami["scopes"] == ["contacts:admin", "mcp:tools", "read:contacts"]
    assert contacts == {"contacts": ["Ada Lovelace"]}


# Per-tool scopes


def test_a_tool_call_lacking_the_tools_scope_is_403_naming_every_scope_it_needs(
    served: Served, issuer: FakeIssuer
) -> None:
    answer = served.post_tool_call("list_contacts", issuer.token(scopes="mcp:tools"))

    assert answer.status_code == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:tools read:contacts"' in challenge
    assert f'resource_metadata="{served.metadata_url}"' in challenge


def test_the_body_decides_which_tool_is_called_not_the_mcp_name_header(
    served: Served, issuer: FakeIssuer
) -> None:
    token = issuer.token(scopes="mcp:tools")

    answer = served.post_tool_call(
        "list_contacts", token, **{"Mcp-Method": "tools/call", "Mcp-Name": "whoami"}
    )

    assert answer.status_code == 403


def test_a_batch_calling_a_scoped_tool_is_refused(served: Served, issuer: FakeIssuer) -> None:
    calls = [
        {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": tool}}
        for n, tool in enumerate(["whoami", "list_contacts"])
    ]
    token = issuer.token(scopes="mcp:tools")

    answer = served.post(json.dumps(calls).encode(), {"Authorization": f"Bearer {token}"})

    assert answer.status_code == 403


def test_tools_without_declared_scopes_and_listing_need_only_the_endpoint_scope(
    served: Served, issuer: FakeIssuer
) -> None:
    raw = issuer.token(scopes="mcp:tools")

    async def listing() -> list[str]:
        async with (
            httpx2.AsyncClient(auth=BearerAuth(raw), trust_env=False, timeout=10.0) as http,
            Client(streamable_http_client(served.url, http_client=http)) as client,
        ):
            return [tool.name for tool in (await client.list_tools()).tools]

    assert sorted(asyncio.run(listing())) == ["list_contacts", "whoami"]  # nothing hidden
    assert served.call_tools(BearerAuth(raw), "whoami")[0]["scopes"] == ["mcp:tools"]


def test_the_body_read_for_the_check_reaches_the_sdk_unchanged(
    served: Served, issuer: FakeIssuer
) -> None:
    raw = issuer.token(scopes="mcp:tools read:contacts")

    (contacts,) = served.call_tools(BearerAuth(raw), "list_contacts")

    assert contacts == {"contacts": ["Ada Lovelace"]}


def test_a_body_that_is_not_json_goes_to_the_sdk_which_refuses_it(
    served: Served, issuer: FakeIssuer
) -> None:
    token = issuer.token(scopes="mcp:tools")

    answer = served.post(b'{"method": "tools/call", ', {"Authorization": f"Bearer {token}"})

    assert answer.status_code == 400
    assert "Parse error" in answer.text


def test_a_body_over_the_limit_is_413() -> None:
    def build(url: str, served: Served) -> ASGIApp:
        app = contacts_server(served).streamable_http_app()
        verifier = Verifier(issuer=ISSUER, resource=url)
        return protect(app, verifier=verifier, tool_scopes=TOOL_SCOPES, max_body_size=64)

    with serving(build) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        padding = "x" * 100
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"p": padding}})
        answer = served.post(body.encode(), {"Authorization": f"Bearer {issuer.token()}"})

    assert answer.status_code == 413


# Construction: mistakes said plainly


def app_without_auth() -> ASGIApp:
    return MCPServer("contacts").streamable_http_app()


def test_a_verifier_without_a_resource_is_refused() -> None:
    verifier = Verifier(issuer=ISSUER, audience="https://mcp.example.com/mcp")

    with pytest.raises(ConfigurationError, match="needs a verifier with a resource"):
        protect(app_without_auth(), verifier=verifier)


def test_an_app_built_with_the_sdks_own_auth_is_refused() -> None:
    verifier = Verifier(issuer=ISSUER, resource="https://mcp.example.com/mcp")
    server = MCPServer(
        "contacts",
        token_verifier=BearerTokenVerifier(verifier),
        auth=AuthSettings(
            issuer_url=AnyHttpUrl(ISSUER),
            resource_server_url=AnyHttpUrl("https://mcp.example.com/mcp"),
            validate_token_resource=True,
        ),
    )

    with pytest.raises(ConfigurationError, match="without token_verifier= and auth="):
        protect(server.streamable_http_app(), verifier=verifier)


def test_anything_but_a_verifier_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"protect\(verifier=...\) must be"):
        protect(app_without_auth(), verifier=ISSUER)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"scopes": "mcp tools"}, "is not a scope name"),
        ({"scopes": 42}, "scopes must be a string or a list of strings"),
        ({"tool_scopes": ["read:contacts"]}, "tool_scopes must map tool names"),
        ({"tool_scopes": {"": ["read:contacts"]}}, "keyed by tool names"),
        ({"tool_scopes": {"list_contacts": "read contacts"}}, "is not a scope name"),
        ({"tool_scopes": {"list_contacts": [1]}}, "must hold strings only"),
        ({"max_body_size": 0}, "max_body_size must be a positive number of bytes"),
        ({"max_body_size": "4MB"}, "max_body_size must be a positive number of bytes"),
    ],
)
def test_bad_settings_are_configuration_errors_that_say_what_to_write(
    settings: dict[str, Any], message: str
) -> None:
    verifier = Verifier(issuer=ISSUER, resource="https://mcp.example.com/mcp")

    with pytest.raises(ConfigurationError, match=message):
        protect(app_without_auth(), verifier=verifier, **settings)


# The guide's protected server (docs/mcp.md), run as written


def test_the_guides_protected_server_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(url: str, served: Served) -> ASGIApp:
        return guide_app("Protecting the endpoint", "mcp_server", monkeypatch, url)

    with serving(build) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        raw = issuer.token(sub="auth0|alice", scopes="mcp:tools read:contacts", azp="agent")
        whoami, contacts = served.call_tools(BearerAuth(raw), "whoami", "list_contacts")
        refused = served.post_tool_call("list_contacts", issuer.token(scopes="mcp:tools"))

    assert whoami == {"user": "auth0|alice", "client": "bearerguard-test-client"}
    assert contacts == {"contacts": ["Ada Lovelace", "Alan Turing"]}
    assert refused.status_code == 403
    assert 'scope="mcp:tools read:contacts"' in refused.headers["WWW-Authenticate"]
