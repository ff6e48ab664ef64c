"""The harness routes on FastAPI: ``Security(auth, scopes=[...])`` and its siblings."""

# FastAPI reads dependencies from parameter defaults; the Annotated[...] form cannot
# name a per-test ``auth`` here, as postponed annotations resolve in module globals.

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Security
from fastapi.testclient import TestClient

from bearerguard import AccessToken, Verifier
from bearerguard.fastapi import BearerAuth, install
from tests.adapters.apps.starlette import StarletteClient, mounted
from tests.adapters.harness import CONTRACT_CLAIMS


def build_app(verifier: Verifier) -> FastAPI:
    auth = BearerAuth(verifier)
    app = FastAPI()
    install(app)

    @app.get("/api/public")
    async def public() -> dict[str, str]:
        return {"message": "public"}

    @app.get("/api/private")
    async def private(token: AccessToken = Security(auth)) -> dict[str, str | None]:
        return {"sub": token.subject}

    @app.get("/api/private-scoped")
    async def private_scoped(
        token: AccessToken = Security(auth, scopes=["read:messages"]),
    ) -> dict[str, str | None]:
        return {"sub": token.subject}

    @app.get("/api/contacts")
    async def contacts(
        token: AccessToken = Security(auth, scopes=["read:contacts"]),
    ) -> dict[str, str | None]:
        return {"sub": token.subject}

    @app.get("/api/all-of")
    async def all_of(
        token: AccessToken = Security(auth, scopes=["read:contacts", "write:contacts"]),
    ) -> dict[str, str | None]:
        return {"sub": token.subject}

    @app.get("/api/any-of")
    async def any_of(
        token: AccessToken = Security(auth.any_of, scopes=["read:contacts", "read:messages"]),
    ) -> dict[str, str | None]:
        return {"sub": token.subject}

    @app.get("/api/optional")
    async def optional(
        token: AccessToken | None = Security(auth.optional),
    ) -> dict[str, str | None]:
        return {"sub": token.subject if token else None}

    admins = auth.with_claims(*CONTRACT_CLAIMS)

    @app.get("/api/claims")
    async def with_claims(
        token: AccessToken = Security(admins, scopes=["read:contacts"]),
    ) -> dict[str, str | None]:
        return {"sub": token.subject}

    return app


@contextmanager
def client(verifier: Verifier) -> Iterator[StarletteClient]:
    # FastAPI's TestClient is Starlette's: the same wrapper sends repeated fields apart.
    with TestClient(build_app(verifier)) as test_client:
        yield StarletteClient(test_client)


@contextmanager
def metadata_client(verifier: Verifier, mount: str = "") -> Iterator[StarletteClient]:
    """The harness app (``install`` serves the metadata), mounted at ``mount`` (if any)."""
    with TestClient(mounted(build_app(verifier), mount)) as test_client:
        yield StarletteClient(test_client)
