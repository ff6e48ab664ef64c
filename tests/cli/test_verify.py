"""``bearerguard verify``: the middleware's verdict on a token, and why.

Each test runs the command in-process against a FakeIssuer, whose keys every
Verifier trusting its issuer fetches in-process: signatures are really checked.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import time

import pytest

from bearerguard.testing import FakeIssuer

from .conftest import AUDIENCE, ISSUER, Run

TRUSTING = ("--issuer", ISSUER, "--audience", AUDIENCE)
EXPIRED_CHALLENGE = (
    'WWW-Authenticate: Bearer realm="api", error="invalid_token", '
    'error_description="The access token expired"'
)


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.text


# --- valid ------------------------------------------------------------------------------------


def test_a_valid_token_is_valid_with_its_subject_scopes_and_expiry(cli: Run, issuer: FakeIssuer):
    token = issuer.token(scopes="read:contacts write:contacts", sub="auth0|alice")
    result = cli("verify", token, *TRUSTING, "--scope", "read:contacts")
    assert result.status == 0
    assert "\nVALID\n" in result.out
    assert "subject    auth0|alice" in result.out
    assert "scopes     read:contacts write:contacts" in result.out
    assert "expires" in result.out
    assert "(in 59 min)" in result.out or "(in 1 h)" in result.out


def test_the_decoded_header_and_claims_come_first_labelled_as_not_verified_yet(
    cli: Run, issuer: FakeIssuer
):
    result = cli("verify", issuer.token(sub="auth0|alice"), *TRUSTING)
    header_at = result.out.index("HEADER (decoded, not verified yet)")
    claims_at = result.out.index("CLAIMS (decoded, not verified yet)")
    assert header_at < claims_at < result.out.index("TIMES (UTC)") < result.out.index("VALID")
    assert '"sub": "auth0|alice"' in result.out
    assert f'"kid": "{issuer.kid}"' in result.out


@pytest.mark.parametrize(
    "pasted",
    ["Bearer {token}", "bearer   {token}", "Authorization: Bearer {token}", '"{token}"\n'],
)
def test_a_pasted_header_line_is_accepted(cli: Run, issuer: FakeIssuer, pasted: str):
    result = cli("verify", pasted.format(token=issuer.token()), *TRUSTING)
    assert result.status == 0, result.text


def test_a_dash_reads_the_token_from_stdin(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"Bearer {issuer.token()}\n"))
    assert cli("verify", "-", *TRUSTING).status == 0


def test_any_scope_needs_only_one_of_the_scopes(cli: Run, issuer: FakeIssuer):
    token = issuer.token(scopes="read:contacts")
    assert (
        cli("verify", token, *TRUSTING, "--scope", "admin read:contacts", "--any-scope").status == 0
    )


def test_auth0_permissions_grant_scopes_when_named_as_a_scope_claim(cli: Run, issuer: FakeIssuer):
    token = issuer.token(permissions=["read:contacts"])
    refused = cli("verify", token, *TRUSTING, "--scope", "read:contacts")
    assert refused.status == 1
    assert "carries Auth0 RBAC permissions (read:contacts)" in refused.out
    assert "--scope-claim scope,permissions" in refused.out
    granted = cli(
        "verify", token, *TRUSTING, "--scope", "read:contacts", "--scope-claim", "scope,permissions"
    )
    assert granted.status == 0, granted.text


# --- refused ----------------------------------------------------------------------------------


def test_an_expired_token_is_refused_with_the_401_an_api_sends_and_the_reason(
    cli: Run, issuer: FakeIssuer
):
    result = cli("verify", issuer.expired_token(), *TRUSTING)
    assert result.status == 1
    assert "\nREFUSED\n" in result.out
    assert "HTTP 401 Unauthorized" in result.out
    assert EXPIRED_CHALLENGE in result.out
    assert '{"error":"invalid_token","error_description":"The access token expired"}' in result.out
    assert "reason     The exp claim has passed." in result.out
    assert "(1 h ago)" in result.out


def test_a_missing_scope_is_a_403_naming_the_scope(cli: Run, issuer: FakeIssuer):
    token = issuer.token(scopes="read:contacts")
    result = cli(
        "verify", token, *TRUSTING, "--scope", "read:contacts", "--scope", "delete:contacts"
    )
    assert result.status == 1
    assert "HTTP 403 Forbidden" in result.out
    assert 'error="insufficient_scope"' in result.out
    assert 'scope="read:contacts delete:contacts"' in result.out
    assert "missing    delete:contacts\n" in result.out
    assert "granted    read:contacts\n" in result.out


def test_a_token_for_another_api_is_refused_and_both_audiences_are_shown(
    cli: Run, issuer: FakeIssuer
):
    result = cli("verify", issuer.token(aud="https://other-api.example.test"), *TRUSTING)
    assert result.status == 1
    assert "The aud claim names none of the configured audiences." in result.out
    assert 'error_description="The access token is not intended for this API"' in result.out
    assert "aud is https://other-api.example.test; expected one of: https://api.example.test" in (
        result.out
    )


def test_an_issuer_written_without_its_trailing_slash_is_the_same_issuer(
    cli: Run, issuer: FakeIssuer
):
    result = cli("verify", issuer.token(), "--issuer", ISSUER.rstrip("/"), "--audience", AUDIENCE)
    assert result.status == 0, result.out
    assert f"issuer     {ISSUER}\n" in result.out  # as the token spells it


def test_an_issuer_differing_by_a_trailing_slash_on_its_path_is_pointed_out(cli: Run):
    realm = ISSUER + "realms/main"
    with FakeIssuer(issuer=realm) as fake:
        result = cli("verify", fake.token(), "--issuer", realm + "/", "--audience", AUDIENCE)
    assert result.status == 1
    assert "The iss claim is not one of the configured issuers." in result.out
    assert "only by a trailing slash" in result.out
    assert f"configure issuer='{realm}'" in result.out


def test_a_header_without_the_bearer_scheme_is_refused_as_the_api_refuses_it(
    cli: Run, issuer: FakeIssuer
):
    result = cli("verify", f"Authorization: {issuer.token()}", *TRUSTING)
    assert result.status == 1
    assert "HTTP 401 Unauthorized" in result.out
    assert 'WWW-Authenticate: Bearer realm="api"' in result.out
    assert "holds a JWT without the Bearer scheme" in result.out


def test_a_header_without_a_token_names_the_scopes_asked_for_as_the_api_does(
    cli: Run, issuer: FakeIssuer
):
    pasted = f"Authorization: {issuer.token()}"
    result = cli("verify", pasted, "--scope", "read:contacts write:contacts", *TRUSTING)
    assert result.status == 1
    assert "HTTP 401 Unauthorized" in result.out
    assert 'scope="read:contacts write:contacts"' in result.out


def test_a_tampered_token_fails_its_signature(cli: Run, issuer: FakeIssuer):
    result = cli("verify", issuer.tampered_token(scopes="read:contacts"), *TRUSTING)
    assert result.status == 1
    assert "reason     The signature does not verify." in result.out


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("garbage", "it looks like an opaque access token"),
        ("a.b.c", "not canonical unpadded base64url"),
        ("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn", "encrypted JWE"),
        ("....", "not three non-empty base64url segments"),
        ("\x1b[2J\u202e", "not three non-empty base64url segments"),
    ],
)
def test_undecodable_tokens_are_refused_without_a_traceback(
    cli: Run, issuer: FakeIssuer, token: str, reason: str
):
    result = cli("verify", token, *TRUSTING)
    assert result.status == 1
    assert "REFUSED" in result.out
    assert reason in result.out
    assert "\x1b" not in result.out
    assert_no_traceback(result)


def test_alg_none_is_refused_and_its_claims_still_shown(cli: Run, issuer: FakeIssuer):
    result = cli("verify", issuer.unsigned_token(sub="auth0|mallory"), *TRUSTING)
    assert result.status == 1
    assert '"alg": "none"' in result.out
    assert '"sub": "auth0|mallory"' in result.out
    assert "REFUSED" in result.out
    assert_no_traceback(result)


def test_an_unreachable_issuer_is_a_503_not_a_401(cli: Run):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = FakeIssuer(f"http://127.0.0.1:{port}/", audience=AUDIENCE)  # never started
    result = cli(
        "verify", unreachable.token(), "--issuer", unreachable.issuer, "--audience", AUDIENCE
    )
    assert result.status == 1
    assert "HTTP 503 Service Unavailable" in result.out
    assert "Retry-After: " in result.out
    assert "could not be fetched" in result.out
    # Why, from the verifier's log, next to the verdict rather than after it on stderr:
    assert "log        Could not refresh discovery" in result.out


def test_terminal_escape_sequences_in_claims_are_escaped(cli: Run, issuer: FakeIssuer):
    result = cli("verify", issuer.token(sub="\x1b]0;pwned\x07alice"), *TRUSTING)
    assert result.status == 0
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
    assert "\\u001b]0;pwned\\u0007alice" in result.out


def test_a_terminal_without_unicode_gets_escapes_not_a_crash(
    issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    from bearerguard._cli import main

    raw = io.BytesIO()
    ascii_stdout = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_stdout)
    assert main(["verify", issuer.token(name="José"), *TRUSTING]) == 0
    ascii_stdout.flush()
    assert b"Jos\\xe9" in raw.getvalue()


# --- settings ---------------------------------------------------------------------------------


def test_settings_come_from_the_environment_when_flags_are_absent(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_ISSUER", f"https://elsewhere.example.test/,{ISSUER}")
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", AUDIENCE)
    assert cli("verify", issuer.token()).status == 0
    two_minutes_ago = issuer.expired_token(exp=int(time.time()) - 120)
    assert cli("verify", two_minutes_ago).status == 1
    monkeypatch.setenv("BEARERGUARD_LEEWAY", "300")
    assert cli("verify", two_minutes_ago).status == 0


def test_the_audience_defaults_to_the_resource_of_the_environment(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    # As the examples are started: BEARERGUARD_RESOURCE, no BEARERGUARD_AUDIENCE.
    monkeypatch.setenv("BEARERGUARD_ISSUER", ISSUER)
    monkeypatch.setenv("BEARERGUARD_RESOURCE", AUDIENCE)
    assert cli("verify", issuer.token()).status == 0
    refused = cli("verify", issuer.token(aud="https://other-api.example.test"))
    assert refused.status == 1
    # The refusal is the API's own: its challenge names the resource's metadata (RFC 9728).
    metadata = f"{AUDIENCE}/.well-known/oauth-protected-resource"
    assert f'resource_metadata="{metadata}"' in refused.out


def test_help_names_the_resource_among_the_variables_read(
    cli: Run, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exited:
        cli("verify", "--help")
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo argparse's wrapping
    assert (
        "BEARERGUARD_ISSUER, BEARERGUARD_RESOURCE (the API's URL: the audience defaults to it), "
        "BEARERGUARD_AUDIENCE" in text
    )


def test_flags_win_over_the_environment(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_ISSUER", ISSUER)
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", "https://not-this-api.example.test")
    assert cli("verify", issuer.token()).status == 1
    assert cli("verify", issuer.token(), "--audience", AUDIENCE).status == 0


def test_leeway_accepts_a_token_that_expired_within_it(cli: Run, issuer: FakeIssuer):
    token = issuer.expired_token(exp=int(time.time()) - 120)
    assert cli("verify", token, *TRUSTING).status == 1
    assert cli("verify", token, *TRUSTING, "--leeway", "300").status == 0


# --- usage and configuration errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--audience", AUDIENCE), "--issuer is required (or set BEARERGUARD_ISSUER)."),
        (
            ("--issuer", ISSUER),
            "--audience is required (or set BEARERGUARD_AUDIENCE, or BEARERGUARD_RESOURCE, "
            "which the audience defaults to).",
        ),
        (
            ("--issuer", "http://tenant.example.test/", "--audience", AUDIENCE),
            "must use https://; plain http is allowed only for loopback hosts",
        ),
        ((*TRUSTING, "--algorithm", "none"), "the 'none' algorithm is never allowed"),
        ((*TRUSTING, "--algorithm", "HS256"), "need a shared secret"),
        (
            (*TRUSTING, "--leeway", "3600"),
            "leeway must lie between 0 and 600 seconds; got the float 3600.0",
        ),
        ((*TRUSTING, "--scope", 'read"contacts'), "is not a scope name"),
    ],
)
def test_configuration_errors_exit_2_with_the_message(
    cli: Run, issuer: FakeIssuer, arguments: tuple[str, ...], message: str
):
    result = cli("verify", issuer.token(), *arguments)
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith("bearerguard verify: error: ")
    assert message in result.err


def test_a_bad_environment_variable_is_a_configuration_error(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_LEEWAY", "soon")
    result = cli("verify", issuer.token(), *TRUSTING)
    assert result.status == 2
    assert "BEARERGUARD_LEEWAY must be a number of seconds, got 'soon'." in result.err


def test_an_empty_token_is_a_usage_error(cli: Run, monkeypatch: pytest.MonkeyPatch):
    assert cli("verify", "  ", *TRUSTING).status == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = cli("verify", "-", *TRUSTING)
    assert result.status == 2
    assert "no token given (stdin was empty)." in result.err


def test_an_unknown_flag_exits_2_as_argparse_does(cli: Run, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        cli("verify", "a.b.c", *TRUSTING, "--audiences", AUDIENCE)
    assert exited.value.code == 2
    assert "--audiences" in capsys.readouterr().err


# --- JSON -------------------------------------------------------------------------------------


def test_json_describes_a_valid_token(cli: Run, issuer: FakeIssuer):
    result = cli("verify", issuer.token(scopes="read:contacts"), *TRUSTING, "--json")
    answer = json.loads(result.out)
    assert result.status == 0
    assert answer["valid"] is True
    assert answer["status"] == 200
    assert answer["error"] is None
    assert answer["reason"] is None
    assert answer["www_authenticate"] is None
    assert answer["header"]["kid"] == issuer.kid
    assert answer["claims"]["scope"] == "read:contacts"
    assert answer["subject"] == "auth0|test-user"
    assert answer["scopes"] == ["read:contacts"]
    assert answer["times"]["exp"]["utc"].endswith("Z")


def test_json_describes_a_refusal(cli: Run, issuer: FakeIssuer):
    token = issuer.token(scopes="read:contacts")
    result = cli("verify", token, *TRUSTING, "--scope", "delete:contacts", "--json")
    answer = json.loads(result.out)
    assert result.status == 1
    assert answer["valid"] is False
    assert answer["status"] == 403
    assert answer["error"] == "insufficient_scope"
    assert answer["reason"] == "The token lacks a scope this resource requires."
    assert answer["www_authenticate"].endswith('scope="delete:contacts"')
    assert answer["missing_scopes"] == ["delete:contacts"]


def test_json_of_an_undecodable_token_has_no_header_or_claims(cli: Run, issuer: FakeIssuer):
    answer = json.loads(cli("verify", "garbage", *TRUSTING, "--json").out)
    assert answer["valid"] is False
    assert answer["header"] is None
    assert answer["claims"] is None
    assert answer["status"] == 401


def test_a_misspelt_variable_is_a_configuration_error_with_a_did_you_mean(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_AUDIENCES", AUDIENCE)
    result = cli("verify", issuer.token(), "--issuer", ISSUER, "--audience", AUDIENCE)
    assert result.status == 2
    assert "BEARERGUARD_AUDIENCES (did you mean BEARERGUARD_AUDIENCE?)" in result.err
