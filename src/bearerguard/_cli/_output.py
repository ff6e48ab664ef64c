"""Printing helpers shared by the commands: sections, fields, JSON, times, safe text.

Everything a token or a server sends is hostile until verified, and a terminal
obeys escape sequences: every such value goes through :func:`safe` or
:func:`pretty_json`, which escape what is not printable.
"""

from __future__ import annotations

import io
import json
import math
import sys
import textwrap
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "INDENT",
    "TIME_CLAIMS",
    "as_numeric_date",
    "configure_streams",
    "error",
    "field",
    "iso_time",
    "pretty_json",
    "relative_time",
    "safe",
    "section",
    "time_claims",
    "timestamp",
]

#: NumericDate claims (RFC 7519 §4.1, OIDC Core §2 and §5.1) shown with readable times.
TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time", "updated_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
INDENT = "  "


def configure_streams() -> None:
    """Never crash on a character the terminal's encoding lacks: escape it instead.

    A claim may hold any Unicode; a Windows pipe or an ``LANG=C`` shell may not.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def safe(text: str) -> str:
    """``text`` with every unprintable character escaped (``\\x1b`` -> ``\\u001b``).

    Example::

        safe("alice\\x1b[2J")   # 'alice\\\\u001b[2J': no terminal escape reaches the screen
    """
    if text.isprintable():
        return text
    # json's ASCII escapes: \\n, \\u001b, \\u202e, and surrogate pairs beyond the BMP.
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in text)


def pretty_json(value: Any, *, indent: str = "") -> str:
    """Indented JSON, non-ASCII kept readable, unprintable characters escaped.

    The output is valid JSON: outside strings, JSON output holds only printable
    ASCII, spaces and newlines, so escaping happens inside strings only.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    lines = (safe(line) for line in text.split("\n"))
    return "\n".join(indent + line for line in lines)


def section(title: str, lines: Iterable[str] = ()) -> str:
    """A titled block: the title on its own line, the body indented below it.

    Example::

        section("CLAIMS (decoded, NOT verified)", ["{", '  "sub": "alice"', "}"])
    """
    body = "\n".join(lines)
    return title if not body else f"{title}\n{textwrap.indent(body, INDENT)}"


def field(label: str, value: str, width: int = 10) -> str:
    """One aligned ``label  value`` line of a section body."""
    return f"{label:<{width}} {value}"


def error(command: str, message: str) -> None:
    """Print ``bearerguard COMMAND: error: message`` on stderr, as argparse words its own."""
    print(f"bearerguard {command}: error: {message}", file=sys.stderr)


def as_numeric_date(value: Any) -> float | None:
    """``value`` if it is a NumericDate a calendar can show (a JSON number, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or not -62135596800 <= value <= 253402300799:
        return None
    return float(value)


def iso_time(value: float) -> str:
    """``2025-01-01T12:00:00Z`` (UTC, whole seconds).

    Built from the epoch plus a timedelta rather than ``fromtimestamp``, which
    refuses dates before 1970 on some platforms.
    """
    return (_EPOCH + timedelta(seconds=int(value))).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative_time(seconds: float) -> str:
    """A short human distance from now: ``in 59 min``, ``3 h ago``, ``now``.

    Example::

        relative_time(3540)     # 'in 59 min'
        relative_time(-10800)   # '3 h ago'
    """
    span = abs(seconds)
    if span < 1:
        return "now"
    if span < 60:
        amount, unit = span, "s"
    elif span < 3600:
        amount, unit = span / 60, "min"
    elif span < 48 * 3600:
        amount, unit = span / 3600, "h"
    else:
        amount, unit = span / 86400, "days"
    text = f"{int(amount)} {unit}"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def timestamp(value: float, now: float) -> str:
    """``2025-01-01T12:00:00Z (in 59 min)``."""
    return f"{iso_time(value)} ({relative_time(value - now)})"


def time_claims(claims: Mapping[str, Any], now: float) -> dict[str, dict[str, Any]]:
    """The readable times of the NumericDate claims present: ``{"exp": {...}}``."""
    times: dict[str, dict[str, Any]] = {}
    for name in TIME_CLAIMS:
        value = as_numeric_date(claims.get(name))
        if value is not None:
            times[name] = {
                "value": claims[name],
                "utc": iso_time(value),
                "relative": relative_time(value - now),
            }
    return times
