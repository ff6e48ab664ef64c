"""grant_type=client_credentials: machine-to-machine tokens, Auth0-shaped, over real HTTP."""

from __future__ import annotations

import base64

import pytest

from bearerguard import Verifier
from bearerguard.devissuer import DevIssuer

from .flows import API, M2M, exchange

SECRET = "m2m-secret"


def grant(http, issuer: DevIssuer, base: str | None = None, **params: str | None):
    data = {
        "grant_type": "client_credentials",
        "client_id": M2M,
        "client_secret": SECRET,
        "audience": API,
        **params,
    }
    sent = {name: value for name, value in data.items() if value is not None}
    return exchange(http, issuer, base, **sent)


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def test_the_token_verifies_with_a_real_verifier(issuer: DevIssuer, http):
    response = grant(http, issuer)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.json()
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 86400
    assert answer["scope"] == "read:messages read:contacts"
    # The verifier fetches the real discovery document and JWKS over loopback.
    token = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert token.subject == f"{M2M}@clients"
    assert token.client_id == M2M
    assert token.scopes == {"read:messages", "read:contacts"}
    assert token.claims["aud"] == API
    assert token.claims["azp"] == M2M
    assert token.claims["gty"] == "client-credentials"
    assert token.claims["https://example.com/tier"] == "gold"
    assert token.header["typ"] == "at+jwt"


def test_requested_scopes_narrow_the_grant(issuer: DevIssuer, http):
    answer = grant(http, issuer, scope="read:contacts").json()
    assert answer["scope"] == "read:contacts"
    token = Verifier(issuer=issuer.url, audience=API).verify(answer["access_token"])
    assert token.scopes == {"read:contacts"}


@pytest.mark.parametrize(
    ("scope", "description"),
    [
        ("write:contacts", "has not been granted 'write:contacts'"),
        ("read:messages fly", "'fly' is not a scope of API"),
    ],
)
def test_scopes_beyond_the_grant_are_invalid_scope(issuer: DevIssuer, http, scope, description):
    response = grant(http, issuer, scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert description in response.json()["error_description"]


def test_http_basic_authenticates_the_client(issuer: DevIssuer, http):
    response = http.post(
        issuer.url + "oauth/token",
        data={"grant_type": "client_credentials", "audience": API},
        headers=basic(M2M, SECRET),
    )
    assert response.status_code == 200, response.text


def test_a_json_body_is_accepted_as_auth0_accepts_it(issuer: DevIssuer, http):
    body = {"grant_type": "client_credentials", "client_id": M2M, "client_secret": SECRET}
    response = http.post(issuer.url + "oauth/token", json={**body, "audience": API})
    assert response.status_code == 200, response.text


def test_a_wrong_secret_in_the_body_is_invalid_client(issuer: DevIssuer, http):
    response = grant(http, issuer, client_secret="wrong")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Wrong client_secret for client 'm2m-client'.",
    }
    assert "WWW-Authenticate" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("credentials", [(M2M, "wrong"), ("nobody", "x")])
def test_failed_basic_authentication_is_a_401_challenge(issuer: DevIssuer, http, credentials):
    response = http.post(
        issuer.url + "oauth/token",
        data={"grant_type": "client_credentials", "audience": API},
        headers=basic(*credentials),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="dev-issuer"')


def test_malformed_basic_credentials_are_refused(issuer: DevIssuer, http):
    response = http.post(
        issuer.url + "oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_secrets_in_both_places_are_refused(issuer: DevIssuer, http):
    response = http.post(
        issuer.url + "oauth/token",
        data={"grant_type": "client_credentials", "client_secret": SECRET, "audience": API},
        headers=basic(M2M, SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_an_unknown_audience_is_access_denied_as_at_auth0(issuer: DevIssuer, http):
    response = grant(http, issuer, audience="https://unknown.example.com")
    assert response.status_code == 403
    assert response.json() == {
        "error": "access_denied",
        "error_description": "Service not found: https://unknown.example.com",
    }
    missing = grant(http, issuer, audience=None)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


def test_a_grant_the_client_may_not_use_is_unauthorized_client(issuer: DevIssuer, http):
    response = grant(http, issuer, client_id="web-client", client_secret="web-secret")
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    public = grant(http, issuer, client_id="spa-client", client_secret=None)
    assert public.json()["error"] == "unauthorized_client"


def test_protocol_mistakes_are_invalid_request_or_unsupported_grant(issuer: DevIssuer, http):
    assert grant(http, issuer, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert grant(http, issuer, grant_type=None).json()["error"] == "invalid_request"
    repeated = http.post(
        issuer.url + "oauth/token",
        content=f"grant_type=client_credentials&client_id={M2M}&client_id={M2M}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.json()["error"] == "invalid_request"
    assert "repeated" in repeated.json()["error_description"]
    xml = http.post(
        issuer.url + "oauth/token", content=b"<x/>", headers={"Content-Type": "text/xml"}
    )
    assert xml.json()["error"] == "invalid_request"


def test_a_token_requested_at_the_custom_domain_carries_its_issuer(issuer: DevIssuer, http):
    answer = grant(http, issuer, issuer.custom_domain_url).json()
    both = Verifier(issuer=list(issuer.issuers), audience=API)
    token = both.verify(answer["access_token"])
    assert token.issuer == issuer.custom_domain_url
    canonical = both.verify(grant(http, issuer).json()["access_token"])
    assert canonical.issuer == issuer.url
