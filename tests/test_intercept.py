"""In-process answers to key fetches, the mechanism under ``bearerguard.testing``.

A fake issuer registers what it serves; verifiers trusting that issuer fetch
from it instead of the network and forget their keys when it starts or stops.
"""

from __future__ import annotations

import json

import pytest

from bearerguard._intercept import Interceptions, interceptions

from .support import ISSUER, Provider, rsa_key


def serve_provider(provider: Provider):
    """Serve a Provider's documents by URL, as a fake issuer does."""
    documents = {
        ISSUER + ".well-known/openid-configuration": {
            "issuer": provider.issuer,
            "jwks_uri": provider.jwks_uri,
        },
        provider.jwks_uri: None,  # computed per call: keys may rotate
    }

    def serve(url: str) -> bytes | None:
        if url not in documents:
            return None
        return json.dumps(documents[url] or provider.jwks()).encode()

    return serve


@pytest.fixture
def unreachable(make_verifier):
    """A verifier whose own transport never reaches the provider."""
    return make_verifier(transport=Provider(issuer="https://elsewhere.example/").transport())


def test_an_active_fake_answers_the_verifiers_fetches(unreachable, provider):
    interceptions.activate(ISSUER, serve_provider(provider))
    try:
        assert unreachable.verify(provider.token()).subject == "auth0|123"
    finally:
        interceptions.deactivate(ISSUER)
    assert interceptions.active_issuers() == ()


def test_other_urls_are_fetched_for_real():
    registry = Interceptions()
    registry.activate(ISSUER, lambda url: b"{}" if url.endswith("/jwks.json") else None)
    assert registry.answer("https://tenant.auth0.com/.well-known/jwks.json") is not None
    assert registry.answer("https://tenant.auth0.com/other") is None
    registry.deactivate(ISSUER)
    assert registry.answer("https://tenant.auth0.com/.well-known/jwks.json") is None


def test_starting_and_stopping_a_fake_makes_its_verifiers_forget_their_keys(
    make_verifier, provider
):
    verifier = make_verifier()
    verifier.verify(provider.token())
    assert provider.jwks_hits == 1

    interceptions.activate(ISSUER, serve_provider(provider))
    verifier.verify(provider.token())  # served by the fake: no fetch through the transport
    interceptions.deactivate(ISSUER)
    assert provider.jwks_hits == 1

    verifier.verify(provider.token())  # the fake's keys are gone: fetched for real again
    assert provider.jwks_hits == 2


def test_verifiers_of_other_issuers_keep_their_keys(make_verifier, clock):
    other = Provider(issuer="https://other.example/")
    verifier = make_verifier(
        issuer=other.issuer, transport=other.transport(), async_transport=other.async_transport()
    )
    verifier.verify(other.token())
    interceptions.activate(ISSUER, lambda url: None)
    interceptions.deactivate(ISSUER)
    verifier.verify(other.token())
    assert other.jwks_hits == 1


def test_two_fakes_for_one_issuer_is_a_mistake():
    registry = Interceptions()
    registry.activate(ISSUER, lambda url: None)
    with pytest.raises(RuntimeError, match="already active"):
        registry.activate(ISSUER, lambda url: None)


def test_forget_keys_makes_the_next_token_fetch_afresh(make_verifier, provider):
    verifier = make_verifier()
    verifier.verify(provider.token())
    verifier.forget_keys()
    verifier.verify(provider.token())
    assert provider.jwks_hits == 2


def test_forget_keys_of_an_active_fake_keeps_it_answering(unreachable, provider):
    interceptions.activate(ISSUER, serve_provider(provider))
    try:
        unreachable.verify(provider.token())
        provider.keys["k2"] = ("RS256", rsa_key(1))  # a rotation, within the cooldown
        interceptions.forget_keys(ISSUER)
        assert interceptions.active_issuers() == (ISSUER,)
        assert unreachable.verify(provider.token(kid="k2")).header["kid"] == "k2"
    finally:
        interceptions.deactivate(ISSUER)
    interceptions.forget_keys(ISSUER)  # an inactive issuer: nothing to do
