"""FastAPI adapter: a ``Security`` dependency that returns the verified :class:`AccessToken`.

Example (``examples/fastapi_app.py`` is a whole app)::

    auth = BearerAuth(Verifier.from_env())
    app = FastAPI()
    install(app)  # refusals answer with the exact RFC 6750 body

    @app.get("/api/contacts")
    async def contacts(token: Annotated[AccessToken, Security(auth, scopes=["read:contacts"])]):
        return {"sub": token.subject}

Claim rules (:mod:`bearerguard.claims`) go on a sibling dependency:
``Security(auth.with_claims(claims.includes("roles", "analyst")), scopes=[...])``
refuses a valid token whose claims fail a rule with 403 (no ``scope`` named).

The scopes of a router's and a route's ``Security(auth, scopes=[...])`` all apply
(FastAPI's ``SecurityScopes``) and each OpenAPI operation lists them. A refusal's
challenge (``scope="..."``: 401 without a token, 403 without the scopes) names the
scopes of the marker that refused, the first FastAPI resolves: a router's before its
route's. On a
WebSocket route a refused handshake gets the same answer (the ASGI denial
response, which uvicorn and Starlette's test client offer). A refusal
raises :class:`BearerHTTPException`, an ``HTTPException`` with the error's status,
``WWW-Authenticate`` and ``Retry-After``; without :func:`install` FastAPI renders
its body as ``{"detail": {"error": ..., "error_description": ...}}``.

With a verifier given a ``resource``, :func:`install` also serves its RFC 9728
metadata document, listing the scopes of the routes' ``Security`` markers.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar, Final, TypeVar, cast

from . import asgi
from ._claim_rules import ClaimRule, check_rules, first_failing, route_refusal
from ._errors import BearerError, ConfigurationError, InsufficientClaimsError
from ._login import Login, login_from_settings
from ._metadata_route import MetadataRoute
from ._openapi import (
    ERROR_SCHEMA,
    ERROR_SCHEMA_NAME,
    Requirement,
    anonymous_allowed,
    error_responses,
    security_alternatives,
)
from ._request import asgi_request, wants_request
from ._token import AccessToken, RequiredScopes
from ._verifier import Verifier, verifier_argument

try:
    from fastapi import FastAPI, HTTPException
    from fastapi import routing as fastapi_routing
    from fastapi.dependencies.models import Dependant
    from fastapi.openapi.models import HTTPBearer
    from fastapi.requests import HTTPConnection
    from fastapi.routing import APIRoute
    from fastapi.security import SecurityScopes
    from fastapi.security.base import SecurityBase
    from starlette.responses import Response

    from .starlette import error_response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "bearerguard.fastapi needs FastAPI: pip install 'bearerguard[fastapi]'"
    ) from exc

__all__ = ["AnyOfBearerAuth", "BearerAuth", "BearerHTTPException", "OptionalBearerAuth", "install"]


class BearerHTTPException(HTTPException):
    """A refused request: the :class:`BearerError` (``.error``) as a FastAPI ``HTTPException``."""

    def __init__(self, error: BearerError) -> None:
        super().__init__(error.status_code, error.to_json(), error.headers)
        self.error = error


def install(app: FastAPI) -> None:
    """Render refusals as the exact RFC 6750 body, and document them in the OpenAPI document.

    A refusal answers ``{"error": ..., "error_description": ...}``; a
    ``BearerError`` raised in an endpoint (``token.require_scopes(...)``) gets
    its answer too, instead of a 500. Each protected operation of the OpenAPI
    document then lists its 400, 401, 403 and 503 answers (the body's schema,
    the ``WWW-Authenticate`` and ``Retry-After`` headers) and its security as
    OpenAPI means it: alternatives for ``auth.any_of``, the anonymous ``{}``
    for ``auth.optional``, and the login scheme of a :class:`BearerAuth`
    configured with one beside its bearer scheme.

    A verifier with a ``resource`` gets its RFC 9728 metadata document served at
    the path of its ``resource_metadata_url`` (the whole request path, ``root_path``
    included): ``GET``/``HEAD``, cacheable and readable by any origin, a CORS
    preflight answered, other methods 405. Its ``scopes_supported`` (unless
    configured) are the scopes of every route's ``Security(auth, scopes=...)``,
    read when the app answers its first request.

    Example::

        app = FastAPI()
        install(app)
    """

    async def answer(conn: HTTPConnection, exc: Exception) -> Response:
        # Registered for these two types only: exc is one of them.
        error = exc.error if isinstance(exc, BearerHTTPException) else exc
        return error_response(cast(BearerError, error))

    app.add_exception_handler(BearerHTTPException, answer)
    app.add_exception_handler(BearerError, answer)
    _document_refusals(app)
    app.add_middleware(_ResourceMetadata, owner=app)


class _ResourceMetadata(asgi.MetadataServer):
    """The RFC 9728 documents of the verifiers the app's routes depend on (with a resource),
    each listing the scopes of the routes that use it."""

    def __init__(self, app: asgi.ASGIApp, *, owner: FastAPI) -> None:
        super().__init__(app)
        self._owner = owner  # its routes name the verifiers

    def metadata_routes(self, scope: asgi.Scope) -> tuple[MetadataRoute, ...]:
        verifiers: dict[int, tuple[Verifier, dict[str, None]]] = {}
        for route in _api_routes(self._owner.routes):
            for bearer, scopes in _uses(route.dependant, []):
                _, required = verifiers.setdefault(id(bearer.verifier), (bearer.verifier, {}))
                required.update(dict.fromkeys(scopes))
        routes = (MetadataRoute.of(verifier, tuple(s)) for verifier, s in verifiers.values())
        return tuple(route for route in routes if route is not None)


# The per-request path below is kept lean on purpose: a token the verifier remembers costs
# it a few microseconds, so reading the request and checking scopes must cost less still
# (the load benchmark compares a guarded route with an unguarded one).

_UNSEEN: Final = object()  # the memo's "not verified yet" (None means "no credentials")
_B = TypeVar("_B", bound="_Bearer")


class _Bearer(SecurityBase):
    """What the dependencies of one :class:`BearerAuth` share: a verifier and an OpenAPI scheme.

    Each subclass is the dependency itself: FastAPI awaits ``__call__`` and hands
    it the request and the route's ``Security`` scopes. Whether every scope or
    any one is needed, and whether a request without credentials passes, are class
    settings, so that one coroutine stands between FastAPI and the verifier: each
    level costs every request.
    """

    _any_of: ClassVar[bool] = False
    _optional: ClassVar[bool] = False
    #: the claim rules a token must meet too (:meth:`with_claims`); most have none
    _claims: tuple[ClaimRule, ...] = ()
    #: where the documentation logs in (shared by the siblings of a BearerAuth)
    login: Login | None = None

    def __init__(self, verifier: Verifier, model: HTTPBearer, scheme_name: str) -> None:
        self.verifier = verifier_argument(verifier, "BearerAuth(verifier)")
        self.model = model
        self.scheme_name = scheme_name
        # Router- and route-level Security() are distinct dependencies (FastAPI caches a
        # dependency per call and scopes): verify once per request, keyed by verifier.
        self._memo = f"bearerguard.token.{id(verifier):x}"
        self._dpop = self.verifier.config.dpop  # whether a request may be DPoP-bound
        # Where requests carry a client certificate (RFC 8705), if the verifier reads one.
        self._certificates = self.verifier.config.certificate_source
        self._whole = self.verifier.config.whole_requests

    async def __call__(
        self, conn: HTTPConnection, security_scopes: SecurityScopes, response: Response
    ) -> AccessToken | None:
        """The request's token checked for the ``Security`` scopes; ``None`` without
        credentials on :attr:`BearerAuth.optional`."""
        scope = conn.scope
        try:
            token: AccessToken | None = scope.get(self._memo, _UNSEEN)
            if token is _UNSEEN:
                authorization, proof = _authorization(scope)
                if wants_request(self._dpop, authorization, proof, whole=self._whole):
                    # DPoP, or a token that may be bound to the client certificate: the whole
                    # request (its URL as Starlette builds request.url)
                    whole = asgi_request(scope, self._certificates)
                    token = await self.verifier.aauthenticate_request(whole)
                    nonce = self.verifier.dpop_nonce_for(token)
                    if nonce is not None:  # FastAPI adds the fields of this response to its own
                        response.headers["DPoP-Nonce"] = nonce
                else:
                    token = await self.verifier.aauthenticate(
                        authorization, query=scope.get("query_string", b"").decode("latin-1")
                    )
                scope[self._memo] = token
            if token is not None and security_scopes.scopes:
                required = _required(security_scopes, self._any_of)
                if not required.granted_by(token):
                    raise self._refusal(scope, required, token)
            if token is not None and self._claims:  # after the scopes: their 403 comes first
                failed = first_failing(self._claims, token.claims)
                if failed is not None:
                    raise route_refusal(failed, token)
        except BearerError as exc:
            raise BearerHTTPException(exc) from exc
        if token is None and not self._optional:
            # The challenge names every scope the route's markers check (none: no scope),
            # so that a client logs in once with all it needs.
            own = _required(security_scopes, self._any_of).names if security_scopes.scopes else ()
            needed = _names(_route_scopes(scope, self.verifier), own)
            raise BearerHTTPException(self.verifier.missing_token(needed))
        return token

    def with_claims(self: _B, *rules: ClaimRule) -> _B:
        """This dependency, also requiring ``rules`` (:mod:`bearerguard.claims`) of the token.

        The rules are checked after the ``Security`` scopes; a valid token that fails
        one is refused with 403 ``insufficient_scope`` naming no scope (claims are no
        scope to ask for). The result is documented as this dependency is (the same
        scheme, the same scopes) and verifies the token once per request with it.

        Example::

            analysts = auth.with_claims(claims.includes("roles", "analyst"))
            Annotated[AccessToken, Security(analysts, scopes=["read:reports"])]
        """
        checked = check_rules(rules, "with_claims(...)")
        if not checked:
            raise ConfigurationError(
                "with_claims() needs at least one claim rule: e.g. "
                "auth.with_claims(claims.includes('roles', 'admin')).",
                setting="claims",
            )
        sibling = copy.copy(self)  # the same verifier, scheme and login: one OpenAPI scheme
        sibling._claims = (*self._claims, *checked)
        return sibling

    def _refusal(
        self, scope: MutableMapping[str, Any], required: RequiredScopes, token: AccessToken
    ) -> BearerError:
        """The 403 for a token this marker refuses: an all-of marker names every scope the
        route's markers check (a router's and the route's alike), so a client steps up
        once; an any-of marker names its alternatives."""
        if self._any_of:
            return required.refusal(token)
        route = _route_scopes(scope, self.verifier)
        if set(route) <= set(required.names):
            return required.refusal(token)
        return RequiredScopes(_names(route, required.names)).refusal(token)


# FastAPI reads a dependency's parameters from its signature. Before 0.123.7 it resolved
# the string annotations of a callable *instance* without the module's globals, so the
# postponed ones above would not resolve: give it the classes themselves.
_Bearer.__call__.__annotations__.update(
    conn=HTTPConnection, security_scopes=SecurityScopes, response=Response
)


# What each route's markers check, per verifier: the routes are fixed once the app runs.
# Keyed by identities (FastAPI's routes are not hashable), each entry holding a weak
# reference to its route so that a new route at a recycled address is not mistaken for it.
_ROUTE_SCOPES: dict[tuple[int, int], tuple[weakref.ref[Any], tuple[str, ...]]] = {}
_MAX_ROUTES = 1024


def _route_scopes(scope: Mapping[str, Any], verifier: Verifier) -> tuple[str, ...]:
    """Every scope the all-of markers of ``verifier`` on the request's route check.

    Read from the dependant of the route FastAPI matched (``scope["route"]``), with
    the scopes each marker is handed, as the OpenAPI document lists them. A refusing
    marker adds its own (a router's, which FastAPI may keep outside the route's
    dependant). Optional and any-of markers need nothing for sure: left out.
    """
    route = scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return ()
    key = (id(route), id(verifier))
    entry = _ROUTE_SCOPES.get(key)
    if entry is not None and entry[0]() is route:
        return entry[1]
    found = tuple(
        dict.fromkeys(
            name
            for bearer, scopes in _uses(dependant, [])
            if bearer.verifier is verifier and not (bearer._any_of or bearer._optional)
            for name in scopes
        )
    )
    if len(_ROUTE_SCOPES) >= _MAX_ROUTES:
        _ROUTE_SCOPES.clear()
    _ROUTE_SCOPES[key] = (weakref.ref(route), found)
    return found


def _names(first: tuple[str, ...], then: tuple[str, ...]) -> tuple[str, ...]:
    """``first``, then the names of ``then`` not in it."""
    return tuple(dict.fromkeys((*first, *then)))


def _authorization(scope: MutableMapping[str, Any]) -> tuple[str | list[str] | None, bool]:
    """The ``Authorization`` field (its value, ``None`` when absent, every value when
    repeated) and whether a ``DPoP`` field is present.

    Read from the raw ASGI headers rather than ``conn.headers``: a ``Headers`` view and
    a decoded list per request cost more than this loop, which decodes only the field
    we need. Names are compared as sent, as ``Headers.getlist`` does (ASGI servers send
    them in lower case). A repeated field is handed over whole: the verifier refuses
    it (400), as for every adapter.
    """
    found: str | list[str] | None = None
    proof = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            field = value.decode("latin-1")
            if found is None:
                found = field
            elif isinstance(found, str):
                found = [found, field]
            else:
                found.append(field)
        elif name == b"dpop":
            proof = True
    return found, proof


# The requirements of the Security scope lists seen, by all-of/any-of and scope string.
_REQUIRED: tuple[dict[str, RequiredScopes], dict[str, RequiredScopes]] = ({}, {})
_MAX_REQUIRED = 256


def _required(security_scopes: SecurityScopes, any_of: bool) -> RequiredScopes:
    """The requirement of a ``Security`` scope list (``ConfigurationError`` if invalid).

    A route's scopes are fixed when the app is built, yet FastAPI hands them over in
    new objects on every request: this memo turns the per-request validation into one
    lookup of the space-separated ``scope_str``. A valid list (names without spaces)
    is the only list of its length with that string, so a hit for an invalid list is
    impossible; an invalid one is never remembered and fails every request, as
    ``require_scopes`` does. Bounded, should a caller build scope lists of its own.
    """
    memo = _REQUIRED[any_of]
    needed = memo.get(security_scopes.scope_str)
    if needed is not None and len(needed.names) == len(security_scopes.scopes):
        return needed
    needed = RequiredScopes(tuple(security_scopes.scopes), any_of=any_of)
    if len(memo) >= _MAX_REQUIRED:
        memo.clear()
    memo[security_scopes.scope_str] = needed
    return needed


# --- the OpenAPI document ------------------------------------------------------------------


def _document_refusals(app: FastAPI) -> None:
    """Complete each document FastAPI builds (see :func:`install`), once per build."""
    build = app.openapi
    completed: list[dict[str, Any]] = []  # the last document completed, if any

    def openapi() -> dict[str, Any]:
        document = build()
        if completed and completed[0] is document:
            return document  # FastAPI's cached document, already completed
        if _complete(document, app.routes):
            completed[:] = [document]
        else:
            app.openapi_schema = None  # a login's endpoints are unknown yet: build anew next time
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(document: dict[str, Any], routes: list[Any]) -> bool:
    """Add the refusals and the security alternatives; ``False`` if a login is missing."""
    operations: list[tuple[dict[str, Any], list[tuple[_Bearer, Requirement]]]] = []
    needed: dict[str, dict[str, None]] = {}  # login scheme name -> the scopes asked for
    for route in _api_routes(routes):
        if not route.include_in_schema:
            continue
        uses = [
            (bearer, Requirement(tuple(dict.fromkeys(scopes)), bearer._any_of, bearer._optional))
            for bearer, scopes in _uses(route.dependant, [])
        ]
        item = document.get("paths", {}).get(route.path_format)
        if not uses or item is None:
            continue
        for bearer, requirement in uses:
            if bearer.login is not None:
                needed.setdefault(bearer.login.scheme_name, {}).update(
                    dict.fromkeys(requirement.scopes)
                )
        operations += [
            (item[method.lower()], uses) for method in route.methods or () if method.lower() in item
        ]
    if not operations:
        return True
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    logins = _login_schemes(operations, needed)
    schemes = components.setdefault("securitySchemes", {})
    components["securitySchemes"] = {**{n: s for n, s in logins.items() if s}, **schemes}
    for operation, uses in operations:
        _complete_operation(operation, uses, logins)
    return all(logins.values())


def _login_schemes(
    operations: list[tuple[dict[str, Any], list[tuple[_Bearer, Requirement]]]],
    needed: dict[str, dict[str, None]],
) -> dict[str, dict[str, Any] | None]:
    """Each login's OAuth2 scheme by name (``None``: its endpoints are unknown for now)."""
    logins: dict[str, dict[str, Any] | None] = {}
    for _, uses in operations:
        for bearer, _ in uses:
            login = bearer.login
            if login is not None and login.scheme_name not in logins:
                logins[login.scheme_name] = login.security_scheme(needed[login.scheme_name])
    return logins


def _complete_operation(
    operation: dict[str, Any],
    uses: list[tuple[_Bearer, Requirement]],
    logins: Mapping[str, dict[str, Any] | None],
) -> None:
    requirements = [requirement for _, requirement in uses]
    alternatives = security_alternatives(requirements)
    names = {bearer.scheme_name for bearer, _ in uses}
    login_names = [
        bearer.login.scheme_name
        for bearer, _ in uses
        if bearer.login is not None and logins.get(bearer.login.scheme_name)
    ]
    # One scheme per alternative: the login first (Swagger UI's Authorize), then the
    # bearer box; each accepts the same token.
    security = [
        {name: list(scopes)}
        for name in [*dict.fromkeys(login_names), *sorted(names)]
        for scopes in alternatives
    ]
    if anonymous_allowed(requirements):
        security.append({})
    others = [entry for entry in operation.get("security", []) if not names & entry.keys()]
    operation["security"] = others + security
    realm = uses[0][0].verifier.config.realm
    refusals = error_responses(
        alternatives, realm=realm, schema_ref=f"#/components/schemas/{ERROR_SCHEMA_NAME}"
    )
    if any(bearer._claims for bearer, _ in uses):
        _document_claims(refusals["403"], realm)
    responses = operation.setdefault("responses", {})
    for status, response in refusals.items():
        responses.setdefault(status, response)


def _document_claims(forbidden: dict[str, Any], realm: str) -> None:
    """The 403 of an operation with claim rules: the claims' refusal beside the scopes'."""
    forbidden["description"] += (
        " Or the claims of the token fail a claim rule of the operation: the challenge then "
        "names no scope."
    )
    content = forbidden["content"]["application/json"]
    content["examples"] = {
        "insufficient scope": {"value": content.pop("example")},
        "claims refused": {"value": InsufficientClaimsError(realm=realm).to_json()},
    }


def _api_routes(routes: list[Any]) -> Iterator[Any]:
    """The API routes as the OpenAPI document sees them, included routers' too.

    FastAPI 0.16x keeps an included router whole and documents each of its
    routes in context (prefix, dependencies): ``iter_route_contexts`` yields
    them with the dependant of that context. Earlier releases copied the
    routes into the app, so the list holds them as they are.
    """
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    for route in routes if contexts is None else contexts(routes):
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def _uses(dependant: Dependant, inherited: list[str]) -> Iterator[tuple[_Bearer, list[str]]]:
    """Every bearerguard dependency below ``dependant``, with the scopes it is handed.

    The scopes add up along the chain of ``Security`` markers, as FastAPI's
    ``SecurityScopes`` do at run time.
    """
    for sub in dependant.dependencies:
        if hasattr(sub, "own_oauth_scopes"):
            scopes = [*inherited, *(sub.own_oauth_scopes or [])]
        else:  # older FastAPI: the list is accumulated already
            scopes = list(getattr(sub, "security_scopes", None) or [])
        if isinstance(sub.call, _Bearer):
            yield sub.call, scopes
        yield from _uses(sub, scopes)


class OptionalBearerAuth(_Bearer):
    """``auth.optional``: the token (checked for any scopes) or ``None`` without credentials."""

    _optional = True


class AnyOfBearerAuth(_Bearer):
    """``auth.any_of``: a valid token carrying at least one of the ``Security`` scopes."""

    _any_of = True


class BearerAuth(_Bearer):
    """The dependency: a valid token carrying every ``Security`` scope (all-of).

    Every operation that depends on it is documented under an HTTP bearer scheme
    (``bearerFormat: JWT``): Swagger UI's box where a token is pasted. To let
    Swagger UI's *Authorize* button log in (authorization code with PKCE), give
    the provider's endpoints: ``discover=True`` reads them from the provider's
    metadata document (OpenID Connect discovery or RFC 8414) the first time the
    OpenAPI document is built, through the verifier's own fetch; or name them
    with ``authorization_url``/``token_url`` (:meth:`auth0` derives them from an
    Auth0 issuer). The login then appears, beside the token box, as an OAuth2
    scheme (documented by :func:`install`), and :attr:`swagger_ui_init_oauth`
    is Swagger UI's client configuration: ``client_id`` (a public client of the
    provider, e.g. an Auth0 single-page application), PKCE, and the API's
    audience sent as ``audience`` (Auth0) or ``resource`` (RFC 8707). ``scopes``
    maps the scopes offered in the dialog to descriptions (default: every scope
    the operations need).

    Example::

        auth = BearerAuth(verifier, discover=True, client_id="<a SPA client id>",
                          scopes={"read:contacts": "Read your contacts"})
        app = FastAPI(swagger_ui_init_oauth=auth.swagger_ui_init_oauth)
        install(app)

        Annotated[AccessToken, Security(auth, scopes=["read:contacts"])]
        Annotated[AccessToken | None, Security(auth.optional)]  # None without credentials
        Annotated[AccessToken, Security(auth.any_of, scopes=["read:contacts", "admin"])]
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        scheme_name: str = "BearerAuth",
        description: str | None = None,
        authorization_url: str | None = None,
        token_url: str | None = None,
        scopes: Mapping[str, str] | None = None,
        discover: bool = False,
        client_id: str | None = None,
        audience_parameter: str | None = "audience",
    ) -> None:
        verifier = verifier_argument(verifier, "BearerAuth(verifier)")
        _check_name(scheme_name, "scheme_name")
        model = HTTPBearer(bearerFormat="JWT", description=description)
        super().__init__(verifier, model, scheme_name)
        self.login = login_from_settings(
            verifier,
            scheme_name=_login_scheme_name(scheme_name),
            authorization_url=authorization_url,
            token_url=token_url,
            scopes=scopes,
            discover=discover,
            client_id=client_id,
            audience_parameter=audience_parameter,
        )
        # Siblings: same verifier, same scheme names, so the document has each scheme once.
        self.optional = OptionalBearerAuth(verifier, model, scheme_name)
        self.any_of = AnyOfBearerAuth(verifier, model, scheme_name)
        self.optional.login = self.any_of.login = self.login

    def with_claims(self, *rules: ClaimRule) -> BearerAuth:
        """This dependency requiring ``rules`` too (see :meth:`_Bearer.with_claims`); its
        ``optional`` and ``any_of`` siblings require them as well.

        Example::

            analysts = auth.with_claims(claims.includes("roles", "analyst"))
            Security(analysts.any_of, scopes=["read:reports", "admin"])
        """
        sibling = super().with_claims(*rules)
        sibling.optional = self.optional.with_claims(*rules)
        sibling.any_of = self.any_of.with_claims(*rules)
        return sibling

    @property
    def swagger_ui_init_oauth(self) -> dict[str, Any]:
        """Swagger UI's OAuth client settings, for ``FastAPI(swagger_ui_init_oauth=...)``.

        PKCE is always on (public clients must use it); the client id and the
        audience parameter are there when known.

        Example::

            auth.swagger_ui_init_oauth
            # {'usePkceWithAuthorizationCodeGrant': True, 'clientId': 'spa-client',
            #  'additionalQueryStringParams': {'audience': 'https://api.example.com'}}
        """
        if self.login is None:
            return {"usePkceWithAuthorizationCodeGrant": True}
        return self.login.swagger_ui_init_oauth()

    @classmethod
    def auth0(
        cls,
        verifier: Verifier,
        *,
        scopes: Mapping[str, str] | None = None,
        issuer: str | None = None,
        client_id: str | None = None,
    ) -> BearerAuth:
        """A login with Auth0's ``{issuer}authorize`` and ``{issuer}oauth/token``.

        Example::

            auth = BearerAuth.auth0(verifier, client_id="<a SPA client id>",
                                    scopes={"read:contacts": "Read your contacts"})
        """
        verifier = verifier_argument(verifier, "BearerAuth.auth0(verifier)")
        if issuer is None and not verifier.config.issuers:
            raise ConfigurationError(
                "BearerAuth.auth0() needs the tenant's URL: this verifier's issuer= is a "
                "function and names none. Pass issuer='https://your-tenant.auth0.com/'.",
                setting="issuer",
            )
        base = (issuer or verifier.config.issuers[0]).rstrip("/")
        return cls(
            verifier,
            authorization_url=f"{base}/authorize",
            token_url=f"{base}/oauth/token",
            scopes=scopes,
            client_id=client_id,
        )


def _login_scheme_name(scheme_name: str) -> str:
    return "OAuth2" if scheme_name == "BearerAuth" else f"{scheme_name}OAuth2"


def _check_name(value: object, setting: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{setting} must be a non-empty string, got {value!r}.", setting=setting
        )
