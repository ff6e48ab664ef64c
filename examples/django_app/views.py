"""The example's views: plain Django views with decorators, and a DRF view."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bearerguard.django import requires_scopes


@require_GET
def public(request: HttpRequest) -> JsonResponse:
    # No decorator: anyone may call this route, with or without a token.
    return JsonResponse({"message": "Hello from a public endpoint! You don't need a token."})


@require_GET
@requires_scopes()  # any valid token
def private(request: HttpRequest) -> JsonResponse:
    # Past @requires_scopes, request.access_token is the verified AccessToken.
    return JsonResponse(
        {
            "message": "Hello from a private endpoint! You need to be authenticated.",
            "sub": request.access_token.subject,
        }
    )


@require_GET
@requires_scopes("read:messages")
def private_scoped(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "message": "Hello from a private endpoint! You need the read:messages scope.",
            "sub": request.access_token.subject,
        }
    )


class Contacts(APIView):
    """The DRF style: BearerTokenAuthentication and HasScopes are the project's defaults
    (REST_FRAMEWORK in settings.py), so the view only names the scope it needs."""

    required_scopes = ("read:contacts",)  # or per method: {"GET": [...], "POST": [...]}

    def get(self, request: Request) -> Response:
        # request.auth is the AccessToken; request.user a TokenUser named after its subject.
        contacts = [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]
        return Response({"sub": request.auth.subject, "contacts": contacts})
