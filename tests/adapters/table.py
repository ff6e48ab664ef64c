"""The shared table: one request, one exact answer, whatever the framework.

Every adapter runs every row through its framework's real test client and must
answer with exactly this status, ``WWW-Authenticate`` challenge and JSON body.
Row ids carry the hostile-tokens catalogue id (``T..``) where one applies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from tests.support import (
    CUSTOM_DOMAIN,
    ISSUER,
    NOW,
    b64url,
    claims,
    encode_part,
    rsa_key,
    sign_token,
)

from .harness import IdentityProviders

Headers = list[tuple[str, str]]
SUB = "auth0|123"


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    headers: Callable[[IdentityProviders], Headers]
    status: int
    challenge: str | None = None
    body: Any = None
    query: Callable[[IdentityProviders], str] = lambda idp: ""
    # Changes the identity providers before the request (e.g. take them down).
    setup: Callable[[IdentityProviders], None] = lambda idp: None
    extra_headers: dict[str, str] = field(default_factory=dict)


def bearer(token: str) -> Headers:
    return [("Authorization", f"Bearer {token}")]


def with_token(**overrides: Any) -> Callable[[IdentityProviders], Headers]:
    return lambda idp: bearer(idp.token(**overrides))


def raw_authorization(value: str) -> Callable[[IdentityProviders], Headers]:
    return lambda idp: [("Authorization", value)]


def no_headers(idp: IdentityProviders) -> Headers:
    return []


def challenge(error: str, description: str, scope: str | None = None) -> str:
    value = f'Bearer realm="api", error="{error}", error_description="{description}"'
    return value + (f', scope="{scope}"' if scope else "")


JWE_DESCRIPTION = "The access token is encrypted (JWE); this API accepts signed JWTs"
BOUND_DESCRIPTION = (
    "The access token is sender-constrained (bound to a key) and cannot be used as a bearer token"
)
BARE_CHALLENGE = 'Bearer realm="api"'
UNAUTHORIZED_BODY = {"error": "unauthorized", "error_description": "Authentication required"}


def invalid_token(description: str = "Invalid token") -> dict[str, Any]:
    return {
        "challenge": challenge("invalid_token", description),
        "body": {"error": "invalid_token", "error_description": description},
    }


def invalid_request(description: str = "Malformed Authorization header") -> dict[str, Any]:
    return {
        "challenge": challenge("invalid_request", description),
        "body": {"error": "invalid_request", "error_description": description},
    }


def insufficient_scope(scope: str) -> dict[str, Any]:
    return {
        "challenge": challenge("insufficient_scope", "Insufficient scope", scope),
        "body": {"error": "insufficient_scope", "error_description": "Insufficient scope"},
    }


def ok(sub: str | None = SUB) -> dict[str, Any]:
    return {"status": 200, "challenge": None, "body": {"sub": sub}}


def alg_none_token(idp: IdentityProviders) -> Headers:
    return bearer(encode_part({"alg": "none", "typ": "JWT"}) + "." + encode_part(claims()) + ".")


def forged_signature(idp: IdentityProviders) -> Headers:
    # Signed by a key the provider never published, under the provider's kid.
    return bearer(sign_token({"alg": "RS256", "kid": "k1"}, claims(), rsa_key(1)))


def hmac_with_public_key(idp: IdentityProviders) -> Headers:
    # Algorithm confusion: HS256 keyed with the provider's public key (RFC 8725 §2.1).
    pem = (
        rsa_key(0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = encode_part({"alg": "HS256", "kid": "k1"}) + "." + encode_part(claims())
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return bearer(signing_input + "." + b64url(mac))


def unknown_kid(idp: IdentityProviders) -> Headers:
    return bearer(sign_token({"alg": "RS256", "kid": "not-published"}, claims(), rsa_key(0)))


def header_injection_kid(idp: IdentityProviders) -> Headers:
    return bearer(idp.tenant.token(header={"kid": 'k1"\r\nSet-Cookie: pwned=1'}))


def custom_domain_token(idp: IdentityProviders) -> Headers:
    return bearer(idp.custom_domain.token(iss=CUSTOM_DOMAIN))


def providers_down(idp: IdentityProviders) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    for provider in (idp.tenant, idp.custom_domain):
        provider.override[httpx.URL(provider.jwks_uri).path] = fail
        provider.override[
            httpx.URL(provider.issuer).path.rstrip("/") + "/.well-known/openid-configuration"
        ] = fail


def jwe_like(idp: IdentityProviders) -> Headers:
    header = b64url(json.dumps({"alg": "RSA-OAEP", "enc": "A256GCM"}).encode())
    return bearer(".".join([header, "a", "b", "c", "d"]))


def oversized(idp: IdentityProviders) -> Headers:
    return bearer(idp.token(padding="x" * 20_000))


def basic_credentials(idp: IdentityProviders) -> Headers:
    return [("Authorization", "Basic " + base64.b64encode(b"user:pass").decode())]


CASES: list[Case] = [
    # Public and optional routes
    Case("public-without-token", "/api/public", no_headers, 200, body={"message": "public"}),
    Case("optional-without-token", "/api/optional", no_headers, **ok(None)),
    Case("optional-with-token", "/api/optional", with_token(), **ok()),
    Case(
        "optional-with-expired-token",
        "/api/optional",
        with_token(exp=int(NOW) - 3600),
        401,
        **invalid_token("The access token expired"),
    ),
    # Credentials (T01-T08)
    Case("T01-no-token", "/api/private", no_headers, 401, BARE_CHALLENGE, UNAUTHORIZED_BODY),
    Case(
        "T02-basic-scheme",
        "/api/private",
        basic_credentials,
        401,
        BARE_CHALLENGE,
        UNAUTHORIZED_BODY,
    ),
    Case(
        "T03-lowercase-scheme",
        "/api/private",
        lambda idp: [("Authorization", "bearer " + idp.token())],
        **ok(),
    ),
    Case(
        "T03-uppercase-scheme-extra-spaces",
        "/api/private",
        lambda idp: [("Authorization", "BEARER   " + idp.token())],
        **ok(),
    ),
    Case(
        "T04-scheme-without-token",
        "/api/private",
        raw_authorization("Bearer"),
        400,
        **invalid_request(),
    ),
    Case(
        "T04-tab-after-scheme",
        "/api/private",
        lambda idp: [("Authorization", "Bearer\t" + idp.token())],
        400,
        **invalid_request(),
    ),
    Case(
        "T05-two-tokens",
        "/api/private",
        lambda idp: [("Authorization", f"Bearer {idp.token()} {idp.token()}")],
        400,
        **invalid_request(),
    ),
    Case(
        "T05-not-a-b64token",
        "/api/private",
        raw_authorization('Bearer a"b;c'),
        400,
        **invalid_request(),
    ),
    Case(
        "T06-repeated-authorization",
        "/api/private",
        lambda idp: bearer(idp.token()) + bearer(idp.token()),
        400,
        **invalid_request(),
    ),
    Case(
        "T07-header-and-query",
        "/api/private",
        with_token(),
        400,
        query=lambda idp: "access_token=" + idp.token(),
        **invalid_request("The request uses more than one method to send the access token"),
    ),
    Case(
        "T08-query-only",
        "/api/private",
        no_headers,
        401,
        BARE_CHALLENGE,
        UNAUTHORIZED_BODY,
        query=lambda idp: "access_token=" + idp.token(),
    ),
    Case(
        "unrelated-query-is-fine",
        "/api/private",
        with_token(),
        query=lambda idp: "page=2&token_type=x",
        **ok(),
    ),
    # Valid tokens and issuers
    Case("valid-token", "/api/private", with_token(), **ok()),
    Case("custom-domain-issuer", "/api/private", custom_domain_token, **ok()),
    Case(
        "T80-untrusted-issuer",
        "/api/private",
        with_token(iss="https://evil.example.com/"),
        401,
        **invalid_token("The access token was issued by an untrusted issuer"),
    ),
    Case(
        "issuer-spelt-without-its-slash",
        "/api/private",
        with_token(iss=ISSUER.rstrip("/").upper().replace("HTTPS", "https")),
        **ok(),
    ),
    Case(
        "issuer-with-another-path",
        "/api/private",
        with_token(iss=ISSUER + "tenant/"),
        401,
        **invalid_token("The access token was issued by an untrusted issuer"),
    ),
    Case(
        "bare-jwt-without-scheme",
        "/api/private",
        lambda idp: [("Authorization", idp.token())],
        401,
        BARE_CHALLENGE,
        UNAUTHORIZED_BODY,
    ),
    # Sender-constrained tokens (RFC 9449, RFC 8705) presented as bearer tokens: refused.
    Case(
        "bound-to-a-dpop-key",
        "/api/private",
        with_token(cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        401,
        **invalid_token(BOUND_DESCRIPTION),
    ),
    Case(
        "bound-to-a-certificate",
        "/api/private",
        with_token(cnf={"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        401,
        **invalid_token(BOUND_DESCRIPTION),
    ),
    Case(
        "bound-by-an-unknown-member",
        "/api/private",
        with_token(cnf={"kid": "a-key"}),
        401,
        **invalid_token(BOUND_DESCRIPTION),
    ),
    Case(
        "T77-wrong-audience",
        "/api/private",
        with_token(aud="https://other-api.example.com"),
        401,
        **invalid_token("The access token is not intended for this API"),
    ),
    Case(
        "T64-expired",
        "/api/private",
        with_token(exp=int(NOW) - 3600),
        401,
        **invalid_token("The access token expired"),
    ),
    Case(
        "T67-not-yet-valid",
        "/api/private",
        with_token(nbf=int(NOW) + 3600),
        401,
        **invalid_token("The access token is not valid yet"),
    ),
    # Scopes: each form a token may carry them in
    Case(
        "T09-missing-scope",
        "/api/private-scoped",
        with_token(),
        403,
        **insufficient_scope("read:messages"),
    ),
    Case("scope-string", "/api/contacts", with_token(scope="openid read:contacts"), **ok()),
    Case("scp-string", "/api/contacts", with_token(scope=None, scp="read:contacts"), **ok()),
    Case("scp-array", "/api/contacts", with_token(scope=None, scp=["read:contacts"]), **ok()),
    Case(
        "auth0-permissions",
        "/api/contacts",
        with_token(scope=None, permissions=["read:contacts"]),
        **ok(),
    ),
    Case(
        "no-scopes-at-all",
        "/api/contacts",
        with_token(scope=None),
        403,
        **insufficient_scope("read:contacts"),
    ),
    Case(
        "T73-scope-case-matters",
        "/api/contacts",
        with_token(scope="READ:CONTACTS"),
        403,
        **insufficient_scope("read:contacts"),
    ),
    Case(
        "T72-scope-prefix-is-not-a-scope",
        "/api/contacts",
        with_token(scope="read:contacts-archive"),
        403,
        **insufficient_scope("read:contacts"),
    ),
    Case(
        "private-scoped-granted", "/api/private-scoped", with_token(scope="read:messages"), **ok()
    ),
    # Requirement forms: all-of and any-of
    Case("all-of-granted", "/api/all-of", with_token(scope="read:contacts write:contacts"), **ok()),
    Case(
        "all-of-one-missing",
        "/api/all-of",
        with_token(scope="read:contacts"),
        403,
        **insufficient_scope("read:contacts write:contacts"),
    ),
    Case("any-of-first", "/api/any-of", with_token(scope="read:contacts"), **ok()),
    Case(
        "any-of-second",
        "/api/any-of",
        with_token(scope=None, permissions=["read:messages"]),
        **ok(),
    ),
    Case(
        "any-of-none",
        "/api/any-of",
        with_token(scope="openid"),
        403,
        **insufficient_scope("read:contacts read:messages"),
    ),
    # Hostile tokens (T10-T12 on every row below): one answer, no detail, never a 500
    Case(
        "T13-not-a-jwt",
        "/api/private",
        raw_authorization("Bearer not-a-jwt"),
        401,
        **invalid_token(),
    ),
    Case(
        "T79-jwe",
        "/api/private",
        jwe_like,
        401,
        **invalid_token(JWE_DESCRIPTION),
    ),
    Case("T14-alg-none", "/api/private", alg_none_token, 401, **invalid_token()),
    Case("T26-hmac-with-public-key", "/api/private", hmac_with_public_key, 401, **invalid_token()),
    Case("T37-forged-signature", "/api/private", forged_signature, 401, **invalid_token()),
    Case(
        "T11-header-injection-in-kid", "/api/private", header_injection_kid, 401, **invalid_token()
    ),
    Case("T45-unknown-kid", "/api/private", unknown_kid, 401, **invalid_token()),
    Case("T81-oversized-token", "/api/private", oversized, 401, **invalid_token()),
    # The provider is down and nothing is cached: a server-side 503, never a 401
    Case(
        "T87-provider-down",
        "/api/private",
        with_token(),
        503,
        challenge(
            "temporarily_unavailable", "The token cannot be checked right now; try again later"
        ),
        {
            "error": "temporarily_unavailable",
            "error_description": "The token cannot be checked right now; try again later",
        },
        setup=providers_down,
        extra_headers={"retry-after": "1"},
    ),
]
