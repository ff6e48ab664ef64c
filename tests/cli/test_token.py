"""``bearerguard token``: every flow against a stub Auth0-shaped server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from .conftest import Run
from .stub_issuer import AUDIENCE, REDIRECT_URI, StubIssuer, challenge

M2M = ("--client-id", "m2m-client", "--client-secret", "m2m-secret", "--audience", AUDIENCE)
SPA = ("--client-id", "spa-client", "--audience", AUDIENCE)


@pytest.fixture
def stub() -> Iterator[StubIssuer]:
    with StubIssuer() as server:
        yield server


def test_client_credentials_prints_just_the_access_token(cli: Run, stub: StubIssuer):
    result = cli("token", "--issuer", stub.url, *M2M)
    assert result.status == 0, result.err
    assert result.out == "stub-at-0\n"  # so that TOKEN=$(bearerguard token ...) works
    assert result.err == ""
    assert stub.requests_to("POST", "/oauth/token") == [
        {
            "grant_type": "client_credentials",
            "client_id": "m2m-client",
            "client_secret": "m2m-secret",
            "audience": AUDIENCE,
        }
    ]


def test_json_prints_the_whole_token_response(cli: Run, stub: StubIssuer):
    result = cli("token", "--issuer", stub.url, *M2M, "--scope", "read:contacts write:contacts")
    assert result.out == "stub-at-0\n"
    answer = json.loads(cli("token", "--issuer", stub.url, *M2M, "--json").out)
    assert answer == {
        "access_token": "stub-at-1",
        "token_type": "Bearer",
        "expires_in": 86400,
        "scope": "read:contacts",
    }
    assert stub.requests_to("POST", "/oauth/token")[0]["scope"] == "read:contacts write:contacts"


def test_the_issuer_may_be_given_without_its_trailing_slash(cli: Run, stub: StubIssuer):
    assert cli("token", "--issuer", stub.url.rstrip("/"), *M2M).status == 0


def test_authorization_code_with_pkce_against_an_auto_approving_issuer(cli: Run, stub: StubIssuer):
    result = cli(
        "token", "--issuer", stub.url, "--flow", "authorization-code", *SPA,
        "--user", "alice@example.com", "--json",
    )  # fmt: skip
    assert result.status == 0, result.err
    answer = json.loads(result.out)
    assert answer["access_token"] == "stub-at-1"
    assert answer["refresh_token"] == "stub-rt-1"  # offline_access is in the default scope
    [authorize] = stub.requests_to("GET", "/authorize")
    assert authorize["response_type"] == "code"
    assert authorize["redirect_uri"] == REDIRECT_URI
    assert authorize["scope"] == "openid profile email offline_access"
    assert authorize["audience"] == AUDIENCE
    assert authorize["login_hint"] == "alice@example.com"
    assert authorize["code_challenge_method"] == "S256"
    assert len(authorize["state"]) >= 16
    [exchange] = stub.requests_to("POST", "/oauth/token")
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code"] == "code-0"
    assert exchange["redirect_uri"] == REDIRECT_URI
    assert challenge(exchange["code_verifier"]) == authorize["code_challenge"]
    assert 43 <= len(exchange["code_verifier"]) <= 128  # RFC 7636 §4.1


def test_authorization_code_submits_the_consent_form_when_not_auto_approved(cli: Run):
    with StubIssuer(auto_approve=False) as stub:
        result = cli(
            "token", "--issuer", stub.url, "--flow", "authorization-code", *SPA, "--user", "alice"
        )
    assert result.status == 0, result.err
    assert result.out == "stub-at-1\n"
    [consent] = stub.requests_to("POST", "/authorize")
    assert consent["decision"] == "allow"
    assert consent["user"] == "alice"
    assert consent["response_type"] == "code"
    assert consent["state"] == stub.requests_to("GET", "/authorize")[0]["state"]


def test_a_refusal_at_the_consent_step_is_reported(cli: Run, stub: StubIssuer):
    result = cli("token", "--issuer", stub.url, "--flow", "authorization-code",
                 "--client-id", "unknown-client", "--audience", AUDIENCE)  # fmt: skip
    assert result.status == 1
    assert "the issuer refused the authorization request (HTTP 400)" in result.err
    assert "invalid_request: Unknown client or redirect" in result.err


def test_a_redirect_with_another_state_is_not_trusted(cli: Run):
    with StubIssuer(forged_state="someone-elses") as stub:
        result = cli("token", "--issuer", stub.url, "--flow", "authorization-code", *SPA)
    assert result.status == 1
    assert "state does not match" in result.err
    assert stub.requests_to("POST", "/oauth/token") == []  # the code was never redeemed


def test_refresh_token_redeems_the_refresh_token(cli: Run, stub: StubIssuer):
    first = json.loads(
        cli("token", "--issuer", stub.url, "--flow", "authorization-code", *SPA, "--json").out
    )
    result = cli(
        "token", "--issuer", stub.url, "--flow", "refresh-token", "--client-id", "spa-client",
        "--refresh-token", first["refresh_token"],
    )  # fmt: skip
    assert result.status == 0, result.err
    assert result.out == "stub-at-2\n"
    assert stub.requests_to("POST", "/oauth/token")[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": "stub-rt-1",
        "client_id": "spa-client",
    }


def test_implicit_reads_the_token_from_the_fragment_and_says_it_is_legacy(
    cli: Run, stub: StubIssuer
):
    result = cli("token", "--issuer", stub.url, "--flow", "implicit", *SPA, "--json")
    assert result.status == 0, result.err
    assert json.loads(result.out) == {
        "access_token": "implicit-at-0",
        "token_type": "Bearer",
        "expires_in": 7200,
    }
    assert "legacy" in result.err
    [authorize] = stub.requests_to("GET", "/authorize")
    assert authorize["response_type"] == "token"
    assert authorize["scope"] == "openid profile email"


# --- failures ---------------------------------------------------------------------------------


def test_an_oauth_error_is_shown_readably_on_stderr(cli: Run, stub: StubIssuer):
    result = cli("token", "--issuer", stub.url, "--client-id", "m2m-client",
                 "--client-secret", "wrong", "--audience", AUDIENCE)  # fmt: skip
    assert result.status == 1
    assert result.out == ""
    assert result.err == (
        "bearerguard token: error: the issuer refused the token request (HTTP 401)\n"
        "  invalid_client: Client authentication failed.\n"
    )


def test_an_unknown_refresh_token_is_an_invalid_grant(cli: Run, stub: StubIssuer):
    result = cli("token", "--issuer", stub.url, "--flow", "refresh-token",
                 "--client-id", "spa-client", "--refresh-token", "stolen")  # fmt: skip
    assert result.status == 1
    assert "invalid_grant: Unknown refresh token." in result.err


def test_hostile_error_text_is_escaped(cli: Run):
    with StubIssuer(error_description="\x1b[2Jgotcha") as stub:
        result = cli("token", "--issuer", stub.url, "--client-id", "x", "--client-secret", "y",
                     "--audience", AUDIENCE)  # fmt: skip
    assert result.status == 1
    assert "\x1b" not in result.err
    assert "\\u001b[2Jgotcha" in result.err


def test_a_non_oauth_answer_is_described(cli: Run, stub: StubIssuer):
    result = cli("token", "--issuer", stub.url + "nowhere/", *M2M)
    assert result.status == 1
    assert "the token request failed with HTTP 404: not found" in result.err


def test_connection_refused_asks_whether_the_dev_issuer_runs(cli: Run):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    result = cli("token", "--issuer", url, *M2M)
    assert result.status == 1
    assert result.err == (
        f"bearerguard token: error: cannot connect: is `bearerguard dev-issuer` running at {url}?\n"
    )


# --- usage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--client-id", "c", "--client-secret", "s", "--audience", AUDIENCE),
         "--issuer is required"),
        (("--issuer", "127.0.0.1:9000", *M2M), "needs a scheme"),
        (("--issuer", "http://issuer.example/", *M2M), "plain http is allowed only for loopback"),
        (("--issuer", "http://127.0.0.1:9/", "--client-id", "c", "--client-secret", "s"),
         "--audience is required"),
        (("--issuer", "http://127.0.0.1:9/", "--client-id", "m2m-client", "--audience", AUDIENCE),
         "needs --client-secret"),
        (("--issuer", "http://127.0.0.1:9/", "--flow", "refresh-token", "--client-id", "c"),
         "needs --refresh-token"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(cli: Run, arguments: tuple[str, ...], message: str):
    result = cli("token", *arguments)
    assert result.status == 2
    assert message in result.err


def test_issuer_audience_and_secret_default_to_the_environment(
    cli: Run, stub: StubIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_ISSUER", stub.url)
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", f"{AUDIENCE},https://other.example")
    monkeypatch.setenv("BEARERGUARD_CLIENT_SECRET", "m2m-secret")
    result = cli("token", "--client-id", "m2m-client")
    assert result.status == 0, result.err
    assert stub.requests_to("POST", "/oauth/token")[0]["audience"] == AUDIENCE


def test_an_unknown_flow_is_refused_by_argparse(cli: Run, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        cli("token", "--flow", "password", "--client-id", "c")
    assert exited.value.code == 2
    assert "invalid choice: 'password'" in capsys.readouterr().err


# --- the consent form -------------------------------------------------------------------------

CONSENT = """<form method='get' action='search'><input type='hidden' name='q' value='x'></form>
<form method='post' action='authorize'>
<input type='hidden' name='transaction' value='t&amp;1'>
<label><input type='radio' name='user' value='auth0|alice'> Alice</label>
<label><input type='radio' name='user' value='auth0|bob' checked> Bob</label>
<button type='submit' name='decision' value='allow'>Allow</button>
<button type='submit' name='decision' value='deny'>Deny</button>
</form>"""


def test_the_consent_form_is_submitted_as_a_browser_would():
    from bearerguard._cli._form import parse_form

    form = parse_form(CONSENT)
    assert form is not None
    assert form.action == "authorize"  # the first POST form, not the search form
    assert form.submission(choose={"user": "auth0|alice"}, press="allow") == {
        "transaction": "t&1",
        "user": "auth0|alice",
        "decision": "allow",
    }
    # An email is no radio value: the page's own choice (made from login_hint) stands.
    chosen = form.submission(choose={"user": "bob@example.com"}, press="allow")
    assert chosen["user"] == "auth0|bob"
    assert parse_form("<p>no form here</p>") is None
