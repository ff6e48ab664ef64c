"""``bearerguard demo``: an API protected by bearerguard, called the ways Auth0 apps call it.

The demo starts the development issuer (``bearerguard.devissuer``) in-process and
one of the example APIs under its real server (uvicorn or gunicorn), both on
127.0.0.1, then walks through what happens to real tokens: Client Credentials,
Authorization Code with PKCE, a refresh, the custom domain, the exact 401/403
answers, and a DPoP-bound token (RFC 9449) whose replayed proof and theft as a
bearer token are both refused. It prints every step, checks every answer, stops
everything it started and exits 0 only when all went as expected.

``--serve`` (:mod:`._serve`) starts the same two servers, the dev issuer with
its consent page, and leaves them running until Ctrl-C for you to call: Swagger
UI at the FastAPI example's ``/docs``, or curl.

The example APIs are the repository's ``examples/`` folder, found by
:func:`find_examples`: in the clone you run the demo from, else in the copy a
wheel installs with bearerguard (:mod:`._examples`). No clone is needed:
``pip install 'bearerguard[examples]'`` then ``bearerguard demo`` works too.
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bearerguard._config import DPOP_ALGORITHMS
from bearerguard._jose import b64url_decode
from bearerguard._mint import SigningKey
from bearerguard._resource import metadata_url
from bearerguard.devissuer import DevIssuer, default_config
from bearerguard.devissuer._pkce import s256

from ._dpop_key import new_proof
from ._examples import (
    API,
    FRAMEWORKS,
    Example,
    ExampleDidNotStart,
    find_examples,
    holds_examples,
    missing_modules,
    serve_example,
)
from ._examples import no_control_socket as _no_control_socket  # noqa: F401 - tests/e2e use it
from ._output import error
from ._serve import serve_demo

__all__ = [
    "FRAMEWORKS",
    "Example",
    "ExampleDidNotStart",
    "find_examples",
    "register",
    "run_demo",
    "serve",
    "serve_example",
]

Out = Callable[[str], None]

M2M_CLIENT, M2M_SECRET = "m2m-client", "m2m-secret"
SPA_CLIENT, SPA_REDIRECT = "spa-client", "http://127.0.0.1:8080/callback"
USER = "auth0|alice"
# Every refusal of the example names its RFC 9728 metadata (§5.1): BEARERGUARD_RESOURCE is set.
METADATA = f'resource_metadata="{metadata_url(API)}"'
# Without a token, an API that takes DPoP next to Bearer (the default) offers both schemes,
# DPoP with the proof algorithms it accepts (RFC 9449 §7.1), each naming the metadata.
BARE_CHALLENGE = (
    f'Bearer realm="api", {METADATA}, '
    f'DPoP realm="api", algs="{" ".join(sorted(DPOP_ALGORITHMS))}", {METADATA}'
)
ISSUER_PORT, API_PORT = 9000, 8000  # --serve's defaults, the dev issuer's and uvicorn's own
_SHORTENED = frozenset({"code", "code_verifier", "refresh_token"})


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="run an example API and call it with real tokens from the dev issuer "
        "(--serve: keep both running to try yourself)",
        description="Start the development issuer and an example API protected by "
        "bearerguard on 127.0.0.1, then call the API with tokens obtained by Client "
        "Credentials, Authorization Code + PKCE and a refresh token, show the exact "
        "401/403 answers, accept a token from the custom domain, and call it with a "
        "DPoP-bound token, replaying its proof and stealing it as a bearer token (both "
        "refused). Exits 0 when every "
        "step behaved as expected; stops everything it started. No account, no network. "
        "With --serve, both servers keep running instead, the dev issuer with its consent "
        "page, for you to call (Swagger UI at the FastAPI example's /docs, or curl) until "
        "Ctrl-C. The example APIs come from the clone you run it in, else from the copy "
        "installed with bearerguard; pip install 'bearerguard[examples]' adds the "
        "frameworks and servers they need.",
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
        help="the folder holding examples/ (default: the clone holding the working "
        "directory, else the copy installed with bearerguard)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="instead of the walkthrough, serve the dev issuer (consent page: you pick the "
        "user) and the example API until Ctrl-C, and print what to open and who may do what",
    )
    parser.add_argument(
        "--issuer-port",
        type=_port,
        metavar="PORT",
        help=f"with --serve: the dev issuer's port (default {ISSUER_PORT}; 0: any free port)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        metavar="PORT",
        help=f"with --serve: the example API's port (default {API_PORT}; 0: any free port)",
    )
    parser.set_defaults(run=_run)


def _port(text: str) -> int:
    """A port number for argparse: 0 to 65535, 0 meaning any free port."""
    value = int(text) if text.isdigit() else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return value


def _run(args: argparse.Namespace) -> int:
    if not args.serve:
        if args.port is not None or args.issuer_port is not None:
            # The walkthrough takes free ports itself: a port given here would be ignored.
            error("demo", "--port and --issuer-port go with --serve.")
            return 2
        return run_demo(args.framework, print, args.root)
    return serve(
        args.framework,
        _say,
        args.root,
        issuer_port=ISSUER_PORT if args.issuer_port is None else args.issuer_port,
        port=API_PORT if args.port is None else args.port,
    )


def _say(line: str) -> None:
    # --serve then waits: a pipe or a log file must show what it printed at once.
    print(line, flush=True)


def run_demo(framework: str = "fastapi", out: Out = print, root: Path | None = None) -> int:
    """Run the walkthrough; 0 when every answer was the expected one."""
    example = FRAMEWORKS[framework]
    root = _examples_for(framework, root, out)
    if root is None:
        return 2
    with DevIssuer(default_config(), port=0, auto_approve=True) as issuer:
        out("bearerguard demo: an API protected by bearerguard, called with real tokens")
        out(f"  dev issuer  {issuer.url}  (custom domain {issuer.custom_domain_url})")
        env = {
            "BEARERGUARD_ISSUER": f"{issuer.url},{issuer.custom_domain_url}",
            "BEARERGUARD_RESOURCE": API,  # the tokens' audience, and the RFC 9728 metadata
        }
        try:
            with serve_example(example, root, env) as api, httpx.Client(trust_env=False) as http:
                out(f"  API         {framework}: {example.server} {example.module} at {api}")
                out(f"  examples    {root / 'examples'}")
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


def serve(
    framework: str = "fastapi",
    out: Out = print,
    root: Path | None = None,
    *,
    issuer_port: int = ISSUER_PORT,
    port: int = API_PORT,
) -> int:
    """``--serve``: the dev issuer and the example until Ctrl-C or SIGTERM (then 0)."""
    root = _examples_for(framework, root, out)
    if root is None:
        return 2
    return serve_demo(framework, root, issuer_port=issuer_port, port=port, out=out)


def _examples_for(framework: str, root: Path | None, out: Out) -> Path | None:
    """The folder holding ``examples/``, once it and what ``framework`` imports are
    there; else ``None``, having said what to do."""
    found = root or find_examples()
    if found is None or not holds_examples(found):
        if root is not None:
            out(f"bearerguard demo: {root} holds no examples/fastapi_app.py.")
        else:
            out("bearerguard demo: found no examples/ folder, neither in a clone around the")
            out("working directory nor installed with bearerguard.")
        out("Run it from a clone of the repository (bash scripts/demo.sh does), or pass")
        out("--root PATH, the folder that holds examples/.")
        return None
    missing = missing_modules(FRAMEWORKS[framework])
    if missing:
        out(
            f"bearerguard demo: the {framework} example needs {', '.join(missing)}, not "
            "installed here: pip install 'bearerguard[examples]' adds what every example needs."
        )
        return None
    return found


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
        self.out("   (without a token: one challenge per scheme the API takes, DPoP with its algs,")
        self.out("   each naming the API's RFC 9728 metadata: where clients learn to get a token)")
        self.call("/api/private", None, 401, "without a token", challenge=BARE_CHALLENGE)
        self.metadata()
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

        self.step("6. A sender-constrained token: DPoP (RFC 9449)")
        self.dpop()

    # --- the pieces --------------------------------------------------------------------

    def step(self, title: str) -> None:
        self.out("")
        self.out(title)

    def check(self, ok: bool, what: str) -> None:
        self.out(f"   [{'ok  ' if ok else 'FAIL'}] {what}")
        self.failures += not ok

    def token_request(
        self, issuer: str, *, proof_key: SigningKey | None = None, **form: str
    ) -> dict[str, Any]:
        # Secrets are not shown; one-time codes and verifiers are shortened for readability.
        shown = " ".join(
            f"{k}={_shorten(v, 16) if k in _SHORTENED else v}"
            for k, v in form.items()
            if k != "client_secret"
        )
        url = f"{issuer}oauth/token"
        headers = {}
        if proof_key is not None:  # RFC 9449 §5: the proof asks for a token bound to its key
            headers["DPoP"] = new_proof(proof_key, method="POST", url=url)
            shown += "  + DPoP proof"
        self.out(f"   POST {url}  {shown}")
        response = self.http.post(url, data=form, headers=headers)
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

    def metadata(self) -> None:
        """The document the challenges name, served by the example at its path (RFC 9728 §3)."""
        path = urlsplit(metadata_url(API)).path
        response = self.http.get(self.api + path)
        self.out(f"   GET {path} (no token) -> {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            document = {}
        servers = document.get("authorization_servers", []) if isinstance(document, dict) else []
        self.out(f"       resource {document.get('resource')}, authorization_servers {servers}")
        self.check(
            response.status_code == 200
            and document.get("resource") == API
            and self.issuer.url in servers,
            "the metadata names the API and the dev issuer as its authorization server",
        )

    def dpop(self) -> None:
        """A token bound to the client's key: good with a fresh proof, and only then."""
        key = SigningKey("ES256")  # the client's own key: only its public half ever leaves
        jkt = key.thumbprint()
        self.out(f"   the M2M client makes a key pair (ES256); its thumbprint is {jkt}")
        bound = self.token_request(
            self.issuer.url,
            proof_key=key,
            grant_type="client_credentials",
            client_id=M2M_CLIENT,
            client_secret=M2M_SECRET,
            audience=API,
        )
        token = bound["access_token"]
        cnf = json.dumps(_claims(token).get("cnf"))
        self.out(f"   token_type = {bound.get('token_type')}, cnf = {cnf}")
        self.check(
            bound.get("token_type") == "DPoP" and _claims(token).get("cnf") == {"jkt": jkt},
            "a DPoP token, bound to the client's key (cnf.jkt = its thumbprint)",
        )
        path = "/api/private"
        proof = new_proof(key, method="GET", url=self.api + path, access_token=token)
        self.call(path, token, 200, "with the DPoP token and a fresh proof", proof=proof)
        self.call(
            path,
            token,
            401,
            "with the same proof again (replayed)",
            proof=proof,
            challenge_has='error="invalid_dpop_proof"',
        )
        self.call(
            path,
            token,
            401,
            "with the token stolen and sent as Bearer",
            challenge_has='error="invalid_token"',
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
        proof: str | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if token and proof:  # a DPoP request: the bound token and the proof for this request
            headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
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
