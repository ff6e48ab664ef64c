"""Strict parsing of a compact JWS before any cryptography or network.

Everything that can be refused cheaply is refused here: size, shape, alphabet,
non-canonical base64url, JSON that is not a strict UTF-8 object (duplicate
names, NaN/Infinity, huge numbers, deep nesting, lone surrogates), and header
parameters we do not understand (``crit``, ``b64``, nested JWTs).
"""

from __future__ import annotations

import binascii
import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ._errors import EncryptedTokenError, MalformedTokenError

__all__ = [
    "ParsedToken",
    "b64url_decode",
    "b64url_encode",
    "looks_like_jwt",
    "parse_json_object",
    "parse_token",
]

# A JWS compact serialization is three non-empty base64url segments (RFC 7515 §7.1);
# an encrypted one (JWE) has five.
_COMPACT_JWE = re.compile(
    r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# An opaque (reference) token: one run of RFC 6750 b64token characters, no dots.
_OPAQUE = re.compile(r"[A-Za-z0-9_~+/-]+=*")
_JSON_WHITESPACE = " \t\n\r"
# The last character of a segment whose length is 2 or 3 (mod 4) carries 4 or 2
# unused bits; a canonical encoding leaves them zero (RFC 4648 §3.5), so only
# these characters may end such a segment.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
_TO_STANDARD = str.maketrans("-_", "+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# By length mod 4, the bytes that cannot end a canonical segment: none for 0, any for 1
# (no such length), and all but the characters above for 2 and 3.
_NON_CANONICAL_LAST = (
    frozenset[int](),
    frozenset(range(256)),
    frozenset(range(256)) - frozenset(map(ord, _CANONICAL_LAST[2])),
    frozenset(range(256)) - frozenset(map(ord, _CANONICAL_LAST[3])),
)


def _standard_or_mark() -> bytes:
    """A translate table: base64url to standard base64, dots kept, anything else to "!"."""
    table = bytearray(b"!" * 256)
    for byte in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.":
        table[byte] = byte
    table[ord("-")], table[ord("_")] = ord("+"), ord("/")
    return bytes(table)


_TO_STANDARD_OR_MARK = _standard_or_mark()
_PADDING = (b"", b"", b"==", b"=")  # by length mod 4; 1 never reaches the decoder
_MAX_INT_DIGITS = 32  # far beyond any NumericDate; stops CVE-2020-10735-style work early
_MAX_HEADER_SIZE = 4096  # bytes of decoded header JSON; real headers are < 200
MAX_HEADER_SEGMENT = _MAX_HEADER_SIZE * 4 // 3 + 4  # characters of its base64url
# Nesting of arrays and objects. Real claims nest a few levels; CPython's own limit
# (a RecursionError) depends on the version: 3.13 parses 5000 levels without one.
_MAX_DEPTH = 64


class ParsedToken(NamedTuple):
    """A compact JWS split, decoded and parsed, but not yet verified.

    Immutable; a named tuple because the hot path builds one per token.
    """

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


# One per token: tuple.__new__ skips the named tuple's Python-level __new__.
_parsed_token: Callable[[tuple[Any, ...]], ParsedToken] = functools.partial(
    tuple.__new__, ParsedToken
)


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded, canonical base64url (RFC 7515 §2); raise ``ValueError`` otherwise.

    Example::

        b64url_decode("eyJhIjoxfQ")   # b'{"a":1}'
        b64url_decode("eyJhIjoxfR")   # ValueError: non-zero unused bits
    """
    rest = len(segment) % 4
    if rest == 1 or not _B64URL.fullmatch(segment):
        raise ValueError("not base64url")
    if rest and segment[-1] not in _CANONICAL_LAST[rest]:
        raise ValueError("non-canonical base64url")
    return binascii.a2b_base64(segment.translate(_TO_STANDARD) + "=" * (-len(segment) % 4))


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2), the form every JOSE value takes.

    Example::

        b64url_encode(b'{"a":1}')   # 'eyJhIjoxfQ'
    """
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def parse_token(  # the verifier passes its arguments positionally: a faster call
    token: str, max_size: int, header: Mapping[str, Any] | None = None
) -> ParsedToken:
    """Split and decode a compact JWS; raise :class:`MalformedTokenError` on any deviation.

    ``header`` is what this function returned earlier for a token with the very same
    header segment, which ``token`` starts with (followed by its dot): the segment is
    then neither checked, decoded nor parsed again (the verifier remembers the headers
    of tokens that passed). Every other check still runs, and the answer is the same.

    Example::

        parsed = parse_token(raw, max_size=16384)
        parsed.header["alg"], parsed.claims["iss"]
    """
    if not isinstance(token, str):
        raise MalformedTokenError(reason="The token is not a string.")
    if len(token) > max_size:
        raise MalformedTokenError(reason=f"The token is longer than {max_size} characters.")
    # The shape, without a regex pass over the whole token: ASCII, nothing but the
    # base64url alphabet and two dots, three non-empty segments. One bytes-level
    # translate (``str.translate`` is several times slower) both maps base64url to
    # standard base64 and marks every byte outside the alphabet with "!".
    if not token.isascii():
        raise _shape_error(token)
    data = token.encode("ascii")
    if header is not None:
        return _parse_after_known_header(token, data, header)
    standard = data.translate(_TO_STANDARD_OR_MARK)
    segments = standard.split(b".")
    if len(segments) != 3 or b"!" in standard:
        raise _shape_error(token)
    header_std, claims_std, signature_std = segments
    if not (header_std and claims_std and signature_std):
        raise _shape_error(token)
    if len(header_std) > MAX_HEADER_SEGMENT:
        raise MalformedTokenError(reason="The token's header is implausibly large.")
    # Canonical unpadded base64url, judged by each segment's last character: the canonical
    # last characters are all letters or digits, which the translate left alone, so the
    # standard form's last byte tells as well.
    claims_rest, signature_rest = len(claims_std) & 3, len(signature_std) & 3
    if (
        claims_std[-1] in _NON_CANONICAL_LAST[claims_rest]
        or signature_std[-1] in _NON_CANONICAL_LAST[signature_rest]
        or header_std[-1] in _NON_CANONICAL_LAST[len(header_std) & 3]
    ):
        raise MalformedTokenError(reason="A segment is not canonical unpadded base64url.")
    try:
        header_json = binascii.a2b_base64(header_std + _PADDING[len(header_std) & 3])
        claims_json = binascii.a2b_base64(claims_std + _PADDING[claims_rest])
        signature = binascii.a2b_base64(signature_std + _PADDING[signature_rest])
    except binascii.Error:  # pragma: no cover - the checks above leave nothing to refuse
        raise MalformedTokenError(reason="A segment is not canonical unpadded base64url.") from None
    parsed_header = parse_json_object(header_json, "header")
    claims = parse_json_object(claims_json, "claims")
    signing_input = data[: len(header_std) + 1 + len(claims_std)]
    return _parsed_token((parsed_header, claims, signing_input, signature))


def _parse_after_known_header(token: str, data: bytes, header: Mapping[str, Any]) -> ParsedToken:
    """:func:`parse_token` of an ASCII ``token`` whose header segment it parsed before
    (``header``), with the same answer, reading only what follows that segment.

    The segment runs up to the first dot and passed every check a header segment gets
    (alphabet, size, canonical form, its JSON): the token has three segments exactly when
    the rest holds one dot, and a stray character anywhere exactly when it is in the rest.
    So the translate, the shape checks and the decoding cover the claims and the
    signature alone: some 200 characters less to translate for a DPoP proof, whose
    header carries its key.
    """
    header_end = data.find(b".")
    rest = data[header_end + 1 :].translate(_TO_STANDARD_OR_MARK)
    if header_end <= 0 or rest.count(b".") != 1 or b"!" in rest:
        raise _shape_error(token)
    claims_std, _, signature_std = rest.partition(b".")
    if not (claims_std and signature_std):
        raise _shape_error(token)
    claims_rest, signature_rest = len(claims_std) & 3, len(signature_std) & 3
    if (
        claims_std[-1] in _NON_CANONICAL_LAST[claims_rest]
        or signature_std[-1] in _NON_CANONICAL_LAST[signature_rest]
    ):
        raise MalformedTokenError(reason="A segment is not canonical unpadded base64url.")
    try:
        claims_json = binascii.a2b_base64(claims_std + _PADDING[claims_rest])
        signature = binascii.a2b_base64(signature_std + _PADDING[signature_rest])
    except binascii.Error:  # pragma: no cover - the checks above leave nothing to refuse
        raise MalformedTokenError(reason="A segment is not canonical unpadded base64url.") from None
    claims = parse_json_object(claims_json, "claims")
    signing_input = data[: header_end + 1 + len(claims_std)]
    return _parsed_token((header, claims, signing_input, signature))


def _shape_error(token: str) -> MalformedTokenError | EncryptedTokenError:
    """The error for a token that is not a compact JWS: an encrypted one gets its own."""
    if _COMPACT_JWE.fullmatch(token):
        return EncryptedTokenError()
    if "." not in token and _OPAQUE.fullmatch(token):
        return MalformedTokenError(
            reason="The token is not a JWT: it looks like an opaque access token, which only "
            "its issuer can read. Providers issue those when the client names no API (e.g. "
            "for their own userinfo endpoint): request the token with your API's identifier "
            "as its audience (resource, RFC 8707) to get a JWT this API can verify."
        )
    return MalformedTokenError(
        reason="The token is not three non-empty base64url segments separated by dots."
    )


def parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse strict UTF-8 JSON that must be an object; raise :class:`MalformedTokenError`."""
    try:
        text = data.decode("utf-8")  # strict: no UTF-16/32, no invalid sequences
    except UnicodeDecodeError:
        raise MalformedTokenError(reason=f"The {what} is not UTF-8.") from None
    start = 0
    if text[:1] != "{":  # real tokens start right away; whitespace may come first
        start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
        if text[start : start + 1] != "{":  # objects only; a BOM is not JSON whitespace
            raise MalformedTokenError(reason=f"The {what} is not a JSON object.")
    # A search stops at the first hit, a count reads it all: the usual claims hold one "{".
    objects = 1 if text.find("{", start + 1) < 0 else text.count("{")
    try:
        # The decoder's scanner itself: ``loads``/``decode`` add layers of Python calls.
        # With a single "{" (the usual claims), there is one object and no nested one: the
        # scanner hands its members over as a tuple, and the duplicate check runs here
        # instead of in a Python hook.
        value, end = (_SCAN_MEMBERS if objects == 1 else _SCAN)(text, start)
    except (ValueError, RecursionError, StopIteration):
        # ValueError covers JSONDecodeError, our hooks, and CPython's int digit limit.
        raise MalformedTokenError(reason=f"The {what} is not strict JSON.") from None
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        raise MalformedTokenError(reason=f"The {what} is not strict JSON.")
    if objects == 1:
        members = value
        value = dict(members)
        if len(value) != len(members):
            raise MalformedTokenError(reason=f"The {what} is not strict JSON.")
    if type(value) is not dict:  # pragma: no cover - "{" always opens an object
        raise MalformedTokenError(reason=f"The {what} is not a JSON object.")
    # Both checks need a walk over the parsed value, which real tokens never pay for:
    # each level of nesting needs an opening bracket, and escapes are the only way
    # to smuggle lone surrogates or NUL into strings ("\\" alone is a far quicker search).
    may_be_deep = objects > _MAX_DEPTH or ("[" in text and objects + text.count("[") > _MAX_DEPTH)
    may_hide_characters = "\\" in text and "\\u" in text
    if may_be_deep or may_hide_characters:
        problem = _inspect(value, depth=may_be_deep, strings=may_hide_characters)
        if problem:
            raise MalformedTokenError(reason=f"The {what} {problem}.")
    return value


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # RFC 7515 §4 / RFC 7519 §4: names must be unique; last-wins parsers disagree
        # with first-wins ones (gateways, logs), so refuse instead of picking one.
        raise ValueError("duplicate member name")
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(digits: str) -> int:
    if len(digits) > _MAX_INT_DIGITS:
        raise ValueError("integer too large")
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


# Built once: ``json.loads`` with hooks would build a new decoder on every call. The hooks
# for floats and constants cost nothing unless the text holds such a number.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates,
    parse_constant=_reject_constant,
    parse_int=_parse_int,
    parse_float=_parse_float,
)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_SCAN_MEMBERS: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(
    object_pairs_hook=tuple,  # a C type: no Python call per object
    parse_constant=_reject_constant,
    parse_int=_parse_int,
    parse_float=_parse_float,
).scan_once  # type: ignore[attr-defined]


def _inspect(value: Any, *, depth: bool, strings: bool) -> str | None:
    """One walk for both rare checks; too deep a nesting is reported first."""
    bad_string = False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if strings and not bad_string and not _clean_string(item):
                bad_string = True
                if not depth:
                    break
        elif isinstance(item, dict | list):
            if depth and level > _MAX_DEPTH:
                return "nests arrays or objects too deeply"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return "holds a lone surrogate or NUL character in a string" if bad_string else None


def _clean_string(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def looks_like_jwt(token: str) -> bool:
    """A compact JWS (three parts) or JWE (five), whose header is a JSON object (``eyJ``:
    ``{"`` in base64url). Opaque tokens may hold dots (``ory_at_...``), never that shape."""
    return token.startswith("eyJ") and token.count(".") in (2, 4)
