from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bearerguard import CachePolicy, Verifier
from tests.support import AUDIENCE, Clock

from .server import FaultyProvider

#: Small timeouts keep the package fast; a loopback fetch needs a fraction of them, but a
#: shared CI machine can stall one for half a second, so healthy fetches get a full second.
POLICY = CachePolicy(
    ttl=600,
    min_ttl=1,
    max_ttl=3600,
    discovery_ttl=600,
    unknown_kid_cooldown=30,
    stale_if_error=3600,
    failure_backoff=1,
    max_failure_backoff=30,
    fetch_timeout=1.0,
    max_document_bytes=16 * 1024,
)
#: For ordering tests: a held fetch ends when the test releases it, never by its timeout.
HOLDING = CachePolicy(
    ttl=600, min_ttl=1, max_ttl=3600, discovery_ttl=600, fetch_timeout=20, failure_backoff=1
)
#: Past the key set's max-age (600 s) and the discovery TTL: the cache is stale.
STALE = 601.0


@pytest.fixture
def faulty_idp() -> Iterator[FaultyProvider]:
    """A loopback provider, healthy until the test breaks it; stopped even if the test fails."""
    with FaultyProvider() as provider:
        yield provider


@pytest.fixture
def second_idp() -> Iterator[FaultyProvider]:
    """Another issuer, on ports of its own."""
    with FaultyProvider() as provider:
        yield provider


@pytest.fixture(scope="session")
def ssl_context() -> ssl.SSLContext:
    # httpx loads the CA bundle for every client it makes (~45 ms, a fetch is ~2 ms on
    # loopback): the fault table makes about a thousand fetches. Never used: http only.
    return httpx.create_ssl_context()


@pytest.fixture
def transports(ssl_context: ssl.SSLContext) -> Iterator[dict[str, Any]]:
    """httpx's own transports, set as the default one is (no keep-alive), closed afterwards."""
    limits = httpx.Limits(max_keepalive_connections=0)
    sync = httpx.HTTPTransport(verify=ssl_context, limits=limits)
    not_sync = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
    yield {"transport": sync, "async_transport": not_sync}
    sync.close()
    asyncio.run(not_sync.aclose())


@pytest.fixture
def verifier_for(clock: Clock, transports: dict[str, Any]) -> Callable[..., Verifier]:
    """``verifier_for(*providers, policy=POLICY)``: trusts those issuers; injected clocks."""

    def make(*providers: FaultyProvider, policy: CachePolicy = POLICY, **extra: Any) -> Verifier:
        settings: dict[str, Any] = {
            "issuer": [p.issuer for p in providers],
            "audience": AUDIENCE,
            "algorithms": ["ES256"],
            "cache": policy,
            "clock": clock.time,
            "monotonic": clock.monotonic,
            **transports,
        }
        settings.update(extra)
        return Verifier(**settings)

    return make
