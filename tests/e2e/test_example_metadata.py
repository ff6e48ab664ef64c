"""Every example, under its server with ``BEARERGUARD_RESOURCE`` set as the README sets it,
serves the RFC 9728 document at the URL their challenges name, and accepts tokens issued
for the resource.

The resource is the only audience setting: the examples need nothing of their own to
serve the document, the adapters do it. The README's resource is the API's origin
(``tests/e2e/test_examples.py`` runs the examples so); here it has a path, which the
document's path and the challenges must follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .identity_provider import SUB, IdentityProvider, Tenant
from .servers import EXAMPLES, REQUEST_TIMEOUT, Server, example_environment, serve_app

pytestmark = pytest.mark.e2e

RESOURCE = "https://api.example.com/api"
DOCUMENT_PATH = "/.well-known/oauth-protected-resource/api"
# What the examples' routes require, in route order.
ROUTE_SCOPES = ["read:messages", "read:contacts"]


@pytest.fixture(scope="module", params=list(EXAMPLES))
def served(
    request: pytest.FixtureRequest, identity_provider: IdentityProvider, tmp_path_factory: Any
) -> Iterator[tuple[Server, Tenant]]:
    tenant = identity_provider.add_tenant(f"{request.param}-resource", audience=RESOURCE)
    environment = example_environment(tenant.issuers, RESOURCE)
    log_dir: Path = tmp_path_factory.mktemp(f"{request.param}-resource")
    with serve_app(EXAMPLES[request.param], environment=environment, log_dir=log_dir) as server:
        yield server, tenant


def get(server: Server, path: str, **headers: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as client:
        return client.get(server.url + path, headers=headers)


def test_the_document_is_served_with_the_routes_scopes(served: tuple[Server, Tenant]) -> None:
    server, tenant = served
    response = get(server, DOCUMENT_PATH)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == list(tenant.issuers)
    assert document["scopes_supported"] == ROUTE_SCOPES


def test_a_refusal_names_the_document_and_a_token_for_the_resource_passes(
    served: tuple[Server, Tenant],
) -> None:
    server, tenant = served
    refused = get(server, "/api/private")
    granted = get(server, "/api/private", Authorization=f"Bearer {tenant.token()}")

    named = f'resource_metadata="https://api.example.com{DOCUMENT_PATH}"'
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer realm="api"')
    assert named in refused.headers["www-authenticate"]
    assert urlsplit(named.split('"')[1]).path == DOCUMENT_PATH
    assert granted.status_code == 200, granted.text
    assert granted.json()["sub"] == SUB
