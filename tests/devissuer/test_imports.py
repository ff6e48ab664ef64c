"""The dev issuer shares its minting with the testing support through ``bearerguard._mint``.

No module of ``bearerguard.devissuer`` imports ``bearerguard.testing``: a development
server must not depend on the test helpers (nor drag in their pytest plugin), and
the two must sign alike because they run the same code, not because one borrows
the other's private modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bearerguard.devissuer

PACKAGE = Path(bearerguard.devissuer.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (relative ones resolved)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "bearerguard.devissuer" if node.level == 1 else ""
            names.add(".".join(part for part in (base, node.module or "") if part))
    return names


def test_no_module_of_the_dev_issuer_imports_the_testing_package():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        testing = {
            name
            for name in imported_modules(module)
            if name == "bearerguard.testing" or name.startswith("bearerguard.testing.")
        }
        assert not testing, f"{module.name} imports {sorted(testing)}"


def test_running_the_dev_issuer_loads_nothing_of_the_testing_package():
    code = (
        "import sys\n"
        "from bearerguard.devissuer import DevIssuer, cli\n"
        "with DevIssuer() as issuer:\n"
        "    issuer.mint_access_token(audience='https://api.example.com')\n"
        "print(sorted(m for m in sys.modules if m.startswith('bearerguard.testing')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr
