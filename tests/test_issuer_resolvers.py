"""Trusted issuers resolved at run time: ``issuer=`` a function of the ``iss``, and
``issuer_for_request=`` a function of the request.

The function sees sound issuer URLs only, in their normal form, once per spelling it
trusts; a function that raises or answers nonsense refuses the token (logged, never a
500); what it rejects costs no fetch; the issuers it trusts still get exact
discovery-issuer matching. ``issuer_for_request`` narrows ``issuer=`` per request, a
remembered token included, and a token given without its request is refused.
The bounds of what such a verifier keeps and fetches are ``test_resolved_cache.py``'s.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from bearerguard import (
    AccessToken,
    CachePolicy,
    ConfigurationError,
    HttpRequest,
    InvalidIssuerError,
    KeySetUnavailableError,
    Verifier,
)
from tests.support import AUDIENCE, Clock, Provider, Providers, public_jwk, rsa_key
from tests.tenants import DOMAIN, Tenants, trusted_tenant

MakeVerifier = Callable[..., Verifier]


@pytest.fixture
def tenants() -> Tenants:
    return Tenants()


@pytest.fixture
def pattern(tenants: Tenants, clock: Clock) -> MakeVerifier:
    """A verifier trusting every tenant the documented function accepts; kwargs override."""
    return functools.partial(tenants.verifier, clock)


class Recorder:
    """A predicate that records what it is asked and answers as told."""

    def __init__(self, answer: Callable[[str], object] = trusted_tenant) -> None:
        self.asked: list[str] = []
        self.answer = answer

    def __call__(self, iss: str) -> object:
        self.asked.append(iss)
        return self.answer(iss)


# --- issuer= a function ------------------------------------------------------------------------


def test_a_tenant_the_function_trusts_is_discovered_and_verified(
    pattern: MakeVerifier, tenants: Tenants, verify
):
    verifier = pattern()
    token = verify(verifier, tenants.token("acme"))
    assert token.issuer == "https://acme.id.example.com/"
    assert tenants.hosts() == {"acme.id.example.com": 2}  # discovery, then its key set
    assert verify(verifier, tenants.token("globex")).issuer == Tenants.issuer("globex")


def test_the_function_sees_the_normal_form_once_per_spelling(
    pattern: MakeVerifier, tenants: Tenants
):
    recorder = Recorder()
    verifier = pattern(issuer=recorder)
    for spelling in ("HTTPS://Acme.ID.example.com:443", "https://acme.id.example.com/"):
        for _ in range(3):
            assert verifier.verify(tenants.token("acme", iss=spelling)).issuer == spelling
    assert recorder.asked == ["https://acme.id.example.com/"] * 2  # one question per spelling
    assert tenants.hits() == 2  # one issuer, whatever its spelling: one discovery, one key set


NOT_ASKED = {
    "too long": "https://" + "a" * 500 + ".id.example.com/",
    "userinfo": "https://acme.id.example.com@evil.example/",
    "userinfo, empty": "https://@acme.id.example.com/",
    "a query": "https://acme.id.example.com/?x=1",
    "a fragment": "https://acme.id.example.com/#x",
    "plain http": "http://acme.id.example.com/",
    "another scheme": "ftp://acme.id.example.com/",
    "no scheme": "acme.id.example.com",
    "a space": "https://acme .id.example.com/",
    "a newline": "https://acme.id.example.com/\n",
    "a tab": "https://acme.id.example.com\t.evil.example/",
    "non-ASCII": "https://acme.id.ex\u0430mple.com/",  # a Cyrillic a
    "a backslash": "https://evil.example\\.id.example.com/",
    "percent in the host": "https://acm%65.id.example.com/",
    "no host": "https:///acme.id.example.com/",
    "a bad port": "https://acme.id.example.com:99999/",
    "an empty string": "",
    "a quote in the path": 'https://acme.id.example.com/"',
}


@pytest.mark.parametrize("iss", NOT_ASKED.values(), ids=NOT_ASKED.keys())
def test_what_is_no_sound_issuer_url_never_reaches_the_function(
    pattern: MakeVerifier, tenants: Tenants, iss: str
):
    recorder = Recorder(lambda _: True)  # would trust anything it were asked about
    verifier = pattern(issuer=recorder)
    with pytest.raises(InvalidIssuerError):
        verifier.verify(tenants.token("acme", iss=iss))
    assert recorder.asked == []
    assert tenants.hits() == 0


@pytest.mark.parametrize("iss", [None, 42, ["https://acme.id.example.com/"], {"a": 1}, True])
def test_an_iss_that_is_no_string_never_reaches_the_function(
    pattern: MakeVerifier, tenants: Tenants, iss: object
):
    recorder = Recorder(lambda _: True)
    with pytest.raises(InvalidIssuerError):
        pattern(issuer=recorder).verify(tenants.token("acme", iss=iss))
    assert recorder.asked == []


def test_loopback_issuers_may_use_plain_http(pattern: MakeVerifier):
    recorder = Recorder(lambda _: False)
    verifier = pattern(issuer=recorder)
    for iss in ("http://127.0.0.1:8080/realms/a", "http://localhost/", "http://[::1]:9/"):
        with pytest.raises(InvalidIssuerError):
            verifier.verify(Tenants().token("acme", iss=iss))
    assert recorder.asked == [
        "http://127.0.0.1:8080/realms/a",
        "http://localhost/",
        "http://[::1]:9/",
    ]


def test_an_issuer_the_function_rejects_costs_no_fetch(pattern: MakeVerifier, tenants: Tenants):
    verifier = pattern()
    for iss in ("https://evil.example/", "https://acme.id.example.com.evil.example/"):
        with pytest.raises(InvalidIssuerError) as refused:
            verifier.verify(tenants.token("acme", iss=iss))
        assert refused.value.reason == "The issuer= function does not trust the token's issuer."
        assert refused.value.hint is None  # an attacker's issuer is no configuration mistake
    assert tenants.hits() == 0


def boom(iss: str) -> bool:
    raise ZeroDivisionError(iss)


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (boom, "raised ZeroDivisionError"),
        (lambda iss: ["yes"], "returned a list"),
        (lambda iss: 1, "returned a int"),
        (lambda iss: "true", "returned a str"),
    ],
    ids=["raises", "a list", "an int", "a string"],
)
def test_a_misbehaving_function_refuses_and_says_why_in_the_log(  # noqa: PLR0917 - fixtures
    pattern: MakeVerifier,
    tenants: Tenants,
    function: Callable[[str], object],
    words: str,
    caplog: pytest.LogCaptureFixture,
    verify,
):
    caplog.set_level(logging.WARNING, logger="bearerguard")
    verifier = pattern(issuer=function)
    for _ in range(3):
        with pytest.raises(InvalidIssuerError) as refused:
            verify(verifier, tenants.token("acme"))
        assert words in refused.value.reason
        assert refused.value.status_code == 401
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1
    assert words in warned[0]
    assert "acme" not in warned[0]  # what the function raised is not repeated
    assert tenants.hits() == 0


def test_a_match_object_is_a_yes_and_none_a_no(pattern: MakeVerifier, tenants: Tenants):
    pattern_ = re.compile(r"https://acme\.id\.example\.com/")
    verifier = pattern(issuer=pattern_.fullmatch)
    assert verifier.verify(tenants.token("acme")).issuer == Tenants.issuer("acme")
    with pytest.raises(InvalidIssuerError):
        verifier.verify(tenants.token("globex"))


def test_the_discovery_document_must_name_the_tokens_issuer(
    pattern: MakeVerifier, tenants: Tenants, verify
):
    tenants.names_other["acme"] = Tenants.issuer("globex")  # its metadata names another
    verifier = pattern()
    with pytest.raises(KeySetUnavailableError):
        verify(verifier, tenants.token("acme"))
    assert tenants.hits("acme") == 1  # the discovery only: no key set of a mismatch is fetched


def test_a_keycloak_style_path_pattern_keeps_paths_exact(clock: Clock):
    realm = re.compile(r"https://sso\.example\.com/realms/[a-z0-9-]{1,64}")
    provider = Provider(issuer="https://sso.example.com/realms/acme")
    verifier = Verifier(
        issuer=lambda iss: realm.fullmatch(iss) is not None,
        audience=AUDIENCE,
        transport=provider.transport(),
        clock=clock.time,
    )
    assert verifier.verify(provider.token()).issuer == "https://sso.example.com/realms/acme"
    for iss in ("https://sso.example.com/realms/acme/", "https://sso.example.com/REALMS/acme"):
        with pytest.raises(InvalidIssuerError):
            verifier.verify(provider.token(iss=iss))


# --- what a function-issuer verifier names: keys=, jwks_uri=, authorization_servers= ---------


def test_named_issuers_must_be_trusted_by_the_function(pattern: MakeVerifier):
    key = {"keys": [public_jwk(rsa_key(0), kid="k1")]}
    with pytest.raises(
        ConfigurationError, match=r"'https://evil\.example/', which is not a trusted"
    ):
        pattern(keys={"https://evil.example/": key})
    with pytest.raises(ConfigurationError, match="not a trusted issuer"):
        pattern(authorization_servers=["https://evil.example/"])
    with pytest.raises(ConfigurationError, match="jwks_uri"):
        pattern(jwks_uri={"https://evil.example/": "https://evil.example/jwks"})


def test_jwks_uri_must_be_a_mapping_with_a_function(pattern: MakeVerifier):
    with pytest.raises(ConfigurationError, match="must be a mapping") as error:
        pattern(jwks_uri="https://acme.id.example.com/jwks.json")
    assert error.value.setting == "jwks_uri"


def test_one_key_set_needs_a_mapping_with_a_function(pattern: MakeVerifier):
    pem_key = {"keys": [public_jwk(rsa_key(0), kid="k1")]}
    with pytest.raises(ConfigurationError, match="chosen by a function"):
        pattern(keys=pem_key)


def test_named_issuers_are_configured_and_use_their_keys(pattern: MakeVerifier, tenants: Tenants):
    key = {"keys": [public_jwk(rsa_key(0), kid="k1", alg="RS256")]}
    verifier = pattern(
        keys={Tenants.issuer("acme"): key},
        jwks_uri={Tenants.issuer("globex"): Tenants.issuer("globex") + "jwks.json"},
        authorization_servers=["initech.id.example.com"],
    )
    assert verifier.config.issuers == (
        "https://initech.id.example.com/",
        "https://globex.id.example.com/",
        "https://acme.id.example.com/",
    )
    assert verifier.verify(tenants.token("acme")).subject == "auth0|123"
    assert tenants.hits() == 0  # acme's keys are configured
    assert verifier.verify(tenants.token("globex")).subject == "auth0|123"
    assert tenants.hosts() == {"globex.id.example.com": 1}  # its JWKS, no discovery


def test_the_metadata_lists_authorization_servers_which_a_function_needs(
    pattern: MakeVerifier,
):
    resource = "https://api.example.com/mcp"
    with pytest.raises(ConfigurationError, match="authorization_servers") as error:
        pattern(resource=resource)
    assert error.value.setting == "authorization_servers"
    verifier = pattern(resource=resource, authorization_servers="acme.id.example.com")
    assert verifier.resource_metadata()["authorization_servers"] == [Tenants.issuer("acme")]


def test_authorization_servers_names_some_of_a_list_of_issuers(clock: Clock):
    issuers = ["https://login.example.com", "https://tenant.auth0.com/"]
    verifier = Verifier(
        issuer=issuers,
        resource="https://api.example.com",
        authorization_servers=["https://login.example.com"],
    )
    assert verifier.resource_metadata()["authorization_servers"] == ["https://login.example.com"]
    default = Verifier(issuer=issuers, resource="https://api.example.com")
    assert default.resource_metadata()["authorization_servers"] == issuers
    with pytest.raises(ConfigurationError, match="not a trusted issuer"):
        Verifier(issuer=issuers, audience=AUDIENCE, authorization_servers=["other.example"])


def test_authorization_servers_is_a_setting_by_name(clock: Clock):
    environ = {
        "BEARERGUARD_ISSUER": "a.example.com,b.example.com",
        "BEARERGUARD_RESOURCE": "https://api.example.com",
        "BEARERGUARD_AUTHORIZATION_SERVERS": "b.example.com",
    }
    verifier = Verifier.from_env(environ)
    assert verifier.resource_metadata()["authorization_servers"] == ["https://b.example.com/"]


def test_the_repr_names_the_function(pattern: MakeVerifier):
    assert (
        repr(pattern()) == "Verifier(issuer='trusted_tenant', audience=['https://api.example.com'])"
    )


def test_issuer_must_be_a_function_strings_or_a_list(clock: Clock):
    for issuer in (42, {"https://a.example/": True}, b"https://a.example/"):
        with pytest.raises(ConfigurationError) as error:
            Verifier(issuer=issuer, audience=AUDIENCE)  # type: ignore[arg-type]
        assert error.value.setting == "issuer"


# --- issuer_for_request= ---------------------------------------------------------------------

BRAND_A, BRAND_B = "https://login.brand-a.com/", "https://login.brand-b.com/"
DOMAINS = {"api.brand-a.com": BRAND_A, "api.brand-b.com": BRAND_B}


def for_host(request: HttpRequest) -> str | None:
    """The documented resolver: the issuer of the host the request was sent to."""
    return DOMAINS.get(urlsplit(request.url).hostname or "")


def at(host: str, token: str) -> HttpRequest:
    return HttpRequest("GET", f"https://{host}/api/contacts", {"Authorization": f"Bearer {token}"})


@pytest.fixture
def brands() -> tuple[Provider, Provider]:
    return Provider(issuer=BRAND_A), Provider(issuer=BRAND_B, keys={"b1": ("RS256", rsa_key(1))})


@pytest.fixture
def per_request(brands: tuple[Provider, Provider], clock: Clock) -> MakeVerifier:
    both = Providers(*brands)

    def make(**overrides: Any) -> Verifier:
        settings: dict[str, Any] = {
            "issuer": [BRAND_A, BRAND_B],
            "issuer_for_request": for_host,
            "audience": AUDIENCE,
            "transport": both.transport(),
            "async_transport": both.async_transport(),
            "clock": clock.time,
            "monotonic": clock.monotonic,
        }
        settings.update(overrides)
        return Verifier(**settings)

    return make


def verify_request(verifier: Verifier, request: HttpRequest, mode: str) -> AccessToken:
    if mode == "sync":
        return verifier.verify_request(request)
    return asyncio.run(verifier.averify_request(request))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_each_host_trusts_its_own_issuer_and_no_other(
    per_request: MakeVerifier, brands: tuple[Provider, Provider], mode: str
):
    brand_a, brand_b = brands
    verifier = per_request()
    assert verify_request(verifier, at("api.brand-a.com", brand_a.token()), mode).issuer == BRAND_A
    assert verify_request(verifier, at("api.brand-b.com", brand_b.token("b1")), mode)
    with pytest.raises(InvalidIssuerError) as refused:
        verify_request(verifier, at("api.brand-a.com", brand_b.token("b1", sub="x")), mode)
    assert "not for this request" in refused.value.reason
    assert brand_b.jwks_hits == 1  # the refusal fetched nothing: b's keys from its own request


def test_a_remembered_token_is_not_accepted_on_another_host(
    per_request: MakeVerifier, brands: tuple[Provider, Provider]
):
    brand_a, _ = brands
    verifier = per_request()
    token = brand_a.token()
    for _ in range(3):  # kept by the verified-token cache from its second sighting
        verifier.verify_request(at("api.brand-a.com", token))
    with pytest.raises(InvalidIssuerError):
        verifier.verify_request(at("api.brand-b.com", token))
    assert verifier.verify_request(at("api.brand-a.com", token)).issuer == BRAND_A


def test_an_unknown_host_trusts_no_issuer(per_request: MakeVerifier, brands):
    with pytest.raises(InvalidIssuerError, match="trusts no issuer for this request"):
        per_request().verify_request(at("evil.example", brands[0].token()))


@pytest.mark.parametrize(
    "call",
    [
        lambda v, t: v.verify(t),
        lambda v, t: asyncio.run(v.averify(t)),
        lambda v, t: v.verify_authorization(f"Bearer {t}"),
        lambda v, t: v.authenticate(f"Bearer {t}"),
        lambda v, t: asyncio.run(v.aauthenticate(f"Bearer {t}")),
    ],
    ids=["verify", "averify", "verify_authorization", "authenticate", "aauthenticate"],
)
def test_a_token_without_its_request_is_refused_saying_to_verify_the_request(
    per_request: MakeVerifier,
    brands: tuple[Provider, Provider],
    call: Callable[[Verifier, str], object],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.WARNING, logger="bearerguard")
    verifier = per_request()
    token = brands[0].token()
    for _ in range(3):  # even a token the cache holds, verified with its request before
        verifier.verify_request(at("api.brand-a.com", token))
    with pytest.raises(InvalidIssuerError) as refused:
        call(verifier, token)
    assert "verify_request()" in refused.value.reason
    assert any("verify_request(" in r.getMessage() for r in caplog.records)


def raising(request: HttpRequest) -> str:
    raise LookupError(request.url)


async def coroutine(request: HttpRequest) -> str:
    return BRAND_A


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (raising, "raised LookupError"),
        (lambda request: 42, "returned a int"),
        (lambda request: [BRAND_A, 7], "returned a int among the issuers"),
        (lambda request: "https://evil.example/", "does not trust"),
        (lambda request: ["login.brand-a.com", "https://evil.example/"], "does not trust"),
        (lambda request: "https://None/", "no issuer URL"),
        (coroutine, "awaitable"),
    ],
    ids=["raises", "an int", "an int item", "untrusted", "one untrusted", "no url", "async"],
)
def test_a_resolver_that_misbehaves_refuses_and_says_why_in_the_log(
    per_request: MakeVerifier,
    brands: tuple[Provider, Provider],
    function: Callable[[HttpRequest], object],
    words: str,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.WARNING, logger="bearerguard")
    verifier = per_request(issuer_for_request=function)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine never awaited would warn
        with pytest.raises(InvalidIssuerError) as refused:
            verifier.verify_request(at("api.brand-a.com", brands[0].token()))
    assert refused.value.status_code == 401
    assert any(words in r.getMessage() for r in caplog.records), caplog.records
    assert brands[0].jwks_hits == 0


def test_a_resolver_may_return_bare_domains_lists_and_sets(
    per_request: MakeVerifier, brands: tuple[Provider, Provider]
):
    for answer in (
        "login.brand-a.com",
        [BRAND_A],
        (BRAND_B, BRAND_A),
        {BRAND_A},
        frozenset({BRAND_A}),
    ):
        verifier = per_request(issuer_for_request=lambda request, a=answer: a)
        assert verifier.verify_request(at("anywhere", brands[0].token())).issuer == BRAND_A


def test_with_a_function_issuer_the_resolver_picks_the_tenant(tenants: Tenants, clock: Clock):
    def tenant_of_host(request: HttpRequest) -> str:
        host = urlsplit(request.url).hostname or ""
        return f"https://{host.split('.')[0]}.{DOMAIN}/"

    verifier = Verifier(
        issuer=trusted_tenant,
        issuer_for_request=tenant_of_host,
        audience=AUDIENCE,
        clock=clock.time,
        **tenants.transports(),
    )
    assert verifier.verify_request(at("acme.api.example.com", tenants.token("acme")))
    with pytest.raises(InvalidIssuerError):  # globex's token at acme's host
        verifier.verify_request(at("acme.api.example.com", tenants.token("globex")))
    with pytest.raises(InvalidIssuerError, match="does not trust"):  # a host the pattern refuses
        verifier.verify_request(at("evil_.api.example.com", tenants.token("acme")))
    assert tenants.hosts() == {"acme.id.example.com": 2}


def test_issuer_for_request_must_be_a_function():
    for value in ("https://a.example/", ["https://a.example/"], {"h": "i"}):
        with pytest.raises(ConfigurationError) as error:
            Verifier(issuer="a.example", audience=AUDIENCE, issuer_for_request=value)  # type: ignore[arg-type]
        assert error.value.setting == "issuer_for_request"


def test_issuer_for_request_has_no_text_form():
    environ = {"BEARERGUARD_ISSUER": "a.example", "BEARERGUARD_AUDIENCE": AUDIENCE}
    environ["BEARERGUARD_ISSUER_FOR_REQUEST"] = "myapp.auth.for_host"
    with pytest.raises(ConfigurationError, match="cannot be written as text"):
        Verifier.from_env(environ)


def test_cache_policy_bounds_are_checked():
    assert (CachePolicy().max_issuers, CachePolicy().new_issuers_per_minute) == (1000, 60)
    CachePolicy(max_issuers=100_000, new_issuers_per_minute=6000)
    for settings in (
        {"max_issuers": 0},
        {"max_issuers": 100_001},
        {"new_issuers_per_minute": 0},
        {"new_issuers_per_minute": 6001},
        {"max_issuers": True},
        {"new_issuers_per_minute": 1.5},
    ):
        with pytest.raises(ConfigurationError) as error:
            CachePolicy(**settings)
        assert error.value.setting in settings
