"""Signing keys of a fake issuer, and compact JWS serialisation with full control.

Keys are generated on first use, never loaded from disk: nothing secret is ever
committed, and a fake that mints nothing pays for no key. Tokens are serialised
here rather than with ``jwt.encode``, which refuses some of what negative tests
need (a non-string ``iss``, a non-string ``kid``); PyJWT still does the signing
and the JWK export.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import Algorithm, get_default_algorithms

from bearerguard._jose import b64url_encode

__all__ = [
    "FAKE_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "SigningKey",
    "b64url",
    "compact_jws",
    "json_segment",
]

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)

_EC_CURVES: Mapping[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
    "ES256K": ec.SECP256K1,
}
_EDDSA_CURVES: Mapping[str, type[ed25519.Ed25519PrivateKey] | type[ed448.Ed448PrivateKey]] = {
    "EdDSA": ed25519.Ed25519PrivateKey,  # either curve fits (RFC 8037); providers use this one
    "Ed25519": ed25519.Ed25519PrivateKey,
    "Ed448": ed448.Ed448PrivateKey,
}
SIGNING_ALGORITHMS = (
    "RS256", "RS384", "RS512",
    "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES256K",
    "EdDSA",
)  # fmt: skip
# What a FakeIssuer signs with: the above and RFC 9864's fully specified names of EdDSA on
# one curve. Those stay out of SIGNING_ALGORITHMS, which also says what the dev issuer's
# keys files may name, and the dev issuer loads keys by PyJWT's names.
FAKE_ALGORITHMS = (*SIGNING_ALGORITHMS, "Ed25519", "Ed448")
# Only these members are ever published: PyJWT's export of a private key would add d, p, q ...
_PUBLIC_MEMBERS = frozenset({"kty", "crv", "n", "e", "x", "y"})
_PYJWT = get_default_algorithms()
# PyJWT knows EdDSA by that name only and signs with the curve of the key it is given.
_PYJWT.update(dict.fromkeys(("Ed25519", "Ed448"), _PYJWT["EdDSA"]))


b64url = b64url_encode  # the core's, under the name the testing modules use


def json_segment(value: Mapping[str, Any]) -> str:
    """A JOSE header or claims set as a compact-serialisation segment."""
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _generate(algorithm: str) -> PrivateKey:
    if algorithm.startswith(("RS", "PS")):
        # 2048 bits: the smallest the verifier accepts (RFC 7518 §3.3), and the fastest.
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[algorithm]())
    return _EDDSA_CURVES[algorithm].generate()


class SigningKey:
    """One key pair for one JWS algorithm; the private half is made on first use.

    Example::

        key = SigningKey("ES256")
        key.public_jwk()      # {'kty': 'EC', 'crv': 'P-256', ..., 'kid': ..., 'alg': 'ES256'}
    """

    __slots__ = ("_jwk", "_lock", "_private", "algorithm", "kid")

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        # As random as Auth0's kids: a new fake never reuses an old fake's kid by accident.
        self.kid = secrets.token_urlsafe(16)
        self._private: PrivateKey | None = None
        self._jwk: dict[str, Any] | None = None
        self._lock = threading.Lock()  # a verifier's fetch may ask for the JWK from any thread

    @property
    def _pyjwt(self) -> Algorithm:
        return _PYJWT[self.algorithm]

    def _key(self) -> PrivateKey:
        with self._lock:
            if self._private is None:
                self._private = _generate(self.algorithm)
            return self._private

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK, with ``kid``, ``alg`` and ``use: sig``; never a private member."""
        if self._jwk is None:
            exported = self._pyjwt.to_jwk(self._key().public_key(), as_dict=True)
            public = {name: v for name, v in exported.items() if name in _PUBLIC_MEMBERS}
            self._jwk = {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}
        return dict(self._jwk)

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS signature of ``signing_input`` (raw ``r || s`` for ECDSA, RFC 7518 §3.4)."""
        return self._pyjwt.sign(signing_input, self._key())

    def __repr__(self) -> str:
        return f"SigningKey(algorithm={self.algorithm!r}, kid={self.kid!r})"


def compact_jws(header: Mapping[str, Any], claims: Mapping[str, Any], key: SigningKey) -> str:
    """``header.claims.signature``, signed by ``key`` whatever the header says."""
    signing_input = json_segment(header) + "." + json_segment(claims)
    return signing_input + "." + b64url(key.sign(signing_input.encode("ascii")))
