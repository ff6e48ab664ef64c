"""End to end: one table of tokens through ``verify()`` and ``averify()``.

Verifier behaviour beyond the hostile-tokens catalogue: algorithm families,
shared secrets, scope sources, issuer configuration (bare domains, custom
domains), organizations. Every catalogue row (``T..``) lives in
``tests/hostile/catalogue.py``; the cases here are built and judged by the same
machinery (``tests/hostile/builders.py``, ``tests/hostile/checks.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    ConfigurationError,
    ExpiredTokenError,
    InsufficientScopeError,
    InvalidClaimsError,
    InvalidRequestError,
    InvalidSignatureError,
    KeySetUnavailableError,
    MalformedTokenError,
    MissingTokenError,
)

from .hostile.builders import (
    DISCOVERY,
    JWKS,
    SECRET,
    Case,
    Env,
    N,
    custom_domain,
    no,
    ok,
    serving,
    signed,
    using,
)
from .hostile.checks import MODES, Mode, run_in_core
from .support import (
    AUDIENCE,
    CUSTOM_DOMAIN,
    ISSUER,
    NOW,
    Clock,
    Provider,
    Providers,
    claims,
    ec_key,
    ed_key,
    rsa_key,
    sign_token,
)

ORG_DESCRIPTION = "The access token is not valid for this organization"
SCOPES = ("read:users",)

ACCEPTED: list[Case] = [
    # scope sources
    ok(
        "scp-string-granted",
        signed(drop=("scope",), scp="read:users write:users"),
        require=SCOPES,
    ),
    ok("scp-array-granted", signed(drop=("scope",), scp=["read:users"]), require=SCOPES),
    ok(
        "scope-and-scp-merged",
        signed(scope="a:b", scp=["read:users"]),
        check=lambda t: t.scopes == frozenset({"a:b", "read:users"}),
    ),
    ok(
        "permissions-granted-when-configured",
        signed(drop=("scope",), permissions=["read:users"]),
        settings=using(scope_claims=("scope", "permissions")),
        require=SCOPES,
    ),
    ok(
        "has-scopes-exact-and-case-sensitive",
        signed(scope="read:users"),
        check=lambda t: t.has_scopes("read:users") and not t.has_scopes("READ:USERS"),
    ),
    # signature families, when allowed
    ok(
        "RS384-accepted-when-allowed",
        signed(kid="r384"),
        settings=serving({"r384": ("RS384", lambda: rsa_key(1))}, algorithms=["RS384"]),
    ),
    ok(
        "RS512-accepted-when-allowed",
        signed(kid="r512"),
        settings=serving({"r512": ("RS512", lambda: rsa_key(1))}, algorithms=["RS512"]),
    ),
    ok(
        "PS256-accepted-when-allowed",
        signed(kid="ps"),
        settings=serving({"ps": ("PS256", lambda: rsa_key(1))}, algorithms=["PS256"]),
        check=lambda t: t.header["alg"] == "PS256",
    ),
    ok(
        "PS512-accepted-when-allowed",
        signed(kid="ps5"),
        settings=serving({"ps5": ("PS512", lambda: rsa_key(1))}, algorithms=["PS512"]),
    ),
    ok(
        "ES256-accepted-when-allowed",
        signed(kid="e256"),
        settings=serving({"e256": ("ES256", lambda: ec_key("P-256"))}, algorithms=["ES256"]),
    ),
    ok(
        "ES384-accepted-when-allowed",
        signed(kid="e384"),
        settings=serving({"e384": ("ES384", lambda: ec_key("P-384"))}, algorithms=["ES384"]),
    ),
    ok(
        "ES512-accepted-when-allowed",
        signed(kid="e512"),
        settings=serving({"e512": ("ES512", lambda: ec_key("P-521"))}, algorithms=["ES512"]),
    ),
    ok(
        "EdDSA-accepted-when-allowed",
        signed(kid="ed"),
        settings=serving({"ed": ("EdDSA", ed_key)}, algorithms=["EdDSA"]),
    ),
    ok(
        "mixed-allow-list-picks-per-token",
        signed(kid="e256"),
        settings=serving(
            {"e256": ("ES256", lambda: ec_key("P-256"))}, algorithms=["RS256", "ES256"]
        ),
    ),
    ok(
        "HS256-with-secret-needs-no-network",
        signed(kid=None, alg="HS256", key=lambda: SECRET),
        settings=using(algorithms=["HS256"], secret=SECRET),
        hits=0,
    ),
    ok(
        "HS384-with-secret",
        signed(kid=None, alg="HS384", key=lambda: SECRET),
        settings=using(algorithms=["HS384"], secret=SECRET),
        hits=0,
    ),
    ok(
        "HS512-with-secret",
        signed(kid=None, alg="HS512", key=lambda: SECRET),
        settings=using(algorithms=["HS512"], secret=SECRET),
        hits=0,
    ),
    ok(
        "HS256-next-to-RS256-needs-no-network",
        signed(kid=None, alg="HS256", key=lambda: SECRET),
        settings=using(algorithms=["RS256", "HS256"], secret=SECRET),
        hits=0,
    ),
    # issuers
    ok(
        "bare-domain-issuer-config",
        signed(),
        settings=using(issuer="tenant.auth0.com"),
        check=lambda t: t.issuer == ISSUER,
    ),
    ok(
        "auth0-custom-domain-token-accepted",
        signed(iss=CUSTOM_DOMAIN),
        settings=custom_domain(),
        check=lambda t: t.issuer == CUSTOM_DOMAIN,
        hits=2,  # the custom domain's own discovery and key set
    ),
    ok("auth0-canonical-domain-token-accepted", signed(), settings=custom_domain(), hits=2),
    ok(
        "auth0-custom-domain-via-one-jwks-uri",
        signed(iss=CUSTOM_DOMAIN),
        settings=custom_domain(one_jwks_uri=True),
        hits=1,  # no discovery at all
    ),
    # organizations
    ok(
        "organization-id-matches",
        signed(org_id="org_abc123"),
        settings=using(organization="org_abc123"),
    ),
    ok(
        "organization-name-case-insensitive",
        signed(org_name="acme"),
        settings=using(organization=["org_other", "Acme"]),
    ),
]

REJECTED: list[Case] = [
    no("scp-number", InvalidClaimsError, signed(scp=7)),
    no("scp-array-of-numbers", InvalidClaimsError, signed(scp=[7])),
    no(
        "permissions-ignored-unless-configured",
        InsufficientScopeError,
        signed(drop=("scope",), permissions=["read:users"]),
        require=SCOPES,
    ),
    no(
        "HS256-wrong-secret",
        InvalidSignatureError,
        signed(kid=None, alg="HS256", key=lambda: SECRET[::-1]),
        settings=using(algorithms=["HS256"], secret=SECRET),
        hits=0,
    ),
    # organizations
    no(
        "organization-missing",
        InvalidClaimsError,
        signed(),
        settings=using(organization="org_abc123"),
        description=ORG_DESCRIPTION,
    ),
    no(
        "organization-other-id",
        InvalidClaimsError,
        signed(org_id="org_other"),
        settings=using(organization="org_abc123"),
        description=ORG_DESCRIPTION,
    ),
    no(
        "organization-id-is-case-sensitive",
        InvalidClaimsError,
        signed(org_id="ORG_ABC123"),
        settings=using(organization="org_abc123"),
        description=ORG_DESCRIPTION,
    ),
]

CASES = ACCEPTED + REJECTED


@pytest.fixture
def env(provider: Provider, clock: Clock) -> Env:
    return Env(provider, clock)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_verifier_table(
    case: Case, mode: Mode, env: Env, make_verifier, caplog: pytest.LogCaptureFixture
) -> None:
    run_in_core(case, env, make_verifier, mode, caplog)


def test_catalogue_rows_live_in_the_hostile_catalogue() -> None:
    """Each case lives once: the T.. rows are in tests/hostile/catalogue.py."""
    assert [case.id for case in CASES if case.id[:1] == "T" and case.id[1:3].isdigit()] == []


# --- scenarios that need more than one token or call ------------------------------------------


def test_auth0_custom_domain_and_canonical_domain_are_each_discovered(
    verify, make_verifier, provider
) -> None:
    custom = Provider(issuer=CUSTOM_DOMAIN)
    routes = Providers(provider, custom)
    verifier = make_verifier(
        issuer=[ISSUER, CUSTOM_DOMAIN],
        transport=routes.transport(),
        async_transport=routes.async_transport(),
    )
    for _ in range(2):
        assert verify(verifier, provider.token()).issuer == ISSUER
        assert verify(verifier, custom.token()).issuer == CUSTOM_DOMAIN
    for tenant in (provider, custom):
        assert tenant.hits[DISCOVERY] == 1
        assert tenant.jwks_hits == 1


def test_one_jwks_uri_serves_canonical_and_custom_domain(verify, make_verifier, provider) -> None:
    verifier = make_verifier(issuer=[ISSUER, CUSTOM_DOMAIN], jwks_uri=provider.jwks_uri)
    assert verify(verifier, provider.token()).issuer == ISSUER
    assert verify(verifier, provider.token(iss=CUSTOM_DOMAIN)).issuer == CUSTOM_DOMAIN
    assert provider.hits[DISCOVERY] == 0
    assert provider.jwks_hits == 1  # one URL, one cached key set


def test_leeway_is_applied_to_exp_on_the_injected_clock(verify, make_verifier, provider, clock):
    verifier = make_verifier(leeway=10)
    raw = provider.token(exp=N + 100)
    assert verify(verifier, raw).subject == "auth0|123"
    clock.advance(109)
    assert verify(verifier, raw).subject == "auth0|123"
    clock.advance(1)  # now == exp + leeway
    with pytest.raises(ExpiredTokenError):
        verify(verifier, raw)


REALM_FAILURES: list[tuple[str, Callable[[Provider], str]]] = [
    ("expired", lambda p: p.token(exp=N - 3600)),
    ("untrusted-issuer", lambda p: p.token(iss="https://evil.example/")),
    ("bad-signature", lambda p: p.token()[:-4] + "AAAA"),
    ("malformed", lambda p: "not-a-jwt"),
    ("unknown-key", lambda p: sign_token({"alg": "RS256", "kid": "zz"}, claims(), rsa_key(0))),
    ("wrong-audience", lambda p: p.token(aud="https://other-api")),
    ("insufficient-scope", lambda p: p.token()),
    ("provider-down", lambda p: p.token()),
]


@pytest.mark.parametrize(("name", "make"), REALM_FAILURES, ids=[n for n, _ in REALM_FAILURES])
def test_realm_override_flows_into_every_challenge(
    name, make, verify, make_verifier, provider
) -> None:
    if name == "provider-down":
        provider.override[DISCOVERY] = lambda request: httpx.Response(500)
    verifier = make_verifier(realm="orders api")

    def attempt() -> None:
        verify(verifier, make(provider)).require_scopes("admin:orders")

    with pytest.raises(BearerError) as caught:
        attempt()
    exc = caught.value
    assert exc.realm == "orders api"
    assert (exc.www_authenticate or "").startswith('Bearer realm="orders api"')
    assert exc.headers["WWW-Authenticate"] == exc.www_authenticate


@pytest.fixture(params=["sync", "async"])
def authorize(request: pytest.FixtureRequest) -> Callable[[Any, Any], AccessToken]:
    if request.param == "sync":
        return lambda verifier, header: verifier.verify_authorization(header)
    return lambda verifier, header: asyncio.run(verifier.averify_authorization(header))


def test_missing_credentials_name_the_configured_realm(authorize, make_verifier, provider):
    with pytest.raises(MissingTokenError) as caught:
        authorize(make_verifier(realm="orders"), None)
    assert caught.value.www_authenticate == 'Bearer realm="orders"'  # bare: no error code
    assert sum(provider.hits.values()) == 0


# missing_token(): what an adapter raises for a route that needs a token, naming its scopes


def test_missing_token_names_the_route_scopes_in_every_challenge(make_verifier) -> None:
    refused = make_verifier(realm="orders", dpop_algorithms=["ES256"]).missing_token(
        ["read:contacts", "write:contacts"]
    )

    assert refused.www_authenticate == (
        'Bearer realm="orders", scope="read:contacts write:contacts", '
        'DPoP realm="orders", algs="ES256", scope="read:contacts write:contacts"'
    )


def test_missing_token_for_a_route_without_scopes_names_none(make_verifier) -> None:
    assert make_verifier(dpop="off").missing_token().www_authenticate == 'Bearer realm="api"'


def test_missing_token_takes_one_scope_as_a_string(make_verifier) -> None:
    refused = make_verifier(dpop="off").missing_token("read:contacts")

    assert refused.www_authenticate == 'Bearer realm="api", scope="read:contacts"'


def test_missing_token_never_names_offline_access(make_verifier) -> None:
    refused = make_verifier(dpop="off").missing_token(["offline_access", "read:contacts"])

    assert refused.www_authenticate == 'Bearer realm="api", scope="read:contacts"'


def test_missing_token_puts_the_scope_before_the_metadata_url(make_verifier) -> None:
    verifier = make_verifier(dpop="off", audience=None, resource="https://api.example.com/mcp")

    refused = verifier.missing_token(["tools:call"])

    assert refused.www_authenticate == (
        'Bearer realm="api", scope="tools:call", resource_metadata='
        '"https://api.example.com/.well-known/oauth-protected-resource/mcp"'
    )


@pytest.mark.parametrize(
    ("scopes", "says"),
    [
        (["read contacts"], "not a scope name"),
        ([""], "not a scope name"),
        ([42], "not a scope name"),
        (42, "as a list"),
        (None, "as a list"),
    ],
)
def test_missing_token_refuses_what_are_not_scope_names(make_verifier, scopes, says) -> None:
    with pytest.raises(ConfigurationError, match=says):
        make_verifier().missing_token(scopes)


def test_verify_authorization_accepts_a_bearer_header(authorize, make_verifier, provider) -> None:
    token = authorize(make_verifier(), "Bearer " + provider.token())
    assert token.subject == "auth0|123"


@pytest.fixture(params=["sync", "async"])
def authenticate(request: pytest.FixtureRequest) -> Callable[..., AccessToken | None]:
    if request.param == "sync":
        return lambda verifier, header, **kw: verifier.authenticate(header, **kw)
    return lambda verifier, header, **kw: asyncio.run(verifier.aauthenticate(header, **kw))


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz"])
def test_authenticate_without_bearer_credentials_is_none(
    header, authenticate, make_verifier, provider
) -> None:
    assert authenticate(make_verifier(), header) is None
    assert authenticate(make_verifier(), header, query="access_token=x") is None  # T08
    assert sum(provider.hits.values()) == 0


def test_authenticate_returns_the_verified_token(authenticate, make_verifier, provider) -> None:
    token = authenticate(make_verifier(), "Bearer " + provider.token())
    assert token is not None
    assert token.subject == "auth0|123"


@pytest.mark.parametrize(
    ("header", "query", "error"),
    [
        ("Bearer", None, InvalidRequestError),
        ("Bearer a.b.c", "access_token=a.b.c", InvalidRequestError),
        ("Bearer not-a-jwt", None, MalformedTokenError),
    ],
)
def test_authenticate_refuses_bad_credentials(
    header, query, error, authenticate, make_verifier
) -> None:
    with pytest.raises(error):
        authenticate(make_verifier(), header, query=query)


def test_authenticate_refuses_an_expired_token(authenticate, make_verifier, provider) -> None:
    with pytest.raises(ExpiredTokenError):
        authenticate(make_verifier(), "Bearer " + provider.token(exp=int(NOW) - 3600))


@pytest.fixture(params=["sync", "async"])
def warm_up(request: pytest.FixtureRequest) -> Callable[[Any], None]:
    if request.param == "sync":
        return lambda verifier: verifier.warm_up()
    return lambda verifier: asyncio.run(verifier.awarm_up())


def test_warm_up_fetches_discovery_and_keys_before_any_token(
    warm_up, verify, make_verifier, provider
) -> None:
    verifier = make_verifier()
    assert sum(provider.hits.values()) == 0  # construction never touches the network
    warm_up(verifier)
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1
    assert verify(verifier, provider.token()).subject == "auth0|123"
    warm_up(verifier)  # still fresh: nothing to do
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1


def test_warm_up_with_jwks_uri_skips_discovery(warm_up, make_verifier, provider) -> None:
    warm_up(make_verifier(jwks_uri=provider.jwks_uri))
    assert provider.hits[DISCOVERY] == 0
    assert provider.jwks_hits == 1


def test_warm_up_of_a_secret_only_verifier_fetches_nothing(warm_up, make_verifier, provider):
    warm_up(make_verifier(algorithms=["HS256"], secret=SECRET))
    assert sum(provider.hits.values()) == 0


@pytest.mark.parametrize("broken", [DISCOVERY, JWKS])
def test_warm_up_raises_key_set_unavailable_when_the_provider_is_down(
    broken, warm_up, make_verifier, provider
) -> None:
    provider.override[broken] = lambda request: httpx.Response(503)
    with pytest.raises(KeySetUnavailableError) as caught:
        warm_up(make_verifier(realm="orders"))
    exc = caught.value
    assert exc.status_code == 503
    assert exc.realm == "orders"
    assert int(exc.headers["Retry-After"]) >= 1
    assert provider.hits[broken] == 1


def test_access_token_fields(verify, make_verifier, provider) -> None:
    raw = provider.token(scope="read:contacts write:contacts", aud=[AUDIENCE, "x"], iat=N - 60)
    token = verify(make_verifier(), raw)
    assert token.subject == "auth0|123"
    assert token.issuer == ISSUER
    assert token.audience == (AUDIENCE, "x")
    assert isinstance(token.audience, tuple)
    assert token.scopes == frozenset({"read:contacts", "write:contacts"})
    assert isinstance(token.scopes, frozenset)
    assert token.expires_at == datetime(2027, 1, 15, 9, 0, tzinfo=timezone.utc)
    assert token.expires_at.tzinfo is not None
    assert token.expires_at.utcoffset() == timedelta(0)
    assert token.issued_at == datetime.fromtimestamp(N - 60, timezone.utc)
    assert token.client_id == "client-1"
    assert token.header["kid"] == "k1"
    assert token.raw == raw
    assert isinstance(token.claims, MappingProxyType)
    assert token.claims["azp"] == "client-1"
    with pytest.raises(TypeError):
        token.claims["sub"] = "someone-else"  # type: ignore[index]
    with pytest.raises(TypeError):
        token.header["alg"] = "none"  # type: ignore[index]
    assert raw not in repr(token)


def test_tokens_with_the_same_scope_string_grant_the_same_scopes_within_a_bound(
    verify, make_verifier, provider
) -> None:
    from bearerguard import _claims

    verifier = make_verifier()
    first = verify(verifier, provider.token(scope="read:contacts write:contacts", jti="a"))
    second = verify(verifier, provider.token(scope="read:contacts write:contacts", jti="b"))
    assert first.scopes == second.scopes == frozenset({"read:contacts", "write:contacts"})
    for i in range(300):  # more distinct scope strings than are remembered
        token = verify(verifier, provider.token(scope=f"generated:{i} read:contacts", jti=str(i)))
        assert token.scopes == frozenset({f"generated:{i}", "read:contacts"})
    assert len(_claims._SCOPE_SETS) <= _claims._MAX_SCOPE_SETS
    odd = verify(verifier, provider.token(scope=" read:contacts  write:contacts ", jti="c"))
    assert odd.scopes == frozenset({"read:contacts", "write:contacts"})  # still parsed in full


def test_sync_and_async_share_one_cache(make_verifier, provider) -> None:
    verifier = make_verifier()
    assert verifier.verify(provider.token()).subject == "auth0|123"
    assert asyncio.run(verifier.averify(provider.token())).subject == "auth0|123"
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1
