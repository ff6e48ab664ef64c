from __future__ import annotations


def test_a_valid_token_verifies(make_verifier, provider, verify):
    token = verify(make_verifier(), provider.token())
    assert token.subject == "auth0|123"
    assert provider.jwks_hits == 1
