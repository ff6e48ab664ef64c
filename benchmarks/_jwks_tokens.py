"""Keys and real signed access tokens for the JWKS benchmark's provider.

Kept apart from the provider's server, which runs in its own process and needs
no cryptography: it only serves the JWK documents published to it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

__all__ = ["API", "RsaSigner", "b64url", "ec_jwk"]

API = "https://api.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _part(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


class RsaSigner:
    """An RS256 key pair of the provider: its public JWK, and real signed access tokens."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, str]:
        numbers = self.key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64url(n),
            "e": b64url(e),
        }

    def token(self, issuer: str, serial: int, *, kid: str | None = None) -> str:
        """A valid Auth0-like access token; ``serial`` makes it distinct, ``kid`` overrides."""
        now = int(time.time())
        header = {"alg": "RS256", "typ": "at+jwt", "kid": kid or self.kid}
        claims = {
            "iss": issuer,
            "sub": f"auth0|{serial:024x}",
            "aud": [API, issuer + "userinfo"],
            "iat": now,
            "exp": now + 3600,
            "azp": "Xq7sdf8Gh2kLmN3pQrStUvWx9YzAbC1d",
            "scope": "openid profile read:contacts",
        }
        signing_input = _part(header) + "." + _part(claims)
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)


def ec_jwk(kid: str) -> dict[str, str]:
    """A P-256 public JWK: a cheap second key, as providers publish next to the current one."""
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {
        "kty": "EC",
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "kid": kid,
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }
