"""Claim rules: what a token's claims must say, in one small vocabulary.

The constructors (:func:`required`, :func:`equals`, :func:`includes`,
:func:`any_of`, :func:`check`; public in :mod:`bearerguard.claims`) check their
arguments once, where the rule is written, and return an immutable
:class:`ClaimRule`. The same rules serve two places:

* the verifier's ``claim_rules``: every token must meet them, else
  ``401 invalid_token`` (:class:`InvalidClaimsError`), as Express's
  ``claimEquals``/``claimIncludes``/``claimCheck`` answer;
* a route's ``claims=`` in every adapter: a valid token that does not meet them
  may not use that route, ``403`` (:class:`InsufficientClaimsError`).

Comparisons are exact, JSON type included: ``equals("email_verified", True)``
refuses ``"true"`` and ``1``. A rule never echoes a claim's value: the
refusal's description is a fixed sentence, and its ``reason`` (for logs) names
the claim and the rule, not what the token says.

Checking a rule is a dict lookup or two; only :func:`check` runs user code, and
an exception there refuses the token (and is logged, at most once a minute per
rule) rather than becoming a 500.

Part of the sans-I/O core: the verifier's configuration holds the rules and its
claim checks run them. ``logging`` (which imports ``threading``) is imported only
when a :func:`check` predicate fails.
"""

from __future__ import annotations

import inspect
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ._coerce import LISTS, given
from ._errors import ConfigurationError, InsufficientClaimsError, InvalidClaimsError
from ._token import AccessToken, RequiredScopes

__all__ = [
    "ClaimRule",
    "ClaimValue",
    "RequiredScopesAndClaims",
    "any_of",
    "check",
    "check_rules",
    "equals",
    "first_failing",
    "includes",
    "required",
    "requirement",
    "route_refusal",
    "verifier_refusal",
]

#: what :func:`equals` compares a claim with: a JSON string, number, boolean or null
ClaimValue: TypeAlias = str | int | float | bool | None

_ABSENT: Any = object()  # claims.get's default: a claim that is not there at all
_SHOWN = 60  # characters of a configured value repeated in a reason
_LOG_INTERVAL = 60.0  # seconds between two log lines about one failing check()
_MAX_DESCRIPTION = 200
# Characters that make a claim name a list in disguise ("org_id,email") or unprintable.
_NOT_IN_NAMES = frozenset(" ,\t\r\n\x0b\x0c")
_VERIFIER_DESCRIPTION = "The claims of the access token do not meet the requirements of this API"
_VOCABULARY = (
    "claims.required, claims.equals, claims.includes, claims.any_of or claims.check "
    "(from bearerguard import claims)"
)


class ClaimRule(ABC):
    """A rule a verified token's claims must meet. Build one with :mod:`bearerguard.claims`.

    Rules are immutable and may be shared by any number of verifiers and routes.

    Example::

        from bearerguard import claims

        rule = claims.equals("org_id", "org_123")
        rule.passes({"org_id": "org_123"})   # True
    """

    __slots__ = ()

    @abstractmethod
    def passes(self, claims: Mapping[str, Any]) -> bool:
        """Whether ``claims`` meet the rule."""

    @abstractmethod
    def failure(self, claims: Mapping[str, Any]) -> str:
        """Why ``claims`` fail the rule, for logs: the claim and the rule, never its value."""


@dataclass(frozen=True, slots=True, repr=False)
class _Required(ClaimRule):
    names: tuple[str, ...]

    def passes(self, claims: Mapping[str, Any]) -> bool:
        for name in self.names:  # noqa: SIM110 - a loop: cheaper than all() over a generator
            if claims.get(name) is None:
                return False
        return True

    def failure(self, claims: Mapping[str, Any]) -> str:
        missing = ", ".join(name for name in self.names if claims.get(name) is None)
        return f"The token has no {missing} claim (or it is null), which {self!r} requires."

    def __repr__(self) -> str:
        return f"claims.required({', '.join(map(_shown, self.names))})"


@dataclass(frozen=True, slots=True, repr=False)
class _Equals(ClaimRule):
    name: str
    value: ClaimValue
    #: the Python types of the value's JSON type: (bool,) for true, (int, float) for 1
    kinds: tuple[type, ...]

    def passes(self, claims: Mapping[str, Any]) -> bool:
        found = claims.get(self.name, _ABSENT)
        return type(found) in self.kinds and found == self.value

    def failure(self, claims: Mapping[str, Any]) -> str:
        found = claims.get(self.name, _ABSENT)
        if found is _ABSENT:
            return f"The token has no {self.name} claim, which {self!r} requires."
        if type(found) not in self.kinds:
            return (
                f"The token's {self.name} claim is {_json_type(found)}, not "
                f"{_json_type(self.value)} as {self!r} requires."
            )
        return f"The token's {self.name} claim has another value than {self!r} requires."

    def __repr__(self) -> str:
        return f"claims.equals({_shown(self.name)}, {_shown(self.value)})"


@dataclass(frozen=True, slots=True, repr=False)
class _Includes(ClaimRule):
    name: str
    values: tuple[str, ...]

    def passes(self, claims: Mapping[str, Any]) -> bool:
        found = claims.get(self.name)
        if type(found) is str:
            found = found.split(" ")  # a space-separated string, as scope is (RFC 8693 §4.2)
        elif type(found) is not list:
            return False
        # List membership: no hashing, whatever the items are. A loop: cheaper than all().
        for value in self.values:  # noqa: SIM110
            if value not in found:
                return False
        return True

    def failure(self, claims: Mapping[str, Any]) -> str:
        found = claims.get(self.name, _ABSENT)
        if found is _ABSENT or found is None:
            return f"The token has no {self.name} claim, which {self!r} requires."
        if type(found) is str:
            found = found.split(" ")
        elif type(found) is not list:
            return (
                f"The token's {self.name} claim is {_json_type(found)}, not an array or a "
                f"space-separated string as {self!r} requires."
            )
        lacking = ", ".join(_shown(value) for value in self.values if value not in found)
        return f"The token's {self.name} claim lacks {lacking}, which {self!r} requires."

    def __repr__(self) -> str:
        return f"claims.includes({', '.join(map(_shown, (self.name, *self.values)))})"


@dataclass(frozen=True, slots=True, repr=False)
class _AnyOf(ClaimRule):
    rules: tuple[ClaimRule, ...]

    def passes(self, claims: Mapping[str, Any]) -> bool:
        for rule in self.rules:  # noqa: SIM110 - a loop: cheaper than any() over a generator
            if rule.passes(claims):
                return True
        return False

    def failure(self, claims: Mapping[str, Any]) -> str:
        return f"The token meets none of the rules of {self!r}."

    def __repr__(self) -> str:
        return f"claims.any_of({', '.join(map(repr, self.rules))})"


@dataclass(frozen=True, slots=True, repr=False)
class _Check(ClaimRule):
    predicate: Callable[[Mapping[str, Any]], bool]
    description: str
    #: when the failing predicate was last logged, and how many failures were not since:
    #: tokens come from clients, and a flood of them must not flood the log. (Threads may
    #: race here; the worst outcome is one line too many.)
    logged: list[float] = field(default_factory=lambda: [-math.inf, 0.0], compare=False)

    def passes(self, claims: Mapping[str, Any]) -> bool:
        try:
            result: object = self.predicate(claims)  # whatever the annotation promises
        except Exception:
            self._log("raised an exception; the token was refused", exc_info=True)
            return False
        if result is True:
            return True
        if result is not False:  # truthy text such as "false" must never let a token in
            self._log(
                f"returned {type(result).__name__}, not a bool; the token was refused "
                "(a predicate must return True or False)"
            )
        return False

    def _log(self, what: str, *, exc_info: bool = False) -> None:
        now, (last, held) = time.monotonic(), self.logged
        if now - last < _LOG_INTERVAL:
            self.logged[1] = held + 1
            return
        self.logged[:] = [now, 0.0]
        import logging  # noqa: PLC0415 - the core imports no threading until a check fails

        more = f" ({held:.0f} more such failures since the last message)" if held else ""
        logging.getLogger("bearerguard").error(
            "The claim rule %r %s%s.", self, what, more, exc_info=exc_info
        )

    def failure(self, claims: Mapping[str, Any]) -> str:
        return f"The token does not pass {self!r}."

    def __repr__(self) -> str:
        name = getattr(self.predicate, "__qualname__", None) or type(self.predicate).__name__
        name = str(name).rsplit(".<locals>.", 1)[-1]  # where it was defined is noise
        return f"claims.check({name}, {_shown(self.description)})"


def required(*names: str, namespace: str | None = None) -> ClaimRule:
    """The claims ``names`` must be present and not null.

    Example::

        claims.required("org_id", "email")
        claims.required("tenant", namespace="https://example.com/")   # https://example.com/tenant
    """
    if not names:
        raise ConfigurationError(
            "claims.required() needs at least one claim name: e.g. claims.required('org_id')."
        )
    prefix = _namespace(namespace, "required")
    return _Required(tuple(prefix + _name(name, "required") for name in names))


def equals(name: str, value: ClaimValue, *, namespace: str | None = None) -> ClaimRule:
    """The claim ``name`` must be exactly ``value``: a JSON string, number, boolean or null.

    The JSON type must match too: ``True`` is not ``1`` and ``"true"`` is not ``True``;
    an integer and a float of the same value are the same JSON number. ``None`` asks
    for a claim that is present and null. For arrays use :func:`includes`.

    Example::

        claims.equals("email_verified", True)
        claims.equals("org_id", "org_123")
        claims.equals("plan", "pro", namespace="https://example.com/")
    """
    prefix = _namespace(namespace, "equals")
    full_name = prefix + _name(name, "equals")
    return _Equals(full_name, value, _kinds(value))


def includes(name: str, *values: str, namespace: str | None = None) -> ClaimRule:
    """The claim ``name`` must hold every one of ``values``.

    The claim is a JSON array (each value must be one of its items, compared
    exactly) or a space-separated string such as ``scope`` (each value must be one
    of its words, so a value with a space never matches that form). Anything
    else, or no claim, fails. As Express's ``claimIncludes``.

    Example::

        claims.includes("roles", "admin")
        claims.includes("permissions", "read:reports", "export:reports")
        claims.includes("roles", "admin", namespace="https://example.com/")
    """
    prefix = _namespace(namespace, "includes")
    full_name = prefix + _name(name, "includes")
    if not values:
        raise ConfigurationError(
            f"claims.includes({name!r}) needs the values the claim must hold: "
            f"e.g. claims.includes({name!r}, 'admin')."
        )
    for value in values:
        if not isinstance(value, str) or not value:
            raise ConfigurationError(
                f"claims.includes({name!r}, ...) compares the claim's items with strings; got "
                f"{given(value)}. Write e.g. claims.includes({name!r}, 'admin'), or use "
                "claims.check(...) for anything else."
            )
    return _Includes(full_name, values)


def any_of(*rules: ClaimRule) -> ClaimRule:
    """At least one of ``rules`` must hold.

    Example::

        claims.any_of(claims.includes("roles", "admin"), claims.equals("org_id", "org_123"))
    """
    if not rules:
        raise ConfigurationError(
            "claims.any_of() needs at least one rule: e.g. claims.any_of("
            "claims.includes('roles', 'admin'), claims.includes('roles', 'owner'))."
        )
    return _AnyOf(check_rules(rules, "claims.any_of(...)"))


def check(predicate: Callable[[Mapping[str, Any]], bool], description: str) -> ClaimRule:
    """Anything else: ``predicate(claims)`` must return ``True``.

    ``predicate`` is a plain (not async) function of the verified claims, a
    read-only mapping; it must not change them. Only ``True`` passes: ``False``, any
    other result and any exception refuse the token, and a non-bool result or an
    exception is logged as an error (at most once a minute per rule) instead of
    answering 500. ``description`` is a fixed sentence naming the rule in logs and
    in the refusal's ``reason``; it never reaches the client.

    Verifier-wide rules run once per token (a token the verifier remembers is not
    checked again), so their predicates must depend on the claims alone, not on the
    time or the request.

    Example::

        claims.check(lambda c: not c.get("sub", "").startswith("anon@"), "no anonymous users")
    """
    if not callable(predicate) or isinstance(predicate, type):
        raise ConfigurationError(
            f"claims.check() takes a function of the claims returning a bool, got "
            f"{given(predicate)}: e.g. claims.check(lambda c: c.get('tier') == 'pro', "
            "'pro tier only')."
        )
    if inspect.iscoroutinefunction(predicate) or inspect.iscoroutinefunction(
        type(predicate).__call__  # a callable object's own method
    ):
        raise ConfigurationError(
            "claims.check() takes a plain function: an async one returns a coroutine, not a "
            "bool. Compute what it needs beforehand, or check it in the view."
        )
    if (
        not isinstance(description, str)
        or not description.strip()
        or len(description) > _MAX_DESCRIPTION
        or not description.isprintable()
    ):
        raise ConfigurationError(
            f"claims.check()'s description is a short fixed sentence for logs (printable, "
            f"1 to {_MAX_DESCRIPTION} characters), got {given(description)}: e.g. "
            "claims.check(is_staff, 'staff members only')."
        )
    return _Check(predicate, description)


def check_rules(rules: object, setting: str) -> tuple[ClaimRule, ...]:
    """``rules`` as a tuple of :class:`ClaimRule`, or a :class:`ConfigurationError` naming
    ``setting`` (``"claim_rules"``, ``"Rule(claims=...)"``, ...) and what to write.

    Example::

        check_rules([claims.required("org_id")], "claim_rules")   # (claims.required('org_id'),)
    """
    if not isinstance(rules, LISTS):
        if isinstance(rules, ClaimRule):
            got, example = f"one rule, {rules!r}", f"[{rules!r}]"
        else:
            got, example = given(rules), f"[{_required_example(rules)}]"
        raise ConfigurationError(
            f"{setting} takes a list of claim rules built with {_VOCABULARY}; got {got}. "
            f"Write e.g. {example}.",
            setting=_setting_name(setting),
        )
    checked = tuple(rules)
    for rule in checked:
        if not isinstance(rule, ClaimRule):
            raise ConfigurationError(
                f"{setting} takes claim rules built with {_VOCABULARY}; got {given(rule)}. "
                f"Write e.g. {_required_example(rule)}.",
                setting=_setting_name(setting),
            )
    return checked


def first_failing(rules: tuple[ClaimRule, ...], claims: Mapping[str, Any]) -> ClaimRule | None:
    """The first of ``rules`` that ``claims`` fail, else ``None`` (no rules: ``None`` at once)."""
    for rule in rules:
        if not rule.passes(claims):
            return rule
    return None


def verifier_refusal(rule: ClaimRule, claims: Mapping[str, Any]) -> InvalidClaimsError:
    """The 401 for a token that fails one of the verifier's claim rules: a fixed
    description, and a reason naming the rule."""
    return InvalidClaimsError(_VERIFIER_DESCRIPTION, reason=rule.failure(claims))


def route_refusal(rule: ClaimRule, token: AccessToken) -> InsufficientClaimsError:
    """The 403 for a valid token that fails one of a route's claim rules: in the token's
    realm, with its resource's metadata URL, and a reason naming the rule."""
    error = InsufficientClaimsError(reason=rule.failure(token.claims), realm=token.realm)
    error.with_resource_metadata(token.resource_metadata)
    return error


class RequiredScopesAndClaims(RequiredScopes):
    """A route's scopes and claim rules: :meth:`enforce` checks the scopes first (their
    403 names them, so a client can step up), then the claims (a 403 naming no scope).

    :meth:`granted_by` and :meth:`refusal` keep meaning the scopes alone;
    :meth:`claims_refusal` is the claims' verdict. Built by :func:`requirement` only
    for a route with claim rules, so a route without any holds a plain
    :class:`RequiredScopes` and pays nothing for them.
    """

    __slots__ = ("claims",)

    def __init__(
        self, names: str | Iterable[str], *, any_of: bool = False, claims: tuple[ClaimRule, ...]
    ) -> None:
        super().__init__(names, any_of=any_of)
        self.claims = claims

    def __bool__(self) -> bool:
        return True

    def enforce(self, token: AccessToken) -> None:
        # Looked up on the class at each call: the pytest plugin observes the scope check.
        RequiredScopes.enforce(self, token)
        refused = self.claims_refusal(token)
        if refused is not None:
            raise refused

    def claims_refusal(self, token: AccessToken) -> InsufficientClaimsError | None:
        """The 403 refusing ``token`` for a claim rule it fails, else ``None``."""
        failed = first_failing(self.claims, token.claims)
        return None if failed is None else route_refusal(failed, token)


def requirement(
    scopes: str | Iterable[str], *, any_of: bool = False, claims: object = ()
) -> RequiredScopes:
    """What a route requires: its scopes and, when it has any, its claim rules.

    ``claims`` is checked here, once, where the route is declared (a
    :class:`ConfigurationError` says what to write); no rules give a plain
    :class:`RequiredScopes`.

    Example::

        needed = requirement(("read:reports",), claims=[claims.includes("roles", "analyst")])
        needed.enforce(token)   # InsufficientScopeError / InsufficientClaimsError (403)
    """
    rules = check_rules(claims, "claims")
    if not rules:
        return RequiredScopes(scopes, any_of=any_of)
    return RequiredScopesAndClaims(scopes, any_of=any_of, claims=rules)


def _required_example(given_value: object) -> str:
    """An example rule for a message: about the claim the user named, if it was a name."""
    if isinstance(given_value, str) and given_value and given_value.isprintable():
        return f"claims.required({_shown(given_value)})"
    return "claims.equals('org_id', 'org_123')"


def _setting_name(setting: str) -> str | None:
    """The keyword a message is about, for callers that rename it (``BEARERGUARD_...``)."""
    return setting if setting.isidentifier() else None


def _namespace(namespace: object, rule: str) -> str:
    """The prefix a namespace gives claim names, as :meth:`AccessToken.claim` reads them."""
    if namespace is None:
        return ""
    if not isinstance(namespace, str) or not namespace.strip() or namespace != namespace.strip():
        raise ConfigurationError(
            f"claims.{rule}(namespace=...) takes the prefix of namespaced claims, such as "
            f"'https://example.com/' (Auth0's custom claims), or None; got {given(namespace)}."
        )
    return namespace if namespace.endswith("/") else namespace + "/"


def _name(name: object, rule: str) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"claims.{rule}() takes claim names as strings, got {given(name)}: "
            f"e.g. claims.{rule}('org_id'{', ...' if rule != 'required' else ''})."
        )
    if _NOT_IN_NAMES & set(name) or not name.isprintable():
        raise ConfigurationError(
            f"{_shown(name)} is not one claim name: names hold no spaces, commas or control "
            "characters. Pass each claim as its own argument, e.g. "
            "claims.required('org_id', 'email')."
        )
    return name


def _kinds(value: object) -> tuple[type, ...]:
    """The Python types a JSON parser gives ``value``'s JSON type, or a ConfigurationError."""
    if value is None:
        return (type(None),)
    if isinstance(value, bool):
        return (bool,)
    if isinstance(value, str):
        return (str,)
    if isinstance(value, (int, float)) and type(value) in (int, float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigurationError(
                f"claims.equals() compares with JSON values, and {value!r} is none (JSON has "
                "no NaN or infinity)."
            )
        return (int, float)  # one JSON number: 1 and 1.0 are the same
    raise ConfigurationError(
        f"claims.equals() compares a claim with a JSON string, number, boolean or null; got "
        f"{given(value)}. For an array claim write claims.includes(name, ...); for anything "
        "else, claims.check(...)."
    )


def _json_type(value: object) -> str:
    """The JSON type of a claim, as a reason names it (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _shown(value: object) -> str:
    """A configured value as a reason repeats it: its repr, cut short, printable ASCII."""
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 3] + "..."
    return shown.encode("ascii", "backslashreplace").decode()
