"""A server started with auto_approve: /authorize answers at once, for scripts and tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bearerguard import Verifier
from bearerguard.devissuer import DevIssuer, default_config

from .flows import API, CALLBACK, SPA, authorize, exchange, pkce, redirect_params


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(default_config(), auto_approve=True) as running:
        yield running


def flow(http, issuer: DevIssuer, **params: str):
    verifier, challenge = pkce()
    response = authorize(
        http, issuer, code_challenge=challenge, code_challenge_method="S256", **params
    )
    answer = redirect_params(response)
    token = exchange(
        http, issuer, grant_type="authorization_code", client_id=SPA, code=answer["code"],
        code_verifier=verifier, redirect_uri=CALLBACK,
    )  # fmt: skip
    assert token.status_code == 200, token.text
    return Verifier(issuer=issuer.url, audience=API).verify(token.json()["access_token"])


def test_the_first_user_is_signed_in_without_a_page(issuer: DevIssuer, http):
    assert issuer.auto_approve
    assert flow(http, issuer).subject == "auth0|alice"


def test_login_hint_chooses_the_user(issuer: DevIssuer, http):
    assert flow(http, issuer, login_hint="auth0|bob").subject == "auth0|bob"
    assert flow(http, issuer, login_hint="BOB@example.com").subject == "auth0|bob"


def test_prompt_none_is_answered_silently(issuer: DevIssuer, http):
    assert flow(http, issuer, prompt="none").subject == "auth0|alice"


def test_an_unknown_login_hint_is_access_denied(issuer: DevIssuer, http):
    _, challenge = pkce()
    response = authorize(
        http, issuer, code_challenge=challenge, code_challenge_method="S256",
        login_hint="mallory@example.com",
    )  # fmt: skip
    answer = redirect_params(response)
    assert answer["error"] == "access_denied"
    assert "mallory@example.com" in answer["error_description"]


def test_the_implicit_flow_is_answered_at_once_too(issuer: DevIssuer, http):
    response = authorize(http, issuer, response_type="token", scope="read:messages")
    answer = redirect_params(response, fragment=True)
    token = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert token.scopes == {"read:messages"}


def test_a_redirect_uri_mismatch_is_still_an_error_page(issuer: DevIssuer, http):
    response = authorize(http, issuer, redirect_uri="http://127.0.0.1:8080/other")
    assert response.status_code == 400
    assert "Location" not in response.headers
