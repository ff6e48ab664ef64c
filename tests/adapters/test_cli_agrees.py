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

# Rows a pasted header can stand for: one Authorization field (or none) on a route whose
# requirement the command is told (its scopes, any-of or not), nothing in the query string.
ROUTE_SCOPES: dict[str, tuple[tuple[str, ...], bool]] = {
    "/api/private": ((), False),
    "/api/private-scoped": (("read:messages",), False),
    "/api/contacts": (("read:contacts",), False),
    "/api/all-of": (("read:contacts", "write:contacts"), False),
    "/api/any-of": (("read:contacts", "read:messages"), True),
}


def pasted(case: Case, idp: IdentityProviders) -> str | None:
    headers = case.headers(idp)
    if case.path not in ROUTE_SCOPES or case.query(idp) or len(headers) > 1 or case.dpop:
        return None
    if not headers:
        return "Authorization:"  # what a client that sent no token pastes
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

    scopes, any_of = ROUTE_SCOPES[case.path]
    verdict = check(
        idp.verifier(**case.settings),
        unwrap(line),
        scopes,
        any_of=any_of,
        header=header_value(line),
    )

    status = 200 if verdict.refusal is None else verdict.refusal.status_code
    assert status == case.status
    challenge = None if verdict.refusal is None else verdict.refusal.www_authenticate
    assert challenge == case.challenge
