"""Signature primitives for the JWS algorithms (RFC 7518 §3, RFC 8037, RFC 9864), straight on
``cryptography``.

Each primitive is bound to one algorithm: its hash, padding and (through the key
import in ``_keys``) its key type and curve. The verifier builds its own table
from the allow-list, so an algorithm that is not allowed has no primitive at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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

# RFC 8017 §9.2, note 1: the DER DigestInfo that precedes the hash in an EMSA-PKCS1-v1_5
# encoded message, by SHA-2 size (with the NULL parameters, the only form RFC 8017 encodes).
_DIGEST_INFO = {
    "256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "512": bytes.fromhex("3051300d060960864801650304020305000440"),
}

# A check returns True only for a valid signature: False when the key does not fit the
# algorithm or the signature is wrong. Each one catches InvalidSignature itself, so
# that verifying costs one Python call, not two.
_Check = Callable[[bytes, Any, bytes], bool]


def _rsa_types() -> Callable[[Any], bool]:
    """Whether a key is an RSA public key, remembering its concrete class once seen:
    an isinstance check against the ABC costs more than a set lookup per verification."""
    seen: set[type] = set()

    def is_rsa(key: Any) -> bool:
        if type(key) in seen:
            return True
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        seen.add(type(key))
        return True

    return is_rsa


def _rsa_pkcs1(bits: str) -> _Check:
    """RSASSA-PKCS1-v1_5 checked the way RFC 8017 §8.2.2 describes it: recover the encoded
    message from the signature, encode the expected one, compare the two whole.

    OpenSSL checks the padding as it recovers (``00 01 FF.. 00``, the signature below the
    modulus); comparing everything after it with the exact DigestInfo and hash fixes the
    padding's length too, so this accepts exactly what ``verify`` accepts, and measures
    about a microsecond cheaper (``benchmarks/steps.py``).
    """
    prefix, hash_new, pad = _DIGEST_INFO[bits], getattr(hashlib, "sha" + bits), padding.PKCS1v15()
    is_rsa = _rsa_types()

    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if not is_rsa(key):
            return False
        try:
            recovered = key.recover_data_from_signature(signature, pad, None)
        except InvalidSignature:
            return False
        # Public values on both sides; compare_digest all the same, as for any signature.
        return hmac.compare_digest(recovered, prefix + hash_new(signing_input).digest())

    return check


def _rsa_pss(digest: hashes.HashAlgorithm) -> _Check:
    # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
    pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    is_rsa = _rsa_types()

    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if not is_rsa(key):
            return False
        try:
            key.verify(signature, signing_input, pad, digest)
        except InvalidSignature:
            return False
        return True

    return check


def _ecdsa(digest: hashes.HashAlgorithm) -> _Check:
    curve_hash = ec.ECDSA(digest)

    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        # JWS carries R || S, each exactly as long as the curve's order (RFC 7518 §3.4);
        # cryptography wants DER. Any other length is not a signature of this key.
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        half = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * half:
            return False
        r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        try:
            key.verify(encode_dss_signature(r, s), signing_input, curve_hash)
        except InvalidSignature:
            return False
        return True

    return check


# EdDSA's key classes by JWS name. RFC 8037's "EdDSA" leaves the curve to the key (either
# one); RFC 9864's fully specified names pin it, so their primitive refuses a key of the
# other curve even if a caller hands it one (``_keys`` never pairs them).
_EdKeyClass = type[ed25519.Ed25519PublicKey] | type[ed448.Ed448PublicKey]
_EDDSA_KEYS: dict[str, tuple[_EdKeyClass, ...]] = {
    "EdDSA": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
    "Ed25519": (ed25519.Ed25519PublicKey,),
    "Ed448": (ed448.Ed448PublicKey,),
}


def _eddsa(key_types: tuple[_EdKeyClass, ...]) -> _Check:
    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        # No length check here: the verifier has compared the length with the key's (64
        # bytes for Ed25519, 114 for Ed448), and called on its own, ``verify`` refuses any
        # other length (test_signatures.py holds it to that).
        if not isinstance(key, key_types):
            return False
        try:
            key.verify(signature, signing_input)
        except InvalidSignature:
            return False
        return True

    return check


def _hmac(hash_name: str) -> _Check:
    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if not isinstance(key, bytes):
            return False
        expected = hmac.new(key, signing_input, hash_name).digest()
        return hmac.compare_digest(expected, signature)

    return check


def _never(signing_input: bytes, key: Any, signature: bytes) -> bool:
    return False


def _check_for(name: str) -> _Check:
    """Build the check of one algorithm once, so verifying decides nothing per call."""
    if name in _EDDSA_KEYS:
        return _eddsa(_EDDSA_KEYS[name])
    family, bits = name[:2], name[2:5]
    if bits not in _HASHES:
        return _never
    digest = _HASHES[bits]()
    if family == "RS":
        return _rsa_pkcs1(bits)
    if family == "PS":
        return _rsa_pss(digest)
    if family == "ES":
        return _ecdsa(digest)
    if family == "HS":
        return _hmac("sha" + bits)
    return _never


@dataclass(frozen=True, slots=True)
class SignaturePrimitive:
    """Verifies signatures of one JWS algorithm.

    Example::

        SignaturePrimitive("RS256").verify(signing_input, public_key, signature)   # True/False
    """

    name: str
    #: ``verify(signing_input, key, signature)``: ``True`` only if ``signature`` is valid
    #: for ``signing_input`` under ``key``. The check itself, not a method around it:
    #: one Python call per verification.
    verify: _Check = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verify", _check_for(self.name))


def signature_primitives(names: Iterable[str]) -> dict[str, SignaturePrimitive]:
    """The primitives for the allowed algorithm names (never ``none``)."""
    return {name: SignaturePrimitive(name) for name in names if name.lower() != "none"}
