"""View decorators: refuse requests without a valid token carrying the required scopes.

They work on sync and async function views and on class-based views, with or
without :class:`~bearerguard.django.BearerTokenMiddleware` (without it they
verify the token themselves: blocking for a sync view, awaited for an async one).

CSRF: a decorated view is exempt from ``CsrfViewMiddleware`` for the requests
the decorator authenticates with a valid bearer token (not an ambient
credential) or refuses; ``@optional_token`` runs Django's CSRF check itself on
the requests it serves without a token, which may carry a session cookie. The
full rule and why: :mod:`bearerguard.django._csrf`.

Example::

    from bearerguard.django import optional_token, requires_scopes

    @requires_scopes()                       # any valid token
    def me(request):
        return JsonResponse({"sub": request.access_token.subject})

    @requires_scopes("read:contacts", "read:messages", any_of=True)
    async def inbox(request): ...

    @requires_scopes("write:contacts")       # wraps dispatch: every method
    class ContactView(View): ...

    @requires_scopes("read:reports", claims=[claims.includes("roles", "analyst")])
    def reports(request): ...

    @optional_token                          # a token if one is sent, and then a valid one
    def greeting(request):
        token = request.access_token         # None without a token
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction

from bearerguard._claim_rules import ClaimRule, requirement
from bearerguard._metadata_route import SCOPES_MARK
from bearerguard._token import RequiredScopes

from ._csrf import acsrf_refusal, csrf_refusal, mark_exempt
from ._requests import aoutcome, error_response, outcome, with_nonce

__all__ = ["optional_token", "requires_scopes"]

V = TypeVar("V", bound=Callable[..., Any])


def requires_scopes(
    *scopes: str, any_of: bool = False, claims: Sequence[ClaimRule] = ()
) -> Callable[[V], V]:
    """Require a valid token granting all of ``scopes`` (any one with ``any_of=True``).

    No scopes: any valid token. ``claims`` are claim rules
    (:mod:`bearerguard.claims`) the token must meet too, checked after the scopes.
    A request without a token gets 401, a malformed one 400, a bad token 401, a
    missing scope 403, claims that fail a rule 403 (without a ``scope``), an
    unreachable provider 503, each with its ``WWW-Authenticate`` challenge and
    JSON body (RFC 6750).
    Decorating a class-based view guards its ``dispatch``, hence every method;
    ``method_decorator(requires_scopes(...), name="dispatch")`` does the same
    for sync views (async class-based views: decorate the class). The view
    needs no CSRF token: every request it serves carries a valid bearer token.

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
    return _Guard(requirement(scopes, any_of=any_of, claims=claims), optional=False)


def optional_token(view: V) -> V:
    """Serve requests without a token; verify one when it is sent and refuse it if invalid.

    ``request.access_token`` is then the token or ``None``. A request with a
    valid token needs no CSRF token; one without bearer credentials gets the
    installed ``CsrfViewMiddleware``'s check as if the view were undecorated
    (mark the view ``csrf_exempt`` beneath this decorator to opt out).

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
        guarded = self._guard_async(view) if iscoroutinefunction(view) else self._guard_sync(view)
        setattr(guarded, SCOPES_MARK, self.required.names)  # for the metadata's scopes_supported
        return mark_exempt(guarded)  # type: ignore[return-value]

    def _csrf_view(self, view: Callable[..., Any]) -> Callable[..., Any] | None:
        """The view whose CSRF check the guard runs for requests without a token, if any."""
        # Only @optional_token serves such requests, and a view exempt beneath it stays exempt.
        if not self.optional or getattr(view, "csrf_exempt", False):
            return None
        return view

    def _check(
        self, request: Any, csrf_view: Callable[..., Any] | None, args: Any, kwargs: Any
    ) -> Any:
        """The refusal response, or ``None`` to serve the request."""
        found = outcome(request)
        refusal = found.refusal(self.required, optional=self.optional)
        if refusal is not None:
            return error_response(refusal)
        if found.token is None and csrf_view is not None:
            return csrf_refusal(request, csrf_view, args, kwargs)
        return None  # bearer-authenticated: no CSRF check (see _csrf)

    async def _acheck(
        self, request: Any, csrf_view: Callable[..., Any] | None, args: Any, kwargs: Any
    ) -> Any:
        found = await aoutcome(request)
        refusal = found.refusal(self.required, optional=self.optional)
        if refusal is not None:
            return error_response(refusal)
        if found.token is None and csrf_view is not None:
            return await acsrf_refusal(request, csrf_view, args, kwargs)
        return None

    def _guard_sync(self, view: Callable[..., Any]) -> Callable[..., Any]:
        csrf_view = self._csrf_view(view)

        @functools.wraps(view)
        def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
            refused = self._check(request, csrf_view, args, kwargs)
            if refused is not None:
                return refused
            return with_nonce(request, view(request, *args, **kwargs))

        return guarded

    def _guard_async(self, view: Callable[..., Any]) -> Callable[..., Any]:
        csrf_view = self._csrf_view(view)

        @functools.wraps(view)
        async def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
            refused = await self._acheck(request, csrf_view, args, kwargs)
            if refused is not None:
                return refused
            return with_nonce(request, await view(request, *args, **kwargs))

        return guarded

    def _guard_class(self, cls: V) -> V:
        dispatch = getattr(cls, "dispatch", None)
        if not callable(dispatch):
            raise TypeError(f"{cls.__name__} is not a class-based view: it has no dispatch().")
        csrf_view = self._csrf_view(dispatch)

        @functools.wraps(dispatch)
        def guarded_dispatch(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            # Django's View.dispatch returns a coroutine for async views: so must this one.
            if getattr(type(view), "view_is_async", False):
                return self._adispatch(dispatch, csrf_view, view, request, *args, **kwargs)
            refused = self._check(request, csrf_view, args, kwargs)
            if refused is not None:
                return refused
            return with_nonce(request, dispatch(view, request, *args, **kwargs))

        # as_view() copies the mark from dispatch onto the view function it returns.
        setattr(guarded_dispatch, SCOPES_MARK, self.required.names)
        cls.dispatch = mark_exempt(guarded_dispatch)  # type: ignore[attr-defined]
        return cls

    async def _adispatch(
        self,
        dispatch: Callable[..., Any],
        csrf_view: Callable[..., Any] | None,
        view: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        refused = await self._acheck(request, csrf_view, args, kwargs)
        if refused is not None:
            return refused
        return with_nonce(request, await dispatch(view, request, *args, **kwargs))
