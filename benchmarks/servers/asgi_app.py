"""The pure ASGI app: bearerguard.asgi's ``BearerMiddleware`` around a bare ASGI view.

``uvicorn --factory benchmarks.servers.asgi_app:create_app``. A one-line
dispatcher sends ``/unguarded`` straight to the view and everything else
through the middleware, whose one rule requires ``read:contacts`` on
``/guarded``: both routes pay the same dispatch, and only ``/guarded`` meets
any bearerguard code (the unguarded one does not even pass the middleware's
rule lookup). ``/floor`` checks the token's signature and nothing else
(:func:`~benchmarks.servers._serving.signature_floor`) before the same view:
the reference for a new token per request. ``/dpop`` is guarded by the same
middleware (a DPoP-bound token, a new proof per request), and ``/dpop-floor``
checks the token's and the proof's signatures and nothing else
(:func:`~benchmarks.servers._serving.dpop_signature_floor`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bearerguard import Verifier
from bearerguard.asgi import BearerMiddleware, Rule, access_token

from . import DPOP_FLOOR_PATH, DPOP_PATH, FLOOR_PATH, GUARDED_PATH, SCOPE, UNGUARDED_PATH, contacts
from ._serving import dpop_signature_floor, server_verifier, signature_floor

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADERS = [(b"content-type", b"application/json")]
_UNAUTHORIZED = [(b"content-type", b"text/plain"), (b"content-length", b"0")]


async def view(scope: Scope, receive: Receive, send: Send) -> None:
    """The contacts view: the subject of the verified token, if any, and two contacts."""
    token = access_token(scope)
    body = json.dumps(contacts(token.subject if token else None)).encode()
    headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _unauthorized(send: Send) -> None:
    await send({"type": "http.response.start", "status": 401, "headers": _UNAUTHORIZED})
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


def build(
    verifier: Verifier,
    floor: Callable[[str | None], bool],
    dpop_floor: Callable[[str | None, str | None], bool],
) -> ASGIApp:
    """The benchmark's ASGI app for ``verifier`` (run with ``--lifespan off``); ``floor``
    checks a signature for ``/floor``, ``dpop_floor`` two for ``/dpop-floor``."""
    guarded = BearerMiddleware(
        view, verifier=verifier, rules=[Rule(GUARDED_PATH, SCOPE), Rule(DPOP_PATH, SCOPE)]
    )

    async def floor_route(scope: Scope, receive: Receive, send: Send) -> None:
        authorization = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"authorization"
            ),
            None,
        )
        if floor(authorization):
            await view(scope, receive, send)
            return
        await _unauthorized(send)

    async def dpop_floor_route(scope: Scope, receive: Receive, send: Send) -> None:
        authorization = proof = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"dpop":
                proof = value.decode("latin-1")
        if dpop_floor(authorization, proof):
            await view(scope, receive, send)
            return
        await _unauthorized(send)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" and scope["path"] == UNGUARDED_PATH:
            await view(scope, receive, send)
        elif kind == "http" and scope["path"] == FLOOR_PATH:
            await floor_route(scope, receive, send)
        elif kind == "http" and scope["path"] == DPOP_FLOOR_PATH:
            await dpop_floor_route(scope, receive, send)
        elif kind == "lifespan":  # test clients send one; servers run with --lifespan off
            await _lifespan(receive, send)
        else:
            await guarded(scope, receive, send)

    return app


def create_app() -> ASGIApp:
    """The server's entry point: the verifier from the environment, keys already fetched."""
    return build(server_verifier(), signature_floor(), dpop_signature_floor())
