"""``FakeIssuer.encrypted_token``: encrypted access tokens for an API's own tests.

The fake encrypts a real signed token to the API's key, in whichever form the
application's ``decryption_keys`` holds it, and the application's verifier opens it.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bearerguard import ConfigurationError, EncryptedTokenError, Verifier
from bearerguard.testing import FakeIssuer
from tests.jwe_keys import private_pem, public_pem
from tests.support import b64url, ec_key, rsa_key

ISSUER = "https://tenant.bearerguard.test/"
AUDIENCE = "https://api.bearerguard.test"


def test_an_encrypted_token_opens_with_the_apis_key() -> None:
    api_key = private_pem(rsa_key(5))
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, decryption_keys=api_key)
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        token = verifier.verify(issuer.encrypted_token(api_key, scopes="read:contacts"))
    assert token.scopes == frozenset({"read:contacts"})


@pytest.mark.parametrize(
    "to",
    [rsa_key(5), rsa_key(5).public_key(), public_pem(rsa_key(5))],
    ids=["key", "public", "pem"],
)
def test_the_apis_key_may_be_given_in_any_form(to: Any) -> None:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, decryption_keys=private_pem(rsa_key(5)))
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        assert verifier.verify(issuer.encrypted_token(to))


@pytest.mark.parametrize("alg", ["ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A256KW"])
def test_ecdh_es_tokens_name_the_apis_kid(alg: str) -> None:
    key = ec_key("P-384", 5)
    api_pem = private_pem(key)
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, decryption_keys=api_pem)
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        raw = issuer.encrypted_token(key, alg=alg, enc="A192CBC-HS384", kid="api-2026")
        assert verifier.verify(raw).subject == "auth0|test-user"


def test_dir_tokens_use_the_shared_key() -> None:
    jwk = {"kty": "oct", "kid": "d1", "k": b64url(bytes(range(16)))}
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, decryption_keys=jwk)
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        assert verifier.verify(issuer.encrypted_token(jwk, alg="dir", enc="A128GCM", kid="d1"))


def test_a_verifier_without_decryption_keys_explains_the_refusal() -> None:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE)
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer, pytest.raises(EncryptedTokenError):
        verifier.verify(issuer.encrypted_token(rsa_key(5)))


@pytest.mark.parametrize(
    ("to", "alg", "words"),
    [
        (rsa_key(5), "RSA1_5", "alg in"),
        (ec_key("P-256", 5), "RSA-OAEP-256", "takes an RSA key"),
        (rsa_key(5), "ECDH-ES", "takes an EC key"),
        (ec.generate_private_key(ec.SECP256K1()), "ECDH-ES", "P-256, P-384 or P-521"),
        ({"kty": "OKP", "crv": "X25519", "x": "AA"}, "ECDH-ES", "not kty 'OKP'"),
        (b"short", "dir", "takes a key of 32 bytes"),
        (42, "RSA-OAEP-256", "type int"),
    ],
)
def test_mismatched_keys_and_algorithms_say_what_to_do(to: Any, alg: str, words: str) -> None:
    issuer = FakeIssuer(ISSUER, audience=AUDIENCE)
    with pytest.raises(ConfigurationError, match=words):
        issuer.encrypted_token(to, alg=alg)
