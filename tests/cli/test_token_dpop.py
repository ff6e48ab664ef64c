"""``bearerguard token --dpop-key FILE``: DPoP-bound tokens (RFC 9449 §5), every flow.

Against the real dev issuer, which binds tokens to the proof's key: a real
Verifier then accepts each token with a proof from ``bearerguard proof`` and the
same key file. A stub provider shows what goes on the wire (the proof, the
nonce retry, ``dpop_jkt``) and what happens when a provider ignores DPoP.
"""

from __future__ import annotations

import dataclasses
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bearerguard import HttpRequest, Verifier
from bearerguard._cli._dpop_key import load_key
from bearerguard._jose import b64url_decode

from .conftest import Run
from .stub_issuer import AUDIENCE, StubIssuer, proof_claims

devissuer = pytest.importorskip("bearerguard.devissuer")

API = "https://api.example.com"
RESOURCE = "https://api.example.com/api/private"
M2M = ("--client-id", "m2m-client", "--client-secret", "m2m-secret", "--audience", API)
SPA = ("--client-id", "spa-client", "--audience", API)


@pytest.fixture(scope="module")
def dev_issuer() -> Iterator[Any]:
    with devissuer.DevIssuer(devissuer.default_config(), port=0, auto_approve=True) as issuer:
        yield issuer


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "dpop.pem"


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return decoded


def call_api(cli: Run, issuer: Any, token: str, key_file: Path) -> Any:
    """What the API does with the token and a proof made by ``bearerguard proof``."""
    proof = cli("proof", "--dpop-key", str(key_file), "--url", RESOURCE, "--token", token)
    assert proof.status == 0, proof.err
    request = HttpRequest(
        "GET", RESOURCE, {"Authorization": f"DPoP {token}", "DPoP": proof.out.strip()}
    )
    return Verifier(issuer=issuer.url, audience=API).verify_request(request)


# --- the dev issuer: bound tokens, accepted with their proofs ---------------------------------


def test_client_credentials_creates_the_key_and_gets_a_token_bound_to_it(
    cli: Run, dev_issuer: Any, key_file: Path
):
    result = cli("token", "--issuer", dev_issuer.url, *M2M, "--dpop-key", str(key_file), "--json")
    assert result.status == 0, result.err
    assert f"created a new ES256 DPoP key in {key_file} (mode 0600)" in result.err
    assert "bearerguard proof --dpop-key" in result.err  # how to use the token next
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    answer = json.loads(result.out)
    assert answer["token_type"] == "DPoP"
    jkt = load_key(key_file).thumbprint()
    assert claims_of(answer["access_token"])["cnf"] == {"jkt": jkt}
    token = call_api(cli, dev_issuer, answer["access_token"], key_file)
    assert token.client_id == "m2m-client"
    assert token.confirmation == {"jkt": jkt}


def test_an_existing_key_file_is_used_and_left_alone(cli: Run, dev_issuer: Any, key_file: Path):
    first = cli("token", "--issuer", dev_issuer.url, *M2M, "--dpop-key", str(key_file))
    kept = key_file.read_bytes()
    second = cli("token", "--issuer", dev_issuer.url, *M2M, "--dpop-key", str(key_file))
    assert second.status == 0, second.err
    assert "created" not in second.err
    assert key_file.read_bytes() == kept
    assert claims_of(first.out)["cnf"] == claims_of(second.out)["cnf"]


def test_authorization_code_and_refresh_are_bound_to_the_same_key(
    cli: Run, dev_issuer: Any, key_file: Path
):
    result = cli(
        "token", "--issuer", dev_issuer.url, "--flow", "authorization-code", *SPA,
        "--user", "alice@example.com", "--scope", "openid offline_access read:contacts",
        "--dpop-key", str(key_file), "--json",
    )  # fmt: skip
    assert result.status == 0, result.err
    answer = json.loads(result.out)
    assert answer["token_type"] == "DPoP"
    assert call_api(cli, dev_issuer, answer["access_token"], key_file).subject == "auth0|alice"

    refreshed = cli(
        "token", "--issuer", dev_issuer.url, "--flow", "refresh-token", "--client-id",
        "spa-client", f"--refresh-token={answer['refresh_token']}", "--dpop-key", str(key_file),
        "--json",
    )  # fmt: skip
    assert refreshed.status == 0, refreshed.err
    again = json.loads(refreshed.out)
    assert call_api(cli, dev_issuer, again["access_token"], key_file).subject == "auth0|alice"

    # The public client's refresh token is bound too: another key cannot redeem it.
    stolen = cli(
        "token", "--issuer", dev_issuer.url, "--flow", "refresh-token", "--client-id",
        "spa-client", f"--refresh-token={again['refresh_token']}",
        "--dpop-key", str(key_file.with_name("thief.pem")),
    )  # fmt: skip
    assert stolen.status == 1
    assert "the issuer refused the token request (HTTP 400)" in stolen.err
    assert "invalid_dpop_proof: The DPoP proof is signed by another key" in stolen.err


def test_a_dev_issuer_that_demands_nonces_gets_one_retry_with_its_nonce(cli: Run, key_file: Path):
    config = dataclasses.replace(devissuer.default_config(), dpop_nonce=True)
    with devissuer.DevIssuer(config, port=0) as issuer:
        result = cli("token", "--issuer", issuer.url, *M2M, "--dpop-key", str(key_file))
    assert result.status == 0, result.err
    assert claims_of(result.out)["cnf"] == {"jkt": load_key(key_file).thumbprint()}


def test_then_verify_with_the_proof_as_a_user_would(cli: Run, dev_issuer: Any, key_file: Path):
    token = cli("token", "--issuer", dev_issuer.url, *M2M, "--dpop-key", str(key_file)).out.strip()
    proof = cli("proof", "--dpop-key", str(key_file), "--url", RESOURCE, "--token", token)
    checked = cli("verify", token, "--issuer", dev_issuer.url, "--audience", API,
                  "--dpop-proof", proof.out.strip(), "--url", RESOURCE)  # fmt: skip
    assert checked.status == 0, checked.out
    assert f"cnf.jkt    {load_key(key_file).thumbprint()}" in checked.out


# --- on the wire, and providers that do not bind ----------------------------------------------


def test_each_token_request_carries_a_fresh_proof_for_the_token_endpoint(cli: Run, key_file: Path):
    with StubIssuer(binds_dpop=True) as stub:
        for _ in range(2):
            assert cli("token", "--issuer", stub.url, *M2M, "--dpop-key", str(key_file)).status == 0
    proofs = [
        proof_claims(seen.dpop or "") for seen in stub.all_requests_to("POST", "/oauth/token")
    ]
    assert [(p["htm"], p["htu"]) for p in proofs] == [("POST", stub.origin + "/oauth/token")] * 2
    assert proofs[0]["jti"] != proofs[1]["jti"]
    assert "ath" not in proofs[0]  # no access token yet


def test_a_nonce_demand_is_retried_once_with_the_nonce(cli: Run, key_file: Path):
    with StubIssuer(binds_dpop=True, demand_nonce="n-1") as stub:
        result = cli("token", "--issuer", stub.url, *M2M, "--dpop-key", str(key_file))
    assert result.status == 0, result.err
    sent = [proof_claims(seen.dpop or "") for seen in stub.all_requests_to("POST", "/oauth/token")]
    assert [proof.get("nonce") for proof in sent] == [None, "n-1"]


def test_a_second_nonce_demand_is_not_retried_again(cli: Run, key_file: Path):
    with StubIssuer(binds_dpop=True, demand_nonce="n-1", offered_nonce="n-2") as stub:
        result = cli("token", "--issuer", stub.url, *M2M, "--dpop-key", str(key_file))
    assert result.status == 1
    assert "use_dpop_nonce" in result.err
    assert len(stub.requests_to("POST", "/oauth/token")) == 2


def test_a_provider_that_does_not_bind_the_token_is_an_error(cli: Run, key_file: Path):
    with StubIssuer() as stub:  # answers token_type Bearer whatever the proof
        result = cli("token", "--issuer", stub.url, *M2M, "--dpop-key", str(key_file))
    assert result.status == 1
    assert result.out == ""  # no token to use by mistake
    assert "the provider did not bind the token to the DPoP key" in result.err
    assert "its token_type is Bearer, not DPoP" in result.err


def test_the_authorization_request_names_the_key_with_dpop_jkt(cli: Run, key_file: Path):
    with StubIssuer(binds_dpop=True) as stub:
        result = cli("token", "--issuer", stub.url, "--flow", "authorization-code",
                     "--client-id", "spa-client", "--audience", AUDIENCE,
                     "--dpop-key", str(key_file))  # fmt: skip
    assert result.status == 0, result.err
    [authorize] = stub.requests_to("GET", "/authorize")
    assert authorize["dpop_jkt"] == load_key(key_file).thumbprint()  # RFC 9449 §10


def test_a_key_the_provider_does_not_take_is_refused_before_any_token_request(
    cli: Run, key_file: Path
):
    changes = {"dpop_signing_alg_values_supported": ["RS256", "PS256"]}
    with StubIssuer(metadata_changes=changes) as stub:
        result = cli("token", "--issuer", stub.url, *M2M, "--dpop-key", str(key_file))
    assert result.status == 2
    assert "takes DPoP proofs signed with RS256, PS256 only" in result.err
    assert "signs ES256" in result.err
    assert stub.requests_to("POST", "/oauth/token") == []


# --- usage errors -----------------------------------------------------------------------------


def test_the_implicit_flow_cannot_be_bound_and_no_key_is_made(cli: Run, key_file: Path):
    result = cli("token", "--issuer", "http://127.0.0.1:9/", "--flow", "implicit", *SPA,
                 "--dpop-key", str(key_file))  # fmt: skip
    assert result.status == 2
    assert "--dpop-key does not go with --flow implicit" in result.err
    assert not key_file.exists()


def test_an_unusable_key_file_is_a_usage_error(cli: Run, tmp_path: Path):
    public = tmp_path / "public.jwk"
    public.write_text('{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}')
    result = cli("token", "--issuer", "http://127.0.0.1:9/", *M2M, "--dpop-key", str(public))
    assert result.status == 2
    assert "holds a public key only" in result.err
