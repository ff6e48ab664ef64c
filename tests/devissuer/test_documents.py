"""Discovery, the JWKS and the index, for both issuer URLs; other hosts are refused."""

from __future__ import annotations

import pytest

from bearerguard.devissuer import DevIssuer

from .flows import API

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


@pytest.mark.parametrize("which", ["url", "custom_domain_url"])
def test_discovery_names_the_issuer_the_request_came_to(issuer: DevIssuer, http, which):
    base = getattr(issuer, which)
    response = http.get(base + ".well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.json()
    assert document["issuer"] == base
    assert document["authorization_endpoint"] == base + "authorize"
    assert document["token_endpoint"] == base + "oauth/token"
    assert document["userinfo_endpoint"] == base + "userinfo"
    assert document["jwks_uri"] == base + ".well-known/jwks.json"
    assert document["response_types_supported"] == ["code", "token"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert set(document["grant_types_supported"]) == {
        "authorization_code", "client_credentials", "refresh_token", "implicit",
    }  # fmt: skip
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none",
    ]  # fmt: skip
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["subject_types_supported"] == ["public"]
    assert {"openid", "offline_access", "read:messages", "write:contacts"} <= set(
        document["scopes_supported"]
    )
    assert http.get(base + ".well-known/oauth-authorization-server").json() == document


@pytest.mark.parametrize("which", ["url", "custom_domain_url"])
def test_both_documents_name_the_introspection_and_revocation_endpoints(
    issuer: DevIssuer, http, which
):
    base = getattr(issuer, which)
    methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    for path in (".well-known/openid-configuration", ".well-known/oauth-authorization-server"):
        document = http.get(base + path).json()
        assert document["introspection_endpoint"] == base + "oauth/introspect"
        assert document["introspection_endpoint_auth_methods_supported"] == methods
        assert document["revocation_endpoint"] == base + "oauth/revoke"
        assert document["revocation_endpoint_auth_methods_supported"] == methods
        for name in ("introspection", "revocation"):
            algorithms = document[f"{name}_endpoint_auth_signing_alg_values_supported"]
            assert "ES256" in algorithms
            assert "none" not in algorithms
            assert not any(alg.startswith("HS") for alg in algorithms)


@pytest.mark.parametrize("which", ["url", "custom_domain_url"])
def test_the_rfc_8414_metadata_has_what_an_mcp_client_reads(issuer: DevIssuer, http, which):
    base = getattr(issuer, which)
    response = http.get(base + ".well-known/oauth-authorization-server")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    metadata = response.json()
    # RFC 8414 §3.3: the issuer is the URL the metadata URL was made from, to the character.
    assert metadata["issuer"] == base
    assert metadata["registration_endpoint"] == base + "oidc/register"
    # RFC 9207: clients may (the MCP SDKs' do) demand iss in every authorization response.
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "none" in metadata["token_endpoint_auth_methods_supported"]  # public clients
    assert {"authorization_code", "refresh_token"} <= set(metadata["grant_types_supported"])
    assert "code" in metadata["response_types_supported"]
    # offline_access listed: an MCP client that can refresh then asks for it (SEP-2207).
    assert "offline_access" in metadata["scopes_supported"]


def test_issuers_are_the_canonical_url_and_the_custom_domain(issuer: DevIssuer):
    port = issuer.url.rsplit(":", 1)[1]
    assert issuer.url == f"http://127.0.0.1:{port}"
    assert issuer.custom_domain_url == f"http://localhost:{port}"
    assert issuer.issuers == (issuer.url, issuer.custom_domain_url)


def test_the_jwks_publishes_public_keys_only(issuer: DevIssuer, http):
    response = http.get(issuer.url + ".well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=600"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    current, following = response.json()["keys"]  # like Auth0: the current and the next key
    assert current["kid"] == issuer.kid != following["kid"]
    for key in (current, following):
        assert (key["alg"], key["use"], key["kty"]) == ("RS256", "sig", "RSA")
        assert not PRIVATE_MEMBERS & set(key)
    assert http.get(issuer.custom_domain_url + ".well-known/jwks.json").json() == response.json()


def test_any_other_host_is_misdirected(issuer: DevIssuer, http):
    # A loopback server answering every name could be reached through DNS rebinding.
    for path in ("", ".well-known/openid-configuration", "oauth/token"):
        response = http.get(issuer.url + path, headers={"Host": "attacker.example"})
        assert response.status_code == 421
        assert response.json()["error"] == "misdirected_request"


def test_unknown_paths_and_methods(issuer: DevIssuer, http):
    assert http.get(issuer.url + "nope").status_code == 404
    response = http.get(issuer.url + "oauth/token")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert http.post(issuer.url + ".well-known/jwks.json").status_code == 405


def test_the_index_says_what_it_is(issuer: DevIssuer, http):
    document = http.get(issuer.url).json()
    assert "DEVELOPMENT tool, not for production" in document["banner"]
    assert document["issuers"] == list(issuer.issuers)
    assert document["endpoints"]["token"] == issuer.url + "oauth/token"
    assert {"client_id": "m2m-client", "client_secret": "m2m-secret"}.items() <= (
        document["clients"][0].items()
    )
    assert document["apis"] == [API, "https://opaque.example.com"]
    assert document["endpoints"]["introspection"] == issuer.url + "oauth/introspect"
    page = http.get(issuer.url, headers={"Accept": "text/html"})
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "not for production" in page.text
    assert "m2m-secret" in page.text


def test_cors_answers_the_registered_web_origins_only(issuer: DevIssuer, http):
    preflight = http.options(
        issuer.url + "oauth/token",
        headers={"Origin": "http://localhost:8080", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    stranger = http.options(issuer.url + "oauth/token", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_pages_and_key_rotation_are_not_for_other_origins(issuer: DevIssuer, http):
    origin = {"Origin": "http://localhost:8080"}  # a registered web origin, even so
    page = http.get(issuer.url + "authorize", params={"client_id": "spa-client"}, headers=origin)
    assert "Access-Control-Allow-Origin" not in page.headers
    kid = issuer.kid
    refused = http.post(issuer.url + "dev/rotate", headers=origin)
    assert refused.status_code == 403
    assert issuer.kid == kid
    same_origin = http.post(issuer.url + "dev/rotate", headers={"Origin": issuer.url.rstrip("/")})
    assert same_origin.status_code == 200
    assert issuer.kid != kid
