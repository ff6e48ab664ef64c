"""The ``BEARERGUARD`` setting: read, checked, and turned into a :class:`~bearerguard.Verifier`.

Example (``settings.py``)::

    BEARERGUARD = {
        "ISSUER": ["tenant.auth0.com", "https://login.example.com/"],
        "RESOURCE": "https://api.example.com",  # the API's URL; the audience defaults to it
        "SCOPE_CLAIMS": ["scope", "permissions"],
        "LEEWAY": 30,
    }

The keys are the ``BEARERGUARD_*`` environment variable names without the prefix
(``ISSUER``, ``AUDIENCE``, ``ALGORITHMS``, ``LEEWAY``, ``JWKS_URI``, ``SECRET``,
``RFC9068_STRICT``, ``MAX_AGE``, ``ORGANIZATION``, ``SCOPE_CLAIMS``,
``MAX_TOKEN_SIZE``, ``TOKEN_CACHE_SIZE``, ``REALM``); values are typed (lists,
numbers) or strings as in the environment (lists comma-separated). Alternatively
``{"VERIFIER": ...}`` names a ready verifier: a :class:`~bearerguard.Verifier`, a
dotted path to one, or a zero-argument factory (or its dotted path) returning one.

Opaque tokens are introspected (RFC 7662) with ``"INTROSPECTION"``: an
:class:`~bearerguard.Introspection`, or a dict of its fields (``"client_id"`` or
``"CLIENT_ID"``, ...); or with one key per field, ``"INTROSPECTION_CLIENT_ID"``,
``"INTROSPECTION_CLIENT_SECRET"``, ... as in the environment. Not both::

    BEARERGUARD = {
        "ISSUER": "https://login.example.com/realms/api",
        "RESOURCE": "https://api.example.com",
        "INTROSPECTION": {"CLIENT_ID": "api", "CLIENT_SECRET": os.environ["INTROSPECTION_SECRET"]},
    }

The same examination backs the system checks (every problem, with its id) and
the verifier the app builds (the first problem, as ``ImproperlyConfigured``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from bearerguard._config import SETTING_NAMES, settings_from_mapping
from bearerguard._errors import ConfigurationError
from bearerguard._settings import introspection_names, named_errors
from bearerguard._verifier import Verifier

__all__ = ["KNOWN_KEYS", "SETTING", "Problem", "build_verifier", "check_setting", "read_setting"]

SETTING = "BEARERGUARD"
VERIFIER = "VERIFIER"
KNOWN_KEYS = frozenset(SETTING_NAMES) | introspection_names() | {VERIFIER}
_EXAMPLE = (
    'BEARERGUARD = {"ISSUER": "your-tenant.auth0.com", "AUDIENCE": "https://api.example.com"}'
)
_MISSING_IDS = {"ISSUER": "bearerguard.E004", "AUDIENCE": "bearerguard.E005"}
_VERIFIER_HINT = (
    "Set VERIFIER to a bearerguard.Verifier, a zero-argument function returning one, "
    "or the dotted path of either (e.g. 'myproject.auth.verifier')."
)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
Source = Callable[[], object]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the setting: a system check id, a message and a hint."""

    id: str
    msg: str
    hint: str | None = None


def read_setting() -> Any:
    """The ``BEARERGUARD`` setting as configured, or :data:`MISSING`."""
    return getattr(settings, SETTING, MISSING)


def check_setting(value: Any) -> list[Problem]:
    """Every problem of a ``BEARERGUARD`` value; empty when a verifier can be built from it.

    Example::

        check_setting({"ISSUER": "tenant.auth0.com"})
        # [Problem(id='bearerguard.E005', msg='BEARERGUARD has no AUDIENCE.', hint=...)]
    """
    return _examine(value)[0]


def build_verifier(value: Any) -> Verifier:
    """The verifier a ``BEARERGUARD`` value describes, or ``ImproperlyConfigured``.

    Example::

        build_verifier({"ISSUER": "tenant.auth0.com", "AUDIENCE": "https://api.example.com"})
    """
    problems, source = _examine(value)
    if problems:
        first = problems[0]
        hint = f" {first.hint}" if first.hint else ""
        raise ImproperlyConfigured(f"{first.msg}{hint} ({first.id})")
    try:
        verifier = source()
    except ConfigurationError as exc:
        raise ImproperlyConfigured(f"BEARERGUARD['VERIFIER'] failed: {exc}") from exc
    if not isinstance(verifier, Verifier):
        raise ImproperlyConfigured(
            f"BEARERGUARD['VERIFIER'] returned {type(verifier).__name__}, not a Verifier."
        )
    return verifier


def _examine(value: Any) -> tuple[list[Problem], Source]:
    if value is MISSING:
        return [Problem("bearerguard.E001", "The BEARERGUARD setting is missing.", _EXAMPLE)], _none
    if not isinstance(value, Mapping):
        msg = f"The BEARERGUARD setting must be a dict, not {type(value).__name__}."
        return [Problem("bearerguard.E002", msg, _EXAMPLE)], _none

    problems = _unknown_keys(value)
    if VERIFIER in value:
        return _examine_verifier(value, problems)

    try:  # an empty ISSUER or AUDIENCE is left out: reported as missing, with its own id
        kwargs = settings_from_mapping(value, prefix="", label=_label)
    except ConfigurationError as exc:
        return [*problems, Problem("bearerguard.E006", str(exc))], _none
    for key, name, example in (
        ("ISSUER", "issuer", '"your-tenant.auth0.com"'),
        ("AUDIENCE", "audience", '"https://api.example.com"'),
    ):
        if name == "audience" and "resource" in kwargs:
            continue  # the audience defaults to the resource (RFC 8707)
        if name not in kwargs:
            hint = f'Add "{key}": {example} (a list for several) to BEARERGUARD.'
            if key == "AUDIENCE":
                hint += ' Or "RESOURCE": your API\'s URL, which the audience defaults to.'
            problems.append(Problem(_MISSING_IDS[key], f"BEARERGUARD has no {key}.", hint))
    if any(p.id in _MISSING_IDS.values() for p in problems):
        return problems, _none
    try:
        verifier = named_errors(
            lambda: Verifier(**kwargs), kwargs, prefix="", label=_label, source=value
        )
    except ConfigurationError as exc:
        problems.append(
            Problem("bearerguard.E006", f"BEARERGUARD is invalid: {exc}", "Check its values.")
        )
        return problems, _none
    return problems, lambda: verifier


def _label(key: str) -> str:
    return f"BEARERGUARD[{key!r}]"


def _unknown_keys(value: Mapping[Any, Any]) -> list[Problem]:
    # A typo in a security setting ("AUDIENCES") must not silently weaken verification.
    unknown = [key for key in value if key not in KNOWN_KEYS]
    if not unknown:
        return []
    guesses = [
        f"{key!r} -> {match[0]!r}"
        for key in unknown
        if (match := difflib.get_close_matches(str(key).upper(), KNOWN_KEYS, n=1))
    ]
    hint = f"Did you mean {', '.join(guesses)}?" if guesses else None
    known = ", ".join(sorted(KNOWN_KEYS))
    msg = f"BEARERGUARD has unknown key(s) {', '.join(map(repr, unknown))}; known keys: {known}."
    return [Problem("bearerguard.E003", msg, hint)]


def _examine_verifier(
    value: Mapping[Any, Any], problems: list[Problem]
) -> tuple[list[Problem], Source]:
    others = sorted(str(key) for key in value if key in KNOWN_KEYS and key != VERIFIER)
    if others:
        problems.append(
            Problem(
                "bearerguard.E008",
                f"BEARERGUARD sets VERIFIER and also {', '.join(others)}, which would be ignored.",
                "Configure the verifier in one place: either VERIFIER or the other keys.",
            )
        )
    target = value[VERIFIER]
    if isinstance(target, str):
        try:
            target = import_string(target)
        except ImportError as exc:
            msg = f"BEARERGUARD['VERIFIER'] = {value[VERIFIER]!r} cannot be imported: {exc}"
            return [*problems, Problem("bearerguard.E007", msg, _VERIFIER_HINT)], _none
    if isinstance(target, Verifier):
        verifier = target
        return problems, lambda: verifier
    if callable(target):
        return problems, target
    msg = f"BEARERGUARD['VERIFIER'] is a {type(target).__name__}, not a Verifier or a factory."
    return [*problems, Problem("bearerguard.E007", msg, _VERIFIER_HINT)], _none


def _none() -> object:
    return None
