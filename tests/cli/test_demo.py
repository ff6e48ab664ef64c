"""``bearerguard demo``: the dev issuer and an example API on loopback, real tokens, exact answers.

The demo is run the way the README runs it, as a command, once per framework;
afterwards nothing it started may still be listening or running.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import bearerguard
from bearerguard._cli import _examples, demo, main

ROOT = Path(__file__).resolve().parents[2]
# The examples are started with BEARERGUARD_RESOURCE=https://api.example.com: every challenge
# names the resource's metadata.
METADATA = 'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'


def listening(url: str) -> bool:
    host, port = re.fullmatch(r"http://([^:/]+):(\d+)/", url).groups()  # type: ignore[union-attr]
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def running(module: str) -> list[str]:
    """Processes whose command line names the example module."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if module in cmdline:
                found.append(cmdline)
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("framework", sorted(demo.FRAMEWORKS))
def test_the_demo_runs_every_step_and_stops_everything(framework):
    result = subprocess.run(
        [sys.executable, "-m", "bearerguard._cli", "demo", "--framework", framework],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("BEARERGUARD_")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout

    assert result.returncode == 0, output + result.stderr
    assert "[FAIL]" not in output
    assert output.count("[ok  ]") >= 15
    for shown in (
        "Client Credentials",
        "Authorization Code + PKCE",
        "a new refresh token replaced the old one",
        # Without a token: both schemes offered, DPoP with the proof algorithms (RFC 9449 §7.1),
        # each naming the metadata of the resource the example is started with (RFC 9728 §5.1).
        f"WWW-Authenticate: {demo.BARE_CHALLENGE}\n",
        f'Bearer realm="api", {METADATA}, DPoP realm="api", algs="ES256 ',
        f'algs="ES256 ES384 ES512 Ed25519 Ed448 EdDSA PS256 PS384 PS512 RS256 RS384 RS512", '
        f"{METADATA}\n",
        # The example serves the document there, naming the dev issuer.
        "GET /.well-known/oauth-protected-resource (no token) -> 200\n",
        "       resource https://api.example.com, authorization_servers ['http://127.0.0.1:",
        "[ok  ] the metadata names the API and the dev issuer as its authorization server",
        f'error_description="The access token expired", {METADATA}\n',
        'error="insufficient_scope", error_description="Insufficient scope", '
        f'scope="read:contacts", {METADATA}\n',
        "custom domain",
        "6. A sender-constrained token: DPoP (RFC 9449)",
        'token_type = DPoP, cnf = {"jkt": ',
        "[ok  ] a DPoP token, bound to the client's key (cnf.jkt = its thumbprint)",
        "GET /api/private with the DPoP token and a fresh proof -> 200",
        "GET /api/private with the same proof again (replayed) -> 401",
        'DPoP realm="api", error="invalid_dpop_proof", error_description="Invalid DPoP proof"',
        "GET /api/private with the token stolen and sent as Bearer -> 401",
        'error="invalid_token", error_description="The access token is sender-constrained',
        "Every step behaved as expected",
        f"  examples    {ROOT / 'examples'}\n",  # the clone's own, not an installed copy
    ):
        assert shown in output
    issuer = re.search(r"dev issuer  (http://127\.0\.0\.1:\d+/)", output).group(1)  # type: ignore[union-attr]
    api = re.search(r" at (http://127\.0\.0\.1:\d+/)", output).group(1)  # type: ignore[union-attr]
    assert not listening(issuer)
    assert not listening(api)
    assert running(demo.FRAMEWORKS[framework].module) == []


def test_a_step_that_misbehaves_makes_the_demo_fail_and_still_stops_everything(monkeypatch, capsys):
    # An API identifier the dev issuer does not know: the token requests are refused.
    monkeypatch.setattr(demo, "API", "https://unknown-api.example.com")
    assert demo.run_demo("starlette", root=ROOT) == 1
    output = capsys.readouterr().out
    assert "[FAIL]" in output
    assert "did not behave as expected" in output
    assert running(demo.FRAMEWORKS["starlette"].module) == []


def test_a_root_without_the_examples_is_named_and_the_demo_says_where_to_run_it(tmp_path, capsys):
    assert main(["demo", "--root", str(tmp_path)]) == 2
    output = capsys.readouterr().out
    assert f"{tmp_path} holds no examples/fastapi_app.py" in output
    assert "Run it from a clone of the repository" in output
    assert "--root PATH" in output


def test_without_any_examples_the_demo_says_where_it_looked(monkeypatch, capsys):
    monkeypatch.setattr(demo, "find_examples", lambda: None)
    assert main(["demo", "--serve"]) == 2
    output = capsys.readouterr().out
    assert "neither in a clone around the" in output
    assert "nor installed with bearerguard" in output


def test_the_demo_finds_the_repository_from_anywhere_inside_it():
    assert demo.find_examples(ROOT / "src" / "bearerguard") == ROOT


def make_examples(folder: Path) -> Path:
    (folder / "examples").mkdir(parents=True)
    (folder / "examples" / "fastapi_app.py").touch()
    return folder


def test_outside_a_clone_the_demo_serves_the_copy_installed_with_the_package(monkeypatch, tmp_path):
    # PACKAGED comes before the folders above the package (an editable install's clone).
    packaged = make_examples(tmp_path / "site-packages" / "bearerguard" / "_examples")
    monkeypatch.setattr(_examples, "PACKAGED", packaged)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert demo.find_examples(elsewhere) == packaged
    # A clone around the working directory still wins: it holds the edits being tried.
    clone = make_examples(tmp_path / "clone")
    assert demo.find_examples(clone / "docs") == clone


def test_a_missing_framework_or_server_is_named_with_the_extra_that_installs_it(
    monkeypatch, capsys
):
    real = _examples._importable
    monkeypatch.setattr(_examples, "_importable", lambda name: name != "gunicorn" and real(name))
    assert main(["demo", "--framework", "flask", "--root", str(ROOT)]) == 2
    output = capsys.readouterr().out
    assert "the flask example needs gunicorn" in output
    assert "pip install 'bearerguard[examples]'" in output


def test_ports_are_for_serve_only(capsys):
    assert main(["demo", "--port", "8001"]) == 2
    assert "--port and --issuer-port go with --serve" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["65536", "-1", "http"])
def test_a_port_is_a_number_up_to_65535(port, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--serve", "--port", port])
    assert exited.value.code == 2
    assert "a port is a number from 0 to 65535" in capsys.readouterr().err


def test_help_names_the_frameworks_and_the_serve_options(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert all(name in text for name in ("fastapi", "flask", "django", "starlette"))
    assert all(option in text for option in ("--serve", "--port", "--issuer-port", "--root"))
    assert "installed with bearerguard" in text


PROBE = """
import json, sys

import bearerguard


async def app(scope, receive, send):
    if scope["type"] == "http":
        body = json.dumps({"path": sys.path, "bearerguard": bearerguard.__file__}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
"""


@pytest.mark.e2e
def test_the_example_server_imports_the_examples_first_and_keeps_the_python_path(
    monkeypatch, tmp_path
):
    # An installed bearerguard on PYTHONPATH (pip --target) must stay importable there.
    root = tmp_path / "root"
    (root / "examples").mkdir(parents=True)
    (root / "examples" / "__init__.py").touch()
    (root / "examples" / "probe.py").write_text(PROBE)
    kept = tmp_path / "kept"
    monkeypatch.setenv("PYTHONPATH", str(kept))
    probe = demo.Example("examples.probe:app", "uvicorn", ())
    with demo.serve_example(probe, root, {}) as url:
        answer = httpx.get(url + "api/public", trust_env=False).json()
    path = answer["path"]
    assert path.index(str(root)) < path.index(str(kept))
    assert answer["bearerguard"] == bearerguard.__file__
