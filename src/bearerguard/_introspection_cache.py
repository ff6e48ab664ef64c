"""The introspection answer cache: a repeat of an opaque token costs no round trip.

Keyed by the token's SHA-256 (``token_key``), never by its text; bounded in
count, the oldest answers making room for new ones. Each answer carries the
wall-clock time after which it is not used (``Answer.until``: never past the
token's ``exp`` nor ``cache_ttl``; ``inactive_ttl`` for an inactive token).

Reads take no lock: a hit must cost next to nothing. Writes hold ``lock``, which
the verifier passes (a ``threading.Lock``): the core stays free of threads. A
fleet's shared cache (``Introspection(shared_cache=...)``) sits behind this one,
in the shell (``_introspector.py``).

Example::

    cache = AnswerCache(10_000, lock=threading.Lock())
    cache.put(token_key(raw), answer)
    cache.get(token_key(raw), now)   # the Answer, or None once past its time (until)
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from ._introspection import Answer

__all__ = ["AnswerCache"]


class AnswerCache:
    """At most ``maxsize`` answers, by token hash; the oldest insertions go first."""

    def __init__(self, maxsize: int, *, lock: AbstractContextManager[Any]) -> None:
        self._maxsize = maxsize
        self._lock = lock
        self._answers: dict[bytes, Answer] = {}

    def get(self, key: bytes, now: float) -> Answer | None:
        answer = self._answers.get(key)
        if answer is None or answer.until >= now:
            return answer
        with self._lock:  # past its time: gone, so the next request asks again
            if self._answers.get(key) is answer:
                del self._answers[key]
        return None

    def put(self, key: bytes, answer: Answer) -> None:
        with self._lock:
            answers = self._answers
            answers.pop(key, None)
            while len(answers) >= self._maxsize:
                del answers[next(iter(answers))]  # dicts keep insertion order: the oldest
            answers[key] = answer

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)
