"""The README's code, run as written.

Every fenced block of README.md is found by its section (the closest heading) and
its place in that section, and :data:`HOW` says which test below runs it, or why
it is not run here. A block added to the README without an entry fails
:func:`test_every_block_of_the_readme_is_accounted_for`, so no snippet can slip
past untested.

The blocks are run verbatim: compiled from the README's own text (tracebacks point
at README.md lines), with the README's issuer served by an in-process
:class:`~bearerguard.testing.FakeIssuer`, the ``BEARERGUARD_*`` variables a
``Verifier.from_env()`` snippet reads, and each framework's real test client. What
a fragment takes from its context (the ``app`` that a middleware wraps, the
``token`` the attribute block reads) is given to it explicitly, in :data:`GIVEN`
and the tests. Django's settings are process-wide, so its snippets run in a pytest
subprocess, as a real project.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from bearerguard import AccessToken, BearerError, HttpRequest, InvalidClaimsError, Verifier
from bearerguard.testing import FakeIssuer
from tests.support import DPOP_ALGS
from tests.test_pytest_plugin import INI, plugin_args

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"
# The README's tenant and API, the settings every snippet uses.
TENANT = "your-tenant.auth0.com"
API = "https://api.example.com"
# The API is the adapters' resource (BEARERGUARD_RESOURCE): their refusals name its metadata.
METADATA_PATH = "/.well-known/oauth-protected-resource"
METADATA = f'resource_metadata="{API}{METADATA_PATH}"'


# --- the blocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    section: str  # the closest heading above the block
    index: int  # its place among that section's blocks, from 0
    language: str
    code: str
    line: int  # the README line of its first code line

    @property
    def key(self) -> tuple[str, int]:
        return (self.section, self.index)


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    section = ""
    counts: dict[str, int] = {}
    lines = README.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if line.startswith("#") and (heading := re.fullmatch(r"#+ (.+)", line)):
            section = heading.group(1).strip()
        elif line.startswith("```"):
            start = number
            while not lines[number].startswith("```"):
                number += 1
            index = counts.get(section, 0)
            counts[section] = index + 1
            code = "\n".join(lines[start:number]) + "\n"
            blocks.append(Block(section, index, line[3:].strip(), code, start + 1))
            number += 1
    return blocks


def block(section: str, index: int = 0) -> Block:
    (found,) = [b for b in readme_blocks() if b.key == (section, index)]
    return found


# Where every block of the README is run, or why it is not.
HOW: dict[tuple[str, int], str] = {
    ("Try it: two commands", 0): (
        "not run here: test.sh runs this suite, and the demo is run as a command by "
        "tests/cli/test_demo.py"
    ),
    ("Log in from Swagger UI", 0): (
        "not run here: tests/cli runs demo --serve, and tests/browser logs in from Swagger UI "
        "in Chromium against the servers it starts"
    ),
    ("Log in from Swagger UI", 1): (
        "not run here: the same servers, started by hand; tests/browser starts them as written"
    ),
    ("30-second example", 0): "test_the_30_second_example_answers_as_rfc_6750_says",
    ("30-second example", 1): "test_the_token_attributes_are_what_the_comments_say",
    ("FastAPI", 0): "test_each_framework_adapter_protects_its_route",
    ("Starlette", 0): "test_each_framework_adapter_protects_its_route",
    ("Flask", 0): "test_each_framework_adapter_protects_its_route",
    ("Django and Django REST framework", 0): "test_the_django_and_drf_snippets_in_a_project",
    ("Django and Django REST framework", 1): "test_the_django_and_drf_snippets_in_a_project",
    ("Any ASGI or WSGI app", 0): "test_the_middleware_rules_answer_as_the_readme_says",
    ("Testing your API", 0): "test_the_testing_snippet_passes_its_three_tests",
    ("Command line", 0): "test_the_command_line_block",
    ("Configuration", 0): "test_the_configuration_block_builds_a_working_verifier",
    ("Configuration", 1): "test_the_keys_and_issuers_block_trusts_what_it_says",
    ("Claim rules", 0): "test_the_claim_rules_block_refuses_as_it_says",
}

# The fragments that use names they do not define, the names, and what provides them.
# run_block() gives a block exactly these names, and only if the block uses them.
GIVEN: dict[tuple[str, int], tuple[frozenset[str], str]] = {
    ("Configuration", 1): (
        frozenset({"PEM"}),
        "the tenant's public key, as PEM text",
    ),
    ("30-second example", 1): (
        frozenset({"token"}),
        "the AccessToken that the app of the block above verified",
    ),
    ("Any ASGI or WSGI app", 0): (
        frozenset({"app"}),
        "the reader's own app, which the middleware wraps",
    ),
}


def test_every_block_of_the_readme_is_accounted_for() -> None:
    blocks = readme_blocks()
    assert {b.key for b in blocks} == set(HOW)
    assert set(GIVEN) <= set(HOW)
    # Every block but the shell ones is Python, and runs.
    assert {b.key: b.language for b in blocks if b.language != "python"} == {
        ("Try it: two commands", 0): "sh",
        ("Log in from Swagger UI", 0): "sh",
        ("Log in from Swagger UI", 1): "sh",
        ("Command line", 0): "sh",
    }


def run_block(
    source: Block,
    *,
    given: Mapping[str, Any] | None = None,
    code: str | None = None,
    name: str | None = None,
) -> tuple[types.ModuleType, Any]:
    """Run a Python block as a module of its own; return it and its last expression's value.

    The code is compiled under the README's name with the README's line numbers, so a
    failure points at the very line of the README. ``code`` is the block's text when
    a test needs one documented variation of it.
    """
    assert source.language == "python"
    text = source.code if code is None else code
    tree = ast.parse("\n" * (source.line - 1) + text, filename=str(README))
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names, _ = GIVEN.get(source.key, (frozenset(), ""))
    assert set(given or {}) == names, f"{source.key} is given {names or 'nothing'} (GIVEN)"
    assert names <= used, f"{source.key} no longer uses {sorted(names - used)}: update GIVEN"
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    slug = re.sub(r"\W+", "_", source.section).lower()
    module = types.ModuleType(name or f"readme_{slug}_{source.index}")
    # Flask finds an app's directory through its module, in sys.modules, and __file__.
    module.__file__ = str(README)
    module.__dict__.update(given or {})
    sys.modules[module.__name__] = module
    try:
        # The README's own code, run on purpose: that is the test.
        exec(compile(tree, str(README), "exec"), module.__dict__)  # noqa: S102
        value = None
        if isinstance(last, ast.Expr):
            expression = ast.Expression(last.value)
            value = eval(compile(expression, str(README), "eval"), module.__dict__)  # noqa: S307
    finally:
        del sys.modules[module.__name__]
    return module, value


@pytest.fixture
def tenant(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIssuer]:
    """The README's tenant, served in-process; BEARERGUARD_* set as the README sets them."""
    for variable in list(os.environ):
        if variable.startswith("BEARERGUARD_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("BEARERGUARD_ISSUER", TENANT)
    monkeypatch.setenv("BEARERGUARD_RESOURCE", API)  # the audience defaults to it
    with FakeIssuer(TENANT, audience=API) as fake:
        yield fake


# --- what a request got back, whatever the client --------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any

    @classmethod
    def of(cls, status: int, headers: Iterable[tuple[str, str]], content: bytes) -> Answer:
        return cls(
            status,
            {name.lower(): value for name, value in headers},
            json.loads(content) if content else None,
        )


Get = Callable[[str, Mapping[str, str]], Answer]  # get(path, headers)


def call_wsgi(app: Any, path: str, headers: Mapping[str, str], method: str = "GET") -> Answer:
    """One request through ``app``, checked by wsgiref's WSGI conformance validator."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
    }
    setup_testing_defaults(environ)
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> Any:
        started.append((status, response_headers))
        return lambda data: None

    chunks = validator(app)(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        # A server must close what the app returned; the validator checks that it did.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    ((status, response_headers),) = started
    return Answer.of(int(status.split()[0]), response_headers, content)


def no_token_for_the_resource(scope: str) -> str:
    """The answer of an adapter whose verifier has the README's resource to a request without
    credentials on a route that needs ``scope``: a challenge per accepted scheme (Bearer and
    DPoP), each naming the scope (RFC 6750 §3) and the resource's metadata (RFC 9728 §5.1)."""
    named = f'scope="{scope}", {METADATA}'
    return f'Bearer realm="api", {named}, DPoP realm="api", algs="{DPOP_ALGS}", {named}'


def check_contacts_route(
    get: Get,
    fake: FakeIssuer,
    path: str = "/api/contacts",
    missing_challenge: str = no_token_for_the_resource("read:contacts"),
) -> None:
    """The README's route needing read:contacts: 200, then the 401 and 403 of RFC 6750.

    Without a token, the adapters offer a challenge per accepted scheme (Bearer and DPoP),
    each naming the scope the route needs and where the API's metadata is.
    """
    allowed = get(path, fake.auth_header(scopes=["read:contacts"]))
    assert allowed.status == 200, allowed
    assert "auth0|test-user" in allowed.body.values()

    missing = get(path, {})
    assert missing.status == 401, missing
    assert missing.headers["www-authenticate"] == missing_challenge
    assert missing.body["error"] == "unauthorized"

    under_scoped = get(path, fake.auth_header(scopes=["read:messages"]))
    assert under_scoped.status == 403, under_scoped
    assert under_scoped.body["error"] == "insufficient_scope"
    assert 'scope="read:contacts"' in under_scoped.headers["www-authenticate"]


# --- 30-second example ---------------------------------------------------------------------------


def test_the_30_second_example_answers_as_rfc_6750_says(tenant: FakeIssuer) -> None:
    module, _ = run_block(block("30-second example", 0))

    def get(path: str, headers: Mapping[str, str]) -> Answer:
        return call_wsgi(module.app, path, headers)

    # verify_authorization() reads the Authorization header alone: Bearer is all it offers.
    check_contacts_route(get, tenant, missing_challenge='Bearer realm="api"')
    assert get("/", tenant.auth_header(scopes="read:contacts")).body == {"hello": "auth0|test-user"}
    malformed = get("/", {"Authorization": "Bearer two tokens"})
    assert malformed.status == 400
    assert malformed.body["error"] == "invalid_request"
    assert malformed.headers["content-type"] == "application/json"
    forged = get("/", {"Authorization": "Bearer " + tenant.tampered_token(scopes="read:contacts")})
    assert forged.status == 401
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]


def comments(code: str) -> dict[int, str]:
    """Each line's comment, by line number within ``code``."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def expected_value(comment: str) -> str | None:
    """The value a comment states: all of it, or what precedes ": ", when that is Python.

    ``# "auth0|123"`` and ``# False: it needs all of them`` state values;
    ``# timezone-aware datetime`` only describes one.
    """
    for candidate in (comment, comment.split(": ", 1)[0]):
        try:
            ast.parse(candidate, mode="eval")
        except SyntaxError:
            continue
        return candidate
    return None


def test_the_token_attributes_are_what_the_comments_say(tenant: FakeIssuer) -> None:
    """The attribute block runs against a token the 30-second example's verifier accepted,
    minted with the claims the comments describe, and each value a comment states holds."""
    module, _ = run_block(block("30-second example", 0))
    raw = tenant.token(
        sub="auth0|123",
        scopes=["openid", "read:contacts"],
        aud=[API, f"https://{TENANT}/userinfo"],
        namespace="https://example.com/",
        roles=["admin"],
    )
    token = module.verifier.verify(raw)
    assert isinstance(token, AccessToken)

    source = block("30-second example", 1)
    run_block(source, given={"token": token})  # the block as a whole
    described = []  # the lines whose comment describes the value instead of stating it
    for statement in ast.parse(source.code).body:
        assert isinstance(statement, ast.Expr), "the block only reads attributes"
        comment = comments(source.code).get(statement.lineno)
        stated = expected_value(comment) if comment else None
        if stated is None:
            described.append(ast.unparse(statement))
            continue
        # The README's expressions and the values its comments state, evaluated on purpose.
        expression = compile(ast.Expression(statement.value), str(README), "eval")
        actual = eval(expression, {"token": token})  # noqa: S307
        assert actual == eval(stated), f"README line {source.line + statement.lineno - 1}"  # noqa: S307
    assert described == ["token.expires_at"]
    assert token.expires_at.tzinfo is not None  # "timezone-aware datetime"


# --- framework adapters --------------------------------------------------------------------------


def fastapi_or_starlette_client(module: types.ModuleType) -> Get:
    from starlette.testclient import TestClient

    client = TestClient(module.app)

    def get(path: str, headers: Mapping[str, str]) -> Answer:
        response = client.get(path, headers=dict(headers))
        return Answer.of(response.status_code, response.headers.items(), response.content)

    return get


def flask_client(module: types.ModuleType) -> Get:
    client = module.app.test_client()

    def get(path: str, headers: Mapping[str, str]) -> Answer:
        response = client.get(path, headers=dict(headers))
        return Answer.of(response.status_code, response.headers.items(), response.data)

    return get


CLIENTS: dict[str, Callable[[types.ModuleType], Get]] = {
    "FastAPI": fastapi_or_starlette_client,
    "Starlette": fastapi_or_starlette_client,
    "Flask": flask_client,
}


@pytest.mark.parametrize("section", list(CLIENTS))
def test_each_framework_adapter_protects_its_route(section: str, tenant: FakeIssuer) -> None:
    module, _ = run_block(block(section))
    get = CLIENTS[section](module)
    check_contacts_route(get, tenant)
    # The adapter serves the RFC 9728 document its refusals name, and a 403 names it too.
    under_scoped = get("/api/contacts", tenant.auth_header(scopes=["read:messages"]))
    assert under_scoped.headers["www-authenticate"].endswith(f'scope="read:contacts", {METADATA}')
    document = get(METADATA_PATH, {})
    assert document.status == 200, document
    assert document.body["resource"] == API
    assert document.body["authorization_servers"] == [f"https://{TENANT}/"]
    assert document.body["scopes_supported"] == ["read:contacts"]
    if section == "Starlette":
        allowed = get("/api/contacts", tenant.auth_header(scopes=["read:contacts"]))
        assert allowed.body == {"sub": "auth0|test-user", "scopes": ["read:contacts"]}


# The Django project around the README's fragments: what their `...` leaves to the project.
DJANGO_SETTINGS = """
SECRET_KEY = "tests-only-not-secret"
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "urls"
DATABASES = {}
USE_TZ = True
REST_FRAMEWORK = {"UNAUTHENTICATED_USER": None}  # as the README says: no django.contrib.auth

# --- the README's settings.py ---
%s
# --- end ---

# The README's `...` stands for the project's other entries: here DRF, for the DRF view.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app is not ...] + ["rest_framework"]
MIDDLEWARE = [entry for entry in MIDDLEWARE if entry is not ...]
"""

DJANGO_URLS = """
from django.urls import path

import drf_views
import views

urlpatterns = [
    path("api/contacts", views.contacts),
    path("api/drf/contacts", drf_views.Contacts.as_view()),
]
"""

DJANGO_CONFTEST = """
import os

import django
import pytest
from django.conf import settings

os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
django.setup()


@pytest.fixture
def bearerguard_settings():
    return {"issuer": settings.BEARERGUARD["ISSUER"], "audience": settings.BEARERGUARD["RESOURCE"]}
"""

DJANGO_TESTS = """
import pytest
from django.core.checks import run_checks
from django.test import Client


def test_manage_py_check_finds_nothing():
    assert run_checks() == []


@pytest.mark.parametrize("path", ["/api/contacts", "/api/drf/contacts"])
def test_the_route_needs_read_contacts(path, bearer_headers):
    client = Client()
    allowed = client.get(path, headers=bearer_headers(scopes=["read:contacts"]))
    assert allowed.status_code == 200
    assert allowed.json() == {"sub": "auth0|test-user"}
    missing = client.get(path)
    assert missing.status_code == 401
    challenge = missing.headers["WWW-Authenticate"]
    metadata = 'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
    assert challenge.startswith(f'Bearer realm="api", scope="read:contacts", {metadata}, DPoP')
    under_scoped = client.get(path, headers=bearer_headers(scopes=["read:messages"]))
    assert under_scoped.status_code == 403
    assert under_scoped.json()["error"] == "insufficient_scope"


def test_drf_asks_post_for_write_contacts(bearer_headers):
    client = Client()
    response = client.post("/api/drf/contacts", headers=bearer_headers(scopes=["read:contacts"]))
    assert response.status_code == 403
    assert 'scope="write:contacts"' in response.headers["WWW-Authenticate"]
"""


def split_files(source: Block) -> dict[str, str]:
    """A block made of files, each starting with a ``# name.py`` line."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in source.code.splitlines():
        if named := re.fullmatch(r"# (\w+\.py)", line):
            current = files.setdefault(named.group(1), [])
        else:
            assert current is not None, "the block starts by naming its file"
            current.append(line)
    return {name: "\n".join(lines).strip() + "\n" for name, lines in files.items()}


def test_the_django_and_drf_snippets_in_a_project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    django_files = split_files(block("Django and Django REST framework", 0))
    assert set(django_files) == {"settings.py", "views.py"}
    pytester.makeini(INI)
    pytester.makepyfile(
        settings=DJANGO_SETTINGS % django_files["settings.py"],
        views=django_files["views.py"],
        drf_views=block("Django and Django REST framework", 1).code,
        urls=DJANGO_URLS,
        conftest=DJANGO_CONFTEST,
        test_readme_django=DJANGO_TESTS,
    )
    for variable in list(os.environ):
        if variable.startswith("BEARERGUARD_") or variable == "DJANGO_SETTINGS_MODULE":
            monkeypatch.delenv(variable)
    result = pytester.runpytest_subprocess(*plugin_args(), "-v", timeout=120)
    result.assert_outcomes(passed=4)


# --- any ASGI or WSGI app ------------------------------------------------------------------------


def asgi_app() -> Any:
    """The reader's app: says whose token it saw."""
    from bearerguard.asgi import access_token

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        token = access_token(scope)
        body = json.dumps({"sub": token.subject if token else None}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def wsgi_app() -> Any:
    from bearerguard.wsgi import access_token

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        token = access_token(environ)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"sub": token.subject if token else None}).encode()]

    return app


# (method, path, scopes of the token or None for no token) -> status
RULE_CASES = [
    ("GET", "/api/public", None, 200),
    ("GET", "/api/contacts", None, 401),
    ("GET", "/api/contacts", "read:contacts", 200),
    ("GET", "/api/contacts", "read:messages", 403),
    ("PUT", "/api/contacts/7", "read:contacts", 403),
    ("PUT", "/api/contacts/7", "write:contacts", 200),
    ("DELETE", "/api/contacts/7", "write:contacts", 200),
    ("GET", "/api/reports/2025/q1", "admin", 200),
    ("GET", "/api/reports/2025/q1", "read:contacts", 403),
    ("GET", "/api/feed", None, 200),
    ("GET", "/api/feed", "", 200),
    ("GET", "/api/elsewhere", None, 401),  # no rule: a valid token is needed
    ("GET", "/api/elsewhere", "", 200),
]


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_the_middleware_rules_answer_as_the_readme_says(interface: str, tenant: FakeIssuer) -> None:
    source = block("Any ASGI or WSGI app", 0)
    code = source.code
    if interface == "wsgi":
        # The block says "# or bearerguard.wsgi": the same code over a WSGI app.
        assert code.count("from bearerguard.asgi import") == 1
        code = code.replace("from bearerguard.asgi import", "from bearerguard.wsgi import")
    inner = asgi_app() if interface == "asgi" else wsgi_app()
    module, _ = run_block(source, given={"app": inner}, code=code)

    if interface == "asgi":
        from starlette.testclient import TestClient

        client = TestClient(module.app)

        def request(method: str, path: str, headers: dict[str, str]) -> Answer:
            response = client.request(method, path, headers=headers)
            return Answer.of(response.status_code, response.headers.items(), response.content)
    else:

        def request(method: str, path: str, headers: dict[str, str]) -> Answer:
            return call_wsgi(module.app, path, headers, method)

    for method, path, scopes, status in RULE_CASES:
        headers = {} if scopes is None else tenant.auth_header(scopes=scopes)
        answer = request(method, path, headers)
        assert answer.status == status, (method, path, scopes, answer)
        if status == 200:
            assert answer.body == {"sub": None if scopes is None else "auth0|test-user"}


# --- testing your API ----------------------------------------------------------------------------


def test_the_testing_snippet_passes_its_three_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copied into a test file of an empty project, the snippet passes with the plugin alone."""
    source = block("Testing your API", 0)
    named = re.match(r"# (test_\w+)\.py", source.code)
    assert named, "the snippet names its test file"
    for variable in list(os.environ):
        if variable.startswith("BEARERGUARD_"):
            monkeypatch.delenv(variable)
    pytester.makeini(INI)
    pytester.makepyfile(**{named.group(1): source.code})
    result = pytester.runpytest(*plugin_args(), "-v")
    result.assert_outcomes(passed=3)


# --- command line --------------------------------------------------------------------------------


def test_the_command_line_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block's commands against a dev issuer started here on a free port.

    The block starts the dev issuer on port 9000 in the background; the test starts
    the same server in-process on a port of its own (9000 may be taken on a shared
    machine, and a background start races the next command), then runs the other
    lines as written with that port.
    """
    devissuer = pytest.importorskip("bearerguard.devissuer")
    lines = block("Command line", 0).code.splitlines()
    assert re.match(r"bearerguard dev-issuer --auto-approve &\s+#", lines[0])
    script = "\n".join(lines[1:])
    assert "http://127.0.0.1:9000/" in script
    for variable in list(os.environ):
        if variable.startswith("BEARERGUARD_"):
            monkeypatch.delenv(variable)
    # The `bearerguard` command of the environment running these tests.
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    bash = shutil.which("bash")
    assert bash, "the block is a bash script"
    config = devissuer.default_config()
    with devissuer.DevIssuer(config, port=0, auto_approve=True) as issuer:
        commands = script.replace("http://127.0.0.1:9000/", issuer.url)
        result = subprocess.run(
            [bash, "-euo", "pipefail", "-c", commands],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout
    assert "REFUSED" not in result.stdout
    assert "m2m-client" in result.stdout  # decode showed the claims


# --- configuration -------------------------------------------------------------------------------


def test_the_configuration_block_builds_a_working_verifier() -> None:
    """The settings shown are accepted, and the verifier they make accepts tokens from each
    issuer it names (the canonical domain and the custom one)."""
    source = block("Configuration", 0)
    module, value = run_block(source)
    verifiers = [v for v in [value, *vars(module).values()] if isinstance(v, Verifier)]
    assert verifiers, "the block builds a Verifier"
    verifier = verifiers[0]
    config = verifier.config
    algorithm = sorted(a for a in config.algorithms if not a.startswith("HS"))[0]
    for issuer in config.issuers:
        fake = FakeIssuer(
            issuer,
            audience=config.audiences[0],
            algorithm=algorithm,
            jwks_uri=config.jwks_uris.get(issuer),
        )
        with fake:
            token = verifier.verify(fake.token(scopes=["read:contacts"]))
        assert token.issuer == issuer
        assert token.scopes == {"read:contacts"}


def test_the_claim_rules_block_refuses_as_it_says() -> None:
    """The verifier-wide rules refuse with 401; the route's rule lets analysts in only."""
    module, _ = run_block(block("Claim rules", 0))
    verifier: Verifier = module.verifier
    rule = module.Rule("/api/reports", "read:reports", claims=module.analysts)
    roles = "https://example.com/roles"
    with FakeIssuer("https://your-tenant.auth0.com/", audience="https://api.example.com") as fake:
        good = verifier.verify(
            fake.token(org_id="org_1", email_verified=True, **{roles: ["analyst"]})
        )
        other = verifier.verify(
            fake.token(org_id="org_1", email_verified=True, **{roles: ["sales"]})
        )
        with pytest.raises(InvalidClaimsError) as unverified:
            verifier.verify(fake.token(org_id="org_1", email_verified="true"))
        with pytest.raises(InvalidClaimsError):
            verifier.verify(fake.token(email_verified=True))

    assert unverified.value.status_code == 401
    assert unverified.value.error == "invalid_token"
    assert "true" not in unverified.value.description  # no claim value echoed
    assert [rule_.passes(good.claims) for rule_ in module.analysts] == [True]
    assert [rule_.passes(other.claims) for rule_ in module.analysts] == [False]
    assert rule is not None


def test_the_keys_and_issuers_block_trusts_what_it_says() -> None:
    """Pinned keys verify without a fetch; the tenant pattern and the per-host issuers
    trust exactly what the comments say."""
    api = "https://api.example.com"
    with FakeIssuer("https://tenant.auth0.com/", audience=api) as pinned_tenant:
        jwk = pinned_tenant.jwks()["keys"][0]
        pem = (
            jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
            .public_bytes(  # type: ignore[union-attr]
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        raw = pinned_tenant.token()
    module, _ = run_block(block("Configuration", 1), given={"PEM": pem})
    # Verified with the pinned key, no issuer serving anything any more.
    assert module.pinned.verify(raw).issuer == "https://tenant.auth0.com/"

    with FakeIssuer("https://acme.id.example.com/", audience=api) as acme:
        assert module.tenants.verify(acme.token()).issuer == "https://acme.id.example.com/"
    evil = FakeIssuer("https://acme.id.example.com.evil.example/", audience=api)
    with evil, pytest.raises(BearerError):
        module.tenants.verify(evil.token())

    with FakeIssuer("https://login.brand-a.com/", audience=api) as brand_a:
        headers = {"Authorization": f"Bearer {brand_a.token()}"}
        home = HttpRequest("GET", "https://api.brand-a.com/contacts", headers)
        away = HttpRequest("GET", "https://api.brand-b.com/contacts", headers)
        assert module.brands.verify_request(home).issuer == "https://login.brand-a.com/"
        with pytest.raises(BearerError):
            module.brands.verify_request(away)
