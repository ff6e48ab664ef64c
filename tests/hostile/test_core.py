"""Every row of the hostile-token catalogue through ``verify()`` and ``averify()``.

Each case runs in the catalogue's baseline world (a tenant and its custom domain,
served in-process) and must end exactly as its row says; see ``checks.py`` for
what every refusal is held to. No sockets: the providers answer through httpx
mock transports.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from tests.adapters.harness import IdentityProviders

from .builders import Case, Env
from .catalogue import CATALOGUE, CATALOGUE_IDS, NOT_APPLICABLE, POLICY_DIFFERENCES
from .checks import MODES, Mode, run_in_core

CASE_ID = re.compile(r"T\d\d-[A-Za-z0-9][A-Za-z0-9_+-]*")


def known_bug(case: Case, where: str) -> list[pytest.MarkDecorator]:
    """A strict xfail where the case records a verifier bug that shows ``where``."""
    return [pytest.mark.xfail(strict=True, reason=case.bug or "")] if case.shows_bug(where) else []


def params(cases: Iterable[Case]) -> list[Any]:
    return [pytest.param(case, id=case.id, marks=known_bug(case, "core")) for case in cases]


def world(idp: IdentityProviders) -> Env:
    """The baseline world: the tenant signs by default, its custom domain is served too."""
    return Env(idp.tenant, idp.clock, [idp.custom_domain])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", params(CATALOGUE))
def test_the_verifier_answers_the_row(
    case: Case, mode: Mode, idp: IdentityProviders, caplog: pytest.LogCaptureFixture
) -> None:
    run_in_core(case, world(idp), idp.verifier, mode, caplog)


# --- the table itself ----------------------------------------------------------------------------


def test_every_catalogue_id_is_in_the_table_or_not_applicable() -> None:
    in_table = {case.id[:3] for case in CATALOGUE}
    assert in_table | NOT_APPLICABLE.keys() == set(CATALOGUE_IDS)
    assert not in_table & NOT_APPLICABLE.keys()
    assert len(CATALOGUE_IDS) == len(set(CATALOGUE_IDS)) == 95


def test_case_ids_are_unique_and_start_with_their_catalogue_id() -> None:
    repeated = [id for id, count in Counter(c.id for c in CATALOGUE).items() if count > 1]
    assert repeated == []
    for case in CATALOGUE:
        assert CASE_ID.fullmatch(case.id), case.id


def test_policy_differences_name_rows_of_the_table() -> None:
    assert POLICY_DIFFERENCES.keys() <= {case.id[:3] for case in CATALOGUE}
    for reason in (*POLICY_DIFFERENCES.values(), *NOT_APPLICABLE.values()):
        assert reason
        assert reason == " ".join(reason.split())


def test_every_case_has_one_input() -> None:
    for case in CATALOGUE:
        start_up_only = case.token is None and case.request is None
        assert (case.token is None) != (case.request is None) or start_up_only, case.id
        assert not start_up_only or case.http is False, case.id
