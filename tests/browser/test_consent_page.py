"""The dev issuer's consent page in a browser without JavaScript: read, choose, Allow or Deny.

The request is the one Swagger UI sends from the FastAPI example's /docs: the public
client spa-client with PKCE, back to ``http://127.0.0.1:<the API's port>/docs/oauth2-redirect``
(a public client's registered loopback redirect URI matches on any port, RFC 8252 §7.3).
A request the issuer cannot trust gets a page of text saying what is wrong and what to do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from bearerguard.devissuer import DevIssuer

from .harness import API, DOCS_CLIENT, OpenTab, Tab, pw, table_row

pytestmark = pytest.mark.browser

SCOPES = ("openid", "profile", "read:contacts")


class Request:
    """One PKCE authorization request: its URL, and what proves the code was ours."""

    def __init__(self, issuer: DevIssuer, redirect_uri: str) -> None:
        self.issuer = issuer
        self.redirect_uri = redirect_uri
        self.state = secrets.token_urlsafe(12)
        self.verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        self.url = (
            issuer.url
            + "authorize?"
            + urlencode(
                {
                    "response_type": "code",
                    "client_id": DOCS_CLIENT,
                    "redirect_uri": redirect_uri,
                    "scope": " ".join(SCOPES),
                    "audience": API,
                    "state": self.state,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
        )

    def came_back(self, url: str) -> bool:
        """Whether the browser is on the redirect URI, with a query."""
        return url.startswith(self.redirect_uri + "?")

    def returned(self, url: str) -> dict[str, str]:
        """The query the browser came back with, once it is on the redirect URI."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == self.redirect_uri, (
            f"the browser is on {url}, not on the redirect URI {self.redirect_uri}"
        )
        return {name: values[0] for name, values in parse_qs(parts.query).items()}

    def subject_of(self, code: str) -> str:
        """Redeem ``code`` as the client would; the ``sub`` of the access token it gets."""
        with httpx.Client(trust_env=False, timeout=30) as http:
            answer = http.post(
                self.issuer.url + "oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "client_id": DOCS_CLIENT,
                    "code": code,
                    "code_verifier": self.verifier,
                    "redirect_uri": self.redirect_uri,
                },
            )
        assert answer.status_code == 200, f"the code was refused: {answer.text}"
        payload = answer.json()["access_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])


@pytest.fixture
def request_for_docs(dev_issuer: DevIssuer, example_api: str) -> Request:
    return Request(dev_issuer, f"{example_api}docs/oauth2-redirect")


def open_consent(tab: Tab, request: Request, issuer: DevIssuer) -> None:
    """Open the consent page and check it shows the client, the API, the scopes, the users."""
    page = tab.page
    client = issuer.config.client(DOCS_CLIENT)
    assert client is not None
    with tab.step("open the consent page (JavaScript off)"):
        page.goto(request.url)
        pw.expect(page.locator("h1")).to_have_text(f"Authorize {client.display_name}")

    with tab.step("read the consent page"):
        pw.expect(page.locator("body")).to_contain_text("DEVELOPMENT tool")
        pw.expect(table_row(page, "Client")).to_contain_text(client.display_name)
        pw.expect(table_row(page, "Client")).to_contain_text(DOCS_CLIENT)
        pw.expect(table_row(page, "API (audience)")).to_contain_text(API)
        for scope in SCOPES:
            pw.expect(table_row(page, "Scopes")).to_contain_text(scope)
        pw.expect(table_row(page, "Redirect URI")).to_contain_text(request.redirect_uri)
        for user in issuer.config.users:
            choice = page.get_by_role("radio", name=user.sub)
            pw.expect(choice).to_have_count(1)
            if user.name:
                pw.expect(page.locator("label", has=choice)).to_contain_text(user.name)
        pw.expect(page.get_by_role("button", name="Allow")).to_be_visible()
        pw.expect(page.get_by_role("button", name="Deny")).to_be_visible()


def test_allow_sends_the_browser_back_with_a_code_for_the_chosen_user(
    open_tab: OpenTab, dev_issuer: DevIssuer, request_for_docs: Request
) -> None:
    tab = open_tab(javascript=False)
    open_consent(tab, request_for_docs, dev_issuer)
    page = tab.page
    with tab.step("choose auth0|bob and Allow"):
        page.get_by_role("radio", name="auth0|bob").check()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(request_for_docs.came_back)
    with tab.step("back on the redirect URI with a code and the same state"):
        returned = request_for_docs.returned(page.url)
        assert "error" not in returned, f"the issuer answered an error: {returned}"
        assert returned.get("state") == request_for_docs.state, returned
        assert returned.get("code"), returned
        assert request_for_docs.subject_of(returned["code"]) == "auth0|bob"
        tab.assert_stayed_on_this_machine()


def test_deny_sends_the_browser_back_with_access_denied(
    open_tab: OpenTab, dev_issuer: DevIssuer, request_for_docs: Request
) -> None:
    tab = open_tab(javascript=False)
    open_consent(tab, request_for_docs, dev_issuer)
    page = tab.page
    with tab.step("Deny"):
        page.get_by_role("button", name="Deny").click()
        page.wait_for_url(request_for_docs.came_back)
    with tab.step("back on the redirect URI with access_denied and the same state"):
        returned = request_for_docs.returned(page.url)
        assert returned.get("error") == "access_denied", returned
        assert returned.get("state") == request_for_docs.state, returned
        assert "code" not in returned, returned
        tab.assert_stayed_on_this_machine()


@pytest.mark.parametrize(
    ("case", "title", "says"),
    [
        ("unknown client", "Unknown client", ["'nobody'", DOCS_CLIENT]),
        ("no redirect_uri", "Missing redirect_uri", ["redirect_uri", "{registered}"]),
    ],
    ids=["unknown-client", "no-redirect-uri"],
)
def test_a_refused_request_is_a_readable_page_that_says_what_to_do(
    open_tab: OpenTab,
    request_for_docs: Request,
    case: str,
    title: str,
    says: list[str],
) -> None:
    dev_issuer = request_for_docs.issuer
    client = dev_issuer.config.client(DOCS_CLIENT)
    assert client is not None
    query = dict(parse_qs(urlsplit(request_for_docs.url).query))
    if case == "unknown client":
        query["client_id"] = ["nobody"]
    else:
        del query["redirect_uri"]
    url = dev_issuer.url + "authorize?" + urlencode(query, doseq=True)
    tab = open_tab(javascript=False)
    page = tab.page
    with tab.step(f"open /authorize with {case}"):
        response = page.goto(url)
        assert response is not None
        assert response.status == 400, f"status {response.status}"
        assert page.url == url, f"the error page redirected the browser to {page.url}"
    with tab.step(f"read the {title!r} page"):
        body = page.locator("body")
        pw.expect(body).to_contain_text(title)
        pw.expect(body).to_contain_text("DEVELOPMENT tool")
        pw.expect(body).to_contain_text(re.compile("what to do", re.IGNORECASE))
        text = body.inner_text()
        for words in says:
            assert words.format(registered=client.redirect_uris[0]) in text, text
        # Text for a person: no markup or escapes showing, no JSON.
        for markup in ("<", "&lt;", "&#"):
            assert markup not in text, text
        assert not text.lstrip().startswith("{"), text
        tab.assert_stayed_on_this_machine()
