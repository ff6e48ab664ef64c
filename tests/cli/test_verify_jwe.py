"""Encrypted access tokens (JWE) on the command line: ``verify --decryption-keys FILE`` (and
``BEARERGUARD_DECRYPTION_KEYS``) verifies one as an API holding that key does; ``decode`` shows
its protected header, says it is encrypted, and with the key shows the signed token inside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bearerguard._jwe import UNDECRYPTABLE
from bearerguard.testing import FakeIssuer
from tests.support import rsa_key

from .conftest import AUDIENCE, ISSUER, Run

TRUSTING = ("--issuer", ISSUER, "--audience", AUDIENCE)
API_KEY = rsa_key(3)  # the API's own decryption key


def pem(key: object, *, private: bool = True) -> bytes:
    if private:
        return key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "api-decryption.pem"
    path.write_bytes(pem(API_KEY))
    return path


@pytest.fixture
def encrypted(issuer: FakeIssuer) -> str:
    return issuer.encrypted_token(API_KEY, kid="api-1", sub="auth0|alice", scopes="read:contacts")


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.text


# --- verify -----------------------------------------------------------------------------------


def test_verify_with_the_apis_key_accepts_it_and_shows_both_headers(
    cli: Run, encrypted: str, key_file: Path
):
    result = cli("verify", encrypted, *TRUSTING, "--decryption-keys", str(key_file))
    assert result.status == 0, result.text
    assert "\nVALID\n" in result.out
    assert '"enc": "A256GCM"' in result.out  # the encrypted token's own header
    assert "HEADER of the signed token inside (decrypted, not verified yet)" in result.out
    assert '"alg": "RS256"' in result.out
    assert "auth0|alice" in result.out


def test_bearerguard_decryption_keys_is_read_from_the_environment(
    cli: Run, encrypted: str, key_file: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_DECRYPTION_KEYS", str(key_file))
    assert cli("verify", encrypted, *TRUSTING).status == 0


def test_verify_json_gives_the_inner_header_and_claims(cli: Run, encrypted: str, key_file: Path):
    result = cli("verify", encrypted, *TRUSTING, "--decryption-keys", str(key_file), "--json")
    answer = json.loads(result.out)
    assert answer["valid"] is True
    assert answer["encrypted"] is True
    assert answer["header"]["alg"] == "RSA-OAEP-256"
    assert answer["inner_header"]["alg"] == "RS256"
    assert answer["claims"]["sub"] == "auth0|alice"
    assert "exp" in answer["times"]


def test_without_the_key_the_refusal_says_how_to_give_it(cli: Run, encrypted: str):
    result = cli("verify", encrypted, *TRUSTING)
    assert result.status == 1
    assert "it is an encrypted JWE" in result.out
    assert "--decryption-keys FILE" in result.out
    assert_no_traceback(result)


def test_another_key_gets_the_verifiers_one_refusal(cli: Run, encrypted: str, tmp_path: Path):
    other = tmp_path / "other.pem"
    other.write_bytes(pem(rsa_key(4)))
    result = cli("verify", encrypted, *TRUSTING, "--decryption-keys", str(other))
    assert result.status == 1
    assert "REFUSED" in result.out
    assert UNDECRYPTABLE in result.out
    assert "auth0|alice" not in result.out  # nothing inside could be read
    assert_no_traceback(result)


def test_an_ec_key_opens_an_ecdh_es_token(cli: Run, issuer: FakeIssuer, tmp_path: Path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(pem(key))
    token = issuer.encrypted_token(key, alg="ECDH-ES+A128KW", enc="A128CBC-HS256")
    assert cli("verify", token, *TRUSTING, "--decryption-keys", str(path)).status == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pem(API_KEY, private=False), "public key"),
        (b"not a key", "neither PEM nor JSON"),
    ],
)
def test_an_unusable_key_file_is_a_configuration_error(
    cli: Run, encrypted: str, tmp_path: Path, content: bytes, message: str
):
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    result = cli("verify", encrypted, *TRUSTING, "--decryption-keys", str(path))
    assert result.status == 2
    assert "decryption_keys" in result.err
    assert_no_traceback(result)
    assert "MII" not in result.text  # no key material repeated


def test_a_missing_key_file_is_named(cli: Run, encrypted: str, tmp_path: Path):
    missing = tmp_path / "nope.pem"
    result = cli("verify", encrypted, *TRUSTING, "--decryption-keys", str(missing))
    assert result.status == 2
    assert "no such file" in result.err
    assert_no_traceback(result)


# --- decode -----------------------------------------------------------------------------------


def test_decode_shows_the_protected_header_and_says_it_is_encrypted(cli: Run, encrypted: str):
    result = cli("decode", encrypted)
    assert result.status == 1
    assert "ENCRYPTED TOKEN (JWE)" in result.out
    assert '"alg": "RSA-OAEP-256"' in result.out
    assert '"kid": "api-1"' in result.out
    assert "--decryption-keys FILE" in result.out
    assert "auth0|alice" not in result.out


def test_decode_with_the_key_shows_the_signed_token_inside_not_verified(
    cli: Run, encrypted: str, key_file: Path
):
    result = cli("decode", encrypted, "--decryption-keys", str(key_file))
    assert result.status == 0, result.text
    assert result.out.count("NOT VERIFIED") == 1  # one banner
    assert "Decrypted with the given key" in result.out
    assert "CLAIMS of the signed token inside (decrypted, NOT verified)" in result.out
    assert "auth0|alice" in result.out
    assert "SIGNATURE" in result.out
    answer = json.loads(cli("decode", encrypted, "--decryption-keys", str(key_file), "--json").out)
    assert answer["kind"] == "jwe"
    assert answer["header"]["enc"] == "A256GCM"
    assert answer["inner"]["claims"]["sub"] == "auth0|alice"


def test_decode_with_another_key_says_why_it_does_not_open(
    cli: Run, encrypted: str, tmp_path: Path
):
    other = tmp_path / "other.pem"
    other.write_bytes(pem(rsa_key(4)))
    result = cli("decode", encrypted, "--decryption-keys", str(other))
    assert result.status == 1
    assert UNDECRYPTABLE in result.out
    assert_no_traceback(result)


def test_decode_with_an_unusable_key_file_is_a_usage_error(
    cli: Run, encrypted: str, tmp_path: Path
):
    path = tmp_path / "public.pem"
    path.write_bytes(pem(API_KEY, private=False))
    result = cli("decode", encrypted, "--decryption-keys", str(path))
    assert result.status == 2
    assert "public key" in result.err
    assert_no_traceback(result)


def test_decode_of_a_signed_token_ignores_decryption_keys(
    cli: Run, issuer: FakeIssuer, key_file: Path
):
    result = cli("decode", issuer.token(), "--decryption-keys", str(key_file))
    assert result.status == 0
    assert "ENCRYPTED" not in result.out
