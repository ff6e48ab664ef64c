"""What an MCP client does against the built-in tenant, step by step, over real HTTP.

Discover the metadata, register (RFC 7591), authorize with PKCE and the MCP
server's URL as ``resource`` (RFC 8707), auto-approved, check ``iss`` (RFC
9207), redeem the code, and refresh with ``offline_access``: every request the
official MCP Python SDK's OAuth client sends, in its order and with its
parameters, without the SDK (``test_mcp_sdk_client`` runs the SDK itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bearerguard import InvalidAudienceError, Verifier
from bearerguard.devissuer import DevIssuer, default_config

from .flows import NATIVE_CALLBACK, SDK_REGISTRATION, mcp_resource, pkce, redirect_params

RESOURCE = mcp_resource(8765)
SCOPE = "mcp:tools offline_access"  # the challenged scope, and offline_access (SEP-2207)


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(default_config(), auto_approve=True) as running:
        yield running


def sign_in(http: httpx.Client, issuer: DevIssuer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole dance; ``(metadata, token response)``."""
    metadata: dict[str, Any] = http.get(
        issuer.url + ".well-known/oauth-authorization-server"
    ).json()
    registration = http.post(metadata["registration_endpoint"], json=SDK_REGISTRATION)
    assert registration.status_code == 201, registration.text
    client_id = registration.json()["client_id"]
    verifier, challenge = pkce()
    response = http.get(
        metadata["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": NATIVE_CALLBACK,
            "state": "mcp-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": RESOURCE,
            "scope": SCOPE,
            "prompt": "consent",  # the SDK adds it with offline_access (OIDC Core §11)
        },
    )
    answer = redirect_params(response)
    assert response.headers["Location"].startswith(NATIVE_CALLBACK + "?")
    assert answer["state"] == "mcp-state"
    assert answer["iss"] == metadata["issuer"]
    token = http.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": NATIVE_CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": RESOURCE,
        },
    )
    assert token.status_code == 200, token.text
    return metadata, token.json()


def test_a_freshly_registered_client_gets_a_token_for_the_mcp_server(issuer: DevIssuer, http):
    _, answer = sign_in(http, issuer)
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == SCOPE
    assert "refresh_token" in answer
    assert "id_token" not in answer  # no openid asked for
    token = Verifier(issuer=issuer.url, audience=RESOURCE).verify(answer["access_token"])
    assert token.claims["aud"] == RESOURCE
    assert token.scopes == {"mcp:tools", "offline_access"}
    assert token.subject == "auth0|alice"  # auto-approve: the first user
    assert token.claims["client_id"] == token.claims["azp"]
    assert token.claims["client_id"].startswith("registered-")


def test_the_refresh_token_gets_a_new_token_for_the_same_resource(issuer: DevIssuer, http):
    metadata, answer = sign_in(http, issuer)
    first = Verifier(issuer=issuer.url, audience=RESOURCE).verify(answer["access_token"])
    refreshed = http.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": answer["refresh_token"],
            "client_id": first.claims["client_id"],
            "resource": RESOURCE,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    again = refreshed.json()
    assert again["refresh_token"] != answer["refresh_token"]  # rotated
    token = Verifier(issuer=issuer.url, audience=RESOURCE).verify(again["access_token"])
    assert (token.claims["aud"], token.scopes) == (RESOURCE, {"mcp:tools", "offline_access"})


def test_a_token_for_the_mcp_server_is_refused_by_another_api(issuer: DevIssuer, http):
    _, answer = sign_in(http, issuer)
    other = Verifier(issuer=issuer.url, audience=mcp_resource(8766))
    with pytest.raises(InvalidAudienceError):
        other.verify(answer["access_token"])
