"""A FastAPI API protected by bearerguard.

Run from the repository root (``pip install 'bearerguard[examples]'``)::

    BEARERGUARD_ISSUER=https://your-tenant.auth0.com/ \\
    BEARERGUARD_AUDIENCE=https://api.example.com \\
    uvicorn examples.fastapi_app:app

then ``curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/private``.
The interactive documentation at ``/docs`` lists each route's scopes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Security

from bearerguard import AccessToken, Verifier
from bearerguard.fastapi import BearerAuth, install

# One verifier for the whole app: it caches the provider's keys. Nothing is fetched
# before the first token arrives, so importing this module never touches the network.
# For Swagger UI's Authorize button with Auth0, use BearerAuth.auth0(verifier, scopes={...}).
auth = BearerAuth(Verifier.from_env())

app = FastAPI(title="bearerguard FastAPI example")
install(app)  # refusals answer {"error": ..., "error_description": ...} as RFC 6750 says


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
