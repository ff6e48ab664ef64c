"""Project Wycheproof test vectors, read from the copies in ``tests/data/wycheproof``.

Only the repository's copies are read (see the README there for where they come from).
Every test of a file becomes one :class:`SignatureVector` or :class:`TokenVector`
carrying its group's key, so a test can be parametrized over a list of them with
the vector's ``tcId`` as the test id.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "wycheproof"

RSA_PKCS1 = "rsa_signature_2048_sha256_test.json"
RSA_PSS = "rsa_pss_2048_sha256_mgf1_32_test.json"
ECDSA_P256 = "ecdsa_secp256r1_sha256_p1363_test.json"
ED25519 = "ed25519_test.json"
JWS = "json_web_signature_test.json"
JWK = "json_web_key_test.json"
FILES = (RSA_PKCS1, RSA_PSS, ECDSA_P256, ED25519, JWS, JWK)

# JWK curve names and coordinate sizes of the curves the raw ECDSA files use.
_EC_CURVES = {"secp256r1": ("P-256", 32)}


@cache
def load(name: str) -> dict[str, Any]:
    """One vector file, parsed."""
    return json.loads((DATA / name).read_text("utf-8"))  # type: ignore[no-any-return]


def published_sha256() -> dict[str, str]:
    """The SHA-256 of each file, as the folder's README publishes it."""
    readme = (DATA / "README.md").read_text("utf-8")
    return dict(re.findall(r"^\| `([\w.]+\.json)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(value: int, length: int | None = None) -> str:
    """A JWK integer member: big-endian, shortest form unless a length is fixed (RFC 7518 §6)."""
    return b64url(value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big"))


def public_jwk(group: Mapping[str, Any]) -> dict[str, str]:
    """A raw-signature group's public key as a JWK, built from its key numbers.

    Built from ``publicKey`` rather than copied from the group's own JWK, which
    some groups lack; ``test_wycheproof`` checks both agree where both exist.
    """
    key = group["publicKey"]
    if "modulus" in key:
        n, e = int(key["modulus"], 16), int(key["publicExponent"], 16)
        return {"kty": "RSA", "n": _unsigned(n), "e": _unsigned(e)}
    if key["type"] == "EcPublicKey":
        crv, size = _EC_CURVES[key["curve"]]
        x, y = int(key["wx"], 16), int(key["wy"], 16)
        return {"kty": "EC", "crv": crv, "x": _unsigned(x, size), "y": _unsigned(y, size)}
    if key["type"] == "EDDSAPublicKey" and key["curve"] == "edwards25519":
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(bytes.fromhex(key["pk"]))}
    raise ValueError(f"unexpected key type {key['type']!r}")


def vectors_own_jwk(group: Mapping[str, Any]) -> dict[str, str] | None:
    """The JWK the group itself carries, if any (``keyJwk`` or ``publicKeyJwk``)."""
    jwk = group.get("publicKeyJwk") or group.get("keyJwk")
    return dict(jwk) if jwk else None


@dataclass(frozen=True)
class SignatureVector:
    """One raw-signature test: does ``signature`` verify ``message`` under the group's key?"""

    file: str
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    result: str  # "valid" | "invalid" | "acceptable"
    group: Mapping[str, Any]
    message: bytes
    signature: bytes

    @property
    def jwk(self) -> dict[str, str]:
        return public_jwk(self.group)


@dataclass(frozen=True)
class TokenVector:
    """One whole-token test: a JWS (compact, or JSON serialization) and its group's keys.

    In ``json_web_signature_test.json`` ``private``/``public`` are single JWKs; in
    ``json_web_key_test.json`` they are JWK Sets. ``public`` is ``None`` for
    symmetric keys, which have no public half.
    """

    file: str
    tc_id: int
    comment: str
    flags: tuple[str, ...]
    result: str
    jws: str
    private: Mapping[str, Any]
    public: Mapping[str, Any] | None


def signature_vectors(name: str) -> list[SignatureVector]:
    return [
        SignatureVector(
            file=name,
            tc_id=test["tcId"],
            comment=test["comment"],
            flags=tuple(test["flags"]),
            result=test["result"],
            group=group,
            message=bytes.fromhex(test["msg"]),
            signature=bytes.fromhex(test["sig"]),
        )
        for group in load(name)["testGroups"]
        for test in group["tests"]
    ]


def token_vectors(name: str) -> list[TokenVector]:
    return [
        TokenVector(
            file=name,
            tc_id=test["tcId"],
            comment=test["comment"],
            flags=tuple(test["flags"]),
            result=test["result"],
            jws=test["jws"],
            private=group["private"],
            public=group.get("public"),
        )
        for group in load(name)["testGroups"]
        for test in group["tests"]
    ]
