"""``bearerguard demo``: an API protected by bearerguard, called the ways Auth0 apps call it.

The demo starts the development issuer (``bearerguard.devissuer``) in-process and
one of the repository's example APIs under its real server (uvicorn or
gunicorn), both on 127.0.0.1, then walks through what happens to real tokens:
Client Credentials, Authorization Code with PKCE, a refresh, the custom
domain, and the exact 401/403 answers. It prints every step, checks every
answer, stops everything it started and exits 0 only when all went as expected.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import httpx

from bearerguard._cli._process import stop_group
from bearerguard._jose import b64url_decode
from bearerguard.devissuer import DevIssuer, default_config
from bearerguard.devissuer._pkce import s256

__all__ = ["FRAMEWORKS", "find_examples", "register", "run_demo"]

Out = Callable[[str], None]

API = "https://api.example.com"
M2M_CLIENT, M2M_SECRET = "m2m-client", "m2m-secret"
SPA_CLIENT, SPA_REDIRECT = "spa-client", "http://127.0.0.1:8080/callback"
USER = "auth0|alice"
BARE_CHALLENGE = 'Bearer realm="api"'
_READY_TIMEOUT = 60.0
_SHORTENED = frozenset({"code", "code_verifier", "refresh_token"})


class ExampleDidNotStart(RuntimeError):
    """The example's server exited or never answered; the message holds its log."""


@dataclass(frozen=True)
class Example:
    """How an example API is served: the documented command, with a listening socket."""

    module: str
    server: str  # "uvicorn" or "gunicorn"

    def command(self, fd: int) -> list[str]:
        if self.server == "uvicorn":
            return [sys.executable, "-m", "uvicorn", self.module, "--fd", str(fd)]
        return [
            sys.executable, "-m", "gunicorn", "--bind", f"fd://{fd}", "--workers", "1",
            *_no_control_socket(), self.module,
        ]  # fmt: skip


FRAMEWORKS: Mapping[str, Example] = {
    "fastapi": Example("examples.fastapi_app:app", "uvicorn"),
    "starlette": Example("examples.starlette_app:app", "uvicorn"),
    "flask": Example("examples.flask_app:app", "gunicorn"),
    "django": Example("examples.django_app.wsgi:application", "gunicorn"),
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="run an example API and call it with real tokens from the dev issuer",
        description="Start the development issuer and an example API protected by "
        "bearerguard on 127.0.0.1, then call the API with tokens obtained by Client "
        "Credentials, Authorization Code + PKCE and a refresh token, show the exact "
        "401/403 answers, and accept a token from the custom domain. Exits 0 when every "
        "step behaved as expected; stops everything it started. No account, no network.",
    )
    parser.add_argument(
        "--framework",
        choices=sorted(FRAMEWORKS),
        default="fastapi",
        help="which example API to serve (default: fastapi)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the repository holding examples/ (default: found from the working directory)",
    )
    parser.set_defaults(run=lambda args: run_demo(args.framework, print, args.root))


def find_examples(start: Path | None = None) -> Path | None:
    """The repository root holding ``examples/`` (the demo serves those apps), else ``None``.

    Looks in ``start`` (default: the working directory) and its parents, then next
    to this package (an editable install of the repository).
    """
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents, *Path(__file__).resolve().parents]
    for folder in candidates:
        if (folder / "examples" / "fastapi_app.py").is_file():
            return folder
    return None


def run_demo(framework: str = "fastapi", out: Out = print, root: Path | None = None) -> int:
    """Run the walkthrough; 0 when every answer was the expected one."""
    root = root or find_examples()
    if root is None or not (root / "examples" / "fastapi_app.py").is_file():
        out("bearerguard demo serves the repository's example APIs: run it from a clone of the")
        out("repository (bash scripts/demo.sh does), or pass --root PATH.")
        return 2
    example = FRAMEWORKS[framework]
    with DevIssuer(default_config(), port=0, auto_approve=True) as issuer:
        out("bearerguard demo: an API protected by bearerguard, called with real tokens")
        out(f"  dev issuer  {issuer.url}  (custom domain {issuer.custom_domain_url})")
        env = {
            "BEARERGUARD_ISSUER": f"{issuer.url},{issuer.custom_domain_url}",
            "BEARERGUARD_AUDIENCE": API,
        }
        try:
            with serve_example(example, root, env) as api, httpx.Client(trust_env=False) as http:
                out(f"  API         {framework}: {example.server} {example.module} at {api}")
                walk = Walkthrough(issuer, api, http, out)
                walk.run()
        except ExampleDidNotStart as exc:
            out(str(exc))
            return 1
    out("")
    if walk.failures:
        out(f"{walk.failures} step(s) did not behave as expected.")
        return 1
    out("Every step behaved as expected; the issuer and the API are stopped.")
    return 0


class Walkthrough:
    """The steps, each printed and checked."""

    def __init__(self, issuer: DevIssuer, api: str, http: httpx.Client, out: Out) -> None:
        self.issuer, self.api, self.http, self.out = issuer, api.rstrip("/"), http, out
        self.failures = 0

    def run(self) -> None:
        self.step("1. A machine-to-machine client: Client Credentials")
        m2m = self.client_credentials(self.issuer.url)
        self.call("/api/private-scoped", m2m["access_token"], 200, "with the M2M token")

        self.step("2. A user signs in to a single-page app: Authorization Code + PKCE")
        user = self.authorization_code()
        claims = _claims(user["access_token"])
        self.out(f"   access token aud = {json.dumps(claims.get('aud'))}")
        self.check(isinstance(claims.get("aud"), list), "the audience is an array (openid)")
        self.call("/api/contacts", user["access_token"], 200, "with the user's token")

        self.step("3. The refresh token gets a new access token (and is rotated)")
        refreshed = self.token_request(
            self.issuer.url,
            grant_type="refresh_token",
            refresh_token=user["refresh_token"],
            client_id=SPA_CLIENT,
        )
        self.call("/api/private", refreshed["access_token"], 200, "with the refreshed token")
        self.check(
            refreshed.get("refresh_token") not in (None, user["refresh_token"]),
            "a new refresh token replaced the old one",
        )

        self.step("4. What an API answers when it must refuse")
        self.call("/api/private", None, 401, "without a token", challenge=BARE_CHALLENGE)
        expired = self.issuer.mint_access_token(audience=API, sub=USER, expires_in=-3600)
        self.call(
            "/api/private",
            expired,
            401,
            "with a token that expired an hour ago",
            challenge_has='error_description="The access token expired"',
        )
        lacking = self.issuer.mint_access_token(audience=API, sub=USER, scopes=["read:messages"])
        self.call(
            "/api/contacts",
            lacking,
            403,
            "with a token lacking read:contacts",
            challenge_has='error="insufficient_scope"',
        )

        self.step("5. The same tenant under its custom domain")
        custom = self.client_credentials(self.issuer.custom_domain_url)
        self.out(f"   iss = {_claims(custom['access_token']).get('iss')}")
        self.call("/api/private", custom["access_token"], 200, "with the custom-domain token")

    # --- the pieces --------------------------------------------------------------------

    def step(self, title: str) -> None:
        self.out("")
        self.out(title)

    def check(self, ok: bool, what: str) -> None:
        self.out(f"   [{'ok  ' if ok else 'FAIL'}] {what}")
        self.failures += not ok

    def token_request(self, issuer: str, **form: str) -> dict[str, Any]:
        # Secrets are not shown; one-time codes and verifiers are shortened for readability.
        shown = " ".join(
            f"{k}={_shorten(v, 16) if k in _SHORTENED else v}"
            for k, v in form.items()
            if k != "client_secret"
        )
        self.out(f"   POST {issuer}oauth/token  {shown}")
        response = self.http.post(f"{issuer}oauth/token", data=form)
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or "access_token" not in body:
            self.check(False, f"token endpoint answered {response.status_code} {body}")
            return {"access_token": "", "refresh_token": ""}
        claims = _claims(body["access_token"])
        self.out(f"   <- access token: sub {claims.get('sub')}, scope {claims.get('scope', '')!r}")
        return body

    def client_credentials(self, issuer: str) -> dict[str, Any]:
        return self.token_request(
            issuer,
            grant_type="client_credentials",
            client_id=M2M_CLIENT,
            client_secret=M2M_SECRET,
            audience=API,
        )

    def authorization_code(self) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(48)
        challenge = s256(verifier)
        state = secrets.token_urlsafe(12)
        query = {
            "response_type": "code",
            "client_id": SPA_CLIENT,
            "redirect_uri": SPA_REDIRECT,
            "scope": "openid profile offline_access read:contacts",
            "audience": API,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": USER,
        }
        self.out(f"   GET {self.issuer.url}authorize  (PKCE S256, as {USER}, auto-approved)")
        response = self.http.get(f"{self.issuer.url}authorize", params=query)
        location = response.headers.get("location", "")
        returned = parse_qs(urlsplit(location).query)
        code = returned.get("code", [""])[0]
        self.check(
            response.status_code == 302 and returned.get("state") == [state] and bool(code),
            "redirected back with a code and the same state",
        )
        return self.token_request(
            self.issuer.url,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            redirect_uri=SPA_REDIRECT,
            client_id=SPA_CLIENT,
        )

    def call(
        self,
        path: str,
        token: str | None,
        status: int,
        label: str,
        *,
        challenge: str | None = None,
        challenge_has: str | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.get(self.api + path, headers=headers)
        self.out(f"   GET {path} {label} -> {response.status_code}")
        answer = response.headers.get("www-authenticate")
        if answer:
            self.out(f"       WWW-Authenticate: {answer}")
        if response.status_code == 200:
            self.out(f"       {_shorten(response.text.strip(), 100)}")
        expected = challenge or challenge_has
        ok = response.status_code == status
        ok = ok and (challenge is None or answer == challenge)
        ok = ok and (challenge_has is None or challenge_has in (answer or ""))
        self.check(ok, f"{status} expected" + (f", with {expected}" if expected else ""))


@contextmanager
def serve_example(example: Example, root: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Run ``example`` under its server on a socket bound here (127.0.0.1, a free port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    environment = {**os.environ, **env, "PYTHONPATH": str(root)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            example.command(listener.fileno()),
            cwd=root,
            env=environment,
            pass_fds=(listener.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its workers
        )
        listener.close()  # the server holds its own copy
        try:
            _wait_until_serving(url, process, log)
            yield url
        finally:
            stop_group(process)


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: BinaryIO) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    with httpx.Client(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                http.get(url + "api/public")
                return
            except httpx.TransportError:
                time.sleep(0.1)
    log.seek(0)
    raise ExampleDidNotStart(
        "The example API did not start:\n" + log.read().decode(errors="replace")[-2000:]
    )


def _no_control_socket() -> tuple[str, ...]:
    # Gunicorn 25.1+ opens a control socket under $HOME unless told not to.
    version = importlib.metadata.version("gunicorn").split(".")
    major, minor = int(version[0]), int(version[1]) if len(version) > 1 else 0
    return ("--no-control-socket",) if (major, minor) >= (25, 1) else ()


def _claims(token: str) -> dict[str, Any]:
    """The claims of a token the issuer just handed us, for display only (not verified)."""
    try:
        payload = token.split(".")[1]
        decoded: dict[str, Any] = json.loads(b64url_decode(payload))
    except (IndexError, ValueError):
        return {}
    return decoded


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
