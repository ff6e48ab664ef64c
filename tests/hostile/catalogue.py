"""The hostile-token catalogue as one table: every row of the reference, as a test case.

Source: the "JWT access-token verifier: hostile-input & reliability catalogue"
(``hostile-tokens.md``, §9, ids T01-T95), kept outside this repository. Each
case id starts with the catalogue id; a catalogue row whose input lists several
variants has one case per variant. ``tests/hostile/test_core.py`` runs every
case through ``verify()`` and ``averify()`` (``verify_authorization()`` for the
requests of T01-T08); ``tests/hostile/test_adapters.py`` sends every case that can
be sent over HTTP (``Case.sendable``) through every framework adapter.

The world of every case (``tests/adapters/harness.py``): the catalogue's baseline
configuration, i.e. two trusted issuers (an Auth0 tenant and its custom domain),
audience ``https://api.example.com``, RS256 only, leeway 30 s, scopes from
``scope``/``scp``/``permissions``, discovery and JWKS served in-process.

``NOT_APPLICABLE`` names the rows bearerguard has nothing to test for, and
``POLICY_DIFFERENCES`` where bearerguard deliberately answers otherwise than
the catalogue suggests (docs/security.md reproduces both).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bearerguard import (
    CachePolicy,
    ConfigurationError,
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
    MalformedTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UnknownKeyError,
)
from tests.support import (
    AUDIENCE,
    ISSUER,
    b64url,
    claims,
    ec_key,
    ed_key,
    public_jwk,
    rsa_key,
)

from .builders import (
    DISCOVERY,
    JWKS,
    LEEWAY,
    P256_ORDER,
    SECRET,
    SHA256_INFO,
    TENANT_B,
    Case,
    N,
    Settings,
    advance,
    body,
    clock_only,
    crafted_rsa,
    discovery,
    ec_jwk,
    ed448_key,
    ed_signed,
    edited,
    es256_der,
    es256_high_s,
    failing,
    flipped,
    ghost_kid,
    header_updated,
    hs256_with,
    inserted,
    jwe,
    jwk,
    jws_json,
    keys_elsewhere,
    length_1_mod_4,
    literal,
    modulus_bytes,
    n_of,
    n_text,
    no,
    nonzero_unused_bits,
    ok,
    p256_coordinate,
    payload_replaced,
    pkcs1_forgery,
    pkcs1_pem,
    polyglot,
    private_rsa_jwk,
    probed,
    pss,
    public_der,
    public_jwk_json,
    public_openssh,
    public_pem,
    publishing,
    raising,
    redirect,
    rotate,
    same_origin_redirect,
    secp256k1_key,
    segment_edited,
    self_signed_certificate,
    sent,
    served,
    serving,
    serving_unbound_rsa,
    sha1_digest_info,
    sha256,
    shaped,
    signature_edited,
    signature_from,
    signed,
    slow,
    standard_alphabet,
    status,
    streaming,
    two_tenants,
    unavailable,
    unsigned,
    using,
    verified,
    warm,
    warm_every_issuer,
    with_raw,
    with_signer,
)
from .mldsa_builders import (
    MLDSA_LEVELS,
    SIGNATURE_BYTES,
    akp_jwk,
    mldsa_signed,
    public_bytes,
)

# Every id of the catalogue's §9 table, copied from hostile-tokens.md (T01-T95).
CATALOGUE_IDS = (
    "T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "T10",
    "T11", "T12", "T13", "T14", "T15", "T16", "T17", "T18", "T19", "T20",
    "T21", "T22", "T23", "T24", "T25", "T26", "T27", "T28", "T29", "T30",
    "T31", "T32", "T33", "T34", "T35", "T36", "T37", "T38", "T39", "T40",
    "T41", "T42", "T43", "T44", "T45", "T46", "T47", "T48", "T49", "T50",
    "T51", "T52", "T53", "T54", "T55", "T56", "T57", "T58", "T59", "T60",
    "T61", "T62", "T63", "T64", "T65", "T66", "T67", "T68", "T69", "T70",
    "T71", "T72", "T73", "T74", "T75", "T76", "T77", "T78", "T79", "T80",
    "T81", "T82", "T83", "T84", "T85", "T86", "T87", "T88", "T89", "T90",
    "T91", "T92", "T93", "T94", "T95",
)  # fmt: skip

NOT_APPLICABLE: dict[str, str] = {
    "T86": (
        "JWE only (zip:DEF bombs, PBES2 p2c). bearerguard never decrypts: a five-segment "
        "token is refused as EncryptedTokenError (401) by its shape alone, before any "
        "base64 or JSON decoding, so no decompression or key derivation ever runs. "
        "The T79 rows include a JWE carrying both zip:DEF and p2c=2^31."
    ),
}

POLICY_DIFFERENCES: dict[str, str] = {
    "T04": (
        "'Bearer' without a token, 'Bearer ' and 'Bearer<TAB><token>' are answered 400 "
        "invalid_request (malformed credentials, RFC 6750 §3.1), by design and on every "
        "adapter; Auth0's node SDK answers 401 without an error code instead."
    ),
    "T07": (
        "Only the query string is checked for a second method: the adapters never read "
        "request bodies, so an access_token form field is neither accepted nor detected; "
        "a request carrying the header and a form field is judged on the header alone."
    ),
    "T13": (
        "A five-segment token is answered 401 invalid_token with its own description "
        "('The access token is encrypted (JWE); this API accepts signed JWTs'), not the "
        "generic 'Invalid token': providers issue JWEs when a client asks for a token "
        "without naming the API, and the sentence points at the cause. It reveals nothing "
        "the client did not send."
    ),
    "T56": (
        "The spellings RFC 3986 §6.2.2-6.2.3 makes equivalent for an http(s) URL are the "
        "same issuer: scheme and host in any letter case, no path for '/', ':443' for "
        "https. They name the same server and key set, so nobody new is trusted, while "
        "'https://tenant.auth0.com' (as tutorials configure it) trusts Auth0's tokens. "
        "Every other difference stays another issuer: '//', http, another port, a "
        "trailing dot, userinfo, control characters, a query, another path."
    ),
    "T15": (
        "Through an adapter, a JWS JSON serialization (or any token with braces, quotes "
        "or spaces) is answered 400 invalid_request: it is not an RFC 6750 b64token, so "
        "the Authorization header itself is malformed. verify() answers 401."
    ),
    "T16": (
        "Through an adapter, characters outside the RFC 6750 b64token alphabet ('?', '#', "
        "'!', '{', '\"', spaces) make the header malformed: 400 invalid_request; verify() "
        "answers 401. CR, LF, NUL and non-ASCII characters cannot be sent in a header "
        "field at all (servers and HTTP clients refuse them), so those cases run only "
        "through verify()."
    ),
    "T18": (
        "'=' padding is refused everywhere (AWS ALB-style padded tokens are out of "
        "scope). Through an adapter, padding inside the token (header or claims "
        "segment) makes the header malformed: 400; padding at the end (the signature) "
        "passes the b64token syntax and is refused by the verifier: 401."
    ),
    "T35": (
        "Without rfc9068_strict (the Auth0 token profile), typ may be absent, JWT, "
        "application/jwt, at+jwt or application/at+jwt, in any letter case (media types "
        "are case-insensitive, RFC 7515 §4.1.9); any other typ (id+jwt, dpop+jwt, ...) "
        "is refused. The catalogue lists only absent, JWT and at+jwt."
    ),
    "T46": (
        "A token without kid is accepted when exactly one key of the issuer's set can "
        "verify its alg (a provider that publishes a single key); with two or more "
        "fitting keys (Auth0's current + next) it is refused as ambiguous. The catalogue "
        "refuses every token without kid."
    ),
    "T50": (
        "RSA keys must have e = 65537 exactly (stricter than 'small odd e') and a "
        "modulus of 2048-8192 bits; moduli with the ROCA fingerprint are refused too "
        "(the Wycheproof JWK vectors carry one such key)."
    ),
    "T74": (
        "scope: null is taken as no scope claim (403 insufficient_scope on a route that "
        "needs a scope, accepted where none is needed); any other non-string scope is "
        "401 invalid_token. Both are fail-closed answers the catalogue allows."
    ),
    "T83": (
        "Stricter than the catalogue: any JSON integer longer than 32 digits, in any "
        "claim or header member, makes the token malformed (401); real NumericDates "
        "have 10."
    ),
    "T87": (
        "A provider that cannot be reached with nothing cached is answered 503 "
        "temporarily_unavailable with Retry-After (not 401 invalid_token, which would "
        "make every client throw its token away during an outage)."
    ),
    "T92": (
        "Redirects within the same origin (scheme, host and port) are followed, at most "
        "three; a redirect to any other origin (another host, http://, a metadata IP) "
        "is a fetch failure and its target is never requested. The catalogue follows "
        "no redirect at all."
    ),
    "T93": (
        "A discovery document may name a jwks_uri on another host (Google and others "
        "serve keys from a separate domain) as long as it is https (http only for "
        "loopback) and the document names the configured issuer (an equivalent spelling "
        "of its URL, as for tokens, see T56)."
    ),
}

K0 = lambda: rsa_key(0)  # noqa: E731 - the tenant's key k1
K1 = lambda: rsa_key(1)  # noqa: E731 - another RSA key: the attacker's, or a next key
P256 = lambda: ec_key("P-256")  # noqa: E731
RSA1 = ("RS256", K1)
STRICT = {"typ": "at+jwt"}
STRICT_CLAIMS: dict[str, Any] = {"client_id": "client-1", "jti": "j-1"}
JWE_HEADER_MEMBERS = {"zip": "DEF", "p2c": 2**31, "p2s": "c2FsdHNhbHQ"}
FAST_DEADLINE = using(cache=CachePolicy(fetch_timeout=0.03))
CONTACTS = ("read:contacts",)
ALL_OF = ("read:contacts", "write:contacts")
ANY_OF = ("read:contacts", "read:messages")


# --- T01-T12: the HTTP request and the answer ----------------------------------------------

HTTP: list[Case] = [
    no("T01-no-authorization-header", MissingTokenError, request=sent(), hits=0),
    no("T01-empty-authorization-header", MissingTokenError, request=sent(""), hits=0),
    no("T02-basic-scheme", MissingTokenError, request=sent("Basic dXNlcjpwYXNz"), hits=0),
    no("T02-token-scheme", MissingTokenError, request=sent("Token abc"), hits=0),
    # With DPoP off, the DPoP scheme is another scheme; with DPoP on, a DPoP request
    # without its proof is refused as such (tests/adapters/test_dpop.py, tests/test_dpop.py).
    no(
        "T02-dpop-scheme",
        MissingTokenError,
        request=sent("DPoP {token}"),
        hits=0,
        settings=using(dpop="off"),
    ),
    no("T02-bearer-as-a-prefix-of-another-scheme", MissingTokenError, request=sent("BearerX y")),
    ok("T03-lower-case-scheme", request=sent("bearer {token}")),
    ok("T03-upper-case-scheme", request=sent("BEARER {token}")),
    ok("T03-mixed-case-scheme", request=sent("bEaReR {token}")),
    ok("T03-several-spaces-after-the-scheme", request=sent("Bearer   {token}")),
    no("T04-scheme-without-token", InvalidRequestError, request=sent("Bearer"), hits=0),
    no("T04-scheme-and-a-space", InvalidRequestError, request=sent("Bearer "), hits=0),
    no("T04-tab-after-the-scheme", InvalidRequestError, request=sent("Bearer\t{token}")),
    no("T05-token-and-extra-word", InvalidRequestError, request=sent("Bearer {token} extra")),
    no("T05-two-tokens-comma-separated", InvalidRequestError, request=sent("Bearer {token},x.y.z")),
    no("T05-semicolon-in-token", InvalidRequestError, request=sent("Bearer a;b")),
    no("T05-quote-in-token", InvalidRequestError, request=sent('Bearer a"b')),
    no("T05-brace-in-token", InvalidRequestError, request=sent("Bearer {a}")),
    no(
        "T06-two-bearer-fields",
        InvalidRequestError,
        request=sent("Bearer {token}", "Bearer {token}"),
        hits=0,
    ),
    no(
        "T06-basic-field-then-bearer-field",
        InvalidRequestError,
        request=sent("Basic dXNlcjpwYXNz", "Bearer {token}"),
        hits=0,
    ),
    *(
        no(
            f"T07-header-and-{name}",
            InvalidRequestError,
            request=sent("Bearer {token}", query=query),
            description="The request uses more than one method to send the access token",
            hits=0,
        )
        for name, query in [
            ("query", "access_token={token}"),
            ("query-among-others", "page=2&access_token={token}"),
            ("percent-encoded-name", "access%5Ftoken={token}"),
        ]
    ),
    no("T08-query-only", MissingTokenError, request=sent(query="access_token={token}"), hits=0),
    no(
        "T08-percent-encoded-query-only",
        MissingTokenError,
        request=sent(query="access%5Ftoken={token}"),
        hits=0,
    ),
    ok("T08-unrelated-query-is-fine", request=sent("Bearer {token}", query="token_type=x")),
    no(
        "T09-valid-token-lacking-the-scope",
        InsufficientScopeError,
        signed(),
        require=("read:messages",),
    ),
    # T10: every token failure is one 401 invalid_token "Invalid token", whatever the stage
    # (checks.DESCRIPTIONS holds every row to it); one case per stage here.
    no("T10-format-stage", MalformedTokenError, literal("not-a-jwt"), hits=0, http=True),
    no(
        "T10-key-stage",
        UnknownKeyError,
        signed(kid="nope", alg="RS256", key=K0),
        hits=2,
        http=True,
    ),
    no(
        "T10-signature-stage",
        InvalidSignatureError,
        signature_from(signed(jti="j-2")),
        http=True,
    ),
    no("T10-claims-stage", InvalidClaimsError, signed(azp=7), http=True),
    # T11: attacker data aimed at the response header is never reflected
    no(
        "T11-kid-with-crlf-header-injection",
        UnknownKeyError,
        signed(header={"kid": 'a"\r\nSet-Cookie: x=1'}, key=K0, alg="RS256"),
        never_shown=("Set-Cookie", "x=1"),
        http=True,
    ),
    no(
        "T11-iss-with-markup",
        InvalidIssuerError,
        signed(iss='"><script>alert(1)</script>'),
        never_shown=("<script>", "alert(1)", '">'),
        hits=0,
        http=True,
    ),
    no(
        "T11-non-ascii-aud",
        InvalidAudienceError,
        signed(aud="https://\u0430pi.example.com\u202e"),
        never_shown=("\u0430pi", "\u202e", "example.com"),
        http=True,
    ),
    # T12: nothing of the token, the provider or the failure shows
    unavailable(
        "T12-jwks-500-shows-no-url-or-status",
        failing(JWKS, status(500)),
        never_shown=("tenant.auth0.com", "jwks", "HTTP 500", "answered"),
        hits=2,
    ),
    unavailable(
        "T12-discovery-404-shows-no-url",
        failing(DISCOVERY, status(404)),
        never_shown=("well-known", "openid-configuration", "HTTP 404"),
        hits=2,  # OpenID Connect discovery, then RFC 8414 metadata
    ),
    unavailable(
        "T12-transport-exception-text-is-not-shown",
        failing(DISCOVERY, raising(RuntimeError("bug at https://internal.example/secret"))),
        never_shown=("internal.example", "secret", "RuntimeError", "bug at"),
        hits=1,
    ),
    no(
        "T12-parse-exception-text-is-not-shown",
        MalformedTokenError,
        signed(body='{"sub": "x", '),
        never_shown=("Expecting", "line 1", "JSONDecodeError", "char"),
        hits=0,
        http=True,
    ),
]


# --- T13-T25: shape, alphabet, base64url, JSON -----------------------------------------------

NOT_SENDABLE = False  # CR, LF, NUL and non-ASCII cannot travel in a header field
BAD_HEADER = InvalidRequestError  # outside the b64token syntax: the header is malformed

FORMAT: list[Case] = [
    *(
        no(f"T13-{name}", MalformedTokenError, shaped(shape), hits=0)
        for name, shape in [
            ("two-segments", "{h}.{p}"),
            ("four-segments", "{h}.{p}.{s}.{s}"),
            ("only-dots", ".."),
            ("empty-signature", "{h}.{p}."),
            ("empty-header", ".{p}.{s}"),
            ("empty-claims", "{h}..{s}"),
        ]
    ),
    no("T13-empty-string", MalformedTokenError, literal(""), http=BAD_HEADER, hits=0),
    no(
        "T13-five-segments-are-a-jwe",
        EncryptedTokenError,
        shaped("{h}.{p}.{s}.{h}.{p}"),
        hits=0,
        http=True,
    ),
    no("T14-alg-none-without-signature", MalformedTokenError, unsigned({"alg": "none"}), hits=0),
    no(
        "T14-alg-none-with-a-signature",
        InvalidTokenError,
        signed(header={"alg": "none"}),
        hits=0,
        http=True,
    ),
    no("T15-jws-json-flattened", MalformedTokenError, jws_json(), http=BAD_HEADER, hits=0),
    no("T15-jws-json-general", MalformedTokenError, jws_json(True), http=BAD_HEADER, hits=0),
    no("T15-json-and-compact-polyglot", MalformedTokenError, polyglot, http=BAD_HEADER, hits=0),
    no(
        "T16-spaces-before-the-signature",
        MalformedTokenError,
        shaped("{h}.{p}.    {s}"),
        http=BAD_HEADER,
        hits=0,
    ),
    *(
        no(f"T16-{name}-in-signature", MalformedTokenError, inserted(char), http=http, hits=0)
        for name, char, http in [
            ("question-mark", "?", BAD_HEADER),
            ("hash", "#", BAD_HEADER),
            ("exclamation-mark", "!", BAD_HEADER),
            ("brace", "{", BAD_HEADER),
            ("double-quote", '"', BAD_HEADER),
            ("newline", "\n", NOT_SENDABLE),
            ("non-ascii", "\u00e9", NOT_SENDABLE),
            ("nul", "\x00", NOT_SENDABLE),
        ]
    ),
    no("T17-standard-alphabet-plus", MalformedTokenError, standard_alphabet("-"), hits=0),
    no("T17-standard-alphabet-slash", MalformedTokenError, standard_alphabet("_"), hits=0),
    no("T18-padded-header", MalformedTokenError, shaped("{h}==.{p}.{s}"), http=BAD_HEADER),
    no("T18-padded-claims", MalformedTokenError, shaped("{h}.{p}=.{s}"), http=BAD_HEADER),
    no("T18-signature-padded-once", MalformedTokenError, shaped("{h}.{p}.{s}="), hits=0),
    no("T18-signature-padded-twice", MalformedTokenError, shaped("{h}.{p}.{s}=="), hits=0),
    no(
        "T19-signature-with-nonzero-unused-bits",
        MalformedTokenError,
        edited(signed(), segment_edited(2, nonzero_unused_bits)),
        hits=0,
    ),
    no(
        "T19-header-with-nonzero-unused-bits",
        MalformedTokenError,
        edited(signed(), segment_edited(0, nonzero_unused_bits)),
        hits=0,
    ),
    *(
        no(
            f"T20-{part}-length-1-mod-4",
            MalformedTokenError,
            edited(signed(), segment_edited(index, length_1_mod_4)),
            hits=0,
        )
        for index, part in enumerate(["header", "claims", "signature"])
    ),
    *(
        no(f"T21-claims-{name}", MalformedTokenError, signed(body=raw), hits=0)
        for name, raw in [
            ("utf-16", json.dumps(claims()).encode("utf-16")),
            ("utf-32", json.dumps(claims()).encode("utf-32")),
            ("utf-8-byte-order-mark", b"\xef\xbb\xbf" + json.dumps(claims()).encode()),
            ("invalid-utf-8-ff", b'{"sub":"\xff"}'),
            ("overlong-utf-8", b'{"sub":"\xc0\xaf"}'),
        ]
    ),
    no(
        "T21-header-utf-16",
        MalformedTokenError,
        signed(raw_header='{"alg":"RS256","kid":"k1"}'.encode("utf-16"), alg="RS256", key=K0),
        hits=0,
    ),
    *(
        no(f"T22-{part}-is-{name}", MalformedTokenError, build, hits=0)
        for name, text in [
            ("an-array", "[1,2]"),
            ("a-string", '"x"'),
            ("a-number", "1"),
            ("null", "null"),
            ("true", "true"),
        ]
        for part, build in [
            ("header", signed(raw_header=text, alg="RS256", key=K0)),
            ("claims", signed(body=text)),
        ]
    ),
    no(
        "T23-duplicate-aud-evil-first",
        MalformedTokenError,
        signed(body=with_raw("aud", '"https://evil.example","aud":' + json.dumps(AUDIENCE))),
        hits=0,
    ),
    no(
        "T23-duplicate-alg-none-then-rs256",
        MalformedTokenError,
        signed(raw_header='{"alg":"none","alg":"RS256","kid":"k1"}', alg="RS256", key=K0),
        hits=0,
    ),
    no(
        "T23-duplicate-kid",
        MalformedTokenError,
        signed(raw_header='{"alg":"RS256","kid":"evil","kid":"k1"}', alg="RS256", key=K0),
        hits=0,
    ),
    no("T24-lone-surrogate-in-sub", MalformedTokenError, signed(body=with_raw("sub", r'"\ud800"'))),
    no("T24-nul-in-sub", MalformedTokenError, signed(body=with_raw("sub", r'"auth0|1\u0000"'))),
    no(
        "T24-lone-surrogate-in-scope",
        MalformedTokenError,
        signed(body=with_raw("scope", r'"read:contacts \udc00"')),
        hits=0,
    ),
    ok(
        "T25-spaces-in-the-header-json",
        signed(
            raw_header='{ "alg" : "RS256" , "typ" : "JWT" , "kid" : "k1" }', alg="RS256", key=K0
        ),
    ),
    ok(
        "T25-tabs-and-newlines-in-the-json",
        signed(
            raw_header='{\t"alg":\t"RS256",\n"kid":\r\n"k1"\n}',
            body=json.dumps(claims(), indent="\t"),
            alg="RS256",
            key=K0,
        ),
    ),
]


# --- T26-T36: the JOSE header ----------------------------------------------------------------

ATTACKER_JWK = {"jwk": public_jwk(rsa_key(1), kid="k1", alg="RS256", use="sig")}

HEADER: list[Case] = [
    *(
        no(
            f"T26-hs256-keyed-with-the-{name}",
            InvalidTokenError,
            signed(alg="HS256", signer=hs256_with(material)),
            hits=0,
            http=True if name == "spki-pem" else None,
        )
        for name, material in [
            ("spki-pem", public_pem),
            ("pkcs1-pem", pkcs1_pem),
            ("pem-after-a-newline", lambda: b"\n" + public_pem()),
            ("pem-after-spaces", lambda: b"   " + public_pem()),
            ("der", public_der),
            ("jwk-json", public_jwk_json),
            ("modulus-bytes", modulus_bytes),
            ("openssh-key", public_openssh),
        ]
    ),
    *(
        no(
            f"T26-{alg.lower()}-keyed-with-the-pem",
            InvalidTokenError,
            signed(alg=alg, key=public_pem),
            hits=0,
        )
        for alg in ("HS384", "HS512")
    ),
    no(
        "T26-hs256-keyed-with-the-pem-when-hs256-is-allowed",
        InvalidSignatureError,
        signed(alg="HS256", signer=hs256_with(public_pem)),
        settings=using(algorithms=["RS256", "HS256"], secret=SECRET),
        hits=0,
    ),
    *(
        no(f"T27-alg-{name}", error, signed(header={"alg": alg}), hits=0)
        for name, alg, error in [
            ("None", "None", InvalidTokenError),
            ("NONE", "NONE", InvalidTokenError),
            ("nOnE", "nOnE", InvalidTokenError),
            ("rs256", "rs256", InvalidTokenError),
            ("Rs256", "Rs256", InvalidTokenError),
            ("RS256-trailing-space", "RS256 ", InvalidTokenError),
            ("RS256-trailing-nul", "RS256\x00", MalformedTokenError),  # NUL: not even parsed
        ]
    ),
    no("T28-alg-missing", InvalidTokenError, signed(header={"alg": None}, alg="RS256"), hits=0),
    no(
        "T28-alg-null",
        InvalidTokenError,
        signed(raw_header='{"alg":null,"kid":"k1"}', alg="RS256", key=K0),
        hits=0,
    ),
    *(
        no(f"T28-alg-{name}", InvalidTokenError, signed(header={"alg": alg}), hits=0)
        for name, alg in [("number", 256), ("array", ["RS256"]), ("empty", "")]
    ),
    *(
        no(
            f"T29-{alg}-token-by-a-published-key",
            InvalidTokenError,
            signed(kid=kid),
            settings=serving({kid: (alg, key)}),
            hits=0,
        )
        for kid, alg, key in [
            ("e256", "ES256", P256),
            ("ps", "PS256", K1),
            ("ed", "EdDSA", ed_key),
            ("r512", "RS512", K0),
        ]
    ),
    no(
        "T29-ES256-token-by-the-attackers-key",
        InvalidTokenError,
        signed(alg="ES256", key=lambda: ec_key("P-256", index=9)),
        hits=0,
    ),
    *(
        no(f"T30-crit-{name}", MalformedTokenError, signed(header=crit), hits=0)
        for name, crit in [
            ("unknown-extension", {"crit": ["foo"], "foo": 1}),
            ("registered-claim", {"crit": ["exp"]}),
            ("empty-list", {"crit": []}),
            ("string", {"crit": "b64"}),
            ("registered-header", {"crit": ["kid"]}),
            ("absent-member", {"crit": ["absent"]}),
        ]
    ),
    no(
        "T31-b64-false-with-raw-payload",
        MalformedTokenError,
        shaped('{h}.{{"sub":"x"}}.{s}', signed(header={"b64": False, "crit": ["b64"]})),
        http=BAD_HEADER,
        hits=0,
    ),
    no(
        "T31-b64-false-with-detached-payload",
        MalformedTokenError,
        shaped("{h}..{s}", signed(header={"b64": False, "crit": ["b64"]})),
        hits=0,
    ),
    no("T31-b64-false-without-crit", MalformedTokenError, signed(header={"b64": False}), hits=0),
    *(
        no(f"T32-{name}", InvalidSignatureError, signed(header=header, key=K1), hits=2)
        for name, header in [
            ("embedded-jwk-of-the-signing-key", ATTACKER_JWK),
            ("jku-to-an-attacker", {"jku": "https://evil.example/jwks"}),
            ("x5u-to-cloud-metadata", {"x5u": "http://169.254.169.254/latest/meta-data/"}),
            ("jku-to-a-local-file", {"jku": "file:///etc/passwd", **ATTACKER_JWK}),
            ("self-signed-x5c", {"x5c": [self_signed_certificate(rsa_key(1))]}),
        ]
    ),
    ok(
        "T32-key-headers-are-ignored-when-our-key-signed",
        signed(header={"jku": "https://evil.example/jwks", **ATTACKER_JWK}),
        hits=2,
    ),
    *(
        no(f"T33-kid-{name}", MalformedTokenError, signed(header={"kid": kid}, alg="RS256"), hits=0)
        for name, kid in [("number", 123), ("object", {}), ("array", []), ("true", True)]
    ),
    no(
        "T33-kid-null",
        MalformedTokenError,
        signed(raw_header='{"alg":"RS256","kid":null}', alg="RS256", key=K0),
        hits=0,
    ),
    *(
        no(
            f"T34-kid-{name}",
            UnknownKeyError,
            signed(header={"kid": kid}, alg="RS256", key=K0),
            never_shown=(kid,),
            hits=2,
        )
        for name, kid in [
            ("path-traversal", "../../../../dev/null"),
            ("proc-file", "/proc/self/environ"),
            ("sql-injection", "' OR '1'='1' --"),
            ("ldap-injection", "*)(uid=*"),
        ]
    ),
    no("T34-kid-nul", MalformedTokenError, signed(header={"kid": "\x00"}, alg="RS256"), hits=0),
    no(
        "T34-kid-of-64-kib",
        MalformedTokenError,
        signed(header={"kid": "k" * 65536}, alg="RS256", key=K0),
        settings=using(max_token_size=1 << 20),
        hits=0,
    ),
    *(
        no(
            f"T35-rfc9068-typ-{name}",
            InvalidClaimsError,
            signed(header={"typ": typ}, **STRICT_CLAIMS),
            settings=using(rfc9068_strict=True),
            hits=0,
        )
        for name, typ in [
            ("absent", None),
            ("JWT", "JWT"),
            ("jwt", "jwt"),
            ("application-jwt", "application/jwt"),
            ("id+jwt", "id+jwt"),
            ("dpop+jwt", "dpop+jwt"),
            ("secevent+jwt", "secevent+jwt"),
            ("at+jwt-with-a-parameter", "at+jwt;v=1"),
        ]
    ),
    *(
        ok(
            f"T35-rfc9068-typ-{name}-accepted",
            signed(header={"typ": typ}, **STRICT_CLAIMS),
            settings=using(rfc9068_strict=True),
            check=lambda t: t.client_id == "client-1",
        )
        for name, typ in [
            ("at+jwt", "at+jwt"),
            ("AT+JWT", "AT+JWT"),
            ("at+JWT", "at+JWT"),
            ("application-at+jwt", "application/at+jwt"),
            ("Application-AT+JWT", "Application/AT+JWT"),
        ]
    ),
    *(
        ok(f"T35-auth0-profile-typ-{name}-accepted", signed(header={"typ": typ}))
        for name, typ in [
            ("absent", None),
            ("JWT", "JWT"),
            ("at+jwt", "at+jwt"),
            ("application-jwt", "application/jwt"),
        ]
    ),
    *(
        no(f"T35-auth0-profile-typ-{typ}", InvalidClaimsError, signed(header={"typ": typ}), hits=0)
        for typ in ("id+jwt", "dpop+jwt", "secevent+jwt")
    ),
    *(
        no(f"T36-cty-{name}", MalformedTokenError, signed(header={"cty": cty}), hits=0)
        for name, cty in [("JWT", "JWT"), ("jwt", "jwt"), ("application-jwt", "application/jwt")]
    ),
    no(
        "T36-a-jwt-inside-a-jwt",
        MalformedTokenError,
        lambda env: signed(header={"cty": "JWT"}, body=signed()(env))(env),
        hits=0,
    ),
]


# --- T37-T44: signatures -----------------------------------------------------------------------

ES256_KEY = serving({"e256": ("ES256", P256)}, algorithms=["ES256"])
PS256_KEY = serving({"ps": ("PS256", K1)}, algorithms=["PS256"])

SIGNATURES: list[Case] = [
    no("T37-signed-by-another-key-same-kid", InvalidSignatureError, signed(key=K1), http=True),
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
        "T40-signature-is-the-modulus-plus-one",
        InvalidSignatureError,
        edited(signed(), signature_edited(lambda s: modulus_bytes(plus=1))),
    ),
    no("T40-signature-empty", MalformedTokenError, shaped("{h}.{p}."), hits=0),
    ok(
        "T41-control-hand-built-pkcs1-accepted",
        signed(signer=pkcs1_forgery(lambda si: SHA256_INFO + sha256(si))),
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
    ok(
        "T42-es256-high-s-is-valid",
        signed(kid="e256", signer=with_signer(es256_high_s)),
        settings=ES256_KEY,
    ),
    *(
        no(
            f"T42-es256-{name}",
            InvalidSignatureError,
            signed(kid="e256", signer=with_signer(sign)),
            settings=ES256_KEY,
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
            settings=PS256_KEY,
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
        signed(kid="ps", alg="PS384", key=K1),
        settings=serving({"ps": ("PS256", K1)}, algorithms=["PS256", "PS384"]),
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
]


# --- T45-T55: the key set ----------------------------------------------------------------------

K1_TOKEN = signed(kid="k1", alg="RS256", key=K0)  # the tenant's k1, whatever the set says
GOOD_K2 = jwk(K1, kid="k2", alg="RS256", use="sig")  # keeps a set usable next to a bad key
E1_TOKEN = signed(kid="e1", alg="ES256", key=P256)
GOOD_E2 = jwk(lambda: ec_key("P-256", index=1), kid="e2", alg="ES256")

JWKS_ROWS: list[Case] = [
    no(
        "T45-unknown-kid-on-a-cold-cache-fetches-once",
        UnknownKeyError,
        signed(kid="nope", alg="RS256", key=K0),
        hits=2,  # discovery and the key set: one verification waits for one fetch at most
    ),
    no(
        "T45-unknown-kid-refetches-once-per-cooldown",
        UnknownKeyError,
        signed(kid="nope", alg="RS256", key=K0),
        prepare=(warm, advance(30)),
        repeat=20,
        hits=3,
        http=True,
    ),
    no(
        "T46-no-kid-with-current-and-next-keys",
        UnknownKeyError,
        signed(kid=None, alg="RS256", key=K0),
        settings=serving({"k2": RSA1}),
    ),
    no(
        "T46-no-kid-with-current-next-and-previous-keys",
        UnknownKeyError,
        signed(kid=None, alg="RS256", key=K0),
        settings=serving({"k2": RSA1, "k0": ("RS256", lambda: rsa_key(2))}),
    ),
    ok("T46-no-kid-with-a-single-key-accepted", signed(kid=None, alg="RS256", key=K0)),
    *(
        no(
            f"T47-{name}",
            UnknownKeyError,
            K1_TOKEN,
            settings=publishing(jwk(K0, kid="k1", alg="RS256", **members), GOOD_K2),
        )
        for name, members in [
            ("use-enc", {"use": "enc"}),
            ("key-ops-encrypt", {"key_ops": ["encrypt"]}),
            ("key-ops-not-an-array", {"key_ops": "verify"}),
            ("key-ops-with-duplicates", {"key_ops": ["verify", "verify"]}),
        ]
    ),
    ok(
        "T47-key-ops-verify-accepted",
        K1_TOKEN,
        settings=publishing(jwk(K0, kid="k1", key_ops=["verify"]), GOOD_K2),
    ),
    *(
        no(
            f"T48-key-published-for-{alg}",
            UnknownKeyError,
            K1_TOKEN,
            settings=publishing(jwk(K0, kid="k1", alg=alg), GOOD_K2),
        )
        for alg in ("RS384", "PS256", "ES256")
    ),
    no(
        "T49-rs256-token-naming-an-oct-key",
        UnknownKeyError,
        K1_TOKEN,
        settings=publishing(lambda: {"kty": "oct", "kid": "k1", "k": b64url(SECRET)}, GOOD_K2),
    ),
    no(
        "T49-hs256-token-naming-an-oct-key",
        InvalidTokenError,
        signed(kid="k1", alg="HS256", key=lambda: SECRET),
        settings=publishing(lambda: {"kty": "oct", "kid": "k1", "k": b64url(SECRET)}, GOOD_K2),
        hits=0,
    ),
    no(
        "T49-hs256-token-signed-with-the-published-oct-key",
        InvalidSignatureError,
        signed(kid="k1", alg="HS256", key=lambda: SECRET),
        settings=publishing(
            lambda: {"kty": "oct", "kid": "k1", "k": b64url(SECRET)},
            GOOD_K2,
            algorithms=["RS256", "HS256"],
            secret=SECRET[::-1],  # the configured secret: the only HMAC key ever used
        ),
        hits=0,
    ),
    no(
        "T50-1024-bit-key",
        UnknownKeyError,
        signed(kid="weak", alg="RS256", key=lambda: rsa_key(0, bits=1024)),
        settings=publishing(jwk(lambda: rsa_key(0, bits=1024), kid="weak"), GOOD_K2),
    ),
    ok(
        "T50-other-keys-keep-working",
        signed(kid="k2", alg="RS256", key=K1),
        settings=publishing(jwk(lambda: rsa_key(0, bits=1024), kid="weak"), GOOD_K2),
    ),
    *(
        no(
            f"T50-{name}",
            UnknownKeyError,
            signed(kid="weak", alg="RS256", key=K0),
            settings=publishing(crafted_rsa("weak", n, e), GOOD_K2),
        )
        for name, n, e in [
            ("512-bit-modulus", (1 << 511) | 1, 65537),
            ("modulus-over-8192-bits", (1 << 8192) | 1, 65537),
            ("exponent-1", n_of(K0), 1),
            ("exponent-3", n_of(K0), 3),
            ("even-exponent", n_of(K0), 65536),
            ("exponent-over-2-pow-64", n_of(K0), 2**64 + 1),
        ]
    ),
    *(
        no(
            f"T51-{name}",
            UnknownKeyError,
            E1_TOKEN,
            settings=publishing(bad, GOOD_E2, algorithms=["ES256"]),
        )
        for name, bad in [
            ("point-off-the-curve", ec_jwk(y=b64url(flipped(p256_coordinate("y"))))),
            ("point-zero-zero", ec_jwk(x=b64url(bytes(32)), y=b64url(bytes(32)))),
            ("x-of-31-bytes", ec_jwk(x=b64url(p256_coordinate("x")[1:]))),
            ("p-384-named-for-es256", ec_jwk(crv="P-384", alg=None)),
            ("secp256k1-named-for-a-p-256-point", ec_jwk(crv="secp256k1", alg=None)),
            ("a-real-secp256k1-key", jwk(secp256k1_key, kid="e1")),
        ]
    ),
    *(
        no(f"T52-{name}", UnknownKeyError, K1_TOKEN, settings=publishing(bad, GOOD_K2))
        for name, bad in [
            ("rsa-with-d", jwk(K0, kid="k1", d=b64url(b"\x01" * 16))),
            ("complete-private-rsa-jwk", private_rsa_jwk("k1")),
        ]
    ),
    no(
        "T52-ec-with-d",
        UnknownKeyError,
        E1_TOKEN,
        settings=publishing(ec_jwk(d=b64url(b"\x01" * 32)), GOOD_E2, algorithms=["ES256"]),
    ),
    no(
        "T53-two-keys-share-a-kid",
        UnknownKeyError,
        K1_TOKEN,
        settings=publishing(jwk(K0, kid="k1", alg="RS256"), jwk(K1, kid="k1", alg="RS256")),
    ),
    *(
        ok(
            f"T54-{name}-is-skipped",
            K1_TOKEN,
            settings=publishing(lambda bad=bad: bad, jwk(K0, kid="k1", alg="RS256")),
        )
        for name, bad in [
            ("unknown-kty", {"kty": "XYZ", "kid": "bad"}),
            ("missing-n", {"kty": "RSA", "kid": "bad", "e": "AQAB"}),
            ("n-not-base64url", {"kty": "RSA", "kid": "bad", "n": "n!t-base64", "e": "AQAB"}),
            ("padded-n", {**public_jwk(rsa_key(1), kid="bad"), "n": n_text(K1) + "="}),
        ]
    ),
    ok(
        "T55-n-and-e-verify-although-x5c-holds-another-key",
        K1_TOKEN,
        settings=publishing(jwk(K0, kid="k1", x5c=[self_signed_certificate(rsa_key(1))])),
    ),
    no(
        "T55-the-x5c-key-never-verifies",
        InvalidSignatureError,
        signed(kid="k1", alg="RS256", key=K1),
        settings=publishing(jwk(K0, kid="k1", x5c=[self_signed_certificate(rsa_key(1))])),
    ),
]


# --- EdDSA's names and curves (RFC 8037, RFC 9864): rows of T29, T40, T48 and T51 ---------------
# "EdDSA" may use a key of either curve; "Ed25519" and "Ed448" only a key of their own; a
# JWK's published alg narrows that (a published "EdDSA" also serves its curve's own name).

ED25519: Callable[[], Any] = lambda: ed_key(0)  # noqa: E731 - the tenant's key d25519
ED448: Callable[[], Any] = ed448_key  # the tenant's key d448
ED_ATTACKER: Callable[[], Any] = lambda: ed_key(1)  # noqa: E731 - a key nobody publishes
ED_CURVES = {"ed25519": ED25519, "ed448": ED448}
EDDSA_NAMES = ["EdDSA", "Ed25519", "Ed448"]
# Both curves' keys published with their fully specified names (alg), as a provider would.
ED_KEYS = serving(
    {"d25519": ("Ed25519", ED25519), "d448": ("Ed448", ED448)}, algorithms=EDDSA_NAMES
)
# The same keys without alg: only their curve binds them to an algorithm.
ED_UNBOUND = publishing(jwk(ED25519, kid="d25519"), jwk(ED448, kid="d448"), algorithms=EDDSA_NAMES)
# RSA and EC keys without alg, next to an Ed25519 key.
NOT_EDWARDS = publishing(
    jwk(K0, kid="k1"),
    jwk(P256, kid="e1"),
    jwk(ED25519, kid="d25519"),
    algorithms=[*EDDSA_NAMES, "RS256", "ES256"],
)


def published_as(alg: str, key: Callable[[], Any]) -> Settings:
    """Key ``d`` published with ``alg``, next to a good Ed25519 key ``d2``."""
    return publishing(
        jwk(key, kid="d", alg=alg),
        jwk(ED_ATTACKER, kid="d2", alg="Ed25519"),
        algorithms=EDDSA_NAMES,
    )


EDDSA_ROWS: list[Case] = [
    ok(
        "T51-ed25519-token-by-the-ed25519-key",
        ed_signed("d25519", "Ed25519", ED25519),
        settings=ED_KEYS,
    ),
    ok("T51-ed448-token-by-the-ed448-key", ed_signed("d448", "Ed448", ED448), settings=ED_KEYS),
    *(
        ok(
            f"T51-{alg}-token-by-an-unbound-{crv}-key",
            ed_signed(kid, alg, key),
            settings=ED_UNBOUND,
        )
        for alg, crv, kid, key in [
            ("EdDSA", "ed25519", "d25519", ED25519),
            ("EdDSA", "ed448", "d448", ED448),
            ("Ed25519", "ed25519", "d25519", ED25519),
            ("Ed448", "ed448", "d448", ED448),
        ]
    ),
    *(
        no(f"T51-{name}", UnknownKeyError, ed_signed(kid, alg, key), settings=settings)
        for name, kid, alg, key, settings in [
            ("ed25519-token-naming-an-ed448-key", "d448", "Ed25519", ED448, ED_UNBOUND),
            ("ed448-token-naming-an-ed25519-key", "d25519", "Ed448", ED25519, ED_UNBOUND),
            ("ed25519-token-naming-a-published-ed448-key", "d448", "Ed25519", ED448, ED_KEYS),
            ("ed448-token-naming-a-published-ed25519-key", "d25519", "Ed448", ED25519, ED_KEYS),
            ("ed25519-token-naming-an-rsa-key", "k1", "Ed25519", ED_ATTACKER, NOT_EDWARDS),
            ("ed448-token-naming-an-rsa-key", "k1", "Ed448", ED448, NOT_EDWARDS),
            ("ed25519-token-naming-an-ec-key", "e1", "Ed25519", ED_ATTACKER, NOT_EDWARDS),
            ("eddsa-token-naming-an-ec-key", "e1", "EdDSA", ED_ATTACKER, NOT_EDWARDS),
        ]
    ),
    ok(
        "T48-Ed25519-token-by-an-ed25519-key-published-for-EdDSA",
        ed_signed("d", "Ed25519", ED25519),
        settings=published_as("EdDSA", ED25519),
    ),
    *(
        no(
            f"T48-{alg}-token-by-an-{crv}-key-published-for-{published}",
            UnknownKeyError,
            ed_signed("d", alg, ED_CURVES[crv]),
            settings=published_as(published, ED_CURVES[crv]),
        )
        for alg, crv, published in [
            ("EdDSA", "ed25519", "Ed25519"),  # a fully specified name serves itself only
            ("Ed448", "ed25519", "Ed25519"),
            ("Ed25519", "ed448", "EdDSA"),  # "EdDSA" serves its own curve's name only
            # Skipped at import: the published alg does not fit the key's curve.
            ("Ed25519", "ed448", "Ed25519"),
            ("Ed448", "ed448", "Ed25519"),
            ("EdDSA", "ed25519", "Ed448"),
        ]
    ),
    *(
        no(
            f"T29-{alg}-token-when-only-{allowed}-is-allowed",
            InvalidTokenError,
            ed_signed("d25519", alg, ED25519),
            settings=serving({"d25519": (alg, ED25519)}, algorithms=[allowed]),
            hits=0,
        )
        for alg, allowed in [("Ed25519", "EdDSA"), ("EdDSA", "Ed25519"), ("Ed448", "Ed25519")]
    ),
    *(
        no(
            f"T40-{alg.lower()}-signature-of-{name}",
            InvalidSignatureError,
            ed_signed(kid, alg, key, change),
            settings=ED_KEYS,
        )
        for alg, kid, key, name, change in [
            ("Ed25519", "d25519", ED25519, "63-bytes", lambda s: s[:63]),
            ("Ed25519", "d25519", ED25519, "65-bytes", lambda s: s + b"\x00"),
            ("Ed25519", "d25519", ED25519, "114-bytes", lambda s: s + s[:50]),
            ("Ed448", "d448", ED448, "113-bytes", lambda s: s[:113]),
            ("Ed448", "d448", ED448, "115-bytes", lambda s: s + b"\x00"),
            ("Ed448", "d448", ED448, "64-bytes", lambda s: s[:64]),
        ]
    ),
    no(
        "T40-ed25519-token-carrying-an-ed448-signature",
        InvalidSignatureError,
        ed_signed("d25519", "Ed25519", ED448),
        settings=ED_KEYS,
    ),
]


# --- ML-DSA (RFC 9964): rows of T27, T29, T40, T47, T48, T51 and T52 ------------------------------
# Sources: RFC 9964 (draft-ietf-cose-dilithium-11): the alg names ML-DSA-44/65/87; an AKP JWK
# must carry its alg and its pub, never priv; JWS signs with the empty context. RFC 8725 §3.1:
# a key verifies only the algorithm it is published for. ML-DSA is off by default: each level is
# allowed by naming it. The tenant publishes one AKP key per level (q44, q65, q87) and its RSA
# key k1; the attacker holds keys of every level (index 1) that nobody publishes.

PQ_ALGORITHMS = ["RS256", *MLDSA_LEVELS]
PQ_KIDS = {"ML-DSA-44": "q44", "ML-DSA-65": "q65", "ML-DSA-87": "q87"}
PQ_KEYS = tuple(akp_jwk(level, kid=PQ_KIDS[level], use="sig") for level in MLDSA_LEVELS)
GOOD_K1 = jwk(K0, kid="k1", alg="RS256")  # keeps a set usable next to a bad AKP key
PQ = publishing(*PQ_KEYS, GOOD_K1, algorithms=PQ_ALGORITHMS)
Q65_TOKEN = mldsa_signed("q65", "ML-DSA-65")


def pq_publishing(*jwks: Callable[[], dict[str, Any]]) -> Settings:
    """These JWKs next to the tenant's RSA key k1, every ML-DSA level allowed."""
    return publishing(*jwks, GOOD_K1, algorithms=PQ_ALGORITHMS)


def akp_with_pub(level: str, pub: bytes) -> Callable[[], dict[str, Any]]:
    """Key q65 published with ``alg: level`` and these ``pub`` bytes."""
    return lambda: {"kty": "AKP", "kid": "q65", "alg": level, "pub": b64url(pub)}


MLDSA_ROWS: list[Case] = [
    *(
        ok(
            f"T51-{alg}-token-by-its-published-akp-key",
            mldsa_signed(PQ_KIDS[alg], alg),
            settings=PQ,
        )
        for alg in MLDSA_LEVELS
    ),
    ok("T29-rs256-token-next-to-ml-dsa-keys", K1_TOKEN, settings=PQ),
    *(
        no(
            f"T29-{alg}-token-when-ml-dsa-is-not-enabled",
            InvalidTokenError,
            mldsa_signed(PQ_KIDS[alg], alg),
            settings=publishing(*PQ_KEYS, GOOD_K1),  # the default allow-list: RS256 only
            hits=0,
        )
        for alg in MLDSA_LEVELS
    ),
    *(
        no(
            f"T29-{alg}-token-when-only-{allowed}-is-allowed",
            InvalidTokenError,
            mldsa_signed(PQ_KIDS[alg], alg),
            settings=publishing(*PQ_KEYS, GOOD_K1, algorithms=["RS256", allowed]),
            hits=0,
        )
        for alg, allowed in [("ML-DSA-44", "ML-DSA-65"), ("ML-DSA-87", "ML-DSA-65")]
    ),
    *(
        no(
            f"T27-alg-{name}",
            InvalidTokenError,
            mldsa_signed("q65", alg, level="ML-DSA-65"),
            settings=PQ,
            hits=0,
        )
        for name, alg in [
            ("ml-dsa-65-lower-case", "ml-dsa-65"),
            ("MLDSA65-without-hyphens", "MLDSA65"),
            ("ML-DSA-65-trailing-space", "ML-DSA-65 "),
            ("Dilithium3", "Dilithium3"),  # the pre-standard name of the same parameter set
        ]
    ),
    # Confusion between levels: the header names another level than the key's published alg.
    *(
        no(
            f"T48-{alg}-token-naming-the-{published}-key",
            UnknownKeyError,
            mldsa_signed(PQ_KIDS[published], alg, index=1),
            settings=PQ,
        )
        for alg, published in [
            ("ML-DSA-44", "ML-DSA-65"),
            ("ML-DSA-65", "ML-DSA-87"),
            ("ML-DSA-87", "ML-DSA-44"),
            ("ML-DSA-65", "ML-DSA-44"),
        ]
    ),
    *(
        no(
            f"T48-{name}",
            UnknownKeyError,
            token,
            settings=pq_publishing(jwk(K0, kid="k1x", alg="ML-DSA-44")),
        )
        for name, token in [
            (
                "ml-dsa-44-token-naming-an-rsa-key-published-for-ml-dsa-44",
                mldsa_signed("k1x", "ML-DSA-44", index=1),
            ),
            (
                "rs256-token-naming-an-rsa-key-published-for-ml-dsa-44",
                signed(kid="k1x", alg="RS256", key=K0),
            ),
        ]
    ),
    no(
        "T48-ml-dsa-65-token-naming-an-ec-key-published-for-ml-dsa-65",
        UnknownKeyError,
        mldsa_signed("e1", "ML-DSA-65", index=1),
        settings=pq_publishing(jwk(P256, kid="e1", alg="ML-DSA-65")),
    ),
    no(
        "T48-es256-token-naming-an-akp-key-published-for-es256",
        UnknownKeyError,
        signed(kid="q65", alg="ES256", key=P256),
        settings=publishing(
            akp_jwk("ML-DSA-65", kid="q65", alg="ES256"), GOOD_K1, algorithms=["RS256", "ES256"]
        ),
    ),
    # The signature: of another length, by another key, of another level, under another context.
    *(
        no(
            f"T40-ml-dsa-65-signature-{name}",
            InvalidSignatureError,
            mldsa_signed("q65", "ML-DSA-65", change=change),
            settings=PQ,
        )
        for name, change in [
            ("of-3308-bytes", lambda s: s[:-1]),
            ("of-3310-bytes", lambda s: s + b"\x00"),
            ("of-the-ml-dsa-44-length", lambda s: s[: SIGNATURE_BYTES["ML-DSA-44"]]),
            ("of-the-ml-dsa-87-length", lambda s: s + bytes(SIGNATURE_BYTES["ML-DSA-87"] - len(s))),
            ("with-one-bit-flipped", lambda s: s[:100] + bytes([s[100] ^ 1]) + s[101:]),
            ("of-zero-bytes", lambda s: bytes(len(s))),
        ]
    ),
    no(
        "T40-ml-dsa-65-token-carrying-an-ml-dsa-44-signature",
        InvalidSignatureError,
        mldsa_signed("q65", "ML-DSA-65", level="ML-DSA-44"),
        settings=PQ,
    ),
    no(
        "T40-ml-dsa-65-signature-by-the-attackers-key",
        InvalidSignatureError,
        mldsa_signed("q65", "ML-DSA-65", index=1),
        settings=PQ,
    ),
    no(
        "T40-ml-dsa-65-signature-under-a-non-empty-context",
        InvalidSignatureError,
        mldsa_signed("q65", "ML-DSA-65", context=b"bearerguard"),
        settings=PQ,
    ),
    # The key: AKP JWKs a provider should never publish. Each is skipped, never used.
    *(
        no(f"T52-{name}", UnknownKeyError, Q65_TOKEN, settings=pq_publishing(bad))
        for name, bad in [
            ("akp-with-priv", akp_jwk("ML-DSA-65", kid="q65", priv=b64url(bytes(32)))),
            ("akp-with-seed", akp_jwk("ML-DSA-65", kid="q65", seed=b64url(bytes(32)))),
        ]
    ),
    *(
        no(f"T51-{name}", UnknownKeyError, Q65_TOKEN, settings=pq_publishing(bad))
        for name, bad in [
            ("akp-without-alg", akp_jwk("ML-DSA-65", kid="q65", alg=None)),
            ("akp-without-pub", akp_jwk("ML-DSA-65", kid="q65", pub=None)),
            ("akp-pub-one-byte-short", akp_with_pub("ML-DSA-65", public_bytes("ML-DSA-65")[:-1])),
            (
                "akp-pub-one-byte-long",
                akp_with_pub("ML-DSA-65", public_bytes("ML-DSA-65") + b"\x00"),
            ),
            ("akp-pub-of-an-ml-dsa-44-key", akp_with_pub("ML-DSA-65", public_bytes("ML-DSA-44"))),
            ("akp-alg-of-another-family", akp_jwk("ML-DSA-65", kid="q65", alg="EdDSA")),
            ("akp-alg-unknown-level", akp_jwk("ML-DSA-65", kid="q65", alg="ML-DSA-66")),
            (
                "akp-pub-padded",
                lambda: {
                    **akp_jwk("ML-DSA-65", kid="q65")(),
                    "pub": b64url(public_bytes("ML-DSA-65")) + "=",
                },
            ),
        ]
    ),
    no(
        "T51-akp-published-as-ml-dsa-44-holding-an-ml-dsa-65-key",
        UnknownKeyError,
        Q65_TOKEN,
        settings=pq_publishing(akp_with_pub("ML-DSA-44", public_bytes("ML-DSA-65"))),
    ),
    *(
        no(f"T47-akp-{name}", UnknownKeyError, Q65_TOKEN, settings=pq_publishing(bad))
        for name, bad in [
            ("use-enc", akp_jwk("ML-DSA-65", kid="q65", use="enc")),
            ("key-ops-sign-only", akp_jwk("ML-DSA-65", kid="q65", key_ops=["sign"])),
        ]
    ),
    ok(
        "T47-akp-key-ops-verify-accepted",
        Q65_TOKEN,
        settings=pq_publishing(akp_jwk("ML-DSA-65", kid="q65", key_ops=["verify"])),
    ),
    ok(
        "T46-ml-dsa-65-token-without-kid-by-the-one-ml-dsa-65-key",
        mldsa_signed(None, "ML-DSA-65"),
        settings=PQ,
    ),
]


# --- T56-T60: issuer and audience --------------------------------------------------------------

# T56: RFC 3986's equivalent spellings of the configured URL name the same issuer
# (see POLICY_DIFFERENCES); any other difference is another issuer.
ISSUER_SPELLINGS = [
    ("T56-iss-without-trailing-slash", "https://tenant.auth0.com"),
    ("T56-iss-upper-case-host", "https://TENANT.auth0.com/"),
    ("T56-iss-upper-case-domain", "https://tenant.AUTH0.com/"),
    ("T56-iss-upper-case-scheme", "HTTPS://tenant.auth0.com/"),
    ("T56-iss-explicit-443", "https://tenant.auth0.com:443/"),
]
REJECTED_ISSUERS = [
    ("T56-iss-double-slash", "https://tenant.auth0.com//"),
    ("T56-iss-http", "http://tenant.auth0.com/"),
    ("T56-iss-explicit-other-port", "https://tenant.auth0.com:8443/"),
    ("T56-iss-empty-port-and-path-with-dot", "https://tenant.auth0.com:/."),
    ("T56-iss-trailing-dot-host", "https://tenant.auth0.com./"),
    ("T56-iss-userinfo", "https://tenant@tenant.auth0.com/"),
    ("T56-iss-tab-inside-host", "https://tenant.auth0\t.com/"),
    ("T56-iss-newline-inside-host", "https://tenant.auth0\n.com/"),
    ("T56-iss-query", "https://tenant.auth0.com/?"),
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
    ("T80-iss-attacker-name-resolving-to-loopback", "https://attacker.example"),
    # T57: types
    ("T57-iss-null", None),
    ("T57-iss-array", [ISSUER]),
    ("T57-iss-number", 123),
    ("T57-iss-object", {"iss": ISSUER}),
    ("T57-iss-true", True),
]

ISSUERS: list[Case] = [
    *(
        no(id, InvalidIssuerError, signed(iss=iss), hits=0, http=True if id[:3] == "T80" else None)
        for id, iss in REJECTED_ISSUERS
    ),
    *(ok(id, signed(iss=iss), hits=2) for id, iss in ISSUER_SPELLINGS),
    no("T57-iss-missing", InvalidIssuerError, signed(drop=("iss",)), hits=0),
    ok("T56-custom-domain-accepted", lambda env: env.others[0].token(), hits=2),
    ok(
        "T56-custom-domain-without-trailing-slash",
        lambda env: env.others[0].token(iss="https://login.example.com"),
        hits=2,
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
        signed(key=K1),
        settings=two_tenants({"k1": RSA1}),
    ),
    *(
        no(
            f"T58-iss-swapped-to-{issuer}-while-both-key-sets-are-cached",
            InvalidSignatureError,
            token,
            settings=two_tenants({"k1": RSA1}),
            prepare=(warm_every_issuer,),
            hits=4,
        )
        for issuer, token in [("b", signed(iss=TENANT_B)), ("a", signed(key=K1))]  # other's key
    ),
    ok(
        "T58-second-tenant-with-its-own-key",
        signed(iss=TENANT_B, key=K1, alg="RS256"),
        settings=two_tenants({"k1": RSA1}),
        check=lambda t: t.issuer == TENANT_B,
    ),
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
    no("T60-aud-other-api", InvalidAudienceError, signed(aud="https://other-api.example.com")),
    no("T60-aud-client-id", InvalidAudienceError, signed(aud="client-1")),
    # RFC 3986 §6.2.2-6.2.3: the same URL, as for issuers (T56); the token keeps its spelling.
    ok("T60-aud-root-slash", signed(aud=AUDIENCE + "/"), check=lambda t: t.audience[0][-1] == "/"),
    ok("T60-aud-upper-case", signed(aud=AUDIENCE.upper()), check=lambda t: t.audience[0].isupper()),
    no("T60-aud-path-added", InvalidAudienceError, signed(aud=AUDIENCE + "/v2")),
    no("T60-aud-other-port", InvalidAudienceError, signed(aud=AUDIENCE + ":8443")),
    no("T60-aud-userinfo", InvalidAudienceError, signed(aud="https://x@" + AUDIENCE[8:])),
    no("T60-aud-trailing-dot", InvalidAudienceError, signed(aud=AUDIENCE + ".")),
    no("T60-aud-empty-string", InvalidAudienceError, signed(aud="")),
    no("T60-aud-empty-array", InvalidAudienceError, signed(aud=[])),
    no("T60-aud-nested-array", InvalidAudienceError, signed(aud=[[AUDIENCE]])),
    no("T60-aud-number-array", InvalidAudienceError, signed(aud=[123])),
    no("T60-aud-mixed-array", InvalidAudienceError, signed(aud=[AUDIENCE, 123])),
    no("T60-aud-object", InvalidAudienceError, signed(aud={"0": AUDIENCE})),
    no("T60-aud-null", InvalidAudienceError, signed(aud=None)),
    no("T60-aud-missing", InvalidAudienceError, signed(drop=("aud",))),
]


# --- T61-T70: time claims, the RFC 9068 profile, claim types ------------------------------------

CLAIMS: list[Case] = [
    no("T61-exp-missing", InvalidClaimsError, signed(drop=("exp",))),
    no("T62-exp-now-without-leeway", ExpiredTokenError, signed(exp=N), settings=using(leeway=0)),
    no("T62-exp-now-minus-leeway-rejected", ExpiredTokenError, signed(exp=N - LEEWAY)),
    ok("T62-exp-now-minus-leeway-plus-1-accepted", signed(exp=N - LEEWAY + 1)),
    ok(
        "T62-exp-fraction-inside-leeway-not-rounded-away",
        signed(exp=N + 0.25),
        settings=using(leeway=0),
    ),
    no(
        "T62-exp-an-hour-ago",
        ExpiredTokenError,
        signed(iat=N - 7200, exp=N - 3600),
        http=True,
    ),
    ok("T62-leeway-600-accepts-exp-599-s-ago", signed(exp=N - 599), settings=using(leeway=600)),
    no(
        "T62-leeway-over-10-minutes-refused-at-start-up",
        ConfigurationError,
        settings=using(leeway=601),
        http=False,
    ),
    no("T63-exp-numeric-string", InvalidClaimsError, signed(exp="9999999999")),
    no("T63-exp-true", InvalidClaimsError, signed(exp=True)),
    no("T63-exp-null", InvalidClaimsError, signed(exp=None)),
    no("T63-exp-array", InvalidClaimsError, signed(exp=[])),
    no("T63-exp-object", InvalidClaimsError, signed(exp={})),
    *(
        no(f"T63-exp-{text}", MalformedTokenError, signed(body=with_raw("exp", text)), hits=0)
        for text in ("NaN", "Infinity", "-Infinity", "1e400")
    ),
    no("T64-exp-zero-is-expired-not-absent", ExpiredTokenError, signed(exp=0)),
    no("T64-exp-minus-one", ExpiredTokenError, signed(exp=-1)),
    no("T64-exp-minus-1e308", InvalidClaimsError, signed(exp=-1e308)),
    ok(
        "T65-exp-float-accepted",
        signed(exp=N + 3600.5),
        check=lambda t: t.expires_at.microsecond == 500000,
    ),
    no("T66-exp-1e20", InvalidClaimsError, signed(exp=1e20)),
    no("T66-exp-2-pow-63", InvalidClaimsError, signed(exp=2**63)),
    no("T66-exp-1e300", InvalidClaimsError, signed(exp=1e300)),
    no("T66-exp-one-past-year-9999", InvalidClaimsError, signed(exp=253402300800)),
    ok(
        "T66-exp-ten-years-ahead-accepted",
        signed(exp=N + 10 * 365 * 86400),
        check=lambda t: t.expires_at.year == 2037,
    ),
    ok(
        "T66-exp-at-the-last-representable-second-accepted",
        signed(exp=253402300799),
        check=lambda t: t.expires_at == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
    ),
    ok(
        "T66-iat-at-the-first-representable-second-accepted",
        signed(iat=-62135596800),
        check=lambda t: t.issued_at == datetime(1, 1, 1, tzinfo=timezone.utc),
    ),
    no("T66-iat-before-year-1", InvalidClaimsError, signed(iat=-62135596800.5)),
    no("T66-nbf-1e20", InvalidClaimsError, signed(nbf=1e20)),
    no("T67-nbf-beyond-leeway", ImmatureTokenError, signed(nbf=N + LEEWAY + 1), http=True),
    ok("T67-nbf-now-accepted", signed(nbf=N)),
    ok("T67-nbf-at-leeway-edge-accepted", signed(nbf=N + LEEWAY)),
    no("T67-nbf-string", InvalidClaimsError, signed(nbf="x")),
    no("T67-nbf-true", InvalidClaimsError, signed(nbf=True)),
    no("T68-iat-in-the-future", ImmatureTokenError, signed(iat=N + LEEWAY + 60)),
    ok("T68-iat-within-leeway-accepted", signed(iat=N + LEEWAY)),
    no("T68-iat-string", InvalidClaimsError, signed(iat="abc")),
    no("T68-iat-null", InvalidClaimsError, signed(iat=None)),
    ok(
        "T68-iat-optional-in-the-auth0-profile",
        signed(drop=("iat",)),
        check=lambda t: t.issued_at is None,
    ),
    ok("T68-max-age-fresh-token-accepted", signed(iat=N - 3600), settings=using(max_age=3600)),
    no(
        "T68-max-age-exceeded",
        ExpiredTokenError,
        signed(iat=N - 3600 - LEEWAY - 1),
        settings=using(max_age=3600),
    ),
    no(
        "T68-max-age-needs-iat",
        InvalidClaimsError,
        signed(drop=("iat",)),
        settings=using(max_age=3600),
    ),
    ok(
        "T69-rfc9068-complete-token-accepted",
        signed(header=STRICT, **STRICT_CLAIMS),
        settings=using(rfc9068_strict=True),
        check=lambda t: t.client_id == "client-1",
    ),
    *(
        no(
            f"T69-rfc9068-missing-{name}",
            InvalidClaimsError,
            signed(header=STRICT, drop=(name,), **STRICT_CLAIMS),
            settings=using(rfc9068_strict=True),
        )
        for name in ("sub", "client_id", "jti", "iat")
    ),
    ok(
        "T69-auth0-profile-azp-without-client-id-or-jti",
        signed(),
        check=lambda t: t.client_id == "client-1",
    ),
    ok("T70-string-claims-accepted", signed(client_id="c", jti="j", org_id="org_1")),
    no("T70-sub-number", InvalidClaimsError, signed(sub=123)),
    no("T70-jti-object", InvalidClaimsError, signed(jti={})),
    no("T70-client-id-array", InvalidClaimsError, signed(client_id=["c1"])),
    no("T70-azp-null", InvalidClaimsError, signed(azp=None)),
    no("T70-org-id-number", InvalidClaimsError, signed(org_id=5)),
]


# --- T71-T75: scopes (403 through require_scopes; 401 when the claim is malformed) -------------

SCOPES: list[Case] = [
    ok("T71-scope-granted", signed(scope="read:contacts write:contacts"), require=CONTACTS),
    ok("T71-scopes-all-of-granted", signed(scope="read:contacts write:contacts"), require=ALL_OF),
    ok("T71-scopes-any-of-granted", signed(scope="read:messages"), require=ANY_OF, any_of=True),
    no(
        "T71-scope-missing",
        InsufficientScopeError,
        signed(scope="write:contacts"),
        require=CONTACTS,
    ),
    no(
        "T71-all-of-one-missing",
        InsufficientScopeError,
        signed(scope="read:contacts"),
        require=ALL_OF,
    ),
    no(
        "T71-any-of-none-granted",
        InsufficientScopeError,
        signed(scope="write:contacts"),
        require=ANY_OF,
        any_of=True,
    ),
    *(
        no(f"T72-no-prefix-match-{name}", InsufficientScopeError, signed(scope=s), require=CONTACTS)
        for name, s in [
            ("suffix", "read:contacts_all"),
            ("shorter", "read:contact"),
            ("prefix", "xread:contacts"),
            ("sub-scope", "read:contacts:extra"),
        ]
    ),
    *(
        no(f"T73-{name}", InsufficientScopeError, signed(scope=s), require=CONTACTS)
        for name, s in [
            ("scope-case-sensitive", "READ:CONTACTS"),
            ("scope-cyrillic-lookalike", "r\u0435ad:contacts"),
            ("comma-is-no-separator", "read:contacts,write:contacts"),
            ("tab-is-no-separator", "read:contacts\twrite:contacts"),
            ("nbsp-is-no-separator", "read:contacts\u00a0write:contacts"),
        ]
    ),
    no("T73-nul-after-the-scope", MalformedTokenError, signed(scope="read:contacts\x00"), hits=0),
    no("T74-scope-array-is-malformed", InvalidClaimsError, signed(scope=["read:contacts"])),
    no("T74-scope-number", InvalidClaimsError, signed(scope=1)),
    no("T74-scope-object", InvalidClaimsError, signed(scope={})),
    no(
        "T74-scope-null-grants-nothing",
        InsufficientScopeError,
        signed(scope=None),
        require=CONTACTS,
    ),
    ok(
        "T75-extra-spaces-ignored",
        signed(scope=" read:contacts  write:contacts "),
        require=ALL_OF,
        check=lambda t: t.scopes == frozenset(ALL_OF),
    ),
    ok(
        "T75-empty-scope-grants-nothing",
        signed(scope=""),
        check=lambda t: t.scopes == frozenset() and not t.has_scopes("read:contacts"),
    ),
    no(
        "T75-only-spaces-grant-nothing",
        InsufficientScopeError,
        signed(scope="   "),
        require=CONTACTS,
    ),
]


# --- T76-T80: token confusion ------------------------------------------------------------------

CONFUSION: list[Case] = [
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
    # The T76 family: a token of another kind presented as a bearer access token. A token
    # its issuer bound to a key (RFC 7800 cnf: DPoP, RFC 9449; mTLS, RFC 8705) is useless
    # to whoever stole it only if the binding is checked; refused while it cannot be.
    *(
        no(f"T76-bound-token-{name}-as-bearer", SenderConstrainedTokenError, signed(cnf=cnf))
        for name, cnf in [
            ("dpop-jkt", {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
            ("mtls-x5t-s256", {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
            ("jwk", {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg"}}),
            ("unknown-member", {"kid": "a-key"}),
            ("empty-object", {}),
            ("null", None),
            ("string", "jkt"),
        ]
    ),
    no(
        "T76-bound-token-with-every-scope-still-refused",
        SenderConstrainedTokenError,
        signed(cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, scope="read:contacts"),
        require=CONTACTS,
    ),
    no("T77-token-for-another-api", InvalidAudienceError, signed(aud="https://other-api")),
    no(
        "T78-another-tenants-key-with-our-iss-and-kid",
        InvalidSignatureError,
        signed(key=lambda: rsa_key(3)),
    ),
    no("T79-jwe-rsa-oaep", EncryptedTokenError, jwe("RSA-OAEP-256"), hits=0, http=True),
    no("T79-jwe-dir-without-encrypted-key", EncryptedTokenError, jwe("dir"), hits=0),
    no(
        "T79-jwe-pbes2-with-huge-p2c-and-zip",
        EncryptedTokenError,
        jwe("PBES2-HS256+A128KW", **JWE_HEADER_MEMBERS),
        hits=0,
    ),
]


# --- T81-T85: denial of service ------------------------------------------------------------------

BIG = using(max_token_size=1 << 20)

DOS: list[Case] = [
    no(
        "T81-1-mib-token",
        MalformedTokenError,
        shaped("{h}." + "A" * (1 << 20) + ".{s}"),
        hits=0,
        http=True,
    ),
    no("T81-1-mib-signature", MalformedTokenError, shaped("{h}.{p}." + "A" * (1 << 20)), hits=0),
    no(
        "T81-100-kib-header-under-a-1-mib-limit",
        MalformedTokenError,
        signed(header={"x": "a" * 100 * 1024}),
        settings=BIG,
        hits=0,
    ),
    no("T81-10000-dots", MalformedTokenError, literal("." * 10_000), hits=0),
    no(
        "T81-just-over-the-16-kib-default",
        MalformedTokenError,
        signed(padding="x" * 12_000),
        hits=0,
    ),
    no(
        "T82-5000-nested-arrays-in-the-claims",
        MalformedTokenError,
        signed(body='{"a":' + "[" * 5000 + "]" * 5000 + "}"),
        hits=0,
    ),
    no(
        "T82-1500-nested-objects-in-the-claims",
        MalformedTokenError,
        signed(body='{"a":' * 1500 + "1" + "}" * 1500),
        hits=0,
    ),
    no(
        "T82-2000-nested-arrays-in-the-header",
        MalformedTokenError,
        signed(raw_header='{"a":' + "[" * 2000 + "]" * 2000 + "}", alg="RS256", key=K0),
        hits=0,
    ),
    no(
        "T83-exp-of-5000-digits",
        MalformedTokenError,
        signed(body=with_raw("exp", "9" * 5000)),
        hits=0,
    ),
    no(
        "T83-4300-digit-integer-in-an-ignored-claim",
        MalformedTokenError,
        signed(body=with_raw("https://example.com/n", "7" * 4300)),
        hits=0,
    ),
    no(
        "T83-float-of-5000-digits",
        MalformedTokenError,
        signed(body=with_raw("exp", "1" + "0" * 5000 + ".5")),
        hits=0,
    ),
    ok(
        "T84-10000-audiences-with-ours-last-accepted",
        signed(aud=[f"https://api{i}.example.net" for i in range(10_000)] + [AUDIENCE]),
        settings=BIG,
        check=lambda t: t.audience[-1] == AUDIENCE and len(t.audience) == 10_001,
    ),
    no(
        "T84-10000-audiences-without-ours",
        InvalidAudienceError,
        signed(aud=[f"https://api{i}.example.net" for i in range(10_000)]),
        settings=BIG,
        http=True,
    ),
    ok(
        "T84-1000-custom-claims-accepted",
        signed(**{f"https://example.com/claim{i}": i for i in range(1000)}),
        settings=BIG,
        check=lambda t: t.claim("claim999", namespace="https://example.com/") == 999,
    ),
    no(
        "T84-kid-of-4-kib",
        MalformedTokenError,
        signed(header={"kid": "k" * 4096}, alg="RS256", key=K0),
        hits=0,
    ),
    no(
        "T85-random-kids-within-the-cooldown-fetch-nothing",
        UnknownKeyError,
        ghost_kid,
        prepare=(warm, probed),  # the probe's refetch starts the cooldown
        repeat=100,
        hits=3,
    ),
    no(
        "T85-random-kids-after-the-cooldown-refetch-once",
        UnknownKeyError,
        ghost_kid,
        prepare=(warm, advance(30)),
        repeat=100,
        hits=3,
    ),
]


# --- T87-T95: reliability (in-process faults; tests/test_fetch.py covers real sockets) --------

REFUSED = httpx.ConnectError("[Errno 111] Connection refused")
NXDOMAIN = httpx.ConnectError("[Errno -2] Name or service not known")
TLS_ERROR = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
UNUSABLE_KEYS = json.dumps(
    {
        "keys": [
            {"kty": "oct", "k": b64url(SECRET)},
            public_jwk(rsa_key(0, bits=1024), kid="weak"),
            public_jwk(rsa_key(1), kid="enc", use="enc"),
        ]
    }
)
STALE = (warm, advance(600))  # the key set's TTL (max-age=600) has just run out

RELIABILITY: list[Case] = [
    *(
        unavailable(f"T87-jwks-{name}-on-a-cold-cache", failing(JWKS, fault), repeat=5, hits=2)
        for name, fault in [  # hits: discovery and one attempt, then a backoff: no storm
            ("500", status(500)),
            ("503", status(503)),
            ("429", status(429, **{"retry-after": "3600"})),
            ("connection-refused", raising(REFUSED)),
            ("dns-failure", raising(NXDOMAIN)),
            ("tls-error", raising(TLS_ERROR)),
            ("connect-timeout", raising(httpx.ConnectTimeout("timed out"))),
        ]
    ),
    unavailable(
        "T87-discovery-503-on-a-cold-cache", failing(DISCOVERY, status(503)), repeat=5, hits=1
    ),
    *(
        served(
            f"T88-stale-keys-serve-while-jwks-{name}",
            *STALE,
            failing(JWKS, fault),
            repeat=5,
            hits=3,
        )
        for name, fault in [  # hits: one failed refresh, then a backoff; the last set serves
            ("answers-500", status(500)),
            ("refuses-connections", raising(REFUSED)),
            ("sends-html", body("<html>oops</html>", "text/html")),
        ]
    ),
    unavailable(
        "T88-stale-keys-end-with-the-stale-window",
        warm,
        failing(JWKS, status(500)),
        advance(900),
        settings=using(cache=CachePolicy(stale_if_error=300)),
        hits=3,
    ),
    unavailable("T89-headers-slower-than-the-deadline", slow(0.1), settings=FAST_DEADLINE, hits=1),
    unavailable(
        "T89-body-dribbled-past-the-deadline",
        failing(JWKS, streaming(b" ", pause=0.01)),
        settings=FAST_DEADLINE,
        hits=2,
    ),
    served(
        "T89-stale-keys-serve-while-the-provider-is-slow",
        *STALE,
        slow(0.1),
        settings=FAST_DEADLINE,
        hits=3,
    ),
    unavailable("T90-declared-10-mb-body", failing(JWKS, body(b" " * 10_000_000)), hits=2),
    unavailable("T90-endless-chunked-body", failing(JWKS, streaming(b"[" * 65536)), hits=2),
    *(
        unavailable(f"T91-jwks-{name}-on-a-cold-cache", failing(JWKS, answer), hits=2)
        for name, answer in [
            ("html", body("<html>Service Unavailable</html>", "text/html")),
            ("invalid-json", body('{"keys": [')),
            ("array", body("[]")),
            ("empty-object", body("{}")),
            ("keys-object", body('{"keys": {}}')),
            ("no-keys", body('{"keys": []}')),
            ("only-unusable-keys", body(UNUSABLE_KEYS)),
        ]
    ),
    served(
        "T91-no-keys-after-the-ttl-keep-the-last-good-set",
        *STALE,
        failing(JWKS, body('{"keys": []}')),
        hits=3,
    ),
    *(
        unavailable(f"T92-jwks-{code}-to-{name}", failing(JWKS, redirect(code, url)), hits=2)
        for code, name, url in [  # hits: never the redirect's target
            (301, "another-host", "https://evil.example/jwks"),
            (302, "cloud-metadata", "http://169.254.169.254/latest/meta-data/"),
            (307, "plain-http", "http://tenant.auth0.com/.well-known/jwks.json"),
            (308, "a-lookalike-host", "https://tenant.auth0.com.evil.com/jwks"),
        ]
    ),
    served("T92-same-origin-redirect-followed", same_origin_redirect, hits=3),
    *(
        unavailable(f"T93-discovery-{name}", failing(DISCOVERY, answer), hits=1)
        for name, answer in [
            ("names-another-issuer", discovery(issuer="https://evil.example/")),
            ("issuer-with-another-path", discovery(issuer="https://tenant.auth0.com/a/")),
            ("issuer-over-http", discovery(issuer="http://tenant.auth0.com/")),
            ("jwks-uri-plain-http", discovery(jwks_uri="http://tenant.auth0.com/jwks.json")),
            ("without-jwks-uri", discovery(jwks_uri=None)),
            ("jwks-uri-not-a-string", discovery(jwks_uri=["https://tenant.auth0.com/jwks"])),
        ]
    ),
    served("T93-jwks-uri-on-another-https-host", settings=keys_elsewhere, hits=2),
    served(
        "T93-discovery-issuer-spelt-without-trailing-slash",
        failing(DISCOVERY, discovery(issuer="https://Tenant.Auth0.com")),
        hits=2,
    ),
    no(
        "T93-plain-http-jwks-uri-refused-at-start-up",
        ConfigurationError,
        settings=using(jwks_uri="http://tenant.auth0.com/.well-known/jwks.json"),
        http=False,
    ),
    ok(
        "T94-next-key-verifies-after-one-refetch",
        signed(kid="k2"),
        prepare=(warm, rotate(add={"k2": RSA1}), advance(30)),
        hits=3,
    ),
    no(
        "T94-next-key-waits-for-the-cooldown-an-unknown-kid-started",
        UnknownKeyError,
        signed(kid="k2", alg="RS256", key=K1),
        prepare=(warm, probed, rotate(add={"k2": RSA1}), advance(29)),
        hits=3,
    ),
    ok(
        "T94-next-key-rotated-in-just-after-a-fetch-verifies-at-once",
        signed(kid="k2"),
        prepare=(warm, advance(1), rotate(add={"k2": RSA1})),
        hits=3,
    ),
    ok(
        "T94-current-key-still-verifies-after-the-rotation",
        signed(),
        prepare=(warm, rotate(add={"k2": RSA1}), advance(30), verified(signed(kid="k2"))),
        hits=3,
    ),
    ok(
        "T94-revoked-key-serves-until-the-ttl",
        K1_TOKEN,
        prepare=(warm, rotate(add={"k2": RSA1}, remove=("k1",)), advance(599)),
        hits=2,
    ),
    no(
        "T94-revoked-key-refused-after-the-ttl",
        UnknownKeyError,
        signed(kid="k1", alg="RS256", key=K0),
        prepare=(warm, rotate(add={"k2": RSA1}, remove=("k1",)), advance(600)),
        hits=3,
    ),
    ok("T95-cold-start-fetches-once", signed(), repeat=50, hits=2),
    ok("T95-ttl-expiry-refetches-once", signed(), prepare=STALE, repeat=50, hits=3),
    ok(
        "T95-wall-clock-jump-ahead-keeps-the-key-set-fresh",
        signed(exp=N + 7200),
        prepare=(warm, clock_only(3600)),
        hits=2,
    ),
    ok(
        "T95-wall-clock-jump-back-keeps-the-key-set-fresh",
        signed(iat=N - 7200),
        prepare=(warm, clock_only(-3600)),
        hits=2,
    ),
    ok(
        "T95-key-set-ttl-runs-on-the-monotonic-clock",
        signed(),
        prepare=(warm, advance(600, wall=False)),
        hits=3,
    ),
    no(
        "T95-exp-runs-on-the-wall-clock",
        ExpiredTokenError,
        signed(),
        prepare=(warm, clock_only(3600 + LEEWAY)),
        hits=2,
    ),
]

CATALOGUE: list[Case] = [
    *HTTP,
    *FORMAT,
    *HEADER,
    *SIGNATURES,
    *JWKS_ROWS,
    *EDDSA_ROWS,
    *MLDSA_ROWS,
    *ISSUERS,
    *CLAIMS,
    *SCOPES,
    *CONFUSION,
    *DOS,
    *RELIABILITY,
]
