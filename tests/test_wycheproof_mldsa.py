"""ML-DSA test vectors through bearerguard: Project Wycheproof's, and the draft's JOSE examples.

1. **Wycheproof** (``tests/vectors/wycheproof``, unmodified, Apache-2.0; see the README there):
   every ML-DSA-44/65/87 verification vector, 631 in all. The group's public key becomes an
   ``AKP`` JWK (``alg`` its level, ``pub`` its bytes) and is imported with
   ``VerificationKey.from_jwk``, exactly as a key from a provider's JWKS is; the verdict is
   step 6 of ``_flow.verify_flow``: the signature as long as the key's ``signature_size`` *and*
   ``SignaturePrimitive.verify`` returning ``True``. Every ``valid`` vector is accepted, every
   ``invalid`` one refused (a public key of the wrong length already at import), and nothing
   raises. The per-key check (``for_key``) must agree, and a second test runs the bare
   primitive on the key loaded from the vector's DER, without bearerguard's import or length
   check, to show the primitive alone agrees with every label.

   **Contexts.** RFC 9964 signs a JWS with the empty context string. Vectors with a non-empty
   ``ctx`` therefore do not apply to JWS as labelled (their message was signed, or is to be
   checked, under another context). They are run all the same, and each must be *refused*:
   bearerguard always verifies under the empty context, so a signature made under another one
   never passes, whatever its label. Vectors whose ``ctx`` is empty apply as labelled.

2. **The draft's JOSE examples** (``tests/vectors/jose-ml-dsa``, draft-ietf-cose-dilithium's
   appendix, published as RFC 9964): the all-zero seed gives the published key, the ``kid`` is
   the key's RFC 9964 thumbprint, the private JWK is refused and its public half imported, and
   the compact JWS verifies through bearerguard's own steps (its payload is prose, not claims,
   so the header, key and signature are checked the way the verifier checks them). The dev
   issuer reads the example key from a keys file and makes the same public key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from bearerguard import Verifier
from bearerguard._claims import check_header
from bearerguard._jose import b64url_decode, parse_json_object
from bearerguard._keys import KeySet, KeySetError, VerificationKey
from bearerguard._signatures import SignaturePrimitive
from bearerguard.devissuer._keys import StoredKey

from .support import b64url

VECTORS = Path(__file__).parent / "vectors"
WYCHEPROOF = VECTORS / "wycheproof"
EXAMPLES = VECTORS / "jose-ml-dsa"
LEVELS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
FILES = {level: f"mldsa_{level[-2:]}_verify_test.json" for level in LEVELS}
EXAMPLE_FILES = {level: f"ML_DSA_{level[-2:]}.jose.json" for level in LEVELS}
PUBLIC_KEY_BYTES = {"ML-DSA-44": 1312, "ML-DSA-65": 1952, "ML-DSA-87": 2592}


@cache
def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def published_sha256(folder: Path) -> dict[str, str]:
    """The SHA-256 of each file, as the folder's README publishes it."""
    readme = (folder / "README.md").read_text("utf-8")
    return dict(re.findall(r"^\| `([\w.]+\.json)` \|(?:.*\|)? `([0-9a-f]{64})` \|$", readme, re.M))


@dataclass(frozen=True)
class Vector:
    level: str
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    result: str
    public_key: bytes
    public_key_der: bytes
    message: bytes
    context: bytes
    signature: bytes

    @property
    def applies_to_jws(self) -> bool:
        """Whether the vector's context is JWS's: the empty string."""
        return not self.context

    @property
    def jws_verdict(self) -> bool:
        """What a JWS verifier must answer: the label, or refused under another context."""
        return self.applies_to_jws and self.result == "valid"


def vectors(level: str) -> list[Vector]:
    return [
        Vector(
            level=level,
            tc_id=test["tcId"],
            comment=test["comment"],
            flags=tuple(test["flags"]),
            result=test["result"],
            public_key=bytes.fromhex(group["publicKey"]),
            public_key_der=bytes.fromhex(group["publicKeyDer"]),
            message=bytes.fromhex(test["msg"]),
            context=bytes.fromhex(test.get("ctx", "")),
            signature=bytes.fromhex(test["sig"]),
        )
        for group in load(WYCHEPROOF / FILES[level])["testGroups"]
        for test in group["tests"]
    ]


ALL = [vector for level in LEVELS for vector in vectors(level)]


def params(items: list[Vector]) -> list[Any]:
    return [pytest.param(v, id=f"{v.level}-tc{v.tc_id}") for v in items]


def akp_jwk(level: str, public_key: bytes) -> dict[str, str]:
    return {"kty": "AKP", "alg": level, "pub": b64url(public_key)}


def bearerguard_verdict(vector: Vector) -> bool:
    """Step 6 of the verifier, with the key imported as a provider's JWKS would be."""
    try:
        key = VerificationKey.from_jwk(akp_jwk(vector.level, vector.public_key))
    except KeySetError:
        return False
    primitive = SignaturePrimitive(vector.level)
    verdict = len(vector.signature) == key.signature_size and primitive.verify(
        vector.message, key.public_key, vector.signature
    )
    # The per-key check, as a DPoP proof's key gets it, answers the same.
    assert primitive.for_key(key.public_key)(vector.message, vector.signature) is verdict
    return verdict


# --- 1. Wycheproof ---------------------------------------------------------------------------


def test_the_vector_files_are_the_published_ones():
    sums = published_sha256(WYCHEPROOF)
    assert sorted(sums) == sorted(FILES.values())
    for name, expected in sums.items():
        assert hashlib.sha256((WYCHEPROOF / name).read_bytes()).hexdigest() == expected
    licence = (WYCHEPROOF / "LICENSE").read_bytes()
    assert b"Apache License" in licence
    assert licence == (Path(__file__).parent / "data" / "wycheproof" / "LICENSE").read_bytes()


def test_the_files_hold_the_vectors_they_announce():
    for level in LEVELS:
        document = load(WYCHEPROOF / FILES[level])
        assert document["algorithm"] == level
        assert document["numberOfTests"] == len(vectors(level))
    assert len(ALL) == 631
    assert {v.result for v in ALL} == {"valid", "invalid"}  # nothing "acceptable" to decide


@pytest.mark.parametrize("vector", params(ALL))
def test_bearerguard_answers_each_vector_as_a_jws_verifier_must(vector: Vector):
    assert bearerguard_verdict(vector) is vector.jws_verdict, vector.comment


@pytest.mark.parametrize("vector", params(ALL))
def test_the_bare_primitive_agrees_with_every_label(vector: Vector):
    """Without bearerguard's import or length check: the key as the vector's DER loads it."""
    try:
        key = load_der_public_key(vector.public_key_der)
    except ValueError:
        # Only a public key of the wrong length fails to load; the import refuses it too.
        assert "IncorrectPublicKeyLength" in vector.flags
        assert vector.result == "invalid"
        return
    verdict = SignaturePrimitive(vector.level).verify(vector.message, key, vector.signature)
    assert verdict is vector.jws_verdict, vector.comment


def test_every_kind_of_vector_is_exercised():
    """The flags the files use, each met by at least one vector, valid and invalid both."""
    flags = {flag for v in ALL for flag in v.flags}
    assert {
        "ValidSignature", "ModifiedSignature", "IncorrectSignatureLength",
        "IncorrectPublicKeyLength", "InvalidHintsEncoding", "InfinityNormViolation",
        "InvalidContext", "ZeroPublicKey", "BoundaryCondition", "ManySteps",
    } <= flags  # fmt: skip
    assert sum(v.result == "valid" and not v.applies_to_jws for v in ALL) == 6
    assert sum(v.jws_verdict for v in ALL) == 221


@pytest.mark.parametrize("vector", params([v for v in ALL if not v.applies_to_jws]))
def test_a_signature_under_another_context_is_refused_whatever_its_label(vector: Vector):
    # Not applicable as labelled: JWS fixes the context to the empty string (RFC 9964).
    assert bearerguard_verdict(vector) is False


def test_a_public_key_of_the_wrong_length_is_refused_at_import():
    wrong = [v for v in ALL if "IncorrectPublicKeyLength" in v.flags]
    assert wrong
    for vector in wrong:
        assert len(vector.public_key) != PUBLIC_KEY_BYTES[vector.level]
        with pytest.raises(KeySetError, match="public key is not"):
            VerificationKey.from_jwk(akp_jwk(vector.level, vector.public_key))


def test_valid_signatures_of_one_level_never_verify_under_another():
    """Level confusion: the key of one level is no key of another, whatever the signature."""
    for vector in (v for v in ALL if v.jws_verdict):
        key = VerificationKey.from_jwk(akp_jwk(vector.level, vector.public_key))
        for other in LEVELS:
            if other != vector.level:
                verdict = SignaturePrimitive(other).verify(
                    vector.message, key.public_key, vector.signature
                )
                assert verdict is False, (vector.level, vector.tc_id, other)


# --- 2. The draft's JOSE examples ------------------------------------------------------------


def example(level: str) -> dict[str, Any]:
    return load(EXAMPLES / EXAMPLE_FILES[level])


def akp_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 9964's JWK thumbprint of an AKP key: RFC 7638 over alg, kty and pub, in that order."""
    canonical = json.dumps(
        {name: jwk[name] for name in ("alg", "kty", "pub")}, separators=(",", ":")
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def test_the_example_files_are_the_published_ones():
    sums = published_sha256(EXAMPLES)
    assert sorted(sums) == sorted(EXAMPLE_FILES.values())
    for name, expected in sums.items():
        assert hashlib.sha256((EXAMPLES / name).read_bytes()).hexdigest() == expected
    assert "Redistribution and use" in (EXAMPLES / "LICENSE").read_text("utf-8")


@pytest.mark.parametrize("level", LEVELS)
def test_the_example_key_is_the_all_zero_seed_and_its_kid_the_thumbprint(level):
    from cryptography.hazmat.primitives.asymmetric import mldsa

    found = example(level)
    jwk = found["jwk"]
    assert (jwk["kty"], jwk["alg"]) == ("AKP", level)
    assert bytes.fromhex(found["priv"]) == b64url_decode(jwk["priv"]) == bytes(32)
    private = getattr(mldsa, f"MLDSA{level[-2:]}PrivateKey").from_seed_bytes(bytes(32))
    public = private.public_key().public_bytes_raw()
    assert public == b64url_decode(jwk["pub"]) == bytes.fromhex(found["raw_public_key"])
    assert jwk["kid"] == akp_thumbprint(jwk)


@pytest.mark.parametrize("level", LEVELS)
def test_the_private_example_jwk_is_refused_and_its_public_half_imported(level):
    jwk = example(level)["jwk"]
    with pytest.raises(KeySetError, match="private key material"):
        VerificationKey.from_jwk(jwk)
    key = VerificationKey.from_jwk({name: v for name, v in jwk.items() if name != "priv"})
    assert (key.kid, key.kty, key.algorithms) == (jwk["kid"], "AKP", frozenset({level}))
    assert key.signature_size == len(bytes.fromhex(example(level)["raw_signature"]))


@pytest.mark.parametrize("level", LEVELS)
def test_the_example_jws_verifies_through_the_verifier_s_steps(level):
    found = example(level)
    jws: str = found["jws"]
    header_segment, payload_segment, signature_segment = jws.split(".")
    signing_input = f"{header_segment}.{payload_segment}".encode()
    signature = b64url_decode(signature_segment)
    assert signing_input == bytes.fromhex(found["raw_to_be_signed"])
    assert signature == bytes.fromhex(found["raw_signature"])

    config = Verifier(issuer="tenant.example", audience="api", algorithms=[level]).config
    header = parse_json_object(b64url_decode(header_segment), "header")
    alg, kid = check_header(header, config)
    public = {name: v for name, v in found["jwk"].items() if name != "priv"}
    key = KeySet.from_document({"keys": [public]}).find(kid, alg)
    assert key is not None
    assert len(signature) == key.signature_size
    primitive = SignaturePrimitive(alg)
    assert primitive.verify(signing_input, key.public_key, signature) is True
    assert primitive.verify(signing_input + b".", key.public_key, signature) is False
    for other in LEVELS:
        if other != level:  # the same token under another level's name finds no key
            assert KeySet.from_document({"keys": [public]}).find(kid, other) is None


@pytest.mark.parametrize("level", LEVELS)
def test_the_dev_issuer_reads_the_example_key_from_a_keys_file(level):
    jwk = example(level)["jwk"]
    stored = StoredKey.from_jwk(jwk, "keys[0]")
    assert (stored.kid, stored.algorithm) == (jwk["kid"], level)
    assert stored.public_jwk()["pub"] == jwk["pub"]
    assert stored.private_jwk()["priv"] == jwk["priv"]
    # What it signs verifies under the published key.
    key = VerificationKey.from_jwk(stored.public_jwk())
    assert SignaturePrimitive(level).verify(b"a.b", key.public_key, stored.sign(b"a.b"))
