"""In-process answers to key fetches: how ``bearerguard.testing`` fakes an issuer.

A fake issuer registers the URLs it answers (discovery and JWKS); while it is
active, every :class:`~bearerguard.Verifier` that fetches one of them gets the
fake's document instead of going to the network, whenever it was created. When
a fake starts or stops, the verifiers that trust its issuer forget their cached
keys, so none keeps serving keys from before (or from the fake after it).

This is the one piece of process-wide state in bearerguard, and it has to be:
the point is that the application's own verifier, built from its own settings,
is redirected without being handed anything. Nothing is patched; with no fake
active, a fetch costs one truth test more.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._keycache import Document

if TYPE_CHECKING:
    from ._verifier import Verifier

__all__ = ["Interceptions", "interceptions"]

# Answers a URL with a JSON document body, or None when the URL is not the fake's.
Serve = Callable[[str], bytes | None]


class Interceptions:
    """The active fakes, and the verifiers that may have cached keys of their issuers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, Serve] = {}  # normalised issuer -> what answers its URLs
        self._verifiers: weakref.WeakSet[Verifier] = weakref.WeakSet()

    def track(self, verifier: Verifier) -> None:
        """Remember ``verifier`` (weakly) so that its keys can be forgotten later."""
        with self._lock:
            self._verifiers.add(verifier)

    def activate(self, issuer: str, serve: Serve) -> None:
        """Answer ``issuer``'s fetches with ``serve`` until :meth:`deactivate`."""
        with self._lock:
            if issuer in self._active:
                raise RuntimeError(
                    f"A fake issuer for {issuer} is already active: stop it before starting "
                    "another for the same issuer."
                )
            self._active[issuer] = serve
            verifiers = list(self._verifiers)
        _forget_keys(verifiers, issuer)

    def deactivate(self, issuer: str) -> None:
        """Stop answering for ``issuer``; its verifiers forget the fake's keys."""
        with self._lock:
            if self._active.pop(issuer, None) is None:
                return
            verifiers = list(self._verifiers)
        _forget_keys(verifiers, issuer)

    def forget_keys(self, issuer: str) -> None:
        """Make the verifiers of an active ``issuer`` forget its keys (a fake rotated them).

        Unlike deactivating and activating again, the fake answers throughout, so a
        fetch on another thread can never reach the network in between.
        """
        with self._lock:
            if issuer not in self._active:
                return
            verifiers = list(self._verifiers)
        _forget_keys(verifiers, issuer)

    def answer(self, url: str) -> Document | None:
        """The fake's document for ``url``, or ``None`` to fetch it for real."""
        if not self._active:
            return None
        for serve in list(self._active.values()):
            body = serve(url)
            if body is not None:
                headers = {"content-type": "application/json", "cache-control": "max-age=600"}
                return Document(200, headers, body)
        return None

    def active_issuers(self) -> tuple[str, ...]:
        return tuple(self._active)

    def verifiers(self) -> tuple[Verifier, ...]:
        """The verifiers alive now, to read their settings (the pytest plugin's report of
        why a test's token was refused names what the application's verifier trusts)."""
        with self._lock:
            return tuple(self._verifiers)


def _forget_keys(verifiers: list[Verifier], issuer: str) -> None:
    for verifier in verifiers:
        if issuer in verifier.config.issuer_index:  # any spelling of the issuer's URL
            verifier.forget_keys()


interceptions = Interceptions()
