"""Certificates the tests make with ``cryptography``: a CA, the certificates it signs (a
server's, clients'), and the ways a proxy forwards a client certificate to the API.

Example::

    ca = Authority("test CA")
    server = ca.issue("127.0.0.1", server_ip="127.0.0.1")
    client = ca.issue("client")
    client_cert_field(client.der)       # ':MIIB...:'  (RFC 9440)
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bearerguard._certificates import certificate_thumbprint

_DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: Any

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    @property
    def thumbprint(self) -> str:
        return certificate_thumbprint(self.der)

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """``<stem>.crt`` and ``<stem>.key`` in ``folder``: what nginx and httpx read."""
        certificate, key = folder / f"{stem}.crt", folder / f"{stem}.key"
        certificate.write_text(self.pem)
        key.write_text(self.key_pem)
        key.chmod(0o600)
        return certificate, key


class Authority:
    """A certificate authority of the tests' own: self-signed, it signs what ``issue`` makes."""

    def __init__(self, name: str = "bearerguard test CA") -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
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
        now = datetime.datetime.now(datetime.timezone.utc)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_ip else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.issued.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server_ip:
            address = x509.IPAddress(ipaddress.ip_address(server_ip))
            builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
        return Issued(builder.sign(self.issued.key, hashes.SHA256()), key)


# --- how a proxy forwards a client certificate ----------------------------------------------


def client_cert_field(der: bytes) -> str:
    """RFC 9440 ``Client-Cert``: the DER as a Structured Field Byte Sequence."""
    return ":" + base64.b64encode(der).decode("ascii") + ":"


def escaped_pem(pem: str) -> str:
    """nginx's ``$ssl_client_escaped_cert``: the PEM, URL-encoded."""
    return quote(pem, safe="")


def xfcc_field(pem: str, der: bytes | None = None, *, by: str | None = None) -> str:
    """Envoy's ``X-Forwarded-Client-Cert`` element for one certificate, as SANITIZE_SET
    writes it: ``By`` (when given), ``Hash``, ``Cert`` (quoted, URL-encoded PEM)."""
    digest = hashlib.sha256(der).hexdigest() if der is not None else "0" * 64
    prefix = f"By={by};" if by else ""
    return f'{prefix}Hash={digest};Cert="{escaped_pem(pem)}"'
