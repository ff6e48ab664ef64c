"""The verification pipeline, written once as a generator (the httpx ``auth_flow`` pattern).

``verify_flow`` yields a :class:`FetchKeySet` or :class:`FetchDiscovery` when it
needs the provider, and is sent back the monotonic time once that fetch has been
settled in the cache; it returns the :class:`AccessToken`. The sync and async
drivers in ``_verifier.py`` differ only in how they wait for a fetch.

Order (each step only after the previous one passed):
size and shape -> header -> issuer allow-list (before any network) -> key ->
signature -> claims.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass

from ._claims import check_claims, check_header, unverified_issuer
from ._config import HMAC_ALGORITHMS, HMAC_DIGEST_SIZES, VerifierConfig
from ._errors import InvalidSignatureError, KeySetUnavailableError
from ._jose import parse_token
from ._keycache import Fetch, KeyCache
from ._keys import VerificationKey
from ._signatures import SignaturePrimitive
from ._token import AccessToken

__all__ = ["VerifyFlow", "VerifyPlan", "verify_flow", "warm_up_flow"]

VerifyFlow = Generator[Fetch, float, AccessToken]
_MAX_FETCHES = 4  # discovery, key set, and one retry each: anything more is a loop


@dataclass(frozen=True, slots=True)
class VerifyPlan:
    """What a verification needs besides the token: settings, keys and primitives."""

    config: VerifierConfig
    cache: KeyCache
    primitives: Mapping[str, SignaturePrimitive]


def verify_flow(token: str, plan: VerifyPlan, now: float, monotonic: float) -> VerifyFlow:
    """Verify ``token`` at wall-clock ``now``; yield whenever the provider must be asked."""
    config = plan.config
    parsed = parse_token(token, max_size=config.max_token_size)
    alg, kid = check_header(parsed.header, config)
    issuer = unverified_issuer(parsed.claims, config)

    key: VerificationKey | bytes
    if alg in HMAC_ALGORITHMS:
        assert config.secret is not None  # guaranteed by VerifierConfig  # noqa: S101
        key, size = config.secret, HMAC_DIGEST_SIZES[alg]
    else:
        refreshed: set[tuple[str, str]] = set()
        for _ in range(_MAX_FETCHES):
            step = plan.cache.locate(issuer, kid, alg, monotonic, refreshed)
            if isinstance(step, VerificationKey):
                break
            refreshed.add(step.key)
            monotonic = yield step
        else:
            raise KeySetUnavailableError(reason="The key lookup did not settle.")
        key, size = step, step.signature_size

    if len(parsed.signature) != size or not plan.primitives[alg].verify(
        parsed.signing_input,
        key.public_key if isinstance(key, VerificationKey) else key,
        parsed.signature,
    ):
        raise InvalidSignatureError()
    return check_claims(parsed.claims, parsed.header, token, config, now)


def warm_up_flow(plan: VerifyPlan, monotonic: float) -> Generator[Fetch, float, None]:
    """Fetch discovery documents and key sets of every issuer that has none fresh."""
    if not plan.config.uses_key_sets:
        return
    for issuer in plan.config.issuers:
        refreshed: set[tuple[str, str]] = set()
        while (step := plan.cache.prefetch(issuer, monotonic, refreshed)) is not None:
            refreshed.add(step.key)
            monotonic = yield step
