"""A Flask API protected by bearerguard.

Run it from the repository root::

    BEARERGUARD_ISSUER=tenant.auth0.com \\
    BEARERGUARD_RESOURCE=https://api.example.com \\
    gunicorn examples.flask_app:app

    curl localhost:8000/api/public
    curl -H "Authorization: Bearer $TOKEN" localhost:8000/api/private

``BEARERGUARD_ISSUER`` takes one issuer or several, comma-separated.
``BEARERGUARD_RESOURCE`` is the API's URL (RFC 9728) and the tokens' audience defaults
to it (with Auth0, the API's *Identifier*): the app serves its metadata at
``/.well-known/oauth-protected-resource``, and every 401 and 403 names that document.
Nothing is fetched at import: the provider's keys are fetched on the first request that
needs them.
"""

from __future__ import annotations

import os

from flask import Flask

from bearerguard.flask import BearerGuard, current_token, requires

app = Flask(__name__)
# The extension reads BEARERGUARD_* from app.config, so they could equally come from a
# config file; here they come from the environment, where deployments usually put them.
app.config.from_mapping(
    {name: value for name, value in os.environ.items() if name.startswith("BEARERGUARD_")}
)
BearerGuard(app)


@app.get("/api/public")
def public() -> dict[str, str]:
    # No decorator: anyone may call this route, with or without a token.
    return {"message": "Hello from a public endpoint! You don't need to be authenticated."}


def subject() -> str | None:
    # current_token is None only where @requires lets a request in without a token
    # (optional=True); the check keeps type checkers and readers sure of that.
    return current_token.subject if current_token else None


@app.get("/api/private")
@requires()  # any valid token
def private() -> dict[str, object]:
    return {
        "message": "Hello from a private endpoint! You need to be authenticated.",
        "sub": subject(),
    }


@app.get("/api/private-scoped")
@requires("read:messages")
def private_scoped() -> dict[str, object]:
    return {
        "message": "Hello from a private endpoint! You need the read:messages scope.",
        "sub": subject(),
    }


@app.get("/api/contacts")
@requires("read:contacts")
def contacts() -> dict[str, object]:
    return {"sub": subject(), "contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
