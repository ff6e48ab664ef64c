"""Dynamic client registration (RFC 7591) at ``/oidc/register``: public native clients only.

A registration describes a public client (no secret, PKCE) with loopback
redirect URIs; the answer is ``201`` with ``client_id``, ``client_id_issued_at``
and every registered value (§3.2.1). Anything else is refused with §3.2.2's
``invalid_redirect_uri`` or ``invalid_client_metadata`` and a description that
names the field and what to send. Registered clients live for the server's run,
and there is a cap on how many.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bearerguard.devissuer import DevIssuer, config_from_dict, default_config
from bearerguard.devissuer._directory import MAX_REGISTERED_CLIENTS, REGISTERED_PREFIX
from bearerguard.devissuer._registration import MAX_REDIRECT_URIS

from .flows import (
    NATIVE_CALLBACK,
    SDK_REGISTRATION,
    authorize,
    pkce,
    redirect_params,
    register,
    registered_client,
)


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(default_config(), auto_approve=True) as running:
        yield running


def refused(response: httpx.Response, error: str) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    description: str = body["error_description"]
    return description


# --- what is registered -----------------------------------------------------------------------


def test_the_sdk_registration_gets_a_public_client_with_every_registered_value(
    issuer: DevIssuer, http
):
    before = int(time.time())
    response = register(http, issuer, SDK_REGISTRATION)
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.json()
    assert answer.pop("client_id").startswith(REGISTERED_PREFIX)
    assert before <= answer.pop("client_id_issued_at") <= time.time()
    # Left out by the SDK (RFC 7591's default would be client_secret_basic): "none" is
    # substituted, and said, as §3.2.1 asks of every value the server provisions.
    assert answer == {**SDK_REGISTRATION, "token_endpoint_auth_method": "none"}
    assert "client_secret" not in answer


def test_each_registration_gets_its_own_client_id(issuer: DevIssuer, http):
    assert registered_client(http, issuer) != registered_client(http, issuer)


def test_the_defaults_of_rfc_7591_apply_to_what_is_left_out(issuer: DevIssuer, http):
    response = register(http, issuer, {"redirect_uris": [NATIVE_CALLBACK]})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["grant_types"] == ["authorization_code"]
    assert answer["response_types"] == ["code"]
    assert answer["token_endpoint_auth_method"] == "none"
    assert "client_name" not in answer
    assert "scope" not in answer


def test_metadata_the_server_has_no_use_for_is_ignored_and_not_returned(issuer: DevIssuer, http):
    metadata = {
        **SDK_REGISTRATION,
        "jwks_uri": "https://app.example/jwks.json",
        "software_statement": "eyJ...",
        "x-vendor": {"anything": True},
        "client_uri": "https://app.example",
        "contacts": ["dev@app.example"],
        "software_id": "example-mcp-client",
    }
    answer = register(http, issuer, metadata).json()
    assert not {"jwks_uri", "software_statement", "x-vendor"} & set(answer)
    assert answer["client_uri"] == "https://app.example"
    assert answer["contacts"] == ["dev@app.example"]
    assert answer["software_id"] == "example-mcp-client"


def test_a_registered_client_signs_in_from_any_port_of_its_loopback_redirect_uri(
    issuer: DevIssuer, http
):
    client_id = registered_client(http, issuer)
    _, challenge = pkce()
    elsewhere = "http://127.0.0.1:51234/callback"  # the port the app got this time
    response = authorize(
        http, issuer, client_id=client_id, redirect_uri=elsewhere,
        code_challenge=challenge, code_challenge_method="S256",
    )  # fmt: skip
    assert response.headers["Location"].startswith(elsewhere + "?")
    assert "code" in redirect_params(response)


def test_a_registered_client_must_use_pkce_as_every_public_client(issuer: DevIssuer, http):
    client_id = registered_client(http, issuer)
    answer = redirect_params(
        authorize(http, issuer, client_id=client_id, redirect_uri=NATIVE_CALLBACK)
    )
    assert answer["error"] == "invalid_request"
    assert "Public clients must use PKCE" in answer["error_description"]


# --- refusals (RFC 7591 §3.2.2) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("redirect_uris", "problem"),
    [
        (None, "redirect_uris is required"),
        ([], "redirect_uris must be a non-empty list of strings"),
        ("http://127.0.0.1:33418/callback", "redirect_uris must be a non-empty list of strings"),
        (["https://app.example/callback"], 'redirect_uris[0] is "https://app.example/callback"'),
        (["com.example.app:/callback"], "native apps that listen on loopback"),
        (["http://127.0.0.1:8000@evil.example/"], "without user information"),
        (["http://127.0.0.1:33418/cb#x"], "or a fragment"),
        (["http://LOCALHOST:33418/cb"], "in lower case"),
        (["http://127.0.0.1:70000/cb"], "redirect_uris[0]"),
        ([NATIVE_CALLBACK, "http://10.0.0.1/cb"], "redirect_uris[1]"),
    ],
)
def test_redirect_uris_must_be_loopback_ones(issuer: DevIssuer, http, redirect_uris, problem):
    metadata = {**SDK_REGISTRATION, "redirect_uris": redirect_uris}
    assert problem in refused(register(http, issuer, metadata), "invalid_redirect_uri")


def test_the_refusal_of_a_redirect_uri_says_what_to_write(issuer: DevIssuer, http):
    metadata = {**SDK_REGISTRATION, "redirect_uris": ["https://app.example/callback"]}
    assert refused(register(http, issuer, metadata), "invalid_redirect_uri") == (
        'redirect_uris[0] is "https://app.example/callback": this dev-issuer registers native '
        "apps that listen on loopback (RFC 8252 §7.3), so write an http URL of 127.0.0.1, "
        "[::1] or localhost in lower case, without user information or a fragment, such as "
        "'http://127.0.0.1:33418/callback'. Any port matches later."
    )


def test_too_many_redirect_uris_are_refused(issuer: DevIssuer, http):
    uris = [f"http://127.0.0.1/cb{n}" for n in range(MAX_REDIRECT_URIS + 1)]
    description = refused(
        register(http, issuer, {**SDK_REGISTRATION, "redirect_uris": uris}), "invalid_redirect_uri"
    )
    assert f"register at most {MAX_REDIRECT_URIS}" in description


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("token_endpoint_auth_method", "client_secret_basic", 'send "none", or leave it out'),
        ("token_endpoint_auth_method", "private_key_jwt", "registers public clients only"),
        ("grant_types", ["client_credentials"], 'grant_types lists "client_credentials"'),
        ("grant_types", ["authorization_code", "implicit"], 'grant_types lists "implicit"'),
        ("grant_types", ["refresh_token"], 'must include "authorization_code"'),
        ("grant_types", "authorization_code", "grant_types must be a list of strings"),
        ("response_types", ["token"], 'response_types must be ["code"]'),
        ("response_types", [], 'response_types must be ["code"]'),
        ("client_name", 42, "client_name must be a string"),
        ("client_name", "Evil\nLine", "without control characters"),
        ("client_name", "x" * 201, "at most 200 characters"),
        ("client_uri", "javascript:alert(1)", "client_uri must be an http or https URL"),
        ("scope", 'mcp:"tools"', "scope must be scope names separated by single spaces"),
        ("scope", "mcp:tools  offline_access", "separated by single spaces"),
        ("application_type", "desktop", 'application_type must be "native" or "web"'),
        ("contacts", "dev@app.example", "contacts must be a list of strings"),
    ],
)
def test_unacceptable_metadata_is_invalid_client_metadata(
    issuer: DevIssuer, http, field, value, problem
):
    metadata = {**SDK_REGISTRATION, field: value}
    assert problem in refused(register(http, issuer, metadata), "invalid_client_metadata")


def test_the_refusal_of_a_secret_says_why_and_what_to_send(issuer: DevIssuer, http):
    metadata = {**SDK_REGISTRATION, "token_endpoint_auth_method": "client_secret_post"}
    assert refused(register(http, issuer, metadata), "invalid_client_metadata") == (
        'token_endpoint_auth_method is "client_secret_post", but this dev-issuer registers '
        "public clients only, which have no secret (PKCE protects their codes): send "
        '"none", or leave it out.'
    )


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b'{"redirect_uris": []', "application/json", "The body is not JSON."),
        (b'["http://127.0.0.1/cb"]', "application/json", "The body is JSON but not an object."),
        (b"redirect_uris=http://127.0.0.1/cb", "application/x-www-form-urlencoded",
         "got Content-Type 'application/x-www-form-urlencoded'"),
        (b"\xff\xfe", "application/json", "The body is not JSON."),
    ],
)  # fmt: skip
def test_a_body_that_is_no_json_object_is_refused(
    issuer: DevIssuer, http, content, content_type, problem
):
    response = http.post(
        issuer.endpoints()["registration"], content=content, headers={"Content-Type": content_type}
    )
    description = refused(response, "invalid_client_metadata")
    assert problem in description
    assert "Send the client metadata as one JSON object with Content-Type: application/json" in (
        description
    )


def test_registration_is_a_post(issuer: DevIssuer, http):
    response = http.get(issuer.endpoints()["registration"])
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_a_tenant_without_users_registers_nobody(http):
    tenant = {
        "clients": [
            {"client_id": "m2m", "client_secret": "s", "grant_types": ["client_credentials"]}
        ]
    }
    with DevIssuer(config_from_dict(tenant)) as lonely:
        response = register(http, lonely, SDK_REGISTRATION)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    assert "add users to the configuration" in response.json()["error_description"]


# --- a forgotten client ------------------------------------------------------------------------


def test_authorize_says_a_forgotten_registered_client_must_register_again(issuer: DevIssuer, http):
    response = authorize(http, issuer, client_id=REGISTERED_PREFIX + "from-an-earlier-run")
    assert response.status_code == 400
    assert "Register the client again at the registration endpoint" in response.text


def test_the_token_endpoint_says_so_too(issuer: DevIssuer, http):
    response = http.post(
        issuer.endpoints()["token"],
        data={"grant_type": "refresh_token", "refresh_token": "x",
              "client_id": REGISTERED_PREFIX + "from-an-earlier-run"},
    )  # fmt: skip
    assert response.json()["error"] == "invalid_client"
    assert "register again" in response.json()["error_description"]


# --- browsers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://localhost:6274", True), ("http://127.0.0.1:5173", True),
     ("https://evil.example", False)],
)  # fmt: skip
def test_browser_clients_on_loopback_may_register_other_origins_may_not(
    issuer: DevIssuer, http, origin, allowed
):
    response = http.options(
        issuer.endpoints()["registration"],
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed


# --- the cap -----------------------------------------------------------------------------------


def test_registrations_stop_at_the_cap_and_those_registered_keep_working(http):
    with DevIssuer(default_config(), auto_approve=True) as fresh:
        first = registered_client(http, fresh)
        for _ in range(MAX_REGISTERED_CLIENTS - 1):
            registered_client(http, fresh)
        response = register(http, fresh, SDK_REGISTRATION)
        assert response.status_code == 429
        body: dict[str, Any] = response.json()
        assert body["error"] == "temporarily_unavailable"
        assert body["error_description"] == (
            f"This dev-issuer already holds {MAX_REGISTERED_CLIENTS} clients registered since "
            "it started, as many as it keeps. Reuse the client_id a registration gave you (keep "
            "the client information it answered), or restart the dev-issuer, which forgets every "
            "registered client."
        )
        _, challenge = pkce()
        still = authorize(
            http, fresh, client_id=first, redirect_uri=NATIVE_CALLBACK,
            code_challenge=challenge, code_challenge_method="S256",
        )  # fmt: skip
        assert "code" in redirect_params(still)
