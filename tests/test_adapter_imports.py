"""Importing an adapter: its framework is an extra, and a missing one is named.

Each adapter's import path is also the name of the extra that installs its
framework; without the framework, the import fails with an ``ImportError``
that says what to install (chained to the original ``ModuleNotFoundError``).
The framework-free middlewares import no framework at all.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

FRAMEWORKS = [
    "starlette",
    "fastapi",
    "flask",
    "werkzeug",
    "django",
    "rest_framework",
    "mcp",
    "fastmcp",
]


def run_python(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("module", "hidden", "message"),
    [
        (
            "bearerguard.starlette",
            ["starlette"],
            "bearerguard.starlette needs Starlette: pip install 'bearerguard[starlette]'",
        ),
        (
            "bearerguard.fastapi",
            ["fastapi"],
            "bearerguard.fastapi needs FastAPI: pip install 'bearerguard[fastapi]'",
        ),
        (
            "bearerguard.flask",
            ["flask", "werkzeug"],
            "bearerguard.flask needs Flask: pip install 'bearerguard[flask]'",
        ),
        (
            "bearerguard.django",
            ["django"],
            "bearerguard.django needs Django: pip install 'bearerguard[django]'",
        ),
        (
            "bearerguard.django.rest_framework",
            ["rest_framework"],  # Django alone is there: only DRF is missing
            "bearerguard.django.rest_framework needs Django REST framework: "
            "pip install 'bearerguard[django]'",
        ),
        (
            "bearerguard.mcp",
            ["mcp"],
            "bearerguard.mcp needs the MCP Python SDK: pip install 'bearerguard[mcp]'",
        ),
        (
            "bearerguard.mcp.fastmcp",
            ["fastmcp"],  # the SDK is there: only fastmcp is missing
            "bearerguard.mcp.fastmcp needs fastmcp 4.2 or later: "
            "pip install 'bearerguard[fastmcp]'",
        ),
    ],
)
def test_a_missing_framework_is_an_import_error_naming_the_extra(module, hidden, message):
    output = run_python(
        f"""
        import sys

        class Hide:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {hidden!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, Hide())
        try:
            import {module}
        except ImportError as exc:
            print(exc)
            print(type(exc.__cause__).__name__)
        """
    )
    assert output == [message, "ModuleNotFoundError"]


@pytest.mark.parametrize("module", ["bearerguard.asgi", "bearerguard.wsgi"])
def test_the_framework_free_middlewares_import_no_framework(module):
    output = run_python(
        f"""
        import sys, {module}
        print(",".join(m for m in {FRAMEWORKS!r} if m in sys.modules))
        """
    )
    assert output == [""]
