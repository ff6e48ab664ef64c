"""The adapter under test: every test that asks for ``make_client`` runs once per adapter."""

from __future__ import annotations

import pytest

from .harness import ADAPTERS, ClientFactory, client_factory


@pytest.fixture(params=ADAPTERS)
def make_client(request: pytest.FixtureRequest) -> ClientFactory:
    return client_factory(request.param)
