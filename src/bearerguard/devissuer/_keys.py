"""The dev-issuer's signing keys: made at start, or kept in a JWKS file between runs.

Like Auth0, the key set publishes the current key *and the next one*: a
rotation promotes the next key, which verifiers have already cached, so tokens
signed after it verify at once (no unknown-kid refetch, no cooldown); the
previous key stays published, so tokens issued before it keep verifying.

A keys file is a JWKS whose keys carry their private members, in that order:
current, next, previous. Keeping one lets tokens minted before a restart still
verify, and lets an application cache the key set across restarts as it would
a real provider's. An ML-DSA key is written as RFC 9964's ``AKP`` JWK, its
private half the 32-byte seed (``priv``).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from bearerguard._config import MLDSA_ALGORITHMS
from bearerguard._errors import ConfigurationError
from bearerguard._jose import b64url_decode, b64url_encode
from bearerguard._mint import SIGNING_ALGORITHMS, PrivateKey, SigningKey

__all__ = ["KeyStore", "StoredKey"]

_PYJWT = get_default_algorithms()
_NOTE = (
    "PRIVATE signing keys of a bearerguard dev-issuer, for local development only: never "
    "trust this issuer in production. keys[0] signs, keys[1] is the next key (published "
    "ahead of a rotation), keys[2] the previous one."
)


class StoredKey(SigningKey):
    """A :class:`SigningKey` that can also be written to, and read from, a keys file."""

    __slots__ = ()

    def __init__(
        self, algorithm: str, *, kid: str | None = None, private: PrivateKey | None = None
    ) -> None:
        super().__init__(algorithm)
        if kid is not None:
            self.kid = kid
        self._private = private  # None: made on first use, as for any SigningKey

    @classmethod
    def from_jwk(cls, jwk: object, where: str) -> StoredKey:
        """Read one private JWK of a keys file; ConfigurationError says what is wrong."""
        if not isinstance(jwk, Mapping):
            raise ConfigurationError(f"{where} must be a JSON object (a private JWK).")
        kid, algorithm = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or not kid:
            raise ConfigurationError(f"{where} needs a 'kid'.")
        if algorithm not in SIGNING_ALGORITHMS:
            raise ConfigurationError(
                f"{where}: 'alg' must be one of {', '.join(SIGNING_ALGORITHMS)}, got {algorithm!r}."
            )
        if algorithm in MLDSA_ALGORITHMS:
            stored = cls(algorithm, kid=kid)  # refuses a cryptography without ML-DSA
            stored._private = _akp_private_key(jwk, algorithm, where)
            return stored
        if "d" not in jwk or jwk.get("use", "sig") != "sig":
            raise ConfigurationError(
                f"{where} must be a private signing key (with 'd'; 'use' absent or 'sig')."
            )
        try:
            private = _PYJWT[algorithm].from_jwk(dict(jwk))
        except (InvalidKeyError, ValueError, TypeError, KeyError) as exc:
            raise ConfigurationError(f"{where} is not a valid {algorithm} key ({exc}).") from None
        if not isinstance(
            private, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
        ):
            raise ConfigurationError(f"{where} is not a private RSA, EC or Ed25519 key.")
        if isinstance(private, rsa.RSAPrivateKey) and private.key_size < 2048:
            raise ConfigurationError(f"{where}: RSA keys need at least 2048 bits.")
        return cls(algorithm, kid=kid, private=private)

    def private_jwk(self) -> dict[str, Any]:
        """The whole key as a JWK, private members included: for the keys file only."""
        if self.algorithm in MLDSA_ALGORITHMS:
            # RFC 9964: an ML-DSA private key is its seed, never the expanded form.
            private: Any = self._key()
            seed = b64url_encode(private.private_bytes_raw())
            return {**self.public_jwk(), "priv": seed}
        exported = _PYJWT[self.algorithm].to_jwk(self._key(), as_dict=True)
        return {**exported, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def _akp_private_key(jwk: Mapping[str, Any], algorithm: str, where: str) -> PrivateKey:
    """The private key of an AKP JWK of a keys file: its seed, which must give its pub."""
    if jwk.get("kty") != "AKP" or jwk.get("use", "sig") != "sig":
        raise ConfigurationError(
            f"{where} must be an AKP signing key for {algorithm} (kty 'AKP'; 'use' absent or "
            "'sig')."
        )
    try:
        seed, pub = b64url_decode(jwk["priv"]), b64url_decode(jwk["pub"])
    except (KeyError, TypeError, ValueError):
        raise ConfigurationError(
            f"{where} needs 'priv' (its 32-byte seed) and 'pub', both in base64url."
        ) from None
    if len(seed) != 32:
        raise ConfigurationError(f"{where}: 'priv' must be a 32-byte seed (RFC 9964).")
    from cryptography.hazmat.primitives.asymmetric import mldsa  # noqa: PLC0415 - optional

    private: Any = getattr(mldsa, "MLDSA" + algorithm[-2:] + "PrivateKey").from_seed_bytes(seed)
    # RFC 9964: a pub that its priv does not make is a mismatched, tampered key.
    if private.public_key().public_bytes_raw() != pub:
        raise ConfigurationError(f"{where}: 'pub' is not the public key of its 'priv' seed.")
    key: PrivateKey = private
    return key


class KeyStore:
    """The current, next and previous signing keys, optionally kept in ``path``.

    ``algorithm`` is what new keys sign with (default RS256); a keys file that holds
    keys of another algorithm is refused rather than silently kept or replaced.

    Example::

        keys = KeyStore("dev-keys.json")   # loaded if the file exists, else created
        keys.current.kid
        keys.rotate()                      # the next key signs; the old one stays published
        KeyStore(algorithm="ML-DSA-65").jwks()["keys"][0]["kty"]   # 'AKP'
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, algorithm: str | None = None
    ) -> None:
        self._path = None if path is None else os.fspath(path)
        self._lock = threading.Lock()  # rotations come from any request thread
        loaded: tuple[StoredKey, ...] = ()
        if self._path is not None and os.path.exists(self._path):
            loaded = _load(self._path)
        if loaded and algorithm is not None and loaded[0].algorithm != algorithm:
            raise ConfigurationError(
                f"{self._path}: the keys file signs with {loaded[0].algorithm}, but the "
                f"configuration asks for {algorithm}: delete the file to have {algorithm} keys "
                f"made, or set signing_algorithm to {loaded[0].algorithm}."
            )
        if not loaded and algorithm is not None and algorithm not in SIGNING_ALGORITHMS:
            raise ConfigurationError(
                f"signing_algorithm must be one of {', '.join(SIGNING_ALGORITHMS)}; "
                f"got {algorithm!r}."
            )
        current = loaded[0] if loaded else StoredKey(algorithm or "RS256")
        following = loaded[1] if len(loaded) > 1 else StoredKey(current.algorithm)
        self._keys: tuple[StoredKey, ...] = (current, following, *loaded[2:3])
        if self._keys != loaded:
            self._save()

    @property
    def path(self) -> str | None:
        """The keys file, if any."""
        return self._path

    @property
    def current(self) -> StoredKey:
        """The key that signs from now on."""
        return self._keys[0]

    def jwks(self) -> dict[str, Any]:
        """The published key set: public members only; current, next, then previous key."""
        return {"keys": [key.public_jwk() for key in self._keys]}

    def rotate(self) -> str:
        """Sign with the next key from now on; returns its kid.

        The former current key stays published as the previous one and a new next
        key is published; the key before that is dropped, so tokens signed two
        rotations ago stop verifying.
        """
        with self._lock:
            current, following = self._keys[0], self._keys[1]
            self._keys = (following, StoredKey(following.algorithm), current)
            self._save()
        return following.kid

    def _save(self) -> None:
        if self._path is None:
            return
        document = {"note": _NOTE, "keys": [key.private_jwk() for key in self._keys]}
        # Written beside the target and renamed over it, so a crash never leaves half a
        # file; 0600 because these are private keys, even if only development ones.
        temporary = f"{self._path}.{secrets.token_hex(4)}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(document, file, indent=2)
                file.write("\n")
            os.replace(temporary, self._path)
        except OSError as exc:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise ConfigurationError(f"{self._path}: cannot write the keys file ({exc}).") from None


def _load(path: str) -> tuple[StoredKey, ...]:
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read the keys file ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path}: the keys file is not valid JSON ({exc.msg}).") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ConfigurationError(
            f"{path}: a keys file is a JSON object whose 'keys' list holds private JWKs; "
            "delete the file to have a new one made."
        )
    loaded = tuple(StoredKey.from_jwk(jwk, f"{path}: keys[{i}]") for i, jwk in enumerate(keys))
    kids = [key.kid for key in loaded]
    if len(set(kids)) != len(kids):
        raise ConfigurationError(f"{path}: two keys share a kid; each kid must be unique.")
    return loaded
