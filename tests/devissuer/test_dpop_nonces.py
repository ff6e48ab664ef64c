"""Server nonces at the token endpoint (RFC 9449 §8), over real HTTP.

A dev issuer started with ``dpop_nonce`` answers a proof without a current
nonce with ``use_dpop_nonce`` and the nonce to use; every answer of its token
endpoint carries a fresh ``DPoP-Nonce``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from bearerguard.devissuer import DevIssuer, default_config

from .proofs import ClientKey, machine_token, refused, token_url

SPA_ORIGIN = "http://127.0.0.1:8080"  # the origin of the SPA's registered redirect URI


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    config = dataclasses.replace(default_config(), dpop_nonce=True)
    with DevIssuer(config) as running:
        yield running


def test_a_proof_without_a_nonce_is_told_the_nonce_then_succeeds(issuer: DevIssuer, http):
    key = ClientKey()
    first = machine_token(http, issuer, proof=key.proof(token_url(issuer)))
    assert "requires nonce" in refused(first, "use_dpop_nonce")
    nonce = first.headers["DPoP-Nonce"]
    second = machine_token(http, issuer, proof=key.proof(token_url(issuer), nonce=nonce))
    assert second.status_code == 200, second.text
    assert second.json()["token_type"] == "DPoP"
    # The success hands over the nonce for the next proof (the same one within a minute).
    following = key.proof(token_url(issuer), nonce=second.headers["DPoP-Nonce"])
    assert machine_token(http, issuer, proof=following).status_code == 200


@pytest.mark.parametrize("nonce", ["made-up", "A" * 32], ids=["made-up", "well-shaped forgery"])
def test_a_nonce_the_server_did_not_issue_is_use_dpop_nonce(issuer: DevIssuer, http, nonce):
    response = machine_token(http, issuer, proof=ClientKey().proof(token_url(issuer), nonce=nonce))
    refused(response, "use_dpop_nonce")
    assert response.headers["DPoP-Nonce"] != nonce


def test_a_nonce_of_another_run_is_not_current(issuer: DevIssuer, http):
    # Every start makes a new secret: what an earlier run issued is not current here.
    with DevIssuer(dataclasses.replace(default_config(), dpop_nonce=True)) as earlier:
        old = machine_token(http, earlier, proof=None).headers["DPoP-Nonce"]
    proof = ClientKey().proof(token_url(issuer), nonce=old)
    response = machine_token(http, issuer, proof=proof)
    refused(response, "use_dpop_nonce")
    assert response.headers["DPoP-Nonce"] != old


def test_every_token_answer_carries_a_nonce_bearer_and_refusals_included(issuer: DevIssuer, http):
    bearer = machine_token(http, issuer, proof=None)
    assert bearer.json()["token_type"] == "Bearer"  # no proof: no nonce needed
    refusal = machine_token(http, issuer, proof=None, client_secret="wrong")
    assert refusal.json()["error"] == "invalid_client"
    for answer in (bearer, refusal):
        proof = ClientKey().proof(token_url(issuer), nonce=answer.headers["DPoP-Nonce"])
        assert machine_token(http, issuer, proof=proof).json()["token_type"] == "DPoP"


def test_a_replayed_proof_with_a_good_nonce_is_still_refused(issuer: DevIssuer, http):
    nonce = machine_token(http, issuer, proof=None).headers["DPoP-Nonce"]
    proof = ClientKey().proof(token_url(issuer), nonce=nonce)
    assert machine_token(http, issuer, proof=proof).status_code == 200
    assert "used before" in refused(machine_token(http, issuer, proof=proof))


def test_a_browser_reads_the_nonce_across_origins(issuer: DevIssuer, http):
    preflight = http.options(
        token_url(issuer),
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,dpop",
        },
    )
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type, DPoP"
    # The request the browser then sends: its script reads the refusal's nonce.
    cross_origin = http.post(
        token_url(issuer),
        data={"grant_type": "refresh_token", "client_id": "spa-client", "refresh_token": "x"},
        headers={"Origin": SPA_ORIGIN, "DPoP": ClientKey().proof(token_url(issuer))},
    )
    assert cross_origin.json()["error"] == "use_dpop_nonce"
    assert cross_origin.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
    exposed = cross_origin.headers["Access-Control-Expose-Headers"].split(", ")
    assert "DPoP-Nonce" in exposed
    assert cross_origin.headers["DPoP-Nonce"]
