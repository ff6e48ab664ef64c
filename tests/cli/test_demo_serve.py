"""``bearerguard demo --serve``: both servers left running, then stopped by Ctrl-C or SIGTERM.

The command runs as a user runs it, in a process of its own with ports 0, its
output read from a pipe as it comes (nothing may wait in a buffer). The URLs it
prints are called, the users it names get tokens through the consent page, and
after the signal nothing it started may still listen or run.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bearerguard._cli import main
from bearerguard.devissuer._pkce import s256

ROOT = Path(__file__).resolve().parents[2]
API = "https://api.example.com"
METADATA = f'resource_metadata="{API}/.well-known/oauth-protected-resource"'
START_DEADLINE = 90.0  # a cold import of Django on a loaded machine takes seconds
STOP_DEADLINE = 30.0
READY = "Press Ctrl-C to stop"
STOPPED = "Stopped the example API and the dev issuer."


class ServeRun:
    """``bearerguard demo --serve`` in a process of its own; its output read as it comes."""

    def __init__(self, *arguments: str, sigint_ignored: bool = False) -> None:
        # No BEARERGUARD_* of the developer's, no proxy, and no PYTHONUNBUFFERED: the
        # guide must reach a pipe while the command waits for a signal.
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("BEARERGUARD_")
            and not name.lower().endswith("_proxy")
            and name != "PYTHONUNBUFFERED"
        }
        command = [sys.executable, "-m", "bearerguard._cli", "demo", "--serve", *arguments]
        if sigint_ignored:  # as a shell script starts a background job; exec keeps the pid
            command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.put(line)
        self.lines.put(None)

    def read_until(self, text: str, within: float) -> str:
        """The output up to the line holding ``text``; fails on exit or time out."""
        deadline = time.monotonic() + within
        while text not in self.output:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {text!r} within {within:g} s; so far:\n{self.output}")
            if line is None:
                pytest.fail(f"exited ({self.process.wait()}) before {text!r}:\n{self.output}")
            self.output += line
        return self.output

    def wait(self) -> int:
        status = self.process.wait(STOP_DEADLINE)
        while (line := self.lines.get(timeout=STOP_DEADLINE)) is not None:
            self.output += line
        return status

    def url(self, pattern: str) -> str:
        found = re.search(pattern, self.output)
        assert found, f"{pattern!r} not in:\n{self.output}"
        return found.group(1)

    def stop(self) -> None:
        """Stop serve and every server it started, even after a failed test: a server left
        behind would fail the next test that checks none is running."""
        if self.process.poll() is not None:
            return
        groups = process_groups_led_by_children_of(self.process.pid)
        self.process.terminate()  # serve stops the example's servers itself on SIGTERM
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for group in groups:  # whatever serve could not stop
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


@contextmanager
def serving(*arguments: str, sigint_ignored: bool = False) -> Iterator[ServeRun]:
    run = ServeRun(*arguments, sigint_ignored=sigint_ignored)
    try:
        yield run
    finally:
        run.stop()  # only after a failure: the tests stop it themselves


def listening(url: str) -> bool:
    host, port = re.fullmatch(r"http://([^:/]+):(\d+)/", url).groups()  # type: ignore[union-attr]
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def process_groups_led_by_children_of(pid: int) -> list[int]:
    """The process groups that the children of ``pid`` lead (the example's server)."""
    groups = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ")".
            ppid, pgrp = stat.rsplit(")", 1)[1].split()[1:3]
            if int(ppid) == pid and int(pgrp) == int(entry.name):
                groups.append(int(pgrp))
    return groups


def group_gone(group: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def token(issuer: str, command: str, user: str) -> str:
    """Run the printed ``bearerguard token`` command, as ``user``: it answers the
    dev issuer's consent page."""
    argv = shlex.split(command)
    assert argv[:2] == ["bearerguard", "token"]
    argv[argv.index("--user") + 1] = user
    result = subprocess.run(
        [sys.executable, "-m", "bearerguard._cli", *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def authorization_request(redirect_uri: str) -> dict[str, str]:
    """What a SPA sends to /authorize (code flow with PKCE), for the built-in API."""
    return {
        "response_type": "code",
        "client_id": "spa-client",
        "redirect_uri": redirect_uri,
        "scope": "read:messages read:contacts",
        "audience": API,
        "state": "xyz",
        "code_challenge": s256("a-verifier-" * 5),
        "code_challenge_method": "S256",
    }


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("framework", "signum"),
    [
        ("fastapi", signal.SIGINT),
        ("fastapi", signal.SIGTERM),
        ("flask", signal.SIGTERM),  # gunicorn: a master and its worker in one group
        ("django", signal.SIGINT),
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_serve_runs_both_servers_until_a_signal_then_stops_everything(framework, signum):
    with serving("--framework", framework, "--issuer-port", "0", "--port", "0") as run:
        output = run.read_until(READY, START_DEADLINE)
        issuer = run.url(r"dev issuer  (http://127\.0\.0\.1:\d+/)")
        api = run.url(r" at (http://127\.0\.0\.1:\d+/)")
        command = run.url(r"TOKEN=\$\((bearerguard token .*)\)\n")

        # What it prints: the users, what each may do, the docs' client, the settings.
        assert "auth0|alice  Alice Example: every scope of the API" in output
        assert "auth0|bob  Bob Example: only read:messages; /api/contacts answers 403" in output
        assert f"BEARERGUARD_ISSUER={issuer},{issuer.replace('127.0.0.1', 'localhost')}" in output
        assert f"BEARERGUARD_RESOURCE={API}" in output
        assert "BEARERGUARD_AUDIENCE" not in output  # the audience defaults to the resource
        assert "BEARERGUARD_DOCS_CLIENT_ID=spa-client" in output
        assert f"{api}api/contacts" in output
        if framework == "fastapi":
            assert f"Open {api}docs and press Authorize" in output
            assert "spa-client (a public client: authorization code with PKCE" in output

        with httpx.Client(trust_env=False, timeout=30) as http:
            discovery = http.get(issuer + ".well-known/openid-configuration")
            assert discovery.status_code == 200
            assert discovery.json()["issuer"] == issuer
            assert http.get(api + "api/public").status_code == 200
            unauthorized = http.get(api + "api/contacts")
            assert unauthorized.status_code == 401
            # The challenge names the resource's metadata, which the example serves.
            assert METADATA in unauthorized.headers["www-authenticate"]
            document = http.get(api + ".well-known/oauth-protected-resource")
            assert document.status_code == 200
            assert document.json()["resource"] == API
            assert issuer in document.json()["authorization_servers"]

            # The consent page answers (not auto-approve's redirect): the user is picked there.
            spa = authorization_request("http://127.0.0.1:8080/callback")
            asked = http.get(issuer + "authorize", params=spa)
            assert asked.status_code == 200, asked.text
            assert "text/html" in asked.headers["content-type"]
            assert "auth0|bob" in asked.text
            # Bob may read messages, not contacts; Alice may do both.
            bob = token(issuer, command, "auth0|bob")
            refused = http.get(api + "api/contacts", headers={"Authorization": f"Bearer {bob}"})
            assert refused.status_code == 403
            assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
            assert METADATA in refused.headers["www-authenticate"]
            bob_scoped = http.get(
                api + "api/private-scoped", headers={"Authorization": f"Bearer {bob}"}
            )
            assert bob_scoped.status_code == 200
            alice = token(issuer, command, "auth0|alice")
            allowed = http.get(api + "api/contacts", headers={"Authorization": f"Bearer {alice}"})
            assert allowed.status_code == 200

            if framework == "fastapi":
                assert http.get(api + "docs").status_code == 200
                # Swagger UI's callback on this port is a registered redirect URI of its
                # client, and its origin may call the token endpoint.
                docs = authorization_request(api + "docs/oauth2-redirect")
                consent = http.get(issuer + "authorize", params=docs)
                assert consent.status_code == 200, consent.text
                assert "text/html" in consent.headers["content-type"]
                preflight = http.options(
                    issuer + "oauth/token",
                    headers={
                        "Origin": api.rstrip("/"),
                        "Access-Control-Request-Method": "POST",
                    },
                )
                assert preflight.headers.get("access-control-allow-origin") == api.rstrip("/")

        [group] = process_groups_led_by_children_of(run.process.pid)
        run.process.send_signal(signum)
        status = run.wait()

    assert status == 0, run.output
    assert STOPPED in run.output
    assert "Traceback" not in run.output
    assert not listening(issuer)
    assert not listening(api)
    assert group_gone(group)


@pytest.mark.e2e
def test_an_example_that_stops_by_itself_ends_serve_with_its_log():
    with serving("--issuer-port", "0", "--port", "0") as run:
        run.read_until(READY, START_DEADLINE)
        issuer = run.url(r"dev issuer  (http://127\.0\.0\.1:\d+/)")
        [group] = process_groups_led_by_children_of(run.process.pid)
        os.killpg(group, signal.SIGKILL)
        status = run.wait()
    assert status == 1
    assert "The example API stopped by itself (exit status -9)" in run.output
    assert not listening(issuer)


@pytest.mark.e2e
def test_a_sigint_ignored_from_the_start_stays_ignored_and_sigterm_still_stops_it():
    with serving("--framework", "starlette", "--issuer-port", "0", "--port", "0",
                 sigint_ignored=True) as run:  # fmt: skip
        run.read_until(READY, START_DEADLINE)
        api = run.url(r" at (http://127\.0\.0\.1:\d+/)")
        run.process.send_signal(signal.SIGINT)
        time.sleep(1.0)
        assert run.process.poll() is None
        assert listening(api)
        run.process.send_signal(signal.SIGTERM)
        assert run.wait() == 0
    assert STOPPED in run.output
    assert not listening(api)


def taken_port() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1: that port is taken."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


@pytest.mark.parametrize("option", ["--port", "--issuer-port"])
def test_a_port_in_use_is_named_with_the_option_that_changes_it(option, capsys):
    other = "--issuer-port" if option == "--port" else "--port"
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with taken_port() as holder:
        port = holder.getsockname()[1]
        status = main(["demo", "--serve", option, str(port), other, "0"])
    output = capsys.readouterr().out
    assert status == 1
    assert f"cannot listen on 127.0.0.1:{port}" in output
    assert f"Choose another with {option} (0: any free port)." in output
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
