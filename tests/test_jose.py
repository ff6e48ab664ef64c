"""Strict compact-JWS parsing (``bearerguard._jose``) and JOSE header rules (``check_header``).

Catalogue ids (``/work/shared/reference/hostile-tokens.md`` §9) are in the test names.
Every rejection must be a 401 ``invalid_token`` with the generic description, so that
nothing of the token ever reaches a response.
"""

from __future__ import annotations

import base64
import binascii
import json
import string
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bearerguard import (
    BearerError,
    EncryptedTokenError,
    InvalidClaimsError,
    InvalidSignatureError,
    InvalidTokenError,
    MalformedTokenError,
    UnknownKeyError,
    Verifier,
    _jose,
)
from bearerguard._claims import check_header
from bearerguard._config import VerifierConfig
from bearerguard._jose import ParsedToken, b64url_decode, parse_json_object, parse_token

from .support import AUDIENCE, ISSUER, Provider, b64url, claims, public_jwk, rsa_key, sign_token

MAX = 16 * 1024  # the verifier's default max_token_size
HEADER = {"alg": "RS256", "typ": "JWT", "kid": "k1"}
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
INVALID_TOKEN_CHALLENGE = (
    'Bearer realm="api", error="invalid_token", error_description="Invalid token"'
)
PROVIDER_PATHS = {"/.well-known/openid-configuration", "/.well-known/jwks.json"}

Verify = Callable[[Verifier, str], Any]


# --- helpers ------------------------------------------------------------------------------


@cache
def base_token() -> str:
    """One valid RS256 token (signed once per session)."""
    return sign_token(HEADER, claims(), rsa_key(0))


def segments() -> tuple[str, str, str]:
    header, payload, signature = base_token().split(".")
    return header, payload, signature


def token_with(part: str, raw: bytes | str) -> str:
    """A really signed token whose header or claims segment encodes ``raw`` verbatim."""
    if part == "header":
        return sign_token(raw, claims(), rsa_key(0), "RS256")
    return sign_token(HEADER, raw, rsa_key(0), "RS256")


def lenient_b64decode(segment: str) -> bytes:
    """What a careless verifier does: CPython's forgiving urlsafe decoder."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def assert_quiet_invalid_token(exc: BaseException, token: object = None) -> None:
    """A generic 401 invalid_token that echoes nothing of the token."""
    assert isinstance(exc, BearerError)
    assert isinstance(exc, InvalidTokenError)
    assert exc.status_code == 401
    assert exc.error == "invalid_token"
    assert exc.description == "Invalid token"
    assert exc.www_authenticate == INVALID_TOKEN_CHALLENGE
    assert exc.headers == {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
    assert exc.to_json() == {"error": "invalid_token", "error_description": "Invalid token"}
    logged = f"{exc} {exc!r} {exc.reason}".lower()
    assert "evil" not in logged
    if isinstance(token, str):
        for piece in token.split("."):
            if len(piece) >= 8:
                assert piece not in logged
                assert piece.lower() not in logged


def assert_malformed(token: Any, *, max_size: int = MAX) -> MalformedTokenError:
    with pytest.raises(MalformedTokenError) as info:
        parse_token(token, max_size=max_size)
    assert_quiet_invalid_token(info.value, token)
    return info.value


def assert_json_malformed(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(MalformedTokenError) as info:
        parse_json_object(raw, what="claims")
    assert_quiet_invalid_token(info.value)


def noncanonical_variant(segment: str) -> str:
    """The same bytes, re-encoded with a non-zero unused bit in the last character."""
    assert len(segment) % 4 in (2, 3)
    last = ALPHABET.index(segment[-1])
    assert last & 1 == 0  # canonical: the unused low bits are zero
    variant = segment[:-1] + ALPHABET[last | 1]
    assert lenient_b64decode(variant) == lenient_b64decode(segment)
    return variant


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails the test if parse_token base64-decodes or JSON-parses anything."""
    calls: list[object] = []

    def spy(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError("decoded before the cheap checks")

    monkeypatch.setattr(_jose, "b64url_decode", spy)
    monkeypatch.setattr(_jose, "parse_json_object", spy)
    return calls


# --- a valid token ------------------------------------------------------------------------


def test_a_valid_token_parses_into_header_claims_signing_input_and_signature():
    body = claims()
    token = sign_token(HEADER, body, rsa_key(0))
    header_b64, claims_b64, signature_b64 = token.split(".")

    parsed = parse_token(token, max_size=MAX)

    assert isinstance(parsed, ParsedToken)
    assert parsed.header == HEADER
    assert parsed.claims == body
    assert parsed.signing_input == f"{header_b64}.{claims_b64}".encode("ascii")
    assert parsed.signature == lenient_b64decode(signature_b64)
    assert len(parsed.signature) == 256
    # The parts are exactly what the signature covers.
    rsa_key(0).public_key().verify(
        parsed.signature, parsed.signing_input, padding.PKCS1v15(), hashes.SHA256()
    )


def test_parsed_token_is_immutable():
    parsed = parse_token(base_token(), max_size=MAX)
    with pytest.raises(AttributeError):
        parsed.signature = b""  # type: ignore[misc]


def test_non_ascii_utf8_claims_are_decoded():
    token = token_with("claims", json.dumps({"sub": "Zo\u00eb \U0001f600"}, ensure_ascii=False))
    assert parse_token(token, max_size=MAX).claims == {"sub": "Zo\u00eb \U0001f600"}


# --- size: checked before anything is decoded (T81) -----------------------------------------


def test_a_token_exactly_at_the_size_limit_is_accepted():
    token = base_token()
    assert parse_token(token, max_size=len(token)).claims == claims()


def test_a_token_one_character_over_the_size_limit_is_rejected():
    assert_malformed(base_token(), max_size=len(base_token()) - 1)


def test_t81_a_1_mib_token_is_rejected_before_any_decoding(no_decoding):
    header, _, signature = segments()
    token = f"{header}.{'A' * (1 << 20)}.{signature}"
    assert_malformed(token)
    assert no_decoding == []


def test_t81_a_1_mib_signature_is_rejected_before_any_decoding(no_decoding):
    header, payload, _ = segments()
    assert_malformed(f"{header}.{payload}.{'A' * (1 << 20)}")
    assert no_decoding == []


def test_t81_ten_thousand_dots_are_rejected_before_any_decoding(no_decoding):
    assert_malformed("." * 10_000)
    assert no_decoding == []


def test_t81_a_100_kib_header_is_rejected_before_decoding_even_under_a_large_size_limit(
    no_decoding,
):
    _, payload, signature = segments()
    header = b64url(json.dumps({"alg": "RS256", "x": "a" * 100 * 1024}).encode())
    assert_malformed(f"{header}.{payload}.{signature}", max_size=1 << 20)
    assert no_decoding == []


@pytest.mark.parametrize("token", [None, b"a.b.c", 123, ["a", "b", "c"]])
def test_a_token_that_is_not_a_string_is_malformed(token):
    assert_malformed(token)


# --- shape (T13, JWE, T15) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        "",
        ".",
        "..",
        "....",
        "{h}",
        "{h}.{p}",
        "{h}.{p}.",
        ".{p}.{s}",
        "{h}..{s}",
        "{h}.{p}.{s}.",
        ".{h}.{p}.{s}",
        "{h}.{p}.{s}.{h}",
        "{h}.{p}.{s}..",
        "{h}.{p}.{s}.{s}.{s}.{s}",
    ],
)
def test_t13_wrong_segment_counts_and_empty_segments_are_rejected(shape):
    header, payload, signature = segments()
    assert_malformed(shape.format(h=header, p=payload, s=signature))


def jwe(alg: str) -> str:
    """A JWE compact serialization (RFC 7516 §7.1), as Auth0 issues without an audience."""
    header = b64url(json.dumps({"alg": alg, "enc": "A256GCM", "kid": "k1"}).encode())
    encrypted_key = "" if alg == "dir" else b64url(bytes(range(256)))
    return ".".join(
        [header, encrypted_key, b64url(b"\x01" * 12), b64url(b"ciphertext!"), b64url(b"\x02" * 16)]
    )


@pytest.mark.parametrize("alg", ["dir", "RSA-OAEP"])
def test_five_segments_are_an_encrypted_token_whose_description_says_so(alg):
    token = jwe(alg)
    with pytest.raises(EncryptedTokenError) as info:
        parse_token(token, max_size=MAX)
    exc = info.value
    assert isinstance(exc, InvalidTokenError)
    assert not isinstance(exc, MalformedTokenError)
    assert exc.status_code == 401
    assert exc.error == "invalid_token"
    assert "encrypted" in exc.description
    assert "JWE" in exc.description
    assert exc.description == EncryptedTokenError().description  # fixed, not token-derived
    assert exc.www_authenticate == (
        f'Bearer realm="api", error="invalid_token", error_description="{exc.description}"'
    )


@pytest.mark.parametrize("layout", ["flattened", "general", "flattened_pretty"])
def test_t15_jws_json_serialization_is_rejected(layout):
    header, payload, signature = segments()
    if layout == "general":
        document: dict[str, Any] = {
            "payload": payload,
            "signatures": [{"protected": header, "signature": signature}],
        }
    else:
        document = {"payload": payload, "protected": header, "signature": signature}
    token = json.dumps(document, indent=2 if layout == "flattened_pretty" else None)
    assert token.startswith("{")
    assert_malformed(token)


# --- alphabet and canonical base64url (T16-T20) ---------------------------------------------

OUTSIDE_ALPHABET = [
    " ",
    "?",
    "#",
    "!",
    '"',
    "\n",
    "\r",
    "\t",
    "{",
    "%",
    "\\",
    "'",
    "\x00",
    "\u00e9",  # e-acute
    "\u0660",  # ARABIC-INDIC DIGIT ZERO: a Unicode digit, not an ASCII one
    "\uff21",  # FULLWIDTH LATIN CAPITAL LETTER A
]


@pytest.mark.parametrize("position", ["prefix", "suffix", "inside_header", "inside_signature"])
@pytest.mark.parametrize("char", OUTSIDE_ALPHABET, ids=repr)
def test_t16_any_character_outside_base64url_is_rejected(char, position):
    header, payload, signature = segments()
    token = {
        "prefix": char + base_token(),
        "suffix": base_token() + char,
        "inside_header": f"{header[:5]}{char}{header[5:]}.{payload}.{signature}",
        "inside_signature": f"{header}.{payload}.{signature[:100]}{char}{signature[100:]}",
    }[position]
    assert_malformed(token)


def test_t16_leading_spaces_that_a_lenient_decoder_discards_are_rejected():
    header, payload, signature = segments()
    padded = "    " + signature
    # CPython's forgiving decoder drops the junk: same signature bytes.
    assert base64.urlsafe_b64decode(padded + "==") == lenient_b64decode(signature)
    assert_malformed(f"{header}.{payload}.{padded}")


@pytest.mark.parametrize("char", [*OUTSIDE_ALPHABET, "+", "/", "=", "."], ids=repr)
def test_t16_b64url_decode_refuses_characters_outside_the_alphabet(char):
    with pytest.raises(ValueError):
        b64url_decode("eyJh" + char + "IjoxfQ")


def signature_with(*chars: str) -> str:
    """A valid token whose signature segment contains all of ``chars``."""
    for index in range(200):
        token = sign_token(HEADER, claims(jti=f"j{index}"), rsa_key(0))
        if all(c in token.rsplit(".", 1)[1] for c in chars):
            return token
    raise AssertionError(f"no signature containing {chars}")  # pragma: no cover


@pytest.mark.parametrize(("urlsafe", "standard"), [("-", "+"), ("_", "/")])
def test_t17_standard_alphabet_plus_and_slash_are_rejected(urlsafe, standard):
    token = signature_with(urlsafe)
    assert parse_token(token, max_size=MAX).signature
    head, signature = token.rsplit(".", 1)
    variant = signature.replace(urlsafe, standard)
    # CPython's urlsafe decoder takes both alphabets: the same signature bytes.
    assert lenient_b64decode(variant) == lenient_b64decode(signature)
    assert_malformed(f"{head}.{variant}")


def test_t17_b64url_decode_refuses_the_standard_alphabet():
    assert b64url_decode("-_-_") == b"\xfb\xff\xbf"
    with pytest.raises(ValueError):
        b64url_decode("+/+/")


@pytest.mark.parametrize("pad", ["=", "=="])
@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "claims", "signature"])
def test_t18_padded_segments_are_rejected(index, pad):
    parts = list(segments())
    parts[index] += pad
    assert_malformed(".".join(parts))


def test_t18_b64url_decode_refuses_padding():
    assert b64url_decode("YQ") == b"a"
    for padded in ("YQ==", "YQ=", "YWI=", "YWJj="):
        with pytest.raises(ValueError):
            b64url_decode(padded)


def test_t19_signature_with_nonzero_unused_bits_is_rejected_while_the_original_passes():
    header, payload, signature = segments()
    assert len(signature) == 342  # 256 bytes: the last character carries 4 unused bits
    variant = noncanonical_variant(signature)
    assert variant != signature

    assert parse_token(base_token(), max_size=MAX).signature == lenient_b64decode(signature)
    assert_malformed(f"{header}.{payload}.{variant}")


@pytest.mark.parametrize("index", [0, 1], ids=["header", "claims"])
def test_t19_header_or_claims_with_nonzero_unused_bits_are_rejected(index):
    for size in range(8):  # find a layout where the segment is not a multiple of 4
        token = sign_token({**HEADER, "x": "a" * size}, claims(x="b" * size), rsa_key(0))
        parts = token.split(".")
        if len(parts[index]) % 4 in (2, 3):
            break
    assert parse_token(token, max_size=MAX)
    parts[index] = noncanonical_variant(parts[index])
    assert_malformed(".".join(parts))


@pytest.mark.parametrize("prefix", ["A", "eyJh", "eyJhIjox"])
def test_t19_b64url_decode_accepts_a_last_character_only_if_its_unused_bits_are_zero(prefix):
    for extra in ("", "A", "AA"):  # segment lengths 1, 2, 3 (mod 4) after the last char
        for last in ALPHABET:
            segment = prefix + extra + last
            if len(segment) % 4 == 1:
                continue
            canonical = b64url(lenient_b64decode(segment)) == segment
            try:
                b64url_decode(segment)
            except ValueError:
                accepted = False
            else:
                accepted = True
            assert accepted == canonical, segment


def test_b64url_decode_round_trips_every_one_and_two_byte_value():
    for value in range(256):
        data = bytes([value])
        assert b64url_decode(b64url(data)) == data
    for value in range(0, 65536, 7):
        data = value.to_bytes(2, "big")
        assert b64url_decode(b64url(data)) == data


def test_b64url_decode_matches_its_documented_examples():
    assert b64url_decode("eyJhIjoxfQ") == b'{"a":1}'
    assert b64url_decode("") == b""
    with pytest.raises(ValueError):
        b64url_decode("eyJhIjoxfR")


@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "claims", "signature"])
def test_t20_a_segment_whose_length_is_1_mod_4_is_rejected(index):
    parts = list(segments())
    while len(parts[index]) % 4 != 1:
        parts[index] += "A"
    assert_malformed(".".join(parts))


@pytest.mark.parametrize("segment", ["A", "AAAAA", "eyJhIjoxfQAAA"])
def test_t20_b64url_decode_refuses_length_1_mod_4(segment):
    with pytest.raises((ValueError, binascii.Error)):
        b64url_decode(segment)


# --- strict UTF-8 JSON objects (T21-T25, T82, T83) ------------------------------------------

PARTS = ["header", "claims"]


def part_json(part: str) -> dict[str, Any]:
    return dict(HEADER) if part == "header" else claims()


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]
)
@pytest.mark.parametrize("part", PARTS)
def test_t21_utf16_and_utf32_json_is_rejected(part, encoding):
    raw = json.dumps(part_json(part)).encode(encoding)
    assert json.loads(raw) == part_json(part)  # Python's json would happily sniff it
    assert_malformed(token_with(part, raw))


@pytest.mark.parametrize("part", PARTS)
def test_t21_a_utf8_byte_order_mark_is_rejected(part):
    raw = b"\xef\xbb\xbf" + json.dumps(part_json(part)).encode()
    assert json.loads(raw) == part_json(part)  # accepted by json.loads(bytes)
    assert_malformed(token_with(part, raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"sub":"\xff"}',  # never valid in UTF-8
        b'{"sub":"\xc0\xaf"}',  # overlong "/"
        b'{"sub":"\xe0\x80\xaf"}',  # overlong "/" in three bytes
        b'\xc1\xbb"sub":"x"}',  # overlong "{"
        b'{"sub":"\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU)
        b'{"sub":"\xe2\x82"}',  # truncated sequence
        b'{"sub":"\x80"}',  # lone continuation byte
    ],
    ids=["ff", "overlong2", "overlong3", "overlong_brace", "cesu", "truncated", "continuation"],
)
@pytest.mark.parametrize("part", PARTS)
def test_t21_invalid_and_overlong_utf8_is_rejected(part, raw):
    assert_malformed(token_with(part, raw))


NOT_OBJECTS = ["[1,2]", '"x"', "1", "null", "true", "false", "[]", " [1]", "1.5", '"{}"']


@pytest.mark.parametrize("text", NOT_OBJECTS)
@pytest.mark.parametrize("part", PARTS)
def test_t22_json_that_is_not_an_object_is_rejected(part, text):
    assert_malformed(token_with(part, text))


@pytest.mark.parametrize(
    "text", ['{"a":1}x', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}", '{"a":01}', '{"a":0x10}', "{"]
)
def test_t22_an_object_followed_by_garbage_or_not_strict_json_is_rejected(text):
    assert_malformed(token_with("claims", text))


def test_t23_duplicate_aud_with_the_evil_value_first_is_rejected():
    text = (
        f'{{"iss":"{ISSUER}","sub":"auth0|123","aud":"https://evil.example",'
        f'"aud":"{AUDIENCE}","exp":1800003600}}'
    )
    assert json.loads(text)["aud"] == AUDIENCE  # last-wins would pick ours
    assert_malformed(token_with("claims", text))


@pytest.mark.parametrize(
    "text",
    [
        '{"alg":"none","alg":"RS256","kid":"k1"}',
        '{"alg":"RS256","kid":"evil","kid":"k1"}',
        '{"alg":"RS256","typ":"JWT","typ":"JWT"}',
    ],
    ids=["alg", "kid", "identical_values"],
)
def test_t23_duplicate_header_parameters_are_rejected(text):
    assert_malformed(token_with("header", text))


def test_t23_duplicates_inside_nested_objects_are_rejected():
    assert_json_malformed('{"https://example.com/app":{"role":"evil","role":"user"}}')
    assert_json_malformed('{"list":[{"a":1,"a":1}]}')


LONE_SURROGATES = [
    r'{"sub":"\ud800"}',
    r'{"sub":"\udc00"}',
    r'{"sub":"x\ud83dy"}',  # high surrogate followed by a non-surrogate
    r'{"sub":"\ude00\ud83d"}',  # a pair in the wrong order
    r'{"\ud800":1}',  # in a member name
    r'{"aud":["ok","\udfff"]}',  # inside an array
    r'{"https://example.com/":{"name":"\ud800"}}',  # inside a nested object
]
NULS = [
    r'{"sub":"a\u0000b"}',
    r'{"scope":"read:users\u0000"}',
    r'{"a\u0000":1}',
    r'{"aud":["\u0000"]}',
]


@pytest.mark.parametrize("text", [*LONE_SURROGATES, *NULS])
@pytest.mark.parametrize("part", PARTS)
def test_t24_lone_surrogates_and_nul_escapes_are_rejected(part, text):
    assert_malformed(token_with(part, text))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'{"sub":"\ud83d\ude00"}', "\U0001f600"),  # a valid surrogate pair: an emoji
        (r'{"sub":"\uD83D\uDE00"}', "\U0001f600"),  # hex digits in upper case
        (r'{"sub":"caf\u00e9"}', "caf\u00e9"),
        (r'{"sub":"\\ud800"}', "\\ud800"),  # an escaped backslash, not a surrogate
        (r'{"sub":"a\u0041"}', "aA"),
    ],
)
def test_t24_valid_escapes_including_a_surrogate_pair_are_accepted(text, value):
    assert parse_json_object(text.encode(), what="claims") == {"sub": value}
    assert parse_token(token_with("claims", text), max_size=MAX).claims == {"sub": value}


@pytest.mark.parametrize(
    "text",
    [
        '{ "alg" : "RS256" , "kid" : "k1" }',
        '{\t"alg":\t"RS256",\n"kid":\r\n"k1"\n}',
        ' \t\r\n{"alg":"RS256","kid":"k1"} \t\r\n',
    ],
    ids=["spaces", "tabs_and_newlines", "around_the_object"],
)
def test_t25_json_whitespace_is_accepted(text):
    token = token_with("header", text)
    assert parse_token(token, max_size=MAX).header == {"alg": "RS256", "kid": "k1"}


@pytest.mark.parametrize(
    "text",
    [
        '\x0c{"alg":"RS256"}',  # form feed is not JSON whitespace
        '{"alg":\x0b"RS256"}',  # nor is vertical tab
        '{"alg":"RS256"}\xa0',  # nor NO-BREAK SPACE
        '\u2028{"alg":"RS256"}',  # nor LINE SEPARATOR
    ],
    ids=["form_feed", "vertical_tab", "nbsp", "line_separator"],
)
def test_t25_whitespace_that_json_does_not_define_is_rejected(text):
    assert_malformed(token_with("header", text))


@pytest.mark.parametrize(
    "number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999", "123456789e999"]
)
def test_non_finite_numbers_are_rejected(number):
    assert_json_malformed(f'{{"exp":{number}}}')
    assert_json_malformed(f'{{"ignored":[1,{{"deep":{number}}}]}}')
    assert_malformed(token_with("claims", f'{{"iss":"{ISSUER}","exp":{number}}}'))


@pytest.mark.parametrize(
    ("number", "value"),
    [
        ("1800003600", 1800003600),
        ("1800003600.5", 1800003600.5),
        ("-1", -1),
        ("0", 0),
        ("1e3", 1000.0),
        ("1.5E-3", 0.0015),
        ("9223372036854775808", 2**63),  # 19 digits: a far-future date, not an attack
    ],
)
def test_ordinary_json_numbers_are_accepted(number, value):
    assert parse_json_object(f'{{"exp":{number}}}'.encode(), what="claims") == {"exp": value}


@pytest.mark.parametrize("digits", [40, 4300, 5000])
def test_t83_huge_integers_are_rejected(digits):
    huge = "9" * digits
    assert_json_malformed(f'{{"exp":{huge}}}')
    assert_json_malformed(f'{{"exp":-{huge}}}')
    assert_json_malformed(f'{{"exp":1800003600,"ignored":{huge}}}')


def test_t83_a_5000_digit_integer_in_a_real_token_is_rejected():
    text = json.dumps(claims())[:-1] + ',"ignored":' + "7" * 5000 + "}"
    token = token_with("claims", text)
    assert len(token) <= MAX
    assert_malformed(token)


def nested_arrays(depth: int) -> str:
    return '{"a":' + "[" * depth + "]" * depth + "}"


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_t82_5000_nested_arrays_within_the_size_cap_are_rejected_without_recursion_error():
    token = token_with("claims", nested_arrays(5000))
    assert len(token) <= MAX
    assert_malformed(token)


def test_t82_nested_objects_within_the_size_cap_are_rejected():
    token = token_with("claims", nested_objects(1500))
    assert len(token) <= MAX
    assert_malformed(token)


def test_t82_deep_nesting_in_the_header_is_rejected():
    token = token_with("header", nested_arrays(2000))
    assert len(token) <= MAX
    assert_malformed(token)


@pytest.mark.parametrize("depth", [200, 1000, 3000, 5000, 100_000])
def test_t82_deep_nesting_is_malformed_at_any_depth_on_any_python(depth):
    # CPython's own RecursionError threshold varies by version (3.13 parses 5000 levels),
    # so the parser must bound the depth itself.
    assert_json_malformed(nested_arrays(depth))
    assert_json_malformed(nested_objects(depth))


def test_moderately_nested_custom_claims_are_accepted():
    value: Any = "leaf"
    for level in range(20):
        value = {f"level{level}": [value]}
    document = {"https://example.com/app": value}
    assert parse_json_object(json.dumps(document).encode(), what="claims") == document


def test_brackets_inside_strings_do_not_count_as_nesting():
    document = {"note": "[" * 500 + "{" * 500}
    assert parse_json_object(json.dumps(document).encode(), what="claims") == document


# --- JOSE header rules (check_header) ------------------------------------------------------


@pytest.fixture
def config() -> VerifierConfig:
    return VerifierConfig(issuers=(ISSUER,), audiences=(AUDIENCE,))


@pytest.fixture
def strict() -> VerifierConfig:
    return VerifierConfig(issuers=(ISSUER,), audiences=(AUDIENCE,), rfc9068_strict=True)


def rejected_header(header: Mapping[str, Any], config: VerifierConfig) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as info:
        check_header(header, config)
    assert_quiet_invalid_token(info.value)
    return info.value


def test_a_valid_header_yields_alg_and_kid(config):
    assert check_header(HEADER, config) == ("RS256", "k1")
    assert check_header({"alg": "RS256"}, config) == ("RS256", None)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_t14_t27_alg_none_in_any_case_is_rejected(config, alg):
    rejected_header({**HEADER, "alg": alg}, config)


def test_t14_an_unsigned_none_token_is_rejected_end_to_end(config):
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    assert_malformed(f"{header}.{payload}.")  # no signature: not even three segments
    parsed = parse_token(f"{header}.{payload}.{b64url(b'anything')}", max_size=MAX)
    rejected_header(parsed.header, config)


@pytest.mark.parametrize(
    "alg", ["rs256", "Rs256", "RS256 ", " RS256", "RS256\x00", "RS 256", "RS2560"], ids=repr
)
def test_t27_alg_matches_the_allow_list_exactly_and_case_sensitively(config, alg):
    rejected_header({**HEADER, "alg": alg}, config)


@pytest.mark.parametrize(
    "alg",
    [None, 256, 256.0, ["RS256"], {"RS256": True}, True, ""],
    ids=["null", "int", "float", "list", "object", "true", "empty"],
)
def test_t28_alg_of_the_wrong_type_or_empty_is_rejected(config, alg):
    rejected_header({**HEADER, "alg": alg}, config)


def test_t28_a_missing_alg_is_rejected(config):
    rejected_header({"typ": "JWT", "kid": "k1"}, config)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_t26_hmac_algorithms_are_rejected_when_not_configured(config, alg):
    rejected_header({**HEADER, "alg": alg}, config)


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA", "RS384", "RS512", "ES256K"])
def test_t29_an_algorithm_outside_the_allow_list_is_rejected(config, alg):
    rejected_header({**HEADER, "alg": alg}, config)


def test_t29_every_algorithm_in_the_allow_list_is_accepted_and_no_other():
    config = VerifierConfig(
        issuers=(ISSUER,), audiences=(AUDIENCE,), algorithms=frozenset({"RS256", "ES256"})
    )
    assert check_header({"alg": "ES256", "kid": "e1"}, config) == ("ES256", "e1")
    assert check_header({"alg": "RS256", "kid": "k1"}, config) == ("RS256", "k1")
    rejected_header({"alg": "PS256", "kid": "k1"}, config)
    rejected_header({"alg": "ES384", "kid": "k1"}, config)


def test_t29_hs256_is_accepted_only_when_configured_with_a_secret():
    config = VerifierConfig(
        issuers=(ISSUER,),
        audiences=(AUDIENCE,),
        algorithms=frozenset({"HS256"}),
        secret=b"s" * 32,
    )
    assert check_header({"alg": "HS256", "typ": "JWT"}, config) == ("HS256", None)
    rejected_header({"alg": "RS256", "typ": "JWT"}, config)
    rejected_header({"alg": "HS512", "typ": "JWT"}, config)


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["foo"], "foo": 1},
        {"crit": ["exp"]},
        {"crit": []},
        {"crit": "b64"},
        {"crit": ["kid"]},
        {"crit": ["absent"]},
        {"crit": None},
        {"crit": ["b64"], "b64": True},
    ],
    ids=["foo", "exp", "empty", "string", "kid", "absent", "null", "b64_true"],
)
def test_t30_any_crit_header_is_rejected(config, extra):
    assert isinstance(rejected_header({**HEADER, **extra}, config), MalformedTokenError)


@pytest.mark.parametrize(
    "extra",
    [{"b64": False, "crit": ["b64"]}, {"b64": False}, {"b64": True}, {"b64": None}],
    ids=["with_crit", "without_crit", "true", "null"],
)
def test_t31_any_b64_header_is_rejected(config, extra):
    assert isinstance(rejected_header({**HEADER, **extra}, config), MalformedTokenError)


def test_t31_an_unencoded_payload_token_is_rejected(config):
    unencoded = json.dumps({"alg": "RS256", "b64": False, "crit": ["b64"]})
    header = b64url(unencoded.encode())
    raw_payload = json.dumps(claims())  # not base64url: braces and quotes
    assert_malformed(f"{header}.{raw_payload}.{segments()[2]}")
    assert_malformed(f"{header}..{segments()[2]}")  # detached payload
    parsed = parse_token(token_with("header", unencoded), max_size=MAX)
    rejected_header(parsed.header, config)


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://evil.example/jwks"},
        {"x5u": "http://169.254.169.254/latest/meta-data/"},
        {"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
        {"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]},
        {"x5t": "abc", "x5t#S256": "def"},
    ],
    ids=["jku", "x5u", "jwk", "x5c", "x5t"],
)
def test_t32_key_location_headers_are_ignored_by_header_checks(config, extra):
    assert check_header({**HEADER, **extra}, config) == ("RS256", "k1")


@pytest.mark.parametrize(
    "kid",
    [123, 0, 1.5, {}, [], ["k1"], True, False, ""],
    ids=["int", "zero", "float", "object", "empty_list", "list", "true", "false", "empty"],
)
def test_t33_kid_that_is_not_a_non_empty_string_is_rejected(config, kid):
    assert isinstance(rejected_header({**HEADER, "kid": kid}, config), MalformedTokenError)


def test_t33_kid_null_is_rejected_not_taken_for_an_absent_kid(config):
    assert isinstance(rejected_header({**HEADER, "kid": None}, config), MalformedTokenError)


def test_typ_null_is_rejected_not_taken_for_an_absent_typ(config):
    assert isinstance(rejected_header({**HEADER, "typ": None}, config), MalformedTokenError)


def test_t34_kid_up_to_1024_characters_is_accepted(config):
    assert check_header({**HEADER, "kid": "k" * 1024}, config) == ("RS256", "k" * 1024)


@pytest.mark.parametrize("length", [1025, 64 * 1024])
def test_t34_an_over_long_kid_is_rejected(config, length):
    assert isinstance(rejected_header({**HEADER, "kid": "k" * length}, config), MalformedTokenError)


HOSTILE_KIDS = ["../../../../dev/null", "/proc/self/environ", "' OR '1'='1' --", "*)(uid=*"]


@pytest.mark.parametrize("kid", HOSTILE_KIDS)
def test_t34_hostile_kid_strings_are_only_ever_dictionary_keys(config, kid):
    assert check_header({**HEADER, "kid": kid}, config) == ("RS256", kid)


def test_t34_a_nul_in_kid_is_rejected_by_the_parser():
    assert_malformed(token_with("header", r'{"alg":"RS256","kid":"k1\u0000"}'))


@pytest.mark.parametrize(
    "typ",
    [None, "JWT", "jwt", "at+jwt", "AT+JWT", "at+JWT", "application/at+jwt", "Application/AT+JWT"],
)
def test_t35_lenient_mode_accepts_access_token_and_generic_jwt_types(config, typ):
    header = {"alg": "RS256", "kid": "k1"} if typ is None else {**HEADER, "typ": typ}
    assert check_header(header, config) == ("RS256", "k1")


@pytest.mark.parametrize(
    "typ", ["id+jwt", "dpop+jwt", "secevent+jwt", "logout+jwt", "at+jwt;v=1", "JOSE", ""]
)
def test_t35_lenient_mode_rejects_other_kinds_of_jwt(config, typ):
    assert isinstance(rejected_header({**HEADER, "typ": typ}, config), InvalidClaimsError)


@pytest.mark.parametrize(
    "typ", ["at+jwt", "AT+JWT", "at+JWT", "application/at+jwt", "Application/AT+JWT"]
)
def test_t35_strict_mode_accepts_only_at_jwt_in_any_case(strict, typ):
    assert check_header({**HEADER, "typ": typ}, strict) == ("RS256", "k1")


@pytest.mark.parametrize(
    "typ",
    [None, "JWT", "jwt", "application/jwt", "id+jwt", "dpop+jwt", "secevent+jwt", "at+jwt;v=1"],
)
def test_t35_strict_mode_rejects_absent_and_generic_types(strict, typ):
    header = {"alg": "RS256", "kid": "k1"} if typ is None else {**HEADER, "typ": typ}
    assert isinstance(rejected_header(header, strict), InvalidClaimsError)


@pytest.mark.parametrize("typ", [123, ["at+jwt"], {"at+jwt": 1}, True])
def test_t35_typ_that_is_not_a_string_is_rejected_in_both_modes(config, strict, typ):
    assert isinstance(rejected_header({**HEADER, "typ": typ}, config), MalformedTokenError)
    assert isinstance(rejected_header({**HEADER, "typ": typ}, strict), MalformedTokenError)


@pytest.mark.parametrize("cty", ["JWT", "jwt", "application/jwt", "Application/JWT"])
def test_t36_a_nested_jwt_is_rejected(config, cty):
    assert isinstance(rejected_header({**HEADER, "cty": cty}, config), MalformedTokenError)


# --- end to end through a Verifier and the in-process provider (T26, T32) -----------------


def rsa_public_key_encodings() -> dict[str, bytes]:
    key = rsa_key(0)
    public = key.public_key()
    spki = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return {
        "spki_pem": spki,
        "pkcs1_pem": public.public_bytes(Encoding.PEM, PublicFormat.PKCS1),
        "pem_with_leading_newline": b"\n" + spki,
        "der": public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
        "jwk_json": json.dumps(public_jwk(key, kid="k1", alg="RS256", use="sig")).encode(),
        "openssh": public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH),
        "modulus": public.public_numbers().n.to_bytes(256, "big"),
    }


@pytest.mark.parametrize(
    "encoding",
    ["spki_pem", "pkcs1_pem", "pem_with_leading_newline", "der", "jwk_json", "openssh", "modulus"],
)
def test_t26_hs256_signed_with_the_rsa_public_key_is_rejected_without_any_fetch(
    make_verifier, provider: Provider, verify: Verify, encoding
):
    secret = rsa_public_key_encodings()[encoding]
    token = sign_token({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(), secret)
    with pytest.raises(InvalidTokenError) as info:
        verify(make_verifier(), token)
    assert_quiet_invalid_token(info.value, token)
    assert not provider.hits


def test_t26_with_hs256_configured_the_hmac_key_is_the_secret_never_the_public_key(
    make_verifier, provider: Provider, verify: Verify
):
    secret = rsa_public_key_encodings()["spki_pem"]
    verifier = make_verifier(algorithms=["RS256", "HS256"], secret=b"k" * 32)
    token = sign_token({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(), secret)
    with pytest.raises(InvalidSignatureError) as info:
        verify(verifier, token)
    assert_quiet_invalid_token(info.value, token)
    assert not provider.hits
    # The configured secret itself works, still without touching the provider.
    good = sign_token({"alg": "HS256", "typ": "JWT"}, claims(), b"k" * 32)
    assert verify(verifier, good).subject == "auth0|123"
    assert not provider.hits


def test_t32_jku_and_embedded_jwk_are_ignored_and_the_provider_key_verifies(
    make_verifier, provider: Provider, verify: Verify
):
    attacker = rsa_key(1)
    token = provider.token(
        header={
            "jku": "https://evil.example/jwks",
            "x5u": "https://evil.example/cert.pem",
            "jwk": public_jwk(attacker, kid="k1", alg="RS256"),
            "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
        }
    )
    verified = verify(make_verifier(), token)
    assert verified.subject == "auth0|123"
    assert set(provider.hits) == PROVIDER_PATHS


@pytest.mark.parametrize(
    "injection",
    [
        {"jwk": "attacker"},
        {"jku": "https://evil.example/jwks"},
        {"x5u": "http://169.254.169.254/latest/meta-data/"},
        {"jku": "file:///etc/passwd", "jwk": "attacker"},
    ],
    ids=["embedded_jwk", "jku", "x5u_metadata", "jku_file_and_jwk"],
)
def test_t32_a_token_signed_by_an_attacker_key_named_in_its_header_is_rejected(
    make_verifier, provider: Provider, verify: Verify, injection
):
    attacker = rsa_key(1)
    header = {**HEADER, **injection}
    if header.get("jwk") == "attacker":
        header["jwk"] = public_jwk(attacker, kid="k1", alg="RS256", use="sig")
    token = sign_token(header, claims(), attacker)
    with pytest.raises(InvalidSignatureError) as info:
        verify(make_verifier(), token)
    assert_quiet_invalid_token(info.value, token)
    assert set(provider.hits) <= PROVIDER_PATHS  # never the attacker's URL


@pytest.mark.parametrize("kid", HOSTILE_KIDS)
def test_t34_a_hostile_kid_is_an_unknown_key(make_verifier, provider: Provider, kid):
    token = provider.token(header={"kid": kid})
    with pytest.raises(UnknownKeyError) as info:
        make_verifier().verify(token)
    assert_quiet_invalid_token(info.value, token)
    assert set(provider.hits) <= PROVIDER_PATHS


# --- a token whose header segment was parsed before -----------------------------------------------


def _outcome(token: str, header: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What ``parse_token`` answers: the parsed token, or the refusal's class and reason."""
    try:
        parsed = parse_token(token, MAX, header)
    except InvalidTokenError as refusal:
        return (type(refusal), refusal.reason)
    return (parsed.header, parsed.claims, parsed.signing_input, parsed.signature)


def _after_known_header() -> list[tuple[str, str]]:
    """What may follow a well-formed header segment and its dot: every shape the parser
    refuses or takes, each written from the segments of a real token."""
    _, body, signature = segments()
    duplicate, nested = b64url(b'{"a":1,"a":2}'), b64url(b'{"cnf":{"jkt":"x"},"a":[{}]}')
    return [
        ("the token's own rest", f"{body}.{signature}"),
        ("no signature segment", body),
        ("an empty signature", f"{body}."),
        ("an empty claims segment", f".{signature}"),
        ("a fourth segment", f"{body}.{signature}.{signature}"),
        ("five segments (a JWE's count)", f"{body}.{signature}.{body}.{signature}"),
        ("a character outside base64url in the claims", f"{body[:5]}+{body[6:]}.{signature}"),
        ("padding on the signature", f"{body}.{signature}="),
        ("a space in the signature", f"{body}.{signature[:4]} {signature[5:]}"),
        ("a non-ASCII character", f"{body}.{signature[:-1]}é"),
        ("a non-canonical last character of the claims", f"{body[:-1]}B.{signature}"),
        ("a non-canonical last character of the signature", f"{body}.{signature[:-1]}B"),
        ("a segment of length 1 mod 4", f"{body}A.{signature}"),
        ("claims that are not JSON", f"{b64url(b'not json')}.{signature}"),
        ("claims that are not an object", f"{b64url(b'[1,2]')}.{signature}"),
        ("claims with a duplicate name", f"{duplicate}.{signature}"),
        ("nested claims", f"{nested}.{signature}"),
        ("nothing at all", ""),
    ]


@pytest.mark.parametrize(
    ("case", "rest"), [pytest.param(*pair, id=pair[0]) for pair in _after_known_header()]
)
def test_a_remembered_header_changes_no_answer(case, rest):
    header_segment = segments()[0]
    remembered = parse_token(base_token(), MAX).header
    token = f"{header_segment}.{rest}"
    assert _outcome(token, remembered) == _outcome(token, None), case


def test_a_remembered_header_still_refuses_a_token_over_the_size_limit():
    header_segment, body, signature = segments()
    token = f"{header_segment}.{body}.{signature}"
    remembered = parse_token(base_token(), MAX).header
    with pytest.raises(MalformedTokenError, match="longer than"):
        parse_token(token, len(token) - 1, remembered)
