"""The memory benchmark at a tiny size: bounded caches, expected answers, a rendered report."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks import memory

from .conftest import MainWith

TOKENS = 6_000  # enough for 1,200 tokens sent twice: the token cache (1024) fills up


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return memory.run(tokens=TOKENS)


def test_every_kind_gets_its_expected_answer(result: dict[str, Any]) -> None:
    assert result["answers_met"]
    requests = sum(sum(answers.values()) for answers in result["outcomes"].values())
    assert requests == result["method"]["requests"] > TOKENS
    for name, share, sends, answer in memory.MIX:
        assert result["outcomes"][name] == {answer: TOKENS * share // 100 * sends}


def test_every_cache_stays_within_its_bound(result: dict[str, Any]) -> None:
    assert all(result["caches_within_bounds"].values()), result["caches"]
    caches = result["caches"]
    assert caches["header memo (VerifyPlan.headers)"]["bound"] == 64
    token_cache = caches["verified-token cache"]
    if token_cache["bound"] is not None:  # the cache is on by default: 1024 entries
        assert token_cache["size"] == token_cache["bound"]
    for point in result["checkpoints"]:
        assert point["caches"]["header memo (VerifyPlan.headers)"] <= 64


def test_rss_is_read_at_each_checkpoint_and_stays_bounded(result: dict[str, Any]) -> None:
    assert [p["tokens"] for p in result["checkpoints"]] == [1_000, 1_200, TOKENS]
    assert all(p["rss"] > 0 and p["peak"] >= p["rss"] for p in result["checkpoints"])
    # Not timing: a few MB of caches against an 8 MB bound, however loaded the host is.
    assert result["bound_met"], result["rss_growth_after_warm_up_mb"]
    assert result["checks"]["fetches"]


def test_the_result_is_json_and_the_report_renders(result: dict[str, Any]) -> None:
    decoded = json.loads(json.dumps(result))
    assert decoded["benchmark"] == "memory"
    text = memory.report(result)
    assert "verified-token cache" in text
    assert "RSS growth after 1,200 tokens" in text


def test_main_passes_its_options_and_prints_json(
    result: dict[str, Any], main_with: MainWith
) -> None:
    seen, printed = main_with(memory, ["--json", "--tokens", "200"], result)
    assert seen == {"tokens": 200}
    assert printed["benchmark"] == "memory"
