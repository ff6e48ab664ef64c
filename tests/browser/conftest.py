"""The browser suite's servers and browser: one of each for the whole folder, then stopped.

* ``chromium``: the system's Chromium under Playwright (see :mod:`.harness`).
* ``dev_issuer``: the dev issuer with the built-in tenant and its consent page.
* ``example_api``: ``examples.fastapi_app`` under uvicorn on 127.0.0.1, trusting the
  dev issuer (both issuer URLs) and logging Swagger UI in with its public client.
* ``open_tab``: a fresh browser context per call, closed after the test.

They are package-scoped rather than session-scoped on purpose: between calls, the sync
Playwright API leaves its event loop marked as running in the main thread, which breaks
every ``asyncio.run()`` (and pytest-asyncio test) after it until Playwright stops. So the
browser stops once this folder's tests are done.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearerguard._cli.demo import FRAMEWORKS, ExampleDidNotStart, serve_example
from bearerguard.devissuer import DevIssuer, default_config

from .harness import (
    API,
    CHROMIUM,
    CHROMIUM_ARGS,
    DOCS_CLIENT,
    LAUNCH_TIMEOUT_MS,
    REPO_ROOT,
    SETUP,
    STEP_TIMEOUT_MS,
    OpenTab,
    Tab,
    missing_prerequisites,
    pw,
)


@pytest.fixture(scope="package")
def chromium() -> Iterator[pw.Browser]:
    """Chromium, headless, for every test of the folder; fails them all if it cannot start."""
    problem = missing_prerequisites()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    pw.expect.set_options(timeout=STEP_TIMEOUT_MS)
    with pw.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=list(CHROMIUM_ARGS),
                timeout=LAUNCH_TIMEOUT_MS,
            )
        except pw.Error as exc:
            pytest.fail(
                f"Chromium ({CHROMIUM}) did not start under Playwright: {exc}\n"
                f"Check the installation with `{SETUP}`.",
                pytrace=False,
            )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def dev_issuer() -> Iterator[DevIssuer]:
    """The built-in tenant (spa-client, Alice, Bob), asking the user on its consent page."""
    with DevIssuer(default_config(), port=0, auto_approve=False) as issuer:
        yield issuer


@pytest.fixture(scope="package")
def example_api(dev_issuer: DevIssuer) -> Iterator[str]:
    """The FastAPI example under uvicorn (as ``bearerguard demo`` serves it); its base URL."""
    env = {
        "BEARERGUARD_ISSUER": f"{dev_issuer.url},{dev_issuer.custom_domain_url}",
        "BEARERGUARD_RESOURCE": API,  # as the README starts it: the audience defaults to it
        "BEARERGUARD_DOCS_CLIENT_ID": DOCS_CLIENT,
    }
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:
            # The server inherits our environment: nothing there may change what it trusts,
            # and its fetches from the dev issuer must not go through a proxy.
            for name in list(os.environ):
                if name.startswith("BEARERGUARD_") or name.lower().endswith("_proxy"):
                    patch.delenv(name)
            try:
                url = stack.enter_context(serve_example(FRAMEWORKS["fastapi"], REPO_ROOT, env))
            except ExampleDidNotStart as exc:
                pytest.fail(str(exc), pytrace=False)
        yield url


@pytest.fixture
def open_tab(chromium: pw.Browser, tmp_path: Path) -> Iterator[OpenTab]:
    """``open_tab(javascript=True)``: a new browser context and page; evidence goes to
    ``tmp_path``. Every context is closed after the test, and a page that asked for
    anything off this machine fails it."""
    tabs: list[Tab] = []

    def open_one(*, javascript: bool = True) -> Tab:
        tab = Tab(chromium, tmp_path / f"tab{len(tabs)}", javascript=javascript)
        tabs.append(tab)
        return tab

    yield open_one
    for tab in tabs:
        tab.close()
    for tab in tabs:
        if not tab.strays_reported:  # else the test's failure named them already
            tab.assert_stayed_on_this_machine()
