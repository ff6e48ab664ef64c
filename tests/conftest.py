from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bearerguard import AccessToken, Verifier

from .adapters.harness import IdentityProviders
from .support import AUDIENCE, ISSUER, Clock, Provider

Verify = Callable[[Verifier, str], AccessToken]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def make_verifier(provider: Provider, clock: Clock) -> Callable[..., Verifier]:
    """A Verifier wired to the in-process provider and the test clock; kwargs override."""

    def make(**overrides: Any) -> Verifier:
        settings: dict[str, Any] = {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "transport": provider.transport(),
            "async_transport": provider.async_transport(),
            "clock": clock.time,
            "monotonic": clock.monotonic,
        }
        settings.update(overrides)
        return Verifier(**settings)

    return make


@pytest.fixture(params=["sync", "async"])
def verify(request: pytest.FixtureRequest) -> Verify:
    """Runs the same case through ``verify()`` and through ``averify()``."""
    if request.param == "sync":
        return lambda verifier, token: verifier.verify(token)
    return lambda verifier, token: asyncio.run(verifier.averify(token))


@pytest.fixture
def idp() -> IdentityProviders:
    """A tenant and its custom domain, and the verifier the adapter tests share."""
    return IdentityProviders()
