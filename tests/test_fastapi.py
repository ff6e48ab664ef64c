"""bearerguard.fastapi: the Security dependency, its siblings, OpenAPI and the answers.

Tokens are signed for real and verified by a real verifier that fetches keys
from the in-process provider; the shared table (tests/adapters) covers every
hostile token, this file what is FastAPI-specific.
"""

# FastAPI reads dependencies from parameter defaults; the Annotated[...] form cannot
# name a per-test ``auth`` here, as postponed annotations resolve in module globals.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Security, WebSocket
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from bearerguard import AccessToken, ConfigurationError, Verifier
from bearerguard.fastapi import BearerAuth, BearerHTTPException, install
from tests.adapters.table import no_token_for
from tests.support import (
    Provider,
    bearer,
    forbidden_transport,
)

MakeVerifier = Callable[..., Verifier]


def contacts_app(auth: BearerAuth, *, installed: bool = True) -> FastAPI:
    """Contacts behind a router that needs read:contacts; each route may add more."""
    app = FastAPI()
    if installed:
        install(app)
    router = APIRouter(dependencies=[Security(auth, scopes=["read:contacts"])])

    @router.get("/contacts")
    async def list_contacts(token: AccessToken = Security(auth)) -> dict[str, Any]:
        return {"sub": token.subject}

    @router.delete("/contacts")
    async def delete_contacts(
        token: AccessToken = Security(auth, scopes=["write:contacts"]),
    ) -> dict[str, Any]:
        return {"sub": token.subject}

    @app.get("/inbox")
    async def inbox(
        token: AccessToken = Security(auth.any_of, scopes=["read:messages", "admin"]),
    ) -> dict[str, Any]:
        return {"sub": token.subject}

    @app.get("/greeting")
    async def greeting(token: AccessToken | None = Security(auth.optional)) -> dict[str, Any]:
        return {"hello": token.subject if token else "stranger"}

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {"message": "public"}

    app.include_router(router)
    return app


@pytest.fixture
def auth(make_verifier: MakeVerifier) -> BearerAuth:
    return BearerAuth(make_verifier())


@pytest.fixture
def client(auth: BearerAuth) -> TestClient:
    return TestClient(contacts_app(auth))


# OpenAPI: one scheme, each operation with its scopes


def test_router_and_route_scopes_accumulate(client: TestClient, provider: Provider) -> None:
    reader = bearer(provider.token(scope="read:contacts"))
    writer = bearer(provider.token(scope="write:contacts"))
    both = bearer(provider.token(scope="read:contacts write:contacts"))

    assert client.get("/contacts", headers=reader).json() == {"sub": "auth0|123"}
    assert client.delete("/contacts", headers=both).json() == {"sub": "auth0|123"}
    refused = client.delete("/contacts", headers=reader)
    assert refused.status_code == 403
    # Every scope the operation needs, the router's too: a client steps up once.
    assert refused.headers["www-authenticate"].endswith('scope="read:contacts write:contacts"')
    refused = client.get("/contacts", headers=writer)
    assert refused.headers["www-authenticate"].endswith('scope="read:contacts"')


def test_scopes_of_a_dependency_chain_accumulate_into_security_scopes(
    auth: BearerAuth, provider: Provider
) -> None:
    async def current_user(token: AccessToken = Security(auth, scopes=["profile"])) -> str:
        return token.subject or ""

    app = FastAPI()
    install(app)

    @app.get("/me")
    async def me(user: str = Security(current_user, scopes=["read:me"])) -> dict[str, str]:
        return {"user": user}

    client = TestClient(app)
    refused = client.get("/me", headers=bearer(provider.token(scope="profile")))

    assert refused.headers["www-authenticate"].endswith('scope="read:me profile"')
    granted = client.get("/me", headers=bearer(provider.token(scope="profile read:me")))
    assert granted.json() == {"user": "auth0|123"}
    assert app.openapi()["paths"]["/me"]["get"]["security"] == [
        {"BearerAuth": ["read:me", "profile"]}
    ]


@pytest.mark.parametrize(
    ("scope", "status"), [("read:messages", 200), ("admin", 200), ("read:contacts", 403)]
)
def test_any_of_needs_one_of_the_scopes(
    client: TestClient, provider: Provider, scope: str, status: int
) -> None:
    answer = client.get("/inbox", headers=bearer(provider.token(scope=scope)))

    assert answer.status_code == status
    if status == 403:
        assert answer.headers["www-authenticate"].endswith('scope="read:messages admin"')


def test_optional_is_none_without_credentials(client: TestClient, provider: Provider) -> None:
    assert client.get("/greeting").json() == {"hello": "stranger"}
    assert client.get("/greeting", headers=bearer(provider.token())).json() == {
        "hello": "auth0|123"
    }


def test_optional_still_refuses_a_bad_token(client: TestClient, provider: Provider) -> None:
    answer = client.get("/greeting", headers=bearer(provider.token(exp=1)))

    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_token",
        "error_description": "The access token expired",
    }


def test_dependencies_of_one_request_share_one_verification(
    auth: BearerAuth, provider: Provider
) -> None:
    app = FastAPI()

    @app.get("/both")
    async def both(
        strict: AccessToken = Security(auth, scopes=["read:contacts"]),
        relaxed: AccessToken | None = Depends(auth.optional),
    ) -> dict[str, bool]:
        return {"same": strict is relaxed}

    assert TestClient(app).get("/both", headers=bearer(provider.token())).json() == {"same": True}


def test_the_siblings_with_and_without_scopes(auth: BearerAuth, provider: Provider) -> None:
    app = FastAPI()
    install(app)

    @app.get("/any")
    async def any_scope(token: AccessToken = Security(auth.any_of)) -> dict[str, str | None]:
        return {"sub": token.subject}

    @app.get("/reports")
    async def reports(
        token: AccessToken | None = Security(auth.optional, scopes=["read:reports"]),
    ) -> dict[str, str | None]:
        return {"sub": token.subject if token else None}

    client = TestClient(app)
    token = bearer(provider.token())  # openid read:contacts

    assert client.get("/any", headers=token).json() == {"sub": "auth0|123"}  # nothing required
    assert client.get("/reports").json() == {"sub": None}
    refused = client.get("/reports", headers=token)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"].endswith('scope="read:reports"')
    granted = client.get("/reports", headers=bearer(provider.token(scope="read:reports")))
    assert granted.json() == {"sub": "auth0|123"}


def test_an_invalid_scope_name_fails_every_request(auth: BearerAuth, provider: Provider) -> None:
    app = FastAPI()

    @app.get("/good")
    async def good(
        token: AccessToken = Security(auth, scopes=["read", "contacts"]),
    ) -> dict[str, str]:
        return {}

    @app.get("/bad")
    async def bad(token: AccessToken = Security(auth, scopes=["read contacts"])) -> dict[str, str]:
        return {}

    client = TestClient(app)
    # The valid list with the same space-separated string is served (and remembered) first.
    assert client.get("/good", headers=bearer(provider.token(scope="read contacts"))).is_success
    for _ in range(2):  # validated names are remembered, failures are not
        with pytest.raises(ConfigurationError, match="not a scope name"):
            client.get("/bad", headers=bearer(provider.token()))


# What the dependency reads: every raw Authorization field and the raw query string


@pytest.mark.parametrize(
    "fields",
    [["Bearer {t}", "Bearer {t}"], ["Bearer {t}"] * 3, ["Basic dXNlcjpwYXNz", "Bearer {t}"]],
    ids=["twice", "three-times", "basic-and-bearer"],
)
def test_a_repeated_authorization_field_is_refused(
    client: TestClient, provider: Provider, fields: list[str]
) -> None:
    token = provider.token()
    # A list of pairs keeps repeated fields apart in the ASGI scope.
    headers = [("Authorization", field.format(t=token)) for field in fields]

    for path in ("/contacts", "/greeting"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_request"


def test_a_token_in_the_query_string_is_never_accepted(
    client: TestClient, provider: Provider
) -> None:
    token = provider.token()
    query = {"access_token": token}

    both = client.get("/greeting", headers=bearer(token), params=query)
    assert both.status_code == 400
    assert both.json()["error_description"] == (
        "The request uses more than one method to send the access token"
    )
    # Alone it counts as no credentials: None on an optional route, 401 on a protected one.
    assert client.get("/greeting", params=query).json() == {"hello": "stranger"}
    assert client.get("/contacts", params=query).status_code == 401


# The answers: exact RFC 6750 bodies with install(), right status and challenge without


def test_without_a_token_the_answer_is_401_with_a_challenge_per_scheme(client: TestClient) -> None:
    answer = client.get("/contacts")

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == no_token_for("read:contacts")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "unauthorized",
        "error_description": "Authentication required",
    }


def test_without_install_status_and_challenge_are_still_right(
    auth: BearerAuth, provider: Provider
) -> None:
    client = TestClient(contacts_app(auth, installed=False))

    missing = client.get("/contacts")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == no_token_for("read:contacts")
    assert missing.json() == {
        "detail": {"error": "unauthorized", "error_description": "Authentication required"}
    }
    refused = client.delete("/contacts", headers=bearer(provider.token()))
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"].endswith('scope="read:contacts write:contacts"')


def test_without_install_an_unreachable_provider_is_still_503_with_retry_after(
    auth: BearerAuth, provider: Provider
) -> None:
    provider.override["/.well-known/openid-configuration"] = lambda request: httpx.Response(500)
    client = TestClient(contacts_app(auth, installed=False))

    answer = client.get("/contacts", headers=bearer(provider.token()))

    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert 'error="temporarily_unavailable"' in answer.headers["www-authenticate"]


def test_install_answers_a_bearer_error_raised_in_an_endpoint(
    auth: BearerAuth, provider: Provider
) -> None:
    app = FastAPI()
    install(app)

    @app.get("/reports")
    async def reports(token: AccessToken = Security(auth)) -> dict[str, str]:
        token.require_scopes("read:reports")  # a check only the endpoint can make
        return {}

    answer = TestClient(app).get("/reports", headers=bearer(provider.token()))

    assert answer.status_code == 403
    assert answer.headers["www-authenticate"].endswith('scope="read:reports"')
    assert answer.json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }


def test_the_realm_configured_on_the_verifier_is_announced(make_verifier: MakeVerifier) -> None:
    client = TestClient(contacts_app(BearerAuth(make_verifier(realm="contacts"))))

    missing = client.get("/contacts").headers["www-authenticate"]
    assert missing == no_token_for("read:contacts", realm="contacts")


def test_the_exception_carries_the_bearer_error(auth: BearerAuth) -> None:
    app = FastAPI()
    seen: list[BearerHTTPException] = []

    @app.exception_handler(BearerHTTPException)
    async def record(request: Request, exc: BearerHTTPException) -> JSONResponse:
        seen.append(exc)
        return JSONResponse({}, exc.status_code)

    @app.get("/private")
    async def private(token: AccessToken = Security(auth)) -> dict[str, str]:
        return {}

    TestClient(app).get("/private", headers={"Authorization": "Bearer"})

    assert seen[0].error.status_code == seen[0].status_code == 400
    assert seen[0].headers == seen[0].error.headers


# WebSockets: the handshake is refused with the same answer


def test_a_websocket_route_gets_the_token_or_the_refusal_as_a_denial_response(
    auth: BearerAuth, provider: Provider
) -> None:
    app = FastAPI()
    install(app)

    @app.websocket("/chat")
    async def chat(
        websocket: WebSocket, token: AccessToken = Security(auth, scopes=["chat"])
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"sub": token.subject})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/chat", headers=bearer(provider.token(scope="chat"))) as ws:
        assert ws.receive_json() == {"sub": "auth0|123"}
    headers = bearer(provider.token())
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/chat", headers=headers),
    ):
        pass

    assert denied.value.status_code == 403
    assert denied.value.headers["www-authenticate"].endswith('scope="chat"')


# The event loop never blocks on a key fetch


def test_the_dependency_verifies_with_the_async_api(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    auth = BearerAuth(
        make_verifier(transport=forbidden_transport("a blocking fetch on the event loop"))
    )
    client = TestClient(contacts_app(auth))

    assert client.get("/contacts", headers=bearer(provider.token())).status_code == 200


# Challenges name every scope the route's markers check


def test_a_challenge_names_the_scopes_of_every_marker_on_the_route(
    auth: BearerAuth, provider: Provider
) -> None:
    app = FastAPI()
    install(app)

    @app.post("/contacts/{cid}/share")
    async def share(
        reader: AccessToken = Security(auth, scopes=["read:contacts"]),
        sharer: AccessToken = Security(auth, scopes=["share:contacts"]),
        maybe: AccessToken | None = Security(auth.optional, scopes=["audit"]),
        either: AccessToken = Security(auth.any_of, scopes=["admin", "owner"]),
    ) -> dict[str, str]:
        return {"sub": reader.subject or ""}

    client = TestClient(app)
    missing = client.post("/contacts/1/share")
    reader_only = client.post(
        "/contacts/1/share", headers=bearer(provider.token(scope="read:contacts"))
    )
    without_either = client.post(
        "/contacts/1/share",
        headers=bearer(provider.token(scope="read:contacts share:contacts audit")),
    )

    # Without a token: the all-of markers' scopes (optional and any-of ones need nothing for sure).
    assert missing.headers["www-authenticate"] == no_token_for("read:contacts share:contacts")
    # A 403 from an all-of marker names all of them, from the any-of marker its alternatives.
    assert reader_only.headers["www-authenticate"].endswith('scope="read:contacts share:contacts"')
    assert without_either.headers["www-authenticate"].endswith('scope="admin owner"')


def test_two_verifiers_on_one_route_each_name_their_own_scopes(
    make_verifier: MakeVerifier,
) -> None:
    first, second = BearerAuth(make_verifier()), BearerAuth(make_verifier())
    app = FastAPI()
    install(app)

    @app.get("/both")
    async def both(
        a: AccessToken = Security(first, scopes=["read:a"]),
        b: AccessToken = Security(second, scopes=["read:b"]),
    ) -> dict[str, str]:
        return {}

    missing = TestClient(app).get("/both")

    assert missing.headers["www-authenticate"] == no_token_for("read:a")
