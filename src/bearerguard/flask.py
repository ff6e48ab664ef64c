"""Flask adapter: the ``BearerGuard`` extension, ``@requires``, ``protect`` and ``current_token``.

Example::

    from flask import Flask
    from bearerguard.flask import BearerGuard, current_token, requires

    app = Flask(__name__)
    app.config["BEARERGUARD_ISSUER"] = "tenant.auth0.com"
    app.config["BEARERGUARD_RESOURCE"] = "https://api.example.com"   # the audience too
    BearerGuard(app)

    @app.get("/api/contacts")
    @requires("read:contacts")
    def contacts():
        return {"owner": current_token.subject}

``requires`` and ``protect`` use the verifier of ``current_app``, so blueprints
and app factories never need the extension object. A request that uses DPoP
(RFC 9449) is verified with its proof against ``request.url``, which honours
werkzeug's ``ProxyFix`` behind a proxy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from inspect import iscoroutinefunction
from typing import Any, ParamSpec, TypeVar, cast

try:
    from flask import Blueprint, Flask, Request, Response, after_this_request, current_app, request
    from werkzeug.local import LocalProxy
    from werkzeug.urls import iri_to_uri
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError("bearerguard.flask needs Flask: pip install 'bearerguard[flask]'") from exc

from ._claim_rules import ClaimRule, check_rules, requirement
from ._config import settings_from_mapping
from ._errors import BearerError, ConfigurationError
from ._metadata_route import SCOPES_MARK, MetadataRoute, marked_scopes, wsgi_path
from ._request import wants_request, wsgi_request
from ._settings import check_names, named_errors
from ._token import AccessToken
from ._verifier import Verifier, verifier_argument

__all__ = ["BearerGuard", "current_token", "error_response", "protect", "requires"]

P = ParamSpec("P")
R = TypeVar("R")
_EXTENSION = "bearerguard"
_UNSET = (
    "BearerGuard needs app.config['BEARERGUARD_ISSUER'] (the 'iss' of your tokens, e.g. "
    "'tenant.auth0.com') and app.config['BEARERGUARD_AUDIENCE'] (your API's identifier) or "
    "app.config['BEARERGUARD_RESOURCE'] (your API's URL, RFC 9728), comma-separated for "
    "several; missing: {}. Or pass BearerGuard(app, verifier=Verifier(...))."
)
# The request's verified token (or None: no credentials) is kept on Flask's request
# object, which lives exactly as long as the request: flask.g may outlive it when a test
# keeps an app context pushed. An attribute still unset means "not verified yet".
_TOKEN = "_bearerguard_token"
_UNVERIFIED = object()
# The proxies' own resolvers (werkzeug's documented _get_current_object): one
# context-variable lookup each, where every attribute read through a proxy costs one.
_current_request = cast("LocalProxy[Request]", request)._get_current_object
_current_app = cast("LocalProxy[Flask]", current_app)._get_current_object


class BearerGuard:
    """The Flask extension: one :class:`~bearerguard.Verifier` per app, RFC 6750 error answers.

    Without ``verifier``, each app gets one built from its ``BEARERGUARD_*`` config
    (the names of :meth:`Verifier.from_env`; ISSUER and AUDIENCE required), kept in
    ``app.extensions["bearerguard"]``: one extension object serves any number of
    apps. Your own ``@app.errorhandler(BearerError)`` wins over :func:`error_response`.

    Opaque tokens are introspected (RFC 7662) with ``app.config["BEARERGUARD_INTROSPECTION"]``,
    an :class:`~bearerguard.Introspection` or a dict of its fields, or with one key per
    field as in the environment (``BEARERGUARD_INTROSPECTION_CLIENT_ID``,
    ``BEARERGUARD_INTROSPECTION_CLIENT_SECRET``, ...); not both.

    Example::

        guard = BearerGuard()

        def create_app():
            app = Flask(__name__)
            app.config.from_prefixed_env()   # FLASK_BEARERGUARD_ISSUER=... and so on
            app.config["BEARERGUARD_INTROSPECTION"] = {   # opaque tokens, if any
                "client_id": "api",
                "client_secret": os.environ["INTROSPECTION_SECRET"],
            }
            guard.init_app(app)
            return app
    """

    def __init__(self, app: Flask | None = None, *, verifier: Verifier | None = None) -> None:
        self._verifier = verifier
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Give ``app`` its verifier and error handler; raise ConfigurationError if unset."""
        verifier = self._verifier
        if verifier is None:
            verifier = _verifier_from_config(app.config)
        else:
            verifier = verifier_argument(verifier, "BearerGuard(verifier=...)")
        app.extensions[_EXTENSION] = verifier
        # Whichever is registered first, the app's own handler for BearerError is kept.
        if BearerError not in app.error_handler_spec[None][None]:
            app.register_error_handler(BearerError, error_response)
        if verifier.resource_metadata_url is not None:
            # Before routing's verdict is acted on: the document's path is no route of the app.
            app.before_request(_metadata_server(app, verifier))


def _metadata_server(app: Flask, verifier: Verifier) -> Callable[[], Response | None]:
    """A ``before_request`` hook answering the RFC 9728 document at its path (mount
    included: ``SCRIPT_NAME`` + ``PATH_INFO``); ``scopes_supported`` defaults to what the
    app's ``@requires`` views require, read on the first request, once every view exists."""
    routes: list[MetadataRoute] = []

    def serve() -> Response | None:
        req = _current_request()
        if not routes:
            views = app.view_functions.values()  # in the order the routes were added
            scopes = dict.fromkeys(s for view in views for s in marked_scopes(view))
            routes.append(MetadataRoute(verifier, list(scopes)))
        route = routes[0]
        if not route.serves(wsgi_path(req.environ)):
            return None
        preflight = "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in req.environ
        status, headers, body = route.answer(req.method, preflight=preflight)
        if req.method == "HEAD":
            body = route.body  # werkzeug leaves a HEAD answer's body out itself, length kept
        return app.response_class(body, status, headers)

    return serve


def _verifier_from_config(config: Mapping[str, Any]) -> Verifier:
    """The verifier ``app.config``'s ``BEARERGUARD_*`` keys describe; mistakes named as keys."""
    check_names(config, where="app.config")
    settings = settings_from_mapping(config, label=_config_key)
    missing = [] if settings.get("issuer") is not None else ["BEARERGUARD_ISSUER"]
    if settings.get("audience") is None and settings.get("resource") is None:
        missing.append("BEARERGUARD_RESOURCE (or BEARERGUARD_AUDIENCE)")
    if missing:
        raise ConfigurationError(_UNSET.format(", ".join(missing)))
    return named_errors(lambda: Verifier(**settings), settings, label=_config_key, source=config)


def _config_key(name: str) -> str:
    return f"app.config[{name!r}]"


def error_response(exc: BearerError) -> Response:
    """The RFC 6750 answer to ``exc``: its status, challenge and JSON body, nothing chosen here."""
    return current_app.response_class(
        exc.json_body(), exc.status_code, exc.headers, content_type="application/json"
    )


def requires(
    *scopes: str,
    any_of: bool = False,
    optional: bool = False,
    claims: Sequence[ClaimRule] = (),
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let a view run only for a valid bearer token granting ``scopes``.

    All of ``scopes`` are needed (``any_of=True``: one suffices; none: any valid
    token). With ``optional=True`` a request without a token reaches the view with
    ``current_token`` falsy, while a bad token is still refused. ``claims`` are claim
    rules (:mod:`bearerguard.claims`) the token must meet too, checked after the
    scopes: a valid token that fails one gets 403 without a ``scope``. Works on
    ``async def`` views, which it runs through ``current_app.ensure_sync`` as Flask does.

    Example::

        @app.get("/api/reports")
        @requires("read:reports", "admin", any_of=True)
        def reports():
            return {"sub": current_token.subject}

        @requires("read:reports", claims=[claims.includes("roles", "analyst")])
    """
    check = _check(scopes, any_of=any_of, optional=optional, claims=claims)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        # Flask's own test in ensure_sync, made once here: a plain view is called as is
        # (what ensure_sync would return), an async one still goes through the app's
        # ensure_sync (asgiref, or whatever the app overrides it with) on each call.
        if iscoroutinefunction(view):

            @functools.wraps(view)
            def guarded_async(*args: P.args, **kwargs: P.kwargs) -> R:
                check()
                return cast(R, current_app.ensure_sync(view)(*args, **kwargs))

            setattr(guarded_async, SCOPES_MARK, scopes)
            return guarded_async

        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            check()
            return view(*args, **kwargs)

        setattr(guarded, SCOPES_MARK, scopes)  # for the metadata's scopes_supported
        return guarded

    return decorator


def protect(
    scaffold: Blueprint | Flask,
    *scopes: str,
    any_of: bool = False,
    claims: Sequence[ClaimRule] = (),
) -> None:
    """Require a valid token granting ``scopes`` (and meeting ``claims``) on every route of
    a blueprint (or app).

    Example: ``protect(admin_blueprint, "admin")``.
    """
    scaffold.before_request(_check(scopes, any_of=any_of, optional=False, claims=claims))


def _check(
    scopes: tuple[str, ...], *, any_of: bool, optional: bool, claims: Sequence[ClaimRule]
) -> Callable[[], None]:
    # Checked when the module loads: a bad requirement must fail then, not per request.
    if scopes and callable(scopes[0]):
        raise ConfigurationError(
            "Write @requires() with parentheses, e.g. @requires('read:contacts')."
        )
    rules = check_rules(claims, "requires(claims=...)")
    required = requirement(scopes, any_of=any_of, claims=rules)  # checked here, once
    if optional and scopes:
        raise ConfigurationError("An optional route cannot require scopes: drop one or the other.")
    if optional and rules:
        raise ConfigurationError(
            "An optional route cannot require claims (a request without a token would pass "
            "them by): drop one or the other."
        )

    def check() -> None:
        token = _authenticate(_current_request())
        if token is None:
            if not optional:
                raise _verifier().missing_token(required.names)
        else:
            required.enforce(token)

    return check


def _authenticate(req: Request) -> AccessToken | None:
    # Verified once per request however many guards apply.
    seen = getattr(req, _TOKEN, _UNVERIFIED)
    if seen is not _UNVERIFIED:
        return cast("AccessToken | None", seen)
    # Straight from the WSGI environ, as the WSGI middleware reads them: the values
    # request.headers and request.query_string are built from, without building them.
    environ = req.environ
    verifier = _verifier()
    config = verifier.config
    authorization = environ.get("HTTP_AUTHORIZATION")
    if wants_request(
        config.dpop, authorization, "HTTP_DPOP" in environ, whole=config.whole_requests
    ):
        # DPoP, or a token that may be bound to the client certificate: the whole request,
        # its URL as werkzeug builds it (an IRI, made a URI again).
        whole = wsgi_request(
            environ, config.certificate_source, method=req.method, url=iri_to_uri(req.url)
        )
        token = verifier.authenticate_request(whole)
        nonce = verifier.dpop_nonce_for(token)
        if nonce is not None:
            after_this_request(_adding("DPoP-Nonce", nonce))
    else:
        token = verifier.authenticate(
            authorization,
            # Passed so that a token in ?access_token= is refused (RFC 6750 §2.3), never used.
            query=environ.get("QUERY_STRING", ""),
        )
    setattr(req, _TOKEN, token)
    return token


def _adding(name: str, value: str) -> Callable[[Response], Response]:
    """An ``after_this_request`` callback adding one field to the view's answer."""

    def add(response: Response) -> Response:
        response.headers[name] = value
        return response

    return add


def _current_token() -> AccessToken | None:
    try:
        req = _current_request()
    except RuntimeError:  # outside a request: there is no token
        return None
    token: AccessToken | None = getattr(req, _TOKEN, None)
    return token


def _verifier() -> Verifier:
    verifier = _current_app().extensions.get(_EXTENSION)
    if not isinstance(verifier, Verifier):
        raise RuntimeError("bearerguard is not set up on this app: call BearerGuard(app) first.")
    return verifier


#: The verified :class:`~bearerguard.AccessToken` of the current request, else None.
#: A proxy is never ``None`` itself: test it with ``if current_token:``, not ``is None``.
current_token = cast("AccessToken | None", LocalProxy(_current_token))
