"""The harness routes as a bare WSGI app behind bearerguard.wsgi.BearerMiddleware."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from bearerguard import Verifier
from bearerguard._resource import WELL_KNOWN_PATH
from bearerguard.wsgi import BearerMiddleware, access_token
from tests.adapters.harness import CONTRACT_RULES, Answer, join_repeated


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """No framework: one JSON answer per request."""
    if environ["PATH_INFO"] == "/api/public":  # below SCRIPT_NAME, mounted or not
        answer: dict[str, Any] = {"message": "public"}
    else:
        token = access_token(environ)
        answer = {"sub": token.subject if token else None}
    body = json.dumps(answer).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class WSGIClient:
    base_url = "http://localhost"  # werkzeug's test Client

    def __init__(self, test_client: Client) -> None:
        self.test_client = test_client

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        # A WSGI environ holds one HTTP_AUTHORIZATION: servers fold repeats with ", ".
        response = self.test_client.get(path, query_string=query, headers=join_repeated(headers))
        data = response.get_data()
        return Answer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            json.loads(data) if data else None,
        )

    def call(self, method: str, path: str, *, headers: Sequence[tuple[str, str]] = ()) -> Answer:
        """Any method; the body is kept as bytes (a HEAD answer has none to parse)."""
        response = self.test_client.open(path, method=method, headers=join_repeated(headers))
        return Answer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.get_data(),
        )


@contextmanager
def client(verifier: Verifier) -> Iterator[WSGIClient]:
    yield WSGIClient(Client(BearerMiddleware(app, verifier=verifier, rules=CONTRACT_RULES)))


def not_found(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """What a server answers for a path no mounted app serves."""
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


@contextmanager
def metadata_client(verifier: Verifier, mount: str = "") -> Iterator[WSGIClient]:
    """The middleware (which serves the metadata itself), mounted at ``mount`` (if any) and
    at the well-known path of that mount (``SCRIPT_NAME`` is the mount point)."""
    protected: Any = BearerMiddleware(app, verifier=verifier, rules=CONTRACT_RULES)
    if mount:
        mounts = {mount: protected, WELL_KNOWN_PATH + mount: protected}
        protected = DispatcherMiddleware(not_found, mounts)
    yield WSGIClient(Client(protected))
