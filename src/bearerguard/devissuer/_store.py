"""What the dev-issuer remembers between requests: codes, refresh tokens, pending consents.

All in memory (a restart forgets them, as it would forget a login session).
Authorization codes are single use and live 60 seconds (RFC 6749 §4.1.2); a
code presented twice revokes the refresh tokens issued from it (§4.1.2, "SHOULD
revoke"). Refresh tokens rotate: each is used once, its successor belongs to the
same *family*, and presenting a used one revokes the whole family, as Auth0's
refresh token rotation with reuse detection does. A code may be bound to a DPoP
key by the authorization request (``dpop_jkt``, RFC 9449 §10), and a refresh
token to the DPoP key of the client it was issued to (§5): the token endpoint
then asks for a proof by that key.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._errors import OAuthError

__all__ = ["Approval", "CodeGrant", "ExpiringMap", "GrantStore", "RefreshGrant"]

T = TypeVar("T")
CODE_LIFETIME = 60.0
# How long a used or expired code, or a consent page, is remembered.
MEMORY = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """What a user approved at /authorize: for whom, which client, which API and scopes."""

    client_id: str
    sub: str
    scopes: tuple[str, ...]
    audience: str | None
    auth_time: int
    nonce: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeGrant:
    """An authorization code, bound to its client, redirect URI and PKCE challenge, and to
    a DPoP key when the authorization request named one (``dpop_jkt``)."""

    approval: Approval
    redirect_uri: str
    code_challenge: str | None
    expires_at: float
    dpop_jkt: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshGrant:
    """A refresh token: the original approval, its family and the family's absolute expiry,
    and the thumbprint of the DPoP key it is bound to (public clients' tokens only)."""

    approval: Approval
    family: str
    expires_at: float
    jkt: str | None = None


class ExpiringMap(Generic[T]):
    """Values under fresh random keys, each taken at most once and forgotten after ``ttl``.

    Example::

        pending = ExpiringMap[str](ttl=600)
        key = pending.put("value")
        pending.take(key)    # 'value'
        pending.take(key)    # None: taken already
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl
        self._clock = clock
        self._items: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def put(self, value: T) -> str:
        key = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._items = {k: item for k, item in self._items.items() if item[0] > now}
            self._items[key] = (now + self._ttl, value)
        return key

    def take(self, key: str) -> T | None:
        with self._lock:
            item = self._items.pop(key, None)
        if item is None or item[0] <= self._clock():
            return None
        return item[1]


class GrantStore:
    """The codes and refresh tokens in flight; safe to share between request threads.

    Example::

        store = GrantStore()
        code = store.issue_code(approval, redirect_uri="http://127.0.0.1:8080/cb",
                                code_challenge=None)
        store.redeem_code(code).approval.sub    # the user
        store.redeem_code(code)                 # OAuthError invalid_grant: used already
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, CodeGrant] = {}
        self._used_codes: dict[str, tuple[float, str | None]] = {}  # -> (forget at, family)
        self._refresh: dict[str, RefreshGrant] = {}
        self._revoked: dict[str, RefreshGrant] = {}  # used refresh tokens, for reuse detection

    # --- authorization codes -----------------------------------------------------------

    def issue_code(
        self,
        approval: Approval,
        *,
        redirect_uri: str,
        code_challenge: str | None,
        dpop_jkt: str | None = None,
    ) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._purge(now)
            self._codes[code] = CodeGrant(
                approval=approval,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                expires_at=now + CODE_LIFETIME,
                dpop_jkt=dpop_jkt,
            )
        return code

    def redeem_code(self, code: str) -> CodeGrant:
        """Take the code: whatever happens next, it is never accepted again.

        Spending it even when the caller then refuses (wrong verifier, wrong client)
        keeps a guessed verifier from being tried twice against one code.
        """
        with self._lock:
            now = self._clock()
            grant = self._codes.pop(code, None)
            if grant is None:
                used = self._used_codes.get(code)
                if used is not None and used[1] is not None:
                    self._revoke_family(used[1])
                raise OAuthError(
                    "invalid_grant",
                    "The authorization code was already used."
                    if used is not None
                    else "Unknown authorization code.",
                )
            self._used_codes[code] = (now + MEMORY, None)
        if grant.expires_at <= now:
            raise OAuthError("invalid_grant", "The authorization code expired (codes live 60 s).")
        return grant

    # --- refresh tokens ----------------------------------------------------------------

    def issue_refresh(
        self,
        approval: Approval,
        *,
        lifetime: float,
        code: str | None = None,
        previous: RefreshGrant | None = None,
        jkt: str | None = None,
    ) -> str:
        """A refresh token: a new family (from ``code``) or the successor of ``previous``;
        bound to the DPoP key ``jkt`` names, when given."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._purge(now)
            if previous is None:
                grant = RefreshGrant(
                    approval=approval,
                    family=secrets.token_urlsafe(8),
                    expires_at=now + lifetime,
                    jkt=jkt,
                )
            else:
                # The family's lifetime is absolute: rotating never extends it.
                grant = RefreshGrant(
                    approval=approval,
                    family=previous.family,
                    expires_at=previous.expires_at,
                    jkt=jkt,
                )
            self._refresh[token] = grant
            if code is not None and code in self._used_codes:
                self._used_codes[code] = (self._used_codes[code][0], grant.family)
        return token

    def use_refresh(self, token: str) -> RefreshGrant:
        """Take a refresh token; a used one revokes its family and is refused."""
        with self._lock:
            now = self._clock()
            grant = self._refresh.pop(token, None)
            if grant is None:
                reused = self._revoked.get(token)
                if reused is not None:
                    self._revoke_family(reused.family)
                    raise OAuthError(
                        "invalid_grant",
                        "The refresh token was already used; as a precaution every refresh "
                        "token of its family is now revoked (rotation with reuse detection).",
                    )
                raise OAuthError("invalid_grant", "Unknown or revoked refresh token.")
            self._revoked[token] = grant
        if grant.expires_at <= now:
            raise OAuthError("invalid_grant", "The refresh token expired.")
        return grant

    def revoke_refresh(self, token: str) -> bool:
        """Revoke a live refresh token and its whole family (RFC 7009 §2.1: "SHOULD also
        invalidate" what was issued with the same grant); whether it was one."""
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None:
                return False
            self._revoke_family(grant.family)
        return True

    def _revoke_family(self, family: str) -> None:
        # Called with the lock held.
        for token, grant in list(self._refresh.items()):
            if grant.family == family:
                self._revoked[token] = self._refresh.pop(token)

    def _purge(self, now: float) -> None:
        # Called with the lock held: keeps a long dev session from growing without bound.
        self._codes = {c: g for c, g in self._codes.items() if g.expires_at + MEMORY > now}
        self._used_codes = {c: u for c, u in self._used_codes.items() if u[0] > now}
        self._refresh = {t: g for t, g in self._refresh.items() if g.expires_at > now}
        self._revoked = {t: g for t, g in self._revoked.items() if g.expires_at > now}
