"""fastmcp servers: an auth provider answered by a bearerguard verifier.

fastmcp's own auth interface asks an ``AuthProvider`` about each ``Authorization:
Bearer`` token, serves the provider's routes and wraps the MCP endpoint in its
``RequireAuthMiddleware``. :class:`BearerguardProvider` is such a provider (a
fastmcp ``TokenVerifier``): bearerguard checks each token (signature, issuer,
audience, lifetime, strict claim types, one key cache; opaque tokens by the
verifier's introspection, cached and asked once per token, encrypted ones with
its decryption keys), fastmcp's
``get_access_token()`` returns it mapped, and the RFC 9728 metadata document is
derived from the verifier and served where fastmcp's challenges point.

Example::

    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token

    from bearerguard import Verifier
    from bearerguard.mcp.fastmcp import BearerguardProvider

    # BEARERGUARD_ISSUER=https://tenant.auth0.com/
    # BEARERGUARD_RESOURCE=https://mcp.example.com/mcp  (the endpoint's URL; the tokens' aud)
    server = FastMCP(
        "contacts",
        auth=BearerguardProvider(Verifier.from_env(), required_scopes=["mcp:tools"]),
    )

    @server.tool
    def whoami() -> str:
        token = get_access_token()   # fastmcp's AccessToken, mapped by bearerguard
        return f"{token.subject} via {token.client_id}"

    app = server.http_app()   # uvicorn module:app; the endpoint at /mcp

fastmcp's path takes ``Bearer`` tokens only and answers with its own challenges.
For DPoP, RFC 6750's exact challenges, per-tool scopes and 503 on every outage,
build the server without ``auth=`` and guard its app with
:func:`bearerguard.mcp.protect` instead: ``protect(server.http_app(), verifier=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from bearerguard._errors import BearerError, ConfigurationError
from bearerguard._metadata_route import MetadataRoute
from bearerguard._middleware import refusal
from bearerguard._token import AccessToken as VerifiedToken
from bearerguard._verifier import Verifier, verifier_argument
from bearerguard.asgi import Receive, Scope, Send, answer_metadata

from ._protect import mcp_resource, scope_list
from ._sdk import AuthContextMiddleware
from ._tokens import sdk_access_token, verified_or_none

try:
    from fastmcp.server.auth import AccessToken, TokenVerificationError, TokenVerifier
    from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend
    from pydantic import AnyHttpUrl
    from starlette.authentication import AuthCredentials, AuthenticationError, BaseUser
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import Response
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "bearerguard.mcp.fastmcp needs fastmcp 4.2 or later: pip install 'bearerguard[fastmcp]'"
    ) from exc

__all__ = ["BearerguardProvider"]

# RFC 9728's DPoP members: fastmcp's endpoint takes Bearer tokens only, so its document
# must not invite clients to bind their tokens to a key (a bound token would then be
# refused on every request).
_DPOP_MEMBERS = ("dpop_signing_alg_values_supported", "dpop_bound_access_tokens_required")


class BearerguardProvider(TokenVerifier):
    """fastmcp's auth provider, answering with a bearerguard :class:`Verifier`.

    ``verifier`` needs a ``resource``: the MCP endpoint's URL, also its tokens'
    audience (RFC 8707), which fastmcp names in its metadata URL. It must end with
    the path fastmcp serves the endpoint at (``/mcp`` by default): the server's
    base URL is what comes before it. ``required_scopes`` are the scopes every
    request needs; a valid token without them gets fastmcp's 403
    ``insufficient_scope``.

    ``verify_token`` runs the verifier's async path (``averify``) and returns
    fastmcp's ``AccessToken``, mapped as :func:`~bearerguard.mcp.sdk_access_token`
    maps it (``client_id`` from ``client_id``/``azp``, the granted scopes sorted,
    ``resource``, ``subject``, every claim in ``claims``), which tools read with
    ``fastmcp.server.dependencies.get_access_token()``. A refused token is
    ``None`` (fastmcp answers 401) and its reason is logged on the ``bearerguard``
    logger at INFO. A provider outage (its keys cannot be had, or its
    introspection endpoint gives no usable answer) raises fastmcp's
    ``TokenVerificationError`` ("cannot tell now"), which this provider's
    middleware answers with 503 and ``Retry-After``, so that clients do not
    authorize again for nothing.

    The routes it adds serve the verifier's RFC 9728 document (its
    ``scopes_supported`` the configured ones, else ``required_scopes``; no DPoP
    members, as this path takes no DPoP) at the path of
    ``verifier.resource_metadata_url``, so fastmcp's challenges name it in
    ``resource_metadata``. A verifier with ``dpop="required"`` is refused: fastmcp
    passes only ``Bearer`` tokens on.

    Example::

        provider = BearerguardProvider(verifier, required_scopes=["mcp:tools"])
        app = FastMCP("contacts", auth=provider).http_app()
    """

    def __init__(
        self, verifier: Verifier, *, required_scopes: str | Iterable[str] | None = None
    ) -> None:
        verifier = verifier_argument(verifier, "BearerguardProvider(verifier)")
        resource = mcp_resource(verifier, "BearerguardProvider")
        if verifier.config.dpop == "required":
            # fastmcp hands over Bearer tokens only, and averify() judges a token alone:
            # with DPoP required, this provider would let through what the setting forbids.
            raise ConfigurationError(
                "BearerguardProvider cannot honour dpop='required': fastmcp's auth accepts only "
                "Bearer tokens. Use dpop='allowed' or dpop='off' with this provider, or build "
                "the server without auth= and guard server.http_app() with "
                "bearerguard.mcp.protect(), which takes DPoP.",
                setting="dpop",
            )
        listed = () if required_scopes is None else required_scopes
        needed = scope_list(listed, "required_scopes", "required_scopes=['mcp:tools']")
        super().__init__(required_scopes=list(needed))
        self.verifier = verifier
        self._resource = resource
        self._metadata = _bearer_only_metadata(verifier, needed)

    @property
    def scopes_supported(self) -> list[str]:
        """The scopes the metadata lists: the verifier's ``scopes_supported``, else
        ``required_scopes``.

        Example::

            BearerguardProvider(verifier, required_scopes=["mcp:tools"]).scopes_supported
            # ['mcp:tools']
        """
        return list(self.verifier.config.scopes_supported or self.required_scopes)

    async def verify_token(self, token: str) -> AccessToken | None:
        """fastmcp's ``AccessToken`` for a valid ``token``; ``None`` for a refused one.

        Raises ``TokenVerificationError`` when the issuer's keys cannot be fetched or
        its introspection endpoint gives no usable answer.

        Example::

            access = await BearerguardProvider(verifier).verify_token(raw)
            access.subject, access.scopes, access.claims["iss"]
            # ('auth0|123', ['mcp:tools'], 'https://tenant.auth0.com/')
        """
        try:
            verified = await verified_or_none(self.verifier, token)
        except BearerError as outage:  # fastmcp's way of saying "try again later"
            raise TokenVerificationError(outage.reason) from outage
        if verified is None:
            return None
        return self.access_token(verified)

    def access_token(self, token: VerifiedToken) -> AccessToken:
        """fastmcp's ``AccessToken`` for a token this provider's verifier verified.

        Example::

            provider.access_token(verifier.verify(raw)).resource   # 'https://mcp.example.com/mcp'
        """
        return AccessToken(**sdk_access_token(self.verifier, token).model_dump())

    def set_mcp_path(self, mcp_path: str | None) -> None:
        """Take the server's base URL from the verifier's ``resource``, which must end with
        ``mcp_path``: fastmcp derives the resource it advertises from the two.

        Called by fastmcp when it builds the app (``get_routes``); raises
        :class:`ConfigurationError` when the resource names another endpoint.
        """
        self.resource_base_url = AnyHttpUrl(_base_url(self._resource, mcp_path))
        super().set_mcp_path(mcp_path)

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        """The RFC 9728 metadata route, at the path of ``verifier.resource_metadata_url``.

        Example::

            [route.path for route in provider.get_routes("/mcp")]
            # ['/.well-known/oauth-protected-resource/mcp']
        """
        self.set_mcp_path(mcp_path)
        # Any method reaches the endpoint: it answers GET, HEAD and CORS preflights, and
        # 405 with Allow to the rest, as bearerguard's other adapters do.
        endpoint = _MetadataEndpoint(self._metadata)
        return [Route(self._metadata.path, endpoint=endpoint, methods=None)]

    def get_middleware(self) -> list[Middleware]:
        """fastmcp's authentication middleware, answering a provider outage with 503 and
        ``Retry-After`` instead of a server error.

        Example::

            server.http_app(middleware=...)   # fastmcp installs these itself, with auth=
        """
        return [
            Middleware(AuthenticationMiddleware, backend=_Backend(self), on_error=_answer),
            Middleware(AuthContextMiddleware),
        ]


def _bearer_only_metadata(verifier: Verifier, scopes: tuple[str, ...]) -> MetadataRoute:
    """The verifier's metadata route, its document without the DPoP members."""
    return MetadataRoute(verifier, scopes, without=_DPOP_MEMBERS)


def _base_url(resource: str, mcp_path: str | None) -> str:
    """What fastmcp appends ``mcp_path`` to (``base/path``) to spell ``resource``."""
    if mcp_path is None:  # fastmcp advertises the base URL itself
        return resource
    parts = urlsplit(resource)
    path = parts.path or "/"
    tail = mcp_path.lstrip("/")
    if not path.endswith("/" + tail):
        raise ConfigurationError(
            f"The verifier's resource {resource!r} does not end with {mcp_path!r}, the path "
            "fastmcp serves the MCP endpoint at: the resource must be the endpoint's URL. "
            f"Serve the endpoint at its path (server.http_app(path={path!r})) or set the "
            "resource to the URL clients call, e.g. "
            f"resource='{urlunsplit((parts.scheme, parts.netloc, '/' + tail, '', ''))}'.",
            setting="resource",
        )
    base = path[: len(path) - len(tail)].rstrip("/") or "/"  # fastmcp puts the "/" back
    return urlunsplit((parts.scheme, parts.netloc, base, "", ""))


class _ProviderUnavailable(AuthenticationError):
    """The verifier could not tell (its provider is down): the refusal to answer with."""

    def __init__(self, error: BearerError) -> None:
        super().__init__(error.reason)
        self.error = error


class _Backend(BearerAuthBackend):
    """The SDK's Bearer backend, fastmcp's own, with an outage turned into an
    ``AuthenticationError`` that the middleware's ``on_error`` answers."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        try:
            result: tuple[AuthCredentials, BaseUser] | None = await super().authenticate(conn)
        except TokenVerificationError as unavailable:
            cause = unavailable.__cause__
            if isinstance(cause, BearerError):
                raise _ProviderUnavailable(cause) from unavailable
            raise
        return result


def _answer(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """bearerguard's 503, ``Retry-After`` included, for an outage; Starlette's default else."""
    if not isinstance(exc, _ProviderUnavailable):
        return AuthenticationMiddleware.default_on_error(conn, exc)
    status, headers, body = refusal(exc.error)
    return Response(body, status_code=status, headers=dict(headers))


class _MetadataEndpoint:
    """The metadata document as a raw ASGI endpoint (Starlette's ``Route`` calls it as is)."""

    def __init__(self, route: MetadataRoute) -> None:
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await answer_metadata(self.route, scope, send)
