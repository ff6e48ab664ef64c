"""``bearerguard verify`` gives every header of the shared table the adapters' verdict.

A developer pastes the ``Authorization`` header their client sent; the command must
answer what the API answered, scheme and all: the same status, the same challenge.
"""

from __future__ import annotations

import pytest

from bearerguard._cli.decode import header_value, unwrap
from bearerguard._cli.verify import check

from .harness import IdentityProviders
from .table import CASES, Case

# Rows a pasted header can stand for: one Authorization field on the route that needs
# any valid token, nothing in the query string.
ROUTE_SCOPES = {"/api/private": ()}


def pasted(case: Case, idp: IdentityProviders) -> str | None:
    headers = case.headers(idp)
    if case.path not in ROUTE_SCOPES or case.query(idp) or len(headers) != 1:
        return None
    name, value = headers[0]
    return f"{name}: {value}" if name.lower() == "authorization" else None


HEADER_CASES = [case for case in CASES if pasted(case, IdentityProviders()) is not None]


def test_the_table_gives_the_command_enough_headers_to_compare():
    assert len(HEADER_CASES) >= 20


@pytest.mark.parametrize("case", HEADER_CASES, ids=[case.id for case in HEADER_CASES])
def test_the_command_answers_the_pasted_header_as_the_adapters_do(
    case: Case, idp: IdentityProviders
) -> None:
    case.setup(idp)
    line = pasted(case, idp)
    assert line is not None

    verdict = check(
        idp.verifier(), unwrap(line), ROUTE_SCOPES[case.path], header=header_value(line)
    )

    status = 200 if verdict.refusal is None else verdict.refusal.status_code
    assert status == case.status
    challenge = None if verdict.refusal is None else verdict.refusal.www_authenticate
    assert challenge == case.challenge
