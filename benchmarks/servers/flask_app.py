"""The Flask app: one view as two routes, bare and under ``@requires("read:contacts")``.

``gunicorn 'benchmarks.servers.flask_app:create_app()'``. The ``BearerGuard``
extension is set up on the app as the README shows; it only registers the
verifier and an error handler, so the undecorated route runs no bearerguard code.
"""

from __future__ import annotations

from flask import Flask

from bearerguard import Verifier
from bearerguard.flask import BearerGuard, current_token, requires

from . import GUARDED_PATH, SCOPE, UNGUARDED_PATH, contacts
from ._serving import server_verifier


def build(verifier: Verifier) -> Flask:
    """The benchmark's Flask app for ``verifier``."""
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)

    @app.get(UNGUARDED_PATH)
    def unguarded() -> dict[str, object]:
        return contacts(None)

    @app.get(GUARDED_PATH)
    @requires(SCOPE)
    def guarded() -> dict[str, object]:
        return contacts(current_token.subject if current_token else None)

    return app


def create_app() -> Flask:
    """The server's entry point: the verifier from the environment, keys already fetched."""
    return build(server_verifier())
