"""Issuer URLs: which spellings are the same issuer (RFC 3986 §6.2.2-6.2.3), which are not.
Audiences that are URLs are indexed alike (``UrlIndex``).

The table is the contract: scheme and host compare case-insensitively, an empty path
is ``/``, the scheme's default port is no port. Everything else stays exact.
"""

from __future__ import annotations

import pytest

from bearerguard import ConfigurationError, InvalidIssuerError, Verifier
from bearerguard._issuers import (
    IssuerIndex,
    UrlIndex,
    issuer_key,
    near_miss,
    normalize_issuer,
    same_issuer,
)
from bearerguard.testing import FakeIssuer

AUTH0 = "https://tenant.auth0.com/"

EQUIVALENT = [
    ("https://tenant.auth0.com/", "https://tenant.auth0.com"),
    ("https://tenant.auth0.com/", "HTTPS://Tenant.Auth0.COM/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com:443/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com:443"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com:/"),
    ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
    ("http://localhost/", "http://LOCALHOST:80"),
    ("http://[::1]:8080/", "HTTP://[::1]:8080"),
    ("https://kc.example.com/realms/Main", "HTTPS://KC.example.com:443/realms/Main"),
]
DIFFERENT = [
    ("https://kc.example.com/realms/main", "https://kc.example.com/realms/main/"),
    ("https://kc.example.com/realms/main", "https://kc.example.com/realms/Main"),
    ("https://tenant.auth0.com/", "http://tenant.auth0.com/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com:8443/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com:80/"),
    ("http://127.0.0.1:9000/", "http://127.0.0.1:9001/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com./"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com//"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com/?"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com/#"),
    ("https://tenant.auth0.com/", "https://user@tenant.auth0.com/"),
    ("https://tenant.auth0.com/", "https://ten\tant.auth0.com/"),  # urlsplit drops tabs
    ("https://tenant.auth0.com/", "https://ten\nant.auth0.com/"),
    ("https://tenant.auth0.com/", " https://tenant.auth0.com/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com/%2F"),
    ("https://tenant.auth0.com/", "https://tenant%2Eauth0.com/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com/."),
    ("https://tenant.auth0.com/", "https://tenant.xn--auth0-.com/"),
    ("https://tenant.auth0.com/", "https://tenant.auth0.com\u0130/"),
    ("https://tenant.auth0.com/", "tenant.auth0.com"),
    ("https://tenant.auth0.com/", "//tenant.auth0.com/"),
    ("https://tenant.auth0.com/", "ftp://tenant.auth0.com/"),
]


@pytest.mark.parametrize(("one", "other"), EQUIVALENT)
def test_spellings_of_one_url_are_the_same_issuer_either_way_round(one, other):
    assert same_issuer(one, other)
    assert same_issuer(other, one)
    assert IssuerIndex([one]).find(other) == one
    assert IssuerIndex([other]).find(one) == other


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_anything_else_is_another_issuer_either_way_round(one, other):
    assert not same_issuer(one, other)
    assert not same_issuer(other, one)
    assert IssuerIndex([one]).find(other) is None


def test_the_key_is_lower_case_scheme_and_host_without_default_port_and_with_a_path():
    assert issuer_key("HTTPS://Tenant.Auth0.com:443") == "https://tenant.auth0.com/"
    assert issuer_key("https://x.example:8443/Realms/A/") == "https://x.example:8443/Realms/A/"
    assert issuer_key("https://x.example/a?b") is None
    assert issuer_key("not a url") is None


def test_equivalent_configured_issuers_collapse_into_the_first():
    index = IssuerIndex(["https://tenant.auth0.com", "https://tenant.auth0.com/"])
    assert index.issuers == ("https://tenant.auth0.com",)


@pytest.mark.parametrize(
    "configured",
    ["tenant.auth0.com", "https://tenant.auth0.com", "HTTPS://Tenant.Auth0.com:443/"],
)
def test_a_configured_issuer_is_kept_in_its_normal_form(configured):
    verifier = Verifier(issuer=[configured, AUTH0], audience="https://api.example.com")
    assert verifier.config.issuers == (AUTH0,)


@pytest.mark.parametrize(
    "token_iss",
    ["https://tenant.auth0.com/", "HTTPS://TENANT.AUTH0.COM", "https://tenant.auth0.com:443"],
)
@pytest.mark.parametrize(
    "configured",
    [
        "https://tenant.auth0.com",
        "HTTPS://Tenant.Auth0.com/",
        "TENANT.AUTH0.COM",
        "tenant.auth0.com",
    ],
)
def test_a_verifier_trusts_every_spelling_and_reports_the_token_s_own(configured, token_iss):
    with FakeIssuer(AUTH0, audience="https://api.example.com") as fake:
        verifier = Verifier(issuer=configured, audience="https://api.example.com")
        token = verifier.verify(fake.token(iss=token_iss))
    assert token.issuer == token_iss


def test_the_discovery_document_may_spell_the_issuer_as_the_provider_does():
    # The fake's discovery document says "https://tenant.auth0.com/"; the verifier was
    # configured without the slash, as tutorials write it, and finds its keys all the same.
    with FakeIssuer(AUTH0) as fake:
        verifier = Verifier(issuer="https://tenant.auth0.com", audience=fake.audience)
        assert fake.discovery_document()["issuer"] == AUTH0
        assert verifier.verify(fake.token()).issuer == AUTH0


def test_a_path_with_another_trailing_slash_is_still_refused():
    realm = "https://kc.example.com/realms/main"
    with FakeIssuer(realm) as fake:
        verifier = Verifier(issuer=realm + "/", audience=fake.audience)
        with pytest.raises(InvalidIssuerError) as refused:
            verifier.verify(fake.token())
    assert refused.value.hint is not None
    assert "only by a trailing slash" in refused.value.hint


@pytest.mark.parametrize(
    ("token_iss", "says"),
    [
        ("https://kc.example.com/realms/main/", "a trailing slash"),
        ("http://kc.example.com/realms/main", "its scheme (http vs https)"),
        ("https://kc.example.com:8443/realms/main", "its port"),
    ],
)
def test_a_near_miss_names_what_differs(token_iss, says):
    miss = near_miss(token_iss, ["https://kc.example.com/realms/main"])
    assert miss is not None
    assert miss[0] == "https://kc.example.com/realms/main"
    assert says in miss[1]


def test_other_hosts_are_no_near_miss():
    assert (
        near_miss("https://evil.example.com/realms/main", ["https://kc.example.com/realms/main"])
        is None
    )
    assert (
        near_miss("https://kc.example.com/realms/other", ["https://kc.example.com/realms/main"])
        is None
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("https://None/", "has no real host"),
        ("https://none", "has no real host"),
        ("https://null/", "has no real host"),
        ("https://undefined/", "has no real host"),
        ("None", "has no real host"),
        ("https:///", "must be an https:// URL with a host"),
        (
            "https://https://tenant.auth0.com/",
            "has its scheme twice: write 'https://tenant.auth0.com/'",
        ),
        ("https://http://tenant.auth0.com/", "has its scheme twice"),
        ("", "non-empty"),
        ("   ", "unset"),
    ],
)
def test_issuers_an_unset_variable_leaves_behind_are_refused_with_the_likely_cause(value, says):
    with pytest.raises(ConfigurationError, match="issuer") as refused:
        normalize_issuer(value)
    assert says in str(refused.value)
    assert refused.value.setting == "issuer"


# --- any URL-shaped name (audiences) ------------------------------------------------------------


@pytest.mark.parametrize(("one", "other"), EQUIVALENT)
def test_an_index_of_urls_finds_every_equivalent_spelling_either_way_round(one, other):
    assert UrlIndex([one]).find(other) == one
    assert other in UrlIndex([one])
    assert UrlIndex([other]).find(one) == other


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_an_index_of_urls_finds_no_other_url(one, other):
    assert UrlIndex([one]).find(other) is None
    assert other not in UrlIndex([one])


def test_names_that_are_no_urls_match_themselves_only():
    index = UrlIndex(["urn:contacts", "contacts-api"])
    assert index.find("urn:contacts") == "urn:contacts"
    assert index.find("URN:contacts") is None
    assert index.find("contacts-api/") is None
    assert 5 not in index


def test_equivalent_names_are_kept_once_in_the_order_given():
    index = UrlIndex(["https://api.example.com/mcp", "urn:x", "HTTPS://API.example.com/mcp"])
    assert index.names == ("https://api.example.com/mcp", "urn:x")


def test_the_issuer_index_names_its_issuers():
    index = IssuerIndex([AUTH0, "https://tenant.auth0.com"])
    assert index.issuers == index.names == (AUTH0,)
