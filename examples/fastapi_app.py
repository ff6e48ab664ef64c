"""A FastAPI API protected by bearerguard.

Run from the repository root (``pip install 'bearerguard[examples]'``)::

    BEARERGUARD_ISSUER=https://your-tenant.auth0.com/ \\
    BEARERGUARD_RESOURCE=https://api.example.com \\
    uvicorn examples.fastapi_app:app

then ``curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/private``.

The interactive documentation at ``/docs`` lists each route's scopes and refusals.
Its *Authorize* button logs in at the provider (authorization code with PKCE,
endpoints from the provider's discovery document) with the public client named
by ``BEARERGUARD_DOCS_CLIENT_ID`` (``spa-client`` with ``bearerguard
dev-issuer``; an Auth0 single-page application's client id with Auth0); a token
can also be pasted.

``BEARERGUARD_RESOURCE`` is the API's URL (RFC 9728) and the tokens' audience defaults to
it (with Auth0, the API's *Identifier*). The app serves its metadata at
``/.well-known/oauth-protected-resource`` (the issuers, the routes' scopes), and every
401 and 403 names that document (``resource_metadata``), so that a client learns where
to get a token. ``BEARERGUARD_AUDIENCE`` is for tokens that name other audiences: it
replaces the default, so list the resource in it too.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import FastAPI, Security

from bearerguard import AccessToken, Verifier
from bearerguard.fastapi import BearerAuth, install

# One verifier for the whole app: it caches the provider's keys. Nothing is fetched
# before the first token arrives (or /docs is opened), so importing this module never
# touches the network.
auth = BearerAuth(
    Verifier.from_env(),
    discover=True,  # Swagger UI's Authorize uses the provider's own endpoints
    client_id=os.environ.get("BEARERGUARD_DOCS_CLIENT_ID") or None,
    scopes={"read:messages": "Read messages", "read:contacts": "Read your contacts"},
)

app = FastAPI(
    title="bearerguard FastAPI example",
    swagger_ui_init_oauth=auth.swagger_ui_init_oauth,  # PKCE, the client, the audience
)
# Refusals answer {"error": ..., "error_description": ...} as RFC 6750 says, the
# OpenAPI document lists them for every protected operation, and a verifier with a
# resource gets its RFC 9728 metadata served.
install(app)


@app.get("/api/public")
async def public() -> dict[str, str]:
    return {"message": "Hello from a public endpoint! You don't need a token to see this."}


@app.get("/api/private")
async def private(token: Annotated[AccessToken, Security(auth)]) -> dict[str, Any]:
    # Any valid token will do; the dependency hands over the verified token.
    return {
        "message": "Hello from a private endpoint! You need a valid token to see this.",
        "sub": token.subject,
        "scopes": sorted(token.scopes),
    }


@app.get("/api/private-scoped")
async def private_scoped(
    token: Annotated[AccessToken, Security(auth, scopes=["read:messages"])],
) -> dict[str, Any]:
    # Without read:messages the answer is 403 insufficient_scope, scope="read:messages".
    return {
        "message": "Hello from a private endpoint! You need read:messages to see this.",
        "sub": token.subject,
    }


@app.get("/api/contacts")
async def contacts(
    token: Annotated[AccessToken, Security(auth, scopes=["read:contacts"])],
) -> dict[str, Any]:
    return {"sub": token.subject, "contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
