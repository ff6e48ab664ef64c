"""The dev-issuer's pages: the consent page and the index (HTML), and the error page (text).

Every value that comes from a request or the configuration goes through
:func:`html.escape` (quotes included), so a crafted ``client_id`` or ``state``
can never inject markup. The pages hold no script at all: the consent page is a
plain form POST, which works with JavaScript turned off.

The error page is plain text: it is read by a developer in a browser tab, by
``bearerguard token`` or by curl, and text reads the same in all three. Values
from the request appear in it as Python literals (``repr``), so a crafted one
shows its control characters escaped instead of forging lines of the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

from ._authorize import AuthorizationRequest
from ._clients import described_credentials
from ._config import ClientConfig, DevIssuerConfig, UserConfig
from ._errors import ErrorPage

__all__ = ["BANNER", "consent_page", "error_text", "index_page"]

BANNER = "bearerguard dev-issuer — a DEVELOPMENT tool, not for production"
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d2330; }
.banner { background: #fff3cd; border: 1px solid #e0c36c; padding: .5rem .75rem; }
.legacy { background: #fde2e1; border: 1px solid #e39a97; padding: .5rem .75rem; }
code { background: #f1f3f6; padding: 0 .25rem; }
label { display: block; margin: .25rem 0; }
button { font-size: 1rem; padding: .4rem 1.2rem; margin-right: .5rem; }
table { border-collapse: collapse; } td, th { text-align: left; padding: .2rem .6rem; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<p class='banner'>{_e(BANNER)}</p>\n<h1>{_e(title)}</h1>\n{body}\n</body></html>\n"
    )


def _codes(values: Iterable[str]) -> str:
    return " ".join(f"<code>{_e(v)}</code>" for v in values) or "<em>none</em>"


def consent_page(
    request: AuthorizationRequest,
    users: Sequence[UserConfig],
    *,
    selected: str | None,
    transaction: str,
) -> str:
    """The page where a developer picks a user and allows or denies the request."""
    client = request.client
    options = "\n".join(
        f"<label><input type='radio' name='user' value='{_e(user.sub)}'"
        f"{' checked' if user.sub == selected or (selected is None and i == 0) else ''}> "
        f"{_e(user.name or user.sub)} <code>{_e(user.sub)}</code>"
        f"{' &lt;' + _e(user.email) + '&gt;' if user.email else ''}</label>"
        for i, user in enumerate(users)
    )
    api = (
        f"<code>{_e(request.api.identifier)}</code>"
        if request.api is not None
        else "<em>no API: sign-in only</em>"
    )
    rows = [
        ("Client", f"{_e(client.display_name)} <code>{_e(client.client_id)}</code>"),
        ("API (audience)", api),
        ("Scopes", _codes(request.scopes)),
        ("Redirect URI", f"<code>{_e(request.redirect_uri)}</code>"),
    ]
    if request.ignored_scopes:
        rows.append(("Not available (dropped)", _codes(request.ignored_scopes)))
    if request.organization is not None:
        rows.append(("Organization", f"<code>{_e(request.organization)}</code>"))
    table = "".join(f"<tr><th>{_e(name)}</th><td>{value}</td></tr>" for name, value in rows)
    legacy = ""
    if request.implicit:
        legacy = (
            "<p class='legacy'>This is the <strong>legacy implicit flow</strong> "
            "(<code>response_type=token</code>): the access token is sent back in the URL "
            "fragment. Prefer the authorization code flow with PKCE.</p>"
        )
    body = (
        f"{legacy}<table>{table}</table>\n"
        "<form method='post' action='authorize'>\n"
        f"<input type='hidden' name='transaction' value='{_e(transaction)}'>\n"
        f"<fieldset><legend>Sign in as (no password: this is a dev tool)</legend>\n{options}"
        "</fieldset>\n<p><button type='submit' name='decision' value='allow'>Allow</button>"
        "<button type='submit' name='decision' value='deny'>Deny</button></p>\n</form>"
    )
    return _page(f"Authorize {client.display_name}", body)


def error_text(error: ErrorPage) -> str:
    """The plain-text page of a refusal: what is wrong, and what to do; nothing is redirected.

    Example::

        error_text(ErrorPage("Missing client_id", "The request names no client_id.",
                             fix="Add client_id=spa-client to the authorization URL."))
        # 'bearerguard dev-issuer — ...\n\nMissing client_id\n\nThe request names ...'
    """
    return f"{BANNER}\n\n{error.title}\n\n{error.detail}\n\nWhat to do: {error.fix}\n"


def index_page(
    config: DevIssuerConfig, issuers: Sequence[str], endpoints: Mapping[str, str]
) -> str:
    """The front page: issuer URLs, endpoints, clients (secrets included: it is dev), APIs."""
    issuer_rows = "".join(f"<li><code>{_e(issuer)}</code></li>" for issuer in issuers)
    endpoint_rows = "".join(
        f"<tr><th>{_e(name)}</th><td><code>{_e(url)}</code></td></tr>"
        for name, url in endpoints.items()
    )
    client_rows = "".join(
        f"<tr><td><code>{_e(c.client_id)}</code></td>"
        f"<td>{_secret(c)}</td>"
        f"<td>{_codes(c.grant_types)}</td><td>{_e(c.display_name)}</td></tr>"
        for c in config.clients
    )
    api_rows = "".join(
        f"<tr><td><code>{_e(api.identifier)}</code></td><td>{_codes(api.scopes)}</td></tr>"
        for api in config.apis
    )
    user_rows = "".join(
        f"<tr><td><code>{_e(u.sub)}</code></td><td>{_e(u.name or '')}</td>"
        f"<td>{_e(u.email or '')}</td></tr>"
        for u in config.users
    )
    body = (
        f"<h2>Issuers</h2><ul>{issuer_rows}</ul>"
        "<p>The second is the same tenant under another host name, as an Auth0 custom domain: "
        "a token carries the issuer it was requested from.</p>"
        f"<h2>Endpoints</h2><table>{endpoint_rows}</table>"
        "<h2>Clients</h2><table><tr><th>client_id</th><th>client_secret</th>"
        f"<th>grant types</th><th>name</th></tr>{client_rows}</table>"
        f"<h2>APIs</h2><table><tr><th>identifier</th><th>scopes</th></tr>{api_rows}</table>"
        f"<h2>Users</h2><table><tr><th>sub</th><th>name</th><th>email</th></tr>{user_rows}</table>"
    )
    return _page("bearerguard dev-issuer", body)


def _secret(client: ClientConfig) -> str:
    """The client_secret cell: the secret, or how a client without one authenticates."""
    return described_credentials(
        client, public="<em>public</em>", secret=_e, keys="<em>keys (private_key_jwt)</em>"
    )
