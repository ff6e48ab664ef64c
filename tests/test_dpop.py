"""DPoP proofs (RFC 9449 §4.3): what a proof must say of itself, and of the request and token.

Proofs are signed for real (testing's signing keys); each hostile row breaks one
thing and names the check that must refuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bearerguard import InvalidDPoPProofError
from bearerguard._dpop import (
    DPOP_ALGORITHMS,
    MAX_PROOF_SIZE,
    ProofChecker,
    TokenHashes,
    check_binding,
    jwk_thumbprint,
    read_proof,
    token_hash,
)
from bearerguard._htu import TargetMemo
from bearerguard._jose import b64url_encode
from bearerguard._signatures import signature_primitives
from bearerguard.testing._signing import SigningKey, compact_jws, json_segment

NOW = 1_800_000_000.0
METHOD, URL = "GET", "https://api.example.com/api/contacts"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
ALLOWED = signature_primitives(DPOP_ALGORITHMS)
KEYS = {alg: SigningKey(alg) for alg in ("ES256", "RS256", "PS256", "EdDSA", "ES384")}


def proof(
    key: SigningKey | None = None,
    *,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    key = key or KEYS["ES256"]
    head = {"typ": "dpop+jwt", "alg": key.algorithm, "jwk": key.bare_jwk(), **(header or {})}
    body = {
        "jti": "e1j3V_bKic8-LAEB",
        "htm": METHOD,
        "htu": URL,
        "iat": int(NOW),
        "ath": token_hash(TOKEN),
        **claims,
    }
    head = {k: v for k, v in head.items() if v is not None and k not in drop}
    body = {k: v for k, v in body.items() if v is not None and k not in drop}
    return compact_jws(head, body, key)


def accept(value: str, **binding: Any) -> None:
    settings: dict[str, Any] = {
        "method": METHOD,
        "url": URL,
        "access_token": TOKEN,
        "jkt": KEYS["ES256"].thumbprint(),
        "now": NOW,
        "leeway": 30.0,
        "max_age": 60.0,
    }
    settings.update(binding)
    check_binding(read_proof(value, ALLOWED), **settings)


# --- what passes -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_a_proof_by_each_asymmetric_algorithm_is_accepted(alg: str) -> None:
    key = KEYS[alg]
    accept(proof(key), jkt=key.thumbprint())


def test_the_proof_read_gives_its_key_thumbprint_jti_and_iat() -> None:
    read = read_proof(proof(), ALLOWED)

    assert read.jkt == KEYS["ES256"].thumbprint()
    assert (read.jti, read.iat) == ("e1j3V_bKic8-LAEB", NOW)


def test_spellings_of_the_request_url_are_the_same_target() -> None:
    accept(proof(htu="HTTPS://API.example.com:443/api/./contacts"))
    accept(proof(), url=URL + "?page=2")  # the request's query is not compared


@pytest.mark.parametrize("age", [0, 59, 60 + 29, -29])
def test_iat_within_max_age_and_leeway(age: int) -> None:
    accept(proof(iat=int(NOW) - age))


def test_without_a_token_neither_ath_nor_jkt_is_checked() -> None:
    accept(proof(drop=("ath",)), access_token=None, jkt=None)


def test_a_kid_in_the_header_names_nothing_and_is_ignored() -> None:
    accept(proof(header={"kid": "whatever"}))


def test_the_thumbprint_is_rfc_7638s() -> None:
    # RFC 7638 §3.1: the example RSA key and its thumbprint.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
        "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ"
        "Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }

    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_token_hash_is_rfc_9449s() -> None:
    # RFC 9449 §7.1: the example access token and its ath.
    assert token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == (
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )


# --- what is refused, and which check refuses it ----------------------------------------------

OTHER = SigningKey("ES256")


def _swap_signature(value: str) -> str:
    head, body, _ = value.split(".")
    return f"{head}.{body}.{proof(OTHER).split('.')[2]}"


def _unsigned(value: str) -> str:
    head, body, _ = value.split(".")
    return f"{head}.{body}."


def _with_private_member() -> str:
    key = KEYS["ES256"]
    jwk = {**key.bare_jwk(), "d": "AAAA"}
    return proof(key, header={"jwk": jwk})


def _small_rsa() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    numbers = small.public_key().public_numbers()

    def number(n: int) -> str:
        return b64url_encode(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    jwk = {"kty": "RSA", "n": number(numbers.n), "e": number(numbers.e)}
    head = {"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk}
    body = {"jti": "j", "htm": METHOD, "htu": URL, "iat": int(NOW), "ath": token_hash(TOKEN)}
    return compact_jws(head, body, KEYS["RS256"])  # the signature does not matter here


HOSTILE: dict[str, tuple[Callable[[], str], dict[str, Any], str]] = {
    # name: (the proof, binding overrides, words of the reason)
    "not a JWS": (lambda: "not-a-proof", {}, "compact JWS"),
    "a JWE": (lambda: "a.b.c.d.e", {}, "compact JWS"),
    "oversized": (lambda: proof(jti="x" * MAX_PROOF_SIZE), {}, "compact JWS"),
    "non-canonical base64url": (lambda: proof()[:-1] + "_", {}, "compact JWS"),
    "typ JWT": (lambda: proof(header={"typ": "JWT"}), {}, "typ"),
    "typ in capitals": (lambda: proof(header={"typ": "DPOP+JWT"}), {}, "typ"),
    "no typ": (lambda: proof(drop=("typ",)), {}, "typ"),
    "alg none": (lambda: proof(header={"alg": "none"}), {}, "alg"),
    "alg none, unsigned": (lambda: _unsigned(proof(header={"alg": "none"})), {}, "compact JWS"),
    "alg HS256": (lambda: proof(header={"alg": "HS256"}), {}, "alg"),
    "alg missing": (lambda: proof(drop=("alg",)), {}, "alg"),
    "alg of another key type": (lambda: proof(header={"alg": "RS256"}), {}, "does not fit"),
    "no jwk": (lambda: proof(drop=("jwk",)), {}, "no jwk"),
    "jwk not an object": (lambda: proof(header={"jwk": "key"}), {}, "no jwk"),
    "jwk with a private member": (_with_private_member, {}, "private"),
    "jwk RSA under 2048 bits": (_small_rsa, {}, "jwk cannot be used"),
    "jwk of an unknown kty": (
        lambda: proof(header={"jwk": {"kty": "oct", "k": "AAAA"}}),
        {},
        "jwk",
    ),
    "jwk of an unknown curve": (
        lambda: proof(header={"jwk": {**KEYS["ES256"].bare_jwk(), "crv": "P-192"}}),
        {},
        "jwk cannot be used",
    ),
    "a jku beside the jwk": (lambda: proof(header={"jku": "https://evil/k"}), {}, "jku"),
    "an x5c beside the jwk": (lambda: proof(header={"x5c": ["MIIB"]}), {}, "x5c"),
    "crit": (lambda: proof(header={"crit": ["exp"], "exp": 1}), {}, "crit"),
    "signed by another key": (lambda: _swap_signature(proof()), {}, "signature"),
    "jwk of another key": (
        lambda: proof(header={"jwk": OTHER.bare_jwk()}),
        {},
        "signature",
    ),
    "no jti": (lambda: proof(drop=("jti",)), {}, "jti"),
    "empty jti": (lambda: proof(jti=""), {}, "jti"),
    "jti not a string": (lambda: proof(jti=42), {}, "jti"),
    "no iat": (lambda: proof(drop=("iat",)), {}, "iat"),
    "iat a string": (lambda: proof(iat=str(int(NOW))), {}, "iat"),
    "iat a boolean": (lambda: proof(iat=True), {}, "iat"),
    "no htm": (lambda: proof(drop=("htm",)), {}, "htm"),
    "no htu": (lambda: proof(drop=("htu",)), {}, "htu"),
    "htm of another method": (lambda: proof(htm="POST"), {}, "htm"),
    "htm in lower case": (lambda: proof(htm="get"), {}, "htm"),
    "htu of another path": (lambda: proof(htu=URL + "/1"), {}, "htu"),
    "htu of another host": (lambda: proof(htu="https://evil.example/api/contacts"), {}, "htu"),
    "htu over http": (lambda: proof(htu=URL.replace("https", "http")), {}, "htu"),
    "htu with user information": (
        lambda: proof(htu="https://api.example.com@evil/api/contacts"),
        {},
        "htu",
    ),
    "iat too old": (lambda: proof(iat=int(NOW) - 91), {}, "older than"),
    "iat in the future": (lambda: proof(iat=int(NOW) + 31), {}, "future"),
    "no ath": (lambda: proof(drop=("ath",)), {}, "ath"),
    "ath of another token": (lambda: proof(ath=token_hash(TOKEN + "x")), {}, "ath"),
    "ath not a string": (lambda: proof(ath=1), {}, "ath"),
    "key not the token's cnf.jkt": (
        lambda: proof(OTHER),
        {},
        "cnf.jkt",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_proof_is_refused_by_the_check_it_breaks(name: str) -> None:
    make, binding, words = HOSTILE[name]

    with pytest.raises(InvalidDPoPProofError) as refused:
        accept(make(), **binding)

    assert words in refused.value.reason
    assert refused.value.status_code == 401
    assert refused.value.to_json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("value", [None, 42, b"a.b.c", ["a.b.c"]])
def test_a_header_value_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(InvalidDPoPProofError, match="compact JWS"):
        read_proof(value, ALLOWED)


def test_only_the_allowed_algorithms_verify() -> None:
    only_es256 = signature_primitives({"ES256"})

    read_proof(proof(KEYS["ES256"]), only_es256)
    with pytest.raises(InvalidDPoPProofError, match="alg 'EdDSA' is not one of ES256"):
        read_proof(proof(KEYS["EdDSA"]), only_es256)


def test_no_part_of_the_proof_reaches_the_response() -> None:
    hostile = proof(htm='"><img src=x>', htu="https://evil.example/x")

    with pytest.raises(InvalidDPoPProofError) as refused:
        accept(hostile)

    answer = refused.value.json_body().decode() + str(refused.value.www_authenticate)
    assert "img" not in answer
    assert "evil" not in answer


def test_the_segments_are_parsed_as_strictly_as_tokens() -> None:
    # A duplicate member in the header: strict JSON refuses it (the token parser's rules).
    head = '{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256"}'
    body = json_segment({"jti": "j", "htm": METHOD, "htu": URL, "iat": int(NOW)})
    forged = b64url_encode(head.encode()) + "." + body + ".c2ln"

    with pytest.raises(InvalidDPoPProofError, match="compact JWS"):
        read_proof(forged, ALLOWED)


# --- the memo of proof headers -------------------------------------------------------------------


def test_a_known_header_saves_its_parse_never_the_signature() -> None:
    known: dict = {}
    first = proof()
    read_proof(first, ALLOWED, known)
    assert list(known) == [first.split(".")[0]]

    head, _, signature = first.split(".")
    forged_claims = json_segment({"jti": "other", "htm": METHOD, "htu": URL, "iat": int(NOW)})
    with pytest.raises(InvalidDPoPProofError, match="signature"):
        read_proof(f"{head}.{forged_claims}.{signature}", ALLOWED, known)
    assert read_proof(proof(jti="second"), ALLOWED, known).jti == "second"


def test_the_header_of_a_refused_proof_is_not_remembered() -> None:
    known: dict = {}

    with pytest.raises(InvalidDPoPProofError):
        read_proof(_swap_signature(proof()), ALLOWED, known)

    assert known == {}


def test_the_memo_is_bounded() -> None:
    known: dict = {}
    for _ in range(300):
        read_proof(proof(SigningKey("ES256")), ALLOWED, known)

    assert 0 < len(known) <= 256


# --- the memos of URLs and token hashes ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_memos_refuse_every_hostile_proof_as_without_them(name: str) -> None:
    make, binding, words = HOSTILE[name]
    targets, hashes = TargetMemo(), TokenHashes()
    hashes.keep(TOKEN, token_hash(TOKEN))  # the token is known: its hash comes from the memo
    targets.same_target(URL, URL)

    with pytest.raises(InvalidDPoPProofError) as refused:
        accept(make(), targets=targets, hashes=hashes, **binding)

    assert words in refused.value.reason


def test_the_memos_accept_what_passes_without_them() -> None:
    targets, hashes = TargetMemo(), TokenHashes()
    for _ in range(2):
        accept(proof(), targets=targets, hashes=hashes)
        accept(proof(htu="HTTPS://API.example.com:443/api/./contacts"), targets=targets)
        hashes.keep(TOKEN, token_hash(TOKEN))


def test_token_hashes_are_computed_until_kept_and_bounded() -> None:
    hashes = TokenHashes(max_entries=3)

    assert hashes.of(TOKEN) == token_hash(TOKEN)
    assert len(hashes) == 0  # computing keeps nothing: only a token that passed is kept
    for number in range(10):
        token = f"{TOKEN}{number}"
        hashes.keep(token, token_hash(token))
        assert hashes.of(token) == token_hash(token)
    assert 0 < len(hashes) <= 3


def test_token_hashes_know_the_tokens_they_keep() -> None:
    hashes = TokenHashes()
    hashes.of(TOKEN)

    assert TOKEN not in hashes  # hashed, not kept: it has not passed
    hashes.keep(TOKEN, token_hash(TOKEN))
    assert TOKEN in hashes
    assert TOKEN + "x" not in hashes


# --- the checker a verifier holds ----------------------------------------------------------------


def _checker() -> ProofChecker:
    return ProofChecker(ALLOWED, leeway=30.0, max_age=60.0)


def test_the_checker_reads_a_proof_as_read_proof_does() -> None:
    checker = _checker()
    for _ in range(2):  # the second time from its memos
        checked = checker.check(proof(), METHOD, URL, TOKEN, NOW)
        assert checked == read_proof(proof(), ALLOWED)
    assert len(checker.headers) == 1
    assert len(checker.targets) == 1


# The proof's key against the token's cnf.jkt is the verifier's step after the token (its
# binding, tests/test_verify_request.py): the checker runs before the token is verified.
_BEFORE_THE_TOKEN = sorted(name for name in HOSTILE if name != "key not the token's cnf.jkt")


@pytest.mark.parametrize("name", _BEFORE_THE_TOKEN)
def test_the_checker_refuses_every_hostile_proof_as_check_binding_does(name: str) -> None:
    make, _, words = HOSTILE[name]
    checker = _checker()
    checker.hashes.keep(TOKEN, token_hash(TOKEN))
    checker.check(proof(), METHOD, URL, TOKEN, NOW)  # the memos hold the good proof's parts

    with pytest.raises(InvalidDPoPProofError) as refused:
        checker.check(make(), METHOD, URL, TOKEN, NOW)

    assert words in refused.value.reason
