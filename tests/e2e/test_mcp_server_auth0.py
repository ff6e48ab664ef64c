"""The example MCP server against a dev issuer configured the way docs/mcp.md sets up an
Auth0 tenant, logged in to by the official MCP SDK's own client.

Where ``test_mcp_server.py`` uses the dev issuer's built-in tenant (any loopback URL is
an API of its own, granting what is asked), this tenant is configured as the guide's
Auth0 section says: one API whose identifier is the MCP server's URL and whose
permissions are the server's scopes, a user granted them by role (RBAC, published in
the ``permissions`` claim, which the server reads as scopes), no loopback shortcut. A
token the same tenant issued for another API is refused, right issuer and scopes
notwithstanding. Every token comes from the dev issuer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bearerguard.devissuer import DevIssuer
from bearerguard.devissuer._loading import config_from_dict

from .servers import REQUEST_TIMEOUT, bound_listener, example_environment
from .test_mcp_server import Served, Session, call_tools, serving_example

pytestmark = pytest.mark.e2e

OTHER_API = "https://billing.example.com/mcp"


@dataclass
class AuthServed(Served):
    """The example and its dev issuer, and which claims the server reads scopes from."""

    scope_claims: str = "scope"


def tenant(resource: str) -> dict[str, Any]:
    """The tenant of docs/mcp.md's Auth0 section, for the MCP server at ``resource``."""
    return {
        "apis": [
            # Step 1 and 2: the API's identifier is the server's URL; its permissions are
            # the scopes the server asks for.
            {
                "identifier": resource,
                "name": "Contacts MCP",
                "scopes": ["mcp:tools", "read:contacts"],
            },
            {"identifier": OTHER_API, "name": "Billing MCP", "scopes": ["mcp:tools"]},
        ],
        "clients": [
            {
                "client_id": "billing-service",
                "client_secret": "billing-secret",
                "grant_types": ["client_credentials"],
                "grants": {OTHER_API: ["mcp:tools"], resource: []},
            }
        ],
        # Step 2: the user holds the permissions by role (RBAC, in the permissions claim).
        "users": [
            {"sub": "auth0|carol", "name": "Carol", "permissions": ["mcp:tools", "read:contacts"]}
        ],
        "loopback_resources": False,
    }


@pytest.fixture(scope="module", params=["scope", "scope,permissions"], ids=["scopes", "rbac"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuthServed]:
    """The example behind this tenant; its scopes read from ``scope`` alone, or (step 2's
    RBAC option) from ``permissions`` too."""
    listener = bound_listener()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
    with DevIssuer(config_from_dict(tenant(url)), auto_approve=True) as issuer:
        environment = example_environment([issuer.url], url)
        environment["BEARERGUARD_SCOPE_CLAIMS"] = request.param
        with serving_example(listener, environment, tmp_path_factory.mktemp("mcp-auth0")):
            yield AuthServed(issuer, url, request.param)


def test_the_sdk_client_logs_in_and_calls_both_tools(served: AuthServed) -> None:
    session = Session()

    whoami, contacts = call_tools(served, session, "whoami", "list_contacts")

    assert session.client_info is not None
    assert whoami["user"] == "auth0|carol"
    assert whoami["client"] == session.client_info.client_id
    assert contacts == {"contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
    for authorization in session.authorizations:
        assert authorization["resource"] == served.url
    refused = [e for e in session.to(served.url) if e.status == 403]
    if "permissions" in served.scope_claims:
        # Auth0's permissions claim lists every permission the user's roles grant, asked
        # for or not: the first login's token already calls the scoped tool.
        assert refused == []
        assert len(session.authorizations) == 1
    else:
        # The scope claim holds what was asked for: the scoped tool is refused once with
        # every scope it needs, and the client steps up.
        assert len(refused) == 1
        assert refused[0].challenge is not None
        assert 'scope="mcp:tools read:contacts"' in refused[0].challenge
        assert len(session.authorizations) == 2


def test_a_token_of_the_same_tenant_for_another_api_is_refused(served: AuthServed) -> None:
    with httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as http:
        issued = http.post(
            served.issuer.url + "oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "billing-service",
                "client_secret": "billing-secret",
                "audience": OTHER_API,
            },
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami"}}
        answer = http.post(
            served.url,
            json=call,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
            },
        )

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert f'resource_metadata="{served.metadata_url}"' in answer.headers["WWW-Authenticate"]
