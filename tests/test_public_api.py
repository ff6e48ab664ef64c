"""The public surface: one sorted, complete ``__all__``; nothing framework-shaped at import."""

from __future__ import annotations

import subprocess
import sys
import types

import bearerguard


def test_all_is_sorted():
    assert bearerguard.__all__ == sorted(bearerguard.__all__)


def test_all_lists_every_public_name_and_only_those():
    # Private modules are _name and adapters are modules (bearerguard.asgi, ...) that appear
    # as attributes once imported; "annotations" is the __future__ flag, not API.
    public = {
        name
        for name, value in vars(bearerguard).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    public |= {"__version__"}
    assert set(bearerguard.__all__) == public


def test_every_name_in_all_exists():
    for name in bearerguard.__all__:
        assert hasattr(bearerguard, name), name


def test_the_names_the_spec_promises_are_exported():
    promised = {
        "Verifier", "AccessToken", "BearerError", "MissingTokenError", "InvalidRequestError",
        "InvalidTokenError", "InsufficientScopeError", "KeySetUnavailableError",
        "ConfigurationError", "token_from_authorization",
    }  # fmt: skip
    assert promised <= set(bearerguard.__all__)


def test_public_classes_live_under_the_package_name():
    for name in bearerguard.__all__:
        obj = getattr(bearerguard, name)
        if isinstance(obj, type):
            assert obj.__module__.startswith("bearerguard"), name


def test_importing_bearerguard_imports_no_web_framework():
    frameworks = ["starlette", "fastapi", "flask", "django", "rest_framework", "werkzeug"]
    code = (
        "import sys, bearerguard\n"
        f"loaded = [m for m in {frameworks!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
