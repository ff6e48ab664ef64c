"""DevIssuer: the dev-issuer's front door and life cycle.

It owns the configuration, the keys and the minter; :meth:`DevIssuer.start`
binds the socket (so ``port=0`` is known only then), builds the
:class:`._app.App` for the two issuer URLs and serves it from a daemon thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from bearerguard._background import serve_in_background, stop_serving
from bearerguard._config import is_loopback_host
from bearerguard._errors import ConfigurationError

from ._app import App
from ._config import DevIssuerConfig
from ._documents import endpoints
from ._handler import Server, Server6
from ._keys import KeyStore
from ._loading import default_config
from ._tokens import Minter

__all__ = ["DevIssuer"]


class DevIssuer:
    """A local OAuth 2.0 / OpenID Connect authorization server that mirrors Auth0.

    A DEVELOPMENT tool: users sign in without a password, secrets are printed, and
    it serves plain HTTP on loopback. It publishes discovery and a JWKS, and
    answers ``/authorize`` (code with PKCE, legacy implicit), ``/oauth/token``
    (client_credentials, authorization_code, refresh_token with rotation) and
    ``/userinfo``, under two issuer URLs: ``http://127.0.0.1:<port>/`` and the
    same tenant as a custom domain, ``http://localhost:<port>/``. A token request
    with a ``DPoP`` proof (RFC 9449) gets a token bound to the proof's key
    (``token_type`` ``DPoP``); ``config.dpop_nonce`` demands server nonces. An API
    configured with ``token_format="opaque"`` gets opaque tokens, which confidential
    clients ask about at ``/oauth/introspect`` (RFC 7662) and revoke at ``/oauth/revoke``
    (RFC 7009).

    For MCP clients it is an RFC 8414 authorization server: dynamic client
    registration (RFC 7591) of public clients with loopback redirect URIs at
    ``/oidc/register``, ``resource`` (RFC 8707) as the token's audience (with
    ``config.loopback_resources``, as in the built-in tenant, any loopback URL),
    and ``iss`` in every authorization response (RFC 9207).

    Example::

        from bearerguard import Verifier
        from bearerguard.devissuer import DevIssuer, default_config

        with DevIssuer(default_config()) as issuer:
            verifier = Verifier(issuer=issuer.url, audience="https://api.example.com")
            token = issuer.mint_access_token(audience="https://api.example.com",
                                             scopes=["read:messages"])
            verifier.verify(token).scopes        # frozenset({'read:messages'})

    Arguments:
        config: the tenant (APIs, clients, users); default :func:`default_config`.
        host: the address to listen on; loopback only unless ``allow_remote=True``.
        port: the port; 0 picks a free one (read it from :attr:`url` after :meth:`start`).
        keys_file: a JWKS file of private keys, loaded if it exists, else created: tokens
            stay valid across restarts. ``None`` makes fresh keys each time.
        auto_approve: answer ``/authorize`` at once (``login_hint``, else the first user)
            instead of showing the consent page: for scripts and end-to-end tests.
        allow_remote: allow a non-loopback ``host`` (e.g. ``0.0.0.0`` in a container).
            The issuer URLs stay loopback ones: plain http is trusted only there.
    """

    def __init__(
        self,
        config: DevIssuerConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keys_file: str | os.PathLike[str] | None = None,
        auto_approve: bool = False,
        allow_remote: bool = False,
    ) -> None:
        if config is None:
            config = default_config()
        if not isinstance(config, DevIssuerConfig):
            raise ConfigurationError("config must be a DevIssuerConfig (see load_config()).")
        if not isinstance(host, str) or not host:
            raise ConfigurationError("host must be an address such as '127.0.0.1'.")
        if not allow_remote and not is_loopback_host(host):
            raise ConfigurationError(
                f"host {host!r} is not a loopback address. The dev-issuer signs users in "
                "without a password and hands out tokens to anyone who asks, so it listens on "
                "127.0.0.1 by default; pass allow_remote=True (--allow-remote) to expose it."
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port must be between 0 and 65535, got {port!r}.")
        self._config = config
        self._host = host
        self._port = port
        self._auto_approve = auto_approve
        self._keys = KeyStore(keys_file, config.signing_algorithm)
        self._minter = Minter(config, self._keys)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._app: App | None = None
        self._lock = threading.Lock()  # start/stop/rotate from any thread

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> DevIssuer:
        """Listen and serve in a background (daemon) thread; returns ``self``.

        Raises OSError when the port is taken, RuntimeError when already started.
        """
        with self._lock:
            if self._server is not None:
                raise RuntimeError("This DevIssuer is already running.")
            server_class = Server6 if ":" in self._host else Server
            server = server_class((self._host, self._port))
            self._port = server.server_address[1]
            self._app = App(
                self._config,
                self._keys,
                self._minter,
                issuers=self.issuers,
                auto_approve=self._auto_approve,
            )
            server.app = self._app
            self._server = server
            self._thread = serve_in_background(server, name=f"bearerguard-dev-issuer-{self._port}")
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread; harmless if not running."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None and thread is not None:
            stop_serving(server, thread)

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def __enter__(self) -> DevIssuer:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- where it is --------------------------------------------------------------------

    @property
    def config(self) -> DevIssuerConfig:
        """The tenant being served."""
        return self._config

    @property
    def url(self) -> str:
        """The canonical issuer, ``http://127.0.0.1:<port>/`` (the ``iss`` of its tokens)."""
        return f"http://{_url_host(self._issuer_host())}:{self._bound_port()}/"

    @property
    def custom_domain_url(self) -> str:
        """The same tenant under a second issuer URL, as an Auth0 custom domain:
        ``http://localhost:<port>/``. Tokens requested there carry it as ``iss``."""
        other = "127.0.0.1" if self._issuer_host() == "localhost" else "localhost"
        return f"http://{other}:{self._bound_port()}/"

    @property
    def issuers(self) -> tuple[str, str]:
        """``(url, custom_domain_url)``: trust both in a verifier to accept either."""
        return (self.url, self.custom_domain_url)

    def endpoints(self, issuer: str | None = None) -> dict[str, str]:
        """The endpoint URLs of ``issuer`` (default :attr:`url`), by name."""
        return endpoints(self._issuer_url(issuer))

    @property
    def auto_approve(self) -> bool:
        """Whether /authorize answers at once instead of showing the consent page."""
        return self._auto_approve

    @property
    def kid(self) -> str:
        """The ``kid`` of the current signing key."""
        return self._keys.current.kid

    @property
    def signing_algorithm(self) -> str:
        """What the current key signs tokens with (``RS256`` unless configured otherwise)."""
        return self._keys.current.algorithm

    def _issuer_host(self) -> str:
        # Plain http is trusted for loopback issuers only, so a server bound elsewhere
        # (allow_remote) still calls itself by its loopback name.
        return self._host.lower() if is_loopback_host(self._host) else "127.0.0.1"

    def _bound_port(self) -> int:
        if self._port == 0:
            raise RuntimeError("port=0 picks a free port at start(): call start() first.")
        return self._port

    def _issuer_url(self, issuer: str | None) -> str:
        if issuer is None:
            return self.url
        if issuer not in self.issuers:
            raise ConfigurationError(
                f"issuer must be one of {', '.join(self.issuers)}, got {issuer!r}."
            )
        return issuer

    # --- tokens and keys ----------------------------------------------------------------

    def mint_access_token(
        self,
        *,
        audience: str | Iterable[str],
        scopes: str | Iterable[str] = (),
        sub: str | None = None,
        expires_in: float = 3600,
        issuer: str | None = None,
        **claims: Any,
    ) -> str:
        """A signed access token without going through a flow: for demos and tests.

        ``sub`` defaults to the first configured user; ``issuer`` to :attr:`url`
        (or :attr:`custom_domain_url`). ``claims`` add or replace claims (custom
        ones are namespaced with the configuration's ``namespace``; ``None``
        removes one). A negative ``expires_in`` makes an expired token. For an API with
        opaque tokens (``token_format="opaque"``), the token is an opaque one, answered by
        the introspection endpoint.

        Example::

            issuer.mint_access_token(audience="https://api.example.com",
                                     scopes="read:messages", expires_in=-3600)   # expired
        """
        if sub is None:
            sub = self._config.users[0].sub if self._config.users else "auth0|dev-user"
        aud = audience if isinstance(audience, str) else list(audience)
        return self._minter.access_token(
            issuer=self._issuer_url(issuer),
            sub=sub,
            audience=aud,
            scopes=scopes,
            lifetime=expires_in,
            extra=claims,
        )

    def rotate_keys(self) -> str:
        """Sign with a new key from now on; the previous key stays published.

        Returns the new ``kid``. With a ``keys_file`` the file is rewritten.
        Also served as ``POST /dev/rotate``.
        """
        with self._lock:
            app = self._app
        return app.rotate_keys() if app is not None else self._keys.rotate()

    def __repr__(self) -> str:
        where = self.url if self.running else f"{self._host}:{self._port} (stopped)"
        return f"DevIssuer({where})"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
