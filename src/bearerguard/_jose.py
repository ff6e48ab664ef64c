"""Strict parsing of a compact JWS before any cryptography or network.

Everything that can be refused cheaply is refused here: size, shape, alphabet,
non-canonical base64url, JSON that is not a strict UTF-8 object (duplicate
names, NaN/Infinity, huge numbers, deep nesting, lone surrogates), and header
parameters we do not understand (``crit``, ``b64``, nested JWTs).
"""

from __future__ import annotations

import binascii
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import EncryptedTokenError, MalformedTokenError

__all__ = ["ParsedToken", "b64url_decode", "parse_json_object", "parse_token"]

# A JWS compact serialization: three non-empty base64url segments (RFC 7515 §7.1).
_COMPACT_JWS = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
_COMPACT_JWE = re.compile(
    r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# The last character of a segment whose length is 2 or 3 (mod 4) carries 4 or 2
# unused bits; a canonical encoding leaves them zero (RFC 4648 §3.5), so only
# these characters may end such a segment.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
_TO_STANDARD = str.maketrans("-_", "+/")
_MAX_INT_DIGITS = 32  # far beyond any NumericDate; stops CVE-2020-10735-style work early
_MAX_HEADER_SIZE = 4096  # bytes of decoded header JSON; real headers are < 200
# Nesting of arrays and objects. Real claims nest a few levels; CPython's own limit
# (a RecursionError) depends on the version: 3.13 parses 5000 levels without one.
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A compact JWS split, decoded and parsed, but not yet verified."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


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


def parse_token(token: str, *, max_size: int) -> ParsedToken:
    """Split and decode a compact JWS; raise :class:`MalformedTokenError` on any deviation.

    Example::

        parsed = parse_token(raw, max_size=16384)
        parsed.header["alg"], parsed.claims["iss"]
    """
    if not isinstance(token, str):
        raise MalformedTokenError(reason="The token is not a string.")
    if len(token) > max_size:
        raise MalformedTokenError(reason=f"The token is longer than {max_size} characters.")
    match = _COMPACT_JWS.fullmatch(token)
    if match is None:
        if _COMPACT_JWE.fullmatch(token):
            raise EncryptedTokenError()
        raise MalformedTokenError(
            reason="The token is not three non-empty base64url segments separated by dots."
        )
    header_b64, claims_b64, signature_b64 = match.groups()
    if len(header_b64) > _MAX_HEADER_SIZE * 4 // 3 + 4:
        raise MalformedTokenError(reason="The token's header is implausibly large.")
    try:
        header_json = b64url_decode(header_b64)
        claims_json = b64url_decode(claims_b64)
        signature = b64url_decode(signature_b64)
    except (ValueError, binascii.Error):
        raise MalformedTokenError(reason="A segment is not canonical unpadded base64url.") from None
    header = parse_json_object(header_json, what="header")
    claims = parse_json_object(claims_json, what="claims")
    signing_input = token[: len(header_b64) + 1 + len(claims_b64)].encode("ascii")
    return ParsedToken(header, claims, signing_input, signature)


def parse_json_object(data: bytes, *, what: str) -> dict[str, Any]:
    """Parse strict UTF-8 JSON that must be an object; raise :class:`MalformedTokenError`."""
    try:
        text = data.decode("utf-8")  # strict: no UTF-16/32, no invalid sequences
    except UnicodeDecodeError:
        raise MalformedTokenError(reason=f"The {what} is not UTF-8.") from None
    if text.lstrip(" \t\n\r")[:1] != "{":  # objects only; a BOM is not JSON whitespace
        raise MalformedTokenError(reason=f"The {what} is not a JSON object.")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError, our hooks, and CPython's int digit limit.
        raise MalformedTokenError(reason=f"The {what} is not strict JSON.") from None
    if not isinstance(value, dict):
        raise MalformedTokenError(reason=f"The {what} is not a JSON object.")
    # Both checks need a walk over the parsed value, which real tokens never pay for:
    # each level of nesting needs an opening bracket, and escapes are the only way
    # to smuggle lone surrogates or NUL into strings.
    may_be_deep = text.count("[") + text.count("{") > _MAX_DEPTH
    may_hide_characters = "\\u" in text
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
