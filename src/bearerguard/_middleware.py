"""What the ASGI and WSGI middlewares share: which rule applies, who may pass, the refusal.

Pure: no framework and no I/O. Each middleware reads its request, verifies the
token with its own driver (``aauthenticate`` or ``authenticate``) and lets
:class:`Guard` decide everything else, so both decide alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._errors import BearerError
from ._metadata_route import MetadataRoute
from ._rules import Rule, RuleTable
from ._token import AccessToken
from ._verifier import verifier_argument

if TYPE_CHECKING:
    from ._verifier import Verifier

__all__ = ["ACCESS_TOKEN_KEY", "Guard", "Guarded", "refusal", "token_in"]

App = TypeVar("App")

# Where the middlewares put the verified token: a key of the ASGI scope or WSGI environ.
ACCESS_TOKEN_KEY = "bearerguard.access_token"


class Guard:
    """A rule table plus the verifier's realm: the decisions both middlewares make."""

    __slots__ = ("_missing", "_table")

    def __init__(
        self, verifier: Verifier, rules: Iterable[Rule], *, public_by_default: bool
    ) -> None:
        self._table = RuleTable(rules, public_by_default=public_by_default)
        self._missing = verifier.missing_token  # the challenges of each accepted scheme

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes the rules require."""
        return self._table.scopes

    def rule_for(self, method: str, path: str, *, preflight: bool) -> Rule | None:
        """The rule the request must satisfy, or ``None`` when it passes unchecked.

        ``preflight`` says the request carries ``Access-Control-Request-Method``.
        """
        if preflight and method.upper() == "OPTIONS":
            # A CORS preflight never carries credentials (Fetch standard, CORS-preflight
            # request): refusing it would fail every cross-origin call before it starts.
            return None
        rule = self._table.match(method, path)
        return None if rule.public else rule

    def admit(self, rule: Rule, token: AccessToken | None) -> AccessToken | None:
        """The token the request passes with (``None`` on an optional rule), or raise.

        ``token`` is what ``Verifier.authenticate`` returned: ``None`` when the
        request carries no bearer credentials, refused with a challenge naming the
        rule's scopes.
        """
        if token is None:
            if rule.optional:
                return None
            raise self._missing(rule.scopes)  # the challenges name the scopes it needs
        rule.authorize(token)
        return token


class Guarded(Generic[App]):
    """What the ASGI and the WSGI middleware hold: the app they wrap, the verifier, the rules,
    what the verifier reads of a request (DPoP, a client certificate) and, when it has a
    resource, the route of its RFC 9728 metadata (its ``scopes_supported``, unless
    configured, are the rules' scopes)."""

    def __init__(
        self,
        app: App,
        *,
        verifier: Verifier,
        rules: Iterable[Rule] = (),
        public_by_default: bool = False,
    ) -> None:
        self.app = app
        self.verifier = verifier_argument(verifier, "BearerMiddleware(verifier=...)")
        self._guard = Guard(self.verifier, rules, public_by_default=public_by_default)
        self._dpop = self.verifier.config.dpop  # whether a request may be DPoP-bound
        # Where requests carry a client certificate (RFC 8705), if the verifier reads one.
        self._certificates = self.verifier.config.certificate_source
        self._whole = self.verifier.config.whole_requests
        self._metadata = MetadataRoute.of(self.verifier, self._guard.scopes)


def refusal(exc: BearerError) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body answering ``exc``: only what the error itself says."""
    body = exc.json_body()
    headers = [
        *exc.headers.items(),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
    ]
    return exc.status_code, headers, body


def token_in(request: Mapping[str, Any]) -> AccessToken | None:
    """The token a middleware stored in an ASGI scope or WSGI environ, else ``None``."""
    token = request.get(ACCESS_TOKEN_KEY)
    return token if isinstance(token, AccessToken) else None
