"""``bearerguard verify TOKEN --dpop-proof PROOF --method M --url URL``: a DPoP request judged
whole, as ``Verifier.verify_request`` judges it; the binding shown, or why the proof was refused."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bearerguard.testing import DPoPKey, FakeIssuer

from .conftest import AUDIENCE, ISSUER, Run

URL = "https://api.example.test/api/contacts"
SETTINGS = ("--issuer", ISSUER, "--audience", AUDIENCE)
NONCE_SECRET = "a-shared-secret-of-32-bytes-or-more-0123456789"


def bound(
    issuer: FakeIssuer, method: str = "GET", url: str = URL, **proof: Any
) -> tuple[DPoPKey, str, str]:
    """A token bound to a fresh client key, and a proof by that key for (method, url)."""
    key = issuer.dpop_key()
    token = issuer.token(scopes="read:contacts", dpop_key=key)
    return key, token, issuer.dpop_proof(method, url, token=token, key=key, **proof)


def test_a_sound_request_is_valid_and_its_binding_is_shown(cli: Run, issuer: FakeIssuer):
    key, token, proof = bound(issuer)
    result = cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL,
                 "--scope", "read:contacts")  # fmt: skip
    assert result.status == 0, result.out
    assert "\nVALID\n" in result.out
    binding = result.out.split("DPOP BINDING\n", 1)[1]
    assert f"cnf.jkt    {key.jkt}  = the thumbprint of the proof's key" in binding
    assert "key        EC P-256, alg ES256" in binding
    assert "htm        GET  = the request's method" in binding
    assert f"htu        {URL}  = {URL}" in binding
    assert "accepted up to 60 s old, plus 30 s leeway" in binding
    assert "= SHA-256 of the token" in binding
    assert "nonce      not required" in binding
    assert "DPOP PROOF CLAIMS (decoded, not verified yet)" in result.out


def test_a_pasted_dpop_authorization_header_is_judged_with_its_proof(cli: Run, issuer: FakeIssuer):
    _, token, proof = bound(issuer, "POST")
    result = cli("verify", f"Authorization: DPoP {token}", *SETTINGS,
                 "--dpop-proof", f"DPoP: {proof}", "--method", "POST", "--url", URL)  # fmt: skip
    assert result.status == 0, result.out
    assert "htm        POST" in result.out


def test_a_proof_for_another_url_is_refused_with_the_apis_answer(cli: Run, issuer: FakeIssuer):
    _, token, proof = bound(issuer, url="https://api.example.test/api/other")
    result = cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL)
    assert result.status == 1
    refused = result.out.split("REFUSED\n", 1)[1]
    assert "reason     The DPoP proof's htu 'https://api.example.test/api/other' is not" in refused
    assert "HTTP 401 Unauthorized" in refused
    assert 'DPoP realm="api", error="invalid_dpop_proof"' in refused
    assert f"Make a fresh proof for this very request: bearerguard proof --dpop-key FILE " \
           f"--method GET --url {URL} --token TOKEN" in refused  # fmt: skip
    assert "DPOP BINDING" not in result.out


def test_a_proof_by_another_key_names_both_keys(cli: Run, issuer: FakeIssuer):
    key, token, _ = bound(issuer)
    other = issuer.dpop_key()
    proof = issuer.dpop_proof("GET", URL, token=token, key=other)
    result = cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL)
    assert result.status == 1
    assert "not the key the token is bound to (cnf.jkt)" in result.out
    assert f"The proof's key has thumbprint {other.jkt}; the token is bound to {key.jkt}" in (
        result.out
    )


def test_a_stale_proof_is_refused(cli: Run, issuer: FakeIssuer):
    _, token, proof = bound(issuer, broken="iat")
    result = cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL)
    assert result.status == 1
    assert 'error="invalid_dpop_proof"' in result.out


def test_an_undecodable_proof_is_shown_and_refused(cli: Run, issuer: FakeIssuer):
    _, token, _ = bound(issuer)
    result = cli("verify", token, *SETTINGS, "--dpop-proof", "not-a-proof", "--url", URL)
    assert result.status == 1
    assert "DPOP PROOF (cannot be decoded)" in result.out
    assert "The DPoP proof is not a well-formed compact JWS" in result.out


def test_a_bound_token_without_its_proof_says_how_to_give_it(cli: Run, issuer: FakeIssuer):
    key, token, _ = bound(issuer)
    result = cli("verify", token, *SETTINGS)
    assert result.status == 1
    assert "sender-constrained" in result.out
    assert f"The token is bound to a DPoP key (cnf.jkt {key.jkt})" in result.out
    assert "--dpop-proof PROOF --method METHOD --url URL" in result.out


def test_an_unbound_token_with_a_proof_is_refused_as_the_api_refuses_it(
    cli: Run, issuer: FakeIssuer
):
    key = issuer.dpop_key()
    token = issuer.token()
    proof = issuer.dpop_proof("GET", URL, token=token, key=key)
    result = cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL)
    assert result.status == 1
    assert "carries no cnf.jkt" in result.out
    assert "The token is not DPoP-bound (no cnf.jkt): an API takes it as a Bearer token" in (
        result.out
    )


def test_an_api_with_server_nonces_hands_one_out_and_accepts_it_next(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARERGUARD_DPOP_NONCE_SECRET", NONCE_SECRET)
    key, token, proof = bound(issuer)
    first = cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL)
    assert first.status == 1
    assert 'error="use_dpop_nonce"' in first.out
    nonce = re.search(r"DPoP-Nonce: (\S+)", first.out).group(1)  # type: ignore[union-attr]
    assert f"--token TOKEN --nonce={nonce}" in first.out

    again = issuer.dpop_proof("GET", URL, token=token, key=key, nonce=nonce)
    second = cli("verify", token, *SETTINGS, "--dpop-proof", again, "--url", URL)
    assert second.status == 0, second.out
    assert f"nonce      {nonce} (current)" in second.out


def test_json_carries_the_request_the_proof_and_the_binding(cli: Run, issuer: FakeIssuer):
    key, token, proof = bound(issuer)
    answer = json.loads(
        cli("verify", token, *SETTINGS, "--dpop-proof", proof, "--url", URL, "--json").out
    )
    assert answer["valid"] is True
    dpop = answer["dpop"]
    assert (dpop["method"], dpop["url"], dpop["bound"]) == ("GET", URL, True)
    assert dpop["cnf"] == {"jkt": key.jkt}
    assert dpop["proof_jkt"] == key.jkt
    assert dpop["proof_claims"]["htu"] == URL
    assert dpop["proof_header"]["typ"] == "dpop+jwt"
    plain = json.loads(cli("verify", issuer.token(), *SETTINGS, "--json").out)
    assert plain["dpop"] is None  # no request: a token judged alone


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--dpop-proof", "eyJ.eyJ.sig"), "--dpop-proof needs --url URL"),
        (("--url", URL), "--url goes with --dpop-proof PROOF"),
        (("--dpop-proof", " ", "--url", URL), "--dpop-proof is empty"),
        (("--dpop-proof", "eyJ.eyJ.sig", "--url", "/api/contacts"), "must be the absolute URL"),
        (("--dpop-proof", "eyJ.eyJ.sig", "--url", URL, "--method", "post"), "did you mean POST"),
    ],
)
def test_an_incomplete_request_is_a_usage_error(
    cli: Run, issuer: FakeIssuer, arguments: tuple[str, ...], message: str
):
    result = cli("verify", issuer.token(), *SETTINGS, *arguments)
    assert result.status == 2
    assert message in result.err
