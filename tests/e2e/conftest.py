from __future__ import annotations

from collections.abc import Iterator

import pytest

from .identity_provider import IdentityProvider


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[IdentityProvider]:
    """One loopback provider per module; each example gets a tenant of its own."""
    with IdentityProvider() as provider:
        yield provider
