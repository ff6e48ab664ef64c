"""The RFC 9728 metadata document in Django, answered by ``BearerTokenMiddleware``.

The document is served at the path of ``verifier.resource_metadata_url``, compared with
``request.path`` (``SCRIPT_NAME`` included, so a mounted site answers where the URL
says). ``scopes_supported`` defaults to the scopes the views guarded by
``requires_scopes`` require and those DRF views name in ``required_scopes``, found by
walking the URLconf once per verifier.

Example::

    response = metadata_response(request)   # None: not the document's path, or no resource
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.http import HttpResponse  # type: ignore[import-untyped]
from django.urls import URLPattern, URLResolver, get_resolver  # type: ignore[import-untyped]

from bearerguard._metadata_route import MetadataRoute, marked_scopes
from bearerguard._verifier import Verifier

from .apps import get_verifier

__all__ = ["metadata_response"]

# The route of the verifier in use, rebuilt when the setting (hence the verifier) changes.
_route: tuple[Verifier, MetadataRoute | None] | None = None


def metadata_response(request: Any) -> HttpResponse | None:
    """The answer at the document's path; ``None`` for every other request."""
    route = _route_of(get_verifier())
    if route is None or not route.serves(request.path):
        return None
    preflight = "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META
    status, headers, body = route.answer(request.method or "GET", preflight=preflight)
    response = HttpResponse(body, status=status)
    for name, value in headers:
        response[name] = value
    return response


def _route_of(verifier: Verifier) -> MetadataRoute | None:
    global _route  # noqa: PLW0603 - one memo for the process, replaced whole
    memo = _route
    if memo is None or memo[0] is not verifier:
        route = None
        if verifier.resource_metadata_url is not None:
            route = MetadataRoute(verifier, list(dict.fromkeys(_required_scopes())))
        memo = _route = (verifier, route)
    return memo[1]


def _required_scopes() -> Iterator[str]:
    """The scopes the URLconf's guarded views require, in URLconf order."""
    for view in _views(get_resolver().url_patterns):
        yield from marked_scopes(view)
        view_class = getattr(view, "view_class", None)  # a class-based view's as_view()
        if view_class is not None:
            yield from marked_scopes(getattr(view_class, "dispatch", None))
            yield from _drf_scopes(getattr(view_class, "required_scopes", ()))


def _drf_scopes(required: object) -> Iterator[str]:
    """What a DRF view's ``required_scopes`` (for ``HasScopes``) names: a list of scopes,
    or a mapping from method to such a list."""
    lists = required.values() if isinstance(required, Mapping) else (required,)
    for scopes in lists:
        if isinstance(scopes, (list, tuple)):
            yield from (scope for scope in scopes if isinstance(scope, str))


def _views(patterns: Iterable[Any]) -> Iterator[Any]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback
