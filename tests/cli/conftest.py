"""Fixtures of the command-line tests: a clean environment, a fake issuer, an in-process runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bearerguard._cli import main
from bearerguard.testing import FakeIssuer

ISSUER = "https://tenant.example.test/"
AUDIENCE = "https://api.example.test"


@dataclass(frozen=True)
class Result:
    """What a command did: its exit status and everything it printed."""

    status: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _no_bearerguard_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own BEARERGUARD_* variables must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("BEARERGUARD_"):
            monkeypatch.delenv(name)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """``cli("verify", token, ...)``: run ``bearerguard`` in-process and capture its output."""

    def run(*argv: str) -> Result:
        status = main(list(argv))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    """An active fake issuer: every Verifier trusting ISSUER gets its keys in-process."""
    with FakeIssuer(ISSUER, audience=AUDIENCE) as fake:
        yield fake
