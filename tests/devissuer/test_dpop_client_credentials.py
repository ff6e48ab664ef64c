"""DPoP at the token endpoint (RFC 9449 §5): a proof gets a bound token, a bad proof a 400.

Client credentials over real HTTP; the checks themselves are the library's own
(``bearerguard._dpop``), so each refusal below is one check seen from a client.
"""

from __future__ import annotations

import time

import pytest

from bearerguard import HttpRequest, SenderConstrainedTokenError, Verifier
from bearerguard._mint import SigningKey, dpop_proof
from bearerguard.devissuer import DevIssuer
from bearerguard.devissuer._proofs import PROOF_ALGORITHMS

from .flows import API, M2M
from .proofs import ClientKey, claims_of, machine_token, refused, token_url

API_URL = "https://api.example.com/api/contacts"


def verifier(issuer: DevIssuer) -> Verifier:
    return Verifier(issuer=issuer.url, audience=API)


def test_a_proof_gets_a_token_bound_to_its_key(issuer: DevIssuer, http):
    key = ClientKey()
    response = machine_token(http, issuer, proof=key.proof(token_url(issuer)))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert "DPoP-Nonce" not in response.headers  # nonces are off unless configured
    answer = response.json()
    assert answer["token_type"] == "DPoP"
    assert answer["scope"] == "read:messages read:contacts"
    claims = claims_of(answer["access_token"])
    assert claims["cnf"] == {"jkt": key.jkt}
    assert claims["sub"] == f"{M2M}@clients"


def test_without_a_proof_the_token_is_a_bearer_token_as_before(issuer: DevIssuer, http):
    answer = machine_token(http, issuer, proof=None).json()
    assert answer["token_type"] == "Bearer"
    token = verifier(issuer).verify(answer["access_token"])
    assert token.confirmation is None


def test_a_bound_token_passes_an_api_with_a_proof_and_fails_as_bearer(issuer: DevIssuer, http):
    key = ClientKey()
    access = machine_token(http, issuer, proof=key.proof(token_url(issuer))).json()["access_token"]
    api = verifier(issuer)
    proof = key.proof(API_URL, method="GET", access_token=access)
    token = api.verify_request(
        HttpRequest("GET", API_URL, {"Authorization": f"DPoP {access}", "DPoP": proof})
    )
    assert token.confirmation == {"jkt": key.jkt}
    assert token.scopes == {"read:messages", "read:contacts"}
    # Stolen and sent as a bearer token, the same token is refused: 401 invalid_token.
    with pytest.raises(SenderConstrainedTokenError) as stolen:
        api.verify_request(HttpRequest("GET", API_URL, {"Authorization": f"Bearer {access}"}))
    assert (stolen.value.status_code, stolen.value.error) == (401, "invalid_token")


def test_the_custom_domain_takes_proofs_of_its_own_url(issuer: DevIssuer, http):
    key = ClientKey()
    base = issuer.custom_domain_url
    answer = machine_token(http, issuer, proof=key.proof(token_url(issuer, base)), base=base)
    assert answer.json()["token_type"] == "DPoP", answer.text
    # A proof of the canonical issuer's URL names another URL than the one the client used.
    other = machine_token(http, issuer, proof=key.proof(token_url(issuer)), base=base)
    assert "htu" in refused(other)


def test_htu_is_compared_after_rfc_3986_normalisation(issuer: DevIssuer, http):
    key = ClientKey()
    spelled = token_url(issuer).replace("http://", "HTTP://").replace("/oauth/", "/./oauth/")
    response = machine_token(http, issuer, proof=key.proof(spelled + "?ignored=1"))
    assert response.json()["token_type"] == "DPoP", response.text


@pytest.mark.parametrize("algorithm", PROOF_ALGORITHMS)
def test_every_advertised_algorithm_is_accepted(issuer: DevIssuer, http, algorithm):
    key = ClientKey(algorithm)
    response = machine_token(http, issuer, proof=key.proof(token_url(issuer)))
    assert response.json()["token_type"] == "DPoP", response.text


def test_discovery_lists_the_proof_algorithms(issuer: DevIssuer, http):
    for document in ("openid-configuration", "oauth-authorization-server"):
        found = http.get(f"{issuer.url}.well-known/{document}").json()
        assert found["dpop_signing_alg_values_supported"] == list(PROOF_ALGORITHMS)
    assert "ES256" in PROOF_ALGORITHMS
    assert not {"none", "HS256", "ES256K"} & set(PROOF_ALGORITHMS)


# --- refusals: 400 invalid_dpop_proof, each for one reason ----------------------------------


def test_a_signature_by_another_key_is_refused(issuer: DevIssuer, http):
    response = machine_token(http, issuer, proof=ClientKey().forged_proof(token_url(issuer)))
    assert "signature" in refused(response)


def test_an_algorithm_outside_the_list_is_refused(issuer: DevIssuer, http):
    key = SigningKey("ES256K")  # a signing algorithm of the library, but not for proofs
    proof = dpop_proof(key, method="POST", url=token_url(issuer), iat=time.time(), jti="j-256k")
    assert "alg" in refused(machine_token(http, issuer, proof=proof))


def test_a_proof_of_another_method_is_refused(issuer: DevIssuer, http):
    proof = ClientKey().proof(token_url(issuer), method="GET")
    assert "htm" in refused(machine_token(http, issuer, proof=proof))


def test_a_proof_of_another_url_is_refused(issuer: DevIssuer, http):
    proof = ClientKey().proof(issuer.url + "userinfo")
    description = refused(machine_token(http, issuer, proof=proof))
    assert f"not the URL this request was sent to, {token_url(issuer)}" in description


@pytest.mark.parametrize(
    ("shift", "said"), [(-120, "older than 60 s"), (+60, "in the future")], ids=["stale", "future"]
)
def test_an_iat_outside_the_window_is_refused(issuer: DevIssuer, http, shift, said):
    proof = ClientKey().proof(token_url(issuer), iat=time.time() + shift)
    assert said in refused(machine_token(http, issuer, proof=proof))


def test_a_replayed_proof_is_refused(issuer: DevIssuer, http):
    proof = ClientKey().proof(token_url(issuer))
    assert machine_token(http, issuer, proof=proof).status_code == 200
    assert "used before" in refused(machine_token(http, issuer, proof=proof))


def test_the_same_jti_from_another_key_is_not_a_replay(issuer: DevIssuer, http):
    url = token_url(issuer)
    assert machine_token(http, issuer, proof=ClientKey().proof(url, jti="shared")).is_success
    assert machine_token(http, issuer, proof=ClientKey().proof(url, jti="shared")).is_success


def test_several_dpop_fields_are_refused(issuer: DevIssuer, http):
    key = ClientKey()
    proofs = [key.proof(token_url(issuer)), key.proof(token_url(issuer))]
    assert "several DPoP header fields" in refused(machine_token(http, issuer, proof=proofs))


@pytest.mark.parametrize("value", ["", "not-a-jws", "a.b.c", "a.b.c.d.e"])
def test_a_malformed_proof_is_refused(issuer: DevIssuer, http, value):
    refused(machine_token(http, issuer, proof=value))


def test_a_refused_proof_gets_no_token_and_no_grant_is_used(issuer: DevIssuer, http):
    # The proof is checked before the grant: the same request with a good proof then works.
    bad = machine_token(http, issuer, proof=ClientKey().proof(token_url(issuer), method="PUT"))
    assert "access_token" not in bad.json()
    assert machine_token(http, issuer, proof=ClientKey().proof(token_url(issuer))).is_success
