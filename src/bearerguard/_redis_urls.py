"""Settings that name Redis by URL: ``replay_store="redis://..."`` and ``Introspection(
shared_cache="redis://...")``, each made into its ``bearerguard.redis`` object here.

``bearerguard.redis`` is an optional extra (``bearerguard[redis]``): it is imported only when
a setting names Redis, and its absence is a :class:`ConfigurationError` saying what to
install. A URL is never repeated in a message: it may hold a password.

Example::

    is_redis_url("rediss://cache.internal:6380/0")                         # True
    from_redis_url("RedisIntrospectionCache", "redis://localhost:6379/0", "shared_cache")
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import ConfigurationError

__all__ = ["REDIS_SCHEMES", "from_redis_url", "is_redis_url"]

#: the URL schemes the redis client connects by
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def is_redis_url(value: str) -> bool:
    """Whether ``value`` is a URL the redis client connects by (``redis://``, ``rediss://``,
    ``unix://``)."""
    scheme, separator, _ = value.partition("://")
    return bool(separator) and scheme.lower() in REDIS_SCHEMES


def from_redis_url(kind: str, url: str, setting: str) -> Any:
    """``bearerguard.redis.<kind>(url)``, the extra imported now; ``setting`` names the
    setting in the message when the extra is not installed."""
    try:  # an optional extra, imported when asked for
        module = importlib.import_module("bearerguard.redis")
    except ImportError as exc:
        raise ConfigurationError(
            f"{setting} names Redis, which needs the redis client: pip install "
            f"'bearerguard[redis]' ({exc}).",
            setting=setting,
        ) from None
    return getattr(module, kind)(url)
