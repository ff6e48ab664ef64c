"""The claims of a minted token: Auth0-like defaults, overrides, removals, namespaces.

Pure functions over values and ``now``; :class:`~bearerguard.testing.FakeIssuer`
supplies its settings and signs the result.
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bearerguard._errors import SCOPE_TOKEN, ConfigurationError

__all__ = [
    "CLIENT_ID",
    "REGISTERED_CLAIMS",
    "build_claims",
    "namespace_prefix",
    "scope_claim",
    "whole_seconds",
]

CLIENT_ID = "bearerguard-test-client"
# Claims that keep their bare name under namespace=...: the JWT registered claims (RFC 7519
# §4.1), the OAuth ones (RFC 8693, RFC 9068, RFC 7800) and those Auth0 itself puts into
# access tokens. Everything else is the API's own and Auth0 wants it namespaced.
REGISTERED_CLAIMS = frozenset(
    {
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti",
        "scope", "scp", "client_id", "azp", "auth_time", "acr", "amr", "cnf", "act", "may_act",
        "gty", "permissions", "org_id", "org_name", "sid",
    }
)  # fmt: skip


def scope_claim(scopes: str | Iterable[str]) -> str | None:
    """The ``scope`` claim for ``scopes`` (one space-separated string or several names).

    Example::

        scope_claim(["read:contacts", "write:contacts"])   # 'read:contacts write:contacts'
        scope_claim("read:contacts write:contacts")        # the same
        scope_claim(())                                     # None: no scope claim at all
    """
    # One string is the claim's own syntax: names separated by single spaces.
    names = list(scopes) if not isinstance(scopes, str) else scopes.split(" ") if scopes else []
    for name in names:
        if not isinstance(name, str) or not SCOPE_TOKEN.fullmatch(name):
            raise ConfigurationError(
                f"{name!r} is not a scope name: scopes are non-empty and contain no spaces, "
                "quotes or backslashes (RFC 6749 §3.3). Pass scopes=['read:contacts', "
                "'write:contacts'] or one string with the names separated by single spaces."
            )
    return " ".join(dict.fromkeys(names)) or None


def namespace_prefix(namespace: str) -> str:
    """``https://example.com`` -> ``https://example.com/``, as ``AccessToken.claim`` reads it."""
    if not isinstance(namespace, str) or not namespace or namespace != namespace.strip():
        raise ConfigurationError(
            f"namespace {namespace!r} must be a non-empty string such as 'https://example.com/'."
        )
    return namespace if namespace.endswith("/") else namespace + "/"


def _namespaced(name: str, prefix: str | None) -> str:
    # A name that is already a URL is a fully namespaced claim of its own: leave it be.
    if prefix is None or name in REGISTERED_CLAIMS or "://" in name:
        return name
    return prefix + name


def _json_value(value: Any) -> Any:
    # NumericDate (RFC 7519 §2) is whole seconds here, as providers issue it; a naive
    # datetime is taken as UTC, as PyJWT takes it.
    if isinstance(value, datetime):
        return calendar.timegm(value.utctimetuple())
    return value


def whole_seconds(value: float) -> int | float:
    """A NumericDate as an integer when it is one (``1800003600.0`` -> ``1800003600``)."""
    return int(value) if float(value).is_integer() else value


def build_claims(
    *,
    now: float,
    iss: str | None,
    sub: str | None,
    aud: str | Sequence[str] | None,
    lifetime: float,
    expires_in: float | None,
    scopes: str | Iterable[str],
    namespace: str | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """A token's claims: defaults first, then ``extra`` (namespaced); ``None`` removes a claim.

    Example::

        build_claims(now=1800000000, iss="https://tenant.auth0.com/", sub="auth0|1",
                     aud="https://api.example.com", lifetime=3600, expires_in=None,
                     scopes="read:contacts", namespace="https://example.com",
                     extra={"roles": ["admin"], "azp": None})
        # {'iss': ..., 'iat': 1800000000, 'exp': 1800003600, 'scope': 'read:contacts',
        #  'client_id': ..., 'jti': ..., 'https://example.com/roles': ['admin']}
    """
    prefix = None if namespace is None else namespace_prefix(namespace)
    overrides = {_namespaced(name, prefix): _json_value(v) for name, v in extra.items()}
    scope = scope_claim(scopes)
    if scope is not None and "scope" in overrides:
        raise TypeError("Pass scopes=[...] or a raw scope=... claim, not both.")
    if expires_in is not None and "exp" in overrides:
        raise TypeError("Pass expires_in=... or a raw exp=... claim, not both.")

    issued = int(now)
    claims: dict[str, Any] = {
        "iss": iss,
        "sub": sub,
        "aud": aud if aud is None or isinstance(aud, str) else list(aud),
        "iat": issued,
        "exp": whole_seconds(issued + (lifetime if expires_in is None else expires_in)),
        "scope": scope,
        # Auth0 names the client in azp; RFC 9068 in client_id: carry both, as both are read.
        "azp": CLIENT_ID,
        "client_id": CLIENT_ID,
        "jti": secrets.token_urlsafe(16),
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}
