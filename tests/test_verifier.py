"""End to end: one table of tokens through ``verify()`` and ``averify()``.

Every case is signed with real keys and verified against the in-process
provider; rows carry the hostile-tokens catalogue id (``T..``) where one applies.
A rejected case names the exact exception class and HTTP status; an accepted
case may also check the :class:`AccessToken` it produced and the scopes it grants.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bearerguard import (
    AccessToken,
    BearerError,
    EncryptedTokenError,
    ExpiredTokenError,
    ImmatureTokenError,
    InsufficientScopeError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidIssuerError,
    InvalidRequestError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
    MissingTokenError,
    UnknownKeyError,
)

from .support import (
    AUDIENCE,
    CUSTOM_DOMAIN,
    ISSUER,
    NOW,
    Clock,
    Provider,
    Providers,
    b64url,
    claims,
    ec_key,
    ed_key,
    encode_part,
    public_jwk,
    rsa_key,
    sign_input,
    sign_token,
)

N = int(NOW)
LEEWAY = 30  # the verifier's default
TENANT_B = "https://tenant-b.auth0.com/"
SECRET = bytes(range(64))  # long enough for HS256, HS384 and HS512
DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/.well-known/jwks.json"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ORG_DESCRIPTION = "The access token is not valid for this organization"

# The status each error must be answered with (RFC 6750 §3.1; 503 for an unreachable IdP).
STATUS: Mapping[type[BearerError], int] = {
    InsufficientScopeError: 403,
    KeySetUnavailableError: 503,
}


# --- the world a case runs in ---------------------------------------------------------------


@dataclass
class Env:
    """The provider(s) and clock of one case."""

    provider: Provider
    clock: Clock
    others: list[Provider] = field(default_factory=list)

    def hits(self) -> int:
        return sum(sum(p.hits.values()) for p in (self.provider, *self.others))

    def route(self, *others: Provider) -> dict[str, Any]:
        """Serve ``others`` next to the default provider, routed by host."""
        self.others.extend(others)
        routes = Providers(self.provider, *others)
        return {"transport": routes.transport(), "async_transport": routes.async_transport()}


Build = Callable[[Env], str]
Settings = Callable[[Env], dict[str, Any]]
Signer = Callable[[bytes], bytes]


def no_settings(env: Env) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    id: str
    token: Build
    error: type[BearerError] | None = None  # None: the token is accepted
    settings: Settings = no_settings
    require: tuple[str, ...] = ()  # then token.require_scopes(*require, any_of=...)
    any_of: bool = False
    check: Callable[[AccessToken], object] | None = None
    hits: int | None = None  # requests the provider(s) must have seen in total
    description: str | None = None

    @property
    def status(self) -> int:
        assert self.error is not None
        return STATUS.get(self.error, 401)


def ok(id: str, token: Build, **kw: Any) -> Case:
    return Case(id, token, None, **kw)


def no(id: str, error: type[BearerError], token: Build, **kw: Any) -> Case:
    return Case(id, token, error, **kw)


# --- token builders ---------------------------------------------------------------------------


def signed(
    *,
    kid: str | None = "k1",
    alg: str | None = None,
    key: Callable[[], Any] | None = None,
    header: Mapping[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    body: str | None = None,
    signer: Callable[[Env], Signer] | None = None,
    **values: Any,
) -> Build:
    """A token over ``claims()`` updated with ``values`` (``None`` stays JSON null) minus
    ``drop``; signed with the provider's key ``kid`` unless ``alg``/``key``/``signer`` say
    otherwise. Header members set to ``None`` are removed."""

    def build(env: Env) -> str:
        known = env.provider.keys.get(kid or "", (None, None))
        use_alg = alg or known[0]
        use_key = key() if key is not None else known[1]
        head = {"alg": use_alg, "typ": "JWT", "kid": kid, **(header or {})}
        head = {name: value for name, value in head.items() if value is not None}
        payload: dict[str, Any] | str
        if body is None:
            payload = claims()
            payload.update(values)
            for name in drop:
                payload.pop(name, None)
        else:
            payload = body
        signing_input = (encode_part(head) + "." + encode_part(payload)).encode()
        signature = (
            signer(env)(signing_input) if signer else sign_input(use_alg, use_key, signing_input)
        )
        return signing_input.decode() + "." + b64url(signature)

    return build


def with_raw_exp(literal: str) -> str:
    """Valid claims JSON whose ``exp`` is the verbatim ``literal``."""
    text = json.dumps(claims(exp=0), separators=(",", ":"))
    assert '"exp":0,' in text
    return text.replace('"exp":0,', f'"exp":{literal},')


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def edited(build: Build, edit: Callable[[list[str]], None]) -> Build:
    """``build``'s token with its segments edited after signing."""

    def run(env: Env) -> str:
        segments = build(env).split(".")
        edit(segments)
        return ".".join(segments)

    return run


def payload_replaced(old: bytes, new: bytes) -> Callable[[list[str]], None]:
    def edit(segments: list[str]) -> None:
        decoded = b64decode(segments[1])
        assert old in decoded
        segments[1] = b64url(decoded.replace(old, new))

    return edit


def header_updated(**members: Any) -> Callable[[list[str]], None]:
    def edit(segments: list[str]) -> None:
        header = json.loads(b64decode(segments[0]))
        header.update(members)
        segments[0] = encode_part(header)

    return edit


def signature_edited(change: Callable[[bytes], bytes]) -> Callable[[list[str]], None]:
    def edit(segments: list[str]) -> None:
        segments[2] = b64url(change(b64decode(segments[2])))

    return edit


def modulus_bytes() -> bytes:
    return rsa_key(0).public_key().public_numbers().n.to_bytes(256, "big")


def pkcs1_forgery(digest_info: Callable[[bytes], bytes]) -> Callable[[Env], Signer]:
    """RSASSA-PKCS1-v1_5 computed by hand (RFC 8017 §9.2) over a chosen DigestInfo."""

    def signer(env: Env) -> Signer:
        numbers = rsa_key(0).private_numbers()
        modulus, exponent = numbers.public_numbers.n, numbers.d

        def sign(signing_input: bytes) -> bytes:
            info = digest_info(signing_input)
            encoded = b"\x00\x01" + b"\xff" * (256 - 3 - len(info)) + b"\x00" + info
            value = pow(int.from_bytes(encoded, "big"), exponent, modulus)
            return value.to_bytes(256, "big")

        return sign

    return signer


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha1_digest_info(signing_input: bytes) -> bytes:
    digest = hashlib.sha1(signing_input).digest()  # noqa: S324 - the forgery under test
    return bytes.fromhex("3021300906052b0e03021a05000414") + digest


SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def with_signer(sign: Callable[[bytes], bytes]) -> Callable[[Env], Signer]:
    return lambda env: sign


def es256_high_s(signing_input: bytes) -> bytes:
    """A valid ES256 signature (r, n - s): mathematically valid, so it must verify."""
    der = ec_key("P-256").sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")


def es256_der(signing_input: bytes) -> bytes:
    return ec_key("P-256").sign(signing_input, ec.ECDSA(hashes.SHA256()))


def pss(salt: int, mgf_hash: hashes.HashAlgorithm) -> Signer:
    def sign(signing_input: bytes) -> bytes:
        return rsa_key(1).sign(
            signing_input,
            padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=salt),
            hashes.SHA256(),
        )

    return sign


def hs256_with(key_bytes: Callable[[], bytes]) -> Callable[[Env], Signer]:
    return lambda env: lambda signing_input: sign_input("HS256", key_bytes(), signing_input)


def public_pem() -> bytes:
    return (
        rsa_key(0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def pkcs1_pem() -> bytes:
    return (
        rsa_key(0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )


def public_der() -> bytes:
    return (
        rsa_key(0)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def public_jwk_json() -> bytes:
    return json.dumps(public_jwk(rsa_key(0), kid="k1")).encode()


# --- settings builders ------------------------------------------------------------------------


def using(**settings: Any) -> Settings:
    return lambda env: dict(settings)


def serving(keys: Mapping[str, tuple[str, Callable[[], Any]]], **settings: Any) -> Settings:
    """Publish extra keys in the provider's JWKS, then use ``settings``."""

    def setup(env: Env) -> dict[str, Any]:
        for kid, (alg, key) in keys.items():
            env.provider.keys[kid] = (alg, key())
        return dict(settings)

    return setup


def provider_down(provider: Provider) -> dict[str, Any]:
    provider.override[DISCOVERY] = lambda request: httpx.Response(503)
    return {}


def serving_unbound_rsa(**settings: Any) -> Settings:
    """Publish RSA key ``any`` without an ``alg``: it may verify every RS*/PS* algorithm."""

    def setup(env: Env) -> dict[str, Any]:
        env.provider.jwks_extra.append(public_jwk(rsa_key(1), kid="any", use="sig"))
        return dict(settings)

    return setup


def two_tenants(b_keys: Mapping[str, tuple[str, Callable[[], Any]]]) -> Settings:
    """Trust tenant A (the default provider) and tenant B, each with its own key set."""

    def setup(env: Env) -> dict[str, Any]:
        tenant_b = Provider(issuer=TENANT_B, keys={k: (a, f()) for k, (a, f) in b_keys.items()})
        return {"issuer": [ISSUER, TENANT_B], **env.route(tenant_b)}

    return setup


def custom_domain(*, one_jwks_uri: bool = False) -> Settings:
    """Auth0 canonical + custom domain: the same tenant and keys under two issuer URLs."""

    def setup(env: Env) -> dict[str, Any]:
        custom = Provider(issuer=CUSTOM_DOMAIN)  # serves the same key k1 as the tenant
        settings = {"issuer": [ISSUER, CUSTOM_DOMAIN], **env.route(custom)}
        if one_jwks_uri:
            settings["jwks_uri"] = env.provider.jwks_uri
        return settings

    return setup


# --- the table ----------------------------------------------------------------------------------

RSA1 = ("RS256", lambda: rsa_key(1))
RSA0 = ("RS256", lambda: rsa_key(0))
STRICT = {"typ": "at+jwt"}
STRICT_CLAIMS = {"client_id": "client-1", "jti": "j-1"}
SCOPES = ("read:users",)

ACCEPTED: list[Case] = [
    ok(
        "T59-auth0-token-aud-array",
        signed(),
        hits=2,
        check=lambda t: t.audience == (AUDIENCE, ISSUER + "userinfo") and t.subject == "auth0|123",
    ),
    ok("T59-aud-string", signed(aud=AUDIENCE), check=lambda t: t.audience == (AUDIENCE,)),
    ok(
        "T59-our-aud-last-of-10",
        signed(aud=[f"https://api{i}.example.com" for i in range(9)] + [AUDIENCE]),
        check=lambda t: len(t.audience) == 10 and t.audience[-1] == AUDIENCE,
    ),
    ok(
        "exp-far-future-accepted",
        signed(exp=N + 10 * 365 * 86400),
        check=lambda t: t.expires_at.year == 2037,
    ),
    ok(
        "exp-at-the-last-representable-second-accepted",
        signed(exp=253402300799),
        check=lambda t: t.expires_at == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
    ),
    ok(
        "T65-exp-float-accepted",
        signed(exp=N + 3600.5),
        check=lambda t: t.expires_at.microsecond == 500000,
    ),
    ok("T62-exp-now-minus-leeway-plus-1-accepted", signed(exp=N - LEEWAY + 1)),
    ok(
        "T62-exp-fraction-inside-leeway-not-rounded-away",
        signed(exp=N + 0.25),
        settings=using(leeway=0),
    ),
    ok("leeway-600-accepts-exp-599-s-ago", signed(exp=N - 599), settings=using(leeway=600)),
    ok("T67-nbf-now-accepted", signed(nbf=N)),
    ok("T67-nbf-at-leeway-edge-accepted", signed(nbf=N + LEEWAY)),
    ok("T68-iat-within-leeway-accepted", signed(iat=N + LEEWAY)),
    ok(
        "T66-iat-at-the-first-representable-second-accepted",
        signed(iat=-62135596800),
        check=lambda t: t.issued_at == datetime(1, 1, 1, tzinfo=timezone.utc),
    ),
    ok("iat-optional-by-default", signed(drop=("iat",)), check=lambda t: t.issued_at is None),
    ok("T70-string-claims-accepted", signed(client_id="c", jti="j", org_id="org_1")),
    # RFC 9068 profile
    ok(
        "T69-rfc9068-complete-token-accepted",
        signed(header=STRICT, **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
        check=lambda t: t.client_id == "client-1",
    ),
    ok(
        "T35-rfc9068-typ-application-at-jwt-accepted",
        signed(header={"typ": "application/at+jwt"}, **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
    ),
    ok(
        "T35-rfc9068-typ-case-insensitive",
        signed(header={"typ": "AT+JWT"}, **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
    ),
    ok("T35-lenient-typ-absent-accepted", signed(header={"typ": None})),
    ok("T35-lenient-typ-at-jwt-accepted", signed(header=STRICT)),
    # scopes
    ok("T71-scope-granted", signed(scope="read:users write:users"), require=SCOPES),
    ok(
        "T71-scopes-all-of-granted",
        signed(scope="read:users write:users"),
        require=("read:users", "write:users"),
    ),
    ok(
        "T71-scopes-any-of-granted",
        signed(scope="read:users"),
        require=("admin", "read:users"),
        any_of=True,
    ),
    ok(
        "T75-extra-spaces-ignored",
        signed(scope=" read:users  write:users "),
        require=("read:users", "write:users"),
        check=lambda t: t.scopes == frozenset({"read:users", "write:users"}),
    ),
    ok(
        "T75-empty-scope-grants-nothing",
        signed(scope=""),
        check=lambda t: t.scopes == frozenset() and not t.has_scopes("read:users"),
    ),
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
        "T42-es256-high-s-is-valid",
        signed(kid="e256", signer=with_signer(es256_high_s)),
        settings=serving({"e256": ("ES256", lambda: ec_key("P-256"))}, algorithms=["ES256"]),
    ),
    ok(
        "T41-control-hand-built-pkcs1-accepted",
        signed(signer=pkcs1_forgery(lambda si: SHA256_INFO + sha256(si))),
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
        "T58-second-tenant-with-its-own-key",
        signed(iss=TENANT_B, key=lambda: rsa_key(1), alg="RS256"),
        settings=two_tenants({"k1": RSA1}),
        check=lambda t: t.issuer == TENANT_B,
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
    # policies
    ok("max-age-fresh-token-accepted", signed(iat=N - 3600), settings=using(max_age=3600)),
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

REJECTED_ISSUERS = [
    # T56: exact code-point match only
    ("T56-iss-without-trailing-slash", "https://tenant.auth0.com"),
    ("T56-iss-double-slash", "https://tenant.auth0.com//"),
    ("T56-iss-upper-case-host", "https://TENANT.auth0.com/"),
    ("T56-iss-upper-case-domain", "https://tenant.AUTH0.com/"),
    ("T56-iss-http", "http://tenant.auth0.com/"),
    ("T56-iss-explicit-443", "https://tenant.auth0.com:443/"),
    ("T56-iss-extra-path", "https://tenant.auth0.com/evil"),
    ("T56-iss-suffix-domain", "https://tenant.auth0.com.evil.com/"),
    ("T56-iss-other-tld", "https://tenant.auth0.co/"),
    ("T56-iss-cyrillic-lookalike", "https://ten\u0430nt.auth0.com/"),
    ("T56-iss-trailing-space", "https://tenant.auth0.com/ "),
    ("T56-iss-encoded-slash", "https://tenant.auth0.com%2F"),
    # T80: never fetch from an unconfigured issuer
    ("T80-iss-attacker", "https://evil.example/"),
    ("T80-iss-cloud-metadata-ip", "http://169.254.169.254/latest/meta-data/"),
    ("T80-iss-loopback", "https://127.0.0.1:8080/"),
    # T57: types
    ("T57-iss-null", None),
    ("T57-iss-array", [ISSUER]),
    ("T57-iss-number", 123),
    ("T57-iss-object", {"iss": ISSUER}),
    ("T57-iss-true", True),
]

REJECTED: list[Case] = [
    *(no(id, InvalidIssuerError, signed(iss=iss), hits=0) for id, iss in REJECTED_ISSUERS),
    no("T57-iss-missing", InvalidIssuerError, signed(drop=("iss",)), hits=0),
    # T60: audience
    no("T60-aud-other-api", InvalidAudienceError, signed(aud="https://other-api.example.com")),
    no("T60-aud-client-id", InvalidAudienceError, signed(aud="client-1")),
    no("T60-aud-trailing-slash", InvalidAudienceError, signed(aud=AUDIENCE + "/")),
    no("T60-aud-upper-case", InvalidAudienceError, signed(aud=AUDIENCE.upper())),
    no("T60-aud-empty-string", InvalidAudienceError, signed(aud="")),
    no("T60-aud-empty-array", InvalidAudienceError, signed(aud=[])),
    no("T60-aud-nested-array", InvalidAudienceError, signed(aud=[[AUDIENCE]])),
    no("T60-aud-number-array", InvalidAudienceError, signed(aud=[123])),
    no("T60-aud-mixed-array", InvalidAudienceError, signed(aud=[AUDIENCE, 123])),
    no("T60-aud-object", InvalidAudienceError, signed(aud={"0": AUDIENCE})),
    no("T60-aud-null", InvalidAudienceError, signed(aud=None)),
    no("T60-aud-missing", InvalidAudienceError, signed(drop=("aud",))),
    # T61-T66: exp
    no("T61-exp-missing", InvalidClaimsError, signed(drop=("exp",))),
    no("T63-exp-numeric-string", InvalidClaimsError, signed(exp="9999999999")),
    no("T63-exp-true", InvalidClaimsError, signed(exp=True)),
    no("T63-exp-null", InvalidClaimsError, signed(exp=None)),
    no("T63-exp-array", InvalidClaimsError, signed(exp=[])),
    no("T63-exp-object", InvalidClaimsError, signed(exp={})),
    *(
        no(f"T63-exp-{literal}", MalformedTokenError, signed(body=with_raw_exp(literal)))
        for literal in ("NaN", "Infinity", "-Infinity")
    ),
    no(
        "T63-exp-1e400",
        MalformedTokenError,
        signed(body=with_raw_exp("1e400")),
    ),
    no("T64-exp-zero-is-expired-not-absent", ExpiredTokenError, signed(exp=0)),
    no("T64-exp-minus-one", ExpiredTokenError, signed(exp=-1)),
    no("T64-exp-minus-1e308", InvalidClaimsError, signed(exp=-1e308)),
    no("T66-exp-1e20-deterministic", InvalidClaimsError, signed(exp=1e20)),
    no("T66-exp-2-pow-63", InvalidClaimsError, signed(exp=2**63)),
    no("T66-exp-1e300", InvalidClaimsError, signed(exp=1e300)),
    no("T66-exp-one-past-year-9999", InvalidClaimsError, signed(exp=253402300800)),
    no("T62-exp-now-minus-leeway-rejected", ExpiredTokenError, signed(exp=N - LEEWAY)),
    no("T62-exp-now-without-leeway", ExpiredTokenError, signed(exp=N), settings=using(leeway=0)),
    no("T62-exp-an-hour-ago", ExpiredTokenError, signed(iat=N - 7200, exp=N - 3600)),
    # T67 nbf, T68 iat
    no("T67-nbf-beyond-leeway", ImmatureTokenError, signed(nbf=N + LEEWAY + 1)),
    no("T67-nbf-string", InvalidClaimsError, signed(nbf="x")),
    no("T67-nbf-true", InvalidClaimsError, signed(nbf=True)),
    no("T68-iat-in-the-future", ImmatureTokenError, signed(iat=N + LEEWAY + 60)),
    no("T68-iat-string", InvalidClaimsError, signed(iat="abc")),
    no("T68-iat-null", InvalidClaimsError, signed(iat=None)),
    no("T66-iat-before-year-1", InvalidClaimsError, signed(iat=-62135596800.5)),
    no("T66-nbf-1e20", InvalidClaimsError, signed(nbf=1e20)),
    no(
        "max-age-exceeded",
        ExpiredTokenError,
        signed(iat=N - 3600 - LEEWAY - 1),
        settings=using(max_age=3600),
    ),
    no(
        "max-age-needs-iat",
        InvalidClaimsError,
        signed(drop=("iat",)),
        settings=using(max_age=3600),
    ),
    # T70: claim types
    no("T70-sub-number", InvalidClaimsError, signed(sub=123)),
    no("T70-jti-object", InvalidClaimsError, signed(jti={})),
    no("T70-client-id-array", InvalidClaimsError, signed(client_id=["c1"])),
    no("T70-azp-null", InvalidClaimsError, signed(azp=None)),
    no("T70-org-id-number", InvalidClaimsError, signed(org_id=5)),
    # T69 / T35: RFC 9068 profile
    *(
        no(
            f"T69-rfc9068-missing-{name}",
            InvalidClaimsError,
            signed(header=STRICT, drop=(name,), **STRICT_CLAIMS),
            settings=using(rfc9068_strict=True),
        )
        for name in ("sub", "client_id", "jti", "iat")
    ),
    no(
        "T69-rfc9068-typ-jwt",
        InvalidClaimsError,
        signed(**STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
        hits=0,
    ),
    no(
        "T69-rfc9068-typ-absent",
        InvalidClaimsError,
        signed(header={"typ": None}, **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
        hits=0,
    ),
    no(
        "T35-rfc9068-typ-with-parameter",
        InvalidClaimsError,
        signed(header={"typ": "at+jwt;v=1"}, **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
    ),
    no("T35-lenient-typ-dpop", InvalidClaimsError, signed(header={"typ": "dpop+jwt"}), hits=0),
    # T71-T75: scopes (403 through require_scopes; 401 when the claim is malformed)
    no("T71-scope-missing", InsufficientScopeError, signed(scope="write:users"), require=SCOPES),
    *(
        no(f"T72-no-prefix-match-{i}", InsufficientScopeError, signed(scope=s), require=SCOPES)
        for i, s in enumerate(["read:users_all", "read:user", "xread:users", "read:users:extra"])
    ),
    no(
        "T73-scope-case-sensitive",
        InsufficientScopeError,
        signed(scope="READ:USERS"),
        require=SCOPES,
    ),
    no(
        "T73-scope-cyrillic-lookalike",
        InsufficientScopeError,
        signed(scope="r\u0435ad:users"),
        require=SCOPES,
    ),
    no(
        "T73-comma-is-no-separator",
        InsufficientScopeError,
        signed(scope="read:users,write:users"),
        require=SCOPES,
    ),
    no(
        "T73-tab-is-no-separator",
        InsufficientScopeError,
        signed(scope="read:users\twrite:users"),
        require=SCOPES,
    ),
    no(
        "T73-nbsp-is-no-separator",
        InsufficientScopeError,
        signed(scope="read:users\u00a0write:users"),
        require=SCOPES,
    ),
    no("T73-scope-with-nul", MalformedTokenError, signed(scope="read:users\u0000")),
    no("T74-scope-array-is-malformed", InvalidClaimsError, signed(scope=["read:users"])),
    no("T74-scope-number", InvalidClaimsError, signed(scope=1)),
    no("T74-scope-object", InvalidClaimsError, signed(scope={})),
    no("T74-scope-null-grants-nothing", InsufficientScopeError, signed(scope=None), require=SCOPES),
    no("scp-number", InvalidClaimsError, signed(scp=7)),
    no("scp-array-of-numbers", InvalidClaimsError, signed(scp=[7])),
    no(
        "T71-any-of-none-granted",
        InsufficientScopeError,
        signed(scope="write:users"),
        require=("read:users", "admin"),
        any_of=True,
    ),
    no(
        "T71-all-of-one-missing",
        InsufficientScopeError,
        signed(scope="read:users"),
        require=("read:users", "write:users"),
    ),
    no(
        "permissions-ignored-unless-configured",
        InsufficientScopeError,
        signed(drop=("scope",), permissions=["read:users"]),
        require=SCOPES,
    ),
    # T37-T44: signatures
    no("T37-signed-by-another-key-same-kid", InvalidSignatureError, signed(key=lambda: rsa_key(1))),
    no(
        "T38-payload-byte-changed",
        InvalidSignatureError,
        edited(signed(), payload_replaced(b"read:contacts", b"read:contactz")),
    ),
    no(
        "T38-payload-scope-escalated",
        InvalidSignatureError,
        edited(signed(), payload_replaced(b"openid read:contacts", b"admin")),
    ),
    no(
        "T39-header-member-added",
        InvalidSignatureError,
        edited(signed(header={"typ": None}), header_updated(typ="JWT")),
    ),
    no(
        "T39-header-kid-changed",
        InvalidSignatureError,
        edited(signed(), header_updated(kid="k2")),
        settings=serving({"k2": RSA1}),
    ),
    no(
        "T40-signature-leading-byte-stripped",
        InvalidSignatureError,
        edited(signed(), signature_edited(lambda s: s[1:])),
    ),
    no(
        "T40-signature-extended",
        InvalidSignatureError,
        edited(signed(), signature_edited(lambda s: s + b"\x00")),
    ),
    no(
        "T40-signature-zero-padded-front",
        InvalidSignatureError,
        edited(signed(), signature_edited(lambda s: b"\x00" + s)),
    ),
    no(
        "T40-signature-is-the-modulus",
        InvalidSignatureError,
        edited(signed(), signature_edited(lambda s: modulus_bytes())),
    ),
    no(
        "T40-signature-empty", MalformedTokenError, edited(signed(), lambda s: s.__setitem__(2, ""))
    ),
    no(
        "T41-pkcs1-digestinfo-without-null",
        InvalidSignatureError,
        signed(
            signer=pkcs1_forgery(
                lambda si: bytes.fromhex("302f300b06096086480165030402010420") + sha256(si)
            )
        ),
    ),
    no(
        "T41-pkcs1-ber-long-form-length",
        InvalidSignatureError,
        signed(signer=pkcs1_forgery(lambda si: b"\x30\x81\x31" + SHA256_INFO[2:] + sha256(si))),
    ),
    no(
        "T41-pkcs1-garbage-after-digest",
        InvalidSignatureError,
        signed(signer=pkcs1_forgery(lambda si: SHA256_INFO + sha256(si) + b"\x00")),
    ),
    no(
        "T41-pkcs1-sha1-digest",
        InvalidSignatureError,
        signed(signer=pkcs1_forgery(sha1_digest_info)),
    ),
    *(
        no(
            f"T42-es256-{name}",
            InvalidSignatureError,
            signed(kid="e256", signer=with_signer(sign)),
            settings=serving({"e256": ("ES256", lambda: ec_key("P-256"))}, algorithms=["ES256"]),
        )
        for name, sign in [
            ("r-and-s-zero", lambda si: bytes(64)),
            ("der-encoded", es256_der),
            ("63-bytes", lambda si: es256_high_s(si)[:63]),
            ("65-bytes", lambda si: es256_high_s(si) + b"\x00"),
            ("r-is-order", lambda si: P256_ORDER.to_bytes(32, "big") + es256_high_s(si)[32:]),
        ]
    ),
    *(
        no(
            f"T43-ps256-{name}",
            InvalidSignatureError,
            signed(kid="ps", signer=with_signer(sign)),
            settings=serving({"ps": ("PS256", lambda: rsa_key(1))}, algorithms=["PS256"]),
        )
        for name, sign in [
            ("salt-20", pss(20, hashes.SHA256())),
            ("salt-max", pss(padding.PSS.MAX_LENGTH, hashes.SHA256())),
            ("mgf1-sha1", pss(32, hashes.SHA1())),  # noqa: S303 - the forgery under test
        ]
    ),
    no(
        "T43-ps384-token-for-a-ps256-key",
        UnknownKeyError,
        signed(kid="ps", alg="PS384", key=lambda: rsa_key(1)),
        settings=serving({"ps": ("PS256", lambda: rsa_key(1))}, algorithms=["PS256", "PS384"]),
    ),
    no(
        "T44-ps256-header-pkcs1-signature",
        InvalidSignatureError,
        signed(
            kid="any",
            alg="PS256",
            signer=with_signer(lambda si: rsa_key(1).sign(si, padding.PKCS1v15(), hashes.SHA256())),
        ),
        settings=serving_unbound_rsa(algorithms=["RS256", "PS256"]),
    ),
    no(
        "T44-rs256-header-pss-signature",
        InvalidSignatureError,
        signed(kid="any", alg="RS256", signer=with_signer(pss(32, hashes.SHA256()))),
        settings=serving_unbound_rsa(algorithms=["RS256", "PS256"]),
    ),
    # T26: HMAC with the public key, in every serialization
    *(
        no(
            f"T26-hs256-with-{name}-on-rs256-verifier",
            InvalidTokenError,
            signed(alg="HS256", signer=hs256_with(material)),
            hits=0,
        )
        for name, material in [
            ("spki-pem", public_pem),
            ("pem-leading-newline", lambda: b"\n" + public_pem()),
            ("pkcs1-pem", pkcs1_pem),
            ("der", public_der),
            ("jwk-json", public_jwk_json),
        ]
    ),
    no(
        "T26-hs256-with-public-pem-when-hs256-allowed",
        InvalidSignatureError,
        signed(alg="HS256", signer=hs256_with(public_pem)),
        settings=using(algorithms=["RS256", "HS256"], secret=SECRET),
        hits=0,
    ),
    no(
        "HS256-wrong-secret",
        InvalidSignatureError,
        signed(kid=None, alg="HS256", key=lambda: SECRET[::-1]),
        settings=using(algorithms=["HS256"], secret=SECRET),
        hits=0,
    ),
    # T29: a valid signature in an algorithm that is not allowed
    *(
        no(
            f"T29-{alg}-token-on-rs256-verifier",
            InvalidTokenError,
            signed(kid=kid),
            settings=serving({kid: (alg, key)}),
            hits=0,
        )
        for kid, alg, key in [
            ("e256", "ES256", lambda: ec_key("P-256")),
            ("ps", "PS256", lambda: rsa_key(1)),
            ("ed", "EdDSA", ed_key),
            ("r512", "RS512", lambda: rsa_key(0)),
        ]
    ),
    # T76-T78: token confusion
    no(
        "T76-id-token-rejected",
        InvalidAudienceError,
        signed(aud="client-1", nonce="n-0S6", at_hash="x", scope=None, email="a@example.com"),
    ),
    no(
        "T76-id-token-rejected-by-typ-under-rfc9068",
        InvalidClaimsError,
        signed(aud="client-1", nonce="n-0S6", **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
        hits=0,
    ),
    no("T77-token-for-another-api", InvalidAudienceError, signed(aud="https://other-api")),
    no(
        "T78-attacker-key-claiming-our-iss-and-kid",
        InvalidSignatureError,
        signed(key=lambda: rsa_key(1)),
    ),
    no(
        "T58-issuer-b-token-signed-with-a-key-same-kid",
        InvalidSignatureError,
        signed(iss=TENANT_B, kid="k1"),  # A's private key, B's iss
        settings=two_tenants({"k1": RSA1}),
    ),
    no(
        "T58-issuer-b-token-with-a-only-kid",
        UnknownKeyError,
        signed(iss=TENANT_B, kid="k1"),
        settings=two_tenants({"b1": RSA1}),
    ),
    no(
        "T58-issuer-a-token-signed-with-b-key",
        InvalidSignatureError,
        signed(key=lambda: rsa_key(1)),
        settings=two_tenants({"k1": RSA1}),
    ),
    no("unknown-kid", UnknownKeyError, signed(kid="nope", alg="RS256", key=lambda: rsa_key(0))),
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
    # the provider
    no(
        "provider-down-is-503-not-401",
        KeySetUnavailableError,
        signed(),
        settings=lambda env: provider_down(env.provider),
    ),
]

CASES = ACCEPTED + REJECTED


def _assert_nothing_from_the_token(exc: BearerError, raw: str) -> None:
    """Descriptions and challenges are fixed sentences: no token text, no claim values."""
    shown = [
        exc.description,
        exc.www_authenticate or "",
        json.dumps(exc.to_json()),
        repr(exc),
        str(exc),
    ]
    segments = [s for s in raw.split(".") if len(s) >= 8]
    values: list[str] = []
    if not isinstance(exc, InsufficientScopeError):  # that one names the *required* scopes
        try:
            body = json.loads(b64decode(raw.split(".")[1]))
        except ValueError:
            body = {}
        values = [v for v in body.values() if isinstance(v, str) and len(v) >= 6]
    for text in shown:
        assert raw not in text
        for piece in segments + values:
            assert piece not in text, (piece, text)
    header = exc.www_authenticate or ""
    assert header.startswith("Bearer ")
    assert "\r" not in header
    assert "\n" not in header


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_verifier_table(case: Case, verify, make_verifier, provider, clock) -> None:
    env = Env(provider, clock)
    verifier = make_verifier(**case.settings(env))
    raw = case.token(env)

    def outcome() -> AccessToken:
        token = verify(verifier, raw)
        if case.require:
            token.require_scopes(*case.require, any_of=case.any_of)
        return token

    if case.error is None:
        token = outcome()
        assert isinstance(token, AccessToken)
        assert token.raw == raw
        assert token.issuer in verifier.config.issuers
        assert any(aud in verifier.config.audiences for aud in token.audience)
        if case.check is not None:
            assert case.check(token)
    else:
        with pytest.raises(BearerError) as caught:
            outcome()
        exc = caught.value
        assert type(exc) is case.error, exc.reason
        assert exc.status_code == case.status
        if case.error is InsufficientScopeError:
            assert isinstance(exc, InsufficientScopeError)
            assert exc.required_scopes == case.require
            assert f'scope="{" ".join(case.require)}"' in (exc.www_authenticate or "")
        if case.description is not None:
            assert exc.description == case.description
        _assert_nothing_from_the_token(exc, raw)
    if case.hits is not None:
        assert env.hits() == case.hits


def test_the_table_covers_every_catalogue_row_in_scope() -> None:
    rows = {case.id.split("-")[0] for case in CASES if case.id.startswith("T")}
    wanted = {f"T{n}" for n in (26, 29, *range(37, 45), *range(56, 79), 80)}
    assert wanted <= rows


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


def test_T58_keys_are_bound_to_their_issuer_even_when_both_are_cached(
    verify, make_verifier, provider
) -> None:
    tenant_b = Provider(issuer=TENANT_B, keys={"k1": ("RS256", rsa_key(1))})
    routes = Providers(provider, tenant_b)
    verifier = make_verifier(
        issuer=[ISSUER, TENANT_B],
        transport=routes.transport(),
        async_transport=routes.async_transport(),
    )
    assert verify(verifier, provider.token()).issuer == ISSUER
    assert verify(verifier, tenant_b.token()).issuer == TENANT_B
    # Both key sets are warm now; a swap of iss must still fail.
    forged_for_b = provider.token(iss=TENANT_B)
    forged_for_a = tenant_b.token(iss=ISSUER)
    with pytest.raises(InvalidSignatureError):
        verify(verifier, forged_for_b)
    with pytest.raises(InvalidSignatureError):
        verify(verifier, forged_for_a)
    assert provider.jwks_hits == 1
    assert tenant_b.jwks_hits == 1


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


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Basic x", "Token abc"])
def test_verify_authorization_without_bearer_credentials_is_missing_token(
    header, authorize, make_verifier, provider
) -> None:
    with pytest.raises(MissingTokenError) as caught:
        authorize(make_verifier(realm="orders"), header)
    exc = caught.value
    assert exc.status_code == 401
    assert exc.www_authenticate == 'Bearer realm="orders"'  # bare challenge, no error code
    assert sum(provider.hits.values()) == 0


def test_verify_authorization_accepts_a_bearer_header(authorize, make_verifier, provider) -> None:
    token = authorize(make_verifier(), "Bearer " + provider.token())
    assert token.subject == "auth0|123"


def test_verify_authorization_refuses_a_token_also_sent_in_the_query(
    make_verifier, provider
) -> None:
    verifier, header = make_verifier(), "Bearer " + provider.token()
    with pytest.raises(InvalidRequestError):
        verifier.verify_authorization(header, query="access_token=x")
    with pytest.raises(InvalidRequestError):
        asyncio.run(verifier.averify_authorization(header, query="access_token=x"))


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


def test_sync_and_async_share_one_cache(make_verifier, provider) -> None:
    verifier = make_verifier()
    assert verifier.verify(provider.token()).subject == "auth0|123"
    assert asyncio.run(verifier.averify(provider.token())).subject == "auth0|123"
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1


def test_a_transport_that_crashes_is_a_503_never_an_unexpected_exception(
    verify, make_verifier, provider
) -> None:
    def crash(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport bug at https://internal.example/secret")

    async def acrash(request: httpx.Request) -> httpx.Response:
        crash(request)
        raise AssertionError  # unreachable

    verifier = make_verifier(
        transport=httpx.MockTransport(crash), async_transport=httpx.MockTransport(acrash)
    )
    raw = provider.token()
    with pytest.raises(KeySetUnavailableError) as caught:
        verify(verifier, raw)
    exc = caught.value
    assert exc.status_code == 503
    assert "internal.example" not in (exc.www_authenticate or "") + exc.description
    _assert_nothing_from_the_token(exc, raw)


def test_t79_a_jwe_is_refused_as_encrypted_without_decryption_or_fetch(
    make_verifier, provider, verify
):
    header = b64url(json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k1"}).encode())
    jwe = ".".join([header, b64url(b"k" * 256), b64url(b"iv" * 6), b64url(b"c" * 40), "dGFn"])
    with pytest.raises(EncryptedTokenError) as caught:
        verify(make_verifier(), jwe)
    assert "encrypted" in caught.value.description
    assert caught.value.status_code == 401
    assert not provider.hits


def test_t84_large_arrays_and_many_claims_within_the_size_cap_are_handled(
    make_verifier, provider, verify
):
    audiences = [f"https://api{i}.example.net" for i in range(5000)] + [AUDIENCE]
    custom = {f"https://example.com/claim{i}": i for i in range(1000)}
    token = provider.token(aud=audiences, **custom)
    verifier = make_verifier(max_token_size=1 << 20)
    verified = verify(verifier, token)
    assert verified.audience[-1] == AUDIENCE
    assert verified.claim("claim999", namespace="https://example.com/") == 999
    with pytest.raises(InvalidAudienceError):
        verify(verifier, provider.token(aud=audiences[:-1]))
