"""Refresh tokens (offline_access, narrowing, rotation with reuse detection) and the legacy
implicit flow."""

from __future__ import annotations

from bearerguard import Verifier
from bearerguard.devissuer import DevIssuer

from .flows import API, SPA, authorize, decide, exchange, redirect_params, tokens

OFFLINE = "openid offline_access read:messages"


def refresh(http, issuer: DevIssuer, token: str, **params: str):
    return exchange(
        http, issuer, grant_type="refresh_token", client_id=SPA, refresh_token=token, **params
    )


def test_offline_access_brings_a_refresh_token(issuer: DevIssuer, http):
    answer = tokens(http, issuer, scope=OFFLINE)
    assert answer["scope"] == OFFLINE
    assert len(answer["refresh_token"]) > 30


def test_a_refresh_gives_new_tokens_and_rotates_the_refresh_token(issuer: DevIssuer, http):
    first = tokens(http, issuer, scope=OFFLINE)["refresh_token"]
    response = refresh(http, issuer, first)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.json()
    assert answer["refresh_token"] != first
    assert answer["scope"] == OFFLINE
    access = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert access.subject == "auth0|alice"
    Verifier(issuer=issuer.url, audience=SPA).verify(answer["id_token"])
    # The used token is revoked: presenting it again is invalid_grant ...
    reused = refresh(http, issuer, first)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # ... and, as Auth0's reuse detection does, revokes its successor too.
    assert refresh(http, issuer, answer["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_refresh_can_narrow_the_scopes(issuer: DevIssuer, http):
    first = tokens(http, issuer, scope=OFFLINE)["refresh_token"]
    narrowed = refresh(http, issuer, first, scope="read:messages").json()
    assert narrowed["scope"] == "read:messages"
    assert "id_token" not in narrowed
    access = Verifier(issuer=issuer.url, audience=API).verify(narrowed["access_token"])
    assert access.scopes == {"read:messages"}
    assert access.claims["aud"] == API
    # The successor keeps the original grant: it can ask for everything again.
    again = refresh(http, issuer, narrowed["refresh_token"]).json()
    assert again["scope"] == OFFLINE


def test_a_refresh_cannot_widen_the_scopes(issuer: DevIssuer, http):
    first = tokens(http, issuer, scope=OFFLINE)["refresh_token"]
    response = refresh(http, issuer, first, scope="read:messages write:contacts")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_refresh_token_belongs_to_its_client(issuer: DevIssuer, http):
    first = tokens(http, issuer, scope=OFFLINE)["refresh_token"]
    response = exchange(
        http, issuer, grant_type="refresh_token", refresh_token=first,
        client_id="web-client", client_secret="web-secret",
    )  # fmt: skip
    assert response.json()["error"] == "invalid_grant"
    assert refresh(http, issuer, "made-up").json()["error"] == "invalid_grant"


def test_no_refresh_token_without_offline_access(issuer: DevIssuer, http):
    assert "refresh_token" not in tokens(http, issuer, scope="openid read:messages")


def test_the_implicit_flow_returns_the_token_in_the_fragment(issuer: DevIssuer, http):
    page = authorize(http, issuer, response_type="token", scope="openid read:messages")
    assert "legacy implicit flow" in page.text
    response = decide(http, issuer, page)
    assert "?" not in response.headers["Location"]
    answer = redirect_params(response, fragment=True)
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == "7200"  # Auth0's token_lifetime_for_web
    assert answer["state"] == "st-123"
    assert "refresh_token" not in answer
    access = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert access.scopes == {"openid", "read:messages"}


def test_offline_access_is_dropped_from_the_implicit_flow(issuer: DevIssuer, http):
    page = authorize(http, issuer, response_type="token", scope=OFFLINE)
    answer = redirect_params(decide(http, issuer, page), fragment=True)
    assert answer["scope"] == "openid read:messages"


def test_implicit_errors_go_back_in_the_fragment(issuer: DevIssuer, http):
    response = authorize(http, issuer, response_type="token", audience="https://nope.example")
    answer = redirect_params(response, fragment=True)
    assert answer["error"] == "access_denied"
