"""Django adapter: a middleware, view decorators, settings checks and DRF classes.

Example (``settings.py``)::

    INSTALLED_APPS = [..., "bearerguard.django"]
    MIDDLEWARE = [..., "bearerguard.django.BearerTokenMiddleware"]
    BEARERGUARD = {"ISSUER": "tenant.auth0.com", "RESOURCE": "https://api.example.com"}

and in ``views.py``::

    from bearerguard.django import requires_scopes

    @requires_scopes("read:contacts")
    def contacts(request):
        return JsonResponse({"sub": request.access_token.subject})

The decorators take the requests they authenticate with a bearer token (no
ambient credential, unlike a cookie) out of Django's CSRF check, and keep the
check for everything else; the rule is in :mod:`bearerguard.django._csrf`.

Django REST framework classes live in :mod:`bearerguard.django.rest_framework`.
"""

from __future__ import annotations

try:
    import django  # type: ignore[import-untyped]  # noqa: F401 - to fail early and clearly
except ImportError as exc:
    raise ImportError("bearerguard.django needs Django: pip install 'bearerguard[django]'") from exc

from .apps import get_verifier
from .decorators import optional_token, requires_scopes
from .middleware import BearerTokenMiddleware
from .user import TokenUser

__all__ = [
    "BearerTokenMiddleware",
    "TokenUser",
    "get_verifier",
    "optional_token",
    "requires_scopes",
]
