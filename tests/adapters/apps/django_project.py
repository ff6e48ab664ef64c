"""The Django project the adapter tests run in, configured in-process (no pytest-django).

``configure()`` is idempotent and only touches Django, so the other test
modules of the same pytest process are unaffected. Each test app module is its
own URLconf; :func:`serving` points Django at it and at the test's verifier
through ``override_settings``, which is also how users swap verifiers in tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import django
from django.conf import settings
from django.test import override_settings

from bearerguard import Verifier
from tests.adapters.harness import Answer, join_repeated
from tests.support import AUDIENCE, ISSUER

MIDDLEWARE = "bearerguard.django.BearerTokenMiddleware"

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "tests-only-not-secret",
    "ALLOWED_HOSTS": ["testserver"],
    # No django.contrib.auth: a bearer token needs no Django user and no database.
    "INSTALLED_APPS": ["bearerguard.django", "rest_framework"],
    "MIDDLEWARE": [MIDDLEWARE],
    "ROOT_URLCONF": "tests.adapters.apps.django",
    "DATABASES": {},
    "BEARERGUARD": {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE},
    "REST_FRAMEWORK": {
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "bearerguard.django.rest_framework.BearerTokenAuthentication"
        ],
        "DEFAULT_PERMISSION_CLASSES": ["bearerguard.django.rest_framework.HasScopes"],
    },
    "USE_TZ": True,
    "TIME_ZONE": "UTC",
    # Leave the logging of the other test modules alone.
    "LOGGING_CONFIG": None,
}


def configure() -> None:
    """Configure Django for this process, once."""
    if not settings.configured:
        settings.configure(**SETTINGS)
        django.setup()


@contextmanager
def serving(verifier: Verifier, urlconf: str, **overrides: Any) -> Iterator[None]:
    """Serve ``urlconf`` with ``verifier`` as the app's verifier (and other setting overrides)."""
    configure()
    with override_settings(BEARERGUARD={"VERIFIER": verifier}, ROOT_URLCONF=urlconf, **overrides):
        yield


def request_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Django's test clients take one value per name: fold repeats as WSGI servers do."""
    return join_repeated(headers)


def answer(response: Any) -> Answer:
    """The table's view of a Django response."""
    body = json.loads(response.content) if response.content else None
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Answer(response.status_code, headers, body)
