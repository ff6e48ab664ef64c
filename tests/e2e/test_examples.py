"""Every example, under the server it is documented with, answers real HTTP requests.

Each example runs as ``uvicorn``/``gunicorn`` does it in production, trusting
one tenant of the loopback provider (its issuer and its custom domain), started as
the README starts it (``BEARERGUARD_RESOURCE``, which the audience defaults to), and
must give the exact RFC 6750 answers of the shared adapter table, each challenge
naming the resource's RFC 9728 metadata.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.adapters.table import (
    UNAUTHORIZED_BODY,
    insufficient_scope,
    invalid_request,
    invalid_token,
)
from tests.support import AUDIENCE, NO_TOKEN_CHALLENGE

from .identity_provider import SUB, IdentityProvider
from .servers import EXAMPLES, Deployment, deploy

pytestmark = pytest.mark.e2e

# Every challenge (Bearer, and DPoP) of an example started with its resource ends with this.
METADATA = f'resource_metadata="{AUDIENCE}/.well-known/oauth-protected-resource"'


def naming_the_metadata(challenge: str) -> str:
    """``challenge`` of the adapter table, as an example with a resource sends it: each
    challenge names the metadata (RFC 9728 §5.1)."""
    return challenge.replace(", DPoP ", f", {METADATA}, DPoP ") + f", {METADATA}"


@pytest.fixture(scope="module", params=list(EXAMPLES))
def api(
    request: pytest.FixtureRequest,
    identity_provider: IdentityProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """One server per example for the whole module; its key cache lives across the tests."""
    tenant = identity_provider.add_tenant(request.param)
    with deploy(request.param, tenant, tmp_path_factory.mktemp(request.param)) as deployment:
        yield deployment


def assert_refused(response: httpx.Response, status: int, challenge: str, body: object) -> None:
    assert (response.status_code, response.headers.get("www-authenticate"), response.json()) == (
        status,
        naming_the_metadata(challenge),
        body,
    )
    assert response.headers["content-type"].startswith("application/json")


def assert_granted(response: httpx.Response, sub: str = SUB) -> None:
    assert response.status_code == 200, response.text
    assert "www-authenticate" not in response.headers
    assert response.json()["sub"] == sub


def test_the_public_route_needs_no_token(api: Deployment) -> None:
    response = api.get("/api/public")

    assert response.status_code == 200
    assert "www-authenticate" not in response.headers


def test_a_private_route_without_a_token_gets_the_bare_challenge(api: Deployment) -> None:
    assert_refused(api.get("/api/private"), 401, NO_TOKEN_CHALLENGE, UNAUTHORIZED_BODY)


def test_the_metadata_the_challenges_name_is_served(api: Deployment) -> None:
    response = api.get("/.well-known/oauth-protected-resource")

    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == api.tenant.audience == AUDIENCE
    assert document["authorization_servers"] == list(api.tenant.issuers)


def test_a_valid_token_opens_a_private_route_and_names_its_subject(api: Deployment) -> None:
    assert_granted(
        api.get("/api/private", token=api.tenant.token(sub="auth0|alice")), "auth0|alice"
    )


def test_a_string_audience_is_accepted_like_the_auth0_array(api: Deployment) -> None:
    assert_granted(api.get("/api/private", token=api.tenant.token(audience=api.tenant.audience)))


def test_the_custom_domain_issuer_is_trusted_too(api: Deployment) -> None:
    token = api.tenant.token(issuer=api.tenant.custom_domain)

    assert_granted(api.get("/api/private", token=token))


def test_a_missing_scope_is_a_403_naming_the_scope(api: Deployment) -> None:
    response = api.get("/api/private-scoped", token=api.tenant.token(scope="openid"))

    assert_refused(response, 403, **insufficient_scope("read:messages"))


def test_the_needed_scope_opens_the_scoped_route(api: Deployment) -> None:
    assert_granted(api.get("/api/private-scoped", token=api.tenant.token(scope="read:messages")))


def test_read_contacts_opens_the_contacts(api: Deployment) -> None:
    assert_granted(api.get("/api/contacts", token=api.tenant.token(scope="openid read:contacts")))


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("read:messages", id="another-scope"),
        pytest.param("read:contacts-archive", id="a-longer-scope-is-another-scope"),
        pytest.param(None, id="no-scope-claim"),
    ],
)
def test_contacts_without_read_contacts_are_a_403(api: Deployment, scope: str | None) -> None:
    response = api.get("/api/contacts", token=api.tenant.token(scope=scope))

    assert_refused(response, 403, **insufficient_scope("read:contacts"))


def test_an_expired_token_is_refused(api: Deployment) -> None:
    token = api.tenant.token(issued_ago=7200, lifetime=3600)

    assert_refused(
        api.get("/api/private", token=token), 401, **invalid_token("The access token expired")
    )


def test_a_token_for_another_api_is_refused(api: Deployment) -> None:
    token = api.tenant.token(audience="https://other-api.example.com")

    assert_refused(
        api.get("/api/private", token=token),
        401,
        **invalid_token("The access token is not intended for this API"),
    )


def test_an_untrusted_issuer_is_refused_without_asking_it(
    api: Deployment, identity_provider: IdentityProvider
) -> None:
    # A real issuer, on the same provider, signing with the same key: only trust differs.
    stranger = identity_provider.add_tenant(f"{api.example.name}-stranger")

    response = api.get("/api/private", token=stranger.token())

    assert_refused(
        response, 401, **invalid_token("The access token was issued by an untrusted issuer")
    )
    # The issuer is checked before any network call (no SSRF through the iss claim).
    assert stranger.discovery_fetches(stranger.issuer) == 0
    assert stranger.key_set_fetches(stranger.issuer) == 0


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer two tokens"])
def test_a_malformed_authorization_header_is_a_400(api: Deployment, authorization: str) -> None:
    assert_refused(api.get("/api/private", authorization=authorization), 400, **invalid_request())


def test_the_keys_are_fetched_once_per_issuer_across_requests(api: Deployment) -> None:
    # Whatever ran before on this server, a burst of requests for both issuers
    # leaves each issuer's discovery and key set fetched exactly once: the
    # worker's cache serves every later request.
    tenant = api.tenant
    for issuer in tenant.issuers:
        for path, scope in [("/api/private", None), ("/api/contacts", "read:contacts")] * 3:
            assert_granted(api.get(path, token=tenant.token(issuer=issuer, scope=scope)))

    assert {
        issuer: (tenant.discovery_fetches(issuer), tenant.key_set_fetches(issuer))
        for issuer in tenant.issuers
    } == dict.fromkeys(tenant.issuers, (1, 1))
