"""The encrypted-token benchmark at a tiny size: both kinds timed against their floors.

It asserts what the run reports and that the table renders, never a timing: machines here are
shared and noisy, and the figures belong in the benchmark runs.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import __main__ as runner
from benchmarks import jwe


@pytest.fixture(scope="module")
def result() -> dict:
    return jwe.run(0.05)


def test_each_kind_of_encrypted_token_is_timed_whole_and_at_its_floor(result):
    assert result["kinds"] == ["RSA-OAEP-256 + A256GCM", "ECDH-ES + A128GCM"]
    medians = result["us_median"]
    assert set(medians) == {
        f"{kind} {what}" for kind in jwe.KINDS for what in ("verify()", "floor")
    }
    assert all(value > 0 for value in medians.values())
    for kind in jwe.KINDS:
        expected = medians[f"{kind} verify()"] / medians[f"{kind} floor"]
        assert result["over_floor"][kind] == pytest.approx(expected)
        # the encrypted token carries the signed one, and more
        assert result["sizes"][kind]["token_chars"] > result["sizes"][kind]["inner_chars"]


def test_the_table_names_each_kind_and_its_floor(result):
    table = jwe.report(result)
    for label in ("RSA-OAEP-256 + A256GCM", "ECDH-ES + A128GCM", "x floor", "no target"):
        assert label in table
    json.dumps(result)  # --json works


def test_the_runner_knows_it():
    assert "jwe" in runner.RUNNERS
    assert runner.REPORTS["jwe"] is jwe.report
