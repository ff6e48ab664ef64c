"""Run wrk with ``tokens.lua`` and read what it says.

wrk is a C load generator: one thread of it saturates a Python server many times
over, where a Python client would saturate its own core first. It prints a text
summary (whose ``Non-2xx or 3xx responses`` line counts every answer above 399)
and, from ``tokens.lua``'s ``done()``, one ``LOADBENCH {json}`` line with the
exact counts, the latency percentiles and how many tokens the script handed out.
Both are read and must agree on the refusals: a measurement with any is void.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LUA_SCRIPT",
    "PROOFS_SCRIPT",
    "WrkError",
    "WrkMissingError",
    "WrkResult",
    "find_wrk",
    "parse",
    "run",
]

LUA_SCRIPT = Path(__file__).with_name("tokens.lua")
PROOFS_SCRIPT = Path(__file__).with_name("proofs.lua")  # the DPoP variants
_MARKER = "LOADBENCH "
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s*([\d.]+)")
MISSING = (
    "wrk, the HTTP load generator, is not installed: run `bash scripts/bench.sh` "
    "(it installs wrk from the system's packages), or install wrk yourself "
    "(apt-get install wrk; brew install wrk)."
)


class WrkMissingError(RuntimeError):
    """wrk is not on PATH."""


class WrkError(RuntimeError):
    """wrk failed, or said something this module does not understand."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run, as ``tokens.lua`` and the text summary report it."""

    requests: int
    duration_s: float
    non_2xx: int  # wrk counts statuses above 399
    socket_errors: dict[str, int]  # connect, read, write, timeout
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    generated: int  # requests tokens.lua made (answered or not when the time was up)
    pool: int  # tokens in the file
    first: int  # index of the first token sent

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "duration_s": self.duration_s,
            "requests_per_second": self.requests_per_second,
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "latency_ms": {"p50": self.p50_ms, "p90": self.p90_ms, "p99": self.p99_ms},
            "tokens": {"first": self.first, "sent": self.generated, "in_file": self.pool},
        }


def find_wrk() -> str:
    """The path of wrk, or :class:`WrkMissingError` naming ``scripts/bench.sh``."""
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissingError(MISSING)
    return found


def version(wrk: str) -> str:
    """``4.1.0``-style version of ``wrk`` (``wrk -v`` prints it and exits non-zero)."""
    output = subprocess.run(  # noqa: S603 - our own argument list
        [wrk, "-v"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    found = re.search(r"wrk (\S+)", output)
    return found[1] if found else "unknown"


def run(
    wrk: str,
    url: str,
    tokens: Path,
    *,
    first: int = 0,
    seconds: int,
    connections: int,
    threads: int = 1,
    script: Path = LUA_SCRIPT,
) -> WrkResult:
    """Load ``url`` for ``seconds`` (whole seconds: wrk sleeps that long) with ``connections``.

    ``script`` makes the requests from the file ``tokens``: ``tokens.lua`` (one token per
    line, from index ``first``) or ``proofs.lua`` (a bound token and one proof per line).
    """
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        str(tokens),
        str(first),
    ]
    done = subprocess.run(  # noqa: S603 - our own argument list
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    if done.returncode != 0:
        raise WrkError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")
    return parse(done.stdout)


def parse(output: str) -> WrkResult:
    """Read wrk's output: the ``LOADBENCH`` line of ``tokens.lua``, checked against the text."""
    line = next((line for line in output.splitlines() if line.startswith(_MARKER)), None)
    if line is None:
        raise WrkError(f"wrk printed no {_MARKER.strip()} line (did tokens.lua run?):\n{output}")
    try:
        return _checked(json.loads(line[len(_MARKER) :]), output)
    except (ValueError, KeyError, TypeError) as exc:
        raise WrkError(f"tokens.lua's summary is not what it should be: {line}") from exc


def _checked(data: dict[str, Any], output: str) -> WrkResult:
    errors = data["errors"]
    text_non_2xx = _NON_2XX.search(output)
    if (int(text_non_2xx[1]) if text_non_2xx else 0) != errors["status"]:
        raise WrkError(f"wrk's text and tokens.lua disagree on the refusals:\n{output}")
    socket = _SOCKET_ERRORS.search(output)
    if socket and [int(n) for n in socket.groups()] != [
        errors[name] for name in ("connect", "read", "write", "timeout")
    ]:
        raise WrkError(f"wrk's text and tokens.lua disagree on the socket errors:\n{output}")
    if not _REQUESTS_PER_SECOND.search(output) or data["duration_us"] <= 0:
        raise WrkError(f"wrk printed no request rate:\n{output}")
    latency = data["latency_us"]
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        non_2xx=errors["status"],
        socket_errors={name: errors[name] for name in ("connect", "read", "write", "timeout")},
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        generated=data["generated"],
        pool=data["pool"],
        first=data["first"],
    )
