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
from starlette.routing import Route
from starlette.testclient import TestClient

from bearerguard import Verifier
from bearerguard.starlette import BearerAuthBackend, BearerUser, on_error, requires
from tests.adapters.harness import Answer


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


def build_app(verifier: Verifier, routes: Sequence[Any] = ()) -> Starlette:
    """The harness routes (plus ``routes``) behind the bearer authentication middleware."""
    return Starlette(
        routes=[
            Route("/api/public", public),
            Route("/api/private", private),
            Route("/api/private-scoped", private_scoped),
            Route("/api/contacts", contacts),
            Route("/api/all-of", all_of),
            Route("/api/any-of", any_of),
            Route("/api/optional", optional),
            *routes,
        ],
        middleware=[
            Middleware(
                AuthenticationMiddleware, backend=BearerAuthBackend(verifier), on_error=on_error
            )
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


@contextmanager
def client(verifier: Verifier) -> Iterator[StarletteClient]:
    with TestClient(build_app(verifier), raise_server_exceptions=True) as test_client:
        yield StarletteClient(test_client)
