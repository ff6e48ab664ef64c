"""The testing support for certificate-bound tokens (RFC 8705): a client's certificate, tokens
bound to it, the field a proxy sets for it, and the ``certificate_headers`` fixture.

Every token is verified by a real verifier reading the certificate from the source
the helper was told, so what the helpers make is what an API accepts.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from bearerguard import ConfigurationError, HttpRequest, InvalidTokenError, Verifier
from bearerguard._request import asgi_request
from bearerguard.testing import FakeIssuer

from .support import no_settings_in_the_environment
from .test_pytest_plugin import INI, plugin_args
from .test_testing import nothing_left_active  # noqa: F401 - autouse: no fake left active

pytest_plugins = ["pytester"]

AUDIENCE = "https://api.example.com"
URL = "https://api.example.com/api/contacts"
HEADER_SOURCES = (
    "header:Client-Cert",
    "header:X-Forwarded-Client-Cert",
    "header:X-SSL-Client-Cert",
)


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer("tenant.auth0.com", audience=AUDIENCE) as fake:
        yield fake


def verifier_reading(fake: FakeIssuer, source: str) -> Verifier:
    return Verifier(issuer=fake.issuer, audience=AUDIENCE, client_certificate=source)


def as_an_adapter_builds_it(
    verifier: Verifier, headers: dict[str, str], **scope: Any
) -> HttpRequest:
    """The request an ASGI adapter hands the verifier for these header fields."""
    return asgi_request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "path": "/api/contacts",
            "headers": [(b"host", b"api.example.com")]
            + [(n.lower().encode(), v.encode()) for n, v in headers.items()],
            **scope,
        },
        verifier.config.certificate_source,
    )


# --- the certificate ---------------------------------------------------------------------------


def test_a_client_certificate_is_self_signed_for_client_authentication(issuer: FakeIssuer):
    made = issuer.client_certificate("my client")
    certificate = x509.load_der_x509_certificate(made.der)

    assert certificate.subject == certificate.issuer
    assert certificate.subject.rfc4514_string() == "CN=my client"
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert made.pem.startswith("-----BEGIN CERTIFICATE-----")
    assert made.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    digest = hashlib.sha256(made.der).digest()
    assert made.thumbprint == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_each_certificate_is_new_and_its_repr_shows_no_key(issuer: FakeIssuer):
    first, second = issuer.client_certificate(), issuer.client_certificate()

    assert first.thumbprint != second.thumbprint
    assert first.thumbprint in repr(first)
    assert "PRIVATE" not in repr(first)


def test_a_certificate_is_written_where_a_tls_client_reads_it(issuer: FakeIssuer, tmp_path: Path):
    made = issuer.client_certificate("client one")

    certificate_file, key_file = made.write(tmp_path)

    assert certificate_file.read_text() == made.pem
    assert key_file.read_text() == made.private_key_pem
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


@pytest.mark.parametrize(
    ("arguments", "says"),
    [({"name": ""}, "common name"), ({"name": "x" * 65}, "common name"), ({"days": 0}, "days")],
)
def test_a_certificate_with_impossible_settings_is_refused(arguments: dict[str, Any], says: str):
    from bearerguard.testing._certificates import ClientCertificate

    with pytest.raises(ConfigurationError, match=says):
        ClientCertificate(**arguments)


# --- tokens bound to it ------------------------------------------------------------------------


@pytest.mark.parametrize("source", HEADER_SOURCES)
def test_a_bound_token_and_the_proxys_field_pass_a_verifier_reading_that_field(
    issuer: FakeIssuer, source: str
):
    verifier = verifier_reading(issuer, source)
    certificate = issuer.client_certificate()

    headers = issuer.auth_header(
        scopes="read:contacts", certificate=certificate, client_certificate=source
    )

    assert list(headers) == ["Authorization", source.partition(":")[2]]
    token = verifier.verify_request(as_an_adapter_builds_it(verifier, headers))
    assert token.confirmation == {"x5t#S256": certificate.thumbprint}
    assert token.scopes == {"read:contacts"}


@pytest.mark.parametrize("source", HEADER_SOURCES)
def test_another_certificates_field_is_refused(issuer: FakeIssuer, source: str):
    verifier = verifier_reading(issuer, source)
    headers = {
        **issuer.auth_header(certificate=issuer.client_certificate()),
        **issuer.client_certificate().headers(source),
    }

    with pytest.raises(InvalidTokenError, match="another certificate"):
        verifier.verify_request(as_an_adapter_builds_it(verifier, headers))


def test_without_a_certificate_given_a_fresh_one_is_bound(issuer: FakeIssuer):
    verifier = verifier_reading(issuer, "header:Client-Cert")

    headers = issuer.auth_header(client_certificate="header:Client-Cert")

    assert verifier.verify_request(as_an_adapter_builds_it(verifier, headers)).confirmation


def test_the_tls_extension_is_what_an_asgi_server_with_tls_reports(issuer: FakeIssuer):
    verifier = verifier_reading(issuer, "tls")
    certificate = issuer.client_certificate()
    headers = issuer.auth_header(certificate=certificate)

    sent = as_an_adapter_builds_it(
        verifier, headers, extensions={"tls": certificate.tls_extension()}
    )

    assert verifier.verify_request(sent).confirmation == {"x5t#S256": certificate.thumbprint}
    with pytest.raises(ConfigurationError, match="no header"):
        certificate.headers("tls")


def test_the_wsgi_environ_is_what_a_wsgi_server_with_tls_exports(issuer: FakeIssuer):
    from bearerguard._request import wsgi_request

    verifier = verifier_reading(issuer, "tls")
    certificate = issuer.client_certificate()
    environ = {
        "HTTP_HOST": "api.example.com",
        "HTTP_AUTHORIZATION": issuer.auth_header(certificate=certificate)["Authorization"],
        **certificate.wsgi_environ(),
    }

    sent = wsgi_request(environ, verifier.config.certificate_source)

    assert verifier.verify_request(sent).confirmation == {"x5t#S256": certificate.thumbprint}


def test_a_token_bound_both_ways_takes_both_headers(issuer: FakeIssuer):
    verifier = verifier_reading(issuer, "header:Client-Cert")
    key, certificate = issuer.dpop_key(), issuer.client_certificate()

    headers = issuer.auth_header(
        dpop=("GET", URL), dpop_key=key, certificate=certificate,
        client_certificate="header:Client-Cert",
    )  # fmt: skip

    assert list(headers) == ["Authorization", "DPoP", "Client-Cert"]
    token = verifier.verify_request(as_an_adapter_builds_it(verifier, headers))
    assert token.confirmation == {"jkt": key.jkt, "x5t#S256": certificate.thumbprint}


def test_a_certificate_of_ones_own_may_be_given_as_der(issuer: FakeIssuer):
    der = issuer.client_certificate().der

    token = issuer.token(certificate=der)

    verifier = verifier_reading(issuer, "tls")
    sent = HttpRequest("GET", URL, {"Authorization": f"Bearer {token}"}, client_certificate=der)
    assert verifier.verify_request(sent).subject == "auth0|test-user"


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"certificate": b"not a certificate"}, "no certificate"),
        ({"certificate": "a.pem"}, "ClientCertificate"),
        ({"certificate": None, "cnf": {"x5t#S256": "x"}}, None),
    ],
    ids=["garbage-bytes", "a-path", "raw-cnf-alone-is-fine"],
)
def test_what_certificate_takes(issuer: FakeIssuer, arguments: dict[str, Any], says: str | None):
    if says is None:
        assert issuer.token(**arguments)
        return
    with pytest.raises(TypeError, match=says):
        issuer.token(**arguments)


def test_a_certificate_and_a_raw_cnf_are_not_both_taken(issuer: FakeIssuer):
    with pytest.raises(TypeError, match="not both"):
        issuer.token(certificate=issuer.client_certificate(), cnf={"kid": "x"})


def test_the_field_needs_a_client_certificate_object(issuer: FakeIssuer):
    with pytest.raises(TypeError, match="ClientCertificate"):
        issuer.auth_header(certificate=b"der", client_certificate="header:Client-Cert")
    with pytest.raises(ConfigurationError, match="client_certificate"):
        issuer.auth_header(client_certificate="header:X-Client-Cert")


# --- the certificate_headers fixture -----------------------------------------------------------


@pytest.fixture
def project(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    pytester.makeini(INI)
    with no_settings_in_the_environment():  # the run sees no BEARERGUARD_* of this process
        yield pytester


def test_the_certificate_headers_fixture_gives_a_bound_token_and_the_proxys_field(
    project: pytest.Pytester,
):
    project.makepyfile(
        """
        import pytest
        from bearerguard import InvalidTokenError, Verifier
        from bearerguard._request import wsgi_request

        def request_of(verifier, headers):
            environ = {"HTTP_HOST": "api.example.com"}
            environ.update(
                ("HTTP_" + name.upper().replace("-", "_"), value)
                for name, value in headers.items()
            )
            return wsgi_request(environ, verifier.config.certificate_source)

        def verifier_of(fake, source):
            return Verifier(issuer=fake.issuer, audience=fake.audience, client_certificate=source)

        @pytest.mark.parametrize(
            "source",
            ["header:Client-Cert", "header:X-Forwarded-Client-Cert", "header:X-SSL-Client-Cert"],
        )
        def test_certificate_headers(fake_issuer, certificate_headers, source):
            headers = certificate_headers(source, scopes=["read:contacts"], sub="auth0|42")
            token = verifier_of(fake_issuer, source).verify_request(request_of(
                verifier_of(fake_issuer, source), headers
            ))
            assert token.subject == "auth0|42"
            assert set(token.confirmation) == {"x5t#S256"}

        def test_another_certificate(fake_issuer, certificate_headers):
            mine = fake_issuer.client_certificate()
            headers = {
                **certificate_headers("header:Client-Cert"),
                **mine.headers("header:Client-Cert"),
            }
            verifier = verifier_of(fake_issuer, "header:Client-Cert")
            with pytest.raises(InvalidTokenError):
                verifier.verify_request(request_of(verifier, headers))
        """
    )
    project.runpytest(*plugin_args()).assert_outcomes(passed=4)
