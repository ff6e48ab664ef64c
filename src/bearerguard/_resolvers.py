"""Trusted issuers resolved at run time: ``issuer=`` a function of the ``iss``, and
``issuer_for_request=`` a function of the request.

``issuer=`` may be a predicate over the unverified ``iss`` (e.g. the tenants of one
domain pattern). The ``iss`` is an attacker's string, so the predicate is only ever
asked about a sound issuer URL, in its normal form (:func:`~._issuers.issuer_key`:
lower-case scheme and host, no default port, ``/`` for an empty path): at most
:data:`MAX_ISSUER_LENGTH` characters, https (http for loopback hosts only), a host
that is a DNS name or an IP literal, no credentials, query or fragment, a path of URI
characters. Anything else is refused without asking. A predicate that raises, or
answers anything but ``True``/``False``/``None`` (or a regular-expression match, as
``PATTERN.fullmatch(iss)`` returns), refuses the token, and the verifier logs why:
never a 500. Its ``True`` is remembered per spelling (bounded), so a known issuer
costs one dict lookup, as a configured one does; what is remembered is the predicate's
answer, so it describes who may be trusted, not a revocation list.

``issuer_for_request=`` returns, for an :class:`~._request.HttpRequest`, the issuers
trusted for that request (a string, a list of them, or ``None`` for none). It narrows
``issuer=``, which stays the bound of what may ever be trusted: an issuer it returns
that ``issuer=`` does not trust refuses the request, so that a function reading the
``Host`` header cannot be talked into trusting an attacker's issuer. It applies on the
request-bound paths only (``verify_request``, ``authenticate_request``); a verifier
that has one refuses a token given without its request (:data:`WITHOUT_REQUEST`).

Pure: no I/O, no logging (refusals carry a ``hint`` the verifier logs).

Example::

    TENANT = re.compile(r"https://[a-z0-9-]{1,63}\\.eu\\.auth0\\.com/")
    Verifier(issuer=lambda iss: TENANT.fullmatch(iss) is not None, audience=...)
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._coerce import LISTS
from ._errors import ConfigurationError, InvalidIssuerError
from ._issuers import IssuerIndex, UrlIndex, issuer_key, normalize_issuer
from ._urls import is_loopback_host

if TYPE_CHECKING:
    from ._request import HttpRequest

__all__ = [
    "MAX_ISSUER_LENGTH",
    "WITHOUT_REQUEST",
    "IssuerPattern",
    "RequestIssuers",
    "RequestResolver",
    "as_predicate",
    "check_issuer_for_request",
]

#: the longest ``iss`` a predicate is asked about; longer ones are refused unasked
MAX_ISSUER_LENGTH = 512
_MEMO_SIZE = 4096  # accepted spellings remembered, then forgotten all at once
_REQUEST_MEMO_SIZE = 256  # answers of issuer_for_request remembered, likewise
# After issuer_key: a lower-case DNS name or IPv4 address (a trailing dot kept), or an IPv6
# literal in brackets, then an optional port; the path in RFC 3986 pchar and "/".
_SOUND_ISSUER = re.compile(
    r"https?://(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9.])?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?"
    r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*"
)
_PREDICATE_HINT = (
    "The issuer= function {what} for a token's issuer, so the token was refused; it must "
    "return True (or a match object) to trust the issuer it is given, False or None not to, "
    "and never raise."
)


class IssuerPattern(IssuerIndex):
    """The trusted issuers when ``issuer=`` is a predicate: those it accepts, and the ones
    named in the configuration (``keys=``, ``jwks_uri=``, ``authorization_servers=``), which
    it must accept too.

    :meth:`find` asks the predicate about a spelling it has not seen (never raising), and
    remembers the spellings it trusted in :attr:`spellings`, which the flow reads first.

    Example::

        index = IssuerPattern(lambda iss: iss == "https://a.example/", ())
        index.find("HTTPS://A.example")    # 'https://a.example/'
        index.find("https://b.example/")   # None
    """

    __slots__ = ("_named", "predicate")

    def __init__(self, predicate: Callable[[str], object], named: Iterable[str]) -> None:
        self.predicate = predicate
        normal = []
        for name in named:
            issuer, reason, _ = self.judge(name)
            if issuer is None:
                raise ConfigurationError(
                    f"The issuer= function does not trust {name!r}, which the configuration "
                    f"names ({reason}): make it accept that issuer, or drop the setting that "
                    "names it.",
                    setting="issuer",
                )
            normal.append(issuer)
        super().__init__(normal)
        self._named = dict(self.spellings)  # what spellings is reset to when it is full

    def find(self, value: str) -> str | None:
        try:
            return self.resolve(value)
        except InvalidIssuerError:
            return None

    def resolve(self, value: str) -> str:
        """The issuer ``value`` names (a named one, or the normal form of one the predicate
        trusts); else the refusal, saying why, with a hint for the log when the predicate
        itself misbehaved. The predicate is asked once per spelling it trusts."""
        found = self.spellings.get(value)
        if found is not None:
            return found
        found = UrlIndex.find(self, value)  # a rarer spelling of a named issuer
        if found is not None:
            return found
        issuer, reason, hint = self.judge(value)
        if issuer is None:
            error = InvalidIssuerError(reason=reason)
            error.hint = hint
            raise error
        if len(self.spellings) >= _MEMO_SIZE:
            # Spellings of trusted issuers only, yet an attacker may vary the letter case of
            # one: bounded, and rebuilt from the named issuers when full.
            self.spellings = dict(self._named)
        self.spellings[value] = issuer
        return issuer

    def judge(self, value: str) -> tuple[str | None, str, str | None]:
        """``(issuer, reason, hint)``: the normal form when the predicate trusts ``value``;
        else ``None``, why, and what to fix when the predicate misbehaved."""
        if len(value) > MAX_ISSUER_LENGTH:
            return None, f"The iss claim is longer than {MAX_ISSUER_LENGTH} characters.", None
        key = issuer_key(value)
        if key is None or not _SOUND_ISSUER.fullmatch(key):
            return None, _NOT_A_URL, None
        if key.startswith("http:") and not is_loopback_host(urlsplit(key).hostname or ""):
            return None, "The iss claim uses plain http, allowed for loopback hosts only.", None
        try:
            answer = self.predicate(key)
        except Exception as exc:  # the application's code: a refusal, never a 500
            what = f"raised {type(exc).__name__}"
            return None, f"The issuer= function {what}.", _PREDICATE_HINT.format(what=what)
        if answer is True or isinstance(answer, re.Match):
            return key, "", None
        if answer is False or answer is None:
            return None, "The issuer= function does not trust the token's issuer.", None
        what = f"returned a {type(answer).__name__}"
        return None, f"The issuer= function {what}.", _PREDICATE_HINT.format(what=what)


_NOT_A_URL = (
    "The iss claim is not an issuer URL the issuer= function is asked about: https (http for "
    "loopback hosts), a DNS name or IP address, no credentials, query or fragment."
)


_NONE_FOR_REQUEST = "issuer_for_request= trusts no issuer for this request."


class RequestIssuers:
    """The issuers trusted for one request (:class:`RequestResolver`), or why none is.

    Example::

        trusted = RequestIssuers(("https://login.brand-a.com/",))
        trusted.check("https://login.brand-a.com/")   # passes
        trusted.admits("HTTPS://login.brand-a.com")   # True: a spelling of it
    """

    __slots__ = ("_index", "hint", "names", "reason")

    def __init__(
        self, names: tuple[str, ...], *, reason: str | None = None, hint: str | None = None
    ) -> None:
        #: the configured names (normal forms) of the issuers trusted for the request
        self.names = frozenset(names)
        self._index = UrlIndex(names)
        self.reason = reason or (
            "The token's issuer is trusted, but not for this request (issuer_for_request=)."
        )
        self.hint = hint

    def check(self, issuer: str) -> None:
        """Refuse (401) unless ``issuer``, a configured issuer's name, is trusted here."""
        if issuer not in self.names:
            error = InvalidIssuerError(reason=self.reason)
            error.hint = self.hint
            raise error

    def admits(self, iss: str) -> bool:
        """Whether a verified token's own ``iss`` (any spelling) is trusted here."""
        return self._index.find(iss) is not None


#: what a verifier with issuer_for_request= judges a token by when it has no request
WITHOUT_REQUEST = RequestIssuers(
    (),
    reason="This verifier trusts issuers per request (issuer_for_request=), and the token "
    "came without its request: use verify_request() or authenticate_request().",
    hint="A verifier with issuer_for_request= refuses every token given without its request "
    "(verify(), verify_authorization(), authenticate()): call verify_request(HttpRequest(...)) "
    "or its async twin, as the adapters do for the requests they send whole.",
)


class RequestResolver:
    """``issuer_for_request=``: the issuers trusted for a request, within ``issuer=``.

    Its answers are remembered per value (bounded), so a function that returns one of a
    few strings or lists costs a call and a dict lookup per request.

    Example::

        resolver = RequestResolver(lambda request: DOMAINS.get(host_of(request)), index)
        resolver.resolve(request).check(issuer)
    """

    __slots__ = ("_answers", "function", "index")

    def __init__(self, function: Callable[[HttpRequest], object], index: IssuerIndex) -> None:
        self.function = function
        self.index = index
        self._answers: dict[object, RequestIssuers] = {}

    def resolve(self, request: HttpRequest) -> RequestIssuers:
        """The issuers trusted for ``request``; a :class:`RequestIssuers` trusting none (and
        saying why) when the function raised or answered something else than issuers."""
        try:
            answer = self.function(request)
        except Exception as exc:  # the application's code: a refusal, never a 500
            return _misbehaved(f"raised {type(exc).__name__}")
        if inspect.isawaitable(answer):
            if inspect.iscoroutine(answer):
                answer.close()  # never awaited: say so rather than warn about it
            return _misbehaved("returned an awaitable (it must be a plain function)")
        if answer is None or isinstance(answer, str):
            key: object = answer
        elif isinstance(answer, (list, tuple)):
            key = tuple(answer)
        elif isinstance(answer, (set, frozenset)):
            key = frozenset(answer)
        else:
            return _misbehaved(f"returned a {type(answer).__name__}")
        try:
            known = self._answers.get(key)
        except TypeError:  # an unhashable item: refused below
            known = None
        if known is None:
            known = self._judged(key)
            if len(self._answers) >= _REQUEST_MEMO_SIZE:
                self._answers = {}
            with contextlib.suppress(TypeError):  # an unhashable answer: not remembered
                self._answers[key] = known
        return known

    def _judged(self, answer: object) -> RequestIssuers:
        items: tuple[object, ...]
        if answer is None:
            items = ()
        elif isinstance(answer, str):
            items = (answer,)
        else:
            assert isinstance(answer, (tuple, frozenset))  # noqa: S101 - resolve() made it so
            items = tuple(sorted(answer, key=repr)) if isinstance(answer, frozenset) else answer
        if not items:
            return RequestIssuers((), reason=_NONE_FOR_REQUEST)
        names: list[str] = []
        for item in items:
            if not isinstance(item, str):
                return _misbehaved(f"returned a {type(item).__name__} among the issuers")
            try:
                normal = normalize_issuer(item, setting="issuer_for_request")
            except ConfigurationError as exc:
                return _misbehaved("returned a string that is no issuer URL", f" ({exc})")
            configured = self.index.find(normal)
            if configured is None:
                return _misbehaved(
                    "returned an issuer that issuer= does not trust",
                    f" ({item[:100]!r}: add it to issuer=, which it only narrows)",
                )
            names.append(configured)
        return RequestIssuers(tuple(names))


def _misbehaved(what: str, detail: str = "") -> RequestIssuers:
    return RequestIssuers(
        (),
        reason=f"issuer_for_request= {what}; the request is refused.",
        hint=f"issuer_for_request= {what}{detail}, so the request was refused; it must return the "
        "issuers trusted for the request (a string, a list of them, or None for none) and "
        "never raise.",
    )


def check_issuer_for_request(value: object) -> Callable[[HttpRequest], object] | None:
    """The ``issuer_for_request`` setting: ``None``, or a function of the request."""
    function = _function(value)
    if function is not None or value is None:
        return function
    raise ConfigurationError(
        f"issuer_for_request must be a function of the request returning the issuers trusted "
        f"for it (a string, a list, or None), got {type(value).__name__}: e.g. "
        "issuer_for_request=lambda request: DOMAINS.get(urlsplit(request.url).hostname).",
        setting="issuer_for_request",
    )


def as_predicate(value: object) -> Callable[[str], object] | None:
    """``issuer=`` as a predicate, if it is a function; ``None`` for strings and lists."""
    return _function(value)


def _function(value: object) -> Callable[..., object] | None:
    """``value`` if it is a function (its signature is the user's), else ``None``: a string, a
    mapping or a list is a setting of another form, callable or not."""
    if callable(value) and not isinstance(value, (str, Mapping, *LISTS)):
        return value
    return None
