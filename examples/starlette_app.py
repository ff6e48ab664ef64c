"""A Starlette API protected by bearerguard.

Run from the repository root (``pip install 'bearerguard[examples]'``)::

    BEARERGUARD_ISSUER=https://your-tenant.auth0.com/ \\
    BEARERGUARD_RESOURCE=https://api.example.com \\
    uvicorn examples.starlette_app:app

then ``curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/private``.

The authentication middleware checks a token on every request: a request without
one reaches the routes unauthenticated (``requires`` refuses it with 401 where a
token is needed), while a bad token is refused on every route, public ones too.

``BEARERGUARD_RESOURCE`` is the API's URL (RFC 9728) and the tokens' audience defaults to
it (with Auth0, the API's *Identifier*). The app serves its metadata at
``/.well-known/oauth-protected-resource`` (the issuers, the scopes ``requires`` asks
for), and every 401 and 403 names that document (``resource_metadata``).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bearerguard import Verifier
from bearerguard.starlette import (
    BearerAuthBackend,
    ResourceMetadataMiddleware,
    on_error,
    requires,
)

# One verifier for the whole app: it caches the provider's keys. Nothing is fetched
# before the first token arrives, so importing this module never touches the network.
verifier = Verifier.from_env()


async def public(request: Request) -> JSONResponse:
    return JSONResponse(
        {"message": "Hello from a public endpoint! You don't need a token to see this."}
    )


@requires()  # any valid token; request.user.token is the verified token
async def private(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "message": "Hello from a private endpoint! You need a valid token to see this.",
            "sub": request.user.identity,
            "scopes": request.auth.scopes,
        }
    )


@requires("read:messages")  # otherwise 403 insufficient_scope, scope="read:messages"
async def private_scoped(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "message": "Hello from a private endpoint! You need read:messages to see this.",
            "sub": request.user.identity,
        }
    )


@requires("read:contacts")
async def contacts(request: Request) -> JSONResponse:
    contacts = [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]
    return JSONResponse({"sub": request.user.identity, "contacts": contacts})


app = Starlette(
    routes=[
        Route("/api/public", public),
        Route("/api/private", private),
        Route("/api/private-scoped", private_scoped),
        Route("/api/contacts", contacts),
    ],
    middleware=[
        # The RFC 9728 metadata (of BEARERGUARD_RESOURCE) needs no token: served first.
        Middleware(ResourceMetadataMiddleware, verifier=verifier),
        Middleware(
            AuthenticationMiddleware, backend=BearerAuthBackend(verifier), on_error=on_error
        ),
    ],
)
