"""Introspection's settings by name: ``BEARERGUARD_INTROSPECTION`` or one name per field.

Introspection (RFC 7662) is one keyword of the Verifier but many settings: either all of
them at once, ``BEARERGUARD_INTROSPECTION`` (an :class:`~bearerguard.Introspection`, a
dict of its fields, or that dict as JSON text), or one name per field,
``BEARERGUARD_INTROSPECTION_CLIENT_ID``, ``..._CLIENT_SECRET``, ``..._URL`` and so on:
the names follow the fields of :class:`~bearerguard.Introspection`, whatever fields it
has. Any of them turns introspection on; setting both forms is refused. Mistakes are
named as the user wrote them, and a secret is never repeated.

Example::

    introspection_settings({"BEARERGUARD_INTROSPECTION_CLIENT_ID": "api",
                            "BEARERGUARD_INTROSPECTION_CLIENT_SECRET": "..."}, "BEARERGUARD_", str)
    # Introspection(client_id='api', ...)
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ._coerce import given
from ._errors import ConfigurationError
from ._introspection_config import Introspection
from ._issuers import normalize_issuer
from ._redis_urls import from_redis_url, is_redis_url
from ._setting_text import FALSE, TRUE, from_json

__all__ = [
    "INTROSPECTION",
    "as_is",
    "introspection_issuer_name",
    "introspection_names",
    "introspection_settings",
]

#: the suffix whose value holds all of introspection's settings; ``INTROSPECTION_<FIELD>``
#: holds one each
INTROSPECTION = "INTROSPECTION"
#: ``INTROSPECTION_<FIELD>`` -> the field of :class:`~bearerguard.Introspection`: read from
#: the class, so that a field added there is a setting here at once
_FIELDS: Mapping[str, dataclasses.Field[Any]] = MappingProxyType(
    {
        f"{INTROSPECTION}_{field.name.upper()}": field
        for field in dataclasses.fields(Introspection)
        if field.init
    }
)
_INTROSPECTION_JSON = '\'{"client_id": "api", "client_secret": "..."}\' (or one variable per field)'


def introspection_names() -> frozenset[str]:
    """The suffixes of the introspection settings: ``INTROSPECTION`` (all of them at once)
    and ``INTROSPECTION_<FIELD>`` for each field of :class:`~bearerguard.Introspection`.

    Example::

        "INTROSPECTION_CLIENT_ID" in introspection_names()   # True
    """
    return frozenset({INTROSPECTION, *_FIELDS})


def introspection_issuer_name(
    source: Mapping[str, Any], prefix: str, label: Callable[[str], str]
) -> str:
    """What the verifier's objections to introspection's settings are about (whose endpoint
    it is) are named by: the issuer setting as the user wrote it, else the whole."""
    group = prefix + INTROSPECTION
    if group not in source:
        return label(f"{group}_ISSUER")
    value = source[group]
    if isinstance(value, Mapping):
        for key in ("issuer", "ISSUER"):
            if key in value:
                return f"{label(group)}[{key!r}]"
    return label(group)


def as_is(name: str) -> str:
    return name


def introspection_settings(
    source: Mapping[str, Any], prefix: str, label: Callable[[str], str]
) -> Any:
    """The ``introspection`` keyword the settings describe, or ``None`` when none is set.

    Mistakes are named as written: ``BEARERGUARD_INTROSPECTION_AUTH``, or
    ``app.config['BEARERGUARD_INTROSPECTION']['auth']`` for a dict.
    """
    fields = _FIELDS
    group = prefix + INTROSPECTION
    flat = [suffix for suffix in fields if prefix + suffix in source]
    if group in source and flat:
        raise ConfigurationError(
            f"{label(group)} and {label(prefix + flat[0])} are both set: give introspection's "
            f"settings one way, all in {label(group)} or each by its own "
            f"{prefix}{INTROSPECTION}_* name.",
            setting="introspection",
        )
    if group in source:
        value = source[group]
        if value is None or isinstance(value, Introspection):
            return value  # None: the default, no introspection
        entries = _grouped(value, label(group), fields)
        named = {field.name: label(group) for field in fields.values()}
        whole = label(group)
    elif flat:
        entries = {
            fields[suffix].name: (fields[suffix], source[prefix + suffix], label(prefix + suffix))
            for suffix in flat
        }
        named = {field.name: label(prefix + suffix) for suffix, field in fields.items()}
        whole = label(f"{prefix}{INTROSPECTION}_*")
    else:
        return None
    named.update({name: where for name, (_, _, where) in entries.items()})
    values = {
        name: _introspection_value(field, item, where) if isinstance(item, str) else item
        for name, (field, item, where) in entries.items()
    }
    _require_fields(fields, values, named, grouped=group in source, group=label(group))
    try:
        settings = Introspection(**values)
        if settings.issuer is not None:  # as the verifier will read it, named here
            normalize_issuer(settings.issuer, setting="issuer")
    except ConfigurationError as exc:
        # A field's name, or "Introspection url" (the URL check names what it checks).
        at = (exc.setting or "").removeprefix("Introspection ")
        raise ConfigurationError(
            f"{named.get(at, whole)}: {exc}", setting="introspection"
        ) from None
    return settings


def _grouped(
    value: object, where: str, fields: Mapping[str, dataclasses.Field[Any]]
) -> dict[str, tuple[dataclasses.Field[Any], Any, str]]:
    """The settings of a dict (or its JSON text) given as ``INTROSPECTION``, by field name:
    the field, the value, what messages call it (``BEARERGUARD['INTROSPECTION']['url']``)."""
    if isinstance(value, str):
        if not value.strip():
            raise ConfigurationError(
                f"{where} is set but empty (an unset variable in a template?): give it the "
                "settings, or remove it to leave introspection off.",
                setting="introspection",
            )
        value = from_json(value.strip(), where, "introspection", _INTROSPECTION_JSON)
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{where} must be a bearerguard Introspection, or a dict of its settings such as "
            f"{{'client_id': 'api', 'client_secret': '...'}}; got {given(value, secret=True)}.",
            setting="introspection",
        )
    # Its keys are the keywords of Introspection (client_id), or as the flat names spell
    # them (CLIENT_ID), as Django's BEARERGUARD spells its own keys.
    by_key: dict[str, dataclasses.Field[Any]] = {}
    for suffix, field in fields.items():
        by_key[field.name] = by_key[suffix.removeprefix(INTROSPECTION + "_")] = field
    entries = {}
    for key, item in value.items():
        found = by_key.get(key) if isinstance(key, str) else None
        if found is None:
            raise _unknown_field(key, where, sorted(f.name for f in fields.values()))
        entries[found.name] = (found, item, f"{where}[{key!r}]")
    return entries


def _unknown_field(key: object, where: str, names: list[str]) -> ConfigurationError:
    match = difflib.get_close_matches(str(key).lower(), names, n=1, cutoff=0.6)
    guess = f" (did you mean {match[0]!r}?)" if match else ""
    return ConfigurationError(
        f"{where} has an unknown key {key!r}{guess}; Introspection takes {', '.join(names)}.",
        setting="introspection",
    )


def _require_fields(
    fields: Mapping[str, dataclasses.Field[Any]],
    values: Mapping[str, object],
    named: Mapping[str, str],
    *,
    grouped: bool,
    group: str,
) -> None:
    """Every field without a default is given: a missing one is named, never a TypeError."""
    for field in fields.values():
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        if has_default or field.name in values:
            continue
        if grouped:
            raise ConfigurationError(
                f"{group} has no {field.name!r}, which introspection needs: add it, e.g. "
                f"{{'client_id': 'api', 'client_secret': '...'}}.",
                setting="introspection",
            )
        raise ConfigurationError(
            f"{named[field.name]} is not set, and introspection needs it: the other "
            "introspection settings given turn it on. Set it too, or remove them.",
            setting="introspection",
        )


def _introspection_value(field: dataclasses.Field[Any], raw: str, variable: str) -> Any:
    """One introspection setting written as text, read by its field's type."""
    text = raw.strip()
    if not text:
        raise ConfigurationError(
            f"{variable} is set but empty (an unset variable in a template?): "
            "give it a value, or remove it to use the default.",
            setting="introspection",
        )
    if field.name == "shared_cache":
        return _shared_cache(text, variable)
    kind = _kind(field.type)
    shown = repr(raw) if field.repr else "a secret value"  # a secret is never repeated
    if kind == "bool":
        if text.lower() not in TRUE | FALSE:
            raise ConfigurationError(
                f"{variable} must be true or false, got {shown}.", setting="introspection"
            )
        return text.lower() in TRUE
    if kind in ("int", "float"):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            what = "a whole number" if kind == "int" else "a number of seconds"
            raise ConfigurationError(
                f"{variable} must be {what}, got {shown}.", setting="introspection"
            ) from None
    return text


def _kind(annotation: object) -> str:
    """What text of a field's type becomes: ``bool``, ``int``, ``float`` or ``str`` (anything
    else: the text, which the field checks itself)."""
    written = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    parts = {part.strip() for part in str(written).split("|")} - {"None"}
    if parts in ({"bool"}, {"int"}):
        return parts.pop()
    if parts and parts <= {"float", "int"}:
        return "float"
    return "str"


def _shared_cache(url: str, variable: str) -> Any:
    """A Redis URL, as ``replay_store`` takes one: the cache of answers every worker shares."""
    if not is_redis_url(url):
        # The URL may hold a password: it is not repeated.
        raise ConfigurationError(
            f"{variable} must be a redis:// (rediss://, unix://) URL such as "
            "'redis://localhost:6379/0', the Redis every worker shares; the value given is "
            "none (it is not repeated here: a URL may hold a password).",
            setting="introspection",
        )
    try:
        return from_redis_url("RedisIntrospectionCache", url, variable)
    except ConfigurationError as exc:
        message = str(exc) if str(exc).startswith(variable) else f"{variable}: {exc}"
        raise ConfigurationError(message, setting="introspection") from None
