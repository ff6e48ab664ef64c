"""Opaque access tokens from every flow, /userinfo with them, and the store that keeps them."""

from __future__ import annotations

from bearerguard import Verifier
from bearerguard._jose import looks_like_jwt
from bearerguard.devissuer import DevIssuer
from bearerguard.devissuer._opaque import OpaqueTokens

from .flows import SPA, authorize, decide, exchange, redirect_params, tokens
from .introspection import OPAQUE_API, introspect, post

USER_SCOPES = "openid profile offline_access read:reports"


def user_tokens(http, issuer: DevIssuer, user: str = "auth0|alice", scope: str = USER_SCOPES):
    return tokens(http, issuer, scope=scope, user=user, audience=OPAQUE_API)


def test_the_code_flow_gives_an_opaque_access_token_and_a_signed_id_token(issuer: DevIssuer, http):
    answer = user_tokens(http, issuer)
    assert not looks_like_jwt(answer["access_token"])
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    Verifier(issuer=issuer.url, audience=SPA).verify(answer["id_token"])  # still a JWT
    claims = introspect(http, issuer, answer["access_token"])
    assert claims["active"] is True
    assert claims["sub"] == "auth0|alice"
    assert claims["aud"] == [OPAQUE_API, issuer.url + "userinfo"]
    assert claims["scope"] == USER_SCOPES
    assert claims["client_id"] == claims["azp"] == SPA
    # What Alice's JWT would carry: her organization and her namespaced custom claims.
    assert (claims["org_id"], claims["org_name"]) == ("org_demo", "demo-org")
    assert claims["https://example.com/roles"] == ["admin"]


def test_a_users_permissions_cap_the_opaque_tokens_as_they_cap_jwts(issuer: DevIssuer, http):
    # Bob's permissions hold no scope of this API: his token gets none of them.
    answer = user_tokens(http, issuer, user="auth0|bob")
    claims = introspect(http, issuer, answer["access_token"])
    assert claims["permissions"] == []
    assert "read:reports" not in claims["scope"].split()


def test_a_refresh_gives_a_new_opaque_token_and_the_refresh_token_is_no_access_token(
    issuer: DevIssuer, http
):
    first = user_tokens(http, issuer)
    assert introspect(http, issuer, first["refresh_token"]) == {"active": False}
    response = exchange(
        http,
        issuer,
        grant_type="refresh_token",
        client_id=SPA,
        refresh_token=first["refresh_token"],
        scope="read:reports",
    )
    assert response.status_code == 200, response.text
    refreshed = response.json()
    assert refreshed["access_token"] != first["access_token"]
    assert not looks_like_jwt(refreshed["access_token"])
    claims = introspect(http, issuer, refreshed["access_token"])
    assert (claims["active"], claims["scope"]) == (True, "read:reports")
    assert introspect(http, issuer, first["access_token"])["active"] is True  # both live


def test_the_implicit_flow_gives_an_opaque_token_too(issuer: DevIssuer, http):
    page = authorize(
        http, issuer, response_type="token", scope="openid read:reports", audience=OPAQUE_API
    )
    answer = redirect_params(decide(http, issuer, page), fragment=True)
    assert not looks_like_jwt(answer["access_token"])
    assert answer["expires_in"] == "7200"  # token_lifetime_for_web
    claims = introspect(http, issuer, answer["access_token"])
    assert (claims["active"], claims["sub"]) == (True, "auth0|alice")


def test_userinfo_takes_opaque_tokens_until_they_are_revoked(issuer: DevIssuer, http):
    access = user_tokens(http, issuer)["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    response = http.get(issuer.url + "userinfo", headers=bearer)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == "auth0|alice"
    assert response.json()["name"] == "Alice Example"
    # An opaque token answers for the issuer it was requested from, at either URL.
    assert http.get(issuer.custom_domain_url + "userinfo", headers=bearer).status_code == 200
    assert post(http, issuer, "revoke", {"token": access}).status_code == 200
    refused = http.get(issuer.url + "userinfo", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    unknown = http.get(issuer.url + "userinfo", headers={"Authorization": "Bearer abcdef"})
    assert unknown.status_code == 401


def test_a_token_without_the_userinfo_audience_is_refused_there(issuer: DevIssuer, http):
    answer = user_tokens(http, issuer, scope="read:reports")
    response = http.get(
        issuer.url + "userinfo", headers={"Authorization": f"Bearer {answer['access_token']}"}
    )
    assert response.status_code == 401


# --- the store ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_lives_until_its_exp():
    clock = Clock()
    store = OpaqueTokens(clock)
    token = store.issue({"sub": "x", "exp": clock.now + 10})
    assert store.claims(token) == {"sub": "x", "exp": clock.now + 10}
    clock.now += 10
    assert store.claims(token) is None


def test_expired_entries_are_purged_and_the_store_is_bounded():
    clock = Clock()
    store = OpaqueTokens(clock, limit=3)
    expiring = store.issue({"exp": clock.now + 1})
    clock.now += 120  # past the minute between sweeps
    live = [store.issue({"exp": clock.now + 100}) for _ in range(3)]
    assert len(store) == 3  # the expired one was swept
    assert store.claims(expiring) is None
    newest = store.issue({"exp": clock.now + 100})
    assert len(store) == 3  # full of live tokens: the oldest went
    assert store.claims(live[0]) is None
    assert all(store.claims(token) is not None for token in (*live[1:], newest))


def test_revoking_forgets_a_token_and_unknown_text_is_no_token():
    clock = Clock()
    store = OpaqueTokens(clock)
    token = store.issue({"exp": clock.now + 100})
    assert store.revoke(token) is True
    assert store.revoke(token) is False
    assert store.claims(token) is None
    for garbage in ("", "é", "x" * 10_000):
        assert store.claims(garbage) is None
        assert store.revoke(garbage) is False


def test_the_claims_handed_out_are_copies():
    store = OpaqueTokens()
    token = store.issue({"scope": "a", "exp": 4_000_000_000})
    claims = store.claims(token)
    assert claims is not None
    claims["scope"] = "admin"
    assert store.claims(token) == {"scope": "a", "exp": 4_000_000_000}
