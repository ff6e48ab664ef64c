"""Redirect URIs match exactly, but a public client's loopback URI on any port (RFC 8252 §7.3)."""

from __future__ import annotations

import pytest

from bearerguard.devissuer import ClientConfig, DevIssuer, default_config
from bearerguard.devissuer._redirects import WebOrigins, loopback_redirect, redirect_uri_matches

from .flows import SPA, authorize, decide, exchange, pkce, redirect_params

CONFIG = default_config()
PUBLIC = CONFIG.client(SPA)  # http://127.0.0.1:8080/callback, http://localhost:8080/callback, ...
CONFIDENTIAL = CONFIG.client("web-client")  # http://127.0.0.1:8080/callback
SWAGGER = "http://127.0.0.1:8000/docs/oauth2-redirect"
CALLBACK_9999 = "http://127.0.0.1:9999/callback"  # the registered callback, on another port


def public_client(*redirect_uris: str) -> ClientConfig:
    return ClientConfig(
        client_id="native", public=True, grant_types=["authorization_code"],
        redirect_uris=redirect_uris,
    )  # fmt: skip


@pytest.mark.parametrize(
    "requested",
    [
        "http://127.0.0.1:8080/callback",  # as registered
        "http://127.0.0.1:9999/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback",
        "http://127.0.0.1/callback",  # no port at all
        "http://localhost:3000/callback",
        "http://127.0.0.1:8001/docs/oauth2-redirect",  # Swagger UI on another uvicorn port
        "http://localhost:5000/docs/oauth2-redirect",
    ],
)
def test_a_public_clients_loopback_uri_matches_on_any_port(requested):
    assert redirect_uri_matches(PUBLIC, requested)


@pytest.mark.parametrize(
    "requested",
    [
        # another host, even another loopback one
        "http://127.0.0.2:8080/callback",
        "http://[::1]:8080/callback",
        "http://127.1:8080/callback",
        "http://2130706433:8080/callback",
        "http://LOCALHOST:8080/callback",
        "http://localhost.evil.example:8080/callback",
        "http://evil.example:8080/callback",
        # another scheme
        "https://127.0.0.1:8080/callback",
        "HTTP://127.0.0.1:9999/callback",
        # another path or query, however slight
        "http://127.0.0.1:9999/callback/",
        "http://127.0.0.1:9999/Callback",
        "http://127.0.0.1:9999/callback?next=/admin",
        "http://127.0.0.1:9999/callback/../evil",
        "http://127.0.0.1:9999",
        "http://127.0.0.1:9999/",
        # a fragment
        "http://127.0.0.1:9999/callback#x",
        # user information: the host is evil.example
        "http://127.0.0.1:8000@evil.example/callback",
        "http://127.0.0.1:8080@evil.example:8080/callback",
        "http://user@127.0.0.1:8080/callback",
        "http://127.0.0.1@evil.example/callback",
        # percent-encoded tricks: no decoding, so another string
        "http://127.0.0.1%3A8080/callback",
        "http://127.0.0.1:8080%2Fcallback",
        "http://127.0.0.1:8080/%63allback",
        "http://127%2E0%2E0%2E1:8080/callback",
        "http://127.0.0.1%40evil.example:8080/callback",
        # a port out of range, empty, signed, padded, or not a number
        "http://127.0.0.1:0/callback",
        "http://127.0.0.1:65536/callback",
        "http://127.0.0.1:99999/callback",
        "http://127.0.0.1:/callback",
        "http://127.0.0.1:+80/callback",
        "http://127.0.0.1:-80/callback",
        "http://127.0.0.1:08080/callback",
        "http://127.0.0.1: 8080/callback",
        "http://127.0.0.1:80a/callback",
        "http://127.0.0.1:http/callback",
        "http://127.0.0.1:\uff18\uff10\uff18\uff10/callback",  # fullwidth digits
        # control characters
        "http://127.0.0.1:9999/callback\n",
        "http://127.0.0.1:9999\r\n/callback",
    ],
)
def test_anything_else_is_refused(requested):
    assert not redirect_uri_matches(PUBLIC, requested)


def test_a_confidential_client_matches_exactly_port_included():
    assert redirect_uri_matches(CONFIDENTIAL, "http://127.0.0.1:8080/callback")
    assert not redirect_uri_matches(CONFIDENTIAL, "http://127.0.0.1:9999/callback")
    assert not redirect_uri_matches(CONFIDENTIAL, "http://127.0.0.1/callback")


def test_a_uri_registered_without_a_port_or_on_ipv6_loopback_matches_any_port():
    client = public_client("http://127.0.0.1/cb", "http://[::1]:8080/cb?app=1")
    assert redirect_uri_matches(client, "http://127.0.0.1:4321/cb")
    assert redirect_uri_matches(client, "http://[::1]/cb?app=1")
    assert redirect_uri_matches(client, "http://[::1]:9/cb?app=1")
    assert not redirect_uri_matches(client, "http://[::1]:9/cb")  # the query is exact
    assert not redirect_uri_matches(client, "http://[::1]:9/cb?app=2")
    assert not redirect_uri_matches(client, "http://127.0.0.1:4321/cb?app=1")


def test_only_loopback_hosts_get_any_port():
    client = public_client("http://app.test:3000/cb", "https://127.0.0.1:3000/cb")
    assert not redirect_uri_matches(client, "http://app.test:3001/cb")
    assert not redirect_uri_matches(client, "https://127.0.0.1:3001/cb")


def test_a_loopback_uri_taken_apart():
    assert loopback_redirect("http://127.0.0.1:8000/docs/oauth2-redirect") == (
        "127.0.0.1", 8000, "/docs/oauth2-redirect",
    )  # fmt: skip
    assert loopback_redirect("http://localhost?x=1") == ("localhost", None, "?x=1")
    assert loopback_redirect("http://127.0.0.1:8000@evil.example/") is None
    assert loopback_redirect("http://127.0.0.1:70000/") is None
    assert loopback_redirect("http://256.0.0.1/") is None


# --- the web origins that may call the token endpoint -----------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:8080",  # the origin of a registered redirect URI
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8123",  # a public client's loopback host, on any port
        "http://localhost:3000",
        "http://127.0.0.1",
    ],
)
def test_web_origins_include_a_public_clients_loopback_hosts_on_any_port(origin):
    assert WebOrigins(CONFIG.clients).allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://127.0.0.1:8123",
        "http://127.0.0.2:8123",
        "http://[::1]:8123",  # no client registered [::1]
        "http://127.0.0.1:8123/",
        "http://127.0.0.1:0",
        "http://127.0.0.1:65536",
        "http://127.0.0.1:8000@evil.example",
        "http://evil.example",
        "null",
        "",
    ],
)
def test_other_origins_are_not_web_origins(origin):
    assert not WebOrigins(CONFIG.clients).allows(origin)


def test_a_confidential_clients_loopback_uri_adds_its_exact_origin_only():
    web = CONFIDENTIAL
    assert web is not None
    origins = WebOrigins([web])
    assert origins.allows("http://127.0.0.1:8080")
    assert not origins.allows("http://127.0.0.1:8081")


# --- over HTTP ----------------------------------------------------------------------------------


def swagger_ui_on(port: int) -> str:
    return f"http://127.0.0.1:{port}/docs/oauth2-redirect"


def test_swagger_ui_signs_in_from_an_api_on_another_port(issuer: DevIssuer, http):
    redirect_uri = swagger_ui_on(8123)
    verifier, challenge = pkce()
    page = authorize(
        http, issuer, redirect_uri=redirect_uri, scope="openid read:messages",
        code_challenge=challenge, code_challenge_method="S256",
    )  # fmt: skip
    assert page.status_code == 200, page.text
    response = decide(http, issuer, page)
    assert response.headers["Location"].startswith(redirect_uri + "?")  # the port asked for
    answer = redirect_params(response)
    token = http.post(
        issuer.url + "oauth/token",
        data={
            "grant_type": "authorization_code", "client_id": SPA, "code": answer["code"],
            "code_verifier": verifier, "redirect_uri": redirect_uri,
        },
        headers={"Origin": "http://127.0.0.1:8123", "X-Requested-With": "XMLHttpRequest"},
    )  # fmt: skip
    assert token.status_code == 200, token.text
    assert token.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8123"


def test_the_code_exchange_names_the_uri_actually_used_not_the_registered_one(
    issuer: DevIssuer, http
):
    # The registered URI (port 8000), and another port that /authorize would accept too.
    for other in (SWAGGER, swagger_ui_on(8124)):
        verifier, challenge = pkce()
        page = authorize(
            http, issuer, redirect_uri=swagger_ui_on(8123), code_challenge=challenge,
            code_challenge_method="S256",
        )  # fmt: skip
        code = redirect_params(decide(http, issuer, page))["code"]
        response = exchange(
            http, issuer, grant_type="authorization_code", client_id=SPA, code=code,
            code_verifier=verifier, redirect_uri=other,
        )  # fmt: skip
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        assert "redirect_uri differs" in response.json()["error_description"]


def test_a_confidential_client_on_another_port_gets_the_error_page(issuer: DevIssuer, http):
    response = authorize(http, issuer, client_id="web-client", redirect_uri=CALLBACK_9999)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "'web-client' is confidential" in response.text
