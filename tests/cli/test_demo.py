"""``bearerguard demo``: the dev issuer and an example API on loopback, real tokens, exact answers.

The demo is run the way the README runs it, as a command, once per framework;
afterwards nothing it started may still be listening or running.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bearerguard._cli import demo, main

ROOT = Path(__file__).resolve().parents[2]


def listening(url: str) -> bool:
    host, port = re.fullmatch(r"http://([^:/]+):(\d+)/", url).groups()  # type: ignore[union-attr]
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def running(module: str) -> list[str]:
    """Processes whose command line names the example module."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if module in cmdline:
                found.append(cmdline)
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("framework", sorted(demo.FRAMEWORKS))
def test_the_demo_runs_every_step_and_stops_everything(framework):
    result = subprocess.run(
        [sys.executable, "-m", "bearerguard._cli", "demo", "--framework", framework],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("BEARERGUARD_")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout

    assert result.returncode == 0, output + result.stderr
    assert "[FAIL]" not in output
    assert output.count("[ok  ]") >= 10
    for shown in (
        "Client Credentials",
        "Authorization Code + PKCE",
        "a new refresh token replaced the old one",
        'WWW-Authenticate: Bearer realm="api"\n',
        'error_description="The access token expired"',
        'error="insufficient_scope", error_description="Insufficient scope", scope="read:contacts"',
        "custom domain",
        "Every step behaved as expected",
    ):
        assert shown in output
    issuer = re.search(r"dev issuer  (http://127\.0\.0\.1:\d+/)", output).group(1)  # type: ignore[union-attr]
    api = re.search(r" at (http://127\.0\.0\.1:\d+/)", output).group(1)  # type: ignore[union-attr]
    assert not listening(issuer)
    assert not listening(api)
    assert running(demo.FRAMEWORKS[framework].module) == []


def test_a_step_that_misbehaves_makes_the_demo_fail_and_still_stops_everything(monkeypatch, capsys):
    # An API identifier the dev issuer does not know: the token requests are refused.
    monkeypatch.setattr(demo, "API", "https://unknown-api.example.com")
    assert demo.run_demo("starlette", root=ROOT) == 1
    output = capsys.readouterr().out
    assert "[FAIL]" in output
    assert "did not behave as expected" in output
    assert running(demo.FRAMEWORKS["starlette"].module) == []


def test_without_the_examples_the_demo_says_where_to_run_it(tmp_path, capsys):
    assert main(["demo", "--root", str(tmp_path)]) == 2
    assert "run it from a clone of the" in capsys.readouterr().out


def test_the_demo_finds_the_repository_from_anywhere_inside_it():
    assert demo.find_examples(ROOT / "src" / "bearerguard") == ROOT


def test_help_names_the_frameworks(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert all(name in text for name in ("fastapi", "flask", "django", "starlette"))
