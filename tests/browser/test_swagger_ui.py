"""Swagger UI at the FastAPI example's /docs logs in through the dev issuer, end to end.

Authorize opens the dev issuer's consent page in a popup (authorization code with PKCE,
the public client spa-client, the API's audience); the token Swagger UI gets is the one
"Try it out" sends. Alice may read contacts (200); Bob holds read:messages only (403,
with the insufficient_scope challenge, which names the API's RFC 9728 metadata). Swagger
UI's own files come from the local copy of swagger-ui-dist, not from the CDN the page names.
"""

from __future__ import annotations

import re

import pytest

from .harness import API, CDN, DOCS_CLIENT, OpenTab, Tab, pw, table_row

pytestmark = pytest.mark.browser

CONTACTS = "/api/contacts"
METADATA_PATH = "/.well-known/oauth-protected-resource"


class Docs:
    """The /docs page, by what a person sees and clicks."""

    def __init__(self, tab: Tab, url: str) -> None:
        self.tab = tab
        self.page = tab.page
        self.url = url

    # --- the Authorize dialog ---------------------------------------------------------

    @property
    def authorize_button(self) -> pw.Locator:
        return self.page.locator(".auth-wrapper .btn.authorize")

    @property
    def dialog(self) -> pw.Locator:
        return self.page.locator(".modal-ux")

    @property
    def login(self) -> pw.Locator:
        """The dialog's OAuth2 authorization-code section."""
        return self.dialog.locator(".auth-container").filter(has_text="authorizationCode")

    @property
    def bearer_box(self) -> pw.Locator:
        """The dialog's section where a token is pasted (HTTP bearer)."""
        return self.dialog.locator(".auth-container").filter(has_text="http, Bearer")

    def open_dialog(self) -> None:
        self.authorize_button.click()
        pw.expect(self.dialog).to_be_visible()

    def close_dialog(self) -> None:
        self.dialog.locator(".close-modal").click()
        pw.expect(self.dialog).to_have_count(0)

    def log_in(self, user: str) -> None:
        """Tick every scope, Authorize, and approve as ``user`` in the popup."""
        login = self.login
        pw.expect(login).to_have_count(1)
        checkboxes = login.locator(".scopes input[type=checkbox]")
        pw.expect(checkboxes.first).to_be_attached()
        login.get_by_text("select all", exact=True).click()
        for index in range(checkboxes.count()):
            pw.expect(checkboxes.nth(index)).to_be_checked()
        with self.page.expect_popup() as opened:
            login.locator(".btn.authorize").click()
        popup = opened.value
        with self.tab.step(f"approve as {user} on the dev issuer's consent page (popup)"):
            popup.wait_for_url(re.compile(r"/authorize\?"))
            pw.expect(popup.locator("h1")).to_contain_text("Authorize")
            pw.expect(table_row(popup, "Client")).to_contain_text(DOCS_CLIENT)
            popup.get_by_role("radio", name=user).check()
            with popup.expect_event("close"):
                popup.get_by_role("button", name="Allow").click()
        with self.tab.step("Swagger UI exchanges the code for a token"):
            outcome = login.locator("h6:text-is('Authorized'), .errors").first
            pw.expect(outcome).to_be_visible()
            errors = login.locator(".errors")
            assert errors.count() == 0, f"Swagger UI got no token: {errors.all_inner_texts()}"
            pw.expect(login.locator("button", has_text="Logout")).to_be_visible()

    def log_out(self) -> None:
        self.login.locator("button", has_text="Logout").click()
        pw.expect(self.login.locator("h6:text-is('Authorized')")).to_have_count(0)

    # --- an operation -----------------------------------------------------------------

    def operation(self, path: str) -> pw.Locator:
        summary_path = self.page.locator(f".opblock-summary-path[data-path='{path}']")
        return self.page.locator(".opblock.opblock-get").filter(has=summary_path)

    def try_it_out(self, path: str) -> None:
        operation = self.operation(path)
        pw.expect(operation).to_have_count(1)
        operation.locator(".opblock-summary-control").click()
        operation.locator(".try-out__btn").click()
        pw.expect(operation.locator(".execute")).to_be_visible()

    def execute(self, path: str, status: int) -> pw.Locator:
        """Execute the open "Try it out"; the live response once it shows ``status``."""
        operation = self.operation(path)
        live = operation.locator(".live-responses-table")
        with self.page.expect_response(lambda response: response.url.endswith(path)):
            operation.locator(".execute").click()
        shown = live.locator("tbody .response-col_status").first
        pw.expect(shown).to_have_text(re.compile(rf"^\s*{status}\b"))
        return live.locator("tbody .response-col_description").first


def test_swagger_ui_logs_in_through_the_dev_issuer_and_calls_the_api(
    open_tab: OpenTab, example_api: str
) -> None:
    tab = open_tab()
    docs = Docs(tab, example_api + "docs")
    page = tab.page

    with tab.step("open /docs (Swagger UI from the local swagger-ui-dist)"):
        page.goto(docs.url)
        pw.expect(page.locator(".swagger-ui .info .title")).to_contain_text("FastAPI example")
        pw.expect(docs.operation(CONTACTS)).to_have_count(1)
        assert CDN + "swagger-ui-bundle.js" in tab.served_from_cache, tab.served_from_cache
        assert CDN + "swagger-ui.css" in tab.served_from_cache, tab.served_from_cache

    with tab.step("the Authorize dialog offers the login (authorization code + PKCE)"):
        docs.open_dialog()
        pw.expect(docs.login).to_have_count(1)
        pw.expect(docs.login.locator("input[data-name='clientId']")).to_have_value(DOCS_CLIENT)

    with tab.step("the Authorize dialog still offers the box to paste a bearer token"):
        pw.expect(docs.bearer_box).to_have_count(1)
        pw.expect(docs.bearer_box.locator("input[type=text]")).to_be_visible()

    with tab.step("log in as auth0|alice"):
        docs.log_in("auth0|alice")
        docs.close_dialog()
        pw.expect(docs.authorize_button).to_have_class(re.compile(r"\blocked\b"))

    with tab.step(f"GET {CONTACTS} with Alice's token: 200 and her contacts"):
        docs.try_it_out(CONTACTS)
        answer = docs.execute(CONTACTS, 200)
        pw.expect(answer).to_contain_text("Ada Lovelace")

    with tab.step("log out, then log in as auth0|bob (read:messages only)"):
        docs.open_dialog()
        docs.log_out()
        docs.log_in("auth0|bob")
        docs.close_dialog()

    with tab.step(f"GET {CONTACTS} with Bob's token: 403 insufficient_scope"):
        answer = docs.execute(CONTACTS, 403)
        headers = answer.locator("div:has(> h5:text-is('Response headers')) > pre")
        pw.expect(headers).to_contain_text("www-authenticate")
        pw.expect(headers).to_contain_text('error="insufficient_scope"')
        pw.expect(headers).to_contain_text('scope="read:contacts"')
        # The API's RFC 9728 metadata, where a client learns how to get a better token.
        pw.expect(headers).to_contain_text(f'resource_metadata="{API}{METADATA_PATH}"')
        pw.expect(answer).to_contain_text('"error": "insufficient_scope"')

    with tab.step(f"GET {CONTACTS} documents its refusals (none 'Undocumented')"):
        documented = docs.operation(CONTACTS).locator(
            ".responses-wrapper .responses-table:not(.live-responses-table) "
            "tr.response .response-col_status"
        )
        pw.expect(documented).to_have_text(["200", "400", "401", "403", "503"], use_inner_text=True)

    with tab.step("everything the pages asked for was on this machine"):
        tab.assert_stayed_on_this_machine()
