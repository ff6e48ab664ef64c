"""The Django app: registers the system checks and owns the application's verifier.

Example::

    # settings.py
    INSTALLED_APPS = [..., "bearerguard.django"]

    # anywhere, e.g. to fetch the keys at start-up
    from bearerguard.django import get_verifier
    get_verifier().warm_up()
"""

from __future__ import annotations

import threading
from typing import Any

from django.apps import AppConfig, apps  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]

from bearerguard._verifier import Verifier

from .checks import check_rest_framework, check_settings
from .conf import SETTING, build_verifier, read_setting

__all__ = ["BearerGuardConfig", "get_verifier"]

LABEL = "bearerguard"


class BearerGuardConfig(AppConfig):  # type: ignore[misc]  # Django ships no type hints
    """Holds the verifier built from ``settings.BEARERGUARD``, built on first use.

    The verifier is rebuilt when the setting changes (``override_settings`` in
    tests), so a test can swap in a verifier wired to a fake identity provider.
    """

    name = "bearerguard.django"
    label = LABEL
    verbose_name = "bearerguard"

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        self._verifier: Verifier | None = None
        # Two first requests racing must not build two verifiers: each has its own key cache.
        self._lock = threading.Lock()

    def ready(self) -> None:
        checks.register(check_settings, checks.Tags.security)
        checks.register(check_rest_framework, checks.Tags.compatibility)
        # A bound method, held weakly: a config replaced by override_settings(INSTALLED_APPS=...)
        # disconnects itself when it goes, and its successor connects its own.
        setting_changed.connect(self._setting_changed)

    @property
    def verifier(self) -> Verifier:
        """The verifier of ``settings.BEARERGUARD``; ``ImproperlyConfigured`` if it is broken."""
        verifier = self._verifier
        if verifier is None:
            with self._lock:  # building does no I/O, so holding the lock is brief
                if self._verifier is None:
                    self._verifier = build_verifier(read_setting())
                verifier = self._verifier
        return verifier

    def _setting_changed(self, *, setting: str, **kwargs: Any) -> None:
        if setting == SETTING:
            with self._lock:
                self._verifier = None


def get_verifier() -> Verifier:
    """The application's :class:`~bearerguard.Verifier`, built from ``settings.BEARERGUARD``.

    Example::

        get_verifier().warm_up()   # fetch the provider's keys now rather than on first use
    """
    try:
        config = apps.get_app_config(LABEL)
    except LookupError:
        config = None
    if not isinstance(config, BearerGuardConfig):
        raise ImproperlyConfigured(
            "bearerguard.django is not an installed app: add 'bearerguard.django' to "
            "INSTALLED_APPS so that its verifier and system checks are set up."
        )
    return config.verifier
