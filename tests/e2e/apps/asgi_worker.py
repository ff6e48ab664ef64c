"""A pure ASGI app guarded by bearerguard that names the worker process answering each request.

Served with several worker processes (``uvicorn --workers 2``), every response,
refusals included, carries the answering process's id in a ``Worker-Pid`` header,
so a test knows which worker accepted or refused a request. Routes:

* ``GET /pid``: public, ``{"pid": ...}``: what a test polls until the server answers;
* any other path: needs a valid token (Bearer, or DPoP with its proof), then
  ``{"pid": ..., "sub": ...}``.

The verifier comes from the environment, as in the examples::

    BEARERGUARD_ISSUER=http://127.0.0.1:8001/shop/ BEARERGUARD_AUDIENCE=https://api.example.com \\
    BEARERGUARD_REPLAY_STORE=redis://127.0.0.1:6379/0 \\
    uvicorn --workers 2 tests.e2e.apps.asgi_worker:app
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bearerguard import Verifier
from bearerguard.asgi import BearerMiddleware, Rule, access_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    token = access_token(scope)
    body = {"pid": os.getpid(), "sub": token.subject if token else None}
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _tagged(inner: ASGIApp) -> ASGIApp:
    """``inner`` with the ``Worker-Pid`` header added to every response it starts."""

    async def tagged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Asked per response, not at import: a server that imports the app before
                # forking its workers (gunicorn --preload) would otherwise name its own pid.
                pid = (b"worker-pid", str(os.getpid()).encode("ascii"))
                message = {**message, "headers": [*message.get("headers", ()), pid]}
            await send(message)

        await inner(scope, receive, send_tagged)

    return tagged


# The pid header goes outside the guard, so refusals carry it too.
app = _tagged(
    BearerMiddleware(_answer, verifier=Verifier.from_env(), rules=[Rule("/pid", public=True)])
)
