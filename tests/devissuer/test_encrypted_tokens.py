"""APIs that ask for encrypted access tokens: an ``encryption_key`` on the API, as Auth0's
JSON Web Encryption setting, makes its tokens a JWE (RSA-OAEP-256 + A256GCM, ``cty: JWT``) of
the signed JWT, from every flow of the token endpoint, over real HTTP.

A verifier holding the API's private key (``decryption_keys``) accepts them; one without
refuses them with the explanation every encrypted token gets. Tokens for other APIs, and ID
tokens, stay signed JWTs.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bearerguard import ConfigurationError, EncryptedTokenError, InvalidTokenError, Verifier
from bearerguard._jwe import UNDECRYPTABLE
from bearerguard.devissuer import DevIssuer, config_from_dict
from bearerguard.devissuer._config import ApiConfig
from bearerguard.devissuer._loading import DEFAULT_CONFIG
from tests.jwe_keys import private_jwk, private_pem, public_pem
from tests.support import ec_key, public_jwk, rsa_key

from .flows import API, M2M, exchange, tokens

PLAIN = "https://plain.example.com"
API_KEY = rsa_key(5)  # the API's own key pair: the issuer holds only the public half


def certificate_pem(key: rsa.RSAPrivateKey) -> str:
    """A self-signed certificate of ``key``: what Auth0's dashboard asks to upload."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def tenant(**api: Any) -> dict[str, Any]:
    """The default tenant, its API given ``api`` (encryption_key, ...), and a plain API."""
    data = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["apis"][0].update(api)
    data["apis"].append({"identifier": PLAIN, "scopes": ["read:plain"]})
    data["clients"][0]["grants"][PLAIN] = ["read:plain"]
    return data


def header_of(token: str) -> dict[str, Any]:
    segment = token.split(".", maxsplit=1)[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevIssuer]:
    path = tmp_path_factory.mktemp("keys") / "api-encryption.pub.pem"
    path.write_text(public_pem(API_KEY))
    with DevIssuer(config_from_dict(tenant(encryption_key=str(path)))) as running:
        yield running


def machine_token(http, issuer: DevIssuer, audience: str = API) -> str:
    response = exchange(
        http,
        issuer,
        grant_type="client_credentials",
        client_id=M2M,
        client_secret="m2m-secret",
        audience=audience,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def decrypting(issuer: DevIssuer, key: Any = API_KEY, audience: str = API) -> Verifier:
    return Verifier(issuer=issuer.url, audience=audience, decryption_keys=private_pem(key))


# --- the token endpoint ------------------------------------------------------------------------


def test_a_machine_token_for_the_api_is_encrypted_as_auth0_encrypts_it(issuer: DevIssuer, http):
    token = machine_token(http, issuer)
    assert token.count(".") == 4
    assert header_of(token) == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"}


def test_a_verifier_with_the_apis_private_key_accepts_it(issuer: DevIssuer, http):
    verified = decrypting(issuer).verify(machine_token(http, issuer))
    assert verified.subject == f"{M2M}@clients"
    assert verified.scopes == {"read:messages", "read:contacts"}
    assert verified.claims["gty"] == "client-credentials"
    assert verified.header["typ"] == "at+jwt"  # the signed token inside, through the pipeline


def test_a_verifier_without_decryption_keys_refuses_it_with_the_explanation(
    issuer: DevIssuer, http
):
    with pytest.raises(EncryptedTokenError) as refused:
        Verifier(issuer=issuer.url, audience=API).verify(machine_token(http, issuer))
    assert refused.value.reason == EncryptedTokenError.default_reason
    assert "decryption_keys=" in refused.value.reason


def test_a_verifier_with_another_key_cannot_open_it(issuer: DevIssuer, http):
    with pytest.raises(InvalidTokenError) as refused:
        decrypting(issuer, rsa_key(6)).verify(machine_token(http, issuer))
    assert refused.value.reason == UNDECRYPTABLE


def test_a_users_token_from_the_code_flow_is_encrypted_and_its_id_token_is_not(
    issuer: DevIssuer, http
):
    scope = "openid profile offline_access read:messages"
    answer = tokens(http, issuer, scope=scope, audience=API)
    assert answer["access_token"].count(".") == 4
    assert answer["id_token"].count(".") == 2
    verified = decrypting(issuer).verify(answer["access_token"])
    assert verified.subject == "auth0|alice"
    assert "read:messages" in verified.scopes
    refreshed = exchange(
        http,
        issuer,
        grant_type="refresh_token",
        client_id="spa-client",
        refresh_token=answer["refresh_token"],
    )
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.json()["access_token"]
    assert token.count(".") == 4
    assert decrypting(issuer).verify(token).subject == "auth0|alice"


def test_tokens_for_an_api_without_encryption_key_stay_signed(issuer: DevIssuer, http):
    token = machine_token(http, issuer, PLAIN)
    assert token.count(".") == 2
    assert Verifier(issuer=issuer.url, audience=PLAIN).verify(token).scopes == {"read:plain"}


def test_mint_access_token_encrypts_for_the_api_too(issuer: DevIssuer):
    token = issuer.mint_access_token(audience=API, scopes="read:messages")
    assert decrypting(issuer).verify(token).scopes == {"read:messages"}


# --- the setting: every form, every mistake named -----------------------------------------------


@pytest.mark.parametrize(
    "form",
    ["pem", "certificate", "jwk", "jwk file", "key object"],
)
def test_the_key_is_read_from_every_form(form: str, tmp_path: Path):
    values: dict[str, Any] = {
        "pem": public_pem(API_KEY),
        "certificate": certificate_pem(API_KEY),
        "jwk": public_jwk(API_KEY, kid="api-2026", use="enc", alg="RSA-OAEP-256"),
        "key object": API_KEY.public_key(),
    }
    if form == "jwk file":
        path = tmp_path / "api.jwk.json"
        path.write_text(json.dumps(public_jwk(API_KEY, kid="api-2026")))
        values[form] = path
    api = ApiConfig(identifier=API, encryption_key=values[form])
    assert api.encryption is not None
    assert api.encryption.public_key.public_numbers() == API_KEY.public_key().public_numbers()
    assert api.encryption.kid == ("api-2026" if form.startswith("jwk") else None)
    assert ApiConfig(identifier=API).encryption is None


def test_a_jwks_kid_is_named_in_the_tokens_header(tmp_path: Path):
    config = config_from_dict(tenant(encryption_key=public_jwk(API_KEY, kid="api-2026")))
    with DevIssuer(config) as running:
        token = running.mint_access_token(audience=API)
        assert header_of(token)["kid"] == "api-2026"
        verifier = Verifier(
            issuer=running.url,
            audience=API,
            decryption_keys={**private_jwk(API_KEY), "kid": "api-2026"},
        )
        assert verifier.verify(token).audience == (API,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (private_pem(API_KEY), "is a private key: the issuer encrypts to the API's public key"),
        (public_pem(ec_key("P-256")), "give an RSA public key"),
        (public_pem(rsa_key(7, bits=1024)), "1024 bits; use 2048 to 8192"),
        ({"kty": "EC", "crv": "P-256"}, "has kty 'EC'"),
        ({"kty": "RSA", "e": "AQAB"}, "has no 'n' member"),
        ({**public_jwk(API_KEY), "use": "sig"}, "has use 'sig'"),
        ({**public_jwk(API_KEY), "alg": "RSA1_5"}, "has alg 'RSA1_5'"),
        ("keys/nowhere.pem", "names the file 'keys/nowhere.pem', which does not exist"),
        ("keys/a\x00b.pem", "which cannot be read (ValueError)"),  # a NUL: no traceback
        ("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----", "not a readable PEM"),
        ("   ", "is empty"),
        (42, "must be a string (PEM text, or the path of a PEM or JWK file) or a JWK object"),
    ],
)
def test_every_mistake_names_the_key_in_the_file(value: Any, message: str):
    with pytest.raises(ConfigurationError) as refused:
        config_from_dict(tenant(encryption_key=value))
    text = str(refused.value)
    assert text.startswith("apis[0].encryption_key "), text
    assert message in text
    assert "MII" not in text  # no key material repeated


def test_a_mistake_in_python_names_the_api(tmp_path: Path):
    with pytest.raises(ConfigurationError, match=r"^API 'https://api.example.com': encryption_key"):
        ApiConfig(identifier=API, encryption_key=API_KEY)  # the private key object
    with pytest.raises(ConfigurationError, match="got a value of type int"):
        ApiConfig(identifier=API, encryption_key=42)


def test_a_private_jwk_is_refused():
    with pytest.raises(ConfigurationError, match="private JWK"):
        ApiConfig(identifier=API, encryption_key=private_jwk(API_KEY))
