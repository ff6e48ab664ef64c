"""The signatures benchmark at a tiny size: every algorithm timed, ML-DSA's levels included.

It asserts what the run reports and that the table renders, never a timing: machines here are
shared and noisy, and the figures belong in the benchmark runs.
"""

from __future__ import annotations

import json

from benchmarks import __main__ as runner
from benchmarks import signatures


def test_every_algorithm_is_timed_whole_and_signature_alone():
    result = signatures.run(0.05)
    assert result["algorithms"] == list(signatures.ALGORITHMS)
    assert {"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"} <= set(result["algorithms"])
    medians = result["us_median"]
    assert set(medians) == {
        f"{alg} {what}" for alg in signatures.ALGORITHMS for what in ("verify()", "signature")
    }
    assert all(value > 0 for value in medians.values())
    # FIPS 204 Table 2: what an ML-DSA token carries, against an RS256 one.
    sizes = result["sizes"]
    assert sizes["ML-DSA-65"]["signature_bytes"] == 3309
    assert sizes["ML-DSA-87"]["token_chars"] > 6 * sizes["RS256"]["token_chars"]
    table = signatures.report(result)
    assert "ML-DSA-65" in table
    assert "vs RS256" in table
    json.dumps(result)  # --json works


def test_the_runner_knows_it():
    assert "signatures" in runner.RUNNERS
    assert runner.REPORTS["signatures"] is signatures.report
