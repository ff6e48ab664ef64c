"""Settings given by name: ``BEARERGUARD_*`` environment variables, Flask's ``app.config``,
Django's ``BEARERGUARD`` dict.

Strings are parsed the way environment variables are written (lists comma-separated,
``true``/``false``, numbers); typed values (Flask, Django) are passed on as they are
and checked by :class:`~bearerguard.VerifierConfig` like any keyword argument. Either
way a mistake is reported under the name the user wrote: ``BEARERGUARD_LEEWAY``,
``app.config['BEARERGUARD_LEEWAY']`` or ``BEARERGUARD['LEEWAY']``. An unknown
``BEARERGUARD_*`` name is refused with the closest known one: a misspelt security
setting must never be silently ignored.

Introspection's many settings (``BEARERGUARD_INTROSPECTION_*``) become its one keyword in
:mod:`._introspection_settings`.

Pure: no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from ._coerce import LISTS
from ._errors import ConfigurationError
from ._introspection_settings import (
    INTROSPECTION,
    as_is,
    introspection_issuer_name,
    introspection_names,
    introspection_settings,
)
from ._setting_text import FALSE, TRUE, from_json

__all__ = [
    "INTROSPECTION",
    "OTHER_NAMES",
    "SETTING_NAMES",
    "check_names",
    "introspection_names",
    "named_errors",
    "settings_from_mapping",
]

T = TypeVar("T")

#: suffix of a ``BEARERGUARD_*`` name -> the Verifier keyword it sets
SETTING_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "ISSUER": "issuer",
        "AUDIENCE": "audience",
        "ALGORITHMS": "algorithms",
        "LEEWAY": "leeway",
        "JWKS_URI": "jwks_uri",
        "SECRET": "secret",
        "RFC9068_STRICT": "rfc9068_strict",
        "MAX_AGE": "max_age",
        "ORGANIZATION": "organization",
        "SCOPE_CLAIMS": "scope_claims",
        "MAX_TOKEN_SIZE": "max_token_size",
        "TOKEN_CACHE_SIZE": "token_cache_size",
        "REALM": "realm",
        "DPOP": "dpop",
        "DPOP_ALGORITHMS": "dpop_algorithms",
        "DPOP_PROOF_MAX_AGE": "dpop_proof_max_age",
        "DPOP_NONCE_SECRET": "dpop_nonce",
        "REPLAY_STORE": "replay_store",
        "PUBLIC_URL": "public_url",
        "CLIENT_CERTIFICATE": "client_certificate",
        "RESOURCE": "resource",
        "SCOPES_SUPPORTED": "scopes_supported",
        "RESOURCE_NAME": "resource_name",
        "RESOURCE_DOCUMENTATION": "resource_documentation",
        "SCOPE_IMPLICATIONS": "scope_implications",
        "REQUIRED_CLAIMS": "required_claims",
        "CLAIM_RULES": "claim_rules",
        "KEYS": "keys",
        "DECRYPTION_KEYS": "decryption_keys",
        "AUTHORIZATION_SERVERS": "authorization_servers",
        "ISSUER_FOR_REQUEST": "issuer_for_request",
    }
)
#: ``BEARERGUARD_*`` names read elsewhere in the project, never by the Verifier:
#: ``bearerguard token``'s client secret, the FastAPI example's Swagger UI client, the set-up
#: scripts' virtualenv, the fuzz run's size.
OTHER_NAMES = frozenset({"CLIENT_SECRET", "DOCS_CLIENT_ID", "VENV", "FUZZ_EXAMPLES"})
_LIST_SETTINGS = frozenset(
    {
        "issuer",
        "audience",
        "algorithms",
        "organization",
        "scope_claims",
        "dpop_algorithms",
        "required_claims",
        "authorization_servers",
    }
)
# Scope names hold no spaces (RFC 6749 §3.3): a list of them may be written either way,
# the way OAuth writes scopes ("read:a write:b") or the way the other lists are.
_SCOPE_LIST_SETTINGS = frozenset({"scopes_supported"})
# Settings with structure beyond a list, written as JSON where only a string fits.
_JSON_SETTINGS = frozenset({"scope_implications"})
_FLOAT_SETTINGS = frozenset({"leeway", "max_age", "dpop_proof_max_age"})
_INT_SETTINGS = frozenset({"max_token_size", "token_cache_size"})
_REQUIRED = frozenset({"issuer", "audience"})
_KEYWORD_TO_SUFFIX = {name: suffix for suffix, name in SETTING_NAMES.items()}


def settings_from_mapping(
    source: Mapping[str, Any],
    prefix: str = "BEARERGUARD_",
    *,
    label: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Read ``BEARERGUARD_*`` settings into :class:`~bearerguard.Verifier` keyword arguments.

    Values may be strings (environment variables: lists are comma-separated) or
    already typed values (Flask ``app.config``, Django). An empty string is refused:
    a variable set to nothing is a mistake, not a default (an empty ISSUER or AUDIENCE
    is left out, for the caller to report as missing). ``label`` turns a name
    (``"BEARERGUARD_LEEWAY"``) into what messages call it. The ``BEARERGUARD_INTROSPECTION``
    names become one ``introspection`` keyword, an :class:`~bearerguard.Introspection`.

    Example::

        settings_from_mapping({"BEARERGUARD_ISSUER": "a.auth0.com,login.example.com"})
        # {'issuer': ['a.auth0.com', 'login.example.com']}
        settings_from_mapping({"BEARERGUARD_INTROSPECTION_CLIENT_ID": "api", ...})
        # {'introspection': Introspection(client_id='api', ...)}
    """
    kwargs: dict[str, Any] = {}
    for suffix, name in SETTING_NAMES.items():
        key = prefix + suffix
        if key not in source:
            continue
        value = source[key]
        if name in _REQUIRED and _blank(value):
            continue  # reported as missing by the caller, under the caller's name for it
        if isinstance(value, str):
            value = _from_string(name, value, label(key) if label else key)
        kwargs[name] = value
    introspection = introspection_settings(source, prefix, label or as_is)
    if introspection is not None:
        kwargs["introspection"] = introspection
    return kwargs


def check_names(
    names: Iterable[object], prefix: str = "BEARERGUARD_", *, where: str = "the environment"
) -> None:
    """Refuse any ``prefix*`` name bearerguard does not read, with a did-you-mean.

    Example::

        check_names(["BEARERGUARD_SCOPE_CLAIM"])
        # ConfigurationError: Unknown setting BEARERGUARD_SCOPE_CLAIM in the environment;
        # did you mean BEARERGUARD_SCOPE_CLAIMS? ...
    """
    introspection = sorted(introspection_names())
    known = [prefix + suffix for suffix in (*SETTING_NAMES, *introspection, *sorted(OTHER_NAMES))]
    unknown = [
        name
        for name in names
        if isinstance(name, str) and name.startswith(prefix) and name not in known
    ]
    if not unknown:
        return
    described = []
    for name in sorted(unknown):
        match = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.6)
        described.append(f"{name} (did you mean {match[0]}?)" if match else name)
    settings = ", ".join(prefix + suffix for suffix in (*SETTING_NAMES, *introspection))
    raise ConfigurationError(
        f"Unknown setting(s) in {where}: {', '.join(described)}. bearerguard reads "
        f"{settings}; rename or remove the others.",
        setting=None,
    )


def named_errors(
    build: Callable[[], T],
    given: Iterable[str],
    prefix: str = "BEARERGUARD_",
    *,
    label: Callable[[str], str] | None = None,
    source: Mapping[str, Any] | None = None,
) -> T:
    """Run ``build``; a :class:`ConfigurationError` about one of the settings ``given``
    (keyword names) is raised again under the name the user wrote: ``prefix`` and the
    setting's suffix (``BEARERGUARD_LEEWAY``), passed through ``label`` if given. With
    ``source`` (the settings read), a verifier's objection to the introspection settings
    (whose issuer they speak for) names the one the user wrote them by.

    Example::

        named_errors(lambda: Verifier(**kwargs), kwargs)
        # ConfigurationError: BEARERGUARD_LEEWAY: leeway must lie between 0 and 600 seconds; ...
    """
    try:
        return build()
    except ConfigurationError as exc:
        if exc.setting not in set(given):
            raise
        name_of = label or as_is
        if exc.setting in _KEYWORD_TO_SUFFIX:
            name = name_of(prefix + _KEYWORD_TO_SUFFIX[exc.setting])
        elif exc.setting == "introspection" and source is not None:
            name = introspection_issuer_name(source, prefix, name_of)
        else:
            raise
        raise ConfigurationError(f"{name}: {exc}", setting=exc.setting) from None


def _blank(value: object) -> bool:
    """Nothing at all: ``None``, an empty list, or a string of nothing but spaces and commas."""
    if isinstance(value, str):
        return not value.strip(" ,\t\n")
    return value is None or (isinstance(value, LISTS) and not value)


def _from_string(name: str, raw: str, variable: str) -> Any:
    text = raw.strip()
    if not text:
        raise ConfigurationError(
            f"{variable} is set but empty (an unset variable in a template?): "
            "give it a value, or remove it to use the default.",
            setting=name,
        )
    if name in _LIST_SETTINGS:
        items = [item.strip() for item in text.split(",")]
        if not all(items):
            raise ConfigurationError(
                f"{variable} has an empty item in {raw!r}: separate values by single commas, "
                "e.g. 'a.example.com,b.example.com'.",
                setting=name,
            )
        return items
    if name in _SCOPE_LIST_SETTINGS:
        parts = text.split(",")
        if not all(part.strip() for part in parts):
            raise ConfigurationError(
                f"{variable} has an empty item in {raw!r}: separate scopes by spaces or "
                "single commas, e.g. 'read:contacts write:contacts'.",
                setting=name,
            )
        return [scope for part in parts for scope in part.split()]
    if name == "claim_rules":
        # Rules hold functions and typed values: no text says them (required_claims does).
        raise ConfigurationError(
            f"{variable} cannot be written as text: claim rules are built in Python, e.g. "
            "[claims.equals('org_id', 'org_123')] (from bearerguard import claims), and given "
            "as Verifier(claim_rules=...), app.config['BEARERGUARD_CLAIM_RULES'] or "
            "BEARERGUARD['CLAIM_RULES']. Claims every token must carry go in "
            "BEARERGUARD_REQUIRED_CLAIMS (comma-separated names).",
            setting=name,
        )
    if name == "issuer_for_request":
        raise ConfigurationError(
            f"{variable} cannot be written as text: it is a function of the request returning "
            "the issuers trusted for it, given as Verifier(issuer_for_request=...), "
            "app.config['BEARERGUARD_ISSUER_FOR_REQUEST'] or BEARERGUARD['ISSUER_FOR_REQUEST'].",
            setting=name,
        )
    if name in _JSON_SETTINGS:
        return from_json(text, variable, name)
    if name == "secret":
        return text.encode()
    if name == "rfc9068_strict":
        if text.lower() not in TRUE | FALSE:
            raise ConfigurationError(
                f"{variable} must be true or false, got {raw!r}.", setting=name
            )
        return text.lower() in TRUE
    if name in _FLOAT_SETTINGS or name in _INT_SETTINGS:
        try:
            return int(text) if name in _INT_SETTINGS else float(text)
        except ValueError:
            kind = "a whole number" if name in _INT_SETTINGS else "a number of seconds"
            raise ConfigurationError(
                f"{variable} must be {kind}, got {raw!r}.", setting=name
            ) from None
    return text
