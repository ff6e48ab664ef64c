"""The client's half of DPoP (RFC 9449): its key file and the proofs signed with it.

A DPoP client holds a private key and sends, with each request, a proof signed by
it. ``bearerguard token --dpop-key FILE`` and ``bearerguard proof --dpop-key FILE``
read that key from a file the user keeps: a PEM private key (PKCS#8, or the
traditional ``EC``/``RSA PRIVATE KEY`` forms ``openssl`` writes) or a private JWK
as JSON. ``token`` creates a new ES256 key there when the file does not exist yet
(mode 0600: it is a credential), so a first run needs no ``openssl``.

A key must be one a resource server accepts in proofs: it is checked with the
verifier's own import rules (RSA of 2048 bits or more, P-256/P-384/P-521,
Ed25519/Ed448), so a proof never fails at the API for its key's shape. Proofs
are signed by the shared minting (:func:`bearerguard._mint.dpop_proof`).

Example::

    key, created = load_or_create_key(Path("dpop.pem"))
    proof = new_proof(key, method="GET", url="http://127.0.0.1:8000/api/private",
                      access_token=token)
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from bearerguard._dpop import DPOP_ALGORITHMS
from bearerguard._keys import KeySetError, VerificationKey
from bearerguard._mint import SigningKey, dpop_proof

__all__ = ["DPoPKeyError", "load_key", "load_or_create_key", "new_proof"]

#: bytes: a PEM RSA-8192 private key is about 6.5 KiB; anything much larger is no key file
_MAX_KEY_FILE = 64 * 1024
_NEW_KEY_ALGORITHM = "ES256"  # what DPoP providers all accept (Auth0 takes ES256 only)
# The algorithm a key signs proofs with when its file does not say: the curve fixes it
# for EC keys; RS256 is the RSA algorithm every DPoP provider lists.
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_JWK_LOADERS = {
    "EC": ECAlgorithm.from_jwk,
    "RSA": RSAAlgorithm.from_jwk,
    "OKP": OKPAlgorithm.from_jwk,
}
_HOW_TO_MAKE_ONE = (
    "point --dpop-key at a file that does not exist yet and 'bearerguard token' creates an "
    "ES256 key there, or make one: openssl genpkey -algorithm EC -pkeyopt "
    "ec_paramgen_curve:P-256 -out dpop.pem"
)


class DPoPKeyError(Exception):
    """The key file cannot be used; the message names the file and what to do (exit 2)."""


def load_or_create_key(path: Path) -> tuple[SigningKey, bool]:
    """The key in ``path``, or a new ES256 key written there (mode 0600) when it does not
    exist; ``(key, created)``. Raises :class:`DPoPKeyError`."""
    if path.exists() or path.is_symlink():
        return load_key(path), False
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        # O_EXCL: never write through a file (or a link) that appeared meanwhile; 0600 from
        # the first byte, since the key is a credential that tokens are bound to.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise DPoPKeyError(
            f"cannot create the DPoP key file {path}: {exc.strerror or exc}."
        ) from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return SigningKey.from_private_key(_NEW_KEY_ALGORITHM, private), True


def load_key(path: Path) -> SigningKey:
    """The private key in ``path`` (PEM or a JWK as JSON), checked to sign DPoP proofs.

    Raises :class:`DPoPKeyError` saying what is wrong with the file and what to do.
    """
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise DPoPKeyError(
            f"no DPoP key file {path}: use the key your token is bound to; to get a bound "
            f"token, {_HOW_TO_MAKE_ONE}."
        ) from None
    except OSError as exc:
        raise DPoPKeyError(
            f"cannot read the DPoP key file {path}: {exc.strerror or exc}."
        ) from None
    if len(data) > _MAX_KEY_FILE:
        raise DPoPKeyError(f"{path} is over {_MAX_KEY_FILE // 1024} KiB: not a key file.")
    stripped = data.strip()
    if not stripped:
        raise DPoPKeyError(f"{path} is empty: {_HOW_TO_MAKE_ONE}.")
    if stripped.startswith(b"-----BEGIN"):
        private, algorithm = _from_pem(stripped, path), None
    elif stripped.startswith(b"{"):
        private, algorithm = _from_jwk(stripped, path)
    else:
        raise DPoPKeyError(
            f"{path} holds neither a PEM private key nor a JWK (JSON): {_HOW_TO_MAKE_ONE}."
        )
    return _checked(private, algorithm, path)


def new_proof(
    key: SigningKey,
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """A proof for one request, now: a fresh ``jti``, ``iat`` the current second.

    Example::

        new_proof(key, method="POST", url="https://tenant.example/oauth/token")
    """
    return dpop_proof(
        key,
        method=method,
        url=url,
        iat=int(time.time()),
        jti=secrets.token_urlsafe(16),
        access_token=access_token,
        nonce=nonce,
    )


# --- reading the file -------------------------------------------------------------------------


def _from_pem(data: bytes, path: Path) -> Any:
    if b"PUBLIC KEY-----" in data or b"CERTIFICATE-----" in data:
        raise DPoPKeyError(_public_only(path))
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography's way of saying the key is encrypted
        raise DPoPKeyError(
            f"{path} holds an encrypted private key: decrypt it into another file first "
            "(openssl pkey -in ENCRYPTED.pem -out dpop.pem) and keep that one private."
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise DPoPKeyError(f"{path} holds no usable PEM private key ({exc}).") from None


def _from_jwk(data: bytes, path: Path) -> tuple[Any, str | None]:
    try:
        jwk = json.loads(data)
    except (ValueError, RecursionError):
        raise DPoPKeyError(f"{path} starts like JSON but is not valid JSON.") from None
    if not isinstance(jwk, dict):
        raise DPoPKeyError(f"{path} holds JSON that is not a JWK object.")
    if "keys" in jwk:
        raise DPoPKeyError(
            f"{path} holds a JWK Set: put the one private JWK (with its 'd') in the file alone."
        )
    kty = jwk.get("kty")
    loader = _JWK_LOADERS.get(kty) if isinstance(kty, str) else None
    if loader is None:
        raise DPoPKeyError(
            f"{path}: a JWK of kty {kty!r} cannot sign DPoP proofs; use an EC (P-256, P-384, "
            "P-521), RSA (2048 bits or more) or OKP (Ed25519, Ed448) key."
        )
    if "d" not in jwk:
        raise DPoPKeyError(_public_only(path))
    try:
        private = loader(jwk)
    except (InvalidKeyError, ValueError, KeyError, TypeError) as exc:
        raise DPoPKeyError(
            f"{path} holds a JWK that is not a usable private key ({exc})."
        ) from None
    alg = jwk.get("alg")
    return private, alg if isinstance(alg, str) else None


def _public_only(path: Path) -> str:
    return (
        f"{path} holds a public key only: a DPoP proof is signed with the private key, so "
        "--dpop-key needs the private key file (the public key travels in each proof)."
    )


def _checked(private: Any, algorithm: str | None, path: Path) -> SigningKey:
    """A signing key for ``private``, once the verifier's own rules accept its public half."""
    if isinstance(private, ec.EllipticCurvePrivateKey):
        default = _EC_ALGORITHMS.get(private.curve.name)
    elif isinstance(private, rsa.RSAPrivateKey):
        default = "RS256"
    elif isinstance(private, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        default = "EdDSA"
    else:
        default = None
    if default is None:
        raise DPoPKeyError(
            f"{path} holds {_kind(private)}, which cannot sign DPoP proofs: use an EC "
            "(P-256, P-384, P-521), RSA (2048 bits or more) or Ed25519/Ed448 key."
        )
    chosen = algorithm or default
    if chosen not in DPOP_ALGORITHMS:
        raise DPoPKeyError(
            f"{path}: alg {chosen!r} is not a DPoP proof algorithm "
            f"({', '.join(sorted(DPOP_ALGORITHMS))})."
        )
    key = SigningKey.from_private_key(chosen, private)
    try:
        accepted = VerificationKey.from_jwk(key.bare_jwk())
    except KeySetError as why:
        raise DPoPKeyError(
            f"{path}: an API would refuse proofs signed by this key: {why}."
        ) from None
    if chosen not in accepted.algorithms:
        raise DPoPKeyError(f"{path}: its alg {chosen} does not fit its {accepted.kty} key.")
    return key


def _kind(private: object) -> str:
    """``an EC key on secp256k1``, ``an X25519 key``: what a refused key is."""
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return f"an EC key on {private.curve.name}"
    name = type(private).__name__.removesuffix("PrivateKey") or "unknown"
    return f"{'an' if name[0] in 'AEIOUX' else 'a'} {name} key"
