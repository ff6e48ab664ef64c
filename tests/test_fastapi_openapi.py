"""bearerguard.fastapi in the OpenAPI document: the refusals, the security alternatives, the login.

What the document says is checked against what the API does: the examples of
each refusal are the answers the adapter gives, and each security alternative
is a token the API accepts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Security
from fastapi.testclient import TestClient

from bearerguard import AccessToken, ConfigurationError, Verifier
from bearerguard.fastapi import BearerAuth, install
from tests.adapters.table import no_token_for
from tests.support import AUDIENCE, ISSUER, Provider, bearer, challenge_params
from tests.test_fastapi import contacts_app  # the app both files describe

MakeVerifier = Callable[..., Verifier]
REFUSALS = {"400", "401", "403", "503"}
AUTHORIZE = "https://tenant.auth0.com/authorize"
TOKEN = "https://tenant.auth0.com/oauth/token"


@pytest.fixture
def auth(make_verifier: MakeVerifier) -> BearerAuth:
    return BearerAuth(make_verifier())


def operation(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    result: dict[str, Any] = document["paths"][path][method]
    return result


# --- security: what OpenAPI readers (and Swagger UI) take from it -----------------------------


def test_without_a_login_there_is_one_scheme_the_bearer_box(auth: BearerAuth) -> None:
    schemes = contacts_app(auth).openapi()["components"]["securitySchemes"]

    assert schemes == {"BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


def test_the_scopes_of_a_router_and_its_route_are_all_needed(auth: BearerAuth) -> None:
    document = contacts_app(auth).openapi()

    assert operation(document, "/contacts")["security"] == [{"BearerAuth": ["read:contacts"]}]
    assert operation(document, "/contacts", "delete")["security"] == [
        {"BearerAuth": ["read:contacts", "write:contacts"]}
    ]


def test_any_of_reads_as_alternatives_not_as_all_of(auth: BearerAuth, provider: Provider) -> None:
    app = contacts_app(auth)

    security = operation(app.openapi(), "/inbox")["security"]

    assert security == [{"BearerAuth": ["read:messages"]}, {"BearerAuth": ["admin"]}]
    client = TestClient(app)
    for (alternative,) in (entry["BearerAuth"] for entry in security):
        token = provider.token(scope=alternative)
        assert client.get("/inbox", headers=bearer(token)).status_code == 200


def test_all_of_and_any_of_on_one_operation_multiply(auth: BearerAuth, provider: Provider) -> None:
    app = FastAPI()
    install(app)
    router = APIRouter(dependencies=[Security(auth, scopes=["read:contacts"])])

    @router.get("/shared")
    async def shared(
        token: AccessToken = Security(auth.any_of, scopes=["team", "admin"]),
    ) -> dict[str, Any]:
        return {"sub": token.subject}

    app.include_router(router)

    security = operation(app.openapi(), "/shared")["security"]

    assert security == [
        {"BearerAuth": ["read:contacts", "team"]},
        {"BearerAuth": ["read:contacts", "admin"]},
    ]
    client = TestClient(app)
    for entry in security:
        token = provider.token(scope=" ".join(entry["BearerAuth"]))
        assert client.get("/shared", headers=bearer(token)).status_code == 200
    lacking = provider.token(scope="team admin")
    assert client.get("/shared", headers=bearer(lacking)).status_code == 403


def test_optional_authentication_adds_the_anonymous_alternative(auth: BearerAuth) -> None:
    app = contacts_app(auth)

    assert operation(app.openapi(), "/greeting")["security"] == [{"BearerAuth": []}, {}]
    assert TestClient(app).get("/greeting").json() == {"hello": "stranger"}


def test_optional_beside_a_required_dependency_is_not_anonymous(auth: BearerAuth) -> None:
    app = FastAPI()
    install(app)

    @app.get("/both")
    async def both(
        token: AccessToken = Security(auth),
        maybe: AccessToken | None = Security(auth.optional),
    ) -> dict[str, Any]:
        return {}

    assert operation(app.openapi(), "/both")["security"] == [{"BearerAuth": []}]
    assert TestClient(app).get("/both").status_code == 401


def test_unprotected_operations_are_left_alone(auth: BearerAuth) -> None:
    public = operation(contacts_app(auth).openapi(), "/public")

    assert "security" not in public
    assert set(public["responses"]) == {"200"}


# --- the refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "method"), [("/contacts", "get"), ("/contacts", "delete"),
                                              ("/inbox", "get"), ("/greeting", "get")])  # fmt: skip
def test_every_protected_operation_documents_its_refusals(
    auth: BearerAuth, path: str, method: str
) -> None:
    responses = operation(contacts_app(auth).openapi(), path, method)["responses"]

    assert set(responses) >= REFUSALS
    for status in REFUSALS:
        body = responses[status]["content"]["application/json"]
        assert body["schema"] == {"$ref": "#/components/schemas/BearerError"}
        assert responses[status]["headers"]["WWW-Authenticate"]["schema"]["type"] == "string"
    assert responses["503"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_the_error_body_schema_is_in_the_components(auth: BearerAuth) -> None:
    schema = contacts_app(auth).openapi()["components"]["schemas"]["BearerError"]

    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"error", "error_description"}


def test_the_documented_answers_are_the_answers(auth: BearerAuth, provider: Provider) -> None:
    app = contacts_app(auth)
    client = TestClient(app)
    responses = operation(app.openapi(), "/contacts", "delete")["responses"]

    missing = client.delete("/contacts")
    documented = responses["401"]["content"]["application/json"]["examples"]["no token"]["value"]
    assert missing.json() == documented
    # The router's requirement refuses first; its challenges name every scope the route needs.
    assert missing.headers["www-authenticate"] == no_token_for("read:contacts write:contacts")

    refused = client.delete("/contacts", headers=bearer(provider.token(scope="read:contacts")))
    example = responses["403"]["headers"]["WWW-Authenticate"]["schema"]["example"]
    assert refused.status_code == 403
    answered, documented_challenge = (
        challenge_params(refused.headers["www-authenticate"]),
        challenge_params(example),
    )
    # The answer and the document alike name all the operation needs.
    assert set(answered.pop("scope").split()) == set(documented_challenge.pop("scope").split())
    assert answered == documented_challenge
    assert refused.json() == responses["403"]["content"]["application/json"]["example"]
    assert "read:contacts and write:contacts" in responses["403"]["description"]


def test_the_403_of_an_any_of_operation_names_the_alternatives(auth: BearerAuth) -> None:
    responses = operation(contacts_app(auth).openapi(), "/inbox")["responses"]

    assert "read:messages or admin" in responses["403"]["description"]


def test_the_documented_403_of_an_any_of_operation_is_its_answer(
    auth: BearerAuth, provider: Provider
) -> None:
    app = contacts_app(auth)
    responses = operation(app.openapi(), "/inbox")["responses"]

    refused = TestClient(app).get("/inbox", headers=bearer(provider.token(scope="openid")))

    example = responses["403"]["headers"]["WWW-Authenticate"]["schema"]["example"]
    assert refused.headers["www-authenticate"] == example
    assert challenge_params(example)["scope"] == "read:messages admin"


def test_a_response_the_app_documents_itself_is_kept(auth: BearerAuth) -> None:
    app = FastAPI()
    install(app)

    @app.get("/mine", responses={401: {"description": "Sign in first"}})
    async def mine(token: AccessToken = Security(auth)) -> dict[str, Any]:
        return {}

    responses = operation(app.openapi(), "/mine")["responses"]

    assert responses["401"] == {"description": "Sign in first"}
    assert REFUSALS - {"401"} <= set(responses)


def test_the_realm_in_the_examples_is_the_verifiers(make_verifier: MakeVerifier) -> None:
    auth = BearerAuth(make_verifier(realm="contacts"))

    responses = operation(contacts_app(auth).openapi(), "/contacts")["responses"]

    example = responses["401"]["headers"]["WWW-Authenticate"]["schema"]["example"]
    assert example.startswith('Bearer realm="contacts"')


def test_without_install_fastapi_documents_what_it_knows(auth: BearerAuth) -> None:
    document = contacts_app(auth, installed=False).openapi()

    assert not REFUSALS & set(operation(document, "/contacts")["responses"])


def test_the_document_is_completed_once_and_rebuilt_with_new_routes(auth: BearerAuth) -> None:
    app = contacts_app(auth)
    first = app.openapi()

    assert app.openapi() is first
    assert operation(app.openapi(), "/contacts")["security"] == [{"BearerAuth": ["read:contacts"]}]

    @app.get("/late")
    async def late(token: AccessToken = Security(auth, scopes=["late"])) -> dict[str, Any]:
        return {}

    app.openapi_schema = None  # FastAPI before 0.16x keeps its first document otherwise

    assert operation(app.openapi(), "/late")["security"] == [{"BearerAuth": ["late"]}]
    assert set(operation(app.openapi(), "/late")["responses"]) >= REFUSALS


# --- the login: Swagger UI's Authorize button -------------------------------------------------


def test_an_auth0_login_needs_the_tenant_when_the_issuer_is_a_function() -> None:
    verifier = Verifier(
        issuer=lambda iss: iss.endswith(".id.example.com/"), audience="https://api.example.com"
    )

    with pytest.raises(ConfigurationError, match="needs the tenant's URL"):
        BearerAuth.auth0(verifier, client_id="spa")
    auth = BearerAuth.auth0(verifier, client_id="spa", issuer="https://a.id.example.com/")
    assert auth.login is not None


def test_an_auth0_login_beside_the_bearer_box(make_verifier: MakeVerifier) -> None:
    scopes = {"read:contacts": "Read your contacts", "write:contacts": "Change them"}
    auth = BearerAuth.auth0(make_verifier(), scopes=scopes, client_id="spa")

    document = contacts_app(auth).openapi()

    schemes = document["components"]["securitySchemes"]
    assert list(schemes) == ["OAuth2", "BearerAuth"]
    assert schemes["OAuth2"] == {
        "type": "oauth2",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": AUTHORIZE,
                "tokenUrl": TOKEN,
                "scopes": scopes,
            },
            "clientCredentials": {"tokenUrl": TOKEN, "scopes": scopes},
        },
    }
    assert operation(document, "/inbox")["security"] == [
        {"OAuth2": ["read:messages"]},
        {"OAuth2": ["admin"]},
        {"BearerAuth": ["read:messages"]},
        {"BearerAuth": ["admin"]},
    ]


def test_swagger_ui_is_told_the_client_pkce_the_audience_and_the_scopes(
    make_verifier: MakeVerifier,
) -> None:
    auth = BearerAuth.auth0(make_verifier(), scopes={"read:contacts": "Read"}, client_id="spa")

    assert auth.swagger_ui_init_oauth == {
        "usePkceWithAuthorizationCodeGrant": True,
        "clientId": "spa",
        "scopes": ["read:contacts"],
        "additionalQueryStringParams": {"audience": AUDIENCE},
    }
    assert auth.optional.login is auth.login is auth.any_of.login


def test_the_audience_may_be_sent_as_an_rfc_8707_resource(make_verifier: MakeVerifier) -> None:
    auth = BearerAuth(make_verifier(), token_url=TOKEN, audience_parameter="resource")

    assert auth.swagger_ui_init_oauth["additionalQueryStringParams"] == {"resource": AUDIENCE}
    none = BearerAuth(make_verifier(), token_url=TOKEN, audience_parameter=None)
    assert "additionalQueryStringParams" not in none.swagger_ui_init_oauth


def test_without_a_login_swagger_ui_still_uses_pkce(auth: BearerAuth) -> None:
    assert auth.swagger_ui_init_oauth == {"usePkceWithAuthorizationCodeGrant": True}


def test_a_token_url_alone_documents_client_credentials(make_verifier: MakeVerifier) -> None:
    auth = BearerAuth(
        make_verifier(),
        scheme_name="Keycloak",
        token_url="https://sso.example.com/realms/api/protocol/openid-connect/token",
        scopes={"read:contacts": "Read your contacts"},
    )

    schemes = contacts_app(auth).openapi()["components"]["securitySchemes"]

    assert list(schemes) == ["KeycloakOAuth2", "Keycloak"]
    assert list(schemes["KeycloakOAuth2"]["flows"]) == ["clientCredentials"]


def discovering_provider(provider: Provider, **extra: str) -> Provider:
    """``provider`` with the endpoints a real provider's discovery document names."""

    def discovery(request: httpx.Request) -> httpx.Response:
        document = {"issuer": ISSUER, "jwks_uri": provider.jwks_uri, **extra}
        return httpx.Response(200, json=document)

    provider.override["/.well-known/openid-configuration"] = discovery
    return provider


def test_discovery_takes_the_endpoints_from_the_providers_metadata(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    discovering_provider(provider, authorization_endpoint=AUTHORIZE, token_endpoint=TOKEN)
    auth = BearerAuth(make_verifier(), discover=True, client_id="spa")
    app = contacts_app(auth)

    assert provider.hits["/.well-known/openid-configuration"] == 0  # nothing at import
    scheme = app.openapi()["components"]["securitySchemes"]["OAuth2"]

    assert scheme == {
        "type": "oauth2",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": AUTHORIZE,
                "tokenUrl": TOKEN,
                "scopes": {
                    scope: f"Needed by some operations ({scope})"
                    for scope in ("read:contacts", "read:messages", "admin", "write:contacts")
                },
            }
        },
    }
    app.openapi()
    assert provider.hits["/.well-known/openid-configuration"] == 1


def test_a_provider_without_metadata_costs_the_login_not_the_docs(
    make_verifier: MakeVerifier,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider.override["/.well-known/openid-configuration"] = lambda r: httpx.Response(503)
    provider.override["/.well-known/oauth-authorization-server"] = lambda r: httpx.Response(503)
    auth = BearerAuth(make_verifier(), discover=True, client_id="spa")
    app = contacts_app(auth)

    with caplog.at_level(logging.WARNING, logger="bearerguard"):
        document = app.openapi()

    assert list(document["components"]["securitySchemes"]) == ["BearerAuth"]
    assert operation(document, "/contacts")["security"] == [{"BearerAuth": ["read:contacts"]}]
    assert "offers no login" in caplog.text
    assert "Tokens can still be pasted" in caplog.text
    app.openapi()  # within the retry delay: not asked again
    assert provider.hits["/.well-known/openid-configuration"] == 1

    monkeypatch.setattr("bearerguard._login.RETRY_AFTER", 0.0)
    discovering_provider(provider, authorization_endpoint=AUTHORIZE, token_endpoint=TOKEN)
    auth.login._next_try = float("-inf")  # type: ignore[union-attr]  # the delay is over
    assert "OAuth2" in app.openapi()["components"]["securitySchemes"]


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"token_endpoint": TOKEN}, "has no authorization_endpoint"),
        ({"authorization_endpoint": "http://evil.example/authorize", "token_endpoint": TOKEN},
         "https"),
    ],
)  # fmt: skip
def test_metadata_with_unusable_endpoints_offers_no_login(
    make_verifier: MakeVerifier,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
    metadata: dict[str, str],
    problem: str,
) -> None:
    discovering_provider(provider, **metadata)
    auth = BearerAuth(make_verifier(), discover=True)

    with caplog.at_level(logging.WARNING, logger="bearerguard"):
        schemes = contacts_app(auth).openapi()["components"]["securitySchemes"]

    assert list(schemes) == ["BearerAuth"]
    assert problem in caplog.text


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"discover": True, "token_url": TOKEN}, "discover"),
        ({"discover": "yes"}, "discover"),
        ({"authorization_url": AUTHORIZE}, "token_url"),
        ({"scopes": {"read:contacts": "Read"}}, "scopes"),
        ({"client_id": "spa"}, "client_id"),
        ({"discover": True, "client_id": ""}, "client_id"),
        ({"discover": True, "audience_parameter": "aud"}, "audience_parameter"),
        ({"discover": True, "scopes": ["read:contacts"]}, "scopes"),
        ({"discover": True, "scopes": {"read contacts": "Read"}}, "scopes"),
        ({"discover": True, "scopes": {"read:contacts": 1}}, "scopes"),
        ({"token_url": "http://sso.example.com/token"}, "token_url"),
        ({"scheme_name": ""}, "scheme_name"),
    ],
)
def test_login_mistakes_are_configuration_errors_naming_the_setting(
    make_verifier: MakeVerifier, settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        BearerAuth(make_verifier(), **settings)
