"""FastAPI adapter: a ``Security`` dependency that returns the verified :class:`AccessToken`.

Example (``examples/fastapi_app.py`` is a whole app)::

    auth = BearerAuth(Verifier.from_env())
    app = FastAPI()
    install(app)  # refusals answer with the exact RFC 6750 body

    @app.get("/api/contacts")
    async def contacts(token: Annotated[AccessToken, Security(auth, scopes=["read:contacts"])]):
        return {"sub": token.subject}

The scopes of a router's and a route's ``Security(auth, scopes=[...])`` all apply
(FastAPI's ``SecurityScopes``) and each OpenAPI operation lists them. On a
WebSocket route a refused handshake gets the same answer (the ASGI denial
response, which uvicorn and Starlette's test client offer). A refusal
raises :class:`BearerHTTPException`, an ``HTTPException`` with the error's status,
``WWW-Authenticate`` and ``Retry-After``; without :func:`install` FastAPI renders
its body as ``{"detail": {"error": ..., "error_description": ...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, ClassVar, Final, cast

from ._errors import BearerError, ConfigurationError, MissingTokenError
from ._token import AccessToken, RequiredScopes
from ._verifier import Verifier, verifier_argument

try:
    from fastapi import FastAPI, HTTPException
    from fastapi.openapi.models import HTTPBearer, OAuth2, OAuthFlows
    from fastapi.openapi.models import OAuthFlowAuthorizationCode as AuthorizationCode
    from fastapi.openapi.models import OAuthFlowClientCredentials as ClientCredentials
    from fastapi.requests import HTTPConnection
    from fastapi.security import SecurityScopes
    from fastapi.security.base import SecurityBase
    from starlette.responses import Response

    from .starlette import error_response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "bearerguard.fastapi needs FastAPI: pip install 'bearerguard[fastapi]'"
    ) from exc

__all__ = ["AnyOfBearerAuth", "BearerAuth", "BearerHTTPException", "OptionalBearerAuth", "install"]


class BearerHTTPException(HTTPException):
    """A refused request: the :class:`BearerError` (``.error``) as a FastAPI ``HTTPException``."""

    def __init__(self, error: BearerError) -> None:
        super().__init__(error.status_code, error.to_json(), error.headers)
        self.error = error


def install(app: FastAPI) -> None:
    """Render refusals as the exact RFC 6750 body ``{"error": ..., "error_description": ...}``.

    A ``BearerError`` raised in an endpoint (``token.require_scopes(...)``) gets its
    answer too, instead of a 500.

    Example::

        app = FastAPI()
        install(app)
    """

    async def answer(conn: HTTPConnection, exc: Exception) -> Response:
        # Registered for these two types only: exc is one of them.
        error = exc.error if isinstance(exc, BearerHTTPException) else exc
        return error_response(cast(BearerError, error))

    app.add_exception_handler(BearerHTTPException, answer)
    app.add_exception_handler(BearerError, answer)


# The per-request path below is kept lean on purpose: a token the verifier remembers costs
# it a few microseconds, so reading the request and checking scopes must cost less still
# (the load benchmark compares a guarded route with an unguarded one).

_UNSEEN: Final = object()  # the memo's "not verified yet" (None means "no credentials")


class _Bearer(SecurityBase):
    """What the dependencies of one :class:`BearerAuth` share: a verifier and an OpenAPI scheme.

    Each subclass is the dependency itself: FastAPI awaits ``__call__`` and hands
    it the request and the route's ``Security`` scopes. Whether every scope or
    any one is needed, and whether a request without credentials passes, are class
    settings, so that one coroutine stands between FastAPI and the verifier: each
    level costs every request.
    """

    _any_of: ClassVar[bool] = False
    _optional: ClassVar[bool] = False

    def __init__(self, verifier: Verifier, model: HTTPBearer | OAuth2, scheme_name: str) -> None:
        self.verifier = verifier_argument(verifier, "BearerAuth(verifier)")
        self.model = model
        self.scheme_name = scheme_name
        # Router- and route-level Security() are distinct dependencies (FastAPI caches a
        # dependency per call and scopes): verify once per request, keyed by verifier.
        self._memo = f"bearerguard.token.{id(verifier):x}"

    async def __call__(
        self, conn: HTTPConnection, security_scopes: SecurityScopes
    ) -> AccessToken | None:
        """The request's token checked for the ``Security`` scopes; ``None`` without
        credentials on :attr:`BearerAuth.optional`."""
        scope = conn.scope
        try:
            token: AccessToken | None = scope.get(self._memo, _UNSEEN)
            if token is _UNSEEN:
                token = await self.verifier.aauthenticate(
                    _authorization(scope),
                    query=scope.get("query_string", b"").decode("latin-1"),
                )
                scope[self._memo] = token
            if token is not None and security_scopes.scopes:
                _required(security_scopes, self._any_of).enforce(token)
        except BearerError as exc:
            raise BearerHTTPException(exc) from exc
        if token is None and not self._optional:
            raise BearerHTTPException(MissingTokenError(realm=self.verifier.config.realm))
        return token


def _authorization(scope: MutableMapping[str, Any]) -> str | list[str] | None:
    """The ``Authorization`` field: its value, ``None`` when absent, every value when repeated.

    Read from the raw ASGI headers rather than ``conn.headers``: a ``Headers`` view and
    a decoded list per request cost more than this loop, which decodes only the field
    we need. Names are compared as sent, as ``Headers.getlist`` does (ASGI servers send
    them in lower case). A repeated field is handed over whole: the verifier refuses
    it (400), as for every adapter.
    """
    found: str | list[str] | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            field = value.decode("latin-1")
            if found is None:
                found = field
            elif isinstance(found, str):
                found = [found, field]
            else:
                found.append(field)
    return found


# The requirements of the Security scope lists seen, by all-of/any-of and scope string.
_REQUIRED: tuple[dict[str, RequiredScopes], dict[str, RequiredScopes]] = ({}, {})
_MAX_REQUIRED = 256


def _required(security_scopes: SecurityScopes, any_of: bool) -> RequiredScopes:
    """The requirement of a ``Security`` scope list (``ConfigurationError`` if invalid).

    A route's scopes are fixed when the app is built, yet FastAPI hands them over in
    new objects on every request: this memo turns the per-request validation into one
    lookup of the space-separated ``scope_str``. A valid list (names without spaces)
    is the only list of its length with that string, so a hit for an invalid list is
    impossible; an invalid one is never remembered and fails every request, as
    ``require_scopes`` does. Bounded, should a caller build scope lists of its own.
    """
    memo = _REQUIRED[any_of]
    needed = memo.get(security_scopes.scope_str)
    if needed is not None and len(needed.names) == len(security_scopes.scopes):
        return needed
    needed = RequiredScopes(tuple(security_scopes.scopes), any_of=any_of)
    if len(memo) >= _MAX_REQUIRED:
        memo.clear()
    memo[security_scopes.scope_str] = needed
    return needed


class OptionalBearerAuth(_Bearer):
    """``auth.optional``: the token (checked for any scopes) or ``None`` without credentials."""

    _optional = True


class AnyOfBearerAuth(_Bearer):
    """``auth.any_of``: a valid token carrying at least one of the ``Security`` scopes."""

    _any_of = True


class BearerAuth(_Bearer):
    """The dependency: a valid token carrying every ``Security`` scope (all-of).

    The OpenAPI scheme is HTTP bearer (``bearerFormat: JWT``) by default. Give a
    ``token_url`` (and an ``authorization_url``, for the PKCE authorization-code
    flow) with a ``scopes`` description map to document an OAuth2 scheme instead,
    so that Swagger UI's Authorize button gets a token; :meth:`auth0` derives the
    URLs from an Auth0 issuer. Then configure Swagger UI's client::

        app.swagger_ui_init_oauth = {
            "clientId": "<a SPA client id>",
            "usePkceWithAuthorizationCodeGrant": True,
            "additionalQueryStringParams": {"audience": "https://api.example.com"},
        }

    Example::

        auth = BearerAuth(verifier)
        Annotated[AccessToken, Security(auth, scopes=["read:contacts"])]
        Annotated[AccessToken | None, Security(auth.optional)]  # None without credentials
        Annotated[AccessToken, Security(auth.any_of, scopes=["read:contacts", "admin"])]
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        scheme_name: str = "BearerAuth",
        description: str | None = None,
        authorization_url: str | None = None,
        token_url: str | None = None,
        scopes: Mapping[str, str] | None = None,
    ) -> None:
        model: HTTPBearer | OAuth2
        if token_url is None:
            if authorization_url is not None or scopes:
                raise ConfigurationError("An OAuth2 scheme needs token_url=... as well.")
            model = HTTPBearer(bearerFormat="JWT", description=description)
        else:
            documented = dict(scopes or {})
            flows = OAuthFlows(
                clientCredentials=ClientCredentials(tokenUrl=token_url, scopes=documented)
            )
            if authorization_url:  # the flow Swagger UI runs with PKCE
                flows.authorizationCode = AuthorizationCode(
                    authorizationUrl=authorization_url, tokenUrl=token_url, scopes=documented
                )
            model = OAuth2(flows=flows, description=description)
        super().__init__(verifier, model, scheme_name)
        # Siblings: same verifier, same scheme name, so the document has one scheme.
        self.optional = OptionalBearerAuth(verifier, model, scheme_name)
        self.any_of = AnyOfBearerAuth(verifier, model, scheme_name)

    @classmethod
    def auth0(
        cls,
        verifier: Verifier,
        *,
        scopes: Mapping[str, str] | None = None,
        issuer: str | None = None,
    ) -> BearerAuth:
        """An OAuth2 scheme with Auth0's ``{issuer}authorize`` and ``{issuer}oauth/token``.

        Example::

            auth = BearerAuth.auth0(verifier, scopes={"read:contacts": "Read your contacts"})
        """
        base = (issuer or verifier.config.issuers[0]).rstrip("/")
        return cls(
            verifier,
            authorization_url=f"{base}/authorize",
            token_url=f"{base}/oauth/token",
            scopes=scopes,
        )
