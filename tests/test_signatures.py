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
from cryptography.hazmat.primitives.asymmetric import ec, ed448, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import load_der_public_key

from bearerguard._signatures import SignaturePrimitive, ecdsa_der, signature_primitives

from .support import ec_key, ed_key, rsa_key, sign_input
from .wycheproof import ECDSA_P256, ED25519, RSA_PKCS1, RSA_PSS, signature_vectors

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


# --- ECDSA: R || S to DER, and one curve per algorithm -------------------------------------------


def _by_integers(raw: bytes, size: int) -> bytes:
    """What the converter must give: ``cryptography``'s own encoder on the two integers."""
    return encode_dss_signature(
        int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
    )


# Each half's first bytes, chosen for every layout DER has: shortest as it is (01, 7f), a zero
# byte in front (80, ff), leading zero bytes to drop (00 01, 00 80, 00 00 ... 00 01), zero itself.
_HALF_STARTS = [b"\x01", b"\x7f", b"\x80", b"\xff", b"\x00\x01", b"\x00\x80", b"\x00\x7f"]


def _half(start: bytes, size: int, filler: int) -> bytes:
    return start + bytes([filler]) * (size - len(start))


class TestEcdsaDer:
    @pytest.mark.parametrize("size", [32, 48, 66])
    @pytest.mark.parametrize("r_start", _HALF_STARTS)
    @pytest.mark.parametrize("s_start", _HALF_STARTS)
    def test_every_layout_is_the_encoder_s_own(self, size, r_start, s_start):
        for filler in (0x00, 0x5A, 0xFF):
            raw = _half(r_start, size, filler) + _half(s_start, size, filler)
            assert ecdsa_der(size)(raw) == _by_integers(raw, size)

    @pytest.mark.parametrize("size", [32, 48, 66])
    @pytest.mark.parametrize(
        "raw",
        [
            lambda size: bytes(2 * size),  # r = s = 0
            lambda size: bytes(size) + b"\x01" * size,  # r = 0
            lambda size: b"\xff" * (2 * size),  # both as large as the bytes go
            lambda size: bytes(size - 1) + b"\x01" + bytes(size - 1) + b"\x80",  # one byte each
        ],
        ids=["zero", "r zero", "all ff", "one byte each"],
    )
    def test_the_edges_are_the_encoder_s_own(self, size, raw):
        signature = raw(size)
        assert ecdsa_der(size)(signature) == _by_integers(signature, size)

    def test_random_signatures_of_each_size_are_the_encoder_s_own(self):
        for size in (32, 48, 66):
            to_der = ecdsa_der(size)
            for _ in range(2000):
                raw = os.urandom(2 * size)
                assert to_der(raw) == _by_integers(raw, size)

    def test_every_wycheproof_p256_signature_of_the_right_length_is_the_encoder_s_own(self):
        checked = 0
        for vector in signature_vectors(ECDSA_P256):
            if len(vector.signature) == 64:
                assert ecdsa_der(32)(vector.signature) == _by_integers(vector.signature, 32)
                checked += 1
        assert checked > 200  # nearly every vector of the file: the rest have other lengths

    @pytest.mark.parametrize(
        ("alg", "curve"), [("ES256", "P-384"), ("ES384", "P-256"), ("ES512", "P-384")]
    )
    def test_a_key_of_another_curve_is_refused_even_with_its_own_valid_signature(self, alg, curve):
        # A real signature by that key, with this algorithm's hash: the primitive of another
        # curve's algorithm refuses it (RFC 7518 §3.4: each ES algorithm is one curve).
        key = ec_key(curve)
        digest = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512()}
        r, s = decode_dss_signature(key.sign(_SIGNING_INPUT, ec.ECDSA(digest[alg])))
        size = (key.curve.key_size + 7) // 8
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        primitive = SignaturePrimitive(alg)
        assert primitive.verify(_SIGNING_INPUT, key.public_key(), raw) is False
        assert primitive.for_key(key.public_key())(_SIGNING_INPUT, raw) is False

    @pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
    def test_each_curve_s_signatures_verify_through_the_converter(self, curve):
        alg = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[curve]
        key = ec_key(curve)
        primitive = SignaturePrimitive(alg)
        check = primitive.for_key(key.public_key())
        for index in range(40):  # enough signatures for each layout of DER to come up
            message = _SIGNING_INPUT + str(index).encode()
            signature = sign_input(alg, key, message)
            assert primitive.verify(message, key.public_key(), signature) is True
            assert check(message, signature) is True
            assert check(message + b".", signature) is False


# --- a primitive's check for one key -------------------------------------------------------------


_ALGORITHMS_BY_FILE = {
    RSA_PKCS1: ("RS256",),
    RSA_PSS: ("PS256",),
    ECDSA_P256: ("ES256",),
    ED25519: ("EdDSA", "Ed25519"),
}


class TestForKey:
    @pytest.mark.parametrize("name", list(_ALGORITHMS_BY_FILE))
    def test_it_agrees_with_the_primitive_on_every_wycheproof_vector(self, name):
        for alg in _ALGORITHMS_BY_FILE[name]:
            primitive = SignaturePrimitive(alg)
            checks: dict[str, Any] = {}  # one per key, as a proof header holds it
            for vector in signature_vectors(name):
                der = vector.group["publicKeyDer"]
                key = load_der_public_key(bytes.fromhex(der))
                check = checks.setdefault(der, primitive.for_key(key))
                expected = primitive.verify(vector.message, key, vector.signature)
                assert check(vector.message, vector.signature) is expected, vector.tc_id

    @pytest.mark.parametrize(
        ("alg", "wrong_key"),
        [
            ("RS256", ec_key("P-256").public_key()),
            ("PS256", ed_key(0).public_key()),
            ("ES256", rsa_key(0).public_key()),
            ("ES256", ec_key("P-384").public_key()),
            ("EdDSA", rsa_key(0).public_key()),
            ("Ed448", ed_key(0).public_key()),
            ("HS256", rsa_key(0).public_key()),
            ("XX256", b"a shared secret of thirty-two by"),
        ],
    )
    def test_a_key_that_does_not_fit_gets_a_check_that_is_never_true(self, alg, wrong_key):
        check = SignaturePrimitive(alg).for_key(wrong_key)
        assert check(_SIGNING_INPUT, os.urandom(64)) is False
        assert check(_SIGNING_INPUT, b"") is False

    @pytest.mark.parametrize(
        ("alg", "key"),
        [("RS256", rsa_key(0)), ("PS384", rsa_key(0)), ("ES384", ec_key("P-384")),
         ("EdDSA", ed_key(0)), ("Ed448", _ed448_key())],
    )  # fmt: skip
    def test_it_verifies_its_key_s_signatures_only(self, alg, key):
        check = SignaturePrimitive(alg).for_key(key.public_key())
        signature = sign_input("EdDSA" if alg.startswith("Ed") else alg, key, _SIGNING_INPUT)
        assert check(_SIGNING_INPUT, signature) is True
        assert check(_SIGNING_INPUT + b".", signature) is False
        assert check(_SIGNING_INPUT, signature[:-1]) is False

    def test_the_hmac_check_for_a_secret_is_the_primitive_s(self):
        secret = b"a shared secret of thirty-two by"
        check = SignaturePrimitive("HS256").for_key(secret)
        assert check(_SIGNING_INPUT, sign_input("HS256", secret, _SIGNING_INPUT)) is True
        assert check(_SIGNING_INPUT, sign_input("HS256", secret[:-1], _SIGNING_INPUT)) is False

    def test_a_key_class_seen_before_does_not_let_another_class_in(self):
        # The primitive remembers the concrete classes of the keys that fitted; a key of
        # another class is still refused after them.
        primitive = SignaturePrimitive("ES256")
        signature = sign_input("ES256", ec_key("P-256"), _SIGNING_INPUT)
        assert primitive.verify(_SIGNING_INPUT, ec_key("P-256").public_key(), signature)
        assert not primitive.verify(_SIGNING_INPUT, rsa_key(0).public_key(), signature)
        assert not primitive.verify(_SIGNING_INPUT, ed_key(0).public_key(), signature)
