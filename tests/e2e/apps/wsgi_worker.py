"""A pure WSGI app guarded by bearerguard that names the worker process answering each request.

Served with several worker processes (``gunicorn -w 2``), every response,
refusals included, carries the answering process's id in a ``Worker-Pid`` header,
so a test knows which worker accepted or refused a request. Routes:

* ``GET /pid``: public, ``{"pid": ...}``: what a test polls until the server answers;
* any other path: needs a valid token (Bearer, or DPoP with its proof), then
  ``{"pid": ..., "sub": ...}``.

A request with a ``Worker-Gate`` header waits at that gate before anything else
(:mod:`tests.e2e.apps.gates`, the folder of gates given as ``WORKER_GATES``): a
sync worker holding it accepts no connection meanwhile.

The verifier comes from the environment, as in the examples::

    BEARERGUARD_ISSUER=http://127.0.0.1:8001/shop/ BEARERGUARD_AUDIENCE=https://api.example.com \\
    BEARERGUARD_REPLAY_STORE=redis://127.0.0.1:6379/0 \\
    gunicorn -w 2 tests.e2e.apps.wsgi_worker:application
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from bearerguard import Verifier
from bearerguard.wsgi import BearerMiddleware, Rule, access_token

from .gates import GATE_HEADER, GateRefusal, wait_at_gate
from .logs import log_to_stderr

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def _answer(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    token = access_token(environ)
    return _json(
        start_response, "200 OK", {"pid": os.getpid(), "sub": token.subject if token else None}
    )


def _gated(inner: WSGIApp) -> WSGIApp:
    """``inner``, reached only once the gate a request names (if any) is opened."""
    gate_variable = "HTTP_" + GATE_HEADER.upper().replace("-", "_")

    def gated(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        gate = environ.get(gate_variable)
        if gate is not None:
            try:
                wait_at_gate(gate)
            except GateRefusal as refusal:
                status = f"{refusal.status} {HTTPStatus(refusal.status).phrase}"
                return _json(start_response, status, {"gate_refused": refusal.message})
        return inner(environ, start_response)

    return gated


def _tagged(inner: WSGIApp) -> WSGIApp:
    """``inner`` with the ``Worker-Pid`` header added to every response it starts."""

    def tagged(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        def start_tagged(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            # Asked per response, not at import: a server that imports the app before
            # forking its workers (gunicorn --preload) would otherwise name its own pid.
            return start_response(status, [*headers, ("Worker-Pid", str(os.getpid()))], *rest)

        return inner(environ, start_tagged)

    return tagged


# Its warnings in the server's log, saying their level and which worker wrote them.
log_to_stderr()

# The pid header goes outside the gate and the guard, so their refusals carry it too.
application = _tagged(
    _gated(
        BearerMiddleware(_answer, verifier=Verifier.from_env(), rules=[Rule("/pid", public=True)])
    )
)
