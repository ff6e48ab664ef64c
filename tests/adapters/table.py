"""The shared table: one request, one exact answer, whatever the framework.

Every adapter runs every row through its framework's real test client and must
answer with exactly this status, ``WWW-Authenticate`` challenge and JSON body.
Row ids carry the hostile-tokens catalogue id (``T..``) where one applies, and the
hostile DPoP catalogue's (``D..``, ``tests/hostile/dpop_catalogue.py``) for the DPoP
rows: those run against a verifier with the row's ``settings`` and build their
request with the test client's URL (a proof names it) through ``Caller``. The
certificate rows (``C..``, ``tests/hostile/certificate_catalogue.py``) send the field
a TLS-terminating proxy sets to a verifier told to read it (``client_certificate``).
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

from bearerguard import claims as rules
from bearerguard.testing import DPoPKey
from bearerguard.testing._certificates import ClientCertificate
from bearerguard.testing._proofs import BrokenProof, mint_proof
from tests.support import (
    CUSTOM_DOMAIN,
    DPOP_ALGS,
    ISSUER,
    NO_TOKEN_CHALLENGE,
    NOW,
    b64url,
    claims,
    encode_part,
    rsa_key,
    sign_token,
)

from .harness import NAMESPACE, Answer, IdentityProviders

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
    # The verifier's settings beside the harness's (dpop=..., dpop_nonce=...).
    settings: dict[str, Any] = field(default_factory=dict)
    # A DPoP row's request, built with the test client's URL (instead of ``headers``).
    dpop: Callable[[Caller], Headers] | None = None
    # The answer carries a fresh server nonce (RFC 9449 §9): a DPoP-Nonce of 32 characters.
    fresh_nonce: bool = False


@dataclass
class Caller:
    """What a DPoP row's request is made with: the client's key, the URL its test client
    sends to, and ``send`` for a request that must come first (to replay it, to be
    handed a nonce)."""

    idp: IdentityProviders
    base_url: str
    path: str
    send: Callable[[Headers], Answer]
    key: DPoPKey = field(default_factory=DPoPKey)

    def bound_token(self) -> str:
        return self.idp.token(cnf={"jkt": self.key.jkt})

    def proof(
        self,
        token: str,
        *,
        nonce: str | None = None,
        broken: BrokenProof | None = None,
    ) -> str:
        url = self.base_url + self.path
        return mint_proof(
            self.key,
            method="GET",
            url=url,
            now=self.idp.clock.time(),
            token=token,
            nonce=nonce,
            broken=broken,
        )

    def dpop_headers(self, *, nonce: str | None = None) -> Headers:
        """A sound DPoP request: a token bound to the key, and its proof."""
        token = self.bound_token()
        return [("Authorization", f"DPoP {token}"), ("DPoP", self.proof(token, nonce=nonce))]


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


def no_token_for(scope: str, realm: str = "api") -> str:
    """The answer to a request without credentials on a route that needs ``scope``: every
    challenge (Bearer, and DPoP while it is allowed) names what to ask for (RFC 6750 §3)."""
    named = f'scope="{scope}"'
    return f'Bearer realm="{realm}", {named}, DPoP realm="{realm}", algs="{DPOP_ALGS}", {named}'


JWE_DESCRIPTION = "The access token is encrypted (JWE); this API accepts signed JWTs"
BOUND_DESCRIPTION = (
    "The access token is sender-constrained (bound to a key) and cannot be used as a bearer token"
)
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


# --- claim rules ---------------------------------------------------------------------------------

ROLES = NAMESPACE + "roles"  # the namespaced claim /api/claims reads
# Every claim /api/claims requires, met: roles holds admin (and more), email_verified is true.
MET = {ROLES: ["editor", "admin"], "email_verified": True}
ROUTE_CLAIMS_DESCRIPTION = "The claims of the access token do not grant access to this resource"
VERIFIER_CLAIMS_DESCRIPTION = (
    "The claims of the access token do not meet the requirements of this API"
)


def claims_refused() -> dict[str, Any]:
    """A route's claim rule refuses a valid token: 403 insufficient_scope, and no scope named
    (no scope would let the token in)."""
    return {
        "challenge": challenge("insufficient_scope", ROUTE_CLAIMS_DESCRIPTION),
        "body": {"error": "insufficient_scope", "error_description": ROUTE_CLAIMS_DESCRIPTION},
    }


def with_claims(**overrides: Any) -> Callable[[IdentityProviders], Headers]:
    """A token granting read:contacts and meeting /api/claims' rules, but for ``overrides``."""
    return with_token(**{**MET, **overrides})


def with_roles(roles: Any) -> Callable[[IdentityProviders], Headers]:
    return with_claims(**{ROLES: roles})


def raising_check(token_claims: Any) -> bool:
    """A verifier-wide check with a bug: it reads a claim the tokens do not all carry."""
    return bool(token_claims["tenant"]["active"])


# --- DPoP rows ---------------------------------------------------------------------------------

NONCE_SECRET = "a-shared-secret-of-the-api-workers-0123456789"


def dpop_case(
    id: str, path: str, request: Callable[[Caller], Headers], *args: Any, **kw: Any
) -> Case:
    """A row whose request is made by ``request`` with the test client's URL."""
    kw["dpop"] = request
    return Case(id, path, no_headers, *args, **kw)


def both_challenges(*, bearer: str = "", dpop: str = "") -> str:
    """A challenge per accepted scheme (RFC 9449 §7.1), the error in its own scheme's."""
    bearer_params = 'realm="api"' + (f", {bearer}" if bearer else "")
    dpop_params = 'realm="api"' + (f", {dpop}" if dpop else "")
    return f'Bearer {bearer_params}, DPoP {dpop_params}, algs="{DPOP_ALGS}"'


def invalid_dpop_proof() -> dict[str, Any]:
    return {
        "challenge": both_challenges(
            dpop='error="invalid_dpop_proof", error_description="Invalid DPoP proof"'
        ),
        "body": {"error": "invalid_dpop_proof", "error_description": "Invalid DPoP proof"},
    }


def sound_dpop(caller: Caller) -> Headers:
    return caller.dpop_headers()


def replayed_dpop(caller: Caller) -> Headers:
    """A proof the API accepted once, sent again."""
    headers = caller.dpop_headers()
    assert caller.send(headers).status == 200
    return headers


def broken_dpop(broken: BrokenProof) -> Callable[[Caller], Headers]:
    def request(caller: Caller) -> Headers:
        token = caller.bound_token()
        return [("Authorization", f"DPoP {token}"), ("DPoP", caller.proof(token, broken=broken))]

    return request


def bound_token_as_bearer(caller: Caller) -> Headers:
    """A bound token stolen and sent without its key's proof (RFC 9449 §7.2)."""
    return bearer(caller.bound_token())


def bearer_with_a_proof(caller: Caller) -> Headers:
    token = caller.idp.token()
    return [*bearer(token), ("DPoP", caller.proof(token))]


def with_the_nonce(caller: Caller) -> Headers:
    """The client's retry with the nonce the API handed out with use_dpop_nonce."""
    asked = caller.send(caller.dpop_headers())
    assert asked.status == 401
    return caller.dpop_headers(nonce=asked.headers["dpop-nonce"])


# --- certificate-bound tokens (RFC 8705): the field a TLS-terminating proxy sets ----------------

CERTIFICATE = ClientCertificate("table client")
OTHER_CERTIFICATE = ClientCertificate("another client")
CERTIFICATE_DESCRIPTION = (
    "The access token is bound to a client certificate that the request does not present"
)


def reading(source: str) -> dict[str, Any]:
    """The settings of a verifier told where the proxy puts the client certificate."""
    return {"client_certificate": source}


def certificate_bound(
    source: str | None, certificate: ClientCertificate = CERTIFICATE, **claims: Any
) -> Callable[[IdentityProviders], Headers]:
    """A token bound to CERTIFICATE, and ``certificate``'s field as the proxy ``source``
    names it sets it (none for ``None``)."""

    def build(idp: IdentityProviders) -> Headers:
        extra = dict(claims)  # each adapter builds the request afresh
        cnf = {"x5t#S256": CERTIFICATE.thumbprint, **extra.pop("cnf", {})}
        fields = bearer(idp.token(cnf=cnf, **extra))
        return fields + list(certificate.headers(source).items()) if source else fields

    return build


def certificate_refused() -> dict[str, Any]:
    """401 invalid_token, on the whole-request path (both schemes offered)."""
    return {
        "challenge": both_challenges(
            bearer=f'error="invalid_token", error_description="{CERTIFICATE_DESCRIPTION}"'
        ),
        "body": {"error": "invalid_token", "error_description": CERTIFICATE_DESCRIPTION},
    }


CLIENT_CERT = "header:Client-Cert"
XFCC = "header:X-Forwarded-Client-Cert"
NGINX = "header:X-SSL-Client-Cert"

CERTIFICATE_CASES: list[Case] = [
    *(
        Case(
            f"C00-bound-token-and-its-certificate-in-{source.partition(':')[2].lower()}",
            "/api/contacts",
            certificate_bound(source),
            settings=reading(source),
            **ok(),
        )
        for source in (CLIENT_CERT, XFCC, NGINX)
    ),
    Case(
        "C00-a-plain-token-needs-no-certificate",
        "/api/contacts",
        with_token(),
        settings=reading(CLIENT_CERT),
        **ok(),
    ),
    Case(
        "C00-a-plain-token-and-an-unreadable-field",
        "/api/contacts",
        lambda idp: [*bearer(idp.token()), ("Client-Cert", "not a certificate")],
        settings=reading(CLIENT_CERT),
        **ok(),
    ),
    Case(
        "C01-bound-token-without-a-certificate",
        "/api/contacts",
        certificate_bound(None),
        401,
        settings=reading(NGINX),
        **certificate_refused(),
    ),
    Case(
        "C02-bound-token-and-another-certificate",
        "/api/contacts",
        certificate_bound(XFCC, OTHER_CERTIFICATE),
        401,
        settings=reading(XFCC),
        **certificate_refused(),
    ),
    Case(
        "C03-a-thumbprint-in-hex",
        "/api/contacts",
        lambda idp: (
            bearer(idp.token(cnf={"x5t#S256": hashlib.sha256(CERTIFICATE.der).hexdigest()}))
            + list(CERTIFICATE.headers(CLIENT_CERT).items())
        ),
        401,
        settings=reading(CLIENT_CERT),
        **certificate_refused(),
    ),
    Case(
        "C05-the-field-unread-when-not-configured",
        "/api/contacts",
        certificate_bound(CLIENT_CERT),
        401,
        **invalid_token(BOUND_DESCRIPTION),
    ),
    Case(
        "C06-two-fields",
        "/api/contacts",
        lambda idp: (
            certificate_bound(CLIENT_CERT, OTHER_CERTIFICATE)(idp)
            + list(CERTIFICATE.headers(CLIENT_CERT).items())
        ),
        401,
        settings=reading(CLIENT_CERT),
        **certificate_refused(),
    ),
    Case(
        "C07-an-unreadable-field",
        "/api/contacts",
        lambda idp: [*certificate_bound(None)(idp), ("X-SSL-Client-Cert", "%ZZnot-a-pem")],
        401,
        settings=reading(NGINX),
        **certificate_refused(),
    ),
    Case(
        "C08-a-dpop-bound-token-with-a-certificate-as-bearer",
        "/api/contacts",
        certificate_bound(CLIENT_CERT, cnf={"jkt": DPoPKey().jkt}),
        401,
        settings=reading(CLIENT_CERT),
        challenge=both_challenges(
            bearer=f'error="invalid_token", error_description="{BOUND_DESCRIPTION}"'
        ),
        body={"error": "invalid_token", "error_description": BOUND_DESCRIPTION},
    ),
]


def bound_both_ways(caller: Caller) -> Headers:
    """A token bound to the client's DPoP key and to CERTIFICATE, its proof and the field."""
    token = caller.idp.token(cnf={"jkt": caller.key.jkt, "x5t#S256": CERTIFICATE.thumbprint})
    return [
        ("Authorization", f"DPoP {token}"),
        ("DPoP", caller.proof(token)),
        *CERTIFICATE.headers(CLIENT_CERT).items(),
    ]


def bound_both_ways_without_the_certificate(caller: Caller) -> Headers:
    return bound_both_ways(caller)[:2]


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
    Case("T01-no-token", "/api/private", no_headers, 401, NO_TOKEN_CHALLENGE, UNAUTHORIZED_BODY),
    # Without a token, the challenges name what the route needs: all of its scopes, every
    # alternative of an any-of route (RFC 6750 lets the server choose which to name).
    Case(
        "no-token-on-a-scoped-route",
        "/api/contacts",
        no_headers,
        401,
        no_token_for("read:contacts"),
        UNAUTHORIZED_BODY,
    ),
    Case(
        "no-token-on-an-all-of-route",
        "/api/all-of",
        no_headers,
        401,
        no_token_for("read:contacts write:contacts"),
        UNAUTHORIZED_BODY,
    ),
    Case(
        "no-token-on-an-any-of-route",
        "/api/any-of",
        no_headers,
        401,
        no_token_for("read:contacts read:messages"),
        UNAUTHORIZED_BODY,
    ),
    Case(
        "basic-credentials-on-a-scoped-route",
        "/api/contacts",
        basic_credentials,
        401,
        no_token_for("read:contacts"),
        UNAUTHORIZED_BODY,
    ),
    Case(
        "T02-basic-scheme",
        "/api/private",
        basic_credentials,
        401,
        NO_TOKEN_CHALLENGE,
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
        NO_TOKEN_CHALLENGE,
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
        NO_TOKEN_CHALLENGE,
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
    # Claim rules of one route (403: the token is valid, its claims do not let it in)
    Case("claims-met", "/api/claims", with_claims(), **ok()),
    Case(
        "claims-roles-as-a-space-separated-string",
        "/api/claims",
        with_roles("editor admin"),
        **ok(),
    ),
    Case("claims-role-missing", "/api/claims", with_roles(["editor"]), 403, **claims_refused()),
    Case("claims-role-case-matters", "/api/claims", with_roles(["Admin"]), 403, **claims_refused()),
    Case(
        "claims-role-as-a-prefix",
        "/api/claims",
        with_roles("administrator"),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-roles-an-object",
        "/api/claims",
        with_roles({"admin": True}),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-roles-null-items",
        "/api/claims",
        with_roles([None, 1, ["admin"]]),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-role-not-namespaced",
        "/api/claims",
        with_token(roles=["admin"], email_verified=True),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-email-verified-as-text",
        "/api/claims",
        with_claims(email_verified="true"),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-email-verified-as-a-number",
        "/api/claims",
        with_claims(email_verified=1),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-email-verified-false",
        "/api/claims",
        with_claims(email_verified=False),
        403,
        **claims_refused(),
    ),
    Case(
        "claims-email-verified-missing",
        "/api/claims",
        with_claims(email_verified=None),
        403,
        **claims_refused(),
    ),
    # The scopes come first: their 403 names them, so that a client can step up.
    Case(
        "claims-met-scope-missing",
        "/api/claims",
        with_claims(scope="openid"),
        403,
        **insufficient_scope("read:contacts"),
    ),
    Case(
        "claims-neither",
        "/api/claims",
        with_token(scope="openid"),
        403,
        **insufficient_scope("read:contacts"),
    ),
    Case(
        "claims-no-token",
        "/api/claims",
        no_headers,
        401,
        no_token_for("read:contacts"),
        UNAUTHORIZED_BODY,
    ),
    Case(
        "claims-expired-token",
        "/api/claims",
        with_claims(exp=int(NOW) - 3600),
        401,
        **invalid_token("The access token expired"),
    ),
    # Claim rules of the verifier (401: every token must meet them, as Express answers)
    Case(
        "verifier-claims-required-missing",
        "/api/private",
        with_token(),
        401,
        **invalid_token(VERIFIER_CLAIMS_DESCRIPTION),
        settings={"required_claims": ["org_id"]},
    ),
    Case(
        "verifier-claims-required-present",
        "/api/private",
        with_token(org_id="org_1"),
        settings={"required_claims": ["org_id"]},
        **ok(),
    ),
    Case(
        "verifier-claims-equals-refused",
        "/api/contacts",
        with_token(org_id="org_2"),
        401,
        **invalid_token(VERIFIER_CLAIMS_DESCRIPTION),
        settings={"claim_rules": [rules.equals("org_id", "org_1")]},
    ),
    Case(
        "verifier-claims-on-an-optional-route",
        "/api/optional",
        with_token(),
        401,
        **invalid_token(VERIFIER_CLAIMS_DESCRIPTION),
        settings={"claim_rules": [rules.includes("roles", "staff")]},
    ),
    Case(
        "verifier-claims-check-raises",
        "/api/private",
        with_token(),
        401,
        **invalid_token(VERIFIER_CLAIMS_DESCRIPTION),
        settings={"claim_rules": [rules.check(raising_check, "active tenants only")]},
    ),
    Case(
        "verifier-claims-check-passes",
        "/api/private",
        with_token(tenant={"active": True}),
        settings={"claim_rules": [rules.check(raising_check, "active tenants only")]},
        **ok(),
    ),
    Case(
        "verifier-claims-before-route-claims",
        "/api/claims",
        with_claims(),
        401,
        **invalid_token(VERIFIER_CLAIMS_DESCRIPTION),
        settings={"required_claims": ["org_id"]},
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
    # DPoP (RFC 9449): sender-constrained tokens and their proofs
    dpop_case("D00-dpop-valid-proof", "/api/contacts", sound_dpop, **ok()),
    dpop_case(
        "D13-dpop-replayed-proof",
        "/api/contacts",
        replayed_dpop,
        401,
        **invalid_dpop_proof(),
    ),
    dpop_case(
        "D11-dpop-proof-of-another-url",
        "/api/contacts",
        broken_dpop("htu"),
        401,
        **invalid_dpop_proof(),
    ),
    dpop_case(
        "D23-dpop-bound-token-as-bearer",
        "/api/contacts",
        bound_token_as_bearer,
        401,
        **invalid_token(BOUND_DESCRIPTION),
    ),
    dpop_case(
        "D23-dpop-bearer-with-a-dpop-field",
        "/api/contacts",
        bearer_with_a_proof,
        400,
        both_challenges(
            bearer='error="invalid_request", '
            'error_description="A DPoP proof was sent with a Bearer token"'
        ),
        {
            "error": "invalid_request",
            "error_description": "A DPoP proof was sent with a Bearer token",
        },
    ),
    dpop_case(
        "D23-dpop-required-no-credentials",
        "/api/contacts",
        lambda caller: [],
        401,
        f'DPoP realm="api", algs="{DPOP_ALGS}", scope="read:contacts"',
        UNAUTHORIZED_BODY,
        settings={"dpop": "required"},
    ),
    dpop_case(
        "D16-dpop-use-dpop-nonce",
        "/api/contacts",
        sound_dpop,
        401,
        both_challenges(
            dpop='error="use_dpop_nonce", '
            'error_description="Resource server requires nonce in DPoP proof"'
        ),
        {
            "error": "use_dpop_nonce",
            "error_description": "Resource server requires nonce in DPoP proof",
        },
        settings={"dpop_nonce": NONCE_SECRET},
        fresh_nonce=True,
    ),
    dpop_case(
        "D16-dpop-with-the-nonce-handed-out",
        "/api/contacts",
        with_the_nonce,
        settings={"dpop_nonce": NONCE_SECRET},
        fresh_nonce=True,  # a nonce for the next request comes with the answer
        **ok(),
    ),
    # Certificate-bound tokens (RFC 8705), the certificate forwarded by a proxy
    *CERTIFICATE_CASES,
    dpop_case(
        "C09-bound-both-ways-with-the-proof-and-the-certificate",
        "/api/contacts",
        bound_both_ways,
        settings=reading(CLIENT_CERT),
        **ok(),
    ),
    dpop_case(
        "C09-bound-both-ways-with-the-proof-alone",
        "/api/contacts",
        bound_both_ways_without_the_certificate,
        401,
        settings=reading(CLIENT_CERT),
        **certificate_refused(),
    ),
]


# --- the RFC 9728 metadata document ----------------------------------------------------------

RESOURCE = "https://api.example.com/mcp"
# What the contract's routes require, in route order: scopes_supported when none is configured.
CONTRACT_SCOPES = ["read:messages", "read:contacts", "write:contacts"]
METADATA_CACHE_CONTROL = "public, max-age=3600"
PREFLIGHT = [("Origin", "https://app.example.net"), ("Access-Control-Request-Method", "GET")]


@dataclass(frozen=True)
class MetadataCase:
    """One request for the metadata document's URL and the answer every adapter gives."""

    id: str
    method: str
    status: int
    headers: Headers = field(default_factory=list)
    #: the answer's fields (lower-case names) and their exact values
    fields: dict[str, str] = field(default_factory=dict)
    #: the body is the document (else: no body at all)
    document: bool = False


METADATA_CASES = [
    MetadataCase(
        "M01-get-the-document",
        "GET",
        200,
        fields={
            "content-type": "application/json",
            "cache-control": METADATA_CACHE_CONTROL,
            "access-control-allow-origin": "*",
        },
        document=True,
    ),
    MetadataCase(
        "M02-head-has-the-fields-and-no-body",
        "HEAD",
        200,
        fields={
            "content-type": "application/json",
            "cache-control": METADATA_CACHE_CONTROL,
            "access-control-allow-origin": "*",
        },
    ),
    MetadataCase(
        "M03-cors-preflight",
        "OPTIONS",
        204,
        headers=PREFLIGHT,
        fields={
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, HEAD",
            "access-control-allow-headers": "*",
        },
    ),
    MetadataCase(
        "M04-a-token-changes-nothing",
        "GET",
        200,
        headers=[("Authorization", "Bearer not-a-token")],
        fields={"access-control-allow-origin": "*"},
        document=True,
    ),
    MetadataCase(
        "M05-post-is-not-allowed",
        "POST",
        405,
        fields={"allow": "GET, HEAD, OPTIONS", "access-control-allow-origin": "*"},
    ),
    MetadataCase(
        "M06-delete-is-not-allowed",
        "DELETE",
        405,
        fields={"allow": "GET, HEAD, OPTIONS"},
    ),
    MetadataCase(
        "M07-options-without-preflight-lists-the-methods",
        "OPTIONS",
        204,
        fields={"allow": "GET, HEAD, OPTIONS"},
    ),
]
