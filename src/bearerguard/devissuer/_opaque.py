"""Opaque access tokens: random strings whose claims the dev-issuer keeps (RFC 7662).

An API configured with ``"token_format": "opaque"`` gets, from every flow, a
token that says nothing by itself: 32 random bytes in base64url (43 characters,
no dots, never JWT-shaped). Its claims, the ones its JWT would have carried, stay
here, and the introspection endpoint answers them to the API that asks.

Tokens are kept by their SHA-256, never as text, in memory only: a restart makes
every opaque token inactive, as it forgets codes and refresh tokens. Expired
entries are purged (at most once a minute, and whenever the store is full), and
the store is bounded: at :data:`MAX_OPAQUE_TOKENS` live tokens, the oldest is
forgotten to make room, and introspection then answers it inactive.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bearerguard._jose import b64url_encode

__all__ = ["MAX_OPAQUE_TOKENS", "OpaqueTokens"]

#: how many live opaque tokens are kept; past it the oldest is forgotten
MAX_OPAQUE_TOKENS = 10_000
_PURGE_EVERY = 60.0  # seconds between two sweeps of expired entries
_MAX_TOKEN = 4096  # characters: longer is no token of ours, and is not even hashed


class OpaqueTokens:
    """The opaque access tokens issued and their claims; safe to share between threads.

    Example::

        tokens = OpaqueTokens()
        token = tokens.issue({"iss": "http://127.0.0.1:9000/", "exp": time.time() + 60})
        tokens.claims(token)     # {'iss': ..., 'exp': ...}
        tokens.revoke(token)     # True
        tokens.claims(token)     # None: inactive
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, *, limit: int = MAX_OPAQUE_TOKENS
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._lock = threading.Lock()
        self._tokens: dict[bytes, tuple[float, dict[str, Any]]] = {}  # sha256 -> (exp, claims)
        self._next_purge = 0.0

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A new opaque token standing for ``claims``, whose ``exp`` ends it."""
        token = b64url_encode(secrets.token_bytes(32))
        key = _digest(token)
        expires = claims.get("exp")
        expires_at = float(expires) if isinstance(expires, (int, float)) else 0.0
        with self._lock:
            now = self._clock()
            if now >= self._next_purge or len(self._tokens) >= self._limit:
                self._purge(now)
            while len(self._tokens) >= self._limit:
                # Full of live tokens: the oldest issued goes (dicts keep insertion order).
                del self._tokens[next(iter(self._tokens))]
            self._tokens[key] = (expires_at, dict(claims))
        return token

    def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a live token; ``None`` when unknown, expired or revoked."""
        key = _key(token)
        if key is None:
            return None
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._tokens[key]
                return None
            return dict(entry[1])

    def revoke(self, token: str) -> bool:
        """Forget ``token``: introspection answers it inactive from now on. Whether it was
        a live token of this store."""
        key = _key(token)
        if key is None:
            return False
        with self._lock:
            entry = self._tokens.pop(key, None)
        return entry is not None and entry[0] > self._clock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)

    def _purge(self, now: float) -> None:
        # Called with the lock held.
        self._tokens = {k: entry for k, entry in self._tokens.items() if entry[0] > now}
        self._next_purge = now + _PURGE_EVERY


def _key(token: str) -> bytes | None:
    """What the store knows a token by: its SHA-256 (``None``: no token of ours)."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN or not token.isascii():
        return None
    return _digest(token)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()
