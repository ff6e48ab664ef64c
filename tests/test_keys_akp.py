"""Strict import of AKP keys: ML-DSA public keys as RFC 9964 publishes them in a JWK Set.

An ``AKP`` JWK is ``kty``, a REQUIRED ``alg`` (``ML-DSA-44``, ``ML-DSA-65`` or ``ML-DSA-87``)
and ``pub``, the key's bytes, exactly as long as its level's public key. Its ``alg`` is its
level and the one algorithm it verifies, so a token's ``alg`` must name exactly that level.
``priv`` (and the ``seed`` of earlier drafts) is private key material: such a JWK is refused.
``use`` and ``key_ops`` count as for any key. A bad AKP key is skipped with its reason; the
other keys of the set keep working.

Catalogue rows: T47, T48, T51, T52 and T54 of the hostile-tokens reference (the rows that
send tokens through the verifier are in ``tests/hostile/catalogue.py``).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa

from bearerguard import _keys
from bearerguard._errors import UnknownKeyError
from bearerguard._keys import KeySet, KeySetError, VerificationKey

from .support import b64url, ec_key, ed_key, public_jwk, rsa_key

LEVELS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
PUBLIC_KEY_BYTES = {"ML-DSA-44": 1312, "ML-DSA-65": 1952, "ML-DSA-87": 2592}
SIGNATURE_BYTES = {"ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627}


@functools.cache
def _public_bytes(level: str, index: int) -> bytes:
    private = getattr(mldsa, f"MLDSA{level[-2:]}PrivateKey").generate()
    return private.public_key().public_bytes_raw()


def public_bytes(level: str, index: int = 0) -> bytes:
    """The public key ``(level, index)``: the same bytes for the whole session."""
    return _public_bytes(level, index)


def akp(level: str = "ML-DSA-65", index: int = 0, **members: Any) -> dict[str, Any]:
    """The AKP JWK of key ``(level, index)``; ``members`` add or replace (``None`` removes)."""
    jwk = {"kty": "AKP", "alg": level, "pub": b64url(public_bytes(level, index)), **members}
    return {name: value for name, value in jwk.items() if value is not None}


class TestImport:
    @pytest.mark.parametrize("level", LEVELS)
    def test_each_level_verifies_only_itself_with_its_signature_size(self, level):
        key = VerificationKey.from_jwk(akp(level, kid="q"))
        assert (key.kid, key.kty, key.algorithms) == ("q", "AKP", frozenset({level}))
        assert key.signature_size == SIGNATURE_BYTES[level]
        assert key.public_key.public_bytes_raw() == public_bytes(level)
        assert isinstance(key.public_key, getattr(mldsa, f"MLDSA{level[-2:]}PublicKey"))

    def test_use_sig_and_key_ops_verify_are_accepted(self):
        key = VerificationKey.from_jwk(akp(use="sig", key_ops=["verify"]))
        assert key.algorithms == {"ML-DSA-65"}

    def test_t47_an_akp_key_for_encryption_or_without_verify_is_refused(self):
        with pytest.raises(KeySetError, match="use is 'enc'"):
            VerificationKey.from_jwk(akp(use="enc"))
        with pytest.raises(KeySetError, match="key_ops"):
            VerificationKey.from_jwk(akp(key_ops=["sign"]))


class TestAlg:
    def test_alg_is_required(self):
        with pytest.raises(KeySetError, match="alg is missing"):
            VerificationKey.from_jwk(akp(alg=None))

    @pytest.mark.parametrize(
        "alg", ["ES256", "EdDSA", "RS256", "ML-DSA-66", "ml-dsa-65", "MLDSA65", "HashML-DSA-65"]
    )
    def test_t48_an_alg_that_is_no_ml_dsa_level_is_refused(self, alg):
        with pytest.raises(KeySetError, match="not an ML-DSA algorithm"):
            VerificationKey.from_jwk(akp(alg=alg))

    @pytest.mark.parametrize("alg", [65, ["ML-DSA-65"], {"ML-DSA-65": True}])
    def test_an_alg_that_is_not_a_string_is_refused(self, alg):
        with pytest.raises(KeySetError, match="alg is not a string"):
            VerificationKey.from_jwk(akp(alg=alg))

    @pytest.mark.parametrize("level", LEVELS)
    @pytest.mark.parametrize(
        "private", [lambda: rsa_key(0), lambda: ec_key("P-256"), lambda: ed_key(0)]
    )
    def test_t48_a_classical_key_published_with_an_ml_dsa_alg_is_refused(self, level, private):
        with pytest.raises(KeySetError, match="does not fit"):
            VerificationKey.from_jwk(public_jwk(private(), alg=level))


class TestPub:
    @pytest.mark.parametrize("level", LEVELS)
    def test_t51_a_pub_of_any_other_length_is_refused(self, level):
        right = public_bytes(level)
        others = [right[:-1], right + b"\x00", b"\x00"]
        others += [public_bytes(other) for other in LEVELS if other != level]
        for pub in others:
            with pytest.raises(KeySetError, match=f"{level} public key is not"):
                VerificationKey.from_jwk(akp(level, pub=b64url(pub)))

    @pytest.mark.parametrize(
        ("pub", "why"),
        [
            (None, "'pub' member is missing"),
            ("", "'pub' member is missing"),
            (1952, "'pub' member is missing"),
            ("not base64url!", "not canonical base64url"),
        ],
    )
    def test_a_pub_that_is_missing_or_not_base64url_is_refused(self, pub, why):
        with pytest.raises(KeySetError, match=why):
            VerificationKey.from_jwk(akp(pub=pub))

    def test_a_padded_or_standard_alphabet_pub_is_refused(self):
        encoded = b64url(public_bytes("ML-DSA-65"))
        for pub in (encoded + "=", encoded.replace("-", "+").replace("_", "/")):
            if pub == encoded:
                continue
            with pytest.raises(KeySetError, match="not canonical base64url"):
                VerificationKey.from_jwk(akp(pub=pub))

    def test_an_all_zero_pub_of_the_right_length_imports(self):
        # Every 1952 bytes decode to some ML-DSA-65 key (FIPS 204 pkDecode has no invalid
        # input); such a key is useless, not dangerous: it verifies its own signatures only.
        key = VerificationKey.from_jwk(akp(pub=b64url(bytes(1952))))
        assert key.algorithms == {"ML-DSA-65"}


class TestPrivateMembers:
    @pytest.mark.parametrize("member", ["priv", "seed", "d"])
    def test_t52_an_akp_jwk_with_private_material_is_refused(self, member):
        with pytest.raises(KeySetError, match="private key material"):
            VerificationKey.from_jwk(akp(**{member: b64url(bytes(32))}))

    def test_t52_a_private_akp_key_among_public_ones_is_skipped_not_used(self):
        keys = KeySet.from_document(
            {"keys": [akp(kid="q65", priv=b64url(bytes(32))), akp("ML-DSA-44", kid="q44")]}
        )
        assert [key.kid for key in keys.keys] == ["q44"]
        assert "private key material" in keys.skipped[0]
        assert keys.find("q65", "ML-DSA-65") is None


class TestKeySet:
    def test_a_token_alg_must_name_the_key_s_level_exactly(self):
        keys = KeySet.from_document(
            {"keys": [akp(level, kid=f"q{level[-2:]}") for level in LEVELS]}
        )
        for level in LEVELS:
            kid = f"q{level[-2:]}"
            assert keys.find(kid, level) is not None
            for other in LEVELS:
                if other != level:
                    assert keys.find(kid, other) is None
            assert keys.find(kid, "RS256") is None

    def test_without_kid_the_level_picks_the_key_of_that_level(self):
        keys = KeySet.from_document({"keys": [akp(level) for level in LEVELS]})
        for level in LEVELS:
            found = keys.find(None, level)
            assert found is not None
            assert found.algorithms == {level}

    def test_two_keys_of_one_level_without_kid_are_ambiguous(self):
        keys = KeySet.from_document({"keys": [akp(index=0), akp(index=1)]})
        with pytest.raises(UnknownKeyError):
            keys.find(None, "ML-DSA-65")

    def test_t54_a_bad_akp_key_is_skipped_and_the_others_keep_working(self):
        keys = KeySet.from_document(
            {"keys": [akp(kid="bad", alg=None), public_jwk(rsa_key(0), kid="k1"), akp(kid="q65")]}
        )
        assert [key.kid for key in keys.keys] == ["k1", "q65"]
        assert keys.skipped == (
            "Skipping key 'bad' of : its alg is missing, which an AKP key must name (RFC 9964)",
        )

    def test_the_same_key_set_fetched_twice_has_the_same_fingerprint(self):
        document = {"keys": [akp(level, kid=level) for level in LEVELS]}
        first, second = KeySet.from_document(document), KeySet.from_document(document)
        assert first.fingerprint == second.fingerprint
        changed = KeySet.from_document({"keys": [akp("ML-DSA-44", index=1, kid="ML-DSA-44")]})
        assert changed.fingerprint != first.fingerprint


def test_without_ml_dsa_in_cryptography_an_akp_key_is_skipped_saying_why(monkeypatch):
    monkeypatch.setattr(_keys, "mldsa_public_key_class", lambda alg: None)
    with pytest.raises(KeySetError, match="installed cryptography cannot verify ML-DSA-65"):
        VerificationKey.from_jwk(akp())
