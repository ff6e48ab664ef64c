"""The table's routes as async Django views, through the middleware's async path (AsyncClient).

``AsyncClient`` runs Django's ASGI handler, so ``BearerTokenMiddleware`` runs
in async mode and verifies with ``aauthenticate`` on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.http import JsonResponse
from django.test import AsyncClient
from django.urls import path
from django.views import View

from bearerguard import Verifier
from bearerguard.django import optional_token, requires_scopes
from tests.adapters.harness import CONTRACT_CLAIMS, Answer

from .django_project import answer, request_headers, serving


def subject(request: Any) -> JsonResponse:
    token = request.access_token
    return JsonResponse({"sub": token.subject if token else None})


async def public(request: Any) -> JsonResponse:
    return JsonResponse({"message": "public"})


@requires_scopes()
async def private(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:messages")
async def private_scoped(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:contacts")
class Contacts(View):
    async def get(self, request: Any) -> JsonResponse:
        return subject(request)


@requires_scopes("read:contacts", "write:contacts")
async def all_of(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:contacts", "read:messages", any_of=True)
async def any_of(request: Any) -> JsonResponse:
    return subject(request)


@optional_token
async def optional(request: Any) -> JsonResponse:
    return subject(request)


@requires_scopes("read:contacts", claims=CONTRACT_CLAIMS)
class WithClaims(View):
    async def get(self, request: Any) -> JsonResponse:
        return subject(request)


urlpatterns = [
    path("api/public", public),
    path("api/private", private),
    path("api/private-scoped", private_scoped),
    path("api/contacts", Contacts.as_view()),
    path("api/all-of", all_of),
    path("api/any-of", any_of),
    path("api/optional", optional),
    path("api/claims", WithClaims.as_view()),
]


class DjangoAsyncClient:
    base_url = "http://testserver"  # Django's AsyncClient

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        request = self._client.get(path, headers=request_headers(headers), QUERY_STRING=query)
        return answer(asyncio.run(request))


@contextmanager
def client(verifier: Verifier) -> Iterator[DjangoAsyncClient]:
    with serving(verifier, __name__):
        yield DjangoAsyncClient(AsyncClient(raise_request_exception=True))
