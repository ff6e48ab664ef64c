"""Starlette adapter: an ``AuthenticationBackend``, its ``on_error`` and a scope-aware ``requires``.

Example (``examples/starlette_app.py`` is a whole app)::

    backend = BearerAuthBackend(Verifier.from_env())
    middleware = [Middleware(AuthenticationMiddleware, backend=backend, on_error=on_error)]

    @requires("read:contacts")
    async def contacts(request):
        return JSONResponse({"sub": request.user.identity})

Starlette's model: the middleware checks a token on **every** route, so a bad
token is refused even on a public one, while a request without a token reaches
the routes as ``UnauthenticatedUser`` and :func:`requires` refuses it where needed.

With a verifier given a ``resource``, :class:`ResourceMetadataMiddleware` (first in
the list) serves its RFC 9728 metadata, listing the scopes the app's
:func:`requires` ask for::

    middleware = [
        Middleware(ResourceMetadataMiddleware, verifier=verifier),
        Middleware(AuthenticationMiddleware, backend=backend, on_error=on_error),
    ]
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ParamSpec, cast

from . import asgi
from ._claim_rules import ClaimRule, requirement
from ._errors import DEFAULT_REALM, BearerError, InsufficientScopeError, MissingTokenError
from ._metadata_route import SCOPES_MARK, MetadataRoute, marked_scopes
from ._request import asgi_request, wants_request
from ._token import AccessToken
from ._verifier import Verifier, verifier_argument

try:
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        AuthenticationError,
        BaseUser,
    )
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import Response
    from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
    from starlette.websockets import WebSocket
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "bearerguard.starlette needs Starlette: pip install 'bearerguard[starlette]'"
    ) from exc

__all__ = [
    "BearerAuthBackend",
    "BearerAuthenticationError",
    "BearerUser",
    "ResourceMetadataMiddleware",
    "error_response",
    "on_error",
    "requires",
]

_P = ParamSpec("_P")
# What the backend leaves in the scope for requires(): the verifier's refusal of a request
# without credentials (its realm, its schemes, its metadata URL), given the route's scopes.
_MISSING_KEY = "bearerguard.missing_token"
# The DPoP-Nonce a successful DPoP request gets back, for requires() to add to the answer.
_NONCE_KEY = "bearerguard.dpop_nonce"
# The ASGI extension that lets a refused handshake carry the 401/403 answer itself.
_DENIAL_RESPONSE = "websocket.http.response"


class BearerUser(BaseUser):
    """The authenticated caller: ``request.user``; its verified token is ``.token``."""

    def __init__(self, token: AccessToken) -> None:
        self.token = token

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.token.subject or ""

    @property
    def identity(self) -> str:
        return self.token.subject or ""


class BearerAuthenticationError(AuthenticationError):
    """Raised by the backend for bad credentials; ``.error`` is the :class:`BearerError`."""

    def __init__(self, error: BearerError) -> None:
        super().__init__(error.description)
        self.error = error


class BearerAuthBackend(AuthenticationBackend):
    """Verifies the bearer token, if any, with the async API (the event loop never blocks).

    No credentials: Starlette's ``UnauthenticatedUser``. A valid token: its scopes in
    ``request.auth.scopes`` (so Starlette's own ``requires`` works) and a :class:`BearerUser`.
    Bad credentials: :class:`BearerAuthenticationError`, answered by :func:`on_error`.

    Example::

        Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier), on_error=on_error)
    """

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier_argument(verifier, "BearerAuthBackend(verifier)")
        # Where requests carry a client certificate (RFC 8705), if the verifier reads one.
        self._certificates = self.verifier.config.certificate_source
        self._whole = self.verifier.config.whole_requests

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        conn.scope[_MISSING_KEY] = self.verifier.missing_token  # for requires(): its challenge
        authorization = conn.headers.getlist("authorization")
        dpop = self.verifier.config.dpop
        try:
            if wants_request(dpop, authorization, "dpop" in conn.headers, whole=self._whole):
                whole = asgi_request(conn.scope, self._certificates)
                token = await self.verifier.aauthenticate_request(whole)
                conn.scope[_NONCE_KEY] = self.verifier.dpop_nonce_for(token)
            else:
                token = await self.verifier.aauthenticate(
                    authorization, query=conn.scope.get("query_string", b"").decode("latin-1")
                )
        except BearerError as exc:
            raise BearerAuthenticationError(exc) from exc
        if token is None:
            return None
        return AuthCredentials(sorted(token.effective_scopes)), BearerUser(token)


def error_response(error: BearerError) -> Response:
    """The RFC 6750 answer to ``error``: its status, challenge and JSON body."""
    return Response(error.json_body(), error.status_code, error.headers, "application/json")


def on_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """For ``AuthenticationMiddleware(..., on_error=on_error)``: the RFC 6750 answer."""
    if isinstance(exc, BearerAuthenticationError):
        return error_response(exc.error)
    # Another backend's error: we know nothing about it, so answer as Starlette would.
    return AuthenticationMiddleware.default_on_error(conn, exc)


def requires(
    *scopes: str, any_of: bool = False, claims: Sequence[ClaimRule] = ()
) -> Callable[[Callable[_P, Any]], Callable[_P, Any]]:
    """Guard an endpoint: 401 without a token, 403 ``insufficient_scope`` without the scopes.

    Unlike Starlette's ``requires`` (a bare 403), the answers carry the RFC 6750
    challenge and JSON body. Works on async and sync endpoints, ``HTTPEndpoint``
    methods and websocket endpoints: a refused handshake gets that answer when the
    server offers the denial-response extension, else a close (1008) before accept.
    The 401's challenges name ``scopes`` (``scope="..."``, every alternative for
    ``any_of``) and the 403's too. The realm is the token's, else the one
    :class:`BearerAuthBackend` recorded for the request, else ``"api"``. ``claims``
    are claim rules (:mod:`bearerguard.claims`) the token must meet too, checked after
    the scopes: a valid token that fails one gets 403 without a ``scope``.

    Example::

        @requires("read:contacts", "read:messages", any_of=True)
        async def inbox(request):
            return JSONResponse({"sub": request.user.identity})

        @requires("read:reports", claims=[claims.includes("roles", "analyst")])
        async def reports(request): ...
    """
    # Names and rules are checked here, at import, not per request.
    needed = requirement(scopes, any_of=any_of, claims=claims)
    required = needed.names

    def refusal(conn: HTTPConnection) -> BearerError | None:
        user = conn.user  # Starlette asserts that AuthenticationMiddleware is installed
        if not isinstance(user, BearerUser):
            missing = conn.scope.get(_MISSING_KEY)
            if callable(missing):
                return cast(BearerError, missing(required))
            return MissingTokenError(required_scopes=required, realm=DEFAULT_REALM)
        try:
            needed.enforce(user.token)
        except InsufficientScopeError as exc:  # the scopes' 403, or the claims'
            return exc
        return None

    def decorator(func: Callable[_P, Any]) -> Callable[_P, Any]:
        # Find the connection argument by name, as Starlette's requires() does.
        names = list(inspect.signature(func).parameters)
        kind = next((n for n in names if n in ("request", "websocket")), None)
        if kind is None:
            raise TypeError(f'No "request" or "websocket" argument on function "{func}"')
        index = names.index(kind)

        def connection(args: Any, kwargs: Any) -> HTTPConnection:
            return cast(
                HTTPConnection, kwargs.get(kind, args[index] if index < len(args) else None)
            )

        if kind == "websocket":

            @functools.wraps(func)
            async def websocket_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
                websocket = cast(WebSocket, connection(args, kwargs))
                error = refusal(websocket)
                if error is None:
                    await func(*args, **kwargs)
                elif _DENIAL_RESPONSE in websocket.scope.get("extensions", {}):
                    await websocket.send_denial_response(error_response(error))
                else:  # 1008 policy violation, before the handshake is accepted
                    await websocket.close(code=1008)

            return _marked(websocket_wrapper, required)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                conn = connection(args, kwargs)
                error = refusal(conn)
                if error is not None:
                    return error_response(error)
                return _with_nonce(conn, await func(*args, **kwargs))

            return _marked(async_wrapper, required)

        @functools.wraps(func)
        def sync_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            conn = connection(args, kwargs)
            error = refusal(conn)
            return (
                _with_nonce(conn, func(*args, **kwargs)) if error is None else error_response(error)
            )

        return _marked(sync_wrapper, required)

    return decorator


def _marked(wrapper: Callable[_P, Any], scopes: tuple[str, ...]) -> Callable[_P, Any]:
    """``wrapper``, recording the scopes it requires for the resource's metadata."""
    setattr(wrapper, SCOPES_MARK, scopes)
    return wrapper


class ResourceMetadataMiddleware(asgi.ResourceMetadataMiddleware):
    """Serves the verifier's RFC 9728 metadata document in a Starlette app.

    As :class:`bearerguard.asgi.ResourceMetadataMiddleware`, except that without
    ``scopes`` the document's ``scopes_supported`` (unless configured) are every
    scope the app's :func:`requires` ask for, read off its routes (mounted ones
    too) on the first request. Put it first in the middleware list: the document is
    public, so no other middleware need see its requests.

    Example::

        Starlette(routes=routes, middleware=[
            Middleware(ResourceMetadataMiddleware, verifier=verifier),
            Middleware(AuthenticationMiddleware, backend=backend, on_error=on_error),
        ])
    """

    def __init__(
        self, app: asgi.ASGIApp, *, verifier: Verifier, scopes: Iterable[str] | None = None
    ) -> None:
        super().__init__(app, verifier=verifier, scopes=scopes or ())
        self._derive = scopes is None

    def metadata_routes(self, scope: asgi.Scope) -> tuple[MetadataRoute, ...]:
        if not self._derive:
            return super().metadata_routes(scope)
        # Starlette puts the application in the scope before its middleware runs.
        routes = getattr(scope.get("app"), "routes", None) or ()
        required = dict.fromkeys(s for view in _views(routes) for s in marked_scopes(view))
        route = MetadataRoute.of(self.verifier, tuple(required))
        return () if route is None else (route,)


def _views(routes: Iterable[BaseRoute]) -> Iterator[object]:
    """Every endpoint below ``routes``: functions, ``HTTPEndpoint`` methods, mounted apps'."""
    for route in routes:
        if isinstance(route, (Route, WebSocketRoute)):
            endpoint = route.endpoint
            yield endpoint
            if isinstance(endpoint, type):  # an HTTPEndpoint: its methods are the views
                yield from (getattr(endpoint, name) for name in sorted(vars(endpoint)))
        elif isinstance(route, Mount):
            yield from _views(route.routes)


def _with_nonce(conn: HTTPConnection, answer: Any) -> Any:
    """``answer``, with the ``DPoP-Nonce`` the backend chose for this request (if any)."""
    nonce = conn.scope.get(_NONCE_KEY)
    if nonce is not None and isinstance(answer, Response):
        answer.headers["DPoP-Nonce"] = nonce
    return answer
