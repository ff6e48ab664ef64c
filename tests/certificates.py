"""Certificates the tests make with ``cryptography``: a CA, the certificates it signs (a
server's, clients'), and the ways a proxy forwards a client certificate to the API.

They are made and encoded as :class:`bearerguard.testing.ClientCertificate` is (its
builder, its ``der``/``pem``/``thumbprint``), but signed by a CA: what nginx verifies.

Example::

    ca = Authority("test CA")
    server = ca.issue("127.0.0.1", server_ip="127.0.0.1")
    client = ca.issue("client")
    client_cert_field(client.der)       # ':MIIB...:'  (RFC 9440)
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bearerguard.testing._certificates import (
    CertificateAndKey,
    certificate_builder,
    client_cert_field,
    escaped_pem,
)

__all__ = ["DAYS", "Authority", "Issued", "client_cert_field", "escaped_pem", "xfcc_field"]

DAYS = 30  # how long every certificate made here is valid


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Issued(CertificateAndKey):
    """A certificate and its private key: ``der``, ``pem``, ``private_key_pem`` (also
    ``key_pem``) and ``thumbprint`` as a :class:`~bearerguard.testing.ClientCertificate`
    has them, the certificate and the key themselves besides."""

    __slots__ = ()

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def key(self) -> Any:
        return self._key

    key_pem = CertificateAndKey.private_key_pem

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """``<stem>.crt`` and ``<stem>.key`` in ``folder``: what nginx and httpx read."""
        return self._write(folder, stem)


class Authority:
    """A certificate authority of the tests' own: self-signed, it signs what ``issue`` makes."""

    def __init__(self, name: str = "bearerguard test CA") -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            certificate_builder(_name(name), _name(name), key, days=DAYS)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        self.issued = Issued(certificate, key)

    @property
    def pem(self) -> str:
        return self.issued.pem

    def issue(
        self,
        name: str,
        *,
        server_ip: str | None = None,
        rsa_bits: int | None = None,
        key: Any = None,
    ) -> Issued:
        """A certificate for ``name`` signed by this CA: a server's for ``server_ip`` (its
        subjectAltName), else a client's; for ``key`` (another certificate of the same
        key), else a new ECDSA P-256 key, or RSA with ``rsa_bits``."""
        if key is None:
            key = (
                rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
                if rsa_bits
                else ec.generate_private_key(ec.SECP256R1())
            )
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_ip else ExtendedKeyUsageOID.CLIENT_AUTH
        issuer = self.issued.certificate.subject
        builder = (
            certificate_builder(_name(name), issuer, key, days=DAYS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server_ip:
            address = x509.IPAddress(ipaddress.ip_address(server_ip))
            builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
        return Issued(builder.sign(self.issued.key, hashes.SHA256()), key)


# --- how a proxy forwards a client certificate ----------------------------------------------
# client_cert_field (RFC 9440) and escaped_pem (nginx) are ClientCertificate.headers()'s own;
# the XFCC element here also takes a By key, or a made-up Hash for a certificate without DER.


def xfcc_field(pem: str, der: bytes | None = None, *, by: str | None = None) -> str:
    """Envoy's ``X-Forwarded-Client-Cert`` element for one certificate, as SANITIZE_SET
    writes it: ``By`` (when given), ``Hash``, ``Cert`` (quoted, URL-encoded PEM)."""
    digest = hashlib.sha256(der).hexdigest() if der is not None else "0" * 64
    prefix = f"By={by};" if by else ""
    return f'{prefix}Hash={digest};Cert="{escaped_pem(pem)}"'
