"""RFC 8707 ``resource``: the API a token is for, at /authorize and the token endpoint.

The tenant here has two APIs; the M2M client is granted only the first. A
``resource`` must be an absolute URI without a fragment naming a configured API,
agree with ``audience`` when both are sent, and, with a code or a refresh token,
name the API that was authorized; otherwise the answer is ``invalid_target``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from bearerguard import Verifier
from bearerguard._urls import resource_problem
from bearerguard.devissuer import DevIssuer, config_from_dict
from bearerguard.devissuer._loading import DEFAULT_CONFIG

from .flows import (
    API,
    CALLBACK,
    M2M,
    SPA,
    authorize,
    code_for,
    decide,
    exchange,
    pkce,
    redirect_params,
)

OTHER = "https://other.example.com"
OFFLINE = "openid offline_access read:messages"


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    tenant: dict[str, Any] = copy.deepcopy(dict(DEFAULT_CONFIG))
    tenant["apis"].append({"identifier": OTHER, "scopes": ["read:other"]})
    with DevIssuer(config_from_dict(tenant)) as running:
        yield running


def client_credentials(http, issuer: DevIssuer, **params: str):
    return exchange(
        http, issuer, grant_type="client_credentials", client_id=M2M,
        client_secret="m2m-secret", **params,
    )  # fmt: skip


def verified(issuer: DevIssuer, token: str, audience: str = API):
    return Verifier(issuer=issuer.url, audience=audience).verify(token)


def refused(response, error: str = "invalid_target") -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == error
    description: str = body["error_description"]
    return description


# --- client credentials -----------------------------------------------------------------------


def test_resource_alone_names_the_api(issuer: DevIssuer, http):
    response = client_credentials(http, issuer, resource=API)
    assert response.status_code == 200, response.text
    assert verified(issuer, response.json()["access_token"]).claims["aud"] == API


def test_resource_and_audience_may_name_the_same_api(issuer: DevIssuer, http):
    response = client_credentials(http, issuer, resource=API, audience=API)
    assert response.status_code == 200, response.text


def test_resource_and_audience_naming_different_apis_are_invalid_target(issuer: DevIssuer, http):
    description = refused(client_credentials(http, issuer, resource=API, audience=OTHER))
    assert description == (
        f"audience {OTHER!r} and resource {API!r} name different APIs, and a token here is "
        "for one API: send one of them (or the same value in both)."
    )


def test_an_unknown_resource_is_invalid_target(issuer: DevIssuer, http):
    description = refused(client_credentials(http, issuer, resource="https://nope.example"))
    assert description == (
        "resource 'https://nope.example' is not the identifier of an API of this issuer "
        f"(its APIs: {API}, https://opaque.example.com, {OTHER} or a loopback URL)."
    )


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        (API + "#part", "has a fragment (#part), which RFC 8707 §2 forbids"),
        ("api.example.com", "is not an absolute URI"),
        ("/relative", "is not an absolute URI"),
        ("https://api.example.com/a b", "is not a valid URI"),
    ],
)
def test_a_malformed_resource_is_invalid_target(issuer: DevIssuer, http, resource, problem):
    assert problem in refused(client_credentials(http, issuer, resource=resource))


def test_a_resource_the_client_has_no_grant_for_is_access_denied_as_for_audience(
    issuer: DevIssuer, http
):
    # Known and well formed, so no invalid_target: the client is simply not allowed it.
    response = client_credentials(http, issuer, resource=OTHER)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"


def test_a_repeated_resource_is_refused(issuer: DevIssuer, http):
    # A token here is for one API; several resources would ask for one token for several.
    response = http.post(
        issuer.url + "oauth/token",
        content=f"grant_type=client_credentials&client_id={M2M}&client_secret=m2m-secret"
        f"&resource={API}&resource={OTHER}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "'resource' is repeated" in response.json()["error_description"]


# --- /authorize, the code and the refresh token ------------------------------------------------


def code_with_resource(http, issuer: DevIssuer, scope: str = OFFLINE) -> tuple[str, str]:
    """``(code, code_verifier)`` of a request naming the API by ``resource`` alone."""
    verifier, challenge = pkce()
    answer = code_for(
        http, issuer, scope=scope, audience=None, resource=API,
        code_challenge=challenge, code_challenge_method="S256",
    )  # fmt: skip
    return answer["code"], verifier


def redeem(http, issuer: DevIssuer, code: str, verifier: str, **params: str):
    return exchange(
        http, issuer, grant_type="authorization_code", client_id=SPA, code=code,
        code_verifier=verifier, redirect_uri=CALLBACK, **params,
    )  # fmt: skip


def test_resource_at_authorize_names_the_api_of_the_code(issuer: DevIssuer, http):
    code, verifier = code_with_resource(http, issuer)
    response = redeem(http, issuer, code, verifier, resource=API)  # RFC 8707 §2.2: may repeat it
    assert response.status_code == 200, response.text
    assert API in verified(issuer, response.json()["access_token"]).audience


def test_the_code_cannot_be_redeemed_for_another_resource(issuer: DevIssuer, http):
    code, verifier = code_with_resource(http, issuer)
    description = refused(redeem(http, issuer, code, verifier, resource=OTHER))
    assert description == (
        f"resource {OTHER!r} was not authorized: the code was issued for API {API!r}."
    )


def test_a_sign_in_code_cannot_be_redeemed_for_an_api(issuer: DevIssuer, http):
    verifier, challenge = pkce()
    answer = code_for(
        http, issuer, scope="openid", audience=None,
        code_challenge=challenge, code_challenge_method="S256",
    )  # fmt: skip
    description = refused(redeem(http, issuer, answer["code"], verifier, resource=API))
    assert "the code was issued for signing in only (no API)" in description


def test_a_wrong_verifier_is_refused_before_the_resource_is_looked_at(issuer: DevIssuer, http):
    code, _ = code_with_resource(http, issuer)
    other_verifier, _ = pkce()
    response = redeem(http, issuer, code, other_verifier, resource=OTHER)
    assert refused(response, "invalid_grant") == "code_verifier does not match the code_challenge."


def test_a_refresh_may_name_the_authorized_resource_only(issuer: DevIssuer, http):
    code, verifier = code_with_resource(http, issuer)
    first = redeem(http, issuer, code, verifier).json()["refresh_token"]
    response = exchange(
        http, issuer, grant_type="refresh_token", client_id=SPA, refresh_token=first,
        resource=API,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert API in verified(issuer, response.json()["access_token"]).audience
    widened = exchange(
        http, issuer, grant_type="refresh_token", client_id=SPA,
        refresh_token=response.json()["refresh_token"], resource=OTHER,
    )  # fmt: skip
    assert "the refresh token was issued for API" in refused(widened)


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"resource": "https://nope.example"}, "is not the identifier of an API"),
        ({"resource": API + "#x"}, "has a fragment"),
        ({"resource": API, "audience": OTHER}, "name different APIs"),
    ],
)
def test_authorize_sends_invalid_target_back_to_the_client(
    issuer: DevIssuer, http, params, problem
):
    _, challenge = pkce()
    query = {"audience": None, **params}  # the API named by what the case sends, nothing else
    response = authorize(
        http, issuer, code_challenge=challenge, code_challenge_method="S256", **query
    )
    answer = redirect_params(response)
    assert answer["error"] == "invalid_target"
    assert problem in answer["error_description"]
    assert answer["state"] == "st-123"


def test_implicit_tokens_are_for_the_resource(issuer: DevIssuer, http):
    page = authorize(
        http, issuer, response_type="token", scope="read:other", audience=None, resource=OTHER
    )
    assert page.status_code == 200, page.text  # the consent page
    answer = redirect_params(decide(http, issuer, page), fragment=True)
    assert verified(issuer, answer["access_token"], OTHER).claims["aud"] == OTHER


# --- the check itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [API, "https://api.example.com/v1?tenant=a", "urn:example:api", "https://[::1]:8443/x",
     "https://api.example.com/%C3%A9"],
)  # fmt: skip
def test_absolute_uris_without_a_fragment_are_resources(value: str):
    assert resource_problem(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "//api.example.com", "1https://x", "https://x/#", "https://x/\x00", "https://x/é",
     "https://x/%2", 'https://x/"'],
)  # fmt: skip
def test_anything_else_is_not(value: str):
    assert resource_problem(value) is not None
