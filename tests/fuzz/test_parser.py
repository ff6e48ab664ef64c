"""Properties of the pure parsing layer: ``_jose`` (base64url, strict JSON, compact JWS) and the
header and claim checks of ``_claims``, over inputs no unit test would think of.

Every property says what *any* input gives: a value meeting the rules, or one of the
documented ``BearerError`` subclasses with a fixed, safe answer. Nothing else ever escapes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bearerguard import (
    AccessToken,
    BearerError,
    EncryptedTokenError,
    InvalidTokenError,
    MalformedTokenError,
    VerifierConfig,
)
from bearerguard._claims import check_claims, check_header
from bearerguard._jose import b64url_decode, parse_json_object, parse_token
from tests.support import AUDIENCE, ISSUER, NOW, b64url

from .checks import assert_safe_refusal, assert_sound, attempt, refused
from .conftest import bounded, budget
from .strategies import (
    ALPHABET,
    MAX_TOKEN_SIZE,
    RFC9068_CLAIMS,
    any_text,
    b64url_text,
    claim_values,
    clean_text,
    header_values,
    hostile_tokens,
    json_documents,
    json_values,
    members,
    near_claims,
    nested,
)

pytestmark = pytest.mark.fuzz

MAX_DEPTH = 64
MAX_INT_LENGTH = 32
LENIENT = VerifierConfig(
    issuers=(ISSUER,), audiences=(AUDIENCE,), algorithms=frozenset({"RS256", "ES256", "EdDSA"})
)
STRICT = VerifierConfig(
    issuers=(ISSUER,),
    audiences=(AUDIENCE,),
    algorithms=frozenset({"RS256", "ES256", "HS256"}),
    secret=b"s" * 32,
    leeway=0,
    rfc9068_strict=True,
    max_age=3600,
    organizations=frozenset({"org_1", "Acme"}),
    scope_claims=("scope", "scp", "permissions"),
)
CONFIGS = pytest.mark.parametrize("config", [LENIENT, STRICT], ids=["lenient", "strict"])


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value, *(leaf for item in value.values() for leaf in leaves(item))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def assert_strict_json(value: Any, text: str) -> None:
    """What parse_json_object promises about everything it returns."""
    assert isinstance(value, dict)
    assert value == json.loads(text)  # agrees with the stdlib wherever it accepts
    assert depth_of(value) <= MAX_DEPTH
    for leaf in leaves(value):
        if isinstance(leaf, str):
            assert "\x00" not in leaf
            leaf.encode("utf-8")  # no lone surrogates
        elif isinstance(leaf, float):
            assert math.isfinite(leaf)
        elif isinstance(leaf, int) and not isinstance(leaf, bool):
            assert len(str(leaf)) <= MAX_INT_LENGTH


# --- base64url ------------------------------------------------------------------------------


@budget(300)
@given(st.one_of(any_text, b64url_text, st.text(st.sampled_from(ALPHABET + "+/= \n"))))
@bounded
def test_b64url_decode_accepts_only_the_one_canonical_encoding_of_some_bytes(segment: str):
    try:
        data = b64url_decode(segment)
    except ValueError:
        return
    assert b64url(data) == segment


@budget(200)
@given(st.binary(max_size=600))
@bounded
def test_b64url_decode_inverts_unpadded_base64url(data: bytes):
    assert b64url_decode(b64url(data)) == data


# --- strict JSON ----------------------------------------------------------------------------


@budget(300)
@given(json_documents)
@bounded
def test_parse_json_object_returns_a_strict_json_object_or_refuses_quietly(data: bytes):
    value = attempt(parse_json_object, data, what="claims")
    if isinstance(value, BearerError):
        event(refused(value))
        assert isinstance(value, MalformedTokenError)
        assert_safe_refusal(value, data.decode("latin-1"))
        return
    event("parsed")
    assert_strict_json(value, data.decode("utf-8"))


clean_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**31) + 1, max_value=10**31 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | clean_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(clean_text, children, max_size=4)
    ),
    max_leaves=12,
)


@budget(200)
@given(
    st.dictionaries(clean_text, clean_json, max_size=6), st.booleans(), st.sampled_from([None, 2])
)
@bounded
def test_every_clean_json_object_is_accepted_as_it_was_written(
    value: dict[str, Any], ascii_only: bool, indent: int | None
):
    """Strictness refuses nothing an honest issuer writes, however it formats it."""
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert parse_json_object(text.encode(), what="claims") == value


@budget(100)
@given(
    st.integers(min_value=1, max_value=3 * MAX_DEPTH),
    st.sampled_from([("[", "]"), ('{"a":', "}")]),
)
@bounded
def test_nesting_is_accepted_up_to_64_levels_and_refused_beyond(depth: int, shape: tuple):
    text = '{"x":' + nested(depth - 1, *shape) + "}"  # the outer object is level 1
    if depth <= MAX_DEPTH:
        assert depth_of(parse_json_object(text.encode(), what="claims")) == depth
    else:
        with pytest.raises(MalformedTokenError) as info:
            parse_json_object(text.encode(), what="claims")
        assert info.value.reason == "The claims nests arrays or objects too deeply."


@budget(100)
@given(st.integers(min_value=1, max_value=3 * MAX_INT_LENGTH), st.booleans())
@bounded
def test_integers_are_accepted_up_to_32_characters_sign_included(digits: int, negative: bool):
    literal = ("-" if negative else "") + "9" * digits
    data = f'{{"exp":{literal}}}'.encode()
    if len(literal) <= MAX_INT_LENGTH:
        assert parse_json_object(data, what="claims") == {"exp": int(literal)}
    else:
        with pytest.raises(MalformedTokenError):
            parse_json_object(data, what="claims")


# --- compact JWS ----------------------------------------------------------------------------


@budget(300)
@given(
    st.one_of(hostile_tokens, st.binary(max_size=100), st.none(), st.integers()),
    st.integers(min_value=512, max_value=MAX_TOKEN_SIZE),
)
@bounded
def test_parse_token_splits_a_canonical_compact_jws_or_refuses_quietly(token: Any, max_size: int):
    parsed = attempt(parse_token, token, max_size=max_size)
    if isinstance(parsed, BearerError):
        event(refused(parsed))
        assert isinstance(parsed, MalformedTokenError | EncryptedTokenError)
        if isinstance(parsed, EncryptedTokenError):
            assert len(token) <= max_size
            assert token.count(".") == 4
        assert_safe_refusal(parsed, token)
        return
    event("parsed")
    assert isinstance(token, str)
    assert len(token) <= max_size
    head, body, signature = token.split(".")
    assert re.fullmatch("[A-Za-z0-9_-]+", head + body + signature)
    assert (b64url(b64url_decode(head)), b64url(b64url_decode(body))) == (head, body)
    assert b64url(parsed.signature) == signature
    assert parsed.signing_input == f"{head}.{body}".encode("ascii")
    assert_strict_json(parsed.header, b64url_decode(head).decode())
    assert_strict_json(parsed.claims, b64url_decode(body).decode())


_KNOWN_SEGMENT = b64url(b'{"alg":"ES256","typ":"dpop+jwt"}')
_KNOWN_HEADER = {"alg": "ES256", "typ": "dpop+jwt"}


def _answer(token: str, header: dict[str, Any] | None) -> Any:
    outcome = attempt(parse_token, token, MAX_TOKEN_SIZE, header)
    if isinstance(outcome, BearerError):
        return (type(outcome), outcome.reason)
    return tuple(outcome)


@given(st.one_of(hostile_tokens, any_text, st.text(st.sampled_from(ALPHABET + ".=+/ "))))
@bounded
def test_a_remembered_header_segment_changes_no_answer_of_parse_token(rest: str):
    # Whatever follows a header segment parsed before, the parser's answer with that
    # segment's header remembered is its answer without: the same value or refusal.
    token = f"{_KNOWN_SEGMENT}.{rest}"
    assert _answer(token, _KNOWN_HEADER) == _answer(token, None)


# --- header and claim checks ------------------------------------------------------------------


@CONFIGS
@budget(300)
@given(
    st.one_of(
        st.dictionaries(any_text, json_values, max_size=5),
        st.builds(
            lambda alg, extra: {"alg": alg, **extra},
            st.sampled_from(["RS256", "ES256", "HS256", "EdDSA"]),
            members(header_values),
        ),
    )
)
@bounded
def test_check_header_gives_an_allowed_alg_and_a_kid_or_refuses(
    config: VerifierConfig, header: dict[str, Any]
):
    result = attempt(check_header, header, config)
    if isinstance(result, BearerError):
        event(refused(result))
        assert isinstance(result, InvalidTokenError)
        assert_safe_refusal(result, None)
        return
    event("passed")
    alg, kid = result
    assert alg == header["alg"]
    assert alg in config.algorithms
    assert kid == header.get("kid")
    assert kid is None or (isinstance(kid, str) and 0 < len(kid) <= 1024)
    assert not {"crit", "b64"} & set(header)


@CONFIGS
@budget(300)
@given(
    st.one_of(
        st.dictionaries(any_text, json_values, max_size=6),
        near_claims,
        st.builds(lambda extra: {**RFC9068_CLAIMS, **extra}, members(claim_values)),
    ),
    st.one_of(
        st.just(NOW),
        st.floats(min_value=-120, max_value=120).map(lambda offset: NOW + offset),
        st.floats(min_value=NOW - 86400, max_value=NOW + 86400),
    ),
)
@bounded
def test_check_claims_builds_a_sound_access_token_or_refuses(
    config: VerifierConfig, claims: dict[str, Any], now: float
):
    header = {"alg": "RS256", "typ": "at+jwt"}  # passes check_header under either config
    raw = "header.claims.signature"
    token = attempt(check_claims, claims, header, raw, config, now)
    if isinstance(token, BearerError):
        event(refused(token))
        assert isinstance(token, InvalidTokenError)
        assert_safe_refusal(token, None)
        return
    event("accepted")
    assert isinstance(token, AccessToken)
    assert dict(token.claims) == claims
    assert_sound(token, raw, config, now)
