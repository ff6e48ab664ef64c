"""The URL a DPoP proof names (``htu``) and the URL of the request, in one comparable form.

RFC 9449 §4.3 (check 9) compares the ``htu`` claim with the request's URI
"without query and fragment parts", after the normalisation of RFC 3986 §6.2.2
(syntax: case of the scheme, the host and percent-encodings; unreserved
characters decoded; dot segments removed) and §6.2.3 (scheme: the default port
and an empty path). Everything else must be equal, character for character: no
other decoding, no trailing-slash folding, no host aliases.

A URL that is not an absolute ``http``/``https`` URL with a host, or that names
a user (``https://user@host/``: a proof is never about one), has no comparable
form: :func:`comparable_url` returns ``None`` and the comparison fails.

Normalising takes a few regular expressions (about 5 µs a URL), and a client
names the same few URLs in proof after proof: :class:`TargetMemo` remembers the
normal form of the URLs it has seen (bounded), so that the usual comparison is
one or two dictionary lookups.

Example::

    comparable_url("HTTPS://API.Example.com:443/a/./b/../c?x=1#f")
    # 'https://api.example.com/a/c'
    comparable_url("https://api.example.com/%7euser")   # 'https://api.example.com/~user'
"""

from __future__ import annotations

import re

__all__ = ["TargetMemo", "comparable_url", "same_target"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# scheme "://" authority path, then an optional query and fragment (dropped)
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)(?:\?[^#]*)?(?:#.*)?",
    re.DOTALL,
)
# host (a registered name or an IPv6 literal) and an optional port
_AUTHORITY = re.compile(
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::(?P<port>[0-9]*))?"
)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters a path may hold as they are (RFC 3986 pchar and "/"), beside percent-encodings.
_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")
_MAX_LENGTH = 8192


def comparable_url(url: object) -> str | None:
    """``url`` normalised as RFC 3986 §6.2.2-6.2.3 say, without query and fragment; ``None``
    when it is not an absolute http(s) URL without user information."""
    if not isinstance(url, str) or len(url) > _MAX_LENGTH or not url.isascii():
        return None
    found = _URL.fullmatch(url)
    if found is None:
        return None
    scheme = found.group("scheme").lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    authority = _AUTHORITY.fullmatch(found.group("authority"))
    path = found.group("path")
    if authority is None or not _PATH.fullmatch(path):
        return None  # user information, an empty host, a stray character
    host = _normal_percent(authority.group("host"))
    if not host:
        return None
    host = host.lower()
    port = authority.group("port")
    if port:
        number = int(port)
        if number > 65535:
            return None
        port = str(number)  # "08443" is 8443
    netloc = host if not port or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    normal_path = _normal_percent(path)
    if normal_path is None:
        return None
    return f"{scheme}://{netloc}{_without_dot_segments(normal_path) or '/'}"


def same_target(htu: object, request_url: str) -> bool:
    """Whether a proof's ``htu`` names the request's URL (both normalised, then equal)."""
    mine = comparable_url(request_url)
    return mine is not None and comparable_url(htu) == mine


class TargetMemo:
    """:func:`same_target` that remembers the normal form of the URLs it has seen.

    The memo holds at most ``max_entries`` URLs (without query and fragment, which
    the comparison ignores anyway) and is cleared when full: its keys come from
    clients, so it must stay bounded, and a flood of new URLs costs each one what an
    unremembered comparison costs. It remembers the answer of :func:`comparable_url`,
    never a verdict, so the comparison is exactly :func:`same_target`'s.

    Example::

        targets = TargetMemo()
        targets.same_target("https://API.example.com/a", "https://api.example.com/a?b=1")  # True
    """

    __slots__ = ("_forms", "max_entries")

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._forms: dict[str, str | None] = {}

    def same_target(self, htu: object, request_url: str) -> bool:
        """Whether a proof's ``htu`` names the request's URL (both normalised, then equal)."""
        # A request URL the memo holds as it is (no query, no fragment: keys have none)
        # passed the checks of comparable() when it was stored: its form in one lookup.
        mine = self._forms.get(request_url)
        if mine is None:
            mine = self.comparable(request_url)
            if mine is None:
                return False
        # The usual proof names the very URL the request has: one lookup settles it.
        return htu == request_url or self.comparable(htu) == mine

    def comparable(self, url: object) -> str | None:
        """:func:`comparable_url` of ``url``, from the memo when it was seen before."""
        if type(url) is not str or len(url) > _MAX_LENGTH or not url.isascii():
            return comparable_url(url)  # refused whole, before any memo
        # The query and fragment play no part in the normal form (whatever they hold, once
        # the checks above passed): a URL is remembered without them, so that a route
        # called with ever new queries is one entry.
        if "?" in url or "#" in url:
            url = _QUERY_OR_FRAGMENT.split(url, 1)[0]
        forms = self._forms
        form = forms.get(url, _UNSEEN)
        if form is _UNSEEN:
            form = comparable_url(url)
            if len(forms) >= self.max_entries:
                forms.clear()
            forms[url] = form
        return form  # type: ignore[return-value]  # a str or None once seen

    def __len__(self) -> int:
        return len(self._forms)


_UNSEEN = object()
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")


def _normal_percent(text: str) -> str | None:
    """Percent-encodings in upper case, those of unreserved characters decoded (§6.2.2.1-2);
    ``None`` for a ``%`` that starts no encoding."""
    if text.count("%") != len(_PERCENT.findall(text)):
        return None

    def normal(match: re.Match[str]) -> str:
        character = chr(int(match.group(1), 16))
        return character if character in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(normal, text)


def _without_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, on segments: "." dropped, ".." drops the segment before it."""
    if "." not in path:
        return path
    segments = path.split("/")
    kept: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                kept.append("")
        elif segment == "..":
            if len(kept) > 1:
                kept.pop()
            if last:
                kept.append("")
        else:
            kept.append(segment)
    result = "/".join(kept)
    return result if result.startswith("/") or not path.startswith("/") else "/" + result
