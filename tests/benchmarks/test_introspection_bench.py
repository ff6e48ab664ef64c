"""The introspection-cache benchmark at a tiny size: what it times and that the table renders.

It asserts what the run reports, never a timing: machines here are shared and noisy, and the
figures belong in the benchmark runs.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import __main__ as runner
from benchmarks import introspection


@pytest.fixture(scope="module")
def result() -> dict:
    return introspection.run(0.05)


def test_the_endpoint_is_asked_once_per_token_and_never_while_timing(result):
    assert result["endpoint_calls"] == result["distinct_tokens"]
    assert set(result["us_median"]) == {
        "introspection hit",
        "introspection hit, header",
        "JWT hit",
    }
    assert all(value > 0 for value in result["us_median"].values())
    assert result["hit_us"] == result["us_median"]["introspection hit"]
    assert result["met"] == (result["hit_us"] <= introspection.TARGET_HIT_US)


def test_the_table_names_the_target(result):
    table = introspection.report(result)
    assert "introspection hit" in table
    assert "<= 2.0 µs" in table
    json.dumps(result)  # --json works


def test_the_runner_knows_it():
    assert "introspection" in runner.RUNNERS
    assert runner.REPORTS["introspection"] is introspection.report
