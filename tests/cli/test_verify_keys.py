"""``bearerguard verify --keys FILE`` and ``BEARERGUARD_KEYS``: the issuer's keys from a file,
nothing fetched (no fake issuer answers here: a fetch would fail, and the verdict say so)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.support import claims, public_jwk, rsa_key, sign_token

from .conftest import AUDIENCE, ISSUER, Run

TRUSTING = ("--issuer", ISSUER, "--audience", AUDIENCE)


def token(kid: str = "k1") -> str:
    body = claims(time.time(), iss=ISSUER, aud=AUDIENCE)
    return sign_token({"alg": "RS256", "kid": kid}, body, rsa_key(0))


@pytest.fixture
def pem_file(tmp_path: Path) -> Path:
    path = tmp_path / "tenant.pem"
    path.write_bytes(
        rsa_key(0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


def test_keys_from_a_pem_file_verify_without_a_fetch(cli: Run, pem_file: Path):
    result = cli("verify", token(), *TRUSTING, "--keys", str(pem_file))
    assert result.status == 0, result.text
    assert "\nVALID\n" in result.out


def test_a_kid_outside_a_jwk_set_file_is_refused_saying_so(cli: Run, tmp_path: Path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(rsa_key(0), kid="k1", alg="RS256")]}))
    result = cli("verify", token("k2"), *TRUSTING, "--keys", str(path))
    assert result.status == 1
    assert "HTTP 401" in result.out
    assert "keys=" in result.out


def test_bearerguard_keys_is_read_from_the_environment(
    cli: Run, pem_file: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_KEYS", str(pem_file))
    assert cli("verify", token(), *TRUSTING).status == 0


def test_a_bad_key_file_is_a_configuration_error_without_a_traceback(cli: Run, tmp_path: Path):
    path = tmp_path / "private.pem"
    path.write_bytes(
        rsa_key(0).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    result = cli("verify", token(), *TRUSTING, "--keys", str(path))
    assert result.status == 2
    assert "private key" in result.err
    assert "Traceback" not in result.text
    assert "MII" not in result.text  # no key material repeated
