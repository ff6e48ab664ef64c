"""What every adapter's test app serves, and how the shared table talks to it.

Each adapter has a module ``tests/adapters/apps/<name>.py`` with a context
manager ``client(verifier)`` that builds a small app with the framework's real
test client and yields a :class:`Client`, whose ``base_url`` is where that test
client sends requests. The app serves these routes, all GET:

=======================  ==========================================  ========================
path                     needs                                       200 body
=======================  ==========================================  ========================
``/api/public``          nothing                                     ``{"message": "public"}``
``/api/private``         any valid token                             ``{"sub": <sub>}``
``/api/private-scoped``  ``read:messages``                           ``{"sub": <sub>}``
``/api/contacts``        ``read:contacts``                           ``{"sub": <sub>}``
``/api/all-of``          ``read:contacts`` and ``write:contacts``    ``{"sub": <sub>}``
``/api/any-of``          ``read:contacts`` or ``read:messages``      ``{"sub": <sub>}``
``/api/optional``        a valid token if one is sent                ``{"sub": <sub> or null}``
``/api/claims``          ``read:contacts``, ``CONTRACT_CLAIMS``      ``{"sub": <sub>}``
=======================  ==========================================  ========================

The verifier is built here (two trusted issuers: a tenant and its custom
domain; scopes from ``scope``, ``scp`` and ``permissions``; a fixed clock) and
fetches keys from in-process providers, so the table opens no sockets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bearerguard import Rule, Verifier, claims
from tests.support import AUDIENCE, CUSTOM_DOMAIN, ISSUER, Clock, Provider, Providers

# One module per adapter under tests/adapters/apps/, each with client(verifier).
ADAPTERS = ("asgi", "wsgi", "starlette", "fastapi", "flask", "django", "django_async", "drf")
ROUTES = (
    "/api/public",
    "/api/private",
    "/api/private-scoped",
    "/api/contacts",
    "/api/all-of",
    "/api/any-of",
    "/api/optional",
    "/api/claims",
)
SCOPE_CLAIMS = ("scope", "scp", "permissions")
# Auth0's custom claims are namespaced URLs.
NAMESPACE = "https://example.com/"
# What /api/claims requires of a token besides read:contacts, in each adapter's own form.
CONTRACT_CLAIMS = (
    claims.includes("roles", "admin", namespace=NAMESPACE),
    claims.equals("email_verified", True),
)
# The contract as middleware rules: /api/private matches none, so it needs any valid token.
CONTRACT_RULES = (
    Rule("/api/public", public=True),
    Rule("/api/optional", optional=True),
    Rule("/api/private-scoped", "read:messages"),
    Rule("/api/contacts", "read:contacts"),
    Rule("/api/all-of", "read:contacts", "write:contacts"),
    Rule("/api/any-of", "read:contacts", "read:messages", any_of=True),
    Rule("/api/claims", "read:contacts", claims=CONTRACT_CLAIMS),
)


@dataclass
class Answer:
    """A response as the table checks it: status, headers (lower-case names), JSON body."""

    status: int
    headers: Mapping[str, str]
    body: Any = None

    @property
    def challenge(self) -> str | None:
        return self.headers.get("www-authenticate")


class Client(Protocol):
    #: the scheme and host the framework's test client sends requests to (a DPoP proof's
    #: ``htu`` names ``base_url + path``)
    base_url: str

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        """GET ``path`` with these header fields (a name may repeat) and raw query string."""
        ...


def join_repeated(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Fold repeated fields into one comma-joined value, as WSGI servers do (RFC 9110 §5.3)."""
    folded: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        folded[key] = f"{folded[key]}, {value}" if key in folded else value
    return folded


@dataclass
class IdentityProviders:
    """The tenant and its custom domain, both trusted by the table's verifier."""

    clock: Clock = field(default_factory=Clock)
    tenant: Provider = field(default_factory=Provider)
    custom_domain: Provider = field(default_factory=lambda: Provider(issuer=CUSTOM_DOMAIN))

    def __post_init__(self) -> None:
        self._both = Providers(self.tenant, self.custom_domain)

    def token(self, **claims: Any) -> str:
        """A valid tenant token (``openid read:contacts``); claim overrides as in support."""
        return self.tenant.token(**claims)

    def verifier(self, **overrides: Any) -> Verifier:
        settings: dict[str, Any] = {
            "issuer": [ISSUER, CUSTOM_DOMAIN],
            "audience": AUDIENCE,
            "scope_claims": SCOPE_CLAIMS,
            "transport": self._both.transport(),
            "async_transport": self._both.async_transport(),
            "clock": self.clock.time,
            "monotonic": self.clock.monotonic,
        }
        settings.update(overrides)
        return Verifier(**settings)


ClientFactory = Callable[[Verifier], AbstractContextManager[Client]]


def client_factory(adapter: str) -> ClientFactory:
    """``client(verifier)`` of ``tests/adapters/apps/<adapter>.py``."""
    factory: ClientFactory = importlib.import_module(f"tests.adapters.apps.{adapter}").client
    return factory
