"""bearerguard.starlette: the authentication backend, on_error and a scope-aware requires().

Tokens are signed for real and verified by a real verifier that fetches keys
from the in-process provider; the shared table (tests/adapters) covers every
hostile token, this file what is Starlette-specific.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from starlette import authentication
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from bearerguard import ConfigurationError, Verifier
from bearerguard.starlette import (
    BearerAuthBackend,
    BearerAuthenticationError,
    BearerUser,
    on_error,
    requires,
)
from tests.adapters.table import no_token_for
from tests.support import (
    Provider,
    bearer,
    forbidden_transport,
)

MakeVerifier = Callable[..., Verifier]


def app_with(verifier: Verifier, *routes: BaseRoute) -> Starlette:
    backend = BearerAuthBackend(verifier)
    return Starlette(
        routes=list(routes),
        middleware=[Middleware(AuthenticationMiddleware, backend=backend, on_error=on_error)],
    )


def whoami(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "authenticated": request.user.is_authenticated,
            "identity": request.user.identity,
            "display_name": request.user.display_name,
            "scopes": request.auth.scopes,
        }
    )


# The backend: request.user and request.auth, as Starlette defines them


def test_a_valid_token_becomes_request_user_and_request_auth(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        assert isinstance(request.user, BearerUser)
        assert request.user.token.client_id == "client-1"
        return whoami(request)

    client = TestClient(app_with(make_verifier(), Route("/me", endpoint)))
    answer = client.get("/me", headers=bearer(provider.token(scope="read:contacts openid")))

    assert answer.json() == {
        "authenticated": True,
        "identity": "auth0|123",
        "display_name": "auth0|123",
        "scopes": ["openid", "read:contacts"],
    }


def test_without_credentials_the_user_is_starlettes_unauthenticated_user(
    make_verifier: MakeVerifier,
) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        assert isinstance(request.user, authentication.UnauthenticatedUser)
        return whoami(request)

    client = TestClient(app_with(make_verifier(), Route("/me", endpoint)))

    assert client.get("/me").json()["authenticated"] is False


def test_a_bad_token_is_refused_by_the_middleware_even_on_a_public_route(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    async def public(request: Request) -> JSONResponse:
        return JSONResponse({"message": "public"})

    client = TestClient(app_with(make_verifier(), Route("/public", public)))
    answer = client.get("/public", headers=bearer(provider.token(exp=1)))

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "invalid_token",
        "error_description": "The access token expired",
    }
    assert "error_description" in answer.headers["www-authenticate"]


def test_the_backend_raises_an_authentication_error_carrying_the_bearer_error(
    make_verifier: MakeVerifier,
) -> None:
    scope = {"type": "http", "headers": [(b"authorization", b"Bearer")], "query_string": b""}
    backend = BearerAuthBackend(make_verifier())

    with pytest.raises(BearerAuthenticationError) as caught:
        asyncio.run(backend.authenticate(HTTPConnection(scope)))

    assert caught.value.error.status_code == 400
    assert isinstance(caught.value, authentication.AuthenticationError)


def test_starlettes_own_requires_works_with_the_token_scopes(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    @authentication.requires("read:contacts")
    async def contacts(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.user.identity})

    client = TestClient(app_with(make_verifier(), Route("/contacts", contacts)))

    assert client.get("/contacts", headers=bearer(provider.token())).json() == {"sub": "auth0|123"}
    # Starlette's own decorator answers its own bare 403: bearerguard's requires() does better.
    assert (
        client.get("/contacts", headers=bearer(provider.token(scope="openid"))).status_code == 403
    )


def test_on_error_answers_another_backends_error_as_starlette_would() -> None:
    scope = {"type": "http", "headers": []}
    answer = on_error(HTTPConnection(scope), authentication.AuthenticationError("no"))

    assert (answer.status_code, answer.body) == (400, b"no")


# requires(): RFC 6750 answers instead of Starlette's bare 403


@requires("read:contacts")
async def contacts(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.user.token.subject})


@requires("read:contacts", "read:messages", any_of=True)
def inbox(request: Request) -> JSONResponse:  # a sync endpoint, run in a thread by Starlette
    return JSONResponse({"sub": request.user.identity})


class Messages(HTTPEndpoint):
    @requires("read:messages")
    async def get(self, request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.user.identity})


@requires("chat")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"sub": websocket.user.identity})
    await websocket.close()


ROUTES = [
    Route("/contacts", contacts),
    Route("/inbox", inbox),
    Route("/messages", Messages),
    WebSocketRoute("/chat", chat),
]


@pytest.fixture
def client(make_verifier: MakeVerifier) -> TestClient:
    return TestClient(app_with(make_verifier(), *ROUTES))


def test_requires_answers_401_with_a_challenge_per_scheme_without_a_token(
    client: TestClient,
) -> None:
    answer = client.get("/contacts")

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == no_token_for("read:contacts")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "unauthorized",
        "error_description": "Authentication required",
    }


def test_requires_answers_403_insufficient_scope_naming_the_scope(
    client: TestClient, provider: Provider
) -> None:
    answer = client.get("/contacts", headers=bearer(provider.token(scope="openid")))

    assert answer.status_code == 403
    assert answer.headers["www-authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="read:contacts"'
    )
    assert answer.json()["error"] == "insufficient_scope"


def test_requires_lets_a_token_with_the_scope_through(
    client: TestClient, provider: Provider
) -> None:
    assert client.get("/contacts", headers=bearer(provider.token())).json() == {"sub": "auth0|123"}


@pytest.mark.parametrize(
    ("scope", "status"),
    [("read:contacts", 200), ("read:messages", 200), ("openid", 403)],
)
def test_requires_any_of_on_a_sync_endpoint(
    client: TestClient, provider: Provider, scope: str, status: int
) -> None:
    answer = client.get("/inbox", headers=bearer(provider.token(scope=scope)))

    assert answer.status_code == status
    if status == 403:
        assert answer.headers["www-authenticate"].endswith('scope="read:contacts read:messages"')


def test_requires_on_an_http_endpoint_method(client: TestClient, provider: Provider) -> None:
    assert client.get("/messages").status_code == 401
    assert client.get("/messages", headers=bearer(provider.token())).status_code == 403
    granted = client.get("/messages", headers=bearer(provider.token(scope="read:messages")))
    assert granted.json() == {"sub": "auth0|123"}


def test_requires_keeps_the_endpoint_signature() -> None:
    assert contacts.__name__ == "contacts"
    assert list(inspect.signature(contacts).parameters) == ["request"]


def test_the_realm_configured_on_the_verifier_is_announced(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    client = TestClient(app_with(make_verifier(realm="contacts"), *ROUTES))

    missing = client.get("/contacts").headers["www-authenticate"]
    assert missing == no_token_for("read:contacts", realm="contacts")
    refused = client.get("/contacts", headers=bearer(provider.token(scope="openid")))
    assert refused.headers["www-authenticate"].startswith('Bearer realm="contacts", ')


# WebSockets: refused before the handshake is accepted


def test_a_websocket_with_the_scope_is_accepted(client: TestClient, provider: Provider) -> None:
    with client.websocket_connect("/chat", headers=bearer(provider.token(scope="chat"))) as ws:
        assert ws.receive_json() == {"sub": "auth0|123"}


def test_a_websocket_without_a_token_gets_the_401_answer_instead_of_a_handshake(
    client: TestClient,
) -> None:
    # Starlette's test client offers the denial-response extension, as uvicorn does.
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/chat"):
        pass

    assert denied.value.status_code == 401
    assert denied.value.headers["www-authenticate"] == no_token_for("chat")
    assert denied.value.json()["error"] == "unauthorized"


def test_a_websocket_without_the_scope_gets_the_403_answer(
    client: TestClient, provider: Provider
) -> None:
    headers = bearer(provider.token())
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/chat", headers=headers),
    ):
        pass

    assert denied.value.status_code == 403
    assert denied.value.headers["www-authenticate"].endswith('scope="chat"')


def test_without_the_denial_extension_a_websocket_is_closed_with_1008_before_accept(
    make_verifier: MakeVerifier,
) -> None:
    app = app_with(make_verifier(), *ROUTES)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/chat", "headers": [], "query_string": b""}
    asyncio.run(app(scope, receive, send))

    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_a_bad_token_on_a_websocket_is_refused_by_the_middleware(
    client: TestClient, provider: Provider
) -> None:
    # Starlette's AuthenticationMiddleware closes the handshake itself (code 1000).
    headers = bearer(provider.token(exp=1))
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/chat", headers=headers),
    ):
        pass

    assert closed.value.code == 1000


# Mistakes are caught when the app is built, not per request


def test_requires_needs_a_request_or_websocket_parameter() -> None:
    with pytest.raises(TypeError, match="request"):
        requires("read:contacts")(lambda req: None)


def test_requires_refuses_a_malformed_scope_name() -> None:
    with pytest.raises(ConfigurationError):
        requires("read:contacts write:contacts")


def test_requires_without_the_authentication_middleware_says_what_is_missing() -> None:
    client = TestClient(Starlette(routes=[Route("/contacts", contacts)]))

    with pytest.raises(AssertionError, match="AuthenticationMiddleware"):
        client.get("/contacts")


# The event loop never blocks on a key fetch


def test_the_backend_verifies_with_the_async_api(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    verifier = make_verifier(transport=forbidden_transport("a blocking fetch on the event loop"))
    client = TestClient(app_with(verifier, *ROUTES))

    assert client.get("/contacts", headers=bearer(provider.token())).status_code == 200
