"""Flask adapter: the ``BearerGuard`` extension, ``@requires``, ``protect`` and ``current_token``.

Example::

    from flask import Flask
    from bearerguard.flask import BearerGuard, current_token, requires

    app = Flask(__name__)
    app.config["BEARERGUARD_ISSUER"] = "tenant.auth0.com"
    app.config["BEARERGUARD_AUDIENCE"] = "https://api.example.com"
    BearerGuard(app)

    @app.get("/api/contacts")
    @requires("read:contacts")
    def contacts():
        return {"owner": current_token.subject}

``requires`` and ``protect`` use the verifier of ``current_app``, so blueprints
and app factories never need the extension object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

try:
    from flask import Blueprint, Flask, Response, current_app, g, has_request_context, request
    from werkzeug.local import LocalProxy
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError("bearerguard.flask needs Flask: pip install 'bearerguard[flask]'") from exc

from ._config import settings_from_mapping
from ._errors import BearerError, ConfigurationError, MissingTokenError
from ._token import AccessToken, scope_names
from ._verifier import Verifier

__all__ = ["BearerGuard", "current_token", "error_response", "protect", "requires"]

P = ParamSpec("P")
R = TypeVar("R")
_EXTENSION = "bearerguard"
_SEEN = "_bearerguard_token"  # on flask.g: (the request's WSGI environ, its token or None)
_UNSET = (
    "BearerGuard needs app.config['BEARERGUARD_ISSUER'] (the 'iss' of your tokens, e.g. "
    "'tenant.auth0.com') and app.config['BEARERGUARD_AUDIENCE'] (your API's identifier), "
    "comma-separated for several; missing: {}. Or pass BearerGuard(app, verifier=Verifier(...))."
)


class BearerGuard:
    """The Flask extension: one :class:`~bearerguard.Verifier` per app, RFC 6750 error answers.

    Without ``verifier``, each app gets one built from its ``BEARERGUARD_*`` config
    (the names of :meth:`Verifier.from_env`; ISSUER and AUDIENCE required), kept in
    ``app.extensions["bearerguard"]``: one extension object serves any number of
    apps. Your own ``@app.errorhandler(BearerError)`` wins over :func:`error_response`.

    Example::

        guard = BearerGuard()

        def create_app():
            app = Flask(__name__)
            app.config.from_prefixed_env()   # FLASK_BEARERGUARD_ISSUER=... and so on
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
            settings = settings_from_mapping(app.config)
            missing = [
                f"BEARERGUARD_{n.upper()}" for n in ("issuer", "audience") if not settings.get(n)
            ]
            if missing:
                raise ConfigurationError(_UNSET.format(", ".join(missing)))
            verifier = Verifier(**settings)
        app.extensions[_EXTENSION] = verifier
        # Whichever is registered first, the app's own handler for BearerError is kept.
        if BearerError not in app.error_handler_spec[None][None]:
            app.register_error_handler(BearerError, error_response)


def error_response(exc: BearerError) -> Response:
    """The RFC 6750 answer to ``exc``: its status, challenge and JSON body, nothing chosen here."""
    return current_app.response_class(
        exc.json_body(), exc.status_code, exc.headers, content_type="application/json"
    )


def requires(
    *scopes: str, any_of: bool = False, optional: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let a view run only for a valid bearer token granting ``scopes``.

    All of ``scopes`` are needed (``any_of=True``: one suffices; none: any valid
    token). With ``optional=True`` a request without a token reaches the view with
    ``current_token`` falsy, while a bad token is still refused. Works on
    ``async def`` views, which it runs through ``current_app.ensure_sync`` as Flask does.

    Example::

        @app.get("/api/reports")
        @requires("read:reports", "admin", any_of=True)
        def reports():
            return {"sub": current_token.subject}
    """
    check = _check(scopes, any_of=any_of, optional=optional)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            check()
            return cast(R, current_app.ensure_sync(view)(*args, **kwargs))

        return guarded

    return decorator


def protect(scaffold: Blueprint | Flask, *scopes: str, any_of: bool = False) -> None:
    """Require a valid token granting ``scopes`` on every route of a blueprint (or app).

    Example: ``protect(admin_blueprint, "admin")``.
    """
    scaffold.before_request(_check(scopes, any_of=any_of, optional=False))


def _check(scopes: tuple[str, ...], *, any_of: bool, optional: bool) -> Callable[[], None]:
    # Checked when the module loads: a bad requirement must fail then, not per request.
    if scopes and callable(scopes[0]):
        raise TypeError("Write @requires() with parentheses, e.g. @requires('read:contacts').")
    scope_names(scopes)
    if optional and scopes:
        raise ConfigurationError("An optional route cannot require scopes: drop one or the other.")

    def check() -> None:
        token = _authenticate()
        if token is not None:
            token.require_scopes(*scopes, any_of=any_of)
        elif not optional:
            raise MissingTokenError(realm=_verifier().config.realm)

    return check


def _authenticate() -> AccessToken | None:
    # Verified once per request however many guards apply; _seen() says whether it was.
    seen = _seen()
    if seen is not None:
        return seen[1]
    token = _verifier().authenticate(
        request.headers.get("Authorization"),
        # Passed so that a token in ?access_token= is refused (RFC 6750 §2.3), never used.
        query=request.query_string.decode("latin-1"),
    )
    setattr(g, _SEEN, (request.environ, token))
    return token


def _seen() -> tuple[object, AccessToken | None] | None:
    if not has_request_context():
        return None
    # The entry names its request: g outlives it when a test keeps an app context pushed.
    seen: tuple[object, AccessToken | None] | None = g.get(_SEEN)
    return seen if seen is not None and seen[0] is request.environ else None


def _current_token() -> AccessToken | None:
    seen = _seen()
    return None if seen is None else seen[1]


def _verifier() -> Verifier:
    verifier = current_app.extensions.get(_EXTENSION)
    if not isinstance(verifier, Verifier):
        raise RuntimeError("bearerguard is not set up on this app: call BearerGuard(app) first.")
    return verifier


#: The verified :class:`~bearerguard.AccessToken` of the current request, else None.
#: A proxy is never ``None`` itself: test it with ``if current_token:``, not ``is None``.
current_token = cast("AccessToken | None", LocalProxy(_current_token))
