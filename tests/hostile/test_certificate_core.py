"""Every hostile certificate case through ``verify_request()`` and ``averify_request()``.

Each case runs against the catalogue's baseline world (a tenant and its custom
domain, served in-process, a fixed clock), over the request an ASGI adapter and a
WSGI adapter build (the server's TLS report only where the case has one), and must
end exactly as it says; see ``certificate_checks.py`` for what every answer is held
to. No sockets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.adapters.harness import IdentityProviders

from .certificate_catalogue import CERTIFICATE_CATALOGUE, POLICY
from .certificate_checks import Builder, run_in_core
from .checks import MODES, Mode

CASE_ID = re.compile(r"C\d\d-[a-z0-9][a-z0-9+-]*")


def runs() -> Iterator[Any]:
    for case in CERTIFICATE_CATALOGUE:
        for builder in case.builders:
            yield pytest.param(case, builder, id=f"{builder}-{case.id}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("case", "builder"), list(runs()))
def test_the_verifier_answers_the_case(
    case: Any,
    builder: Builder,
    mode: Mode,
    idp: IdentityProviders,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run_in_core(case, idp, mode, builder, caplog)


# --- the catalogue itself ----------------------------------------------------------------------


def test_case_ids_are_unique_and_numbered() -> None:
    repeated = [id for id, n in Counter(c.id for c in CERTIFICATE_CATALOGUE).items() if n > 1]
    assert repeated == []
    for case in CERTIFICATE_CATALOGUE:
        assert CASE_ID.fullmatch(case.id), case.id


def test_every_row_from_c00_to_c12_has_cases() -> None:
    assert {case.id[:3] for case in CERTIFICATE_CATALOGUE} == {f"C{n:02d}" for n in range(13)}


def test_every_case_names_its_source() -> None:
    for case in CERTIFICATE_CATALOGUE:
        assert re.search(r"RFC \d{4}", case.source), case.id


def test_every_row_but_the_twins_has_a_refusal() -> None:
    refused_rows = {case.id[:3] for case in CERTIFICATE_CATALOGUE if case.error is not None}
    assert refused_rows == {f"C{n:02d}" for n in range(1, 13)}
    assert all(case.error is None for case in CERTIFICATE_CATALOGUE if case.id[:3] == "C00")


def test_every_source_is_in_the_catalogue() -> None:
    settings = {case.setting for case in CERTIFICATE_CATALOGUE}
    assert settings == {
        None,
        "tls",
        "header:Client-Cert",
        "header:X-Forwarded-Client-Cert",
        "header:X-SSL-Client-Cert",
    }


def test_the_policy_notes_name_rows_of_the_catalogue() -> None:
    assert POLICY.keys() <= {case.id[:3] for case in CERTIFICATE_CATALOGUE}
    for note in POLICY.values():
        assert note == " ".join(note.split())
