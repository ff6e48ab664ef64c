"""The hostile JWE catalogue: encrypted access tokens (RFC 7516) and the attacks on decryption.

Ids ``J00``-``J14``, one per rule or attack, each case a variant of it, each row with its
source in ``SOURCES``: the RFC section, the CVE, or the paper. ``J00`` holds the positive
twins (every family of algorithms accepted), which a check that refused them would be
refusing providers that follow the RFCs. The world is the main catalogue's (a tenant and
its custom domain, served in-process), with the API's decryption keys: an RSA key without
``kid``, an EC P-256 key ``ec-1`` and a 32-byte ``dir`` key ``dir-1``.
``tests/hostile/test_jwe.py`` runs every case through ``verify()``/``averify()`` and,
when it can be sent, through every framework adapter.

Every failure of the cryptography (``J06``, ``J07``, ``J13``) is the same refusal, 401
``invalid_token`` "Invalid token", with the same reason in the log, whichever step failed:
the test module checks that too, and that the RSA-OAEP path takes the same time whether
the key block decrypts or not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import zlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bearerguard import (
    EncryptedTokenError,
    ExpiredTokenError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    MalformedTokenError,
)
from bearerguard.testing._encryption import encrypt_token
from tests.jwe_keys import private_pem
from tests.support import b64url, ec_key, rsa_key, sign_token

from .builders import Build, Case, Env, Settings, no, ok, signed

__all__ = ["DIR_KEY", "EC_KEY", "JWE_CATALOGUE", "RSA_KEY", "SOURCES", "WITH_KEYS"]

RSA_KEY = rsa_key(5)
EC_KEY = ec_key("P-256", 5)
DIR_KEY = bytes(range(100, 132))
ATTACKER_RSA = rsa_key(6)


def _ec_private_jwk(kid: str) -> dict[str, Any]:
    numbers = EC_KEY.private_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "kid": kid,
        "x": b64url(numbers.public_numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.public_numbers.y.to_bytes(32, "big")),
        "d": b64url(numbers.private_value.to_bytes(32, "big")),
    }


def _keys() -> list[Any]:
    return [
        private_pem(RSA_KEY),
        _ec_private_jwk("ec-1"),
        {"kty": "oct", "kid": "dir-1", "k": b64url(DIR_KEY)},
    ]


#: the world's verifier with the API's decryption keys
WITH_KEYS: Settings = lambda env: {"decryption_keys": _keys()}  # noqa: E731

#: where each row's rule or attack comes from
SOURCES: Mapping[str, str] = {
    "J01": "RFC 8725bis §3.3 (tell JWS and JWE apart), CVE-2023-51774 (json-jwt), "
    "CVE-2022-3102 (jwcrypto): without decryption keys a JWE is refused, never opened",
    "J02": "RFC 8725 §3.2 (current algorithms only), RFC 7516 §11.5 and RFC 3218 "
    "(Bleichenbacher's attack on RSA1_5), RFC 8725 §2.1 and §3.1 (allow-lists): alg outside "
    "RSA-OAEP-256, ECDH-ES(+A*KW), dir",
    "J03": "RFC 7518 §5.1 and RFC 8725 §3.1: enc outside the authenticated encryptions "
    "A*GCM, A*CBC-HS*",
    "J04": "RFC 8725bis §3.13 (cap p2c), CVE-2023-6681 (jwcrypto), CVE-2022-36083 (jose), "
    "CVE-2023-52428 (Nimbus), CVE-2026-27932 (joserfc): PBES2 iteration bombs",
    "J05": "RFC 8725 §3.6 and RFC 8725bis §3.15, CVE-2024-33664 (python-jose), "
    "CVE-2024-28102 and CVE-2026-39373 (jwcrypto), CVE-2024-28176 (jose): zip bombs",
    "J06": "RFC 8725 §3.4 (validate ECDH-ES inputs), RFC 7518 §4.6; Jager, Schwenk and "
    "Somorovsky, 'Practical Invalid Curve Attacks on TLS-ECDH' (ESORICS 2015); Sanso, "
    "'Critical vulnerability in JSON Web Encryption' (2017), CVE-2016-9121 (go-jose)",
    "J07": "RFC 7518 §5.2.2.2 (MAC checked before decryption), Vaudenay, 'Security Flaws "
    "Induced by CBC Padding' (EUROCRYPT 2002); RFC 7516 §11.5 and RFC 3218 (no oracle on "
    "the key block), Manger (CRYPTO 2001) for RSA-OAEP",
    "J08": "RFC 8725 §3.10 (attacker-sized input), CVE-2025-61920 (Authlib): oversized "
    "parts refused before decoding",
    "J09": "RFC 9068 §2.1 (access tokens MUST be signed), RFC 8725 §3.3: decryption is no "
    "authentication (CVE-2023-51774)",
    "J10": "RFC 7519 §5.2 and §7.2 step 8, RFC 8725 §3.3: a JWE inside a JWE is not a signed JWT",
    "J11": "RFC 7519 §5.3: claims replicated in the JWE header must equal the signed ones",
    "J12": "RFC 7516 §4.1.13 and RFC 7515 §4.1.11 (crit), RFC 7519 §5.2 (cty JWT announces "
    "a nested JWT)",
    "J13": "RFC 7516 §5.2 steps 6-11: a token encrypted to another key, or naming an unknown "
    "kid, does not decrypt",
    "J14": "RFC 9068 §4 (decrypt, then validate everything), RFC 8725 §3.3: the inner token "
    "goes through the whole pipeline",
}


# --- builders -------------------------------------------------------------------------------


def encrypted(
    alg: str = "RSA-OAEP-256",
    enc: str = "A256GCM",
    *,
    inner: Build | None = None,
    **kw: Any,
) -> Build:
    """A token of the tenant (or ``inner``'s), encrypted to the API's key for ``alg``."""
    to = kw.pop("to", {"dir": DIR_KEY, "RSA-OAEP-256": RSA_KEY}.get(alg, EC_KEY))
    kw.setdefault("kid", {"dir": "dir-1", "RSA-OAEP-256": None}.get(alg, "ec-1"))

    def build(env: Env) -> str:
        payload = inner(env) if inner is not None else env.provider.token()
        return encrypt_token(payload, to, alg=alg, enc=enc, **kw)

    return build


def header_of(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".", maxsplit=1)[0] + "=="))


def with_header(build: Build, **members: Any) -> Build:
    """``build``'s token with its header segment replaced: the rest left as it was (the tag,
    which covers the header, then fails; a check before it must refuse first)."""

    def edit(env: Env) -> str:
        token = build(env)
        header = {**header_of(token), **members}
        parts = token.split(".")
        parts[0] = b64url(json.dumps(header, separators=(",", ":")).encode())
        return ".".join(parts)

    return edit


def flipped(build: Build, part: int, at: int = -1) -> Build:
    """``build``'s token with one bit of one part changed."""

    def edit(env: Env) -> str:
        parts = build(env).split(".")
        raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=="))
        raw[at] ^= 1
        parts[part] = b64url(bytes(raw))
        return ".".join(parts)

    return edit


def replaced(build: Build, part: int, value: bytes) -> Build:
    def edit(env: Env) -> str:
        parts = build(env).split(".")
        parts[part] = b64url(value)
        return ".".join(parts)

    return edit


def literal(text: str) -> Build:
    return lambda env: text


def _cbc_by_sender(plaintext: bytes, *, pad: bool, zip_: bool = False) -> str:
    """A dir A128CBC-HS256 token made by whoever holds the key, padded or not: the tag is
    right, so what the padding holds is the only thing that could differ."""
    header = {"alg": "dir", "enc": "A128CBC-HS256", "kid": "dir-1", "cty": "JWT"}
    if zip_:
        header["zip"] = "DEF"
    key = DIR_KEY
    header_b64 = b64url(json.dumps(header, separators=(",", ":")).encode())
    if pad:
        fill = 16 - len(plaintext) % 16
        plaintext += bytes([fill]) * fill
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key[16:]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    aad = header_b64.encode()
    mac = hmac.new(
        key[:16], aad + iv + ciphertext + struct.pack(">Q", 8 * len(aad)), hashlib.sha256
    )
    return ".".join((header_b64, "", b64url(iv), b64url(ciphertext), b64url(mac.digest()[:16])))


def bad_padding(env: Env) -> str:
    token = env.provider.token().encode()
    return _cbc_by_sender(token[: len(token) // 16 * 16 - 16] + b"\x00" * 16, pad=False)


def zip_bomb(env: Env) -> str:
    """10 MB of zeros deflated (some 10 KB), correctly encrypted to the dir key: the only
    thing wrong with it is zip."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = deflate.compress(b"\x00" * 10_000_000) + deflate.flush()
    return _cbc_by_sender(bomb, pad=True, zip_=True)


def gcm_by_sender(header: Mapping[str, Any], plaintext: bytes) -> Build:
    """A dir A256GCM token with exactly this header, encrypted under the API's dir key."""

    def build(env: Env) -> str:
        header_b64 = b64url(json.dumps(dict(header), separators=(",", ":")).encode())
        iv = os.urandom(12)
        sealed = AESGCM(DIR_KEY).encrypt(iv, plaintext, header_b64.encode())
        return ".".join((header_b64, "", b64url(iv), b64url(sealed[:-16]), b64url(sealed[-16:])))

    return build


def epk(**members: Any) -> dict[str, Any]:
    return {"kty": "EC", "crv": "P-256", **members}


def point_of(key: Any) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {
        "x": b64url(numbers.x.to_bytes(size, "big")),
        "y": b64url(numbers.y.to_bytes(size, "big")),
    }


# Points an invalid-curve probe sends: coordinates that lie on another curve (of small order
# there), not on P-256, so no shared secret must ever be computed with them.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
OFF_CURVE = {"x": b64url((5).to_bytes(32, "big")), "y": b64url((7).to_bytes(32, "big"))}
ORIGIN = {"x": b64url(bytes(32)), "y": b64url(bytes(32))}
BEYOND_P = {"x": b64url(P256_P.to_bytes(32, "big")), "y": b64url((1).to_bytes(32, "big"))}


def claims_only(env: Env) -> str:
    return json.dumps({"iss": env.provider.issuer, "sub": "auth0|123", "aud": "x", "exp": 2e9})


def alg_none(env: Env) -> str:
    token = env.provider.token()
    _, payload, _ = token.split(".")
    return b64url(b'{"alg":"none","typ":"JWT"}') + "." + payload + "."


def jwe_in_jwe(env: Env) -> str:
    return encrypt_token(env.provider.token(), RSA_KEY)


def attacker_signed(env: Env) -> str:
    token = env.provider.token()
    header = header_of(token)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return sign_token(header, claims, ATTACKER_RSA, "RS256")


BASE = encrypted()
CBC = encrypted(enc="A128CBC-HS256")
ECDH = encrypted("ECDH-ES", "A256GCM")
ECDH_KW = encrypted("ECDH-ES+A128KW", "A128CBC-HS256")
GCM_DIR = encrypted("dir", "A256GCM")


def _case(id: str, error: Any, token: Build, **kw: Any) -> Case:
    kw.setdefault("settings", WITH_KEYS)
    return no(id, error, token, **kw) if error is not None else ok(id, token, **kw)


def refused(id: str, token: Build, **kw: Any) -> Case:
    """A token the verifier must refuse before any network: 401 "Invalid token", no fetch."""
    return _case(id, kw.pop("error", InvalidTokenError), token, hits=0, **kw)


JWE_CATALOGUE: list[Case] = [
    # --- J00: the positive twins ------------------------------------------------------------
    _case("J00-rsa-oaep-256-a256gcm", None, BASE),
    _case("J00-rsa-oaep-256-a256cbc-hs512", None, encrypted(enc="A256CBC-HS512")),
    _case("J00-ecdh-es-a128gcm", None, encrypted("ECDH-ES", "A128GCM")),
    _case("J00-ecdh-es-a256kw-a192cbc-hs384", None, encrypted("ECDH-ES+A256KW", "A192CBC-HS384")),
    _case("J00-dir-a128cbc-hs256", None, encrypted("dir", "A128CBC-HS256")),
    _case("J00-cty-at-jwt", None, encrypted(cty="at+jwt")),
    # J12's twin: no cty, as Auth0 sends it; the payload is still a signed JWT, verified.
    _case("J00-cty-absent", None, encrypted(cty=None)),
    *(
        _case(f"J00-{alg.lower()}", None, encrypted(alg, to=RSA_KEY))
        for alg in ("RSA-OAEP-384", "RSA-OAEP-512")
    ),
    _case(
        "J00-replicated-iss-equal",
        None,
        lambda env: encrypt_token(
            env.provider.token(), RSA_KEY, header={"iss": env.provider.issuer}
        ),
    ),
    # --- J01: no decryption keys: today's explanation -----------------------------------------
    no("J01-jwe-without-decryption-keys", EncryptedTokenError, BASE, hits=0),
    no(
        "J01-zip-and-p2c-without-decryption-keys",
        EncryptedTokenError,
        with_header(BASE, alg="PBES2-HS256+A128KW", p2c=2**31, zip="DEF"),
        hits=0,
    ),
    # --- J02: key management outside the allow-list -------------------------------------------
    *(
        refused(f"J02-alg-{name}", with_header(BASE, alg=alg))
        for name, alg in (
            ("rsa1-5", "RSA1_5"),
            ("rsa-oaep-sha1", "RSA-OAEP"),
            ("rsa-oaep-sha224", "RSA-OAEP-224"),
            ("a128kw", "A128KW"),
            ("a256gcmkw", "A256GCMKW"),
            ("ecdh-1pu", "ECDH-1PU"),
            ("none", "none"),
            ("lowercase", "rsa-oaep-256"),
            ("not-a-string", ["RSA-OAEP-256"]),
            ("missing", None),
        )
    ),
    # --- J03: content encryption outside the allow-list ---------------------------------------
    *(
        refused(f"J03-enc-{name}", with_header(BASE, enc=enc))
        for name, enc in (
            ("a128cbc-without-hmac", "A128CBC"),
            ("a256ctr", "A256CTR"),
            ("trailing-space", "A256GCM "),
            ("none", "none"),
            ("missing", None),
        )
    ),
    # --- J04: PBES2 iteration bombs -----------------------------------------------------------
    *(
        refused(
            f"J04-pbes2-{name}",
            with_header(BASE, alg=alg, p2c=p2c, p2s=b64url(b"saltsaltsalt")),
        )
        for name, alg, p2c in (
            ("p2c-2-to-31", "PBES2-HS512+A256KW", 2**31),
            ("p2c-1200001", "PBES2-HS256+A128KW", 1_200_001),
            ("p2c-1000", "PBES2-HS256+A128KW", 1000),
            ("p2c-string", "PBES2-HS384+A192KW", "2147483648"),
        )
    ),
    # --- J05: compression bombs ---------------------------------------------------------------
    refused("J05-zip-def-bomb-correctly-encrypted", zip_bomb, error=MalformedTokenError),
    refused("J05-zip-def-header", with_header(BASE, zip="DEF"), error=MalformedTokenError),
    refused("J05-zip-other-value", with_header(BASE, zip="GZIP"), error=MalformedTokenError),
    # --- J06: invalid-curve ECDH-ES ephemeral keys --------------------------------------------
    *(
        refused(f"J06-epk-{name}", with_header(ECDH, epk=value))
        for name, value in (
            ("off-the-curve", epk(**OFF_CURVE)),
            ("origin", epk(**ORIGIN)),
            ("coordinate-beyond-p", epk(**BEYOND_P)),
            (
                "p-384-point-to-a-p-256-key",
                {"kty": "EC", "crv": "P-384", **point_of(ec_key("P-384", 3))},
            ),
            ("p-384-point-named-p-256", epk(**point_of(ec_key("P-384", 3)))),
            ("short-coordinates", epk(x=b64url(b"\1" * 31), y=b64url(b"\2" * 31))),
            ("x25519", {"kty": "OKP", "crv": "X25519", "x": b64url(b"\x09" * 32)}),
            ("with-private-d", epk(**point_of(ec_key("P-256", 3)), d=b64url(b"\1" * 32))),
            ("not-an-object", "AAAA"),
            ("missing", None),
        )
    ),
    refused("J06-epk-off-the-curve-with-key-wrap", with_header(ECDH_KW, epk=epk(**OFF_CURVE))),
    refused("J06-apu-oversized", with_header(ECDH, apu=b64url(b"u" * 600))),
    # --- J07: padding oracles and tampering: one uniform refusal --------------------------------
    refused("J07-cbc-bad-padding-under-a-valid-tag", bad_padding),
    refused("J07-cbc-last-ciphertext-block-changed", flipped(CBC, 3)),
    refused("J07-cbc-first-ciphertext-block-changed", flipped(CBC, 3, 0)),
    refused("J07-cbc-iv-changed", flipped(CBC, 2)),
    refused("J07-cbc-tag-changed", flipped(CBC, 4)),
    refused("J07-gcm-tag-changed", flipped(BASE, 4)),
    refused("J07-gcm-ciphertext-changed", flipped(BASE, 3, 0)),
    refused("J07-gcm-iv-changed", flipped(GCM_DIR, 2)),
    refused("J07-rsa-oaep-key-block-changed", flipped(BASE, 1)),
    refused("J07-rsa-oaep-key-block-high-byte-changed", flipped(BASE, 1, 0)),
    refused("J07-rsa-oaep-key-block-too-short", replaced(BASE, 1, b"\1" * 255)),
    refused("J07-rsa-oaep-key-block-empty", replaced(BASE, 1, b"")),
    refused("J07-key-unwrap-fails", flipped(ECDH_KW, 1)),
    refused("J07-header-changed-after-encryption", with_header(BASE, typ="JWT")),
    refused("J07-dir-with-an-encrypted-key", replaced(GCM_DIR, 1, b"\1" * 40)),
    refused("J07-ecdh-es-with-an-encrypted-key", replaced(ECDH, 1, b"\1" * 40)),
    refused("J07-gcm-tag-truncated", replaced(BASE, 4, b"\1" * 12), error=MalformedTokenError),
    refused("J07-cbc-tag-truncated", replaced(CBC, 4, b"\1" * 8), error=MalformedTokenError),
    refused("J07-cbc-partial-block", replaced(CBC, 3, b"\1" * 17), error=MalformedTokenError),
    refused("J07-gcm-iv-of-16-bytes", replaced(BASE, 2, b"\1" * 16), error=MalformedTokenError),
    # --- J08: oversized parts -------------------------------------------------------------------
    refused(
        "J08-1-mib-ciphertext",
        literal(
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA."
            + "A" * (1 << 20)
            + ".AAAAAAAAAAAAAAAAAAAAAA"
        ),
        error=MalformedTokenError,
    ),
    refused(
        "J08-1-mib-encrypted-key",
        literal("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0." + "A" * (1 << 20) + ".AAAA.AAAA.AAAA"),
        error=MalformedTokenError,
    ),
    refused(
        "J08-12-kib-header",
        with_header(BASE, x="a" * 12 * 1024),
        error=MalformedTokenError,
    ),
    refused(
        "J08-20000-characters-in-the-last-part",
        literal("a.b.c.d." + "e" * 20_000),
        error=MalformedTokenError,
    ),
    refused("J08-empty-iv", replaced(BASE, 2, b""), error=MalformedTokenError),
    refused("J08-padded-base64", lambda env: BASE(env) + "=", error=MalformedTokenError),
    # --- J09: an unsigned payload ---------------------------------------------------------------
    refused("J09-bare-claims-set", encrypted(inner=claims_only), error=MalformedTokenError),
    refused("J09-alg-none-jws", encrypted(inner=alg_none), error=MalformedTokenError),
    refused(
        "J09-not-a-jwt-at-all", encrypted(inner=lambda env: "hello"), error=MalformedTokenError
    ),
    refused(
        "J09-binary-payload",
        gcm_by_sender({"alg": "dir", "enc": "A256GCM", "kid": "dir-1", "cty": "JWT"}, b"\xff\xfe"),
        error=MalformedTokenError,
    ),
    # --- J10: a JWE inside a JWE ----------------------------------------------------------------
    refused("J10-jwe-in-jwe", encrypted(inner=jwe_in_jwe), error=MalformedTokenError),
    # --- J11: replicated claims that differ -----------------------------------------------------
    *(
        refused(f"J11-replicated-{name}-differs", encrypted(header={name: value}))
        for name, value in (
            ("iss", "https://evil.example/"),
            ("sub", "admin"),
            ("aud", "https://api.example.com"),
            ("exp", 9_999_999_999),
            ("jti", "not-in-the-token"),
        )
    ),
    # --- J12: crit and cty -----------------------------------------------------------------------
    refused(
        "J12-crit-exp", encrypted(header={"crit": ["exp"], "exp": 1}), error=MalformedTokenError
    ),
    refused("J12-crit-empty", encrypted(header={"crit": []}), error=MalformedTokenError),
    refused("J12-cty-null", encrypted(header={"cty": None}), error=MalformedTokenError),
    refused("J12-cty-json", encrypted(cty="application/json"), error=MalformedTokenError),
    # --- J13: the wrong key ----------------------------------------------------------------------
    refused("J13-encrypted-to-another-rsa-key", encrypted(to=ATTACKER_RSA)),
    refused("J13-encrypted-to-another-ec-key", encrypted("ECDH-ES", to=ec_key("P-256", 3))),
    refused("J13-another-dir-key", encrypted("dir", to=bytes(32))),
    refused("J13-unknown-kid", encrypted("ECDH-ES", kid="ec-9")),
    refused("J13-dir-key-of-another-size", encrypted("dir", "A128GCM", to=DIR_KEY[:16])),
    # --- J14: the inner token goes through the whole pipeline ---------------------------------
    _case(
        "J14-inner-signed-by-an-attacker", InvalidSignatureError, encrypted(inner=attacker_signed)
    ),
    _case(
        "J14-inner-from-an-untrusted-issuer",
        InvalidIssuerError,
        encrypted(inner=signed(iss="https://evil.example/")),
        hits=0,
    ),
    _case("J14-inner-expired", ExpiredTokenError, encrypted(inner=signed(exp=1))),
]
