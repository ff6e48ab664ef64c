"""The DPoP key file of ``token``/``proof``: created when missing, read in every usual form,
refused with a message that says what to do; its proofs pass the verifier's own checks."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x25519
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from bearerguard._cli._dpop_key import DPoPKeyError, load_key, load_or_create_key, new_proof
from bearerguard._config import DPOP_ALGORITHMS
from bearerguard._dpop import check_binding, read_proof, token_hash
from bearerguard._signatures import signature_primitives

URL = "https://api.example.test/api/contacts"
PRIMITIVES = signature_primitives(DPOP_ALGORITHMS)


PKCS8 = serialization.PrivateFormat.PKCS8


def pem(private: Any, form: serialization.PrivateFormat = PKCS8) -> bytes:
    data: bytes = private.private_bytes(
        serialization.Encoding.PEM, form, serialization.NoEncryption()
    )
    return data


def written(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def checked_proof(key: Any, token: str | None = "the-token") -> dict[str, Any]:  # noqa: S107
    """A proof by ``key``, read and bound to the request by the verifier's own code."""
    text = new_proof(key, method="GET", url=URL + "?page=2", access_token=token, nonce="n-1")
    proof = read_proof(text, PRIMITIVES)
    check_binding(proof, method="GET", url=URL, access_token=token, jkt=key.thumbprint(),
                  now=time.time(), leeway=5, max_age=60)  # fmt: skip
    return dict(proof.claims)


# --- created when missing ---------------------------------------------------------------------


def test_a_missing_file_gets_a_new_es256_key_readable_by_its_owner_only(tmp_path: Path):
    path = tmp_path / "dpop.pem"
    key, created = load_or_create_key(path)
    assert created
    assert key.algorithm == "ES256"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    again, created_again = load_or_create_key(path)
    assert not created_again
    assert again.thumbprint() == key.thumbprint()  # the very key the token is bound to


def test_a_key_cannot_be_created_in_a_folder_that_does_not_exist(tmp_path: Path):
    with pytest.raises(DPoPKeyError, match=r"cannot create the DPoP key file .*nowhere"):
        load_or_create_key(tmp_path / "nowhere" / "dpop.pem")


def test_load_key_never_creates_one(tmp_path: Path):
    with pytest.raises(DPoPKeyError, match="no DPoP key file") as refused:
        load_key(tmp_path / "dpop.pem")
    assert "bearerguard token" in str(refused.value)  # what makes one
    assert not (tmp_path / "dpop.pem").exists()


# --- every usual form, each signing proofs the verifier accepts -------------------------------


def ec_pem(curve: ec.EllipticCurve, form: serialization.PrivateFormat = PKCS8) -> bytes:
    return pem(ec.generate_private_key(curve), form)


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_jwk_naming_ps256() -> bytes:
    return json.dumps({**RSAAlgorithm.to_jwk(rsa_key(), as_dict=True), "alg": "PS256"}).encode()


KEY_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "EC P-256, PKCS#8": (lambda: ec_pem(ec.SECP256R1()), "ES256"),
    "EC P-384, as openssl ecparam writes it": (
        lambda: ec_pem(ec.SECP384R1(), serialization.PrivateFormat.TraditionalOpenSSL),
        "ES384",
    ),
    "EC P-521": (lambda: ec_pem(ec.SECP521R1()), "ES512"),
    "RSA 2048": (lambda: pem(rsa_key()), "RS256"),
    "Ed25519": (lambda: pem(ed25519.Ed25519PrivateKey.generate()), "EdDSA"),
    "Ed448": (lambda: pem(ed448.Ed448PrivateKey.generate()), "EdDSA"),
    "a private EC JWK": (
        lambda: ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())).encode(),
        "ES256",
    ),
    "a private RSA JWK naming PS256": (rsa_jwk_naming_ps256, "PS256"),
}


@pytest.mark.parametrize("kind", sorted(KEY_FILES))
def test_each_usual_key_file_signs_proofs_the_verifier_accepts(tmp_path: Path, kind: str):
    make, algorithm = KEY_FILES[kind]
    key = load_key(written(tmp_path / "key", make()))
    assert key.algorithm == algorithm
    claims = checked_proof(key)
    assert claims["htm"] == "GET"
    assert claims["htu"] == URL  # query left out (RFC 9449 §4.2)
    assert claims["ath"] == token_hash("the-token")
    assert claims["nonce"] == "n-1"


def test_every_proof_is_new_and_of_this_second(tmp_path: Path):
    key, _ = load_or_create_key(tmp_path / "dpop.pem")
    first, second = checked_proof(key, token=None), checked_proof(key, token=None)
    assert first["jti"] != second["jti"]
    assert abs(first["iat"] - time.time()) <= 2
    assert isinstance(first["iat"], int)
    assert "ath" not in first  # no token, no hash: a proof for a token endpoint


# --- refused, saying why and what to do -------------------------------------------------------

public_pem = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
)
encrypted_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.BestAvailableEncryption(b"secret"),
)
public_jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
private_jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)

REFUSED: dict[str, tuple[bytes | str, str]] = {
    "a public PEM": (public_pem, "holds a public key only"),
    "a public JWK": (public_jwk, "holds a public key only"),
    "an encrypted PEM": (encrypted_pem, "encrypted private key: decrypt it"),
    "a secp256k1 key": (pem(ec.generate_private_key(ec.SECP256K1())), "cannot sign DPoP proofs"),
    "a 1024-bit RSA key": (
        pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505
        "an API would refuse proofs signed by this key",
    ),
    "an X25519 (key agreement) key": (pem(x25519.X25519PrivateKey.generate()), "cannot sign"),
    "a symmetric JWK": ('{"kty": "oct", "k": "c2VjcmV0"}', "kty 'oct' cannot sign DPoP proofs"),
    "a JWK Set": (json.dumps({"keys": [private_jwk]}), "holds a JWK Set"),
    "a JWK whose alg is a MAC": (
        json.dumps({**private_jwk, "alg": "HS256"}),
        "'HS256' is not a DPoP proof algorithm",
    ),
    "a JWK whose alg does not fit its curve": (
        json.dumps({**private_jwk, "alg": "ES384"}),
        "its alg ES384 does not fit its EC key",
    ),
    "broken JSON": ('{"kty": "EC", ', "not valid JSON"),
    "a JSON array": ("[1, 2]", "neither a PEM private key nor a JWK"),
    "a broken PEM": (
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "no usable PEM private key",
    ),
    "an empty file": (b"", "is empty"),
    "a huge file": (b"-" * 70_000, "not a key file"),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_an_unusable_key_file_is_refused_saying_why(tmp_path: Path, kind: str):
    data, message = REFUSED[kind]
    path = written(tmp_path / "key", data)
    with pytest.raises(DPoPKeyError) as refused:
        load_key(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)  # which file
