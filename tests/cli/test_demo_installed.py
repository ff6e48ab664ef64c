"""``bearerguard demo`` from an installed package: a wheel, and an sdist, of the working tree.

Both are built here without network (``build --no-isolation``: hatchling comes
from the ``test`` extra) and installed with ``pip --target`` into a folder of
their own. The demo then runs from a working directory outside the repository
with only that folder on PYTHONPATH, so that the installed bearerguard, not the
editable one, is imported and must find the examples it carries. Installing the
sdist builds a wheel from it, which must carry them too.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = "bearerguard/_examples/examples/"
TIMEOUT = 300


def run(*command: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    return result.stdout


def build(source: Path, out: Path, *kinds: str) -> None:
    """``python -m build --no-isolation`` of ``source``: the ``kinds`` ("--sdist", "--wheel")."""
    run(sys.executable, "-m", "build", "--no-isolation", *kinds, "--outdir", out, source)


def only(folder: Path, pattern: str) -> Path:
    [found] = folder.glob(pattern)
    return found


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel and an sdist of the working tree."""
    out = tmp_path_factory.mktemp("dist")
    build(ROOT, out, "--sdist", "--wheel")
    return out


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request: pytest.FixtureRequest, dist: Path, tmp_path_factory) -> Path:
    """The folder a wheel, or the sdist (built into a wheel by pip), was installed into."""
    artifact = only(dist, "*.whl" if request.param == "wheel" else "*.tar.gz")
    target = tmp_path_factory.mktemp(f"installed-{request.param}")
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-index", "--no-build-isolation", "--target", target, artifact,
    )  # fmt: skip
    return target


def examples_in_the_repository() -> set[str]:
    folder = ROOT / "examples"
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*.py")
        if "__pycache__" not in path.parts
    }


def bytecode(names: list[str]) -> list[str]:
    return [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".pyo"))]


def test_the_wheel_carries_the_examples_privately_and_the_sdist_carries_them_too(dist):
    wheel = zipfile.ZipFile(only(dist, "*.whl")).namelist()
    assert {name[len(SHIPPED) :] for name in wheel if name.startswith(SHIPPED)} == (
        examples_in_the_repository()
    )
    assert not [name for name in wheel if name.startswith("examples/")]  # no top-level package
    assert bytecode(wheel) == []
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        names = sdist.getnames()
    top = names[0].split("/")[0]
    prefix = f"{top}/examples/"
    assert {name[len(prefix) :] for name in names if name.startswith(prefix)} >= (
        examples_in_the_repository()
    )
    assert bytecode(names) == []


def test_an_editable_install_carries_no_copy_of_the_examples():
    # The suite runs on the editable install scripts/bootstrap.sh makes: it runs from the
    # clone, and a copy in site-packages would be listed among its installed files, from
    # which pytest decides what to rewrite (a plugin's assertions would no longer be).
    installed = importlib.metadata.distribution("bearerguard")
    direct_url = json.loads(installed.read_text("direct_url.json") or "{}")
    assert direct_url.get("dir_info", {}).get("editable"), "run the suite on bootstrap's install"
    assert not [str(name) for name in installed.files or () if "_examples" in str(name)]


def test_bytecode_beside_the_examples_is_never_shipped(dist, tmp_path):
    # A wheel built from the unpacked sdist after the examples ran there: __pycache__ stays.
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        # The "data" filter where Python has it (3.10.12+): later versions warn without it.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        sdist.extractall(tmp_path / "unpacked", **safe)  # noqa: S202 - our own sdist
    source = only(tmp_path / "unpacked", "bearerguard-*")
    for folder in (source / "examples", source / "examples" / "django_app"):
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "settings.cpython-311.pyc").write_bytes(b"\0")
    build(source, tmp_path / "out", "--wheel")
    names = zipfile.ZipFile(only(tmp_path / "out", "*.whl")).namelist()
    assert f"{SHIPPED}django_app/settings.py" in names
    assert bytecode(names) == []


def steps(output: str) -> list[str]:
    """The walkthrough's step titles and checks, without the URLs and tokens around them."""
    return [line for line in output.splitlines() if re.match(r"(\d+\. |   \[(ok  |FAIL)\] )", line)]


def demo(command: list[str | Path], cwd: Path, pythonpath: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEARERGUARD_")}
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return run(*command, "demo", cwd=cwd, env=env)


@pytest.fixture(scope="module")
def steps_from_the_clone() -> list[str]:
    return steps(demo([sys.executable, "-m", "bearerguard._cli"], cwd=ROOT))


@pytest.mark.e2e
def test_the_installed_demo_runs_the_same_steps_as_the_clone_with_its_own_examples(
    installed, steps_from_the_clone, tmp_path
):
    outside = tmp_path / "somewhere-else"
    outside.mkdir()
    found = run(
        sys.executable, "-c", "import bearerguard; print(bearerguard.__file__)",
        cwd=outside, env={**os.environ, "PYTHONPATH": str(installed)},
    )  # fmt: skip
    assert Path(found.strip()) == installed / "bearerguard" / "__init__.py"
    # The console script pip installed, as a user would type it.
    script = installed / "bin" / "bearerguard"
    output = demo([script], cwd=outside, pythonpath=installed)

    shown = re.search(r"  examples    (.+)\n", output)
    assert shown, output
    assert Path(shown.group(1)) == installed / "bearerguard" / "_examples" / "examples"
    assert steps(output) == steps_from_the_clone
    assert len(steps(output)) >= 20  # six steps and their checks, DPoP's included
    assert "Every step behaved as expected" in output
