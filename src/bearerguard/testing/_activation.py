"""When a fake answers its issuer's fetches: start, stop, republish, and the decorator.

The process-wide part lives in :data:`bearerguard._intercept.interceptions`;
this is one fake's handle on it, so that a fake is never half started and
stopping it twice is harmless.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from bearerguard._intercept import interceptions

__all__ = ["Activation", "active_during"]

F = TypeVar("F", bound=Callable[..., Any])
Serve = Callable[[str], bytes | None]  # a URL -> the JSON body to answer, or None


class Activation:
    """One fake's registration with the interceptions, under one lock.

    Example::

        activation = Activation("https://tenant.auth0.com/", serve)
        activation.start()      # verifiers of the issuer now fetch from serve()
        activation.stop()
    """

    def __init__(self, issuer: str, serve: Serve) -> None:
        self._issuer = issuer
        self._serve = serve
        self._active = False
        # Held across the registry's calls so that start, stop and republish never
        # interleave; the registry never calls back into us under its own lock.
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        """Register; RuntimeError if already active, or if another fake has the issuer."""
        with self._lock:
            if self._active:
                raise RuntimeError(f"This FakeIssuer for {self._issuer} is already active.")
            interceptions.activate(self._issuer, self._serve)  # raises for another fake
            self._active = True

    def stop(self) -> None:
        """Unregister, if registered: the verifiers of the issuer forget the fake's keys."""
        with self._lock:
            if self._active:
                interceptions.deactivate(self._issuer)
                self._active = False

    def republish(self) -> None:
        """Make the verifiers of the issuer forget their keys now, e.g. after a rotation.

        Otherwise a verifier would keep serving withdrawn keys until its key set's TTL,
        and one that refused an unknown kid moments ago would refuse a new key's tokens
        until that kid's cooldown (30 s by default) has passed.
        """
        with self._lock:
            if self._active:  # when stopped, no verifier holds keys from us
                interceptions.forget_keys(self._issuer)


def active_during(manager: AbstractContextManager[Any], func: F) -> F:
    """Wrap ``func`` (a function, a coroutine function or a class) in ``with manager:``.

    On a class, each function attribute whose name starts with ``test`` is wrapped,
    as ``unittest.mock.patch`` does.

    Example::

        wrapped = active_during(fake_issuer, test_contacts)
    """
    if isinstance(func, type):
        for name, member in list(vars(func).items()):
            if name.startswith("test") and inspect.isfunction(member):
                setattr(func, name, active_during(manager, member))
        return cast(F, func)
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def active_during_await(*args: Any, **kwargs: Any) -> Any:
            with manager:
                return await func(*args, **kwargs)

        return cast(F, active_during_await)

    @functools.wraps(func)
    def active_during_call(*args: Any, **kwargs: Any) -> Any:
        with manager:
            return func(*args, **kwargs)

    return cast(F, active_during_call)
