"""MetadataRoute: where the RFC 9728 document is answered, and what each answer holds."""

from __future__ import annotations

import json

import pytest

from bearerguard import ConfigurationError, Verifier
from bearerguard._metadata_route import MetadataRoute, asgi_path, wsgi_path

ISSUER = "https://tenant.auth0.com/"


def verifier(**settings: object) -> Verifier:
    return Verifier(issuer=ISSUER, **settings)  # type: ignore[arg-type]


def test_the_path_is_the_well_known_path_inserted_before_the_resource_path() -> None:
    route = MetadataRoute(verifier(resource="https://api.example.com/tenant/mcp"))

    assert route.serves("/.well-known/oauth-protected-resource/tenant/mcp")
    assert not route.serves("/tenant/.well-known/oauth-protected-resource/mcp")
    assert not route.serves("/.well-known/oauth-protected-resource/tenant/mcp/")


def test_a_resource_without_a_path_is_served_at_the_bare_well_known_path() -> None:
    route = MetadataRoute(verifier(resource="https://api.example.com"))

    assert route.serves("/.well-known/oauth-protected-resource")


def test_a_percent_encoded_resource_path_matches_the_decoded_request_path() -> None:
    route = MetadataRoute(verifier(resource="https://api.example.com/caf%C3%A9"))

    assert route.serves("/.well-known/oauth-protected-resource/café")


def test_the_body_is_the_verifiers_document_with_the_routes_scopes() -> None:
    checked = verifier(resource="https://api.example.com/mcp")
    status, headers, body = MetadataRoute(checked, ["read:a"]).answer("GET", preflight=False)

    assert status == 200
    assert json.loads(body) == checked.resource_metadata(scopes=["read:a"])
    assert dict(headers)["Content-Length"] == str(len(body))


def test_head_keeps_the_fields_and_leaves_the_body_out() -> None:
    route = MetadataRoute(verifier(resource="https://api.example.com/mcp"))
    got = route.answer("GET", preflight=False)
    head = route.answer("HEAD", preflight=False)

    assert (head[0], head[1], head[2]) == (got[0], got[1], b"")


def test_a_method_it_does_not_allow_gets_405_naming_those_it_does() -> None:
    status, headers, body = MetadataRoute(verifier(resource="https://api.example.com/mcp")).answer(
        "put", preflight=False
    )

    assert (status, dict(headers)["Allow"], body) == (405, "GET, HEAD, OPTIONS", b"")


def test_a_verifier_without_a_resource_has_no_route() -> None:
    assert MetadataRoute.of(verifier(audience="https://api.example.com")) is None
    with pytest.raises(ConfigurationError, match="BEARERGUARD_RESOURCE"):
        MetadataRoute(verifier(audience="https://api.example.com"))


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ({"path": "/a/b", "root_path": ""}, "/a/b"),
        ({"path": "/tenant/a", "root_path": "/tenant"}, "/tenant/a"),  # root_path within path
        ({"path": "/a", "root_path": "/tenant"}, "/tenant/a"),  # the older convention
        ({"path": "/tenants/a", "root_path": "/tenant"}, "/tenant/tenants/a"),
    ],
)
def test_the_asgi_path_includes_the_mount_point(scope: dict[str, str], path: str) -> None:
    assert asgi_path(scope) == path


def test_the_wsgi_path_joins_script_name_and_path_info_as_utf8() -> None:
    latin1 = "/café".encode().decode("latin-1")  # what PEP 3333 servers hand over

    assert wsgi_path({"SCRIPT_NAME": "/tenant", "PATH_INFO": latin1}) == "/tenant/café"
    assert wsgi_path({"PATH_INFO": "/a"}) == "/a"
