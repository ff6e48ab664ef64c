"""Encrypted access tokens (JWE, RFC 7516) with ``decryption_keys=``.

Every allowed algorithm and content encryption opens, and the signed JWT inside goes
through the whole pipeline (issuer, signature, claims, the token cache); everything else
is refused with a 401 ``invalid_token`` whose description is the same fixed one, whichever
step failed. The keys: PEM, JWK, JWK Set, JSON text, a file, a list; chosen by ``kid``;
a public key or a signing key is a configuration mistake. Without decryption keys, a JWE
gets today's explanation. Tokens here are encrypted by the tests' own code and, where it
is installed, by joserfc, an independent implementation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from joserfc import jwe, jwk

from bearerguard import (
    ConfigurationError,
    EncryptedTokenError,
    InvalidSignatureError,
    InvalidTokenError,
    Verifier,
)
from bearerguard._config import settings_from_mapping
from bearerguard._decryption_keys import decryption_keys
from bearerguard._jose import b64url_decode
from bearerguard._jwe import (
    UNDECRYPTABLE,
    _content_key,
    _ephemeral_key,
    _Undecryptable,
    check_replicated_claims,
    decrypt,
)
from bearerguard.testing._encryption import encrypt_token
from tests.jwe_keys import private_jwk, private_pem, public_pem
from tests.support import AUDIENCE, ISSUER, Clock, Provider, b64url, ec_key, rsa_key

CONTENT = ("A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512")
DIR_KEY = bytes(range(32))


RSA_DECRYPTION = rsa_key(5)
EC_DECRYPTION = ec_key("P-256", 5)
KEYS: list[Any] = [
    private_pem(RSA_DECRYPTION),
    private_jwk(EC_DECRYPTION, kid="ec-1"),
    {"kty": "oct", "kid": "dir-1", "k": b64url(DIR_KEY)},
]
ENCRYPTIONS = [
    ("RSA-OAEP-256", RSA_DECRYPTION, None),
    ("ECDH-ES", EC_DECRYPTION, "ec-1"),
    ("ECDH-ES+A128KW", EC_DECRYPTION, "ec-1"),
    ("ECDH-ES+A192KW", EC_DECRYPTION, "ec-1"),
    ("ECDH-ES+A256KW", EC_DECRYPTION, "ec-1"),
]


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def make(provider: Provider) -> Callable[..., Verifier]:
    clock = Clock()

    def build(**kw: Any) -> Verifier:
        kw.setdefault("decryption_keys", KEYS)
        return Verifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            transport=provider.transport(),
            async_transport=provider.async_transport(),
            clock=clock.time,
            monotonic=clock.monotonic,
            **kw,
        )

    return build


def refusal(verifier: Verifier, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        verifier.verify(token)
    error = caught.value
    assert error.status_code == 401
    assert error.description == "Invalid token"
    return error


# --- every allowed combination opens, and the token inside is verified ------------------


@pytest.mark.parametrize("enc", CONTENT)
@pytest.mark.parametrize(("alg", "key", "kid"), ENCRYPTIONS, ids=[e[0] for e in ENCRYPTIONS])
def test_every_allowed_algorithm_and_content_encryption_opens(  # noqa: PLR0917 - parameters
    make: Callable[..., Verifier], provider: Provider, alg: str, key: Any, kid: str | None, enc: str
) -> None:
    encrypted = encrypt_token(provider.token(), key, alg=alg, enc=enc, kid=kid)
    token = make().verify(encrypted)
    assert token.subject == "auth0|123"
    assert token.raw == encrypted


@pytest.mark.parametrize(("enc", "size"), [("A128GCM", 16), ("A256GCM", 32), ("A256CBC-HS512", 64)])
def test_a_dir_key_serves_the_content_encryption_of_its_size(
    make: Callable[..., Verifier], provider: Provider, enc: str, size: int
) -> None:
    key = os.urandom(size)
    verifier = make(decryption_keys={"kty": "oct", "kid": "d", "k": b64url(key)})
    assert verifier.verify(encrypt_token(provider.token(), key, alg="dir", enc=enc, kid="d"))


def test_the_async_verifier_decrypts_too(make: Callable[..., Verifier], provider: Provider) -> None:
    encrypted = encrypt_token(provider.token(), RSA_DECRYPTION)
    assert asyncio.run(make().averify(encrypted)).subject == "auth0|123"


def test_a_verified_encrypted_token_is_remembered(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    verifier = make()
    encrypted = encrypt_token(provider.token(), RSA_DECRYPTION)
    verifier.verify(encrypted)  # seen once: admitted to the cache on the next sighting
    second = verifier.verify(encrypted)
    assert verifier.verify(encrypted) is second  # the cache, keyed by the token as sent


def test_signed_tokens_still_pass_next_to_encrypted_ones(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    assert make().verify(provider.token()).subject == "auth0|123"


def test_joserfc_encrypted_tokens_open() -> None:
    provider = Provider()
    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        decryption_keys=[private_pem(RSA_DECRYPTION), private_jwk(EC_DECRYPTION, kid="ec-1")],
        transport=provider.transport(),
        clock=Clock().time,
    )
    cases = [
        ("RSA-OAEP-256", "A256GCM", RSA_DECRYPTION, None),
        ("ECDH-ES", "A128CBC-HS256", EC_DECRYPTION, "ec-1"),
        ("ECDH-ES+A256KW", "A256CBC-HS512", EC_DECRYPTION, "ec-1"),
    ]
    for alg, enc, key, kid in cases:
        kind = "RSA" if isinstance(key, rsa.RSAPrivateKey) else "EC"
        public = jwk.import_key(public_pem(key), kind)
        header = {"alg": alg, "enc": enc, "cty": "JWT", **({"kid": kid} if kid else {})}
        encrypted = jwe.encrypt_compact(header, provider.token(), public, algorithms=[alg, enc])
        assert verifier.verify(encrypted).subject == "auth0|123", (alg, enc)


# --- the inner token goes through the whole pipeline --------------------------------------


def test_the_inner_signature_is_what_authenticates(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    forged = provider.token()
    forged = forged[: forged.rindex(".") + 1] + b64url(b"\0" * 256)
    with pytest.raises(InvalidSignatureError):
        make().verify(encrypt_token(forged, RSA_DECRYPTION))


def test_an_unsigned_payload_is_refused(make: Callable[..., Verifier]) -> None:
    claims = json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": 2e9})
    error = refusal(make(), encrypt_token(claims, RSA_DECRYPTION))
    assert "not a signed JWT" in error.reason


def test_an_alg_none_payload_is_refused(make: Callable[..., Verifier]) -> None:
    unsigned = b64url(b'{"alg":"none"}') + "." + b64url(b'{"iss":"x"}') + "."
    refusal(make(), encrypt_token(unsigned, RSA_DECRYPTION))


def test_a_jwe_inside_a_jwe_is_refused(make: Callable[..., Verifier], provider: Provider) -> None:
    inner = encrypt_token(provider.token(), RSA_DECRYPTION)
    error = refusal(make(), encrypt_token(inner, RSA_DECRYPTION))
    assert "another encrypted token" in error.reason


@pytest.mark.parametrize("cty", ["JWT", "jwt", "at+jwt", "application/at+jwt", "application/JWT"])
def test_cty_may_announce_the_jwt_as_providers_write_it(
    make: Callable[..., Verifier], provider: Provider, cty: str
) -> None:
    assert make().verify(encrypt_token(provider.token(), RSA_DECRYPTION, cty=cty))


def test_an_absent_cty_is_a_jwt_as_auth0_sends_it(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    # Auth0's documented JWE header is alg, enc and kid: no cty. The payload must still
    # be a signed JWT, verified in full.
    encrypted = encrypt_token(provider.token(), RSA_DECRYPTION, cty=None)

    assert make().verify(encrypted).subject == "auth0|123"


def test_without_cty_an_unsigned_payload_is_still_refused(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    unsigned = provider.token().rsplit(".", 1)[0] + "."
    refusal(make(), encrypt_token(unsigned, RSA_DECRYPTION, cty=None))


@pytest.mark.parametrize("cty", [None, "json", "application/json", 1])
def test_a_cty_that_announces_no_jwt_is_refused(
    make: Callable[..., Verifier], provider: Provider, cty: Any
) -> None:
    # None here is a cty member that is JSON null: present, and not a JWT.
    encrypted = encrypt_token(provider.token(), RSA_DECRYPTION, cty=None, header={"cty": cty})
    refusal(make(), encrypted)


@pytest.mark.parametrize("alg", ["RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512"])
def test_every_rsa_oaep_hash_auth0_offers_opens(
    make: Callable[..., Verifier], provider: Provider, alg: str
) -> None:
    encrypted = encrypt_token(provider.token(), RSA_DECRYPTION, alg=alg, enc="A256GCM")

    assert make().verify(encrypted).subject == "auth0|123"


def test_replicated_claims_must_equal_the_signed_ones(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    verifier = make()
    same = encrypt_token(
        provider.token(), RSA_DECRYPTION, header={"iss": ISSUER, "sub": "auth0|123"}
    )
    assert verifier.verify(same)
    for member in ({"iss": "https://evil.example/"}, {"sub": "admin"}, {"aud": "https://other"}):
        error = refusal(verifier, encrypt_token(provider.token(), RSA_DECRYPTION, header=member))
        assert "repeats the" in error.reason


def test_replicated_claims_compare_as_json() -> None:
    check_replicated_claims({"exp": 10}, {"exp": 10.0})
    with pytest.raises(InvalidTokenError):
        check_replicated_claims({"exp": True}, {"exp": 1})
    with pytest.raises(InvalidTokenError):
        check_replicated_claims({"jti": "a"}, {})


# --- refused before any cryptography -----------------------------------------------------


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ({"alg": "RSA1_5"}, "alg"),
        ({"alg": "RSA-OAEP"}, "alg"),
        ({"alg": "PBES2-HS256+A128KW", "p2c": 2**31, "p2s": "AAAAAAAAAAA"}, "alg"),
        ({"alg": "A128KW"}, "alg"),
        ({"alg": "none"}, "alg"),
        ({"enc": "A128CBC"}, "enc"),
        ({"zip": "DEF"}, "compressed"),
        ({"crit": ["exp"]}, "critical"),
        ({"kid": 7}, "kid"),
    ],
)
def test_the_header_is_checked_before_any_cryptography(
    make: Callable[..., Verifier], provider: Provider, member: dict[str, Any], why: str
) -> None:
    encrypted = encrypt_token(provider.token(), RSA_DECRYPTION, header=member)
    keys = decryption_keys(KEYS)
    assert keys is not None
    with pytest.raises(InvalidTokenError) as caught:
        decrypt(encrypted, _ExplodingKeys(keys), 16384)  # type: ignore[arg-type]
    assert why in caught.value.reason
    refusal(make(), encrypted)


class _ExplodingKeys:
    """Keys whose use fails the test: nothing must get that far."""

    def __init__(self, keys: Any) -> None:
        self.keys = keys

    def find(self, *args: Any) -> Any:
        raise AssertionError("a key was looked up for a token refused by its header")


def test_oversized_tokens_and_headers_are_refused_unread(make: Callable[..., Verifier]) -> None:
    verifier = make()
    refusal(verifier, "e30." + "A" * 20000 + ".AAAAAAAAAAAAAAAA.AAAA.AAAA")
    refusal(verifier, "e" * 8000 + "..AAAA.AAAA.AAAA")


@pytest.mark.parametrize(
    "shape", ["e30..AAAA..AAAA", "e30..AAAA.AAAA.", "e30..AAA=.AAAA.AAAA", "e30..AAAB.AAAA.AAAA"]
)
def test_malformed_segments_are_refused(make: Callable[..., Verifier], shape: str) -> None:
    refusal(make(), shape)


# --- one uniform refusal for every failure of the cryptography ---------------------------


def _tampered(token: str, part: int, flip: int = 0) -> str:
    parts = token.split(".")
    raw = bytearray(b64url_decode(parts[part]))
    raw[flip] ^= 1
    parts[part] = b64url(bytes(raw))
    return ".".join(parts)


@pytest.mark.parametrize("enc", ["A256GCM", "A128CBC-HS256"])
@pytest.mark.parametrize(("alg", "key", "kid"), ENCRYPTIONS, ids=[e[0] for e in ENCRYPTIONS])
def test_every_failure_of_the_cryptography_is_one_refusal(  # noqa: PLR0917 - parameters
    make: Callable[..., Verifier], provider: Provider, alg: str, key: Any, kid: str | None, enc: str
) -> None:
    verifier = make()
    encrypted = encrypt_token(provider.token(), key, alg=alg, enc=enc, kid=kid)
    variants = [_tampered(encrypted, 4), _tampered(encrypted, 3), _tampered(encrypted, 2)]
    if alg != "ECDH-ES":
        variants.append(_tampered(encrypted, 1))
    other = rsa_key(6) if alg.startswith("RSA") else ec_key("P-256", 6)
    variants.append(encrypt_token(provider.token(), other, alg=alg, enc=enc, kid=kid))
    for variant in variants:
        assert refusal(verifier, variant).reason == UNDECRYPTABLE


def test_bad_padding_under_a_valid_tag_is_the_same_refusal(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    # Made by the sender who knows the key: the tag holds, the padding does not.
    key = DIR_KEY
    header = b64url(json.dumps({"alg": "dir", "enc": "A128CBC-HS256", "kid": "dir-1",
                                "cty": "JWT"}).encode())  # fmt: skip
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key[16:]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(provider.token().encode()[:32] + b"\x00" * 16)
    ciphertext += encryptor.finalize()
    aad = header.encode()
    tag = hmac.new(key[:16], aad + iv + ciphertext + struct.pack(">Q", 8 * len(aad)),
                   hashlib.sha256).digest()[:16]  # fmt: skip
    token = ".".join((header, "", b64url(iv), b64url(ciphertext), b64url(tag)))
    assert refusal(make(), token).reason == UNDECRYPTABLE


@pytest.mark.parametrize(
    "epk",
    [
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\0" * 32), "y": b64url(b"\0" * 32)},
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\1" * 32), "y": b64url(b"\2" * 32)},
        "not an object",
        {"kty": "OKP", "crv": "X25519", "x": b64url(b"\1" * 32)},
    ],
    ids=["origin", "off-curve", "not-a-jwk", "other-kty"],
)
def test_an_ephemeral_key_off_the_curve_is_the_same_refusal(
    make: Callable[..., Verifier], provider: Provider, epk: Any
) -> None:
    encrypted = encrypt_token(
        provider.token(), EC_DECRYPTION, alg="ECDH-ES", kid="ec-1", header={"epk": epk}
    )
    assert refusal(make(), encrypted).reason == UNDECRYPTABLE


def test_an_ephemeral_key_on_another_curve_is_the_same_refusal(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    # A valid P-384 point, sent to a P-256 key: the curve is the key's, never the sender's.
    other = encrypt_token(provider.token(), ec_key("P-384", 1), alg="ECDH-ES")
    epk = json.loads(b64url_decode(other.split(".")[0]))["epk"]
    encrypted = encrypt_token(
        provider.token(), EC_DECRYPTION, alg="ECDH-ES", kid="ec-1", header={"epk": epk}
    )
    assert refusal(make(), encrypted).reason == UNDECRYPTABLE


def test_an_ephemeral_point_off_the_curve_is_refused_by_cryptography_itself() -> None:
    with pytest.raises(ValueError):
        ec.EllipticCurvePublicNumbers(1, 2, ec.SECP256R1()).public_key()


def test_an_unknown_kid_is_refused(make: Callable[..., Verifier], provider: Provider) -> None:
    encrypted = encrypt_token(provider.token(), EC_DECRYPTION, alg="ECDH-ES", kid="ec-9")
    error = refusal(make(), encrypted)
    assert "No configured decryption key" in error.reason


# --- keys ----------------------------------------------------------------------------------


def test_keys_rotate_by_kid(make: Callable[..., Verifier], provider: Provider) -> None:
    old, new = ec_key("P-256", 7), ec_key("P-384", 7)
    verifier = make(decryption_keys=[private_jwk(old, kid="2025"), private_jwk(new, kid="2026")])
    for kid, key in (("2025", old), ("2026", new)):
        assert verifier.verify(encrypt_token(provider.token(), key, alg="ECDH-ES", kid=kid))


def test_a_key_without_kid_serves_tokens_with_or_without_one(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    verifier = make(decryption_keys=private_pem(RSA_DECRYPTION))
    assert verifier.verify(encrypt_token(provider.token(), RSA_DECRYPTION))
    assert verifier.verify(encrypt_token(provider.token(), RSA_DECRYPTION, kid="any"))


def test_keys_come_from_a_file_json_text_or_a_jwk_set(
    make: Callable[..., Verifier], provider: Provider, tmp_path: Path
) -> None:
    path = tmp_path / "api.pem"
    path.write_text(private_pem(RSA_DECRYPTION))
    jwks = json.dumps({"keys": [private_jwk(EC_DECRYPTION, kid="ec-1", use="enc")]})
    for given in (str(path), path, jwks, json.loads(jwks), [str(path), jwks]):
        verifier = make(decryption_keys=given)
        key, alg, kid = (
            (RSA_DECRYPTION, "RSA-OAEP-256", None)
            if given in (str(path), path)
            else (EC_DECRYPTION, "ECDH-ES", "ec-1")
        )
        assert verifier.verify(encrypt_token(provider.token(), key, alg=alg, kid=kid))


def test_an_rsa_jwk_without_its_primes_is_recovered(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    jwk = private_jwk(RSA_DECRYPTION, kid="r")
    for name in ("p", "q", "dp", "dq", "qi"):
        del jwk[name]
    assert make(decryption_keys=jwk).verify(
        encrypt_token(provider.token(), RSA_DECRYPTION, kid="r")
    )


def test_a_jwk_alg_narrows_what_the_key_serves(
    make: Callable[..., Verifier], provider: Provider
) -> None:
    verifier = make(decryption_keys=private_jwk(EC_DECRYPTION, kid="e", alg="ECDH-ES+A256KW"))
    assert verifier.verify(
        encrypt_token(provider.token(), EC_DECRYPTION, alg="ECDH-ES+A256KW", kid="e")
    )
    refusal(verifier, encrypt_token(provider.token(), EC_DECRYPTION, alg="ECDH-ES", kid="e"))


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (public_pem(RSA_DECRYPTION), "public key"),
        ({k: v for k, v in private_jwk(EC_DECRYPTION).items() if k != "d"}, "public key"),
        (private_jwk(EC_DECRYPTION, use="sig"), "use 'enc'"),
        (private_jwk(EC_DECRYPTION, alg="ECDH-1PU"), "cannot serve"),
        (private_jwk(RSA_DECRYPTION, alg="RSA1_5"), "never RSA1_5"),
        (private_pem(rsa_key(8, 1024)), "2048 to 8192"),
        (private_pem(ec.generate_private_key(ec.SECP256K1())), "P-256, P-384 or P-521"),
        ({"kty": "oct", "k": b64url(b"short")}, "16, 24 or 32 bytes"),
        ({"kty": "OKP", "crv": "X25519", "x": "AA", "d": "AA"}, "RSA, EC or oct"),
        ([], "empty list"),
        ("", "empty string"),
        ("keys/missing.pem", "no such file"),
        ("{not json", "valid JSON"),
        (42, "type int"),
        ({"keys": []}, "non-empty list"),
        ([private_pem(RSA_DECRYPTION), private_pem(rsa_key(6))], "two keys with no kid"),
    ],
)
def test_unusable_keys_are_configuration_errors(given: Any, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Verifier(issuer=ISSUER, audience=AUDIENCE, decryption_keys=given)
    assert words in str(caught.value)
    assert caught.value.setting == "decryption_keys"


def test_messages_never_repeat_key_material() -> None:
    jwk = private_jwk(EC_DECRYPTION, use="sig")
    with pytest.raises(ConfigurationError) as caught:
        Verifier(issuer=ISSUER, audience=AUDIENCE, decryption_keys=jwk)
    assert jwk["d"] not in str(caught.value)


def test_the_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "api.pem"
    path.write_text(private_pem(RSA_DECRYPTION))
    settings = settings_from_mapping({"BEARERGUARD_DECRYPTION_KEYS": str(path)})
    assert settings == {"decryption_keys": str(path)}
    verifier = Verifier.from_env(
        {
            "BEARERGUARD_ISSUER": ISSUER,
            "BEARERGUARD_AUDIENCE": AUDIENCE,
            "BEARERGUARD_DECRYPTION_KEYS": str(path),
        }
    )
    assert verifier.config.decryption is not None
    for text in (private_pem(RSA_DECRYPTION), json.dumps({"keys": [private_jwk(EC_DECRYPTION)]})):
        environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
        verifier = Verifier.from_env({**environ, "BEARERGUARD_DECRYPTION_KEYS": text})
        assert verifier.config.decryption is not None
    with pytest.raises(ConfigurationError, match="BEARERGUARD_DECRYPTION_KEYS"):
        Verifier.from_env(
            {
                "BEARERGUARD_ISSUER": ISSUER,
                "BEARERGUARD_AUDIENCE": AUDIENCE,
                "BEARERGUARD_DECRYPTION_KEYS": public_pem(RSA_DECRYPTION),
            }
        )


# --- without decryption keys -------------------------------------------------------------


def test_without_decryption_keys_a_jwe_gets_todays_explanation(provider: Provider) -> None:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, transport=provider.transport())
    with pytest.raises(EncryptedTokenError) as caught:
        verifier.verify(encrypt_token(provider.token(), RSA_DECRYPTION))
    assert "encrypted (JWE)" in caught.value.description


@pytest.mark.parametrize(
    "epk",
    [
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\0" * 32), "y": b64url(b"\0" * 32)},
        {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url((5).to_bytes(32, "big")),
            "y": b64url(b"\7" * 32),
        },
        {"kty": "EC", "crv": "P-384", "x": b64url(b"\1" * 48), "y": b64url(b"\2" * 48)},
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\1" * 31), "y": b64url(b"\2" * 32)},
        {"kty": "EC", "crv": "P-256", "x": b64url(b"\xff" * 32), "y": b64url(b"\xff" * 32)},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        None,
    ],
    ids=["origin", "off-curve", "other-curve", "short", "beyond-p", "numbers", "none"],
)
def test_the_ephemeral_key_is_checked_on_the_private_keys_curve(epk: Any) -> None:
    with pytest.raises(_Undecryptable):
        _ephemeral_key(epk, "P-256")
    numbers = ec_key("P-256", 3).public_key().public_numbers()
    sound = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }
    assert _ephemeral_key(sound, "P-256").public_numbers() == numbers


def test_no_repr_shows_a_key() -> None:
    secret = b64url(DIR_KEY)
    verifier = Verifier(
        issuer=ISSUER, audience=AUDIENCE, decryption_keys={"kty": "oct", "k": secret}
    )
    shown = repr(verifier.config) + repr(verifier.config.decryption)
    assert verifier.config.decryption is not None
    shown += "".join(repr(key) for key in verifier.config.decryption.keys)
    assert secret not in shown
    assert repr(DIR_KEY)[2:20] not in shown


def test_the_ecdh_es_key_derivation_matches_rfc_7518_appendix_c() -> None:
    # RFC 7518 Appendix C: Bob's key, Alice's ephemeral key, apu "Alice", apv "Bob".
    bob = ec.derive_private_key(
        int.from_bytes(b64url_decode("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"), "big"),
        ec.SECP256R1(),
    )
    header = {
        "alg": "ECDH-ES",
        "enc": "A128GCM",
        "apu": "QWxpY2U",
        "apv": "Qm9i",
        "epk": {
            "kty": "EC",
            "crv": "P-256",
            "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
            "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
        },
    }
    derived = _content_key("ECDH-ES", "A128GCM", bob, "P-256", header, b"")
    assert b64url(derived) == "VqqN6vgjbSBcIijNcacQGg"
