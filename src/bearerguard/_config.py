"""Verifier settings: frozen, keyword-only, validated when built.

Every message names the setting, what it was given and what to write instead
(``_coerce``). Issuers are normalised here (a bare domain becomes
``https://domain/``) and indexed by every equivalent spelling of their URL
(``_issuers``); a token's ``iss`` is looked up there, never rewritten.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._certificates import CertificateSource, check_client_certificate
from ._claim_rules import ClaimRule, check_rules, required
from ._coerce import LISTS, integer, names, number, refuse, switch
from ._decryption_keys import DecryptionKeys, decryption_keys
from ._errors import DEFAULT_REALM, SCOPE_TOKEN, ConfigurationError
from ._introspection_config import Introspection
from ._issuers import IssuerIndex, UrlIndex, issuer_key, normalize_issuer
from ._resolvers import IssuerPattern, RequestResolver, as_predicate, check_issuer_for_request
from ._resource import (
    check_authorization_servers,
    check_resource,
    check_resource_documentation,
    check_resource_name,
    check_scopes_supported,
    metadata_url,
)
from ._scopes import ScopeHierarchy, check_scope_implications
from ._settings import SETTING_NAMES, settings_from_mapping
from ._signatures import mldsa_public_key_class
from ._static_keys import StaticKeySet, static_keys
from ._urls import check_url, is_loopback_host

if TYPE_CHECKING:
    from ._request import HttpRequest

# What the proof algorithms may be: every asymmetric JWS algorithm (RFC 9449 §4.2: never
# none, never a MAC). The same set as _dpop.DPOP_ALGORITHMS, which imports this module.
DPOP_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}
    | {"EdDSA", "Ed25519", "Ed448"}
)
_SCHEMES = {"off": ("Bearer",), "allowed": ("Bearer", "DPoP"), "required": ("DPoP",)}
#: seconds: a proof older than this is never worth accepting (and the replay store's window)
MAX_DPOP_PROOF_AGE = 300.0

# Settings by name, URL checks and issuers live in their own modules; kept importable here.
__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "MLDSA_ALGORITHMS",
    "SETTING_NAMES",
    "CachePolicy",
    "Introspection",
    "VerifierConfig",
    "check_url",
    "is_loopback_host",
    "normalize_issuer",
    "settings_from_mapping",
]

# ML-DSA (FIPS 204) by RFC 9964's names, verified with AKP keys. Never in a default: each level
# is allowed by naming it in algorithms. Not for DPoP proofs (see _check_dpop).
MLDSA_ALGORITHMS = frozenset({"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"})
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "ES256K",
        "EdDSA", "Ed25519", "Ed448",  # Ed25519/Ed448: RFC 9864's fully-specified names
    }
) | MLDSA_ALGORITHMS  # fmt: skip
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
SUPPORTED_ALGORITHMS = ASYMMETRIC_ALGORITHMS | HMAC_ALGORITHMS
# Digest sizes; RFC 7518 §3.2 also makes them the minimum length of an HMAC key.
HMAC_DIGEST_SIZES: Mapping[str, int] = MappingProxyType({"HS256": 32, "HS384": 48, "HS512": 64})
MAX_LEEWAY = 600.0  # ten minutes, as Tink caps clock skew; more hides broken clocks
DEFAULT_SCOPE_CLAIMS = ("scope", "scp")
DEFAULT_TOKEN_CACHE_SIZE = 1024
MAX_TOKEN_CACHE_SIZE = 1 << 20
# Issuers resolved at run time (issuer= a function): kept, and taken in per minute.
DEFAULT_MAX_ISSUERS, MAX_ISSUERS = 1000, 100_000
DEFAULT_NEW_ISSUERS_PER_MINUTE, MAX_NEW_ISSUERS_PER_MINUTE = 60, 6000


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How the key sets of the issuers are cached and fetched.

    Times are seconds. ``ttl`` applies when the response has no usable
    ``Cache-Control: max-age``; a max-age is honoured within ``min_ttl..max_ttl``.
    With ``issuer=`` a function (issuers resolved at run time), ``max_issuers`` bounds
    the issuers it keeps keys for (least recently used forgotten first; 1 to
    100,000) and ``new_issuers_per_minute`` the issuers it takes in (a token bucket of
    that size, refilled at that rate; 1 to 6,000): beyond it, a new issuer's token is
    answered 503 with ``Retry-After`` (``docs/security.md``).

    Example::

        Verifier(issuer=..., audience=..., cache=CachePolicy(ttl=300, fetch_timeout=2))
    """

    ttl: float = 600.0
    min_ttl: float = 60.0
    max_ttl: float = 86400.0
    unknown_kid_cooldown: float = 30.0
    stale_if_error: float = 6 * 3600.0
    failure_backoff: float = 1.0
    max_failure_backoff: float = 30.0
    discovery_ttl: float = 86400.0
    fetch_timeout: float = 5.0
    max_document_bytes: int = 256 * 1024
    max_issuers: int = DEFAULT_MAX_ISSUERS
    new_issuers_per_minute: int = DEFAULT_NEW_ISSUERS_PER_MINUTE

    def __post_init__(self) -> None:
        for name in (
            "ttl", "min_ttl", "max_ttl", "unknown_kid_cooldown", "stale_if_error",
            "failure_backoff", "max_failure_backoff", "discovery_ttl", "fetch_timeout",
        ):  # fmt: skip
            value = number(getattr(self, name), name, math.inf, f"CachePolicy({name}=60)")
            object.__setattr__(self, name, value)
        if not self.min_ttl <= self.ttl <= self.max_ttl:
            raise ConfigurationError(
                f"CachePolicy ttl must lie between min_ttl and max_ttl; got ttl={self.ttl:g}, "
                f"min_ttl={self.min_ttl:g}, max_ttl={self.max_ttl:g}.",
                setting="ttl",
            )
        if self.fetch_timeout <= 0:
            raise ConfigurationError(
                "fetch_timeout must be > 0 seconds: every fetch needs a deadline.",
                setting="fetch_timeout",
            )
        integer(
            self.max_document_bytes,
            "max_document_bytes",
            1024,
            1 << 30,
            "CachePolicy(max_document_bytes=262144)",
        )
        integer(self.max_issuers, "max_issuers", 1, MAX_ISSUERS, "CachePolicy(max_issuers=1000)")
        integer(
            self.new_issuers_per_minute,
            "new_issuers_per_minute",
            1,
            MAX_NEW_ISSUERS_PER_MINUTE,
            "CachePolicy(new_issuers_per_minute=60)",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierConfig:
    """Validated settings of a :class:`~bearerguard.Verifier`.

    Each field takes what the Verifier's keyword of the same meaning takes (a string
    or a list for the lists); a wrong value raises :class:`ConfigurationError` naming
    the Verifier's keyword.

    Example::

        config = VerifierConfig(issuers=("tenant.auth0.com",), audiences=("https://api.example.com",))
        config.issuers   # ('https://tenant.auth0.com/',)
    """

    issuers: tuple[str, ...]
    #: what a token's aud must name; defaults to ``resource`` (one of the two is required)
    audiences: tuple[str, ...] = ()
    algorithms: frozenset[str] = frozenset({"RS256"})
    leeway: float = 30.0
    jwks_uri: str | Mapping[str, str] | None = None
    secret: bytes | None = field(default=None, repr=False)
    rfc9068_strict: bool = False
    max_age: float | None = None
    organizations: frozenset[str] = frozenset()
    scope_claims: tuple[str, ...] = DEFAULT_SCOPE_CLAIMS
    max_token_size: int = 16 * 1024
    token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE
    realm: str = DEFAULT_REALM
    cache: CachePolicy = field(default_factory=CachePolicy)
    #: DPoP (RFC 9449): "off", "allowed" (bound tokens as DPoP, others as Bearer) or "required"
    dpop: str = "allowed"
    #: the algorithms a DPoP proof may be signed with (asymmetric only)
    dpop_algorithms: frozenset[str] = DPOP_ALGORITHMS
    #: seconds a DPoP proof's iat may lie in the past (plus leeway)
    dpop_proof_max_age: float = 60.0
    #: scheme://host[:port][/prefix] clients use, when a proxy hides it from the framework
    public_url: str | None = None
    #: RFC 8705: where requests carry the client certificate ("tls", "header:Client-Cert",
    #: ...); None reads none, and certificate-bound tokens are refused
    client_certificate: str | None = None
    #: RFC 9728: the protected resource's identifier, the URL clients call
    resource: str | None = None
    #: RFC 9728 scopes_supported: the scopes clients may ask for this resource
    scopes_supported: tuple[str, ...] = ()
    #: RFC 9728 resource_name: the resource's name, for people
    resource_name: str | None = None
    #: RFC 9728 resource_documentation: a page about the resource, for people
    resource_documentation: str | None = None
    #: broader scope -> the narrower scopes it implies (a list, or space-separated);
    #: kept as declared, each list a tuple
    scope_implications: Mapping[str, Sequence[str]] | None = None
    #: claims every token must carry, present and not null (401 otherwise)
    required_claims: tuple[str, ...] = ()
    #: rules every token's claims must meet (bearerguard.claims; 401 otherwise)
    claim_rules: tuple[ClaimRule, ...] = ()
    #: the issuers' public keys written in the configuration (keys=): never fetched
    keys: Any = field(default=None, repr=False)
    #: a function of the request returning the issuers trusted for it, within issuers
    issuer_for_request: Callable[[HttpRequest], object] | None = None
    #: the API's private keys for encrypted tokens (JWE): without them, a JWE is refused
    decryption_keys: Any = field(default=None, repr=False)
    #: issuer -> JWKS URL for the issuers whose key set is not found by discovery
    jwks_uris: Mapping[str, str] = field(init=False, repr=False)
    #: the metadata's authorization_servers, spelt as written (a bare domain as
    #: https://domain/): those given, each a trusted issuer; by default the issuers
    authorization_servers: tuple[str, ...] = field(default=(), repr=False)
    #: where the resource's RFC 9728 metadata is (§3.1); ``None`` without a resource
    resource_metadata_url: str | None = field(init=False, repr=False)
    #: the issuers, found by any equivalent spelling of their URL (RFC 3986 §6.2.2-6.2.3)
    issuer_index: IssuerIndex = field(init=False, repr=False, compare=False)
    #: the audiences, found likewise: a URL-shaped aud matches in any equivalent spelling
    audience_index: UrlIndex = field(init=False, repr=False, compare=False)
    #: scope_implications closed under transitivity, what scope checks consult; None
    #: without any, so that tokens of a verifier without a hierarchy skip it at once
    scope_hierarchy: ScopeHierarchy | None = field(init=False, repr=False, compare=False)
    #: required_claims as a rule, then claim_rules: what the claim checks run, in order
    claim_checks: tuple[ClaimRule, ...] = field(init=False, repr=False, compare=False)
    #: what reads client_certificate's source (a memo of the certificates seen); None without
    certificate_source: CertificateSource | None = field(init=False, repr=False, compare=False)
    #: issuer= as a function of the iss (issuers resolved at run time), else None
    issuer_predicate: Callable[[str], object] | None = field(init=False, repr=False, compare=False)
    #: configured issuer -> its keys= (no discovery, no fetch)
    static_keys: Mapping[str, StaticKeySet] = field(init=False, repr=False, compare=False)
    #: issuer_for_request with a memo of its answers, within issuer_index; None without
    request_issuers: RequestResolver | None = field(init=False, repr=False, compare=False)
    #: decryption_keys imported (chosen by kid, alg and enc); None without: JWEs refused
    decryption: DecryptionKeys | None = field(init=False, repr=False, compare=False)
    #: RFC 7662: opaque tokens judged by the provider's introspection endpoint; None: refused
    introspection: Introspection | None = None
    #: the configured issuer whose endpoint answers (introspection's, or the only issuer)
    introspection_issuer: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        issuer_example = "issuer='your-tenant.auth0.com' (or the full URL of your tokens' iss)"
        predicate = as_predicate(self.issuers)
        index: IssuerIndex
        if predicate is None:
            given_issuers = names(self.issuers, "issuer", issuer_example)
            normal_issuers = [normalize_issuer(i) for i in given_issuers]
            index = IssuerIndex(normal_issuers)
        else:  # the issuers it names come from keys=, jwks_uri= and authorization_servers=
            given_issuers, normal_issuers, index = (), [], IssuerPattern(predicate, ())
        object.__setattr__(self, "issuer_predicate", predicate)
        object.__setattr__(self, "issuers", index.issuers)
        object.__setattr__(self, "issuer_index", index)

        _check_resource(self)
        audiences = _check_audiences(self.audiences, self.resource)
        object.__setattr__(self, "audiences", audiences)
        object.__setattr__(self, "audience_index", UrlIndex(audiences))

        object.__setattr__(self, "secret", _check_secret(self.secret))
        object.__setattr__(self, "algorithms", _check_algorithms(self.algorithms, self.secret))
        leeway = number(self.leeway, "leeway", MAX_LEEWAY, "leeway=30")
        object.__setattr__(self, "leeway", leeway)
        if self.max_age is not None:
            max_age = number(self.max_age, "max_age", math.inf, "max_age=3600")
            object.__setattr__(self, "max_age", max_age)
        object.__setattr__(self, "jwks_uris", _check_jwks_uris(self.jwks_uri, index))
        _check_trust(self, given_issuers, normal_issuers)
        organizations = names(
            self.organizations, "organization", "organization='org_abc123'", allow_empty=True
        )
        object.__setattr__(self, "organizations", frozenset(organizations))
        object.__setattr__(
            self,
            "scope_claims",
            names(self.scope_claims, "scope_claims", "scope_claims=('scope', 'permissions')"),
        )
        object.__setattr__(
            self,
            "rfc9068_strict",
            switch(self.rfc9068_strict, "rfc9068_strict"),
        )
        integer(self.max_token_size, "max_token_size", 512, 1 << 20, "max_token_size=16384")
        integer(
            self.token_cache_size,
            "token_cache_size",
            0,
            MAX_TOKEN_CACHE_SIZE,
            "token_cache_size=1024 (0 turns the cache off)",
        )
        realm = self.realm
        if not isinstance(realm, str) or not SCOPE_TOKEN.fullmatch(realm.replace(" ", "!")):
            raise refuse(
                "realm",
                "must be printable ASCII without quotes or backslashes",
                realm,
                "realm='api'",
            )
        _check_dpop(self)
        object.__setattr__(self, "decryption", decryption_keys(self.decryption_keys))
        object.__setattr__(self, "introspection_issuer", _check_introspection(self))
        source = check_client_certificate(self.client_certificate)
        object.__setattr__(self, "client_certificate", source)
        object.__setattr__(
            self, "certificate_source", None if source is None else CertificateSource(source)
        )
        _check_claim_rules(self)
        implications = check_scope_implications(self.scope_implications)
        object.__setattr__(self, "scope_implications", implications)
        object.__setattr__(
            self, "scope_hierarchy", ScopeHierarchy(implications) if implications else None
        )
        cache: Any = self.cache  # any value may arrive here, whatever the annotation says
        if cache is None:
            object.__setattr__(self, "cache", CachePolicy())
        elif not isinstance(cache, CachePolicy):
            raise refuse(
                "cache",
                "must be a bearerguard CachePolicy",
                cache,
                "cache=CachePolicy(ttl=300)",
            )

    @property
    def whole_requests(self) -> bool:
        """Whether every request with credentials must reach the verifier whole
        (``verify_request``), not just its ``Authorization`` field: when client
        certificates are read (a token's binding to one is known only once it is verified)
        or the trusted issuers depend on the request (``issuer_for_request``)."""
        return self.certificate_source is not None or self.request_issuers is not None

    @property
    def dpop_schemes(self) -> tuple[str, ...]:
        """The schemes requests may use, in the order challenges offer them."""
        return _SCHEMES[self.dpop]

    @property
    def uses_key_sets(self) -> bool:
        """Whether any allowed algorithm needs a provider's key set (i.e. is asymmetric)."""
        return bool(self.algorithms & ASYMMETRIC_ALGORITHMS)


def _as_written(given: tuple[str, ...], normal: list[str]) -> tuple[str, ...]:
    """Each issuer as the setting spelt it (a bare domain: its https URL), equivalent
    spellings once: what clients compare the provider's own ``issuer`` with (RFC 8414 §3.3)."""
    written: dict[str, str] = {}
    for spelt, normalised in zip(given, normal, strict=True):
        written.setdefault(
            issuer_key(normalised) or normalised, spelt if "://" in spelt else normalised
        )
    return tuple(written.values())


def _check_trust(config: VerifierConfig, given: tuple[str, ...], normal: list[str]) -> None:
    """``keys=``, ``authorization_servers=`` and ``issuer_for_request=`` against the trusted
    issuers. With ``issuer=`` a function, the issuers these name (and ``jwks_uri=``'s) are
    the configured ones: it must trust each, and they are never forgotten."""
    index, predicate = config.issuer_index, config.issuer_predicate
    if predicate is not None and isinstance(config.jwks_uri, str):
        raise ConfigurationError(
            "jwks_uri must be a mapping {issuer: URL} when issuer= is a function: one URL "
            "cannot serve the issuers it trusts at run time, which are found by discovery.",
            setting="jwks_uri",
        )
    keys = static_keys(
        config.keys,
        index,
        config.algorithms,
        one_issuer=predicate is None and len(index.issuers) == 1,
    )
    both = [issuer for issuer in keys if issuer in config.jwks_uris]
    if both:
        raise ConfigurationError(
            f"The issuer {both[0]!r} has both keys= and jwks_uri=: drop jwks_uri= for it "
            "(keys= are its keys, and nothing is fetched), or drop its keys= to fetch them.",
            setting="keys",
        )
    object.__setattr__(config, "static_keys", MappingProxyType(keys))
    servers = check_authorization_servers(config.authorization_servers, index)
    if predicate is not None:
        named = [normalize_issuer(s) for s in servers] + [*config.jwks_uris, *keys]
        index = IssuerPattern(predicate, named)
        object.__setattr__(config, "issuers", index.issuers)
        object.__setattr__(config, "issuer_index", index)
        servers = servers or index.issuers
        if not servers and config.resource is not None:
            raise ConfigurationError(
                "authorization_servers must name the issuer(s) clients get tokens from: with "
                "issuer= a function, the RFC 9728 metadata of resource= cannot list them by "
                "itself. Write e.g. authorization_servers=['https://tenant.auth0.com/'].",
                setting="authorization_servers",
            )
    object.__setattr__(config, "authorization_servers", servers or _as_written(given, normal))
    function = check_issuer_for_request(config.issuer_for_request)
    object.__setattr__(
        config, "request_issuers", None if function is None else RequestResolver(function, index)
    )


def _check_introspection(config: VerifierConfig) -> str | None:
    """``introspection=``: the settings object, and the configured issuer whose endpoint it is."""
    settings: Any = config.introspection
    if settings is None:
        return None
    if not isinstance(settings, Introspection):
        raise refuse(
            "introspection",
            "must be a bearerguard Introspection",
            settings,
            "introspection=Introspection(client_id='api', client_secret='...')",
        )
    if settings.issuer is not None:
        issuer = config.issuer_index.find(normalize_issuer(settings.issuer, setting="issuer"))
        if issuer is None:
            raise ConfigurationError(
                f"Introspection issuer {settings.issuer!r} is not one of the verifier's "
                "issuers: name one of them (its endpoint's answers speak for it).",
                setting="introspection",
            )
        return issuer
    if len(config.issuers) != 1:
        raise ConfigurationError(
            "Introspection needs issuer=...: the verifier trusts "
            f"{'several issuers' if config.issuers else 'issuers chosen at run time'}, and "
            "the endpoint's answers speak for one of them. Write e.g. "
            "Introspection(issuer='https://login.example.com/', client_id=..., client_secret=...).",
            setting="introspection",
        )
    return config.issuers[0]


def _check_claim_rules(config: VerifierConfig) -> None:
    """``required_claims`` (names) and ``claim_rules`` (bearerguard.claims), as one list."""
    example, given_names = "required_claims=['org_id', 'email']", config.required_claims
    names_ = names(given_names, "required_claims", example, allow_empty=True)
    rules = check_rules(config.claim_rules, "claim_rules")
    object.__setattr__(config, "required_claims", names_)
    object.__setattr__(config, "claim_rules", rules)
    try:
        checks = (required(*names_), *rules) if names_ else rules
    except ConfigurationError:  # a list in one string ("org_id email"), a control character
        raise refuse(
            "required_claims",
            "must hold one claim name per item (no spaces, commas or control characters)",
            given_names,
            example,
        ) from None
    object.__setattr__(config, "claim_checks", checks)


def _check_resource(config: VerifierConfig) -> None:
    """The RFC 9728 settings: the resource, its metadata's URL, scopes, name, documentation."""
    if config.resource is not None:
        resource = check_resource(config.resource)
        object.__setattr__(config, "resource", resource)
        object.__setattr__(config, "resource_metadata_url", metadata_url(resource))
    else:
        object.__setattr__(config, "resource_metadata_url", None)
    object.__setattr__(config, "scopes_supported", check_scopes_supported(config.scopes_supported))
    object.__setattr__(config, "resource_name", check_resource_name(config.resource_name))
    object.__setattr__(
        config,
        "resource_documentation",
        check_resource_documentation(config.resource_documentation),
    )


def _check_audiences(audiences: object, resource: str | None) -> tuple[str, ...]:
    """The audiences given, else the resource: tokens issued for this resource (RFC 8707)
    name it as their aud. With neither, no token could be checked for being meant here."""
    example = "audience='https://api.example.com' (your API's identifier)"
    if audiences is None or (isinstance(audiences, LISTS) and not audiences):
        if resource is not None:
            return (resource,)
        raise refuse(
            "audience",
            "must name this API (what tokens carry as aud) unless resource= is given, which "
            "the audience then defaults to",
            audiences,
            f"{example}, or resource='https://api.example.com/mcp'",
        )
    return names(audiences, "audience", example)


def _check_secret(secret: object) -> bytes | None:
    if secret is None or isinstance(secret, bytes):
        return secret
    if isinstance(secret, str):
        return secret.encode()
    if isinstance(secret, (bytearray, memoryview)):
        return bytes(secret)
    raise refuse(
        "secret",
        "must be the shared HMAC key as str or bytes",
        secret,
        "secret=os.environ['API_SIGNING_SECRET']",
        secret=True,
    )


def _check_algorithms(algorithms: object, secret: bytes | None) -> frozenset[str]:
    if isinstance(algorithms, str) and ("," in algorithms or " " in algorithms.strip()):
        raise refuse(
            "algorithms",
            "is one string naming several algorithms",
            algorithms,
            "algorithms=['RS256', 'ES256'] (a list)",
        )
    names_ = frozenset(names(algorithms, "algorithms", "algorithms=['RS256']"))
    if any(n.lower() == "none" for n in names_):
        raise ConfigurationError(
            "algorithms must not allow 'none': the 'none' algorithm is never allowed, "
            "unsigned tokens prove nothing.",
            setting="algorithms",
        )
    unknown = names_ - SUPPORTED_ALGORITHMS
    if unknown:
        raise ConfigurationError(
            f"algorithms names unsupported algorithm(s) {sorted(unknown)}; "
            f"choose from {sorted(SUPPORTED_ALGORITHMS)}.",
            setting="algorithms",
        )
    _check_mldsa_available(names_ & MLDSA_ALGORITHMS)
    hmac = names_ & HMAC_ALGORITHMS
    if hmac and secret is None:
        raise ConfigurationError(
            f"{sorted(hmac)} need a shared secret: pass secret=... or allow only "
            "asymmetric algorithms such as RS256.",
            setting="secret",
        )
    if secret is not None:
        if not hmac:
            raise ConfigurationError(
                "A secret is only used with HS256/HS384/HS512: add one to algorithms.",
                setting="secret",
            )
        shortest = max(HMAC_DIGEST_SIZES[n] for n in hmac)
        if len(secret) < shortest:
            raise ConfigurationError(
                f"The secret must be at least {shortest} bytes for {sorted(hmac)} (RFC 7518 §3.2).",
                setting="secret",
            )
    return names_


def _check_mldsa_available(levels: frozenset[str]) -> None:
    """Refuse at start-up an ML-DSA level the installed ``cryptography`` cannot verify, rather
    than every token of it later."""
    missing = sorted(level for level in levels if mldsa_public_key_class(level) is None)
    if missing:
        import cryptography  # noqa: PLC0415 - only to name its version

        raise ConfigurationError(
            f"algorithms names {', '.join(missing)}, which the installed cryptography "
            f"{cryptography.__version__} cannot verify: ML-DSA needs a cryptography release "
            "with the ML-DSA module on a backend that provides it (OpenSSL 3.5 or later, or "
            "AWS-LC). Upgrade cryptography, or leave ML-DSA out of algorithms.",
            setting="algorithms",
        )


def _check_jwks_uris(jwks_uri: object, index: IssuerIndex) -> Mapping[str, str]:
    """One URL serves every issuer (e.g. an Auth0 custom domain and its canonical domain);
    a mapping names the URL of each issuer that should skip discovery."""
    if jwks_uri is None:
        return MappingProxyType({})
    if isinstance(jwks_uri, str):
        uris: Mapping[Any, Any] = dict.fromkeys(index.issuers, jwks_uri)
    elif isinstance(jwks_uri, Mapping):
        uris = jwks_uri
    else:
        raise refuse(
            "jwks_uri",
            "must be a URL, or a dict {issuer: URL}",
            jwks_uri,
            "jwks_uri='https://your-tenant.auth0.com/.well-known/jwks.json'",
        )
    checked: dict[str, str] = {}
    for given_issuer, uri in uris.items():
        issuer = index.find(normalize_issuer(given_issuer, setting="jwks_uri"))
        if issuer is None:
            raise ConfigurationError(
                f"jwks_uri is given for {given_issuer!r}, which is not a configured issuer.",
                setting="jwks_uri",
            )
        check_url(uri, what="jwks_uri")
        checked[issuer] = uri
    return MappingProxyType(checked)


def _check_dpop(config: VerifierConfig) -> None:
    """The DPoP settings: a mode, proof algorithms, a bounded proof age, the public URL."""
    if not isinstance(config.dpop, str) or config.dpop not in _SCHEMES:
        raise refuse(
            "dpop", "must be 'off', 'allowed' or 'required'", config.dpop, "dpop='allowed'"
        )
    example = "dpop_algorithms=['ES256', 'EdDSA']"
    algorithms = frozenset(names(config.dpop_algorithms, "dpop_algorithms", example))
    post_quantum = sorted(algorithms & MLDSA_ALGORITHMS)
    if post_quantum:
        # RFC 9449 allows any asymmetric alg, but a proof carries its public key in every
        # request: 1.3 to 2.6 KB of key and 2.4 to 4.6 KB of signature in one header field,
        # 5.9 to 11.1 KB once encoded, near or past the 8 KB many servers and proxies allow a
        # field; and a bound token's cnf.jkt would need RFC 9964's AKP thumbprint (alg, kty,
        # pub), which _dpop.jwk_thumbprint does not compute. Tokens may use ML-DSA; proofs not.
        raise refuse(
            "dpop_algorithms",
            f"must not name {post_quantum[0]}: ML-DSA verifies access tokens (algorithms=...) "
            "but not DPoP proofs, whose header would carry a public key of several kilobytes "
            "in every request",
            config.dpop_algorithms,
            example,
        )
    unknown = sorted(algorithms - DPOP_ALGORITHMS)
    if unknown:
        raise refuse(
            "dpop_algorithms",
            f"must name asymmetric JWS algorithms only ({', '.join(sorted(DPOP_ALGORITHMS))}); "
            f"{unknown[0]!r} is not one",
            config.dpop_algorithms,
            example,
        )
    object.__setattr__(config, "dpop_algorithms", algorithms)
    age = number(
        config.dpop_proof_max_age, "dpop_proof_max_age", MAX_DPOP_PROOF_AGE, "dpop_proof_max_age=60"
    )
    if age < 1:
        raise refuse(
            "dpop_proof_max_age", "must be at least 1 second", age, "dpop_proof_max_age=60"
        )
    object.__setattr__(config, "dpop_proof_max_age", age)
    if config.public_url is not None:
        object.__setattr__(config, "public_url", _check_public_url(config.public_url))


def _check_public_url(url: object) -> str:
    """``scheme://host[:port][/prefix]``: https (http on loopback), no query, no trailing /."""
    example = "public_url='https://api.example.com'"
    if not isinstance(url, str):
        raise refuse("public_url", "must be the URL clients use, as a string", url, example)
    check_url(url, what="public_url")
    return url.rstrip("/")
