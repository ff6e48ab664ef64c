"""``bearerguard token``: an access token from an OAuth 2.0 provider, for curl and scripts.

Works with the dev issuer (``bearerguard dev-issuer``), Auth0, and any provider
that publishes OpenID Connect discovery or RFC 8414 metadata (Keycloak, Okta,
Entra ID, ...)::

    TOKEN=$(bearerguard token --issuer http://127.0.0.1:9000/ --client-id m2m-client \\
            --client-secret m2m-secret --audience https://api.example.com)
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/contacts

The endpoints come from the issuer's metadata, found and checked as a Verifier
finds it (:mod:`._provider`: ``{issuer}/.well-known/openid-configuration``, then
RFC 8414's ``/.well-known/oauth-authorization-server`` with the issuer's path
after it), or from ``--token-endpoint`` / ``--authorization-endpoint`` for a
provider that publishes none. The API is named by ``--audience`` (Auth0's
parameter), ``--resource`` (RFC 8707, repeatable: an absolute URI without a
fragment), or both; each goes in the authorization and the token requests.

Flows: client credentials, authorization code with PKCE (the authorization
endpoint, the consent form when the issuer does not auto-approve, then the token
endpoint), refresh token, and the legacy implicit flow. Redirects are never
followed: the answer is read from their ``Location``, as a browser would hand it
to the application.

With ``--dpop-key FILE`` the token is DPoP-bound (RFC 9449 §5): every token
request carries a proof signed by the key in FILE (created when missing), a
``use_dpop_nonce`` answer is retried once with the provider's nonce, the
authorization request names the key (``dpop_jkt``, §10), and an answer whose
``token_type`` is not ``DPoP`` is an error: that provider did not bind the token.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urljoin, urlsplit

import httpx

from bearerguard._config import check_url, is_loopback_host
from bearerguard._errors import ConfigurationError
from bearerguard._mint import SigningKey
from bearerguard._urls import resource_problem
from bearerguard.devissuer._pkce import s256

from ._dpop_key import DPoPKeyError, load_or_create_key, new_proof
from ._form import parse_form, visible_text
from ._output import error, pretty_json, safe
from ._provider import DiscoveryError, Endpoints, find_endpoints

__all__ = ["FLOWS", "TokenError", "register"]

FLOWS = ("client-credentials", "authorization-code", "refresh-token", "implicit")
# The flows that go through the authorization endpoint (a browser's part, played here).
_BROWSER_FLOWS = ("authorization-code", "implicit")
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
_Fields = dict[str, "str | list[str]"]


class TokenError(Exception):
    """The token could not be had; the message says why (exit status 1)."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bearerguard token`` to the command's sub-parsers."""
    parser = commands.add_parser(
        "token",
        help="get an access token from the dev issuer or any OAuth provider (prints it)",
        description="Get an access token from 'bearerguard dev-issuer', Auth0 or any OpenID "
        "provider and print it, so that TOKEN=$(bearerguard token ...) works; --json prints "
        "the whole token response. The endpoints are read from the issuer's metadata "
        "(OpenID Connect discovery, else RFC 8414 metadata), checked to name the issuer, "
        "unless --token-endpoint and --authorization-endpoint name them. Exit status: "
        "0 success, 1 refused or unreachable, 2 usage error.",
        epilog="--issuer defaults to the first value of BEARERGUARD_ISSUER; without --audience "
        "and --resource, --audience defaults to the first value of BEARERGUARD_AUDIENCE; "
        "--client-secret defaults to BEARERGUARD_CLIENT_SECRET (a secret in the environment "
        "stays out of the process list and the shell history).",
    )
    parser.add_argument(
        "--issuer",
        metavar="URL",
        help="the issuer, as the provider names it: e.g. http://127.0.0.1:9000/, "
        "https://tenant.auth0.com/, https://sso.example.com/realms/demo",
    )
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
    _add_target_arguments(parser)
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
        "--refresh-token",
        metavar="RT",
        help="the refresh token to redeem (refresh-token flow); write --refresh-token=RT, as a "
        "token may start with '-'",
    )
    _add_endpoint_arguments(parser)
    parser.add_argument(
        "--dpop-key",
        type=Path,
        metavar="FILE",
        help="get a DPoP-bound token (RFC 9449): sign a proof for each token request with "
        "the private key in FILE (PEM or a JWK as JSON); when FILE does not exist, a new "
        "ES256 key is created there (mode 0600). Send the token with 'Authorization: DPoP' "
        "and a proof from 'bearerguard proof --dpop-key FILE'",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the whole token response as JSON"
    )
    parser.set_defaults(run=run)


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--audience",
        metavar="AUD",
        help="the API identifier the token is for, sent as Auth0's audience parameter "
        "(this or --resource is required except for refresh-token)",
    )
    parser.add_argument(
        "--resource",
        action="append",
        default=[],
        metavar="URI",
        help="the API the token is for, as an RFC 8707 resource indicator: an absolute URI "
        "without a fragment; repeat it for several APIs, as RFC 8707 allows (the dev issuer "
        "takes one)",
    )


def _add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token-endpoint",
        metavar="URL",
        help="the token endpoint, instead of the one in the issuer's metadata "
        "(for providers that publish none)",
    )
    parser.add_argument(
        "--authorization-endpoint",
        metavar="URL",
        help="the authorization endpoint (authorization-code, implicit), instead of the one "
        "in the issuer's metadata",
    )


def run(args: argparse.Namespace) -> int:
    """Get the token and print it; 0 on success, 1 when refused or unreachable, 2 on misuse."""
    try:
        settings = _settings(args)
        dpop = None if args.dpop_key is None else _dpop_key(args.dpop_key)
    except (TokenError, ConfigurationError, DPoPKeyError) as exc:
        error("token", str(exc))
        return 2
    if args.flow == "implicit":
        print(
            "bearerguard token: note: the implicit flow is legacy (RFC 9700 says not to use "
            "it); prefer --flow authorization-code.",
            file=sys.stderr,
        )
    try:
        endpoints = find_endpoints(
            settings.issuer,
            need_authorization=args.flow in _BROWSER_FLOWS,
            timeout=TIMEOUT,
            token=args.token_endpoint,
            authorization=args.authorization_endpoint,
        )
    except DiscoveryError as exc:
        error("token", str(exc))
        return 1
    if dpop is not None and dpop.algorithm not in (endpoints.dpop_algorithms or (dpop.algorithm,)):
        listed = ", ".join(endpoints.dpop_algorithms or ())
        error(
            "token",
            f"the provider takes DPoP proofs signed with {listed} only (its metadata's "
            f"dpop_signing_alg_values_supported); the key in {args.dpop_key} signs "
            f"{dpop.algorithm}: use another key file.",
        )
        return 2
    try:
        response = _get_token(endpoints, args, settings, dpop)
    except TokenError as exc:
        error("token", str(exc))
        return 1
    print(pretty_json(response) if args.json else response["access_token"])
    return 0


def _dpop_key(path: Path) -> SigningKey:
    """The key in ``path``, or a new one made there (which the user is told about)."""
    key, created = load_or_create_key(path)
    if created:
        print(
            f"bearerguard token: created a new {key.algorithm} DPoP key in {path} (mode 0600). "
            "Keep it: the token is bound to it. Send the token as 'Authorization: DPoP "
            f"$TOKEN' with a proof from 'bearerguard proof --dpop-key {path} --url URL "
            "--token $TOKEN', and refresh with the same key.",
            file=sys.stderr,
        )
    return key


def _get_token(
    endpoints: Endpoints,
    args: argparse.Namespace,
    settings: _Settings,
    dpop: SigningKey | None = None,
) -> dict[str, Any]:
    """Run the flow; every failure of the exchange is a :class:`TokenError`."""
    # Proxy settings from the environment are for the outside world: a proxy must
    # never see a loopback provider's requests (nor answer them).
    urls = (settings.issuer, endpoints.token, endpoints.authorization)
    local = any(is_loopback_host(urlsplit(url).hostname or "") for url in urls if url)
    with httpx.Client(timeout=TIMEOUT, trust_env=not local) as http:
        session = _Session(http, endpoints, args, settings, dpop)
        try:
            return _FLOWS[args.flow](session)
        except httpx.ConnectError as exc:
            raise TokenError(
                f"cannot connect to {_url_of(exc, settings.issuer)}: is the provider running?"
            ) from None
        except httpx.TimeoutException as exc:
            raise TokenError(
                f"{_url_of(exc, settings.issuer)} did not answer within {TIMEOUT:g} s."
            ) from None
        except httpx.HTTPError as exc:
            raise TokenError(
                f"the request to {_url_of(exc, settings.issuer)} failed: "
                f"{type(exc).__name__}: {safe(str(exc))}"
            ) from None


def _url_of(exc: httpx.HTTPError, fallback: str) -> str:
    """The URL of the request that failed, without its query (it may hold a state or code)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised before any request was made
        return safe(fallback)
    return safe(str(url.copy_with(query=None, fragment=None)))


# --- arguments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """The checked settings of one run: arguments, with the environment's defaults."""

    issuer: str
    audience: str | None
    resources: tuple[str, ...]
    secret: str | None


def _settings(args: argparse.Namespace) -> _Settings:
    """The settings, or TokenError / ConfigurationError saying what is wrong (exit 2)."""
    issuer = _issuer(args.issuer or _first(os.environ.get("BEARERGUARD_ISSUER")))
    resources = tuple(dict.fromkeys(args.resource))  # a repeated value means nothing more
    for resource in resources:
        problem = resource_problem(resource)
        if problem is not None:
            raise TokenError(f"--resource {safe(resource)!r} {problem}.")
    audience = args.audience
    if audience is None and not resources:
        # The environment's audience stands in only when the command line names no API,
        # so that it never sends a second, different one next to a --resource.
        audience = _first(os.environ.get("BEARERGUARD_AUDIENCE"))
    secret = args.client_secret or os.environ.get("BEARERGUARD_CLIENT_SECRET") or None
    settings = _Settings(issuer=issuer, audience=audience, resources=resources, secret=secret)
    _check_usage(args, settings)
    return settings


def _first(value: str | None) -> str | None:
    """The first item of a comma-separated setting such as ``BEARERGUARD_AUDIENCE``."""
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items[0] if items else None


def _issuer(value: str | None) -> str:
    """The issuer URL, as given: its metadata must name it (one trailing slash aside)."""
    if not value:
        raise TokenError("--issuer is required (or set BEARERGUARD_ISSUER).")
    if "://" not in value:
        raise TokenError(f"--issuer {value!r} needs a scheme, e.g. http://127.0.0.1:9000/.")
    # https, or http to a loopback host only: a client secret must not cross a network in clear.
    check_url(value, what="--issuer")
    return value


def _check_usage(args: argparse.Namespace, settings: _Settings) -> None:
    if args.flow == "refresh-token":
        if not args.refresh_token:
            raise TokenError("--flow refresh-token needs --refresh-token=RT.")
    elif not settings.audience and not settings.resources:
        raise TokenError(
            "--audience or --resource is required: without one, Auth0 issues a token your API "
            "cannot verify (an encrypted or opaque one), and other providers one for no API."
        )
    if args.dpop_key is not None and args.flow == "implicit":
        raise TokenError(
            "--dpop-key does not go with --flow implicit: its token comes from the "
            "authorization endpoint, where no DPoP proof can be sent (RFC 9449 binds tokens "
            "at the token endpoint); use --flow authorization-code."
        )
    if args.flow == "client-credentials" and not settings.secret:
        raise TokenError(
            "--flow client-credentials needs --client-secret (or BEARERGUARD_CLIENT_SECRET)."
        )
    # Endpoints receive the client secret and the code: the issuer's own rules apply.
    if args.token_endpoint is not None:
        check_url(args.token_endpoint, what="--token-endpoint")
    if args.authorization_endpoint is not None:
        check_url(args.authorization_endpoint, what="--authorization-endpoint")


# --- flows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    """What every flow needs: the HTTP client, the endpoints and the settings."""

    http: httpx.Client
    endpoints: Endpoints
    args: argparse.Namespace
    settings: _Settings
    #: the client's DPoP key: every token request then carries a proof signed by it
    dpop: SigningKey | None = None

    @property
    def resources(self) -> list[str] | None:
        """The ``resource`` parameters (RFC 8707 §2.1, §2.2), ``None`` when there are none."""
        return list(self.settings.resources) or None


def _client_credentials(session: _Session) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_id": session.args.client_id,
        "client_secret": session.settings.secret,
        "audience": session.settings.audience,
        "resource": session.resources,
        "scope": session.args.scope,
    }
    return _token_request(session, form)


def _authorization_code(session: _Session) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)  # 64 characters: RFC 7636 §4.1 asks for 43 to 128
    pkce = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    if session.dpop is not None:  # RFC 9449 §10: the code is bound to the key from the start
        pkce["dpop_jkt"] = session.dpop.thumbprint()
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
        "client_secret": session.settings.secret,
        # RFC 8707 §2.2: the token may be asked for the resources authorized, by name.
        "resource": session.resources,
    }
    return _token_request(session, form)


def _refresh_token(session: _Session) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": session.args.refresh_token,
        "client_id": session.args.client_id,
        "client_secret": session.settings.secret,
        "resource": session.resources,
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
    """Ask the authorization endpoint and return the parameters of the redirect to the client.

    An auto-approving issuer redirects at once; otherwise it shows its consent
    page, and the form is submitted as the user would (``decision=allow``).
    """
    args = session.args
    url = session.endpoints.authorization
    if url is None:  # find_endpoints was told this flow needs one: never the case
        raise TokenError("no authorization endpoint: name it with --authorization-endpoint URL.")
    state = secrets.token_urlsafe(16)
    params = _present(
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
    params: _Fields,
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


def _token_request(
    session: _Session, form: Mapping[str, str | Sequence[str] | None]
) -> dict[str, Any]:
    """POST ``form`` (``None`` values left out) to the token endpoint."""
    fields = _present(form)
    headers = {}
    if session.endpoints.client_auth == "client_secret_basic" and "client_secret" in fields:
        headers["Authorization"] = _basic(str(fields["client_id"]), str(fields["client_secret"]))
        del fields["client_secret"]  # RFC 6749 §2.3.1: one method per request
    response = _post_token(session, fields, headers)
    body = _json_object(response)
    if response.status_code != 200 or body is None:
        raise TokenError(_describe_failure(response, "the token request", body))
    checked = _checked_token_response(body)
    if session.dpop is not None:
        _check_bound(checked)
    return checked


def _post_token(session: _Session, fields: _Fields, headers: dict[str, str]) -> httpx.Response:
    """POST to the token endpoint, with a fresh DPoP proof when the client has a key.

    A provider that wants a nonce in the proof answers 400 ``use_dpop_nonce`` with
    one in ``DPoP-Nonce`` (RFC 9449 §8): the request is sent once more, with a new
    proof carrying it.
    """
    url, key = session.endpoints.token, session.dpop
    if key is None:
        return session.http.post(url, data=fields, headers=headers)
    headers = {**headers, "DPoP": new_proof(key, method="POST", url=url)}
    response = session.http.post(url, data=fields, headers=headers)
    nonce = response.headers.get("dpop-nonce")
    if response.status_code == 400 and nonce and _error_code(response) == "use_dpop_nonce":
        headers["DPoP"] = new_proof(key, method="POST", url=url, nonce=nonce)
        response = session.http.post(url, data=fields, headers=headers)
    return response


def _error_code(response: httpx.Response) -> str | None:
    body = _json_object(response)
    code = None if body is None else body.get("error")
    return code if isinstance(code, str) else None


def _check_bound(body: Mapping[str, Any]) -> None:
    """A DPoP client's token must be a DPoP token (RFC 9449 §5): else the provider ignored
    the proof and issued a bearer token, which the API would take from anyone."""
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "dpop":
        shown = safe(str(token_type)) if token_type is not None else "missing"
        raise TokenError(
            f"the provider did not bind the token to the DPoP key: its token_type is "
            f"{shown}, not DPoP (RFC 9449 §5). Does it support DPoP for this client? (its "
            "metadata lists dpop_signing_alg_values_supported when it does.)"
        )


def _basic(client_id: str, secret: str) -> str:
    """HTTP Basic client credentials: each part form-urlencoded first (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


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
    text = response.text
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type:
        text = visible_text(text)  # an error page: what it says, not its markup
    # On one line; a plain-text page (the dev issuer's) says what to do after what went
    # wrong, so more of it is worth showing.
    limit = 3 * _MAX_SHOWN if content_type.startswith("text/plain") else _MAX_SHOWN
    text = " ".join(text[:limit].split())
    shown = f": {safe(text)}" if text else ""
    return f"{what} failed with HTTP {response.status_code}{shown}"


def _oauth_error(body: Mapping[str, Any]) -> str:
    """``invalid_client: Client authentication failed.`` from an RFC 6749 §5.2 error."""
    message = safe(str(body.get("error")))
    description = body.get("error_description")
    if isinstance(description, str) and description:
        message += f": {safe(description[:_MAX_SHOWN])}"
    return message


def _present(values: Mapping[str, str | Sequence[str] | None]) -> _Fields:
    """The fields to send: ``None`` left out, a sequence sent as a repeated field."""
    fields: _Fields = {}
    for name, value in values.items():
        if isinstance(value, str):
            fields[name] = value
        elif value:
            fields[name] = list(value)
    return fields
