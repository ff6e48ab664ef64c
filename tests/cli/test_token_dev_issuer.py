"""``bearerguard token`` against the real dev issuer; a real Verifier checks every token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bearerguard import Verifier

from .conftest import Run

devissuer = pytest.importorskip("bearerguard.devissuer")

API = "https://api.example.com"
M2M = ("--client-id", "m2m-client", "--client-secret", "m2m-secret", "--audience", API)
SPA = ("--client-id", "spa-client", "--audience", API)


@pytest.fixture(scope="module")
def auto_approving() -> Iterator[Any]:
    with devissuer.DevIssuer(devissuer.default_config(), port=0, auto_approve=True) as issuer:
        yield issuer


@pytest.fixture(scope="module")
def interactive() -> Iterator[Any]:
    with devissuer.DevIssuer(devissuer.default_config(), port=0) as issuer:
        yield issuer


def verify(issuer: Any, token: str):
    return Verifier(issuer=issuer.url, audience=API).verify(token)


def test_client_credentials_gets_a_token_the_api_accepts(cli: Run, auto_approving: Any):
    result = cli("token", "--issuer", auto_approving.url, *M2M)
    assert result.status == 0, result.err
    token = verify(auto_approving, result.out.strip())
    assert token.client_id == "m2m-client"
    assert {"read:messages", "read:contacts"} <= token.scopes


def test_authorization_code_signs_in_the_user_named_by_email(cli: Run, auto_approving: Any):
    result = cli(
        "token", "--issuer", auto_approving.url, "--flow", "authorization-code", *SPA,
        "--user", "alice@example.com", "--scope", "openid offline_access read:contacts", "--json",
    )  # fmt: skip
    assert result.status == 0, result.err
    answer = json.loads(result.out)
    token = verify(auto_approving, answer["access_token"])
    assert token.subject == "auth0|alice"
    assert "read:contacts" in token.scopes
    assert answer["refresh_token"]

    refreshed = cli(
        "token", "--issuer", auto_approving.url, "--flow", "refresh-token",
        "--client-id", "spa-client", f"--refresh-token={answer['refresh_token']}",
    )  # fmt: skip
    assert refreshed.status == 0, refreshed.err
    assert verify(auto_approving, refreshed.out.strip()).subject == "auth0|alice"


def test_authorization_code_answers_the_consent_page(cli: Run, interactive: Any):
    result = cli(
        "token", "--issuer", interactive.url, "--flow", "authorization-code", *SPA,
        "--user", "bob@example.com",
    )  # fmt: skip
    assert result.status == 0, result.err
    assert verify(interactive, result.out.strip()).subject == "auth0|bob"


def test_a_confidential_web_app_sends_its_secret(cli: Run, interactive: Any):
    result = cli(
        "token", "--issuer", interactive.url, "--flow", "authorization-code",
        "--client-id", "web-client", "--client-secret", "web-secret", "--audience", API,
        "--user", "auth0|alice",
    )  # fmt: skip
    assert result.status == 0, result.err
    assert verify(interactive, result.out.strip()).client_id == "web-client"


def test_implicit_gets_a_token_from_the_fragment(cli: Run, auto_approving: Any):
    result = cli("token", "--issuer", auto_approving.url, "--flow", "implicit", *SPA)
    assert result.status == 0, result.err
    assert verify(auto_approving, result.out.strip()).subject == "auth0|alice"
    assert "legacy" in result.err


def test_a_wrong_secret_shows_the_issuers_oauth_error(cli: Run, auto_approving: Any):
    result = cli("token", "--issuer", auto_approving.url, "--client-id", "m2m-client",
                 "--client-secret", "wrong", "--audience", API)  # fmt: skip
    assert result.status == 1
    assert "the issuer refused the token request (HTTP 400)" in result.err
    assert "invalid_client: Wrong client_secret for client 'm2m-client'." in result.err


def test_an_unknown_user_is_refused_at_authorize(cli: Run, auto_approving: Any):
    result = cli("token", "--issuer", auto_approving.url, "--flow", "authorization-code", *SPA,
                 "--user", "mallory@example.com")  # fmt: skip
    assert result.status == 1
    assert "access_denied" in result.err


def test_token_then_verify_as_a_user_would(cli: Run, auto_approving: Any):
    token = cli("token", "--issuer", auto_approving.url, *M2M).out.strip()
    checked = cli("verify", token, "--issuer", auto_approving.url, "--audience", API,
                  "--scope", "read:contacts")  # fmt: skip
    assert checked.status == 0, checked.out
    assert "subject    m2m-client@clients" in checked.out
    refused = cli("verify", token, "--issuer", auto_approving.url, "--audience", API,
                  "--scope", "write:contacts")  # fmt: skip
    assert refused.status == 1
    assert "missing    write:contacts" in refused.out
