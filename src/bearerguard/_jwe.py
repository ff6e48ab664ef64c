"""Encrypted access tokens: a compact JWE (RFC 7516) opened with the API's private key.

What comes out must be a signed JWT, which then goes through the whole pipeline as if it
had arrived by itself: decryption proves nothing about who issued a token (RFC 8725 §3.3,
CVE-2023-51774), only the inner signature does.

Refused before any cryptography: anything but five canonical base64url segments within
the token size limit, a header that is not strict JSON, an ``alg`` or ``enc`` outside the
allow-list (``RSA-OAEP-256/384/512``, ``ECDH-ES``, ``ECDH-ES+A128KW/A192KW/A256KW``, ``dir``;
``A128GCM/A192GCM/A256GCM``, ``A128CBC-HS256/A192CBC-HS384/A256CBC-HS512``: never
``RSA1_5``, never PBES2 and its iteration count), ``zip`` (no compression bomb),
``crit``, a ``cty`` that does not announce a JWT (an absent one is taken as a JWT), and
parts of the wrong size.

Every failure of the cryptography itself (a wrong key, an RSA block that does not
decrypt, a key unwrap that fails, an ephemeral key off its curve or on another, a bad
authentication tag, bad padding) is one and the same refusal, :data:`UNDECRYPTABLE`,
so that the answer says nothing about which step failed. RSA-OAEP goes on with a random
content key when the key block does not decrypt (RFC 7516 §11.5, RFC 3218), so that the
authentication tag then fails like any other, and AES-CBC's tag is compared in constant
time before any unpadding (RFC 7518 §5.2.2.2).

Example::

    opened = decrypt(raw, keys, max_size=16384)
    opened.payload     # 'eyJhbGciOiJSUzI1NiIs...': the signed JWT inside
    opened.header      # {'alg': 'RSA-OAEP-256', 'enc': 'A256GCM', 'cty': 'JWT', ...}
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import Mapping
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from ._decryption_keys import CONTENT_KEY_SIZES, EC_CURVES, KEY_ALGORITHMS, DecryptionKeys
from ._errors import InvalidTokenError, MalformedTokenError
from ._jose import MAX_HEADER_SEGMENT, b64url_decode, parse_json_object

__all__ = [
    "CONTENT_ENCRYPTIONS",
    "KEY_ALGORITHMS",
    "RSA_OAEP_ALGORITHMS",
    "UNDECRYPTABLE",
    "Decrypted",
    "check_replicated_claims",
    "decrypt",
    "is_jwe",
    "oaep_padding",
]

CONTENT_ENCRYPTIONS = frozenset(CONTENT_KEY_SIZES)
#: the one reason for every failure of the cryptography: which step failed is never told
UNDECRYPTABLE = "The encrypted token cannot be decrypted with the configured decryption keys."
# cty values that announce a nested JWT (RFC 7519 §5.2), as providers send them: media
# types are case-insensitive and may drop "application/" (RFC 7515 §4.1.10).
_JWT_CONTENT = frozenset({"jwt", "application/jwt", "at+jwt", "application/at+jwt"})
# The claims RFC 7519 §5.3 lets a JWE header repeat in the clear.
_REPLICABLE = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
_KEY_WRAP_SIZES = {"ECDH-ES+A128KW": 16, "ECDH-ES+A192KW": 24, "ECDH-ES+A256KW": 32}
_GCM_IV, _GCM_TAG, _CBC_IV = 12, 16, 16
_CBC_HASHES = {"A128CBC-HS256": hashlib.sha256, "A192CBC-HS384": hashlib.sha384,
               "A256CBC-HS512": hashlib.sha512}  # fmt: skip
_MAX_PARTY_INFO = 512  # bytes of apu/apv: identifiers, never more than a few dozen
# RSA-OAEP with SHA-256 (RFC 7518 §4.3) and the SHA-384/SHA-512 variants registered for JOSE
# (IANA JWA registry), which Auth0 offers for encrypted access tokens too.
_OAEP_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSA-OAEP-256": hashes.SHA256,
    "RSA-OAEP-384": hashes.SHA384,
    "RSA-OAEP-512": hashes.SHA512,
}
RSA_OAEP_ALGORITHMS = frozenset(_OAEP_HASHES)


def oaep_padding(alg: str) -> asymmetric_padding.OAEP:
    """The OAEP padding of ``alg`` (one of :data:`RSA_OAEP_ALGORITHMS`): MGF1 and the label
    hash both the algorithm's hash, no label.

    Example::

        key.decrypt(encrypted_key, oaep_padding("RSA-OAEP-256"))
    """
    digest = _OAEP_HASHES[alg]
    return asymmetric_padding.OAEP(
        mgf=asymmetric_padding.MGF1(algorithm=digest()), algorithm=digest(), label=None
    )


class Decrypted(NamedTuple):
    """An opened JWE: its protected header and its payload, the signed JWT within."""

    header: Mapping[str, Any]
    payload: str


class _Undecryptable(Exception):
    """Any failure of the cryptography: turned into the one uniform refusal."""


def is_jwe(token: object) -> bool:
    """Whether ``token`` has the shape of a compact JWE: five segments (four dots).

    Cheap and bounded by the token: what the flow asks before taking the decryption path.
    """
    return isinstance(token, str) and token.count(".") == 4


def decrypt(token: str, keys: DecryptionKeys, max_size: int) -> Decrypted:
    """Open a compact JWE with one of ``keys``; raise :class:`InvalidTokenError` otherwise.

    Example::

        decrypt(raw, keys, max_size=16384).payload   # the signed JWT inside
    """
    if len(token) > max_size:
        raise MalformedTokenError(reason=f"The token is longer than {max_size} characters.")
    segments = token.split(".")
    if len(segments) != 5 or not token.isascii():
        raise MalformedTokenError(reason="The encrypted token is not five base64url segments.")
    header_b64, _, iv_b64, ciphertext_b64, tag_b64 = segments
    if not header_b64 or not iv_b64 or not ciphertext_b64 or not tag_b64:
        raise MalformedTokenError(reason="The encrypted token has an empty required segment.")
    if len(header_b64) > MAX_HEADER_SEGMENT:
        raise MalformedTokenError(reason="The encrypted token's header is implausibly large.")
    # The header first: what it refuses costs no decoding of the (larger) other parts.
    header = parse_json_object(_decoded(header_b64), "encrypted token's header")
    alg, enc, kid = _check_header(header)
    encrypted_key, iv, ciphertext, tag = (_decoded(segment) for segment in segments[1:])
    key = keys.find(kid, alg, enc)
    if key is None:
        raise InvalidTokenError(
            reason="No configured decryption key fits the encrypted token's kid, alg and enc."
        )
    _check_sizes(enc, iv, tag, ciphertext)
    try:
        cek = _content_key(alg, enc, key.key, key.crv, header, encrypted_key)
        plaintext = _decrypt_content(enc, cek, iv, ciphertext, tag, header_b64.encode("ascii"))
    except _Undecryptable:
        raise InvalidTokenError(reason=UNDECRYPTABLE) from None
    return Decrypted(header, _payload(plaintext))


def _decoded(segment: str) -> bytes:
    try:
        return b64url_decode(segment)
    except (ValueError, binascii.Error):
        raise MalformedTokenError(
            reason="A segment of the encrypted token is not canonical unpadded base64url."
        ) from None


def _check_header(header: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """The header's ``alg``, ``enc`` and ``kid``, after every check that needs no key."""
    alg, enc = header.get("alg"), header.get("enc")
    if not isinstance(alg, str) or alg not in KEY_ALGORITHMS:
        raise InvalidTokenError(
            reason="The encrypted token's alg is not one of the allowed key management "
            "algorithms (RSA-OAEP-256/384/512, ECDH-ES, ECDH-ES+A*KW, dir)."
        )
    if not isinstance(enc, str) or enc not in CONTENT_ENCRYPTIONS:
        raise InvalidTokenError(
            reason="The encrypted token's enc is not one of the allowed content encryptions "
            "(A128GCM, A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512)."
        )
    if "zip" in header:
        # RFC 8725 §3.6: compression before encryption leaks the plaintext, and inflating
        # is a bomb (CVE-2024-33664, CVE-2024-28102): access tokens are never compressed.
        raise MalformedTokenError(reason="The encrypted token is compressed (zip).")
    if "crit" in header:
        raise MalformedTokenError(reason="The encrypted token's header lists critical extensions.")
    # RFC 7519 §5.2 asks a nested JWT to say cty "JWT", but providers leave it out (Auth0's
    # documented header is alg, enc and kid): an absent cty is taken as a JWT, which the
    # payload must then be, a signed one. A cty that says something else is refused.
    cty = header.get("cty")
    if "cty" in header and (not isinstance(cty, str) or cty.lower() not in _JWT_CONTENT):
        raise MalformedTokenError(
            reason="The encrypted token's cty is not JWT or at+jwt: its payload must be a "
            "signed JWT (RFC 7519 §5.2)."
        )
    kid = header.get("kid")
    if "kid" in header and (not isinstance(kid, str) or not 0 < len(kid) <= 256):
        raise MalformedTokenError(reason="The encrypted token's kid is not a short string.")
    return alg, enc, kid


def _check_sizes(enc: str, iv: bytes, tag: bytes, ciphertext: bytes) -> None:
    """The IV and tag lengths ``enc`` fixes, and CBC's whole blocks (RFC 7518 §5)."""
    if enc.endswith("GCM"):
        expected = (_GCM_IV, _GCM_TAG)
    else:
        expected = (_CBC_IV, CONTENT_KEY_SIZES[enc] // 2)
        if len(ciphertext) % 16:
            raise MalformedTokenError(
                reason="The encrypted token's ciphertext is not whole blocks."
            )
    if (len(iv), len(tag)) != expected:
        raise MalformedTokenError(
            reason="The encrypted token's initialization vector or tag has the wrong size."
        )


def _content_key(  # noqa: PLR0917
    alg: str,
    enc: str,
    key: object,
    crv: str | None,
    header: Mapping[str, Any],
    encrypted_key: bytes,
) -> bytes:
    """The content key (CEK) for ``alg``; :class:`_Undecryptable` when it cannot be had."""
    size = CONTENT_KEY_SIZES[enc]
    if alg == "dir":
        if encrypted_key or not isinstance(key, bytes):
            raise _Undecryptable
        return key
    if alg in RSA_OAEP_ALGORITHMS:
        assert isinstance(key, rsa.RSAPrivateKey)  # noqa: S101 - chosen by alg
        # RFC 7516 §11.5: a block that does not decrypt goes on with a random key, so that
        # what fails is the tag, like for any other wrong key, and no step is told apart.
        random_cek = os.urandom(size)
        try:
            cek = key.decrypt(encrypted_key, oaep_padding(alg))
        except ValueError:
            return random_cek
        return cek if len(cek) == size else random_cek
    assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 - chosen by alg
    assert crv is not None  # noqa: S101 - every EC key has its curve
    shared = key.exchange(ec.ECDH(), _ephemeral_key(header.get("epk"), crv))
    wrap = _KEY_WRAP_SIZES.get(alg)
    other_info = (
        _length_prefixed((enc if wrap is None else alg).encode("ascii"))
        + _length_prefixed(_party_info(header, "apu"))
        + _length_prefixed(_party_info(header, "apv"))
        + struct.pack(">I", 8 * (size if wrap is None else wrap))
    )
    derived = ConcatKDFHash(hashes.SHA256(), size if wrap is None else wrap, other_info).derive(
        shared
    )  # RFC 7518 §4.6.2
    if wrap is None:
        if encrypted_key:  # ECDH-ES direct: the encrypted key MUST be empty
            raise _Undecryptable
        return derived
    try:
        cek = aes_key_unwrap(derived, encrypted_key)
    except (InvalidUnwrap, ValueError):
        raise _Undecryptable from None
    if len(cek) != size:
        raise _Undecryptable
    return cek


def _ephemeral_key(epk: object, crv: str) -> ec.EllipticCurvePublicKey:
    """The sender's ephemeral public key: a point of the private key's curve, checked there.

    An ephemeral key off the curve (or on a weaker one) lets the sender learn the private
    key bit by bit (invalid-curve attacks, RFC 8725 §3.4; CVE-2017-16007 and the like):
    ``cryptography`` refuses points that are not on the curve, and the curve is ours.
    """
    if not isinstance(epk, Mapping) or epk.get("kty") != "EC" or epk.get("crv") != crv:
        raise _Undecryptable
    if "d" in epk:  # a private member in the clear: nothing a sender would ever send
        raise _Undecryptable
    curve, size = EC_CURVES[crv]
    coordinates = []
    for name in ("x", "y"):
        raw = _member_bytes(epk.get(name))
        if len(raw) != size:
            raise _Undecryptable
        coordinates.append(int.from_bytes(raw, "big"))
    try:
        return ec.EllipticCurvePublicNumbers(coordinates[0], coordinates[1], curve).public_key()
    except ValueError:  # not a point of the curve
        raise _Undecryptable from None


def _party_info(header: Mapping[str, Any], name: str) -> bytes:
    value = header.get(name)
    if value is None:
        return b""
    raw = _member_bytes(value)
    if len(raw) > _MAX_PARTY_INFO:
        raise _Undecryptable
    return raw


def _member_bytes(value: object) -> bytes:
    """A base64url member of the header (epk's x and y, apu, apv); :class:`_Undecryptable`
    if it is not a string or not canonical base64url."""
    if not isinstance(value, str):
        raise _Undecryptable
    try:
        return b64url_decode(value)
    except (ValueError, binascii.Error):
        raise _Undecryptable from None


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _decrypt_content(  # noqa: PLR0917
    enc: str, cek: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes
) -> bytes:
    """Authenticated decryption (RFC 7518 §5.2.2.2, §5.3); :class:`_Undecryptable` on failure."""
    if enc.endswith("GCM"):
        try:
            return AESGCM(cek).decrypt(iv, ciphertext + tag, aad)
        except InvalidTag:
            raise _Undecryptable from None
    half = len(cek) // 2
    mac_key, enc_key = cek[:half], cek[half:]
    mac = hmac.new(
        mac_key, aad + iv + ciphertext + struct.pack(">Q", 8 * len(aad)), _CBC_HASHES[enc]
    )
    # The tag first, in constant time, and only then the padding: a padding oracle needs
    # the padding to be looked at for ciphertexts the sender did not make.
    if not hmac.compare_digest(mac.digest()[: len(tag)], tag):
        raise _Undecryptable
    decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise _Undecryptable from None


def _payload(plaintext: bytes) -> str:
    """The decrypted payload as a signed JWT's text; refused if it is anything else."""
    try:
        text = plaintext.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedTokenError(
            reason="The encrypted token's payload is not a compact signed JWT."
        ) from None
    if text.lstrip()[:1] == "{":
        raise MalformedTokenError(
            reason="The encrypted token's payload is a bare claims set, not a signed JWT: only "
            "the issuer's signature proves who issued a token, encryption does not."
        )
    dots = text.count(".")
    if dots == 4:
        raise MalformedTokenError(reason="The encrypted token holds another encrypted token.")
    if dots != 2:
        raise MalformedTokenError(
            reason="The encrypted token's payload is not a compact signed JWT."
        )
    return text


def check_replicated_claims(header: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    """Claims repeated in the clear in the JWE header (RFC 7519 §5.3) must equal the signed
    ones: a recipient (a log, a gateway) reading the header must not be told another story.

    Example::

        check_replicated_claims({"alg": "dir", "iss": "https://a/"}, {"iss": "https://b/"})
        # InvalidTokenError: a replicated claim differs
    """
    for name in _REPLICABLE:
        if name in header and (name not in claims or not _same(header[name], claims[name])):
            raise InvalidTokenError(
                reason=f"The encrypted token's header repeats the {name} claim with another "
                "value than the signed token inside."
            )


def _same(a: object, b: object) -> bool:
    """JSON equality: True is not 1, and 1 is 1.0 only as numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b
