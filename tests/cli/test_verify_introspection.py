"""``bearerguard verify`` and opaque tokens: judged by the introspection endpoint (RFC 7662) when
the ``BEARERGUARD_INTROSPECTION_*`` variables are set, as an API configured by them judges
them; explained as before when they are not. The client secret has no flag, and is never
printed.

The command runs in-process against a FakeIssuer, whose introspection endpoint answers every
Verifier trusting its issuer.
"""

from __future__ import annotations

import json

import pytest

from bearerguard.testing import FakeIssuer

from .conftest import AUDIENCE, ISSUER, Run

TRUSTING = ("--issuer", ISSUER, "--audience", AUDIENCE)


@pytest.fixture
def introspecting(issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch) -> FakeIssuer:
    """The environment of an API whose client at the fake issuer may introspect."""
    monkeypatch.setenv("BEARERGUARD_INTROSPECTION_CLIENT_ID", issuer.introspection_client_id)
    monkeypatch.setenv(
        "BEARERGUARD_INTROSPECTION_CLIENT_SECRET", issuer.introspection_client_secret
    )
    return issuer


def test_an_opaque_token_is_introspected_and_valid(cli: Run, introspecting: FakeIssuer):
    token = introspecting.opaque_token(scopes=["read:contacts"], sub="auth0|alice")
    result = cli("verify", token, *TRUSTING, "--scope", "read:contacts")
    assert result.status == 0, result.text
    assert "\nVALID\n" in result.out
    assert "subject    auth0|alice" in result.out
    assert "INTROSPECTION\n" in result.out
    assert f"client     {introspecting.introspection_client_id}" in result.out
    assert "CANNOT BE DECODED" not in result.out
    assert introspecting.introspection_calls == 1
    assert introspecting.introspection_client_secret not in result.text


def test_the_settings_may_all_come_from_the_environment(
    cli: Run, introspecting: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_ISSUER", ISSUER)
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("BEARERGUARD_INTROSPECTION_URL", introspecting.introspection_endpoint)
    monkeypatch.setenv("BEARERGUARD_INTROSPECTION_AUTH", "client_secret_post")
    result = cli("verify", introspecting.opaque_token())
    assert result.status == 0, result.text
    assert f"endpoint   {introspecting.introspection_endpoint}" in result.out


def test_a_revoked_token_is_refused_saying_why(cli: Run, introspecting: FakeIssuer):
    token = introspecting.opaque_token()
    introspecting.revoke(token)
    result = cli("verify", token, *TRUSTING)
    assert result.status == 1
    assert "HTTP 401 Unauthorized" in result.out
    assert "The introspection endpoint says the token is not active." in result.out
    assert "revoked" in result.out


def test_a_missing_scope_is_a_403_as_for_a_jwt(cli: Run, introspecting: FakeIssuer):
    token = introspecting.opaque_token(scopes=["read:contacts"])
    result = cli("verify", token, *TRUSTING, "--scope", "write:contacts")
    assert result.status == 1
    assert "HTTP 403 Forbidden" in result.out
    assert "missing    write:contacts" in result.out


def test_credentials_the_endpoint_refuses_are_a_503_with_the_log_and_no_secret(
    cli: Run, introspecting: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_INTROSPECTION_CLIENT_SECRET", "a-wrong-secret-0d9e")
    result = cli("verify", introspecting.opaque_token(), *TRUSTING)
    assert result.status == 1
    assert "HTTP 503 Service Unavailable" in result.out
    assert "refused this API's client credentials" in result.out
    assert "BEARERGUARD_INTROSPECTION_CLIENT_ID" in result.out  # the hint: what to check
    assert "a-wrong-secret-0d9e" not in result.text


def test_json_says_the_token_was_introspected(cli: Run, introspecting: FakeIssuer):
    result = cli("verify", introspecting.opaque_token(), *TRUSTING, "--json")
    assert result.status == 0, result.text
    verdict = json.loads(result.out)
    assert verdict["valid"] is True
    assert verdict["introspected"] is True
    assert verdict["subject"] == "auth0|test-user"


def test_a_jwt_stays_verified_locally(cli: Run, introspecting: FakeIssuer):
    result = cli("verify", introspecting.token(), *TRUSTING, "--json")
    assert result.status == 0, result.text
    assert json.loads(result.out)["introspected"] is False
    assert introspecting.introspection_calls == 0


def test_without_introspection_an_opaque_token_is_explained_as_before(cli: Run, issuer: FakeIssuer):
    result = cli("verify", issuer.opaque_token(), *TRUSTING)
    assert result.status == 1
    assert "CANNOT BE DECODED" in result.out
    assert "opaque access token" in result.out
    assert "Only the provider can check it (token introspection)" in result.out
    assert "set BEARERGUARD_INTROSPECTION_CLIENT_ID" in result.out
    assert issuer.introspection_calls == 0


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BEARERGUARD_INTROSPECTION_AUTH", "basic", "BEARERGUARD_INTROSPECTION_AUTH: "),
        ("BEARERGUARD_INTROSPECTION_CACHE_TTL", "soon", "must be a number of seconds"),
        ("BEARERGUARD_INTROSPECTION_ISSUER", "https://other.example/", "not one of the verifier"),
        ("BEARERGUARD_INTROSPECTION_CLIENT_SECRETS", "x", "did you mean"),
    ],
)
def test_a_bad_setting_is_a_usage_error_named_by_its_variable(
    cli: Run, introspecting: FakeIssuer, monkeypatch: pytest.MonkeyPatch, *, variable, value, says
):
    monkeypatch.setenv(variable, value)
    result = cli("verify", introspecting.opaque_token(), *TRUSTING)
    assert result.status == 2
    assert variable in result.err
    assert says in result.err
    assert "Traceback" not in result.text
    assert introspecting.introspection_client_secret not in result.text


def test_the_help_names_the_variables_and_no_flag_takes_the_secret(
    capsys: pytest.CaptureFixture[str],
):
    from bearerguard._cli import main

    with pytest.raises(SystemExit) as exited:
        main(["verify", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo argparse's wrapping
    assert "BEARERGUARD_INTROSPECTION_CLIENT_ID" in text
    assert "BEARERGUARD_INTROSPECTION_CLIENT_SECRET" in text
    assert "--introspection" not in text
