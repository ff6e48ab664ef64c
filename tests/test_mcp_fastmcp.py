"""bearerguard.mcp.fastmcp: fastmcp servers, through fastmcp's auth provider or protect().

The servers are fastmcp's own streamable-HTTP apps under uvicorn on 127.0.0.1, their
resource the served URL; tokens are real (a FakeIssuer signs them and answers the key
fetches in-process). Calls that pass go through fastmcp's own ``Client``; refusals,
which no tool sees, are plain HTTP posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.transports import StreamableHttpTransport
from fastmcp.server.auth import AccessToken, AuthProvider, TokenVerificationError
from fastmcp.server.dependencies import get_access_token

from bearerguard import ConfigurationError, Verifier
from bearerguard.asgi import ASGIApp
from bearerguard.mcp import protect, sdk_access_token
from bearerguard.mcp.fastmcp import BearerguardProvider
from bearerguard.testing import FakeIssuer
from tests.test_mcp import guide_app
from tests.test_mcp_protect import DPoPAuth
from tests.uvicorn_thread import loopback_socket, running

ISSUER = "https://tenant.auth0.com/"
OTHER_API = "https://api.example.com"
RESOURCE = "https://mcp.example.com/mcp"
TOOL_SCOPES = {"list_contacts": ["read:contacts"]}
ACCEPT = "application/json, text/event-stream"


@dataclass
class Served:
    """A fastmcp server on 127.0.0.1, its verifier, and the access tokens its tools saw."""

    url: str
    verifier: Verifier
    seen: list[AccessToken | None] = field(default_factory=list)

    @property
    def metadata_url(self) -> str:
        url = self.verifier.resource_metadata_url
        assert url is not None
        return url

    def post_tool_call(self, tool: str, authorization: str | None = None) -> httpx.Response:
        """A JSON-RPC ``tools/call`` of ``tool`` as plain HTTP."""
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}}
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            return client.post(self.url, content=json.dumps(call).encode(), headers=headers)

    def call_tools(self, auth: httpx2.Auth | str, *tools: str) -> list[Any]:
        """Call each tool with fastmcp's ``Client``, authenticated by ``auth`` (a bearer
        token, or an ``httpx2.Auth``); their structured answers."""

        async def calls() -> list[Any]:
            transport = StreamableHttpTransport(
                self.url, auth=auth, httpx_client_factory=loopback_client
            )
            async with Client(transport) as client:
                return [(await client.call_tool(tool, {})).structured_content for tool in tools]

        return asyncio.run(calls())


def loopback_client(
    headers: dict[str, str] | None = None,
    timeout: httpx2.Timeout | None = None,
    auth: httpx2.Auth | None = None,
    **settings: Any,
) -> httpx2.AsyncClient:
    """fastmcp's HTTP client, blind to proxy settings of the environment."""
    return httpx2.AsyncClient(
        headers=headers, timeout=timeout or 10.0, auth=auth, trust_env=False, **settings
    )


def contacts_server(served: Served, auth: AuthProvider | None = None) -> FastMCP:
    """A fastmcp server whose ``whoami`` reports (and records) what ``get_access_token()``
    returns."""
    server = FastMCP("contacts", auth=auth)

    @server.tool
    def whoami() -> dict[str, Any]:
        access = get_access_token()
        served.seen.append(access)
        assert access is not None
        return {
            "subject": access.subject,
            "client_id": access.client_id,
            "scopes": access.scopes,
            "iss": access.claims["iss"],
        }

    @server.tool
    def list_contacts() -> dict[str, Any]:
        return {"contacts": ["Ada Lovelace"]}

    return server


@contextlib.contextmanager
def serving(
    app_for: Callable[[Served], ASGIApp], issuer: str = ISSUER, **verifier_settings: Any
) -> Iterator[Served]:
    """Run ``app_for(served)`` under uvicorn on 127.0.0.1, its verifier's resource the
    served URL, then stop it."""
    with loopback_socket() as (sock, origin):
        url = f"{origin}/mcp"
        served = Served(url, Verifier(issuer=issuer, resource=url, **verifier_settings))
        with running(app_for(served), sock):
            yield served


def with_provider(required_scopes: list[str] | None = None) -> Callable[[Served], ASGIApp]:
    """What :func:`serving` runs: the contacts server with ``auth=BearerguardProvider``."""

    def app_for(served: Served) -> ASGIApp:
        provider = BearerguardProvider(served.verifier, required_scopes=required_scopes)
        return contacts_server(served, auth=provider).http_app()

    return app_for


def with_protect(served: Served) -> ASGIApp:
    """What :func:`serving` runs: the contacts server without auth, behind ``protect()``."""
    app = contacts_server(served).http_app()
    return protect(app, verifier=served.verifier, scopes=["mcp:tools"], tool_scopes=TOOL_SCOPES)


@pytest.fixture
def served() -> Iterator[Served]:
    with serving(with_provider()) as running_server:
        yield running_server


@pytest.fixture
def issuer(served: Served) -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=served.url) as fake:
        yield fake


@pytest.fixture
def unreachable_issuer() -> Iterator[str]:
    """An issuer on a loopback port that refuses connections: a provider that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: every connection refused
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


# The provider: verify_token


def verify_token(provider: BearerguardProvider, token: str) -> AccessToken | None:
    return asyncio.run(provider.verify_token(token))


def test_verify_token_maps_the_token_as_the_sdk_mapping_does_claims_included() -> None:
    verifier = Verifier(issuer=ISSUER, resource=RESOURCE)
    with FakeIssuer(ISSUER, audience=RESOURCE) as issuer:
        raw = issuer.token(sub="auth0|alice", scopes="write:contacts read:contacts", azp="agent")
        access = verify_token(BearerguardProvider(verifier), raw)
        expected = sdk_access_token(verifier, verifier.verify(raw))

    assert isinstance(access, AccessToken)  # fastmcp's own, not the SDK's
    assert access.model_dump(exclude={"original_client_id"}) == expected.model_dump()
    assert access.client_id == "bearerguard-test-client"  # client_id wins over azp
    assert access.scopes == ["read:contacts", "write:contacts"]
    assert access.resource == RESOURCE
    assert access.claims["iss"] == ISSUER


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "The exp claim has passed."),
        ("another resource", "The aud claim names none of the configured audiences."),
    ],
)
def test_a_refused_token_is_none_and_its_reason_is_logged(
    caplog: pytest.LogCaptureFixture, kind: str, reason: str
) -> None:
    provider = BearerguardProvider(Verifier(issuer=ISSUER, resource=RESOURCE))
    with FakeIssuer(ISSUER, audience=RESOURCE) as issuer:
        raw = {
            "expired": issuer.expired_token,
            "another resource": lambda: issuer.token(aud=OTHER_API),
        }[kind]()
        with caplog.at_level(logging.INFO, logger="bearerguard"):
            access = verify_token(provider, raw)

    assert access is None
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert refusals == [f"MCP server refused a bearer token (401 invalid_token): {reason}"]


def test_a_provider_outage_raises_fastmcps_token_verification_error(
    unreachable_issuer: str,
) -> None:
    provider = BearerguardProvider(Verifier(issuer=unreachable_issuer, resource=RESOURCE))
    raw = FakeIssuer(unreachable_issuer, audience=RESOURCE).token()  # never started

    with pytest.raises(TokenVerificationError, match="key set could not be fetched"):
        verify_token(provider, raw)


# The provider under fastmcp: what a tool sees


def test_a_tool_sees_through_get_access_token_the_verified_token(
    served: Served, issuer: FakeIssuer
) -> None:
    raw = issuer.token(sub="auth0|alice", scopes="read:contacts mcp:tools", client_id="agent")

    (answer,) = served.call_tools(raw, "whoami")

    assert answer == {
        "subject": "auth0|alice",
        "client_id": "agent",
        "scopes": ["mcp:tools", "read:contacts"],
        "iss": ISSUER,
    }
    (access,) = served.seen
    assert access is not None
    assert access.token == raw
    assert access.resource == served.url


# The provider under fastmcp: refusals, in fastmcp's challenge format


def test_a_call_without_a_token_is_401_naming_the_resource_metadata(served: Served) -> None:
    answer = served.post_tool_call("whoami")

    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert "error=" not in challenge  # RFC 6750 §3.1: no error code without a token
    assert f'resource_metadata="{served.metadata_url}"' in challenge
    assert served.seen == []


@pytest.mark.parametrize("kind", ["expired", "another resource", "bound to DPoP"])
def test_a_refused_token_is_401_invalid_token_and_no_tool_runs(
    served: Served, issuer: FakeIssuer, kind: str
) -> None:
    token = {
        "expired": lambda: issuer.expired_token(scopes="mcp:tools"),
        # The right issuer and scopes, but issued for another API.
        "another resource": lambda: issuer.token(aud=OTHER_API, scopes="mcp:tools"),
        # A bound token sent as a bearer token: never accepted so (RFC 9449 §7.2).
        "bound to DPoP": lambda: issuer.token(scopes="mcp:tools", dpop_key=issuer.dpop_key()),
    }[kind]()

    answer = served.post_tool_call("whoami", f"Bearer {token}")

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert f'resource_metadata="{served.metadata_url}"' in answer.headers["WWW-Authenticate"]
    assert served.seen == []


def test_a_dpop_request_counts_as_carrying_no_token(served: Served, issuer: FakeIssuer) -> None:
    key = issuer.dpop_key()
    token = issuer.token(dpop_key=key)
    proof = issuer.dpop_proof("POST", served.url, token=token, key=key)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami"}}

    with httpx.Client(trust_env=False, timeout=10.0) as client:
        answer = client.post(
            served.url,
            json=call,
            headers={"Accept": ACCEPT, "Authorization": f"DPoP {token}", "DPoP": proof},
        )

    assert answer.status_code == 401
    assert "error=" not in answer.headers["WWW-Authenticate"]
    assert served.seen == []


def test_required_scopes_missing_from_a_valid_token_are_403() -> None:
    with (
        serving(with_provider(required_scopes=["mcp:tools"])) as served,
        FakeIssuer(ISSUER, audience=served.url) as issuer,
    ):
        refused = served.post_tool_call("whoami", f"Bearer {issuer.token(scopes='openid')}")
        (answer,) = served.call_tools(issuer.token(scopes="mcp:tools"), "whoami")

    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:tools"' in challenge
    assert f'resource_metadata="{served.metadata_url}"' in challenge
    assert answer["scopes"] == ["mcp:tools"]
    assert len(served.seen) == 1


def test_a_provider_outage_is_503_with_retry_after(unreachable_issuer: str) -> None:
    with serving(with_provider(), issuer=unreachable_issuer) as served:
        token = FakeIssuer(unreachable_issuer, audience=served.url).token()  # never started
        answer = served.post_tool_call("whoami", f"Bearer {token}")

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"] == "temporarily_unavailable"
    assert served.seen == []


def test_fastmcps_own_expiry_check_leaves_no_leeway(served: Served, issuer: FakeIssuer) -> None:
    # Five seconds past exp: within the verifier's 30 s leeway, but fastmcp's backend
    # drops every token whose expires_at has passed.
    raw = issuer.token(exp=int(time.time()) - 5)

    assert served.verifier.verify(raw).subject is not None  # the verifier lets it through
    assert served.post_tool_call("whoami", f"Bearer {raw}").status_code == 401
    assert served.seen == []


# The provider under fastmcp: the metadata, derived from the verifier


def test_the_metadata_is_the_verifiers_document() -> None:
    with (
        serving(with_provider(), dpop="off") as served,
        httpx.Client(trust_env=False, timeout=10.0) as client,
    ):
        answer = client.get(served.metadata_url)

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.json() == served.verifier.resource_metadata()
    assert answer.json()["authorization_servers"] == [ISSUER]  # spelt as configured


def test_the_metadata_lists_the_required_scopes_and_offers_no_dpop() -> None:
    with (
        serving(with_provider(required_scopes=["mcp:tools"])) as served,
        httpx.Client(trust_env=False, timeout=10.0) as client,
    ):
        document = client.get(served.metadata_url).json()

    # The verifier accepts DPoP (its default), but fastmcp's endpoint takes Bearer only.
    expected = served.verifier.resource_metadata(scopes=["mcp:tools"])
    assert "dpop_signing_alg_values_supported" in expected
    del expected["dpop_signing_alg_values_supported"]
    assert document == expected
    assert document["scopes_supported"] == ["mcp:tools"]


def test_configured_scopes_supported_are_listed_instead() -> None:
    provider = BearerguardProvider(
        Verifier(issuer=ISSUER, resource=RESOURCE, scopes_supported=["mcp:tools", "read:all"]),
        required_scopes=["mcp:tools"],
    )

    assert provider.scopes_supported == ["mcp:tools", "read:all"]
    assert provider.challenge_scopes == ["mcp:tools"]


def test_the_metadata_route_is_where_the_verifier_says() -> None:
    provider = BearerguardProvider(Verifier(issuer=ISSUER, resource=RESOURCE))

    (route,) = provider.get_routes("/mcp")

    assert route.path == "/.well-known/oauth-protected-resource/mcp"
    assert provider.get_well_known_routes("/mcp")[0].path == route.path


def test_a_mounted_endpoint_keeps_the_verifiers_resource() -> None:
    # Mounted under /api, the endpoint's URL is .../api/mcp while fastmcp serves it at /mcp.
    provider = BearerguardProvider(
        Verifier(issuer=ISSUER, resource="https://mcp.example.com/api/mcp")
    )

    (route,) = provider.get_routes("/mcp")

    assert route.path == "/.well-known/oauth-protected-resource/api/mcp"
    assert str(provider.resource_base_url) == "https://mcp.example.com/api"


# The provider: construction mistakes said plainly


def test_a_verifier_without_a_resource_is_refused() -> None:
    verifier = Verifier(issuer=ISSUER, audience=RESOURCE)

    with pytest.raises(ConfigurationError, match="needs a verifier with a resource") as refused:
        BearerguardProvider(verifier)

    assert refused.value.setting == "resource"


def test_a_verifier_that_requires_dpop_is_refused() -> None:
    verifier = Verifier(issuer=ISSUER, resource=RESOURCE, dpop="required")

    with pytest.raises(ConfigurationError, match="accepts only Bearer tokens") as refused:
        BearerguardProvider(verifier)

    assert refused.value.setting == "dpop"


def test_anything_but_a_verifier_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"BearerguardProvider\(verifier\) must be"):
        BearerguardProvider(ISSUER)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("required_scopes", "message"),
    [
        ("mcp tools", "is not a scope name"),
        (42, "required_scopes must be a string or a list of strings"),
        ([1], "must hold strings only"),
    ],
)
def test_bad_required_scopes_are_configuration_errors(required_scopes: Any, message: str) -> None:
    verifier = Verifier(issuer=ISSUER, resource=RESOURCE)

    with pytest.raises(ConfigurationError, match=message):
        BearerguardProvider(verifier, required_scopes=required_scopes)


def test_a_resource_that_is_not_the_endpoint_is_refused_when_the_app_is_built() -> None:
    provider = BearerguardProvider(Verifier(issuer=ISSUER, resource="https://mcp.example.com/api"))
    server = FastMCP("contacts", auth=provider)

    with pytest.raises(ConfigurationError, match=r"does not end with '/mcp'") as refused:
        server.http_app()

    assert "http_app(path='/api')" in str(refused.value)
    assert server.http_app(path="/api") is not None


# protect(): bearerguard's full protection in front of a fastmcp app built without auth=


@pytest.fixture
def protected() -> Iterator[Served]:
    with serving(with_protect) as running_server:
        yield running_server


def test_through_protect_get_access_token_returns_the_verified_token(
    protected: Served,
) -> None:
    with FakeIssuer(ISSUER, audience=protected.url) as issuer:
        raw = issuer.token(sub="auth0|alice", scopes="mcp:tools", client_id="agent")
        (answer,) = protected.call_tools(raw, "whoami")
        verifier = protected.verifier
        expected = sdk_access_token(verifier, verifier.verify(raw))

    assert answer == {
        "subject": "auth0|alice",
        "client_id": "agent",
        "scopes": ["mcp:tools"],
        "iss": ISSUER,
    }
    (access,) = protected.seen
    assert isinstance(access, AccessToken)
    assert access.model_dump(exclude={"original_client_id"}) == expected.model_dump()


def test_through_protect_a_dpop_bound_token_with_its_proofs_reaches_the_tool(
    protected: Served,
) -> None:
    with FakeIssuer(ISSUER, audience=protected.url) as issuer:
        key = issuer.dpop_key()
        raw = issuer.token(sub="auth0|alice", scopes="mcp:tools", dpop_key=key)
        (answer,) = protected.call_tools(DPoPAuth(issuer, raw, key), "whoami")

    assert answer["subject"] == "auth0|alice"
    (access,) = protected.seen
    assert access is not None
    assert access.claims["cnf"] == {"jkt": key.jkt}


def test_through_protect_a_tool_call_lacking_its_scope_is_403_naming_every_scope(
    protected: Served,
) -> None:
    with FakeIssuer(ISSUER, audience=protected.url) as issuer:
        refused = protected.post_tool_call(
            "list_contacts", f"Bearer {issuer.token(scopes='mcp:tools')}"
        )
        (contacts,) = protected.call_tools(
            issuer.token(scopes="mcp:tools read:contacts"), "list_contacts"
        )

    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:tools read:contacts"' in challenge
    assert f'resource_metadata="{protected.metadata_url}"' in challenge
    assert contacts == {"contacts": ["Ada Lovelace"]}


def test_through_protect_the_metadata_offers_dpop(protected: Served) -> None:
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        document = client.get(protected.metadata_url).json()

    assert document == protected.verifier.resource_metadata(scopes=["mcp:tools"])
    assert "ES256" in document["dpop_signing_alg_values_supported"]


def test_protect_refuses_a_fastmcp_app_built_with_auth() -> None:
    verifier = Verifier(issuer=ISSUER, resource=RESOURCE)
    server = FastMCP("contacts", auth=BearerguardProvider(verifier))

    with pytest.raises(ConfigurationError, match="without token_verifier= and auth="):
        protect(server.http_app(), verifier=verifier)


# The guide's servers (docs/mcp.md), run as written


def test_the_guides_fastmcp_provider_server_runs_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def app_for(served: Served) -> ASGIApp:
        return guide_app("fastmcp's auth provider", "server", monkeypatch, served.url)

    with serving(app_for) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        raw = issuer.token(sub="auth0|alice", scopes="mcp:tools", azp="agent")
        (answer,) = served.call_tools(raw, "whoami")
        refused = served.post_tool_call("whoami", f"Bearer {issuer.token(scopes='openid')}")

    assert answer == {"user": "auth0|alice", "client": "bearerguard-test-client"}
    assert refused.status_code == 403


def test_the_guides_fastmcp_protected_server_runs_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def app_for(served: Served) -> ASGIApp:
        return guide_app("fastmcp behind `protect()`", "server", monkeypatch, served.url)

    with serving(app_for) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        key = issuer.dpop_key()
        raw = issuer.token(sub="auth0|alice", scopes="mcp:tools read:contacts", dpop_key=key)
        whoami, contacts = served.call_tools(DPoPAuth(issuer, raw, key), "whoami", "list_contacts")
        refused = served.post_tool_call(
            "list_contacts", f"Bearer {issuer.token(scopes='mcp:tools')}"
        )

    assert whoami == {"user": "auth0|alice", "client": "bearerguard-test-client"}
    assert contacts == {"contacts": ["Ada Lovelace", "Alan Turing"]}
    assert refused.status_code == 403
    assert 'scope="mcp:tools read:contacts"' in refused.headers["WWW-Authenticate"]
