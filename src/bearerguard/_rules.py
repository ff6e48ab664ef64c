"""Which requests need which token: a path (and method) rule table for the middlewares.

Pure: the ASGI and WSGI middlewares ask :class:`RuleTable` what a request needs
and enforce it. The first matching rule wins; a request no rule matches needs a
valid token (fail closed) unless the table was built with a public default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ._claim_rules import ClaimRule, check_rules, requirement
from ._coerce import names as coerce_names
from ._coerce import switch
from ._errors import ConfigurationError
from ._token import AccessToken

__all__ = ["Rule", "RuleTable"]

# {name} is one path segment, {name:path} the rest of the path (Starlette's syntax).
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}")
_REPEATED_SLASHES = re.compile(r"//+")
_MAX_MATCHED = 1024  # (method, path) answers remembered by a RuleTable


class Rule:
    """A path pattern, optionally the methods it covers, and what its requests need.

    By default a matching request needs a valid token carrying every one of
    ``scopes`` (none: any valid token). ``any_of=True`` asks for at least one of
    them; ``public=True`` lets requests through unchecked; ``optional=True``
    verifies a token when one is sent and lets requests without one through.
    ``claims`` are claim rules (:mod:`bearerguard.claims`) the token must meet too,
    checked after the scopes: a valid token that fails one gets 403
    ``insufficient_scope`` without a ``scope`` (claims are no scope to ask for).

    Patterns use Starlette's syntax: ``{id}`` matches one path segment and
    ``{rest:path}`` the remainder; a trailing slash on the request is ignored.
    A rule naming ``GET`` also covers ``HEAD``.

    Example::

        Rule("/api/public", public=True)
        Rule("/api/contacts", "read:contacts", methods=["GET"])
        Rule("/api/contacts/{id}", "write:contacts", methods=["PUT", "DELETE"])
        Rule("/api/reports/{rest:path}", "read:reports", "admin", any_of=True)
        Rule("/api/admin/{rest:path}", claims=[claims.includes("roles", "admin")])
    """

    __slots__ = (
        "_regex", "_required", "any_of", "claims", "methods", "optional", "pattern", "public",
        "scopes",
    )  # fmt: skip

    def __init__(
        self,
        pattern: str,
        *scopes: str,
        methods: Iterable[str] | None = None,
        any_of: bool = False,
        public: bool = False,
        optional: bool = False,
        claims: Sequence[ClaimRule] = (),
    ) -> None:
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise ConfigurationError(f"A rule's path pattern must start with '/', got {pattern!r}.")
        any_of = switch(any_of, "any_of")
        public = switch(public, "public")
        optional = switch(optional, "optional")
        if (public or optional) and scopes:
            raise ConfigurationError(
                f"Rule {pattern!r}: a public or optional route cannot require scopes."
            )
        if public and optional:
            raise ConfigurationError(f"Rule {pattern!r}: choose public or optional, not both.")
        self.claims = check_rules(claims, "Rule(claims=...)")
        if (public or optional) and self.claims:
            raise ConfigurationError(
                f"Rule {pattern!r}: a public or optional route cannot require claims (a "
                "request without a token would pass them by)."
            )
        self.pattern = pattern
        self._required = requirement(scopes, any_of=any_of, claims=self.claims)
        self.scopes = self._required.names
        self.any_of = any_of
        self.public = public
        self.optional = optional
        if methods is None:
            self.methods: frozenset[str] | None = None
        else:
            example = "methods=['GET', 'POST']"
            names = {m.upper() for m in coerce_names(methods, "methods", example)}
            if "GET" in names:
                names.add("HEAD")
            self.methods = frozenset(names)
        self._regex = _compile(pattern)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and (normalised) path falls under the rule."""
        if self.methods is not None and method not in self.methods:
            return False
        return self._regex.fullmatch(path) is not None

    def authorize(self, token: AccessToken) -> None:
        """Raise :class:`InsufficientScopeError` (403) unless ``token`` has the scopes, and
        :class:`InsufficientClaimsError` (403) unless its claims meet the rule's claims."""
        self._required.enforce(token)

    def __repr__(self) -> str:
        parts = [repr(self.pattern), *map(repr, self.scopes)]
        if self.claims:
            parts.append(f"claims=[{', '.join(map(repr, self.claims))}]")
        if self.methods is not None:
            parts.append(f"methods={sorted(self.methods)!r}")
        flags = ("any_of", "public", "optional")
        parts += [f"{flag}=True" for flag in flags if getattr(self, flag)]
        return f"Rule({', '.join(parts)})"


class RuleTable:
    """An ordered list of :class:`Rule`; :meth:`match` finds the one a request falls under.

    Example::

        table = RuleTable([Rule("/api/public", public=True)])
        table.match("GET", "/api/public").public    # True
        table.match("GET", "/elsewhere").public     # False: unmatched paths need a token
    """

    __slots__ = ("_default", "_matched", "_rules")

    def __init__(self, rules: Iterable[Rule] = (), *, public_by_default: bool = False) -> None:
        if not isinstance(rules, (list, tuple)):
            raise ConfigurationError(
                f"rules must be a list of bearerguard.Rule, got {type(rules).__name__}: "
                "e.g. rules=[Rule('/api/public', public=True)].",
                setting="rules",
            )
        public_by_default = switch(public_by_default, "public_by_default")
        self._rules: tuple[Rule, ...] = tuple(rules)
        for rule in self._rules:
            if not isinstance(rule, Rule):
                raise ConfigurationError(f"Rules must be bearerguard.Rule objects, got {rule!r}.")
        self._default = Rule("/{path:path}", public=public_by_default)
        # The answers for the (method, path) pairs seen lately: an API's requests hit a few
        # routes over and over. Paths come from clients, hence the bound.
        self._matched: dict[tuple[str, str], Rule] = {}

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every scope a rule requires (all-of and any-of alike), once each, in rule order:
        what the resource's metadata lists as ``scopes_supported`` when none is configured.

        Example::

            RuleTable([Rule("/a", "read:a"), Rule("/b", "read:a", "write:b")]).scopes
            # ('read:a', 'write:b')
        """
        return tuple(dict.fromkeys(scope for rule in self._rules for scope in rule.scopes))

    def match(self, method: str, path: str) -> Rule:
        """The first rule covering ``method`` and ``path``, else the default rule."""
        request = (method, path)
        rule = self._matched.get(request)
        if rule is None:
            rule = self._first_match(method, path)
            if len(self._matched) >= _MAX_MATCHED:
                self._matched.clear()  # that many distinct paths: start afresh
            self._matched[request] = rule
        return rule

    def _first_match(self, method: str, path: str) -> Rule:
        method = method.upper()
        if "//" in path:
            # Servers pass "//api//contacts" through; frameworks often route it as
            # "/api/contacts", so the rule must see the same path.
            path = _REPEATED_SLASHES.sub("/", path)
        for rule in self._rules:
            if rule.matches(method, path):
                return rule
        return self._default


def _compile(pattern: str) -> re.Pattern[str]:
    if "{" in _PARAMETER.sub("", pattern) or "}" in _PARAMETER.sub("", pattern):
        raise ConfigurationError(
            f"Rule pattern {pattern!r}: parameters look like {{name}} or {{name:path}}."
        )
    regex, position = [], 0
    for parameter in _PARAMETER.finditer(pattern):
        regex.append(re.escape(pattern[position : parameter.start()]))
        regex.append(".*" if parameter.group(2) else "[^/]+")
        position = parameter.end()
    tail = pattern[position:]
    regex.append(re.escape(tail.rstrip("/")) if len(pattern) > 1 else "")
    return re.compile("".join(regex) + "/?")
