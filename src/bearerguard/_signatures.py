"""Signature primitives for the JWS algorithms (RFC 7518 §3), straight on ``cryptography``.

Each primitive is bound to one algorithm: its hash, padding and (through the key
import in ``_keys``) its key type and curve. The verifier builds its own table
from the allow-list, so an algorithm that is not allowed has no primitive at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["SignaturePrimitive", "signature_primitives"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


@dataclass(frozen=True, slots=True)
class SignaturePrimitive:
    """Verifies signatures of one JWS algorithm."""

    name: str

    def verify(self, signing_input: bytes, key: Any, signature: bytes) -> bool:
        """``True`` only if ``signature`` is valid for ``signing_input`` under ``key``."""
        family, bits = self.name[:2], self.name[2:5]
        try:
            if family == "RS" and isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, signing_input, padding.PKCS1v15(), _HASHES[bits]())
            elif family == "PS" and isinstance(key, rsa.RSAPublicKey):
                digest = _HASHES[bits]()
                # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
                pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
                key.verify(signature, signing_input, pss, digest)
            elif family == "ES" and isinstance(key, ec.EllipticCurvePublicKey):
                # JWS carries R || S (RFC 7518 §3.4); cryptography wants DER.
                half = len(signature) // 2
                if not half or len(signature) % 2:
                    return False
                der = encode_dss_signature(
                    int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
                )
                key.verify(der, signing_input, ec.ECDSA(_HASHES[bits]()))
            elif self.name == "EdDSA" and isinstance(
                key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
            ):
                key.verify(signature, signing_input)
            elif family == "HS" and isinstance(key, bytes):
                expected = hmac.new(key, signing_input, getattr(hashlib, "sha" + bits)).digest()
                return hmac.compare_digest(expected, signature)
            else:
                return False  # the key's type does not fit the algorithm
        except InvalidSignature:
            return False
        return True


def signature_primitives(names: Iterable[str]) -> dict[str, SignaturePrimitive]:
    """The primitives for the allowed algorithm names (never ``none``)."""
    return {name: SignaturePrimitive(name) for name in names if name.lower() != "none"}
