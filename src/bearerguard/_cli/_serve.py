"""``bearerguard demo --serve``: the dev issuer and an example API, left running to try by hand.

The walkthrough of ``bearerguard demo`` calls the API for you; ``--serve``
starts the same two servers and hands them over: the dev issuer with its
consent page (you pick the user who signs in), and the example API started
with the settings a deployment would give it. It prints what to open, who to
sign in as and what each user may do, then serves until Ctrl-C or SIGTERM, and
stops everything it started either way.
"""

from __future__ import annotations

import shlex
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from bearerguard.devissuer import DevIssuer, DevIssuerConfig, UserConfig, default_config

from ._examples import (
    API,
    ENDPOINTS,
    FRAMEWORKS,
    ExampleDidNotStart,
    RunningExample,
    listen,
    run_example,
)

__all__ = ["DOCS_CLIENT", "guide", "serve_demo"]

Out = Callable[[str], None]

#: the dev issuer's public client (PKCE, no secret) Swagger UI signs in with
DOCS_CLIENT = "spa-client"
#: where Swagger UI, as FastAPI serves it, receives the authorization code
_POLL = 0.5  # seconds between two looks at the example's process


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. A BaseException, as KeyboardInterrupt: no ``except Exception``
    on the way may swallow it before everything is stopped."""


def serve_demo(framework: str, root: Path, *, issuer_port: int, port: int, out: Out) -> int:
    """Serve the dev issuer and the example until Ctrl-C or SIGTERM, then stop both.

    Returns 0 once interrupted, 1 when a port is unavailable or the example does not
    start or stops by itself.
    """
    try:
        listener = listen(port)  # first: the issuer's tenant names the API's port
    except OSError as exc:
        out(_unavailable("the example API", port, "--port", exc))
        return 1
    with listener, _interrupted_by_signals():
        try:
            return _serve(framework, root, listener, issuer_port, out)
        except Interrupted:
            out("Stopped the example API and the dev issuer.")
            return 0


def _serve(framework: str, root: Path, listener: socket.socket, issuer_port: int, out: Out) -> int:
    issuer = DevIssuer(default_config(), port=issuer_port, auto_approve=False)
    try:
        issuer.start()
    except OSError as exc:
        out(_unavailable("the dev issuer", issuer_port, "--issuer-port", exc))
        return 1
    env = {
        "BEARERGUARD_ISSUER": f"{issuer.url},{issuer.custom_domain_url}",
        # The API's URL in production and the tokens' audience: the example serves its RFC 9728
        # metadata, and every refusal names it.
        "BEARERGUARD_RESOURCE": API,
        # The FastAPI example configures Swagger UI's Authorize with it; the others ignore it.
        "BEARERGUARD_DOCS_CLIENT_ID": DOCS_CLIENT,
    }
    try:
        with run_example(FRAMEWORKS[framework], root, env, listener) as api:
            for line in guide(framework, issuer, api.url, root, env):
                out(line)
            return _until_it_stops(api, out)
    except ExampleDidNotStart as exc:
        out(str(exc))
        return 1
    finally:
        issuer.stop()  # after the API (stopped on leaving run_example), which calls it


def _until_it_stops(api: RunningExample, out: Out) -> int:
    # The issuer serves from a thread, the API from its process group; the main thread
    # waits for a signal, and notices an API that stopped by itself.
    while api.process.poll() is None:
        time.sleep(_POLL)
    out(f"The example API stopped by itself (exit status {api.process.returncode}):")
    out(api.log_tail())
    return 1


def _unavailable(what: str, port: int, option: str, exc: OSError) -> str:
    return (
        f"bearerguard demo: {what} cannot listen on 127.0.0.1:{port} "
        f"({exc.strerror or exc}). Is another server using the port? "
        f"Choose another with {option} (0: any free port)."
    )


@contextmanager
def _interrupted_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread; any further one
    is ignored until everything is stopped, so it cannot cut the stopping short.

    A signal ignored on entry stays ignored, as Python leaves SIGINT: a shell script
    starts its background jobs so, lest a Ctrl-C meant for the script stop them too.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        for name in replaced:
            signal.signal(name, signal.SIG_IGN)
        raise Interrupted(signal.Signals(signum).name)

    if threading.current_thread() is not threading.main_thread():  # only it gets signals
        yield
        return
    # None: a handler not set from Python, which could not be put back afterwards.
    handlers = {name: signal.getsignal(name) for name in (signal.SIGINT, signal.SIGTERM)}
    replaced = {name: old for name, old in handlers.items() if old not in (signal.SIG_IGN, None)}
    for name in replaced:
        signal.signal(name, interrupt)
    try:
        yield
    finally:
        for name, old in replaced.items():
            signal.signal(name, old)


def guide(
    framework: str, issuer: DevIssuer, api: str, root: Path, env: Mapping[str, str]
) -> list[str]:
    """What ``--serve`` prints once both servers answer: where they are, what to open,
    who to sign in as and what each user may do, and a token and curl line to paste."""
    example = FRAMEWORKS[framework]
    base = api.rstrip("/")
    settings = [f"{name}={value}" for name, value in env.items()]
    lines = [
        "bearerguard demo --serve: the dev issuer and an example API, until Ctrl-C",
        f"  dev issuer  {issuer.url}  (custom domain {issuer.custom_domain_url})",
        f"  API         {framework}: {example.server} {example.module} at {api}",
        f"  examples    {root / 'examples'}",
        f"  settings    {settings[0]}",
        *(f"              {setting}" for setting in settings[1:]),
        "",
    ]
    if framework == "fastapi":
        lines += [
            f"Open {api}docs and press Authorize: Swagger UI signs in with the client id",
            f"{DOCS_CLIENT} (a public client: authorization code with PKCE, no secret).",
        ]
    else:
        lines.append(f"Call {base} with a user's token (the curl line below).")
    lines += [
        "The dev issuer's consent page asks who signs in (no password):",
        *(f"  {line}" for line in _users(issuer.config)),
        "",
        "Endpoints:",
        *(f"  {base}{endpoint.path:<20} {endpoint.needs}" for endpoint in ENDPOINTS),
        "",
        "A user's token from the command line (it answers the consent page itself):",
        f"  TOKEN=$({_token_command(issuer, 'auth0|bob')})",
        f'  curl -i -H "Authorization: Bearer $TOKEN" {base}/api/contacts'
        "   # Bob: 403; --user 'auth0|alice': 200",
        "",
        "Press Ctrl-C to stop the dev issuer and the example API.",
    ]
    return lines


def _users(config: DevIssuerConfig) -> list[str]:
    """Each user and what their tokens may do, read from the tenant's configuration."""
    api = config.api(API)
    scopes = tuple(api.scopes) if api is not None else ()
    return [f"{user.sub}  {user.name or '-'}: {_may(user, scopes)}" for user in config.users]


def _may(user: UserConfig, scopes: tuple[str, ...]) -> str:
    if user.permissions is None:
        return f"every scope of the API ({' '.join(scopes)})"
    granted = " ".join(scope for scope in scopes if scope in user.permissions) or "no scope"
    refused = [
        f"{endpoint.path} answers 403 insufficient_scope"
        for endpoint in ENDPOINTS
        if endpoint.scope is not None and endpoint.scope not in user.permissions
    ]
    return f"only {granted}" + "".join(f"; {line}" for line in refused)


def _token_command(issuer: DevIssuer, user: str) -> str:
    return shlex.join(
        [
            "bearerguard", "token", "--issuer", issuer.url, "--flow", "authorization-code",
            "--client-id", DOCS_CLIENT, "--user", user, "--audience", API,
            "--scope", "read:messages read:contacts",
        ]
    )  # fmt: skip
