"""``bearerguard decode``: header and claims shown, never verified, never a traceback."""

from __future__ import annotations

import base64
import io
import json
import sys
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bearerguard._cli.decode import inspect_token, render
from bearerguard.testing import FakeIssuer

from .conftest import Run

JWE = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y2lwaGVy.dGFn"


def segment(value: Any) -> str:
    data = value.encode() if isinstance(value, str) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(header: Any, claims: Any, signature: bytes = b"\x01" * 32) -> str:
    """A token with any header and claims (JSON values, or raw JSON text) and a fake signature."""
    sig = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return f"{segment(header)}.{segment(claims)}.{sig}"


def problems_of(token: str) -> tuple[str, ...]:
    return inspect_token(token, time.time()).problems


# --- what is shown ----------------------------------------------------------------------------


def test_the_header_and_claims_are_shown_under_a_not_verified_banner(cli: Run, issuer: FakeIssuer):
    result = cli("decode", issuer.token(scopes="read:contacts", sub="auth0|alice"))
    assert result.status == 0
    assert result.out.startswith("NOT VERIFIED: anyone can write these claims.")
    assert "HEADER (decoded, NOT verified)" in result.out
    assert "CLAIMS (decoded, NOT verified)" in result.out
    assert '"sub": "auth0|alice"' in result.out
    assert '"scope": "read:contacts"' in result.out
    assert "256 bytes, not checked" in result.out
    assert "A well-formed signed JWT." in result.out


def test_timestamps_are_shown_in_utc_and_relative_to_now(cli: Run):
    now = int(time.time())
    token = craft(
        {"alg": "RS256"},
        {"iss": "https://i.example/", "aud": "a", "iat": now - 3 * 3600 - 5, "exp": now + 3600 * 2},
    )
    out = cli("decode", token).out
    iat = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3 * 3600 - 5))
    assert f"iat       {iat}  (3 h ago)" in out
    assert "(in 1 h)" in out or "(in 2 h)" in out


def test_json_output_is_machine_readable(cli: Run, issuer: FakeIssuer):
    result = cli("decode", issuer.token(sub="auth0|alice"), "--json")
    answer = json.loads(result.out)
    assert result.status == 0
    assert answer["verified"] is False
    assert answer["kind"] == "jws"
    assert answer["header"]["alg"] == "RS256"
    assert answer["claims"]["sub"] == "auth0|alice"
    assert set(answer["times"]) == {"iat", "exp"}
    assert answer["times"]["exp"]["relative"].startswith("in ")
    assert answer["signature_bytes"] == 256
    assert answer["problems"] == []


def test_pasted_headers_quotes_and_stdin_are_accepted(
    cli: Run, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch
):
    token = issuer.token()
    assert cli("decode", f"Authorization: Bearer {token}").status == 0
    assert cli("decode", f"'{token}'").status == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    assert cli("decode", "-").status == 0


def test_an_empty_input_is_a_usage_error(cli: Run):
    result = cli("decode", "")
    assert result.status == 2
    assert result.err == "bearerguard decode: error: no token given.\n"


# --- what the verifier refuses ----------------------------------------------------------------


def test_an_expired_token_is_shown_with_the_reason_it_is_refused(cli: Run, issuer: FakeIssuer):
    result = cli("decode", issuer.expired_token())
    assert result.status == 0
    assert "EVERY VERIFIER REFUSES THIS TOKEN" in result.out
    assert "- The exp claim has passed (1 h ago)." in result.out


def test_alg_none_is_shown_and_refused(cli: Run, issuer: FakeIssuer):
    result = cli("decode", issuer.unsigned_token(sub="auth0|mallory"))
    assert result.status == 0
    assert '"alg": "none"' in result.out
    assert '"sub": "auth0|mallory"' in result.out
    assert "- alg is 'none': the token is unsigned and proves nothing." in result.out
    assert "0 bytes, not checked" in result.out


@pytest.mark.parametrize(
    ("header", "claims", "problem"),
    [
        ({"alg": "RS256"}, {"iss": "i", "aud": "a"}, "The token has no exp claim."),
        ({"alg": "RS256"}, {"iss": "i", "aud": "a", "exp": "9999999999"}, "is not a NumericDate"),
        ({"alg": "RS256"}, {"iss": "i", "aud": "a", "exp": True}, "is not a NumericDate"),
        ({"alg": "RS256"}, {"aud": "a", "exp": 9999999999}, "The token has no iss claim"),
        ({"alg": "RS256"}, {"iss": "i", "exp": 9999999999}, "The aud claim is missing"),
        ({"alg": "RS256"}, {"iss": "i", "aud": "a", "exp": 9999999999, "sub": 7}, "sub claim"),
        ({"alg": "RS256"}, {"iss": "i", "aud": "a", "exp": 9999999999, "scope": ["x"]}, "scope"),
        ({"alg": "RS256"}, {"iss": "i", "aud": "a", "exp": 9999999999, "nbf": 9999999990}, "nbf"),
        ({"alg": "RS256", "crit": ["exp"]}, {}, "lists critical extensions"),
        ({"alg": "RS256", "cty": "JWT"}, {}, "nested JWT"),
        ({"alg": "RS256", "typ": "id+jwt"}, {}, "marks another kind of JWT"),
        ({"alg": "RS256", "kid": ""}, {}, "kid is not a short non-empty string"),
        ({"alg": "XS999"}, {}, "alg 'XS999' is not a JWS algorithm bearerguard supports."),
        ({}, {}, "The header has no alg"),
    ],
)
def test_structural_problems_are_listed(header: Any, claims: Any, problem: str):
    found = problems_of(craft(header, claims))
    assert any(problem in text for text in found), found


def test_a_well_formed_token_has_no_problems(issuer: FakeIssuer):
    assert problems_of(issuer.token()) == ()


def test_settings_dependent_facts_are_notes_not_problems(cli: Run):
    exp = int(time.time()) + 600
    claims = {"iss": "i", "aud": "a", "exp": exp, "nonce": "n"}
    token = craft({"alg": "HS256", "jku": "https://evil.example/keys"}, claims)
    result = cli("decode", token)
    assert "EVERY VERIFIER REFUSES" not in result.out
    assert "NOTES" in result.out
    assert "alg HS256 uses a shared secret" in result.out
    assert "The header carries jku: it is ignored" in result.out
    assert "looks like an ID token" in result.out


def test_an_ml_dsa_token_notes_that_its_level_must_be_named(cli: Run):
    with FakeIssuer("https://tenant.auth0.com/", algorithm="ML-DSA-65") as issuer:
        result = cli("decode", issuer.token())

    assert "EVERY VERIFIER REFUSES" not in result.out
    assert "alg ML-DSA-65 is post-quantum" in result.out
    assert "named in its algorithms" in result.out


def test_a_padded_token_is_decoded_leniently_but_listed_as_refused(cli: Run, issuer: FakeIssuer):
    header, claims, signature = issuer.token().split(".")
    padded = f"{header}{'=' * (-len(header) % 4)}.{claims}.{signature}"
    result = cli("decode", padded)
    assert '"alg": "RS256"' in result.out
    assert "- The token is not three non-empty base64url segments" in result.out


# --- what cannot be decoded -------------------------------------------------------------------


def test_an_encrypted_token_is_explained(cli: Run):
    result = cli("decode", JWE)
    assert result.status == 1
    assert "ENCRYPTED TOKEN (JWE)" in result.out
    assert "five segments" in result.out
    assert "audience" in result.out
    assert '"enc": "A256GCM"' in result.out
    assert json.loads(cli("decode", JWE, "--json").out)["kind"] == "jwe"


def test_an_opaque_token_is_explained(cli: Run):
    result = cli("decode", "8NHg3j1Q5mR2sW9xZ0yV4bC7dE6fA1kL")
    assert result.status == 1
    assert "CANNOT BE DECODED" in result.out
    assert "opaque access token, not a JWT" in result.out


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("a.b", "It has 2 segments, not 3."),
        ("!!!.???.###", "The header is not base64url."),
        (craft('{"alg":"RS256","alg":"none"}', "{}"), "The header is not strict JSON."),
        (craft("[1]", "[2]"), "The header is not a JSON object."),
        (craft('{"a":' * 100 + "1" + "}" * 100, "{}"), "The header nests arrays or objects"),
        ("x" * (2 << 20), "characters long: no token."),
    ],
)
def test_garbage_exits_1_with_the_reason(cli: Run, token: str, reason: str):
    result = cli("decode", token)
    assert result.status == 1
    assert "CANNOT BE DECODED" in result.out
    assert reason in result.out
    assert "Traceback" not in result.text


def test_claims_that_are_not_strict_json_are_never_rendered(cli: Run):
    nested = '{"a":' * 200 + "1" + "}" * 200
    result = cli("decode", craft({"alg": "RS256"}, nested))
    assert result.status == 1
    assert '"alg": "RS256"' in result.out
    assert "The claims nests arrays or objects too deeply." in result.out


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_inspected_and_rendered_without_an_exception(text: str):
    inspection = inspect_token(text, time.time())
    rendered = "\n".join(render(inspection, time.time()))
    assert "\x1b" not in rendered
    json.dumps(inspection.to_json(time.time()), allow_nan=False)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "cty", "jku"]), json_values),
    st.dictionaries(
        st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub", "scope"]), json_values
    ),
)
def test_any_json_header_and_claims_are_inspected_without_an_exception(header, claims):
    inspection = inspect_token(craft(header, claims), time.time())
    assert inspection.kind in ("jws", "unreadable")  # unreadable: e.g. NUL in a string
    assert "\n".join(render(inspection, time.time()))
