"""The introspection endpoint (RFC 7662): who may ask, and what it answers about which token.

Over real HTTP. Clients authenticate with a secret (Basic or in the form) or with a
private_key_jwt assertion (RFC 7523); the answers are the token's claims with
``"active": true``, or ``{"active": false}`` and nothing else.
"""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bearerguard import ConfigurationError
from bearerguard._jose import looks_like_jwt
from bearerguard._mint import SigningKey, compact_jws
from bearerguard.devissuer import ApiConfig, ClientConfig, DevIssuer, config_from_dict
from bearerguard.devissuer._client_auth import MAX_ASSERTION_LIFETIME
from bearerguard.devissuer._loading import DEFAULT_CONFIG

from .flows import API, M2M, tokens
from .introspection import (
    OPAQUE_API,
    SIGNER,
    SIGNER_KEY,
    assertion,
    by_assertion,
    client_token,
    introspect,
    invalid_client,
    jwt_token,
    opaque_token,
    post,
    pyjwt_assertion,
    tenant,
)
from .proofs import ClientKey, claims_of, token_url


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    """The built-in tenant, plus a client that registered a public key (private_key_jwt)."""
    with DevIssuer(tenant()) as running:
        yield running


# --- what it answers ------------------------------------------------------------------------


def test_an_opaque_token_is_random_text_that_no_one_takes_for_a_jwt(issuer: DevIssuer, http):
    answer = client_token(http, issuer)
    token = answer["access_token"]
    assert (answer["token_type"], answer["expires_in"], answer["scope"]) == (
        "Bearer",
        3600,
        "read:reports",
    )
    assert len(token) == 43
    assert "." not in token
    assert not looks_like_jwt(token)
    assert opaque_token(http, issuer) != token  # a new one each time


def test_a_live_opaque_token_is_active_with_the_claims_its_jwt_would_carry(issuer: DevIssuer, http):
    before = int(time.time())
    answer = introspect(http, issuer, opaque_token(http, issuer))
    assert answer["active"] is True
    assert answer["iss"] == issuer.url
    assert answer["sub"] == "api-client@clients"
    assert answer["aud"] == OPAQUE_API
    assert answer["scope"] == "read:reports"
    assert answer["client_id"] == answer["azp"] == "api-client"
    assert answer["gty"] == "client-credentials"
    assert answer["token_type"] == "Bearer"
    assert before <= answer["iat"] <= time.time()
    assert answer["exp"] == answer["iat"] + 3600
    assert isinstance(answer["jti"], str)
    assert answer["jti"]
    assert "cnf" not in answer


def test_a_dpop_bound_opaque_token_names_its_key(issuer: DevIssuer, http):
    key = ClientKey()
    answer = client_token(http, issuer, headers={"DPoP": key.proof(token_url(issuer))})
    assert answer["token_type"] == "DPoP"
    claims = introspect(http, issuer, answer["access_token"])
    assert claims["active"] is True
    assert claims["cnf"] == {"jkt": key.jkt}
    assert claims["token_type"] == "DPoP"


def test_an_expired_opaque_token_is_inactive(issuer: DevIssuer, http):
    token = issuer.mint_access_token(audience=OPAQUE_API, scopes="read:reports", expires_in=-60)
    assert not looks_like_jwt(token)
    assert introspect(http, issuer, token) == {"active": False}


def test_mint_access_token_gives_live_opaque_tokens_for_an_opaque_api(issuer: DevIssuer, http):
    token = issuer.mint_access_token(audience=OPAQUE_API, scopes="write:reports", tier="gold")
    answer = introspect(http, issuer, token)
    assert answer["active"] is True
    assert answer["sub"] == "auth0|alice"
    assert answer["scope"] == "write:reports"
    assert answer["https://example.com/tier"] == "gold"  # namespaced, as in a JWT


@pytest.mark.parametrize(
    "garbage",
    [
        "x",
        "kq1V0mMHhH0cX0m6cB1Zt4gkEKp1Q7l0dGQGZ8QJx7o",  # opaque-shaped, never issued
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "eyJ0eXAiOiJKV1QifQ.e30.c2ln",
        "a.b.c.d.e",
        "é" * 20,
        "A" * 20_000,
    ],
)
def test_garbage_is_inactive_and_nothing_else(issuer: DevIssuer, http, garbage):
    assert introspect(http, issuer, garbage) == {"active": False}


def test_the_issuers_own_jwt_access_tokens_are_introspected_too(issuer: DevIssuer, http):
    token = jwt_token(http, issuer)
    answer = introspect(http, issuer, token)
    claims = claims_of(token)
    assert answer == {"active": True, **claims, "token_type": "Bearer"}
    assert answer["aud"] == API
    assert answer["sub"] == f"{M2M}@clients"


def test_a_dpop_bound_jwt_is_introspected_as_dpop(issuer: DevIssuer, http):
    key = ClientKey()
    token = client_token(
        http,
        issuer,
        audience=API,
        client=("m2m-client", "m2m-secret"),
        headers={"DPoP": key.proof(token_url(issuer))},
    )["access_token"]
    answer = introspect(http, issuer, token)
    assert (answer["token_type"], answer["cnf"]) == ("DPoP", {"jkt": key.jkt})


def test_jwts_that_are_no_live_access_token_of_this_issuer_are_inactive(issuer: DevIssuer, http):
    expired = issuer.mint_access_token(audience=API, expires_in=-60)
    assert introspect(http, issuer, expired) == {"active": False}
    # Signed with a key this issuer never published, under its own kid.
    token = jwt_token(http, issuer)
    header, payload, _ = token.split(".")
    forged = issuer.mint_access_token(audience=API).split(".")[2]
    assert introspect(http, issuer, f"{header}.{payload}.{forged}") == {"active": False}
    stranger = SigningKey("RS256")
    foreign = compact_jws(
        {"alg": "RS256", "typ": "at+jwt", "kid": stranger.kid}, claims_of(token), stranger
    )
    assert introspect(http, issuer, foreign) == {"active": False}


def test_an_id_token_is_no_access_token(issuer: DevIssuer, http):
    answer = tokens(http, issuer, scope="openid profile read:messages")
    assert introspect(http, issuer, answer["id_token"]) == {"active": False}
    assert introspect(http, issuer, answer["access_token"])["active"] is True


def test_the_token_type_hint_is_only_a_hint(issuer: DevIssuer, http):
    token = opaque_token(http, issuer)
    for hint in ("access_token", "refresh_token", "nonsense"):
        assert introspect(http, issuer, token, token_type_hint=hint)["active"] is True


def test_the_custom_domain_answers_as_well(issuer: DevIssuer, http):
    base = issuer.custom_domain_url
    token = client_token(http, issuer, base=base)["access_token"]
    response = http.post(
        base + "oauth/introspect", data={"token": token}, auth=("api-client", "api-secret")
    )
    assert response.json()["iss"] == base


# --- the request ----------------------------------------------------------------------------


def test_a_missing_token_is_invalid_request(issuer: DevIssuer, http):
    response = post(http, issuer, "introspect", {})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "token is required" in response.json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_only_post_and_no_cors(issuer: DevIssuer, http):
    assert http.get(issuer.url + "oauth/introspect").status_code == 405
    preflight = http.options(
        issuer.url + "oauth/introspect",
        headers={"Origin": "http://localhost:8080", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_huge_body_is_refused_before_it_is_read(issuer: DevIssuer, http):
    response = post(http, issuer, "introspect", {"token": "x" * 70_000})
    assert response.status_code == 413


# --- client authentication: secrets ---------------------------------------------------------


def test_client_secret_basic_and_client_secret_post_are_accepted(issuer: DevIssuer, http):
    token = opaque_token(http, issuer)
    by_post = post(
        http,
        issuer,
        "introspect",
        {"token": token, "client_id": "m2m-client", "client_secret": "m2m-secret"},
        basic=None,
    )
    assert by_post.json()["active"] is True
    # Any confidential client may introspect: here the web app's secret, by Basic.
    by_basic = post(
        http, issuer, "introspect", {"token": token}, basic=("web-client", "web-secret")
    )
    assert by_basic.json()["active"] is True


@pytest.mark.parametrize(
    ("form", "basic", "reason"),
    [
        ({}, None, "Client authentication is required"),
        ({"client_id": "api-client"}, None, "Client authentication is required"),
        ({}, ("api-client", "wrong"), "Wrong client_secret for client 'api-client'"),
        ({"client_id": "api-client", "client_secret": "wrong"}, None, "Wrong client_secret"),
        ({}, ("nobody", "secret"), "Unknown client_id 'nobody'"),
        ({}, ("spa-client", ""), "Client 'spa-client' is public"),
        ({"client_id": "spa-client", "client_secret": "x"}, None, "is public"),
    ],
)
def test_bad_or_missing_credentials_are_401_invalid_client(
    issuer: DevIssuer, http, form, basic, reason
):
    token = opaque_token(http, issuer)
    response = post(http, issuer, "introspect", {"token": token, **form}, basic=basic)
    assert reason in invalid_client(response)
    assert "active" not in response.json()


def test_a_malformed_basic_header_is_401(issuer: DevIssuer, http):
    response = http.post(
        issuer.url + "oauth/introspect",
        data={"token": "x"},
        headers={"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    )
    assert "client_id:client_secret" in invalid_client(response)


def test_two_methods_at_once_are_invalid_request(issuer: DevIssuer, http):
    form = by_assertion(assertion(issuer), token="x", client_secret="signing-secret")
    response = post(http, issuer, "introspect", form, basic=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    both = post(http, issuer, "introspect", {"token": "x", "client_secret": "s"})
    assert both.status_code == 400


# --- client authentication: private_key_jwt -------------------------------------------------


@pytest.mark.parametrize(
    "audience",
    [
        "{url}oauth/introspect",
        "{url}",
        "{url}oauth/token",
        ["https://elsewhere.example", "{url}oauth/introspect"],
    ],
)
def test_a_private_key_jwt_assertion_is_accepted(issuer: DevIssuer, http, audience):
    aud: Any = (
        audience.format(url=issuer.url)
        if isinstance(audience, str)
        else [a.format(url=issuer.url) for a in audience]
    )
    token = opaque_token(http, issuer)
    response = post(
        http,
        issuer,
        "introspect",
        by_assertion(assertion(issuer, aud=aud), token=token),
        basic=None,
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True


def test_an_assertion_signed_as_the_docs_show_with_pyjwt_is_accepted(issuer: DevIssuer, http):
    token = opaque_token(http, issuer)
    signed = pyjwt_assertion(issuer.url + "oauth/introspect", "docs-example-jti")
    answer = http.post(
        issuer.url + "oauth/introspect",
        data={
            "token": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        },
    ).json()
    assert answer["active"] is True


def test_the_client_id_may_be_sent_with_the_assertion_if_it_is_the_same(issuer: DevIssuer, http):
    form = by_assertion(assertion(issuer), token="x", client_id=SIGNER)
    assert post(http, issuer, "introspect", form, basic=None).json() == {"active": False}
    other = by_assertion(assertion(issuer), token="x", client_id="api-client")
    assert "client_id differs" in invalid_client(
        post(http, issuer, "introspect", other, basic=None)
    )


def test_a_replayed_assertion_is_refused(issuer: DevIssuer, http):
    signed = assertion(issuer)
    first = post(http, issuer, "introspect", by_assertion(signed, token="x"), basic=None)
    assert first.status_code == 200
    again = post(http, issuer, "introspect", by_assertion(signed, token="x"), basic=None)
    assert "used already" in invalid_client(again)


def test_a_refused_assertion_does_not_spend_its_jti(issuer: DevIssuer, http):
    jti = "same-jti-twice"
    forged = assertion(
        issuer, key=SigningKey("ES256"), jti=jti, header={"alg": "ES256", "kid": SIGNER_KEY.kid}
    )
    assert "signature" in invalid_client(
        post(http, issuer, "introspect", by_assertion(forged, token="x"), basic=None)
    )
    sound = post(
        http, issuer, "introspect", by_assertion(assertion(issuer, jti=jti), token="x"), basic=None
    )
    assert sound.status_code == 200, sound.text


def assertion_refusal(http: httpx.Client, issuer: DevIssuer, **claims: Any) -> str:
    response = post(
        http, issuer, "introspect", by_assertion(assertion(issuer, **claims), token="x"), basic=None
    )
    return invalid_client(response)


def test_an_assertion_for_another_audience_is_refused(issuer: DevIssuer, http):
    assert "aud must name this issuer or this endpoint" in assertion_refusal(
        http, issuer, aud="https://elsewhere.example/oauth/introspect"
    )
    # The other issuer URL of the same tenant is another audience too.
    assert "aud must name" in assertion_refusal(
        http, issuer, aud=issuer.custom_domain_url + "oauth/introspect"
    )
    assert "aud must name" in assertion_refusal(http, issuer, aud=None)


def test_an_expired_assertion_is_refused(issuer: DevIssuer, http):
    assert "has expired" in assertion_refusal(http, issuer, exp=int(time.time()) - 60)
    assert "has no exp" in assertion_refusal(http, issuer, exp=None)
    assert "has no exp" in assertion_refusal(http, issuer, exp="soon")


def test_an_assertion_that_lives_too_long_is_refused(issuer: DevIssuer, http):
    far = int(time.time() + MAX_ASSERTION_LIFETIME + 60)
    assert "more than 300 seconds ahead" in assertion_refusal(http, issuer, exp=far)


def test_an_assertion_from_the_future_is_refused(issuer: DevIssuer, http):
    assert "iat is not a past NumericDate" in assertion_refusal(
        http, issuer, iat=int(time.time()) + 120
    )
    assert "nbf is not a past" in assertion_refusal(http, issuer, nbf=int(time.time()) + 120)


def test_an_assertion_needs_iss_and_sub_naming_the_client_and_a_jti(issuer: DevIssuer, http):
    assert "iss and sub" in assertion_refusal(http, issuer, sub="someone-else")
    assert "iss and sub" in assertion_refusal(http, issuer, iss=None)
    assert "needs a jti" in assertion_refusal(http, issuer, jti=None)
    assert "needs a jti" in assertion_refusal(http, issuer, jti="")


def test_an_assertion_must_be_signed_by_the_clients_key(issuer: DevIssuer, http):
    stranger = SigningKey("ES256")
    forged = assertion(issuer, key=stranger, header={"alg": "ES256", "kid": SIGNER_KEY.kid})
    response = post(http, issuer, "introspect", by_assertion(forged, token="x"), basic=None)
    assert "signature does not verify" in invalid_client(response)
    unknown_kid = assertion(issuer, key=stranger)
    response = post(http, issuer, "introspect", by_assertion(unknown_kid, token="x"), basic=None)
    assert "No single key" in invalid_client(response)


@pytest.mark.parametrize(
    ("alg", "reason"),
    [
        ("none", "must be an asymmetric algorithm"),
        ("HS256", "must be an asymmetric algorithm"),
        ("RS256", "No single key"),  # asymmetric, but the client's key is an EC key
    ],
)
def test_an_assertion_with_another_algorithm_is_refused(issuer: DevIssuer, http, alg, reason):
    signed = assertion(issuer, header={"alg": alg, "kid": SIGNER_KEY.kid})
    response = post(http, issuer, "introspect", by_assertion(signed, token="x"), basic=None)
    assert reason in invalid_client(response)


def test_a_client_without_jwks_cannot_use_private_key_jwt(issuer: DevIssuer, http):
    signed = assertion(issuer, client_id="api-client")
    response = post(http, issuer, "introspect", by_assertion(signed, token="x"), basic=None)
    assert "Client 'api-client' has no jwks" in invalid_client(response)
    public = assertion(issuer, client_id="spa-client")
    response = post(http, issuer, "introspect", by_assertion(public, token="x"), basic=None)
    assert "is public" in invalid_client(response)
    unknown = assertion(issuer, client_id="nobody")
    response = post(http, issuer, "introspect", by_assertion(unknown, token="x"), basic=None)
    assert "Unknown client_id 'nobody'" in invalid_client(response)


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"client_assertion_type": "urn:nope", "client_assertion": "x"}, "client_assertion_type"),
        ({"client_assertion": "x"}, "client_assertion_type"),
        (
            {
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": "not-a-jwt",
            },
            "not a signed JWT",
        ),
        (
            {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
            "not a signed JWT",
        ),
    ],
)
def test_a_malformed_assertion_is_refused(issuer: DevIssuer, http, form, reason):
    response = post(http, issuer, "introspect", {"token": "x", **form}, basic=None)
    assert reason in invalid_client(response)


# --- configuration --------------------------------------------------------------------------


def edited(api: dict[str, Any] | None = None, client: dict[str, Any] | None = None) -> Any:
    data: dict[str, Any] = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["apis"][0].update(api or {})
    data["clients"][0].update(client or {})
    return data


@pytest.mark.parametrize(
    ("api", "client", "message"),
    [
        (
            {"token_format": "reference"},
            None,
            'apis[0].token_format must be "jwt" (signed JWTs, the default) or "opaque"',
        ),
        ({"token_format": 1}, None, "apis[0].token_format must be a string, got the number 1"),
        (None, {"jwks": "keys.json"}, "clients[0].jwks must be a JWK Set object"),
        (None, {"jwks": {"keys": []}}, "clients[0].jwks must be a JWK Set of public keys"),
        (None, {"jwks": {"kty": "EC"}}, "clients[0].jwks must be a JWK Set of public keys"),
        (
            None,
            {"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}},
            "clients[0].jwks.keys[0] is not a usable public signing key",
        ),
        (
            None,
            {"jwks": {"keys": [{**SIGNER_KEY.public_jwk(), "d": "c2VjcmV0"}]}},
            "clients[0].jwks.keys[0] is not a usable public signing key (it contains private",
        ),
        (None, {"jwks": {"keys": ["x"]}}, "clients[0].jwks.keys[0] is not a usable public"),
        (
            None,
            {"jwks": {"keys": [{"kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA"}]}},
            "clients[0].jwks.keys[0] is not a usable public signing key",
        ),
    ],
)
def test_configuration_mistakes_are_named_by_their_path(api, client, message):
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(edited(api, client))
    assert str(raised.value).startswith(message), raised.value


def test_opaque_tokens_cannot_be_encrypted():
    key = SigningKey("RS256").public_jwk()
    jwk = {name: key[name] for name in ("kty", "n", "e")}
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(edited({"token_format": "opaque", "encryption_key": jwk}))
    assert str(raised.value) == (
        'apis[0].token_format is "opaque", and encryption_key encrypts JWTs: an opaque token '
        'carries no claims to encrypt. Remove encryption_key, or write "token_format": "jwt".'
    )


def test_a_public_client_has_no_jwks():
    data = copy.deepcopy(dict(DEFAULT_CONFIG))
    data["clients"][1]["jwks"] = {"keys": [SIGNER_KEY.public_jwk()]}
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(data)
    assert str(raised.value).startswith("clients[1].jwks must be left out: a public client")


def test_the_settings_in_python_say_whose_they_are():
    with pytest.raises(ConfigurationError) as raised:
        ApiConfig(identifier="https://reports.example", token_format="paseto")
    assert str(raised.value).startswith("API 'https://reports.example': token_format must be")
    with pytest.raises(ConfigurationError) as raised:
        ClientConfig(
            client_id="svc",
            client_secret="s",
            grant_types=("client_credentials",),
            jwks={"keys": "none"},
        )
    assert str(raised.value).startswith("client 'svc': jwks must be a JWK Set")
    signer = ClientConfig(
        client_id="svc",
        client_secret="s",
        grant_types=("client_credentials",),
        jwks={"keys": [SIGNER_KEY.public_jwk()]},
    )
    assert signer.key_set is not None
    assert len(signer.key_set) == 1
    assert ApiConfig(identifier="https://reports.example", token_format="opaque").opaque
