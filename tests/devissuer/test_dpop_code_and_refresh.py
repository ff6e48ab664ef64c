"""DPoP with the authorization code and refresh token grants (RFC 9449 §5, §10).

A public client's refresh token is bound to its key; a confidential client's is
not; a code is bound to the key its authorization request named in ``dpop_jkt``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bearerguard import HttpRequest, Verifier
from bearerguard.devissuer import DevIssuer

from .flows import API, CALLBACK, SPA, WEB, authorize, code_for, pkce, redirect_params
from .proofs import ClientKey, claims_of, refused, request_token, token_url

OFFLINE = "openid offline_access read:messages"


def exchange(
    http: httpx.Client,
    issuer: DevIssuer,
    *,
    proof_key: ClientKey | None,
    client: str = SPA,
    scope: str = OFFLINE,
    **authorize_params: str,
) -> httpx.Response:
    """Alice signs in to ``client``; the code is exchanged with a proof by ``proof_key``."""
    verifier, challenge = pkce()
    code = code_for(
        http,
        issuer,
        client_id=client,
        scope=scope,
        code_challenge=challenge,
        code_challenge_method="S256",
        **authorize_params,
    )["code"]
    form = {
        "grant_type": "authorization_code",
        "client_id": client,
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": CALLBACK,
    }
    if client == WEB:
        form["client_secret"] = "web-secret"
    proof = None if proof_key is None else proof_key.proof(token_url(issuer))
    return request_token(http, issuer, proof=proof, **form)


def refresh(
    http: httpx.Client,
    issuer: DevIssuer,
    token: str,
    *,
    proof_key: ClientKey | None,
    client: str = SPA,
) -> httpx.Response:
    form = {"grant_type": "refresh_token", "client_id": client, "refresh_token": token}
    if client == WEB:
        form["client_secret"] = "web-secret"
    proof = None if proof_key is None else proof_key.proof(token_url(issuer))
    return request_token(http, issuer, proof=proof, **form)


def success(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


# --- authorization code ----------------------------------------------------------------------


def test_a_code_exchanged_with_a_proof_gets_a_bound_token(issuer: DevIssuer, http):
    key = ClientKey()
    answer = success(exchange(http, issuer, proof_key=key))
    assert answer["token_type"] == "DPoP"
    assert claims_of(answer["access_token"])["cnf"] == {"jkt": key.jkt}
    # The ID token is for the client, not for an API: it stays unbound.
    assert "cnf" not in Verifier(issuer=issuer.url, audience=SPA).verify(answer["id_token"]).claims


def test_the_bound_user_token_is_accepted_by_an_api_with_a_proof(issuer: DevIssuer, http):
    key = ClientKey()
    access = success(exchange(http, issuer, proof_key=key))["access_token"]
    url = "http://127.0.0.1:8000/api/messages"
    proof = key.proof(url, method="GET", access_token=access)
    token = Verifier(issuer=issuer.url, audience=API).verify_request(
        HttpRequest("GET", url, [("Authorization", f"DPoP {access}"), ("DPoP", proof)])
    )
    assert token.subject == "auth0|alice"
    assert token.confirmation == {"jkt": key.jkt}


def test_a_code_exchanged_without_a_proof_gets_bearer_tokens(issuer: DevIssuer, http):
    answer = success(exchange(http, issuer, proof_key=None))
    assert answer["token_type"] == "Bearer"
    assert "cnf" not in claims_of(answer["access_token"])
    # ... and the public client's refresh token is not bound: it refreshes without a proof.
    renewed = success(refresh(http, issuer, answer["refresh_token"], proof_key=None))
    assert renewed["token_type"] == "Bearer"


# --- refresh tokens: a public client's are bound (§5) ---------------------------------------


def test_a_public_clients_bound_refresh_token_refreshes_with_its_key(issuer: DevIssuer, http):
    key = ClientKey()
    first = success(exchange(http, issuer, proof_key=key))
    second = success(refresh(http, issuer, first["refresh_token"], proof_key=key))
    assert second["token_type"] == "DPoP"
    assert claims_of(second["access_token"])["cnf"] == {"jkt": key.jkt}
    # The rotated refresh token is bound to the same key: it too needs a proof by it.
    third = success(refresh(http, issuer, second["refresh_token"], proof_key=key))
    assert claims_of(third["access_token"])["cnf"] == {"jkt": key.jkt}


@pytest.mark.parametrize("presented", ["no proof", "another key"])
def test_a_bound_refresh_token_without_its_key_is_refused_and_spent(
    issuer: DevIssuer, http, presented
):
    key = ClientKey()
    bound = success(exchange(http, issuer, proof_key=key))["refresh_token"]
    thief = None if presented == "no proof" else ClientKey()
    description = refused(refresh(http, issuer, bound, proof_key=thief))
    assert "refresh token is bound to" in description
    # Taken as stolen: spent, so the rightful client's next use is a reuse, as Auth0 treats it.
    reused = refresh(http, issuer, bound, proof_key=key)
    assert "already used" in refused(reused, "invalid_grant")


def test_a_bound_refresh_token_with_a_bad_proof_is_refused_before_it_is_spent(
    issuer: DevIssuer, http
):
    key = ClientKey()
    bound = success(exchange(http, issuer, proof_key=key))["refresh_token"]
    stale = key.proof(token_url(issuer), iat=1_600_000_000)
    response = request_token(
        http, issuer, proof=stale, grant_type="refresh_token", client_id=SPA, refresh_token=bound
    )
    assert "older than" in refused(response)
    assert success(refresh(http, issuer, bound, proof_key=key))["token_type"] == "DPoP"


def test_a_public_client_binds_an_unbound_refresh_token_by_refreshing_with_a_proof(
    issuer: DevIssuer, http
):
    unbound = success(exchange(http, issuer, proof_key=None))["refresh_token"]
    key = ClientKey()
    now_bound = success(refresh(http, issuer, unbound, proof_key=key))
    assert now_bound["token_type"] == "DPoP"
    refused(refresh(http, issuer, now_bound["refresh_token"], proof_key=None))


# --- refresh tokens: a confidential client's stay unbound -----------------------------------


def test_a_confidential_clients_refresh_token_is_not_bound(issuer: DevIssuer, http):
    key = ClientKey()
    first = success(exchange(http, issuer, proof_key=key, client=WEB))
    assert first["token_type"] == "DPoP"
    # Its secret constrains the refresh token already: no proof needed to refresh ...
    second = success(refresh(http, issuer, first["refresh_token"], proof_key=None, client=WEB))
    assert second["token_type"] == "Bearer"
    # ... and a refresh with a proof, by any key, binds that refresh's access token to it.
    other = ClientKey()
    third = success(refresh(http, issuer, second["refresh_token"], proof_key=other, client=WEB))
    assert claims_of(third["access_token"])["cnf"] == {"jkt": other.jkt}


# --- dpop_jkt: the code bound to a key (§10) ------------------------------------------------


def test_a_code_bound_with_dpop_jkt_is_redeemed_with_a_proof_by_that_key(issuer: DevIssuer, http):
    key = ClientKey()
    answer = success(exchange(http, issuer, proof_key=key, dpop_jkt=key.jkt))
    assert claims_of(answer["access_token"])["cnf"] == {"jkt": key.jkt}


@pytest.mark.parametrize("presented", ["no proof", "another key"])
def test_a_code_bound_with_dpop_jkt_refuses_any_other_proof(issuer: DevIssuer, http, presented):
    key = ClientKey()
    other = None if presented == "no proof" else ClientKey()
    response = exchange(http, issuer, proof_key=other, dpop_jkt=key.jkt)
    assert "authorization code (dpop_jkt) is bound to" in refused(response)


@pytest.mark.parametrize(
    "value", ["too-short", "N" * 44, "NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs"]
)
def test_a_malformed_dpop_jkt_goes_back_to_the_client(issuer: DevIssuer, http, value):
    _, challenge = pkce()
    response = authorize(
        http, issuer, dpop_jkt=value, code_challenge=challenge, code_challenge_method="S256"
    )
    answer = redirect_params(response)
    assert answer["error"] == "invalid_request"
    assert "RFC 7638" in answer["error_description"]
    assert answer["state"] == "st-123"


def test_dpop_jkt_with_the_implicit_flow_is_refused(issuer: DevIssuer, http):
    response = authorize(http, issuer, response_type="token", dpop_jkt=ClientKey().jkt)
    answer = redirect_params(response, fragment=True)
    assert answer["error"] == "invalid_request"
    assert "response_type=code" in answer["error_description"]


# --- /userinfo takes the bound token it is an audience of -----------------------------------


def test_userinfo_takes_a_bound_token_with_a_proof_and_refuses_it_as_bearer(
    issuer: DevIssuer, http
):
    key = ClientKey()
    access = success(exchange(http, issuer, proof_key=key, scope="openid profile"))["access_token"]
    url = issuer.url + "userinfo"
    proof = key.proof(url, method="GET", access_token=access)
    response = http.get(url, headers={"Authorization": f"DPoP {access}", "DPoP": proof})
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == "auth0|alice"
    assert response.json()["name"] == "Alice Example"
    # The same proof again is a replay; the token as a bearer token is sender-constrained.
    replayed = http.get(url, headers={"Authorization": f"DPoP {access}", "DPoP": proof})
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_dpop_proof"
    stolen = http.get(url, headers={"Authorization": f"Bearer {access}"})
    assert stolen.status_code == 401
    assert stolen.json()["error"] == "invalid_token"
