"""Keys: a JWK Set parsed once per fetch, and the choice of key for a token.

A key is imported only if it is a public signing key of sound size and shape;
anything else in the set is skipped (RFC 7517 §5), with the reason kept for the
log. Each key knows the algorithms it may verify, so a token's ``alg`` is bound
to the key's type, curve and published ``alg`` (RFC 8725 §3.1). Symmetric
(``oct``) keys from a key set are never used. An ``AKP`` key (RFC 9964: ML-DSA)
must name its ``alg``, which is its level and the one algorithm it verifies.
"""

from __future__ import annotations

import binascii
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ._errors import UnknownKeyError
from ._jose import b64url_decode
from ._signatures import MLDSA_SIZES, mldsa_public_key_class

if TYPE_CHECKING:  # cryptography before ML-DSA has no such module: only for the types
    from cryptography.hazmat.primitives.asymmetric import mldsa

__all__ = ["KeySet", "KeySetError", "VerificationKey"]

OkpPublicKey = ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_CURVES: Mapping[str, tuple[ec.EllipticCurve, str, int]] = {
    # crv: (curve, the one algorithm it signs, coordinate bytes)
    "P-256": (ec.SECP256R1(), "ES256", 32),
    "P-384": (ec.SECP384R1(), "ES384", 48),
    "P-521": (ec.SECP521R1(), "ES512", 66),
    "secp256k1": (ec.SECP256K1(), "ES256K", 32),
}
_OKP_CURVES: Mapping[str, tuple[type[OkpPublicKey], int, frozenset[str], int]] = {
    # crv: (key class, public key bytes, the algorithms it verifies, signature bytes).
    # RFC 8037's "EdDSA" fits both curves, RFC 9864's fully specified names only their own.
    "Ed25519": (ed25519.Ed25519PublicKey, 32, frozenset({"EdDSA", "Ed25519"}), 64),
    "Ed448": (ed448.Ed448PublicKey, 57, frozenset({"EdDSA", "Ed448"}), 114),
}
# A published alg that names a family of algorithms rather than one also lets the key verify
# the members of that family which fit it. RFC 9864 §2.2 defines "Ed25519" as EdDSA with the
# Ed25519 parameter set (and deprecates the polymorphic "EdDSA" for that reason), so on an
# Ed25519 key the two names are one and the same operation: a provider whose JWKS still says
# "EdDSA" while it signs, or starts signing, with "Ed25519" keeps working, and nothing else is
# let in, the key's curve having fixed the algorithm. Not the other way round: a JWK that
# publishes "Ed25519" has moved to the fully specified name and verifies that name only.
_FAMILIES: Mapping[str, frozenset[str]] = {"EdDSA": frozenset({"Ed25519", "Ed448"})}
# RFC 7518 §6, and AKP's priv (RFC 9964); seed held an ML-DSA seed in drafts before RFC 9964.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv", "seed"})
MIN_RSA_BITS = 2048  # RFC 7518 §3.3
MAX_RSA_BITS = 8192  # larger moduli only make every verification slow
MAX_KEYS = 100

MldsaPublicKey: TypeAlias = (
    "mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey"
)
PublicKey: TypeAlias = (
    "rsa.RSAPublicKey | ec.EllipticCurvePublicKey | OkpPublicKey | MldsaPublicKey"
)


class KeySetError(Exception):
    """A key-set or discovery document is unusable; the message says why (for logs)."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key from a JWK Set, with the algorithms it may verify."""

    kid: str | None
    kty: str
    algorithms: frozenset[str]
    public_key: PublicKey
    signature_size: int

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> VerificationKey:
        """Import one JWK strictly; raise ``KeySetError`` saying why it cannot be used."""
        kid = jwk.get("kid")
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise KeySetError("its kid is not a non-empty string")
        if PRIVATE_MEMBERS & jwk.keys():
            raise KeySetError("it contains private key material")
        use = jwk.get("use")
        if use is not None and use != "sig":
            raise KeySetError(f"its use is {use!r}, not 'sig'")
        ops = jwk.get("key_ops")
        if ops is not None and (
            not isinstance(ops, list) or "verify" not in ops or len(set(map(str, ops))) != len(ops)
        ):
            raise KeySetError("its key_ops do not allow 'verify'")
        published = jwk.get("alg")
        if published is not None and not isinstance(published, str):
            raise KeySetError("its alg is not a string")

        kty = jwk.get("kty")
        public_key: PublicKey
        if kty == "RSA":
            public_key, algorithms = _import_rsa(jwk), RSA_ALGORITHMS
            size = (public_key.key_size + 7) // 8
        elif kty == "EC":
            public_key, algorithms, size = _import_ec(jwk)
        elif kty == "OKP":
            public_key, algorithms, size = _import_okp(jwk)
        elif kty == "AKP":
            public_key, algorithms, size = _import_akp(jwk, published)
        else:
            raise KeySetError(f"its kty {kty!r} is not a public signing key type")
        if published is not None:
            if published not in algorithms:
                raise KeySetError(f"its alg {published!r} does not fit a {kty} key")
            algorithms = algorithms & (_FAMILIES.get(published, frozenset()) | {published})
        return cls(kid, kty, frozenset(algorithms), public_key, size)


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeySetError(f"its {name!r} member is missing")
    try:
        return b64url_decode(value)
    except (ValueError, binascii.Error):
        raise KeySetError(f"its {name!r} member is not canonical base64url") from None


def _import_rsa(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    n = int.from_bytes(_member(jwk, "n"), "big")
    e = int.from_bytes(_member(jwk, "e"), "big")
    if e != 65537:
        # Every real provider uses F4; tiny or odd exponents only show up in attacks.
        raise KeySetError(f"its RSA exponent is {e}, not 65537")
    if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
        raise KeySetError(f"its RSA modulus has {n.bit_length()} bits, outside 2048..8192")
    if not n & 1:
        # A product of two odd primes is odd; ``cryptography`` does not check this.
        raise KeySetError("its RSA modulus is even")
    if _has_roca_fingerprint(n):
        raise KeySetError("its RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise KeySetError(f"its RSA parameters are invalid ({exc})") from None


# The small primes of the ROCA test (Nemec et al., CCS 2017): moduli from the flawed
# Infineon generator are, modulo each of these, a power of 65537. A random modulus passes
# all 38 tests with negligible probability.
_ROCA_PRIMES = (
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73,
    79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
)  # fmt: skip


@functools.cache
def _roca_residues() -> tuple[tuple[int, frozenset[int]], ...]:
    # Built on first use (a key-set fetch), never at import.
    return tuple((p, frozenset(pow(65537, i, p) for i in range(p))) for p in _ROCA_PRIMES)


def _has_roca_fingerprint(n: int) -> bool:
    """Whether ``n`` looks generated by the Infineon RSALib flaw (its factors are recoverable)."""
    return all(n % p in residues for p, residues in _roca_residues())


def _import_ec(jwk: Mapping[str, Any]) -> tuple[ec.EllipticCurvePublicKey, frozenset[str], int]:
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in _EC_CURVES:
        raise KeySetError(f"its curve {crv!r} is not supported")
    curve, algorithm, size = _EC_CURVES[crv]
    x, y = _member(jwk, "x"), _member(jwk, "y")
    if len(x) != size or len(y) != size:
        raise KeySetError(f"its coordinates are not {size} bytes long")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    except ValueError:
        raise KeySetError("its point is not on the curve") from None
    return key, frozenset({algorithm}), 2 * size


def _import_okp(jwk: Mapping[str, Any]) -> tuple[OkpPublicKey, frozenset[str], int]:
    crv = jwk.get("crv")
    x = _member(jwk, "x")
    if not isinstance(crv, str) or crv not in _OKP_CURVES:
        raise KeySetError(f"its OKP curve {crv!r} is not a signature curve")
    key_class, length, algorithms, size = _OKP_CURVES[crv]
    if len(x) != length:
        raise KeySetError(f"its {crv} public key is not {length} bytes long")
    try:
        key = key_class.from_public_bytes(x)
    except ValueError:
        raise KeySetError("its public key bytes are invalid") from None
    return key, algorithms, size


def _import_akp(
    jwk: Mapping[str, Any], published: str | None
) -> tuple[MldsaPublicKey, frozenset[str], int]:
    # RFC 9964: an AKP key is only bytes; its alg (REQUIRED) says what they are, so the
    # alg is the key's level and the one algorithm it verifies: an ML-DSA-44 key never
    # serves an ML-DSA-65 token, whatever the token says.
    if published is None:
        raise KeySetError("its alg is missing, which an AKP key must name (RFC 9964)")
    if published not in MLDSA_SIZES:
        raise KeySetError(f"its alg {published!r} is not an ML-DSA algorithm of an AKP key")
    pub = _member(jwk, "pub")
    length, size = MLDSA_SIZES[published]
    if len(pub) != length:
        raise KeySetError(f"its {published} public key is not {length} bytes long")
    key_class = mldsa_public_key_class(published)
    if key_class is None:
        raise KeySetError(f"the installed cryptography cannot verify {published}")
    try:
        key: MldsaPublicKey = key_class.from_public_bytes(pub)
    except ValueError:  # pragma: no cover - every input of the right length decodes
        raise KeySetError("its public key bytes are invalid") from None
    return key, frozenset({published}), size


_ABSENT: Any = object()


class KeySet:
    """The usable keys of one JWK Set document, indexed by ``kid``.

    Example::

        keys = KeySet.from_document(b'{"keys": [...]}')
        key = keys.find(kid="k1", alg="RS256")
    """

    __slots__ = ("_fitting", "fingerprint", "keys", "skipped")

    def __init__(self, keys: Iterable[VerificationKey], skipped: Iterable[str] = ()) -> None:
        self.keys = tuple(keys)
        #: why each unusable JWK of the document was skipped (for the shell to log)
        self.skipped = tuple(skipped)
        #: what the keys are, whatever their order: equal for two fetches of the same key set
        self.fingerprint = frozenset(
            (key.kid, key.kty, key.algorithms, _public_der(key.public_key)) for key in self.keys
        )
        # (kid, alg) -> the one key that fits, or None when several do: decided once per
        # fetch, so a lookup is one dict access. A token without kid may use any key.
        self._fitting: dict[tuple[str | None, str], VerificationKey | None] = {}
        for key in self.keys:
            for alg in key.algorithms:
                for kid in {key.kid, None}:
                    self._fitting[kid, alg] = None if (kid, alg) in self._fitting else key

    @classmethod
    def from_document(cls, document: bytes | Mapping[str, Any], *, source: str = "") -> KeySet:
        """Parse a JWKS; raise ``KeySetError`` unless it holds at least one usable key."""
        if isinstance(document, bytes):
            document = load_json_document(document)
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise KeySetError("the document has no 'keys' array")
        if len(entries) > MAX_KEYS:
            raise KeySetError(f"the document has more than {MAX_KEYS} keys")
        keys: list[VerificationKey] = []
        skipped: list[str] = []
        for index, jwk in enumerate(entries):
            if not isinstance(jwk, dict):
                skipped.append(f"Skipping key #{index} of {source}: it is not a JSON object")
                continue
            try:
                keys.append(VerificationKey.from_jwk(jwk))
            except KeySetError as why:
                kid = jwk.get("kid")
                label = repr(kid[:64]) if isinstance(kid, str) else f"#{index}"
                skipped.append(f"Skipping key {label} of {source}: {why}")
        if not keys:
            raise KeySetError("the document holds no usable signing keys")
        return cls(keys, skipped=skipped)

    def find(self, kid: str | None, alg: str) -> VerificationKey | None:
        """The one key for ``kid`` that may verify ``alg``; ``None`` if there is none.

        A token without ``kid`` is accepted only when exactly one key fits.
        Several fitting keys are ambiguous (RFC 7517 §4.5) and raise
        :class:`UnknownKeyError` rather than being tried in turn.
        """
        key = self._fitting.get((kid, alg), _ABSENT)
        if key is None:
            raise UnknownKeyError(reason="Several keys of the key set fit the token's kid and alg.")
        return None if key is _ABSENT else key

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"KeySet(kids={[k.kid for k in self.keys]!r})"


def _public_der(key: PublicKey) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def load_json_document(body: bytes) -> dict[str, Any]:
    """Parse a provider's JSON document (JWKS or discovery); it must be an object."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise KeySetError("the response is not JSON") from None
    if not isinstance(value, dict):
        raise KeySetError("the response is not a JSON object")
    return value
