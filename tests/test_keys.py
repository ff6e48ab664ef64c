"""Strict JWK import and key selection (RFC 7517, RFC 7518 §6, RFC 8725 §3.1).

Catalogue rows: T46-T55 of the hostile-tokens reference.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from bearerguard._errors import UnknownKeyError
from bearerguard._keys import (
    MAX_KEYS,
    RSA_ALGORITHMS,
    KeySet,
    KeySetError,
    VerificationKey,
)

from .support import b64url, ec_key, ed_key, public_jwk, rsa_key

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _int_b64(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(size, "big"))


def _rsa_jwk(n: int, e: int = 65537, **members: Any) -> dict[str, Any]:
    """An RSA JWK with crafted numbers (the key need not be a real product of primes)."""
    return {"kty": "RSA", "n": _int_b64(n), "e": _int_b64(e), **members}


def _non_canonical(segment: str) -> str:
    """The same bytes, but with non-zero unused bits in the last character."""
    assert len(segment) % 4 in (2, 3)
    last = _ALPHABET.index(segment[-1])
    return segment[:-1] + _ALPHABET[last + 1]


def _ec_point(key: ec.EllipticCurvePrivateKey) -> tuple[int, int]:
    numbers = key.public_key().public_numbers()
    return numbers.x, numbers.y


def _keyset(*jwks: dict[str, Any]) -> KeySet:
    return KeySet.from_document({"keys": list(jwks)})


@functools.cache
def _ed448_key() -> ed448.Ed448PrivateKey:
    return ed448.Ed448PrivateKey.generate()


# --- importing one key: types, algorithms, sizes -----------------------------------------------


class TestImportByKeyType:
    def test_rsa_key_verifies_every_rsa_algorithm_with_a_signature_of_the_modulus_size(self):
        key = VerificationKey.from_jwk(public_jwk(rsa_key(0), kid="r1"))
        assert key.kid == "r1"
        assert key.kty == "RSA"
        assert key.algorithms == RSA_ALGORITHMS
        assert key.algorithms == {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
        assert key.signature_size == 256
        assert isinstance(key.public_key, rsa.RSAPublicKey)
        assert key.public_key.public_numbers() == rsa_key(0).public_key().public_numbers()

    @pytest.mark.parametrize(
        ("bits", "size"), [(2048, 256), (3072, 384), (4096, 512), (8192, 1024)]
    )
    def test_rsa_signature_size_follows_the_modulus_length(self, bits, size):
        key = VerificationKey.from_jwk(_rsa_jwk((1 << (bits - 1)) | 1))
        assert key.signature_size == size
        assert key.public_key.key_size == bits

    @pytest.mark.parametrize(
        ("crv", "alg", "size"),
        [("P-256", "ES256", 64), ("P-384", "ES384", 96), ("P-521", "ES512", 132)],
    )
    def test_ec_key_verifies_only_the_algorithm_of_its_curve(self, crv, alg, size):
        key = VerificationKey.from_jwk(public_jwk(ec_key(crv), kid="e1"))
        assert key.kty == "EC"
        assert key.algorithms == {alg}
        assert key.signature_size == size
        assert isinstance(key.public_key, ec.EllipticCurvePublicKey)
        assert key.public_key.public_numbers() == ec_key(crv).public_key().public_numbers()

    def test_secp256k1_key_verifies_es256k_only_never_es256(self):
        private = ec.generate_private_key(ec.SECP256K1())
        key = VerificationKey.from_jwk(public_jwk(private, kid="k"))
        assert key.algorithms == {"ES256K"}
        assert key.signature_size == 64
        assert _keyset(public_jwk(private, kid="k")).find("k", "ES256") is None

    def test_ed25519_key_verifies_eddsa_and_ed25519_with_64_byte_signatures(self):
        key = VerificationKey.from_jwk(public_jwk(ed_key(0), kid="d1"))
        assert key.kty == "OKP"
        assert key.algorithms == {"EdDSA", "Ed25519"}
        assert key.signature_size == 64
        assert isinstance(key.public_key, ed25519.Ed25519PublicKey)
        assert key.public_key.public_bytes_raw() == ed_key(0).public_key().public_bytes_raw()

    def test_ed448_key_verifies_eddsa_and_ed448_with_114_byte_signatures(self):
        private = ed448.Ed448PrivateKey.generate()
        key = VerificationKey.from_jwk(public_jwk(private))
        assert key.algorithms == {"EdDSA", "Ed448"}
        assert key.signature_size == 114
        assert isinstance(key.public_key, ed448.Ed448PublicKey)

    def test_a_key_without_kid_imports_with_kid_none(self):
        jwk = public_jwk(rsa_key(0))
        assert "kid" not in jwk
        assert VerificationKey.from_jwk(jwk).kid is None

    @pytest.mark.parametrize("kid", [123, "", ["k1"], {}, True])
    def test_kid_that_is_not_a_non_empty_string_is_refused(self, kid):
        jwk = {**public_jwk(rsa_key(0)), "kid": kid}
        with pytest.raises(KeySetError, match="kid"):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize("kty", ["XYZ", "rsa", "", None, 1])
    def test_unknown_key_types_are_refused(self, kty):
        jwk = {**public_jwk(rsa_key(0)), "kty": kty}
        if kty is None:
            del jwk["kty"]
        with pytest.raises(KeySetError, match="kty"):
            VerificationKey.from_jwk(jwk)


# --- T48: a published alg narrows the key to that one algorithm ---------------------------------


class TestPublishedAlgorithm:
    def test_T48_a_key_published_rs384_verifies_only_rs384(self):
        key = VerificationKey.from_jwk(public_jwk(rsa_key(0), kid="k1", alg="RS384"))
        assert key.algorithms == {"RS384"}

    @pytest.mark.parametrize("published", ["RS384", "PS256", "RS512"])
    def test_T48_a_key_published_for_another_rsa_algorithm_cannot_verify_rs256(self, published):
        keys = _keyset(public_jwk(rsa_key(0), kid="k1", alg=published))
        assert keys.find("k1", "RS256") is None
        assert keys.find("k1", published) is keys.keys[0]

    @pytest.mark.parametrize(
        ("private", "published"),
        [
            (rsa_key, "ES256"),
            (rsa_key, "HS256"),
            (rsa_key, "none"),
            (rsa_key, "EdDSA"),
            (lambda: ec_key("P-256"), "ES384"),
            (lambda: ec_key("P-384"), "ES256"),
            (lambda: ec_key("P-256"), "RS256"),
            (ed_key, "ES256"),
            (ed_key, "Ed448"),
            (_ed448_key, "Ed25519"),
            (rsa_key, "Ed25519"),
            (lambda: ec_key("P-256"), "Ed448"),
        ],
    )
    def test_T48_a_published_alg_that_does_not_fit_the_key_type_or_curve_is_refused(
        self, private, published
    ):
        with pytest.raises(KeySetError, match="alg"):
            VerificationKey.from_jwk(public_jwk(private(), alg=published))

    @pytest.mark.parametrize("published", [256, ["RS256"], {"alg": "RS256"}, True])
    def test_a_published_alg_that_is_not_a_string_is_refused(self, published):
        with pytest.raises(KeySetError, match="alg"):
            VerificationKey.from_jwk({**public_jwk(rsa_key(0)), "alg": published})


# --- T47: use and key_ops ---------------------------------------------------------------------


class TestUseAndKeyOps:
    @pytest.mark.parametrize("members", [{}, {"use": "sig"}, {"key_ops": ["verify"]}])
    def test_signing_keys_are_accepted(self, members):
        assert VerificationKey.from_jwk(public_jwk(rsa_key(0), **members)).kty == "RSA"

    def test_key_ops_listing_verify_among_others_is_accepted(self):
        key = VerificationKey.from_jwk(public_jwk(rsa_key(0), key_ops=["sign", "verify"]))
        assert key.algorithms == RSA_ALGORITHMS

    @pytest.mark.parametrize("use", ["enc", "SIG", "", 1])
    def test_T47_a_key_whose_use_is_not_sig_is_refused(self, use):
        with pytest.raises(KeySetError, match="use"):
            VerificationKey.from_jwk({**public_jwk(rsa_key(0)), "use": use})

    @pytest.mark.parametrize(
        "ops",
        [
            ["encrypt"],
            ["sign"],
            [],
            "verify",  # not a list
            {"verify": True},  # not a list
            ["verify", "verify"],  # duplicates
            ["verify", "sign", "sign"],  # duplicates
        ],
    )
    def test_T47_key_ops_without_verify_not_a_list_or_with_duplicates_are_refused(self, ops):
        with pytest.raises(KeySetError, match="key_ops"):
            VerificationKey.from_jwk({**public_jwk(rsa_key(0)), "key_ops": ops})

    def test_T47_an_encryption_key_is_not_found_for_a_token(self):
        keys = _keyset(
            public_jwk(rsa_key(0), kid="k1", use="enc"), public_jwk(rsa_key(1), kid="k2")
        )
        assert keys.find("k1", "RS256") is None
        assert len(keys.skipped) == 1


# --- T49: symmetric keys never come from a key set ----------------------------------------------


class TestSymmetricKeys:
    def test_T49_an_oct_key_is_refused(self):
        with pytest.raises(KeySetError):
            VerificationKey.from_jwk({"kty": "oct", "kid": "k1", "k": b64url(b"s" * 32)})

    def test_T49_an_oct_key_without_k_is_refused_too(self):
        with pytest.raises(KeySetError):
            VerificationKey.from_jwk({"kty": "oct", "kid": "k1", "alg": "HS256"})

    @pytest.mark.parametrize("alg", ["HS256", "RS256"])
    def test_T49_oct_keys_in_a_key_set_are_ignored_and_never_found(self, alg):
        keys = _keyset(
            {"kty": "oct", "kid": "k1", "k": b64url(b"s" * 32), "alg": "HS256"},
            public_jwk(rsa_key(0), kid="k2"),
        )
        assert [k.kid for k in keys.keys] == ["k2"]
        assert len(keys.skipped) == 1
        assert keys.find("k1", alg) is None


# --- T50: RSA key strength --------------------------------------------------------------------


class TestRsaStrength:
    def test_T50_a_real_1024_bit_rsa_key_is_refused(self):
        with pytest.raises(KeySetError, match="1024 bits"):
            VerificationKey.from_jwk(public_jwk(rsa_key(0, bits=1024)))

    def test_T50_a_2047_bit_modulus_is_refused_and_2048_accepted(self):
        with pytest.raises(KeySetError, match="2047 bits"):
            VerificationKey.from_jwk(_rsa_jwk((1 << 2046) | 1))
        assert VerificationKey.from_jwk(_rsa_jwk((1 << 2047) | 1)).signature_size == 256

    def test_T50_a_modulus_over_8192_bits_is_refused(self):
        with pytest.raises(KeySetError, match="8193 bits"):
            VerificationKey.from_jwk(_rsa_jwk((1 << 8192) | 1))
        with pytest.raises(KeySetError, match="modulus"):
            VerificationKey.from_jwk(_rsa_jwk((1 << 16384) | 1))

    @pytest.mark.parametrize("e", [1, 3, 17, 65536, 65539, 2**64 + 1, (1 << 2047) | 1])
    def test_T50_an_exponent_other_than_65537_is_refused(self, e):
        n = rsa_key(0).public_key().public_numbers().n
        with pytest.raises(KeySetError, match="exponent"):
            VerificationKey.from_jwk(_rsa_jwk(n, e))

    def test_an_exponent_of_65537_with_a_leading_zero_octet_still_means_65537(self):
        jwk = {**public_jwk(rsa_key(0)), "e": _int_b64(65537, length=4)}
        assert VerificationKey.from_jwk(jwk).public_key.public_numbers().e == 65537

    def test_T50_an_even_modulus_is_refused(self):
        with pytest.raises(KeySetError, match="modulus is even"):
            VerificationKey.from_jwk(_rsa_jwk(1 << 2047))

    @pytest.mark.parametrize("member", ["n", "e"])
    def test_a_missing_or_empty_rsa_member_is_refused(self, member):
        jwk = public_jwk(rsa_key(0))
        del jwk[member]
        with pytest.raises(KeySetError, match=repr(member)):
            VerificationKey.from_jwk(jwk)
        with pytest.raises(KeySetError, match=repr(member)):
            VerificationKey.from_jwk({**jwk, member: ""})
        with pytest.raises(KeySetError, match=repr(member)):
            VerificationKey.from_jwk({**jwk, member: 65537})


# --- base64url strictness of key members ------------------------------------------------------


class TestBase64url:
    def test_n_with_non_zero_unused_bits_is_refused(self):
        jwk = public_jwk(rsa_key(0))
        assert len(jwk["n"]) % 4 in (2, 3)
        with pytest.raises(KeySetError, match="canonical base64url"):
            VerificationKey.from_jwk({**jwk, "n": _non_canonical(jwk["n"])})

    @pytest.mark.parametrize("suffix", ["=", "=="])
    def test_padded_n_is_refused(self, suffix):
        jwk = public_jwk(rsa_key(0))
        with pytest.raises(KeySetError, match="canonical base64url"):
            VerificationKey.from_jwk({**jwk, "n": jwk["n"] + suffix})

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda s: s.replace("-", "+").replace("_", "/") + "+/",
            lambda s: s[:10] + " " + s[10:],
            lambda s: s + "AAA",
        ],
        ids=["standard-alphabet", "space", "impossible-length"],
    )
    def test_n_in_the_standard_alphabet_with_spaces_or_of_impossible_length_is_refused(
        self, mangle
    ):
        jwk = public_jwk(rsa_key(0))
        with pytest.raises(KeySetError, match="'n'"):
            VerificationKey.from_jwk({**jwk, "n": mangle(jwk["n"])})

    def test_ec_coordinate_with_non_canonical_base64url_is_refused(self):
        jwk = public_jwk(ec_key("P-256"))
        assert len(jwk["x"]) % 4 == 3
        with pytest.raises(KeySetError, match="'x'"):
            VerificationKey.from_jwk({**jwk, "x": _non_canonical(jwk["x"])})


# --- T51: EC and OKP key shape ----------------------------------------------------------------


class TestCurvePoints:
    def test_T51_an_ec_point_off_the_curve_is_refused(self):
        _, y = _ec_point(ec_key("P-256"))
        jwk = {**public_jwk(ec_key("P-256")), "y": _int_b64(y ^ 1, 32)}
        with pytest.raises(KeySetError, match="not on the curve"):
            VerificationKey.from_jwk(jwk)

    def test_T51_the_point_zero_zero_is_refused(self):
        jwk = {"kty": "EC", "crv": "P-256", "x": b64url(bytes(32)), "y": b64url(bytes(32))}
        with pytest.raises(KeySetError, match="not on the curve"):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize("member", ["x", "y"])
    @pytest.mark.parametrize("length", [31, 33, 48])
    def test_T51_coordinates_of_the_wrong_length_are_refused(self, member, length):
        x, y = _ec_point(ec_key("P-256"))
        value = {"x": x, "y": y}[member] % (1 << (8 * length))
        jwk = {**public_jwk(ec_key("P-256")), member: _int_b64(value, length)}
        with pytest.raises(KeySetError, match="32 bytes"):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize(
        ("actual", "claimed"),
        [("P-256", "P-384"), ("P-384", "P-256"), ("P-521", "P-384"), ("P-256", "secp256k1")],
    )
    def test_T51_a_crv_that_does_not_match_the_point_is_refused(self, actual, claimed):
        jwk = {**public_jwk(ec_key(actual)), "crv": claimed}
        with pytest.raises(KeySetError):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize("crv", ["P-192", "P-224", "p-256", "Ed25519", "X25519", "", None, 256])
    def test_T51_an_unsupported_ec_curve_is_refused(self, crv):
        jwk = {**public_jwk(ec_key("P-256")), "crv": crv}
        with pytest.raises(KeySetError, match="curve"):
            VerificationKey.from_jwk(jwk)

    def test_an_ec_key_without_y_is_refused(self):
        jwk = public_jwk(ec_key("P-256"))
        del jwk["y"]
        with pytest.raises(KeySetError, match="'y'"):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize(
        "crv", ["X25519", "X448", "Ed25519ph", "ed25519", "P-256", None, 1, ["Ed25519"]]
    )
    def test_an_okp_key_on_a_non_signature_curve_is_refused(self, crv):
        jwk = {**public_jwk(ed_key(0)), "crv": crv}
        with pytest.raises(KeySetError, match="OKP curve"):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize("length", [31, 33, 57])
    def test_an_ed25519_key_of_the_wrong_length_is_refused(self, length):
        jwk = {**public_jwk(ed_key(0)), "x": b64url(b"\x01" * length)}
        with pytest.raises(KeySetError, match="not 32 bytes"):
            VerificationKey.from_jwk(jwk)

    @pytest.mark.parametrize("length", [32, 56, 58])
    def test_an_ed448_key_of_the_wrong_length_is_refused(self, length):
        jwk = {**public_jwk(_ed448_key()), "x": b64url(b"\x01" * length)}
        with pytest.raises(KeySetError, match="not 57 bytes"):
            VerificationKey.from_jwk(jwk)


# --- RFC 9864: EdDSA's fully specified names, matched by curve ---------------------------------

_ED_ALGORITHMS = ("EdDSA", "Ed25519", "Ed448")
_ED_KEYS = {"Ed25519": ed_key, "Ed448": _ed448_key}


class TestEdwardsCurveNames:
    """Which OKP keys a token's alg may use: "EdDSA" a key of either curve (RFC 8037);
    "Ed25519" and "Ed448" a key of their own curve only (RFC 9864 §2.2); a JWK's published
    alg narrows that further."""

    @pytest.mark.parametrize(
        ("crv", "published", "serves"),
        [
            ("Ed25519", None, {"EdDSA", "Ed25519"}),
            ("Ed448", None, {"EdDSA", "Ed448"}),
            # The deprecated polymorphic name also serves the fully specified name of the
            # key's own curve: on that key the two name one operation.
            ("Ed25519", "EdDSA", {"EdDSA", "Ed25519"}),
            ("Ed448", "EdDSA", {"EdDSA", "Ed448"}),
            # A fully specified name serves itself only, never the polymorphic name.
            ("Ed25519", "Ed25519", {"Ed25519"}),
            ("Ed448", "Ed448", {"Ed448"}),
        ],
    )
    def test_the_curve_matching_table(self, crv, published, serves):
        keys = _keyset(public_jwk(_ED_KEYS[crv](), kid="d", alg=published))
        assert keys.skipped == ()
        assert {alg for alg in _ED_ALGORITHMS if keys.find("d", alg) is not None} == serves
        assert keys.keys[0].algorithms == serves

    @pytest.mark.parametrize(("crv", "other"), [("Ed25519", "Ed448"), ("Ed448", "Ed25519")])
    def test_a_jwk_publishing_the_other_curves_name_is_skipped_like_any_mismatch(self, crv, other):
        keys = _keyset(
            public_jwk(_ED_KEYS[crv](), kid="d", alg=other), public_jwk(rsa_key(0), kid="k")
        )
        (why,) = keys.skipped
        assert f"its alg {other!r} does not fit" in why
        for alg in _ED_ALGORITHMS:
            assert keys.find("d", alg) is None

    @pytest.mark.parametrize(
        "private",
        [rsa_key, lambda: ec_key("P-256"), lambda: ec_key("P-521")],
        ids=["rsa", "p-256", "p-521"],
    )
    def test_rsa_and_ec_keys_serve_no_eddsa_name(self, private):
        keys = _keyset(public_jwk(private(), kid="k"))
        for alg in _ED_ALGORITHMS:
            assert keys.find("k", alg) is None

    @pytest.mark.parametrize(("crv", "size"), [("Ed25519", 64), ("Ed448", 114)])
    def test_the_signature_size_is_the_curves_whatever_the_name(self, crv, size):
        for published in (None, "EdDSA", crv):
            jwk = public_jwk(_ED_KEYS[crv](), alg=published)
            assert VerificationKey.from_jwk(jwk).signature_size == size

    def test_without_kid_the_fully_specified_name_picks_the_key_of_its_curve(self):
        keys = _keyset(public_jwk(ed_key(0)), public_jwk(_ed448_key()))
        ed25519_key, ed448_key = keys.find(None, "Ed25519"), keys.find(None, "Ed448")
        assert ed25519_key is not None
        assert isinstance(ed25519_key.public_key, ed25519.Ed25519PublicKey)
        assert ed448_key is not None
        assert isinstance(ed448_key.public_key, ed448.Ed448PublicKey)
        with pytest.raises(UnknownKeyError):
            keys.find(None, "EdDSA")  # both curves fit the polymorphic name: ambiguous


# --- T52: private key material ----------------------------------------------------------------


class TestPrivateMembers:
    @pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth"])
    def test_T52_an_rsa_jwk_with_a_private_member_is_refused(self, member):
        jwk = {**public_jwk(rsa_key(0)), member: b64url(b"\x01" * 16)}
        with pytest.raises(KeySetError, match="private"):
            VerificationKey.from_jwk(jwk)

    def test_T52_a_complete_private_rsa_jwk_is_refused(self):
        private_jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key(0)))
        assert {"d", "p", "q", "dp", "dq", "qi"} <= private_jwk.keys()
        with pytest.raises(KeySetError, match="private"):
            VerificationKey.from_jwk(private_jwk)

    @pytest.mark.parametrize("private", [lambda: ec_key("P-256"), ed_key])
    def test_T52_ec_and_okp_jwks_with_d_are_refused(self, private):
        jwk = {**public_jwk(private()), "d": b64url(b"\x01" * 32)}
        with pytest.raises(KeySetError, match="private"):
            VerificationKey.from_jwk(jwk)

    def test_T52_a_private_jwk_among_public_ones_is_skipped_not_used(self):
        private_jwk = {**json.loads(RSAAlgorithm.to_jwk(rsa_key(0))), "kid": "k1"}
        keys = _keyset(private_jwk, public_jwk(rsa_key(1), kid="k2"))
        assert keys.find("k1", "RS256") is None
        assert keys.find("k2", "RS256") is not None


# --- T55: x5c never overrides n/e -------------------------------------------------------------


def _self_signed_certificate_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other key")])
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.DER)


class TestX5c:
    def test_T55_n_and_e_are_used_even_when_x5c_holds_another_key(self):
        der = _self_signed_certificate_der(ec_key("P-256", index=7))
        jwk = public_jwk(rsa_key(0), kid="k1", x5c=[base64.b64encode(der).decode()])
        key = VerificationKey.from_jwk(jwk)
        assert key.kty == "RSA"
        assert key.public_key.public_numbers() == rsa_key(0).public_key().public_numbers()

    def test_T55_a_garbage_x5c_does_not_matter(self):
        jwk = public_jwk(rsa_key(0), kid="k1", x5c=["not a certificate"], x5t="junk")
        assert VerificationKey.from_jwk(jwk).algorithms == RSA_ALGORITHMS


# --- key sets: parsing a document ---------------------------------------------------------------


class TestKeySetDocument:
    def test_a_document_as_bytes_yields_its_keys_in_order(self):
        body = json.dumps(
            {
                "keys": [
                    public_jwk(rsa_key(0), kid="k1", alg="RS256", use="sig"),
                    public_jwk(ec_key("P-256"), kid="k2"),
                    public_jwk(ed_key(0), kid="k3"),
                ]
            }
        ).encode()
        keys = KeySet.from_document(body, source="https://tenant.auth0.com/.well-known/jwks.json")
        assert [k.kid for k in keys.keys] == ["k1", "k2", "k3"]
        assert len(keys) == 3
        assert keys.skipped == ()
        assert repr(keys) == "KeySet(kids=['k1', 'k2', 'k3'])"

    def test_a_document_as_a_mapping_is_accepted(self):
        keys = KeySet.from_document({"keys": [public_jwk(rsa_key(0), kid="k1")]})
        assert keys.find("k1", "RS256") is not None

    def test_other_members_of_the_document_are_ignored(self):
        keys = KeySet.from_document({"keys": [public_jwk(ed_key(0), kid="k1")], "extra": [1]})
        assert len(keys) == 1

    @pytest.mark.parametrize(
        ("body", "why"),
        [
            (b"<html>Service Unavailable</html>", "not JSON"),
            (b"", "not JSON"),
            (b'{"keys": [', "not JSON"),
            (b"\xff\xfe{}", "not JSON"),
            (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
            (b"[]", "not a JSON object"),
            (b'"keys"', "not a JSON object"),
            (b"null", "not a JSON object"),
            (b"{}", "no 'keys' array"),
            (b'{"keys": {}}', "no 'keys' array"),
            (b'{"keys": null}', "no 'keys' array"),
            (b'{"keys": "k1"}', "no 'keys' array"),
            (b'{"keys": []}', "no usable signing keys"),
            (b'{"keys": [1, "k1", null, []]}', "no usable signing keys"),
        ],
    )
    def test_T91_an_unusable_document_raises_key_set_error(self, body, why):
        with pytest.raises(KeySetError, match=why):
            KeySet.from_document(body)

    def test_T91_a_document_whose_keys_are_all_unusable_raises(self):
        document = {
            "keys": [
                {"kty": "oct", "k": b64url(b"s" * 32)},
                public_jwk(rsa_key(0, bits=1024), kid="weak"),
                public_jwk(rsa_key(0), kid="enc", use="enc"),
            ]
        }
        with pytest.raises(KeySetError, match="no usable signing keys"):
            KeySet.from_document(document)

    def test_a_document_with_more_than_100_keys_is_refused_even_if_all_are_good(self):
        jwk = public_jwk(ed_key(0))
        assert MAX_KEYS == 100
        accepted = KeySet.from_document({"keys": [{**jwk, "kid": f"k{i}"} for i in range(100)]})
        assert len(accepted) == 100
        with pytest.raises(KeySetError, match="more than 100 keys"):
            KeySet.from_document({"keys": [{**jwk, "kid": f"k{i}"} for i in range(101)]})


class TestBadKeysAmongGoodOnes:
    @pytest.mark.parametrize(
        "bad",
        [
            {"kty": "XYZ", "kid": "bad"},
            {"kty": "RSA", "kid": "bad", "e": "AQAB"},  # missing n
            {"kty": "RSA", "kid": "bad", "n": "n!t-base64", "e": "AQAB"},
            {**public_jwk(rsa_key(1)), "kid": "bad", "n": public_jwk(rsa_key(1))["n"] + "="},
            {**public_jwk(rsa_key(1)), "kid": "bad", "d": "AQAB"},
        ],
        ids=["unknown-kty", "missing-n", "n-not-base64url", "n-padded", "private"],
    )
    def test_T54_one_bad_key_is_skipped_with_a_reason_and_the_good_key_still_found(self, bad):
        keys = KeySet.from_document(
            {"keys": [bad, public_jwk(rsa_key(0), kid="k1")]}, source="https://idp/jwks"
        )
        assert len(keys.skipped) == 1
        assert keys.find("k1", "RS256") is not None
        assert keys.find("bad", "RS256") is None
        (message,) = keys.skipped
        assert "'bad'" in message
        assert "https://idp/jwks" in message

    def test_T54_entries_that_are_not_objects_are_skipped_and_named_by_position(self):
        keys = KeySet.from_document({"keys": ["k0", public_jwk(rsa_key(0), kid="k1"), None]})
        assert [k.kid for k in keys.keys] == ["k1"]
        messages = keys.skipped
        assert len(messages) == 2
        assert "#0" in messages[0]
        assert "#2" in messages[1]

    def test_T54_a_bad_key_without_a_kid_is_named_by_its_position(self):
        keys = KeySet.from_document({"keys": [public_jwk(rsa_key(0), kid="k1"), {"kty": "XYZ"}]})
        messages = keys.skipped
        assert len(messages) == 1
        assert "#1" in messages[0]

    def test_T54_a_huge_kid_is_truncated_in_the_reason(self):
        keys = KeySet.from_document(
            {"keys": [public_jwk(rsa_key(0), kid="k1"), {"kty": "XYZ", "kid": "A" * 10_000}]}
        )
        (message,) = keys.skipped
        assert "A" * 64 in message
        assert "A" * 65 not in message


# --- key selection ------------------------------------------------------------------------------


class TestFind:
    @pytest.fixture
    def auth0_keys(self) -> KeySet:
        """Auth0 publishes the current, the next and maybe the previous key, all RS256."""
        return _keyset(
            public_jwk(rsa_key(0), kid="current", alg="RS256", use="sig"),
            public_jwk(rsa_key(1), kid="next", alg="RS256", use="sig"),
            public_jwk(rsa_key(2), kid="previous", alg="RS256", use="sig"),
        )

    def test_finds_the_key_by_kid_and_alg(self, auth0_keys):
        key = auth0_keys.find("next", "RS256")
        assert key is not None
        assert key.kid == "next"
        assert key.public_key.public_numbers() == rsa_key(1).public_key().public_numbers()

    def test_an_unknown_kid_finds_nothing(self, auth0_keys):
        assert auth0_keys.find("unknown", "RS256") is None

    def test_kids_are_compared_exactly(self, auth0_keys):
        assert auth0_keys.find("Current", "RS256") is None
        assert auth0_keys.find("current ", "RS256") is None

    def test_a_known_kid_with_an_algorithm_the_key_cannot_verify_finds_nothing(self, auth0_keys):
        assert auth0_keys.find("current", "ES256") is None
        assert auth0_keys.find("current", "PS256") is None  # published RS256 only
        assert auth0_keys.find("current", "HS256") is None

    def test_a_key_without_alg_serves_every_algorithm_of_its_type(self):
        keys = _keyset(public_jwk(rsa_key(0), kid="k1"))
        for alg in RSA_ALGORITHMS:
            assert keys.find("k1", alg) is not None
        assert keys.find("k1", "ES256") is None

    def test_T46_no_kid_finds_the_key_when_exactly_one_key_fits(self):
        keys = _keyset(public_jwk(rsa_key(0), kid="k1", alg="RS256"))
        key = keys.find(None, "RS256")
        assert key is not None
        assert key.kid == "k1"

    def test_T46_no_kid_with_two_or_three_fitting_keys_is_ambiguous(self, auth0_keys):
        with pytest.raises(UnknownKeyError) as caught:
            auth0_keys.find(None, "RS256")
        assert caught.value.status_code == 401

    def test_T46_no_kid_picks_the_single_key_whose_algorithm_fits(self):
        keys = _keyset(
            public_jwk(rsa_key(0), kid="r", alg="RS256"),
            public_jwk(ec_key("P-256"), kid="e"),
            public_jwk(ed_key(0), kid="d"),
        )
        assert keys.find(None, "ES256").kid == "e"
        assert keys.find(None, "EdDSA").kid == "d"
        assert keys.find(None, "RS256").kid == "r"
        assert keys.find(None, "ES384") is None

    def test_a_token_with_a_kid_never_matches_a_key_without_one(self):
        keys = _keyset(public_jwk(rsa_key(0)))
        assert keys.find("k1", "RS256") is None
        assert keys.find(None, "RS256") is not None

    def test_T53_two_keys_with_the_same_kid_are_ambiguous(self):
        keys = _keyset(
            public_jwk(rsa_key(0), kid="k1", alg="RS256"),
            public_jwk(rsa_key(1), kid="k1", alg="RS256"),
        )
        assert len(keys) == 2
        with pytest.raises(UnknownKeyError):
            keys.find("k1", "RS256")

    def test_T53_duplicate_kid_without_published_alg_is_ambiguous_too(self):
        keys = _keyset(public_jwk(rsa_key(0), kid="k1"), public_jwk(rsa_key(1), kid="k1"))
        with pytest.raises(UnknownKeyError):
            keys.find("k1", "PS256")

    def test_T53_the_same_kid_on_keys_for_different_algorithms_is_told_apart_by_alg(self):
        keys = _keyset(
            public_jwk(rsa_key(0), kid="k1", alg="RS256"),
            public_jwk(ec_key("P-256"), kid="k1", alg="ES256"),
        )
        assert keys.find("k1", "RS256").kty == "RSA"
        assert keys.find("k1", "ES256").kty == "EC"

    def test_T53_a_duplicate_kid_does_not_affect_other_kids(self):
        keys = _keyset(
            public_jwk(rsa_key(0), kid="k1"),
            public_jwk(rsa_key(1), kid="k1"),
            public_jwk(rsa_key(2), kid="k2"),
        )
        assert keys.find("k2", "RS256").kid == "k2"

    def test_a_key_set_can_be_built_from_verification_keys_directly(self):
        key = VerificationKey.from_jwk(public_jwk(ed_key(0), kid="k1"))
        keys = KeySet([key])
        assert keys.find("k1", "EdDSA") is key
        assert keys.skipped == ()
