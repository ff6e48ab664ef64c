"""What every benchmark script shares: its command line and how it says met / NOT met."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

__all__ = ["command_line", "emit", "verdict"]


def verdict(flag: bool) -> str:
    """How the tables mark a target."""
    return "met" if flag else "NOT met"


def command_line(doc: str | None) -> argparse.ArgumentParser:
    """A parser described by the module docstring's first line, with ``--json``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def emit(result: dict[str, Any], report: Callable[[dict[str, Any]], str], as_json: bool) -> int:
    """Print ``result`` as JSON or as its table; the exit status (0: a missed target is
    a finding, which the table states, not a failure to run)."""
    print(json.dumps(result, indent=2) if as_json else report(result))
    return 0
