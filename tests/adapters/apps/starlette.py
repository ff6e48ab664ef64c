"""The harness routes on Starlette: AuthenticationMiddleware + BearerAuthBackend + requires."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from bearerguard import Verifier
from bearerguard._resource import WELL_KNOWN_PATH
from bearerguard.starlette import (
    BearerAuthBackend,
    BearerUser,
    ResourceMetadataMiddleware,
    on_error,
    requires,
)
from tests.adapters.harness import CONTRACT_CLAIMS, Answer


def sub(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse({"sub": user.token.subject if isinstance(user, BearerUser) else None})


async def public(request: Request) -> JSONResponse:
    return JSONResponse({"message": "public"})


@requires()
async def private(request: Request) -> JSONResponse:
    return sub(request)


@requires("read:messages")
async def private_scoped(request: Request) -> JSONResponse:
    return sub(request)


@requires("read:contacts")
async def contacts(request: Request) -> JSONResponse:
    return sub(request)


@requires("read:contacts", "write:contacts")
async def all_of(request: Request) -> JSONResponse:
    return sub(request)


@requires("read:contacts", "read:messages", any_of=True)
async def any_of(request: Request) -> JSONResponse:
    return sub(request)


async def optional(request: Request) -> JSONResponse:
    return sub(request)


@requires("read:contacts", claims=CONTRACT_CLAIMS)
async def with_claims(request: Request) -> JSONResponse:
    return sub(request)


def build_app(
    verifier: Verifier, routes: Sequence[Any] = (), *, metadata: bool = False
) -> Starlette:
    """The harness routes (plus ``routes``) behind the bearer authentication middleware;
    with ``metadata``, the resource's RFC 9728 document served first."""
    served = [Middleware(ResourceMetadataMiddleware, verifier=verifier)] if metadata else []
    return Starlette(
        routes=[
            Route("/api/public", public),
            Route("/api/private", private),
            Route("/api/private-scoped", private_scoped),
            Route("/api/contacts", contacts),
            Route("/api/all-of", all_of),
            Route("/api/any-of", any_of),
            Route("/api/optional", optional),
            Route("/api/claims", with_claims),
            *routes,
        ],
        middleware=[
            *served,
            Middleware(
                AuthenticationMiddleware, backend=BearerAuthBackend(verifier), on_error=on_error
            ),
        ],
    )


class StarletteClient:
    base_url = "http://testserver"  # Starlette's (and FastAPI's) TestClient

    def __init__(self, test_client: TestClient) -> None:
        self.test_client = test_client

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        # A list of pairs keeps repeated fields apart: two Authorization fields stay two.
        response = self.test_client.get(
            path + ("?" + query if query else ""), headers=list(headers)
        )
        body = response.json() if response.content else None
        return Answer(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, body
        )

    def call(self, method: str, path: str, *, headers: Sequence[tuple[str, str]] = ()) -> Answer:
        """Any method; the body is kept as bytes (a HEAD answer has none to parse)."""
        response = self.test_client.request(method, path, headers=list(headers))
        return Answer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )


def mounted(app: ASGIApp, mount: str) -> ASGIApp:
    """``app`` mounted at ``mount`` in an outer app, and at the well-known path of that
    mount too: the RFC 9728 document of a resource below ``mount`` lies outside it."""
    if not mount:
        return app
    return Starlette(routes=[Mount(mount, app=app), Mount(WELL_KNOWN_PATH + mount, app=app)])


@contextmanager
def client(verifier: Verifier) -> Iterator[StarletteClient]:
    with TestClient(build_app(verifier), raise_server_exceptions=True) as test_client:
        yield StarletteClient(test_client)


@contextmanager
def metadata_client(verifier: Verifier, mount: str = "") -> Iterator[StarletteClient]:
    """The harness app serving the resource's metadata, mounted at ``mount`` (if any)."""
    app = mounted(build_app(verifier, metadata=True), mount)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield StarletteClient(test_client)
