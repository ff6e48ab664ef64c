"""The table's routes as sync Django views behind ``BearerTokenMiddleware``, via ``Client``.

The routes mix the styles a Django project uses: function views, a decorated
class-based view and ``method_decorator`` on ``dispatch``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.http import JsonResponse
from django.test import Client
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View

from bearerguard import Verifier
from bearerguard._resource import WELL_KNOWN_PATH
from bearerguard.django import optional_token, requires_scopes
from tests.adapters.harness import CONTRACT_CLAIMS, Answer

from .django_project import answer, request_headers, serving


def subject(request: Any) -> JsonResponse:
    token = request.access_token
    return JsonResponse({"sub": token.subject if token else None})


def public(request: Any) -> JsonResponse:
    return JsonResponse({"message": "public"})


@requires_scopes()
def private(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:messages")
def private_scoped(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:contacts")
class Contacts(View):
    def get(self, request: Any) -> JsonResponse:
        return subject(request)


@method_decorator(requires_scopes("read:contacts", "write:contacts"), name="dispatch")
class AllOf(View):
    def get(self, request: Any) -> JsonResponse:
        return subject(request)


@requires_scopes("read:contacts", "read:messages", any_of=True)
def any_of(request: Any) -> JsonResponse:
    return subject(request)


@optional_token
def optional(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:contacts", claims=CONTRACT_CLAIMS)
def with_claims(request: Any) -> JsonResponse:
    return subject(request)


urlpatterns = [
    path("api/public", public),
    path("api/private", private),
    path("api/private-scoped", private_scoped),
    path("api/contacts", Contacts.as_view()),
    path("api/all-of", AllOf.as_view()),
    path("api/any-of", any_of),
    path("api/optional", optional),
    path("api/claims", with_claims),
]


class DjangoClient:
    base_url = "http://testserver"  # Django's test Client

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        response = self._client.get(path, headers=request_headers(headers), QUERY_STRING=query)
        return answer(response)


@contextmanager
def client(verifier: Verifier) -> Iterator[DjangoClient]:
    with serving(verifier, __name__):
        yield DjangoClient(Client(raise_request_exception=True))


class DjangoMountedClient(DjangoClient):
    """Any method, on a site mounted at ``mount`` and at the well-known path of that mount,
    as a WSGI server dispatching by prefix does: the prefix goes to ``SCRIPT_NAME``."""

    def __init__(self, client: Client, mount: str) -> None:
        super().__init__(client)
        self._mounts = (WELL_KNOWN_PATH + mount, mount) if mount else ()

    def call(self, method: str, path: str, *, headers: Sequence[tuple[str, str]] = ()) -> Answer:
        """Any method; the body is kept as bytes (a HEAD answer has none to parse)."""
        script = next((m for m in self._mounts if path == m or path.startswith(m + "/")), "")
        response = self._client.generic(
            method, path[len(script) :] or "/", headers=request_headers(headers), SCRIPT_NAME=script
        )
        fields = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status_code, fields, response.content)


@contextmanager
def metadata_client(verifier: Verifier, mount: str = "") -> Iterator[DjangoMountedClient]:
    """The site behind ``BearerTokenMiddleware``, which serves the metadata itself."""
    with serving(verifier, __name__):
        yield DjangoMountedClient(Client(raise_request_exception=True), mount)
