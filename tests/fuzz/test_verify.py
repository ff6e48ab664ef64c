"""Properties of the whole verify path, ``Verifier.verify()`` and ``averify()`` alike.

Every example runs through both drivers against a verifier wired to an in-process issuer
(real keys, real signatures, no sockets) whose clock stands still after the warm-up, and
checks that the two agree, that only a ``BearerError`` ever escapes, that every refusal is
a fixed RFC 6750 answer echoing nothing of the input, and that no token caused a fetch.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bearerguard import AccessToken, BearerError, InsufficientScopeError
from tests.support import b64url

from .checks import Target, assert_safe_refusal, attempt, refused
from .conftest import bounded, budget
from .strategies import (
    ALGORITHMS,
    GENUINE_KIDS,
    P256_ORDER,
    RFC9068_CLAIMS,
    Genuine,
    Mutant,
    claim_values,
    genuine_signers,
    genuine_tokens,
    header_values,
    hostile_tokens,
    json_values,
    members,
    mutants,
    scope_tokens,
)

pytestmark = pytest.mark.fuzz


def assert_accepted(target: Target, token: str) -> AccessToken:
    result = target.outcome(token)
    assert isinstance(result, AccessToken), f"a genuine token was refused: {result!r}"
    return result


@budget(200)
@given(hostile_tokens)
@bounded
def test_any_input_is_refused_with_a_fixed_answer_and_costs_no_fetch(
    permissive: Target, token: str
):
    event(refused(permissive.refusal(token)))


@budget(200)
@given(mutants())
@bounded
def test_no_mutation_of_a_genuine_token_is_accepted(
    permissive: Target, case: tuple[Genuine, Mutant]
):
    """Canonical base64url and signatures over the exact bytes: any change is refused."""
    genuine, mutant = case
    assert_accepted(permissive, genuine.token)
    if mutant.token == genuine.token:
        event(f"{mutant.how}: no change")
        assert_accepted(permissive, mutant.token)
        return
    result = permissive.outcome(mutant.token)
    assert isinstance(result, BearerError), f"{mutant.how}: accepted {mutant.token!r}"
    event(f"{mutant.how} -> {type(result).__name__}")


@st.composite
def issued_tokens(draw: st.DrawFn) -> str:
    """Tokens the issuer really signs, with any header members and any claims."""
    alg = draw(st.sampled_from(ALGORITHMS))
    header: dict[str, Any] = {"alg": alg}
    if GENUINE_KIDS[alg] is not None:
        header["kid"] = GENUINE_KIDS[alg]
    header.update(draw(st.sampled_from([{"typ": "at+jwt"}, {}, {"typ": "JWT"}])))
    if draw(st.booleans()):
        header.update(draw(members(header_values)))
    body = draw(
        st.one_of(
            st.builds(lambda extra: {**RFC9068_CLAIMS, **extra}, members(claim_values)),
            st.just(RFC9068_CLAIMS),
            st.dictionaries(st.text(), json_values, max_size=6),
        )
    )
    return genuine_signers()[alg].sign(header, body)


@budget(150)
@given(issued_tokens())
@bounded
def test_a_token_the_issuer_signed_with_any_claims_is_sound_if_accepted(
    configured: Target, token: str
):
    """Past the signature, the claim checks meet every shape of header and claims."""
    result = configured.outcome(token)  # checks soundness if accepted, safety if refused
    event("accepted" if isinstance(result, AccessToken) else refused(result))


@budget(100)
@given(genuine_tokens(), st.lists(scope_tokens, max_size=4), st.booleans())
@bounded
def test_scope_checks_on_an_accepted_token_answer_403_or_pass(
    permissive: Target, genuine: Genuine, required: list[str], any_of: bool
):
    token = assert_accepted(permissive, genuine.token)
    granted = set(genuine.claims["scope"].split(" ")) - {""}
    satisfied = (not required) or (
        bool(granted & set(required)) if any_of else set(required) <= granted
    )
    assert token.has_scopes(*required, any_of=any_of) is satisfied
    refusal = attempt(token.require_scopes, *required, any_of=any_of)
    if satisfied:
        assert refusal is None
    else:
        assert isinstance(refusal, InsufficientScopeError)
        assert_safe_refusal(refusal, genuine.token)
        # Each required scope named once, in order; offline_access never (MCP: a refresh
        # token is no requirement of a resource).
        named = " ".join(dict.fromkeys(s for s in required if s != "offline_access"))
        challenge = refusal.www_authenticate
        assert challenge.endswith(f'scope="{named}"') if named else "scope=" not in challenge


@budget(50)
@given(genuine_tokens(("ES256",)))
@bounded
def test_an_ecdsa_signature_has_exactly_one_twin_that_verifies(
    permissive: Target, genuine: Genuine
):
    """ECDSA is malleable: (r, n - s) verifies whenever (r, s) does (RFC 7518 does not ask
    for low-S). The twin is a different string carrying the very same claims, so a raw
    token string must never serve as a unique id (replay caches, deny lists): use ``jti``.
    Every other change of the signature is refused (``test_no_mutation...`` above).
    """
    head, body, signature = genuine.parts
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    twin = f"{head}.{body}.{b64url(r + (P256_ORDER - s).to_bytes(32, 'big'))}"
    assert twin != genuine.token
    original = assert_accepted(permissive, genuine.token)
    assert dict(assert_accepted(permissive, twin).claims) == dict(original.claims)
