"""URL settings: https required, plain http for loopback development hosts only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ._errors import ConfigurationError

__all__ = ["check_url", "is_loopback_host"]


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


def is_loopback_host(host: str) -> bool:
    """``localhost``, any of 127.0.0.0/8, or ``::1``."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
