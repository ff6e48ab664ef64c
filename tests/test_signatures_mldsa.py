"""The ML-DSA primitives (RFC 9964): one per level, ``True`` only for a valid signature.

Each of ``ML-DSA-44``, ``ML-DSA-65`` and ``ML-DSA-87`` is one FIPS 204 parameter set, verified
with ``cryptography`` under the empty context, as JWS signs. A primitive refuses a key of
another level or type, and a signature of any other length, by answering ``False``: nothing
raises. The published vectors are in ``test_wycheproof_mldsa.py``.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa

from bearerguard import _signatures
from bearerguard._signatures import (
    MLDSA_SIZES,
    SignaturePrimitive,
    mldsa_public_key_class,
    signature_primitives,
)

from .support import ec_key, ed_key, rsa_key

LEVELS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
_SIGNING_INPUT = b"eyJhbGciOiJNTC1EU0EtNjUifQ.eyJzdWIiOiJhdXRoMHwxMjMifQ"
# FIPS 204 Table 2, written out here rather than imported: the test's own copy.
_SIZES = {"ML-DSA-44": (1312, 2420), "ML-DSA-65": (1952, 3309), "ML-DSA-87": (2592, 4627)}


@functools.cache
def _private_key(level: str, index: int) -> Any:
    return getattr(mldsa, f"MLDSA{level[-2:]}PrivateKey").generate()


def private_key(level: str, index: int = 0) -> Any:
    """The private key ``(level, index)``: the same key for the whole session."""
    return _private_key(level, index)


def public_key(level: str, index: int = 0) -> Any:
    return private_key(level, index).public_key()


def signed(level: str, data: bytes = _SIGNING_INPUT, context: bytes = b"") -> bytes:
    return private_key(level, 0).sign(data, context)


def test_the_sizes_are_fips_204_s():
    assert dict(MLDSA_SIZES) == _SIZES
    for level, (public, signature) in _SIZES.items():
        assert len(public_key(level).public_bytes_raw()) == public
        assert len(signed(level)) == signature


@pytest.mark.parametrize("level", LEVELS)
def test_a_signature_of_the_key_over_the_input_is_valid_and_over_any_other_invalid(level):
    primitive = SignaturePrimitive(level)
    signature = signed(level)
    assert primitive.verify(_SIGNING_INPUT, public_key(level), signature) is True
    assert primitive.verify(_SIGNING_INPUT + b".", public_key(level), signature) is False
    assert primitive.verify(_SIGNING_INPUT, public_key(level, 1), signature) is False


@pytest.mark.parametrize("level", LEVELS)
def test_jws_signs_with_the_empty_context(level):
    primitive = SignaturePrimitive(level)
    assert primitive.verify(_SIGNING_INPUT, public_key(level), signed(level, context=b""))
    for context in (b"\x00", b"jws", b"x" * 255):
        signature = signed(level, context=context)
        assert primitive.verify(_SIGNING_INPUT, public_key(level), signature) is False


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("other", LEVELS)
def test_a_key_of_another_level_is_refused_even_with_its_own_valid_signature(level, other):
    if other == level:
        return
    signature = signed(other)
    assert SignaturePrimitive(level).verify(_SIGNING_INPUT, public_key(other), signature) is False
    assert SignaturePrimitive(level).for_key(public_key(other))(_SIGNING_INPUT, signature) is False


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "wrong_key",
    [rsa_key(0).public_key(), ec_key("P-256").public_key(), ed_key(0).public_key(), b"secret"],
    ids=["rsa", "ec", "ed25519", "bytes"],
)
def test_a_key_of_another_type_is_refused_not_an_exception(level, wrong_key):
    signature = os.urandom(_SIZES[level][1])
    assert SignaturePrimitive(level).verify(_SIGNING_INPUT, wrong_key, signature) is False
    assert SignaturePrimitive(level).for_key(wrong_key)(_SIGNING_INPUT, signature) is False


@pytest.mark.parametrize("other", ["RS256", "PS256", "ES256", "EdDSA", "Ed25519", "HS256"])
def test_the_classical_primitives_refuse_an_ml_dsa_key(other):
    key = public_key("ML-DSA-65")
    assert SignaturePrimitive(other).verify(_SIGNING_INPUT, key, signed("ML-DSA-65")) is False


@pytest.mark.parametrize("level", LEVELS)
def test_a_signature_of_any_other_length_is_refused_not_an_exception(level):
    signature = signed(level)
    primitive = SignaturePrimitive(level)
    check = primitive.for_key(public_key(level))
    lengths = {0, 1, 64, len(signature) - 1, len(signature) + 1, *(s for _, s in _SIZES.values())}
    for length in sorted(lengths - {len(signature)}):
        candidate = (signature * 2)[:length]
        assert primitive.verify(_SIGNING_INPUT, public_key(level), candidate) is False, length
        assert check(_SIGNING_INPUT, candidate) is False, length


@pytest.mark.parametrize("level", LEVELS)
def test_every_single_bit_flip_of_a_signature_s_first_bytes_is_invalid(level):
    signature = bytearray(signed(level))
    check = SignaturePrimitive(level).for_key(public_key(level))
    for position in range(64 * 8):  # the commitment hash c~ and the start of z
        flipped = bytearray(signature)
        flipped[position // 8] ^= 1 << (position % 8)
        assert check(_SIGNING_INPUT, bytes(flipped)) is False, position
    # and the last bytes, which encode the hints
    for index in range(len(signature) - 90, len(signature)):
        flipped = bytearray(signature)
        flipped[index] ^= 0x01
        assert check(_SIGNING_INPUT, bytes(flipped)) is False, index


@pytest.mark.parametrize("level", LEVELS)
def test_the_check_for_a_key_is_the_primitive_s(level):
    check = SignaturePrimitive(level).for_key(public_key(level))
    assert check(_SIGNING_INPUT, signed(level)) is True
    assert check(_SIGNING_INPUT + b".", signed(level)) is False


def test_an_ml_dsa_primitive_exists_only_when_its_level_is_allowed():
    assert set(signature_primitives(["RS256"])) == {"RS256"}
    assert set(signature_primitives(["RS256", "ML-DSA-65"])) == {"RS256", "ML-DSA-65"}


def test_unknown_spellings_of_a_level_never_verify():
    signature = signed("ML-DSA-65")
    for name in ("ml-dsa-65", "MLDSA65", "ML-DSA-65 ", "ML-DSA-66", "Dilithium3", "HashML-DSA-65"):
        assert (
            SignaturePrimitive(name).verify(_SIGNING_INPUT, public_key("ML-DSA-65"), signature)
            is False
        )
        assert mldsa_public_key_class(name) is None


def test_without_ml_dsa_in_cryptography_the_primitive_verifies_nothing(monkeypatch):
    # A cryptography release (or backend) without ML-DSA: the level has no key class.
    monkeypatch.setattr(_signatures, "mldsa_public_key_class", lambda alg: None)
    primitive = SignaturePrimitive("ML-DSA-65")
    assert primitive.verify(_SIGNING_INPUT, public_key("ML-DSA-65"), signed("ML-DSA-65")) is False
    assert primitive.for_key(public_key("ML-DSA-65"))(_SIGNING_INPUT, signed("ML-DSA-65")) is False
