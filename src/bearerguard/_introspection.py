"""Opaque access tokens judged by the provider's introspection endpoint (RFC 7662).

The core half, free of I/O: the :class:`Introspection` settings, which tokens go
to the endpoint, how an endpoint's answer becomes a cache entry, and how an entry
is judged. The shell (``_introspector.py``) makes the POST, single-flight per
token, and stores the answer in the :class:`~bearerguard._introspection_cache.AnswerCache`;
the flow (``_flow.py``) yields an :class:`Introspect` when the cache has none.

An answer is judged as strictly as a JWT's claims, by the same function
(``check_claims``), after these rules of its own:

- ``active`` must be exactly ``true`` (not ``"true"``, not absent); anything else
  is an inactive token: 401 ``invalid_token``.
- ``iss``, when present, must name the endpoint's issuer; when absent, the answer
  speaks for that issuer (the endpoint is the issuer's own), and ``iss`` is set to it.
- ``aud`` is required and must name this API, as for a JWT: an endpoint that only
  says "active somewhere" does not say "active here".
- ``exp`` is required: without it neither the token's lifetime nor the cache's
  hold on the answer would be bounded.
- ``token_type``, when present, must be ``Bearer`` or ``DPoP`` (a refresh token's
  answer is no access token's), and Keycloak's ``typ`` claim, when present, ``Bearer``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._claims import (
    Lifetime,
    check_claims,
    check_lifetime,
    claim_lifetime,
    dead_at,
    numeric_date,
)
from ._config import VerifierConfig
from ._errors import InvalidClaimsError, InvalidTokenError, MalformedTokenError
from ._introspection_config import Introspection
from ._token import AccessToken

__all__ = [
    "INACTIVE_REASON",
    "Answer",
    "Introspect",
    "Introspection",
    "answer_from",
    "judge",
    "token_key",
]

#: why a token the endpoint calls inactive is refused (for logs and bearerguard verify)
INACTIVE_REASON = "The introspection endpoint says the token is not active."
_ACCESS_TOKEN_TYPES = frozenset({"bearer", "dpop"})


def token_key(token: str) -> bytes:
    """What the cache and the single-flight table know a token by: its SHA-256, never its text."""
    try:
        return hashlib.sha256(token.encode()).digest()
    except UnicodeEncodeError:  # lone surrogates: no header or form could carry them
        raise MalformedTokenError(reason="The token is not text a request can carry.") from None


@dataclass(frozen=True, slots=True)
class Introspect:
    """What the flow yields when the endpoint must be asked about a token."""

    key: bytes
    token: str = field(repr=False)


@dataclass(slots=True)
class Answer:
    """An endpoint's answer about one token, as cached: ``claims`` ``None`` when inactive."""

    claims: Mapping[str, Any] | None
    lifetime: Lifetime | None
    #: wall-clock time after which the answer is not used any more (until then it is)
    until: float
    #: the judged token per path (bearer, bound): judged once, re-checked for lifetime
    judged: list[AccessToken | None] = field(default_factory=lambda: [None, None])
    #: wall-clock time from which a judged token's lifetime checks may fail (exp or
    #: max_age, plus leeway): before it, a hit needs no re-check (nbf and iat passed
    #: once stay passed)
    dead_at: float = -math.inf


def answer_from(
    body: Mapping[str, Any], issuer: str, settings: Introspection, now: float
) -> Answer:
    """The cache entry for an endpoint's JSON object: inactive unless ``active`` is ``true``."""
    if body.get("active") is not True:
        return Answer(None, None, now + settings.inactive_ttl)
    claims = {name: value for name, value in body.items() if name != "active"}
    claims.setdefault("iss", issuer)
    try:
        lifetime = claim_lifetime(claims)
    except InvalidTokenError:  # no exp, or no NumericDate: refused on every use, briefly kept
        return Answer(claims, None, now + settings.inactive_ttl)
    expires = numeric_date(claims, "exp")
    assert expires is not None  # claim_lifetime required it  # noqa: S101
    # Never past exp; at least until ``now``, so that the request that asked gets its
    # answer even with cache_ttl=0 or an expired token (then refused, saying so).
    return Answer(claims, lifetime, max(now, min(now + settings.cache_ttl, expires)))


def judge(  # noqa: PLR0917
    answer: Answer, issuer: str, config: VerifierConfig, now: float, token: str, bound: bool
) -> AccessToken:
    """The :class:`~bearerguard.AccessToken` an answer vouches for, or the refusal.

    ``config`` is the verifier's; ``issuer`` the endpoint's (configured spelling).
    """
    claims = answer.claims
    if claims is None:
        raise InvalidTokenError(reason=INACTIVE_REASON)
    if answer.lifetime is None:
        raise InvalidClaimsError(reason="The introspection answer has no valid exp.")
    slot = 1 if bound else 0
    judged = answer.judged[slot]
    if judged is not None:
        if now >= answer.dead_at:
            check_lifetime(answer.lifetime, config, now)
        return judged
    token_type = claims.get("token_type")
    if token_type is not None and (
        not isinstance(token_type, str) or token_type.lower() not in _ACCESS_TOKEN_TYPES
    ):
        raise InvalidTokenError(
            reason="The introspection endpoint describes another kind of token "
            "(token_type is not Bearer or DPoP): not an access token."
        )
    kind = claims.get("typ")
    if kind is not None and kind != "Bearer":
        raise InvalidTokenError(
            reason="The introspection endpoint describes another kind of token "
            "(typ is not Bearer): not an access token."
        )
    named = claims.get("iss")
    if not isinstance(named, str) or config.issuer_index.find(named) != issuer:
        raise InvalidTokenError(
            reason="The introspection answer names another issuer than the endpoint's."
        )
    verified = check_claims(
        claims, _NO_HEADER, token, config, now, issuer, answer.lifetime, False, bound
    )
    answer.dead_at = dead_at(answer.lifetime, config)
    answer.judged[slot] = verified
    return verified


_NO_HEADER: Mapping[str, Any] = {}
