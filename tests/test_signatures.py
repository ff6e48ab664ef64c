"""Signature primitives: one check per JWS algorithm, ``True`` only for a valid signature.

RS256/384/512 are checked by recovering the encoded message and comparing it whole with
the expected one (RFC 8017 §8.2.2). These tests hold that check to what ``cryptography``'s
own ``verify`` accepts, with hand-built encoded messages that differ from the right one in
a single way each. EdDSA goes by three names: RFC 8037's "EdDSA" for either curve and
RFC 9864's "Ed25519" and "Ed448" for one each. The Wycheproof vectors
(``test_wycheproof.py``) add the published corner cases for RS256, PS256, ES256 and
EdDSA/Ed25519.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed448, padding, rsa

from bearerguard._signatures import SignaturePrimitive, signature_primitives

from .support import ec_key, ed_key, rsa_key, sign_input

_SIGNING_INPUT = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxMjMifQ"
_HASHES = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
# RFC 8017 §9.2, note 1, written out here rather than imported: the test's own copy.
_DIGEST_INFO = {
    "RS256": "3031300d060960864801650304020105000420",
    "RS384": "3041300d060960864801650304020205000430",
    "RS512": "3051300d060960864801650304020305000440",
}
# The same DigestInfo without the NULL parameters (05 00): RFC 8017 never encodes it.
_DIGEST_INFO_WITHOUT_NULL = {
    "RS256": "302f300b0609608648016503040201" + "0420",
    "RS384": "303f300b0609608648016503040202" + "0430",
    "RS512": "304f300b0609608648016503040203" + "0440",
}


def _raw_sign(key: rsa.RSAPrivateKey, encoded: bytes) -> bytes:
    """RSA's private operation on an encoded message of our making: any padding at all."""
    numbers = key.private_numbers()
    size = key.key_size // 8
    assert len(encoded) == size
    value = pow(int.from_bytes(encoded, "big"), numbers.d, numbers.public_numbers.n)
    return value.to_bytes(size, "big")


def _encoded(
    alg: str,
    key: rsa.RSAPrivateKey,
    *,
    info: str | None = None,
    filler: int = 0xFF,
    separator: bytes = b"\x00",
    head: bytes = b"\x00\x01",
    extra: bytes = b"",
    message: bytes = _SIGNING_INPUT,
) -> bytes:
    """EMSA-PKCS1-v1_5 (RFC 8017 §9.2), with any one part replaced."""
    digest = hashlib.new(_HASHES[alg].name, message).digest()
    tail = bytes.fromhex(info if info is not None else _DIGEST_INFO[alg]) + digest + extra
    size = key.key_size // 8
    return (
        head + bytes([filler]) * (size - len(head) - len(separator) - len(tail)) + separator + tail
    )


def _cryptography_accepts(alg: str, key: rsa.RSAPrivateKey, signature: bytes) -> bool:
    try:
        key.public_key().verify(signature, _SIGNING_INPUT, padding.PKCS1v15(), _HASHES[alg])
    except InvalidSignature:
        return False
    return True


class TestRsaPkcs1:
    @pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
    def test_a_signature_of_the_key_over_the_input_is_valid(self, alg):
        signature = sign_input(alg, rsa_key(0), _SIGNING_INPUT)
        assert SignaturePrimitive(alg).verify(_SIGNING_INPUT, rsa_key(0).public_key(), signature)

    @pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
    def test_the_hand_built_encoding_is_the_one_cryptography_signs(self, alg):
        # The yardstick of the cases below: the right encoding, privately "signed" by hand.
        signature = _raw_sign(rsa_key(0), _encoded(alg, rsa_key(0)))
        assert signature == sign_input(alg, rsa_key(0), _SIGNING_INPUT)
        assert SignaturePrimitive(alg).verify(_SIGNING_INPUT, rsa_key(0).public_key(), signature)

    @pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
    @pytest.mark.parametrize(
        ("case", "changes"),
        [
            ("DigestInfo without its NULL parameters", {"info": "without null"}),
            ("another hash's DigestInfo", {"info": "another"}),
            ("a byte after the hash", {"extra": b"\x00"}),
            ("a padding byte that is not FF", {"filler": 0xFE}),
            ("block type 2 (encryption padding)", {"head": b"\x00\x02"}),
            ("no leading zero byte", {"head": b"\x01\x01"}),
            ("a separator that is not zero", {"separator": b"\x01"}),
            ("the hash of another input", {"message": _SIGNING_INPUT + b"x"}),
        ],
    )
    def test_an_encoding_that_differs_in_one_part_is_invalid(self, alg, case, changes):
        if changes.get("info") == "without null":
            changes = {**changes, "info": _DIGEST_INFO_WITHOUT_NULL[alg]}
        elif changes.get("info") == "another":
            changes = {**changes, "info": _DIGEST_INFO["RS512" if alg != "RS512" else "RS256"]}
        signature = _raw_sign(rsa_key(0), _encoded(alg, rsa_key(0), **changes))
        assert not _cryptography_accepts(alg, rsa_key(0), signature), case
        assert not SignaturePrimitive(alg).verify(
            _SIGNING_INPUT, rsa_key(0).public_key(), signature
        )

    @pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
    def test_a_signature_made_with_another_hash_is_invalid(self, alg):
        other = "RS384" if alg == "RS256" else "RS256"
        signature = sign_input(other, rsa_key(0), _SIGNING_INPUT)
        assert not SignaturePrimitive(alg).verify(
            _SIGNING_INPUT, rsa_key(0).public_key(), signature
        )

    def test_a_signature_of_another_key_is_invalid(self):
        signature = sign_input("RS256", rsa_key(1), _SIGNING_INPUT)
        assert not SignaturePrimitive("RS256").verify(
            _SIGNING_INPUT, rsa_key(0).public_key(), signature
        )

    @pytest.mark.parametrize(
        "signature",
        [b"", b"\x00" * 255, b"\x00" * 256, b"\xff" * 256, b"\x00" * 257],
        ids=["empty", "short", "zero", "above the modulus", "long"],
    )
    def test_garbage_is_invalid_not_an_exception(self, signature):
        assert not SignaturePrimitive("RS256").verify(
            _SIGNING_INPUT, rsa_key(0).public_key(), signature
        )

    def test_the_modulus_itself_is_invalid(self):
        modulus = rsa_key(0).public_key().public_numbers().n
        signature = modulus.to_bytes(256, "big")
        assert not SignaturePrimitive("RS256").verify(
            _SIGNING_INPUT, rsa_key(0).public_key(), signature
        )

    def test_it_agrees_with_cryptography_on_every_single_bit_flip_of_a_signature(self):
        signature = bytearray(sign_input("RS256", rsa_key(0), _SIGNING_INPUT))
        primitive = SignaturePrimitive("RS256")
        for bit in range(0, len(signature) * 8, 7):
            flipped = bytearray(signature)
            flipped[bit // 8] ^= 1 << (bit % 8)
            verdict = primitive.verify(_SIGNING_INPUT, rsa_key(0).public_key(), bytes(flipped))
            assert verdict is _cryptography_accepts("RS256", rsa_key(0), bytes(flipped)) is False

    @pytest.mark.parametrize("bits", [3072, 4096])
    def test_larger_keys_verify_too(self, bits):
        key = rsa_key(0, bits)
        signature = sign_input("RS256", key, _SIGNING_INPUT)
        assert SignaturePrimitive("RS256").verify(_SIGNING_INPUT, key.public_key(), signature)
        assert not SignaturePrimitive("RS256").verify(
            _SIGNING_INPUT + b"x", key.public_key(), signature
        )


class TestEveryAlgorithm:
    @pytest.mark.parametrize(
        ("alg", "key"),
        [
            ("RS256", rsa_key(0)),
            ("PS256", rsa_key(0)),
            ("PS512", rsa_key(0)),
            ("ES256", ec_key("P-256")),
            ("ES384", ec_key("P-384")),
            ("EdDSA", ed_key(0)),
        ],
    )
    def test_valid_over_the_input_and_invalid_over_any_other(self, alg, key):
        primitive = SignaturePrimitive(alg)
        signature = sign_input(alg, key, _SIGNING_INPUT)
        assert primitive.verify(_SIGNING_INPUT, key.public_key(), signature) is True
        assert primitive.verify(_SIGNING_INPUT + b".", key.public_key(), signature) is False

    @pytest.mark.parametrize(
        ("alg", "wrong_key"),
        [
            ("RS256", ec_key("P-256").public_key()),
            ("PS256", ed_key(0).public_key()),
            ("ES256", rsa_key(0).public_key()),
            ("EdDSA", rsa_key(0).public_key()),
            ("Ed25519", rsa_key(0).public_key()),
            ("Ed25519", ec_key("P-256").public_key()),
            ("Ed448", rsa_key(0).public_key()),
            ("Ed448", ec_key("P-256").public_key()),
            ("HS256", rsa_key(0).public_key()),
            ("RS256", b"a shared secret of thirty-two by"),
        ],
    )
    def test_a_key_of_another_type_is_refused_not_an_exception(self, alg, wrong_key):
        assert SignaturePrimitive(alg).verify(_SIGNING_INPUT, wrong_key, os.urandom(64)) is False

    def test_hmac_compares_with_the_shared_secret(self):
        secret = b"a shared secret of thirty-two by"
        signature = sign_input("HS256", secret, _SIGNING_INPUT)
        assert SignaturePrimitive("HS256").verify(_SIGNING_INPUT, secret, signature) is True
        assert SignaturePrimitive("HS256").verify(_SIGNING_INPUT, secret[:-1], signature) is False

    def test_none_has_no_primitive_and_unknown_names_never_verify(self):
        assert set(signature_primitives(["RS256", "none", "NONE"])) == {"RS256"}
        assert SignaturePrimitive("XX256").verify(_SIGNING_INPUT, b"key", b"sig") is False


# --- EdDSA by its three names -------------------------------------------------------------------


@functools.cache
def _ed448_key() -> ed448.Ed448PrivateKey:
    return ed448.Ed448PrivateKey.generate()


_ED_KEYS: dict[str, Callable[[], Any]] = {"Ed25519": lambda: ed_key(0), "Ed448": _ed448_key}
_SIGNATURE_SIZES = {"Ed25519": 64, "Ed448": 114}


class TestEdDSA:
    @pytest.mark.parametrize(
        ("alg", "curve", "verifies"),
        [
            ("EdDSA", "Ed25519", True),
            ("EdDSA", "Ed448", True),
            ("Ed25519", "Ed25519", True),
            ("Ed25519", "Ed448", False),
            ("Ed448", "Ed448", True),
            ("Ed448", "Ed25519", False),
        ],
    )
    def test_each_name_verifies_with_a_key_of_its_curve_only(self, alg, curve, verifies):
        key = _ED_KEYS[curve]()
        signature = key.sign(_SIGNING_INPUT)
        assert len(signature) == _SIGNATURE_SIZES[curve]
        primitive = SignaturePrimitive(alg)
        assert primitive.verify(_SIGNING_INPUT, key.public_key(), signature) is verifies
        assert primitive.verify(_SIGNING_INPUT + b".", key.public_key(), signature) is False

    @pytest.mark.parametrize(
        ("alg", "length"),
        [
            ("Ed25519", 0),
            ("Ed25519", 63),
            ("Ed25519", 65),
            ("Ed25519", 114),
            ("Ed448", 0),
            ("Ed448", 64),
            ("Ed448", 113),
            ("Ed448", 115),
        ],
    )
    def test_a_signature_of_another_length_is_refused_not_an_exception(self, alg, length):
        key = _ED_KEYS[alg]()
        signature = key.sign(_SIGNING_INPUT)
        wrong = (signature * 2)[:length]  # the right bytes, cut short or run on
        for name in (alg, "EdDSA"):
            assert SignaturePrimitive(name).verify(_SIGNING_INPUT, key.public_key(), wrong) is False

    def test_the_table_has_one_primitive_per_name_each_of_its_own_curve(self):
        primitives = signature_primitives(["EdDSA", "Ed25519", "Ed448", "RS256"])
        assert set(primitives) == {"EdDSA", "Ed25519", "Ed448", "RS256"}
        for name, primitive in primitives.items():
            assert primitive.name == name
        ed25519_public, ed448_public = ed_key(0).public_key(), _ed448_key().public_key()
        ed25519_signature = ed_key(0).sign(_SIGNING_INPUT)
        ed448_signature = _ed448_key().sign(_SIGNING_INPUT)
        assert primitives["Ed25519"].verify(_SIGNING_INPUT, ed25519_public, ed25519_signature)
        assert primitives["Ed448"].verify(_SIGNING_INPUT, ed448_public, ed448_signature)
        assert not primitives["RS256"].verify(_SIGNING_INPUT, ed25519_public, ed25519_signature)
