"""Stateless DPoP server nonces (RFC 9449 §8-9): any server that shares the secret accepts them.

A server that wants proofs made *after* a given moment hands clients a nonce
(``DPoP-Nonce``) to put in their proofs. Remembering which nonces were issued
would need state shared by every worker and host; instead a nonce here is the
number of the current period (``floor(now / period)``) and a MAC of it under a
key derived from a shared secret. Any process holding the secret recomputes the
MAC, so every worker accepts every other worker's nonces, with nothing shared
but the secret and the clock.

A nonce is accepted during the period it was issued in and the next one: at
least ``period`` and at most twice ``period`` seconds after it was issued. A
nonce of a later period than the current one is never accepted (a clock running
behind refuses the nonces of one running ahead; the client gets a fresh nonce
with the refusal and retries).

The format: base64url, without padding, of the period number as 8 big-endian
bytes followed by the first 16 bytes of HMAC-SHA256(key, label || those 8
bytes), 32 characters in all; ``key`` is HMAC-SHA256(secret, another label), so
the secret itself never keys a MAC that clients see.

Pure: no I/O, no threads. An instance may be shared by threads: its only state
is the current period's nonces, replaced whole (a race computes them twice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from typing import NamedTuple

from ._coerce import given, refuse
from ._errors import ConfigurationError

__all__ = ["NONCE_LENGTH", "NonceSource"]

_SETTING = "dpop_nonce"
_GENERATE = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_MIN_SECRET_BYTES = 32
_MIN_PERIOD = 10.0
_MAX_PERIOD = 3600.0
# Fixed context labels: the key and the MACs of these nonces can never be confused with
# another use of the same secret.
_KEY_LABEL = b"bearerguard/dpop-nonce/key/v1"
_MAC_LABEL = b"bearerguard/dpop-nonce/v1\x00"
_COUNTER_BYTES = 8
_MAC_BYTES = 16
_PERIODS = 1 << (8 * _COUNTER_BYTES)  # period numbers that fit the 8 bytes
#: characters in a nonce: 24 bytes are 32 base64url characters, with no padding to drop
NONCE_LENGTH = 32


def _secret_bytes(secret: object) -> bytes:
    if isinstance(secret, str):
        try:
            data = secret.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 bytes to derive a key from
            raise ConfigurationError(
                f"{_SETTING} must be a secret that UTF-8 can encode; got a str with a lone "
                f"surrogate. Use a random one shared by all your servers: {_GENERATE}.",
                setting=_SETTING,
            ) from None
        characters: set[object] = set(secret)
    elif isinstance(secret, bytes):
        data = bytes(secret)
        characters = set(data)
    else:
        raise ConfigurationError(
            f"{_SETTING} must be a secret string (or bytes) shared by all your servers; got "
            f"{given(secret, secret=True)}. Pass a random one: {_GENERATE}.",
            setting=_SETTING,
        )
    if len(data) < _MIN_SECRET_BYTES:
        unset = " (an unset environment variable?)" if not data else ""
        raise ConfigurationError(
            f"{_SETTING} must be a secret of at least {_MIN_SECRET_BYTES} bytes (a str counts "
            f"in UTF-8); got {len(data)} bytes{unset}. Pass a random one shared by all your "
            f"servers: {_GENERATE}.",
            setting=_SETTING,
        )
    if len(characters) == 1:
        raise ConfigurationError(
            f"{_SETTING} must be a random secret, not one character repeated. Pass a random "
            f"one shared by all your servers: {_GENERATE}.",
            setting=_SETTING,
        )
    return data


def _period_seconds(period: object) -> float:
    example = "NonceSource(secret, period=60)"
    if isinstance(period, bool) or not isinstance(period, (int, float)):
        raise refuse(_SETTING, "period must be a number of seconds", period, example)
    if not _MIN_PERIOD <= period <= _MAX_PERIOD:  # nan fails both comparisons
        raise refuse(
            _SETTING,
            f"period must lie between {_MIN_PERIOD:g} and {_MAX_PERIOD:g} seconds",
            period,
            example,
        )
    return float(period)


class _Period(NamedTuple):
    start: float
    end: float
    current: str  # its nonce
    previous: str  # the previous period's nonce; "" for period 0, which has none


class NonceSource:
    """Issues and checks the server nonces of every server that shares ``secret``.

    ``secret``: at least 32 bytes, the same on every worker and host (a str is
    encoded in UTF-8). ``period``: seconds between two nonces, 10 to 3600; a nonce
    is accepted for at least one period and at most two.

    Example::

        nonces = NonceSource(secret, period=60)
        nonce = nonces.issue(now)        # the same string until the period ends
        nonces.accepts(nonce, now + 90)  # True: the previous period's nonce
        nonces.accepts(nonce, now + 150) # False: two periods on; send a fresh one
    """

    __slots__ = ("_key", "_memo", "period")

    def __init__(self, secret: str | bytes, *, period: float = 60.0) -> None:
        # The raw secret is not kept: only the key derived from it.
        self._key = hmac.digest(_secret_bytes(secret), _KEY_LABEL, hashlib.sha256)
        self.period = _period_seconds(period)
        # The current period: where it starts and ends, its nonce and the previous one ("" in
        # period 0), replaced whole. A call within the period compares two floats and
        # computes nothing; a MAC is computed once per period (a race computes it twice).
        self._memo: _Period = _Period(0.0, -1.0, "", "")

    def issue(self, now: float) -> str:
        """The nonce of the period ``now`` falls in: the same string for the whole period.

        Raises ValueError for a ``now`` that is negative, infinite or nan.
        """
        memo = self._memo
        if not memo.start <= now < memo.end:
            renewed = self._renew(now)
            if renewed is None:
                raise ValueError(f"now must be a time in seconds since the epoch, got {now!r}")
            memo = renewed
        return memo.current

    def accepts(self, nonce: object, now: float) -> bool:
        """Whether ``nonce`` was issued by a holder of the secret, this period or the last.

        Never raises: anything that is not such a nonce (``None``, another type, another
        length, a non-ASCII or non-canonical spelling, a forgery, a stale or future
        period) is False.
        """
        # The length is checked before anything else looks at the value; compare_digest
        # raises TypeError for a non-ASCII str, hence isascii(). Exactly str: a subclass
        # could redefine len() or isascii().
        if type(nonce) is not str or len(nonce) != NONCE_LENGTH or not nonce.isascii():
            return False
        memo = self._memo
        if not memo.start <= now < memo.end:
            renewed = self._renew(now)
            if renewed is None:
                return False
            memo = renewed
        # A valid nonce is exactly one of these two canonical strings, so comparing whole
        # strings checks the period, the MAC and the spelling at once, with nothing decoded.
        # Both comparisons run, so the time taken does not tell which one matched.
        matches_current = hmac.compare_digest(nonce, memo.current)
        matches_previous = hmac.compare_digest(nonce, memo.previous)
        return matches_current | matches_previous

    def _renew(self, now: float) -> _Period | None:
        """The period ``now`` falls in, now remembered; None if ``now`` is in none."""
        if not 0 <= now < math.inf:  # nan fails too
            return None
        counter = int(now // self.period)
        if counter >= _PERIODS:
            return None
        memo = self._memo
        if memo.end == counter * self.period:  # the period just ended: its nonce is known
            previous = memo.current
        else:
            previous = self._nonce(counter - 1) if counter > 0 else ""
        memo = _Period(
            counter * self.period, (counter + 1) * self.period, self._nonce(counter), previous
        )
        self._memo = memo
        return memo

    def _nonce(self, counter: int) -> str:
        number = counter.to_bytes(_COUNTER_BYTES, "big")
        mac = hmac.digest(self._key, _MAC_LABEL + number, hashlib.sha256)[:_MAC_BYTES]
        return base64.urlsafe_b64encode(number + mac).decode("ascii")

    def __repr__(self) -> str:
        return f"NonceSource(period={self.period:g})"
