"""The revocation endpoint (RFC 7009): what a confidential client can take back, and how."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bearerguard.devissuer import DevIssuer

from .flows import SPA, exchange, tokens
from .introspection import (
    assertion,
    by_assertion,
    introspect,
    invalid_client,
    jwt_token,
    opaque_token,
    post,
    tenant,
)


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(tenant()) as running:
        yield running


def test_a_revoked_opaque_token_is_inactive_from_then_on(issuer: DevIssuer, http):
    token = opaque_token(http, issuer)
    assert introspect(http, issuer, token)["active"] is True
    response = post(http, issuer, "revoke", {"token": token, "token_type_hint": "access_token"})
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert introspect(http, issuer, token) == {"active": False}
    # Revoking it again, or any unknown token, is answered 200 all the same (§2.2).
    assert post(http, issuer, "revoke", {"token": token}).status_code == 200
    assert post(http, issuer, "revoke", {"token": "never-issued"}).status_code == 200


def test_the_hint_is_only_a_hint(issuer: DevIssuer, http):
    token = opaque_token(http, issuer)
    response = post(http, issuer, "revoke", {"token": token, "token_type_hint": "refresh_token"})
    assert response.status_code == 200
    assert introspect(http, issuer, token) == {"active": False}


def test_revoking_needs_client_authentication(issuer: DevIssuer, http):
    token = opaque_token(http, issuer)
    assert "Client authentication is required" in invalid_client(
        post(http, issuer, "revoke", {"token": token}, basic=None)
    )
    assert "Wrong client_secret" in invalid_client(
        post(http, issuer, "revoke", {"token": token}, basic=("api-client", "nope"))
    )
    assert introspect(http, issuer, token)["active"] is True  # refused: still live


def test_a_private_key_jwt_client_revokes_with_an_assertion_for_this_endpoint(
    issuer: DevIssuer, http
):
    token = opaque_token(http, issuer)
    signed = assertion(issuer, aud=issuer.url + "oauth/revoke")
    response = post(http, issuer, "revoke", by_assertion(signed, token=token), basic=None)
    assert response.status_code == 200, response.text
    assert introspect(http, issuer, token) == {"active": False}


def test_a_missing_token_is_invalid_request(issuer: DevIssuer, http):
    response = post(http, issuer, "revoke", {})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_a_signed_jwt_cannot_be_revoked_and_the_answer_says_so(issuer: DevIssuer, http):
    token = jwt_token(http, issuer)
    response = post(http, issuer, "revoke", {"token": token})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unsupported_token_type"
    assert '"token_format": "opaque"' in body["error_description"]
    assert introspect(http, issuer, token)["active"] is True


def test_a_revoked_refresh_token_revokes_its_family(issuer: DevIssuer, http):
    answer = tokens(http, issuer, scope="openid offline_access read:messages")
    refresh = answer["refresh_token"]
    assert introspect(http, issuer, refresh) == {"active": False}  # no access token
    assert post(http, issuer, "revoke", {"token": refresh}).status_code == 200
    response = exchange(
        http, issuer, grant_type="refresh_token", client_id=SPA, refresh_token=refresh
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
