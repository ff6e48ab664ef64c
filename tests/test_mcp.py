"""bearerguard.mcp: the official MCP SDK's token verifier, answered by a bearerguard verifier.

Tokens are real (a FakeIssuer signs them and answers the key fetches in-process);
the server is the SDK's own streamable-HTTP app under uvicorn on 127.0.0.1, called
with plain HTTP and with the SDK's own client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
from starlette.types import ASGIApp

from bearerguard import AccessToken, ConfigurationError, KeySetUnavailableError, Verifier
from bearerguard.mcp import BearerTokenVerifier
from bearerguard.testing import FakeIssuer
from tests.uvicorn_thread import loopback_socket, running

ISSUER = "https://tenant.auth0.com/"
RESOURCE = "https://mcp.example.com/mcp"
OTHER_API = "https://api.example.com"
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "mcp.md"


def verify_token(verifier: Verifier, token: str) -> MCPAccessToken | None:
    return asyncio.run(BearerTokenVerifier(verifier).verify_token(token))


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=RESOURCE) as fake:
        yield fake


@pytest.fixture
def verifier() -> Verifier:
    return Verifier(issuer=ISSUER, audience=RESOURCE)


@pytest.fixture
def unreachable_issuer() -> Iterator[str]:
    """An issuer on a loopback port that refuses connections: a provider that is down.

    The socket is bound but never listens, so no other process can take the port
    while the test runs and every connection to it is refused at once.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


# The mapping, field by field


def test_the_token_is_the_raw_token(issuer: FakeIssuer, verifier: Verifier) -> None:
    raw = issuer.token()

    access = verify_token(verifier, raw)

    assert access is not None
    assert access.token == raw


def test_client_id_is_the_client_id_claim_over_azp(issuer: FakeIssuer, verifier: Verifier) -> None:
    access = verify_token(verifier, issuer.token(client_id="the-client", azp="the-party"))

    assert access is not None
    assert access.client_id == "the-client"


def test_client_id_falls_back_to_azp(issuer: FakeIssuer, verifier: Verifier) -> None:
    access = verify_token(verifier, issuer.token(client_id=None, azp="auth0-client"))

    assert access is not None
    assert access.client_id == "auth0-client"


def test_a_token_that_names_no_client_has_an_empty_client_id(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    access = verify_token(verifier, issuer.token(client_id=None, azp=None))

    assert access is not None
    assert access.client_id == ""


def test_scopes_are_the_granted_scopes_sorted(issuer: FakeIssuer, verifier: Verifier) -> None:
    access = verify_token(verifier, issuer.token(scopes="write:contacts read:contacts"))

    assert access is not None
    assert access.scopes == ["read:contacts", "write:contacts"]


def test_scopes_include_auth0_permissions_when_the_verifier_reads_them(
    issuer: FakeIssuer,
) -> None:
    verifier = Verifier(
        issuer=ISSUER, audience=RESOURCE, scope_claims=("scope", "scp", "permissions")
    )

    access = verify_token(
        verifier, issuer.token(scopes="openid", permissions=["read:contacts", "delete:contacts"])
    )

    assert access is not None
    assert access.scopes == ["delete:contacts", "openid", "read:contacts"]


def test_expires_at_is_exp(issuer: FakeIssuer, verifier: Verifier) -> None:
    exp = int(time.time()) + 600

    access = verify_token(verifier, issuer.token(exp=exp))

    assert access is not None
    assert access.expires_at == exp


def test_a_fractional_exp_is_rounded_down(issuer: FakeIssuer, verifier: Verifier) -> None:
    exp = int(time.time()) + 600

    access = verify_token(verifier, issuer.token(exp=exp + 0.75))

    assert access is not None
    assert access.expires_at == exp


def test_resource_is_the_configured_audience_the_token_names(issuer: FakeIssuer) -> None:
    verifier = Verifier(issuer=ISSUER, audience=[RESOURCE, OTHER_API])

    for_both = verify_token(verifier, issuer.token(aud=[OTHER_API, RESOURCE]))
    for_the_api = verify_token(verifier, issuer.token(aud=["https://elsewhere.example", OTHER_API]))

    assert for_both is not None
    assert for_both.resource == RESOURCE  # the first configured one, in the verifier's order
    assert for_the_api is not None
    assert for_the_api.resource == OTHER_API


def test_resource_is_the_configured_spelling_of_an_equivalent_url(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    verified = verifier.verify(issuer.token())
    spelled_otherwise = AccessToken(
        claims=verified.claims,
        header=verified.header,
        scopes=verified.scopes,
        issuer=verified.issuer,
        audience=("HTTPS://MCP.example.com:443/mcp",),
        subject=verified.subject,
        raw=verified.raw,
    )

    access = BearerTokenVerifier(verifier).access_token(spelled_otherwise)

    assert access.resource == RESOURCE


def test_subject_is_sub(issuer: FakeIssuer, verifier: Verifier) -> None:
    access = verify_token(verifier, issuer.token(sub="auth0|alice"))

    assert access is not None
    assert access.subject == "auth0|alice"


def test_claims_are_every_claim_iss_included(issuer: FakeIssuer, verifier: Verifier) -> None:
    raw = issuer.token(sub="auth0|alice", org_id="org_123")

    access = verify_token(verifier, raw)

    assert access is not None
    assert access.claims == dict(verifier.verify(raw).claims)
    assert access.claims["iss"] == ISSUER
    assert access.claims["org_id"] == "org_123"


def test_access_token_maps_a_token_the_verifier_verified(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    raw = issuer.token(sub="auth0|alice", scopes="read:contacts", client_id="the-client")
    verified = verifier.verify(raw)

    access = BearerTokenVerifier(verifier).access_token(verified)

    assert access == MCPAccessToken(
        token=raw,
        client_id="the-client",
        scopes=["read:contacts"],
        expires_at=verified.claims["exp"],
        resource=RESOURCE,
        subject="auth0|alice",
        claims=dict(verified.claims),
    )


# Refusals: None, as the SDK's protocol asks, and the reason in the log


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "The exp claim has passed."),
        ("another audience", "The aud claim names none of the configured audiences."),
        ("badly signed", "The signature does not verify."),
        (
            "bound to a DPoP key",
            "The token is sender-constrained: its issuer bound it to a DPoP key",
        ),
    ],
)
def test_a_refused_token_is_none_and_its_reason_is_logged(
    issuer: FakeIssuer,
    verifier: Verifier,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    reason: str,
) -> None:
    raw = {
        "expired": issuer.expired_token,
        "another audience": lambda: issuer.token(aud=OTHER_API),
        "badly signed": issuer.tampered_token,
        "bound to a DPoP key": lambda: issuer.token(dpop_key=issuer.dpop_key()),
    }[kind]()

    with caplog.at_level(logging.INFO, logger="bearerguard"):
        access = verify_token(verifier, raw)

    assert access is None
    refusals = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(refusals) == 1
    assert (
        refusals[0]
        .getMessage()
        .startswith(f"MCP server refused a bearer token (401 invalid_token): {reason}")
    )


def test_a_provider_outage_is_raised_not_passed_off_as_a_bad_token(
    unreachable_issuer: str,
) -> None:
    verifier = Verifier(issuer=unreachable_issuer, audience=RESOURCE)
    raw = FakeIssuer(unreachable_issuer, audience=RESOURCE).token()  # never started

    with pytest.raises(KeySetUnavailableError):
        verify_token(verifier, raw)


# Construction


def test_anything_but_a_verifier_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"BearerTokenVerifier\(verifier\) must be"):
        BearerTokenVerifier("https://tenant.auth0.com/")  # type: ignore[arg-type]


def test_a_verifier_that_requires_dpop_is_refused() -> None:
    verifier = Verifier(issuer=ISSUER, audience=RESOURCE, dpop="required")

    with pytest.raises(ConfigurationError, match="accepts only Bearer tokens"):
        BearerTokenVerifier(verifier)


# A real SDK server: the streamable-HTTP app under uvicorn on 127.0.0.1


@dataclass
class Served:
    """An MCP server running on 127.0.0.1, and what its tool saw."""

    url: str
    seen: list[MCPAccessToken] = field(default_factory=list)

    def post_tool_call(self, authorization: str | None = None) -> httpx.Response:
        """A JSON-RPC ``tools/call`` of ``whoami``, as plain HTTP."""
        headers = {"Accept": "application/json, text/event-stream"}
        if authorization is not None:
            headers["Authorization"] = authorization
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}},
        }
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            return client.post(self.url, json=call, headers=headers)

    def call_tool_with(self, token: str) -> dict[str, Any]:
        """Call ``whoami`` with the SDK's client over streamable HTTP; its JSON answer."""

        async def call() -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}"}
            async with (
                httpx2.AsyncClient(headers=headers, trust_env=False, timeout=10.0) as http,
                Client(streamable_http_client(self.url, http_client=http)) as client,
            ):
                result = await client.call_tool("whoami", {})
            assert not result.is_error, result
            answer: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
            return answer

        return asyncio.run(call())


def mcp_server(url: str, verifier: Verifier, served: Served) -> ASGIApp:
    """The SDK's server with one tool that reports (and records) the access token it sees."""
    server = MCPServer(
        "contacts",
        token_verifier=BearerTokenVerifier(verifier),
        auth=AuthSettings(issuer_url=ISSUER, resource_server_url=url, validate_token_resource=True),
    )

    @server.tool()
    def whoami() -> dict[str, Any]:
        access = get_access_token()
        assert access is not None
        served.seen.append(access)
        return access.model_dump()

    return server.streamable_http_app()


@contextlib.contextmanager
def serving(build: Callable[[str, Served], ASGIApp]) -> Iterator[Served]:
    """Run the app ``build(url, served)`` makes under uvicorn on 127.0.0.1, then stop it."""
    with loopback_socket() as (sock, origin):
        served = Served(f"{origin}/mcp")
        with running(build(served.url, served), sock):
            yield served


@pytest.fixture
def served() -> Iterator[Served]:
    with serving(
        lambda url, served: mcp_server(url, Verifier(issuer=ISSUER, audience=url), served)
    ) as running:
        yield running


@pytest.fixture
def server_issuer(served: Served) -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=served.url) as fake:
        yield fake


def test_a_tool_call_without_a_token_is_401(served: Served) -> None:
    answer = served.post_tool_call()

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert served.seen == []


def test_the_tool_sees_the_mapped_access_token(served: Served, server_issuer: FakeIssuer) -> None:
    raw = server_issuer.token(sub="auth0|alice", scopes="read:contacts", client_id="agent")

    answer = served.call_tool_with(raw)

    claims = dict(Verifier(issuer=ISSUER, audience=served.url).verify(raw).claims)
    assert answer == {
        "token": raw,
        "client_id": "agent",
        "scopes": ["read:contacts"],
        "expires_at": claims["exp"],
        "resource": served.url,
        "subject": "auth0|alice",
        "claims": claims,
    }
    assert [access.token for access in served.seen] == [raw]


@pytest.mark.parametrize("kind", ["another audience", "expired", "badly signed"])
def test_a_refused_token_is_401_and_the_tool_does_not_run(
    served: Served, server_issuer: FakeIssuer, kind: str
) -> None:
    raw = {
        "another audience": lambda: server_issuer.token(aud=OTHER_API),
        "expired": server_issuer.expired_token,
        "badly signed": server_issuer.tampered_token,
    }[kind]()

    answer = served.post_tool_call(f"Bearer {raw}")

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert served.seen == []


def test_a_provider_outage_is_a_server_error_not_401(unreachable_issuer: str) -> None:
    def build(url: str, served: Served) -> ASGIApp:
        return mcp_server(url, Verifier(issuer=unreachable_issuer, audience=url), served)

    with serving(build) as served:
        # Never started: nothing answers for its keys, as when the provider is down.
        raw = FakeIssuer(unreachable_issuer, audience=served.url).token()
        answer = served.post_tool_call(f"Bearer {raw}")

    assert answer.status_code == 500
    assert served.seen == []


# What the SDK's own auth adds around the verifier (docs/mcp.md says so)


def test_the_sdk_serves_the_resource_metadata_naming_the_issuer(served: Served) -> None:
    metadata_url = served.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")

    with httpx.Client(trust_env=False, timeout=10.0) as client:
        answer = client.get(metadata_url)

    assert answer.status_code == 200
    assert answer.json()["resource"] == served.url
    assert answer.json()["authorization_servers"] == [ISSUER]


def test_the_sdks_own_expiry_check_leaves_no_leeway(
    served: Served, server_issuer: FakeIssuer
) -> None:
    # Five seconds past exp: within the verifier's 30 s leeway, but the SDK drops every
    # token whose expires_at has passed.
    raw = server_issuer.token(exp=int(time.time()) - 5)
    verifier = Verifier(issuer=ISSUER, audience=served.url)

    assert verify_token(verifier, raw) is not None
    assert served.post_tool_call(f"Bearer {raw}").status_code == 401
    assert served.seen == []


# The guide's server (docs/mcp.md), run as written


def guide_python_block(heading: str) -> str:
    """The first Python block under the guide's ``## <heading>``."""
    section = GUIDE.read_text(encoding="utf-8").split(f"## {heading}", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"docs/mcp.md lost the example of its {heading!r} section"
    return block.group(1)


def guide_app(heading: str, module: str, monkeypatch: pytest.MonkeyPatch, url: str) -> ASGIApp:
    """The app the guide's first Python block under ``heading`` builds, for ``url``."""
    monkeypatch.setenv("BEARERGUARD_ISSUER", ISSUER)
    monkeypatch.setenv("BEARERGUARD_RESOURCE", url)
    monkeypatch.delenv("BEARERGUARD_AUDIENCE", raising=False)
    namespace: dict[str, Any] = {"__name__": module}
    exec(compile(guide_python_block(heading), str(GUIDE), "exec"), namespace)  # noqa: S102
    app: ASGIApp = namespace["app"]
    return app


def test_the_guides_server_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(url: str, served: Served) -> ASGIApp:
        return guide_app("The token verifier", "server", monkeypatch, url)

    with serving(build) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        raw = issuer.token(sub="auth0|alice", scopes="read:contacts openid", azp="agent")
        answer = served.call_tool_with(raw)
        refused = served.post_tool_call(f"Bearer {issuer.token(aud=OTHER_API)}")

    assert answer == {
        "user": "auth0|alice",
        "client": "bearerguard-test-client",
        "scopes": "openid read:contacts",
    }
    assert refused.status_code == 401
