"""bearerguard's own Verifier checks the dev issuer's opaque tokens by introspection, end to end.

Real HTTP on 127.0.0.1 all the way: the Verifier reads ``introspection_endpoint``
from the dev issuer's discovery document (``Introspection`` names no ``url``),
then POSTs each new token there with the API's client credentials. Only the
Verifier's public API is used.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bearerguard import (
    HttpRequest,
    InsufficientScopeError,
    Introspection,
    IntrospectionUnavailableError,
    InvalidAudienceError,
    InvalidTokenError,
    SenderConstrainedTokenError,
    Verifier,
)
from bearerguard.devissuer import DevIssuer, cli, config_from_dict, default_config
from bearerguard.devissuer._loading import DEFAULT_CONFIG
from tests.jwe_keys import private_pem
from tests.support import ec_key, public_jwk

from .flows import API, SPA, tokens
from .introspection import OPAQUE_API, client_token, opaque_token, post
from .proofs import ClientKey, token_url

OTHER_API = "https://other-opaque.example.com"
RESOURCE_URL = "https://opaque.example.com/reports"
#: a client granted both opaque APIs, and every scope of the first
BOTH = ("reporting-service", "reporting-secret")
#: a client that authenticates with its key (private_key_jwt): the API's own client
SIGNING_CLIENT = "reports-api"
SIGNING_KEY = ec_key("P-256", index=3)


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    """The built-in tenant, plus a second opaque API and a client granted both."""
    data: dict[str, Any] = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["apis"].append(
        {"identifier": OTHER_API, "scopes": ["read:other"], "token_format": "opaque"}
    )
    data["clients"].append(
        {
            "client_id": BOTH[0],
            "client_secret": BOTH[1],
            "grant_types": ["client_credentials"],
            "grants": {OPAQUE_API: ["read:reports", "write:reports"], OTHER_API: ["read:other"]},
        }
    )
    data["clients"].append(
        {
            "client_id": SIGNING_CLIENT,
            "client_secret": "unused-secret",
            "grant_types": ["client_credentials"],
            "jwks": {"keys": [public_jwk(SIGNING_KEY, kid="reports-api-1")]},
        }
    )
    with DevIssuer(config_from_dict(data)) as running:
        yield running


def verifier(issuer: DevIssuer, *, base: str | None = None, **settings: Any) -> Verifier:
    """The opaque API's verifier: the dev issuer's API client, the endpoint discovered."""
    credentials = {"client_id": "api-client", "client_secret": "api-secret", **settings}
    return Verifier(
        issuer=base or issuer.url,
        audience=OPAQUE_API,
        introspection=Introspection(**credentials),
    )


def test_verify_accepts_a_live_opaque_token_with_its_scopes(issuer: DevIssuer, http):
    token = opaque_token(http, issuer, client=BOTH, scope="read:reports write:reports")
    access = verifier(issuer).verify(token)
    assert access.subject == f"{BOTH[0]}@clients"
    assert access.issuer == issuer.url
    assert access.scopes == {"read:reports", "write:reports"}
    assert access.claims["gty"] == "client-credentials"
    access.require_scopes("read:reports", "write:reports")


def test_scopes_are_honoured(issuer: DevIssuer, http):
    access = verifier(issuer).verify(opaque_token(http, issuer))
    assert access.scopes == {"read:reports"}
    assert access.has_scopes("read:reports")
    with pytest.raises(InsufficientScopeError) as missing:
        access.require_scopes("write:reports")
    assert missing.value.status_code == 403


def test_authenticate_reads_the_authorization_header(issuer: DevIssuer, http):
    api = verifier(issuer)
    token = opaque_token(http, issuer)
    access = api.authenticate(f"Bearer {token}")
    assert access is not None
    assert access.scopes == {"read:reports"}
    assert api.authenticate(None) is None
    with pytest.raises(InvalidTokenError):
        api.authenticate("Bearer kq1V0mMHhH0cX0m6cB1Zt4gkEKp1Q7l0dGQGZ8QJx7o")  # never issued


def test_the_async_api_introspects_too(issuer: DevIssuer, http):
    api = verifier(issuer)
    first, second = opaque_token(http, issuer), opaque_token(http, issuer)

    async def both() -> tuple[Any, Any]:
        return await api.averify(first), await api.aauthenticate(f"Bearer {second}")

    verified, authenticated = asyncio.run(both())
    assert verified.scopes == authenticated.scopes == {"read:reports"}
    with pytest.raises(InvalidTokenError):
        asyncio.run(api.averify("kq1V0mMHhH0cX0m6cB1Zt4gkEKp1Q7l0dGQGZ8QJx7o"))


def test_client_secret_post_works_as_well(issuer: DevIssuer, http):
    api = verifier(issuer, auth="client_secret_post")
    assert api.verify(opaque_token(http, issuer)).scopes == {"read:reports"}


def test_a_users_opaque_token_from_the_code_flow(issuer: DevIssuer, http):
    answer = tokens(http, issuer, scope="openid read:reports write:reports", audience=OPAQUE_API)
    access = verifier(issuer).verify(answer["access_token"])
    assert access.subject == "auth0|alice"
    assert access.scopes == {"openid", "read:reports", "write:reports"}
    assert access.claims["azp"] == SPA


def test_a_token_for_another_api_is_refused(issuer: DevIssuer, http):
    other = opaque_token(http, issuer, client=BOTH, audience=OTHER_API)
    with pytest.raises(InvalidAudienceError):
        verifier(issuer).verify(other)
    # A JWT API's verifier (no introspection) refuses the opaque API's tokens outright.
    with pytest.raises(InvalidTokenError):
        Verifier(issuer=issuer.url, audience=API).verify(opaque_token(http, issuer))


def test_a_revoked_token_is_refused_once_the_cached_answer_lapses(issuer: DevIssuer, http):
    api = verifier(issuer, cache_ttl=2, inactive_ttl=1)
    token = opaque_token(http, issuer)
    assert api.verify(token).scopes == {"read:reports"}
    assert post(http, issuer, "revoke", {"token": token}).status_code == 200
    # The API holds the endpoint's active answer for cache_ttl seconds ...
    assert api.verify(token).scopes == {"read:reports"}
    time.sleep(2.2)
    # ... then asks again, and hears that the token is not active any more.
    with pytest.raises(InvalidTokenError) as refused:
        api.verify(token)
    assert refused.value.status_code == 401
    assert "not active" in refused.value.reason
    # A fresh verifier never saw it active.
    with pytest.raises(InvalidTokenError):
        verifier(issuer).verify(token)


def test_an_expired_token_is_refused(issuer: DevIssuer):
    expired = issuer.mint_access_token(audience=OPAQUE_API, scopes="read:reports", expires_in=-60)
    with pytest.raises(InvalidTokenError):
        verifier(issuer).verify(expired)


def test_a_dpop_bound_opaque_token_needs_its_proof(issuer: DevIssuer, http):
    key = ClientKey()
    token = client_token(http, issuer, headers={"DPoP": key.proof(token_url(issuer))})[
        "access_token"
    ]
    api = verifier(issuer)
    proof = key.proof(RESOURCE_URL, method="GET", access_token=token)
    access = api.verify_request(
        HttpRequest("GET", RESOURCE_URL, {"Authorization": f"DPoP {token}", "DPoP": proof})
    )
    assert access.confirmation == {"jkt": key.jkt}
    with pytest.raises(SenderConstrainedTokenError):
        api.verify_request(HttpRequest("GET", RESOURCE_URL, {"Authorization": f"Bearer {token}"}))


def test_the_custom_domain_is_an_issuer_of_its_own(issuer: DevIssuer, http):
    base = issuer.custom_domain_url
    token = client_token(http, issuer, base=base)["access_token"]
    assert verifier(issuer, base=base).verify(token).issuer == base
    # The canonical issuer's verifier hears an answer that names another issuer.
    with pytest.raises(InvalidTokenError):
        verifier(issuer).verify(token)


def test_wrong_credentials_make_the_api_answer_503(issuer: DevIssuer, http):
    api = verifier(issuer, client_secret="wrong")
    with pytest.raises(IntrospectionUnavailableError) as unavailable:
        api.verify(opaque_token(http, issuer))
    assert unavailable.value.status_code == 503


@pytest.mark.parametrize("audience", [None, "endpoint"], ids=["aud-issuer", "aud-endpoint"])
def test_the_api_authenticates_with_its_private_key(issuer: DevIssuer, http, audience):
    # private_key_jwt (RFC 7523): no secret travels; a new assertion on every call.
    api = Verifier(
        issuer=issuer.url,
        audience=OPAQUE_API,
        introspection=Introspection(
            client_id=SIGNING_CLIENT,
            private_key=private_pem(SIGNING_KEY),
            private_key_id="reports-api-1",
            assertion_audience=None if audience is None else issuer.url + "oauth/introspect",
            cache_ttl=0,
        ),
    )
    assert api.verify(opaque_token(http, issuer)).scopes == {"read:reports"}
    assert api.verify(opaque_token(http, issuer)).issuer == issuer.url  # a second assertion


def test_a_key_the_provider_does_not_hold_gets_503(issuer: DevIssuer, http):
    api = Verifier(
        issuer=issuer.url,
        audience=OPAQUE_API,
        introspection=Introspection(
            client_id=SIGNING_CLIENT, private_key=private_pem(ec_key("P-256", index=4))
        ),
    )
    with pytest.raises(IntrospectionUnavailableError):
        api.verify(opaque_token(http, issuer))


def test_the_discovery_document_names_the_endpoint(issuer: DevIssuer):
    with httpx.Client() as http:
        document = http.get(issuer.url + ".well-known/openid-configuration").json()
    assert document["introspection_endpoint"] == issuer.url + "oauth/introspect"


def test_the_banners_introspection_line_verifies_the_built_in_opaque_api(http):
    # What a newcomer pastes from `bearerguard dev-issuer`'s output, with no config file.
    with DevIssuer(default_config()) as running:
        lines = cli.banner(running)
        (line,) = [line for line in lines if line.startswith("    Verifier(")]
        pasted = eval(  # noqa: S307 - our own output
            line.strip(), {"Verifier": Verifier, "Introspection": Introspection}
        )
        assert pasted.verify(opaque_token(http, running)).scopes == {"read:reports"}
    assert f"  introspection {running.url}oauth/introspect  (POST: RFC 7662" in "\n".join(lines)
    assert f"  revocation    {running.url}oauth/revoke  (POST: RFC 7009" in "\n".join(lines)
