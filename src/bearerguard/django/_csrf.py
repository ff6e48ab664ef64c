"""CSRF and bearer tokens: which requests to bearerguard's views Django's CSRF check still sees.

CSRF protection exists because a browser attaches cookies (and cached HTTP
Basic or Digest credentials) to every request it sends to a site, whichever
page asked for it. A bearer token is not such an *ambient* credential: the
client puts it in the ``Authorization`` header itself, and a page on another
origin cannot make a browser send that header without the API's CORS consent.
So a request that bearerguard authenticated with a valid token needs no CSRF
token, and a request it refuses runs no view, so changes nothing.

The rule, for a view decorated with :func:`~bearerguard.django.requires_scopes`
or :func:`~bearerguard.django.optional_token`:

- the decorated view is marked ``csrf_exempt``, so ``CsrfViewMiddleware``
  leaves the decision to the decorator, wherever either middleware is listed;
- a request with a valid bearer token (and the scopes) is served without a
  CSRF check;
- a request with missing, malformed or invalid bearer credentials is refused
  (400/401/403/503, RFC 6750) before the view runs;
- ``@optional_token`` also serves requests without bearer credentials, which
  may carry a session cookie: for those the decorator runs the installed
  ``CsrfViewMiddleware`` (or subclass) check on the undecorated view, exactly
  as the middleware would have, and answers its 403 when it fails. Without
  ``CsrfViewMiddleware`` in ``MIDDLEWARE`` there is no check, as before; a view
  made ``csrf_exempt`` beneath the decorator stays exempt.

Nothing else changes: views bearerguard does not decorate (even when
``BearerTokenMiddleware`` found a valid token on the request) and DRF views
keep Django's and DRF's CSRF handling untouched. Within a decorated view,
identify the caller by ``request.access_token``, never by ``request.user`` or
the session: those come from cookies, which the exemption does not vouch for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings  # type: ignore[import-untyped]
from django.middleware.csrf import CsrfViewMiddleware  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

__all__ = ["acsrf_refusal", "csrf_refusal", "mark_exempt"]

F = TypeVar("F", bound=Callable[..., Any])


def mark_exempt(view: F) -> F:
    """Mark a bearerguard-guarded view so that ``CsrfViewMiddleware.process_view`` skips it.

    The guard then decides per request: bearer-authenticated or refused, else
    (``@optional_token`` only) Django's own check via :func:`csrf_refusal`.
    Django's ``View.as_view()`` and ``method_decorator`` copy the mark onto the
    callable the URLconf holds.
    """
    view.__dict__["csrf_exempt"] = True
    return view


def csrf_refusal(
    request: Any, view: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Any:
    """Django's CSRF answer for a request served without a bearer token; ``None`` to serve it."""
    check = _installed_check(request)
    return None if check is None else check.process_view(request, view, args, kwargs)


async def acsrf_refusal(
    request: Any, view: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Any:
    """:func:`csrf_refusal` for async views: off the event loop, as Django runs ``process_view``.

    The check may read a form body and render the failure page (a template).
    """
    check = _installed_check(request)
    if check is None:
        return None
    return await sync_to_async(check.process_view)(request, view, args, kwargs)


def _installed_check(request: Any) -> Any:
    """The project's CSRF middleware, when one is installed (its ``process_view`` itself
    lets the safe methods through, as for any view)."""
    middleware = _csrf_middleware(tuple(settings.MIDDLEWARE))
    return None if middleware is None else middleware(_no_response)


@functools.lru_cache(maxsize=8)
def _csrf_middleware(dotted_paths: tuple[str, ...]) -> type[CsrfViewMiddleware] | None:
    """The CSRF middleware class among ``MIDDLEWARE``: imported once per setting (tests may
    change the setting, hence the key), not on every request."""
    for dotted_path in dotted_paths:
        factory = import_string(dotted_path)
        # A subclass keeps its own failure handling (logging, a custom answer).
        if isinstance(factory, type) and issubclass(factory, CsrfViewMiddleware):
            return factory
    return None


def _no_response(request: Any) -> Any:
    # process_view never calls on down the chain; the middleware only needs something to hold.
    raise AssertionError("bearerguard runs only CsrfViewMiddleware.process_view")
