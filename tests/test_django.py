"""bearerguard.django: settings and system checks, the middleware, the view decorators.

Requests go through Django's real test clients (``Client`` for the sync stack,
``AsyncClient`` for the async one); tokens are signed for real and verified by a
real :class:`Verifier` fetching keys from in-process identity providers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from bearerguard import AccessToken, ConfigurationError, Verifier
from bearerguard.django import get_verifier, optional_token, requires_scopes
from tests.adapters.apps.django_project import MIDDLEWARE as BEARER_MIDDLEWARE
from tests.adapters.apps.django_project import configure, serving
from tests.adapters.harness import IdentityProviders
from tests.adapters.table import no_token_for
from tests.support import AUDIENCE, ISSUER, NOW, bearer, forbidden_transport
from tests.test_verify_request import bound_token, dpop_proof

configure()

GOOD = {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE}
# What a module-level verifier and a factory look like to VERIFIER's dotted paths.
module_verifier = Verifier(issuer=ISSUER, audience=AUDIENCE)


def make_verifier() -> Verifier:
    return Verifier(issuer="tenant.auth0.com", audience=AUDIENCE, realm="factory")


def not_a_verifier() -> str:
    return "surprise"


# --- views -------------------------------------------------------------------------------


def describe(request: Any) -> JsonResponse:
    """What the view saw: the token's subject and the class of the recorded error."""
    token, error = request.access_token, request.bearer_error
    return JsonResponse(
        {
            "token": token.subject if isinstance(token, AccessToken) else token,
            "error": type(error).__name__ if error else None,
        }
    )


def public(request: Any) -> JsonResponse:
    return describe(request)


async def async_public(request: Any) -> JsonResponse:
    return describe(request)


@requires_scopes("read:contacts")
def sync_scoped(request: Any) -> JsonResponse:
    return describe(request)


@requires_scopes("read:contacts")
async def async_scoped(request: Any) -> JsonResponse:
    return describe(request)


@requires_scopes("write:contacts", "read:contacts", any_of=True)
def any_of(request: Any) -> JsonResponse:
    return describe(request)


@optional_token
def sync_optional(request: Any) -> JsonResponse:
    return describe(request)


@optional_token
async def async_optional(request: Any) -> JsonResponse:
    return describe(request)


@optional_token
@csrf_exempt
def optional_exempt(request: Any) -> JsonResponse:
    return describe(request)


@optional_token
@csrf_protect
def optional_protected(request: Any) -> JsonResponse:
    return describe(request)


@csrf_exempt  # on top: too late, the guard's own check still runs (fails closed)
@optional_token
def exempt_on_top(request: Any) -> JsonResponse:
    return describe(request)


@optional_token
class SyncGreeting(View):
    def post(self, request: Any) -> JsonResponse:
        return describe(request)


@optional_token
class AsyncGreeting(View):
    async def post(self, request: Any) -> JsonResponse:
        return describe(request)


@requires_scopes("read:contacts")
class SyncContacts(View):
    def get(self, request: Any) -> JsonResponse:
        return describe(request)

    def post(self, request: Any) -> JsonResponse:
        return describe(request)


@requires_scopes("read:contacts")
class AsyncContacts(View):
    async def get(self, request: Any) -> JsonResponse:
        return describe(request)

    async def post(self, request: Any) -> JsonResponse:
        return describe(request)


@method_decorator(requires_scopes("read:contacts"), name="dispatch")
class MethodDecorated(View):
    def get(self, request: Any) -> JsonResponse:
        return describe(request)

    def post(self, request: Any) -> JsonResponse:
        return describe(request)


def imperative(request: Any) -> JsonResponse:
    """Checks scopes itself: the middleware answers the BearerError the view raises."""
    request.access_token.require_scopes("admin")
    return describe(request)


urlpatterns = [
    path("public", public),
    path("async-public", async_public),
    path("sync-scoped", sync_scoped),
    path("async-scoped", async_scoped),
    path("any-of", any_of),
    path("sync-optional", sync_optional),
    path("async-optional", async_optional),
    path("optional-exempt", optional_exempt),
    path("optional-protected", optional_protected),
    path("exempt-on-top", exempt_on_top),
    path("sync-optional-cbv", SyncGreeting.as_view()),
    path("async-optional-cbv", AsyncGreeting.as_view()),
    path("sync-cbv", SyncContacts.as_view()),
    path("async-cbv", AsyncContacts.as_view()),
    path("method-decorated", MethodDecorated.as_view()),
    path("imperative", imperative),
]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def sync_only(idp: IdentityProviders) -> Iterator[None]:
    """The app's verifier may only fetch keys synchronously (the WSGI stack)."""
    with serving(
        idp.verifier(async_transport=forbidden_transport("a sync stack fetched asynchronously")),
        __name__,
    ):
        yield


@pytest.fixture
def async_only(idp: IdentityProviders) -> Iterator[None]:
    """The app's verifier may only fetch keys asynchronously: nothing blocks the loop."""
    with serving(
        idp.verifier(transport=forbidden_transport("an async stack fetched synchronously")),
        __name__,
    ):
        yield


def get_sync(url: str, **headers: str) -> Any:
    return Client().get(url, headers=headers)


def get_async(url: str, **headers: str) -> Any:
    return asyncio.run(AsyncClient().get(url, headers=headers))


# --- settings and system checks ----------------------------------------------------------


def bearerguard_messages() -> list[Any]:
    return [m for m in run_checks() if m.id.startswith("bearerguard.")]


@pytest.mark.parametrize(
    "setting",
    [
        GOOD,
        {"ISSUER": [ISSUER, "https://login.example.com/"], "AUDIENCE": AUDIENCE, "LEEWAY": 10},
        {"ISSUER": "tenant.auth0.com,login.example.com", "AUDIENCE": AUDIENCE, "LEEWAY": "10"},
        {"ISSUER": "http://127.0.0.1:8000/", "AUDIENCE": AUDIENCE, "SCOPE_CLAIMS": "permissions"},
        {"VERIFIER": module_verifier},
        {"VERIFIER": f"{__name__}.module_verifier"},
        {"VERIFIER": f"{__name__}.make_verifier"},
        {"VERIFIER": make_verifier},
    ],
    ids=[
        "minimal",
        "typed",
        "strings",
        "loopback-http",
        "instance",
        "path",
        "factory-path",
        "factory",
    ],
)
def test_a_good_configuration_passes_every_check(setting: dict[str, Any]) -> None:
    with override_settings(BEARERGUARD=setting):
        assert bearerguard_messages() == []


def test_a_missing_setting_is_E001() -> None:
    with override_settings():
        del settings.BEARERGUARD
        (message,) = bearerguard_messages()
    assert message.id == "bearerguard.E001"
    assert "BEARERGUARD = {" in message.hint


@pytest.mark.parametrize(
    ("setting", "expected", "says"),
    [
        ("tenant.auth0.com", ["bearerguard.E002"], "must be a dict, not str"),
        ({**GOOD, "AUDIENCES": AUDIENCE}, ["bearerguard.E003"], "'AUDIENCES'"),
        ({**GOOD, "leeway": 5}, ["bearerguard.E003"], "'leeway'"),
        ({"AUDIENCE": AUDIENCE}, ["bearerguard.E004"], "no ISSUER"),
        ({"ISSUER": "", "AUDIENCE": AUDIENCE}, ["bearerguard.E004"], "no ISSUER"),
        ({"ISSUER": ISSUER}, ["bearerguard.E005"], "no AUDIENCE"),
        ({}, ["bearerguard.E004", "bearerguard.E005"], "no ISSUER"),
        ({**GOOD, "ISSUER": "http://tenant.example.com/"}, ["bearerguard.E006"], "https://"),
        ({**GOOD, "LEEWAY": "soon"}, ["bearerguard.E006"], "LEEWAY'] must be a number"),
        ({**GOOD, "ALGORITHMS": ["none"]}, ["bearerguard.E006"], "'none' algorithm"),
        ({**GOOD, "ISSUER": 42}, ["bearerguard.E006"], "BEARERGUARD is invalid"),
        ({"VERIFIER": "nowhere.to.be.found"}, ["bearerguard.E007"], "cannot be imported"),
        ({"VERIFIER": 42}, ["bearerguard.E007"], "not a Verifier or a factory"),
        ({**GOOD, "VERIFIER": module_verifier}, ["bearerguard.E008"], "AUDIENCE, ISSUER"),
    ],
    ids=[
        "not-a-dict", "typo", "lower-case", "no-issuer", "empty-issuer", "no-audience", "empty",
        "http-issuer", "bad-number", "alg-none", "wrong-type", "verifier-not-importable",
        "verifier-wrong-type", "verifier-and-keys",
    ],
)  # fmt: skip
def test_each_misconfiguration_has_its_check_id(
    setting: Any, expected: list[str], says: str
) -> None:
    with override_settings(BEARERGUARD=setting):
        messages = bearerguard_messages()
    assert [m.id for m in messages] == expected
    assert all(m.is_serious() for m in messages)
    assert says in messages[0].msg


def test_a_resource_stands_for_the_audience() -> None:
    resource = "https://api.example.com/mcp"
    with override_settings(BEARERGUARD={"ISSUER": ISSUER, "RESOURCE": resource}):
        assert bearerguard_messages() == []
        assert get_verifier().config.audiences == (resource,)


def test_a_typo_check_suggests_the_key_meant() -> None:
    with override_settings(BEARERGUARD={**GOOD, "AUDIENCES": AUDIENCE}):
        (message,) = bearerguard_messages()
    assert message.hint == "Did you mean 'AUDIENCES' -> 'AUDIENCE'?"


def test_drf_without_contrib_auth_or_an_unauthenticated_user_setting_is_W001() -> None:
    with override_settings(REST_FRAMEWORK={}):
        (message,) = bearerguard_messages()
    assert message.id == "bearerguard.W001"
    assert not message.is_serious()
    assert 'REST_FRAMEWORK["UNAUTHENTICATED_USER"] = None' in message.hint


def test_drf_with_contrib_auth_installed_needs_no_warning() -> None:
    apps = [*settings.INSTALLED_APPS, "django.contrib.contenttypes", "django.contrib.auth"]
    with override_settings(INSTALLED_APPS=apps, REST_FRAMEWORK={}):
        assert bearerguard_messages() == []


# --- the app's verifier ------------------------------------------------------------------


def test_the_verifier_is_built_once_from_the_setting() -> None:
    with override_settings(BEARERGUARD={**GOOD, "REALM": "contacts"}):
        verifier = get_verifier()
        assert verifier.config.issuers == (ISSUER,)
        assert verifier.config.realm == "contacts"
        assert get_verifier() is verifier


def test_changing_the_setting_rebuilds_the_verifier() -> None:
    with override_settings(BEARERGUARD={**GOOD, "REALM": "first"}):
        first = get_verifier()
        with override_settings(BEARERGUARD={**GOOD, "REALM": "second"}):
            assert get_verifier().config.realm == "second"
        assert get_verifier().config.realm == "first"
        assert get_verifier() is not first  # rebuilt from the restored setting


@pytest.mark.parametrize(
    "target", [module_verifier, f"{__name__}.module_verifier"], ids=["instance", "path"]
)
def test_verifier_names_the_verifier_to_use(target: Any) -> None:
    with override_settings(BEARERGUARD={"VERIFIER": target}):
        assert get_verifier() is module_verifier


def test_verifier_may_name_a_factory() -> None:
    with override_settings(BEARERGUARD={"VERIFIER": f"{__name__}.make_verifier"}):
        assert get_verifier().config.realm == "factory"


def test_a_factory_that_returns_something_else_is_improperly_configured() -> None:
    with (
        override_settings(BEARERGUARD={"VERIFIER": not_a_verifier}),
        pytest.raises(ImproperlyConfigured, match="returned str, not a Verifier"),
    ):
        get_verifier()


def test_a_broken_setting_is_improperly_configured_with_its_check_id() -> None:
    with (
        override_settings(BEARERGUARD={"ISSUER": ISSUER}),
        pytest.raises(ImproperlyConfigured, match=r"no AUDIENCE.*\(bearerguard\.E005\)"),
    ):
        get_verifier()


def test_without_the_app_installed_the_error_says_to_install_it() -> None:
    with (
        override_settings(INSTALLED_APPS=["rest_framework"]),
        pytest.raises(ImproperlyConfigured, match=r"add 'bearerguard\.django' to INSTALLED_APPS"),
    ):
        get_verifier()


# --- the middleware ----------------------------------------------------------------------

GET = {"sync": get_sync, "async": get_async}


@dataclass
class Stack:
    idp: IdentityProviders
    get: Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Each test runs on the WSGI-like and on the ASGI stack, each allowed only its own I/O."""
    idp = IdentityProviders()
    if request.param == "sync":
        verifier = idp.verifier(
            async_transport=forbidden_transport("a sync stack fetched asynchronously")
        )
    else:
        verifier = idp.verifier(
            transport=forbidden_transport("an async stack fetched synchronously")
        )
    with serving(verifier, __name__):
        yield Stack(idp, GET[request.param])


def test_the_middleware_attaches_the_verified_token(stack: Stack) -> None:
    response = stack.get("/public", **bearer(stack.idp.token()))
    assert response.json() == {"token": "auth0|123", "error": None}


def test_the_middleware_attaches_none_without_credentials(stack: Stack) -> None:
    response = stack.get("/public")
    assert response.json() == {"token": None, "error": None}


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        ("Bearer not-a-jwt", "MalformedTokenError"),
        ("Bearer", "InvalidRequestError"),
        ("Basic dXNlcjpwYXNz", None),  # another scheme is no bearer credentials at all
    ],
)
def test_the_middleware_records_the_error_and_refuses_nothing(
    stack: Stack, authorization: str, error: str | None
) -> None:
    response = stack.get("/public", Authorization=authorization)
    assert response.status_code == 200  # public views stay public
    assert response.json() == {"token": None, "error": error}


def test_the_middleware_records_an_expired_token_as_an_error(stack: Stack) -> None:
    response = stack.get("/public", **bearer(stack.idp.token(exp=int(NOW) - 60)))
    assert response.json() == {"token": None, "error": "ExpiredTokenError"}


def test_an_async_view_under_the_sync_stack_sees_the_token(sync_only: None, idp: Any) -> None:
    response = get_sync("/async-public", **bearer(idp.token()))
    assert response.json() == {"token": "auth0|123", "error": None}


def test_a_bearer_error_raised_by_a_view_is_answered_by_the_middleware(stack: Stack) -> None:
    response = stack.get("/imperative", **bearer(stack.idp.token()))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="admin"'
    )
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }


# --- the decorators ----------------------------------------------------------------------

ROUTES = ["/sync-scoped", "/async-scoped", "/sync-cbv", "/async-cbv", "/method-decorated"]


@pytest.mark.parametrize("route", ROUTES)
def test_each_kind_of_view_serves_a_token_with_the_scope(stack: Stack, route: str) -> None:
    response = stack.get(route, **bearer(stack.idp.token(scope="read:contacts")))
    assert response.status_code == 200
    assert response.json() == {"token": "auth0|123", "error": None}


@pytest.mark.parametrize("route", ROUTES)
def test_each_kind_of_view_refuses_a_token_without_the_scope(stack: Stack, route: str) -> None:
    response = stack.get(route, **bearer(stack.idp.token(scope="openid")))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert 'scope="read:contacts"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("route", ROUTES)
def test_each_kind_of_view_refuses_a_request_without_a_token(stack: Stack, route: str) -> None:
    response = stack.get(route)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == no_token_for("read:contacts")


def test_a_decorated_class_guards_every_method(sync_only: None, idp: Any) -> None:
    response = Client().post("/sync-cbv", headers=bearer(idp.token(scope="openid")))
    assert response.status_code == 403


def test_any_of_accepts_one_of_the_scopes(sync_only: None, idp: Any) -> None:
    assert get_sync("/any-of", **bearer(idp.token(scope="read:contacts"))).status_code == 200
    refused = get_sync("/any-of", **bearer(idp.token(scope="openid")))
    assert 'scope="write:contacts read:contacts"' in refused["WWW-Authenticate"]


def test_optional_token_serves_anonymous_requests_and_refuses_bad_tokens(
    async_only: None, idp: Any
) -> None:
    assert get_async("/async-optional").json() == {"token": None, "error": None}
    assert get_async("/async-optional", **bearer(idp.token())).json()["token"] == "auth0|123"
    assert get_async("/async-optional", Authorization="Bearer x.y.z").status_code == 401


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("get", [get_sync, get_async], ids=["sync", "async"])
def test_without_the_middleware_the_decorators_verify_by_themselves(
    idp: IdentityProviders, route: str, get: Any
) -> None:
    with serving(idp.verifier(), __name__, MIDDLEWARE=[]):
        granted = get(route, **bearer(idp.token()))
        refused = get(route, **bearer(idp.token(scope="openid")))
        anonymous = get(route)
    assert granted.json() == {"token": "auth0|123", "error": None}
    assert (refused.status_code, anonymous.status_code) == (403, 401)


def test_without_the_middleware_an_async_view_verifies_without_blocking(
    idp: IdentityProviders,
) -> None:
    verifier = idp.verifier(transport=forbidden_transport("an async stack fetched synchronously"))
    with serving(verifier, __name__, MIDDLEWARE=[]):
        response = get_async("/async-scoped", **bearer(idp.token()))
    assert response.json() == {"token": "auth0|123", "error": None}


def test_the_provider_being_down_is_a_503_with_retry_after(stack: Stack) -> None:
    for provider in (stack.idp.tenant, stack.idp.custom_domain):
        provider.override["/.well-known/openid-configuration"] = lambda r: httpx.Response(500)
    response = stack.get("/sync-scoped", **bearer(stack.idp.token()))
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["error"] == "temporarily_unavailable"


def test_requires_scopes_must_be_called() -> None:
    with pytest.raises(TypeError, match=r"@requires_scopes\(\) with parentheses"):
        requires_scopes(public)  # type: ignore[arg-type]


def test_scope_names_are_checked_when_decorating() -> None:
    with pytest.raises(ConfigurationError, match="is not a scope name"):
        requires_scopes("read:contacts write:contacts")


def test_only_views_can_be_decorated() -> None:
    with pytest.raises(TypeError, match="has no dispatch"):
        requires_scopes()(int)


def test_the_token_cache_size_is_a_setting_like_the_others() -> None:
    from bearerguard.django.conf import build_verifier

    settings = {"ISSUER": "tenant.auth0.com", "AUDIENCE": "https://api.example.com"}
    verifier = build_verifier({**settings, "TOKEN_CACHE_SIZE": "0"})
    assert verifier.config.token_cache_size == 0
    assert build_verifier({**settings, "TOKEN_CACHE_SIZE": 64}).config.token_cache_size == 64


# --- CSRF --------------------------------------------------------------------------------
# Bearer tokens are not ambient credentials: a request bearerguard authenticates needs no CSRF
# token, one it refuses gets the RFC 6750 answer, and everything else keeps Django's check.

CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
LAYOUTS = {
    "csrf-first": [CSRF_MIDDLEWARE, BEARER_MIDDLEWARE],
    "csrf-last": [BEARER_MIDDLEWARE, CSRF_MIDDLEWARE],
    "csrf-only": [CSRF_MIDDLEWARE],  # the decorators verify by themselves
}
OPTIONAL = ["/sync-optional", "/async-optional", "/sync-optional-cbv", "/async-optional-cbv"]
PLAIN = ["/public", "/async-public"]
CSRF_SECRET = "0123456789abcdefghijklmnopqrstuv"  # a CSRF cookie value Django accepts as is


class JsonCsrfMiddleware(CsrfViewMiddleware):
    """A project's own CSRF middleware: its answer must be the one given."""

    def _reject(self, request: Any, reason: str) -> JsonResponse:
        return JsonResponse({"csrf": reason}, status=403)


def post(
    url: str, headers: dict[str, str] | None = None, *, is_async: bool, csrf_token: bool = False
) -> Any:
    """POST through Django's real clients with CSRF really enforced (the clients skip it else)."""
    client = AsyncClient(enforce_csrf_checks=True) if is_async else Client(enforce_csrf_checks=True)
    headers = dict(headers or {})
    if csrf_token:  # what a page of the site itself sends: the cookie and the header agree
        client.cookies["csrftoken"] = CSRF_SECRET
        headers["X-CSRFToken"] = CSRF_SECRET
    if is_async:
        return asyncio.run(client.post(url, headers=headers))
    return client.post(url, headers=headers)


def is_csrf_refusal(response: Any) -> bool:
    """Django's own CSRF failure page, not an answer of bearerguard's."""
    return (
        response.status_code == 403
        and response["Content-Type"].startswith("text/html")
        and b"CSRF verification failed" in response.content
        and "WWW-Authenticate" not in response
    )


@dataclass
class CsrfStack:
    idp: IdentityProviders
    is_async: bool
    middleware: list[str]

    def post(
        self, url: str, headers: dict[str, str] | None = None, *, csrf_token: bool = False
    ) -> Any:
        return post(url, headers, is_async=self.is_async, csrf_token=csrf_token)


@pytest.fixture(
    params=[(layout, mode) for layout in LAYOUTS for mode in ("sync", "async")],
    ids="-".join,
)
def csrf_stack(request: pytest.FixtureRequest) -> Iterator[CsrfStack]:
    """CsrfViewMiddleware before or after bearerguard's (or alone), under WSGI and ASGI."""
    layout, mode = request.param
    idp = IdentityProviders()
    with serving(idp.verifier(), __name__, MIDDLEWARE=LAYOUTS[layout]):
        yield CsrfStack(idp, mode == "async", LAYOUTS[layout])


@pytest.mark.parametrize("route", ROUTES + OPTIONAL)
def test_a_post_with_a_valid_token_needs_no_csrf_token(csrf_stack: CsrfStack, route: str) -> None:
    response = csrf_stack.post(route, bearer(csrf_stack.idp.token(scope="read:contacts")))
    assert response.status_code == 200
    assert response.json() == {"token": "auth0|123", "error": None}


@pytest.mark.parametrize("route", ROUTES)
def test_a_post_without_a_token_is_the_rfc_6750_401_not_a_csrf_403(
    csrf_stack: CsrfStack, route: str
) -> None:
    response = csrf_stack.post(route)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == no_token_for("read:contacts")
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "Authentication required",
    }


@pytest.mark.parametrize("route", ROUTES)
def test_a_post_with_too_few_scopes_is_a_json_403_not_a_csrf_403(
    csrf_stack: CsrfStack, route: str
) -> None:
    response = csrf_stack.post(route, bearer(csrf_stack.idp.token(scope="openid")))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="read:contacts"'
    )
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }


@pytest.mark.parametrize("route", ROUTES + OPTIONAL)
def test_a_post_with_a_bad_token_is_refused_by_bearerguard(
    csrf_stack: CsrfStack, route: str
) -> None:
    response = csrf_stack.post(route, bearer(csrf_stack.idp.token(exp=int(NOW) - 60)))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize("route", OPTIONAL)
def test_optional_token_keeps_the_csrf_check_for_requests_without_a_token(
    csrf_stack: CsrfStack, route: str
) -> None:
    # Such a request may carry a session cookie: it gets exactly Django's check.
    assert is_csrf_refusal(csrf_stack.post(route))
    served = csrf_stack.post(route, csrf_token=True)
    assert served.status_code == 200
    assert served.json() == {"token": None, "error": None}


@pytest.mark.parametrize("route", OPTIONAL)
def test_basic_credentials_are_ambient_and_keep_the_csrf_check(
    csrf_stack: CsrfStack, route: str
) -> None:
    # A browser resends cached Basic credentials by itself: they are no bearer credentials.
    assert is_csrf_refusal(csrf_stack.post(route, {"Authorization": "Basic dXNlcjpwYXNz"}))


@pytest.mark.parametrize("route", PLAIN)
def test_views_bearerguard_does_not_guard_keep_their_csrf_check_even_with_a_token(
    csrf_stack: CsrfStack, route: str
) -> None:
    # The middleware may have verified the token, but the view may rely on cookies all the same.
    assert is_csrf_refusal(csrf_stack.post(route, bearer(csrf_stack.idp.token())))


def test_a_view_exempt_beneath_optional_token_stays_exempt(csrf_stack: CsrfStack) -> None:
    assert csrf_stack.post("/optional-exempt").json() == {"token": None, "error": None}


def test_csrf_exempt_on_top_of_optional_token_exempts_nothing(csrf_stack: CsrfStack) -> None:
    assert is_csrf_refusal(csrf_stack.post("/exempt-on-top"))


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_csrf_protect_beneath_optional_token_checks_every_request(
    idp: IdentityProviders, is_async: bool
) -> None:
    with serving(idp.verifier(), __name__, MIDDLEWARE=[BEARER_MIDDLEWARE]):
        anonymous = post("/optional-protected", is_async=is_async)
        with_token = post("/optional-protected", bearer(idp.token()), is_async=is_async)
        with_csrf_token = post("/optional-protected", is_async=is_async, csrf_token=True)
    assert is_csrf_refusal(anonymous)
    assert is_csrf_refusal(with_token)  # the view asked for it explicitly
    assert with_csrf_token.json() == {"token": None, "error": None}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("route", OPTIONAL)
def test_a_projects_own_csrf_middleware_gives_its_own_answer(
    idp: IdentityProviders, route: str, is_async: bool
) -> None:
    layout = [BEARER_MIDDLEWARE, f"{__name__}.JsonCsrfMiddleware"]
    with serving(idp.verifier(), __name__, MIDDLEWARE=layout):
        refused = post(route, is_async=is_async)
        granted = post(route, bearer(idp.token()), is_async=is_async)
    assert refused.status_code == 403
    assert refused.json() == {"csrf": "CSRF cookie not set."}
    assert granted.json() == {"token": "auth0|123", "error": None}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("route", OPTIONAL)
def test_without_csrf_middleware_optional_token_adds_no_check(
    idp: IdentityProviders, route: str, is_async: bool
) -> None:
    with serving(idp.verifier(), __name__, MIDDLEWARE=[BEARER_MIDDLEWARE]):
        response = post(route, is_async=is_async)
    assert response.json() == {"token": None, "error": None}


def test_the_decorators_mark_the_view_and_leave_the_original_alone() -> None:
    views = [
        sync_scoped,
        async_scoped,
        sync_optional,
        async_optional,
        SyncContacts.as_view(),
        AsyncContacts.as_view(),
        MethodDecorated.as_view(),
        SyncGreeting.as_view(),
        AsyncGreeting.as_view(),
    ]
    assert all(getattr(view, "csrf_exempt", False) is True for view in views)
    assert not hasattr(inspect.unwrap(sync_scoped), "csrf_exempt")
    assert not hasattr(View.dispatch, "csrf_exempt")


# --- DPoP (RFC 9449): the whole request, its URL as request.build_absolute_uri() -----------


def dpop(token: str, url: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": dpop_proof(token, url=url)}


@pytest.mark.parametrize(
    ("get", "sent", "route"),
    [
        # A WSGI server passes the path below the mount point (SCRIPT_NAME, here forced) ...
        (get_sync, "/sync-scoped", "/sync-scoped"),
        # ... an ASGI server the whole path, from which Django strips FORCE_SCRIPT_NAME.
        (get_async, "/v1/async-scoped", "/async-scoped"),
    ],
    ids=["sync", "async"],
)
def test_the_mount_point_is_part_of_the_url_a_proof_names(
    idp: IdentityProviders, get: Any, sent: str, route: str
) -> None:
    with serving(idp.verifier(), __name__, FORCE_SCRIPT_NAME="/v1"):
        token = bound_token(idp.tenant, scope="read:contacts")
        mounted = get(sent, **dpop(token, f"http://testserver/v1{route}"))
        token = bound_token(idp.tenant, scope="read:contacts")
        below = get(sent, **dpop(token, f"http://testserver{route}"))

    assert mounted.status_code == 200
    assert mounted.json() == {"token": "auth0|123", "error": None}
    assert below.status_code == 401
    assert below.json()["error"] == "invalid_dpop_proof"


def test_behind_a_proxy_a_proof_names_the_url_django_builds(stack: Stack) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}
    token = bound_token(stack.idp.tenant, scope="read:contacts")
    with override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        USE_X_FORWARDED_HOST=True,
        ALLOWED_HOSTS=["testserver", "api.example.com"],
    ):
        public = stack.get(
            "/sync-scoped", **forwarded, **dpop(token, "https://api.example.com/sync-scoped")
        )
        internal = stack.get(
            "/sync-scoped", **forwarded, **dpop(token, "http://testserver/sync-scoped")
        )

    assert public.status_code == 200
    assert internal.status_code == 401


def test_a_folded_dpop_field_is_refused_as_several_proofs(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    token = bound_token(stack.idp.tenant, scope="read:contacts")
    url = "http://testserver/sync-scoped"
    folded = f"{dpop_proof(token, url=url)}, {dpop_proof(token, url=url)}"

    with caplog.at_level(logging.DEBUG, logger="bearerguard"):
        response = stack.get("/sync-scoped", Authorization=f"DPoP {token}", DPoP=folded)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_dpop_proof"
    (refused,) = [r.bearerguard_error for r in caplog.records if hasattr(r, "bearerguard_error")]
    assert "the request has 2" in refused.reason


@pytest.mark.parametrize(
    ("get", "route"),
    [(get_sync, "/sync-scoped"), (get_async, "/async-scoped")],
    ids=["sync", "async"],
)
def test_without_the_middleware_the_decorators_verify_dpop_by_themselves(
    idp: IdentityProviders, get: Any, route: str
) -> None:
    token = bound_token(idp.tenant, scope="read:contacts")
    with serving(idp.verifier(), __name__, MIDDLEWARE=[]):
        response = get(route, **dpop(token, f"http://testserver{route}"))
    assert response.json() == {"token": "auth0|123", "error": None}


def test_a_dpop_request_to_a_host_django_does_not_allow_is_djangos_400(stack: Stack) -> None:
    # Django will not build a URL from a Host outside ALLOWED_HOSTS: nor will bearerguard.
    token = bound_token(stack.idp.tenant, scope="read:contacts")
    headers = dpop(token, "http://evil.example/public")
    response = stack.get("/public", Host="evil.example", **headers)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
