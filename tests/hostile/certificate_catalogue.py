"""The hostile certificate catalogue: certificate-bound tokens (RFC 8705 §3) and the attacks
on where the certificate comes from.

Ids ``C00``-``C12``, one per rule or attack, each case a variant of it with its
source: the RFC section (RFC 8705 for the binding, RFC 9440 and RFC 8941 for the
``Client-Cert`` field, RFC 7468 for PEM, RFC 7800 for ``cnf``), or the proxy's own
documentation (Envoy's XFCC, nginx's ``$ssl_client_escaped_cert``).
``tests/hostile/test_certificate_core.py`` runs every case through
``verify_request()`` and ``averify_request()`` over the request an ASGI and a WSGI
adapter build; ``tests/hostile/test_certificate_adapters.py`` every case a client
can send (the header fields: no test client speaks TLS) through every framework
adapter over its real test client. The positive twins (``C00``, and the
``accepted`` variants of other rows) must pass: a check that refused them would be
refusing clients and proxies that follow the RFCs.

``POLICY`` names where bearerguard chose an answer the RFCs leave open (docs/security.md
reproduces it).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization

from bearerguard import (
    InvalidDPoPProofError,
    InvalidTokenError,
    SenderConstrainedTokenError,
)
from bearerguard._binding import CERTIFICATE_DESCRIPTION
from bearerguard._certificates import MAX_CERTIFICATE_TEXT
from tests.certificates import client_cert_field, escaped_pem, xfcc_field

from .certificate_builders import (
    CA,
    CLIENT,
    CLIENT_CERT,
    DPOP_KEY,
    HEADER_SOURCES,
    NGINX,
    OTHER,
    REISSUED,
    RSA_CLIENT,
    SELF_SIGNED,
    XFCC,
    Build,
    CertificateCase,
    asgi_tls,
    bearer_with,
    dpop_with,
    field_of,
    presented,
    remembered_then,
    thumbprint,
)

RFC8705 = "RFC 8705 §3 (the certificate must match the token's cnf, else 401 invalid_token)"
RFC8705_THUMBPRINT = "RFC 8705 §3.1 (x5t#S256: base64url SHA-256 of the DER), RFC 7515 §4.1.8"
RFC9440 = "RFC 9440 §2.2 (Client-Cert: one Byte Sequence, the DER), RFC 8941 §3.3.5"
RFC9440_SINGLETON = "RFC 9440 §2.2 (a singleton field: never a list, never repeated)"
RFC9440_SANITIZE = "RFC 9440 §2.4 and §5 (the proxy removes or overwrites a client's copy)"
ENVOY = "RFC 8705 §3 behind Envoy: XFCC, forward_client_cert_details (Envoy's header docs)"
NGINX_DOCS = "RFC 8705 §3 behind nginx: $ssl_client_escaped_cert, a URL-encoded PEM"
PEM = "RFC 7468 §5 (one certificate, strict textual encoding)"
CNF = "RFC 7800 §3.1 (cnf names the key that confirms possession), RFC 8705 §3.1"
BOTH = "RFC 9449 §6 and RFC 8705 §3 (a token bound both ways needs both)"
OVERSIZED = "RFC 8705 §3 and RFC 9110 §5.4 (field size): bounded at 16 KiB, refused unread"
# What a server's own TLS layer reports reaches the API through one kind of request only.
ASGI_TLS: dict[str, Any] = {"setting": "tls", "builders": ("asgi",)}
WSGI_TLS: dict[str, Any] = {"setting": "tls", "builders": ("wsgi",)}

POLICY: dict[str, str] = {
    "C01": (
        "Every certificate refusal is 401 invalid_token with one fixed description, whether "
        "there is no certificate, an unreadable one or another one (RFC 8705 §3); a value "
        "that is not exactly one certificate in its source's format counts as none, never "
        "as a 400: the field is the proxy's, which the client cannot fix."
    ),
    "C05": (
        "Without client_certificate no field is read, whoever set it: a certificate-bound "
        "token is refused as sender-constrained. With one source named, the others' fields "
        "are ignored."
    ),
    "C06": (
        "Envoy's XFCC must hold exactly one element: an element appended per proxy means the "
        "first may be a client's and the last the nearest proxy's peer, so no position is "
        "taken on trust; RFC 9440 fields and nginx's are singletons."
    ),
    "C07": (
        "A plain token with an unreadable certificate field passes: the certificate is "
        "evidence for a binding, and an unbound token needs none."
    ),
    "C09": (
        "The client's certificate is one certificate: a chain in its place is refused; the "
        "server's tls extension lists the chain, of which the first is the client's."
    ),
}


def refused(id: str, source: str, request: Build, **kw: Any) -> CertificateCase:
    """A request refused with 401 invalid_token and the certificate description."""
    kw.setdefault("error", InvalidTokenError)
    if kw["error"] is InvalidTokenError:
        kw.setdefault("description", CERTIFICATE_DESCRIPTION)
    return CertificateCase(id, source, request, **kw)


def sender_constrained(id: str, source: str, request: Build, **kw: Any) -> CertificateCase:
    return CertificateCase(id, source, request, SenderConstrainedTokenError, **kw)


def accepted(id: str, source: str, request: Build, **kw: Any) -> CertificateCase:
    return CertificateCase(id, source, request, None, **kw)


def with_thumbprint(value: Any, source: str = CLIENT_CERT) -> Build:
    """A token whose cnf names ``value`` as x5t#S256, and CLIENT's field."""
    return bearer_with(field_of(source, CLIENT), token=lambda w: w.token(cnf={"x5t#S256": value}))


def with_cnf(cnf: Any, source: str = CLIENT_CERT) -> Build:
    return bearer_with(field_of(source, CLIENT), token=lambda w: w.token(cnf=cnf))


def named(source: str) -> str:
    return source.partition(":")[2].lower()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def spki(certificate: Any) -> bytes:
    return certificate.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


DER = CLIENT.der
PEM_TEXT = CLIENT.pem
SHA256 = hashlib.sha256(DER).digest()

CERTIFICATE_CATALOGUE: list[CertificateCase] = [
    # C00: the positive twins: the right certificate, however a proxy or server spells it.
    *(
        accepted(
            f"C00-its-certificate-in-{named(source)}", RFC8705, presented(source), setting=source
        )
        for source in HEADER_SOURCES
    ),
    accepted(
        "C00-client-cert-without-padding",
        RFC9440 + " (parsers should not fail when = padding is absent)",
        bearer_with(("Client-Cert", client_cert_field(DER).rstrip(":").rstrip("=") + ":")),
    ),
    accepted(
        "C00-client-cert-with-spaces-around",
        "RFC 9110 §5.5 (no whitespace around a field value)",
        bearer_with(("Client-Cert", "  " + client_cert_field(DER) + " ")),
    ),
    accepted(
        "C00-an-rsa-certificate",
        RFC8705,
        bearer_with(field_of(CLIENT_CERT, RSA_CLIENT), token=lambda w: w.bound_token(RSA_CLIENT)),
    ),
    accepted(
        "C00-a-self-signed-certificate",
        "RFC 8705 §2.2 (self_signed_tls_client_auth: the binding is the same)",
        bearer_with(field_of(CLIENT_CERT, SELF_SIGNED), token=lambda w: w.bound_token(SELF_SIGNED)),
    ),
    accepted(
        "C00-xfcc-with-every-key-envoy-sets",
        ENVOY,
        bearer_with(
            (
                "X-Forwarded-Client-Cert",
                "By=spiffe://example.com/api;Hash="
                + hashlib.sha256(DER).hexdigest()
                + ';Subject="/C=US/CN=client, \\"x\\"";URI=spiffe://example.com/client;'
                + 'DNS=a.example;DNS=b.example;Cert="'
                + escaped_pem(PEM_TEXT)
                + '"',
            )
        ),
        setting=XFCC,
    ),
    accepted(
        "C00-xfcc-keys-in-lower-case-and-unquoted",
        ENVOY + " (keys are case-insensitive)",
        bearer_with(("X-Forwarded-Client-Cert", f"hash=00;cert={escaped_pem(PEM_TEXT)}")),
        setting=XFCC,
    ),
    accepted(
        "C00-nginx-pem-escaped-in-part",
        NGINX_DOCS,
        bearer_with(("X-SSL-Client-Cert", PEM_TEXT.replace("\n", "%0A").replace(" ", "%20"))),
        setting=NGINX,
    ),
    accepted(
        "C00-tls-the-asgi-extension",
        "RFC 8705 §3 (the server's own TLS layer): the ASGI tls extension",
        bearer_with(tls=asgi_tls(PEM_TEXT)),
        **ASGI_TLS,
    ),
    accepted(
        "C00-tls-the-wsgi-environ",
        "RFC 8705 §3 (the server's own TLS layer): SSL_CLIENT_CERT, as Apache exports it",
        bearer_with(environ={"SSL_CLIENT_CERT": PEM_TEXT}),
        **WSGI_TLS,
    ),
    accepted(
        "C00-a-plain-token-with-a-certificate",
        RFC8705 + ": an unbound token is a bearer token",
        bearer_with(field_of(CLIENT_CERT, CLIENT), token=lambda w: w.token()),
        bound=False,
    ),
    accepted(
        "C00-a-plain-token-without-one",
        RFC8705 + ": an unbound token is a bearer token",
        bearer_with(token=lambda w: w.token()),
        bound=False,
    ),
    accepted(
        "C00-unknown-cnf-members-beside-the-thumbprint",
        CNF + " (members a verifier does not know are left alone beside one it checks)",
        with_cnf({"x5t#S256": thumbprint(DER), "x-vendor": {"a": 1}}),
    ),
    # C01: no certificate where the token is bound to one.
    *(
        refused(f"C01-no-{named(source)}-field", RFC8705, bearer_with(), setting=source)
        for source in HEADER_SOURCES
    ),
    *(
        refused(
            f"C01-an-empty-{named(source)}-field",
            RFC8705 + "; Cloudflare's RFC 9440 field is empty without a certificate",
            bearer_with((source.partition(":")[2], "")),
            setting=source,
        )
        for source in HEADER_SOURCES
    ),
    refused(
        "C01-tls-no-extension",
        RFC8705 + ": a plain HTTP connection",
        bearer_with(),
        setting="tls",
    ),
    refused(
        "C01-tls-no-certificate-in-the-handshake",
        RFC8705,
        bearer_with(tls=asgi_tls()),
        **ASGI_TLS,
    ),
    refused(
        "C01-tls-a-certificate-the-server-could-not-verify",
        RFC8705 + "; ASGI tls extension: client_cert_error",
        bearer_with(tls=asgi_tls(PEM_TEXT, error="unable to get local issuer certificate")),
        **ASGI_TLS,
    ),
    # C02: another certificate.
    *(
        refused(
            f"C02-another-client-in-{named(source)}",
            RFC8705,
            presented(source, OTHER),
            setting=source,
        )
        for source in HEADER_SOURCES
    ),
    refused("C02-the-issuing-ca", RFC8705, presented(CLIENT_CERT, CA.issued)),
    refused(
        "C02-another-certificate-of-the-same-key",
        RFC8705_THUMBPRINT + " (the binding is to the certificate, not its key)",
        presented(CLIENT_CERT, REISSUED),
    ),
    refused(
        "C02-tls-another-client",
        RFC8705,
        bearer_with(tls=asgi_tls(OTHER.pem)),
        **ASGI_TLS,
    ),
    # C03: forged thumbprints: another encoding, another hash, another input.
    *(
        refused(f"C03-thumbprint-{label}", RFC8705_THUMBPRINT, with_thumbprint(value))
        for label, value in (
            ("in-hex", SHA256.hex()),
            ("in-upper-case-hex", SHA256.hex().upper()),
            ("padded", b64url(SHA256) + "="),
            ("in-the-standard-alphabet", b64(SHA256).rstrip("=")),
            ("of-sha1", b64url(hashlib.sha1(DER).digest())),  # noqa: S324 - x5t's hash
            ("of-sha384", b64url(hashlib.sha384(DER).digest())),
            ("of-sha512", b64url(hashlib.sha512(DER).digest())),
            ("of-the-pem-text", b64url(hashlib.sha256(PEM_TEXT.encode()).digest())),
            ("of-the-public-key", b64url(hashlib.sha256(spki(CLIENT)).digest())),
            ("of-the-issuer", thumbprint(CA.issued.der)),
            ("truncated", b64url(SHA256)[:42]),
            ("with-a-byte-more", b64url(SHA256 + b"\x00")),
            ("with-a-space", b64url(SHA256) + " "),
            ("swapped-case", b64url(SHA256).swapcase()),
            ("of-nothing", b64url(hashlib.sha256(b"").digest())),
            ("empty", ""),
            ("a-number", 1),
            ("true", True),
            ("null", None),
            ("an-array", [b64url(SHA256)]),
            ("an-object", {"x5t#S256": b64url(SHA256)}),
        )
    ),
    # C04: the thumbprint anywhere but cnf["x5t#S256"].
    sender_constrained(
        "C04-the-sha1-member-x5t",
        CNF + " (x5t is no RFC 8705 confirmation)",
        with_cnf({"x5t": b64url(hashlib.sha1(DER).digest())}),  # noqa: S324 - x5t's hash
    ),
    sender_constrained(
        "C04-the-member-in-lower-case",
        CNF + " (member names are case-sensitive, RFC 7159 §4)",
        with_cnf({"x5t#s256": thumbprint(DER)}),
    ),
    sender_constrained("C04-cnf-is-a-string", CNF, with_cnf(thumbprint(DER))),
    sender_constrained("C04-cnf-is-an-array", CNF, with_cnf([{"x5t#S256": thumbprint(DER)}])),
    sender_constrained("C04-cnf-is-empty", CNF, with_cnf({})),
    accepted(
        "C04-the-thumbprint-outside-cnf-binds-nothing",
        CNF + " (only cnf confirms: the token is a plain bearer token)",
        bearer_with(
            field_of(CLIENT_CERT, OTHER), token=lambda w: w.token(**{"x5t#S256": thumbprint(DER)})
        ),
        bound=False,
    ),
    # C05: fields from hops nobody trusted.
    *(
        sender_constrained(
            f"C05-{named(source)}-unread-when-not-configured",
            RFC9440_SANITIZE + "; without client_certificate no field is trusted",
            presented(source),
            setting=None,
        )
        for source in HEADER_SOURCES
    ),
    sender_constrained(
        "C05-a-certificate-the-server-vouches-for-unread-when-not-configured",
        RFC8705 + "; without client_certificate nothing is read",
        bearer_with(tls=asgi_tls(PEM_TEXT)),
        setting=None,
        builders=("asgi",),
    ),
    *(
        refused(
            f"C05-{named(other)}-ignored-where-{named(source)}-is-read",
            RFC9440_SANITIZE + "; only the configured field is the proxy's",
            presented(other),
            setting=source,
        )
        for source in HEADER_SOURCES
        for other in HEADER_SOURCES
        if other != source
    ),
    refused(
        "C05-a-header-ignored-where-tls-is-read",
        RFC8705 + "; with tls the server's word alone counts",
        presented(CLIENT_CERT),
        setting="tls",
    ),
    # C06: several fields, several elements.
    *(
        refused(
            f"C06-two-{named(source)}-fields-{order}",
            RFC9440_SINGLETON,
            bearer_with(*pair),
            setting=source,
        )
        for source in HEADER_SOURCES
        for order, pair in (
            ("forged-first", (field_of(source, OTHER), field_of(source, CLIENT))),
            ("forged-last", (field_of(source, CLIENT), field_of(source, OTHER))),
            ("both-genuine", (field_of(source, CLIENT), field_of(source, CLIENT))),
        )
    ),
    refused(
        "C06-client-cert-as-a-list",
        RFC9440_SINGLETON,
        bearer_with(("Client-Cert", f"{client_cert_field(OTHER.der)}, {client_cert_field(DER)}")),
    ),
    *(
        refused(
            f"C06-xfcc-two-elements-{order}",
            ENVOY,
            bearer_with(("X-Forwarded-Client-Cert", value)),
            setting=XFCC,
        )
        for order, value in (
            (
                "a-client-s-first",
                xfcc_field(OTHER.pem, OTHER.der) + "," + xfcc_field(PEM_TEXT, DER),
            ),
            (
                "the-proxy-s-first",
                xfcc_field(PEM_TEXT, DER) + "," + xfcc_field(OTHER.pem, OTHER.der),
            ),
            ("both-the-client-s", xfcc_field(PEM_TEXT, DER) + "," + xfcc_field(PEM_TEXT, DER)),
        )
    ),
    refused(
        "C06-xfcc-two-cert-keys",
        ENVOY,
        bearer_with(
            (
                "X-Forwarded-Client-Cert",
                f'Cert="{escaped_pem(PEM_TEXT)}";Cert="{escaped_pem(OTHER.pem)}"',
            )
        ),
        setting=XFCC,
    ),
    # C07: malformed values.
    *(
        refused(f"C07-client-cert-{label}", RFC9440, bearer_with(("Client-Cert", value)))
        for label, value in (
            ("bare-base64", b64(DER)),
            ("with-parameters", client_cert_field(DER) + ";a=1"),
            ("base64url", ":" + base64.urlsafe_b64encode(DER).decode() + ":"),
            ("padding-inside", ":" + b64(DER)[:-3] + "A=A:"),
            ("length-1-mod-4", ":" + b64(DER) + "A:"),
            ("a-byte-more", client_cert_field(DER + b"\x00")),
            ("a-byte-less", client_cert_field(DER[:-1])),
            ("not-a-certificate", client_cert_field(b"\x30\x03\x02\x01\x00")),
            ("the-pem-inside", client_cert_field(PEM_TEXT.encode())),
            (
                "a-private-key",
                client_cert_field(
                    CLIENT.key.private_bytes(
                        serialization.Encoding.DER,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                ),
            ),
            ("quoted", f'"{client_cert_field(DER)}"'),
            ("a-token", "MIIB"),
        )
    ),
    *(
        refused(
            f"C07-nginx-{label}",
            NGINX_DOCS + "; " + PEM,
            bearer_with(("X-SSL-Client-Cert", value)),
            setting=NGINX,
        )
        for label, value in (
            ("a-private-key", escaped_pem(CLIENT.key_pem)),
            ("text-before", escaped_pem("subject=/CN=client\n" + PEM_TEXT)),
            ("text-after", escaped_pem(PEM_TEXT + "junk")),
            (
                "another-pem-type",
                escaped_pem(PEM_TEXT.replace("CERTIFICATE", "TRUSTED CERTIFICATE")),
            ),
            ("not-base64", escaped_pem(PEM_TEXT.replace("M", "*", 1))),
            ("bad-escapes", "%ZZ" + escaped_pem(PEM_TEXT)),
            ("not-utf-8", "%FF" + escaped_pem(PEM_TEXT)),
            ("not-ascii", "%C3%A9" + escaped_pem(PEM_TEXT)),
            ("the-der-in-base64", b64(DER)),
            ("the-rfc-9440-form", client_cert_field(DER)),
            ("a-corrupt-der", escaped_pem(PEM_TEXT.replace("MII", "MIJ", 1))),
        )
    ),
    *(
        refused(
            f"C07-xfcc-{label}",
            ENVOY,
            bearer_with(("X-Forwarded-Client-Cert", value)),
            setting=XFCC,
        )
        for label, value in (
            ("no-cert-key", "Hash=00;URI=spiffe://example.com/client"),
            ("chain-only", f'Chain="{escaped_pem(PEM_TEXT)}"'),
            ("unterminated-quote", f'Cert="{escaped_pem(PEM_TEXT)}'),
            ("raw-pem", "Cert=" + PEM_TEXT.replace("\n", " ")),
            ("nginx-s-form", escaped_pem(PEM_TEXT)),
            ("a-bare-key", "Cert"),
            ("no-key", "=abc"),
            ("a-trailing-comma", xfcc_field(PEM_TEXT, DER) + ","),
        )
    ),
    accepted(
        "C07-a-plain-token-with-an-unreadable-field",
        RFC8705 + ": an unbound token is a bearer token",
        bearer_with(("Client-Cert", "not a certificate"), token=lambda w: w.token()),
        bound=False,
    ),
    # C08: oversized values, refused before any decoding.
    *(
        refused(
            f"C08-{named(source)}-over-16-kib",
            OVERSIZED,
            bearer_with((source.partition(":")[2], "A" * (MAX_CERTIFICATE_TEXT + 1))),
            setting=source,
        )
        for source in HEADER_SOURCES
    ),
    refused(
        "C08-xfcc-a-thousand-elements",
        OVERSIZED + "; " + ENVOY,
        bearer_with(("X-Forwarded-Client-Cert", ",".join(["By=x"] * 1000) + ";" + "x" * 100)),
        setting=XFCC,
    ),
    refused(
        "C08-a-pem-padded-past-the-bound",
        OVERSIZED + "; " + PEM,
        bearer_with(("X-SSL-Client-Cert", escaped_pem(PEM_TEXT) + "%20" * MAX_CERTIFICATE_TEXT)),
        setting=NGINX,
    ),
    refused(
        "C08-tls-a-pem-padded-past-the-bound",
        OVERSIZED + "; " + PEM,
        bearer_with(tls=asgi_tls(PEM_TEXT + " " * MAX_CERTIFICATE_TEXT)),
        **ASGI_TLS,
    ),
    # C09: chains where one certificate is expected.
    refused(
        "C09-nginx-the-client-and-its-ca",
        NGINX_DOCS + "; " + PEM,
        bearer_with(("X-SSL-Client-Cert", escaped_pem(PEM_TEXT + CA.pem))),
        setting=NGINX,
    ),
    refused(
        "C09-nginx-the-ca-and-the-client",
        NGINX_DOCS + "; " + PEM,
        bearer_with(("X-SSL-Client-Cert", escaped_pem(CA.pem + PEM_TEXT))),
        setting=NGINX,
    ),
    refused(
        "C09-xfcc-a-chain-as-the-cert",
        ENVOY + "; " + PEM,
        bearer_with(("X-Forwarded-Client-Cert", f'Cert="{escaped_pem(PEM_TEXT + CA.pem)}"')),
        setting=XFCC,
    ),
    refused(
        "C09-client-cert-two-ders",
        RFC9440,
        bearer_with(("Client-Cert", client_cert_field(DER + CA.issued.der))),
    ),
    refused(
        "C09-tls-two-certificates-in-the-first-pem",
        PEM + "; the ASGI tls extension's client_cert_chain",
        bearer_with(tls=asgi_tls(PEM_TEXT + CA.pem)),
        **ASGI_TLS,
    ),
    accepted(
        "C09-tls-the-chain-the-server-reports",
        "RFC 8705 §3; the ASGI tls extension (the first certificate is the client's)",
        bearer_with(tls=asgi_tls(PEM_TEXT, CA.pem)),
        **ASGI_TLS,
    ),
    refused(
        "C09-tls-the-ca-first",
        "RFC 8705 §3; the ASGI tls extension (the first certificate is the client's)",
        bearer_with(tls=asgi_tls(CA.pem, PEM_TEXT)),
        **ASGI_TLS,
    ),
    # C10: bound both ways: the DPoP proof and the certificate.
    accepted(
        "C10-both-with-the-proof-and-the-certificate",
        BOTH,
        dpop_with(field_of(CLIENT_CERT, CLIENT)),
    ),
    refused("C10-both-with-the-proof-alone", BOTH, dpop_with()),
    refused(
        "C10-both-with-the-proof-and-another-certificate",
        BOTH,
        dpop_with(field_of(CLIENT_CERT, OTHER)),
    ),
    sender_constrained(
        "C10-both-with-the-certificate-alone-as-bearer",
        BOTH + "; RFC 9449 §7.2 (a DPoP-bound token is no bearer token)",
        bearer_with(
            field_of(CLIENT_CERT, CLIENT), token=lambda w: w.bound_token(jkt=DPOP_KEY.thumbprint())
        ),
    ),
    sender_constrained(
        "C10-both-where-no-certificate-is-read",
        BOTH + "; without client_certificate half the binding cannot be checked",
        dpop_with(field_of(CLIENT_CERT, CLIENT)),
        setting=None,
    ),
    CertificateCase(
        "C10-both-and-a-proof-by-another-key",
        BOTH,
        dpop_with(field_of(CLIENT_CERT, CLIENT), token=lambda w: w.bound_token(jkt="A" * 43)),
        InvalidDPoPProofError,
    ),
    # C11: other bindings with a certificate presented.
    sender_constrained(
        "C11-a-dpop-bound-token-as-bearer",
        "RFC 9449 §7.2; " + CNF,
        with_cnf({"jkt": DPOP_KEY.thumbprint()}),
    ),
    sender_constrained("C11-bound-to-a-key-id", CNF, with_cnf({"kid": "client-key"})),
    sender_constrained(
        "C11-bound-to-a-jwk",
        CNF,
        with_cnf({"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}),
    ),
    # C12: a remembered token is bound on every request.
    refused(
        "C12-remembered-then-another-certificate",
        RFC8705 + " (on every request: the token cache skips no binding)",
        remembered_then(presented(CLIENT_CERT, OTHER)),
    ),
    refused(
        "C12-remembered-then-none",
        RFC8705 + " (on every request: the token cache skips no binding)",
        remembered_then(bearer_with()),
    ),
]
