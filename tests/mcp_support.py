"""What the tests of MCP servers with opaque and encrypted tokens share.

A provider that is down is a loopback port that refuses connections; the API's own
key is the one encrypted tokens are sealed to; introspection settings are those of the
client every ``FakeIssuer`` endpoint accepts, with answers kept no longer than a test
needs (a revoked token is seen at once).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from bearerguard import Introspection
from bearerguard.testing import FakeIssuer
from tests.jwe_keys import private_pem
from tests.support import rsa_key

__all__ = ["api_key", "introspection", "other_key", "refused_url"]


@contextlib.contextmanager
def refused_url(path: str = "/") -> Iterator[str]:
    """A URL on a loopback port that refuses every connection: a provider that is down.

    The socket is bound but never listens, so no other process can take the port
    while the block runs and every connection to it is refused at once.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"


def introspection(**settings: Any) -> Introspection:
    """``Introspection`` with the fake issuers' client, every answer asked anew
    (``cache_ttl=0``, ``inactive_ttl=0``) unless ``settings`` say otherwise."""
    return FakeIssuer().introspection(**{"cache_ttl": 0, "inactive_ttl": 0, **settings})


def api_key() -> str:
    """The API's private key (PEM), what ``decryption_keys=`` holds."""
    return private_pem(rsa_key(7))


def other_key() -> str:
    """Another API's private key (PEM): a token sealed to it is no token for this API."""
    return private_pem(rsa_key(8))
