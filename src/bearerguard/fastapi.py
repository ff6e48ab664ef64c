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

from collections.abc import Mapping, Sequence
from typing import cast

from ._errors import BearerError, ConfigurationError, MissingTokenError
from ._token import AccessToken
from ._verifier import Verifier

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


class _Bearer(SecurityBase):
    """What the dependencies of one :class:`BearerAuth` share: a verifier and an OpenAPI scheme."""

    def __init__(self, verifier: Verifier, model: HTTPBearer | OAuth2, scheme_name: str) -> None:
        self.verifier = verifier
        self.model = model
        self.scheme_name = scheme_name
        # Router- and route-level Security() are distinct dependencies: verify once per request.
        self._memo = f"bearerguard.token.{id(verifier):x}"

    async def _token(
        self, conn: HTTPConnection, scopes: Sequence[str], any_of: bool = False
    ) -> AccessToken | None:
        """The request's token checked for ``scopes``; ``None`` without credentials."""
        try:
            if self._memo in conn.scope:
                token: AccessToken | None = conn.scope[self._memo]
            else:
                token = await self.verifier.aauthenticate(
                    conn.headers.getlist("authorization"),
                    query=conn.scope.get("query_string", b"").decode("latin-1"),
                )
                conn.scope[self._memo] = token
            if token is not None:
                token.require_scopes(*scopes, any_of=any_of)
        except BearerError as exc:
            raise BearerHTTPException(exc) from exc
        return token

    async def _required(
        self, conn: HTTPConnection, scopes: Sequence[str], any_of: bool = False
    ) -> AccessToken:
        token = await self._token(conn, scopes, any_of)
        if token is None:
            raise BearerHTTPException(MissingTokenError(realm=self.verifier.config.realm))
        return token


class OptionalBearerAuth(_Bearer):
    """``auth.optional``: the token (checked for any scopes) or ``None`` without credentials."""

    async def __call__(
        self, conn: HTTPConnection, security_scopes: SecurityScopes
    ) -> AccessToken | None:
        return await self._token(conn, security_scopes.scopes)


class AnyOfBearerAuth(_Bearer):
    """``auth.any_of``: a valid token carrying at least one of the ``Security`` scopes."""

    async def __call__(self, conn: HTTPConnection, security_scopes: SecurityScopes) -> AccessToken:
        return await self._required(conn, security_scopes.scopes, any_of=True)


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

    async def __call__(self, conn: HTTPConnection, security_scopes: SecurityScopes) -> AccessToken:
        return await self._required(conn, security_scopes.scopes)
