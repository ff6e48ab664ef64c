"""Client certificates (RFC 8705 §3): the setting, each source read strictly, and the request
that carries the certificate.

Each source takes exactly one certificate in exactly its format; anything else gives no
certificate and a reason that says what was wrong, never the value itself. Certificates
are made by the tests (``tests/certificates.py``).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from bearerguard import ConfigurationError, HttpRequest, Verifier
from bearerguard._certificates import (
    MAX_CERTIFICATE_TEXT,
    SOURCES,
    CertificateSource,
    certificate_thumbprint,
    check_client_certificate,
)
from bearerguard._request import asgi_request, wants_request, wsgi_request

from .certificates import Authority, client_cert_field, escaped_pem, xfcc_field

CA = Authority()
CLIENT = CA.issue("client")
OTHER = CA.issue("other client")
RSA_CLIENT = CA.issue("rsa client", rsa_bits=2048)

CLIENT_CERT = "header:Client-Cert"
XFCC = "header:X-Forwarded-Client-Cert"
NGINX = "header:X-SSL-Client-Cert"


def read(source: str, value: str, *more: str) -> tuple[bytes | None, str | None]:
    """What ``source`` makes of a request whose field carries ``value`` (and ``more``)."""
    name = source.partition(":")[2].lower()
    return CertificateSource(source).from_fields([(name, v) for v in (value, *more)])


def refused(source: str, value: str, *more: str) -> str:
    """The reason ``source`` gives no certificate for this field; checked to be safe."""
    der, why = read(source, value, *more)
    assert der is None
    assert why is not None
    assert len(value) < 8 or value[:40] not in why  # never the value itself
    return why


# --- the setting -------------------------------------------------------------------------------


def test_unset_reads_no_certificate():
    assert check_client_certificate(None) is None
    assert Verifier(issuer="tenant.auth0.com", audience="api").config.certificate_source is None


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_is_taken_as_written(source: str):
    verifier = Verifier(issuer="tenant.auth0.com", audience="api", client_certificate=source)

    assert verifier.config.client_certificate == source
    assert verifier.config.certificate_source is not None


@pytest.mark.parametrize(
    ("written", "taken"),
    [
        ("header:client-cert", CLIENT_CERT),
        ("HEADER:X-FORWARDED-CLIENT-CERT", XFCC),
        ("header:x-ssl-client-cert", NGINX),
        ("TLS", "tls"),
    ],
)
def test_header_names_are_case_insensitive(written: str, taken: str):
    assert check_client_certificate(written) == taken


@pytest.mark.parametrize(
    "value",
    [
        "header:X-Client-Cert",  # a header of no known format: never guessed
        "header:Authorization",
        "Client-Cert",
        "header:",
        "header: Client-Cert",
        " tls",
        "",
        "mtls",
        5,
        True,
        b"tls",
        ["tls"],
    ],
)
def test_anything_else_is_refused_naming_the_choices(value: Any):
    with pytest.raises(ConfigurationError) as refused_:
        Verifier(issuer="tenant.auth0.com", audience="api", client_certificate=value)

    assert refused_.value.setting == "client_certificate"
    message = str(refused_.value)
    for source in SOURCES:
        assert repr(source) in message
    assert "trust" in message  # naming a header says a trusted proxy sets it


def test_the_setting_is_read_by_its_environment_name():
    environ = {
        "BEARERGUARD_ISSUER": "tenant.auth0.com",
        "BEARERGUARD_AUDIENCE": "api",
        "BEARERGUARD_CLIENT_CERTIFICATE": "header:X-SSL-Client-Cert",
    }

    assert Verifier.from_env(environ).config.client_certificate == NGINX
    environ["BEARERGUARD_CLIENT_CERTIFICATE"] = "header:X-Cert"
    with pytest.raises(ConfigurationError, match=r"^BEARERGUARD_CLIENT_CERTIFICATE: "):
        Verifier.from_env(environ)


def test_the_setting_is_read_from_flask_config():
    from flask import Flask

    from bearerguard.flask import BearerGuard

    app = Flask(__name__)
    app.config.update(
        BEARERGUARD_ISSUER="tenant.auth0.com",
        BEARERGUARD_AUDIENCE="api",
        BEARERGUARD_CLIENT_CERTIFICATE="header:Client-Cert",
    )

    BearerGuard(app)
    assert app.extensions["bearerguard"].config.client_certificate == CLIENT_CERT
    app.config["BEARERGUARD_CLIENT_CERTIFICATE"] = "headers:Client-Cert"
    with pytest.raises(ConfigurationError, match="BEARERGUARD_CLIENT_CERTIFICATE"):
        BearerGuard(app)


def test_the_setting_is_read_from_django_settings():
    from bearerguard.django.conf import check_setting

    good = {"ISSUER": "tenant.auth0.com", "AUDIENCE": "api", "CLIENT_CERTIFICATE": "tls"}
    assert check_setting(good) == []
    (problem,) = check_setting({**good, "CLIENT_CERTIFICATE": "header:X-Client-Cert"})
    assert problem.id.startswith("bearerguard.E")
    assert "CLIENT_CERTIFICATE" in problem.msg


# --- the thumbprint ----------------------------------------------------------------------------


def test_the_thumbprint_is_the_unpadded_base64url_sha256_of_the_der():
    digest = hashlib.sha256(CLIENT.der).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")

    assert certificate_thumbprint(CLIENT.der) == expected
    assert len(expected) == 43


# --- header:Client-Cert (RFC 9440) -------------------------------------------------------------


def test_client_cert_is_the_der_as_a_byte_sequence():
    assert read(CLIENT_CERT, client_cert_field(CLIENT.der)) == (CLIENT.der, None)
    assert read(CLIENT_CERT, client_cert_field(RSA_CLIENT.der)) == (RSA_CLIENT.der, None)


def test_client_cert_padding_may_be_left_out_as_rfc_8941_asks_of_parsers():
    value = client_cert_field(OTHER.der).rstrip(":").rstrip("=") + ":"

    assert read(CLIENT_CERT, value) == (OTHER.der, None)


def test_client_cert_may_have_spaces_around_it():
    assert read(CLIENT_CERT, " " + client_cert_field(CLIENT.der) + "\t")[0] == CLIENT.der


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (base64.b64encode(CLIENT.der).decode(), "Byte Sequence"),  # no colons
        (client_cert_field(CLIENT.der) + ";v=1", "Byte Sequence"),  # parameters
        (client_cert_field(CLIENT.der) + ", " + client_cert_field(OTHER.der), "Byte Sequence"),
        (
            ":" + base64.urlsafe_b64encode(CLIENT.der).decode() + ":",
            "Byte Sequence",
        ),  # base64url is not the alphabet of RFC 8941
        (":" + base64.b64encode(CLIENT.der).decode()[:-3] + "A=A:", "not base64"),
        (":" + base64.b64encode(CLIENT.der).decode() + "A:", "not base64"),  # 1 mod 4
        (client_cert_field(CLIENT.der + b"\x00"), "not the DER of one X.509 certificate"),
        (client_cert_field(CLIENT.der[:-1]), "not the DER of one X.509 certificate"),
        (client_cert_field(CLIENT.der + OTHER.der), "not the DER of one X.509 certificate"),
        (client_cert_field(b"not a certificate"), "not the DER of one X.509 certificate"),
        ("::", "not the DER of one X.509 certificate"),
        (client_cert_field(CLIENT.pem.encode()), "not the DER of one X.509 certificate"),
        ('"' + client_cert_field(CLIENT.der) + '"', "Byte Sequence"),
    ],
    ids=[
        "bare-base64",
        "parameters",
        "a-list-of-two",
        "base64url",
        "padding-inside",
        "length-1-mod-4",
        "trailing-byte",
        "truncated",
        "two-certificates",
        "not-der",
        "empty-sequence",
        "pem-not-der",
        "quoted",
    ],
)
def test_client_cert_anything_else_is_no_certificate(value: str, says: str):
    assert says in refused(CLIENT_CERT, value)


def test_an_empty_field_is_no_certificate():
    assert "empty" in refused(CLIENT_CERT, "")


# --- header:X-SSL-Client-Cert (nginx) ----------------------------------------------------------


def test_nginx_escaped_pem_is_read():
    assert read(NGINX, escaped_pem(CLIENT.pem)) == (CLIENT.der, None)


def test_nginx_pem_may_be_escaped_in_part_or_spelt_in_lower_case():
    partly = CLIENT.pem.replace("\n", "%0a").replace(" ", "%20")

    assert read(NGINX, partly)[0] == CLIENT.der


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (escaped_pem(CLIENT.pem + OTHER.pem), "2 PEM blocks"),  # a chain is not a certificate
        (escaped_pem(CA.pem + CLIENT.pem), "2 PEM blocks"),
        (escaped_pem(CLIENT.key_pem), "not one PEM certificate"),
        (escaped_pem("junk " + CLIENT.pem), "not one PEM certificate"),
        (escaped_pem(CLIENT.pem + " junk"), "not one PEM certificate"),
        (escaped_pem(CLIENT.pem.replace("CERTIFICATE", "X509 CRL")), "not one PEM certificate"),
        (escaped_pem(CLIENT.pem.replace("M", "-", 1)), "not base64"),
        (escaped_pem(CLIENT.pem.replace("\n-----END", "A\n-----END")), "not base64"),
        ("%FF%FE" + escaped_pem(CLIENT.pem), "not a URL-encoded PEM"),
        ("%C3%A9" + escaped_pem(CLIENT.pem), "not a URL-encoded PEM"),
        ("%ZZ" + escaped_pem(CLIENT.pem), "not one PEM certificate"),
        (
            escaped_pem(CLIENT.pem.replace("MII", "MIJ", 1)),
            "not the DER of one X.509 certificate",
        ),
        (client_cert_field(CLIENT.der), "not one PEM certificate"),
        (escaped_pem("-----BEGIN CERTIFICATE----------END CERTIFICATE-----"), "not base64"),
    ],
    ids=[
        "two-certificates",
        "ca-and-client",
        "a-private-key",
        "text-before",
        "text-after",
        "another-pem-type",
        "not-base64",
        "bad-padding",
        "not-utf-8",
        "not-ascii",
        "bad-escape",
        "not-der",
        "rfc-9440-form",
        "empty-pem",
    ],
)
def test_nginx_anything_else_is_no_certificate(value: str, says: str):
    assert says in refused(NGINX, value)


# --- header:X-Forwarded-Client-Cert (Envoy) ----------------------------------------------------


def test_xfcc_takes_the_cert_of_its_one_element():
    value = xfcc_field(CLIENT.pem, CLIENT.der, by="spiffe://example.com/api")

    assert read(XFCC, value) == (CLIENT.der, None)


def test_xfcc_keys_are_case_insensitive_and_a_value_may_go_unquoted():
    value = f"hash=00;cert={escaped_pem(CLIENT.pem)};URI=spiffe://example.com/client"

    assert read(XFCC, value) == (CLIENT.der, None)


def test_xfcc_subject_and_dns_keys_are_left_alone():
    value = (
        f'Subject="/C=US/CN=client, \\"x\\"";DNS=a.example;DNS=b.example;'
        f'Cert="{escaped_pem(CLIENT.pem)}"'
    )

    assert read(XFCC, value)[0] == CLIENT.der


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (
            xfcc_field(OTHER.pem, OTHER.der) + "," + xfcc_field(CLIENT.pem, CLIENT.der),
            "2 elements",
        ),  # a client's element forwarded, then the proxy's own
        (
            xfcc_field(CLIENT.pem, CLIENT.der) + "," + xfcc_field(OTHER.pem, OTHER.der),
            "2 elements",
        ),
        (xfcc_field(CLIENT.pem, CLIENT.der) + ",", "format"),
        ("Hash=abc;URI=spiffe://example.com/client", "0 Cert keys"),
        (f'Chain="{escaped_pem(CLIENT.pem + CA.pem)}"', "0 Cert keys"),
        (
            f'Cert="{escaped_pem(CLIENT.pem)}";Cert="{escaped_pem(OTHER.pem)}"',
            "2 Cert keys",
        ),
        (f'Cert="{escaped_pem(CLIENT.pem + CA.pem)}"', "2 PEM blocks"),
        (f'Cert="{escaped_pem(CLIENT.pem)}', "format"),  # an unterminated quote
        (f"Cert={CLIENT.pem!r}", "format"),
        ("Cert", "format"),
        ("=abc", "format"),
        (f'Cert="{client_cert_field(CLIENT.der)}"', "not one PEM certificate"),
        (escaped_pem(CLIENT.pem), "format"),  # nginx's form where Envoy's is expected
    ],
    ids=[
        "forged-first-element",
        "forged-last-element",
        "trailing-comma",
        "no-cert-key",
        "chain-only",
        "two-cert-keys",
        "a-chain-as-cert",
        "unterminated-quote",
        "raw-pem",
        "a-bare-key",
        "no-key",
        "rfc-9440-form",
        "nginx-form",
    ],
)
def test_xfcc_anything_else_is_no_certificate(value: str, says: str):
    assert says in refused(XFCC, value)


# --- every header source -----------------------------------------------------------------------

HEADER_SOURCES = {
    CLIENT_CERT: client_cert_field(CLIENT.der),
    XFCC: xfcc_field(CLIENT.pem, CLIENT.der),
    NGINX: escaped_pem(CLIENT.pem),
}


@pytest.mark.parametrize("source", list(HEADER_SOURCES))
def test_a_missing_field_is_no_certificate(source: str):
    der, why = CertificateSource(source).from_fields([("authorization", "Bearer x")])

    assert der is None
    assert why is not None
    assert source.partition(":")[2] in why


@pytest.mark.parametrize("source", list(HEADER_SOURCES))
def test_a_repeated_field_is_no_certificate_even_when_one_copy_is_good(source: str):
    good = HEADER_SOURCES[source]

    assert "repeats" in refused(source, good, good)
    assert "repeats" in refused(source, "forged", good)


@pytest.mark.parametrize("source", list(HEADER_SOURCES))
def test_a_value_over_16_kib_is_refused_unread(source: str):
    value = HEADER_SOURCES[source] + " " * (MAX_CERTIFICATE_TEXT + 1)

    assert "16 KiB" in refused(source, "x" * (MAX_CERTIFICATE_TEXT + 1))
    assert read(source, value.strip())[0] == CLIENT.der  # the spaces are the field's OWS


@pytest.mark.parametrize("source", list(HEADER_SOURCES))
def test_only_the_named_field_is_read(source: str):
    others = [(name.partition(":")[2].lower(), v) for name, v in HEADER_SOURCES.items()]
    own = source.partition(":")[2].lower()

    der, _ = CertificateSource(source).from_fields([f for f in others if f[0] == own])
    assert der == CLIENT.der
    der, _ = CertificateSource(source).from_fields([f for f in others if f[0] != own])
    assert der is None


def test_a_certificate_read_once_is_remembered_and_the_memory_is_bounded():
    source = CertificateSource(CLIENT_CERT)
    value = client_cert_field(CLIENT.der)

    first = source.from_fields([("client-cert", value)])
    assert source.from_fields([("client-cert", value)]) is first
    for n in range(200):
        source.from_fields([("client-cert", f":{base64.b64encode(bytes([n] * 3)).decode()}:")])
    assert len(source._known) <= 64


# --- "tls": the server's own TLS layer ---------------------------------------------------------


def tls_scope(**tls: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/api/contacts",
        "headers": [(b"host", b"api.example.com")],
        "extensions": {"tls": tls},
    }


def test_tls_takes_the_first_certificate_of_the_asgi_chain():
    scope = tls_scope(client_cert_chain=[CLIENT.pem, CA.pem], client_cert_error=None)

    assert CertificateSource("tls").from_asgi(scope, ()) == (CLIENT.der, None)


@pytest.mark.parametrize(
    ("scope", "says"),
    [
        ({"type": "http", "headers": []}, "no tls extension"),
        (tls_scope(client_cert_chain=[]), "no client certificate"),
        (tls_scope(client_cert_chain=[CLIENT.pem], client_cert_error="unknown ca"), "verify"),
        (tls_scope(client_cert_chain=[CLIENT.der]), "no PEM"),
        (tls_scope(client_cert_chain=CLIENT.pem), "no client certificate"),
        (tls_scope(client_cert_chain=[CLIENT.pem + OTHER.pem]), "2 PEM blocks"),
        (tls_scope(), "no client certificate"),
    ],
    ids=["no-extension", "empty-chain", "not-verified", "bytes", "a-string", "two-in-one", "none"],
)
def test_tls_gives_no_certificate_when_the_server_vouches_for_none(scope: Any, says: str):
    der, why = CertificateSource("tls").from_asgi(scope, [("client-cert", "ignored")])

    assert der is None
    assert why is not None
    assert says in why


def test_tls_reads_ssl_client_cert_of_a_wsgi_environ():
    source = CertificateSource("tls")

    assert source.from_wsgi({"SSL_CLIENT_CERT": CLIENT.pem}, ()) == (CLIENT.der, None)
    assert source.from_wsgi({}, ())[0] is None
    assert source.from_wsgi({"SSL_CLIENT_CERT": ""}, ())[0] is None


def test_tls_never_reads_a_header():
    fields = [(name.partition(":")[2].lower(), v) for name, v in HEADER_SOURCES.items()]
    source = CertificateSource("tls")

    assert source.from_fields(fields)[0] is None
    assert source.from_wsgi({"HTTP_CLIENT_CERT": client_cert_field(CLIENT.der)}, fields)[0] is None


# --- the request carries it --------------------------------------------------------------------


def asgi_scope(*headers: tuple[str, str], **extensions: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/api/contacts",
        "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        "extensions": extensions,
    }


def test_asgi_request_reads_only_the_configured_source():
    fields = (("host", "api.example.com"), ("Client-Cert", client_cert_field(CLIENT.der)))
    scope = asgi_scope(*fields, tls={"client_cert_chain": [OTHER.pem]})

    assert asgi_request(scope).client_certificate is None  # no source: nothing is read
    assert asgi_request(scope, CertificateSource(CLIENT_CERT)).client_certificate == CLIENT.der
    assert asgi_request(scope, CertificateSource("tls")).client_certificate == OTHER.der
    unread = asgi_request(scope, CertificateSource(NGINX))
    assert unread.client_certificate is None
    assert unread.client_certificate_error is not None
    assert "X-SSL-Client-Cert" in unread.client_certificate_error


def test_wsgi_request_reads_only_the_configured_source():
    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "api.example.com",
        "PATH_INFO": "/api/contacts",
        "HTTP_X_SSL_CLIENT_CERT": escaped_pem(CLIENT.pem),
        "SSL_CLIENT_CERT": OTHER.pem,
    }

    assert wsgi_request(environ).client_certificate is None
    assert wsgi_request(environ, CertificateSource(NGINX)).client_certificate == CLIENT.der
    assert wsgi_request(environ, CertificateSource("tls")).client_certificate == OTHER.der
    built = wsgi_request(environ, CertificateSource("tls"), method="GET", url="https://x.test/")
    assert (built.method, built.url) == ("GET", "https://x.test/")


def test_wsgi_request_under_asgi_reads_tls_from_the_scope():
    scope = asgi_scope(tls={"client_cert_chain": [CLIENT.pem]})

    built = wsgi_request({"HTTP_HOST": "a.test"}, CertificateSource("tls"), asgi_scope=scope)

    assert built.client_certificate == CLIENT.der


def test_an_http_request_takes_the_der_of_one_certificate():
    request = HttpRequest("GET", "https://api.example.com/", client_certificate=CLIENT.der)

    assert request.client_certificate == CLIENT.der
    assert request.client_certificate_error is None
    assert "client_certificate" not in repr(request)
    kept = HttpRequest("GET", "https://a.test/", client_certificate=bytearray(CLIENT.der))
    assert kept.client_certificate == CLIENT.der
    assert HttpRequest("GET", "https://api.example.com/").client_certificate is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (CLIENT.pem, TypeError),
        (client_cert_field(CLIENT.der).encode(), ValueError),
        (CLIENT.der + b"\x00", ValueError),
        (b"", ValueError),
        (12, TypeError),
    ],
    ids=["pem-text", "rfc-9440-bytes", "trailing-byte", "empty", "int"],
)
def test_an_http_request_refuses_anything_but_der_saying_what_it_takes(value: Any, error: type):
    with pytest.raises(error, match=r"DER bytes of the one X\.509 certificate"):
        HttpRequest("GET", "https://api.example.com/", client_certificate=value)


@pytest.mark.parametrize(
    ("dpop", "authorization", "proof", "whole"),
    [
        ("off", "Bearer a.b.c", False, True),
        ("allowed", "Bearer a.b.c", False, True),
        ("allowed", ["Bearer a.b.c"], False, True),
        ("allowed", None, False, False),  # no credentials: the bearer path says so as well
        ("allowed", [], False, False),
        ("allowed", None, True, True),  # a proof still goes whole
    ],
)
def test_with_certificates_every_request_with_credentials_goes_whole(
    dpop: str, authorization: Any, proof: bool, whole: bool
):
    assert wants_request(dpop, authorization, proof, whole=True) is whole
