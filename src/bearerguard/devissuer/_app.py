"""The dev-issuer's HTTP routes: a :class:`Request` in, a :class:`Response` out.

The issuer of a request is the URL it came to, read from its ``Host`` header:
``127.0.0.1:<port>`` is the canonical issuer, ``localhost:<port>`` the custom
domain. Any other ``Host`` is answered 421 Misdirected Request and nothing else:
a loopback server that answered every name would be reachable from web pages
through DNS rebinding. The token endpoint's DPoP proof is checked against the
token endpoint's URL under that issuer: the URL the client used.

Clients registered at the registration endpoint join the configured ones in one
:class:`._directory.ClientDirectory`, which /authorize and the token endpoint share.

The introspection (RFC 7662) and revocation (RFC 7009) endpoints are for
confidential clients, server to server: they authenticate the caller
(:mod:`._client_auth`), then answer from :mod:`._introspect`. No CORS there: a
browser has no business asking about tokens with a client's credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import httpx

from bearerguard._config import CachePolicy, Introspection
from bearerguard._errors import BearerError, MissingTokenError
from bearerguard._jose import looks_like_jwt
from bearerguard._request import HttpRequest
from bearerguard._verifier import Verifier

from ._authorize import (
    AuthorizationRequest,
    RedirectError,
    approve,
    choose_user,
    deny,
    read_request,
)
from ._client_auth import ClientAuthenticator
from ._clients import basic_credentials
from ._config import ClientConfig, DevIssuerConfig
from ._consent import BANNER, consent_page, error_text, index_page
from ._cors import ANY_ORIGIN, WEB_ORIGINS, cors_headers
from ._directory import ClientDirectory
from ._documents import (
    DISCOVERY,
    INTROSPECTION,
    JWKS,
    OAUTH_METADATA,
    REGISTRATION,
    REVOCATION,
    discovery_document,
    endpoints,
)
from ._errors import ErrorPage, OAuthError
from ._grants import TokenEndpoint
from ._http import Request, Response, body_params, query_params
from ._introspect import TokenIntrospection
from ._keys import KeyStore
from ._proofs import NONCE_HEADER, TokenEndpointProofs
from ._redirects import WebOrigins
from ._refusals import invalid_consent, invalid_query, request_expired, unknown_user
from ._registration import register_client
from ._store import MEMORY, ExpiringMap, GrantStore
from ._tokens import USERINFO, Minter, namespaced, organization_claims, profile_claims

__all__ = ["App"]


class _Route(NamedTuple):
    methods: tuple[str, ...]
    handler: Callable[[Request, str], Response]
    cors: str | None = None  # ANY_ORIGIN, WEB_ORIGINS (see ._cors), or none


REALM = "dev-issuer"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class App:
    """Routes requests to the endpoints; one per running server.

    Example::

        app = App(config, keys, minter, issuers=(canonical, custom_domain), auto_approve=False)
        app.handle(Request("GET", "/.well-known/jwks.json", "", {"host": "127.0.0.1:9000"}))
    """

    def __init__(
        self,
        config: DevIssuerConfig,
        keys: KeyStore,
        minter: Minter,
        *,
        issuers: tuple[str, str],
        auto_approve: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._keys = keys
        self._minter = minter
        self._auto_approve = auto_approve
        self._clock = clock
        self._issuers = issuers
        self._hosts = {urlsplit(issuer).netloc.lower(): issuer for issuer in issuers}
        self._store = GrantStore(clock)
        self._pending: ExpiringMap[AuthorizationRequest] = ExpiringMap(MEMORY, clock)
        self._clients = ClientDirectory(config)
        # One authenticator for every endpoint: a client assertion's jti is spent in all.
        self._callers = ClientAuthenticator(self._clients, clock)
        self._tokens = TokenEndpoint(config, self._store, minter, self._clients, self._callers)
        self._proofs = TokenEndpointProofs(nonces=config.dpop_nonce, clock=clock)
        self._introspection = TokenIntrospection(
            minter.opaque, keys, self._store, issuers=issuers, clock=clock
        )
        # SPAs call the token and userinfo endpoints cross-origin, from where they are served:
        # the origins of the registered redirect URIs (Auth0's "allowed web origins"), and a
        # public client's loopback hosts on any port, as its redirect URIs match on any port.
        self._origins = WebOrigins(config.clients)
        # /userinfo checks its tokens with bearerguard's own verifier, fed in-process: Bearer
        # tokens, and DPoP-bound ones with a proof of the userinfo request (RFC 9449 §7).
        self._verifier = Verifier(
            issuer=list(issuers),
            audience=[issuer + USERINFO for issuer in issuers],
            realm=REALM,
            transport=httpx.MockTransport(self._serve_in_process),
            cache=CachePolicy(unknown_kid_cooldown=0.0),
        )
        # Opaque tokens go to the introspection endpoint, in-process too: one verifier per
        # issuer, as an answer speaks for one issuer. Never cached: a revoked token is out.
        self._opaque_verifiers = {
            issuer: Verifier(
                issuer=issuer,
                audience=issuer + USERINFO,
                realm=REALM,
                transport=httpx.MockTransport(self._serve_in_process),
                introspection=Introspection(
                    # Only this process reaches the in-process endpoint: no secret to keep.
                    client_id="dev-issuer-userinfo",
                    client_secret="in-process",
                    url=issuer + INTROSPECTION,
                    cache_ttl=0,
                    inactive_ttl=0,
                ),
            )
            for issuer in issuers
        }
        # Cross-origin reads (CORS): the public documents for anyone, the token and userinfo
        # endpoints for the registered web origins; never the pages or /dev/rotate.
        self._routes: dict[str, _Route] = {
            "/": _Route(("GET",), self._index),
            "/" + DISCOVERY: _Route(("GET",), self._discovery, ANY_ORIGIN),
            "/" + OAUTH_METADATA: _Route(("GET",), self._discovery, ANY_ORIGIN),
            "/" + JWKS: _Route(("GET",), self._jwks, ANY_ORIGIN),
            "/authorize": _Route(("GET", "POST"), self._authorize),
            "/oauth/token": _Route(("POST",), self._token, WEB_ORIGINS),
            # Browser-based MCP clients register from a loopback origin: the web origins.
            "/" + REGISTRATION: _Route(("POST",), self._register, WEB_ORIGINS),
            "/" + USERINFO: _Route(("GET", "POST"), self._userinfo, WEB_ORIGINS),
            # Server to server, with a confidential client's credentials: no CORS.
            "/" + INTROSPECTION: _Route(("POST",), self._introspect),
            "/" + REVOCATION: _Route(("POST",), self._revoke),
            "/dev/rotate": _Route(("POST",), self._rotate),
        }

    def rotate_keys(self) -> str:
        """Sign with a new key; the previous one stays published. Returns the new kid."""
        kid = self._keys.rotate()
        self._verifier.forget_keys()
        return kid

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        issuer = self._hosts.get((request.header("Host") or "").lower())
        if issuer is None:
            return Response.json(
                {
                    "error": "misdirected_request",
                    "error_description": "This dev-issuer answers only for "
                    + " and ".join(self._issuers),
                },
                421,
            )
        route = self._routes.get(request.path)
        if route is None:
            return Response.json({"error": "not_found", "error_description": request.path}, 404)
        if request.method == "OPTIONS":
            return self._cors(request, route, Response(204))
        if request.method not in route.methods:
            allow = {"Allow": ", ".join(route.methods)}
            return Response.json({"error": "method_not_allowed"}, 405, allow)
        return self._cors(request, route, route.handler(request, issuer))

    def _cors(self, request: Request, route: _Route, response: Response) -> Response:
        if route.cors is None:
            return response
        response.headers.update(
            cors_headers(
                policy=route.cors,
                methods=route.methods,
                origin=request.header("Origin"),
                preflight=request.method == "OPTIONS",
                requested_headers=request.header("Access-Control-Request-Headers"),
                origins=self._origins,
            )
        )
        return response

    # --- documents ------------------------------------------------------------------------

    def _index(self, request: Request, issuer: str) -> Response:
        if "text/html" in (request.header("Accept") or ""):
            return Response.html(index_page(self._config, self._issuers, endpoints(issuer)))
        return Response.json(
            {
                "banner": BANNER,
                "issuers": list(self._issuers),
                "endpoints": endpoints(issuer),
                "clients": [
                    {
                        "client_id": client.client_id,
                        "client_secret": client.client_secret,
                        # How it proves who it is: the secret, its keys, or nothing (public).
                        "auth": _auth_methods(client),
                        "grant_types": list(client.grant_types),
                    }
                    for client in self._config.clients
                ],
                "apis": [api.identifier for api in self._config.apis],
            }
        )

    def _discovery(self, request: Request, issuer: str) -> Response:
        algorithm = self._keys.current.algorithm
        return Response.json(discovery_document(issuer, self._config, algorithm))

    def _jwks(self, request: Request, issuer: str) -> Response:
        return Response.json(self._keys.jwks(), headers={"Cache-Control": "max-age=600"})

    def _serve_in_process(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for issuer in self._issuers:
            if url == issuer + DISCOVERY:
                algorithm = self._keys.current.algorithm
                return httpx.Response(200, json=discovery_document(issuer, self._config, algorithm))
            if url == issuer + JWKS:
                return httpx.Response(200, json=self._keys.jwks())
            if url == issuer + INTROSPECTION and request.method == "POST":
                form = dict(parse_qsl(request.content.decode("utf-8", "replace")))
                return httpx.Response(200, json=self._introspection.answer(form.get("token", "")))
        return httpx.Response(404)

    # --- authorization endpoint ---------------------------------------------------------

    def _authorize(self, request: Request, issuer: str) -> Response:
        try:
            if request.method == "POST":
                return self._decide(request)
            try:
                params = query_params(request.query)
            except OAuthError as exc:
                raise invalid_query(exc.description) from None
            pending = read_request(self._config, params, issuer, self._clients)
            if self._auto_approve:
                user = choose_user(self._config, pending)
                return Response.redirect(self._approve(pending, user.sub))
            if params.get("prompt") == "none":
                # No login session to reuse: only an auto-approving server answers silently.
                return Response.redirect(
                    pending.redirect(
                        {
                            "error": "login_required",
                            "error_description": "prompt=none needs a server started with "
                            "auto-approve.",
                        }
                    )
                )
            users = pending.members(self._config)
            hint = (pending.login_hint or "").lower()
            selected = next(
                (u.sub for u in users if hint and hint in (u.sub.lower(), (u.email or "").lower())),
                None,
            )
            page = consent_page(
                pending, users, selected=selected, transaction=self._pending.put(pending)
            )
            return Response.html(page)
        except RedirectError as exc:
            return Response.redirect(exc.location)
        except ErrorPage as exc:
            return Response.text(error_text(exc), exc.status)

    def _decide(self, request: Request) -> Response:
        try:
            params = body_params(request)
        except OAuthError as exc:
            raise invalid_consent(exc.description) from None
        pending = self._pending.take(params.get("transaction", ""))
        if pending is None:
            raise request_expired()
        if params.get("decision") != "allow":
            return Response.redirect(deny(pending))
        return Response.redirect(self._approve(pending, params.get("user", "")))

    def _approve(self, pending: AuthorizationRequest, sub: str) -> str:
        user = self._config.user(sub)
        if user is None:
            raise unknown_user(sub, (member.sub for member in pending.members(self._config)))
        return approve(
            self._config,
            pending,
            user,
            store=self._store,
            minter=self._minter,
            now=self._clock(),
        )

    # --- token and userinfo endpoints ---------------------------------------------------

    def _token(self, request: Request, issuer: str) -> Response:
        try:
            basic = basic_credentials(request.header("Authorization"))
            params = body_params(request)
            jkt = self._proofs.key_of(
                request.header("DPoP"), method=request.method, url=endpoints(issuer)["token"]
            )
            answer = self._tokens.token(params, basic=basic, issuer=issuer, jkt=jkt)
        except OAuthError as exc:
            return Response.oauth_error(exc, self._token_headers(exc.headers))
        return Response.json(answer, headers=self._token_headers({}))

    def _token_headers(self, given: Mapping[str, str]) -> dict[str, str]:
        # With nonces on, every answer hands the client a current nonce for its next proof
        # (RFC 9449 §8); a refusal's own (use_dpop_nonce) is as fresh, and is kept.
        headers = {**_NO_STORE, **given}
        nonce = self._proofs.nonce()
        if nonce is not None:
            headers.setdefault(NONCE_HEADER, nonce)
        return headers

    def _register(self, request: Request, issuer: str) -> Response:
        try:
            answer = register_client(
                self._config,
                self._clients,
                body=request.body,
                content_type=request.header("Content-Type"),
                now=self._clock(),
            )
        except OAuthError as exc:
            return Response.oauth_error(exc, _NO_STORE)
        # RFC 7591 §3.2.1: 201 Created, and never cached (a secret could be in it elsewhere).
        return Response.json(answer, 201, _NO_STORE)

    # --- introspection and revocation ----------------------------------------------------

    def _introspect(self, request: Request, issuer: str) -> Response:
        try:
            token = self._token_of(request, issuer, endpoints(issuer)["introspection"])
        except OAuthError as exc:
            return Response.oauth_error(exc, _NO_STORE)
        # token_type_hint is only a hint (RFC 7662 §2.1): every kind of token is looked for.
        return Response.json(self._introspection.answer(token), headers=_NO_STORE)

    def _revoke(self, request: Request, issuer: str) -> Response:
        try:
            token = self._token_of(request, issuer, endpoints(issuer)["revocation"])
            self._introspection.revoke(token)
        except OAuthError as exc:
            return Response.oauth_error(exc, _NO_STORE)
        # RFC 7009 §2.2: 200, revoked or unknown alike; the body is ignored by clients.
        return Response.json({}, headers=_NO_STORE)

    def _token_of(self, request: Request, issuer: str, endpoint: str) -> str:
        """The ``token`` parameter of a request by an authenticated confidential client."""
        params = body_params(request)
        self._callers.authenticate(
            params,
            request.header("Authorization"),
            audiences=(issuer, endpoint, endpoints(issuer)["token"]),
        )
        token = params.get("token")
        if token is None:
            raise OAuthError(
                "invalid_request", "token is required: the token to ask about, in the form body."
            )
        return token

    def _userinfo(self, request: Request, issuer: str) -> Response:
        # The URL the client used, query included: a token in the query is refused there.
        url = issuer + USERINFO + (f"?{request.query}" if request.query else "")
        verifier = self._userinfo_verifier(request, issuer)
        try:
            token = verifier.authenticate_request(HttpRequest(request.method, url, request.headers))
            if token is None:
                raise MissingTokenError(realm=REALM)
        except BearerError as exc:
            return Response(exc.status_code, exc.json_body(), _json_headers(exc.headers))
        claims: dict[str, Any] = {"sub": token.subject}
        user = None if token.subject is None else self._config.user(token.subject)
        if user is not None:
            claims.update(profile_claims(user, token.scopes))
            claims.update(organization_claims(user.organization))
            claims.update(namespaced(user.claims, self._config.namespace))
        return Response.json(claims, headers={"Cache-Control": "no-store"})

    def _userinfo_verifier(self, request: Request, issuer: str) -> Verifier:
        """The verifier for the request's access token: an opaque one is introspected, as
        its issuer's (the one it was requested from); a JWT is checked with the keys."""
        _, _, sent = (request.header("Authorization") or "").partition(" ")
        token = sent.strip()
        if not token or looks_like_jwt(token):
            return self._verifier
        claims = self._minter.opaque.claims(token)
        named = issuer if claims is None else claims.get("iss")
        if not isinstance(named, str):
            named = issuer
        return self._opaque_verifiers.get(named, self._verifier)

    def _rotate(self, request: Request, issuer: str) -> Response:
        origin = request.header("Origin")
        if origin is not None and origin.lower() + "/" not in self._hosts.values():
            # A browser adds Origin to a cross-site POST: no web page may rotate the keys.
            return Response.json(
                {
                    "error": "forbidden",
                    "error_description": "Cross-origin requests may not "
                    "rotate the keys; POST from a script or curl.",
                },
                403,
            )
        kid = self.rotate_keys()
        published = [key["kid"] for key in self._keys.jwks()["keys"]]
        return Response.json({"kid": kid, "published": published})


def _json_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {"Content-Type": "application/json", "Cache-Control": "no-store", **headers}


def _auth_methods(client: ClientConfig) -> list[str]:
    """The client authentication methods ``client`` can use at the token endpoint."""
    if client.public:
        return ["none"]
    methods = ["client_secret_basic", "client_secret_post"] if client.client_secret else []
    return methods + (["private_key_jwt"] if client.key_set is not None else [])
