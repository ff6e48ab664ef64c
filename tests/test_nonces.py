"""Stateless DPoP server nonces: every server with the secret accepts them, nobody else makes one.

A nonce is the period number and a MAC of it; it is accepted in the period it was
issued in and the next, never earlier, never later. Whatever a client puts in its
proof's ``nonce`` claim, ``accepts`` answers True or False and never raises.
"""

from __future__ import annotations

import ast
import base64
import math
import re
import secrets
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bearerguard import ConfigurationError
from bearerguard._nonces import NONCE_LENGTH, NonceSource

SECRET = "correct horse battery staple, 32+ bytes"
PERIOD = 60.0
NOW = 1_700_000_000.0  # 28 333 333 periods of 60 s, plus 20 s
START = math.floor(NOW / PERIOD) * PERIOD  # where NOW's period starts
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@pytest.fixture
def nonces() -> NonceSource:
    return NonceSource(SECRET, period=PERIOD)


class TestIssue:
    def test_a_nonce_issued_is_accepted(self, nonces):
        assert nonces.accepts(nonces.issue(NOW), NOW)

    def test_the_format_is_the_period_number_and_a_truncated_mac_in_base64url(self, nonces):
        nonce = nonces.issue(NOW)
        assert len(nonce) == NONCE_LENGTH == 32
        assert BASE64URL.fullmatch(nonce)
        raw = base64.urlsafe_b64decode(nonce)
        assert len(raw) == 24
        assert int.from_bytes(raw[:8], "big") == int(NOW // PERIOD)

    def test_the_derivation_is_fixed_so_every_version_accepts_every_other(self, nonces):
        # Workers upgraded one by one must keep accepting each other's nonces: this value
        # was computed from the documented format, independently of the module.
        assert nonces.issue(NOW) == "AAAAAAGwVRWwnBluMmaqAkxkRdbph7tB"

    def test_the_same_nonce_is_issued_for_the_whole_period(self, nonces):
        issued = {nonces.issue(START + offset) for offset in (0, 0.001, 20, 59.999)}
        assert len(issued) == 1

    def test_a_new_nonce_is_issued_every_period(self, nonces):
        issued = [nonces.issue(START + i * PERIOD) for i in range(10)]
        assert len(set(issued)) == 10
        assert nonces.issue(START + PERIOD - 0.001) != nonces.issue(START + PERIOD)

    def test_issue_still_answers_when_the_clock_goes_back(self, nonces):
        later, now = nonces.issue(NOW + 3 * PERIOD), nonces.issue(NOW)
        assert nonces.issue(NOW + 3 * PERIOD) == later
        assert nonces.issue(NOW) == now
        assert nonces.accepts(now, NOW)

    @pytest.mark.parametrize("now", [-1.0, math.nan, math.inf, -math.inf, 1e300])
    def test_issue_refuses_a_time_with_no_period(self, nonces, now):
        with pytest.raises(ValueError, match="seconds since the epoch"):
            nonces.issue(now)

    def test_the_first_period_has_no_previous_one_yet_works_like_any_other(self, nonces):
        first = nonces.issue(0)
        assert nonces.accepts(first, 0)
        assert nonces.accepts(first, 2 * PERIOD - 1)
        assert not nonces.accepts(nonces.issue(PERIOD), PERIOD - 1)


class TestWindow:
    def test_the_previous_periods_nonce_is_accepted(self, nonces):
        assert nonces.accepts(nonces.issue(NOW - PERIOD), NOW)

    def test_a_nonce_two_periods_back_is_refused(self, nonces):
        assert not nonces.accepts(nonces.issue(NOW - 2 * PERIOD), NOW)
        assert not nonces.accepts(nonces.issue(NOW - 100 * PERIOD), NOW)

    def test_a_nonce_of_a_later_period_is_refused(self, nonces):
        assert not nonces.accepts(nonces.issue(NOW + PERIOD), NOW)
        assert not nonces.accepts(nonces.issue(NOW + 2 * PERIOD), NOW)

    def test_a_nonce_lives_at_least_one_period_and_at_most_two(self, nonces):
        first, last = nonces.issue(START), nonces.issue(START + PERIOD - 0.001)
        assert first == last
        assert nonces.accepts(first, START + 2 * PERIOD - 0.001)  # two periods, all but 1 ms
        assert not nonces.accepts(first, START + 2 * PERIOD)
        # Issued in the last millisecond of its period, it lives one period and 1 ms.
        assert not nonces.accepts(last, START + 2 * PERIOD)

    @pytest.mark.parametrize("now", [-1.0, math.nan, math.inf, -math.inf, 1e300])
    def test_accepts_answers_false_for_a_time_with_no_period(self, nonces, now):
        assert nonces.accepts(nonces.issue(NOW), now) is False

    def test_the_period_setting_sets_the_window(self):
        hourly = NonceSource(SECRET, period=3600)
        nonce = hourly.issue(0)
        assert hourly.accepts(nonce, 7199)
        assert not hourly.accepts(nonce, 7200)


class TestSharing:
    def test_two_workers_with_the_same_secret_accept_each_others_nonces(self):
        one, two = NonceSource(SECRET), NonceSource(SECRET)
        assert two.accepts(one.issue(NOW), NOW)
        assert one.accepts(two.issue(NOW), NOW + PERIOD)

    def test_a_str_secret_is_its_utf8_bytes(self):
        secret = "clé partagée entre les serveurs, 32+ octets"
        assert NonceSource(secret).issue(NOW) == NonceSource(secret.encode()).issue(NOW)

    def test_another_secrets_nonce_is_refused(self, nonces):
        other = NonceSource(SECRET + "!", period=PERIOD)
        assert not nonces.accepts(other.issue(NOW), NOW)
        assert not other.accepts(nonces.issue(NOW), NOW)

    def test_the_period_setting_is_part_of_the_nonce(self, nonces):
        # Workers must agree on the period too: another period numbers the time otherwise.
        assert not nonces.accepts(NonceSource(SECRET, period=30).issue(NOW), NOW)


def flipped_bits(nonce: str) -> list[str]:
    """Every spelling of ``nonce`` with one bit of its decoded bytes flipped."""
    raw = base64.urlsafe_b64decode(nonce)
    out = []
    for bit in range(len(raw) * 8):
        tampered = bytearray(raw)
        tampered[bit // 8] ^= 0x80 >> (bit % 8)
        out.append(base64.urlsafe_b64encode(bytes(tampered)).decode())
    return out


def a_nonce_containing(nonces: NonceSource, characters: str) -> str:
    """A nonce (of some period near NOW) in which one of ``characters`` appears."""
    for i in range(1000):
        nonce = nonces.issue(NOW - PERIOD + i * PERIOD / 1000)
        if any(c in nonce for c in characters):
            return nonce
    raise AssertionError("no such nonce")  # pragma: no cover - 1 in 10^30


class TestHostileNonces:
    def test_every_single_bit_flip_is_refused(self, nonces):
        variants = flipped_bits(nonces.issue(NOW))
        assert len(variants) == 192
        assert not any(nonces.accepts(v, NOW) for v in variants)

    def test_every_single_bit_flip_of_the_text_is_refused_without_an_exception(self, nonces):
        nonce = nonces.issue(NOW)
        for i, character in enumerate(nonce):
            for bit in range(8):
                variant = nonce[:i] + chr(ord(character) ^ (1 << bit)) + nonce[i + 1 :]
                assert nonces.accepts(variant, NOW) is False, (i, bit)

    def test_a_made_up_nonce_of_the_right_shape_is_refused(self, nonces):
        number = int(NOW // PERIOD).to_bytes(8, "big")
        for _ in range(100):
            forged = base64.urlsafe_b64encode(number + secrets.token_bytes(16)).decode()
            assert not nonces.accepts(forged, NOW)

    def test_wrong_lengths_are_refused(self, nonces):
        nonce = nonces.issue(NOW)
        for variant in ("", nonce[:-1], nonce + "A", nonce + "=", nonce + "==", nonce * 2):
            assert nonces.accepts(variant, NOW) is False

    def test_a_huge_value_is_refused_by_its_length_alone(self, nonces):
        assert nonces.accepts("A" * 10_000_000, NOW) is False

    def test_padding_in_place_of_a_character_is_refused(self, nonces):
        nonce = nonces.issue(NOW)
        assert not nonces.accepts(nonce[:-1] + "=", NOW)
        assert not nonces.accepts(nonce[:-2] + "==", NOW)

    def test_standard_base64_spellings_are_refused(self, nonces):
        nonce = a_nonce_containing(nonces, "-_")
        standard = nonce.replace("-", "+").replace("_", "/")
        assert base64.b64decode(standard) == base64.urlsafe_b64decode(nonce)  # same bytes
        assert nonces.accepts(nonce, NOW)
        assert not nonces.accepts(standard, NOW)

    @pytest.mark.parametrize("noise", [" ", "\n", "\t", ".", "\x00"])
    def test_noise_in_place_of_a_character_is_refused(self, nonces, noise):
        nonce = nonces.issue(NOW)
        for i in (0, 15, 31):
            assert not nonces.accepts(nonce[:i] + noise + nonce[i + 1 :], NOW)

    @pytest.mark.parametrize("character", ["é", "\u0410", "\uff21", "\U0001f600", "\udc80"])
    def test_non_ascii_characters_are_refused_without_an_exception(self, nonces, character):
        nonce = nonces.issue(NOW)
        assert nonces.accepts(character + nonce[1:], NOW) is False
        assert nonces.accepts(nonce[:31] + character, NOW) is False

    def test_letter_case_matters(self, nonces):
        nonce = a_nonce_containing(nonces, "abcdefghijklmnopqrstuvwxyz")
        assert not nonces.accepts(nonce.swapcase(), NOW)

    @pytest.mark.parametrize(
        "value",
        [None, 0, 1.5, True, [], {}, b"", object()],
    )
    def test_values_that_are_no_string_are_refused(self, nonces, value):
        assert nonces.accepts(value, NOW) is False

    def test_the_right_nonce_in_another_type_is_refused(self, nonces):
        nonce = nonces.issue(NOW)
        for value in (nonce.encode(), bytearray(nonce.encode()), [nonce], {"nonce": nonce}):
            assert nonces.accepts(value, NOW) is False

    def test_a_str_subclass_is_refused_even_one_that_lies_about_itself(self, nonces):
        class Liar(str):
            def __len__(self) -> int:
                return NONCE_LENGTH

            def isascii(self) -> bool:
                return True

        nonce = nonces.issue(NOW)
        assert nonces.accepts(Liar(nonce), NOW) is False
        assert nonces.accepts(Liar("é" * 40), NOW) is False

    @settings(max_examples=300, deadline=None)
    @given(value=st.one_of(st.text(), st.text(alphabet="AB-_=+/é\x00", min_size=32, max_size=32)))
    def test_any_text_gets_a_boolean_answer(self, value):
        nonces = NonceSource(SECRET, period=PERIOD)
        assert nonces.accepts(value, NOW) is (value == nonces.issue(NOW))


class TestSettings:
    @pytest.mark.parametrize(
        ("secret", "words"),
        [
            (None, "unset environment variable"),
            ("", "0 bytes (an unset environment variable?)"),
            ("hunter2-hunter2", "at least 32 bytes"),
            ("x7" * 15 + "y", "got 31 bytes"),
            (b"\x01\x02" * 15 + b"\x03", "got 31 bytes"),
            ("Z" * 64, "not one character repeated"),
            (b"\x00" * 32, "not one character repeated"),
            ("é" * 20, "not one character repeated"),
            ("\ud800" + "a" * 40, "UTF-8"),
            (12345678901234567890123456789012345, "a value of type int"),
            (bytearray(b"k" * 16 + b"j" * 16), "a value of type bytearray"),
            (["a-secret-in-a-list-of-32-characters"], "a value of type list"),
        ],
    )
    def test_a_bad_secret_is_refused_with_what_to_do_and_never_shown(self, secret, words):
        with pytest.raises(ConfigurationError) as caught:
            NonceSource(secret)
        message = str(caught.value)
        assert caught.value.setting == "dpop_nonce"
        assert words in message
        assert "python -c 'import secrets; print(secrets.token_urlsafe(32))'" in message
        if secret:
            assert repr(secret) not in message
            shown = secret if isinstance(secret, str) else repr(secret)
            assert shown[:12] not in message

    def test_a_secret_is_counted_in_utf8_bytes(self):
        NonceSource("é" * 15 + "ab")  # 17 characters, 32 bytes
        with pytest.raises(ConfigurationError, match="got 31 bytes"):
            NonceSource("é" * 14 + "abc")

    def test_the_command_in_the_message_makes_an_acceptable_secret(self):
        NonceSource(secrets.token_urlsafe(32))
        NonceSource(secrets.token_bytes(32))

    @pytest.mark.parametrize(
        ("period", "words"),
        [
            (9.99, "between 10 and 3600 seconds"),
            (3600.5, "between 10 and 3600 seconds"),
            (0, "between 10 and 3600 seconds"),
            (-60, "between 10 and 3600 seconds"),
            (math.nan, "between 10 and 3600 seconds"),
            (math.inf, "between 10 and 3600 seconds"),
            (True, "a number of seconds"),
            ("60", "a number of seconds; got the str '60'"),
            (None, "a number of seconds; got None"),
        ],
    )
    def test_a_bad_period_is_refused_naming_the_setting(self, period, words):
        with pytest.raises(ConfigurationError) as caught:
            NonceSource(SECRET, period=period)
        assert caught.value.setting == "dpop_nonce"
        assert "period" in str(caught.value)
        assert words in str(caught.value)
        assert "NonceSource(secret, period=60)" in str(caught.value)
        assert SECRET not in str(caught.value)

    @pytest.mark.parametrize("period", [10, 10.0, 60, 3600, 3600.0])
    def test_periods_from_10_seconds_to_an_hour_are_taken(self, period):
        assert NonceSource(SECRET, period=period).period == float(period)

    def test_the_default_period_is_a_minute(self):
        assert NonceSource(SECRET).period == 60.0

    def test_the_secret_is_neither_shown_nor_kept(self, nonces):
        assert repr(nonces) == "NonceSource(period=60)"
        held = [getattr(nonces, name) for name in type(nonces).__slots__]
        assert SECRET not in repr(held)
        assert SECRET.encode() not in held


def test_the_module_is_pure():
    """It joins the I/O-free core: the standard library's hashing and encoding, nothing else."""
    import bearerguard._nonces as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported <= {
        "__future__",
        "base64",
        "hashlib",
        "hmac",
        "math",
        "typing",
        "._coerce",
        "._errors",
    }
