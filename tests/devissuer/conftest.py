"""One dev-issuer per test module, on 127.0.0.1 and a free port, stopped by the module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bearerguard.devissuer import DevIssuer, default_config


@pytest.fixture(scope="module")
def issuer() -> Iterator[DevIssuer]:
    """The default tenant with the interactive consent page; modules may override it."""
    with DevIssuer(default_config()) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """A real HTTP client; redirects are not followed, so tests read ``Location``."""
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client
