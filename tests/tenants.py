"""Many tenants of one identity provider, served in-process: issuers resolved at run time.

Tenant ``t`` is the issuer ``https://t.<domain>/``: its discovery document names it,
and its key set (one RS256 key, ``k1``, shared by every tenant) is on its own host.
``real`` lists the tenants that exist (``None``: every name); any other host answers
404, as a made-up tenant does. Every URL asked for is recorded.

Shared by the tests of ``issuer=`` as a function (``test_issuer_resolvers.py``,
``test_resolved_cache.py``) and their hostile rows (``tests/hostile``).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bearerguard import Verifier

from .support import (
    AUDIENCE,
    Clock,
    Responder,
    b64url,
    claims,
    encode_part,
    public_jwk,
    rsa_key,
    sign_token,
)

DOMAIN = "id.example.com"
#: the issuer= function docs/security.md shows: the tenants of a domain you control, matched
#: whole on the normal form it is given
TENANT = re.compile(r"https://[a-z0-9-]{1,63}\.id\.example\.com/")


def trusted_tenant(iss: str) -> bool:
    """The documented predicate: one DNS label, then exactly ``.id.example.com/``."""
    return TENANT.fullmatch(iss) is not None


@dataclass
class Tenants(Responder):
    """Every tenant of :data:`DOMAIN` (or only the ``real`` ones), as one transport."""

    real: set[str] | None = None
    delay: float = 0.0
    #: tenant -> the issuer its discovery document names (default: its own)
    names_other: dict[str, str] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def issuer(tenant: str) -> str:
        return f"https://{tenant}.{DOMAIN}/"

    def token(self, tenant: str, kid: str = "k1", **overrides: Any) -> str:
        overrides.setdefault("iss", self.issuer(tenant))
        return sign_token({"alg": "RS256", "kid": kid}, claims(**overrides), rsa_key(0))

    def forged(self, tenant: str, **overrides: Any) -> str:
        """A token naming ``tenant`` with a made-up signature (of the right length): what a
        flood sends, costing the sender nothing; refused at the signature, after the keys."""
        overrides.setdefault("iss", self.issuer(tenant))
        signing_input = (
            encode_part({"alg": "RS256", "kid": "k1"}) + "." + encode_part(claims(**overrides))
        )
        return signing_input + "." + b64url(bytes(256))

    def hits(self, tenant: str | None = None) -> int:
        """Requests made in all, or to ``tenant``'s host."""
        with self._lock:
            if tenant is None:
                return len(self.requested)
            host = f"{tenant}.{DOMAIN}"
            return sum(1 for url in self.requested if httpx.URL(url).host == host)

    def hosts(self) -> Counter[str]:
        with self._lock:
            return Counter(httpx.URL(url).host for url in self.requested)

    def respond(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requested.append(str(request.url))
        host = request.url.host
        tenant, _, domain = host.partition(".")
        if domain != DOMAIN or (self.real is not None and tenant not in self.real):
            return httpx.Response(404)
        issuer = self.issuer(tenant)
        if request.url.path == "/.well-known/openid-configuration":
            named = self.names_other.get(tenant, issuer)
            return httpx.Response(200, json={"issuer": named, "jwks_uri": issuer + "jwks.json"})
        if request.url.path == "/jwks.json":
            key = public_jwk(rsa_key(0), kid="k1", alg="RS256", use="sig")
            return httpx.Response(200, json={"keys": [key]})
        return httpx.Response(404)

    def transports(self) -> dict[str, Any]:
        """Verifier settings: both transports."""
        return {
            "transport": httpx.MockTransport(self.handle),
            "async_transport": httpx.MockTransport(self.ahandle),
        }

    def verifier(self, clock: Clock, **settings: Any) -> Verifier:
        """A verifier trusting every tenant :func:`trusted_tenant` accepts, served by these
        tenants, on ``clock``; ``settings`` add to these or replace them."""
        defaults: dict[str, Any] = {
            "issuer": trusted_tenant,
            "audience": AUDIENCE,
            "clock": clock.time,
            "monotonic": clock.monotonic,
            **self.transports(),
        }
        return Verifier(**{**defaults, **settings})
