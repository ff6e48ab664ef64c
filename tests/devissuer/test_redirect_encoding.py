"""What goes back in a redirect is percent-encoded with %20, so decodeURIComponent reads it right.

Swagger UI (and most browser code) reads the query or fragment with
``decodeURIComponent``, which does not turn ``+`` into a space. The test decodes
the same way (:func:`urllib.parse.unquote`), not with the form decoding of
:func:`~urllib.parse.parse_qs`, which would forgive a ``+``.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from bearerguard.devissuer import DevIssuer

from .flows import authorize, decide, pkce

HOSTILE_STATE = "a+b & c=d; e%20f ✓ é 日本 /?#x"


def uri_decoded(component: str) -> dict[str, str]:
    """A query or fragment read as decodeURIComponent reads it."""
    pairs = (item.split("=", 1) for item in component.split("&"))
    return {unquote(name): unquote(value) for name, value in pairs}


def test_an_error_description_has_no_plus_for_its_spaces(issuer: DevIssuer, http):
    response = authorize(http, issuer, code_challenge=None, state="st 1")  # a SPA without PKCE
    query = urlsplit(response.headers["Location"]).query
    assert "+" not in query
    assert "error_description=Public%20clients%20must%20use%20PKCE" in query
    answer = uri_decoded(query)
    assert answer["error_description"] == (
        "Public clients must use PKCE: send code_challenge and code_challenge_method=S256."
    )
    assert answer["state"] == "st 1"


def test_the_state_comes_back_exactly_with_the_code(issuer: DevIssuer, http):
    _, challenge = pkce()
    page = authorize(
        http, issuer, code_challenge=challenge, code_challenge_method="S256", state=HOSTILE_STATE
    )
    query = urlsplit(decide(http, issuer, page).headers["Location"]).query
    assert "+" not in query
    answer = uri_decoded(query)
    assert answer["state"] == HOSTILE_STATE
    assert set(answer) == {"code", "state", "iss"}  # iss: RFC 9207


def test_the_state_comes_back_exactly_with_an_error(issuer: DevIssuer, http):
    _, challenge = pkce()
    response = authorize(
        http, issuer, code_challenge=challenge, code_challenge_method="S256",
        audience="https://nope.example", state=HOSTILE_STATE,
    )  # fmt: skip
    answer = uri_decoded(urlsplit(response.headers["Location"]).query)
    assert answer["state"] == HOSTILE_STATE
    assert answer["error_description"] == "Service not found: https://nope.example"


def test_the_implicit_flows_fragment_is_encoded_the_same_way(issuer: DevIssuer, http):
    page = authorize(
        http, issuer, response_type="token", scope="openid read:messages", state=HOSTILE_STATE
    )
    fragment = urlsplit(decide(http, issuer, page).headers["Location"]).fragment
    assert "+" not in fragment
    assert "scope=openid%20read%3Amessages" in fragment
    answer = uri_decoded(fragment)
    assert answer["state"] == HOSTILE_STATE
    assert answer["scope"] == "openid read:messages"
    assert answer["token_type"] == "Bearer"
    assert answer["access_token"].count(".") == 2
