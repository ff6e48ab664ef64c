"""Settings of the example: no database, no templates, no sessions, no Django users.

The identity provider comes from the environment: ``BEARERGUARD_ISSUER`` (one
issuer or several, comma-separated) and ``BEARERGUARD_AUDIENCE``.
"""

from __future__ import annotations

import os

# Bearer tokens are the only credentials here; Django signs nothing with this key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "bearerguard.django",  # the verifier of BEARERGUARD below, and its system checks
    "rest_framework",
]
MIDDLEWARE = [
    # Refuses requests whose Host is not in ALLOWED_HOSTS (and adds missing slashes).
    "django.middleware.common.CommonMiddleware",
    # Verifies the token of every request once (without blocking under ASGI) and sets
    # request.access_token; it refuses nothing: the views say what they need.
    "bearerguard.django.BearerTokenMiddleware",
]
ROOT_URLCONF = "examples.django_app.urls"
WSGI_APPLICATION = "examples.django_app.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
TIME_ZONE = "UTC"

BEARERGUARD = {
    # The names of the BEARERGUARD_* environment variables, without the prefix.
    "ISSUER": os.environ.get("BEARERGUARD_ISSUER", ""),
    "AUDIENCE": os.environ.get("BEARERGUARD_AUDIENCE", ""),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bearerguard.django.rest_framework.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bearerguard.django.rest_framework.HasScopes"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Without django.contrib.auth there is no AnonymousUser: request.user is None
    # for requests without a token (and a bearerguard.django.TokenUser with one).
    "UNAUTHENTICATED_USER": None,
}
