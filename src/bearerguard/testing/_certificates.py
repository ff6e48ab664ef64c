"""Client certificates for tests (RFC 8705): a client's certificate and key, made on the spot.

:class:`ClientCertificate` is what an mTLS client holds: a key pair and a
self-signed certificate for it (RFC 8705 §2.2's ``self_signed_tls_client_auth``).
A token bound to it names its thumbprint (``cnf["x5t#S256"]``); the API sees the
certificate where its verifier's ``client_certificate`` setting says: a header a
proxy sets (:meth:`ClientCertificate.headers`), or the server's own TLS layer
(:meth:`ClientCertificate.tls_extension`, :meth:`ClientCertificate.wsgi_environ`).
:class:`~bearerguard.testing.FakeIssuer` is the front door.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from bearerguard._certificates import certificate_thumbprint, check_client_certificate
from bearerguard._errors import ConfigurationError

__all__ = [
    "CertificateAndKey",
    "ClientCertificate",
    "certificate_builder",
    "client_cert_field",
    "escaped_pem",
]

_DAY = datetime.timedelta(days=1)


def certificate_builder(
    subject: x509.Name, issuer: x509.Name, key: CertificateIssuerPrivateKeyTypes, *, days: int
) -> x509.CertificateBuilder:
    """What every certificate made here starts from: ``key``'s, of ``subject`` and signed by
    ``issuer``, with a random serial number, valid from a day ago for ``days`` days (a
    day of slack for a clock behind).

    Example::

        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")])
        certificate = certificate_builder(name, name, key, days=30).sign(key, hashes.SHA256())
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + days * _DAY)
    )


def client_cert_field(der: bytes) -> str:
    """RFC 9440 ``Client-Cert``: the DER as a Structured Field Byte Sequence.

    Example::

        client_cert_field(certificate.der)   # ':MIIB...:'
    """
    return ":" + base64.b64encode(der).decode("ascii") + ":"


def escaped_pem(pem: str) -> str:
    """nginx's ``$ssl_client_escaped_cert`` (and XFCC's ``Cert``): the PEM, URL-encoded.

    Example::

        escaped_pem(certificate.pem)   # '-----BEGIN%20CERTIFICATE-----%0AMIIB...'
    """
    return quote(pem, safe="")


class CertificateAndKey:
    """A certificate and its private key, in the encodings a TLS client, a TLS server and a
    proxy's header field take. :class:`ClientCertificate` is one; so is a certificate a
    test's own CA signs.

    Example::

        pair = CertificateAndKey(certificate, key)
        pair.thumbprint      # cnf["x5t#S256"] of a token bound to it
    """

    __slots__ = ("_certificate", "_key")

    def __init__(
        self, certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes
    ) -> None:
        self._certificate = certificate
        self._key = key

    @property
    def der(self) -> bytes:
        """The certificate's DER: what the thumbprint is computed over."""
        return self._certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        """The certificate as PEM text."""
        return self._certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def private_key_pem(self) -> str:
        """The private key as unencrypted PKCS#8 PEM: for a TLS client (tests only)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    @property
    def thumbprint(self) -> str:
        """The RFC 8705 §3.1 thumbprint (base64url SHA-256 of the DER): ``cnf["x5t#S256"]``."""
        return certificate_thumbprint(self.der)

    def _write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """``<stem>.crt`` and ``<stem>.key`` in ``folder``, the key readable by its owner only."""
        certificate_file = folder / f"{stem}.crt"
        key_file = folder / f"{stem}.key"
        certificate_file.write_text(self.pem)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as key:
            os.chmod(key_file, 0o600)  # an older file keeps its mode otherwise
            key.write(self.private_key_pem)
        return certificate_file, key_file


class ClientCertificate(CertificateAndKey):
    """A TLS client's certificate and private key: self-signed, ECDSA P-256, made now.

    Valid from a day ago for ``days`` days (what a TLS server checks; a verifier checks
    only the thumbprint, RFC 8705 §3). ``name`` is its subject's common name.

    Made by :meth:`FakeIssuer.client_certificate()
    <bearerguard.testing.FakeIssuer.client_certificate>`.

    Example::

        certificate = issuer.client_certificate()
        certificate.thumbprint            # what a token bound to it names in cnf["x5t#S256"]
        certificate.headers("header:Client-Cert")   # {'Client-Cert': ':MIIB...:'}
        token = issuer.token(certificate=certificate)
    """

    __slots__ = ("name",)

    def __init__(self, name: str = "bearerguard test client", *, days: int = 30) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ConfigurationError(
                f"name must be a common name of 1 to 64 characters, got {name!r}."
            )
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ConfigurationError(
                f"days must be a whole number of days of 1 or more, got {days!r}."
            )
        self.name = name
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            certificate_builder(subject, subject, key, days=days)  # self-signed: its own issuer
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        super().__init__(certificate, key)

    def headers(self, client_certificate: str) -> dict[str, str]:
        """The header field a proxy sets for this certificate, as the verifier's
        ``client_certificate`` setting names it:

        * ``"header:Client-Cert"``: RFC 9440, ``:<base64 of the DER>:``;
        * ``"header:X-Forwarded-Client-Cert"``: Envoy's XFCC, ``Hash=...;Cert="<URL-encoded
          PEM>"`` (one element, as ``SANITIZE_SET`` writes it);
        * ``"header:X-SSL-Client-Cert"``: nginx's ``$ssl_client_escaped_cert``, the PEM
          URL-encoded.

        ``"tls"`` is no header: see :meth:`tls_extension` and :meth:`wsgi_environ`.

        Example::

            client.get("/api/contacts", headers={
                **issuer.auth_header(certificate=certificate),
                **certificate.headers("header:X-SSL-Client-Cert"),
            })
        """
        source = check_client_certificate(client_certificate)
        if source is None or source == "tls":
            raise ConfigurationError(
                "client_certificate='tls' is no header: the server reports the certificate "
                "itself. Put certificate.tls_extension() in an ASGI scope's "
                "extensions['tls'], or certificate.wsgi_environ() in a WSGI environ."
            )
        name = source.partition(":")[2]
        if name == "Client-Cert":
            return {name: client_cert_field(self.der)}
        escaped = escaped_pem(self.pem)
        if name == "X-Forwarded-Client-Cert":
            digest = hashlib.sha256(self.der).hexdigest()
            return {name: f'Hash={digest};Cert="{escaped}"'}
        return {name: escaped}

    def tls_extension(self) -> dict[str, Any]:
        """What an ASGI server with TLS puts in ``scope["extensions"]["tls"]`` for a client
        that presented this certificate (the ASGI TLS extension).

        Example::

            scope["extensions"] = {"tls": certificate.tls_extension()}
        """
        return {
            "server_cert": None,
            "client_cert_chain": [self.pem],
            "client_cert_name": self._certificate.subject.rfc4514_string(),
            "client_cert_error": None,
            "tls_version": 0x0304,  # TLS 1.3
            "cipher_suite": 0x1301,  # TLS_AES_128_GCM_SHA256
        }

    def wsgi_environ(self) -> dict[str, str]:
        """What a WSGI server with TLS puts in the environ for this certificate
        (``SSL_CLIENT_CERT``, as Apache's mod_ssl exports it)."""
        return {"SSL_CLIENT_CERT": self.pem}

    def write(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write the certificate and its key as PEM files in ``directory``; their paths, as a
        TLS client takes them (``context.load_cert_chain(*certificate.write(tmp_path))``).
        The key file is readable by its owner only."""
        stem = "".join(c if c.isalnum() else "-" for c in self.name)
        return self._write(Path(directory), stem)

    def __repr__(self) -> str:
        # Never the key: a repr ends up in logs and assertion messages.
        return f"ClientCertificate(name={self.name!r}, thumbprint={self.thumbprint!r})"
