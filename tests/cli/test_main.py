"""``bearerguard``: the commands, their help, the version, and the lazy dev-issuer."""

from __future__ import annotations

import argparse
import subprocess
import sys
import types

import pytest

from bearerguard import __version__
from bearerguard._cli import main

from .conftest import Run

OPTIONS = {
    "verify": ["TOKEN", "--issuer", "--audience", "--scope", "--any-scope", "--algorithm",
               "--jwks-uri", "--leeway", "--scope-claim", "--json", "BEARERGUARD_ISSUER",
               "--dpop-proof", "--method", "--url"],
    "decode": ["TOKEN", "--json", "Nothing is verified"],
    "token": ["--issuer", "--flow", "client-credentials", "authorization-code", "refresh-token",
              "implicit", "--client-id", "--client-secret", "--audience", "--scope",
              "--redirect-uri", "--user", "--refresh-token", "--json", "--dpop-key"],
    "proof": ["--dpop-key", "--method", "--url", "--token", "--nonce",
              'curl -H "Authorization: DPoP $TOKEN"'],
    "demo": ["--framework", "--root"],
}  # fmt: skip


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]):
    text = help_of(capsys, "--help")
    for command in ("verify", "decode", "token", "proof", "dev-issuer", "demo"):
        assert f"    {command}" in text


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_every_command_has_help_naming_its_options(
    capsys: pytest.CaptureFixture[str], command: str
):
    text = " ".join(help_of(capsys, command, "--help").split())  # undo argparse's wrapping
    assert text.startswith(f"usage: bearerguard {command}")
    for option in OPTIONS[command]:
        assert option in text, option


def test_version(capsys: pytest.CaptureFixture[str]):
    assert help_of(capsys, "--version") == f"bearerguard {__version__}\n"


def test_no_command_prints_the_help(cli: Run):
    result = cli()
    assert result.status == 0
    assert "usage: bearerguard" in result.out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_the_command_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "bearerguard._cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "verify" in result.stdout
    assert "dev-issuer" in result.stdout


# --- dev-issuer: loaded only when it runs -----------------------------------------------------


@pytest.fixture
def devissuer_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "bearerguard.devissuer.cli", None)


@pytest.mark.usefixtures("devissuer_missing")
def test_without_the_dev_issuer_every_other_command_still_works(
    cli: Run, capsys: pytest.CaptureFixture[str]
):
    assert "dev-issuer" in help_of(capsys, "--help")
    assert cli("decode", "a.b").status == 1


@pytest.mark.usefixtures("devissuer_missing")
def test_without_the_dev_issuer_the_command_says_so(cli: Run):
    result = cli("dev-issuer", "--port", "9000")
    assert result.status == 1
    assert result.err.startswith(
        "bearerguard dev-issuer: error: the dev issuer is not available in this installation"
    )
    helped = cli("dev-issuer", "--help")
    assert helped.status == 0
    assert "Not available in this installation" in helped.out


def test_dev_issuer_hands_its_arguments_to_the_dev_issuer_cli(
    cli: Run, monkeypatch: pytest.MonkeyPatch
):
    received: list[argparse.Namespace] = []

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=0)
        parser.add_argument("--auto-approve", action="store_true")

    def run(args: argparse.Namespace) -> int:
        received.append(args)
        return 7

    fake = types.ModuleType("bearerguard.devissuer.cli")
    fake.add_arguments = add_arguments  # type: ignore[attr-defined]
    fake.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bearerguard.devissuer.cli", fake)

    assert cli("dev-issuer", "--port", "9000", "--auto-approve").status == 7
    assert received[0].port == 9000
    assert received[0].auto_approve is True


def test_the_real_dev_issuer_has_help(capsys: pytest.CaptureFixture[str]):
    pytest.importorskip("bearerguard.devissuer.cli")
    text = help_of(capsys, "dev-issuer", "--help")
    assert text.startswith("usage: bearerguard dev-issuer")
    assert "--port" in text
