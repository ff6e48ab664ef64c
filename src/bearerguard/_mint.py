"""What bearerguard signs rather than checks: keys, compact JWS, token claims, DPoP proofs.

The one home of the minting shared by :class:`~bearerguard.testing.FakeIssuer`
and the dev issuer (and the command line): signing keys made on first use,
compact serialisation with full control over header and claims, Auth0-like
access-token claims, and DPoP proofs (RFC 9449 §4.2) signed by a client's key.

Keys are generated, never loaded from disk here: nothing secret is ever
committed, and a key that signs nothing costs nothing. Tokens are serialised
here rather than with ``jwt.encode``, which refuses some of what negative tests
need (a non-string ``iss``, a non-string ``kid``); PyJWT still does the signing
and the JWK export, except for ML-DSA (RFC 9964), which PyJWT does not know:
``cryptography`` signs, and the ``AKP`` JWK is written here. The thumbprint and
``ath`` come from the verifier's own :mod:`bearerguard._dpop`, so a minted proof
and its check cannot drift apart.

Example::

    key = SigningKey("ES256")
    token = compact_jws({"alg": "ES256", "kid": key.kid}, {"sub": "auth0|1"}, key)
    client = SigningKey("ES256")
    proof = dpop_proof(client, method="GET", url="https://api.example.com/contacts",
                       iat=1800000000, jti="a-unique-id", access_token=token)
"""

from __future__ import annotations

import calendar
import json
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import Algorithm, get_default_algorithms

from ._config import MLDSA_ALGORITHMS
from ._dpop import jwk_thumbprint, token_hash
from ._errors import SCOPE_TOKEN, ConfigurationError
from ._jose import b64url_encode
from ._signatures import mldsa_public_key_class

if TYPE_CHECKING:  # cryptography before ML-DSA has no such module: only for the types
    from cryptography.hazmat.primitives.asymmetric import mldsa

__all__ = [
    "CLIENT_ID",
    "FAKE_ALGORITHMS",
    "REGISTERED_CLAIMS",
    "SIGNING_ALGORITHMS",
    "PrivateKey",
    "SigningKey",
    "b64url",
    "build_claims",
    "claim_value",
    "compact_jws",
    "dpop_proof",
    "json_segment",
    "namespace_prefix",
    "proof_claims",
    "proof_header",
    "proof_target",
    "scope_claim",
    "whole_seconds",
]

# --- keys and compact JWS ----------------------------------------------------------------------

MldsaPrivateKey: TypeAlias = (
    "mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey"
)
PrivateKey: TypeAlias = (
    "rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey"
    " | ed448.Ed448PrivateKey | MldsaPrivateKey"
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
    "ML-DSA-44", "ML-DSA-65", "ML-DSA-87",
)  # fmt: skip
# What a FakeIssuer signs with: the above and RFC 9864's fully specified names of EdDSA on
# one curve. Those stay out of SIGNING_ALGORITHMS, which also says what the dev issuer's
# keys files may name, and the dev issuer loads keys by PyJWT's names (AKP keys by its own).
FAKE_ALGORITHMS = (*SIGNING_ALGORITHMS, "Ed25519", "Ed448")
# Only these members are ever published: PyJWT's export of a private key would add d, p, q ...
# (an AKP key's alg is one of its members too: RFC 9964 makes it REQUIRED.)
_PUBLIC_MEMBERS = frozenset({"kty", "crv", "n", "e", "x", "y", "pub"})
_PYJWT = get_default_algorithms()
# PyJWT knows EdDSA by that name only and signs with the curve of the key it is given.
_PYJWT.update(dict.fromkeys(("Ed25519", "Ed448"), _PYJWT["EdDSA"]))


b64url = b64url_encode  # the core's, under the name the minting code uses


def json_segment(value: Mapping[str, Any]) -> str:
    """A JOSE header or claims set as a compact-serialisation segment."""
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _mldsa_private_class(algorithm: str) -> Any:
    """``cryptography``'s private-key class of ML-DSA level ``algorithm``."""
    from cryptography.hazmat.primitives.asymmetric import mldsa  # noqa: PLC0415 - optional

    return getattr(mldsa, "MLDSA" + algorithm[-2:] + "PrivateKey")


def _generate(algorithm: str) -> PrivateKey:
    if algorithm in MLDSA_ALGORITHMS:
        key: PrivateKey = _mldsa_private_class(algorithm).generate()
        return key
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
        key.bare_jwk()        # {'kty': 'EC', 'crv': 'P-256', 'x': ..., 'y': ...}
    """

    __slots__ = ("_jwk", "_lock", "_private", "algorithm", "kid")

    def __init__(self, algorithm: str) -> None:
        if algorithm in MLDSA_ALGORITHMS and mldsa_public_key_class(algorithm) is None:
            raise ConfigurationError(
                f"{algorithm} keys need a cryptography release with ML-DSA on a backend that "
                "provides it (OpenSSL 3.5 or later, or AWS-LC): upgrade cryptography, or sign "
                "with another algorithm such as ES256."
            )
        self.algorithm = algorithm
        # As random as Auth0's kids: a new fake never reuses an old fake's kid by accident.
        self.kid = secrets.token_urlsafe(16)
        self._private: PrivateKey | None = None
        self._jwk: dict[str, Any] | None = None
        self._lock = threading.Lock()  # a verifier's fetch may ask for the JWK from any thread

    @classmethod
    def from_private_key(cls, algorithm: str, private: PrivateKey) -> SigningKey:
        """A key pair whose private half already exists (read from a file, say).

        Example::

            key = SigningKey.from_private_key("ES256", ec.generate_private_key(ec.SECP256R1()))
        """
        key = cls(algorithm)
        key._private = private
        return key

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
            if self.algorithm in MLDSA_ALGORITHMS:
                # RFC 9964: the key's bytes as pub; its alg says what they are.
                public_key: Any = self._key().public_key()
                exported = {"kty": "AKP", "pub": b64url(public_key.public_bytes_raw())}
            else:
                exported = self._pyjwt.to_jwk(self._key().public_key(), as_dict=True)
            public = {name: v for name, v in exported.items() if name in _PUBLIC_MEMBERS}
            self._jwk = {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}
        return dict(self._jwk)

    def bare_jwk(self) -> dict[str, Any]:
        """The public key alone (``kty`` and its key members): a DPoP proof's ``jwk``.

        An ``AKP`` key keeps its ``alg``, without which its bytes mean nothing (RFC 9964).
        """
        jwk = self.public_jwk()
        members = _PUBLIC_MEMBERS | {"alg"} if jwk["kty"] == "AKP" else _PUBLIC_MEMBERS
        return {name: v for name, v in jwk.items() if name in members}

    def thumbprint(self) -> str:
        """The RFC 7638 thumbprint of the public key: what a bound token's ``cnf.jkt`` names."""
        return jwk_thumbprint(self.bare_jwk())

    def sign(self, signing_input: bytes) -> bytes:
        """The JWS signature of ``signing_input`` (raw ``r || s`` for ECDSA, RFC 7518 §3.4;
        ML-DSA with the empty context, RFC 9964)."""
        if self.algorithm in MLDSA_ALGORITHMS:
            private: Any = self._key()
            signature: bytes = private.sign(signing_input, b"")
            return signature
        return self._pyjwt.sign(signing_input, self._key())

    def __repr__(self) -> str:
        return f"SigningKey(algorithm={self.algorithm!r}, kid={self.kid!r})"


def compact_jws(header: Mapping[str, Any], claims: Mapping[str, Any], key: SigningKey) -> str:
    """``header.claims.signature``, signed by ``key`` whatever the header says."""
    signing_input = json_segment(header) + "." + json_segment(claims)
    return signing_input + "." + b64url(key.sign(signing_input.encode("ascii")))


# --- access-token claims -----------------------------------------------------------------------

CLIENT_ID = "bearerguard-test-client"
# Claims that keep their bare name under namespace=...: the JWT registered claims (RFC 7519
# §4.1), the OAuth ones (RFC 8693, RFC 9068, RFC 7800) and those Auth0 itself puts into
# access tokens. Everything else is the API's own and Auth0 wants it namespaced.
REGISTERED_CLAIMS = frozenset(
    {
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti",
        "scope", "scp", "client_id", "azp", "auth_time", "acr", "amr", "cnf", "act", "may_act",
        "gty", "permissions", "org_id", "org_name", "sid",
    }
)  # fmt: skip


def scope_claim(scopes: str | Iterable[str]) -> str | None:
    """The ``scope`` claim for ``scopes`` (one space-separated string or several names).

    Example::

        scope_claim(["read:contacts", "write:contacts"])   # 'read:contacts write:contacts'
        scope_claim("read:contacts write:contacts")        # the same
        scope_claim(())                                     # None: no scope claim at all
    """
    # One string is the claim's own syntax: names separated by single spaces.
    names = list(scopes) if not isinstance(scopes, str) else scopes.split(" ") if scopes else []
    for name in names:
        if not isinstance(name, str) or not SCOPE_TOKEN.fullmatch(name):
            raise ConfigurationError(
                f"{name!r} is not a scope name: scopes are non-empty and contain no spaces, "
                "quotes or backslashes (RFC 6749 §3.3). Pass scopes=['read:contacts', "
                "'write:contacts'] or one string with the names separated by single spaces."
            )
    return " ".join(dict.fromkeys(names)) or None


def namespace_prefix(namespace: str) -> str:
    """``https://example.com`` -> ``https://example.com/``, as ``AccessToken.claim`` reads it."""
    if not isinstance(namespace, str) or not namespace or namespace != namespace.strip():
        raise ConfigurationError(
            f"namespace {namespace!r} must be a non-empty string such as 'https://example.com/'."
        )
    return namespace if namespace.endswith("/") else namespace + "/"


def _namespaced(name: str, prefix: str | None) -> str:
    # A name that is already a URL is a fully namespaced claim of its own: leave it be.
    if prefix is None or name in REGISTERED_CLAIMS or "://" in name:
        return name
    return prefix + name


def claim_value(value: Any) -> Any:
    """A claim's JSON value: a ``datetime`` becomes a NumericDate, anything else stays.

    NumericDate (RFC 7519 §2) is whole seconds here, as providers issue it; a naive
    datetime is taken as UTC, as PyJWT takes it.
    """
    if isinstance(value, datetime):
        return calendar.timegm(value.utctimetuple())
    return value


def whole_seconds(value: float) -> int | float:
    """A NumericDate as an integer when it is one (``1800003600.0`` -> ``1800003600``)."""
    return int(value) if float(value).is_integer() else value


def build_claims(
    *,
    now: float,
    iss: str | None,
    sub: str | None,
    aud: str | Sequence[str] | None,
    lifetime: float,
    expires_in: float | None,
    scopes: str | Iterable[str],
    namespace: str | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """A token's claims: defaults first, then ``extra`` (namespaced); ``None`` removes a claim.

    Example::

        build_claims(now=1800000000, iss="https://tenant.auth0.com/", sub="auth0|1",
                     aud="https://api.example.com", lifetime=3600, expires_in=None,
                     scopes="read:contacts", namespace="https://example.com",
                     extra={"roles": ["admin"], "azp": None})
        # {'iss': ..., 'iat': 1800000000, 'exp': 1800003600, 'scope': 'read:contacts',
        #  'client_id': ..., 'jti': ..., 'https://example.com/roles': ['admin']}
    """
    prefix = None if namespace is None else namespace_prefix(namespace)
    overrides = {_namespaced(name, prefix): claim_value(v) for name, v in extra.items()}
    scope = scope_claim(scopes)
    if scope is not None and "scope" in overrides:
        raise TypeError("Pass scopes=[...] or a raw scope=... claim, not both.")
    if expires_in is not None and "exp" in overrides:
        raise TypeError("Pass expires_in=... or a raw exp=... claim, not both.")

    issued = int(now)
    claims: dict[str, Any] = {
        "iss": iss,
        "sub": sub,
        "aud": aud if aud is None or isinstance(aud, str) else list(aud),
        "iat": issued,
        "exp": whole_seconds(issued + (lifetime if expires_in is None else expires_in)),
        "scope": scope,
        # Auth0 names the client in azp; RFC 9068 in client_id: carry both, as both are read.
        "azp": CLIENT_ID,
        "client_id": CLIENT_ID,
        "jti": secrets.token_urlsafe(16),
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


# --- DPoP proofs (RFC 9449 §4.2) ---------------------------------------------------------------


def proof_target(url: str) -> str:
    """``htu``: the request's URL without its query and fragment (RFC 9449 §4.2).

    Example::

        proof_target("https://api.example.com/contacts?page=2#top")
        # 'https://api.example.com/contacts'
    """
    return url.split("#", 1)[0].split("?", 1)[0]


def proof_header(key: SigningKey) -> dict[str, Any]:
    """A proof's header: ``typ: dpop+jwt``, the key's ``alg`` and its public key as ``jwk``."""
    return {"typ": "dpop+jwt", "alg": key.algorithm, "jwk": key.bare_jwk()}


def proof_claims(
    *,
    method: str,
    url: str,
    iat: float,
    jti: str,
    access_token: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """A proof's claims: ``jti``, ``htm``, ``htu``, ``iat`` (whole seconds when whole), and
    ``ath`` (the hash of ``access_token``) and ``nonce`` when given."""
    claims: dict[str, Any] = {
        "jti": jti,
        "htm": method,
        "htu": proof_target(url),
        "iat": whole_seconds(iat),
    }
    if access_token is not None:
        claims["ath"] = token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    return claims


def dpop_proof(
    key: SigningKey,
    *,
    method: str,
    url: str,
    iat: float,
    jti: str,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """A DPoP proof for one request, signed by the client's ``key``.

    Example::

        dpop_proof(client_key, method="POST", url="https://tenant.example/oauth/token",
                   iat=time.time(), jti=secrets.token_urlsafe(16))   # no token yet: no ath
    """
    claims = proof_claims(
        method=method, url=url, iat=iat, jti=jti, access_token=access_token, nonce=nonce
    )
    return compact_jws(proof_header(key), claims, key)
