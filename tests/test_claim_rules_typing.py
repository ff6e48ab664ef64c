"""Claim rules are typed so that mypy catches their misuse before anything runs.

A small program using the rules as documented type-checks cleanly under ``mypy
--strict``; each line of another, misusing them, is an error of the expected kind.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

WELL_TYPED = """
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bearerguard import ClaimRule, Rule, Verifier, claims
from bearerguard.fastapi import BearerAuth
from bearerguard.flask import requires


def is_staff(token_claims: Mapping[str, Any]) -> bool:
    return token_claims.get("staff") is True


rules: list[ClaimRule] = [
    claims.required("org_id", "email"),
    claims.equals("email_verified", True),
    claims.equals("tier", 3),
    claims.equals("region", None),
    claims.includes("roles", "admin", "editor", namespace="https://example.com/"),
    claims.any_of(claims.includes("roles", "admin"), claims.check(is_staff, "staff only")),
]
verifier = Verifier(
    issuer="tenant.auth0.com",
    audience="https://api.example.com",
    required_claims=["org_id"],
    claim_rules=rules,
)
Rule("/api/reports", "read:reports", claims=rules)
requires("read:reports", claims=rules)
auth = BearerAuth(verifier)
analysts: BearerAuth = auth.with_claims(claims.includes("roles", "analyst"))
optional_analysts = analysts.optional
"""

# Each line misuses the vocabulary; the comment names the error mypy must report there.
MISUSED = """
from __future__ import annotations

from bearerguard import Rule, Verifier, claims
from bearerguard.fastapi import BearerAuth

verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
claims.equals(1, 2)  # arg-type: a claim name is a string
claims.equals("roles", ["admin"])  # arg-type: arrays are for includes()
claims.equals("tenant", {"id": 1})  # arg-type: objects are for check()
claims.includes("groups", 42)  # arg-type: includes() compares strings
claims.required("org_id", namespace=True)  # arg-type: a namespace is a string
claims.check(lambda c: True, 3)  # arg-type: the description is a sentence
claims.check("org_id", "needs an org")  # arg-type: a predicate is a function
claims.any_of("roles")  # arg-type: any_of() combines rules
Verifier(issuer="t.auth0.com", audience="https://api", claim_rules=["org_id"])  # list-item
Verifier(issuer="t.auth0.com", audience="https://api", required_claims=[1])  # list-item
Rule("/api/reports", claims=["org_id"])  # list-item: a name is no rule
BearerAuth(verifier).with_claims("roles")  # arg-type: with_claims() takes rules
"""


def _mypy(source: str, tmp_path: Path) -> list[tuple[int, str]]:
    """The (line, error code) of every error mypy --strict reports for ``source``."""
    program = tmp_path / "program.py"
    program.write_text(source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(program),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    found = re.findall(r"program\.py:(\d+): error: .*\[([a-z-]+)\]$", result.stdout, re.M)
    return [(int(line), code) for line, code in found]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    tmp_path = tmp_path_factory.mktemp("mypy")
    return {"well typed": _mypy(WELL_TYPED, tmp_path), "misused": _mypy(MISUSED, tmp_path)}


def test_the_documented_uses_type_check(checked: dict[str, list[tuple[int, str]]]) -> None:
    assert checked["well typed"] == []


def test_every_misuse_is_a_type_error(checked: dict[str, list[tuple[int, str]]]) -> None:
    expected = [
        (number, line.split("# ")[1].split(":")[0].strip())
        for number, line in enumerate(MISUSED.splitlines(), start=1)
        if "# " in line
    ]
    assert len(expected) == 12
    assert checked["misused"] == expected
