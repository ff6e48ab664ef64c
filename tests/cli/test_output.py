"""The printing helpers: readable times, safe text, valid JSON, sections."""

from __future__ import annotations

import json

import pytest

from bearerguard._cli._output import (
    iso_time,
    pretty_json,
    relative_time,
    safe,
    section,
    time_claims,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "now"),
        (-0.4, "now"),
        (42, "in 42 s"),
        (-42, "42 s ago"),
        (3540, "in 59 min"),
        (3599.9, "in 59 min"),
        (3600, "in 1 h"),
        (-10800, "3 h ago"),
        (47 * 3600, "in 47 h"),
        (-3 * 86400, "3 days ago"),
    ],
)
def test_relative_times_read_like_speech(seconds: float, text: str):
    assert relative_time(seconds) == text


def test_iso_times_are_utc_whole_seconds_across_the_calendar():
    assert iso_time(0) == "1970-01-01T00:00:00Z"
    assert iso_time(1_800_000_000.9) == "2027-01-15T08:00:00Z"
    assert iso_time(-86400) == "1969-12-31T00:00:00Z"
    assert iso_time(253402300799) == "9999-12-31T23:59:59Z"


def test_only_numeric_dates_get_readable_times():
    claims = {"exp": 1_800_000_000, "iat": True, "nbf": "1800000000", "auth_time": 1e300, "x": 1}
    times = time_claims(claims, now=1_800_000_000 - 60)
    assert times == {
        "exp": {"value": 1_800_000_000, "utc": "2027-01-15T08:00:00Z", "relative": "in 1 min"}
    }


def test_unprintable_characters_are_escaped_and_the_rest_kept():
    assert safe("José 東京") == "José 東京"
    assert safe("a\x1b[31mb") == "a\\u001b[31mb"
    assert safe("\u202egnp.exe") == "\\u202egnp.exe"  # right-to-left override
    assert safe("line\nbreak") == "line\\nbreak"


def test_pretty_json_stays_valid_json_with_hostile_strings():
    value = {"name": "José\x1b[2J\u2028", "n": [1, 2.5, None, True]}
    text = pretty_json(value)
    assert "\x1b" not in text
    assert "\u2028" not in text
    assert json.loads(text) == value


def test_sections_indent_their_body():
    assert section("TITLE", ["a", "  b"]) == "TITLE\n  a\n    b"
    assert section("EMPTY") == "EMPTY"
