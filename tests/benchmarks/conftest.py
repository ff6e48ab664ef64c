"""What the benchmark tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

#: ``main_with(module, argv, result)``: the options ``module.main(argv)`` ran the benchmark
#: with and what it printed as JSON, the benchmark itself replaced by one returning ``result``.
MainWith = Callable[[ModuleType, list[str], dict[str, Any]], tuple[dict[str, Any], Any]]


@pytest.fixture
def main_with(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> MainWith:
    def call(
        module: ModuleType, argv: list[str], result: dict[str, Any]
    ) -> tuple[dict[str, Any], Any]:
        seen: dict[str, Any] = {}

        def run(**options: Any) -> dict[str, Any]:  # the benchmark itself ran elsewhere
            seen.update(options)
            return result

        monkeypatch.setattr(module, "run", run)
        assert module.main(argv) == 0
        return seen, json.loads(capsys.readouterr().out)

    return call
