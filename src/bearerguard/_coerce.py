"""What a user may write for each kind of setting, and the error when they write something else.

Every refusal is a :class:`ConfigurationError` that names the setting, says what
was given (its type, and its value unless it is a secret) and what to write
instead. ``None`` and empty values get a word about unset environment variables,
the usual way they arrive (``os.environ.get("AUTH0_AUDIENCE")``).

Pure: no I/O.
"""

from __future__ import annotations

import math
from typing import Any

from ._errors import ConfigurationError

__all__ = ["LISTS", "given", "integer", "names", "number", "refuse", "switch"]

_SHOWN = 60  # characters of a value repeated in a message
_UNSET = " (an unset environment variable?)"
# Containers taken as lists of names. Nothing lazier: a generator or another iterable
# could be infinite or single-use, and a mapping's keys or a bytes' integers are never
# what was meant.
LISTS = (list, tuple, set, frozenset)


def given(value: object, *, secret: bool = False) -> str:
    """How a message names what it was given: the type, and the value unless secret.

    Example::

        given(None)          # 'None (an unset environment variable?)'
        given(42)            # 'the int 42'
        given("s3cr3t", secret=True)   # 'a value of type str'
    """
    if value is None:
        return "None" + _UNSET
    kind = type(value).__name__
    if secret:
        return f"a value of type {kind}"
    try:
        shown = repr(value)
    except Exception:  # a user's object whose repr fails still gets a message
        return f"a value of type {kind}"
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 3] + "..."
    empty = isinstance(value, (str, dict, *LISTS)) and not value
    return f"the {kind} {shown}" + (_UNSET if empty else "")


def refuse(
    setting: str, problem: str, value: object, example: str, *, secret: bool = False
) -> ConfigurationError:
    """The error for ``setting``: ``problem``, what was given, and an ``example`` to copy."""
    return ConfigurationError(
        f"{setting} {problem}; got {given(value, secret=secret)}. Write e.g. {example}.",
        setting=setting,
    )


def names(
    value: object, setting: str, example: str, *, allow_empty: bool = False
) -> tuple[str, ...]:
    """One string, or a list (tuple, set) of strings: a string is one item, not its letters.

    Example::

        names("RS256", "algorithms", "['RS256']")            # ('RS256',)
        names(["a", "b"], "audience", "'https://api'")        # ('a', 'b')
    """
    if isinstance(value, str):
        items: tuple[Any, ...] = (value,)
    elif isinstance(value, LISTS):
        items = tuple(value)
    else:
        raise refuse(setting, "must be a string or a list of strings", value, example)
    for item in items:
        if not isinstance(item, str):
            raise refuse(
                setting, f"must hold strings only, not a {type(item).__name__}", value, example
            )
        if not item.strip():
            raise refuse(setting, "must not hold an empty string", value, example)
        if item != item.strip():
            raise refuse(setting, "must not hold spaces around a name", value, example)
    if not items and not allow_empty:
        raise refuse(setting, "must not be empty", value, example)
    return tuple(dict.fromkeys(items))  # duplicates dropped, order kept


def number(value: object, setting: str, upper: float, example: str) -> float:
    """A finite number of seconds between 0 and ``upper`` (an int or a float, never a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refuse(setting, "must be a number of seconds", value, example)
    if not math.isfinite(value) or not 0 <= value <= upper:
        bound = "" if math.isinf(upper) else f" and {upper:g}"
        raise refuse(setting, f"must lie between 0{bound} seconds", value, example)
    return float(value)


def integer(value: object, setting: str, lower: int, upper: int, example: str) -> int:
    """An int between ``lower`` and ``upper`` (never a bool, a float or a string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(setting, "must be an integer", value, example)
    if not lower <= value <= upper:
        raise refuse(setting, f"must lie between {lower} and {upper}", value, example)
    return int(value)


def switch(value: object, setting: str) -> bool:
    """``True`` or ``False`` only: a string such as ``"false"`` would count as true."""
    if not isinstance(value, bool):
        raise refuse(setting, "must be True or False", value, f"{setting}=True")
    return value
