"""``bearerguard proof``: the DPoP header of one request, accepted by a real Verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bearerguard import HttpRequest, Verifier
from bearerguard._cli._dpop_key import load_or_create_key
from bearerguard._dpop import token_hash
from bearerguard._errors import InvalidDPoPProofError
from bearerguard._jose import b64url_decode
from bearerguard.testing import FakeIssuer

from .conftest import AUDIENCE, ISSUER, Run

URL = "https://api.example.test/api/contacts"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "dpop.pem"
    load_or_create_key(path)
    return path


def bound_token(issuer: FakeIssuer, key_file: Path) -> str:
    """A token bound to the key in ``key_file``, as a DPoP provider issues it."""
    key, _ = load_or_create_key(key_file)
    return issuer.token(scopes="read:contacts", cnf={"jkt": key.thumbprint()})


def claims_of(proof: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(b64url_decode(proof.split(".")[1]))
    return decoded


def request(token: str, proof: str, method: str = "GET", url: str = URL) -> HttpRequest:
    return HttpRequest(method, url, {"Authorization": f"DPoP {token}", "DPoP": proof})


def test_the_proof_printed_is_what_the_api_accepts_with_the_bound_token(
    cli: Run, issuer: FakeIssuer, key_file: Path
):
    token = bound_token(issuer, key_file)
    result = cli("proof", "--dpop-key", str(key_file), "--url", URL + "?page=2", "--token", token)
    assert result.status == 0, result.err
    assert result.out.count("\n") == 1  # one line: the header's value, for $(...)
    proof = result.out.strip()
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE)
    accepted = verifier.verify_request(request(token, proof, url=URL + "?page=3"))
    assert accepted.confirmation == {"jkt": load_or_create_key(key_file)[0].thumbprint()}
    claims = claims_of(proof)
    assert claims["htm"] == "GET"  # the default method, as curl's
    assert claims["htu"] == URL  # without the query (RFC 9449 §4.2)
    assert claims["ath"] == token_hash(token)


def test_a_proof_is_for_one_request_only(cli: Run, issuer: FakeIssuer, key_file: Path):
    token = bound_token(issuer, key_file)
    proof = cli("proof", "--dpop-key", str(key_file), "--url", URL, "--token", token).out.strip()
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE)
    verifier.verify_request(request(token, proof))
    with pytest.raises(InvalidDPoPProofError, match="used before"):
        verifier.verify_request(request(token, proof))  # replayed
    with pytest.raises(InvalidDPoPProofError, match="htm"):
        Verifier(issuer=ISSUER, audience=AUDIENCE).verify_request(request(token, proof, "DELETE"))


def test_method_and_nonce_go_into_the_proof(cli: Run, key_file: Path):
    token_endpoint = "https://tenant.example.test/oauth/token"
    result = cli("proof", "--dpop-key", str(key_file), "--method", "POST",
                 "--url", token_endpoint, "--nonce", "eyJ7S_0.n-1")  # fmt: skip
    assert result.status == 0, result.err
    claims = claims_of(result.out.strip())
    assert (claims["htm"], claims["nonce"]) == ("POST", "eyJ7S_0.n-1")
    assert "ath" not in claims  # no token: a proof for a token endpoint


def test_a_pasted_authorization_value_gives_its_token(cli: Run, key_file: Path):
    result = cli("proof", "--dpop-key", str(key_file), "--url", URL, "--token", "DPoP abc.def.ghi")
    assert claims_of(result.out.strip())["ath"] == token_hash("abc.def.ghi")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--method", "get"), "methods are case-sensitive"),
        (("--method", "GET /"), "is not an HTTP method"),
        (("--url", "/api/contacts"), "must be the absolute URL the request goes to"),
        (("--url", "ftp://api.example.test/x"), "must be the absolute URL the request goes to"),
        (("--url", "http://api.example.test:http/"), "is not a URL"),
        (("--token", "not a token"), "--token is not an access token"),
        (("--nonce", 'with "quotes"'), "is not a DPoP nonce"),
    ],
)
def test_a_request_no_proof_can_describe_is_a_usage_error(
    cli: Run, key_file: Path, arguments: tuple[str, ...], message: str
):
    base = {"--url": URL}
    base.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))
    argv = [part for pair in base.items() for part in pair]
    result = cli("proof", "--dpop-key", str(key_file), *argv)
    assert result.status == 2
    assert message in result.err
    assert result.out == ""


def test_a_missing_key_file_is_not_created_by_proof(cli: Run, tmp_path: Path):
    missing = tmp_path / "dpop.pem"
    result = cli("proof", "--dpop-key", str(missing), "--url", URL)
    assert result.status == 2
    assert f"no DPoP key file {missing}" in result.err
    assert "bearerguard token" in result.err  # which command creates one
    assert not missing.exists()  # a new key would match no bound token


def test_a_public_key_file_is_refused(cli: Run, tmp_path: Path, key_file: Path):
    public = tmp_path / "public.pem"
    public.write_text(
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhmoD0m0bWDbbKQKWZ9KbMsLrp4b5\n"
        "eYJhJ8Ebv0VVrbnRYbP+1OY0YThKlXu4nfhV5RIjfW+CTcp7kS5a9F2vPw==\n"
        "-----END PUBLIC KEY-----\n"
    )
    result = cli("proof", "--dpop-key", str(public), "--url", URL)
    assert result.status == 2
    assert "holds a public key only" in result.err
