"""Build hook: the wheel carries the example APIs, so `bearerguard demo` runs when installed.

The repository keeps one copy, in examples/; a wheel built for installation places it at
bearerguard/_examples/examples (importable as examples.fastapi_app from bearerguard/_examples,
as the demo serves it). An editable install runs from the clone and gets no copy: the copy
would sit in site-packages beside the editable path and mislead tools that read the
installed files (pytest's assertion rewriting decides from them what to rewrite).
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ExamplesHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds examples/ to standard wheels (not editable ones)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard":
            build_data["force_include"]["examples"] = "bearerguard/_examples/examples"
