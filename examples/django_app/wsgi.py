"""WSGI entry point: ``gunicorn examples.django_app.wsgi:application``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from bearerguard.django import get_verifier

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_app.settings")

application = get_wsgi_application()
# Build the verifier now, so that a missing BEARERGUARD_ISSUER stops the server at
# start-up instead of failing every request. Nothing is fetched: the provider's keys
# are fetched by the first request that needs them.
get_verifier()
