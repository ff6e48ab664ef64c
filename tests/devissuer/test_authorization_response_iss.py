"""RFC 9207: every authorization response names its issuer in ``iss``, beside ``state``.

The value is the ``issuer`` of the metadata the client read, exactly: the MCP
SDKs' clients compare the two as strings, and the metadata says responses carry
it (``authorization_response_iss_parameter_supported``), so a response without
it is refused by them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bearerguard.devissuer import DevIssuer, default_config

from .flows import authorize, pkce, redirect_params


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(default_config(), auto_approve=True) as running:
        yield running


def metadata_issuer(http, base: str) -> str:
    issuer: str = http.get(base + ".well-known/oauth-authorization-server").json()["issuer"]
    return issuer


@pytest.mark.parametrize("which", ["url", "custom_domain_url"])
def test_a_code_comes_with_the_issuer_of_the_metadata(issuer: DevIssuer, http, which):
    base = getattr(issuer, which)
    _, challenge = pkce()
    response = authorize(http, issuer, base, code_challenge=challenge, code_challenge_method="S256")
    answer = redirect_params(response)
    assert "code" in answer
    assert answer["iss"] == metadata_issuer(http, base) == base


def test_an_error_sent_back_to_the_client_names_the_issuer_too(issuer: DevIssuer, http):
    answer = redirect_params(authorize(http, issuer, response_type="code id_token"))
    assert answer["error"] == "unsupported_response_type"
    assert (answer["state"], answer["iss"]) == ("st-123", issuer.url)


def test_the_implicit_flow_names_it_in_the_fragment(issuer: DevIssuer, http):
    answer = redirect_params(authorize(http, issuer, response_type="token"), fragment=True)
    assert "access_token" in answer
    assert answer["iss"] == issuer.url


def test_a_page_that_redirects_nowhere_has_no_iss_to_give(issuer: DevIssuer, http):
    # An unknown client: nothing is redirected (an error page), so no authorization response.
    response = authorize(http, issuer, client_id="nobody")
    assert response.status_code == 400
    assert "Location" not in response.headers
