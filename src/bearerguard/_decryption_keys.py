"""Decryption keys (``decryption_keys=``): the API's own private keys, for encrypted tokens.

A PEM private key, a private JWK (with ``d``, or ``k`` for a shared ``dir`` key), a JWK
Set, the JSON text of either, the path of a file holding any of them, or a list of those:
several keys at once, so that a provider can move to a new key while tokens encrypted to
the old one are still in flight. A token's ``kid`` chooses among them; a key without
``kid`` (a PEM always) is the one for tokens without ``kid``, and for tokens whose ``kid``
no key has.

Each key serves the algorithms its type fits, narrowed by its JWK ``alg``:

* RSA (2048 to 8192 bits): ``RSA-OAEP-256``, ``RSA-OAEP-384``, ``RSA-OAEP-512``;
* EC on P-256, P-384 or P-521: ``ECDH-ES`` and ``ECDH-ES+A128KW/A192KW/A256KW``;
* ``oct`` of 16, 24, 32, 48 or 64 bytes: ``dir``, with the content encryption of its size.

A public key is refused: only a private key decrypts, and a public one here is the
provider's key given in the wrong setting. Messages never repeat key material.

Reads the key files it is given, at construction; no network.

Example::

    keys = decryption_keys(["keys/api-2026.pem", {"kty": "EC", "kid": "e1", ...}])
    keys.find("e1", "ECDH-ES+A256KW", "A256GCM")
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ._coerce import LISTS
from ._errors import ConfigurationError
from ._jose import b64url_decode
from ._key_material import KeyMaterial, load_private_pem, looks_like_a_path

__all__ = [
    "CONTENT_KEY_SIZES",
    "KEY_ALGORITHMS",
    "DecryptionKey",
    "DecryptionKeys",
    "decryption_keys",
]

_SETTING = "decryption_keys"
_EXAMPLE = "decryption_keys='keys/api-decryption.pem' (a private key: PEM, JWK or JWK Set)"
#: content encryption (RFC 7518 §5.1) -> the bytes of its key: AES-GCM, AES-CBC + HMAC
CONTENT_KEY_SIZES: Mapping[str, int] = {
    "A128GCM": 16,
    "A192GCM": 24,
    "A256GCM": 32,
    "A128CBC-HS256": 32,
    "A192CBC-HS384": 48,
    "A256CBC-HS512": 64,
}
#: the key management algorithms decrypted (RFC 7518 §4.1): never RSA1_5 (Bleichenbacher),
#: RSA-OAEP with SHA-1, PBES2 (passwords, iteration bombs) nor AES key wrap with a shared key
_RSA_OAEP = frozenset({"RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512"})
_ECDH = frozenset({"ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"})
KEY_ALGORITHMS = _RSA_OAEP | _ECDH | {"dir"}
EC_CURVES: Mapping[str, tuple[ec.EllipticCurve, int]] = {
    # crv: (curve, coordinate bytes)
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
_CURVE_NAMES = {curve.name: crv for crv, (curve, _) in EC_CURVES.items()}
_MIN_RSA_BITS, _MAX_RSA_BITS = 2048, 8192
_MAX_KEYS = 100
_MAX_FILE_BYTES = 1 << 20
_PUBLIC_ONLY = "it is a public key, and only the API's private key decrypts"

PrivateKey: TypeAlias = "rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | bytes"


@dataclass(frozen=True, slots=True)
class DecryptionKey:
    """A private key with the key management algorithms it serves.

    ``crv`` is the curve's JWK name for an EC key (an ephemeral key must be on it),
    ``None`` otherwise; ``key`` is the key itself (``bytes`` for a ``dir`` key).
    """

    kid: str | None
    algorithms: frozenset[str]
    key: PrivateKey = field(repr=False)  # never in a log: a dir key is the secret itself
    crv: str | None = None

    def fits(self, alg: str, enc: str) -> bool:
        """Whether this key decrypts a token of ``alg`` and ``enc``."""
        if alg not in self.algorithms:
            return False
        # A dir key is the content key itself: its size fixes the content encryption.
        return alg != "dir" or (
            isinstance(self.key, bytes) and len(self.key) == CONTENT_KEY_SIZES[enc]
        )


@dataclass(frozen=True, slots=True)
class DecryptionKeys:
    """The configured decryption keys; :meth:`find` chooses one for a token."""

    keys: tuple[DecryptionKey, ...]

    def find(self, kid: str | None, alg: str, enc: str) -> DecryptionKey | None:
        """The key for a token's ``kid``, ``alg`` and ``enc``, or ``None``.

        A key with that ``kid`` if one fits; else the key without ``kid`` that fits.
        """
        if kid is not None:
            for key in self.keys:
                if key.kid == kid and key.fits(alg, enc):
                    return key
        for key in self.keys:
            if key.kid is None and key.fits(alg, enc):
                return key
        return None

    def __repr__(self) -> str:
        return f"DecryptionKeys(kids={[key.kid for key in self.keys]!r})"


def decryption_keys(value: object) -> DecryptionKeys | None:
    """Import ``decryption_keys=``; ``None`` (no decryption) for ``None``.

    Raises :class:`ConfigurationError` saying what to write for anything it cannot use.

    Example::

        decryption_keys("keys/api-decryption.pem")   # DecryptionKeys(kids=[None])
    """
    if value is None:
        return None
    items = list(value) if isinstance(value, LISTS) else [value]
    if not items:
        raise ConfigurationError(
            f"{_SETTING} is an empty list; give at least one private key, e.g. {_EXAMPLE}, "
            "or leave the setting out to refuse encrypted tokens.",
            setting=_SETTING,
        )
    keys: list[DecryptionKey] = []
    for position, item in enumerate(items, 1):
        where = _SETTING if len(items) == 1 else f"{_SETTING} item {position}"
        keys.extend(_imported_all(_MATERIAL.loaded(item, where), where))
    if len(keys) > _MAX_KEYS:
        raise ConfigurationError(
            f"{_SETTING} holds {len(keys)} keys, more than {_MAX_KEYS}: keep the current key "
            "and the one or two before it.",
            setting=_SETTING,
        )
    _check_unambiguous(keys)
    return DecryptionKeys(tuple(keys))


# --- reading: PEM text or a JSON value, from a string, bytes or a path ------------------------


_MATERIAL = KeyMaterial(
    _SETTING, _EXAMPLE, shows_path=looks_like_a_path, private=True, max_bytes=_MAX_FILE_BYTES
)


# --- importing --------------------------------------------------------------------------------


def _imported_all(loaded: object, where: str) -> list[DecryptionKey]:
    if isinstance(loaded, str):
        return [_from_pem(loaded, where)]
    if isinstance(loaded, Mapping) and "keys" in loaded:
        members = loaded["keys"]
        if not isinstance(members, list) or not members:
            raise ConfigurationError(
                f"{where} is a JWK Set whose 'keys' is not a non-empty list.", setting=_SETTING
            )
        return [_from_jwk(jwk, f"{where} key {i}") for i, jwk in enumerate(members, 1)]
    if isinstance(loaded, Mapping):
        return [_from_jwk(loaded, where)]
    if isinstance(loaded, list):
        return [
            key
            for i, item in enumerate(loaded, 1)
            for key in _imported_all(item, f"{where} item {i}")
        ]
    if isinstance(loaded, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return [_from_object(loaded, None, where)]
    raise ConfigurationError(
        f"{where} must be a private key (PEM text, a JWK or JWK Set, or a file path), got a "
        f"value of type {type(loaded).__name__}; write e.g. {_EXAMPLE}.",
        setting=_SETTING,
    )


def _from_pem(text: str, where: str) -> DecryptionKey:
    if "PRIVATE KEY" not in text:
        raise ConfigurationError(
            f"{where}: {_PUBLIC_ONLY} (or a certificate). Give the PEM private key the "
            "provider encrypts tokens to (-----BEGIN PRIVATE KEY-----).",
            setting=_SETTING,
        )
    key = load_private_pem(text.encode("ascii", "replace"), where, _SETTING)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise ConfigurationError(
            f"{where} is a {type(key).__name__.removeprefix('_')}; decryption keys are RSA "
            "(RSA-OAEP-256/384/512) or EC P-256/P-384/P-521 (ECDH-ES) private keys.",
            setting=_SETTING,
        )
    return _from_object(key, None, where)


def _from_object(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str | None, where: str
) -> DecryptionKey:
    if isinstance(key, rsa.RSAPrivateKey):
        if not _MIN_RSA_BITS <= key.key_size <= _MAX_RSA_BITS:
            raise ConfigurationError(
                f"{where} is an RSA key of {key.key_size} bits; use 2048 to 8192 bits "
                "(RFC 7518 §4.3).",
                setting=_SETTING,
            )
        return DecryptionKey(kid, _RSA_OAEP, key)
    crv = _CURVE_NAMES.get(key.curve.name)
    if crv is None:
        raise ConfigurationError(
            f"{where} is an EC key on {key.curve.name}; ECDH-ES takes P-256, P-384 or P-521.",
            setting=_SETTING,
        )
    return DecryptionKey(kid, _ECDH, key, crv)


def _member(jwk: Mapping[str, Any], name: str, where: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{where} has no {name!r} member.", setting=_SETTING)
    try:
        return b64url_decode(value)
    except (ValueError, binascii.Error):
        raise ConfigurationError(
            f"{where}: its {name!r} member is not canonical base64url.", setting=_SETTING
        ) from None


def _from_jwk(jwk: object, where: str) -> DecryptionKey:
    if not isinstance(jwk, Mapping):
        raise ConfigurationError(
            f"{where} must be a JWK (a JSON object), got a value of type {type(jwk).__name__}.",
            setting=_SETTING,
        )
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise ConfigurationError(f"{where}: its kid must be a non-empty string.", setting=_SETTING)
    named = f"{where} (kid {kid!r})" if kid else where
    use = jwk.get("use")
    if use is not None and use != "enc":
        raise ConfigurationError(
            f"{named} is marked use {use!r}: a decryption key has use 'enc' (or none).",
            setting=_SETTING,
        )
    kty = jwk.get("kty")
    key: DecryptionKey
    if kty == "RSA":
        if "d" not in jwk:
            raise ConfigurationError(f"{named}: {_PUBLIC_ONLY} (no 'd').", setting=_SETTING)
        key = _from_object(_rsa_private(jwk, named), kid, named)
    elif kty == "EC":
        if "d" not in jwk:
            raise ConfigurationError(f"{named}: {_PUBLIC_ONLY} (no 'd').", setting=_SETTING)
        key = _from_object(_ec_private(jwk, named), kid, named)
    elif kty == "oct":
        secret = _member(jwk, "k", named)
        if len(secret) not in set(CONTENT_KEY_SIZES.values()):
            raise ConfigurationError(
                f"{named} is a shared key of {len(secret)} bytes; a dir key is the content "
                "key itself: 16, 24 or 32 bytes (A*GCM) or 32, 48 or 64 (A*CBC-HS*).",
                setting=_SETTING,
            )
        key = DecryptionKey(kid, frozenset({"dir"}), secret)
    else:
        raise ConfigurationError(
            f"{named} has kty {kty!r}; decryption keys are RSA, EC or oct (dir) keys.",
            setting=_SETTING,
        )
    published = jwk.get("alg")
    if published is not None:
        if published not in key.algorithms:
            raise ConfigurationError(
                f"{named} names alg {published!r}, which it cannot serve: "
                f"{', '.join(sorted(key.algorithms))} (never RSA1_5, RSA-OAEP with SHA-1 "
                "or PBES2).",
                setting=_SETTING,
            )
        key = DecryptionKey(key.kid, frozenset({published}), key.key, key.crv)
    return key


def _rsa_private(jwk: Mapping[str, Any], where: str) -> rsa.RSAPrivateKey:
    n, e, d = (int.from_bytes(_member(jwk, m, where), "big") for m in ("n", "e", "d"))
    try:
        if all(m in jwk for m in ("p", "q", "dp", "dq", "qi")):
            p, q, dp, dq, qi = (
                int.from_bytes(_member(jwk, m, where), "big") for m in ("p", "q", "dp", "dq", "qi")
            )
        else:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key()
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigurationError(
            f"{where}: its RSA members do not form a valid private key.", setting=_SETTING
        ) from None


def _ec_private(jwk: Mapping[str, Any], where: str) -> ec.EllipticCurvePrivateKey:
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in EC_CURVES:
        raise ConfigurationError(
            f"{where} has crv {crv!r}; ECDH-ES takes P-256, P-384 or P-521.", setting=_SETTING
        )
    curve, size = EC_CURVES[crv]
    x, y, d = (_member(jwk, m, where) for m in ("x", "y", "d"))
    if len(x) != size or len(y) != size or len(d) != size:
        raise ConfigurationError(
            f"{where}: its x, y and d must be {size} bytes each on {crv}.", setting=_SETTING
        )
    try:
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve
        )
        return ec.EllipticCurvePrivateNumbers(int.from_bytes(d, "big"), public).private_key()
    except ValueError:
        raise ConfigurationError(
            f"{where}: its x, y and d do not form a valid private key on {crv}.",
            setting=_SETTING,
        ) from None


def _check_unambiguous(keys: Iterable[DecryptionKey]) -> None:
    """Two keys with the same ``kid`` (or both without) for the same algorithm (and, for
    ``dir``, the same size): refused, so that the key a token gets is never a matter of order."""
    seen: set[tuple[str | None, str, int]] = set()
    for key in keys:
        size = len(key.key) if isinstance(key.key, bytes) else 0
        for alg in key.algorithms:
            if (key.kid, alg, size) in seen:
                which = f"kid {key.kid!r}" if key.kid else "no kid"
                raise ConfigurationError(
                    f"{_SETTING} holds two keys with {which} for {alg}: give each key its own "
                    "kid, the one the provider puts in the tokens' header.",
                    setting=_SETTING,
                )
            seen.add((key.kid, alg, size))
