"""bearerguard.django.rest_framework: BearerTokenAuthentication and HasScopes.

Views are real DRF ``APIView`` s called through DRF's ``APIClient``; refusals
must come out of DRF's own exception handling with the RFC 6750 status,
challenge and body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import AsyncClient
from django.urls import path

from bearerguard import InvalidTokenError, KeySetUnavailableError
from bearerguard.django import TokenUser
from tests.adapters.apps.django_project import MIDDLEWARE as BEARER_MIDDLEWARE
from tests.adapters.apps.django_project import configure, serving
from tests.adapters.harness import IdentityProviders
from tests.adapters.table import challenge, no_token_for
from tests.support import NO_TOKEN_CHALLENGE, bearer, forbidden_transport
from tests.test_verify_request import bound_token, dpop_proof

configure()  # DRF reads Django's settings when its view classes are defined, just below.

from rest_framework.authentication import SessionAuthentication  # noqa: E402
from rest_framework.exceptions import APIException  # noqa: E402
from rest_framework.permissions import IsAuthenticated  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework.views import APIView, exception_handler  # noqa: E402

from bearerguard.django.rest_framework import (  # noqa: E402
    BearerTokenAuthentication,
    BearerTokenError,
    HasScopes,
)


def describe(request: Request) -> Response:
    user = request.user
    return Response(
        {
            "auth": type(request.auth).__name__,
            "user": type(user).__name__,
            "username": getattr(user, "username", None),
        }
    )


class Contacts(APIView):
    authentication_classes: ClassVar[list[Any]] = [BearerTokenAuthentication]
    permission_classes: ClassVar[list[Any]] = [HasScopes]
    required_scopes: ClassVar[dict[str, list[str]]] = {
        "GET": ["read:contacts"],
        "POST": ["write:contacts"],
    }

    def get(self, request: Request) -> Response:
        return describe(request)

    def post(self, request: Request) -> Response:
        return describe(request)

    def delete(self, request: Request) -> Response:
        return describe(request)


class Reports(APIView):
    required_scopes: ClassVar[list[str]] = ["read:reports", "admin"]
    required_scopes_any_of = True

    def get(self, request: Request) -> Response:
        return describe(request)


class Anyone(APIView):
    permission_classes: ClassVar[list[Any]] = []

    def get(self, request: Request) -> Response:
        return describe(request)


class DRFIsAuthenticated(APIView):
    permission_classes: ClassVar[list[Any]] = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return describe(request)


class AuthenticatedFirst(APIView):
    """DRF's IsAuthenticated refuses a request without a token before HasScopes is asked."""

    permission_classes: ClassVar[list[Any]] = [IsAuthenticated, HasScopes]
    required_scopes: ClassVar[list[str]] = ["read:contacts"]

    def get(self, request: Request) -> Response:
        return describe(request)


class Forgetful(APIView):
    permission_classes: ClassVar[list[Any]] = [HasScopes]  # and no required_scopes

    def get(self, request: Request) -> Response:
        return describe(request)


class SessionOrBearer(APIView):
    """A view that also accepts a session: the token is tried first."""

    authentication_classes: ClassVar[list[Any]] = [
        BearerTokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes: ClassVar[list[Any]] = []

    def post(self, request: Request) -> Response:
        return describe(request)


class SessionUser:
    """A logged-in Django user, as django.contrib.auth would attach one from the session."""

    is_active = True
    is_authenticated = True
    username = "alice"


def session_user_middleware(get_response: Any) -> Any:
    """Stands in for sessions + AuthenticationMiddleware (the test project has no database)."""

    def middleware(request: Any) -> Any:
        if "sessionid" in request.COOKIES:
            request.user = SessionUser()
        return get_response(request)

    return middleware


urlpatterns = [
    path("contacts", Contacts.as_view()),
    path("session-or-bearer", SessionOrBearer.as_view()),
    path("reports", Reports.as_view()),
    path("anyone", Anyone.as_view()),
    path("is-authenticated", DRFIsAuthenticated.as_view()),
    path("forgetful", Forgetful.as_view()),
    path("authenticated-first", AuthenticatedFirst.as_view()),
]


@pytest.fixture
def api(idp: IdentityProviders) -> Iterator[APIClient]:
    with serving(idp.verifier(), __name__):
        yield APIClient()


# --- authentication ----------------------------------------------------------------------


def test_a_valid_token_authenticates_a_token_user(api: APIClient, idp: IdentityProviders) -> None:
    response = api.get("/contacts", headers=bearer(idp.token()))
    assert response.status_code == 200
    assert response.json() == {"auth": "AccessToken", "user": "TokenUser", "username": "auth0|123"}


def test_without_a_token_the_request_is_anonymous_and_needs_no_django_user(
    api: APIClient,
) -> None:
    # The test project has no django.contrib.auth and sets UNAUTHENTICATED_USER = None.
    response = api.get("/anyone")
    assert response.json() == {"auth": "NoneType", "user": "NoneType", "username": None}


def test_a_bad_token_is_refused_even_where_anyone_may_enter(
    api: APIClient, idp: IdentityProviders
) -> None:
    response = api.get("/anyone", headers=bearer(idp.token(aud="https://other.example.com")))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == challenge(
        "invalid_token", "The access token is not intended for this API"
    )
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token is not intended for this API",
    }


def test_drfs_own_401_carries_the_bearer_challenge(api: APIClient) -> None:
    response = api.get("/is-authenticated")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == NO_TOKEN_CHALLENGE


def test_drfs_own_401_names_the_scopes_the_view_requires(api: APIClient) -> None:
    response = api.get("/authenticated-first")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == no_token_for("read:contacts")


def test_no_token_on_an_any_of_view_names_every_alternative(api: APIClient) -> None:
    response = api.get("/reports")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == no_token_for("read:reports admin")


def test_drfs_is_authenticated_accepts_a_token_user(api: APIClient, idp: IdentityProviders) -> None:
    assert api.get("/is-authenticated", headers=bearer(idp.token())).status_code == 200


def test_the_middlewares_async_verification_is_reused(idp: IdentityProviders) -> None:
    # Under ASGI the middleware verifies on the event loop; the (sync) DRF view must not
    # verify again, which here would need the refused sync transport.
    with serving(
        idp.verifier(transport=forbidden_transport("an async stack fetched synchronously")),
        __name__,
    ):
        response = asyncio.run(AsyncClient().get("/contacts", headers=bearer(idp.token())))
    assert response.status_code == 200
    assert response.json()["auth"] == "AccessToken"


def test_without_the_middleware_the_authentication_verifies_by_itself(
    idp: IdentityProviders,
) -> None:
    with serving(idp.verifier(), __name__, MIDDLEWARE=[]):
        granted = APIClient().get("/contacts", headers=bearer(idp.token()))
        refused = APIClient().get("/contacts", headers=bearer("not-a-jwt"))
    assert granted.json()["user"] == "TokenUser"
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == challenge("invalid_token", "Invalid token")


@pytest.mark.parametrize("middleware", [[BEARER_MIDDLEWARE], []], ids=["middleware", "alone"])
def test_a_dpop_proof_names_the_url_with_its_mount_point(
    idp: IdentityProviders, middleware: list[str]
) -> None:
    def dpop(url: str) -> dict[str, str]:
        token = bound_token(idp.tenant, scope="read:contacts")
        return {"Authorization": f"DPoP {token}", "DPoP": dpop_proof(token, url=url)}

    with serving(idp.verifier(), __name__, MIDDLEWARE=middleware, FORCE_SCRIPT_NAME="/v1"):
        mounted = APIClient().get("/contacts", headers=dpop("http://testserver/v1/contacts"))
        below = APIClient().get("/contacts", headers=dpop("http://testserver/contacts"))

    assert mounted.status_code == 200
    assert mounted.json()["auth"] == "AccessToken"
    assert below.status_code == 401
    assert below.json()["error"] == "invalid_dpop_proof"
    assert 'DPoP realm="api", error="invalid_dpop_proof"' in below["WWW-Authenticate"]


# --- HasScopes ---------------------------------------------------------------------------


def test_each_method_requires_its_own_scopes(api: APIClient, idp: IdentityProviders) -> None:
    reader = bearer(idp.token(scope="read:contacts"))
    assert api.get("/contacts", headers=reader).status_code == 200
    assert api.head("/contacts", headers=reader).status_code == 200  # HEAD follows GET
    refused = api.post("/contacts", headers=reader)
    assert refused.status_code == 403
    assert refused["WWW-Authenticate"] == challenge(
        "insufficient_scope", "Insufficient scope", "write:contacts"
    )
    assert refused.json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }
    writer = bearer(idp.token(scope="write:contacts"))
    assert api.post("/contacts", headers=writer).status_code == 200


def test_a_method_the_mapping_does_not_name_is_refused(
    api: APIClient, idp: IdentityProviders
) -> None:
    everything = bearer(idp.token(scope="read:contacts write:contacts admin"))
    response = api.delete("/contacts", headers=everything)
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == challenge("insufficient_scope", "Insufficient scope")


def test_any_of_accepts_one_of_the_scopes(api: APIClient, idp: IdentityProviders) -> None:
    assert api.get("/reports", headers=bearer(idp.token(scope="admin"))).status_code == 200
    refused = api.get("/reports", headers=bearer(idp.token(scope="read:contacts")))
    assert refused.status_code == 403
    assert 'scope="read:reports admin"' in refused["WWW-Authenticate"]


def test_no_token_is_a_401_with_a_challenge_per_scheme(api: APIClient) -> None:
    response = api.get("/contacts")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == no_token_for("read:contacts")
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "Authentication required",
    }


def test_a_malformed_header_is_a_400(api: APIClient) -> None:
    response = api.get("/contacts", headers={"Authorization": "Bearer"})
    assert response.status_code == 400
    assert response["WWW-Authenticate"] == challenge(
        "invalid_request", "Malformed Authorization header"
    )


def test_the_provider_being_down_is_a_503_with_retry_after(
    api: APIClient, idp: IdentityProviders
) -> None:
    idp.tenant.override["/.well-known/openid-configuration"] = lambda r: httpx.Response(500)
    response = api.get("/contacts", headers=bearer(idp.token()))
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["WWW-Authenticate"].startswith(
        'Bearer realm="api", error="temporarily_unavailable"'
    )


def test_a_view_without_required_scopes_is_a_configuration_error(
    api: APIClient, idp: IdentityProviders
) -> None:
    with pytest.raises(ImproperlyConfigured, match="sets no required_scopes"):
        api.get("/forgetful", headers=bearer(idp.token()))


# --- DRF-native errors and the token user -------------------------------------------------


def test_refusals_are_api_exceptions_for_drfs_exception_handler() -> None:
    error = BearerTokenError(KeySetUnavailableError(retry_after=7))
    assert isinstance(error, APIException)
    response = exception_handler(error, {})
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response["WWW-Authenticate"] == error.error.www_authenticate
    assert response.data == error.error.to_json()


def test_a_refusal_keeps_the_original_error() -> None:
    original = InvalidTokenError()
    assert BearerTokenError(original).error is original


def test_the_token_user_is_the_tokens_subject_and_holds_no_django_permissions(
    idp: IdentityProviders,
) -> None:
    token = idp.verifier().verify(idp.token())
    user = TokenUser(token)
    assert user.token is token
    assert (user.is_authenticated, user.is_anonymous, user.is_active) == (True, False, True)
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert user.pk == user.username == user.subject == str(user) == "auth0|123"
    assert not user.has_perm("contacts.view_contact")
    assert not user.has_perms(["contacts.view_contact"])
    assert not user.has_module_perms("contacts")


# --- CSRF --------------------------------------------------------------------------------
# DRF exempts its views from CsrfViewMiddleware and lets SessionAuthentication enforce CSRF
# for session-authenticated requests only: a bearer token needs no CSRF token.

CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
CSRF_LAYOUTS = {
    "csrf-first": [CSRF_MIDDLEWARE, BEARER_MIDDLEWARE],
    "csrf-last": [BEARER_MIDDLEWARE, CSRF_MIDDLEWARE],
    "csrf-only": [CSRF_MIDDLEWARE],
}


@pytest.fixture(params=list(CSRF_LAYOUTS))
def csrf_api(request: pytest.FixtureRequest, idp: IdentityProviders) -> Iterator[APIClient]:
    """An APIClient that really enforces CSRF, with CsrfViewMiddleware in each position."""
    with serving(idp.verifier(), __name__, MIDDLEWARE=CSRF_LAYOUTS[request.param]):
        yield APIClient(enforce_csrf_checks=True)


def test_a_post_with_a_token_needs_no_csrf_token(
    csrf_api: APIClient, idp: IdentityProviders
) -> None:
    response = csrf_api.post("/contacts", headers=bearer(idp.token(scope="write:contacts")))
    assert response.status_code == 200
    assert response.json()["user"] == "TokenUser"


def test_a_post_without_a_token_is_the_bearer_401(csrf_api: APIClient) -> None:
    response = csrf_api.post("/contacts")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == no_token_for("write:contacts")


def test_a_post_with_too_few_scopes_is_the_bearer_403(
    csrf_api: APIClient, idp: IdentityProviders
) -> None:
    response = csrf_api.post("/contacts", headers=bearer(idp.token(scope="read:contacts")))
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }


def test_an_async_stack_post_with_a_token_needs_no_csrf_token(idp: IdentityProviders) -> None:
    with serving(idp.verifier(), __name__, MIDDLEWARE=[CSRF_MIDDLEWARE, BEARER_MIDDLEWARE]):
        client = AsyncClient(enforce_csrf_checks=True)
        token = bearer(idp.token(scope="write:contacts"))
        response = asyncio.run(client.post("/contacts", headers=token))
    assert response.status_code == 200


@pytest.mark.parametrize("bearer_middleware", [True, False], ids=["middleware", "alone"])
def test_session_authentication_keeps_its_csrf_check_next_to_bearer_tokens(
    idp: IdentityProviders, bearer_middleware: bool
) -> None:
    layout = [CSRF_MIDDLEWARE, f"{__name__}.session_user_middleware"]
    if bearer_middleware:
        layout.append(BEARER_MIDDLEWARE)
    with serving(idp.verifier(), __name__, MIDDLEWARE=layout):
        client = APIClient(enforce_csrf_checks=True)
        client.cookies["sessionid"] = "a-session"  # ambient: the browser sends it to any POST
        by_session = client.post("/session-or-bearer")
        by_token = client.post("/session-or-bearer", headers=bearer(idp.token()))
    assert by_session.status_code == 403
    assert by_session.json() == {"detail": "CSRF Failed: CSRF cookie not set."}
    assert by_token.status_code == 200
    assert by_token.json()["user"] == "TokenUser"
