"""AccessToken: a frozen, read-only view of a verified access token."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from ._coerce import LISTS
from ._errors import DEFAULT_REALM, SCOPE_TOKEN, ConfigurationError, InsufficientScopeError
from ._scopes import ScopeHierarchy

__all__ = ["AccessToken", "RequiredScopes", "scope_names", "verified_token"]

_from_timestamp, _UTC = datetime.fromtimestamp, timezone.utc


@dataclass(frozen=True, slots=True, eq=False)
class AccessToken:
    """A verified access token: who it is for, what it may do, and all its claims.

    Example::

        token = verifier.verify(raw)
        token.subject                       # 'auth0|123'
        token.scopes                        # frozenset({'read:contacts'})
        token.require_scopes("read:contacts")
        token.claim("roles", namespace="https://example.com/")   # ['admin']
    """

    claims: Mapping[str, Any]
    header: Mapping[str, Any]
    scopes: frozenset[str]
    issuer: str
    audience: tuple[str, ...]
    subject: str | None
    raw: str = field(repr=False)
    realm: str = field(default=DEFAULT_REALM, repr=False)
    #: the verifier's RFC 9728 metadata URL, for the challenge of a 403 (None: no resource)
    resource_metadata: str | None = field(default=None, repr=False)
    #: the verifier's scope hierarchy (its ``scope_implications``), None without one
    scope_hierarchy: ScopeHierarchy | None = field(default=None, repr=False)

    # Read from the claims when asked for rather than built for every token: most
    # requests never look, and two datetimes per verification cost as much as a tenth
    # of what the verifier adds to the signature check.
    @property
    def expires_at(self) -> datetime:
        """When the token expires: its ``exp`` claim as an aware datetime in UTC.

        Every verified token has one; an ``AccessToken`` built by hand without ``exp``
        raises ``KeyError`` here.
        """
        return _from_timestamp(self.claims["exp"], _UTC)

    @property
    def issued_at(self) -> datetime | None:
        """When the token was issued (its ``iat`` claim, in UTC), ``None`` without one."""
        issued = self.claims.get("iat")
        return None if issued is None else _from_timestamp(issued, _UTC)

    @property
    def confirmation(self) -> Mapping[str, Any] | None:
        """The ``cnf`` claim (RFC 7800), read-only: the key the token is bound to, else ``None``.

        ``{"jkt": ...}`` for a DPoP-bound token (RFC 9449), ``{"x5t#S256": ...}`` for a
        certificate-bound one (RFC 8705). A bearer token has none.
        """
        cnf = self.claims.get("cnf")
        return cnf if isinstance(cnf, Mapping) else None

    @property
    def effective_scopes(self) -> frozenset[str]:
        """Every scope the token grants: its own :attr:`scopes` and, under the verifier's
        ``scope_implications``, each narrower scope they imply.

        What requirement checks compare with; :attr:`scopes` stays what the token says.
        Without ``scope_implications`` the two are the same set.

        Example::

            # Verifier(..., scope_implications={"admin": ["read:contacts"]})
            token.scopes             # frozenset({'admin'})
            token.effective_scopes   # frozenset({'admin', 'read:contacts'})
        """
        hierarchy = self.scope_hierarchy
        return self.scopes if hierarchy is None else hierarchy.expand(self.scopes)

    @property
    def client_id(self) -> str | None:
        """The OAuth client the token was issued to (``client_id``, or Auth0's ``azp``)."""
        value = self.claims.get("client_id", self.claims.get("azp"))
        return value if isinstance(value, str) else None

    def has_scopes(self, *scopes: str, any_of: bool = False) -> bool:
        """Whether the token grants all of ``scopes`` (or, with ``any_of=True``, at least one).

        Requiring nothing is always satisfied. Scopes match exactly and
        case-sensitively, as RFC 6749 §3.3 says; a scope the token lacks is also
        granted by a broader one it holds that the verifier's ``scope_implications``
        say implies it (see :attr:`effective_scopes`).

        Example::

            token.has_scopes("read:contacts", "write:contacts")
            token.has_scopes("admin", "read:contacts", any_of=True)
        """
        return RequiredScopes(scopes, any_of=any_of).granted_by(self)

    def require_scopes(self, *scopes: str, any_of: bool = False) -> None:
        """Raise :class:`InsufficientScopeError` (403) unless :meth:`has_scopes` holds.

        Example::

            token.require_scopes("read:contacts")   # raises InsufficientScopeError
        """
        RequiredScopes(scopes, any_of=any_of).enforce(self)

    def claim(self, name: str, *, namespace: str | None = None, default: Any = None) -> Any:
        """A claim by name, optionally under a namespace such as ``https://example.com/``.

        Auth0 requires custom claims to be namespaced URLs; a namespace without a
        trailing slash gets one.

        Example::

            token.claim("email", namespace="https://example.com")
            # reads claims["https://example.com/email"]
        """
        if namespace:
            name = (namespace if namespace.endswith("/") else namespace + "/") + name
        return self.claims.get(name, default)


class RequiredScopes:
    """The scopes a route requires: names checked once, where the route is declared.

    What adapters hold for each guarded route, so a request only compares sets;
    the answer is exactly :meth:`AccessToken.require_scopes`'.

    Example::

        needed = RequiredScopes(("read:contacts",))     # ConfigurationError if malformed
        needed.enforce(token)                           # InsufficientScopeError (403)
    """

    __slots__ = ("_set", "any_of", "names")

    def __init__(self, names: str | Iterable[str], *, any_of: bool = False) -> None:
        if isinstance(names, str):  # one scope, not its letters
            names = (names,)
        elif not isinstance(names, LISTS):
            raise ConfigurationError(
                f"Required scopes must be a list of scope names, got {type(names).__name__}: "
                "e.g. ['read:contacts'].",
                setting="scopes",
            )
        self.names = scope_names(tuple(names))
        self.any_of = any_of
        self._set = frozenset(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)

    def granted_by(self, token: AccessToken) -> bool:
        """Whether ``token`` grants them (requiring nothing is always granted): each
        needed scope held, or implied by a held one under the verifier's hierarchy."""
        needed = self._set
        if not needed:
            return True
        # Held as such: the usual answer, given before any hierarchy is consulted (and
        # written without locals: this is every guarded request's path).
        if self.any_of:
            if not token.scopes.isdisjoint(needed):
                return True
        elif needed <= token.scopes:
            return True
        hierarchy = token.scope_hierarchy
        return hierarchy is not None and hierarchy.grants(token.scopes, needed, any_of=self.any_of)

    def enforce(self, token: AccessToken) -> None:
        """Raise :class:`InsufficientScopeError` (403) unless ``token`` grants them."""
        if not self.granted_by(token):
            raise self.refusal(token)

    def refusal(self, token: AccessToken) -> InsufficientScopeError:
        """The 403 that refuses ``token`` for want of these scopes: all of them named, in
        the token's realm, with its resource's metadata URL."""
        error = InsufficientScopeError(self.names, any_of=self.any_of, realm=token.realm)
        error.with_resource_metadata(token.resource_metadata)
        return error


# The slots' own setters: a frozen dataclass' __init__ goes through object.__setattr__
# once per field, which costs the hot path about a microsecond per token.
_FIELDS: tuple[str, ...] = ("claims", "header", "scopes", "issuer", "audience", "subject")
_FIELDS += ("raw", "realm", "resource_metadata", "scope_hierarchy")
if {f.name for f in fields(AccessToken)} != set(_FIELDS):  # pragma: no cover - a new field
    raise RuntimeError("verified_token() must set every field of AccessToken")
_new = object.__new__
(
    _set_claims,
    _set_header,
    _set_scopes,
    _set_issuer,
    _set_audience,
    _set_subject,
    _set_raw,
    _set_realm,
    _set_resource_metadata,
    _set_scope_hierarchy,
) = (getattr(AccessToken, name).__set__ for name in _FIELDS)


def verified_token(  # noqa: PLR0917 - positional on purpose: called once per new token
    claims: Mapping[str, Any],
    header: Mapping[str, Any],
    scopes: frozenset[str],
    issuer: str,
    audience: tuple[str, ...],
    subject: str | None,
    raw: str,
    realm: str,
    resource_metadata: str | None = None,
    scope_hierarchy: ScopeHierarchy | None = None,
) -> AccessToken:
    """``AccessToken(...)`` for the verifier's hot path: the same frozen object, built faster."""
    token: AccessToken = _new(AccessToken)
    _set_claims(token, claims)
    _set_header(token, header)
    _set_scopes(token, scopes)
    _set_issuer(token, issuer)
    _set_audience(token, audience)
    _set_subject(token, subject)
    _set_raw(token, raw)
    _set_realm(token, realm)
    _set_resource_metadata(token, resource_metadata)
    _set_scope_hierarchy(token, scope_hierarchy)
    return token


# Scope names already found valid: apps require the same few on every request. Bounded, so
# that names built from request data cannot grow it without limit.
_VALID_SCOPE_NAMES: set[str] = set()
_MAX_VALID_SCOPE_NAMES = 4096


def scope_names(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """Check required scope names: non-empty RFC 6749 scope tokens, nothing else."""
    for scope in scopes:
        if type(scope) is str and scope in _VALID_SCOPE_NAMES:
            continue
        if not isinstance(scope, str) or not SCOPE_TOKEN.fullmatch(scope):
            raise ConfigurationError(
                f"{scope!r} is not a scope name: scopes are non-empty and contain no spaces, "
                "quotes or backslashes (RFC 6749 §3.3). Pass each scope as its own argument."
            )
        if len(_VALID_SCOPE_NAMES) < _MAX_VALID_SCOPE_NAMES:
            _VALID_SCOPE_NAMES.add(scope)
    return scopes
