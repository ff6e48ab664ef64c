"""Every adapter answers every row of the shared table exactly alike.

The adapters run through their frameworks' real test clients; the verifier
behind them is real (real signatures, in-process identity providers).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Client, ClientFactory, IdentityProviders
from .table import CASES, Case


@pytest.fixture
def client(make_client: ClientFactory, idp: IdentityProviders) -> Iterator[Client]:
    with make_client(idp.verifier()) as test_client:
        yield test_client


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_adapter_answers_like_every_other(
    case: Case, idp: IdentityProviders, client: Client
) -> None:
    case.setup(idp)
    answer = client.get(case.path, headers=case.headers(idp), query=case.query(idp))

    assert answer.status == case.status
    assert answer.challenge == case.challenge
    assert answer.body == case.body
    if case.status != 200:
        assert answer.headers["content-type"].split(";")[0] == "application/json"
    for name, value in case.extra_headers.items():
        assert answer.headers[name] == value


def test_every_route_of_the_contract_is_in_the_table() -> None:
    from .harness import ROUTES

    assert {case.path for case in CASES} == set(ROUTES)
