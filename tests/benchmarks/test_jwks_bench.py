"""The JWKS benchmark at a tiny size: its exact properties hold and its report renders.

Fetch counts, outcomes and key-import counts are correctness properties and are
asserted; latencies depend on the host and are not (the ``p99`` check is left out).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks import jwks

from .conftest import MainWith

REQUESTS = 40
UNKNOWN = 100
SAMPLES = 100


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return jwks.run(latency_ms=20.0, requests=REQUESTS, unknown=UNKNOWN, samples=SAMPLES)


def rows(result: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    found = [row for row in result["rows"] if row["scenario"].startswith(prefix)]
    assert {row["mode"] for row in found} == {"threads", "tasks"}
    return found


def test_the_result_is_json_and_names_its_versions(result: dict[str, Any]) -> None:
    decoded = json.loads(json.dumps(result))
    assert decoded["benchmark"] == "jwks"
    assert decoded["method"]["latency_ms"] == 20.0
    assert {"python", "bearerguard", "httpx", "cryptography"} <= decoded.keys()


def test_every_check_but_timing_is_met(result: dict[str, Any]) -> None:
    for row in result["rows"]:
        failed = [name for name, ok in row["checks"].items() if not ok and name != "p99"]
        assert not failed, (row["scenario"], row["mode"], failed, row)


def test_a_cold_start_makes_one_discovery_and_one_jwks_fetch(result: dict[str, Any]) -> None:
    for row in rows(result, "cold start"):
        assert row["fetches"] == {"discovery": 1, "jwks": 1}
        assert row["outcomes"] == {"ok": REQUESTS}


def test_a_rotation_refetches_once(result: dict[str, Any]) -> None:
    for row in rows(result, "rotation"):
        assert row["fetches"] == {"discovery": 0, "jwks": 1}
        assert row["outcomes"] == {"ok": REQUESTS}


def test_a_key_rotated_in_after_a_routine_fetch_is_accepted_on_its_first_request(
    result: dict[str, Any],
) -> None:
    for after, routine in jwks.ROUTINE_FETCHES.items():
        found = rows(result, f"rotated in 1 s after {routine}")
        assert len(found) == 2
        for row in found:
            assert row["fetches"] == {"discovery": 0, "jwks": 1}
            assert row["outcomes"] == {"ok": 1}
            assert row["routine_fetches"] == {"discovery": 1, "jwks": 2 if after == "ttl" else 1}
            assert row["checks"] == {"fetches": True, "outcomes": True, "routine": True}


def test_unknown_kids_refetch_once_and_are_all_refused(result: dict[str, Any]) -> None:
    for row in rows(result, "unknown kids"):
        assert row["fetches"] == {"discovery": 0, "jwks": 1}
        assert row["fetches_first_burst"] == {"discovery": 0, "jwks": 1}
        assert row["outcomes"] == {"401": 2 * UNKNOWN}


def test_cached_keys_verify_while_a_fetch_is_in_flight(result: dict[str, Any]) -> None:
    in_flight = rows(result, "in flight")
    assert len(in_flight) == 2 * len(jwks.IN_FLIGHT)
    for row in in_flight:
        assert row["outcomes"] == {"ok": row["requests"]}
        assert row["requests"] >= SAMPLES or row["variant"].endswith("-course")
        if row["variant"] in ("other", "rotation", "unknown"):
            assert row["fetch_in_flight_throughout"] is True
        assert row["slow_caller"] == {"none": "-", "unknown": "401"}.get(
            row["variant"].removesuffix("-course"), "ok"
        )


def test_keys_are_imported_once_per_fetch_and_never_per_request(result: dict[str, Any]) -> None:
    for row in rows(result, "key imports"):
        assert row["imports"] == {"cold_fetch": 2, "warm": 0, "rotation_fetch": 3}


def test_the_report_renders_every_row(result: dict[str, Any]) -> None:
    text = jwks.report(result)
    assert "cold start: concurrent first requests" in text
    assert "rotated in 1 s after the first fetch" in text
    assert "rotated in 1 s after a TTL refresh" in text
    assert "same issuer, unknown kid, held" in text
    assert "Key imports" in text


def test_main_passes_its_options_and_prints_json(
    result: dict[str, Any], main_with: MainWith
) -> None:
    argv = ["--json", "--latency", "5", "--requests", "4", "--unknown", "3", "--samples", "2"]
    seen, printed = main_with(jwks, argv, result)
    assert seen == {"latency_ms": 5.0, "requests": 4, "unknown": 3, "samples": 2, "workers": 2}
    assert printed["benchmark"] == "jwks"
