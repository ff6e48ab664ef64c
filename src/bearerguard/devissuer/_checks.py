"""The checks the configuration dataclasses share; each mistake is a :class:`KeyProblem`.

A :class:`KeyProblem` knows the key at fault (``redirect_uris[0]``) apart from
the sentence about it (``must be an absolute URL ...``), so that one check
serves two readers. Built in Python, the dataclass names itself:
``client 'spa-client': redirect_uris[0] must be ...``. Read from a file,
:mod:`._loading` names the key by its path there instead:
``clients[1].redirect_uris[0] must be ...``. Every sentence says what to write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from bearerguard._errors import SCOPE_TOKEN, ConfigurationError
from bearerguard._mint import REGISTERED_CLAIMS

__all__ = [
    "DAY",
    "KeyProblem",
    "check_claims",
    "check_flag",
    "check_lifetime",
    "check_object",
    "check_redirect_uris",
    "check_scopes",
    "check_strings",
    "check_text",
    "check_unique",
]

DAY = 86400
_EXAMPLE_REDIRECT = "'http://127.0.0.1:8080/callback'"


class KeyProblem(ConfigurationError):
    """A mistake in one key: ``key`` (a path inside its object) and ``problem``, the rest.

    Example::

        raise KeyProblem("redirect_uris[0]", "must be an absolute URL, got '/cb'.")
    """

    def __init__(self, key: str, problem: str, *, owner: str | None = None) -> None:
        super().__init__(f"{owner}: {key} {problem}" if owner else f"{key} {problem}")
        self.key = key
        self.problem = problem
        self.owner = owner

    def of(self, owner: str) -> KeyProblem:
        """The same mistake, named as a key of ``owner`` (``"client 'spa-client'"``)."""
        return KeyProblem(self.key, self.problem, owner=owner)


def check_object(kind: str, name: object, check: Callable[[], None]) -> None:
    """Run ``check``; a mistake it finds is named as a key of ``kind`` ``name``."""
    try:
        check()
    except KeyProblem as exc:
        owner = f"{kind} {name!r}" if isinstance(name, str) and name else kind
        raise exc.of(owner) from None


def check_text(value: object, key: str) -> None:
    # Printable and trimmed: these end up in HTML, headers, URLs and log lines.
    if (
        not isinstance(value, str)
        or not value
        or value != value.strip()
        or any(ch < " " or ch == "\x7f" for ch in value)
    ):
        raise KeyProblem(
            key,
            "must be a non-empty string without surrounding spaces or control characters, "
            f"got {value!r}.",
        )


def check_flag(value: object, key: str) -> None:
    if not isinstance(value, bool):
        raise KeyProblem(key, f"must be true or false, got {value!r}.")


def check_lifetime(value: object, key: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 365 * DAY:
        raise KeyProblem(
            key,
            f"must be a whole number of seconds between 1 and {365 * DAY} (a year), e.g. 3600 "
            f"for an hour; got {value!r}.",
        )


def check_strings(value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        raise KeyProblem(key, f"must be a list of strings, got {value!r}.")
    for index, item in enumerate(value):
        check_text(item, f"{key}[{index}]")
    return tuple(value)


def check_scopes(value: object, key: str) -> tuple[str, ...]:
    scopes = check_strings(value, key)
    for index, scope in enumerate(scopes):
        if not SCOPE_TOKEN.fullmatch(scope):
            raise KeyProblem(
                f"{key}[{index}]",
                "must be a scope name without spaces, double quotes or backslashes "
                f"(RFC 6749 §3.3), such as 'read:messages'; got {scope!r}.",
            )
    return tuple(dict.fromkeys(scopes))


def check_redirect_uris(value: object, key: str) -> tuple[str, ...]:
    uris = check_strings(value, key)
    for index, uri in enumerate(uris):
        _check_redirect_uri(uri, f"{key}[{index}]")
    return tuple(dict.fromkeys(uris))


def _check_redirect_uri(uri: str, key: str) -> None:
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    # RFC 6749 §3.1.2: absolute, and without a fragment (the implicit flow adds one).
    if parts is None or not parts.scheme or not parts.netloc or "#" in uri:
        raise KeyProblem(
            key,
            f"must be an absolute URL without a fragment, such as {_EXAMPLE_REDIRECT}; "
            f"got {uri!r}.",
        )
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = 0
    if port == 0:
        raise KeyProblem(
            key,
            f"must have a port from 1 to 65535 (or none), such as {_EXAMPLE_REDIRECT}; "
            f"got {uri!r}.",
        )


def check_claims(value: object, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
        raise KeyProblem(
            key, 'must map claim names to JSON values, e.g. {"https://example.com/tier": "gold"}.'
        )
    clashing = sorted(name for name in value if name in REGISTERED_CLAIMS)
    if clashing:
        raise KeyProblem(
            f"{key}[{clashing[0]!r}]",
            "is a registered claim, which the dev-issuer sets itself: use a custom name "
            "such as 'https://example.com/roles'.",
        )
    return MappingProxyType(dict(value))


def check_unique(values: Iterable[str], items: str, key: str) -> None:
    """Each of ``values`` (the ``key`` of each of ``items``, in order) appears once."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise KeyProblem(
                f"{items}[{index}].{key}",
                f"{value!r} is configured twice (also {items}[{seen[value]}].{key}): give each "
                f"its own {key}.",
            )
        seen[value] = index
