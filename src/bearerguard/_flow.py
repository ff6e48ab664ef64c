"""The verification pipeline, written once as a generator (the httpx ``auth_flow`` pattern).

``verify_flow`` yields a :class:`FetchKeySet` or :class:`FetchDiscovery` when it
needs the provider, and is sent back the monotonic time once that fetch has been
settled in the cache; it returns the :class:`AccessToken`. The sync and async
drivers in ``_verifier.py`` differ only in how they wait for a fetch.

Order (each step only after the previous one passed):
[an encrypted token, with decryption keys: decryption (``_jwe.py``), then the signed JWT
inside, whose claims the JWE header may repeat only as they are] ->
size and shape -> header -> issuer allow-list (before any network; narrowed to the
request's issuers with ``issuer_for_request=``) -> key -> signature -> claims.

A token that passed before is answered from the verified-token cache
(``_tokencache.py``) once its lifetime and its key set pass their re-checks.

With ``introspection=``, a token that is not a JWT (or any token, with
``introspect_jwts=True``) takes another path: the answer cache
(``_introspection_cache.py``), else an :class:`Introspect` yielded for the shell to
ask the endpoint, then the answer judged (``_introspection.py``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._claims import (
    check_claims,
    check_header,
    check_lifetime,
    claim_lifetime,
    dead_at,
    unverified_issuer,
)
from ._config import HMAC_ALGORITHMS, HMAC_DIGEST_SIZES, VerifierConfig
from ._credentials import is_b64token
from ._errors import (
    IntrospectionUnavailableError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
)
from ._introspection import Introspect, judge, token_key
from ._introspection_cache import AnswerCache
from ._jose import MAX_HEADER_SEGMENT, ParsedToken, parse_token
from ._jwe import check_replicated_claims, decrypt, is_jwe
from ._keycache import Fetch, KeyCache, KeySetStamp
from ._keys import VerificationKey
from ._resolvers import RequestIssuers
from ._signatures import SignaturePrimitive
from ._token import AccessToken
from ._tokencache import CachedToken, TokenCache

__all__ = [
    "VerifyFlow",
    "VerifyPlan",
    "remembered",
    "verify_flow",
    "verify_now",
    "warm_up_flow",
]

VerifyFlow = Generator[Fetch | Introspect, float, AccessToken]
_MAX_FETCHES = 4  # discovery, key set, and one retry each: anything more is a loop
_MAX_KNOWN_HEADERS = 64
_NOTHING_REFRESHED: frozenset[tuple[str, str]] = frozenset()  # a verification's first lookup


@dataclass(frozen=True, slots=True)
class VerifyPlan:
    """What a verification needs besides the token: settings, keys and primitives."""

    config: VerifierConfig
    cache: KeyCache
    primitives: Mapping[str, SignaturePrimitive]
    # Header segments of tokens that passed, with the parsed header (read-only) and
    # its (alg, kid): providers reuse a handful of headers, so most tokens skip
    # decoding, parsing and checking theirs again.
    headers: dict[str, tuple[Mapping[str, Any], str, str | None]] = field(default_factory=dict)
    # Tokens that passed, re-checked on every hit; None when the cache is turned off.
    tokens: TokenCache | None = None
    # Whether a binding step follows (the DPoP path): cnf is then the binding's to check.
    # Such a plan has a token cache of its own, so a bound token it passed is never
    # answered from the cache of the bearer path, which refuses cnf.
    bound: bool = False
    # The introspection answers (RFC 7662), by token hash; None without introspection=.
    answers: AnswerCache | None = None


def verify_flow(
    token: str,
    plan: VerifyPlan,
    now: float,
    monotonic: float,
    trusted: RequestIssuers | None = None,
) -> VerifyFlow:
    """Verify ``token`` at wall-clock ``now``; yield whenever the provider must be asked."""
    outcome = verify_now(token, plan, now, monotonic, trusted)
    if isinstance(outcome, AccessToken):
        return outcome
    return (yield from outcome)


def verify_now(
    token: str,
    plan: VerifyPlan,
    now: float,
    monotonic: float,
    trusted: RequestIssuers | None = None,
) -> AccessToken | VerifyFlow:
    """The flow's first leg, run at once: the token, or the flow that must fetch first.

    With the keys cached (the usual case), this verifies without a generator and
    without a driver; the drivers then only take over the flows that fetch.
    ``trusted`` narrows the issuers to the request's (``issuer_for_request=``), a
    remembered token's included; ``None``: every configured issuer.
    """
    config = plan.config
    introspection = config.introspection
    if introspection is not None and type(token) is str and introspection.introspects(token):
        return _introspected(token, plan, now, trusted)
    tokens = plan.tokens
    keep = False  # whether to remember the token once it passes
    if tokens is not None and type(token) is str and len(token) <= config.max_token_size:
        cached = tokens.get(token)
        if cached is None:
            keep = tokens.admit(token)
        else:
            if _still_valid(cached, plan, now, monotonic) and (
                trusted is None or trusted.admits(cached.token.issuer)
            ):
                return cached.token
            tokens.discard(token)  # the full path below raises the error a fresh check would
            keep = True

    decryption = config.decryption
    if decryption is not None and is_jwe(token):
        # An encrypted token: the signed JWT inside goes through every step below. Its
        # header segment is the JWE's, never remembered (end 0), nor looked up.
        end, known = 0, None
        opened = decrypt(token, decryption, config.max_token_size)
        parsed = parse_token(opened.payload, config.max_token_size)
        alg, kid = check_header(parsed.header, config)
        check_replicated_claims(opened.header, parsed.claims)
    else:
        # A header segment is never longer than the limit parse_token enforces: bounded work.
        end = token.find(".", 0, MAX_HEADER_SEGMENT + 1) if isinstance(token, str) else -1
        known = plan.headers.get(token[:end]) if end > 0 else None
        if known is not None:
            header, alg, kid = known
            parsed = parse_token(token, config.max_token_size, header)
        else:
            parsed = parse_token(token, config.max_token_size)
            alg, kid = check_header(parsed.header, config)
    issuer = unverified_issuer(parsed.claims, config)
    if trusted is not None:
        trusted.check(issuer)  # before any network: another request's issuer costs no fetch

    if alg in HMAC_ALGORITHMS:
        assert config.secret is not None  # guaranteed by VerifierConfig  # noqa: S101
        key, size = config.secret, HMAC_DIGEST_SIZES[alg]
        verified = _finish(parsed, key, size, plan, now, token, issuer, alg, keep, None)
    else:
        # The stamp comes first: a refresh landing after it can only make it look older.
        stamp = plan.cache.stamp(issuer) if keep else None
        step = plan.cache.locate(issuer, kid, alg, monotonic, _NOTHING_REFRESHED)
        if not isinstance(step, VerificationKey):
            return _fetching(
                parsed, step, plan, now, token=token, issuer=issuer, alg=alg, kid=kid, keep=keep
            )
        size = step.signature_size
        verified = _finish(parsed, step, size, plan, now, token, issuer, alg, keep, stamp)
    if known is None and end > 0:
        _remember_header(plan.headers, token[:end], parsed.header, alg, kid)
    return verified


def _introspected(
    token: str, plan: VerifyPlan, now: float, trusted: RequestIssuers | None
) -> AccessToken | VerifyFlow:
    """An opaque token: the cached answer, judged, or the flow that asks the endpoint first."""
    config = plan.config
    if len(token) > config.max_token_size:  # bounded work, and never sent anywhere
        raise MalformedTokenError(reason="The token is longer than max_token_size.")
    issuer = config.introspection_issuer
    assert issuer is not None  # noqa: S101 - set with introspection
    assert plan.answers is not None  # noqa: S101
    if trusted is not None:
        trusted.check(issuer)  # another request's issuer: no call to this one's endpoint
    key = token_key(token)
    answer = plan.answers.get(key, now)
    if answer is not None:
        judged = answer.judged[plan.bound]  # the usual hit: judged before, lifetime still good
        if judged is not None and now < answer.dead_at:
            return judged
        return judge(answer, issuer, config, now, token, plan.bound)
    if not is_b64token(token):  # what no Authorization field carries is sent nowhere
        raise MalformedTokenError(reason="The token is not an RFC 6750 b64token.")
    return _asking(token, key, issuer, plan, now)


def _asking(token: str, key: bytes, issuer: str, plan: VerifyPlan, now: float) -> VerifyFlow:
    """Yield the question for the shell, then judge the answer it stored."""
    yield Introspect(key, token)
    assert plan.answers is not None  # noqa: S101
    answer = plan.answers.get(key, now)
    if answer is None:  # the shell logged why (provider down, our credentials refused, ...)
        raise IntrospectionUnavailableError()
    return judge(answer, issuer, plan.config, now, token, plan.bound)


def _remember_header(
    headers: dict[str, tuple[Mapping[str, Any], str, str | None]],
    segment: str,
    header: Mapping[str, Any],
    alg: str,
    kid: str | None,
) -> None:
    """Remember the header of a token that passed: forged tokens never get in, so a
    flood of them with ever new headers cannot push out the provider's few."""
    if len(headers) >= _MAX_KNOWN_HEADERS:
        headers.clear()  # that many genuine headers: not worth remembering any
    headers[segment] = (MappingProxyType(dict(header)), alg, kid)


def remembered(
    token: str,
    plan: VerifyPlan,
    now: float,
    monotonic: float,
    trusted: RequestIssuers | None = None,
) -> AccessToken | None:
    """The token, if the verified-token cache holds it and it passes its re-checks (its
    issuer one of ``trusted``, when given); else ``None``, changing nothing
    (:func:`verify_now` then decides).

    Adapters' fast path: most requests carry a token the verifier has seen. An opaque
    token (with ``introspection=``) is looked up in the answer cache instead: it is never
    in the verified-token cache, and the answer cache is where its hit is (an answer past
    its time leaves that cache on the lookup, as it would on the full path).
    """
    introspection = plan.config.introspection
    if introspection is not None and introspection.introspects(token):
        return _remembered_answer(token, plan, now, trusted)
    tokens = plan.tokens
    if tokens is None:
        return None
    cached = tokens.get(token)
    if (
        cached is not None
        and _still_valid(cached, plan, now, monotonic)
        and (trusted is None or trusted.admits(cached.token.issuer))
    ):
        return cached.token
    return None


def _remembered_answer(
    token: str, plan: VerifyPlan, now: float, trusted: RequestIssuers | None
) -> AccessToken | None:
    """The judgement of a cached introspection answer that still holds; else ``None``
    (:func:`_introspected` then gives the answer, or the refusal, a fresh check would)."""
    issuer = plan.config.introspection_issuer
    if (
        plan.answers is None
        or issuer is None
        or len(token) > plan.config.max_token_size
        or (trusted is not None and issuer not in trusted.names)  # as trusted.check() judges
    ):
        return None
    try:
        key = token_key(token)
    except MalformedTokenError:
        return None
    answer = plan.answers.get(key, now)
    if answer is None:
        return None
    judged = answer.judged[plan.bound]
    return judged if judged is not None and now < answer.dead_at else None


def _still_valid(cached: CachedToken, plan: VerifyPlan, now: float, monotonic: float) -> bool:
    """A remembered token's re-checks: its key set is still the fresh one, its lifetime holds."""
    if cached.stamp is not None and not plan.cache.is_current(cached.stamp, monotonic):
        return False
    try:
        check_lifetime(cached.lifetime, plan.config, now)
    except InvalidTokenError:
        return False
    return True


def _fetching(
    parsed: ParsedToken,
    step: Fetch,
    plan: VerifyPlan,
    now: float,
    *,
    token: str,
    issuer: str,
    alg: str,
    kid: str | None,
    keep: bool,
) -> VerifyFlow:
    """Yield each fetch the key lookup asks for, then finish with the key found."""
    refreshed: set[tuple[str, str]] = set()
    for attempt in range(1, _MAX_FETCHES + 1):
        refreshed.add(step.key)
        monotonic = yield step
        if attempt == _MAX_FETCHES:
            break
        stamp = plan.cache.stamp(issuer) if keep else None
        found = plan.cache.locate(issuer, kid, alg, monotonic, refreshed)
        if isinstance(found, VerificationKey):
            size = found.signature_size
            return _finish(parsed, found, size, plan, now, token, issuer, alg, keep, stamp)
        step = found
    raise KeySetUnavailableError(reason="The key lookup did not settle.")


def _finish(  # noqa: PLR0917 - positional on purpose: called once per new token
    parsed: ParsedToken,
    key: VerificationKey | bytes,
    size: int,
    plan: VerifyPlan,
    now: float,
    token: str,
    issuer: str,
    alg: str,
    keep: bool,
    stamp: KeySetStamp | None,
) -> AccessToken:
    """Check the signature, then the claims; remember the token if the cache is on."""
    if len(parsed.signature) != size or not plan.primitives[alg].verify(
        parsed.signing_input,
        key.public_key if isinstance(key, VerificationKey) else key,
        parsed.signature,
    ):
        raise InvalidSignatureError()
    config, claims = plan.config, parsed.claims
    lifetime = claim_lifetime(claims)
    verified = check_claims(
        claims, parsed.header, token, config, now, issuer, lifetime, True, plan.bound
    )
    tokens = plan.tokens
    if keep and tokens is not None and (stamp is not None or not isinstance(key, VerificationKey)):
        # Without a stamp (the key set changed hands mid-way) the token is simply not kept.
        tokens.put(token, verified, lifetime, stamp, dead_at=dead_at(lifetime, config), now=now)
    return verified


def warm_up_flow(plan: VerifyPlan, monotonic: float) -> Generator[Fetch, float, None]:
    """Fetch discovery documents and key sets of every issuer that has none fresh."""
    if not plan.config.uses_key_sets:
        return
    for issuer in plan.config.issuers:
        refreshed: set[tuple[str, str]] = set()
        while (step := plan.cache.prefetch(issuer, monotonic, refreshed)) is not None:
            refreshed.add(step.key)
            monotonic = yield step
