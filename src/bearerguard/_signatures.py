"""Signature primitives for the JWS algorithms (RFC 7518 §3, RFC 8037, RFC 9864, and RFC 9964's
ML-DSA), straight on ``cryptography``.

Each primitive is bound to one algorithm: its hash, padding, key type and (for ECDSA)
curve. The verifier builds its own table from the allow-list, so an algorithm that is
not allowed has no primitive at all. A primitive checks a signature under any key it is
handed (``verify``), or makes a check for one key (``for_key``) that decides once what
depends on the key alone: a DPoP proof header names its key, and a client sends proof
after proof with it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "MLDSA_SIZES",
    "KeyCheck",
    "SignaturePrimitive",
    "ecdsa_der",
    "mldsa_public_key_class",
    "signature_primitives",
]

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

# Each ECDSA algorithm is one curve (RFC 7518 §3.4, RFC 8812 §3.2): its name as
# ``cryptography`` spells it, and the bytes of R and of S in a JWS signature.
_EC_CURVES = {
    "ES256": ("secp256r1", 32),
    "ES384": ("secp384r1", 48),
    "ES512": ("secp521r1", 66),
    "ES256K": ("secp256k1", 32),
}

# The longest content a DER length of one byte describes (X.690 §8.1.3.4): an ECDSA
# signature up to P-384 fits, a P-521 one needs the long form.
_LONGEST_SHORT_LENGTH = 127

# A check returns True only for a valid signature: False when the key does not fit the
# algorithm or the signature is wrong. Each one catches InvalidSignature itself, so
# that verifying costs one Python call, not two.
_Check = Callable[[bytes, Any, bytes], bool]
#: ``check(signing_input, signature)``: a primitive's check for one key (``for_key``)
KeyCheck = Callable[[bytes, bytes], bool]


class _Family(NamedTuple):
    """An algorithm's two forms: the check under any key, and its maker of per-key checks."""

    check: _Check
    for_key: Callable[[Any], KeyCheck]


def _refuse_all(signing_input: bytes, signature: bytes) -> bool:
    """The per-key check of a key that does not fit the algorithm: nothing verifies."""
    return False


def _instances_of(*key_types: type) -> tuple[set[type], Callable[[Any], bool]]:
    """The concrete key classes seen so far, and the test that adds to them.

    An ``isinstance`` against the abstract classes costs some 0.3 µs; a set lookup of
    the concrete class (``type(key) in seen``, written inline by the checks) a tenth.
    """
    seen: set[type] = set()

    def fits(key: Any) -> bool:
        if not isinstance(key, key_types):
            return False
        seen.add(type(key))
        return True

    return seen, fits


def _rsa_pkcs1(bits: str) -> _Family:
    """RSASSA-PKCS1-v1_5 checked the way RFC 8017 §8.2.2 describes it: recover the encoded
    message from the signature, encode the expected one, compare the two whole.

    OpenSSL checks the padding as it recovers (``00 01 FF.. 00``, the signature below the
    modulus); comparing everything after it with the exact DigestInfo and hash fixes the
    padding's length too, so this accepts exactly what ``verify`` accepts, and measures
    about a microsecond cheaper (``benchmarks/steps.py``).
    """
    prefix, hash_new, pad = _DIGEST_INFO[bits], getattr(hashlib, "sha" + bits), padding.PKCS1v15()
    seen, is_rsa = _instances_of(rsa.RSAPublicKey)

    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if type(key) not in seen and not is_rsa(key):
            return False
        try:
            recovered = key.recover_data_from_signature(signature, pad, None)
        except InvalidSignature:
            return False
        # Public values on both sides; compare_digest all the same, as for any signature.
        return hmac.compare_digest(recovered, prefix + hash_new(signing_input).digest())

    def for_key(key: Any) -> KeyCheck:
        if not is_rsa(key):
            return _refuse_all
        recover = key.recover_data_from_signature

        def check_with_key(signing_input: bytes, signature: bytes) -> bool:
            try:
                recovered = recover(signature, pad, None)
            except InvalidSignature:
                return False
            return hmac.compare_digest(recovered, prefix + hash_new(signing_input).digest())

        return check_with_key

    return _Family(check, for_key)


def _verifying(key_types: tuple[type, ...], *options: Any, length: int = 0) -> _Family:
    """The checks of a family whose keys verify with ``key.verify(signature, signing_input,
    *options)``, which raises ``InvalidSignature`` for a wrong one: RSA-PSS, EdDSA, ML-DSA.
    A key of another type than ``key_types`` verifies nothing; with ``length``, neither
    does a signature of any other length.
    """
    seen, fits = _instances_of(*key_types)

    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if (length and len(signature) != length) or not (type(key) in seen or fits(key)):
            return False
        try:
            key.verify(signature, signing_input, *options)
        except InvalidSignature:
            return False
        return True

    def for_key(key: Any) -> KeyCheck:
        if not fits(key):
            return _refuse_all
        verify = key.verify

        def check_with_key(signing_input: bytes, signature: bytes) -> bool:
            if length and len(signature) != length:
                return False
            try:
                verify(signature, signing_input, *options)
            except InvalidSignature:
                return False
            return True

        return check_with_key

    return _Family(check, for_key)


def _rsa_pss(digest: hashes.HashAlgorithm) -> _Family:
    # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
    pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    return _verifying((rsa.RSAPublicKey,), pad, digest)


def ecdsa_der(size: int) -> Callable[[bytes], bytes]:
    """The converter of a JWS ECDSA signature, R || S of ``size`` bytes each (RFC 7518
    §3.4), to the DER ``Ecdsa-Sig-Value`` that ``cryptography`` verifies (RFC 3279
    §2.2.3): the very bytes ``encode_dss_signature`` makes of the two integers.

    A DER INTEGER is the shortest two's complement of its value: a half whose first
    byte is not zero is already as short as it gets, and takes a zero byte in front
    when its high bit is set. That leaves four layouts per size, whose framing bytes
    are built once here, so that the usual signature costs three concatenations
    instead of two integer conversions and an encoder. A half that starts with a zero
    byte (one signature in 128 on P-256) goes through ``encode_dss_signature``, as
    does every P-521 signature, whose DER needs a long-form length.

    Example::

        to_der = ecdsa_der(32)
        to_der(raw_signature)   # == encode_dss_signature(r, s)
    """

    def by_integers(signature: bytes) -> bytes:
        r, s = signature[:size], signature[size:]
        return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))

    if 2 * (size + 3) > _LONGEST_SHORT_LENGTH:
        return by_integers
    # By (R's high bit) + 2 * (S's high bit): the SEQUENCE and R's INTEGER up to R's
    # bytes; by S's high bit: S's INTEGER up to S's bytes.
    heads = tuple(
        bytes([0x30, 4 + 2 * size + r_high + s_high, 0x02, size + r_high]) + b"\x00" * r_high
        for s_high in (0, 1)
        for r_high in (0, 1)
    )
    middles = (bytes([0x02, size]), bytes([0x02, size + 1, 0x00]))

    def to_der(signature: bytes) -> bytes:
        r_first, s_first = signature[0], signature[size]
        if not (r_first and s_first):
            return by_integers(signature)
        s_high = s_first >> 7
        return (
            heads[(r_first >> 7) | (s_high << 1)]
            + signature[:size]
            + middles[s_high]
            + signature[size:]
        )

    return to_der


def _ecdsa(digest: hashes.HashAlgorithm, curve: str, size: int) -> _Family:
    # JWS carries R || S, each exactly as long as the curve's order (RFC 7518 §3.4);
    # cryptography wants DER. Any other length is not a signature of this algorithm,
    # and a key of another curve is not a key of this algorithm.
    curve_hash, to_der, length = ec.ECDSA(digest), ecdsa_der(size), 2 * size
    seen, is_ec = _instances_of(ec.EllipticCurvePublicKey)

    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if len(signature) != length or not (type(key) in seen or is_ec(key)):
            return False
        if key.curve.name != curve:
            return False
        try:
            key.verify(to_der(signature), signing_input, curve_hash)
        except InvalidSignature:
            return False
        return True

    def for_key(key: Any) -> KeyCheck:
        if not is_ec(key) or key.curve.name != curve:
            return _refuse_all
        verify = key.verify

        def check_with_key(signing_input: bytes, signature: bytes) -> bool:
            if len(signature) != length:
                return False
            try:
                verify(to_der(signature), signing_input, curve_hash)
            except InvalidSignature:
                return False
            return True

        return check_with_key

    return _Family(check, for_key)


# EdDSA's key classes by JWS name. RFC 8037's "EdDSA" leaves the curve to the key (either
# one); RFC 9864's fully specified names pin it, so their primitive refuses a key of the
# other curve even if a caller hands it one (``_keys`` never pairs them).
_EdKeyClass = type[ed25519.Ed25519PublicKey] | type[ed448.Ed448PublicKey]
_EDDSA_KEYS: dict[str, tuple[_EdKeyClass, ...]] = {
    "EdDSA": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
    "Ed25519": (ed25519.Ed25519PublicKey,),
    "Ed448": (ed448.Ed448PublicKey,),
}


def _eddsa(key_types: tuple[_EdKeyClass, ...]) -> _Family:
    # No length check here: the verifier has compared the length with the key's (64
    # bytes for Ed25519, 114 for Ed448), and called on its own, ``verify`` refuses any
    # other length (test_signatures.py holds it to that).
    return _verifying(key_types)


# ML-DSA (FIPS 204) under RFC 9964's JWS names: by level, the bytes of the public key ("pub" of
# an AKP JWK) and of a signature (FIPS 204 Table 2). Each name is one parameter set, and a key is
# of one level: nothing here is negotiated.
MLDSA_SIZES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"ML-DSA-44": (1312, 2420), "ML-DSA-65": (1952, 3309), "ML-DSA-87": (2592, 4627)}
)
# RFC 9964: JWS signs with the empty context string (ctx), as FIPS 204's ML-DSA.Sign allows.
_EMPTY_CONTEXT = b""


@functools.cache
def mldsa_public_key_class(alg: str) -> Any:
    """``cryptography``'s public-key class of ML-DSA level ``alg``, or ``None`` when the
    installed ``cryptography`` lacks it: older releases have no ML-DSA, and a build whose
    backend has none raises ``UnsupportedAlgorithm`` on first use. Decided once per level.

    Example::

        mldsa_public_key_class("ML-DSA-65")   # <class '...MLDSA65PublicKey'> (or None)
    """
    if alg not in MLDSA_SIZES:
        return None
    try:
        from cryptography.hazmat.primitives.asymmetric import mldsa  # noqa: PLC0415 - optional

        key_class = getattr(mldsa, "MLDSA" + alg[-2:] + "PublicKey")
        # Any 32 + 320k bytes decode (pkDecode has no invalid input): this only asks the backend.
        key_class.from_public_bytes(bytes(MLDSA_SIZES[alg][0]))
    except (ImportError, AttributeError, UnsupportedAlgorithm, ValueError):
        return None
    return key_class


def _mldsa(alg: str) -> _Family:
    # One level per name: a key of another level is not a key of this algorithm (their classes
    # differ). The length check costs nothing and keeps the primitive strict when called on its
    # own; cryptography refuses any other length too, as InvalidSignature.
    key_class = mldsa_public_key_class(alg)
    if key_class is None:
        return _NEVER
    return _verifying((key_class,), _EMPTY_CONTEXT, length=MLDSA_SIZES[alg][1])


def _hmac(hash_name: str) -> _Family:
    def check(signing_input: bytes, key: Any, signature: bytes) -> bool:
        if not isinstance(key, bytes):
            return False
        expected = hmac.new(key, signing_input, hash_name).digest()
        return hmac.compare_digest(expected, signature)

    def for_key(key: Any) -> KeyCheck:
        if not isinstance(key, bytes):
            return _refuse_all
        return lambda signing_input, signature: check(signing_input, key, signature)

    return _Family(check, for_key)


def _never(signing_input: bytes, key: Any, signature: bytes) -> bool:
    return False


_NEVER = _Family(_never, lambda key: _refuse_all)


def _family_of(name: str) -> _Family:
    """Build the checks of one algorithm once, so verifying decides nothing per call."""
    if name in _EDDSA_KEYS:
        return _eddsa(_EDDSA_KEYS[name])
    if name in MLDSA_SIZES:
        return _mldsa(name)
    family, bits = name[:2], name[2:5]
    if bits not in _HASHES:
        return _NEVER
    digest = _HASHES[bits]()
    if family == "RS" and name == "RS" + bits:
        return _rsa_pkcs1(bits)
    if family == "PS" and name == "PS" + bits:
        return _rsa_pss(digest)
    if name in _EC_CURVES:
        return _ecdsa(digest, *_EC_CURVES[name])
    if family == "HS" and name == "HS" + bits:
        return _hmac("sha" + bits)
    return _NEVER


@dataclass(frozen=True, slots=True)
class SignaturePrimitive:
    """Verifies signatures of one JWS algorithm.

    Example::

        primitive = SignaturePrimitive("ES256")
        primitive.verify(signing_input, public_key, signature)     # True/False
        check = primitive.for_key(public_key)   # decided once: the key fits (else never True)
        check(signing_input, signature)                             # True/False
    """

    name: str
    #: ``verify(signing_input, key, signature)``: ``True`` only if ``signature`` is valid
    #: for ``signing_input`` under ``key``. The check itself, not a method around it:
    #: one Python call per verification.
    verify: _Check = field(init=False, repr=False, compare=False)
    #: ``for_key(key)``: ``verify`` for that one key, as ``check(signing_input, signature)``,
    #: with what depends on the key alone (its type and curve, its bound method) decided
    #: at once; a key that does not fit the algorithm gets a check that is never ``True``.
    for_key: Callable[[Any], KeyCheck] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        family = _family_of(self.name)
        object.__setattr__(self, "verify", family.check)
        object.__setattr__(self, "for_key", family.for_key)


def signature_primitives(names: Iterable[str]) -> dict[str, SignaturePrimitive]:
    """The primitives for the allowed algorithm names (never ``none``)."""
    return {name: SignaturePrimitive(name) for name in names if name.lower() != "none"}
