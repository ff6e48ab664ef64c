"""The harness routes served by Flask through ``bearerguard.flask``, via Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from bearerguard import Verifier
from bearerguard._resource import WELL_KNOWN_PATH
from bearerguard.flask import BearerGuard, current_token, requires
from tests.adapters.apps.wsgi import WSGIClient, not_found
from tests.adapters.harness import CONTRACT_CLAIMS, Answer, join_repeated


def create_app(verifier: Verifier) -> Flask:
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)

    def sub() -> dict[str, str | None]:
        return {"sub": current_token.subject if current_token else None}

    @app.get("/api/public")
    def public() -> dict[str, str]:
        return {"message": "public"}

    app.add_url_rule("/api/private", "private", requires()(sub))
    app.add_url_rule("/api/private-scoped", "private_scoped", requires("read:messages")(sub))
    app.add_url_rule("/api/contacts", "contacts", requires("read:contacts")(sub))
    app.add_url_rule("/api/all-of", "all_of", requires("read:contacts", "write:contacts")(sub))
    app.add_url_rule(
        "/api/any-of", "any_of", requires("read:contacts", "read:messages", any_of=True)(sub)
    )
    app.add_url_rule("/api/optional", "optional", requires(optional=True)(sub))
    app.add_url_rule(
        "/api/claims", "claims", requires("read:contacts", claims=CONTRACT_CLAIMS)(sub)
    )
    return app


class FlaskClient:
    base_url = "http://localhost"  # Flask's test client (no SERVER_NAME set)

    def __init__(self, app: Flask) -> None:
        self._client = app.test_client()

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        # Real WSGI servers fold a repeated field into one CGI variable, comma-joined.
        response = self._client.get(path, headers=join_repeated(headers), query_string=query)
        folded = join_repeated(list(response.headers.items()))
        return Answer(response.status_code, folded, response.get_json(silent=True))


@contextmanager
def client(verifier: Verifier) -> Iterator[FlaskClient]:
    yield FlaskClient(create_app(verifier))


@contextmanager
def metadata_client(verifier: Verifier, mount: str = "") -> Iterator[WSGIClient]:
    """The app (whose extension serves the metadata), mounted at ``mount`` (if any) and at
    the well-known path of that mount (``SCRIPT_NAME`` is the mount point)."""
    app: Any = create_app(verifier)
    if mount:
        app = DispatcherMiddleware(not_found, {mount: app, WELL_KNOWN_PATH + mount: app})
    yield WSGIClient(Client(app))
