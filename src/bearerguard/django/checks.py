"""System checks: ``manage.py check`` reports a broken configuration before any request does.

=====================  ============================================================
id                     fires when
=====================  ============================================================
``bearerguard.E001``   the ``BEARERGUARD`` setting is missing
``bearerguard.E002``   ``BEARERGUARD`` is not a dict
``bearerguard.E003``   ``BEARERGUARD`` has a key bearerguard does not know (a typo)
``bearerguard.E004``   ``BEARERGUARD`` has no (or an empty) ``ISSUER``
``bearerguard.E005``   ``BEARERGUARD`` has no (or an empty) ``AUDIENCE``, nor a ``RESOURCE``
``bearerguard.E006``   a value is invalid; the message is the verifier's own
``bearerguard.E007``   ``VERIFIER`` cannot be imported, or is neither a
                       ``Verifier`` nor a factory
``bearerguard.E008``   ``VERIFIER`` is set together with other keys, which it
                       would silently override
``bearerguard.W001``   Django REST framework is installed without
                       ``django.contrib.auth`` while DRF's ``UNAUTHENTICATED_USER``
                       keeps its default (``AnonymousUser``, which needs that
                       app): anonymous requests to DRF views would fail
=====================  ============================================================

Example::

    $ python manage.py check
    ?: (bearerguard.E005) BEARERGUARD has no AUDIENCE.
        HINT: Add "AUDIENCE": "https://api.example.com" (a list for several) to BEARERGUARD.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]

from .conf import check_setting, read_setting

__all__ = ["check_rest_framework", "check_settings"]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The ``BEARERGUARD`` setting can build a verifier (``bearerguard.E001``-``E008``)."""
    return [checks.Error(p.msg, hint=p.hint, id=p.id) for p in check_setting(read_setting())]


def check_rest_framework(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """DRF can represent anonymous requests without ``django.contrib.auth`` (``W001``)."""
    if not apps.is_installed("rest_framework") or apps.is_installed("django.contrib.auth"):
        return []
    drf_settings = getattr(settings, "REST_FRAMEWORK", {})
    if isinstance(drf_settings, Mapping) and "UNAUTHENTICATED_USER" in drf_settings:
        return []
    return [
        checks.Warning(
            "Django REST framework represents anonymous requests with "
            "django.contrib.auth's AnonymousUser, but django.contrib.auth is not installed.",
            hint="Bearer tokens need no Django users: set "
            'REST_FRAMEWORK["UNAUTHENTICATED_USER"] = None (request.user is then None '
            "without a token), or add django.contrib.contenttypes and django.contrib.auth to "
            "INSTALLED_APPS.",
            id="bearerguard.W001",
        )
    ]
