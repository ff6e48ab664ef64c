"""The protected resource (RFC 9728): its settings, its metadata document and URL, the
``resource_metadata`` of every challenge, and tokens for this resource only (RFC 8707).

Tokens are signed for real by the in-process provider (tests.support); DPoP proofs by
keys the tests make.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bearerguard import (
    BearerError,
    ConfigurationError,
    HttpRequest,
    InsufficientScopeError,
    InvalidAudienceError,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    KeySetUnavailableError,
    MissingTokenError,
    Verifier,
)
from bearerguard._mint import dpop_proof as mint_proof
from bearerguard._resource import metadata_url
from bearerguard.testing._signing import SigningKey
from tests.support import DPOP_ALGS, ISSUER, NOW, Provider

MakeVerifier = Callable[..., Verifier]
RESOURCE = "https://api.example.com/mcp"
METADATA = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
CLIENT_KEY = SigningKey("ES256")


@pytest.fixture
def for_resource(make_verifier: MakeVerifier) -> MakeVerifier:
    """A verifier for RESOURCE, with no audience of its own: it defaults to the resource."""

    def make(**overrides: Any) -> Verifier:
        return make_verifier(**{"audience": None, "resource": RESOURCE, **overrides})

    return make


def refusal(call: Callable[[], object]) -> BearerError:
    with pytest.raises(BearerError) as refused:
        call()
    return refused.value


def challenges(error: BearerError) -> list[str]:
    """The challenges of the error's WWW-Authenticate value, each as its own string."""
    header = error.headers["WWW-Authenticate"]
    parts = header.replace(", DPoP ", "\n DPoP ").replace(", Bearer ", "\n Bearer ").split("\n")
    return [part.strip() for part in parts]


def dpop_proof(token: str, *, url: str = RESOURCE, jti: str = "jti-1") -> str:
    return mint_proof(CLIENT_KEY, method="POST", url=url, iat=NOW, jti=jti, access_token=token)


def request(*fields: tuple[str, str]) -> HttpRequest:
    return HttpRequest("POST", RESOURCE, list(fields))


# --- the settings ----------------------------------------------------------------------------


class TestResourceSetting:
    @pytest.mark.parametrize(
        "resource",
        [
            RESOURCE,
            "https://api.example.com",
            "https://api.example.com/",
            "https://api.example.com/v1/mcp/",
            "http://127.0.0.1:8000/mcp",
            "http://localhost:3000/mcp",
        ],
    )
    def test_an_absolute_https_url_or_loopback_http_is_a_resource(self, resource):
        verifier = Verifier(issuer=ISSUER, resource=resource)
        assert verifier.config.resource == resource
        assert verifier.config.audiences == (resource,)

    @pytest.mark.parametrize(
        ("resource", "says"),
        [
            ("api.example.com/mcp", "not an absolute URI"),
            ("/mcp", "not an absolute URI"),
            ("https://api.example.com/mcp#tools", "fragment"),
            ("https://api.example.com/mcp?tenant=a", "must not carry credentials, a query"),
            ("https://user:pw@api.example.com/mcp", "must not carry credentials"),
            ("http://api.example.com/mcp", "plain http is allowed only for loopback"),
            ("ftp://api.example.com/mcp", "must be an https:// URL"),
            ("https://api.example.com/m cp", "spaces"),
            ("", "must be the URL clients call"),
            (42, "must be the URL clients call"),
        ],
    )
    def test_anything_else_is_refused_saying_why(self, resource, says):
        with pytest.raises(ConfigurationError, match=says) as refused:
            Verifier(issuer=ISSUER, resource=resource)
        assert refused.value.setting == "resource"

    def test_without_an_audience_or_a_resource_the_error_names_both(self):
        with pytest.raises(ConfigurationError) as refused:
            Verifier(issuer=ISSUER)
        assert "audience" in str(refused.value)
        assert "resource=" in str(refused.value)
        assert refused.value.setting == "audience"

    def test_a_given_audience_is_what_tokens_must_name(self):
        verifier = Verifier(issuer=ISSUER, audience="urn:contacts", resource=RESOURCE)
        assert verifier.config.audiences == ("urn:contacts",)

    @pytest.mark.parametrize(
        "scopes", [["read:contacts", "write:contacts"], ("read:contacts",), "read:contacts"]
    )
    def test_scopes_supported_are_scope_names(self, scopes):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE, scopes_supported=scopes)
        expected = (scopes,) if isinstance(scopes, str) else tuple(scopes)
        assert verifier.config.scopes_supported == expected

    @pytest.mark.parametrize(
        ("scopes", "says"),
        [
            (["read contacts"], "'read contacts' is not one"),
            (['read"contacts'], "is not one"),
            ([""], "must not hold an empty string"),
            ([1], "must hold strings only"),
            ("read:a write:b", "'read:a write:b' is not one"),
            ({"read:a": 1}, "must be a string or a list"),
        ],
    )
    def test_anything_else_in_scopes_supported_is_refused(self, scopes, says):
        with pytest.raises(ConfigurationError, match=says) as refused:
            Verifier(issuer=ISSUER, resource=RESOURCE, scopes_supported=scopes)
        assert refused.value.setting == "scopes_supported"

    @pytest.mark.parametrize("name", ["", "  ", " Contacts", "Contacts\n", "x" * 201, 7])
    def test_a_resource_name_is_short_printable_text(self, name):
        with pytest.raises(ConfigurationError) as refused:
            Verifier(issuer=ISSUER, resource=RESOURCE, resource_name=name)
        assert refused.value.setting == "resource_name"

    @pytest.mark.parametrize(
        "page",
        [
            "https://docs.example.com/api",
            "https://docs.example.com/api#authentication",
            "https://docs.example.com/api?lang=en",
            "http://127.0.0.1:8000/docs",
        ],
    )
    def test_the_documentation_is_a_page_url_with_query_or_fragment_if_need_be(self, page):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE, resource_documentation=page)
        assert verifier.config.resource_documentation == page

    @pytest.mark.parametrize(
        ("page", "says"),
        [
            ("docs.example.com/api", "must be an https:// URL"),
            ("http://docs.example.com/api", "plain http is allowed only for loopback"),
            ("https://docs.example.com/a b", "spaces"),
            ("https://docs.example.com/a<b>", "not a valid URL"),
            ("https://docs.example.com/a#b#c", "not a valid URL"),
            (["https://docs.example.com"], "must be a URL"),
        ],
    )
    def test_anything_else_as_documentation_is_refused(self, page, says):
        with pytest.raises(ConfigurationError, match=says) as refused:
            Verifier(issuer=ISSUER, resource=RESOURCE, resource_documentation=page)
        assert refused.value.setting == "resource_documentation"


# --- the settings by name --------------------------------------------------------------------


class TestFromEnv:
    def test_the_resource_alone_sets_the_audience(self):
        verifier = Verifier.from_env(
            {"BEARERGUARD_ISSUER": "tenant.auth0.com", "BEARERGUARD_RESOURCE": RESOURCE}
        )
        assert verifier.config.audiences == (RESOURCE,)
        assert verifier.resource_metadata_url == METADATA

    @pytest.mark.parametrize(
        "written",
        [
            "read:contacts write:contacts",
            "read:contacts,write:contacts",
            "read:contacts, write:contacts",
        ],
    )
    def test_scopes_supported_are_comma_or_space_separated(self, written):
        verifier = Verifier.from_env(
            {
                "BEARERGUARD_ISSUER": "tenant.auth0.com",
                "BEARERGUARD_RESOURCE": RESOURCE,
                "BEARERGUARD_SCOPES_SUPPORTED": written,
                "BEARERGUARD_RESOURCE_NAME": "Contacts, for agents",
                "BEARERGUARD_RESOURCE_DOCUMENTATION": "https://docs.example.com/mcp",
            }
        )
        assert verifier.config.scopes_supported == ("read:contacts", "write:contacts")
        assert verifier.config.resource_name == "Contacts, for agents"
        assert verifier.config.resource_documentation == "https://docs.example.com/mcp"

    def test_an_empty_item_in_the_scopes_is_refused_by_its_name(self):
        with pytest.raises(ConfigurationError, match="BEARERGUARD_SCOPES_SUPPORTED has an empty"):
            Verifier.from_env(
                {
                    "BEARERGUARD_ISSUER": "tenant.auth0.com",
                    "BEARERGUARD_RESOURCE": RESOURCE,
                    "BEARERGUARD_SCOPES_SUPPORTED": "read:contacts,,write:contacts",
                }
            )

    def test_a_bad_resource_is_reported_under_its_variable(self):
        with pytest.raises(ConfigurationError, match=r"^BEARERGUARD_RESOURCE: resource"):
            Verifier.from_env(
                {"BEARERGUARD_ISSUER": "tenant.auth0.com", "BEARERGUARD_RESOURCE": "api/mcp"}
            )

    def test_neither_audience_nor_resource_names_both_variables(self):
        with pytest.raises(ConfigurationError) as refused:
            Verifier.from_env({"BEARERGUARD_ISSUER": "tenant.auth0.com"})
        assert "BEARERGUARD_AUDIENCE" in str(refused.value)
        assert "BEARERGUARD_RESOURCE" in str(refused.value)

    def test_an_empty_audience_variable_leaves_the_resource_s_default(self):
        verifier = Verifier.from_env(
            {
                "BEARERGUARD_ISSUER": "tenant.auth0.com",
                "BEARERGUARD_AUDIENCE": "",
                "BEARERGUARD_RESOURCE": RESOURCE,
            }
        )
        assert verifier.config.audiences == (RESOURCE,)


# --- the metadata URL (§3.1) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "url"),
    [
        (RESOURCE, METADATA),
        ("https://api.example.com", "https://api.example.com/.well-known/oauth-protected-resource"),
        (
            "https://api.example.com/",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example.com/v1/mcp/",
            "https://api.example.com/.well-known/oauth-protected-resource/v1/mcp/",
        ),
        (
            "HTTPS://API.Example.com:443/mcp",
            "https://api.example.com/.well-known/oauth-protected-resource/mcp",
        ),
        (
            "https://api.example.com:8443/mcp",
            "https://api.example.com:8443/.well-known/oauth-protected-resource/mcp",
        ),
        (
            "http://127.0.0.1:8000/mcp",
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp",
        ),
        ("http://[::1]:8000/", "http://[::1]:8000/.well-known/oauth-protected-resource"),
    ],
)
def test_the_metadata_url_inserts_the_well_known_path_after_the_host(resource, url):
    assert metadata_url(resource) == url
    assert Verifier(issuer=ISSUER, resource=resource).resource_metadata_url == url


def test_without_a_resource_there_is_no_metadata():
    verifier = Verifier(issuer=ISSUER, audience="https://api.example.com")
    assert verifier.resource_metadata_url is None
    with pytest.raises(ConfigurationError, match="has no resource") as refused:
        verifier.resource_metadata()
    assert refused.value.setting == "resource"


# --- the document (§2) -----------------------------------------------------------------------


class TestDocument:
    def test_dpop_allowed_lists_the_proof_algorithms(self):
        document = Verifier(issuer="tenant.auth0.com", resource=RESOURCE).resource_metadata()
        assert document == {
            "resource": RESOURCE,
            "authorization_servers": ["https://tenant.auth0.com/"],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": DPOP_ALGS.split(),
        }

    def test_dpop_required_says_bound_tokens_are_required(self):
        verifier = Verifier(
            issuer=ISSUER, resource=RESOURCE, dpop="required", dpop_algorithms=["ES256", "EdDSA"]
        )
        document = verifier.resource_metadata()
        assert document["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA"]
        assert document["dpop_bound_access_tokens_required"] is True

    def test_dpop_off_has_no_dpop_members(self):
        document = Verifier(issuer=ISSUER, resource=RESOURCE, dpop="off").resource_metadata()
        assert "dpop_signing_alg_values_supported" not in document
        assert "dpop_bound_access_tokens_required" not in document
        assert document["bearer_methods_supported"] == ["header"]

    def test_name_documentation_and_scopes_appear_when_set(self):
        verifier = Verifier(
            issuer=ISSUER,
            resource=RESOURCE,
            dpop="off",
            scopes_supported=["read:contacts", "write:contacts"],
            resource_name="Contacts",
            resource_documentation="https://docs.example.com/mcp#auth",
        )
        assert verifier.resource_metadata() == {
            "resource": RESOURCE,
            "authorization_servers": [ISSUER],
            "scopes_supported": ["read:contacts", "write:contacts"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Contacts",
            "resource_documentation": "https://docs.example.com/mcp#auth",
        }

    def test_the_routes_scopes_are_listed_when_none_are_configured(self):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE)
        document = verifier.resource_metadata(
            scopes=["read:contacts", "write:contacts", "read:contacts"]
        )
        assert document["scopes_supported"] == ["read:contacts", "write:contacts"]
        assert verifier.resource_metadata(scopes={"b:x", "a:x"})["scopes_supported"] == [
            "a:x",
            "b:x",
        ]
        assert verifier.resource_metadata(scopes="read:contacts")["scopes_supported"] == [
            "read:contacts"
        ]

    def test_configured_scopes_are_the_resource_s_choice_over_the_routes(self):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE, scopes_supported=["mcp:tools"])
        document = verifier.resource_metadata(scopes=["admin:everything"])
        assert document["scopes_supported"] == ["mcp:tools"]

    @pytest.mark.parametrize("scopes", [["read contacts"], [None], iter(["read:contacts"]), 5])
    def test_route_scopes_that_are_no_scope_names_are_refused(self, scopes):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE)
        with pytest.raises(ConfigurationError, match=r"resource_metadata\(scopes=") as refused:
            verifier.resource_metadata(scopes=scopes)
        assert refused.value.setting == "scopes"

    def test_the_issuers_are_the_authorization_servers_as_they_were_written(self):
        verifier = Verifier(
            issuer=[
                "tenant.auth0.com",
                "https://login.example.com",
                "https://login.example.com/",  # the same issuer again: listed once
                "https://kc.example.com/realms/main",
            ],
            resource=RESOURCE,
        )
        assert verifier.resource_metadata()["authorization_servers"] == [
            "https://tenant.auth0.com/",
            "https://login.example.com",
            "https://kc.example.com/realms/main",
        ]

    def test_each_call_gives_a_document_of_its_own(self):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE)
        document = verifier.resource_metadata()
        document["authorization_servers"].append("https://evil.example.com/")
        assert verifier.resource_metadata()["authorization_servers"] == [ISSUER]


# --- the challenges (§5.1) -------------------------------------------------------------------


def names_the_metadata(error: BearerError) -> bool:
    every = all(f'resource_metadata="{METADATA}"' in c for c in challenges(error))
    return every and error.resource_metadata == METADATA


@pytest.mark.parametrize(
    ("dpop", "schemes"),
    [("off", ["Bearer"]), ("allowed", ["Bearer", "DPoP"]), ("required", ["DPoP"])],
)
def test_a_missing_token_names_the_metadata_in_every_challenge(for_resource, dpop, schemes):
    verifier = for_resource(dpop=dpop)
    for error in (
        verifier.missing_token(),
        refusal(lambda: verifier.verify_request(request())),
        refusal(lambda: verifier.verify_authorization(None)),
    ):
        assert isinstance(error, MissingTokenError)
        assert error.status_code == 401
        assert names_the_metadata(error)
    assert [c.split(" ", 1)[0] for c in challenges(verifier.missing_token())] == schemes


def test_a_bad_bearer_token_names_the_metadata(for_resource, provider: Provider):
    verifier = for_resource()
    forged = provider.token(aud=RESOURCE)[:-4] + "AAAA"
    for error in (
        refusal(lambda: verifier.verify(forged)),
        refusal(lambda: verifier.authenticate(f"Bearer {forged}")),
        refusal(lambda: asyncio.run(verifier.aauthenticate(f"Bearer {forged}"))),
        refusal(lambda: verifier.verify_request(request(("Authorization", f"Bearer {forged}")))),
    ):
        assert isinstance(error, InvalidTokenError)
        assert error.status_code == 401
        assert names_the_metadata(error)
        assert 'Bearer realm="api", error="invalid_token"' in error.headers["WWW-Authenticate"]


def test_a_token_without_the_scopes_gets_a_403_naming_the_metadata(
    for_resource, provider: Provider
):
    token = for_resource().verify(provider.token(aud=RESOURCE, scope="openid"))

    error = refusal(lambda: token.require_scopes("read:contacts"))

    assert isinstance(error, InsufficientScopeError)
    assert error.status_code == 403
    assert names_the_metadata(error)
    assert 'scope="read:contacts"' in error.headers["WWW-Authenticate"]


def test_without_a_resource_a_403_names_no_metadata(make_verifier: MakeVerifier, provider):
    token = make_verifier().verify(provider.token(scope="openid"))

    error = refusal(lambda: token.require_scopes("read:contacts"))

    assert "resource_metadata" not in error.headers["WWW-Authenticate"]


def test_a_bad_dpop_proof_names_the_metadata_in_its_dpop_challenge(
    for_resource, provider: Provider
):
    verifier = for_resource()
    token = provider.token(aud=RESOURCE, cnf={"jkt": CLIENT_KEY.thumbprint()})
    proof = dpop_proof(token, url="https://api.example.com/other")
    error = refusal(
        lambda: verifier.verify_request(
            request(("Authorization", f"DPoP {token}"), ("DPoP", proof))
        )
    )
    assert isinstance(error, InvalidDPoPProofError)
    assert names_the_metadata(error)
    bearer, dpop = challenges(error)
    assert dpop.startswith('DPoP realm="api", error="invalid_dpop_proof"')
    assert bearer == f'Bearer realm="api", resource_metadata="{METADATA}"'


def test_a_bound_token_s_own_request_passes(for_resource, provider: Provider):
    verifier = for_resource()
    token = provider.token(aud=RESOURCE, cnf={"jkt": CLIENT_KEY.thumbprint()})
    fields = (("Authorization", f"DPoP {token}"), ("DPoP", dpop_proof(token, jti="jti-2")))
    assert verifier.verify_request(request(*fields)).audience == (RESOURCE,)


def test_a_malformed_header_names_the_metadata(for_resource):
    verifier = for_resource()
    for error in (
        refusal(lambda: verifier.authenticate("Bearer a b c")),
        refusal(lambda: verifier.verify_authorization("Bearer a b c")),
    ):
        assert isinstance(error, InvalidRequestError)
        assert names_the_metadata(error)


def test_a_provider_that_cannot_be_reached_names_the_metadata(for_resource, provider: Provider):
    provider.override["/.well-known/openid-configuration"] = lambda _: httpx.Response(500)
    verifier = for_resource()
    error = refusal(lambda: verifier.verify(provider.token(aud=RESOURCE)))
    assert isinstance(error, KeySetUnavailableError)
    assert names_the_metadata(error)


def test_without_a_resource_no_challenge_changes(make_verifier: MakeVerifier, provider: Provider):
    verifier = make_verifier()
    assert "resource_metadata" not in verifier.missing_token().headers["WWW-Authenticate"]
    error = refusal(lambda: verifier.verify(provider.token(aud="https://other.example.com")))
    assert error.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", '
        'error_description="The access token is not intended for this API"'
    )


# --- tokens for this resource only (RFC 8707 audience) ----------------------------------------


@pytest.mark.parametrize(
    "aud",
    [
        RESOURCE,
        "HTTPS://API.example.com:443/mcp",
        "https://api.EXAMPLE.com/mcp",
        "https://api.example.com:443/mcp",
        ["https://other.example.com", "https://API.EXAMPLE.COM/mcp"],
    ],
)
def test_a_token_for_this_resource_in_any_equivalent_spelling_passes(
    for_resource, provider: Provider, aud
):
    verified = for_resource().verify(provider.token(aud=aud))
    assert verified.audience == ((aud,) if isinstance(aud, str) else tuple(aud))


@pytest.mark.parametrize(
    "aud",
    [
        "https://api.example.com/mcp/",  # another path: a trailing slash after one counts
        "https://api.example.com/mcp2",
        "https://api.example.com/MCP",  # paths are case-sensitive
        "https://api.example.com/other/mcp",
        "https://api.example.com",  # the origin is not the resource
        "https://api.example.com:8443/mcp",  # another port
        "https://api.example.com:80/mcp",  # http's default port, not https'
        "http://api.example.com/mcp",  # another scheme
        "https://api.example.com.evil.example/mcp",
        "https://evil.example/mcp",
        "https://user@api.example.com/mcp",  # userinfo
        "https://api.example.com@evil.example/mcp",
        "https://api.example.com./mcp",  # a trailing dot on the host
        "https://api.example.com/%6Dcp",  # percent-encoded unreserved characters
        "https://api.example.com/mcp%2F",
        "https://api%2Eexample.com/mcp",
        "https://api.example.com/./mcp",  # dot segments
        "https://api.example.com/mcp?x=1",
        "https://api.example.com/mcp#x",
        " https://api.example.com/mcp",
        "https://api.example.com/mcp\u200b",
        "https://\u0430pi.example.com/mcp",  # a Cyrillic a
    ],
)
def test_a_token_for_another_resource_is_refused_with_the_right_issuer_and_scopes(
    for_resource, provider: Provider, aud
):
    token = provider.token(aud=aud, scope="openid read:contacts write:contacts")
    error = refusal(lambda: for_resource().verify(token))
    assert isinstance(error, InvalidAudienceError)
    assert names_the_metadata(error)


def test_the_audience_check_is_the_same_on_the_async_path(for_resource, provider: Provider):
    verifier = for_resource()
    assert asyncio.run(verifier.averify(provider.token(aud="HTTPS://API.example.com/mcp")))
    with pytest.raises(InvalidAudienceError):
        asyncio.run(verifier.averify(provider.token(aud="https://api.example.com:8443/mcp")))
