"""The FastAPI app: one view as three routes, unguarded, no-op dependency, bearerguard ``Security``.

``uvicorn --factory benchmarks.servers.fastapi_app:create_app``. ``/guarded``
takes ``Security(BearerAuth(verifier), scopes=["read:contacts"])`` as the
README shows; ``/noop`` takes a dependency that only reads the
``Authorization`` header, which prices FastAPI's dependency machinery alone
(peers measured such a route at 0.86x of the bare one). The OpenAPI routes are
off: nothing asks for them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Security
from fastapi.requests import HTTPConnection

from bearerguard import AccessToken, Verifier
from bearerguard.fastapi import BearerAuth, install

from . import GUARDED_PATH, NOOP_PATH, SCOPE, UNGUARDED_PATH, contacts
from ._serving import server_verifier


async def read_authorization(conn: HTTPConnection) -> str | None:
    """The no-op dependency: reads the header a bearer dependency reads, checks nothing."""
    return conn.headers.get("authorization")


def build(verifier: Verifier) -> FastAPI:
    """The benchmark's FastAPI app for ``verifier``."""
    auth = BearerAuth(verifier)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install(app)

    @app.get(UNGUARDED_PATH)
    async def unguarded() -> dict[str, Any]:
        return contacts(None)

    # Markers as default values, not in Annotated[...]: with postponed annotations FastAPI
    # resolves an annotation in the module's namespace, where the local ``auth`` is unknown.
    @app.get(NOOP_PATH)
    async def noop(authorization: str | None = Depends(read_authorization)) -> dict[str, Any]:
        return contacts(None)

    @app.get(GUARDED_PATH)
    async def guarded(token: AccessToken = Security(auth, scopes=[SCOPE])) -> dict[str, Any]:
        return contacts(token.subject)

    return app


def create_app() -> FastAPI:
    """The server's entry point: the verifier from the environment, keys already fetched."""
    return build(server_verifier())
