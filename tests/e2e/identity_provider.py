"""A fake OpenID Connect provider on 127.0.0.1, reached over real sockets.

One ``ThreadingHTTPServer`` in a daemon thread hosts any number of tenants,
each under its own path as Keycloak hosts realms. Tenant ``shop`` has two
issuers, both served by this one server:

* ``http://127.0.0.1:<port>/shop/``, the tenant's own issuer, and
* ``http://localhost:<port>/shop/``, its *custom domain*: another host name for
  the same tenant, as an Auth0 custom domain is. The issuer strings differ, so a
  verifier must trust each one explicitly.

Each issuer publishes its own discovery document and JWKS (one RSA-2048 key,
``kid``/``alg``/``use`` set, ``Cache-Control: max-age=600``). Giving every
example its own tenant keeps one example's fetch counts apart from another's.

Tokens carry real RS256 signatures and the real current time: the servers under
test run with the real clock. A tenant can *hold* its key-set requests (each one
blocks until released, or until :data:`HOLD_LIMIT`) to play a provider that
accepts connections and then never answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from bearerguard._background import QuietHTTPServer, serve_in_background, stop_serving
from tests.support import AUDIENCE, claims, public_jwk, rsa_key, sign_token

HOST = "127.0.0.1"
CUSTOM_DOMAIN_HOST = "localhost"  # resolves to the loopback the server listens on
KID = "e2e-key-1"
SUB = "auth0|e2e-user"
# Long enough to outlast any fetch timeout of the verifier, short enough that a
# forgotten hold cannot keep a handler thread around for the rest of the run.
HOLD_LIMIT = 60.0
DISCOVERY = ".well-known/openid-configuration"
JWKS = ".well-known/jwks.json"


class Tenant:
    """One tenant of the provider: two issuers, one key, fetch counts, a hold switch."""

    def __init__(self, provider: IdentityProvider, name: str, audience: str) -> None:
        self.provider = provider
        self.name = name
        self.audience = audience
        self.issuer = f"http://{HOST}:{provider.port}/{name}/"
        self.custom_domain = f"http://{CUSTOM_DOMAIN_HOST}:{provider.port}/{name}/"
        self._holding = False
        self._held = 0  # key-set requests blocked right now

    @property
    def issuers(self) -> tuple[str, str]:
        return (self.issuer, self.custom_domain)

    # --- tokens -------------------------------------------------------------------------

    def token(
        self,
        *,
        scope: str | None = "openid profile",
        issuer: str | None = None,
        audience: str | list[str] | None = None,
        sub: str = SUB,
        issued_ago: int = 0,
        lifetime: int = 3600,
    ) -> str:
        """A signed access token, Auth0-shaped unless told otherwise.

        ``aud`` defaults to Auth0's array form ``[audience, issuer + "userinfo"]``;
        ``scope=None`` leaves the claim out. ``iat`` is ``issued_ago`` seconds
        before now and ``exp`` is ``lifetime`` seconds after ``iat``.
        """
        iss = issuer or self.issuer
        issued_at = int(time.time()) - issued_ago
        body = claims(
            now=issued_at,
            iss=iss,
            sub=sub,
            aud=[self.audience, iss + "userinfo"] if audience is None else audience,
            exp=issued_at + lifetime,
            scope=scope,
        )
        return sign_token({"alg": "RS256", "typ": "JWT", "kid": KID}, body, self.provider.key)

    # --- what the provider was asked --------------------------------------------------------

    def discovery_fetches(self, issuer: str) -> int:
        """How many times ``issuer``'s discovery document was requested."""
        return self.provider.hits[issuer + DISCOVERY]

    def key_set_fetches(self, issuer: str) -> int:
        """How many times ``issuer``'s JWKS was requested (held requests included)."""
        return self.provider.hits[issuer + JWKS]

    # --- a provider that stops answering ------------------------------------------------

    def hold_key_sets(self) -> None:
        """From now on every key-set request blocks until :meth:`release_key_sets`."""
        with self.provider.state:
            self._holding = True

    def release_key_sets(self) -> None:
        """Answer the held key-set requests (if their clients still listen) and stop holding."""
        with self.provider.state:
            self._holding = False
            self.provider.state.notify_all()

    @property
    def held(self) -> int:
        """Key-set requests blocked right now."""
        with self.provider.state:
            return self._held

    def wait_until_held(self, timeout: float) -> bool:
        """Wait until a key-set request is being held; ``False`` if none came in time."""
        with self.provider.state:
            return self.provider.state.wait_for(lambda: self._held > 0, timeout)

    def _hold_if_asked(self) -> None:
        # Called with provider.state held; wait() lets go of it while blocked.
        if not self._holding:
            return
        self._held += 1
        self.provider.state.notify_all()
        try:
            self.provider.state.wait_for(lambda: not self._holding, HOLD_LIMIT)
        finally:
            self._held -= 1

    # --- the documents ------------------------------------------------------------------

    def documents(self, issuer: str) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
        """URL -> (JSON body, extra headers) of everything ``issuer`` publishes."""
        return {
            issuer + DISCOVERY: ({"issuer": issuer, "jwks_uri": issuer + JWKS}, {}),
            issuer + JWKS: ({"keys": [self.provider.jwk]}, {"Cache-Control": "max-age=600"}),
        }


class IdentityProvider:
    """The loopback provider. Use as a context manager; it stops with the block.

    Example::

        with IdentityProvider() as provider:
            shop = provider.add_tenant("shop")
            token = shop.token(scope="read:contacts")
    """

    def __init__(self) -> None:
        # One key per test session (rsa_key is cached): generating RSA keys is slow.
        self.key = rsa_key()
        self.jwk = public_jwk(self.key, kid=KID, alg="RS256", use="sig")
        self.hits: Counter[str] = Counter()
        self.tenants: dict[str, Tenant] = {}
        # Guards hits, tenants and every tenant's hold state; held handlers wait on it.
        # (Reentrant, as a Condition's lock is by default: close() releases tenants under it.)
        self.state = threading.Condition(threading.RLock())
        self._server = _Server((HOST, 0), _Handler)
        self._server.provider = self
        self.port: int = self._server.server_address[1]
        self._thread = serve_in_background(
            self._server, name=f"identity-provider-{self.port}", poll_interval=0.05
        )

    def add_tenant(self, name: str, audience: str = AUDIENCE) -> Tenant:
        tenant = Tenant(self, name, audience)
        with self.state:
            self.tenants[name] = tenant
        return tenant

    def answer(self, host: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers for a GET of ``path`` with this ``Host`` header."""
        url = f"http://{host}{path}"
        with self.state:
            self.hits[url] += 1
            published = {
                found: (tenant, document)
                for tenant in self.tenants.values()
                for issuer in tenant.issuers
                for found, document in tenant.documents(issuer).items()
            }
            if url not in published:
                return 404, b"", {}
            tenant, (body, headers) = published[url]
            if url.endswith(JWKS):
                tenant._hold_if_asked()
        return 200, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}

    def close(self) -> None:
        with self.state:  # let every held handler answer and finish
            for tenant in self.tenants.values():
                tenant.release_key_sets()
        stop_serving(self._server, self._thread)

    def __enter__(self) -> IdentityProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Server(QuietHTTPServer):
    provider: IdentityProvider


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        status, body, headers = self.server.provider.answer(self.headers.get("Host", ""), self.path)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the counts say what was asked; a line per request would drown pytest's output
