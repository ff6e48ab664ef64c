"""The micro benchmark, the step profile and the runner of every benchmark, at a tiny size.

They assert what each run reports and that the tables render, never a timing:
machines here are shared and noisy, and the figures belong in the benchmark runs.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import __main__ as runner
from benchmarks import micro, steps


@pytest.fixture(scope="module")
def micro_result() -> dict:
    return micro.run(0.05)


def test_micro_times_every_candidate_on_distinct_tokens(micro_result):
    assert set(micro_result["us_median"]) == {
        "floor", "floor_each", "bearerguard", "hit", "pyjwt", "parse",
    }  # fmt: skip
    assert all(value > 0 for value in micro_result["us_median"].values())
    assert not micro_result["tokens_reused"]
    assert micro_result["distinct_tokens"] >= 15 * micro_result["per_round"]
    expected = micro_result["us_median"]["bearerguard"] / micro_result["us_median"]["floor_each"]
    assert micro_result["bearerguard_over_floor"] == pytest.approx(expected)


def test_micro_report_names_each_target(micro_result):
    table = micro.report(micro_result)
    for label in ("bearerguard / floor", "PyJWT / bearerguard", "cache hit", "floor, each"):
        assert label in table
    json.dumps(micro_result)  # --json works


def test_the_profile_times_every_step_of_the_pipeline():
    result = steps.run(tokens=40)
    medians = result["us_median"]
    assert len(medians) == 9
    assert all(value > 0 for value in medians.values())
    table = steps.report(result)
    assert "signature (RS256)" in table
    assert "sum of the steps" in table


def test_the_summary_lists_every_target_of_the_benchmarks_that_ran(micro_result):
    load_result = {
        "setups": [
            {
                "name": "asgi",
                "ratios": {"reused": 0.9, "new": 0.5, "noop": 0.95},
                "targets": {"reused": 0.85, "new": 0.6},
                "met": {"reused": True, "new": False},
            },
            {"name": "flask-sync", "error": "the server did not start"},
        ]
    }
    text = runner.summary({"micro": micro_result, "load": load_result, "jwks": {"met": True}})
    assert "asgi reused" in text
    assert "asgi new" in text
    assert "0.50x  (>= 0.6x)  NOT met" in text
    assert "FAILED: the server did not start" in text
    assert "JWKS herds" in text
    assert "memory" not in text


def test_the_runner_refuses_an_unknown_benchmark(capsys):
    with pytest.raises(SystemExit):
        runner.main(["--only", "micro,nope"])
    assert "unknown benchmark(s): nope" in capsys.readouterr().err


def test_the_dpop_benchmark_times_each_candidate_and_names_each_target():
    from benchmarks import dpop

    result = dpop.run(0.05)

    assert set(result["us_median"]) == {
        "token_floor", "proof_floor", "new_token_new_proof", "cached_token_new_proof",
        "replay_check",
    }  # fmt: skip
    assert all(value > 0 for value in result["us_median"].values())
    floors = result["us_median"]["token_floor"] + result["us_median"]["proof_floor"]
    expected = result["us_median"]["new_token_new_proof"] / floors
    assert result["new_over_floors"] == pytest.approx(expected)
    redis = result["redis"]
    assert ("skipped" in redis) or (redis["us_median"] > 0 and redis["replay_refused"])
    table = dpop.report(result)
    for label in ("both floors", "proof floor", "replay check", "Redis round trip"):
        assert label in table
    json.dumps(result)
    summary = runner.summary({"dpop": result})
    assert "DPoP new token + proof / floors" in summary
    assert "DPoP replay check (memory)" in summary
