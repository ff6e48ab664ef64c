"""What the introspection (RFC 7662) and revocation (RFC 7009) endpoints say about a token.

Pure logic over a token string: the HTTP layer authenticates the client first.

Introspection answers ``{"active": true, ...}`` with the token's claims and its
``token_type`` (``DPoP`` when bound to a key, else ``Bearer``) for a live access
token of this issuer: an opaque one from :class:`._opaque.OpaqueTokens`, or one
of its own signed JWT access tokens (``typ`` ``at+jwt``), whose signature is
checked with the issuer's published keys. Anything else (unknown, expired,
revoked, an ID token, a refresh token, a JWE encrypted to an API, garbage) is
``{"active": false}`` and nothing more (RFC 7662 §2.2), so nothing is told about
why.

Revocation forgets an opaque access token, or a refresh token with its whole
family. A signed JWT cannot be taken back (it is checked without asking the
issuer): revoking one is ``unsupported_token_type`` (RFC 7009 §2.2.1), saying
so. Anything unknown is answered 200 all the same (§2.2).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeGuard

from bearerguard._errors import EncryptedTokenError, MalformedTokenError, UnknownKeyError
from bearerguard._jose import looks_like_jwt, parse_token
from bearerguard._keys import KeySet, KeySetError
from bearerguard._signatures import SignaturePrimitive

from ._errors import OAuthError
from ._keys import KeyStore
from ._opaque import OpaqueTokens
from ._store import GrantStore

__all__ = ["INACTIVE", "TokenIntrospection"]

INACTIVE: dict[str, Any] = {"active": False}
_MAX_TOKEN = 16 * 1024  # characters; the dev-issuer's own tokens are far shorter


class TokenIntrospection:
    """Introspects and revokes the tokens of one running dev-issuer.

    Example::

        tokens = TokenIntrospection(minter.opaque, keys, store, issuers=issuers)
        tokens.answer(token)     # {'active': True, 'iss': ..., 'scope': ..., ...}
        tokens.revoke(token)
        tokens.answer(token)     # {'active': False}
    """

    def __init__(
        self,
        opaque: OpaqueTokens,
        keys: KeyStore,
        store: GrantStore,
        *,
        issuers: tuple[str, ...],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._opaque = opaque
        self._keys = keys
        self._store = store
        self._issuers = issuers
        self._clock = clock

    def answer(self, token: str) -> dict[str, Any]:
        """The introspection response for ``token`` (RFC 7662 §2.2)."""
        claims = self._opaque.claims(token)
        if claims is None and looks_like_jwt(token):
            claims = self._signed_claims(token)
        if claims is None:
            return dict(INACTIVE)
        # RFC 7662 §2.2: token_type as in the token response, which says how to present it.
        claims["token_type"] = "DPoP" if isinstance(claims.get("cnf"), dict) else "Bearer"
        return {"active": True, **claims}

    def revoke(self, token: str) -> None:
        """Make ``token`` inactive; an unknown one is no error (RFC 7009 §2.2)."""
        if self._opaque.revoke(token) or self._store.revoke_refresh(token):
            return
        if looks_like_jwt(token) and self._signed_claims(token) is not None:
            raise OAuthError(
                "unsupported_token_type",
                "This is one of the dev-issuer's signed JWT access tokens: an API checks it "
                "with the published keys, without asking the issuer, so it cannot be revoked "
                'and stays valid until its exp. Give its API "token_format": "opaque" for '
                "tokens that can be revoked.",
            )

    def _signed_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a live JWT access token signed by this issuer, else ``None``."""
        try:
            parsed = parse_token(token, _MAX_TOKEN)
            keys = KeySet.from_document(self._keys.jwks())
            algorithm = parsed.header.get("alg")
            kid = parsed.header.get("kid")
            if not isinstance(algorithm, str) or not isinstance(kid, str):
                return None
            key = keys.find(kid, algorithm)
        except (MalformedTokenError, EncryptedTokenError, KeySetError, UnknownKeyError):
            return None
        if (
            key is None
            or parsed.header.get("typ") != "at+jwt"  # an ID token is no access token
            or not SignaturePrimitive(algorithm).verify(
                parsed.signing_input, key.public_key, parsed.signature
            )
        ):
            return None
        claims = dict(parsed.claims)
        now = self._clock()
        expires, not_before = claims.get("exp"), claims.get("nbf", 0)
        if (
            claims.get("iss") not in self._issuers
            or not _number(expires)
            or expires <= now
            or not _number(not_before)
            or not_before > now
        ):
            return None
        return claims


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
