"""Codes and refresh tokens: single use, 60-second codes, rotation with reuse detection."""

from __future__ import annotations

import pytest

from bearerguard.devissuer._errors import OAuthError
from bearerguard.devissuer._pkce import check_challenge, s256, verifier_matches
from bearerguard.devissuer._store import Approval, ExpiringMap, GrantStore
from tests.support import Clock

APPROVAL = Approval(
    client_id="spa-client", sub="auth0|alice", scopes=("openid",), audience=None, auth_time=0
)


def issue(store: GrantStore) -> str:
    return store.issue_code(APPROVAL, redirect_uri="http://127.0.0.1/cb", code_challenge=None)


def test_a_code_is_used_once():
    store = GrantStore()
    code = issue(store)
    assert store.redeem_code(code).approval == APPROVAL
    with pytest.raises(OAuthError, match="already used") as raised:
        store.redeem_code(code)
    assert raised.value.error == "invalid_grant"
    with pytest.raises(OAuthError, match="Unknown authorization code"):
        store.redeem_code("guessed")


def test_a_code_lives_sixty_seconds():
    clock = Clock()
    store = GrantStore(clock.time)
    fresh, stale = issue(store), issue(store)
    clock.advance(59)
    store.redeem_code(fresh)
    clock.advance(1)
    with pytest.raises(OAuthError, match="expired"):
        store.redeem_code(stale)


def test_a_reused_code_revokes_the_refresh_tokens_issued_from_it():
    store = GrantStore()
    code = issue(store)
    store.redeem_code(code)
    refresh = store.issue_refresh(APPROVAL, lifetime=3600, code=code)
    with pytest.raises(OAuthError):
        store.redeem_code(code)
    with pytest.raises(OAuthError, match="already used"):
        store.use_refresh(refresh)


def test_refresh_tokens_rotate_and_reuse_revokes_the_family():
    store = GrantStore()
    first = store.issue_refresh(APPROVAL, lifetime=3600)
    grant = store.use_refresh(first)
    second = store.issue_refresh(APPROVAL, lifetime=3600, previous=grant)
    other_family = store.issue_refresh(APPROVAL, lifetime=3600)
    with pytest.raises(OAuthError, match="already used") as raised:
        store.use_refresh(first)  # replayed: the whole family goes
    assert raised.value.error == "invalid_grant"
    with pytest.raises(OAuthError):
        store.use_refresh(second)
    assert store.use_refresh(other_family).family != grant.family


def test_a_refresh_family_keeps_its_absolute_expiry():
    clock = Clock()
    store = GrantStore(clock.time)
    token = store.issue_refresh(APPROVAL, lifetime=100)
    clock.advance(60)
    successor = store.issue_refresh(APPROVAL, lifetime=100, previous=store.use_refresh(token))
    clock.advance(40)
    with pytest.raises(OAuthError, match=r"Unknown|expired"):
        store.use_refresh(successor)


def test_expiring_map_values_are_taken_once_and_expire():
    clock = Clock()
    pending = ExpiringMap[str](ttl=10, clock=clock.time)
    a, b = pending.put("a"), pending.put("b")
    assert pending.take(a) == "a"
    assert pending.take(a) is None
    clock.advance(10)
    assert pending.take(b) is None


def test_pkce_s256_matches_rfc_7636_appendix_b():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert s256(verifier) == challenge
    assert verifier_matches(verifier, challenge)
    assert not verifier_matches(verifier[:-1] + "x", challenge)
    assert not verifier_matches("short", s256("short"))  # under 43 characters


@pytest.mark.parametrize(
    ("challenge", "method", "problem"),
    [
        (None, None, None),
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256", None),
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "plain", "not 'plain'"),
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", None, "absent means plain"),
        ("too-short", "S256", "43-character"),
        (None, "S256", "without code_challenge"),
    ],
)
def test_pkce_challenges_are_checked(challenge, method, problem):
    found = check_challenge(challenge, method)
    assert (found is None) == (problem is None)
    if problem is not None:
        assert found is not None
        assert problem in found
