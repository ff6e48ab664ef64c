"""The sans-I/O core imports no HTTP client, no event loop and no threads.

The core (parsing, keys, the cache state machine, claims, the flow and its
drivers) decides everything; only ``_fetch``, ``_refresh`` and ``_verifier`` do
I/O. Each check runs in a fresh interpreter so that nothing imported by the
test session itself can hide an import.

``import bearerguard._flow`` would first run ``bearerguard/__init__.py``, which
exports :class:`Verifier` and so imports httpx on purpose. The subprocess
therefore registers an empty ``bearerguard`` package over the real directory and
imports the core modules alone.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

CORE = (
    "_config",
    "_introspection_config",
    "_client_auth",
    "_coerce",
    "_issuers",
    "_settings",
    "_introspection_settings",
    "_setting_text",
    "_urls",
    "_credentials",
    "_errors",
    "_jose",
    "_keys",
    "_keycache",
    "_claims",
    "_htu",
    "_dpop",
    "_nonces",
    "_request",
    "_token",
    "_scopes",
    "_tokencache",
    "_flow",
    "_drive",
)
IO_MODULES = ("httpx", "asyncio", "threading", "concurrent.futures", "socket", "ssl", "selectors")

_PROBE = """
import importlib, json, sys, types
package = types.ModuleType("bearerguard")
package.__path__ = [sys.argv[1]]
sys.modules["bearerguard"] = package
preloaded = set(sys.argv[2].split(","))
for name in preloaded - {""}:
    importlib.import_module(name)
before = set(sys.modules)
for name in sys.argv[3].split(","):
    importlib.import_module("bearerguard." + name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _package_dir() -> Path:
    spec = importlib.util.find_spec("bearerguard")  # finds it without importing it
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def _imported_by_core(preload: tuple[str, ...] = ()) -> set[str]:
    """The modules a fresh interpreter loads to import the core modules alone."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(_package_dir()), ",".join(preload), ",".join(CORE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def _top_level(names: set[str], wanted: tuple[str, ...]) -> set[str]:
    return {n for n in names for w in wanted if n == w or n.startswith(w + ".")}


def test_the_core_modules_exist() -> None:
    for name in CORE:
        assert (_package_dir() / f"{name}.py").is_file(), name


def test_the_core_imports_no_http_client_event_loop_or_sockets() -> None:
    loaded = _imported_by_core()
    assert "bearerguard._flow" in loaded  # the probe did import the core
    assert not _top_level(loaded, ("httpx", "asyncio", "concurrent", "socket", "ssl", "selectors"))
    assert not {"bearerguard._fetch", "bearerguard._refresh", "bearerguard._verifier"} & loaded


def test_the_core_modules_do_not_import_io_modules_themselves() -> None:
    """Static check of every ``import`` statement of the core and the modules it loads."""
    loaded = {n.split(".", 1)[1] for n in _imported_by_core() if n.startswith("bearerguard.")}
    assert set(CORE) <= loaded
    for name in sorted(loaded):
        tree = ast.parse((_package_dir() / f"{name}.py").read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                imported.add("bearerguard." + node.module)
        forbidden = _top_level(imported, IO_MODULES) | (
            imported & {"bearerguard._fetch", "bearerguard._refresh", "bearerguard._verifier"}
        )
        assert not forbidden, f"bearerguard.{name} imports {sorted(forbidden)}"


def test_the_core_does_not_even_load_threading_or_logging() -> None:
    loaded = _imported_by_core()
    assert "threading" not in loaded
    assert "logging" not in loaded


def test_threading_reaches_the_core_only_through_logging() -> None:
    loaded = _imported_by_core(preload=("logging",))
    assert not _top_level(loaded, IO_MODULES)
