"""Scope hierarchies: a broader scope implies narrower ones, as the verifier's settings declare.

The MCP authorization specification (revision 2026-07-28, "Step-Up Authorization
Flow") makes it a requirement: "Servers MUST account for scope hierarchies, where a
broader scope implies narrower ones, when deciding whether a token is sufficient for
an operation." It names no convention that would derive a hierarchy from the names
themselves (neither ``files`` over ``files:read`` nor a wildcard), so none is guessed
here: a hierarchy is what ``scope_implications`` declares, closed under transitivity
once, when the verifier is built.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from ._coerce import LISTS, refuse
from ._errors import SCOPE_TOKEN, ConfigurationError

__all__ = ["MAX_IMPLIED_SCOPE_NAMES", "ScopeHierarchy", "check_scope_implications"]

#: how many distinct scope names one map may mention: far beyond any real API's hierarchy,
#: and it bounds the closure built at construction (at most n * (n - 1) / 2 pairs)
MAX_IMPLIED_SCOPE_NAMES = 512
_SETTING = "scope_implications"
_EXAMPLE = "scope_implications={'admin': ['read:contacts', 'write:contacts']}"
_NOTHING: frozenset[str] = frozenset()
_MAX_EXPANSIONS = 256  # scope sets whose expansion one hierarchy remembers
_SHOWN_CYCLE = 8  # scopes of a cycle a message names: the start and the end of a long one


class ScopeHierarchy:
    """What every scope grants under a declared implication map, closed transitively.

    Built once per verifier from its ``scope_implications`` setting (checked by
    :func:`check_scope_implications`); every token that verifier issues carries it,
    and every requirement check consults it when a token lacks a required scope
    itself. A token's own :attr:`~bearerguard.AccessToken.scopes` are never changed.

    Example::

        hierarchy = ScopeHierarchy({"admin": ("write:contacts",),
                                    "write:contacts": ("read:contacts",)})
        hierarchy.implied_by("admin")        # frozenset({'write:contacts', 'read:contacts'})
        hierarchy.grants(frozenset({"admin"}), frozenset({"read:contacts"}), any_of=False)
        # True
    """

    __slots__ = ("_expanded", "_narrower")

    def __init__(self, implications: Mapping[str, tuple[str, ...]]) -> None:
        #: scope -> every narrower scope it implies, directly or through others
        self._narrower: Mapping[str, frozenset[str]] = MappingProxyType(_closure(implications))
        # The expansions of the scope sets seen lately. A provider grants the same few sets
        # token after token (and the claims parser hands out one frozenset per scope string),
        # so a check is one lookup of a hash the set already holds. Bounded in count.
        self._expanded: dict[frozenset[str], frozenset[str]] = {}

    def implied_by(self, scope: str) -> frozenset[str]:
        """Every narrower scope ``scope`` implies, directly or transitively (not itself)."""
        return self._narrower.get(scope, _NOTHING)

    def expand(self, held: frozenset[str]) -> frozenset[str]:
        """``held`` and every scope they imply: all that a token with ``held`` grants."""
        expanded = self._expanded.get(held)
        if expanded is None:
            narrower = self._narrower
            implied = [narrower[scope] for scope in held if scope in narrower]
            expanded = held.union(*implied) if implied else held
            if len(self._expanded) >= _MAX_EXPANSIONS:
                self._expanded.clear()  # that many different sets: start afresh
            self._expanded[held] = expanded
        return expanded

    def grants(self, held: frozenset[str], needed: frozenset[str], *, any_of: bool) -> bool:
        """Whether scopes ``held`` grant all of ``needed`` (``any_of``: one of them),
        each needed scope held itself or implied by one that is."""
        granted = self.expand(held)
        return not granted.isdisjoint(needed) if any_of else needed <= granted

    def __repr__(self) -> str:
        return f"ScopeHierarchy({dict(self._narrower)!r})"


def check_scope_implications(value: object) -> Mapping[str, tuple[str, ...]]:
    """The ``scope_implications`` setting, checked: ``{broader: (narrower, ...)}``.

    Each key is a scope; its value lists the scopes it implies (a list, or one string of
    space-separated scopes, as OAuth writes them). ``None`` or ``{}``: no hierarchy.
    Refused with a :class:`~bearerguard.ConfigurationError`: anything that is not a
    scope name, a scope implying nothing or itself, a cycle (which would let a narrower
    scope grant a broader one), and more than :data:`MAX_IMPLIED_SCOPE_NAMES` names.

    Example::

        check_scope_implications({"admin": "read:contacts write:contacts"})
        # {'admin': ('read:contacts', 'write:contacts')}
    """
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise refuse(
            _SETTING,
            "must map each broader scope to the narrower scopes it implies",
            value,
            _EXAMPLE,
        )
    checked: dict[str, tuple[str, ...]] = {}
    mentioned: set[str] = set()
    for broad, implied in value.items():
        _check_name(broad, value, "a key")
        narrower = _implied_names(broad, implied)
        if broad in narrower:
            raise refuse(
                _SETTING,
                f"makes {broad!r} imply itself, which grants nothing more; remove it from "
                "its own list",
                value,
                _EXAMPLE,
            )
        checked[broad] = narrower
        mentioned.add(broad)
        mentioned.update(narrower)
        if len(mentioned) > MAX_IMPLIED_SCOPE_NAMES:
            raise ConfigurationError(
                f"{_SETTING} names more than {MAX_IMPLIED_SCOPE_NAMES} scopes; declare only "
                f"the scopes that imply others and what they imply. Write e.g. {_EXAMPLE}.",
                setting=_SETTING,
            )
    cycle = _find_cycle(checked)
    if cycle is not None:
        shown = (
            cycle if len(cycle) <= _SHOWN_CYCLE else [*cycle[: _SHOWN_CYCLE - 2], "...", cycle[-1]]
        )
        path = " -> ".join(scope if scope == "..." else repr(scope) for scope in shown)
        raise refuse(
            _SETTING,
            f"holds a cycle ({path}): a hierarchy runs from broader scopes to narrower ones, "
            "and a cycle would let a narrower scope grant a broader one. Break the cycle "
            "(for two names of one permission, require either with any_of=True)",
            value,
            _EXAMPLE,
        )
    return MappingProxyType(checked)


def _check_name(scope: object, value: object, where: str) -> str:
    if not isinstance(scope, str) or not SCOPE_TOKEN.fullmatch(scope):
        raise refuse(
            _SETTING,
            f"has {where} that is not a scope name ({scope!r}): scopes are non-empty and hold "
            "no spaces, quotes or backslashes (RFC 6749 §3.3)",
            value,
            _EXAMPLE,
        )
    return scope


def _implied_names(broad: str, implied: object) -> tuple[str, ...]:
    """What ``broad`` implies: a list of names, or one string of space-separated names."""
    if isinstance(implied, str):
        names: tuple[Any, ...] = tuple(implied.split())
    elif isinstance(implied, LISTS):
        names = tuple(implied)
    else:
        raise refuse(
            _SETTING,
            f"must give the scopes {broad!r} implies as a list of scope names",
            implied,
            _EXAMPLE,
        )
    if not names:
        raise refuse(
            _SETTING,
            f"says {broad!r} implies nothing; list the scopes it implies or leave it out",
            implied,
            _EXAMPLE,
        )
    for name in names:
        _check_name(name, implied, f"a scope implied by {broad!r}")
    return tuple(dict.fromkeys(names))  # duplicates dropped, order kept


def _find_cycle(implications: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle of implications as the path that closes it (``a, b, a``), else ``None``.

    Depth-first with an explicit stack: a chain as long as the size limit allows must
    not meet the interpreter's recursion limit.
    """
    done: set[str] = set()
    for start in implications:
        if start in done:
            continue
        path = [start]
        on_path = {start}
        stack: list[Iterator[str]] = [iter(implications.get(start, ()))]
        while stack:
            scope = next(stack[-1], None)
            if scope is None:
                stack.pop()
                done.add(_leave(path, on_path))
            elif scope in on_path:
                return [*path[path.index(scope) :], scope]
            elif scope not in done:
                path.append(scope)
                on_path.add(scope)
                stack.append(iter(implications.get(scope, ())))
    return None


def _leave(path: list[str], on_path: set[str]) -> str:
    """Leave the deepest scope of a depth-first path; return it."""
    scope = path.pop()
    on_path.discard(scope)
    return scope


def _closure(implications: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """scope -> everything it implies transitively, for a map known to hold no cycle.

    Each scope's set is built once its narrower scopes' are (post-order), so the whole
    closure costs one union per declared implication.
    """
    closed: dict[str, frozenset[str]] = {}
    for start in implications:
        if start in closed:
            continue
        stack = [start]
        while stack:
            scope = stack[-1]
            pending = [n for n in implications.get(scope, ()) if n not in closed]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if scope in closed:
                continue
            implied = set(implications.get(scope, ()))
            for name in implications.get(scope, ()):
                implied |= closed[name]
            closed[scope] = frozenset(implied)
    return {scope: implied for scope, implied in closed.items() if implied}
