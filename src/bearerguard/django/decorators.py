"""View decorators: refuse requests without a valid token carrying the required scopes.

They work on sync and async function views and on class-based views, with or
without :class:`~bearerguard.django.BearerTokenMiddleware` (without it they
verify the token themselves: blocking for a sync view, awaited for an async one).

Example::

    from bearerguard.django import optional_token, requires_scopes

    @requires_scopes()                       # any valid token
    def me(request):
        return JsonResponse({"sub": request.access_token.subject})

    @requires_scopes("read:contacts", "read:messages", any_of=True)
    async def inbox(request): ...

    @requires_scopes("write:contacts")       # wraps dispatch: every method
    class ContactView(View): ...

    @optional_token                          # a token if one is sent, and then a valid one
    def greeting(request):
        token = request.access_token         # None without a token
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction

from bearerguard._token import RequiredScopes

from ._requests import aoutcome, error_response, outcome

__all__ = ["optional_token", "requires_scopes"]

V = TypeVar("V", bound=Callable[..., Any])


def requires_scopes(*scopes: str, any_of: bool = False) -> Callable[[V], V]:
    """Require a valid token granting all of ``scopes`` (any one with ``any_of=True``).

    No scopes: any valid token. A request without a token gets 401, a malformed
    one 400, a bad token 401, a missing scope 403, an unreachable provider 503,
    each with its ``WWW-Authenticate`` challenge and JSON body (RFC 6750).
    Decorating a class-based view guards its ``dispatch``, hence every method;
    ``method_decorator(requires_scopes(...), name="dispatch")`` does the same
    for sync views (async class-based views: decorate the class).

    Example::

        @requires_scopes("read:contacts")
        def contacts(request):
            return JsonResponse({"sub": request.access_token.subject})
    """
    if len(scopes) == 1 and callable(scopes[0]):
        raise TypeError(
            "requires_scopes takes scope names: write @requires_scopes() with parentheses "
            "to require any valid token."
        )
    return _Guard(RequiredScopes(scopes, any_of=any_of), optional=False)


def optional_token(view: V) -> V:
    """Serve requests without a token; verify one when it is sent and refuse it if invalid.

    ``request.access_token`` is then the token or ``None``.

    Example::

        @optional_token
        def greeting(request):
            token = request.access_token
            return JsonResponse({"hello": token.subject if token else "stranger"})
    """
    return _Guard(RequiredScopes(()), optional=True)(view)


@dataclass(frozen=True, slots=True)
class _Guard:
    required: RequiredScopes  # names checked at decoration, sets compared per request
    optional: bool

    def __call__(self, view: V) -> V:
        if isinstance(view, type):
            return self._guard_class(view)
        if not callable(view):
            raise TypeError(f"Decorate a view function or a class-based view, not {view!r}.")
        if iscoroutinefunction(view):
            return self._guard_async(view)  # type: ignore[return-value]
        return self._guard_sync(view)  # type: ignore[return-value]

    def _check(self, request: Any) -> Any:
        """The refusal response, or ``None`` to serve the request."""
        refusal = outcome(request).refusal(self.required, optional=self.optional)
        return None if refusal is None else error_response(refusal)

    async def _acheck(self, request: Any) -> Any:
        found = await aoutcome(request)
        refusal = found.refusal(self.required, optional=self.optional)
        return None if refusal is None else error_response(refusal)

    def _guard_sync(self, view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
            refused = self._check(request)
            return view(request, *args, **kwargs) if refused is None else refused

        return guarded

    def _guard_async(self, view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        async def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
            refused = await self._acheck(request)
            return await view(request, *args, **kwargs) if refused is None else refused

        return guarded

    def _guard_class(self, cls: V) -> V:
        dispatch = getattr(cls, "dispatch", None)
        if not callable(dispatch):
            raise TypeError(f"{cls.__name__} is not a class-based view: it has no dispatch().")

        @functools.wraps(dispatch)
        def guarded_dispatch(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            # Django's View.dispatch returns a coroutine for async views: so must this one.
            if getattr(type(view), "view_is_async", False):
                return self._adispatch(dispatch, view, request, *args, **kwargs)
            refused = self._check(request)
            return dispatch(view, request, *args, **kwargs) if refused is None else refused

        cls.dispatch = guarded_dispatch  # type: ignore[attr-defined]
        return cls

    async def _adispatch(
        self, dispatch: Callable[..., Any], view: Any, request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        refused = await self._acheck(request)
        return await dispatch(view, request, *args, **kwargs) if refused is None else refused
