"""The clients a running dev-issuer knows: those of its configuration, and those registered since.

Clients registered at the registration endpoint (RFC 7591, see
:mod:`._registration`) live in memory until the server stops, like codes and
refresh tokens. Their number is capped (:data:`MAX_REGISTERED_CLIENTS`): a
client that registers anew on every start, or a loop gone wrong, cannot grow
the server without bound. At the cap, registration is refused with a message
that says how to go on; nothing registered is ever evicted, since a client
that still holds its ``client_id`` must keep working.
"""

from __future__ import annotations

import threading

from ._config import ClientConfig, DevIssuerConfig
from ._errors import OAuthError

__all__ = ["MAX_REGISTERED_CLIENTS", "REGISTERED_PREFIX", "ClientDirectory"]

MAX_REGISTERED_CLIENTS = 100
#: the start of every registered client_id: an error page can tell one from a configured id
REGISTERED_PREFIX = "registered-"


class ClientDirectory:
    """Looks clients up by ``client_id``; safe to share between request threads.

    Example::

        clients = ClientDirectory(config)
        clients.find("spa-client")          # the configured client
        clients.add(registered_client)      # after registration
        clients.find(registered_client.client_id)
    """

    def __init__(self, config: DevIssuerConfig, *, limit: int = MAX_REGISTERED_CLIENTS) -> None:
        self._config = config
        self._limit = limit
        self._registered: dict[str, ClientConfig] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> tuple[ClientConfig, ...]:
        """The clients of the configuration."""
        return tuple(self._config.clients)

    @property
    def registered(self) -> tuple[ClientConfig, ...]:
        """The clients registered since the server started, oldest first."""
        with self._lock:
            return tuple(self._registered.values())

    def find(self, client_id: str) -> ClientConfig | None:
        """The client with this id: configured, or registered during this run."""
        configured = self._config.client(client_id)
        if configured is not None:
            return configured
        with self._lock:
            return self._registered.get(client_id)

    def add(self, client: ClientConfig) -> None:
        """Remember a registered client; OAuthError when the directory is full."""
        with self._lock:
            if len(self._registered) >= self._limit:
                raise OAuthError(
                    # RFC 7591 defines no code for this; RFC 6749's is the closest reading.
                    "temporarily_unavailable",
                    f"This dev-issuer already holds {self._limit} clients registered since it "
                    "started, as many as it keeps. Reuse the client_id a registration gave you "
                    "(keep the client information it answered), or restart the dev-issuer, "
                    "which forgets every registered client.",
                    status=429,
                )
            self._registered[client.client_id] = client
