"""The checked settings of one ``bearerguard token`` run: its arguments, with the
environment's defaults.

Everything that can be known wrong before any request is refused here, with a
:class:`~._token_error.TokenError` (or the core's ``ConfigurationError`` for a URL
that would send a secret in clear) that the command reports with exit status 2.

Example::

    settings = read_settings(args)   # args: the parsed 'bearerguard token' arguments
    settings.issuer                  # 'http://127.0.0.1:9000/'
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from bearerguard._config import check_url
from bearerguard._urls import resource_problem

from ._output import safe
from ._token_error import TokenError

__all__ = ["TokenSettings", "read_settings"]


@dataclass(frozen=True)
class TokenSettings:
    """The checked settings of one run: arguments, with the environment's defaults."""

    issuer: str
    audience: str | None
    resources: tuple[str, ...]
    secret: str | None


def read_settings(args: argparse.Namespace) -> TokenSettings:
    """The settings, or TokenError / ConfigurationError saying what is wrong (exit 2)."""
    issuer = _issuer(args.issuer or _first(os.environ.get("BEARERGUARD_ISSUER")))
    resources = tuple(dict.fromkeys(args.resource))  # a repeated value means nothing more
    for resource in resources:
        problem = resource_problem(resource)
        if problem is not None:
            raise TokenError(f"--resource {safe(resource)!r} {problem}.")
    audience = args.audience
    if audience is None and not resources:
        # The environment's API stands in only when the command line names none, so that it
        # never sends a second, different one next to a --resource.
        audience = _environment_audience()
    secret = args.client_secret or os.environ.get("BEARERGUARD_CLIENT_SECRET") or None
    settings = TokenSettings(issuer=issuer, audience=audience, resources=resources, secret=secret)
    _check_usage(args, settings)
    return settings


def _environment_audience() -> str | None:
    """The API an app configured by the environment accepts tokens for: the first of
    ``BEARERGUARD_AUDIENCE``, else ``BEARERGUARD_RESOURCE`` (the audience defaults to it,
    and with Auth0 the API's identifier is the resource)."""
    audience = _first(os.environ.get("BEARERGUARD_AUDIENCE"))
    if audience is None:
        audience = os.environ.get("BEARERGUARD_RESOURCE", "").strip() or None
    return audience


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


def _check_usage(args: argparse.Namespace, settings: TokenSettings) -> None:
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
