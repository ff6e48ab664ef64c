"""The checks the configuration dataclasses share; each message names what is at fault."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from bearerguard._errors import SCOPE_TOKEN, ConfigurationError
from bearerguard.testing._minting import REGISTERED_CLAIMS

__all__ = [
    "DAY",
    "check_claims",
    "check_flag",
    "check_lifetime",
    "check_redirect_uris",
    "check_scopes",
    "check_strings",
    "check_text",
    "check_unique",
]

DAY = 86400


def check_text(value: object, what: str) -> None:
    # Printable and trimmed: these end up in HTML, headers, URLs and log lines.
    if (
        not isinstance(value, str)
        or not value
        or value != value.strip()
        or any(ch < " " or ch == "\x7f" for ch in value)
    ):
        raise ConfigurationError(
            f"{what} must be a non-empty string without surrounding spaces, got {value!r}."
        )


def check_flag(value: object, what: str) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{what} must be true or false, got {value!r}.")


def check_lifetime(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 365 * DAY:
        raise ConfigurationError(
            f"{what} must be a whole number of seconds between 1 and {365 * DAY}, got {value!r}."
        )


def check_strings(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise ConfigurationError(f"{what} must be a list of strings, got {value!r}.")
    for item in value:
        check_text(item, what)
    return tuple(value)


def check_scopes(value: object, what: str) -> tuple[str, ...]:
    scopes = check_strings(value, what)
    for scope in scopes:
        if not SCOPE_TOKEN.fullmatch(scope):
            raise ConfigurationError(
                f"{what}: {scope!r} is not a scope name (no spaces, quotes or backslashes; "
                "RFC 6749 §3.3)."
            )
    return tuple(dict.fromkeys(scopes))


def check_redirect_uris(value: object, what: str) -> tuple[str, ...]:
    uris = check_strings(value, f"{what}: redirect_uris")
    for uri in uris:
        try:
            parts = urlsplit(uri)
        except ValueError:
            parts = None
        # RFC 6749 §3.1.2: absolute, and without a fragment (the implicit flow adds one).
        if parts is None or not parts.scheme or not parts.netloc or "#" in uri:
            raise ConfigurationError(
                f"{what}: redirect_uri {uri!r} must be an absolute URL without a fragment, "
                "e.g. 'http://127.0.0.1:8080/callback'."
            )
    return tuple(dict.fromkeys(uris))


def check_claims(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
        raise ConfigurationError(f"{what}: claims must map claim names to JSON values.")
    clashing = sorted(name for name in value if name in REGISTERED_CLAIMS)
    if clashing:
        raise ConfigurationError(
            f"{what}: claims may not set {clashing[0]!r}: the dev-issuer sets the registered "
            "claims itself. Use a custom name such as 'https://example.com/roles'."
        )
    return MappingProxyType(dict(value))


def check_unique(values: Any, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigurationError(f"{what} {value!r} is configured twice.")
        seen.add(value)
