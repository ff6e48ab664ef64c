"""The official MCP Python SDK's OAuth client logs in at the dev-issuer, offline, by itself.

Its ``OAuthClientProvider`` calls a loopback protected resource (``protected_resource``),
gets 401, reads the resource's RFC 9728 metadata, then the dev-issuer's RFC 8414
metadata (checking ``issuer``), registers (RFC 7591), authorizes with PKCE and the
resource (auto-approved; the redirect is read where a browser would follow it),
checks ``iss`` (RFC 9207), redeems the code and retries: 200. A call that needs
one more scope gets 403 ``insufficient_scope``; the SDK steps up with the union of
the scopes, reusing its registration, and succeeds. No token is made by hand.

The SDK comes with the development set-up (``bash scripts/bootstrap.sh dev``);
without it this test fails and says so.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bearerguard.devissuer import DevIssuer, default_config

from .flows import NATIVE_CALLBACK
from .protected_resource import ADMIN_SCOPES, ProtectedResource


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(default_config(), auto_approve=True) as running:
        yield running


def sdk(name: str) -> ModuleType:
    """A module of the MCP SDK, or a failure that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.fail(
            f"The MCP Python SDK is not installed ({exc}): this test drives its OAuth client "
            "against the dev-issuer. Install the development set-up with "
            "`bash scripts/bootstrap.sh dev` and run the test again."
        )


class Browser:
    """Plays the user's browser: opens the authorization URL, reads where it redirects."""

    def __init__(self) -> None:
        self.answers: list[dict[str, str]] = []
        self.requests: list[dict[str, str]] = []

    async def open(self, url: str) -> None:
        httpx2 = sdk("httpx2")
        self.requests.append({k: v for k, (v,) in parse_qs(urlsplit(url).query).items()})
        async with httpx2.AsyncClient(follow_redirects=False, timeout=10) as browser:
            response = await browser.get(url)
        assert response.status_code == 302, response.text
        location = urlsplit(response.headers["Location"])
        assert location._replace(query="").geturl() == NATIVE_CALLBACK
        self.answers.append({k: v for k, (v,) in parse_qs(location.query).items()})

    async def callback(self) -> Any:
        auth = sdk("mcp.shared.auth")
        answer = self.answers[-1]
        return auth.AuthorizationCodeResult(
            code=answer["code"], state=answer.get("state"), iss=answer.get("iss")
        )


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: Any = None
        self.client_info: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client_info

    async def set_client_info(self, client_info: Any) -> None:
        self.client_info = client_info


def test_the_sdk_client_registers_signs_in_steps_up_and_calls(issuer: DevIssuer):
    client_auth = sdk("mcp.client.auth")
    shared_auth = sdk("mcp.shared.auth")
    httpx2 = sdk("httpx2")
    pydantic = sdk("pydantic")
    browser, storage = Browser(), MemoryStorage()

    async def session(resource: ProtectedResource) -> list[Any]:
        provider = client_auth.OAuthClientProvider(
            server_url=resource.url,
            client_metadata=shared_auth.OAuthClientMetadata(
                redirect_uris=[pydantic.AnyUrl(NATIVE_CALLBACK)], client_name="SDK test client"
            ),
            storage=storage,
            redirect_handler=browser.open,
            callback_handler=browser.callback,
        )
        async with httpx2.AsyncClient(auth=provider, timeout=10) as client:
            tool = await client.post(resource.url, json={"tool": "echo"})
            admin = await client.post(resource.url, json={"tool": "admin"})
        return [tool, admin]

    with ProtectedResource(issuer.url) as resource:
        tool, admin = asyncio.run(session(resource))

    assert (tool.status_code, admin.status_code) == (200, 200), (tool.text, admin.text)
    first, stepped_up = resource.calls
    assert first == {"sub": "auth0|alice", "aud": resource.url, "scopes": [
        "mcp:tools", "offline_access"]}  # fmt: skip
    assert stepped_up["scopes"] == sorted([*ADMIN_SCOPES, "offline_access"])
    # One registration served both sign-ins, and it is the public client the SDK asked for.
    assert storage.client_info.client_id.startswith("registered-")
    assert storage.client_info.token_endpoint_auth_method == "none"
    # Both authorization requests named the resource, with PKCE; both answers carried iss.
    for request in browser.requests:
        assert request["resource"] == resource.url
        assert request["code_challenge_method"] == "S256"
        assert request["client_id"] == storage.client_info.client_id
    assert [answer["iss"] for answer in browser.answers] == [issuer.url, issuer.url]
    assert storage.tokens.refresh_token  # offline_access, asked for by the SDK itself
