"""The harness routes as a bare ASGI app behind bearerguard.asgi.BearerMiddleware."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from bearerguard import Verifier
from bearerguard.asgi import BearerMiddleware, access_token
from tests.adapters.apps.starlette import StarletteClient, mounted
from tests.adapters.harness import CONTRACT_RULES


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    """No framework: lifespan, then one JSON answer per HTTP request."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"].endswith("/api/public"):  # mounted or not
        answer: dict[str, Any] = {"message": "public"}
    else:
        token = access_token(scope)
        answer = {"sub": token.subject if token else None}
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def client(verifier: Verifier) -> Iterator[StarletteClient]:
    protected = BearerMiddleware(app, verifier=verifier, rules=CONTRACT_RULES)
    with TestClient(protected, raise_server_exceptions=True) as test_client:
        yield StarletteClient(test_client)


@contextmanager
def metadata_client(verifier: Verifier, mount: str = "") -> Iterator[StarletteClient]:
    """The middleware (which serves the metadata itself), mounted at ``mount`` (if any)."""
    protected = BearerMiddleware(app, verifier=verifier, rules=CONTRACT_RULES)
    with TestClient(mounted(protected, mount), raise_server_exceptions=True) as test_client:
        yield StarletteClient(test_client)
