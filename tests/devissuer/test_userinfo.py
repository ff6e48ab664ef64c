"""GET /userinfo: the profile of the user a userinfo-audience token was issued for."""

from __future__ import annotations

from bearerguard.devissuer import DevIssuer

from .flows import API, M2M, exchange, tokens


def test_userinfo_answers_with_the_profile_the_scopes_release(issuer: DevIssuer, http):
    access = tokens(http, issuer, scope="openid profile email")["access_token"]
    response = http.get(issuer.url + "userinfo", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sub": "auth0|alice",
        "name": "Alice Example",
        "email": "alice@example.com",
        "email_verified": True,
        "org_id": "org_demo",
        "org_name": "demo-org",
        "https://example.com/roles": ["admin"],
    }
    profile_only = tokens(http, issuer, scope="openid profile", user="auth0|bob")["access_token"]
    bob = http.post(
        issuer.url + "userinfo", headers={"Authorization": f"Bearer {profile_only}"}
    ).json()
    assert bob == {"sub": "auth0|bob", "name": "Bob Example"}


def test_userinfo_works_at_the_custom_domain(issuer: DevIssuer, http):
    base = issuer.custom_domain_url
    access = tokens(http, issuer, scope="openid")["access_token"]  # from the canonical URL
    response = http.get(base + "userinfo", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200
    assert response.json()["sub"] == "auth0|alice"


def test_userinfo_needs_a_token_for_it(issuer: DevIssuer, http):
    missing = http.get(issuer.url + "userinfo")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="dev-issuer"'
    m2m = exchange(
        http, issuer, grant_type="client_credentials", client_id=M2M,
        client_secret="m2m-secret", audience=API,
    ).json()["access_token"]  # fmt: skip
    refused = http.get(issuer.url + "userinfo", headers={"Authorization": f"Bearer {m2m}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert refused.json()["error"] == "invalid_token"
    garbage = http.get(issuer.url + "userinfo", headers={"Authorization": "Bearer x.y.z"})
    assert garbage.status_code == 401


def test_userinfo_follows_a_key_rotation_at_once(issuer: DevIssuer, http):
    before = tokens(http, issuer, scope="openid")["access_token"]
    ok = http.get(issuer.url + "userinfo", headers={"Authorization": f"Bearer {before}"})
    assert ok.status_code == 200
    issuer.rotate_keys()
    after = tokens(http, issuer, scope="openid")["access_token"]
    for access in (before, after):
        response = http.get(issuer.url + "userinfo", headers={"Authorization": f"Bearer {access}"})
        assert response.status_code == 200, response.text
