"""bearerguard.asgi: the pure ASGI middleware, driven message by message.

Requests are plain ASGI scopes fed to the middleware with ``asyncio.run``; the
verifier behind it is real (real signatures, the in-process provider). The
shared adapter table covers the token catalogue through a real test client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from bearerguard import AccessToken, MissingTokenError, Verifier
from bearerguard.asgi import ACCESS_TOKEN_KEY, BearerMiddleware, Rule, access_token
from tests.support import NO_TOKEN_CHALLENGE, NOW, Provider, forbidden_transport

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
MakeVerifier = Callable[..., Verifier]
DENIAL: dict[str, dict[str, Any]] = {"websocket.http.response": {}}


class Inner:
    """The protected app: records each scope it is handed; answers 200 or accepts."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "websocket":
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept"})
            token = access_token(scope)
            await send({"type": "websocket.send", "text": token.subject if token else "-"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    @property
    def token(self) -> AccessToken | None:
        return access_token(self.scopes[-1])


def scope(
    path: str = "/",
    *,
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    query: str = "",
    kind: str = "http",
    **extra: Any,
) -> dict[str, Any]:
    fields = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers]
    base = {"type": kind, "path": path, "root_path": "", "query_string": query.encode()}
    base.update(headers=fields, **({"method": method} if kind == "http" else {}), **extra)
    return base


def run(app: Any, asgi_scope: Scope, incoming: Sequence[Message] = ()) -> list[Message]:
    """Call ``app`` once; return every message it sent."""
    inbox, sent = list(incoming), list[Message]()

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(asgi_scope, receive, send))
    return sent


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


@pytest.fixture
def inner() -> Inner:
    return Inner()


@pytest.fixture
def protect(inner: Inner, make_verifier: MakeVerifier) -> Callable[..., BearerMiddleware]:
    def build(*rules: Rule, **options: Any) -> BearerMiddleware:
        return BearerMiddleware(inner, verifier=make_verifier(), rules=rules, **options)

    return build


def status(sent: list[Message]) -> int:
    return int(sent[0]["status"])


# The public surface


def test_the_module_exports_the_rule_the_key_and_the_helper():
    import bearerguard.asgi

    assert bearerguard.asgi.Rule is bearerguard.Rule
    assert ACCESS_TOKEN_KEY == "bearerguard.access_token"
    assert bearerguard.asgi.__all__ == sorted(bearerguard.asgi.__all__)


# Rules: which requests need which token


def test_an_unmatched_path_needs_a_valid_token(protect, provider: Provider, inner: Inner):
    app = protect()
    assert status(run(app, scope("/anything"))) == 401
    assert status(run(app, scope("/anything", headers=bearer(provider.token())))) == 200
    assert inner.token is not None
    assert inner.token.subject == "auth0|123"


def test_public_by_default_lets_unmatched_paths_through(protect, inner: Inner):
    app = protect(Rule("/admin", "admin"), public_by_default=True)
    assert status(run(app, scope("/anything"))) == 200
    assert status(run(app, scope("/admin"))) == 401


def test_a_public_rule_passes_without_verifying_anything(protect, inner: Inner):
    app = protect(Rule("/health", public=True))
    sent = run(app, scope("/health", headers=[("Authorization", "Bearer not-a-jwt")]))
    assert status(sent) == 200
    assert inner.scopes[-1][ACCESS_TOKEN_KEY] is None


def test_scopes_are_required_all_of_by_default_and_any_of_on_request(protect, provider):
    app = protect(
        Rule("/all", "read:contacts", "write:contacts"),
        Rule("/any", "read:contacts", "write:contacts", any_of=True),
    )
    token = bearer(provider.token(scope="read:contacts"))
    assert status(run(app, scope("/all", headers=token))) == 403
    assert status(run(app, scope("/any", headers=token))) == 200


def test_methods_narrow_a_rule_and_get_covers_head(protect):
    app = protect(Rule("/items", public=True, methods=["GET"]))
    assert status(run(app, scope("/items"))) == 200
    assert status(run(app, scope("/items", method="HEAD"))) == 200
    assert status(run(app, scope("/items", method="POST"))) == 401


def test_path_parameters_match_one_segment_and_path_parameters_the_rest(protect, provider):
    app = protect(Rule("/users/{id}", "read:users"), Rule("/files/{rest:path}", public=True))
    token = bearer(provider.token())  # no read:users
    assert status(run(app, scope("/users/42", headers=token))) == 403
    assert status(run(app, scope("/users/42/posts", headers=token))) == 200  # unmatched
    assert status(run(app, scope("/files/a/b/c.txt"))) == 200


def test_a_trailing_slash_and_repeated_slashes_do_not_escape_a_rule(protect, provider):
    app = protect(Rule("/admin", "admin"))
    token = bearer(provider.token())  # no admin
    for path in ("/admin", "/admin/", "//admin", "/admin//"):
        assert status(run(app, scope(path, headers=token))) == 403, path


def test_the_first_matching_rule_wins(protect):
    app = protect(Rule("/api/status", public=True), Rule("/api/{name}", "admin"))
    assert status(run(app, scope("/api/status"))) == 200
    assert status(run(app, scope("/api/users"))) == 401


def test_rules_see_the_path_below_the_mount_point(protect):
    # Mounted at /v1 (a Starlette Mount, uvicorn --root-path): routers strip root_path,
    # so a rule written for the app must still match, even when the default is public.
    app = protect(Rule("/admin", "admin"), Rule("/health", public=True), public_by_default=True)
    assert status(run(app, scope("/v1/admin", root_path="/v1"))) == 401
    assert status(run(app, scope("/v1/health", root_path="/v1"))) == 200
    assert status(run(app, scope("/v1admin", root_path="/v1"))) == 200  # not below /v1


def test_a_cors_preflight_passes_unchecked(protect, inner: Inner):
    app = protect()
    preflight = [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET")]
    assert status(run(app, scope("/api/private", method="OPTIONS", headers=preflight))) == 200
    assert inner.token is None
    assert status(run(app, scope("/api/private", method="OPTIONS"))) == 401
    assert status(run(app, scope("/api/private", headers=preflight))) == 401  # a GET


# Optional routes


def test_an_optional_route_admits_requests_without_a_token(protect, inner: Inner):
    app = protect(Rule("/feed", optional=True))
    assert status(run(app, scope("/feed"))) == 200
    assert inner.token is None


def test_an_optional_route_verifies_a_token_that_is_sent(protect, provider, inner: Inner):
    app = protect(Rule("/feed", optional=True))
    assert status(run(app, scope("/feed", headers=bearer(provider.token())))) == 200
    assert inner.token is not None
    expired = bearer(provider.token(exp=int(NOW) - 60))
    assert status(run(app, scope("/feed", headers=expired))) == 401
    malformed = [("Authorization", "Bearer a b")]
    assert status(run(app, scope("/feed", headers=malformed))) == 400


# The token reaches the app; the caller's scope is left alone


def test_the_token_is_put_in_a_copy_of_the_scope(protect, provider, inner: Inner):
    outer = scope("/x", headers=bearer(provider.token()))
    run(protect(), outer)
    assert ACCESS_TOKEN_KEY not in outer
    assert isinstance(inner.scopes[-1][ACCESS_TOKEN_KEY], AccessToken)
    assert inner.token is inner.scopes[-1][ACCESS_TOKEN_KEY]


def test_access_token_ignores_anything_that_is_not_a_token():
    assert access_token({}) is None
    assert access_token({ACCESS_TOKEN_KEY: "eyJ..."}) is None


# Refusals: the error's own status, challenge and JSON body


def test_a_refusal_is_the_errors_response(protect):
    sent = run(protect(), scope("/x"))
    body = MissingTokenError().json_body()
    assert sent == [
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"www-authenticate", NO_TOKEN_CHALLENGE.encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


def test_refusals_announce_the_verifiers_realm(inner, make_verifier, provider):
    app = BearerMiddleware(
        inner, verifier=make_verifier(realm="contacts"), rules=[Rule("/c", "read:all")]
    )
    for headers, expected in [
        ((), b'Bearer realm="contacts"'),
        (bearer(provider.token()), b'Bearer realm="contacts", error="insufficient_scope"'),
    ]:
        fields = dict(run(app, scope("/c", headers=headers))[0]["headers"])
        assert fields[b"www-authenticate"].startswith(expected)


def test_a_provider_outage_answers_503_with_retry_after(inner, make_verifier, provider):
    down = httpx.MockTransport(lambda request: httpx.Response(500))
    app = BearerMiddleware(inner, verifier=make_verifier(async_transport=down))
    sent = run(app, scope("/x", headers=bearer(provider.token())))
    assert status(sent) == 503
    assert dict(sent[0]["headers"])[b"retry-after"] == b"1"


@pytest.mark.parametrize(
    "value",
    [b"Bearer \xff\xfe", b"Bearer a\x00b", b"\xe2\x82\xac", b"Bearer " + b"A" * 70_000],
    ids=["latin-1-bytes", "nul", "utf-8-scheme", "huge"],
)
def test_hostile_header_bytes_are_refused_never_a_crash(protect, value: bytes):
    asgi_scope = scope("/x")
    asgi_scope["headers"] = [(b"Authorization", value)]  # upper-case names happen too
    assert status(run(protect(), asgi_scope)) in {400, 401}


def test_two_authorization_fields_are_refused(protect, provider):
    token = bearer(provider.token())
    assert status(run(protect(), scope("/x", headers=token + token))) == 400


def test_a_token_in_the_query_string_is_refused(protect, provider):
    token = provider.token()
    assert status(run(protect(), scope("/x", query="access_token=" + token))) == 401
    both = scope("/x", headers=bearer(token), query="access_token=" + token)
    assert status(run(protect(), both)) == 400


# Verification is async and only bearerguard's own errors are translated


def test_verification_never_blocks_the_event_loop(inner, make_verifier, provider):
    verifier = make_verifier(transport=forbidden_transport("a blocking fetch on the event loop"))
    app = BearerMiddleware(inner, verifier=verifier)
    assert status(run(app, scope("/x", headers=bearer(provider.token())))) == 200
    assert provider.jwks_hits == 1  # the cold cache was filled through the async transport


def test_a_bug_in_the_app_propagates_unchanged(make_verifier, provider):
    bug = RuntimeError("a bug in the app")

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise bug

    app = BearerMiddleware(broken, verifier=make_verifier())
    with pytest.raises(RuntimeError) as raised:
        run(app, scope("/x", headers=bearer(provider.token())))
    assert raised.value is bug


# Other scope types


def test_lifespan_and_unknown_scopes_pass_straight_through(make_verifier):
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        raise AssertionError("not ours to read")

    async def send(message: Message) -> None:
        raise AssertionError("not ours to answer")

    middleware = BearerMiddleware(app, verifier=make_verifier())
    for kind in ("lifespan", "webtransport"):
        outer = {"type": kind, "asgi": {"version": "3.0"}}
        asyncio.run(middleware(outer, receive, send))
        assert seen.pop() == (outer, receive, send)
        assert seen == []
        assert ACCESS_TOKEN_KEY not in outer


# WebSocket handshakes


def test_a_refused_handshake_gets_the_denial_response_when_offered(protect, inner):
    connect = {"type": "websocket.connect"}
    sent = run(protect(), scope("/ws", kind="websocket", extensions=DENIAL), [connect])
    body = MissingTokenError().json_body()
    assert sent == [
        {
            "type": "websocket.http.response.start",
            "status": 401,
            "headers": [
                (b"www-authenticate", NO_TOKEN_CHALLENGE.encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "websocket.http.response.body", "body": body},
    ]
    assert inner.scopes == []


def test_a_refused_handshake_is_closed_before_accept_without_the_extension(protect, inner):
    connect = {"type": "websocket.connect"}
    offers: list[dict[str, Any] | None] = [{}, None, {"websocket.http.response.other": {}}]
    for extensions in offers:
        ws = scope("/ws", kind="websocket", extensions=extensions)
        assert run(protect(), ws, [connect]) == [{"type": "websocket.close", "code": 1008}]
    assert run(protect(), scope("/ws", kind="websocket"), [connect])[0]["code"] == 1008
    assert inner.scopes == []


def test_a_refused_handshake_whose_client_left_sends_nothing(protect):
    gone = {"type": "websocket.disconnect", "code": 1006}
    assert run(protect(), scope("/ws", kind="websocket", extensions=DENIAL), [gone]) == []


def test_a_handshake_with_a_valid_token_is_accepted_and_carries_it(protect, provider, inner):
    client = TestClient(protect())  # no lifespan: Inner answers HTTP and WebSocket only
    with client.websocket_connect("/ws", headers=dict(bearer(provider.token()))) as ws:
        assert ws.receive_text() == "auth0|123"
    assert inner.token is not None


def handshake(client: TestClient, url: str, headers: dict[str, str] | None = None) -> None:
    with client.websocket_connect(url, headers=headers or {}):
        pass


def test_a_real_client_sees_the_denial_response(protect, provider):
    client = TestClient(protect(Rule("/ws", "chat")))
    with pytest.raises(WebSocketDenialResponse) as refused:
        handshake(client, "/ws", dict(bearer(provider.token())))
    response = refused.value
    assert response.status_code == 403
    assert response.headers["www-authenticate"].endswith('scope="chat"')
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }
    with pytest.raises(WebSocketDenialResponse) as refused:
        handshake(client, "/ws?access_token=" + provider.token())
    assert refused.value.status_code == 401
