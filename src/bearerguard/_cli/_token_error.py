"""The error of ``bearerguard token``: every step that fails raises :class:`TokenError`.

The settings, the flows and the requests to the provider all raise it with a
message that says what went wrong and what to do; the command prints that
message and chooses the exit status from the step that failed (2 for the
settings, 1 for the exchange with the provider).

Example::

    try:
        settings = read_settings(args)
    except TokenError as exc:
        error("token", str(exc))   # bearerguard token: error: --issuer is required ...
"""

from __future__ import annotations

__all__ = ["TokenError"]


class TokenError(Exception):
    """The token could not be had; the message says why."""
