"""How the API authenticates itself to its provider: the key of ``private_key_jwt`` and the
certificate of mTLS, read and checked once; the client assertion made for each call.

``private_key_jwt`` (RFC 7523 §2.2, OpenID Connect Core §9): each request to the provider
carries a short-lived JWT signed by the API's private key, whose public half the provider
holds. Its ``aud`` is the provider's issuer identifier by default, as the update of RFC 7523
(draft-ietf-oauth-rfc7523bis) requires and Auth0 and Keycloak accept; providers that want the
endpoint's own URL (Okta) are given it with ``assertion_audience``.

``tls_client_auth`` and ``self_signed_tls_client_auth`` (RFC 8705 §2): the API presents a
client certificate in the TLS handshake. The certificate and its key are checked here to
belong together, so that a mistake shows when the verifier is made, not as a failed
handshake on the first opaque token.

Pure: files are read, nothing is sent.

Example::

    key = assertion_key("keys/introspect.pem", algorithm=None, key_id="k1")
    client_assertion(key, client_id="api", audience="https://tenant.example.com/", now=1.8e9)
    # 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0...'
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from ._errors import ConfigurationError
from ._jose import b64url_encode
from ._key_material import KeyMaterial, load_private_pem, looks_like_a_path

__all__ = [
    "ASSERTION_TYPE",
    "AssertionKey",
    "TlsIdentity",
    "assertion_key",
    "client_assertion",
    "tls_identity",
]

#: RFC 7523 §2.2: the ``client_assertion_type`` of a JWT assertion
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# An assertion lives a minute: long enough for a slow clock, short enough that a copy is
# soon worthless (the provider also refuses its jti a second time).
ASSERTION_LIFETIME = 60

AssertionPrivateKey: TypeAlias = (
    "rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey"
    " | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey"
)

_PRIVATE_KEYS = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)
_RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_MIN_RSA_BITS = 2048
_EXAMPLE = "Introspection(client_id='api', private_key='keys/introspect.pem')"


_MATERIAL = KeyMaterial("private_key", _EXAMPLE, shows_path=looks_like_a_path, private=True)


@dataclass(frozen=True, slots=True)
class AssertionKey:
    """The private key that signs client assertions, its algorithm and the ``kid`` named."""

    algorithm: str
    kid: str | None
    key: AssertionPrivateKey = field(repr=False)


def assertion_key(value: object, *, algorithm: str | None, key_id: str | None) -> AssertionKey:
    """Read the ``private_key`` of ``private_key_jwt``: PEM text, a private JWK, its JSON, a
    file path, or a ``cryptography`` private key. ``algorithm`` defaults by the key (RS256
    for RSA, ES256/384/512 by curve, EdDSA); ``key_id`` defaults to the JWK's ``kid``.

    Example::

        assertion_key('{"kty": "EC", "crv": "P-256", ...}', algorithm=None, key_id=None)
        # AssertionKey(algorithm='ES256', kid=...)
    """
    loaded = _MATERIAL.loaded(value, "private_key")
    kid: object = None
    if isinstance(loaded, str):
        key = _from_pem(loaded)
    elif isinstance(loaded, Mapping):
        if "keys" in loaded:  # a JWK Set: the one key it holds
            members = loaded["keys"]
            if not isinstance(members, list) or len(members) != 1:
                raise ConfigurationError(
                    "Introspection private_key is a JWK Set that does not hold exactly one key: "
                    "give the one private key the API signs its client assertions with.",
                    setting="private_key",
                )
            loaded = members[0]
            if not isinstance(loaded, Mapping):
                raise ConfigurationError(
                    "Introspection private_key is a JWK Set whose key is not a JSON object.",
                    setting="private_key",
                )
        key, kid = _from_jwk(loaded), loaded.get("kid")
    elif isinstance(loaded, _PRIVATE_KEYS):
        key = loaded
    else:
        raise ConfigurationError(
            "Introspection private_key must be a private key (PEM text, a JWK, or a file "
            f"path), got a value of type {type(loaded).__name__}: e.g. {_EXAMPLE}.",
            setting="private_key",
        )
    if key_id is not None:
        kid = key_id
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise ConfigurationError(
            "Introspection private_key_id must be a non-empty string (the kid the provider "
            "knows the key by).",
            setting="private_key_id",
        )
    return AssertionKey(_algorithm_for(key, algorithm), kid, key)


def client_assertion(key: AssertionKey, *, client_id: str, audience: str, now: float) -> str:
    """A client assertion (RFC 7523 §3): ``iss`` and ``sub`` the client, ``aud`` the
    provider, a minute's life and a new ``jti``, signed by ``key``."""
    header: dict[str, Any] = {"alg": key.algorithm, "typ": "JWT"}
    if key.kid is not None:
        header["kid"] = key.kid
    issued = int(now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
        "jti": secrets.token_urlsafe(24),
    }
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = _pyjwt()[key.algorithm].sign(signing_input.encode("ascii"), key.key)
    return f"{signing_input}.{b64url_encode(signature)}"


def _pyjwt() -> dict[str, Any]:
    """PyJWT's algorithms (JWK import, JWS signing), imported when first needed: importing
    PyJWT brings threading and ssl, and the settings are part of the sans-I/O core."""
    from jwt.algorithms import get_default_algorithms  # noqa: PLC0415

    return get_default_algorithms()


def _segment(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def _from_pem(text: str) -> AssertionPrivateKey:
    if "PRIVATE KEY" not in text:
        raise ConfigurationError(
            "Introspection private_key holds no private key (a public key or a certificate?): "
            "give the PEM private key whose public half the provider holds for this API "
            "(-----BEGIN PRIVATE KEY-----).",
            setting="private_key",
        )
    key = load_private_pem(
        text.encode("ascii", "replace"), "Introspection private_key", "private_key"
    )
    if not isinstance(key, _PRIVATE_KEYS):
        raise ConfigurationError(
            f"Introspection private_key is a {type(key).__name__.removeprefix('_')}; client "
            "assertions are signed with RSA, EC (P-256, P-384, P-521) or Ed25519 keys.",
            setting="private_key",
        )
    return key


def _from_jwk(jwk: Mapping[str, Any]) -> AssertionPrivateKey:
    kty = jwk.get("kty")
    family = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}.get(
        kty if isinstance(kty, str) else ""
    )
    if family is None:
        raise ConfigurationError(
            f"Introspection private_key is a JWK of kty {kty!r}; client assertions are signed "
            "with RSA, EC or OKP (Ed25519) keys.",
            setting="private_key",
        )
    if "d" not in jwk:
        raise ConfigurationError(
            "Introspection private_key is a public JWK (no 'd'): give the private key; the "
            "provider holds its public half.",
            setting="private_key",
        )
    from jwt.exceptions import InvalidKeyError  # noqa: PLC0415 - see _pyjwt()

    try:
        key: Any = _pyjwt()[family].from_jwk(dict(jwk))
    except (InvalidKeyError, ValueError, TypeError, KeyError, UnsupportedAlgorithm):
        raise ConfigurationError(
            f"Introspection private_key is not a valid {kty} private JWK.", setting="private_key"
        ) from None
    return _private(key)


def _private(key: object) -> AssertionPrivateKey:
    if isinstance(key, _PRIVATE_KEYS):
        return key
    raise ConfigurationError(
        "Introspection private_key is a public key: give the private key; the provider holds "
        "its public half.",
        setting="private_key",
    )


def _algorithm_for(key: AssertionPrivateKey, chosen: str | None) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ConfigurationError(
                f"Introspection private_key is an RSA key of {key.key_size} bits; use 2048 bits "
                "or more.",
                setting="private_key",
            )
        allowed: tuple[str, ...] = _RSA_ALGORITHMS
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        curve = _EC_ALGORITHMS.get(key.curve.name)
        if curve is None:
            raise ConfigurationError(
                f"Introspection private_key is an EC key on {key.curve.name}; use P-256, "
                "P-384 or P-521.",
                setting="private_key",
            )
        allowed = (curve,)
    else:
        allowed = ("EdDSA",)
    if chosen is None:
        return allowed[0]
    if chosen not in allowed:
        raise ConfigurationError(
            f"Introspection assertion_algorithm {chosen!r} does not fit the private_key; it "
            f"can sign with {', '.join(allowed)}.",
            setting="assertion_algorithm",
        )
    return chosen


# --- mTLS ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlsIdentity:
    """The client certificate (chain) file and its key file, checked to belong together."""

    certificate: str
    key: str

    def __repr__(self) -> str:
        return f"TlsIdentity(certificate={self.certificate!r})"


_MAX_PEM_BYTES = 1 << 20


def tls_identity(certificate: object, key: object) -> TlsIdentity:
    """Check the files of ``tls_certificate`` (PEM certificate, its chain after it) and
    ``tls_key`` (PEM private key; default: the same file as the certificate).

    Example::

        tls_identity("certs/api.pem", "certs/api.key")
        # TlsIdentity(certificate='certs/api.pem')
    """
    cert_path = _path(certificate, "tls_certificate")
    key_path = cert_path if key is None else _path(key, "tls_key")
    cert_text = _read(cert_path, "tls_certificate")
    # cryptography's x509 imports email, and so socket: kept out of the sans-I/O core's imports.
    from cryptography import x509  # noqa: PLC0415

    try:
        chain = x509.load_pem_x509_certificates(cert_text)
    except ValueError:
        raise ConfigurationError(
            f"Introspection tls_certificate {cert_path!r} holds no PEM certificate "
            "(-----BEGIN CERTIFICATE-----).",
            setting="tls_certificate",
        ) from None
    key_text = cert_text if key_path == cert_path else _read(key_path, "tls_key")
    setting = "tls_certificate" if key is None else "tls_key"
    if b"PRIVATE KEY" not in key_text:
        raise ConfigurationError(
            f"Introspection {setting} {key_path!r} holds no private key: give tls_key, the "
            "file of the certificate's private key (-----BEGIN PRIVATE KEY-----).",
            setting=setting,
        )
    private: Any = load_private_pem(
        _pem_key(key_text), f"Introspection {setting} {key_path!r}", setting
    )
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if private.public_key().public_bytes(der, spki) != chain[0].public_key().public_bytes(
        der, spki
    ):
        raise ConfigurationError(
            f"Introspection tls_key {key_path!r} is not the key of the certificate in "
            f"{cert_path!r}: give the pair the provider registered for this API.",
            setting=setting,
        )
    return TlsIdentity(cert_path, key_path)


def _path(value: object, setting: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value or "\0" in value:
        raise ConfigurationError(
            f"Introspection {setting} must be the path of a PEM file, got "
            f"{type(value).__name__}: e.g. tls_certificate='certs/api.pem', "
            "tls_key='certs/api.key'.",
            setting=setting,
        )
    return value


def _read(path: str, setting: str) -> bytes:
    try:
        with Path(path).open("rb") as file:
            data = file.read(_MAX_PEM_BYTES + 1)
    except FileNotFoundError:
        raise ConfigurationError(
            f"Introspection {setting}: no file at {path!r} (relative to the directory the API "
            f"runs in, {Path.cwd().name!r}).",
            setting=setting,
        ) from None
    except OSError as why:
        raise ConfigurationError(
            f"Introspection {setting}: {path!r} cannot be read ({why.strerror}).",
            setting=setting,
        ) from None
    if len(data) > _MAX_PEM_BYTES:
        raise ConfigurationError(
            f"Introspection {setting}: {path!r} is larger than 1 MiB; give a PEM file.",
            setting=setting,
        )
    return data


def _pem_key(text: bytes) -> bytes:
    """The private key's block alone (a combined file also holds certificates)."""
    start = text.find(b"-----BEGIN ")
    while start != -1:
        end_line = text.find(b"-----", start + 11)
        label = text[start + 11 : end_line]
        if label.endswith(b"PRIVATE KEY"):
            end = text.find(b"-----END " + label + b"-----", end_line)
            if end != -1:
                return text[start : end + len(label) + 14]
        start = text.find(b"-----BEGIN ", start + 1)
    return text
