"""ASGI entry point: ``uvicorn examples.django_app.asgi:application``.

Under ASGI the middleware verifies tokens on the event loop: a slow identity
provider holds up only the requests that wait for its keys.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from bearerguard.django import get_verifier

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_app.settings")

application = get_asgi_application()
# Fail at start-up, not on every request, when BEARERGUARD_ISSUER/AUDIENCE are missing.
get_verifier()
