"""When /authorize cannot redirect, it answers plain text that says what to fix.

The consent page itself stays HTML, and works without JavaScript (a plain form POST).
"""

from __future__ import annotations

import httpx

from bearerguard.devissuer import DevIssuer

from .flows import CALLBACK, SPA, authorize, decide, pkce

CONFIG_HELP = ('"redirect_uris" of client', "--config", "docs/dev-issuer.md")


def assert_plain_text_error(response: httpx.Response, status: int = 400) -> str:
    """The response is a plain-text error page, never a redirect; its text."""
    assert response.status_code == status
    assert "Location" not in response.headers
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.text
    assert text.startswith("bearerguard dev-issuer — a DEVELOPMENT tool, not for production\n")
    assert text.count("\nWhat to do: ") == 1
    return text


def test_a_missing_client_id_names_the_clients_that_sign_users_in(issuer: DevIssuer, http):
    text = assert_plain_text_error(authorize(http, issuer, client_id=None))
    assert "\nMissing client_id\n" in text
    assert "What to do: Add client_id to the authorization URL" in text
    assert "(spa-client, web-client)" in text
    assert "Authorize dialog" in text  # where Swagger UI takes it


def test_an_unknown_client_lists_the_configured_ones(issuer: DevIssuer, http):
    text = assert_plain_text_error(authorize(http, issuer, client_id="<nobody>"))
    assert "No client '<nobody>' is configured." in text  # shown, never markup: text/plain
    assert "The configured clients are: m2m-client, spa-client, web-client, api-client." in text
    assert 'add a client with this client_id to "clients" in the file given with --config' in text
    assert "docs/dev-issuer.md" in text


def test_a_missing_redirect_uri_lists_the_registered_ones(issuer: DevIssuer, http):
    text = assert_plain_text_error(authorize(http, issuer, redirect_uri=None))
    assert "The authorization request of client 'spa-client' names no redirect_uri." in text
    assert f"Registered redirect URIs of client 'spa-client':\n  {CALLBACK}\n" in text
    assert "What to do: Add redirect_uri to the authorization URL" in text


def test_an_unregistered_redirect_uri_says_how_to_register_it(issuer: DevIssuer, http):
    sent = "https://127.0.0.1:8080/callback"
    text = assert_plain_text_error(authorize(http, issuer, redirect_uri=sent))
    assert "\nUnregistered redirect_uri\n" in text
    assert f"'{sent}' is not a registered redirect URI of client 'spa-client'." in text
    assert "Nothing was redirected." in text
    client = issuer.config.client(SPA)
    assert client is not None
    for uri in client.redirect_uris:
        assert f"\n  {uri}\n" in text
    for words in CONFIG_HELP:
        assert words in text
    assert (
        "a loopback one (http://127.0.0.1, http://[::1] or http://localhost) matches on any "
        in (text)
    )


def test_a_confidential_clients_page_says_its_uris_match_exactly(issuer: DevIssuer, http):
    text = assert_plain_text_error(
        authorize(http, issuer, client_id="web-client", redirect_uri="http://127.0.0.1:1/callback")
    )
    assert "port included: client 'web-client' is confidential" in text
    for words in CONFIG_HELP:
        assert words in text


def test_a_repeated_parameter_says_to_send_it_once(issuer: DevIssuer, http):
    query = f"client_id={SPA}&client_id={SPA}&redirect_uri={CALLBACK}"
    text = assert_plain_text_error(http.get(issuer.url + "authorize?" + query))
    assert "\nInvalid request\n\nParameter 'client_id' is repeated in the query.\n" in text
    assert "What to do: Send each parameter once." in text


def test_an_answered_consent_page_says_to_start_again(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(http, issuer, code_challenge=challenge, code_challenge_method="S256")
    decide(http, issuer, page)
    text = assert_plain_text_error(decide(http, issuer, page))
    assert "\nRequest expired\n" in text
    assert "already answered or is older than ten minutes" in text
    assert "What to do: Start the sign-in again" in text


def test_an_unknown_user_lists_the_users_offered(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(http, issuer, code_challenge=challenge, code_challenge_method="S256")
    text = assert_plain_text_error(decide(http, issuer, page, user="auth0|mallory"))
    assert "No user 'auth0|mallory' is configured." in text
    assert "pick one of the users offered (auth0|alice, auth0|bob)" in text
    assert 'add them to "users" in the file given with --config' in text


def test_a_consent_answer_that_is_not_a_form_says_what_to_post(issuer: DevIssuer, http):
    response = http.post(issuer.url + "authorize", content=b"allow", headers={
        "Content-Type": "text/plain",
    })  # fmt: skip
    text = assert_plain_text_error(response)
    assert "Send the parameters as application/x-www-form-urlencoded" in text
    assert "What to do: Answer with the Allow or Deny button of the consent page." in text


def test_a_crafted_value_cannot_forge_lines_of_the_page(issuer: DevIssuer, http):
    forged = "x\n\nWhat to do: download https://evil.example/fix.sh"
    text = assert_plain_text_error(authorize(http, issuer, client_id=forged))
    assert "'x\\n\\nWhat to do: download https://evil.example/fix.sh'" in text


def test_the_consent_page_is_html_that_works_without_javascript(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(http, issuer, code_challenge=challenge, code_challenge_method="S256")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy  # no script could run, even an injected one
    assert "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script" not in page.text.lower()
    assert "<form method='post' action='authorize'>" in page.text
    assert "<button type='submit' name='decision' value='allow'>Allow</button>" in page.text
    assert "<button type='submit' name='decision' value='deny'>Deny</button>" in page.text
