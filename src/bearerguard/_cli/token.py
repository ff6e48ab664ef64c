"""``bearerguard token``: an access token from the dev issuer, for curl and scripts.

Speaks the Auth0 dialect the dev issuer (``bearerguard dev-issuer``) serves, so
the client-credentials flow works against an Auth0 tenant as well::

    TOKEN=$(bearerguard token --issuer http://127.0.0.1:9000/ --client-id m2m-client \\
            --client-secret m2m-secret --audience https://api.example.com)
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/contacts

Flows: client credentials (``POST /oauth/token``), authorization code with PKCE
(``GET /authorize``, the consent form when the issuer does not auto-approve,
then ``POST /oauth/token``), refresh token, and the legacy implicit flow.
Redirects are never followed: the answer is read from their ``Location``, as a
browser would hand it to the application.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

from bearerguard._config import check_url, is_loopback_host
from bearerguard._errors import ConfigurationError
from bearerguard.devissuer._pkce import s256

from ._form import parse_form
from ._output import error, pretty_json, safe

__all__ = ["FLOWS", "TokenError", "register"]

FLOWS = ("client-credentials", "authorization-code", "refresh-token", "implicit")
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8080/callback"
DEFAULT_SCOPES = {
    "authorization-code": "openid profile email offline_access",
    # The implicit flow never issues refresh tokens, so offline_access means nothing to it.
    "implicit": "openid profile email",
}
TIMEOUT = 10.0
# RFC 6750 §2.1 b64token: what may follow "Bearer " in a header, and so in $TOKEN.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAX_SHOWN = 300  # characters of an unexpected answer worth showing


class TokenError(Exception):
    """The token could not be had; the message says why (exit status 1)."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bearerguard token`` to the command's sub-parsers."""
    parser = commands.add_parser(
        "token",
        help="get an access token from the dev issuer (prints it, for curl)",
        description="Get an access token from 'bearerguard dev-issuer' (or any Auth0-shaped "
        "issuer) and print it, so that TOKEN=$(bearerguard token ...) works; --json prints "
        "the whole token response. Exit status: 0 success, 1 refused or unreachable, "
        "2 usage error.",
        epilog="--issuer and --audience default to the first value of BEARERGUARD_ISSUER and "
        "BEARERGUARD_AUDIENCE, --client-secret to BEARERGUARD_CLIENT_SECRET (a secret in the "
        "environment stays out of the process list and the shell history).",
    )
    parser.add_argument("--issuer", metavar="URL", help="the issuer, e.g. http://127.0.0.1:9000/")
    parser.add_argument(
        "--flow",
        choices=FLOWS,
        default="client-credentials",
        help="the OAuth flow (default: client-credentials; implicit is legacy, see RFC 9700)",
    )
    parser.add_argument("--client-id", required=True, metavar="ID", help="the OAuth client id")
    parser.add_argument(
        "--client-secret", metavar="S", help="the client secret (confidential clients)"
    )
    parser.add_argument(
        "--audience",
        metavar="AUD",
        help="the API identifier the token is for (required except for refresh-token)",
    )
    parser.add_argument(
        "--scope",
        metavar='"A B"',
        help="space-separated scopes (default for authorization-code: "
        f"{DEFAULT_SCOPES['authorization-code']!r}; for implicit: {DEFAULT_SCOPES['implicit']!r})",
    )
    parser.add_argument(
        "--redirect-uri",
        metavar="URI",
        default=DEFAULT_REDIRECT_URI,
        help=f"the client's registered redirect URI (default {DEFAULT_REDIRECT_URI})",
    )
    parser.add_argument(
        "--user", metavar="SUB-or-email", help="who logs in (authorization-code, implicit)"
    )
    parser.add_argument(
        "--refresh-token", metavar="RT", help="the refresh token to redeem (refresh-token flow)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the whole token response as JSON"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Get the token and print it; 0 on success, 1 when refused or unreachable, 2 on misuse."""
    try:
        issuer = _issuer(args.issuer or _first(os.environ.get("BEARERGUARD_ISSUER")))
        audience = args.audience or _first(os.environ.get("BEARERGUARD_AUDIENCE"))
        secret = args.client_secret or os.environ.get("BEARERGUARD_CLIENT_SECRET") or None
        _check_usage(args, audience, secret)
    except (TokenError, ConfigurationError) as exc:
        error("token", str(exc))
        return 2
    if args.flow == "implicit":
        print(
            "bearerguard token: note: the implicit flow is legacy (RFC 9700 says not to use "
            "it); prefer --flow authorization-code.",
            file=sys.stderr,
        )
    host = urlsplit(issuer).hostname or ""
    # Proxy settings from the environment are for the outside world: a proxy must
    # never see a loopback dev issuer's requests (nor answer them).
    with httpx.Client(timeout=TIMEOUT, trust_env=not is_loopback_host(host)) as http:
        session = _Session(http, issuer, args, audience, secret)
        try:
            response = _FLOWS[args.flow](session)
        except TokenError as exc:
            error("token", str(exc))
            return 1
        except httpx.ConnectError:
            error("token", f"cannot connect: is `bearerguard dev-issuer` running at {issuer}?")
            return 1
        except httpx.TimeoutException:
            error("token", f"{issuer} did not answer within {TIMEOUT:g} s.")
            return 1
        except httpx.HTTPError as exc:
            error("token", f"the request to {issuer} failed: {type(exc).__name__}: {exc}")
            return 1
    print(pretty_json(response) if args.json else response["access_token"])
    return 0


# --- arguments --------------------------------------------------------------------------------


def _first(value: str | None) -> str | None:
    """The first item of a comma-separated setting such as ``BEARERGUARD_AUDIENCE``."""
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items[0] if items else None


def _issuer(value: str | None) -> str:
    """The issuer URL with a trailing slash, so ``{issuer}oauth/token`` is its endpoint."""
    if not value:
        raise TokenError("--issuer is required (or set BEARERGUARD_ISSUER).")
    if "://" not in value:
        raise TokenError(f"--issuer {value!r} needs a scheme, e.g. http://127.0.0.1:9000/.")
    # https, or http to a loopback host only: a client secret must not cross a network in clear.
    check_url(value, what="--issuer")
    return value if value.endswith("/") else value + "/"


def _check_usage(args: argparse.Namespace, audience: str | None, secret: str | None) -> None:
    if args.flow == "refresh-token":
        if not args.refresh_token:
            raise TokenError("--flow refresh-token needs --refresh-token RT.")
    elif not audience:
        raise TokenError(
            "--audience is required: without one, Auth0 issues a token your API cannot verify "
            "(an encrypted or opaque one)."
        )
    if args.flow == "client-credentials" and not secret:
        raise TokenError(
            "--flow client-credentials needs --client-secret (or BEARERGUARD_CLIENT_SECRET)."
        )


# --- flows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    """What every flow needs: the HTTP client, the issuer and the settings."""

    http: httpx.Client
    issuer: str
    args: argparse.Namespace
    audience: str | None
    secret: str | None


def _client_credentials(session: _Session) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_id": session.args.client_id,
        "client_secret": session.secret,
        "audience": session.audience,
        "scope": session.args.scope,
    }
    return _token_request(session, form)


def _authorization_code(session: _Session) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)  # 64 characters: RFC 7636 §4.1 asks for 43 to 128
    pkce = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    answer = _authorize(session, response_type="code", extra=pkce)
    code = answer.get("code")
    if not code:
        raise TokenError("the issuer redirected without a code.")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": session.args.redirect_uri,
        "client_id": session.args.client_id,
        "client_secret": session.secret,
    }
    return _token_request(session, form)


def _refresh_token(session: _Session) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": session.args.refresh_token,
        "client_id": session.args.client_id,
        "client_secret": session.secret,
        "scope": session.args.scope,
    }
    return _token_request(session, form)


def _implicit(session: _Session) -> dict[str, Any]:
    response: dict[str, Any] = _authorize(session, response_type="token", extra={})
    response.pop("state", None)
    if response.get("expires_in", "").isdigit():
        response["expires_in"] = int(response["expires_in"])
    return _checked_token_response(response)


_FLOWS: dict[str, Callable[[_Session], dict[str, Any]]] = {
    "client-credentials": _client_credentials,
    "authorization-code": _authorization_code,
    "refresh-token": _refresh_token,
    "implicit": _implicit,
}


# --- requests ---------------------------------------------------------------------------------


def _authorize(
    session: _Session, *, response_type: str, extra: Mapping[str, str]
) -> dict[str, str]:
    """Ask ``/authorize`` and return the parameters of the redirect to the client.

    An auto-approving issuer redirects at once; otherwise it shows its consent
    page, and the form is submitted as the user would (``decision=allow``).
    """
    args = session.args
    state = secrets.token_urlsafe(16)
    params = _present(
        {
            "response_type": response_type,
            "client_id": args.client_id,
            "redirect_uri": args.redirect_uri,
            "scope": args.scope or DEFAULT_SCOPES[args.flow],
            "audience": session.audience,
            "state": state,
            "login_hint": args.user,
            **extra,
        }
    )
    url = session.issuer + "authorize"
    response = session.http.get(url, params=params)
    if response.status_code == 200:  # the consent page: this issuer does not auto-approve
        response = _consent(session.http, url, response, params, args.user)
    if response.status_code not in (301, 302, 303, 307, 308):
        raise TokenError(_describe_failure(response, "the authorization request"))
    location = urljoin(url, response.headers.get("location", ""))
    parts = urlsplit(location)
    if parts._replace(query="", fragment="").geturl() != args.redirect_uri:
        raise TokenError(f"the issuer redirected to {safe(location)}, not to the redirect URI.")
    # The authorization code comes in the query; implicit tokens in the fragment
    # (RFC 6749 §4.1.2, §4.2.2); errors in either, depending on the response type.
    answer = dict(parse_qsl(parts.query)) | dict(parse_qsl(parts.fragment))
    if "error" in answer:
        raise TokenError(f"the issuer refused the authorization request\n  {_oauth_error(answer)}")
    if answer.get("state") != state:
        raise TokenError("the redirect's state does not match the request's: not our answer.")
    return answer


def _consent(
    http: httpx.Client,
    url: str,
    page: httpx.Response,
    params: Mapping[str, str],
    user: str | None,
) -> httpx.Response:
    """Allow the request on the consent page, as a user pressing "Allow" would."""
    form = parse_form(page.text)
    if form is None or not form.hidden:
        # A form that carries no transaction of its own is answered with the
        # authorization request itself, plus the user and the decision.
        return http.post(url, data=_present({**params, "user": user, "decision": "allow"}))
    data = form.submission(choose={"user": user}, press="allow")
    return http.post(urljoin(url, form.action), data=data)


def _token_request(session: _Session, form: Mapping[str, str | None]) -> dict[str, Any]:
    """``POST {issuer}oauth/token`` with ``form`` (``None`` values left out)."""
    response = session.http.post(session.issuer + "oauth/token", data=_present(form))
    body = _json_object(response)
    if response.status_code != 200 or body is None:
        raise TokenError(_describe_failure(response, "the token request", body))
    return _checked_token_response(body)


def _checked_token_response(body: dict[str, Any]) -> dict[str, Any]:
    token = body.get("access_token")
    if not isinstance(token, str) or not _B64TOKEN.fullmatch(token):
        raise TokenError("the issuer's answer holds no usable access_token.")
    return body


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or ``None``; strict: NaN and Infinity are not JSON."""
    try:
        value = json.loads(response.content, parse_constant=_reject)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _reject(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _describe_failure(
    response: httpx.Response, what: str, body: Mapping[str, Any] | None = None
) -> str:
    body = body if body is not None else _json_object(response)
    if body is not None and isinstance(body.get("error"), str):
        return f"the issuer refused {what} (HTTP {response.status_code})\n  {_oauth_error(body)}"
    text = response.text[:_MAX_SHOWN].strip()
    shown = f": {safe(text)}" if text else ""
    return f"{what} failed with HTTP {response.status_code}{shown}"


def _oauth_error(body: Mapping[str, Any]) -> str:
    """``invalid_client: Client authentication failed.`` from an RFC 6749 §5.2 error."""
    message = safe(str(body.get("error")))
    description = body.get("error_description")
    if isinstance(description, str) and description:
        message += f": {safe(description[:_MAX_SHOWN])}"
    return message


def _present(values: Mapping[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}
