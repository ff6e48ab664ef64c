"""Encrypted access tokens for the APIs that ask for them, as Auth0 encrypts them.

An API configured with an ``encryption_key`` (its RSA public key: PEM, a certificate,
a JWK, or the path of a file holding one) gets its access tokens as a compact JWE
(RFC 7516) of the signed JWT: ``RSA-OAEP-256`` wraps a fresh ``A256GCM`` content key,
the header says ``cty: "JWT"`` (a nested JWT, RFC 7519 §5.2) and carries the JWK's
``kid`` when it has one. Only the API, holding the private key, reads the claims;
a verifier opens them with ``decryption_keys=``.

The verifier's half is ``bearerguard._jwe``; the tests' ``encrypt_token`` encrypts
with every algorithm the verifier takes, this one with Auth0's alone, so that the dev
issuer does not depend on the testing package.

Example::

    key = encryption_key("keys/api-encryption.pub.pem")
    key.encrypt(signed_jwt)   # 'eyJhbGciOiJSU0EtT0FFUC0yNTYi...' (five segments)
"""

from __future__ import annotations

import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from cryptography.x509 import load_pem_x509_certificate

from bearerguard._jose import b64url_decode, b64url_encode
from bearerguard._jwe import oaep_padding

from ._checks import KeyProblem

__all__ = ["ALGORITHM", "CONTENT_ENCRYPTION", "EncryptionKey", "encryption_key"]

ALGORITHM, CONTENT_ENCRYPTION = "RSA-OAEP-256", "A256GCM"
_KEY = "encryption_key"
_MIN_BITS, _MAX_BITS = 2048, 8192
_MAX_FILE_BYTES = 1 << 16  # a PEM key or certificate, never more than a few kilobytes
_WHAT = (
    "the API's RSA public key: PEM text (a public key or a certificate), a JWK "
    '({"kty": "RSA", "n": ..., "e": ...}), or the path of a file holding one'
)


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """An API's public key, and the ``kid`` its tokens' JWE header names (if any).

    Compared and hashed by the key's DER encoding: two settings naming one key are equal.
    """

    public_key: rsa.RSAPublicKey = field(repr=False, compare=False)
    kid: str | None = None
    der: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        der = self.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        object.__setattr__(self, "der", der)

    def encrypt(self, token: str) -> str:
        """``token`` (a signed JWT) as a compact JWE only this key's owner can open."""
        header: dict[str, str] = {"alg": ALGORITHM, "enc": CONTENT_ENCRYPTION, "cty": "JWT"}
        if self.kid is not None:
            header["kid"] = self.kid
        header_b64 = b64url_encode(json.dumps(header, separators=(",", ":")).encode("ascii"))
        cek, iv = AESGCM.generate_key(bit_length=256), os.urandom(12)
        sealed = AESGCM(cek).encrypt(iv, token.encode("ascii"), header_b64.encode("ascii"))
        parts = (
            self.public_key.encrypt(cek, oaep_padding(ALGORITHM)),
            iv,
            sealed[:-16],
            sealed[-16:],
        )
        return ".".join((header_b64, *(b64url_encode(part) for part in parts)))


def encryption_key(value: object) -> EncryptionKey | None:
    """An API's ``encryption_key`` read and checked; ``None`` for ``None`` (no encryption).

    Raises :class:`KeyProblem` on ``encryption_key``, saying what to write.

    Example::

        encryption_key({"kty": "RSA", "kid": "api-2026", "n": "...", "e": "AQAB"})
    """
    if value is None or isinstance(value, EncryptionKey):
        return value
    if isinstance(value, rsa.RSAPublicKey):
        return EncryptionKey(_sized(value))
    if isinstance(value, rsa.RSAPrivateKey):
        raise _problem("is a private key")
    if isinstance(value, Mapping):
        return _from_jwk(value)
    if isinstance(value, os.PathLike):
        return _from_text(_read(Path(value)))
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise KeyProblem(_KEY, f"is empty: write {_WHAT}, or leave it out.")
        # PEM or JSON text as given; anything else names a file.
        pasted = "-----BEGIN" in text or text.startswith("{")
        return _from_text(text if pasted else _read(Path(text)))
    raise KeyProblem(_KEY, f"must be {_WHAT}; got a value of type {type(value).__name__}.")


def _problem(what: str) -> KeyProblem:
    return KeyProblem(
        _KEY,
        f"{what}: the issuer encrypts to the API's public key, and only the API holds the "
        "private one. Write the public key (openssl pkey -in api.pem -pubout) or a JWK "
        "without 'd'.",
    )


def _read(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise KeyProblem(
            _KEY,
            f"names the file {str(path)[:200]!r}, which does not exist: write {_WHAT} "
            "(a relative path is read from the directory the dev issuer runs in).",
        ) from None
    except (OSError, ValueError) as exc:  # a directory, no permission, a NUL in the path
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise KeyProblem(
            _KEY, f"names the file {str(path)[:200]!r}, which cannot be read ({why})."
        ) from None
    if len(data) > _MAX_FILE_BYTES:
        raise KeyProblem(
            _KEY, f"names the file {str(path)[:200]!r}, too large for a key or certificate."
        )
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyProblem(
            _KEY, f"names the file {str(path)[:200]!r}, which is not PEM or JSON text."
        ) from None


def _from_text(text: str) -> EncryptionKey:
    if text.startswith("{"):
        try:
            return _from_jwk(json.loads(text))
        except json.JSONDecodeError:
            raise KeyProblem(_KEY, "holds JSON that does not parse: write a JWK.") from None
    if "PRIVATE KEY-----" in text:
        raise _problem("is a private key")
    try:
        if "-----BEGIN CERTIFICATE-----" in text:
            key: object = load_pem_x509_certificate(text.encode("ascii")).public_key()
        elif "-----BEGIN" in text:
            key = load_pem_public_key(text.encode("ascii"))
        else:
            raise KeyProblem(_KEY, f"is neither PEM nor JSON: write {_WHAT}.")
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise KeyProblem(_KEY, "is not a readable PEM public key or certificate.") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyProblem(
            _KEY,
            f"is a {type(key).__name__.removeprefix('_')}; tokens are encrypted with "
            f"{ALGORITHM}, as Auth0 does: give an RSA public key.",
        )
    return EncryptionKey(_sized(key))


def _from_jwk(jwk: object) -> EncryptionKey:
    if not isinstance(jwk, Mapping):
        raise KeyProblem(_KEY, f"must be a JWK (a JSON object); got {type(jwk).__name__}.")
    if jwk.get("kty") != "RSA":
        raise KeyProblem(
            _KEY,
            f"has kty {jwk.get('kty')!r}; tokens are encrypted with {ALGORITHM}, as Auth0 does: "
            'give an RSA key ("kty": "RSA").',
        )
    if "d" in jwk:
        raise _problem("is a private JWK (it has 'd')")
    for name, expected in (("use", "enc"), ("alg", ALGORITHM)):
        if jwk.get(name) not in (None, expected):
            raise KeyProblem(
                _KEY, f"has {name} {jwk.get(name)!r}: write {expected!r}, or leave {name} out."
            )
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not 0 < len(kid) <= 256):
        raise KeyProblem(_KEY, "has a kid that is not a short non-empty string.")
    n, e = (_member(jwk, name) for name in ("n", "e"))
    try:
        key = rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise KeyProblem(_KEY, "has n and e that do not form an RSA public key.") from None
    return EncryptionKey(_sized(key), kid)


def _member(jwk: Mapping[str, object], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyProblem(_KEY, f"has no {name!r} member: an RSA JWK has n and e.")
    try:
        return int.from_bytes(b64url_decode(value), "big")
    except (ValueError, binascii.Error):
        raise KeyProblem(_KEY, f"has a {name!r} member that is not base64url.") from None


def _sized(key: rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    if not _MIN_BITS <= key.key_size <= _MAX_BITS:
        raise KeyProblem(
            _KEY,
            f"is an RSA key of {key.key_size} bits; use 2048 to 8192 bits (RFC 7518 §4.3).",
        )
    return key
