"""Settings of the example: no database, no templates, no sessions, no Django users.

Every ``BEARERGUARD_*`` setting comes from the environment: ``BEARERGUARD_ISSUER``
(one issuer or several, comma-separated), ``BEARERGUARD_RESOURCE`` (the API's URL, which
the audience defaults to), and any other (``BEARERGUARD_DPOP=required``,
``BEARERGUARD_REPLAY_STORE=redis://...``, ...), as for the other examples; a misspelt name
is reported by the system checks.
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

# BEARERGUARD_* variables that other programs read, not the verifier: the FastAPI example's
# Swagger UI client, the command line's client secret, the set-up scripts' virtualenv.
_NOT_THE_VERIFIERS = {"BEARERGUARD_DOCS_CLIENT_ID", "BEARERGUARD_CLIENT_SECRET", "BEARERGUARD_VENV"}
BEARERGUARD = {
    # The names of the BEARERGUARD_* environment variables, without the prefix: the issuer
    # always (reported as missing when unset), and whatever else is set. Without RESOURCE
    # the system checks report the API as missing too (bearerguard.E005).
    "ISSUER": "",
    **{
        name.removeprefix("BEARERGUARD_"): value
        for name, value in os.environ.items()
        if name.startswith("BEARERGUARD_") and name not in _NOT_THE_VERIFIERS
    },
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
