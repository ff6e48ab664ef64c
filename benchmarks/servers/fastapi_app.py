"""The FastAPI apps: one view three ways, unguarded, no-op dependency, bearerguard ``Security``.

``uvicorn --factory benchmarks.servers.fastapi_app:create_app``. ``/guarded``
takes ``Security(BearerAuth(verifier), scopes=["read:contacts"])`` as the
README shows; ``/noop`` takes a dependency that only reads the
``Authorization`` header, which prices FastAPI's dependency machinery alone
(peers measured such a route at 0.86x of the bare one); ``/floor`` takes one
that checks the token's signature and nothing else (the reference for a new
token per request). ``/dpop`` is ``/guarded``'s route for DPoP-bound tokens (a new
proof per request), and ``/dpop-floor`` takes a dependency that checks the
token's and the proof's signatures and nothing else. The OpenAPI routes are off:
nothing asks for them.

Each variant is its own one-route FastAPI app behind a one-line dispatcher, as
the ASGI app does it: Starlette tries routes in order, so in one app the third
route would pay about a microsecond per route before it, and the comparison
would price the route's position rather than its guard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.requests import HTTPConnection

from bearerguard import AccessToken, Verifier
from bearerguard.fastapi import BearerAuth, install

from . import (
    DPOP_FLOOR_PATH,
    DPOP_PATH,
    FLOOR_PATH,
    GUARDED_PATH,
    NOOP_PATH,
    SCOPE,
    UNGUARDED_PATH,
    contacts,
)
from ._serving import dpop_signature_floor, server_verifier, signature_floor

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def read_authorization(conn: HTTPConnection) -> str | None:
    """The no-op dependency: reads the header a bearer dependency reads, checks nothing."""
    return conn.headers.get("authorization")


def build(
    verifier: Verifier,
    floor: Callable[[str | None], bool],
    dpop_floor: Callable[[str | None, str | None], bool],
) -> ASGIApp:
    """The benchmark's app for ``verifier``: the variants, dispatched by path; ``floor``
    checks a signature for ``/floor``, ``dpop_floor`` two for ``/dpop-floor``."""
    auth = BearerAuth(verifier)

    async def signature_only(conn: HTTPConnection) -> None:
        if not floor(conn.headers.get("authorization")):
            raise HTTPException(401)

    async def signatures_only(conn: HTTPConnection) -> None:
        headers = conn.headers
        if not dpop_floor(headers.get("authorization"), headers.get("dpop")):
            raise HTTPException(401)

    async def unguarded() -> dict[str, Any]:
        return contacts(None)

    # Markers as default values, not in Annotated[...]: with postponed annotations FastAPI
    # resolves an annotation in the module's namespace, where the local ``auth`` is unknown.
    async def noop(authorization: str | None = Depends(read_authorization)) -> dict[str, Any]:
        return contacts(None)

    async def guarded(token: AccessToken = Security(auth, scopes=[SCOPE])) -> dict[str, Any]:
        return contacts(token.subject)

    async def signature_checked(checked: None = Depends(signature_only)) -> dict[str, Any]:
        return contacts(None)

    async def dpop_guarded(token: AccessToken = Security(auth, scopes=[SCOPE])) -> dict[str, Any]:
        return contacts(token.subject)

    async def signatures_checked(checked: None = Depends(signatures_only)) -> dict[str, Any]:
        return contacts(None)

    apps = {
        path: _one_route(path, endpoint)
        for path, endpoint in (
            (UNGUARDED_PATH, unguarded),
            (NOOP_PATH, noop),
            (GUARDED_PATH, guarded),
            (FLOOR_PATH, signature_checked),
            (DPOP_PATH, dpop_guarded),
            (DPOP_FLOOR_PATH, signatures_checked),
        )
    }
    default = apps[UNGUARDED_PATH]  # lifespan events, and any other path (a 404)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await apps.get(scope.get("path", ""), default)(scope, receive, send)

    return app


def _one_route(path: str, endpoint: Callable[..., Awaitable[dict[str, Any]]]) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install(app)
    app.get(path)(endpoint)
    return app


def create_app() -> ASGIApp:
    """The server's entry point: the verifier from the environment, keys already fetched."""
    return build(server_verifier(), signature_floor(), dpop_signature_floor())
