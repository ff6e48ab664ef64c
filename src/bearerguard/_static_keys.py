"""Static keys (``keys=``): an issuer's public keys written in the configuration, never fetched.

A PEM public key, a JWK, or a JWK Set (a dict with ``keys``, its JSON text, or the
path of a file holding either) for the verifier's one issuer; or a mapping of issuer
to one of those. Every key goes through the very import a fetched key goes through
(:meth:`VerificationKey.from_jwk <._keys.VerificationKey.from_jwk>`: public signing
keys only, RSA of 2048 to 8192 bits with e = 65537, ``use``/``key_ops``/``alg``
honoured); a PEM is first written as the JWK it is. Where a fetched key set skips a
key it cannot use, a configuration that names one is wrong: a :class:`ConfigurationError`
at construction, which never repeats key material (a private key given by mistake is
named as such, its members never shown).

A key without ``kid`` (a PEM always) serves the tokens of its issuer whatever their
``kid``: a token's ``kid`` names one of its provider's keys, and a pinned key without
an id is, by definition, the one meant. A ``kid`` that none of the keys has, and no
key without ``kid`` fits, is refused (401): nothing is ever fetched for such an issuer.

Reads the key files it is given, at construction; no network.

Example::

    static_keys({"https://tenant.auth0.com/": "keys/tenant.pem"}, index, algorithms)
    # {'https://tenant.auth0.com/': StaticKeySet(kids=[None])}
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from ._errors import ConfigurationError, UnknownKeyError
from ._issuers import IssuerIndex, normalize_issuer
from ._jose import b64url_encode
from ._key_material import KeyMaterial
from ._keys import MAX_KEYS, PRIVATE_MEMBERS, KeySet, KeySetError, VerificationKey
from ._signatures import MLDSA_SIZES, mldsa_public_key_class

__all__ = ["MAX_KEY_FILE_BYTES", "NOT_CONFIGURED", "StaticKeySet", "static_keys"]

#: why a token is refused whose kid and alg fit none of its issuer's configured keys
NOT_CONFIGURED = (
    "The token's kid and alg fit none of the keys configured for its issuer (keys=); "
    "nothing is fetched for an issuer whose keys are configured."
)

#: the largest key file read: a JWK Set of MAX_KEYS large RSA keys is well under it
MAX_KEY_FILE_BYTES = 1 << 20
_SETTING = "keys"
_EXAMPLE = "keys='keys/tenant.pem' (a PEM public key, a JWK, a JWK Set or the path of a file)"
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]{1,40})-----[A-Za-z0-9+/=\s:,-]*?-----END \1-----", re.DOTALL
)
_EC_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_EC_CURVES["secp256k1"] = "secp256k1"
_OKP_CURVES = ((ed25519.Ed25519PublicKey, "Ed25519"), (ed448.Ed448PublicKey, "Ed448"))
# A string that may be shown in a message as a path: short, path characters only, with a
# dot (an extension, "./"). Base64 key material has no dot: it is never repeated.
_SHOWN_PATH = re.compile(r"[\w./\\~:-]{1,255}")
_MISSING: Any = object()


class StaticKeySet(KeySet):
    """The configured keys of one issuer: a :class:`KeySet` whose keys without ``kid``
    serve a token of any ``kid``, and whose every miss is final (401, never a fetch).

    Example::

        keys = StaticKeySet([pem_key])
        keys.find("whatever-kid", "RS256")    # the PEM's key
    """

    __slots__ = ("_any_kid",)

    def __init__(self, keys: Iterable[VerificationKey]) -> None:
        super().__init__(keys)
        # alg -> the one key without kid that verifies it (None: several do, refused at
        # construction), for the tokens whose kid names no key of the set.
        any_kid: dict[str, VerificationKey | None] = {}
        for key in self.keys:
            if key.kid is None:
                for alg in key.algorithms:
                    any_kid[alg] = None if alg in any_kid else key
        self._any_kid = any_kid

    def find(self, kid: str | None, alg: str) -> VerificationKey:
        """The key for ``kid`` and ``alg``; raises :class:`UnknownKeyError` when there is none
        (the key cache then fetches nothing: the configured keys are all there is)."""
        key = self._fitting.get((kid, alg), _MISSING)
        if key is not _MISSING and key is not None:
            return key  # type: ignore[no-any-return]  # the usual case: one dict access
        if key is None:  # several keys fit: the key set's refusal of the ambiguity (raises)
            super().find(kid, alg)
        # A kid the set lacks (a PEM's tokens, every time): the key without kid, no second lookup.
        if kid is not None:
            fallback = self._any_kid.get(alg)
            if fallback is not None:
                return fallback
        raise UnknownKeyError(reason=NOT_CONFIGURED)

    def __repr__(self) -> str:
        return f"StaticKeySet(kids={[k.kid for k in self.keys]!r})"


def static_keys(
    value: object, index: IssuerIndex, algorithms: frozenset[str], *, one_issuer: bool
) -> dict[str, StaticKeySet]:
    """The ``keys`` setting: configured issuer -> its :class:`StaticKeySet`.

    ``index`` holds the trusted issuers (a mapping's issuers must be among them);
    ``one_issuer`` says whether a lone key set has an issuer to belong to (the
    verifier trusts exactly one, by name). Every key set must verify at least one of
    ``algorithms``. Raises :class:`ConfigurationError` saying what to fix.
    """
    if value is None:
        return {}
    document = _MATERIAL.loaded(value, "keys")
    if _is_key_material(document):
        if not one_issuer:
            raise ConfigurationError(
                "keys holds one key set, but the verifier trusts "
                + (
                    f"several issuers ({', '.join(index.issuers)})"
                    if len(index.issuers) > 1
                    else "issuers chosen by a function"
                )
                + ": give a mapping {issuer: keys}, e.g. keys={'https://tenant.auth0.com/': "
                "'keys/tenant.pem'}.",
                setting=_SETTING,
            )
        issuer = index.issuers[0]
        return {issuer: _key_set(document, issuer, algorithms)}
    if not isinstance(document, Mapping) or not document:
        raise ConfigurationError(
            f"keys must be a PEM public key, a JWK, a JWK Set (a dict with 'keys', its JSON "
            f"text or a file path) or a mapping {{issuer: keys}}; got "
            f"{_described(document)}. Write e.g. {_EXAMPLE}.",
            setting=_SETTING,
        )
    sets: dict[str, StaticKeySet] = {}
    for given_issuer, keys in document.items():
        if not isinstance(given_issuer, str):
            raise ConfigurationError(
                f"keys maps issuers to keys: its key {_described(given_issuer)} is not an "
                "issuer URL.",
                setting=_SETTING,
            )
        found = index.find(normalize_issuer(given_issuer, setting=_SETTING))
        if found is None:
            raise ConfigurationError(
                f"keys are given for {given_issuer!r}, which is not a trusted issuer: add it "
                "to issuer=, or correct its spelling.",
                setting=_SETTING,
            )
        issuer = found
        if issuer in sets:
            raise ConfigurationError(
                f"keys names the issuer {issuer!r} twice (two spellings of its URL): give "
                "its keys once.",
                setting=_SETTING,
            )
        loaded = _MATERIAL.loaded(keys, f"keys[{given_issuer!r}]")
        if not _is_key_material(loaded):
            raise ConfigurationError(
                f"keys[{given_issuer!r}] must be a PEM public key, a JWK or a JWK Set (or "
                f"the JSON text or path of one); got {_described(loaded)}.",
                setting=_SETTING,
            )
        sets[issuer] = _key_set(loaded, issuer, algorithms)
    return sets


# --- reading: str, bytes, a path or a dict, into PEM text or a JSON object --------------------


def _shows_path(text: str) -> bool:
    return "." in text and _SHOWN_PATH.fullmatch(text) is not None


_MATERIAL = KeyMaterial(_SETTING, _EXAMPLE, shows_path=_shows_path, max_bytes=MAX_KEY_FILE_BYTES)


def _is_key_material(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, Mapping) and ("kty" in value or "keys" in value)
    )


def _described(value: object) -> str:
    """What a message says of a value that may hold key material: its type, never its text."""
    if isinstance(value, Mapping):
        return "a dict without 'kty' or 'keys'" if value else "an empty dict"
    return f"a value of type {type(value).__name__}"


# --- importing: every key as a fetched one would be, but refused rather than skipped ---------


def _key_set(document: object, issuer: str, algorithms: frozenset[str]) -> StaticKeySet:
    where = f"keys for {issuer!r}"
    if isinstance(document, str):
        jwks: list[Any] = _pem_jwks(document, where)
    elif isinstance(document, Mapping) and "keys" in document:
        entries = document["keys"]
        if not isinstance(entries, list) or not entries:
            raise ConfigurationError(
                f"The {where} are a JWK Set whose 'keys' is not a non-empty list.",
                setting=_SETTING,
            )
        jwks = entries
    else:
        jwks = [document]
    if len(jwks) > MAX_KEYS:
        raise ConfigurationError(
            f"The {where} number {len(jwks)}, more than {MAX_KEYS}.", setting=_SETTING
        )
    keys = [_imported(jwk, where, index, len(jwks)) for index, jwk in enumerate(jwks)]
    _check_unambiguous(keys, where)
    usable = frozenset().union(*(key.algorithms for key in keys)) & algorithms
    if not usable:
        fitting = sorted(frozenset().union(*(key.algorithms for key in keys)))
        raise ConfigurationError(
            f"None of the {where} verifies an allowed algorithm ({', '.join(sorted(algorithms))}"
            f"): they verify {', '.join(fitting)}. Add one of those to algorithms=, or give the "
            "issuer's signing key.",
            setting=_SETTING,
        )
    return StaticKeySet(keys)


def _imported(jwk: object, where: str, index: int, count: int) -> VerificationKey:
    label = "" if count == 1 else f" #{index + 1}"
    if not isinstance(jwk, Mapping):
        raise ConfigurationError(
            f"The {where}: the key{label} is not a JSON object (a JWK).", setting=_SETTING
        )
    kid = jwk.get("kid")
    if isinstance(kid, str) and 0 < len(kid) <= 64 and kid.isprintable():
        label = f" {kid!r}"
    if jwk.get("kty") == "oct" or "k" in jwk:
        raise ConfigurationError(
            f"The {where}: the key{label} is a symmetric (oct) key, a shared secret. keys= takes "
            "public keys; a shared secret for HS256 goes in secret= (and HS256 in algorithms=).",
            setting=_SETTING,
        )
    if PRIVATE_MEMBERS & jwk.keys():
        raise ConfigurationError(
            f"The {where}: the key{label} is a private key (it has private members): give its "
            "public key only. The API never needs the private key; keep it with the issuer.",
            setting=_SETTING,
        )
    try:
        return VerificationKey.from_jwk(jwk)
    except KeySetError as why:
        raise ConfigurationError(
            f"The {where}: the key{label} cannot be used: {why}.", setting=_SETTING
        ) from None


def _check_unambiguous(keys: list[VerificationKey], where: str) -> None:
    """Two keys a token could not choose between (the same kid, or no kid at all, and a
    shared algorithm) make every such token ambiguous: refused now, not on each request."""
    seen: dict[tuple[str | None, str], VerificationKey] = {}
    for key in keys:
        for alg in key.algorithms:
            if (key.kid, alg) in seen:
                named = f"kid {key.kid!r}" if key.kid is not None else "no kid"
                raise ConfigurationError(
                    f"The {where} hold two keys with {named} that both verify {alg}: a token "
                    "could not tell them apart. Give each key its own kid, or drop one.",
                    setting=_SETTING,
                )
            seen[key.kid, alg] = key


def _pem_jwks(text: str, where: str) -> list[dict[str, Any]]:
    """The JWK of each PEM block of ``text``; a private key, a certificate or anything else
    is refused by its label, before any of it is parsed."""
    labels = re.findall(r"-----BEGIN ([^-\r\n]{1,40})-----", text)
    for label in labels:
        if "PRIVATE" in label:
            raise ConfigurationError(
                f"The {where} are a private key (PEM {label}): give its public key only "
                "(openssl pkey -in private.pem -pubout). The API never needs the private key.",
                setting=_SETTING,
            )
        if "CERTIFICATE" in label:
            raise ConfigurationError(
                f"The {where} are a certificate: give its public key (openssl x509 -in "
                "cert.pem -pubkey -noout).",
                setting=_SETTING,
            )
        if label not in ("PUBLIC KEY", "RSA PUBLIC KEY"):
            raise ConfigurationError(
                f"The {where} hold a PEM {label[:40]!r} block, not a PUBLIC KEY.",
                setting=_SETTING,
            )
    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(text)]
    if not blocks or len(blocks) != len(labels):
        raise ConfigurationError(
            f"The {where} are not well-formed PEM (each key between its -----BEGIN PUBLIC "
            "KEY----- and -----END PUBLIC KEY----- lines).",
            setting=_SETTING,
        )
    return [_jwk_of(block, where) for block in blocks]


def _jwk_of(block: str, where: str) -> dict[str, Any]:
    """A PEM public key as the JWK it is (RFC 7518 §6), for :meth:`VerificationKey.from_jwk`."""
    try:
        key: Any = load_pem_public_key(block.encode("ascii"))
    except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
        raise ConfigurationError(
            f"The {where} hold a PEM block that is not a public key cryptography can read.",
            setting=_SETTING,
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = _EC_CURVES.get(key.curve.name)
        if crv is None:
            raise ConfigurationError(
                f"The {where} are an EC key on {key.curve.name}, a curve no JWS algorithm "
                "uses (P-256, P-384, P-521 and secp256k1 do).",
                setting=_SETTING,
            )
        size = (key.curve.key_size + 7) // 8
        point = key.public_numbers()
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64url_encode(point.x.to_bytes(size, "big")),
            "y": b64url_encode(point.y.to_bytes(size, "big")),
        }
    raw = _raw(key)
    for key_class, crv in _OKP_CURVES:
        if isinstance(key, key_class):
            return {"kty": "OKP", "crv": crv, "x": b64url_encode(raw)}
    for level in MLDSA_SIZES:
        key_class = mldsa_public_key_class(level)
        if key_class is not None and isinstance(key, key_class):
            return {"kty": "AKP", "alg": level, "pub": b64url_encode(raw)}
    raise ConfigurationError(
        f"The {where} are a {type(key).__name__.removesuffix('PublicKey') or 'public'} key, "
        "which signs no JWS algorithm bearerguard verifies.",
        setting=_SETTING,
    )


def _raw(key: Any) -> bytes:
    try:
        raw: bytes = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    except (ValueError, TypeError, AttributeError):
        return b""
    return raw


def _b64_int(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))
