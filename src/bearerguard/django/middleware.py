"""``BearerTokenMiddleware``: authenticate every request once, refuse none.

Sync and async capable: under ASGI it verifies with ``aauthenticate`` and never
blocks the event loop; under WSGI it verifies in the worker thread. A request that
uses DPoP is verified whole against ``request.build_absolute_uri()``, so one whose
host is not in ``ALLOWED_HOSTS`` gets Django's own 400 (``DisallowedHost``).

It may go anywhere in ``MIDDLEWARE``, before or after ``CsrfViewMiddleware``:
every middleware runs its request half before any ``process_view``, so the
token is attached before the CSRF check, and the CSRF exemption lives on the
views bearerguard's decorators guard, not on the order. The middleware itself
exempts no request from CSRF: a view it does not guard may still rely on a
session cookie, which a request carrying a valid token may carry too. Guard a
view (``@requires_scopes``, ``@optional_token``) to take bearer requests to it
out of the CSRF check; see :mod:`bearerguard.django._csrf` for the rule.

Example (``settings.py``)::

    MIDDLEWARE = [
        ...,
        "django.middleware.csrf.CsrfViewMiddleware",
        "bearerguard.django.BearerTokenMiddleware",
    ]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from bearerguard._errors import BearerError

from ._metadata import metadata_response
from ._requests import aauthenticate, authenticate, error_response, with_nonce

__all__ = ["BearerTokenMiddleware"]


class BearerTokenMiddleware:
    """Sets ``request.access_token`` and ``request.bearer_error`` on every request.

    ``access_token`` is the verified :class:`~bearerguard.AccessToken` or
    ``None``; ``bearer_error`` is the :class:`~bearerguard.BearerError` that
    refuses the credentials sent (malformed header, bad or expired token,
    provider down), else ``None``. The middleware itself refuses nothing, so
    public views stay public: :func:`~bearerguard.django.requires_scopes` and
    the DRF classes refuse. A ``BearerError`` a view raises (for instance from
    ``request.access_token.require_scopes(...)``) is answered as RFC 6750 says.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            # Django then awaits this instance instead of running it in a thread.
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        document = metadata_response(request)
        if document is not None:
            return document
        authenticate(request)
        return with_nonce(request, self.get_response(request))

    async def __acall__(self, request: Any) -> Any:
        document = metadata_response(request)
        if document is not None:
            return document
        await aauthenticate(request)
        response: Awaitable[Any] = self.get_response(request)
        return with_nonce(request, await response)

    def process_exception(self, request: Any, exception: Exception) -> Any:
        """Answer a ``BearerError`` raised by a view; leave every other exception to Django."""
        if isinstance(exception, BearerError):
            return error_response(exception)
        return None
