"""Configuration hints for the log: at most one warning a minute for each kind of mistake.

A refusal that can only come from a misconfiguration (every token's issuer differs
from the configured one by a trailing slash, ...) is worth a WARNING, since DEBUG
is where nobody looks. But the tokens come from clients: a flood of them must not
flood the log. So each kind of hint (one per error class) is logged at most once
per interval, with the number of refusals it stood for meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["HINT_INTERVAL", "HintLimiter"]

HINT_INTERVAL = 60.0  # seconds between two warnings of the same kind


class HintLimiter:
    """Decides which configuration hints reach the log.

    Example::

        limiter = HintLimiter(time.monotonic)
        limiter.admit("InvalidIssuerError")   # 0: log it (no refusals were held back)
        limiter.admit("InvalidIssuerError")   # None: too soon, counted
    """

    def __init__(self, monotonic: Callable[[], float], interval: float = HINT_INTERVAL) -> None:
        self._monotonic = monotonic
        self._interval = interval
        self._lock = threading.Lock()
        # kind -> (when it was last logged, refusals held back since)
        self._state: dict[str, tuple[float, int]] = {}

    def admit(self, kind: str) -> int | None:
        """``None`` to stay silent; else log now, and the int is how many were held back."""
        now = self._monotonic()
        with self._lock:
            last, held = self._state.get(kind, (None, 0))
            if last is not None and now - last < self._interval:
                self._state[kind] = (last, held + 1)
                return None
            self._state[kind] = (now, 0)
            return held
