"""Hostile cases of static keys (``keys=``) and of issuers trusted by a function (``issuer=``).

One table, in the catalogue's form (:class:`~.builders.Case`), each row with its source:

- ``K01``-``K09``: static keys of the wrong type or strength, private or symmetric keys
  given by mistake, key confusion against a pinned key, a ``kid`` outside the pinned set.
- ``I01``-``I11``: an ``iss`` crafted to pass a naive predicate (a lookalike suffix,
  userinfo, a port, letter case, a trailing dot, a path or a backslash carrying the
  trusted name), a predicate that raises, a discovery document naming another issuer.
  The predicate throughout is the one ``docs/security.md`` shows
  (:func:`tests.tenants.trusted_tenant`: one DNS label, then exactly ``.id.example.com/``,
  matched whole on the normal form it is given).

Floods of issuers the predicate accepts (bounded memory and fetches, the known issuer
served) are tests of their own in ``test_keys_issuers.py``: they are many requests, not
one. ``test_keys_issuers.py`` runs every row through ``verify()``/``averify()`` and every
row that can be sent through every adapter.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from bearerguard import (
    ConfigurationError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    UnknownKeyError,
)
from tests.jwe_keys import public_pem
from tests.support import (
    ISSUER,
    Provider,
    b64url,
    claims,
    ec_key,
    encode_part,
    public_jwk,
    rsa_key,
)
from tests.tenants import Tenants, trusted_tenant

from .builders import Build, Case, Env, Settings, no, ok, signed

__all__ = ["KEYS_ISSUERS", "SOURCES"]

ACME = Tenants.issuer("acme")  # https://acme.id.example.com/

#: where each row's rule or attack comes from
SOURCES: Mapping[str, str] = {
    "K01": "RFC 8725 §3.1 (a key is bound to its algorithms); an RSA key pinned with keys= "
    "must not verify an ES256 token",
    "K02": "RFC 8725 §2.1 and §3.1, RFC 7517 §4.4: an EC JWK publishing alg RS256 is refused",
    "K03": "express-oauth2-jwt-bearer 1.9 publicKey tests ('kty:oct passed as publicKey is "
    "rejected'); RFC 8725 §2.1 (HMAC/RSA confusion)",
    "K04": "RFC 7518 §3.3: RSA keys of 2048 bits or more",
    "K05": "CVE-2015-9235 (Auth0, 'Critical vulnerabilities in JSON Web Token libraries', "
    "2015): an HS256 token keyed with the pinned public key's PEM",
    "K06": "express-oauth2-jwt-bearer 1.9 publicKey tests ('a kid not in the inline JWKS is "
    "rejected'); issue 18: a kid outside the configured keys is 401, never a fetch",
    "K07": "RFC 8725 §3.10, CVE-2018-0114: a token carrying its own jwk/jku next to a pinned key",
    "K08": "RFC 7517 §4 and RFC 7518 §6: private members; a private key given by mistake",
    "K09": "RFC 7517 §4.2: a key whose use is enc",
    "I01": "PortSwigger Web Security Academy, SSRF 'bypassing whitelist-based input filters': "
    "the trusted name as a subdomain of the attacker's host",
    "I02": "RFC 3986 §3.2.1 (userinfo); Orange Tsai, 'A New Era of SSRF' (Black Hat USA 2017)",
    "I03": "RFC 3986 §3.2.3: another port is another origin (RFC 6454 §4)",
    "I04": "RFC 3986 §6.2.2.1: scheme and host are case-insensitive: the same server",
    "I05": "RFC 1034 §3.1: a trailing dot, the absolute form of the name, spelt otherwise",
    "I06": "the trusted name in the path of the attacker's URL (a contains/endswith predicate)",
    "I07": "WHATWG URL Standard §4.4 (backslash as a separator in special URLs); 'A New Era of "
    "SSRF': parser differentials",
    "I08": "a suffix match without its label boundary (evilid.example.com)",
    "I09": "issue 18: a predicate that raises is a refusal (logged), never a 500",
    "I10": "OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3: the document must name the issuer",
    "I11": "Auth0 MCD 'Security requirements' (express-oauth2-jwt-bearer EXAMPLES.md): checked "
    "before any network",
}


def pinned(keys: Callable[[], object], **settings: Any) -> Settings:
    """The tenant's keys given as keys= (the world's other issuer discovers as before)."""
    return lambda env: {"keys": {ISSUER: keys()}, **settings}


def es256_by_tenant() -> Build:
    return signed(alg="ES256", key=lambda: ec_key("P-256"), kid="e1")


def hs256_keyed_by_the_pem() -> Build:
    """CVE-2015-9235: the pinned public key's PEM text used as an HMAC secret."""

    def build(env: Env) -> str:
        signing_input = encode_part({"alg": "HS256", "typ": "JWT"}) + "." + encode_part(claims())
        mac = hmac.new(
            public_pem(rsa_key(0)).encode(), signing_input.encode(), hashlib.sha256
        ).digest()
        return signing_input + "." + b64url(mac)

    return build


def own_jwk_in_header() -> Build:
    """Signed by the attacker's key, which the header carries as jwk (and names as jku)."""
    attacker = rsa_key(3)
    header = {"jwk": public_jwk(attacker), "jku": "https://evil.example/jwks.json"}
    return signed(kid="k1", key=lambda: attacker, alg="RS256", header=header)


def trusting_tenants(*tenants: str, **settings: Any) -> Settings:
    """issuer= the documented predicate; each of ``tenants`` served in-process."""

    def setup(env: Env) -> dict[str, Any]:
        env.others.extend(Provider(issuer=Tenants.issuer(name)) for name in tenants)
        return {"issuer": trusted_tenant, **env.transports(), **settings}

    return setup


def naming(iss: str) -> Build:
    """A token of acme's key with this ``iss``."""

    def build(env: Env) -> str:
        provider = next(p for p in env.others if p.issuer == ACME)
        return provider.token(iss=iss)

    return build


def raising_predicate(iss: str) -> bool:
    raise RuntimeError("the tenant directory is down")


def names_another_issuer(env: Env) -> dict[str, Any]:
    """acme's discovery document names globex: a document anyone at that URL could serve."""
    acme = Provider(issuer=ACME)
    globex = Tenants.issuer("globex")
    acme.override["/.well-known/openid-configuration"] = lambda request: httpx.Response(
        200, json={"issuer": globex, "jwks_uri": ACME + ".well-known/jwks.json"}
    )
    env.others.append(acme)
    return {"issuer": trusted_tenant, **env.transports()}


KEYS_ISSUERS: list[Case] = [
    # --- static keys -------------------------------------------------------------------------
    ok(
        "K00-pem-any-kid",
        signed(kid="rotated", alg="RS256", key=lambda: rsa_key(0)),
        settings=pinned(lambda: public_pem(rsa_key(0))),
        hits=0,
    ),
    no(
        "K01-rsa-pem-es256-token",
        UnknownKeyError,
        es256_by_tenant(),
        settings=pinned(lambda: public_pem(rsa_key(0)), algorithms=["RS256", "ES256"]),
        hits=0,
    ),
    no(
        "K01-ec-jwk-rs256-token",
        UnknownKeyError,
        signed(kid="e1", alg="RS256", key=lambda: rsa_key(0)),
        settings=pinned(
            lambda: {"keys": [public_jwk(ec_key("P-256"), kid="e1")]},
            algorithms=["RS256", "ES256"],
        ),
        hits=0,
    ),
    no(
        "K02-ec-key-alg-rs256",
        ConfigurationError,
        settings=pinned(lambda: public_jwk(ec_key("P-256"), alg="RS256")),
        http=False,
    ),
    no(
        "K03-oct-jwk",
        ConfigurationError,
        settings=pinned(lambda: {"kty": "oct", "k": b64url(b"k" * 32), "alg": "HS256"}),
        http=False,
    ),
    no(
        "K03-oct-in-a-set",
        ConfigurationError,
        settings=pinned(
            lambda: {"keys": [public_jwk(rsa_key(0), kid="k1"), {"kty": "oct", "k": "c2VjcmV0"}]}
        ),
        http=False,
    ),
    no(
        "K04-rsa-1024-pem",
        ConfigurationError,
        settings=pinned(lambda: public_pem(rsa_key(9, 1024))),
        http=False,
    ),
    no(
        "K04-rsa-1024-jwk",
        ConfigurationError,
        settings=pinned(lambda: {"keys": [public_jwk(rsa_key(9, 1024), kid="k1")]}),
        http=False,
    ),
    no(
        "K05-hs256-keyed-by-the-pem",
        InvalidTokenError,
        hs256_keyed_by_the_pem(),
        settings=pinned(lambda: public_pem(rsa_key(0))),
        hits=0,
    ),
    no(
        "K06-kid-outside-the-set",
        UnknownKeyError,
        signed(kid="k2", alg="RS256", key=lambda: rsa_key(0)),
        settings=pinned(lambda: {"keys": [public_jwk(rsa_key(0), kid="k1", alg="RS256")]}),
        hits=0,
    ),
    no(
        "K07-own-jwk-and-jku",
        InvalidSignatureError,
        own_jwk_in_header(),
        settings=pinned(lambda: public_pem(rsa_key(0))),
        hits=0,
    ),
    no(
        "K08-private-pem",
        ConfigurationError,
        settings=pinned(
            lambda: (
                rsa_key(0)
                .private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.TraditionalOpenSSL,
                    serialization.NoEncryption(),
                )
                .decode()
            )
        ),
        http=False,
    ),
    no(
        "K08-private-jwk",
        ConfigurationError,
        settings=pinned(lambda: {**public_jwk(ec_key("P-256")), "d": b64url(b"\x07" * 32)}),
        http=False,
    ),
    no(
        "K09-use-enc",
        ConfigurationError,
        settings=pinned(lambda: public_jwk(rsa_key(0), use="enc")),
        http=False,
    ),
    # --- an iss crafted to pass a naive predicate --------------------------------------------
    ok("I00-the-tenant", naming(ACME), settings=trusting_tenants("acme"), hits=2),
    no(
        "I01-lookalike-suffix",
        InvalidIssuerError,
        naming("https://acme.id.example.com.evil.example/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I02-userinfo",
        InvalidIssuerError,
        naming("https://acme.id.example.com@evil.example/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I02-userinfo-and-port",
        InvalidIssuerError,
        naming("https://acme.id.example.com:443@evil.example/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I03-port",
        InvalidIssuerError,
        naming("https://acme.id.example.com:8443/"),
        settings=trusting_tenants("acme"),
    ),
    ok(
        "I04-letter-case",
        naming("HTTPS://ACME.ID.EXAMPLE.COM"),
        settings=trusting_tenants("acme"),
        hits=2,
    ),
    ok(
        "I04-default-port",
        naming("https://acme.id.example.com:443/"),
        settings=trusting_tenants("acme"),
        hits=2,
    ),
    no(
        "I05-trailing-dot",
        InvalidIssuerError,
        naming("https://acme.id.example.com./"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I06-name-in-the-path",
        InvalidIssuerError,
        naming("https://evil.example/acme.id.example.com/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I06-suffix-in-the-path",
        InvalidIssuerError,
        naming("https://evil.example/.id.example.com/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I07-backslash",
        InvalidIssuerError,
        naming("https://evil.example\\.id.example.com/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I07-encoded-dot",
        InvalidIssuerError,
        naming("https://evil%2eid.example.com/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I07-homoglyph",
        InvalidIssuerError,
        naming("https://acme.id.ex\u0430mple.com/"),  # a Cyrillic a
        settings=trusting_tenants("acme"),
    ),
    no(
        "I08-no-label-boundary",
        InvalidIssuerError,
        naming("https://evilid.example.com/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I08-two-labels",
        InvalidIssuerError,
        naming("https://evil.acme.id.example.com/"),
        settings=trusting_tenants("acme"),
    ),
    no(
        "I09-predicate-raises",
        InvalidIssuerError,
        naming(ACME),
        settings=trusting_tenants("acme", issuer=raising_predicate),
    ),
    no(
        "I10-discovery-names-another",
        KeySetUnavailableError,
        naming(ACME),
        settings=names_another_issuer,
        hits=1,
    ),
    no(
        "I11-http-lookalike",
        InvalidIssuerError,
        naming("http://acme.id.example.com/"),
        settings=trusting_tenants("acme"),
    ),
]
