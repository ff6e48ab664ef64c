"""The pytest plugin, tested with pytester; and the guide (docs/testing.md), run as written.

Every code block of the guide is a file of a small project; the tests below
write each section's files into a pytester directory and run them, so the guide
can never show code that does not work. Django's settings are process-wide, so
its projects run in a subprocess; the others run in-process (faster).

The plugin is loaded through its ``pytest11`` entry point when bearerguard is
installed with it, else with ``-p`` (see :func:`plugin_args`).
"""

from __future__ import annotations

import importlib.metadata
import itertools
import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from bearerguard import AccessToken, InsufficientScopeError
from bearerguard._intercept import interceptions
from bearerguard._token import RequiredScopes
from bearerguard.testing._refusals import Recorder, Refusal

pytest_plugins = ["pytester"]

# Not imported here: a pytester run loading a plugin module that this process imported
# without assertion rewriting warns (PytestAssertRewriteWarning), and warnings are errors.
PLUGIN = "bearerguard.testing.pytest_plugin"
ENTRY_POINT = "bearerguard"
GUIDE = Path(__file__).resolve().parent.parent / "docs" / "testing.md"

# As strict as bearerguard's own configuration: unregistered markers and any warning fail.
INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Using `httpx` with `starlette.testclient` is deprecated
"""


def entry_point_installed() -> bool:
    return any(
        ep.name == ENTRY_POINT and ep.value == PLUGIN
        for ep in importlib.metadata.entry_points(group="pytest11")
    )


def plugin_args() -> tuple[str, ...]:
    """Load the plugin the way users get it: by its entry point once installed.

    ``-p bearerguard`` loads the entry point even when plugin autoloading is off, and
    is a no-op when it already loaded. Before the entry point is installed, the
    module is named instead (both at once would register it twice).
    """
    return ("-p", ENTRY_POINT) if entry_point_installed() else ("-p", PLUGIN)


@pytest.fixture(autouse=True)
def environment() -> Iterator[None]:
    """Each run starts without BEARERGUARD_* variables, and what a generated conftest sets
    (in-process, into this process's environment) is undone afterwards."""
    with mock.patch.dict(os.environ):
        for name in list(os.environ):
            if name.startswith("BEARERGUARD_") or name == "DJANGO_SETTINGS_MODULE":
                del os.environ[name]
        yield


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def run(pytester: pytest.Pytester, *args: str, in_subprocess: bool = False) -> pytest.RunResult:
    if in_subprocess:
        return pytester.runpytest_subprocess(*plugin_args(), *args, timeout=120)
    return pytester.runpytest(*plugin_args(), *args)


# --- the guide ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    section: str
    filename: str
    code: str


def guide_blocks() -> list[Block]:
    """Every fenced code block of the guide, with its section and the file it is."""
    blocks: list[Block] = []
    section = ""
    lines = iter(GUIDE.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("```"):
            language = line[3:].strip()
            body: list[str] = []
            for inner in lines:
                if inner.startswith("```"):
                    break
                body.append(inner)
            if language == "text":  # what a run prints: see test_the_guides_report_...
                continue
            first = body[0] if body else ""
            named = re.fullmatch(r"# ([\w/]+\.py)", first)
            where = f"{section!r}: a {language!r} block starting {first!r}"
            assert language == "python", f"every code block of the guide is Python; {where}"
            assert named, f"a block's first line names its file (# app.py); {where}"
            blocks.append(Block(section, named.group(1), "\n".join(body) + "\n"))
    return blocks


def guide_output(section: str) -> list[str]:
    """The lines of the one ``text`` block of a section of the guide: a run's output."""
    found: list[list[str]] = []
    current = ""
    lines = iter(GUIDE.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if line.startswith("## "):
            current = line[3:].strip()
        elif line.startswith("```"):
            body = list(itertools.takewhile(lambda inner: not inner.startswith("```"), lines))
            if current == section and line == "```text":
                found.append(body)
    assert len(found) == 1, f"the guide's section {section!r} shows one output"
    return found[0]


def write_section(pytester: pytest.Pytester, section: str) -> list[str]:
    written = []
    for block in guide_blocks():
        if block.section == section:
            path = pytester.path / block.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code, encoding="utf-8")
            written.append(block.filename)
    assert written, f"the guide has no section {section!r} with code"
    return written


# Each framework's complete example: allowed (200), no token (401), missing scope (403), a
# DPoP-bound token with its proof (200) and that proof replayed (401).
FRAMEWORKS = {
    "FastAPI": False,  # section -> run in a subprocess
    "Starlette": False,
    "Flask": False,
    "Django": True,
    "Django REST framework": True,
}
# The sections that test the FastAPI example, and how many tests each holds.
ON_FASTAPI = {
    "Broken tokens": 6,
    "Custom claims": 1,
    "Key rotation": 2,
    "DPoP-bound tokens": 15,
    "Certificate-bound tokens": 3,
    "Opaque tokens": 4,
    "Encrypted tokens": 4,
    "Configuration": 2,
}
WITHOUT_PYTEST = "Without pytest"
# The Flask example without its bearerguard_settings: the report of the refused request.
REFUSED = "When a test gets 401"


def test_every_code_block_of_the_guide_is_run_by_these_tests():
    sections = {block.section for block in guide_blocks()}
    assert sections == {*FRAMEWORKS, *ON_FASTAPI, WITHOUT_PYTEST, REFUSED}


@pytest.mark.parametrize("section", list(FRAMEWORKS))
def test_the_guides_example_for_each_framework_passes(project, section):
    written = write_section(project, section)
    assert "test_app.py" in written
    result = run(project, "-v", in_subprocess=FRAMEWORKS[section])
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*test_contacts_with_the_scope PASSED*",
            "*test_contacts_without_a_token PASSED*",
            "*test_contacts_without_the_scope PASSED*",
            "*test_contacts_with_a_dpop_bound_token PASSED*",
            "*test_contacts_with_a_replayed_dpop_proof PASSED*",
        ]
    )


@pytest.mark.parametrize("section", list(ON_FASTAPI))
def test_the_guides_other_examples_pass_against_its_fastapi_app(project, section):
    write_section(project, "FastAPI")
    tests = [name for name in write_section(project, section) if name.startswith("test_")]
    result = run(project, "-v", *tests)
    result.assert_outcomes(passed=ON_FASTAPI[section])


def test_the_guides_unittest_example_runs_without_pytest(pytester):
    (module,) = write_section(pytester, WITHOUT_PYTEST)
    result = pytester.run(
        sys.executable, "-W", "error", "-m", "unittest", "-v", Path(module).stem, timeout=60
    )
    assert result.ret == 0, result.stderr.str()
    result.stderr.fnmatch_lines(["Ran 3 tests in *", "OK"])


def test_the_guides_report_of_a_refused_request_is_what_a_run_prints(project):
    write_section(project, "Flask")
    write_section(project, REFUSED)  # its conftest.py and test_app.py replace Flask's
    # In a process of its own: no verifier of another test is alive to be listed.
    result = run(project, in_subprocess=True)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 401 == 200"])
    sections = bearerguard_sections(result)
    assert list(sections) == ["test_contacts_with_the_scope"]
    shown = guide_output(REFUSED)
    assert re.fullmatch(SEPARATOR, shown[0]), "the guide shows the section's title line"
    assert sections["test_contacts_with_the_scope"] == shown[1:]


# --- the fixtures ------------------------------------------------------------------------------


def test_the_fixtures_mint_tokens_that_a_verifier_of_the_issuer_accepts(project):
    project.makepyfile(
        """
        import pytest
        from bearerguard import Verifier
        from bearerguard.testing import FakeIssuer

        def verifier_of(fake):
            return Verifier(issuer=fake.issuer, audience=fake.audience)

        def test_fake_issuer(fake_issuer, bearerguard_settings):
            assert isinstance(fake_issuer, FakeIssuer) and fake_issuer.active
            assert fake_issuer.issuer == bearerguard_settings["issuer"]
            assert fake_issuer.audience == bearerguard_settings["audience"]

        def test_bearer_token(fake_issuer, bearer_token):
            token = verifier_of(fake_issuer).verify(bearer_token(scopes=["read:contacts"]))
            assert token.scopes == {"read:contacts"}
            assert token.subject == "auth0|test-user"

        def test_bearer_headers(fake_issuer, bearer_headers):
            headers = bearer_headers(sub="auth0|42")
            assert list(headers) == ["Authorization"]
            token = verifier_of(fake_issuer).verify_authorization(headers["Authorization"])
            assert token.subject == "auth0|42"

        @pytest.mark.asyncio
        async def test_in_async_tests(fake_issuer, bearer_token):
            token = await verifier_of(fake_issuer).averify(bearer_token(scopes=["a", "b"]))
            assert token.scopes == {"a", "b"}
        """
    )
    run(project).assert_outcomes(passed=4)


def test_the_fake_is_stopped_after_each_test_even_one_that_failed(project):
    project.makepyfile(
        """
        from bearerguard._intercept import interceptions

        seen = []

        def test_fails(fake_issuer):
            seen.append(fake_issuer)
            assert interceptions.active_issuers() == (fake_issuer.issuer,)
            raise AssertionError("the test fails")

        def test_after(fake_issuer):
            # Had the first fake been left active, this one could not start for the same issuer.
            assert not seen[0].active
            assert interceptions.active_issuers() == (fake_issuer.issuer,)

        def test_nothing_left_active():
            assert interceptions.active_issuers() == ()
        """
    )
    run(project).assert_outcomes(passed=2, failed=1)
    assert interceptions.active_issuers() == ()


def test_the_default_settings_are_the_fake_issuers_defaults(project):
    project.makepyfile(
        """
        import inspect
        from bearerguard.testing import FakeIssuer

        def test_defaults(bearerguard_settings, fake_issuer):
            defaults = inspect.signature(FakeIssuer).parameters
            assert bearerguard_settings == {
                "issuer": defaults["issuer"].default,
                "audience": defaults["audience"].default,
            }
            assert fake_issuer.issuer == "https://fake-issuer.bearerguard.test/"
            assert fake_issuer.audience == "https://api.bearerguard.test"
        """
    )
    run(project).assert_outcomes(passed=1)


def test_the_default_settings_follow_the_environment_of_verifier_from_env(project, monkeypatch):
    monkeypatch.setenv("BEARERGUARD_ISSUER", " tenant.auth0.com , https://login.example.com/")
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", "https://api.example.com,https://other.example.com")
    monkeypatch.setenv("BEARERGUARD_ALGORITHMS", "HS256,ES256,RS256")
    monkeypatch.setenv("BEARERGUARD_JWKS_URI", "https://tenant.auth0.com/keys.json")
    monkeypatch.setenv("BEARERGUARD_LEEWAY", "not a number: the app's problem, not the fake's")
    project.makepyfile(
        """
        import jwt
        from bearerguard import Verifier

        def test_environment(bearerguard_settings, fake_issuer, bearer_token, monkeypatch):
            assert bearerguard_settings == {
                "issuer": "tenant.auth0.com",
                "audience": "https://api.example.com",
                "algorithm": "ES256",
                "jwks_uri": "https://tenant.auth0.com/keys.json",
            }
            assert fake_issuer.issuer == "https://tenant.auth0.com/"
            raw = bearer_token()
            assert jwt.get_unverified_header(raw)["alg"] == "ES256"
            # What the app would build from the same variables accepts the fake's tokens
            # (once its own configuration mistakes are out of the way).
            monkeypatch.delenv("BEARERGUARD_LEEWAY")
            verifier = Verifier.from_env(algorithms=["ES256", "RS256"])
            assert verifier.verify(raw).issuer == "https://tenant.auth0.com/"
        """
    )
    run(project).assert_outcomes(passed=1)


def test_without_an_audience_the_fake_names_the_resource_as_the_app_does(project, monkeypatch):
    # As the examples are started: BEARERGUARD_RESOURCE, which the audience defaults to.
    monkeypatch.setenv("BEARERGUARD_ISSUER", "tenant.auth0.com")
    monkeypatch.setenv("BEARERGUARD_RESOURCE", " https://api.example.com ")
    project.makepyfile(
        """
        from bearerguard import Verifier

        def test_environment(bearerguard_settings, fake_issuer, bearer_token):
            assert bearerguard_settings == {
                "issuer": "tenant.auth0.com",
                "audience": "https://api.example.com",
            }
            assert fake_issuer.audience == "https://api.example.com"
            # What the app would build from the same variables accepts the fake's tokens.
            verifier = Verifier.from_env()
            assert verifier.verify(bearer_token()).audience == ("https://api.example.com",)
        """
    )
    run(project).assert_outcomes(passed=1)


def test_the_environments_audience_wins_over_its_resource(project, monkeypatch):
    # The app then accepts BEARERGUARD_AUDIENCE's audiences, the resource's default aside.
    monkeypatch.setenv("BEARERGUARD_ISSUER", "tenant.auth0.com")
    monkeypatch.setenv("BEARERGUARD_AUDIENCE", "urn:contacts,https://api.example.com")
    monkeypatch.setenv("BEARERGUARD_RESOURCE", "https://api.example.com")
    project.makepyfile(
        """
        from bearerguard import Verifier

        def test_environment(bearerguard_settings, bearer_token):
            assert bearerguard_settings["audience"] == "urn:contacts"
            assert Verifier.from_env().verify(bearer_token()).audience == ("urn:contacts",)
        """
    )
    run(project).assert_outcomes(passed=1)


@pytest.mark.parametrize("variable", ["BEARERGUARD_RESOURCE", "BEARERGUARD_ALGORITHMS"])
def test_a_variable_set_to_nothing_fails_the_test_at_setup_with_the_message_alone(
    project, monkeypatch, variable
):
    monkeypatch.setenv("BEARERGUARD_ISSUER", "tenant.auth0.com")
    monkeypatch.setenv(variable, " ")
    project.makepyfile(
        """
        def test_it(bearer_token):
            pass
        """
    )
    result = run(project)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_it*",
            f"*bearerguard: the environment cannot set the fake issuer up: {variable} is set "
            "but empty*: give it a value, or remove it to use the default.",
        ]
    )
    result.stdout.no_fnmatch_line("*pytest_plugin.py*")


def test_a_conftest_overrides_bearerguard_settings(project):
    project.makeconftest(
        """
        import pytest

        @pytest.fixture
        def bearerguard_settings():
            return {"issuer": "https://login.example.com/", "audience": "urn:contacts",
                    "algorithm": "EdDSA", "lifetime": 60}
        """
    )
    project.makepyfile(
        """
        import jwt

        def test_override(fake_issuer, bearer_token):
            assert (fake_issuer.issuer, fake_issuer.audience) == (
                "https://login.example.com/", "urn:contacts")
            claims = jwt.decode(bearer_token(), options={"verify_signature": False})
            assert claims["exp"] - claims["iat"] == 60
            assert jwt.get_unverified_header(bearer_token())["alg"] == "EdDSA"
        """
    )
    run(project).assert_outcomes(passed=1)


def test_the_marker_binds_the_fake_and_the_closest_marker_wins(project):
    project.makeconftest(
        """
        import pytest

        @pytest.fixture
        def bearerguard_settings():
            return {"issuer": "https://fixture.example.com/", "audience": "urn:fixture"}
        """
    )
    project.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.bearerguard(issuer="https://module.example.com/")

        def test_module_marker(fake_issuer, bearerguard_settings):
            assert fake_issuer.issuer == "https://module.example.com/"
            assert fake_issuer.audience == "urn:fixture"  # the marker overrides what it names
            # The marker binds the fake, not the settings an app may be configured from.
            assert bearerguard_settings["issuer"] == "https://fixture.example.com/"

        @pytest.mark.bearerguard(audience="urn:function")
        def test_function_marker(fake_issuer):
            assert (fake_issuer.issuer, fake_issuer.audience) == (
                "https://fixture.example.com/", "urn:function")

        @pytest.mark.bearerguard(issuer="https://class.example.com/", algorithm="PS256")
        class TestClass:
            def test_class_marker(self, fake_issuer):
                assert fake_issuer.issuer == "https://class.example.com/"
                assert fake_issuer.algorithm == "PS256"

            @pytest.mark.bearerguard(issuer="https://method.example.com/")
            def test_method_marker(self, fake_issuer):
                assert fake_issuer.issuer == "https://method.example.com/"
                assert fake_issuer.algorithm == "RS256"
        """
    )
    run(project).assert_outcomes(passed=4)


def test_the_marker_is_registered(project):
    result = run(project, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.bearerguard(issuer, audience, *): *fake issuer*"])


MISUSE = {
    "marker-keyword": (
        """
        import pytest

        @pytest.mark.bearerguard(isuer="https://x.example.com/")
        def test_it(fake_issuer):
            pass
        """,
        "*bearerguard: @pytest.mark.bearerguard got unknown keyword(s) isuer; "
        "allowed: issuer, audience, algorithm, jwks_uri, lifetime.",
    ),
    "marker-positional": (
        """
        import pytest

        @pytest.mark.bearerguard("https://x.example.com/")
        def test_it(bearer_token):
            pass
        """,
        "*bearerguard: @pytest.mark.bearerguard takes keyword arguments only "
        "(issuer, audience, *), got positional 'https://x.example.com/'.",
    ),
    "settings-missing": (
        """
        import pytest

        @pytest.fixture
        def bearerguard_settings():
            return {"issuer": "https://x.example.com/"}

        def test_it(bearer_headers):
            pass
        """,
        "*bearerguard: the bearerguard_settings fixture must give issuer and audience, "
        "e.g. {*}; missing: audience.",
    ),
    "settings-unknown": (
        """
        import pytest

        @pytest.fixture
        def bearerguard_settings():
            return {"issuer": "https://x.example.com/", "audience": "urn:x", "audiences": []}

        def test_it(fake_issuer):
            pass
        """,
        "*bearerguard: the bearerguard_settings fixture returned unknown key(s) audiences; "
        "allowed: issuer, audience, algorithm, jwks_uri, lifetime.",
    ),
    "settings-type": (
        """
        import pytest

        @pytest.fixture
        def bearerguard_settings():
            return ["https://x.example.com/", "urn:x"]

        def test_it(fake_issuer):
            pass
        """,
        "*bearerguard: the bearerguard_settings fixture must return a dict such as {*}, got list.",
    ),
    "bad-issuer": (
        """
        import pytest

        @pytest.mark.bearerguard(issuer="http://tenant.example.com/")
        def test_it(fake_issuer):
            pass
        """,
        # "*ssuer": the message may start with the name of the setting or a sentence.
        "*bearerguard: cannot create the fake issuer with {*}: *ssuer "
        "'http://tenant.example.com/' must use https://*",
    ),
}


@pytest.mark.parametrize("case", list(MISUSE))
def test_misuse_fails_the_test_at_setup_with_a_message_that_says_what_is_wrong(project, case):
    source, message = MISUSE[case]
    project.makepyfile(source)
    result = run(project)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_it*", message])
    # The message alone: a traceback into the plugin would say nothing more.
    result.stdout.no_fnmatch_line("*pytest_plugin.py*")
    result.stdout.no_fnmatch_line("*During handling*")
    assert interceptions.active_issuers() == ()


# --- the report of refusals --------------------------------------------------------------------

# A pytest report's lines: "____ test_name ____", "---- section ----", "==== summary ====".
HEADER = r"_{3,} (\S+) _{3,}"
SEPARATOR = r"-{3,} (.+?) -{3,}"
SUMMARY = r"={3,}.*"

FLASK_APP = """
from flask import Flask

from bearerguard.flask import BearerGuard, current_token, requires


def create_app(**settings):
    app = Flask(__name__)
    app.config["BEARERGUARD_ISSUER"] = "https://your-tenant.auth0.com/"
    app.config["BEARERGUARD_AUDIENCE"] = "https://api.example.com"
    app.config.update(settings)
    BearerGuard(app)

    @app.get("/api/contacts")
    @requires("read:contacts")
    def contacts():
        return {"sub": current_token.subject}

    return app
"""
FLASK_CONFTEST = """
import pytest

from app import create_app


@pytest.fixture
def client():
    return create_app().test_client()
"""
# The app's own settings, for the marker of the tests that bind the fake to them.
APP_SETTINGS = 'issuer="https://your-tenant.auth0.com/", audience="https://api.example.com"'


def bearerguard_sections(result: pytest.RunResult) -> dict[str, list[str]]:
    """The lines of each test's ``bearerguard`` report section, by test name."""
    sections: dict[str, list[str]] = {}
    test, lines = "", None
    for line in result.stdout.lines:
        header = re.fullmatch(HEADER, line)
        separator = re.fullmatch(SEPARATOR, line)
        if header or separator or re.fullmatch(SUMMARY, line):
            lines = None
            if header:
                test = header.group(1)
            if separator and separator.group(1) == "bearerguard":
                lines = sections.setdefault(test, [])
        elif lines is not None:
            lines.append(line)
    return sections


def flowing(lines: list[str]) -> str:
    """A section's text with its lines joined: what it says, whatever the wrapping."""
    return " ".join(" ".join(lines).split())


def test_a_failing_tests_report_says_why_bearerguard_refused_its_requests(project):
    project.makepyfile(app=FLASK_APP)
    project.makeconftest(FLASK_CONFTEST)
    project.makepyfile(
        test_refusals=f"""
        import pytest

        from app import create_app


        def test_issuer(client, bearer_headers):
            response = client.get("/api/contacts", headers=bearer_headers(scopes=["read:contacts"]))
            assert response.status_code == 200


        @pytest.mark.bearerguard(issuer="https://your-tenant.auth0.com/")
        def test_audience(client, bearer_headers):
            response = client.get("/api/contacts", headers=bearer_headers(scopes=["read:contacts"]))
            assert response.status_code == 200


        @pytest.mark.bearerguard({APP_SETTINGS})
        def test_scope(client, bearer_headers):
            headers = bearer_headers(scopes="read:messages")
            assert client.get("/api/contacts", headers=headers).status_code == 403
            assert client.get("/api/contacts", headers=headers).status_code == 200


        @pytest.mark.bearerguard({APP_SETTINGS})
        def test_expired(client, fake_issuer):
            token = fake_issuer.expired_token(scopes=["read:contacts"])
            response = client.get("/api/contacts", headers={{"Authorization": f"Bearer {{token}}"}})
            assert response.status_code == 200


        @pytest.mark.bearerguard({APP_SETTINGS})
        def test_keys_from_elsewhere(bearer_headers):
            # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
            client = create_app(BEARERGUARD_JWKS_URI="http://127.0.0.1:9/keys").test_client()
            response = client.get("/api/contacts", headers=bearer_headers(scopes=["read:contacts"]))
            assert response.status_code == 200


        def test_iss_of_another_issuer(client, bearer_headers):
            # The fake keeps its own issuer; the token names the app's, which no fake serves.
            app = {{"iss": "https://your-tenant.auth0.com/", "aud": "https://api.example.com"}}
            response = client.get("/api/contacts", headers=bearer_headers(**app))
            assert response.status_code == 200


        @pytest.mark.bearerguard(issuer="https://other-tenant.example.com/")
        def test_issuer_of_the_marker(client, bearer_headers):
            assert client.get("/api/contacts", headers=bearer_headers()).status_code == 200


        @pytest.mark.bearerguard({APP_SETTINGS}, algorithm="ES256")
        def test_algorithm(client, bearer_headers):
            response = client.get("/api/contacts", headers=bearer_headers(scopes=["read:contacts"]))
            assert response.status_code == 200


        @pytest.mark.bearerguard({APP_SETTINGS})
        def test_broken_tokens(client, fake_issuer):
            for kind in ("unknown_key_token", "tampered_token", "immature_token"):
                token = getattr(fake_issuer, kind)(scopes=["read:contacts"])
                client.get("/api/contacts", headers={{"Authorization": f"Bearer {{token}}"}})
            assert False


        @pytest.mark.bearerguard({APP_SETTINGS})
        def test_passes(client, bearer_headers):
            response = client.get("/api/contacts", headers=bearer_headers(scopes=["read:contacts"]))
            assert response.status_code == 200
        """
    )
    # In a process of its own: the report lists the verifiers alive, and only the app's are.
    result = run(project, in_subprocess=True)
    result.assert_outcomes(failed=9, passed=1)
    result.stdout.fnmatch_lines(["*assert 401 == 200", "*assert 403 == 200", "*assert 503 == 200"])
    sections = {test: flowing(lines) for test, lines in bearerguard_sections(result).items()}
    assert set(sections) == {
        "test_issuer",
        "test_audience",
        "test_scope",
        "test_expired",
        "test_keys_from_elsewhere",
        "test_iss_of_another_issuer",
        "test_issuer_of_the_marker",
        "test_algorithm",
        "test_broken_tokens",
    }
    expected = {
        "test_issuer": [
            "bearerguard refused 1 request during this test.",
            "InvalidIssuerError (401 invalid_token): The iss claim is not one of the "
            "configured issuers.",
            "Your app's verifier trusts 'https://your-tenant.auth0.com/'; the fake issuer "
            "signs as 'https://fake-issuer.bearerguard.test/' (FakeIssuer's default).",
            "No key was fetched",
            "Fix: bind the fake to your app's issuer, with a bearerguard_settings fixture "
            "returning {'issuer': 'https://your-tenant.auth0.com/', 'audience': "
            "'https://api.example.com'}, or with "
            "@pytest.mark.bearerguard(issuer='https://your-tenant.auth0.com/') on the test; "
            "or configure your app with the fake's issuer.",
        ],
        "test_audience": [
            "InvalidAudienceError (401 invalid_token): The aud claim names none of the "
            "configured audiences.",
            "Your app's verifier expects 'https://api.example.com'; the fake's tokens name "
            "'https://api.bearerguard.test' (FakeIssuer's default).",
            "Fix: bind the fake to your app's audience, with 'audience': "
            "'https://api.example.com' in a bearerguard_settings fixture, or with "
            "@pytest.mark.bearerguard(audience='https://api.example.com') on the test",
        ],
        "test_scope": [
            "bearerguard refused 2 requests during this test.",
            "InsufficientScopeError (403 insufficient_scope), 2 times: The token lacks a "
            "scope this resource requires.",
            "The route requires read:contacts; the token grants read:messages.",
            "Fix: mint the token with the scope it needs, e.g. "
            "bearer_headers(scopes=['read:contacts']).",
        ],
        "test_expired": [
            "ExpiredTokenError (401 invalid_token): The exp claim has passed.",
            "a token from expired_token()",
        ],
        "test_keys_from_elsewhere": [
            "KeySetUnavailableError (503 temporarily_unavailable)",
            "so the request went to the network",
            "Your app's verifier fetches the keys of 'https://your-tenant.auth0.com/' from "
            "'http://127.0.0.1:9/keys'; the fake publishes them at "
            "'https://your-tenant.auth0.com/.well-known/jwks.json' (FakeIssuer's default).",
            "Fix: give the fake your app's jwks_uri, with 'jwks_uri': 'http://127.0.0.1:9/keys' "
            "in bearerguard_settings, or with "
            "@pytest.mark.bearerguard(jwks_uri='http://127.0.0.1:9/keys').",
            "bearerguard's log during this test: WARNING Could not refresh jwks for "
            "http://127.0.0.1:9/keys: the request failed (ConnectError)",
        ],
        "test_iss_of_another_issuer": [
            "KeySetUnavailableError (503 temporarily_unavailable)",
            "The fake serves only the URLs of its own issuer, "
            "'https://fake-issuer.bearerguard.test/': a token minted with iss= naming another "
            "issuer sends the verifier to that issuer's real URLs.",
            "WARNING Could not refresh discovery for https://your-tenant.auth0.com/",
        ],
        "test_issuer_of_the_marker": [
            "the fake issuer signs as 'https://other-tenant.example.com/' (set by "
            "@pytest.mark.bearerguard).",
            "Fix: the marker binds the fake to another issuer than your app's: make it "
            "@pytest.mark.bearerguard(issuer='https://your-tenant.auth0.com/'), or drop its "
            "issuer=",
        ],
        "test_algorithm": [
            "InvalidTokenError (401 invalid_token): "
            "The token's alg is not one of the allowed algorithms.",
            "Your app's verifier allows RS256; the fake signs with ES256 (set by "
            "@pytest.mark.bearerguard).",
            "Fix: 'algorithm': 'RS256' in bearerguard_settings, or "
            "@pytest.mark.bearerguard(algorithm='RS256').",
        ],
        "test_broken_tokens": [
            "bearerguard refused 3 requests during this test.",
            "UnknownKeyError (401 invalid_token)",
            "a token from unknown_key_token()",
            "InvalidSignatureError (401 invalid_token)",
            "a token from tampered_token()",
            "The nbf claim lies in the future.",
        ],
    }
    for test, phrases in expected.items():
        for phrase in phrases:
            assert phrase in sections[test], f"{test}: {phrase!r} not in {sections[test]!r}"


def test_passing_tests_and_tests_without_the_fixtures_get_no_section(project):
    project.makepyfile(app=FLASK_APP)
    project.makeconftest(FLASK_CONFTEST)
    project.makepyfile(
        test_quiet="""
        from bearerguard.testing import FakeIssuer


        def test_refused_as_it_should(client, bearer_headers):
            assert client.get("/api/contacts", headers=bearer_headers()).status_code == 401


        def test_refused_without_the_fixtures(client):
            with FakeIssuer() as fake:
                response = client.get("/api/contacts", headers=fake.auth_header())
            assert response.status_code == 200


        def test_failing_with_nothing_refused(bearer_token):
            assert bearer_token() == ""
        """
    )
    # -rA: the report of passed tests shows their sections too.
    result = run(project, "-rA")
    result.assert_outcomes(passed=1, failed=2)
    assert bearerguard_sections(result) == {}
    result.stdout.no_fnmatch_line("*bearerguard refused*")


def test_recording_leaves_the_logger_caplog_and_the_scope_check_as_they_were(project):
    logger = logging.getLogger("bearerguard")
    before = (logger.level, list(logger.filters), logger.disabled, RequiredScopes.enforce)
    project.makepyfile(app=FLASK_APP)
    project.makeconftest(FLASK_CONFTEST)
    project.makepyfile(
        test_logging="""
        import logging

        from bearerguard._token import RequiredScopes

        LOGGER = logging.getLogger("bearerguard")
        BEFORE = (LOGGER.level, list(LOGGER.filters), LOGGER.disabled, RequiredScopes.enforce)
        REFUSED = "Refused a bearer token: The iss claim is not one of the configured issuers."


        def test_caplog_sees_what_it_saw_before(client, bearer_headers, caplog):
            assert client.get("/api/contacts", headers=bearer_headers()).status_code == 401
            assert caplog.records == []  # a debug record, below the default level


        def test_caplog_set_to_debug_first(caplog, client, bearer_headers):
            caplog.set_level(logging.DEBUG, logger="bearerguard")
            assert client.get("/api/contacts", headers=bearer_headers()).status_code == 401
            assert [record.getMessage() for record in caplog.records] == [REFUSED]


        def test_root_set_to_debug(client, bearer_headers, caplog):
            caplog.set_level(logging.DEBUG)
            assert client.get("/api/contacts", headers=bearer_headers()).status_code == 401
            assert [r.getMessage() for r in caplog.records if r.name == "bearerguard"] == [REFUSED]


        def test_everything_is_put_back():
            after = (LOGGER.level, list(LOGGER.filters), LOGGER.disabled, RequiredScopes.enforce)
            assert after == BEFORE
        """
    )
    run(project).assert_outcomes(passed=4)
    after = (logger.level, list(logger.filters), logger.disabled, RequiredScopes.enforce)
    assert after == before


def test_recorders_started_one_inside_another_both_record_and_put_everything_back():
    logger = logging.getLogger("bearerguard")
    before = (logger.level, list(logger.filters), RequiredScopes.enforce)
    outer, inner = Recorder(), Recorder()
    outer.start()
    inner.start()
    try:
        logger.debug("Refused a bearer token: %s", "The exp claim has passed.")
        token = AccessToken(
            claims={"scope": "a"},
            header={},
            scopes=frozenset({"a"}),
            issuer="https://tenant.example.com/",
            audience=("urn:api",),
            subject=None,
            raw="",
        )
        with pytest.raises(InsufficientScopeError):
            token.require_scopes("b")
    finally:
        inner.stop()
        outer.stop()
    assert (logger.level, list(logger.filters), RequiredScopes.enforce) == before
    scope = Refusal(
        InsufficientScopeError.default_reason,
        InsufficientScopeError,
        required=("b",),
        granted=frozenset({"a"}),
    )
    expected = {Refusal("The exp claim has passed."): 1, scope: 1}
    assert outer.refusals == inner.refusals == expected


# --- loading -----------------------------------------------------------------------------------


def test_loading_the_plugin_imports_no_web_framework():
    code = textwrap.dedent(
        f"""
        import sys
        import {PLUGIN}
        frameworks = ["starlette", "fastapi", "flask", "werkzeug", "django", "rest_framework"]
        loaded = [name for name in sys.modules if name.split(".")[0] in frameworks]
        adapters = [
            name for name in sys.modules
            if name.startswith("bearerguard.") and not name.startswith(("bearerguard._",
                "bearerguard.testing"))
        ]
        print(sorted(loaded + adapters))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(
    not entry_point_installed(),
    reason="the pytest11 entry point is not installed yet (pip install -e . after adding it)",
)
def test_the_entry_point_loads_the_plugin_and_no_bearerguard_turns_it_off(project, monkeypatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    project.makepyfile("def test_it(bearer_token):\n    assert bearer_token()\n")
    project.runpytest().assert_outcomes(passed=1)
    result = project.runpytest("-p", f"no:{ENTRY_POINT}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'bearer_token' not found*"])
