"""Every hostile DPoP case through every framework adapter, over its real test client.

The request goes to the route that needs ``read:contacts``, which the challenges of
a request without credentials name; its proofs name the
URL the framework's test client sends to (``Client.base_url``), and whatever the
case sends first (the proof to replay, the request that fetches a nonce) goes
through the same client. The answer must be exactly the core's: status,
challenge (a Bearer request the adapter verifies on its bearer path, carrying no
``DPoP`` field, gets the ``Bearer`` challenge alone), JSON body, ``DPoP-Nonce``,
and nothing of the request's tokens or proofs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.adapters.harness import ADAPTERS, IdentityProviders, client_factory

from .dpop_builders import ProofCase, Reply, Sent, World
from .dpop_catalogue import DPOP_CATALOGUE
from .dpop_checks import Answer, expected_challenge, judge_answer, judge_fetches, world_env

ROUTE_SCOPE = "read:contacts"  # what the route every request goes to needs


def runs() -> Iterator[Any]:
    for case in DPOP_CATALOGUE:
        marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
        for adapter in ADAPTERS:
            yield pytest.param(case, adapter, id=f"{adapter}-{case.id}", marks=marks)


def on_the_bearer_path(sent: Sent, settings: dict[str, Any]) -> bool:
    """A request an adapter hands to the bearer path: DPoP not required, Bearer credentials,
    no ``DPoP`` field."""
    if settings.get("dpop", "allowed") == "required":
        return False
    names = [name.lower() for name, _ in sent.fields]
    schemes = [
        value.split(" ")[0].lower() for name, value in sent.fields if name == "Authorization"
    ]
    return "dpop" not in names and schemes == ["bearer"]


def scheme_refused(sent: Sent, settings: dict[str, Any]) -> bool:
    """Bearer credentials where DPoP is required: the verifier refuses the scheme itself,
    before any route is consulted, so its challenge names no route's scopes."""
    schemes = [
        value.split(" ")[0].lower() for name, value in sent.fields if name == "Authorization"
    ]
    return settings.get("dpop", "allowed") == "required" and "bearer" in schemes


@pytest.mark.parametrize(("case", "adapter"), list(runs()))
def test_the_adapter_answers_the_case(
    case: ProofCase, adapter: str, idp: IdentityProviders
) -> None:
    env = world_env(idp)
    verifier = idp.verifier(**{**env.transports(), **case.settings(env)})

    with client_factory(adapter)(verifier) as client:

        def exchange(sent: Sent) -> Reply:
            answer = client.get(sent.path, headers=list(sent.fields), query=sent.query)
            return Reply(answer.status, answer.headers)

        sent = case.request(World(env, client.base_url, exchange))
        before = len(env.requested)
        answer = client.get(sent.path, headers=list(sent.fields), query=sent.query)

    challenge = None
    if case.error is not None:
        challenge = expected_challenge(
            case,
            case.error,
            env,
            bearer_path=on_the_bearer_path(sent, case.settings(env)),
            route_scope="" if scheme_refused(sent, case.settings(env)) else ROUTE_SCOPE,
        )
        assert answer.headers["content-type"].split(";")[0] == "application/json"
    else:
        assert answer.body == {"sub": "auth0|123"}
    judge_answer(case, Answer(answer.status, dict(answer.headers), answer.body), sent, challenge)
    judge_fetches(case, env, before)


def test_every_case_runs_through_every_adapter() -> None:
    assert len(list(runs())) == len(DPOP_CATALOGUE) * len(ADAPTERS)
