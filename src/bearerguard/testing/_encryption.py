"""Encrypting a signed token to an API (JWE, RFC 7516), as a provider does.

The other half of ``bearerguard._jwe``, for tests: RSA-OAEP-256, ECDH-ES (direct or with
AES key wrap) and dir, with AES-GCM or AES-CBC + HMAC. ``header`` adds or overrides
protected header members (a replicated ``iss``, a hostile ``zip``, ...), written as given.

Example::

    encrypted = encrypt_token(issuer.token(), api_key.public_key(), kid="api-1")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from bearerguard._decryption_keys import CONTENT_KEY_SIZES, EC_CURVES, KEY_ALGORITHMS
from bearerguard._jose import b64url_decode, b64url_encode
from bearerguard._jwe import RSA_OAEP_ALGORITHMS, oaep_padding

__all__ = ["JWE_ALGORITHMS", "encrypt_token", "recipient_public_key"]

#: what :func:`encrypt_token` takes as ``alg``: the algorithms the verifier decrypts
JWE_ALGORITHMS = KEY_ALGORITHMS
_WRAP = {"ECDH-ES+A128KW": 16, "ECDH-ES+A192KW": 24, "ECDH-ES+A256KW": 32}
_CBC_HASHES = {"A128CBC-HS256": hashlib.sha256, "A192CBC-HS384": hashlib.sha384,
               "A256CBC-HS512": hashlib.sha512}  # fmt: skip
_CURVES = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48), "secp521r1": ("P-521", 66)}


def recipient_public_key(key: object) -> object:
    """The key a provider encrypts to, from what a test holds: a key object (a private key's
    public half), PEM text (public or private), a JWK (public or private; ``oct`` for dir)
    or the ``bytes`` of a dir key. Raises ``ValueError`` for anything else.

    Example::

        recipient_public_key(open("api-decryption.pem").read())   # its RSAPublicKey
    """
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return key.public_key()
    if isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, bytes)):
        return key
    if isinstance(key, str) and "-----BEGIN" in key:
        if "PRIVATE KEY" in key:
            return recipient_public_key(load_pem_private_key(key.encode(), password=None))
        return recipient_public_key(load_pem_public_key(key.encode()))
    if isinstance(key, Mapping):
        return _from_jwk(key)
    raise ValueError(
        "Encrypt to an RSA or EC key (an object, PEM text or a JWK) or the bytes of a dir key; "
        f"got a value of type {type(key).__name__}."
    )


def _from_jwk(jwk: Mapping[str, Any]) -> object:
    kty = jwk.get("kty")
    if kty == "oct":
        return b64url_decode(str(jwk.get("k", "")))
    if kty == "RSA":
        n, e = (int.from_bytes(b64url_decode(str(jwk.get(m, ""))), "big") for m in ("n", "e"))
        return rsa.RSAPublicNumbers(e, n).public_key()
    if kty == "EC" and jwk.get("crv") in EC_CURVES:
        curve, _ = EC_CURVES[str(jwk["crv"])]
        x, y = (int.from_bytes(b64url_decode(str(jwk.get(m, ""))), "big") for m in ("x", "y"))
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    raise ValueError(f"Encrypt to an RSA, EC (P-256/384/521) or oct JWK, not kty {kty!r}.")


def encrypt_token(
    payload: str,
    key: object,
    *,
    alg: str = "RSA-OAEP-256",
    enc: str = "A256GCM",
    kid: str | None = None,
    cty: str | None = "JWT",
    header: Mapping[str, Any] | None = None,
) -> str:
    """``payload`` (a signed JWT) encrypted to ``key``: its compact JWE serialization.

    ``key``: what :func:`recipient_public_key` takes: an RSA or EC key (object, PEM text or
    JWK; a private key's public half is used), or a dir key (``bytes`` or an ``oct`` JWK).
    Raises ``ValueError`` for an ``alg``, ``enc`` or key that do not go together.

    Example::

        encrypt_token(jws, api_rsa_key, alg="RSA-OAEP-256", enc="A256GCM", kid="api-1")
    """
    if alg not in JWE_ALGORITHMS or enc not in CONTENT_KEY_SIZES:
        raise ValueError(
            f"encrypt_token takes alg in {sorted(JWE_ALGORITHMS)} and enc in "
            f"{sorted(CONTENT_KEY_SIZES)}; got alg={alg!r}, enc={enc!r}."
        )
    key = recipient_public_key(key)
    size = CONTENT_KEY_SIZES[enc]
    protected: dict[str, Any] = {"alg": alg, "enc": enc}
    if kid is not None:
        protected["kid"] = kid
    if cty is not None:
        protected["cty"] = cty
    encrypted_key = b""
    if alg == "dir":
        if not isinstance(key, bytes) or len(key) != size:
            raise ValueError(f"dir with {enc} takes a key of {size} bytes.")
        cek = key
    elif alg in RSA_OAEP_ALGORITHMS:
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError(f"{alg} takes an RSA key.")
        cek = os.urandom(size)
        encrypted_key = key.encrypt(cek, oaep_padding(alg))
    else:
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
            raise ValueError(f"{alg} takes an EC key on P-256, P-384 or P-521.")
        crv, length = _CURVES[key.curve.name]
        ephemeral = ec.generate_private_key(key.curve)
        numbers = ephemeral.public_key().public_numbers()
        protected["epk"] = {
            "kty": "EC",
            "crv": crv,
            "x": b64url_encode(numbers.x.to_bytes(length, "big")),
            "y": b64url_encode(numbers.y.to_bytes(length, "big")),
        }
        wrap = _WRAP.get(alg)
        derived_size = size if wrap is None else wrap
        other_info = (
            _prefixed((enc if wrap is None else alg).encode())
            + _prefixed(b"")
            + _prefixed(b"")
            + struct.pack(">I", 8 * derived_size)
        )
        derived = ConcatKDFHash(hashes.SHA256(), derived_size, other_info).derive(
            ephemeral.exchange(ec.ECDH(), key)
        )
        if wrap is None:
            cek = derived
        else:
            cek = os.urandom(size)
            encrypted_key = aes_key_wrap(derived, cek)
    protected.update(header or {})
    header_b64 = b64url_encode(json.dumps(protected, separators=(",", ":")).encode())
    iv, ciphertext, tag = _encrypt_content(enc, cek, payload.encode(), header_b64.encode())
    return ".".join(
        (header_b64, b64url_encode(encrypted_key), b64url_encode(iv), b64url_encode(ciphertext),
         b64url_encode(tag))
    )  # fmt: skip


def _prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _encrypt_content(
    enc: str, cek: bytes, plaintext: bytes, aad: bytes
) -> tuple[bytes, bytes, bytes]:
    if enc.endswith("GCM"):
        iv = os.urandom(12)
        sealed = AESGCM(cek).encrypt(iv, plaintext, aad)
        return iv, sealed[:-16], sealed[-16:]
    half = len(cek) // 2
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(
        cek[:half], aad + iv + ciphertext + struct.pack(">Q", 8 * len(aad)), _CBC_HASHES[enc]
    )
    return iv, ciphertext, mac.digest()[:half]
