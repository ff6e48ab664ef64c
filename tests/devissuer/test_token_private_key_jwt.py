"""private_key_jwt at the token endpoint (RFC 7523 §2.2): a confidential client signs a
client assertion instead of sending its secret, for every grant it authenticates in.

Over real HTTP. The assertion's ``aud`` names the issuer or the token endpoint; it is
checked as at the introspection endpoint (signature with a key of the client's ``jwks``,
``iss`` = ``sub`` = client_id, exp, a jti good for one request), and refused the same
way: 401 ``invalid_client`` saying what to fix. A client may have keys and no secret.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bearerguard import ConfigurationError
from bearerguard._mint import SigningKey
from bearerguard.devissuer import ClientConfig, DevIssuer, config_from_dict
from bearerguard.devissuer import cli as dev_cli
from bearerguard.devissuer._consent import index_page
from bearerguard.devissuer._loading import DEFAULT_CONFIG

from .flows import API, CALLBACK, SPA, code_for, exchange
from .introspection import (
    ASSERTION_TYPE,
    OPAQUE_API,
    SIGNER,
    SIGNER_KEY,
    assertion,
    by_assertion,
    introspect,
    invalid_client,
    pyjwt_assertion,
)
from .proofs import claims_of, token_url

#: a confidential client with keys and no secret: private_key_jwt is its only method
KEYS_ONLY = "keys-only-client"
KEYS_ONLY_KEY = SigningKey("ES256")


def keys_only_client() -> dict[str, Any]:
    """The configuration entry of :data:`KEYS_ONLY`: every grant a confidential client has."""
    return {
        "client_id": KEYS_ONLY,
        "grant_types": ["client_credentials", "authorization_code", "refresh_token"],
        "grants": {API: ["read:messages"]},
        "redirect_uris": [CALLBACK],
        "jwks": {"keys": [KEYS_ONLY_KEY.public_jwk()]},
    }


def tenant() -> dict[str, Any]:
    """The built-in tenant, plus a client with a secret and keys, and one with keys only."""
    data: dict[str, Any] = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["clients"] += [
        {
            "client_id": SIGNER,
            "client_secret": "signing-secret",
            "grant_types": ["client_credentials"],
            "grants": {OPAQUE_API: ["read:reports"]},
            "jwks": {"keys": [SIGNER_KEY.public_jwk()]},
        },
        keys_only_client(),
    ]
    return data


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    with DevIssuer(config_from_dict(tenant())) as running:
        yield running


def signed(
    issuer: DevIssuer, client_id: str = SIGNER, key: SigningKey = SIGNER_KEY, **claims: Any
) -> str:
    """A sound client assertion for the token endpoint, unless ``claims`` say otherwise."""
    return assertion(issuer, key=key, client_id=client_id, **{"aud": token_url(issuer), **claims})


def keys_only(issuer: DevIssuer, **claims: Any) -> str:
    """A sound client assertion of :data:`KEYS_ONLY` for the token endpoint."""
    return signed(issuer, KEYS_ONLY, KEYS_ONLY_KEY, **claims)


def client_credentials(
    http: httpx.Client, issuer: DevIssuer, client_assertion: str, audience: str, **form: str
) -> httpx.Response:
    return exchange(
        http,
        issuer,
        **by_assertion(
            client_assertion, grant_type="client_credentials", audience=audience, **form
        ),
    )


def granted(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    answer: dict[str, Any] = response.json()
    return answer


# --- client credentials -------------------------------------------------------------------


def test_an_assertion_gets_an_opaque_token_for_the_opaque_api(issuer: DevIssuer, http):
    answer = granted(client_credentials(http, issuer, signed(issuer), OPAQUE_API))
    assert (answer["token_type"], answer["scope"]) == ("Bearer", "read:reports")
    claims = introspect(http, issuer, answer["access_token"])
    assert claims["active"] is True
    assert claims["client_id"] == claims["azp"] == SIGNER
    assert claims["sub"] == f"{SIGNER}@clients"


def test_an_assertion_gets_a_jwt_for_the_jwt_api(issuer: DevIssuer, http):
    answer = granted(client_credentials(http, issuer, keys_only(issuer), API))
    claims = claims_of(answer["access_token"])
    assert claims["iss"] == issuer.url
    assert claims["aud"] == API
    assert claims["azp"] == KEYS_ONLY
    assert claims["scope"] == "read:messages"


@pytest.mark.parametrize("aud", ["issuer", "token endpoint", "list"])
def test_the_aud_names_the_issuer_or_the_token_endpoint(issuer: DevIssuer, http, aud):
    named = {
        "issuer": issuer.url,
        "token endpoint": token_url(issuer),
        "list": ["https://elsewhere.example", token_url(issuer)],
    }[aud]
    granted(client_credentials(http, issuer, keys_only(issuer, aud=named), API))


def test_the_custom_domain_takes_assertions_made_out_to_it(issuer: DevIssuer, http):
    base = issuer.custom_domain_url
    form = by_assertion(
        keys_only(issuer, aud=token_url(issuer, base)),
        grant_type="client_credentials",
        audience=API,
    )
    answer = granted(exchange(http, issuer, base, **form))
    assert claims_of(answer["access_token"])["iss"] == base


def test_an_assertion_signed_as_the_docs_show_with_pyjwt_gets_a_token(issuer: DevIssuer, http):
    client_assertion = pyjwt_assertion(issuer.url + "oauth/token", "docs-token-example-jti")
    response = http.post(
        issuer.url + "oauth/token",
        data={
            "grant_type": "client_credentials",
            "audience": OPAQUE_API,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
        },
    )
    assert granted(response)["token_type"] == "Bearer"


def test_the_client_id_may_be_sent_with_the_assertion_if_it_is_the_same(issuer: DevIssuer, http):
    granted(client_credentials(http, issuer, keys_only(issuer), API, client_id=KEYS_ONLY))
    other = client_credentials(http, issuer, keys_only(issuer), API, client_id="m2m-client")
    assert "client_id differs from the client_assertion's iss" in invalid_client(other)


def test_a_client_with_a_secret_and_keys_may_still_use_its_secret(issuer: DevIssuer, http):
    form = {"grant_type": "client_credentials", "audience": OPAQUE_API}
    by_post = exchange(http, issuer, client_id=SIGNER, client_secret="signing-secret", **form)
    granted(by_post)
    by_basic = http.post(token_url(issuer), data=form, auth=(SIGNER, "signing-secret"))
    granted(by_basic)


# --- a client with keys only --------------------------------------------------------------


def test_a_client_with_keys_only_cannot_use_a_secret(issuer: DevIssuer, http):
    form = {"grant_type": "client_credentials", "audience": API}
    # In the body: 400, as every refusal of a secret sent there (RFC 6749 §5.2).
    response = exchange(http, issuer, client_id=KEYS_ONLY, client_secret="guess", **form)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_client"
    description = body["error_description"]
    assert "has no client_secret: authenticate with a client_assertion" in description
    # By Basic: 401 with a challenge.
    response = http.post(token_url(issuer), data=form, auth=(KEYS_ONLY, "guess"))
    assert "has no client_secret" in invalid_client(response)
    # Naming the client only is what a public client does: not enough.
    response = exchange(http, issuer, client_id=KEYS_ONLY, **form)
    assert response.status_code == 400, response.text
    assert "private_key_jwt" in response.json()["error_description"]


def test_a_client_with_keys_only_signs_in_users_and_refreshes_by_assertion(issuer: DevIssuer, http):
    # A confidential client: no PKCE needed, the assertion authenticates the exchange.
    answer = code_for(
        http,
        issuer,
        client_id=KEYS_ONLY,
        scope="openid offline_access read:messages",
    )
    form = {"code": answer["code"], "redirect_uri": CALLBACK}
    issued = granted(
        exchange(
            http, issuer, **by_assertion(keys_only(issuer), grant_type="authorization_code", **form)
        )
    )
    assert claims_of(issued["access_token"])["azp"] == KEYS_ONLY
    assert "id_token" in issued
    refresh = issued["refresh_token"]

    unauthenticated = exchange(
        http, issuer, grant_type="refresh_token", client_id=KEYS_ONLY, refresh_token=refresh
    )
    assert unauthenticated.status_code == 400, unauthenticated.text
    assert unauthenticated.json()["error"] == "invalid_client"

    refreshed = granted(
        exchange(
            http,
            issuer,
            **by_assertion(keys_only(issuer), grant_type="refresh_token", refresh_token=refresh),
        )
    )
    assert refreshed["refresh_token"] != refresh
    assert claims_of(refreshed["access_token"])["sub"] == "auth0|alice"


def test_another_clients_assertion_does_not_redeem_a_code(issuer: DevIssuer, http):
    answer = code_for(http, issuer, client_id=KEYS_ONLY)
    form = by_assertion(
        signed(issuer),
        grant_type="authorization_code",
        code=answer["code"],
        redirect_uri=CALLBACK,
    )
    response = exchange(http, issuer, **form)
    assert response.status_code == 400, response.text
    # The signing client may not use the code grant at all; it is refused before the code.
    assert response.json()["error"] == "unauthorized_client"


# --- refusals -----------------------------------------------------------------------------


def test_an_assertion_signed_with_another_key_is_refused(issuer: DevIssuer, http):
    forged = assertion(
        issuer,
        key=SigningKey("ES256"),
        client_id=KEYS_ONLY,
        aud=token_url(issuer),
        header={"alg": "ES256", "kid": KEYS_ONLY_KEY.kid},
    )
    response = client_credentials(http, issuer, forged, API)
    assert "signature does not verify" in invalid_client(response)


def test_a_replayed_assertion_is_refused(issuer: DevIssuer, http):
    once = keys_only(issuer)
    granted(client_credentials(http, issuer, once, API))
    again = client_credentials(http, issuer, once, API)
    assert "was used already (its jti): sign a new one" in invalid_client(again)


def test_an_assertion_spent_at_the_token_endpoint_is_spent_at_introspection_too(
    issuer: DevIssuer, http
):
    once = signed(issuer, aud=issuer.url)  # the issuer: good at every endpoint
    token = granted(client_credentials(http, issuer, once, OPAQUE_API))["access_token"]
    response = http.post(issuer.url + "oauth/introspect", data=by_assertion(once, token=token))
    assert "was used already" in invalid_client(response)


def test_an_assertion_for_another_audience_is_refused(issuer: DevIssuer, http):
    # The introspection endpoint's URL is no audience of the token endpoint.
    for aud in (issuer.url + "oauth/introspect", "https://elsewhere.example/", None):
        response = client_credentials(http, issuer, keys_only(issuer, aud=aud), API)
        description = invalid_client(response)
        assert "aud must name this issuer or this endpoint" in description
        assert token_url(issuer) in description


def test_an_expired_assertion_is_refused(issuer: DevIssuer, http):
    expired = keys_only(issuer, exp=int(time.time()) - 60)
    assert "has expired" in invalid_client(client_credentials(http, issuer, expired, API))
    far = keys_only(issuer, exp=int(time.time()) + 3600)
    assert "more than 300 seconds ahead" in invalid_client(
        client_credentials(http, issuer, far, API)
    )


def test_a_wrong_assertion_type_or_a_garbled_assertion_is_refused(issuer: DevIssuer, http):
    form = {"grant_type": "client_credentials", "audience": API}
    wrong_type = {"client_assertion_type": "jwt", "client_assertion": keys_only(issuer)}
    response = exchange(http, issuer, **form, **wrong_type)
    assert f"client_assertion_type must be {ASSERTION_TYPE!r}" in invalid_client(response)
    response = exchange(http, issuer, **form, **by_assertion("not-a-jwt"))
    assert "is not a signed JWT" in invalid_client(response)


def test_a_secret_and_an_assertion_together_are_refused(issuer: DevIssuer, http):
    in_body = client_credentials(
        http, issuer, signed(issuer), OPAQUE_API, client_secret="signing-secret"
    )
    by_basic = http.post(
        token_url(issuer),
        data=by_assertion(signed(issuer), grant_type="client_credentials", audience=OPAQUE_API),
        auth=(SIGNER, "signing-secret"),
    )
    for response in (in_body, by_basic):
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["error"] == "invalid_request"
        assert "Authenticate with one method" in body["error_description"]


def test_a_public_client_cannot_authenticate_with_an_assertion(issuer: DevIssuer, http):
    public = signed(issuer, SPA)
    response = exchange(
        http, issuer, **by_assertion(public, grant_type="authorization_code", code="x")
    )
    assert "Client 'spa-client' is public: it has no keys" in invalid_client(response)


def test_a_client_without_jwks_cannot_use_an_assertion(issuer: DevIssuer, http):
    response = client_credentials(http, issuer, signed(issuer, "m2m-client"), API)
    assert "Client 'm2m-client' has no jwks" in invalid_client(response)


def test_the_secret_methods_answer_as_before(issuer: DevIssuer, http):
    form = {"grant_type": "client_credentials", "audience": API}
    response = exchange(http, issuer, client_id="m2m-client", client_secret="wrong", **form)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Wrong client_secret for client 'm2m-client'.",
    }
    response = exchange(http, issuer, client_id="m2m-client", **form)
    assert response.json()["error_description"] == (
        "Client 'm2m-client' is confidential: authenticate with its client_secret."
    )


# --- metadata, configuration, banner ------------------------------------------------------


def test_discovery_lists_private_key_jwt_for_the_token_endpoint(issuer: DevIssuer, http):
    for path in (".well-known/openid-configuration", ".well-known/oauth-authorization-server"):
        document = http.get(issuer.url + path).json()
        assert document["token_endpoint_auth_methods_supported"] == [
            "client_secret_basic", "client_secret_post", "private_key_jwt", "none",
        ]  # fmt: skip
        algorithms = document["token_endpoint_auth_signing_alg_values_supported"]
        assert {"RS256", "PS256", "ES256", "EdDSA"} <= set(algorithms)
        assert "none" not in algorithms
        assert not any(alg.startswith("HS") for alg in algorithms)


def test_a_client_with_keys_and_no_secret_is_confidential():
    client = ClientConfig(
        client_id="svc",
        grant_types=("client_credentials",),
        jwks={"keys": [KEYS_ONLY_KEY.public_jwk()]},
    )
    assert not client.public
    assert client.client_secret is None
    assert client.key_set is not None


def test_a_client_with_neither_a_secret_nor_keys_still_needs_a_secret():
    data = tenant()
    del data["clients"][-1]["jwks"]
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(data)
    message = str(raised.value)
    assert "clients[5].client_secret is required: a confidential client needs a client_secret" in (
        message
    )
    assert "or jwks, to authenticate with private_key_jwt" in message


def test_a_public_client_with_keys_is_refused_naming_jwks():
    data = tenant()
    data["clients"][-1] = {
        "client_id": "native",
        "public": True,
        "grant_types": ["authorization_code"],
        "redirect_uris": [CALLBACK],
        "jwks": {"keys": [KEYS_ONLY_KEY.public_jwk()]},
    }
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(data)
    assert str(raised.value).startswith("clients[5].jwks must be left out: a public client")


def test_the_banner_and_the_front_page_show_how_each_client_authenticates(issuer: DevIssuer):
    lines = {client.client_id: dev_cli._client_line(client) for client in issuer.config.clients}
    assert lines[KEYS_ONLY].startswith(f"  {KEYS_ONLY}  keys (private_key_jwt)  grants: ")
    assert lines[SIGNER].startswith(
        f"  {SIGNER}  secret signing-secret or keys (private_key_jwt)  grants: "
    )
    assert lines["m2m-client"].startswith("  m2m-client  secret m2m-secret  grants: ")
    assert lines[SPA].startswith("  spa-client  public (PKCE)  grants: ")
    page = index_page(issuer.config, (issuer.url,), issuer.endpoints())
    assert "<td><em>keys (private_key_jwt)</em></td>" in page
    assert "<td>signing-secret or <em>keys (private_key_jwt)</em></td>" in page


def test_the_json_index_says_how_each_client_authenticates(issuer: DevIssuer, http):
    clients = {client["client_id"]: client for client in http.get(issuer.url).json()["clients"]}
    assert clients[KEYS_ONLY]["auth"] == ["private_key_jwt"]
    assert clients[KEYS_ONLY]["client_secret"] is None
    assert clients[SIGNER]["auth"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]
    assert clients["m2m-client"]["auth"] == ["client_secret_basic", "client_secret_post"]
    assert clients[SPA]["auth"] == ["none"]


def test_the_curl_example_is_for_a_client_with_a_secret():
    data = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["clients"] = [keys_only_client(), *data["clients"]]
    with DevIssuer(config_from_dict(data)) as running:
        example = dev_cli._example(running)
    assert example is not None
    assert "client_secret=m2m-secret" in example
    assert "client_secret=None" not in example
