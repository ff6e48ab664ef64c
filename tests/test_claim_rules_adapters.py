"""Per-route claim rules in each adapter's own idiom, beyond the shared table.

The table (``tests/adapters/table.py``, the ``claims-*`` rows) sends the same
requests to one route with claim rules in all eight adapters. Here: what each
idiom refuses when the route is declared, how it reads, the forms the table has
no room for (FastAPI's siblings and its OpenAPI document, Flask's ``protect``,
DRF's per-method ``required_claims``, a WebSocket handshake), and that a claim
rule never changes what a route without one does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from fastapi import FastAPI, Security
from fastapi.testclient import TestClient
from flask import Blueprint, Flask
from starlette.testclient import TestClient as StarletteTestClient
from starlette.testclient import WebSocketDenialResponse

from bearerguard import AccessToken, ConfigurationError, Rule, Verifier, claims
from bearerguard.asgi import BearerMiddleware
from bearerguard.fastapi import BearerAuth, install
from bearerguard.flask import BearerGuard, current_token, protect, requires
from tests.adapters.table import ROUTE_CLAIMS_DESCRIPTION, claims_refused
from tests.support import Provider, bearer

MakeVerifier = Callable[..., Verifier]
ADMINS = claims.includes("roles", "admin")
CLAIMS_REFUSED = {"error": "insufficient_scope", "error_description": ROUTE_CLAIMS_DESCRIPTION}


# --- the middlewares' Rule -------------------------------------------------------------------


def test_a_rule_reads_with_its_claims():
    rule = Rule("/api/admin/{rest:path}", "read:admin", claims=[ADMINS], methods=["GET"])
    assert rule.claims == (ADMINS,)
    assert repr(rule) == (
        "Rule('/api/admin/{rest:path}', 'read:admin', claims=[claims.includes('roles', "
        "'admin')], methods=['GET', 'HEAD'])"
    )
    assert Rule("/api/x").claims == ()


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda: Rule("/a", public=True, claims=[ADMINS]), "cannot require claims"),
        (lambda: Rule("/a", optional=True, claims=[ADMINS]), "cannot require claims"),
        (lambda: Rule("/a", claims="roles"), "Rule(claims=...) takes a list of claim rules"),
        (lambda: Rule("/a", claims=ADMINS), "[claims.includes('roles', 'admin')]"),
        (lambda: Rule("/a", claims=["roles"]), "claims.required('roles')"),
    ],
)
def test_a_rule_refuses_claims_it_cannot_check(build: Callable[[], Rule], says: str):
    with pytest.raises(ConfigurationError) as refused:
        build()
    assert says in str(refused.value)


def test_a_refused_websocket_handshake_gets_the_claims_403(
    make_verifier: MakeVerifier, provider: Provider
):
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})

    protected = BearerMiddleware(
        app, verifier=make_verifier(), rules=[Rule("/ws", claims=[ADMINS])]
    )
    client = StarletteTestClient(protected)
    with client.websocket_connect("/ws", headers=bearer(provider.token(roles=["admin"]))):
        pass
    with pytest.raises(WebSocketDenialResponse) as refused:  # noqa: SIM117
        with client.websocket_connect("/ws", headers=bearer(provider.token(roles=["editor"]))):
            pass  # pragma: no cover - the handshake is refused
    assert refused.value.status_code == 403
    assert refused.value.json() == CLAIMS_REFUSED
    assert refused.value.headers["www-authenticate"] == claims_refused()["challenge"]


# --- Flask: requires() and protect() ---------------------------------------------------------


def test_flask_refuses_claims_on_an_optional_route_and_rules_that_are_no_rules():
    with pytest.raises(ConfigurationError, match="optional route cannot require claims"):
        requires(optional=True, claims=[ADMINS])
    with pytest.raises(ConfigurationError, match=r"requires\(claims=\.\.\.\) takes claim rules"):
        requires(claims=["roles"])


def test_flask_protect_puts_claim_rules_on_a_whole_blueprint(
    make_verifier: MakeVerifier, provider: Provider
):
    app = Flask(__name__)
    BearerGuard(app, verifier=make_verifier())
    admin = Blueprint("admin", __name__)
    protect(admin, claims=[ADMINS])

    @admin.get("/admin/report")
    def report() -> dict[str, Any]:
        return {"sub": current_token.subject if current_token else None}

    app.register_blueprint(admin)
    client = app.test_client()
    allowed = client.get("/admin/report", headers=bearer(provider.token(roles="admin")))
    assert allowed.status_code == 200
    refused = client.get("/admin/report", headers=bearer(provider.token(roles="editor")))
    assert refused.status_code == 403
    assert refused.get_json() == CLAIMS_REFUSED


# --- FastAPI: with_claims(), its siblings and the OpenAPI document ---------------------------


@pytest.fixture
def auth(make_verifier: MakeVerifier) -> BearerAuth:
    return BearerAuth(make_verifier())


def reports_app(auth: BearerAuth) -> FastAPI:
    app = FastAPI()
    install(app)
    admins = auth.with_claims(ADMINS)
    any_admins = auth.any_of.with_claims(ADMINS)

    @app.get("/reports")
    async def reports(
        token: AccessToken = Security(admins, scopes=["read:contacts"]),
    ) -> dict[str, Any]:
        return {"sub": token.subject}

    @app.get("/feed")
    async def feed(token: AccessToken | None = Security(admins.optional)) -> dict[str, Any]:
        return {"sub": token.subject if token else None}

    @app.get("/inbox")
    async def inbox(
        token: AccessToken = Security(any_admins, scopes=["a", "b"]),
    ) -> dict[str, Any]:
        return {"sub": token.subject}

    @app.get("/contacts")
    async def contacts(
        token: AccessToken = Security(auth, scopes=["read:contacts"]),
    ) -> dict[str, Any]:
        return {"sub": token.subject}

    return app


def test_with_claims_refuses_a_valid_token_whose_claims_fail(auth: BearerAuth, provider: Provider):
    client = TestClient(reports_app(auth))
    assert client.get("/reports", headers=bearer(provider.token(roles=["admin"]))).json() == {
        "sub": "auth0|123"
    }
    refused = client.get("/reports", headers=bearer(provider.token(roles=["editor"])))
    assert refused.status_code == 403
    assert refused.json() == CLAIMS_REFUSED
    assert refused.headers["www-authenticate"] == claims_refused()["challenge"]
    # The scopes first: their 403 names them.
    unscoped = client.get("/reports", headers=bearer(provider.token(scope="openid", roles="admin")))
    assert unscoped.status_code == 403
    assert 'scope="read:contacts"' in unscoped.headers["www-authenticate"]


def test_the_siblings_of_with_claims_require_the_claims_too(auth: BearerAuth, provider: Provider):
    client = TestClient(reports_app(auth))
    assert client.get("/feed").json() == {"sub": None}
    assert client.get("/feed", headers=bearer(provider.token(roles="admin"))).status_code == 200
    assert client.get("/feed", headers=bearer(provider.token())).status_code == 403
    inbox = client.get("/inbox", headers=bearer(provider.token(scope="b", roles=["admin"])))
    assert inbox.status_code == 200
    assert client.get("/inbox", headers=bearer(provider.token(scope="b"))).status_code == 403


def test_with_claims_adds_to_the_rules_it_already_has(auth: BearerAuth):
    verified = claims.equals("email_verified", True)
    both = auth.with_claims(ADMINS).with_claims(verified)
    assert both._claims == (ADMINS, verified)
    assert auth._claims == ()  # the original is unchanged


def test_with_claims_refuses_what_is_no_rule(auth: BearerAuth):
    with pytest.raises(ConfigurationError, match="needs at least one claim rule"):
        auth.with_claims()
    with pytest.raises(ConfigurationError, match=r"claims\.required\('roles'\)"):
        auth.with_claims("roles")  # type: ignore[arg-type]


def test_the_openapi_document_keeps_one_scheme_and_says_when_claims_refuse(auth: BearerAuth):
    document = reports_app(auth).openapi()
    assert document["components"]["securitySchemes"] == {
        "BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    reports = document["paths"]["/reports"]["get"]
    assert reports["security"] == [{"BearerAuth": ["read:contacts"]}]
    forbidden = reports["responses"]["403"]
    assert "fail a claim rule" in forbidden["description"]
    examples = forbidden["content"]["application/json"]["examples"]
    assert examples["claims refused"]["value"] == CLAIMS_REFUSED
    assert examples["insufficient scope"]["value"]["error"] == "insufficient_scope"
    # A route without claim rules is documented as before.
    contacts = document["paths"]["/contacts"]["get"]["responses"]["403"]
    assert "claim" not in contacts["description"]
    assert "example" in contacts["content"]["application/json"]


# --- Django and DRF ----------------------------------------------------------------------------


def test_django_refuses_claims_that_are_no_rules():
    from tests.adapters.apps.django_project import configure

    configure()
    from bearerguard.django import requires_scopes

    with pytest.raises(ConfigurationError, match=r"claims\.required\('roles'\)"):
        requires_scopes("read:contacts", claims=["roles"])


@pytest.fixture
def drf_client(make_verifier: MakeVerifier) -> Iterator[Any]:
    from tests.adapters.apps.django_project import configure, serving

    configure()
    from rest_framework.test import APIClient

    with serving(make_verifier(), __name__):
        yield APIClient(raise_request_exception=True)


def _drf_urlpatterns() -> list[Any]:
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Reports(APIView):
        required_scopes: ClassVar[list[str]] = []
        required_claims: ClassVar[dict[str, list[Any]]] = {"GET": [], "POST": [ADMINS]}

        def get(self, request: Any) -> Response:
            return Response({"sub": request.auth.subject})

        def post(self, request: Any) -> Response:
            return Response({"sub": request.auth.subject})

        def put(self, request: Any) -> Response:  # pragma: no cover - refused before
            return Response({})

    class Broken(APIView):
        required_scopes: ClassVar[list[str]] = []
        required_claims = "roles"

        def get(self, request: Any) -> Response:  # pragma: no cover - refused before
            return Response({})

    return [path("reports", Reports.as_view()), path("broken", Broken.as_view())]


def __getattr__(name: str) -> Any:
    # This module is the DRF test's URLconf; its views need Django configured first.
    if name == "urlpatterns":
        return _drf_urlpatterns()
    raise AttributeError(name)


def test_drf_reads_required_claims_per_method_and_fails_closed(drf_client: Any, provider: Provider):
    editor = bearer(provider.token(roles=["editor"]))
    assert drf_client.get("/reports", headers=editor).status_code == 200
    assert drf_client.head("/reports", headers=editor).status_code == 200  # HEAD follows GET
    refused = drf_client.post("/reports", headers=editor)
    assert refused.status_code == 403
    assert refused.json() == CLAIMS_REFUSED
    admin = bearer(provider.token(roles=["admin"]))
    assert drf_client.post("/reports", headers=admin).status_code == 200
    # A method the mapping does not name is refused, as for required_scopes.
    assert drf_client.put("/reports", headers=admin).json() == CLAIMS_REFUSED


def test_drf_says_what_is_wrong_with_required_claims(drf_client: Any, provider: Provider):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"Broken\.required_claims takes a list"):
        drf_client.get("/broken", headers=bearer(provider.token()))
