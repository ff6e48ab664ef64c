"""URLs: https required, plain http for loopback development hosts only; RFC 8707 resources;
the pages a person is sent to (documentation links)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ._errors import ConfigurationError

__all__ = ["check_page_url", "check_url", "is_loopback_host", "resource_problem"]

# RFC 3986 §4.3 absolute-URI: a scheme and a colon, then URI characters (anything else
# percent-encoded) and no fragment, since "#" is none of the characters allowed here.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_URI_REST = re.compile(r"(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def check_url(url: str, *, what: str) -> None:
    """Require ``https``, or ``http`` for loopback hosts only; no credentials, query or fragment."""
    if not isinstance(url, str):
        raise ConfigurationError(
            f"{what} must be a URL string, got {type(url).__name__}.", setting=what
        )
    # urlsplit is lenient: it keeps spaces and control characters that no URL may carry.
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise ConfigurationError(
            f"{what} {url!r} contains spaces or control characters.", setting=what
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigurationError(f"{what} {url!r} is not a valid URL.", setting=what) from exc
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError(
            f"{what} {url!r} must be an https:// URL with a host.", setting=what
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"{what} {url!r} must use https://; plain http is allowed only for loopback hosts "
            "(127.0.0.0/8, ::1, localhost) during development.",
            setting=what,
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{what} {url!r} must not carry credentials, a query or a fragment.", setting=what
        )


def check_page_url(url: str, *, what: str) -> None:
    """A page people read (documentation): :func:`check_url`'s rules, but a query and a
    fragment (``#authentication``) are fine, in valid URI syntax (RFC 3986).

    Example::

        check_page_url("https://docs.example.com/api#auth", what="resource_documentation")
    """
    if not isinstance(url, str):
        raise ConfigurationError(
            f"{what} must be a URL string, got {type(url).__name__}.", setting=what
        )
    # The page's address without its query and fragment must be a URL check_url accepts.
    address = url.split("#", 1)[0].split("?", 1)[0]
    check_url(address, what=what)
    scheme = _SCHEME.match(url)
    if scheme is None or not _URI_REST.fullmatch(url.replace("#", "/", 1), scheme.end()):
        raise ConfigurationError(
            f"{what} {url!r} is not a valid URL: spaces, quotes and characters such as "
            "< > { } | \\ ^ ` must be percent-encoded (RFC 3986).",
            setting=what,
        )


def is_loopback_host(host: str) -> bool:
    """``localhost``, any of 127.0.0.0/8, or ``::1``."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resource_problem(value: str) -> str | None:
    """Why ``value`` cannot be an RFC 8707 ``resource``, or ``None`` when it can be one.

    RFC 8707 §2: an absolute URI (RFC 3986 §4.3) without a fragment. The dev
    issuer checks the ``resource`` it is sent with it, ``bearerguard token`` its ``--resource``.

    Example::

        resource_problem("https://api.example.com")     # None
        resource_problem("https://api.example.com#v1")  # 'has a fragment (#v1), ...'
    """
    if "#" in value:
        fragment = value[value.index("#") :]
        return f"has a fragment ({fragment[:40]}), which RFC 8707 §2 forbids: drop it"
    scheme = _SCHEME.match(value)
    if scheme is None:
        return (
            "is not an absolute URI: it needs a scheme, e.g. https://api.example.com (RFC 8707 §2)"
        )
    if not _URI_REST.fullmatch(value, scheme.end()):
        return (
            "is not a valid URI: spaces, quotes and characters such as < > { } | \\ ^ ` "
            "must be percent-encoded (RFC 3986)"
        )
    return None
