"""Loopback resources: a local MCP server's URL is an API of its own in the built-in tenant.

``loopback_resources`` (on in the built-in tenant, off unless written in a file)
makes ``http://127.0.0.1:<any port>/...`` (and ``localhost``, ``[::1]``) the
identifier of an API that grants the scopes asked for: the token's ``aud`` is
the resource, its ``scope`` what was asked. Configured APIs keep their own
scopes, and a user's ``permissions`` still cap what they get.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from bearerguard import Verifier
from bearerguard.devissuer import DevIssuer, config_from_dict, default_config
from bearerguard.devissuer._loading import DEFAULT_CONFIG
from bearerguard.devissuer._resources import LOOPBACK_API_NAME, find_api, is_loopback_resource

from .flows import API, CALLBACK, M2M, SPA, authorize, exchange, mcp_resource, pkce, redirect_params

MCP = mcp_resource(8123)
OPAQUE = "https://opaque.example.com"  # the built-in tenant's API with opaque tokens


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(default_config(), auto_approve=True) as running:
        yield running


def code_flow(http, issuer: DevIssuer, *, resource: str, scope: str, **params: str):
    """The SPA's code flow naming the API by ``resource`` alone: the token response."""
    verifier, challenge = pkce()
    answer = redirect_params(
        authorize(
            http, issuer, audience=None, resource=resource, scope=scope,
            code_challenge=challenge, code_challenge_method="S256", **params,
        )
    )  # fmt: skip
    assert "code" in answer, answer
    response = exchange(
        http, issuer, grant_type="authorization_code", client_id=SPA, code=answer["code"],
        code_verifier=verifier, redirect_uri=CALLBACK, resource=resource,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    "resource",
    [MCP, mcp_resource(9001, "localhost"), mcp_resource(9002, "[::1]"), "http://127.0.0.1:8123"],
)
def test_a_loopback_resource_is_the_audience_and_its_scopes_are_those_asked_for(
    issuer: DevIssuer, http, resource
):
    answer = code_flow(http, issuer, resource=resource, scope="mcp:tools mcp:admin")
    token = Verifier(issuer=issuer.url, audience=resource).verify(answer["access_token"])
    assert token.claims["aud"] == resource
    assert token.scopes == {"mcp:tools", "mcp:admin"}
    assert answer["scope"] == "mcp:tools mcp:admin"


def test_openid_adds_the_userinfo_audience_as_for_any_api(issuer: DevIssuer, http):
    answer = code_flow(http, issuer, resource=MCP, scope="openid mcp:tools")
    token = Verifier(issuer=issuer.url, audience=MCP).verify(answer["access_token"])
    assert token.claims["aud"] == [MCP, issuer.url + "userinfo"]
    assert "id_token" in answer


def test_a_users_permissions_still_cap_the_scopes(issuer: DevIssuer, http):
    # Bob's permissions list read:messages only (Auth0 RBAC): he gets nothing else.
    answer = code_flow(
        http, issuer, resource=MCP, scope="mcp:tools read:messages", login_hint="auth0|bob"
    )
    token = Verifier(issuer=issuer.url, audience=MCP).verify(answer["access_token"])
    assert token.scopes == {"read:messages"}
    assert token.claims["permissions"] == ["read:messages"]


def test_a_configured_api_keeps_its_own_scopes(issuer: DevIssuer, http):
    answer = code_flow(http, issuer, resource=API, scope="read:messages mcp:tools")
    assert answer["scope"] == "read:messages"  # unknown scopes are dropped, as before


def test_offline_access_gives_a_refresh_token_for_the_resource(issuer: DevIssuer, http):
    answer = code_flow(http, issuer, resource=MCP, scope="mcp:tools offline_access")
    refreshed = exchange(
        http, issuer, grant_type="refresh_token", client_id=SPA,
        refresh_token=answer["refresh_token"], resource=MCP,
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    token = Verifier(issuer=issuer.url, audience=MCP).verify(refreshed.json()["access_token"])
    assert token.claims["aud"] == MCP
    assert token.scopes == {"mcp:tools", "offline_access"}


def test_a_refresh_cannot_switch_to_another_loopback_resource(issuer: DevIssuer, http):
    answer = code_flow(http, issuer, resource=MCP, scope="mcp:tools offline_access")
    other = mcp_resource(8124)
    refreshed = exchange(
        http, issuer, grant_type="refresh_token", client_id=SPA,
        refresh_token=answer["refresh_token"], resource=other,
    )  # fmt: skip
    assert refreshed.json()["error"] == "invalid_target"


def test_client_credentials_need_a_grant_for_a_loopback_resource_too(issuer: DevIssuer, http):
    response = exchange(
        http, issuer, grant_type="client_credentials", client_id=M2M, client_secret="m2m-secret",
        resource=MCP,
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"


@pytest.mark.parametrize(
    "resource",
    [
        "http://mcp.example.com:8000/mcp",  # not loopback
        "https://127.0.0.1:8443/mcp",  # https: loopback servers in development speak http
        "http://127.0.0.1:8000@evil.example/mcp",  # user information: evil.example's URL
        "http://LOCALHOST:8000/mcp",  # written in lower case, as MCP clients send it
        "http://10.0.0.1:8000/mcp",
    ],
)
def test_anything_else_is_no_api(issuer: DevIssuer, http, resource):
    _, challenge = pkce()
    answer = redirect_params(
        authorize(
            http, issuer, audience=None, resource=resource, scope="mcp:tools",
            code_challenge=challenge, code_challenge_method="S256",
        )
    )  # fmt: skip
    assert answer["error"] == "invalid_target"
    assert f"(its APIs: {API}, {OPAQUE} or a loopback URL)" in answer["error_description"]


def test_a_tenant_from_a_file_accepts_no_loopback_resource_unless_it_says_so(http):
    tenant = copy.deepcopy(dict(DEFAULT_CONFIG))
    del tenant["loopback_resources"]
    with DevIssuer(config_from_dict(tenant), auto_approve=True) as strict:
        _, challenge = pkce()
        answer = redirect_params(
            authorize(
                http, strict, audience=None, resource=MCP, scope="mcp:tools",
                code_challenge=challenge, code_challenge_method="S256",
            )
        )  # fmt: skip
    assert answer["error"] == "invalid_target"
    assert answer["error_description"] == (
        f"resource {MCP!r} is not the identifier of an API of this issuer "
        f"(its APIs: {API}, {OPAQUE})."
    )


# --- the lookup itself -------------------------------------------------------------------------


def test_find_api_makes_the_api_of_a_loopback_resource_from_the_scopes_asked_for():
    api = find_api(default_config(), MCP, ["openid", "mcp:tools", "offline_access", 'bad"name'])
    assert api is not None
    assert (api.identifier, api.name, api.scopes) == (MCP, LOOPBACK_API_NAME, ("mcp:tools",))
    assert api.allow_offline_access


def test_find_api_prefers_the_configured_api():
    config = default_config()
    assert find_api(config, API, ["mcp:tools"]) is config.apis[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(MCP, True), ("http://localhost", True), ("http://127.0.0.2:1/x?y=1", True),
     ("http://127.0.0.1:8000/a b", False), ("http://127.0.0.1:0/", False),
     ("http://127.0.0.1:8000/#top", False), ("urn:example:mcp", False)],
)  # fmt: skip
def test_is_loopback_resource(value, expected):
    assert is_loopback_resource(value) is expected
