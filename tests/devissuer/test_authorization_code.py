"""The authorization code flow with PKCE, through the consent page, over real HTTP."""

from __future__ import annotations

import pytest

from bearerguard import Verifier
from bearerguard.devissuer import DevIssuer

from .flows import (
    API,
    CALLBACK,
    SPA,
    authorize,
    code_for,
    decide,
    exchange,
    pkce,
    redirect_params,
    tokens,
)


def test_the_consent_page_shows_the_request_escaped(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(
        http,
        issuer,
        code_challenge=challenge,
        code_challenge_method="S256",
        scope="openid read:messages <script>alert(1)</script>",
        login_hint="bob@example.com",
    )
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    text = page.text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # shown as dropped, escaped
    assert "Demo single-page app" in text
    assert API in text
    assert CALLBACK in text
    assert "<code>read:messages</code>" in text
    assert "value='auth0|bob' checked" in text  # login_hint picks Bob
    assert "not for production" in text
    assert "legacy implicit flow" not in text


def test_allow_redirects_with_a_code_and_the_state(issuer: DevIssuer, http):
    _, challenge = pkce()
    answer = code_for(http, issuer, code_challenge=challenge, code_challenge_method="S256")
    assert answer["state"] == "st-123"
    assert len(answer["code"]) > 30


def test_deny_redirects_with_access_denied(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(http, issuer, code_challenge=challenge, code_challenge_method="S256")
    response = decide(http, issuer, page, decision="deny")
    assert response.headers["Location"].startswith(CALLBACK + "?")
    answer = redirect_params(response)
    assert answer["error"] == "access_denied"
    assert answer["state"] == "st-123"
    # The consent page is single use.
    again = decide(http, issuer, page)
    assert again.status_code == 400
    assert "already answered" in again.text


def test_the_code_becomes_tokens_that_verify(issuer: DevIssuer, http):
    answer = tokens(http, issuer)
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == "openid profile email read:messages"
    assert "refresh_token" not in answer  # offline_access was not asked for
    access = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert access.subject == "auth0|alice"
    assert access.claims["aud"] == [API, issuer.url + "userinfo"]
    assert access.claims["azp"] == SPA
    assert access.claims["org_id"] == "org_demo"
    assert access.claims["https://example.com/roles"] == ["admin"]
    assert "gty" not in access.claims
    identity = Verifier(issuer=issuer.url, audience=SPA).verify(answer["id_token"])
    assert identity.subject == "auth0|alice"
    assert identity.claims["name"] == "Alice Example"
    assert identity.claims["email"] == "alice@example.com"
    assert identity.header["typ"] == "JWT"


def test_without_openid_the_audience_is_the_api_alone(issuer: DevIssuer, http):
    answer = tokens(http, issuer, scope="read:messages")
    assert "id_token" not in answer
    access = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert access.claims["aud"] == API


def test_the_nonce_is_returned_in_the_id_token(issuer: DevIssuer, http):
    answer = tokens(http, issuer, nonce="n-0S6_WzA2Mj")
    identity = Verifier(issuer=issuer.url, audience=SPA).verify(answer["id_token"])
    assert identity.claims["nonce"] == "n-0S6_WzA2Mj"


def test_user_permissions_cap_the_scopes_as_auth0_rbac_does(issuer: DevIssuer, http):
    answer = tokens(http, issuer, user="auth0|bob", scope="openid read:messages write:contacts")
    assert answer["scope"] == "openid read:messages"
    access = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert access.claims["permissions"] == ["read:messages"]


def test_a_wrong_verifier_is_invalid_grant_and_spends_the_code(issuer: DevIssuer, http):
    verifier, challenge = pkce()
    code = code_for(http, issuer, code_challenge=challenge, code_challenge_method="S256")["code"]
    params = {
        "grant_type": "authorization_code", "client_id": SPA, "code": code,
        "redirect_uri": CALLBACK,
    }  # fmt: skip
    wrong = exchange(http, issuer, **params, code_verifier=pkce()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    again = exchange(http, issuer, **params, code_verifier=verifier)
    assert again.json()["error"] == "invalid_grant"


def test_a_code_is_used_once(issuer: DevIssuer, http):
    verifier, challenge = pkce()
    code = code_for(http, issuer, code_challenge=challenge, code_challenge_method="S256")["code"]
    params = {
        "grant_type": "authorization_code", "client_id": SPA, "code": code,
        "redirect_uri": CALLBACK, "code_verifier": verifier,
    }  # fmt: skip
    assert exchange(http, issuer, **params).status_code == 200
    reused = exchange(http, issuer, **params)
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code was already used.",
    }


def test_a_missing_verifier_is_refused_when_a_challenge_was_sent(issuer: DevIssuer, http):
    _, challenge = pkce()
    code = code_for(http, issuer, code_challenge=challenge, code_challenge_method="S256")["code"]
    response = exchange(
        http, issuer, grant_type="authorization_code", client_id=SPA, code=code,
        redirect_uri=CALLBACK,
    )  # fmt: skip
    assert response.json()["error"] == "invalid_grant"


def test_a_different_redirect_uri_at_the_token_endpoint_is_invalid_grant(issuer: DevIssuer, http):
    verifier, challenge = pkce()
    code = code_for(http, issuer, code_challenge=challenge, code_challenge_method="S256")["code"]
    response = exchange(
        http, issuer, grant_type="authorization_code", client_id=SPA, code=code,
        code_verifier=verifier, redirect_uri="http://localhost:8080/callback",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "redirect_uri" in response.json()["error_description"]


def test_an_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(
    issuer: DevIssuer, http
):
    _, challenge = pkce()
    response = authorize(
        http,
        issuer,
        redirect_uri="http://127.0.0.1:8080/callback/../evil?<b>",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "Unregistered redirect_uri" in response.text
    # Plain text, never sniffed as HTML: the <b> is shown, not interpreted.
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    unknown_client = authorize(http, issuer, client_id="<nobody>")
    assert unknown_client.status_code == 400
    assert unknown_client.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("params", "error", "description"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request", "not 'plain'"),
        ({"code_challenge_method": None}, "invalid_request", "absent means plain"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request", "PKCE"),
        ({"response_type": "id_token"}, "unsupported_response_type", "response_type"),
        ({"audience": "https://nope.example"}, "access_denied", "Service not found"),
        ({"audience": None, "scope": "read:messages"}, "invalid_request", "audience"),
        ({"prompt": "none"}, "login_required", "auto-approve"),
        ({"response_mode": "form_post"}, "invalid_request", "response_mode"),
        ({"organization": "org_nope"}, "invalid_request", "organization"),
    ],
)
def test_errors_after_a_trusted_redirect_uri_go_back_to_the_client(
    issuer: DevIssuer, http, params, error, description
):
    _, challenge = pkce()
    query = {"code_challenge": challenge, "code_challenge_method": "S256", **params}
    response = authorize(http, issuer, **query)
    answer = redirect_params(response)
    assert answer["error"] == error
    assert description in answer["error_description"]
    assert answer["state"] == "st-123"


def test_a_client_without_the_grant_is_unauthorized_client(issuer: DevIssuer, http):
    response = authorize(http, issuer, client_id="web-client", response_type="token")
    assert redirect_params(response, fragment=True)["error"] == "unauthorized_client"


def test_a_confidential_client_may_use_its_secret_instead_of_pkce(issuer: DevIssuer, http):
    answer = code_for(http, issuer, client_id="web-client")
    response = exchange(
        http, issuer, grant_type="authorization_code", code=answer["code"],
        redirect_uri=CALLBACK, client_id="web-client", client_secret="web-secret",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    Verifier(issuer=issuer.url, audience=API).verify(response.json()["access_token"])


def test_a_code_cannot_be_redeemed_by_another_client(issuer: DevIssuer, http):
    answer = code_for(http, issuer, client_id="web-client")
    response = exchange(
        http, issuer, grant_type="authorization_code", code=answer["code"],
        redirect_uri=CALLBACK, client_id=SPA,
    )  # fmt: skip
    assert response.json()["error"] == "invalid_grant"


def test_an_organization_login_needs_a_member(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(
        http, issuer, code_challenge=challenge, code_challenge_method="S256",
        organization="org_demo",
    )  # fmt: skip
    assert "value='auth0|alice'" in page.text
    assert "auth0|bob" not in page.text  # only members are offered
    refused = redirect_params(decide(http, issuer, page, user="auth0|bob"))
    assert refused["error"] == "access_denied"


def test_sign_in_only_gives_a_token_for_userinfo(issuer: DevIssuer, http):
    answer = tokens(http, issuer, scope="openid profile", audience="")
    userinfo = issuer.url + "userinfo"
    access = Verifier(issuer=issuer.url, audience=userinfo).verify(answer["access_token"])
    assert access.claims["aud"] == userinfo
