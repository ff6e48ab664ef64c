"""Every hostile certificate case a client can send, through every framework adapter.

The request goes to the route that needs ``read:contacts`` over the framework's real
test client, carrying the header fields a proxy would forward (no test client speaks
TLS, so the cases of the server's own TLS report run in the core only). The answer
must be exactly the core's: status, challenge (a Bearer request the adapter verifies
on its bearer path, without client certificates read and without a ``DPoP`` field,
gets the ``Bearer`` challenge alone), JSON body, and nothing of the request's tokens
or certificates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.adapters.harness import ADAPTERS, IdentityProviders, client_factory

from .certificate_builders import CertificateCase, Sent, World
from .certificate_catalogue import CERTIFICATE_CATALOGUE
from .certificate_checks import SUBJECT, expected_challenge, judge_answer, verifier_for
from .dpop_builders import Reply
from .dpop_checks import Answer, world_env

SENDABLE = [case for case in CERTIFICATE_CATALOGUE if case.sendable]


def runs() -> Iterator[Any]:
    for case in SENDABLE:
        for adapter in ADAPTERS:
            yield pytest.param(case, adapter, id=f"{adapter}-{case.id}")


def on_the_bearer_path(case: CertificateCase, sent: Sent) -> bool:
    """A request an adapter hands to the bearer path: no certificates read, Bearer
    credentials, no ``DPoP`` field."""
    names = [name.lower() for name, _ in sent.fields]
    schemes = [
        value.split(" ")[0].lower() for name, value in sent.fields if name == "Authorization"
    ]
    return case.setting is None and "dpop" not in names and schemes == ["bearer"]


@pytest.mark.parametrize(("case", "adapter"), list(runs()))
def test_the_adapter_answers_the_case(
    case: CertificateCase, adapter: str, idp: IdentityProviders
) -> None:
    verifier = verifier_for(case, idp)

    with client_factory(adapter)(verifier) as client:

        def exchange(sent: Sent) -> Reply:
            answer = client.get(sent.path, headers=list(sent.fields))
            return Reply(answer.status, answer.headers)

        sent = case.request(World(world_env(idp), client.base_url, exchange))
        answer = client.get(sent.path, headers=list(sent.fields))

    challenge = None
    if case.error is not None:
        challenge = expected_challenge(case, bearer_path=on_the_bearer_path(case, sent))
        assert answer.headers["content-type"].split(";")[0] == "application/json"
    else:
        assert answer.body == {"sub": SUBJECT}
    judge_answer(case, Answer(answer.status, dict(answer.headers), answer.body), sent, challenge)


def test_every_case_without_a_tls_report_runs_through_every_adapter() -> None:
    assert len(list(runs())) == len(SENDABLE) * len(ADAPTERS)
    assert len(SENDABLE) > len(CERTIFICATE_CATALOGUE) * 3 // 4
