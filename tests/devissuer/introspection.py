"""An API's side of the dev issuer's introspection and revocation endpoints, for the tests.

Client assertions (RFC 7523) are signed with the project's own minting
(``bearerguard._mint``); the dev issuer checks them with the library's own JOSE
code, so the tests exercise both halves for real.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from bearerguard._mint import SigningKey, compact_jws
from bearerguard.devissuer import DevIssuer, DevIssuerConfig, config_from_dict
from bearerguard.devissuer._loading import DEFAULT_CONFIG

from .flows import API

OPAQUE_API = "https://opaque.example.com"
API_CLIENT = ("api-client", "api-secret")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: a confidential client that also registered a public key, for private_key_jwt
SIGNER = "signing-client"
#: the client's private key, which a JWT library can sign with too (the docs use PyJWT)
SIGNER_PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
SIGNER_KEY = SigningKey.from_private_key("ES256", SIGNER_PRIVATE_KEY)


def tenant() -> DevIssuerConfig:
    """The built-in tenant, with a client that can authenticate by private_key_jwt."""
    data: dict[str, Any] = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["clients"].append(
        {
            "client_id": SIGNER,
            "client_secret": "signing-secret",
            "grant_types": ["client_credentials"],
            "grants": {OPAQUE_API: ["read:reports", "write:reports"]},
            "jwks": {"keys": [SIGNER_KEY.public_jwk()]},
        }
    )
    return config_from_dict(data)


def client_token(
    http: httpx.Client,
    issuer: DevIssuer,
    *,
    audience: str = OPAQUE_API,
    client: tuple[str, str] = API_CLIENT,
    headers: dict[str, str] | None = None,
    base: str | None = None,
    **params: str,
) -> dict[str, Any]:
    """A client-credentials token response (an opaque token, for the opaque API), asked at
    ``base`` (an issuer URL of the dev issuer: its custom domain, say) or its own URL."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client[0],
        "client_secret": client[1],
        "audience": audience,
        **params,
    }
    response = http.post((base or issuer.url) + "oauth/token", data=form, headers=headers or {})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def opaque_token(http: httpx.Client, issuer: DevIssuer, **params: str) -> str:
    """An opaque access token for the opaque API, by client credentials."""
    token: str = client_token(http, issuer, **params)["access_token"]
    return token


def jwt_token(http: httpx.Client, issuer: DevIssuer) -> str:
    """A signed JWT access token for the JWT API (the M2M client's)."""
    token: str = client_token(http, issuer, audience=API, client=("m2m-client", "m2m-secret"))[
        "access_token"
    ]
    return token


def post(
    http: httpx.Client,
    issuer: DevIssuer,
    endpoint: str,
    form: dict[str, str],
    *,
    basic: tuple[str, str] | None = API_CLIENT,
) -> httpx.Response:
    """``POST`` ``form`` to ``endpoint`` (``introspect``, ``revoke``), with Basic credentials."""
    return http.post(issuer.url + "oauth/" + endpoint, data=form, auth=basic)


def introspect(http: httpx.Client, issuer: DevIssuer, token: str, **params: str) -> dict[str, Any]:
    """The introspection answer for ``token``, asked as the API's client (client_secret_basic)."""
    response = post(http, issuer, "introspect", {"token": token, **params})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    answer: dict[str, Any] = response.json()
    return answer


def assertion(
    issuer: DevIssuer,
    *,
    key: SigningKey = SIGNER_KEY,
    client_id: str = SIGNER,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A sound client assertion of ``client_id`` for the introspection endpoint, signed
    with ``key``, unless ``claims`` say otherwise (``None`` removes a claim)."""
    now = int(time.time())
    values = {
        "iss": client_id,
        "sub": client_id,
        "aud": issuer.url + "oauth/introspect",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
        **claims,
    }
    kept = {name: value for name, value in values.items() if value is not None}
    return compact_jws(header or {"alg": key.algorithm, "typ": "JWT", "kid": key.kid}, kept, key)


def pyjwt_assertion(aud: str, jti: str) -> str:
    """The signing client's assertion for ``aud``, made with PyJWT as docs/dev-issuer.md
    shows: what a client of the dev issuer writes, not the project's own minting."""
    claims = {"iss": SIGNER, "sub": SIGNER, "aud": aud, "exp": int(time.time()) + 60, "jti": jti}
    headers = {"kid": SIGNER_KEY.kid}
    return jwt.encode(claims, SIGNER_PRIVATE_KEY, algorithm="ES256", headers=headers)


def by_assertion(signed: str, **form: str) -> dict[str, str]:
    """The form fields of private_key_jwt client authentication, with ``form``."""
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed, **form}


def invalid_client(response: httpx.Response) -> str:
    """The description of a 401 invalid_client; fails the test on anything else."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_client", body
    description: str = body["error_description"]
    return description
