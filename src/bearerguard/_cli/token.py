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

The command is this module (its parser, the run, the output); the steps live
beside it: :mod:`._token_settings` (the checked arguments), :mod:`._flows` (the
grants), :mod:`._authorization_endpoint` (the browser's part),
:mod:`._token_endpoint` (the token request, its DPoP proof and nonce retry),
:mod:`._provider_answers` (reading what the provider says).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bearerguard._errors import ConfigurationError
from bearerguard._mint import SigningKey

from ._authorization_endpoint import DEFAULT_SCOPES
from ._dpop_key import DPoPKeyError, load_or_create_key
from ._flows import FLOWS, TIMEOUT, get_token
from ._output import error, pretty_json
from ._provider import DiscoveryError, find_endpoints
from ._token_error import TokenError
from ._token_settings import read_settings

__all__ = ["register", "run"]

# The flows that go through the authorization endpoint (a browser's part, played here).
_BROWSER_FLOWS = ("authorization-code", "implicit")
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8080/callback"


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
        "and --resource, --audience defaults to the first value of BEARERGUARD_AUDIENCE, else "
        "to BEARERGUARD_RESOURCE (which the app's audience defaults to); --client-secret "
        "defaults to BEARERGUARD_CLIENT_SECRET (a secret in the environment stays out of the "
        "process list and the shell history).",
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
        settings = read_settings(args)
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
        response = get_token(endpoints, args, settings, dpop)
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
