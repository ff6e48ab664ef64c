"""The HTTP edges: oversized and chunked bodies, repeated headers."""

from __future__ import annotations

from bearerguard.devissuer import DevIssuer


def test_an_oversized_body_is_refused(issuer: DevIssuer, http):
    response = http.post(issuer.url + "oauth/token", content=b"a" * (64 * 1024 + 1))
    assert response.status_code == 413


def test_a_chunked_body_is_refused(issuer: DevIssuer, http):
    response = http.post(issuer.url + "oauth/token", content=iter([b"grant_type=x"]))
    assert response.status_code == 411


def test_two_authorization_headers_are_never_one_credential(issuer: DevIssuer, http):
    token = issuer.mint_access_token(audience=issuer.url + "userinfo", scopes="openid")
    response = http.get(
        issuer.url + "userinfo",
        headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")],
    )
    assert response.status_code in (400, 401)
