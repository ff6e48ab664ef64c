"""Protect any WSGI application (PEP 3333) with bearer tokens: Flask, Django, Bottle, Falcon...

Example::

    from flask import Flask, request

    from bearerguard import Verifier
    from bearerguard.wsgi import BearerMiddleware, Rule, access_token

    app = Flask(__name__)


    @app.get("/contacts")
    def contacts():
        token = access_token(request.environ)  # the verified AccessToken
        return {"sub": token.subject}


    verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
    app.wsgi_app = BearerMiddleware(
        app.wsgi_app,
        verifier=verifier,
        rules=[
            Rule("/health", public=True),
            Rule("/contacts", "read:contacts", methods=["GET"]),
        ],
    )

Every request is checked against the first matching rule; a path no rule
matches needs a valid token. Rules see ``PATH_INFO``, the path below the
application's mount point (``SCRIPT_NAME``). CORS preflights (``OPTIONS`` with
``Access-Control-Request-Method``) pass unchecked, since browsers never send
credentials on them. Behind Apache mod_wsgi, set ``WSGIPassAuthorization On``:
it withholds the ``Authorization`` header from applications by default.

A request that uses DPoP (RFC 9449) is verified whole, with its proof: its URL is
rebuilt from the environ as PEP 3333 says (``wsgi.url_scheme``, the ``Host`` field,
``SCRIPT_NAME`` and ``PATH_INFO``), so a proxy in front must pass those on (or
rewrite them, as werkzeug's ``ProxyFix`` does), else set the verifier's
``public_url``.

With a verifier given a ``resource``, the middleware also answers its RFC 9728
metadata document (``GET``, ``HEAD``, a CORS preflight; other methods get 405) at
the path of ``verifier.resource_metadata_url``, compared with the whole request
path (``SCRIPT_NAME`` + ``PATH_INFO``), before any rule; its ``scopes_supported``
are the configured ones, else every scope the rules require.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ._errors import BearerError
from ._metadata_route import wsgi_path
from ._middleware import ACCESS_TOKEN_KEY, Guarded, refusal, token_in
from ._request import wants_request, wsgi_request
from ._rules import Rule
from ._token import AccessToken

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment  # noqa: F401

__all__ = ["ACCESS_TOKEN_KEY", "BearerMiddleware", "Rule", "access_token"]


def access_token(environ: Mapping[str, Any]) -> AccessToken | None:
    """The token :class:`BearerMiddleware` verified for this request, else ``None``.

    Example::

        token = access_token(environ)          # or flask.request.environ
        subject = token.subject if token else None
    """
    return token_in(environ)


class BearerMiddleware(Guarded["WSGIApplication"]):  # a string: typeshed exists for mypy only
    """WSGI middleware that verifies bearer tokens against a :class:`Rule` list.

    The first matching rule wins; unmatched paths need any valid token unless
    ``public_by_default=True``. The token (or ``None``) is stored in the
    environ under :data:`ACCESS_TOKEN_KEY`; read it with :func:`access_token`.
    Refusals carry the error's own status, ``WWW-Authenticate`` challenge and
    JSON body.

    Example::

        application = BearerMiddleware(
            application, verifier=verifier, rules=[Rule("/health", public=True)]
        )
    """

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        preflight = "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        method = environ.get("REQUEST_METHOD", "GET")
        metadata = self._metadata
        if metadata is not None and metadata.serves(wsgi_path(environ)):
            # Public by nature: a client without a token learns here where to get one.
            status, headers, body = metadata.answer(method, preflight=preflight)
            start_response(_status_line(status), headers)
            return [body]
        rule = self._guard.rule_for(method, _route_path(environ), preflight=preflight)
        token = None
        if rule is not None:
            # Servers fold a repeated Authorization field into one "a, b" value, which
            # is not a single b64token and so is refused (400) like the repeat itself.
            authorization = environ.get("HTTP_AUTHORIZATION")
            query = environ.get("QUERY_STRING", "")
            try:
                # DPoP, or a token that may be bound to the client certificate: the whole request
                if wants_request(
                    self._dpop,
                    authorization,
                    "HTTP_DPOP" in environ,
                    whole=self._whole,
                ):
                    whole = wsgi_request(environ, self._certificates)
                    sent = self.verifier.authenticate_request(whole)
                    nonce = self.verifier.dpop_nonce_for(sent)
                    if nonce is not None:
                        start_response = _with_header(start_response, "DPoP-Nonce", nonce)
                else:
                    sent = self.verifier.authenticate(authorization, query=query)
                token = self._guard.admit(rule, sent)
            except BearerError as exc:
                status, headers, body = refusal(exc)
                start_response(_status_line(status), headers)
                return [body]
        environ[ACCESS_TOKEN_KEY] = token
        return self.app(environ, start_response)


def _with_header(start_response: StartResponse, name: str, value: str) -> StartResponse:
    """``start_response``, adding one field to the app's own answer."""

    def starting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, (name, value)], exc_info)

    return starting


def _route_path(environ: WSGIEnvironment) -> str:
    path: str = environ.get("PATH_INFO") or "/"
    if path.isascii():
        return path
    # PEP 3333 hands the path's bytes over as latin-1; routers decode them as UTF-8.
    try:
        return path.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a server that decoded it already
        return path


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:  # a status the standard library does not name: the phrase is optional
        return f"{status} "
