"""The ``bearerguard`` command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bearerguard import __version__
from bearerguard._cli import main, run_demo


def test_the_demo_walks_through_every_answer_and_succeeds():
    lines: list[str] = []
    assert run_demo(lines.append) == 0
    text = "\n".join(lines)
    assert "[FAIL]" not in text
    assert text.count("[ok  ]") >= 15
    assert 'Bearer realm="api", error="insufficient_scope"' in text
    assert 'error_description="The access token expired"' in text
    assert '-> 401 WWW-Authenticate: Bearer realm="api"\n' in text + "\n"
    assert "every answer was the expected one" in text


def test_the_demo_runs_as_a_command_without_network():
    result = subprocess.run(
        [sys.executable, "-m", "bearerguard._cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every answer was the expected one" in result.stdout


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out
