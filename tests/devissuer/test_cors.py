"""CORS: what browsers, Swagger UI and auth0-spa-js need to call the dev issuer from a page."""

from __future__ import annotations

import pytest

from bearerguard.devissuer import DevIssuer
from bearerguard.devissuer._cors import ALLOWED_HEADERS, allowed_headers

SWAGGER_UI = "http://127.0.0.1:8123"  # an API serving /docs on a port nobody registered
EVERY_HEADER = (
    "authorization, content-type, x-requested-with, accept, accept-language, content-language, "
    "cache-control, pragma, dpop, auth0-client, mcp-protocol-version"
)


def preflight(http, url: str, origin: str, headers: str | None = None, method: str = "POST"):
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return http.options(url, headers=sent)


def listed(response, name: str = "Access-Control-Allow-Headers") -> set[str]:
    return {item.strip().lower() for item in response.headers.get(name, "").split(",") if item}


def test_swagger_uis_token_exchange_is_allowed_from_any_loopback_port(issuer: DevIssuer, http):
    # Chrome asks for the non-safelisted headers Swagger UI sets, in lower case.
    response = preflight(http, issuer.url + "oauth/token", SWAGGER_UI, "x-requested-with")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SWAGGER_UI
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert response.headers["Access-Control-Allow-Headers"] == "X-Requested-With"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Vary"] == "Origin, Access-Control-Request-Headers"


def test_every_header_browsers_and_spa_libraries_send_is_allowed(issuer: DevIssuer, http):
    for path in ("oauth/token", "userinfo"):
        response = preflight(http, issuer.url + path, "http://localhost:8080", EVERY_HEADER)
        assert listed(response) == {name.lower() for name in ALLOWED_HEADERS}


def test_requested_headers_are_compared_case_insensitively(issuer: DevIssuer, http):
    response = preflight(http, issuer.url + "userinfo", SWAGGER_UI, "AUTHORIZATION,DPoP", "GET")
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, DPoP"


def test_a_header_outside_the_list_is_not_allowed(issuer: DevIssuer, http):
    response = preflight(http, issuer.url + "oauth/token", SWAGGER_UI, "content-type, x-custom")
    assert response.headers["Access-Control-Allow-Origin"] == SWAGGER_UI
    assert "x-custom" not in listed(response)  # so the browser refuses the request
    assert response.headers["Vary"] == "Origin, Access-Control-Request-Headers"


def test_a_preflight_asking_for_no_header_gets_no_allow_headers(issuer: DevIssuer, http):
    response = preflight(http, issuer.url + "oauth/token", SWAGGER_UI)
    assert response.headers["Access-Control-Allow-Origin"] == SWAGGER_UI
    assert "Access-Control-Allow-Headers" not in response.headers


def test_a_stranger_gets_nothing_but_vary(issuer: DevIssuer, http):
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example:8123", "null"):
        response = preflight(http, issuer.url + "oauth/token", origin, "x-requested-with")
        assert response.status_code == 204
        assert not {name for name in response.headers if name.lower().startswith("access-")}
        assert response.headers["Vary"] == "Origin, Access-Control-Request-Headers"


@pytest.mark.parametrize(
    "path",
    [".well-known/openid-configuration", ".well-known/oauth-authorization-server",
     ".well-known/jwks.json"],
)  # fmt: skip
def test_public_documents_answer_any_origin_for_the_same_headers(issuer: DevIssuer, http, path):
    response = preflight(http, issuer.url + path, "https://anyone.example", EVERY_HEADER, "GET")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert listed(response) == {name.lower() for name in ALLOWED_HEADERS}
    # The answer depends on the requested headers, not on the origin.
    assert response.headers["Vary"] == "Access-Control-Request-Headers"
    document = http.get(issuer.url + path, headers={"Origin": "https://anyone.example"})
    assert document.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in document.headers


def test_a_401_of_userinfo_exposes_its_challenge_to_the_script(issuer: DevIssuer, http):
    response = http.get(issuer.url + "userinfo", headers={"Origin": SWAGGER_UI})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == SWAGGER_UI
    assert listed(response, "Access-Control-Expose-Headers") == {"www-authenticate", "dpop-nonce"}
    assert response.headers["Vary"] == "Origin"


def test_a_401_of_the_token_endpoint_exposes_its_challenge_too(issuer: DevIssuer, http):
    response = http.post(
        issuer.url + "oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("m2m-client", "wrong"),
        headers={"Origin": "http://localhost:8080"},
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert "www-authenticate" in listed(response, "Access-Control-Expose-Headers")


def test_nothing_is_exposed_to_a_stranger(issuer: DevIssuer, http):
    response = http.get(issuer.url + "userinfo", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Expose-Headers" not in response.headers
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("requested", "answer"),
    [
        (None, None),
        ("", None),
        (" , ,", None),
        ("x-requested-with", "X-Requested-With"),
        ("Content-Type,Authorization", "Authorization, Content-Type"),
        ("dpop, DPOP,  dpop ", "DPoP"),
        ("auth0-client, x-custom", "Auth0-Client"),
        ("mcp-protocol-version,content-type", "Content-Type, MCP-Protocol-Version"),
        ("x-custom", None),
        ("*", None),
        ("authorization-x", None),
    ],
)
def test_the_allow_headers_rule(requested, answer):
    assert allowed_headers(requested) == answer


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (".well-known/oauth-authorization-server", "GET"),
        ("oidc/register", "POST"),
        ("oauth/token", "POST"),
    ],
)
def test_a_browser_mcp_client_may_discover_register_and_exchange(
    issuer: DevIssuer, http, path, method
):
    # What an MCP client running in a page (the MCP Inspector) preflights before each step.
    response = http.options(
        issuer.url + path,
        headers={
            "Origin": "http://localhost:6274",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type,mcp-protocol-version",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:6274")
    assert listed(response, "Access-Control-Allow-Headers") >= {
        "content-type",
        "mcp-protocol-version",
    }
