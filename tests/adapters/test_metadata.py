"""Every adapter serves the resource's RFC 9728 metadata document alike, mounted or not.

The document is fetched at the URL the verifier's ``resource_metadata_url`` names (the
URL every challenge carries), through each framework's real test client; an app
mounted at a prefix is mounted at the well-known path of that prefix too, as §3.1
puts the document outside the mount.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest

from bearerguard import Verifier
from tests.support import CUSTOM_DOMAIN, DPOP_ALGS, ISSUER

from .harness import Answer, IdentityProviders
from .table import CONTRACT_SCOPES, METADATA_CASES, RESOURCE, MetadataCase

# The adapters that serve the document (Flask and Django do not yet).
METADATA_ADAPTERS = ("asgi", "wsgi", "starlette", "fastapi", "flask", "django")


class MetadataClient(Protocol):
    def call(
        self, method: str, path: str, *, headers: Sequence[tuple[str, str]] = ()
    ) -> Answer: ...


MetadataFactory = Callable[..., AbstractContextManager[MetadataClient]]


@pytest.fixture(params=METADATA_ADAPTERS)
def serve(request: pytest.FixtureRequest) -> MetadataFactory:
    """``metadata_client(verifier, mount="")`` of the adapter's test app."""
    module = __import__(f"tests.adapters.apps.{request.param}", fromlist=["metadata_client"])
    factory: MetadataFactory = module.metadata_client
    return factory


def document_path(verifier: Verifier) -> str:
    """The path of the URL the verifier's challenges name."""
    url = verifier.resource_metadata_url
    assert url is not None
    return urlsplit(url).path


def document(answer: Answer) -> Any:
    return json.loads(answer.body)


@pytest.mark.parametrize("case", METADATA_CASES, ids=[case.id for case in METADATA_CASES])
@pytest.mark.parametrize("mount", ["", "/tenant"], ids=["unmounted", "mounted"])
def test_the_adapter_answers_the_metadata_url_like_every_other(
    case: MetadataCase, mount: str, idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=f"https://api.example.com{mount}/mcp")
    with serve(verifier, mount) as client:
        answer = client.call(case.method, document_path(verifier), headers=case.headers)

    assert answer.status == case.status
    for name, value in case.fields.items():
        assert answer.headers[name] == value
    if case.document:
        assert document(answer) == verifier.resource_metadata(scopes=CONTRACT_SCOPES)
    else:
        assert answer.body == b""
    assert "www-authenticate" not in answer.headers


def test_head_announces_the_length_of_the_document_it_leaves_out(
    idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=RESOURCE)
    with serve(verifier) as client:
        got = client.call("GET", document_path(verifier))
        head = client.call("HEAD", document_path(verifier))

    assert head.headers["content-length"] == str(len(got.body)) == got.headers["content-length"]


@pytest.mark.parametrize("mount", ["", "/tenant"], ids=["unmounted", "mounted"])
def test_the_document_lists_the_issuers_and_what_the_routes_require(
    mount: str, idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=f"https://api.example.com{mount}/mcp")
    with serve(verifier, mount) as client:
        served = document(client.call("GET", document_path(verifier)))

    assert served["resource"] == f"https://api.example.com{mount}/mcp"
    assert served["authorization_servers"] == [ISSUER, CUSTOM_DOMAIN]
    assert served["scopes_supported"] == CONTRACT_SCOPES
    assert served["bearer_methods_supported"] == ["header"]


@pytest.mark.parametrize("mount", ["", "/tenant"], ids=["unmounted", "mounted"])
def test_a_refusal_names_the_url_where_the_document_is_served(
    mount: str, idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=f"https://api.example.com{mount}/mcp")
    with serve(verifier, mount) as client:
        refused = client.call("GET", f"{mount}/api/private")
        named = refused.headers["www-authenticate"].split('resource_metadata="')[1].split('"')[0]
        fetched = client.call("GET", urlsplit(named).path)

    assert refused.status == 401
    assert fetched.status == 200
    assert document(fetched)["resource"] == f"https://api.example.com{mount}/mcp"


def test_configured_scopes_replace_the_routes_scopes(
    idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=RESOURCE, scopes_supported=["read:contacts", "mcp:tools"])
    with serve(verifier) as client:
        served = document(client.call("GET", document_path(verifier)))

    assert served["scopes_supported"] == ["read:contacts", "mcp:tools"]


@pytest.mark.parametrize(
    ("dpop", "members"),
    [
        ("off", {}),
        ("allowed", {"dpop_signing_alg_values_supported": sorted(DPOP_ALGS.split())}),
        (
            "required",
            {
                "dpop_signing_alg_values_supported": sorted(DPOP_ALGS.split()),
                "dpop_bound_access_tokens_required": True,
            },
        ),
    ],
)
def test_the_dpop_members_follow_the_dpop_mode(
    dpop: str, members: dict[str, Any], idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=RESOURCE, dpop=dpop)
    with serve(verifier) as client:
        served = document(client.call("GET", document_path(verifier)))

    assert {name: served[name] for name in served if name.startswith("dpop_")} == members


def test_the_name_and_documentation_are_served_when_set(
    idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(
        resource=RESOURCE,
        resource_name="Contacts API",
        resource_documentation="https://docs.example.com/api",
    )
    with serve(verifier) as client:
        served = document(client.call("GET", document_path(verifier)))

    assert served["resource_name"] == "Contacts API"
    assert served["resource_documentation"] == "https://docs.example.com/api"


@pytest.mark.parametrize(
    ("public_url", "resource"),
    [
        ("https://api.example.com", "https://api.example.com/mcp"),
        # The proxy strips /v1 from the API's requests; the document's URL lies outside /v1
        # (§3.1 inserts the well-known path first), so the proxy forwards it unchanged.
        ("https://api.example.com/v1", "https://api.example.com/v1/mcp"),
    ],
    ids=["host-only", "with-a-prefix"],
)
def test_behind_a_proxy_the_document_is_at_its_own_path(
    public_url: str, resource: str, idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=resource, public_url=public_url)
    with serve(verifier) as client:
        answer = client.call("GET", document_path(verifier))

    assert answer.status == 200
    assert document(answer)["resource"] == resource


def test_without_a_resource_the_path_is_answered_like_any_unknown_path(
    idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier()
    with serve(verifier) as client:
        well_known = client.call("GET", "/.well-known/oauth-protected-resource/mcp")
        elsewhere = client.call("GET", "/.well-known/somewhere-else/mcp")

    assert (well_known.status, well_known.body) == (elsewhere.status, elsewhere.body)
    assert well_known.status != 200


def test_other_paths_of_the_well_known_prefix_are_not_the_document(
    idp: IdentityProviders, serve: MetadataFactory
) -> None:
    verifier = idp.verifier(resource=RESOURCE)
    with serve(verifier) as client:
        bare = client.call("GET", "/.well-known/oauth-protected-resource")
        deeper = client.call("GET", "/.well-known/oauth-protected-resource/mcp/tools")

    assert bare.status != 200
    assert deeper.status != 200
