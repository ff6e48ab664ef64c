"""``bearerguard token``: every flow against stub servers on 127.0.0.1.

One stub is Auth0-shaped (``/authorize``, ``/oauth/token``), one is shaped like a
Keycloak realm (endpoints under ``/realms/demo/protocol/openid-connect``); the
command finds either's endpoints in its metadata. The last tests run it against
the real dev issuer with RFC 8707 ``resource``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from bearerguard import Verifier

from .conftest import Run
from .stub_issuer import (
    AUDIENCE,
    KEYCLOAK_OIDC,
    KEYCLOAK_REALM,
    OTHER_API,
    REDIRECT_URI,
    StubIssuer,
    challenge,
)

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
    nowhere = stub.url + "nowhere"
    result = cli("token", "--issuer", stub.url, "--token-endpoint", nowhere, *M2M)
    assert result.status == 1
    assert "the token request failed with HTTP 404: not found" in result.err


def test_connection_refused_asks_whether_the_provider_runs(cli: Run):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    result = cli("token", "--issuer", url, *M2M)
    assert result.status == 1
    assert result.err == (
        "bearerguard token: error: cannot read the provider's metadata:\n"
        f"  {url}.well-known/openid-configuration: the request failed (ConnectError)\n"
        f"  Is the provider running and reachable at {url}? "
        "(`bearerguard dev-issuer` listens on http://127.0.0.1:9000/ by default.)\n"
    )


def test_a_token_endpoint_that_refuses_connections_is_named(cli: Run, stub: StubIssuer):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/token"
    result = cli("token", "--issuer", stub.url, "--token-endpoint", dead, *M2M)
    assert result.status == 1
    assert result.err == (
        f"bearerguard token: error: cannot connect to {dead}: is the provider running?\n"
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
         "--audience or --resource is required"),
        (("--issuer", "http://127.0.0.1:9/", *M2M, "--resource", "https://api.example.com#v1"),
         "--resource 'https://api.example.com#v1' has a fragment (#v1), which RFC 8707 §2 "
         "forbids: drop it."),
        (("--issuer", "http://127.0.0.1:9/", *M2M, "--resource", "api.example.com"),
         "--resource 'api.example.com' is not an absolute URI: it needs a scheme"),
        (("--issuer", "http://127.0.0.1:9/", *M2M, "--resource", "https://api.example.com/a b"),
         "is not a valid URI: spaces"),
        (("--issuer", "http://127.0.0.1:9/", *M2M, "--resource", "https://a.example/%zz"),
         "is not a valid URI"),
        (("--issuer", "http://127.0.0.1:9/", *M2M, "--token-endpoint", "http://x.example/t"),
         "--token-endpoint 'http://x.example/t' must use https://"),
        (("--issuer", "http://127.0.0.1:9/", *M2M, "--authorization-endpoint", "/authorize"),
         "--authorization-endpoint '/authorize' must be an https:// URL with a host"),
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


def test_without_an_audience_the_environments_resource_is_the_audience(
    cli: Run, stub: StubIssuer, monkeypatch: pytest.MonkeyPatch
):
    # As the examples are started: BEARERGUARD_RESOURCE, which their audience defaults to.
    monkeypatch.setenv("BEARERGUARD_ISSUER", stub.url)
    monkeypatch.setenv("BEARERGUARD_RESOURCE", f" {AUDIENCE} ")
    result = cli("token", "--client-id", "m2m-client", "--client-secret", "m2m-secret")
    assert result.status == 0, result.err
    [sent] = stub.all_requests_to("POST", "/oauth/token")
    assert sent.params["audience"] == AUDIENCE
    assert "resource" not in sent.params  # Auth0's parameter, as for BEARERGUARD_AUDIENCE


def test_the_environments_audience_wins_over_its_resource(
    cli: Run, stub: StubIssuer, monkeypatch: pytest.MonkeyPatch
):
    # The app accepts BEARERGUARD_AUDIENCE's audiences then, whatever the resource.
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", f"{AUDIENCE},https://other.example")
    monkeypatch.setenv("BEARERGUARD_RESOURCE", OTHER_API)
    result = cli("token", "--issuer", stub.url, "--client-id", "m2m-client",
                 "--client-secret", "m2m-secret")  # fmt: skip
    assert result.status == 0, result.err
    assert stub.requests_to("POST", "/oauth/token")[0]["audience"] == AUDIENCE


def test_the_environments_resource_is_not_sent_next_to_the_command_lines_api(
    cli: Run, stub: StubIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_RESOURCE", OTHER_API)
    for named in (("--resource", AUDIENCE), ("--audience", AUDIENCE)):
        result = cli("token", "--issuer", stub.url, "--client-id", "m2m-client",
                     "--client-secret", "m2m-secret", *named)  # fmt: skip
        assert result.status == 0, result.err
    by_resource, by_audience = stub.all_requests_to("POST", "/oauth/token")
    assert "audience" not in by_resource.params
    assert by_resource.lists["resource"] == [AUDIENCE]
    assert by_audience.params["audience"] == AUDIENCE
    assert "resource" not in by_audience.params


def test_help_says_the_audience_defaults_to_the_environments_audience_then_resource(
    cli: Run, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exited:
        cli("token", "--help")
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--audience defaults to the first value of BEARERGUARD_AUDIENCE, else to "
        "BEARERGUARD_RESOURCE" in text
    )


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


def test_the_environments_audience_is_not_sent_next_to_a_resource(
    cli: Run, stub: StubIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", OTHER_API)
    result = cli("token", "--issuer", stub.url, "--client-id", "m2m-client",
                 "--client-secret", "m2m-secret", "--resource", AUDIENCE)  # fmt: skip
    assert result.status == 0, result.err
    [sent] = stub.all_requests_to("POST", "/oauth/token")
    assert "audience" not in sent.params
    assert sent.lists["resource"] == [AUDIENCE]


# --- a standard OpenID provider: Keycloak's paths, found in its metadata ----------------------

KC_TOKEN = KEYCLOAK_OIDC + "/token"
KC_AUTH = KEYCLOAK_OIDC + "/auth"


def test_client_credentials_posts_to_the_discovered_token_endpoint(cli: Run):
    with StubIssuer.keycloak() as stub:
        assert stub.url.endswith("/realms/demo")  # Keycloak's issuers have no trailing slash
        result = cli("token", "--issuer", stub.url, "--client-id", "m2m-client",
                     "--client-secret", "m2m-secret", "--audience", AUDIENCE,
                     "--resource", AUDIENCE, "--resource", OTHER_API)  # fmt: skip
    assert result.status == 0, result.err
    assert result.out == "stub-at-0\n"
    assert [(s.method, s.path) for s in stub.seen] == [
        ("GET", KEYCLOAK_REALM + "/.well-known/openid-configuration"),
        ("POST", KC_TOKEN),
    ]
    [sent] = stub.all_requests_to("POST", KC_TOKEN)
    assert sent.lists == {
        "grant_type": ["client_credentials"],
        "client_id": ["m2m-client"],
        "client_secret": ["m2m-secret"],
        "audience": [AUDIENCE],
        "resource": [AUDIENCE, OTHER_API],  # RFC 8707 §2: one parameter per resource
    }


def test_authorization_code_uses_both_discovered_endpoints_and_sends_resource(cli: Run):
    with StubIssuer.keycloak(auto_approve=False) as stub:
        result = cli("token", "--issuer", stub.url, "--flow", "authorization-code",
                     "--client-id", "spa-client", "--resource", AUDIENCE, "--user", "alice",
                     "--json")  # fmt: skip
    assert result.status == 0, result.err
    assert json.loads(result.out)["refresh_token"] == "stub-rt-1"
    [authorize] = stub.all_requests_to("GET", KC_AUTH)
    assert authorize.lists["resource"] == [AUDIENCE]  # RFC 8707 §2.1
    assert "audience" not in authorize.params
    [consent] = stub.requests_to("POST", KC_AUTH)  # the form's action, at Keycloak's path
    assert consent["decision"] == "allow"
    [exchange] = stub.all_requests_to("POST", KC_TOKEN)
    assert exchange.params["grant_type"] == "authorization_code"
    assert exchange.lists["resource"] == [AUDIENCE]  # RFC 8707 §2.2
    assert challenge(exchange.params["code_verifier"]) == authorize.params["code_challenge"]
    assert stub.requests_to("POST", "/oauth/token") == []


def test_refresh_token_sends_resource_to_the_discovered_endpoint(cli: Run):
    with StubIssuer.keycloak() as stub:
        stub.refresh_tokens["rt"] = "openid read:contacts"
        result = cli("token", "--issuer", stub.url, "--flow", "refresh-token",
                     "--client-id", "spa-client", "--refresh-token", "rt",
                     "--resource", AUDIENCE)  # fmt: skip
    assert result.status == 0, result.err
    assert stub.all_requests_to("POST", KC_TOKEN)[0].lists == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["rt"],
        "client_id": ["spa-client"],
        "resource": [AUDIENCE],
    }


def test_rfc_8414_metadata_is_read_when_there_is_no_openid_configuration(cli: Run):
    with StubIssuer.keycloak(metadata="oauth") as stub:
        result = cli("token", "--issuer", stub.url, *M2M)
    assert result.status == 0, result.err
    assert [(s.method, s.path, s.path == KC_TOKEN) for s in stub.seen] == [
        ("GET", KEYCLOAK_REALM + "/.well-known/openid-configuration", False),  # 404
        ("GET", "/.well-known/oauth-authorization-server" + KEYCLOAK_REALM, False),  # §3.1
        ("POST", KC_TOKEN, True),
    ]


def test_http_basic_when_the_provider_takes_only_basic(cli: Run):
    basic_only = {"token_endpoint_auth_methods_supported": ["client_secret_basic"]}
    with StubIssuer.keycloak(metadata_changes=basic_only) as stub:
        result = cli("token", "--issuer", stub.url, *M2M)
    assert result.status == 0, result.err
    [sent] = stub.all_requests_to("POST", KC_TOKEN)
    assert sent.authorization == "Basic bTJtLWNsaWVudDptMm0tc2VjcmV0"  # m2m-client:m2m-secret
    assert "client_secret" not in sent.params


def test_the_endpoints_may_be_named_on_the_command_line(cli: Run):
    with StubIssuer.keycloak(metadata=None) as stub:
        result = cli("token", "--issuer", stub.url, "--flow", "authorization-code", *SPA,
                     "--token-endpoint", stub.origin + KC_TOKEN,
                     "--authorization-endpoint", stub.origin + KC_AUTH)  # fmt: skip
    assert result.status == 0, result.err
    assert [(s.method, s.path) for s in stub.seen] == [("GET", KC_AUTH), ("POST", KC_TOKEN)]


# --- metadata that cannot be used -------------------------------------------------------------


def test_a_provider_without_metadata_is_told_about_the_endpoint_flags(cli: Run):
    with StubIssuer.keycloak(metadata=None) as stub:
        result = cli("token", "--issuer", stub.url, *M2M)
    origin = stub.origin
    assert result.status == 1
    assert result.err == (
        "bearerguard token: error: cannot read the provider's metadata:\n"
        f"  {origin}/realms/demo/.well-known/openid-configuration: HTTP 404\n"
        f"  {origin}/.well-known/oauth-authorization-server/realms/demo: HTTP 404\n"
        "  Check --issuer: it must be the issuer URL exactly as the provider names it "
        "(e.g. https://sso.example.com/realms/demo for Keycloak).\n"
        "  A provider that publishes no metadata: name its endpoints with --token-endpoint URL "
        "(and --authorization-endpoint URL for the authorization-code and implicit flows).\n"
    )


def test_a_token_endpoint_flag_alone_does_not_do_for_a_browser_flow(cli: Run):
    with StubIssuer.keycloak(metadata=None) as stub:
        result = cli("token", "--issuer", stub.url, "--flow", "implicit", *SPA,
                     "--token-endpoint", stub.origin + KC_TOKEN)  # fmt: skip
    assert result.status == 1
    assert "--authorization-endpoint URL" in result.err
    assert stub.all_requests_to("GET", KC_AUTH) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "https://evil.example/"},
         "names 'https://evil.example/', not the issuer '{url}', so its endpoints are not used "
         "(RFC 8414 §3.3). Check --issuer"),
        ({"issuer": None}, "names no issuer, not the issuer '{url}'"),
        ({"token_endpoint": None},
         "the metadata at {url}/.well-known/openid-configuration has no token_endpoint: name it "
         "with --token-endpoint URL."),
        ({"token_endpoint": ["http://127.0.0.1/t"]}, "has no token_endpoint"),
        ({"token_endpoint": "http://evil.example/token"},
         "the metadata's token_endpoint 'http://evil.example/token' must use https://; plain "
         "http is allowed only for loopback hosts"),
        ({"token_endpoint": "https://evil.example/token?x=1"},
         "must not carry credentials, a query or a fragment"),
    ],
)  # fmt: skip
def test_metadata_that_cannot_be_trusted_is_refused(cli: Run, changes, message: str):
    with StubIssuer.keycloak(metadata_changes=changes) as stub:
        result = cli("token", "--issuer", stub.url, *M2M)
    assert result.status == 1
    assert message.format(url=stub.url) in result.err
    assert "\nTraceback" not in result.err
    assert stub.all_requests_to("POST", KC_TOKEN) == []  # the secret went nowhere


def test_the_metadata_must_name_the_issuer_as_a_verifier_compares_issuers(cli: Run):
    # A realm's path is exact, trailing slash included, as for the Verifier: another
    # spelling of the path may be another tenant at the same provider.
    with StubIssuer.keycloak() as stub:
        assert cli("token", "--issuer", stub.url, *M2M).status == 0
        slashed = cli("token", "--issuer", stub.url + "/", *M2M)
    assert slashed.status == 1
    assert "names '" in slashed.err


# --- the dev issuer with RFC 8707 resource ----------------------------------------------------


@pytest.fixture(scope="module")
def dev_issuer() -> Iterator[object]:
    devissuer = pytest.importorskip("bearerguard.devissuer")
    with devissuer.DevIssuer(devissuer.default_config(), port=0, auto_approve=True) as issuer:
        yield issuer


def test_resource_names_the_api_at_the_dev_issuer(cli: Run, dev_issuer):
    result = cli("token", "--issuer", dev_issuer.url, "--client-id", "m2m-client",
                 "--client-secret", "m2m-secret", "--resource", AUDIENCE)  # fmt: skip
    assert result.status == 0, result.err
    token = Verifier(issuer=dev_issuer.url, audience=AUDIENCE).verify(result.out.strip())
    assert token.claims["aud"] == AUDIENCE


def test_resource_through_the_dev_issuers_authorization_code_and_refresh(cli: Run, dev_issuer):
    result = cli("token", "--issuer", dev_issuer.url, "--flow", "authorization-code",
                 "--client-id", "spa-client", "--resource", AUDIENCE, "--json")  # fmt: skip
    assert result.status == 0, result.err
    answer = json.loads(result.out)
    verifier = Verifier(issuer=dev_issuer.url, audience=AUDIENCE)
    assert AUDIENCE in verifier.verify(answer["access_token"]).audience
    refreshed = cli("token", "--issuer", dev_issuer.url, "--flow", "refresh-token",
                    "--client-id", "spa-client", f"--refresh-token={answer['refresh_token']}",
                    "--resource", AUDIENCE)  # fmt: skip
    assert refreshed.status == 0, refreshed.err
    assert AUDIENCE in verifier.verify(refreshed.out.strip()).audience


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (("--resource", OTHER_API),
         f"invalid_target: resource '{OTHER_API}' is not the identifier of an API of this "
         "issuer"),
        (("--resource", AUDIENCE, "--audience", OTHER_API), "name different APIs"),
        (("--resource", AUDIENCE, "--resource", OTHER_API), "'resource' is repeated"),
    ],
)  # fmt: skip
def test_the_dev_issuer_refuses_targets_it_cannot_serve(cli: Run, dev_issuer, target, message):
    result = cli("token", "--issuer", dev_issuer.url, "--client-id", "m2m-client",
                 "--client-secret", "m2m-secret", *target)  # fmt: skip
    assert result.status == 1
    assert "the issuer refused the token request (HTTP 400)" in result.err
    assert message in result.err


def test_an_error_page_is_reported_by_its_text_on_one_line(cli: Run, dev_issuer):
    result = cli("token", "--issuer", dev_issuer.url, "--flow", "authorization-code",
                 "--client-id", "spa-client", "--resource", AUDIENCE,
                 "--resource", OTHER_API)  # fmt: skip
    assert result.status == 1
    assert (
        "the authorization request failed with HTTP 400: bearerguard dev-issuer — a DEVELOPMENT "
        "tool, not for production Invalid request Parameter 'resource' is repeated in the "
        "query. What to do: Send each parameter once." in result.err
    )


def test_visible_text_leaves_out_markup_styles_and_scripts():
    from bearerguard._cli._form import visible_text

    page = (
        "<!doctype html><html><head><title>T</title><style>p { color: red }</style></head>"
        "<body><script>alert(1)</script><h1>Invalid\n  request</h1><p>a &amp; b</p></body></html>"
    )
    assert visible_text(page) == "Invalid request a & b"
