"""Every example, under its documented server, takes the dev issuer's opaque and encrypted tokens.

The examples are started as the README starts them, configured by the environment alone:
``BEARERGUARD_INTROSPECTION_CLIENT_ID``/``_CLIENT_SECRET`` (the endpoint found through the
dev issuer's discovery document) for its opaque API, ``BEARERGUARD_DECRYPTION_KEYS`` for
an API whose tokens the dev issuer encrypts (JWE, as Auth0 does). The tokens come from the
dev issuer's token endpoint over real HTTP, and a token revoked there is refused at once
(``BEARERGUARD_INTROSPECTION_CACHE_TTL=0``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bearerguard.devissuer import DevIssuer, config_from_dict
from bearerguard.devissuer._loading import DEFAULT_CONFIG
from tests.jwe_keys import private_pem, public_pem

from .servers import EXAMPLES, REQUEST_TIMEOUT, serve

pytestmark = pytest.mark.e2e

OPAQUE_API = "https://opaque.example.com"  # the built-in tenant's API with opaque tokens
SEALED_API = "https://sealed.example.com"  # an API whose tokens are encrypted to it
CLIENT = ("api-client", "api-secret")  # the built-in confidential client, granted the first
SEALED_CLIENT = ("sealed-client", "sealed-secret")
API_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _tenant(encryption_key: Path) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["apis"].append(
        {"identifier": SEALED_API, "scopes": ["read:sealed"], "encryption_key": str(encryption_key)}
    )
    data["clients"].append(
        {
            "client_id": SEALED_CLIENT[0],
            "client_secret": SEALED_CLIENT[1],
            "grant_types": ["client_credentials"],
            "grants": {SEALED_API: ["read:sealed"]},
        }
    )
    return data


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    (folder / "api.pub.pem").write_text(public_pem(API_KEY))
    (folder / "api.pem").write_text(private_pem(API_KEY))
    return folder


@pytest.fixture(scope="module")
def issuer(keys: Path) -> Iterator[DevIssuer]:
    with DevIssuer(config_from_dict(_tenant(keys / "api.pub.pem"))) as running:
        yield running


class Api:
    """An example under its server, and the dev issuer it trusts."""

    def __init__(self, url: str, issuer: DevIssuer, http: httpx.Client) -> None:
        self.url = url
        self.issuer = issuer
        self.http = http

    def token(self, audience: str, client: tuple[str, str]) -> str:
        response = self.http.post(
            self.issuer.url + "oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client[0],
                "client_secret": client[1],
                "audience": audience,
            },
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def private(self, token: str) -> httpx.Response:
        return self.http.get(
            self.url + "/api/private", headers={"Authorization": f"Bearer {token}"}
        )

    def revoke(self, token: str) -> None:
        response = self.http.post(
            self.issuer.url + "oauth/revoke", data={"token": token}, auth=CLIENT
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module", params=list(EXAMPLES))
def api(
    request: pytest.FixtureRequest,
    issuer: DevIssuer,
    keys: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    settings = {
        # Both APIs are this example's audiences; the resource is the opaque one.
        "BEARERGUARD_AUDIENCE": f"{OPAQUE_API},{SEALED_API}",
        "BEARERGUARD_INTROSPECTION_CLIENT_ID": CLIENT[0],
        "BEARERGUARD_INTROSPECTION_CLIENT_SECRET": CLIENT[1],
        "BEARERGUARD_INTROSPECTION_CACHE_TTL": "0",
        "BEARERGUARD_DECRYPTION_KEYS": str(keys / "api.pem"),
    }
    with (
        serve(
            EXAMPLES[request.param],
            issuers=[issuer.url],
            resource=OPAQUE_API,
            log_dir=tmp_path_factory.mktemp(request.param),
            settings=settings,
        ) as server,
        httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as http,
    ):
        yield Api(server.url, issuer, http)


def test_an_opaque_token_is_introspected_and_accepted(api: Api) -> None:
    token = api.token(OPAQUE_API, CLIENT)
    assert token.count(".") == 0  # opaque: nothing the API could read by itself

    response = api.private(token)

    assert response.status_code == 200, response.text
    assert response.json()["sub"] == f"{CLIENT[0]}@clients"


def test_an_opaque_token_revoked_at_the_provider_is_refused(api: Api) -> None:
    token = api.token(OPAQUE_API, CLIENT)
    assert api.private(token).status_code == 200

    api.revoke(token)
    response = api.private(token)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_an_opaque_token_the_provider_never_issued_is_refused(api: Api) -> None:
    response = api.private("2YotnFZFEjr1zCsicMWpAA")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_an_encrypted_token_is_decrypted_and_accepted(api: Api) -> None:
    token = api.token(SEALED_API, SEALED_CLIENT)
    assert token.count(".") == 4  # a compact JWE

    response = api.private(token)

    assert response.status_code == 200, response.text
    assert response.json()["sub"] == f"{SEALED_CLIENT[0]}@clients"


def test_a_signed_token_for_another_api_of_the_tenant_is_refused(api: Api) -> None:
    # Signed, by the right issuer, but for the tenant's other API: not this example's audience.
    response = api.private(api.token("https://api.example.com", ("m2m-client", "m2m-secret")))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
