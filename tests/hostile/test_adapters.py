"""The hostile-token catalogue through every framework adapter.

The request goes through the framework's real test client (``tests/adapters/apps``)
to the route the case needs; the answer must carry exactly the status, the
``WWW-Authenticate`` challenge and the JSON body the case's outcome implies
(never a 500), show nothing of the token or of the attacker's data, and cost the
provider exactly the fetches it costs ``verify()``.

Every case that can be sent over HTTP (``Case.sendable``) runs through every
adapter: the few that cannot (CR, LF, NUL or non-ASCII in a header field, which
servers and clients refuse; errors raised at start-up) run through the core only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.adapters.harness import ADAPTERS, IdentityProviders, client_factory

from .builders import Case, Request
from .catalogue import ALL_OF, ANY_OF, CATALOGUE, CONTACTS
from .checks import judge_adapter_answer
from .test_core import known_bug, world

# The harness route that requires what a case requires (tests/adapters/harness.py).
ROUTES = {
    ((), False): "/api/private",
    (CONTACTS, False): "/api/contacts",
    (("read:messages",), False): "/api/private-scoped",
    (ALL_OF, False): "/api/all-of",
    (ANY_OF, True): "/api/any-of",
}


def runs() -> Iterator[Any]:
    """(case, adapter) pairs: every adapter for every case that can be sent."""
    for case in CATALOGUE:
        if not case.sendable:
            continue
        for adapter in ADAPTERS:
            yield pytest.param(
                case, adapter, id=f"{adapter}-{case.id}", marks=known_bug(case, adapter)
            )


RUNS = list(runs())


@pytest.mark.parametrize(("case", "adapter"), RUNS)
def test_the_adapter_answers_the_row(case: Case, adapter: str, idp: IdentityProviders) -> None:
    env = world(idp)
    verifier = idp.verifier(**{**env.transports(), **case.settings(env)})
    for step in case.prepare:
        step(env, verifier)
    attempt = case.attempt(env)
    request = (
        attempt if isinstance(attempt, Request) else Request((f"Bearer {attempt}",), "", (attempt,))
    )
    make_client = client_factory(adapter)

    with make_client(verifier) as client:
        answer = client.get(
            ROUTES[case.require, case.any_of], headers=request.headers(), query=request.query
        )
    judge_adapter_answer(case, env, verifier, request, answer)


def test_every_case_that_can_be_sent_runs_through_every_adapter() -> None:
    ran: dict[str, set[str]] = {}
    for run in RUNS:
        case, adapter = run.values
        ran.setdefault(case.id, set()).add(adapter)
    for case in CATALOGUE:
        assert ran.get(case.id, set()) == (set(ADAPTERS) if case.sendable else set()), case.id
    assert {(c.require, c.any_of) for c in CATALOGUE if c.sendable} <= ROUTES.keys()
