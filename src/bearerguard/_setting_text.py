"""How a setting written as text is read, wherever it is read: booleans and JSON.

Shared by the Verifier's settings by name (:mod:`._settings`) and introspection's
(:mod:`._introspection_settings`). Pure: no I/O.

Example::

    from_json('{"admin": ["read:contacts"]}', "BEARERGUARD_SCOPE_IMPLICATIONS", "scope")
    # {'admin': ['read:contacts']}
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import ConfigurationError

__all__ = ["FALSE", "TRUE", "from_json"]

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def from_json(
    text: str,
    variable: str,
    name: str,
    example: str = '\'{"admin": ["read:contacts", "write:contacts"]}\'',
) -> Any:
    """A JSON value; a key given twice is refused rather than silently overwritten."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _RepeatedKey as repeated:
        raise ConfigurationError(
            f"{variable} names {repeated.key!r} twice; give each key once, its list holding "
            "every value.",
            setting=name,
        ) from None
    except RecursionError:
        raise ConfigurationError(
            f"{variable} is nested too deeply to be read; write a flat JSON object.",
            setting=name,
        ) from None
    except ValueError as exc:  # not JSON, or a number too long to convert
        if isinstance(exc, json.JSONDecodeError):
            why = f"{exc.msg} at character {exc.pos}"
        else:
            why = "it holds a number too long to read"
        raise ConfigurationError(
            f"{variable} must be JSON, e.g. {example}; it is not: {why}.",
            setting=name,
        ) from None


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKey(key)
        result[key] = value
    return result
