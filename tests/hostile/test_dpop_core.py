"""Every hostile DPoP case through ``verify_request()`` and ``averify_request()``.

Each case runs against the catalogue's baseline world (a tenant and its custom
domain, served in-process, a fixed clock) and must end exactly as it says; see
``dpop_checks.py`` for what every answer is held to. No sockets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from tests.adapters.harness import IdentityProviders

from .checks import MODES, Mode
from .dpop_builders import ProofCase
from .dpop_catalogue import DPOP_CATALOGUE, POLICY
from .dpop_checks import run_in_core

CASE_ID = re.compile(r"D\d\d-[a-z0-9][a-z0-9+-]*")


def known_bug(case: ProofCase) -> list[pytest.MarkDecorator]:
    """A strict xfail for a case that records a verifier bug: it must keep failing until
    the bug is fixed, and then the mark must go."""
    return [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []


def params(cases: Iterable[ProofCase]) -> list[Any]:
    return [pytest.param(case, id=case.id, marks=known_bug(case)) for case in cases]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", params(DPOP_CATALOGUE))
def test_the_verifier_answers_the_case(
    case: ProofCase, mode: Mode, idp: IdentityProviders, caplog: pytest.LogCaptureFixture
) -> None:
    run_in_core(case, idp, mode, caplog)


# --- the catalogue itself ----------------------------------------------------------------------


def test_case_ids_are_unique_and_numbered() -> None:
    repeated = [id for id, count in Counter(c.id for c in DPOP_CATALOGUE).items() if count > 1]
    assert repeated == []
    for case in DPOP_CATALOGUE:
        assert CASE_ID.fullmatch(case.id), case.id


def test_every_row_from_d00_to_d24_has_cases() -> None:
    assert {case.id[:3] for case in DPOP_CATALOGUE} == {f"D{n:02d}" for n in range(25)}


def test_every_case_names_its_source() -> None:
    for case in DPOP_CATALOGUE:
        assert re.search(r"RFC \d{4}", case.source), case.id


def test_every_row_has_a_refusal_and_the_twins_are_accepted_ones() -> None:
    refused_rows = {case.id[:3] for case in DPOP_CATALOGUE if case.error is not None}
    assert refused_rows == {f"D{n:02d}" for n in range(1, 24)}
    assert all(case.error is None for case in DPOP_CATALOGUE if case.id[:3] in ("D00", "D24"))


def test_the_policy_notes_name_rows_of_the_catalogue() -> None:
    assert POLICY.keys() <= {case.id[:3] for case in DPOP_CATALOGUE}
    for note in POLICY.values():
        assert note == " ".join(note.split())
