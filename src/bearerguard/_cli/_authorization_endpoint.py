"""The browser's part of a flow, played without a browser: the authorization request.

``bearerguard token`` sends the user to the authorization endpoint as a browser
would (RFC 6749 §4.1.1, §4.2.1), answers the consent page when the issuer does
not auto-approve, and reads the answer from the redirect's ``Location`` without
following it, as the application at the redirect URI would receive it.

Example::

    answer = authorize(session, response_type="code", extra={"code_challenge": ...})
    answer["code"]   # checked: the redirect went to --redirect-uri with our state
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

from ._form import parse_form
from ._output import safe
from ._provider_answers import describe_failure, oauth_error
from ._token_error import TokenError
from ._token_session import Fields, Session, form_fields

__all__ = ["DEFAULT_SCOPES", "authorize"]

DEFAULT_SCOPES = {
    "authorization-code": "openid profile email offline_access",
    # The implicit flow never issues refresh tokens, so offline_access means nothing to it.
    "implicit": "openid profile email",
}


def authorize(session: Session, *, response_type: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Ask the authorization endpoint and return the parameters of the redirect to the client.

    An auto-approving issuer redirects at once; otherwise it shows its consent
    page, and the form is submitted as the user would (``decision=allow``).
    """
    args = session.args
    url = session.endpoints.authorization
    if url is None:  # find_endpoints was told this flow needs one: never the case
        raise TokenError("no authorization endpoint: name it with --authorization-endpoint URL.")
    state = secrets.token_urlsafe(16)
    params = form_fields(
        {
            "response_type": response_type,
            "client_id": args.client_id,
            "redirect_uri": args.redirect_uri,
            "scope": args.scope or DEFAULT_SCOPES[args.flow],
            "audience": session.settings.audience,
            "resource": session.resources,
            "state": state,
            "login_hint": args.user,
            **extra,
        }
    )
    response = session.http.get(url, params=params)
    if response.status_code == 200:  # the consent page: this issuer does not auto-approve
        response = _consent(session.http, url, response, params, args.user)
    if response.status_code not in (301, 302, 303, 307, 308):
        raise TokenError(describe_failure(response, "the authorization request"))
    location = urljoin(url, response.headers.get("location", ""))
    parts = urlsplit(location)
    if parts._replace(query="", fragment="").geturl() != args.redirect_uri:
        raise TokenError(f"the issuer redirected to {safe(location)}, not to the redirect URI.")
    # The authorization code comes in the query; implicit tokens in the fragment
    # (RFC 6749 §4.1.2, §4.2.2); errors in either, depending on the response type.
    answer = dict(parse_qsl(parts.query)) | dict(parse_qsl(parts.fragment))
    if "error" in answer:
        raise TokenError(f"the issuer refused the authorization request\n  {oauth_error(answer)}")
    if answer.get("state") != state:
        raise TokenError("the redirect's state does not match the request's: not our answer.")
    return answer


def _consent(
    http: httpx.Client,
    url: str,
    page: httpx.Response,
    params: Fields,
    user: str | None,
) -> httpx.Response:
    """Allow the request on the consent page, as a user pressing "Allow" would."""
    form = parse_form(page.text)
    if form is None or not form.hidden:
        # A form that carries no transaction of its own is answered with the
        # authorization request itself, plus the user and the decision.
        return http.post(url, data=form_fields({**params, "user": user, "decision": "allow"}))
    data = form.submission(choose={"user": user}, press="allow")
    return http.post(urljoin(url, form.action), data=data)
