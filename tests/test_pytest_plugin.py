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

from bearerguard._intercept import interceptions

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
            first = body[0] if body else ""
            named = re.fullmatch(r"# ([\w/]+\.py)", first)
            where = f"{section!r}: a {language!r} block starting {first!r}"
            assert language == "python", f"every code block of the guide is Python; {where}"
            assert named, f"a block's first line names its file (# app.py); {where}"
            blocks.append(Block(section, named.group(1), "\n".join(body) + "\n"))
    return blocks


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


# Each framework's complete example: allowed (200), no token (401), missing scope (403).
FRAMEWORKS = {
    "FastAPI": False,  # section -> run in a subprocess
    "Starlette": False,
    "Flask": False,
    "Django": True,
    "Django REST framework": True,
}
# The sections that test the FastAPI example, and how many tests each holds.
ON_FASTAPI = {"Broken tokens": 6, "Custom claims": 1, "Key rotation": 2, "Configuration": 2}
WITHOUT_PYTEST = "Without pytest"


def test_every_code_block_of_the_guide_is_run_by_these_tests():
    sections = {block.section for block in guide_blocks()}
    assert sections == {*FRAMEWORKS, *ON_FASTAPI, WITHOUT_PYTEST}


@pytest.mark.parametrize("section", list(FRAMEWORKS))
def test_the_guides_example_for_each_framework_passes(project, section):
    written = write_section(project, section)
    assert "test_app.py" in written
    result = run(project, "-v", in_subprocess=FRAMEWORKS[section])
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_contacts_with_the_scope PASSED*",
            "*test_contacts_without_a_token PASSED*",
            "*test_contacts_without_the_scope PASSED*",
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
        "*bearerguard: cannot create the fake issuer with {*}: Issuer "
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
