"""DRF views serving the table's routes (a URLconf); import it after ``configure()``."""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bearerguard.claims import ClaimRule
from tests.adapters.harness import CONTRACT_CLAIMS


def subject(request: Request) -> Response:
    return Response({"sub": request.auth.subject if request.auth else None})


class Public(APIView):
    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = []

    def get(self, request: Request) -> Response:
        return Response({"message": "public"})


class Private(APIView):
    required_scopes: ClassVar[list[str]] = []

    def get(self, request: Request) -> Response:
        return subject(request)


class PrivateScoped(APIView):
    required_scopes = "read:messages"

    def get(self, request: Request) -> Response:
        return subject(request)


class Contacts(APIView):
    # Per method: what a real contacts API would require for each verb.
    required_scopes: ClassVar[dict[str, list[str]]] = {
        "GET": ["read:contacts"],
        "POST": ["write:contacts"],
    }

    def get(self, request: Request) -> Response:
        return subject(request)


class AllOf(APIView):
    required_scopes: ClassVar[list[str]] = ["read:contacts", "write:contacts"]

    def get(self, request: Request) -> Response:
        return subject(request)


class AnyOf(APIView):
    required_scopes: ClassVar[list[str]] = ["read:contacts", "read:messages"]
    required_scopes_any_of = True

    def get(self, request: Request) -> Response:
        return subject(request)


class WithClaims(APIView):
    required_scopes: ClassVar[list[str]] = ["read:contacts"]
    # Per method, as required_scopes may be: GET needs the contract's claims.
    required_claims: ClassVar[dict[str, tuple[ClaimRule, ...]]] = {"GET": CONTRACT_CLAIMS}

    def get(self, request: Request) -> Response:
        return subject(request)


class Optional(APIView):
    # Authenticated when a token is sent (and refused if it is bad), anonymous otherwise.
    permission_classes: ClassVar[list[Any]] = []

    def get(self, request: Request) -> Response:
        return subject(request)


urlpatterns = [
    path("api/public", Public.as_view()),
    path("api/private", Private.as_view()),
    path("api/private-scoped", PrivateScoped.as_view()),
    path("api/contacts", Contacts.as_view()),
    path("api/all-of", AllOf.as_view()),
    path("api/any-of", AnyOf.as_view()),
    path("api/optional", Optional.as_view()),
    path("api/claims", WithClaims.as_view()),
]
