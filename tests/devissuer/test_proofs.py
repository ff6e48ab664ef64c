"""TokenEndpointProofs: the token endpoint's proof checks on a clock the test moves.

Real proofs, real signatures; only time is the test's, so that the window of
``iat``, the life of a nonce and the memory of a ``jti`` can be walked through.
"""

from __future__ import annotations

import pytest

from bearerguard.devissuer._errors import OAuthError
from bearerguard.devissuer._proofs import PROOF_LEEWAY, PROOF_MAX_AGE, TokenEndpointProofs

from .proofs import ClientKey

URL = "http://127.0.0.1:9000/oauth/token"
START = 1_800_000_000.0  # the start of a nonce period (a multiple of 60)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def refusal(proofs: TokenEndpointProofs, proof: str) -> OAuthError:
    with pytest.raises(OAuthError) as refused:
        proofs.key_of(proof, method="POST", url=URL)
    assert refused.value.status == 400
    return refused.value


def test_no_proof_proves_no_key():
    proofs = TokenEndpointProofs(nonces=False)
    assert proofs.key_of(None, method="POST", url=URL) is None
    assert proofs.nonce() is None
    assert not proofs.demands_nonces


def test_a_proof_proves_its_keys_thumbprint():
    key = ClientKey()
    proofs = TokenEndpointProofs(nonces=False, clock=Clock())
    assert proofs.key_of(key.proof(URL, iat=START), method="POST", url=URL) == key.jkt


def test_the_iat_window_is_the_max_age_and_the_leeway():
    clock, key = Clock(), ClientKey()
    proofs = TokenEndpointProofs(nonces=False, clock=clock)
    oldest = START - PROOF_MAX_AGE - PROOF_LEEWAY
    assert proofs.key_of(key.proof(URL, iat=oldest), method="POST", url=URL) == key.jkt
    assert "older than" in refusal(proofs, key.proof(URL, iat=oldest - 1)).description
    latest = START + PROOF_LEEWAY
    assert proofs.key_of(key.proof(URL, iat=latest), method="POST", url=URL) == key.jkt
    assert "future" in refusal(proofs, key.proof(URL, iat=latest + 1)).description


def test_a_jti_is_remembered_for_as_long_as_its_proof_could_be_accepted():
    clock, key = Clock(), ClientKey()
    proofs = TokenEndpointProofs(nonces=False, clock=clock)
    proof = key.proof(URL, iat=START, jti="once")
    assert proofs.key_of(proof, method="POST", url=URL) == key.jkt
    clock.now = START + PROOF_MAX_AGE + PROOF_LEEWAY  # the last instant it could be accepted
    assert refusal(proofs, proof).error == "invalid_dpop_proof"


def test_a_nonce_lives_its_minute_and_the_next_then_a_fresh_one_is_handed_out():
    clock, key = Clock(), ClientKey()
    proofs = TokenEndpointProofs(nonces=True, clock=clock)
    assert proofs.demands_nonces
    nonce = proofs.nonce()
    assert nonce is not None
    clock.now = START + 119  # the next minute: still current
    proof = key.proof(URL, iat=clock.now, nonce=nonce)
    assert proofs.key_of(proof, method="POST", url=URL) == key.jkt
    clock.now = START + 120  # two minutes on: stale
    stale = refusal(proofs, key.proof(URL, iat=clock.now, nonce=nonce))
    assert stale.error == "use_dpop_nonce"
    fresh = stale.headers["DPoP-Nonce"]
    assert fresh not in (nonce, None)
    assert fresh == proofs.nonce()
    again = key.proof(URL, iat=clock.now, nonce=fresh)
    assert proofs.key_of(again, method="POST", url=URL) == key.jkt


def test_a_proof_refused_for_its_nonce_does_not_use_up_its_jti():
    clock, key = Clock(), ClientKey()
    proofs = TokenEndpointProofs(nonces=True, clock=clock)
    assert refusal(proofs, key.proof(URL, iat=START, jti="j1")).error == "use_dpop_nonce"
    nonce = proofs.nonce()
    proof = key.proof(URL, iat=START, jti="j1", nonce=nonce)
    assert proofs.key_of(proof, method="POST", url=URL) == key.jkt


def test_several_fields_joined_by_the_server_are_refused_as_such():
    proof = ClientKey().proof(URL, iat=START)
    proofs = TokenEndpointProofs(nonces=False, clock=Clock())
    assert "several DPoP header fields" in refusal(proofs, f"{proof}, {proof}").description
