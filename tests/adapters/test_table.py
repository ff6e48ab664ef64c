"""Every adapter answers every row of the shared table exactly alike.

The adapters run through their frameworks' real test clients; the verifier
behind them is real (real signatures, in-process identity providers).
"""

from __future__ import annotations

import pytest

from .harness import Answer, Client, ClientFactory, IdentityProviders
from .table import CASES, Caller, Case, Headers

NONCE_LENGTH = 32  # characters of a bearerguard DPoP nonce


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_adapter_answers_like_every_other(
    case: Case, idp: IdentityProviders, make_client: ClientFactory
) -> None:
    case.setup(idp)
    with make_client(idp.verifier(**case.settings)) as client:
        answer = client.get(case.path, headers=headers_of(case, idp, client), query=case.query(idp))

    assert answer.status == case.status
    assert answer.challenge == case.challenge
    assert answer.body == case.body
    if case.status != 200:
        assert answer.headers["content-type"].split(";")[0] == "application/json"
    for name, value in case.extra_headers.items():
        assert answer.headers[name] == value
    if case.fresh_nonce:
        assert len(answer.headers["dpop-nonce"]) == NONCE_LENGTH
    else:
        assert "dpop-nonce" not in answer.headers


def headers_of(case: Case, idp: IdentityProviders, client: Client) -> Headers:
    """The row's header fields; a DPoP row's proofs name the URL this client sends to."""
    if case.dpop is None:
        return case.headers(idp)

    def send(headers: Headers) -> Answer:
        return client.get(case.path, headers=headers, query=case.query(idp))

    return case.dpop(Caller(idp, client.base_url, case.path, send))


def test_every_route_of_the_contract_is_in_the_table() -> None:
    from .harness import ROUTES

    assert {case.path for case in CASES} == set(ROUTES)
