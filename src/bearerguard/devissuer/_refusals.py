"""The error pages of /authorize: what went wrong, and what to do about it.

Each builds an :class:`._errors.ErrorPage`, shown (as plain text) instead of a
redirect, because the client or its redirect URI is not known good yet, or the
consent page cannot be answered. The reader is a developer whose sign-in just
stopped, often in Swagger UI's popup: the page names what was sent, what is
configured, and the change that makes it work. Values from the request are
shown with ``repr`` (see :mod:`._consent`); values from the configuration were
checked when it was loaded.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._config import ClientConfig, DevIssuerConfig
from ._directory import REGISTERED_PREFIX
from ._errors import ErrorPage

__all__ = [
    "CONFIG_DOC",
    "invalid_consent",
    "invalid_query",
    "missing_client_id",
    "missing_redirect_uri",
    "request_expired",
    "unknown_client",
    "unknown_user",
    "unregistered_redirect_uri",
]

CONFIG_DOC = (
    "the file given with --config (docs/dev-issuer.md describes it and has a complete "
    "example to start from)"
)
_LOOPBACK = "http://127.0.0.1, http://[::1] or http://localhost"


def missing_client_id(config: DevIssuerConfig) -> ErrorPage:
    return ErrorPage(
        "Missing client_id",
        "The authorization request names no client_id.",
        fix="Add client_id to the authorization URL: one of the clients that sign users in "
        f"here ({_signing_in(config)}). In Swagger UI it is the client_id field of the "
        "Authorize dialog (FastAPI: clientId in swagger_ui_init_oauth).",
    )


def unknown_client(config: DevIssuerConfig, client_id: str) -> ErrorPage:
    if client_id.startswith(REGISTERED_PREFIX):
        # Most likely an app that kept the client_id of a registration from an earlier run.
        return ErrorPage(
            "Unknown client",
            f"No client {client_id!r} is registered. It looks like the client_id of a dynamic "
            "registration, and registered clients live until the dev-issuer stops.",
            fix="Register the client again at the registration endpoint (an MCP client does "
            "it by itself once it forgets the stored client information), then start the "
            "sign-in again.",
        )
    return ErrorPage(
        "Unknown client",
        f"No client {client_id!r} is configured. The configured clients are: "
        f"{_list(c.client_id for c in config.clients)}.",
        fix=f"Send one of the clients that sign users in here ({_signing_in(config)}), or add "
        f'a client with this client_id to "clients" in {CONFIG_DOC}, and restart the '
        "dev-issuer.",
    )


def missing_redirect_uri(client: ClientConfig) -> ErrorPage:
    return ErrorPage(
        "Missing redirect_uri",
        f"The authorization request of client {client.client_id!r} names no redirect_uri.\n\n"
        f"{_registered(client)}",
        fix="Add redirect_uri to the authorization URL: the URL of the app's callback, one of "
        "the registered redirect URIs above.",
    )


def unregistered_redirect_uri(client: ClientConfig, redirect_uri: str) -> ErrorPage:
    """The sent URI, the registered ones, how to register it, and how URIs are compared."""
    if client.public:
        matching = (
            "Redirect URIs are compared exactly, with one exception for public clients: a "
            f"loopback one ({_LOOPBACK}) matches on any port, so registering "
            "http://127.0.0.1:8000/docs/oauth2-redirect also accepts "
            "http://127.0.0.1:8001/docs/oauth2-redirect. Its host, path and query must still "
            "be the same (127.0.0.1 is not localhost)."
        )
    else:
        matching = (
            f"Redirect URIs are compared exactly, port included: client {client.client_id!r} "
            "is confidential, and only the loopback redirect URIs of public clients match on "
            "any port."
        )
    return ErrorPage(
        "Unregistered redirect_uri",
        f"{redirect_uri!r} is not a registered redirect URI of client {client.client_id!r}. "
        f"Nothing was redirected.\n\n{_registered(client)}",
        fix="Send one of the registered redirect URIs, or register this one: add it to the "
        f'"redirect_uris" of client {client.client_id!r} in {CONFIG_DOC}, and restart the '
        f"dev-issuer. {matching}",
    )


def invalid_query(description: str) -> ErrorPage:
    return ErrorPage(
        "Invalid request",
        description,
        fix="Send each parameter once. When a library builds the URL, check that a parameter "
        "it adds itself (scope, audience, state...) is not also in the extra parameters you "
        "configured.",
    )


def invalid_consent(description: str) -> ErrorPage:
    return ErrorPage(
        "Invalid request",
        description,
        fix="Answer with the Allow or Deny button of the consent page. A script that answers "
        "it must POST the form fields transaction, user and decision "
        "(application/x-www-form-urlencoded).",
    )


def request_expired() -> ErrorPage:
    return ErrorPage(
        "Request expired",
        "This consent page was already answered or is older than ten minutes.",
        fix="Start the sign-in again from the app (in Swagger UI: Authorize again). A consent "
        "page can be answered once, within ten minutes.",
    )


def unknown_user(sub: str, offered: Iterable[str]) -> ErrorPage:
    return ErrorPage(
        "Unknown user",
        f"No user {sub!r} is configured.",
        fix=f"Start the sign-in again and pick one of the users offered ({_list(offered)}). "
        f'To sign in as someone else, add them to "users" in {CONFIG_DOC}.',
    )


def _registered(client: ClientConfig) -> str:
    uris = "".join(f"\n  {uri}" for uri in client.redirect_uris) or "\n  (none)"
    return f"Registered redirect URIs of client {client.client_id!r}:{uris}"


def _signing_in(config: DevIssuerConfig) -> str:
    return _list(c.client_id for c in config.clients if c.interactive)


def _list(values: Iterable[str]) -> str:
    return ", ".join(values) or "none"
