"""The Django app, in two builds: without bearerguard, and with its middleware and decorator.

``gunicorn 'benchmarks.servers.django_app:create_plain()'`` serves the baseline,
``gunicorn 'benchmarks.servers.django_app:create_guarded()'`` the guarded route.
Django's middleware is process-wide and ``BearerTokenMiddleware`` verifies the
token of *every* request that carries one, so one process cannot serve an
unguarded route that runs no bearerguard code: the baseline is a second process
whose settings lack the middleware. Both have what the project's example has
(``CommonMiddleware``), the same URLconf and the same view; the guarded build
adds ``bearerguard.django.BearerTokenMiddleware`` and the view under
``@requires_scopes("read:contacts")``, the setup the README documents.

Settings are configured when a server calls a factory, once per process.
"""

from __future__ import annotations

from typing import Any

import django  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from django.core.handlers.wsgi import WSGIHandler  # type: ignore[import-untyped]
from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]
from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from bearerguard import Verifier
from bearerguard.django import requires_scopes

from . import GUARDED_PATH, SCOPE, UNGUARDED_PATH, contacts
from ._serving import server_verifier

_BEARER_MIDDLEWARE = "bearerguard.django.BearerTokenMiddleware"


def unguarded(request: HttpRequest) -> JsonResponse:
    return JsonResponse(contacts(None))


@requires_scopes(SCOPE)
def guarded(request: Any) -> JsonResponse:
    return JsonResponse(contacts(request.access_token.subject))


urlpatterns = [
    path(UNGUARDED_PATH.lstrip("/"), unguarded),
    path(GUARDED_PATH.lstrip("/"), guarded),
]


def configure(verifier: Verifier, *, middleware: bool) -> None:
    """Django's settings for this process, with or without bearerguard's middleware."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY="load-benchmark-only-not-secret",  # signs nothing: no session, no cookie
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=["bearerguard.django"],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            *([_BEARER_MIDDLEWARE] if middleware else []),
        ],
        ROOT_URLCONF=__name__,
        DATABASES={},
        USE_TZ=True,
        BEARERGUARD={"VERIFIER": verifier},
    )
    django.setup()


def create_plain() -> WSGIHandler:
    """The baseline server: no bearerguard middleware (``/unguarded`` is what gets timed)."""
    configure(server_verifier(), middleware=False)
    return get_wsgi_application()


def create_guarded() -> WSGIHandler:
    """The guarded server: bearerguard's middleware, ``/guarded`` under the decorator."""
    configure(server_verifier(), middleware=True)
    return get_wsgi_application()
