"""DPoP (RFC 9449) through every adapter, each with its framework's test client.

The ASGI family (the pure middleware, Starlette, FastAPI) and Django's async path
hand DPoP requests to ``Verifier.aauthenticate_request``; the WSGI middleware,
Flask, Django's sync path and DRF to ``authenticate_request``. Every adapter must
answer alike. A proof names the URL its test client sends requests to
(``Client.base_url``); the WSGI test clients fold repeated fields as servers do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bearerguard._nonces import NonceSource
from tests.support import challenge_params
from tests.test_verify_request import bound_token, dpop_proof

from .harness import Client, ClientFactory, IdentityProviders


@pytest.fixture
def client(make_client: ClientFactory, idp: IdentityProviders) -> Iterator[Client]:
    with make_client(idp.verifier()) as opened:
        yield opened


def dpop_fields(client: Client, token: str, path: str, **proof: Any) -> list[tuple[str, str]]:
    """The fields of a DPoP request to ``path`` through ``client``, its proof naming its URL."""
    return [
        ("Authorization", f"DPoP {token}"),
        ("DPoP", dpop_proof(token, url=client.base_url + path, **proof)),
    ]


def test_a_bound_token_with_its_proof_passes(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="read:contacts")

    answer = client.get("/api/contacts", headers=dpop_fields(client, token, "/api/contacts"))

    assert answer.status == 200
    assert answer.body == {"sub": "auth0|123"}


def test_a_replayed_proof_is_refused(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="read:contacts")
    fields = dpop_fields(client, token, "/api/contacts")

    assert client.get("/api/contacts", headers=fields).status == 200
    replayed = client.get("/api/contacts", headers=fields)

    assert replayed.status == 401
    assert replayed.body["error"] == "invalid_dpop_proof"
    assert 'DPoP realm="api", error="invalid_dpop_proof"' in (replayed.challenge or "")


def test_a_proof_of_another_route_is_refused(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="read:contacts")

    answer = client.get("/api/contacts", headers=dpop_fields(client, token, "/api/private"))

    assert answer.status == 401
    assert answer.body["error"] == "invalid_dpop_proof"


def test_a_bound_token_sent_as_bearer_is_refused(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="read:contacts")

    answer = client.get("/api/contacts", headers=[("Authorization", f"Bearer {token}")])

    assert answer.status == 401
    assert challenge_params(answer.challenge)["error"] == "invalid_token"


def test_an_unbound_bearer_token_still_passes(client: Client, idp: IdentityProviders):
    token = idp.token(scope="read:contacts")

    answer = client.get("/api/contacts", headers=[("Authorization", f"Bearer {token}")])

    assert answer.status == 200


def test_the_route_scopes_apply_to_dpop_tokens(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="openid")

    answer = client.get("/api/contacts", headers=dpop_fields(client, token, "/api/contacts"))

    assert answer.status == 403


def test_required_refuses_bearer_with_a_dpop_challenge_only(
    make_client: ClientFactory, idp: IdentityProviders
):
    with make_client(idp.verifier(dpop="required")) as client:
        token = idp.token(scope="read:contacts")
        answer = client.get("/api/contacts", headers=[("Authorization", f"Bearer {token}")])
        bound = bound_token(idp.tenant, scope="read:contacts")
        passed = client.get("/api/contacts", headers=dpop_fields(client, bound, "/api/contacts"))

    assert answer.status == 401
    assert (answer.challenge or "").startswith("DPoP ")
    assert "Bearer" not in (answer.challenge or "")
    assert passed.status == 200


def test_off_takes_no_dpop(make_client: ClientFactory, idp: IdentityProviders):
    with make_client(idp.verifier(dpop="off")) as client:
        bound = bound_token(idp.tenant, scope="read:contacts")
        answer = client.get("/api/contacts", headers=dpop_fields(client, bound, "/api/contacts"))

    assert answer.status == 401
    assert answer.challenge == 'Bearer realm="api", scope="read:contacts"'


def test_the_dpop_scheme_without_its_proof_is_refused(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="read:contacts")

    answer = client.get("/api/contacts", headers=[("Authorization", f"DPoP {token}")])

    assert answer.status == 401
    assert answer.body["error"] == "invalid_dpop_proof"


def test_required_offers_only_the_dpop_challenge_without_credentials(
    make_client: ClientFactory, idp: IdentityProviders
):
    with make_client(idp.verifier(dpop="required", dpop_algorithms=["ES256"])) as client:
        answer = client.get("/api/contacts")

    assert answer.status == 401
    assert answer.challenge == 'DPoP realm="api", algs="ES256", scope="read:contacts"'


# Server nonces (RFC 9449 §8-9): refused without one, and handed back on success.

NONCE_SECRET = "a shared secret of the servers, 32 bytes or more, not repeated"


def test_with_nonces_a_proof_without_one_gets_use_dpop_nonce_and_a_fresh_nonce(
    make_client: ClientFactory, idp: IdentityProviders
):
    verifier = idp.verifier(dpop_nonce=NONCE_SECRET)
    token = bound_token(idp.tenant, scope="read:contacts")
    with make_client(verifier) as client:
        refused = client.get("/api/contacts", headers=dpop_fields(client, token, "/api/contacts"))
        nonce = refused.headers.get("dpop-nonce")
        retried = client.get(
            "/api/contacts", headers=dpop_fields(client, token, "/api/contacts", nonce=nonce)
        )

    assert refused.status == 401
    assert refused.body["error"] == "use_dpop_nonce"
    assert 'DPoP realm="api", error="use_dpop_nonce"' in (refused.challenge or "")
    assert nonce == NonceSource(NONCE_SECRET).issue(idp.clock.time())
    assert retried.status == 200
    assert retried.body == {"sub": "auth0|123"}


def test_with_nonces_a_successful_dpop_answer_carries_the_current_nonce(
    make_client: ClientFactory, idp: IdentityProviders
):
    verifier = idp.verifier(dpop_nonce=NONCE_SECRET)
    token = bound_token(idp.tenant, scope="read:contacts")
    with make_client(verifier) as client:
        current = client.get(
            "/api/contacts", headers=dpop_fields(client, token, "/api/contacts")
        ).headers["dpop-nonce"]
        idp.clock.advance(90)  # the next period: the old nonce is still accepted ...
        fields = dpop_fields(
            client, token, "/api/contacts", nonce=current, iat=int(idp.clock.time())
        )
        answer = client.get("/api/contacts", headers=fields)

    assert answer.status == 200
    # ... and the answer hands the client the new one, before the old one expires.
    assert answer.headers["dpop-nonce"] != current
    assert len(answer.headers["dpop-nonce"]) == len(current)


def test_nonces_leave_bearer_requests_alone(make_client: ClientFactory, idp: IdentityProviders):
    with make_client(idp.verifier(dpop_nonce=NONCE_SECRET)) as client:
        token = idp.token(scope="read:contacts")
        answer = client.get("/api/contacts", headers=[("Authorization", f"Bearer {token}")])

    assert answer.status == 200
    assert "dpop-nonce" not in answer.headers


def test_without_nonces_no_answer_carries_one(client: Client, idp: IdentityProviders):
    token = bound_token(idp.tenant, scope="read:contacts")

    answer = client.get("/api/contacts", headers=dpop_fields(client, token, "/api/contacts"))

    assert answer.status == 200
    assert "dpop-nonce" not in answer.headers
