"""Hostile claims against claim rules: surprising JSON types, lookalikes, sheer size.

A token's claims are whatever its issuer (or an attacker with a key of the
issuer, or a bug there) put in them: any JSON value where a string or an array
was meant. Whatever they hold, a claim rule answers pass or refuse, exactly (no
truthiness, no coercion between JSON types), in bounded time, and a refusal's
answer never repeats them. Through the verifier (``claim_rules``: 401) here;
through every adapter (a route's ``claims=``: 403) in the shared table's
``claims-*`` rows.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bearerguard import InvalidClaimsError, Verifier, claims
from tests.support import Clock, Provider
from tests.test_claim_rules import make_verifier

NS = "https://example.com/"
RULES = [
    claims.required("org_id"),
    claims.equals("org_id", "org_1"),
    claims.equals("email_verified", True),
    claims.equals("tier", 3),
    claims.equals("region", None),
    claims.includes("roles", "admin"),
    claims.includes("roles", "admin", namespace=NS),
    claims.any_of(claims.includes("roles", "admin"), claims.equals("org_id", "org_1")),
    claims.check(lambda c: c["roles"][0].lower() == "admin", "a careless predicate"),
]
DESCRIPTION = "The claims of the access token do not meet the requirements of this API"

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    value=JSON,
    name=st.sampled_from(["org_id", "email_verified", "tier", "region", "roles", NS + "roles"]),
)
def test_any_json_value_passes_or_is_refused_never_raises(value: Any, name: str) -> None:
    token_claims = {name: value}
    for rule in RULES:
        if not rule.passes(token_claims):
            reason = rule.failure(token_claims)
            assert reason.isprintable()
            assert repr(rule) in reason


# Values of another JSON type that Python (or JavaScript) would let pass as the expected one.
LOOKALIKES: list[tuple[str, dict[str, Any]]] = [
    ("true-as-text", {"email_verified": "true"}),
    ("true-as-one", {"email_verified": 1}),
    ("true-as-a-float-one", {"email_verified": 1.0}),
    ("true-in-an-array", {"email_verified": [True]}),
    ("three-as-true", {"tier": True}),
    ("three-as-text", {"tier": "3"}),
    ("org-in-an-array", {"org_id": ["org_1"]}),
    ("org-in-an-object", {"org_id": {"id": "org_1"}}),
    ("org-with-a-cyrillic-o", {"org_id": "\u043erg_1"}),
    ("org-with-a-zero-width-space", {"org_id": "org_1\u200b"}),
    ("org-upper-case", {"org_id": "ORG_1"}),
    ("null-region-missing", {}),
    ("role-nested-one-deeper", {"roles": [["admin"]]}),
    ("role-as-an-object-key", {"roles": {"admin": True}}),
    ("role-prefix", {"roles": "administrator"}),
    ("role-comma-separated", {"roles": "editor,admin"}),
    ("role-of-another-namespace", {"https://example.org/roles": ["admin"]}),
    ("role-without-its-namespace-prefix-slash", {"https://example.comroles": ["admin"]}),
]


def verifier_for(provider: Provider, clock: Clock, rule: claims.ClaimRule) -> Verifier:
    return make_verifier(provider, clock, claim_rules=[rule], token_cache_size=0)


EXPECTED: dict[str, claims.ClaimRule] = {
    "email_verified": claims.equals("email_verified", True),
    "tier": claims.equals("tier", 3),
    "org_id": claims.equals("org_id", "org_1"),
    "region": claims.equals("region", None),
    "roles": claims.includes("roles", "admin"),
}


@pytest.mark.parametrize(("case", "token_claims"), LOOKALIKES, ids=[c for c, _ in LOOKALIKES])
def test_a_lookalike_of_the_required_value_is_refused(
    case: str, token_claims: dict[str, Any]
) -> None:
    named = next(iter(token_claims), "region")
    rule = EXPECTED.get(named, claims.includes("roles", "admin", namespace=NS))
    provider, clock = Provider(), Clock()
    verifier = verifier_for(provider, clock, rule)
    token = provider.token(**token_claims)
    for verify in (verifier.verify, lambda raw: asyncio.run(verifier.averify(raw))):
        with pytest.raises(InvalidClaimsError) as refused:
            verify(token)
        error = refused.value
        assert error.status_code == 401
        shown = str(error.www_authenticate) + error.json_body().decode()
        for value in token_claims.values():
            if isinstance(value, str) and value:
                assert value not in shown


def test_a_careless_predicate_is_a_refusal_not_a_crash() -> None:
    provider, clock = Provider(), Clock()
    verifier = verifier_for(provider, clock, RULES[-1])
    for roles in ([], [None], "admin", {"0": "admin"}, [["admin"]], 7):
        with pytest.raises(InvalidClaimsError) as refused:
            verifier.verify(provider.token(roles=roles))
        assert refused.value.description == DESCRIPTION
    assert verifier.verify(provider.token(roles=["Admin"])).subject == "auth0|123"


def test_a_predicate_cannot_change_the_verified_claims() -> None:
    def meddling(token_claims: Mapping[str, Any]) -> bool:
        token_claims["roles"] = ["admin"]  # type: ignore[index]
        return True

    provider, clock = Provider(), Clock()
    verifier = verifier_for(provider, clock, claims.check(meddling, "meddles"))
    with pytest.raises(InvalidClaimsError):
        verifier.verify(provider.token(roles=["editor"]))


def test_the_largest_array_a_token_can_carry_is_checked_quickly() -> None:
    # About 16 KiB of roles, the token size limit; the one wanted is last (or absent).
    roles = [f"r{i}" for i in range(2500)]
    rule = claims.includes("roles", "admin", "editor", "viewer")
    started = time.perf_counter()
    for _ in range(100):
        assert not rule.passes({"roles": roles})
        assert rule.passes({"roles": [*roles, "viewer", "editor", "admin"]})
    assert (time.perf_counter() - started) / 200 < 0.005  # well under a millisecond each


def test_numbers_compare_as_json_numbers() -> None:
    rule = claims.equals("tier", 3)
    assert rule.passes({"tier": 3.0})
    assert not rule.passes({"tier": 3.0000000001})
    assert not rule.passes({"tier": 10**30})
    assert not claims.equals("ratio", 0.1).passes({"ratio": math.nextafter(0.1, 1)})
