"""A pure ASGI app guarded by bearerguard that names the worker process answering each request.

Served with several worker processes (``uvicorn --workers 2``), every response,
refusals included, carries the answering process's id in a ``Worker-Pid`` header,
so a test knows which worker accepted or refused a request. Routes:

* ``GET /pid``: public, ``{"pid": ...}``: what a test polls until the server answers;
* any other path: needs a valid token (Bearer, or DPoP with its proof), then
  ``{"pid": ..., "sub": ...}``.

A request with a ``Worker-Gate`` header waits at that gate before anything else
(:mod:`tests.e2e.apps.gates`, the folder of gates given as ``WORKER_GATES``), and
the worker's event loop with it: a held worker accepts no connection meanwhile,
as a sync worker would not.

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

from .gates import GATE_HEADER, GateRefusal, wait_at_gate
from .logs import log_to_stderr

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    token = access_token(scope)
    await _json(send, 200, {"pid": os.getpid(), "sub": token.subject if token else None})


def _gated(inner: ASGIApp) -> ASGIApp:
    """``inner``, reached only once the gate a request names (if any) is opened."""
    gate_header = GATE_HEADER.lower().encode("ascii")

    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"] if scope["type"] == "http" else ()
        gate = next((value for name, value in headers if name == gate_header), None)
        if gate is not None:
            try:
                # Blocking on purpose: a worker whose event loop waits here accepts no other
                # connection, so the test knows the next one goes to another worker.
                wait_at_gate(gate.decode("latin-1"))
            except GateRefusal as refusal:
                await _json(send, refusal.status, {"gate_refused": refusal.message})
                return
        await inner(scope, receive, send)

    return gated


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


# Its warnings in the server's log, saying their level and which worker wrote them.
log_to_stderr()

# The pid header goes outside the gate and the guard, so their refusals carry it too.
app = _tagged(
    _gated(
        BearerMiddleware(_answer, verifier=Verifier.from_env(), rules=[Rule("/pid", public=True)])
    )
)
