"""ML-DSA for the hostile catalogue: keys of each level, their AKP JWKs, tokens they sign.

RFC 9964 (draft-ietf-cose-dilithium-11) names the three levels ``ML-DSA-44``,
``ML-DSA-65`` and ``ML-DSA-87`` and publishes their public keys as ``AKP`` JWKs:
``kty``, a REQUIRED ``alg`` (the level) and the key's bytes as ``pub``. A JWS is
signed with the empty context string. ``tests/support.py`` knows the classical
key types only; these helpers add what the ML-DSA rows of ``catalogue.py`` need.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tests.support import b64url

from .builders import Build, signed, with_signer

MLDSA_LEVELS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
# FIPS 204 Table 2: the bytes of a signature, by level.
SIGNATURE_BYTES = {"ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627}


@functools.cache
def _mldsa_key(level: str, index: int) -> Any:
    from cryptography.hazmat.primitives.asymmetric import mldsa

    return getattr(mldsa, "MLDSA" + level[-2:] + "PrivateKey").generate()


def mldsa_key(level: str, index: int = 0) -> Any:
    """A private key of ``level``, the same one for the whole session per ``index``."""
    return _mldsa_key(level, index)


def public_bytes(level: str, index: int = 0) -> bytes:
    return mldsa_key(level, index).public_key().public_bytes_raw()


def akp_jwk(level: str, index: int = 0, **members: Any) -> Callable[[], dict[str, Any]]:
    """The public AKP JWK of key ``(level, index)``, with ``members`` (``None`` removes one)."""

    def make() -> dict[str, Any]:
        jwk = {"kty": "AKP", "alg": level, "pub": b64url(public_bytes(level, index)), **members}
        return {name: value for name, value in jwk.items() if value is not None}

    return make


def mldsa_signed(
    kid: str | None,
    alg: str,
    *,
    level: str | None = None,
    index: int = 0,
    context: bytes = b"",
    change: Callable[[bytes], bytes] = lambda signature: signature,
) -> Build:
    """A token of header ``alg`` and ``kid``, signed by ML-DSA key ``(level, index)`` (the
    level of ``alg`` unless named) under ``context``, its signature passed through ``change``."""

    def sign(signing_input: bytes) -> bytes:
        key = mldsa_key(level or alg, index)
        return change(key.sign(signing_input, context))

    return signed(kid=kid, alg=alg, signer=with_signer(sign))
