"""A fake identity provider on 127.0.0.1 whose endpoints fail on demand, over real sockets.

The issuer (discovery), the key set (JWKS) and "another origin" each listen on a
port of their own, as Google's issuer and key set live on different hosts. Each
endpoint is switched per test between healthy and one :class:`Fault`::

    with FaultyProvider() as idp:
        idp.jwks.fail(Fault.TIMEOUT)      # accept, read the request, never answer
        ...
        idp.jwks.fail(Fault.HEALTHY)      # held requests are answered now, healthily

The faults are written at the socket level (no ``http.server``), so they can do
what a broken provider does: refuse connections, never answer, drip bytes,
send more than declared, redirect away. Refusing keeps the port: the listening
socket is replaced by a bound one that does not listen (``SO_REUSEPORT`` lets
both hold the port for a moment), so no other program can take the port while
the endpoint is down and the issuer URL stays valid for the recovery.

Tokens carry real ES256 signatures over claims valid at :data:`tests.support.NOW`:
verifiers under test run with an injected clock (aging their cache without
sleeping) while the network is real.
"""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import AUDIENCE, claims, public_jwk, sign_token

from .endpoint import DISCOVERY_ONLY, KEY_SET_ONLY, OTHER_HOST, Endpoint, Fault
from .wire import JSON, OVERSIZED_BYTES, Answer

__all__ = [
    "DISCOVERY_ONLY",
    "DISCOVERY_PATH",
    "JWKS_PATH",
    "KEY_SET_ONLY",
    "OTHER_HOST",
    "OVERSIZED_BYTES",
    "Endpoint",
    "Fault",
    "FaultyProvider",
]

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"


class FaultyProvider:
    """An OIDC provider on three loopback ports: issuer, key set and another origin.

    ``issuer`` is ``http://127.0.0.1:<discovery port>/``; its discovery document names
    ``jwks_uri`` on the key-set port. ``elsewhere`` serves the same documents from a
    third origin: the target of cross-origin redirects, so that a followed redirect
    would be seen (``elsewhere.hits``) and would even succeed.

    Keys: ``prepare(kid)`` makes an ES256 key, ``publish(kid)`` puts it in the key
    set, ``retire(kid)`` takes it out; ``token(kid)`` signs with it either way.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._published: list[str] = []
        self._stranger: ec.EllipticCurvePrivateKey | None = None
        self.discovery = Endpoint("discovery", self._discovery_documents)
        self.jwks = Endpoint("jwks", self._jwks_documents)
        self.elsewhere = Endpoint("elsewhere", self._any_document)
        for endpoint in (self.discovery, self.jwks, self.elsewhere):
            endpoint.elsewhere = self.elsewhere.origin
        self.issuer = f"{self.discovery.origin}/"
        self.jwks_uri = f"{self.jwks.origin}{JWKS_PATH}"
        self.publish("k1")

    def endpoint(self, name: str) -> Endpoint:
        """``"discovery"`` or ``"jwks"``."""
        return {"discovery": self.discovery, "jwks": self.jwks}[name]

    # --- keys and tokens -----------------------------------------------------------------------

    def prepare(self, kid: str) -> None:
        """Make a key for ``kid`` (if there is none yet) without publishing it."""
        with self._lock:
            if kid not in self._private:
                self._private[kid] = ec.generate_private_key(ec.SECP256R1())

    def publish(self, kid: str) -> None:
        self.prepare(kid)
        with self._lock:
            if kid not in self._published:
                self._published = [*self._published, kid]  # replaced whole: readers see either

    def retire(self, kid: str) -> None:
        with self._lock:
            self._published = [k for k in self._published if k != kid]

    def token(self, kid: str = "k1", **overrides: Any) -> str:
        """A valid access token signed by ``kid``'s key (prepared if need be)."""
        self.prepare(kid)
        with self._lock:
            key = self._private[kid]
        return self._sign(kid, key, **overrides)

    def forged(self, kid: str = "k1") -> str:
        """A token naming ``kid`` but signed by a key the provider never had."""
        return self._sign(kid, ec.generate_private_key(ec.SECP256R1()))

    def stranger(self, kid: str) -> str:
        """A token naming ``kid``, signed by one key the provider never publishes.

        Cheaper than :meth:`forged` for floods: the key is made once, not per token.
        """
        with self._lock:
            if self._stranger is None:
                self._stranger = ec.generate_private_key(ec.SECP256R1())
            key = self._stranger
        return self._sign(kid, key)

    def _sign(self, kid: str, key: ec.EllipticCurvePrivateKey, **overrides: Any) -> str:
        overrides.setdefault("iss", self.issuer)
        overrides.setdefault("aud", AUDIENCE)
        header = {"alg": "ES256", "typ": "JWT", "kid": kid}
        return sign_token(header, claims(**overrides), key)

    # --- documents -----------------------------------------------------------------------------

    def discovery_document(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "jwks_uri": self.jwks_uri}

    def key_set(self) -> dict[str, Any]:
        with self._lock:
            published = [(kid, self._private[kid]) for kid in self._published]
        return {"keys": [public_jwk(k, kid=kid, alg="ES256", use="sig") for kid, k in published]}

    def _discovery_documents(self, path: str) -> Answer | None:
        if path != DISCOVERY_PATH:
            return None
        return Answer(200, json.dumps(self.discovery_document()).encode(), dict(JSON))

    def _jwks_documents(self, path: str) -> Answer | None:
        if path != JWKS_PATH:
            return None
        headers = JSON | {"Cache-Control": "public, max-age=600"}
        return Answer(200, json.dumps(self.key_set()).encode(), headers)

    def _any_document(self, path: str) -> Answer | None:
        return self._discovery_documents(path) or self._jwks_documents(path)

    # --- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every endpoint; fail if any thread is left behind."""
        stuck = [name for e in (self.discovery, self.jwks, self.elsewhere) for name in e.close()]
        if stuck:
            raise RuntimeError(f"threads of the provider did not stop: {stuck}")

    def __enter__(self) -> FaultyProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
