"""The claims of the tokens the dev-issuer signs: Auth0's shapes, namespaces, organizations."""

from __future__ import annotations

import jwt

from bearerguard.devissuer import (
    ApiConfig,
    ClientConfig,
    DevIssuerConfig,
    Organization,
    UserConfig,
)
from bearerguard.devissuer._keys import KeyStore
from bearerguard.devissuer._store import Approval
from bearerguard.devissuer._tokens import Minter
from tests.support import NOW, Clock

ISSUER = "http://127.0.0.1:9000/"
API = ApiConfig(identifier="urn:api", scopes=("read", "write"), token_lifetime=600)
ACME = Organization(id="org_acme", name="acme")
CONFIG = DevIssuerConfig(
    apis=(API,),
    clients=(
        ClientConfig(
            client_id="svc",
            client_secret="s",
            grant_types=("client_credentials",),
            grants={"urn:api": ("read",)},
            claims={"tier": "gold"},
            organization=ACME,
        ),
        ClientConfig(
            client_id="spa",
            public=True,
            grant_types=("authorization_code",),
            redirect_uris=("http://127.0.0.1:8080/cb",),
        ),
    ),
    users=(
        UserConfig(
            sub="auth0|u",
            name="U",
            email="u@example.com",
            email_verified=False,
            permissions=("read",),
            claims={"roles": ["x"]},
            organization=ACME,
        ),
    ),
    namespace="https://example.com/",
)


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def minter() -> tuple[Minter, KeyStore]:
    keys = KeyStore()
    return Minter(CONFIG, keys, Clock().time), keys


def test_a_client_token_carries_its_organization_and_namespaced_claims():
    mint, keys = minter()
    token = mint.client_token(issuer=ISSUER, client=CONFIG.clients[0], api=API, scopes=("read",))
    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "typ": "at+jwt",
        "kid": keys.current.kid,
    }
    claims = claims_of(token)
    assert claims["sub"] == "svc@clients"
    assert (claims["iat"], claims["exp"]) == (int(NOW), int(NOW) + 600)
    assert claims["org_id"] == "org_acme"
    assert claims["org_name"] == "acme"
    assert claims["https://example.com/tier"] == "gold"
    assert claims["gty"] == "client-credentials"


def test_a_user_token_and_id_token():
    mint, _ = minter()
    approval = Approval(
        client_id="spa", sub="auth0|u", scopes=("openid", "email", "read"),
        audience="urn:api", auth_time=int(NOW) - 5, nonce="n",
    )  # fmt: skip
    token, lifetime = mint.user_token(issuer=ISSUER, approval=approval)
    assert lifetime == 600
    access = claims_of(token)
    assert access["aud"] == ["urn:api", ISSUER + "userinfo"]
    assert access["permissions"] == ["read"]
    assert access["https://example.com/roles"] == ["x"]
    identity = claims_of(mint.id_token(issuer=ISSUER, approval=approval))
    assert identity["aud"] == "spa"
    assert identity["auth_time"] == int(NOW) - 5
    assert identity["nonce"] == "n"
    assert identity["email"] == "u@example.com"
    assert identity["email_verified"] is False
    assert "name" not in identity  # profile was not granted
    assert identity["https://example.com/roles"] == ["x"]
    assert identity["exp"] - identity["iat"] == CONFIG.id_token_lifetime
