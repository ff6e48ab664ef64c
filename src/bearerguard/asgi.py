"""Protect any ASGI application with bearer tokens: a pure ASGI middleware, no framework.

Example::

    from bearerguard import Verifier
    from bearerguard.asgi import BearerMiddleware, Rule, access_token


    async def app(scope, receive, send):
        token = access_token(scope)  # the verified AccessToken (None on public routes)
        ...


    verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
    app = BearerMiddleware(
        app,
        verifier=verifier,
        rules=[
            Rule("/health", public=True),
            Rule("/contacts", "read:contacts", methods=["GET"]),
            Rule("/contacts/{id}", "write:contacts", methods=["PUT", "DELETE"]),
        ],
    )

Every ``http`` request and ``websocket`` handshake is checked against the first
matching rule; a path no rule matches needs a valid token. Rules see the path
the application routes on: ``scope["path"]`` below ``scope["root_path"]`` (the
mount point, as Starlette and Django strip it). ``lifespan`` and other scopes
pass straight through. CORS preflights (``OPTIONS`` with
``Access-Control-Request-Method``) pass unchecked, since browsers never send
credentials on them; put your CORS middleware outside this one so that refusals
carry CORS headers too. WebSocket clients must send the ``Authorization``
header: a token in the query string is refused, as for HTTP (RFC 6750 §2.3).

With a verifier given a ``resource``, the middleware also answers its RFC 9728
metadata document (``GET``, ``HEAD``, a CORS preflight; other methods get 405) at
the path of ``verifier.resource_metadata_url``, compared with the whole request
path (``root_path`` included), before any rule; its ``scopes_supported`` are the
configured ones, else every scope the rules require. An app whose tokens are
checked elsewhere serves it with :class:`ResourceMetadataMiddleware`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from ._errors import BearerError
from ._metadata_route import MetadataRoute, asgi_path
from ._middleware import ACCESS_TOKEN_KEY, Guarded, refusal, token_in
from ._request import asgi_request, wants_request
from ._rules import Rule
from ._token import AccessToken
from ._verifier import Verifier, verifier_argument

__all__ = [
    "ACCESS_TOKEN_KEY",
    "BearerMiddleware",
    "ResourceMetadataMiddleware",
    "Rule",
    "access_token",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The ASGI extension that lets a refused WebSocket handshake carry a real HTTP response.
_DENIAL_RESPONSE = "websocket.http.response"
_POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1


def access_token(scope: Mapping[str, Any]) -> AccessToken | None:
    """The token :class:`BearerMiddleware` verified for this request, else ``None``.

    Example::

        token = access_token(scope)
        subject = token.subject if token else None
    """
    return token_in(scope)


class BearerMiddleware(Guarded[ASGIApp]):
    """ASGI middleware that verifies bearer tokens against a :class:`Rule` list.

    The first matching rule wins; unmatched paths need any valid token unless
    ``public_by_default=True``. The token (or ``None``) is put in a copy of the
    scope under :data:`ACCESS_TOKEN_KEY`; read it with :func:`access_token`.
    Refusals carry the error's own status, ``WWW-Authenticate`` challenge and
    JSON body; a refused WebSocket handshake gets that response when the server
    offers the denial-response extension, else a close (code 1008) before accept.

    Example::

        app = BearerMiddleware(app, verifier=verifier, rules=[Rule("/health", public=True)])
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan and the like carry no request
            return
        authorization: list[str] = []
        preflight = proof = False
        for raw_name, value in scope.get("headers") or ():
            # ASGI asks servers for lower-case names but does not require it; the length
            # spares lower-casing every other header of every request.
            size = len(raw_name)
            if size == 13 and raw_name.lower() == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif size == 4 and raw_name.lower() == b"dpop":
                proof = True
            elif size == 29 and raw_name.lower() == b"access-control-request-method":
                preflight = True
        method = scope["method"] if kind == "http" else "GET"  # a handshake is a GET
        metadata = self._metadata
        if metadata is not None and kind == "http" and metadata.serves(asgi_path(scope)):
            # Public by nature: a client without a token learns here where to get one.
            await send_metadata(metadata, method, send, preflight=preflight)
            return
        rule = self._guard.rule_for(method, _route_path(scope), preflight=preflight)
        token = None
        if rule is not None:
            query = (scope.get("query_string") or b"").decode("latin-1")
            try:
                # DPoP, or a token that may be bound to the client certificate: the whole request
                if wants_request(self._dpop, authorization, proof, whole=self._whole):
                    whole = asgi_request(scope, self._certificates)
                    sent = await self.verifier.aauthenticate_request(whole)
                    nonce = self.verifier.dpop_nonce_for(sent)
                    if nonce is not None and kind == "http":
                        send = _with_header(send, b"dpop-nonce", nonce.encode("ascii"))
                else:
                    sent = await self.verifier.aauthenticate(authorization, query=query)
                token = self._guard.admit(rule, sent)
            except BearerError as exc:
                await _refuse(exc, scope, receive, send)
                return
        # A copy, as the ASGI spec asks: the token must not leak into the caller's scope.
        await self.app({**scope, ACCESS_TOKEN_KEY: token}, receive, send)


class MetadataServer(ABC):
    """What serves RFC 9728 documents in front of an ASGI app: the documents, known from
    the first request on, answered; every other request passed on to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Built on the first request: the framework adapters read the scopes off the app's
        # routes, which are all declared by then.
        self._routes: tuple[MetadataRoute, ...] | None = None

    @abstractmethod
    def metadata_routes(self, scope: Scope) -> tuple[MetadataRoute, ...]:
        """The documents to serve, built once, from the first request's ``scope``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            routes = self._routes
            if routes is None:
                routes = self._routes = self.metadata_routes(scope)
            if routes:
                path = asgi_path(scope)
                for route in routes:
                    if route.serves(path):
                        await answer_metadata(route, scope, send)
                        return
        await self.app(scope, receive, send)


class ResourceMetadataMiddleware(MetadataServer):
    """ASGI middleware that answers a verifier's RFC 9728 metadata document, for apps whose
    tokens are checked elsewhere (a framework adapter); every other request passes on.

    The document is answered at the path of ``verifier.resource_metadata_url``,
    compared with the whole request path (``root_path`` included): ``GET`` and
    ``HEAD`` get it (cacheable, readable by any origin), a CORS preflight its
    answer, other methods 405. Its ``scopes_supported`` are the verifier's
    configured ones, else ``scopes``. Without a ``resource`` it passes everything on.
    (:class:`BearerMiddleware` serves the document itself.)

    Example::

        app = ResourceMetadataMiddleware(app, verifier=verifier, scopes=["read:contacts"])
    """

    def __init__(self, app: ASGIApp, *, verifier: Verifier, scopes: Iterable[str] = ()) -> None:
        super().__init__(app)
        self.verifier = verifier_argument(verifier, "ResourceMetadataMiddleware(verifier=...)")
        self._scopes = scopes

    def metadata_routes(self, scope: Scope) -> tuple[MetadataRoute, ...]:
        route = MetadataRoute.of(self.verifier, self._scopes)
        return () if route is None else (route,)


async def answer_metadata(route: MetadataRoute, scope: Scope, send: Send) -> None:
    """Answer the request of ``scope`` with ``route``'s document (or its preflight answer)."""
    preflight = any(
        name.lower() == b"access-control-request-method" for name, _ in scope.get("headers") or ()
    )
    await send_metadata(route, scope["method"], send, preflight=preflight)


async def send_metadata(route: MetadataRoute, method: str, send: Send, *, preflight: bool) -> None:
    """Send ``route``'s answer to ``method`` as an ASGI HTTP response."""
    await send_response(send, *route.answer(method, preflight=preflight))


async def send_response(
    send: Send, status: int, fields: Iterable[tuple[str, str]], body: bytes
) -> None:
    """Send one whole HTTP response: ``fields`` are header fields as ``(name, value)`` text."""
    await send({"type": "http.response.start", "status": status, "headers": asgi_headers(fields)})
    await send({"type": "http.response.body", "body": body})


def asgi_headers(fields: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header fields as ASGI carries them: lower-case names, latin-1 bytes."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in fields]


def _with_header(send: Send, name: bytes, value: bytes) -> Send:
    """``send``, adding one field to the response's start message (the app's own answer)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), (name, value)]}
        await send(message)

    return sending


def _route_path(scope: Scope) -> str:
    """The path routers match: ``path`` below ``root_path``, like WSGI's ``PATH_INFO``."""
    path: str = scope["path"]
    root: str = scope.get("root_path") or ""
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


async def _refuse(exc: BearerError, scope: Scope, receive: Receive, send: Send) -> None:
    status, fields, body = refusal(exc)
    if scope["type"] == "http":
        await send_response(send, status, fields, body)
        return
    headers = asgi_headers(fields)
    # Both answers reply to the handshake's websocket.connect, so take it first.
    if (await receive())["type"] != "websocket.connect":
        return  # the client is gone already
    if _DENIAL_RESPONSE in (scope.get("extensions") or {}):
        start = {"type": "websocket.http.response.start", "status": status, "headers": headers}
        await send(start)
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        # Closing before accept makes the server refuse the handshake with a 403.
        await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
