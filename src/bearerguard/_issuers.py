"""Issuer URLs: how a setting becomes an issuer, and when two issuer (or audience) strings
are the same.

RFC 7519 §4.1.1 makes ``iss`` a case-sensitive string, yet a URL names the same
resource under a few spellings that RFC 3986 declares equivalent and no one could
tell apart: the scheme and host are case-insensitive (§6.2.2.1), an empty path is
``/`` for http(s) (§6.2.3), and so is a port equal to the scheme's default (§6.2.3).
Auth0 writes ``https://tenant.auth0.com/``; most tutorials configure
``https://tenant.auth0.com``. Those are the same issuer, and treating them so
trusts no one new: every spelling reaches the very same server and key set.

Audiences that are URLs (an API identifier, an RFC 8707 resource such as an MCP
server's URL) compare the same way (:class:`UrlIndex`): they name one server too.

Nothing else is equivalent: path case, any other trailing slash, another port,
percent-encoding, dot segments, a trailing dot on the host all stay exact,
because a server may well treat them as different tenants (Keycloak realms are
case-sensitive paths; ``/realms/a`` and ``/realms/a/`` are different strings to
the provider that issues them).

Pure: no I/O, no logging.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._urls import check_url

__all__ = [
    "IssuerIndex",
    "UrlIndex",
    "issuer_key",
    "near_miss",
    "normalize_issuer",
    "same_issuer",
]

_DEFAULT_PORTS = {"https": 443, "http": 80}
# Hosts an unset variable turns into: f"https://{domain}/" with domain None, a
# JavaScript-minded template's "undefined", a JSON null written as text.
_PLACEHOLDER_HOSTS = frozenset({"none", "null", "undefined", "nil", "nan"})
_UNSET_HINT = (
    "This usually means the variable it was built from is unset (e.g. "
    "f'https://{os.environ.get(\"AUTH0_DOMAIN\")}/' gives 'https://None/'): "
    "set the variable, or write the issuer out, e.g. 'https://your-tenant.auth0.com/'."
)


def normalize_issuer(value: str, *, setting: str = "issuer") -> str:
    """Turn ``tenant.auth0.com`` into ``https://tenant.auth0.com/``; check URLs are usable.

    The result is the URL's normal form (see :func:`issuer_key`): lower-case scheme
    and host, no default port, ``/`` for an empty path. Refuses what can only be a
    mistake: an empty host or a host that an unset variable leaves behind (``None``,
    ``null``, ``undefined``), a doubled scheme (``https://https://...``), plain http to
    anything but loopback.

    Example::

        normalize_issuer("tenant.auth0.com")             # 'https://tenant.auth0.com/'
        normalize_issuer("https://login.example.com/")   # unchanged
        normalize_issuer("HTTPS://Login.Example.com")    # 'https://login.example.com/'
    """
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{setting} must be a string such as 'your-tenant.auth0.com', "
            f"got {type(value).__name__}.",
            setting=setting,
        )
    if not value or value != value.strip():
        raise ConfigurationError(
            f"{setting} {value!r} must be a non-empty string without surrounding spaces. "
            + (_UNSET_HINT if not value.strip() else ""),
            setting=setting,
        )
    if "://" not in value:
        if "/" in value or "?" in value or "#" in value:
            raise ConfigurationError(
                f"{setting} {value!r} looks like a URL without a scheme: write it in full, "
                "e.g. 'https://login.example.com/realms/main'.",
                setting=setting,
            )
        value = f"https://{value}/"
    scheme, _, rest = value.partition("://")
    if rest.lower().startswith(("http:", "https:")):
        raise ConfigurationError(
            f"{setting} {value!r} has its scheme twice: write "
            f"'{scheme}://{rest.split('://', 1)[-1]}' (a variable that already holds "
            "'https://' was put after another 'https://'?).",
            setting=setting,
        )
    host = _host_of(value)
    if host is not None and host.rstrip(".") in _PLACEHOLDER_HOSTS:  # hostname is lower-case
        raise ConfigurationError(
            f"{setting} {value!r} has no real host. {_UNSET_HINT}", setting=setting
        )
    check_url(value, what=setting)
    # Its normal form: the very string the provider's documents are fetched from, and
    # what a FakeIssuer answers for, however the setting spelt scheme, host and port.
    return issuer_key(value) or value


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None  # check_url explains what is wrong with it


def issuer_key(value: str) -> str | None:
    """The form shared by every spelling of an http(s) issuer URL; ``None`` if it has none.

    Lower-case scheme and host, no default port, ``/`` for an empty path; the rest
    exactly as written. Strings that a URL parser would have to repair (spaces,
    control or non-ASCII characters, which ``urlsplit`` silently drops or keeps)
    and URLs with credentials, a query or a fragment have no key: they only ever
    match themselves.

    Example::

        issuer_key("HTTPS://Tenant.Auth0.com:443")   # 'https://tenant.auth0.com/'
        issuer_key("https://x.example/Realms/A/")    # 'https://x.example/Realms/A/'
    """
    if not value.isascii() or any(ch <= " " or ch == "\x7f" for ch in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    default = _DEFAULT_PORTS.get(scheme)
    if (
        default is None
        or not host
        or "@" in parts.netloc
        or "?" in value
        or "#" in value
        or not value[: len(scheme) + 3].lower().endswith("://")
    ):
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is not None and port != default:  # "host:" has no port: the default one
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def same_issuer(one: str, other: str) -> bool:
    """Whether two issuer strings name the same issuer: equal, or equal as URLs.

    Example::

        same_issuer("https://tenant.auth0.com", "https://tenant.auth0.com/")   # True
        same_issuer("https://kc/realms/a", "https://kc/realms/a/")              # False
    """
    if one == other:
        return True
    key = issuer_key(one)
    return key is not None and key == issuer_key(other)


def _spellings(issuer: str) -> set[str]:
    """The spellings of ``issuer`` that providers and configurations actually write:
    known in advance so that the usual token pays one dict lookup, not a URL parse."""
    key = issuer_key(issuer)
    if key is None:
        return {issuer}
    scheme, _, rest = key.partition("://")
    host, _, path = rest.partition("/")  # the key always has a path
    hosts = {host}
    if ":" not in host.rsplit("]", 1)[-1]:  # no port other than the default one
        hosts.add(f"{host}:{_DEFAULT_PORTS[scheme]}")
    spellings = {issuer, key}
    for spelled_host in hosts:
        spellings.add(f"{scheme}://{spelled_host}/{path}")
        if not path:
            spellings.add(f"{scheme}://{spelled_host}")
    return spellings


class UrlIndex:
    """Configured names, found by any spelling RFC 3986 makes equivalent to one of them.

    What issuers and audiences share: a name that is an http(s) URL matches its
    equivalent spellings (see :func:`issuer_key`); any other name (an audience such
    as ``urn:my-api``) matches itself only.

    Example::

        index = UrlIndex(["https://api.example.com/mcp", "urn:my-api"])
        index.find("HTTPS://API.example.com:443/mcp")   # 'https://api.example.com/mcp'
        index.find("https://api.example.com/mcp/")      # None: another path
    """

    __slots__ = ("_by_key", "_hosts", "names", "spellings")

    def __init__(self, names: Iterable[str]) -> None:
        by_key: dict[str, str] = {}
        kept: list[str] = []
        for name in names:
            key = issuer_key(name) or name
            if key in by_key:
                continue  # an equivalent spelling of one already configured
            by_key[key] = name
            kept.append(name)
        self.names: tuple[str, ...] = tuple(kept)
        self._by_key: Mapping[str, str] = MappingProxyType(by_key)
        # The hosts of the URL-shaped names: a value that does not contain one (in any
        # case) cannot be a spelling of them, and is turned away without a URL parse, so
        # that a token listing thousands of other audiences costs no more than a scan.
        self._hosts: tuple[str, ...] = tuple(
            {host for key in by_key if (host := _host_of(key)) is not None}
        )
        # The usual spellings -> configured name, read on every token (one dict lookup:
        # see _claims.unverified_issuer and the aud check). A plain dict: a lookup through
        # a MappingProxyType costs a third more. Nothing writes to it after this.
        self.spellings: dict[str, str] = {
            spelling: name for name in kept for spelling in _spellings(name)
        }

    def find(self, value: str) -> str | None:
        """The configured name ``value`` is a spelling of, else ``None``."""
        found = self.spellings.get(value)
        if found is not None:
            return found
        lowered = value.lower()
        if not any(host in lowered for host in self._hosts):
            return None
        key = issuer_key(value)
        return None if key is None else self._by_key.get(key)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self.find(value) is not None


class IssuerIndex(UrlIndex):
    """The configured issuers, looked up by any equivalent spelling.

    Example::

        index = IssuerIndex(["https://tenant.auth0.com"])
        index.find("https://tenant.auth0.com/")   # 'https://tenant.auth0.com'
        index.find("https://tenant.auth0.com/x")  # None
    """

    __slots__ = ()

    @property
    def issuers(self) -> tuple[str, ...]:
        """The configured issuers, one per equivalence class, in the order given."""
        return self.names


def near_miss(value: str, issuers: Iterable[str]) -> tuple[str, str] | None:
    """A configured issuer that ``value`` differs from only by its scheme, host case, a
    trailing slash or its port, with what differs; ``None`` if there is none.

    A token from such an issuer is refused (the difference may be a different
    tenant), but when *every* token differs that way the configuration is wrong:
    the verifier says so in its log.

    Example::

        near_miss("https://kc.example/realms/a/", ["https://kc.example/realms/a"])
        # ('https://kc.example/realms/a', 'a trailing slash')
    """
    loose = _loose(value)
    if loose is None:
        return None
    for issuer in issuers:
        if _loose(issuer) == loose:
            return issuer, _difference(value, issuer)
    return None


def _loose(value: str) -> tuple[str, str] | None:
    if not value.isascii() or any(ch <= " " for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, (parts.path.rstrip("/") or "")


def _difference(value: str, issuer: str) -> str:
    token, configured = urlsplit(value), urlsplit(issuer)
    differences = []
    if token.scheme.lower() != configured.scheme.lower():
        differences.append(f"its scheme ({token.scheme} vs {configured.scheme})")
    try:
        if token.port != configured.port:
            differences.append("its port")
    except ValueError:
        differences.append("its port")
    if token.path != configured.path:
        differences.append("a trailing slash")
    if token.hostname and token.netloc.split(":")[0] != configured.netloc.split(":")[0]:
        differences.append("the case of its host")
    return " and ".join(differences) or "its spelling"
