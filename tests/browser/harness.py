"""The browser tests' tools: the system's Chromium, kept off the network, with evidence on failure.

Playwright drives Debian's Chromium (``/usr/bin/chromium``), never a browser of its
own: ``scripts/browser-setup.sh`` installs the package and fetches Swagger UI's
files (the npm package ``swagger-ui-dist``) into ``tests/browser/.cache``. Every
browser context routes its requests through :class:`Tab`: requests to this machine
go through, FastAPI's CDN URLs for Swagger UI are answered from that folder, and
any other request is aborted and fails the test, so nothing silently needs the
network. A failed :meth:`Tab.step` saves a screenshot of every open page and the
console messages into the test's ``tmp_path`` and names them in its message.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

try:
    from playwright import sync_api as pw
except ImportError:  # reported by the browser fixture, which fails every test with the fix
    pw = None  # type: ignore[assignment]

REPO_ROOT = Path(__file__).resolve().parents[2]
API = "https://api.example.com"  # the example API's resource (BEARERGUARD_RESOURCE): its audience
DOCS_CLIENT = "spa-client"  # the public client of the built-in tenant that /docs logs in with
SETUP = "bash scripts/browser-setup.sh"
CHROMIUM = Path("/usr/bin/chromium")
# Swagger UI's files, unpacked from the npm package by the set-up script.
ASSETS = Path(__file__).resolve().parent / ".cache" / "swagger-ui-dist"
# Where FastAPI's /docs page loads them from (fastapi.openapi.docs): that CDN serves npm
# packages by name, so the package's files answer these URLs exactly.
CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
# The page also names FastAPI's favicon on FastAPI's site: a decoration, answered with the
# icon swagger-ui-dist ships rather than fetched (FastAPI's swagger_favicon_url default).
FASTAPI_FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"
_STAND_INS = {FASTAPI_FAVICON: "favicon-32x32.png"}

# Headless, and quiet: without the background-networking flags Chromium calls home at
# start and its refused connections pile up. Playwright's launch() gives every browser
# a fresh, temporary user-data directory of its own, removed when the browser closes.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Generous bounds for a loaded 2-core machine: they stop a broken run, they do not
# measure speed. Milliseconds, as Playwright counts.
LAUNCH_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000
NAVIGATION_TIMEOUT_MS = 30_000

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss"})


def missing_prerequisites() -> str | None:
    """What the browser tests lack, with the command that provides it; None when ready."""
    missing = []
    if pw is None:
        missing.append("the Python package playwright (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        missing.append(f"Chromium at {CHROMIUM} (Debian's package chromium)")
    if not (ASSETS / "swagger-ui-bundle.js").is_file() or not (ASSETS / "swagger-ui.css").is_file():
        missing.append("Swagger UI's files (the npm package swagger-ui-dist@5)")
    if not missing:
        return None
    return (
        "The browser tests cannot run: missing "
        + "; ".join(missing)
        + f". Run `{SETUP}` (as root it installs the Debian packages it needs; "
        "bash scripts/test.sh runs it)."
    )


class StepFailed(AssertionError):
    """A step failed; its message names the evidence saved."""


class Tab:
    """One browser context, for one test: its first page, the pages it opens, and the
    guard that keeps them off the network.

    Example::

        tab = Tab(browser, tmp_path / "evidence", javascript=False)
        with tab.step("open the consent page"):
            tab.page.goto(url)
            pw.expect(tab.page.locator("h1")).to_contain_text("Authorize")
    """

    def __init__(self, browser: pw.Browser, evidence: Path, *, javascript: bool = True) -> None:
        self.evidence = evidence
        self.console: list[str] = []
        self.left_the_machine: dict[str, None] = {}  # URLs in order, each once
        self.served_from_cache: list[str] = []
        self.context = browser.new_context(java_script_enabled=javascript)
        self.context.set_default_timeout(STEP_TIMEOUT_MS)
        self.context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        self.context.route("**/*", self._route)
        # Requests a route never sees (the hops of a redirect) are checked here.
        self.context.on("request", lambda request: self._check(request.url))
        self.context.on("console", self._console)
        self.context.on("weberror", self._web_error)
        self.page = self.context.new_page()
        self.strays_reported = False  # whether a failure already named the stray requests
        self._failures = 0

    # --- the network guard ------------------------------------------------------------

    def _route(self, route: pw.Route) -> None:
        url = route.request.url
        if url.startswith(CDN) or url in _STAND_INS:
            file = _cached(_STAND_INS.get(url) or url[len(CDN) :])
            if file is not None:
                self.served_from_cache.append(url)
                route.fulfill(path=file, headers={"Access-Control-Allow-Origin": "*"})
                return
            self.left_the_machine[f"{url} (not in the local copy of swagger-ui-dist)"] = None
            route.abort("blockedbyclient")
            return
        if _stays_here(url):
            route.continue_()
            return
        self.left_the_machine[url] = None
        route.abort("blockedbyclient")

    def _check(self, url: str) -> None:
        if not url.startswith(CDN) and url not in _STAND_INS and not _stays_here(url):
            self.left_the_machine[url] = None

    def assert_stayed_on_this_machine(self) -> None:
        """Fail when a page asked for anything beyond 127.0.0.1 and the local Swagger UI."""
        self.strays_reported = bool(self.left_the_machine)
        assert not self.left_the_machine, (
            "The pages asked for addresses off this machine (aborted; the tests must not need "
            "the network): " + ", ".join(self.left_the_machine)
        )

    # --- what the pages said ------------------------------------------------------------

    def _console(self, message: pw.ConsoleMessage) -> None:
        where = message.page.url if message.page is not None else "?"
        self.console.append(f"[{message.type}] {where}: {message.text}")

    def _web_error(self, error: pw.WebError) -> None:
        where = error.page.url if error.page is not None else "?"
        self.console.append(f"[uncaught] {where}: {error.error}")

    # --- steps ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Run one step; if it fails, save the evidence and fail saying where it is."""
        try:
            yield
        except StepFailed:
            raise  # a step within this one, which saved its evidence already
        except (AssertionError, pw.Error) as exc:
            raise StepFailed(f"{what}: {_first_lines(str(exc))}{self.save_evidence(what)}") from exc

    def save_evidence(self, what: str) -> str:
        """Screenshots of the open pages and the console messages; a sentence naming them."""
        self._failures += 1
        stem = f"{self._failures}-{_slug(what)}"
        self.evidence.mkdir(parents=True, exist_ok=True)
        saved = []
        for index, page in enumerate(self.context.pages):
            shot = self.evidence / f"{stem}-page{index}.png"
            try:
                page.screenshot(path=shot, full_page=True, timeout=10_000)
            except pw.Error as exc:
                saved.append(
                    f"page {index} ({page.url}) had no screenshot: {_first_lines(str(exc))}"
                )
            else:
                saved.append(f"{shot} ({page.url})")
        log = self.evidence / f"{stem}-console.log"
        log.write_text("\n".join(self.console) + "\n", encoding="utf-8")
        stray = ""
        if self.left_the_machine:
            self.strays_reported = True
            stray = "\n  requests aborted (off this machine): " + ", ".join(self.left_the_machine)
        return (
            "\n  screenshots: " + ("; ".join(saved) or "no page was open")
            + f"\n  console messages ({len(self.console)}): {log}"
            + stray
        )  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(pw.Error):
            self.context.close()


def table_row(page: pw.Page, heading: str) -> pw.Locator:
    """The table row whose header cell reads ``heading`` exactly (the consent page's rows)."""
    exactly = re.compile(rf"^\s*{re.escape(heading)}\s*$")
    return page.locator("tr").filter(has=page.locator("th", has_text=exactly))


def _stays_here(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in _NETWORK_SCHEMES or (parts.hostname or "") in _LOOPBACK


def _cached(relative: str) -> Path | None:
    """The file of the local swagger-ui-dist answering a CDN path, if it has one."""
    relative = relative.split("?", 1)[0].split("#", 1)[0]
    file = (ASSETS / relative).resolve()
    if not file.is_file() or not file.is_relative_to(ASSETS.resolve()):
        return None
    return file


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "step"


def _first_lines(text: str, count: int = 12) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[:count]) + ("\n  ..." if len(lines) > count else "")


OpenTab = Callable[..., Tab]  # the open_tab fixture: open_tab(javascript=True) -> Tab
