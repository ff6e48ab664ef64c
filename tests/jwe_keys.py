"""The API's own keys in the forms ``decryption_keys=`` takes them: PEM text and private JWKs.

Shared by the tests of encrypted tokens (the verifier, ``FakeIssuer.encrypted_token`` and the
dev issuer's encrypting APIs).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import b64url


def private_pem(key: Any) -> str:
    """``key`` as an unencrypted PKCS#8 PEM private key."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: Any) -> str:
    """The public half of ``key`` as a PEM ``PUBLIC KEY``."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_jwk(key: Any, **members: Any) -> dict[str, Any]:
    """An RSA or EC private key as a private JWK (CRT members included), plus ``members``."""
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        pub = n.public_numbers
        ints = {"n": pub.n, "e": pub.e, "d": n.d, "p": n.p, "q": n.q, "dp": n.dmp1,
                "dq": n.dmq1, "qi": n.iqmp}  # fmt: skip
        jwk: dict[str, Any] = {"kty": "RSA"}
        for name, value in ints.items():
            jwk[name] = b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))
    else:
        size = (key.curve.key_size + 7) // 8
        numbers = key.private_numbers()
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        jwk = {
            "kty": "EC",
            "crv": crv,
            "x": b64url(numbers.public_numbers.x.to_bytes(size, "big")),
            "y": b64url(numbers.public_numbers.y.to_bytes(size, "big")),
            "d": b64url(numbers.private_value.to_bytes(size, "big")),
        }
    jwk.update(members)
    return jwk
