"""Bearer credentials from an ``Authorization`` header (RFC 6750 §2.1, RFC 9110 §11).

Pure: takes the header value(s) a framework hands over, returns the raw token
or raises the error whose status the response must carry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._errors import DEFAULT_REALM, InvalidRequestError, MissingTokenError

__all__ = ["token_from_authorization"]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_OWS = " \t"


def token_from_authorization(
    value: str | Sequence[str] | None, *, realm: str = DEFAULT_REALM
) -> str:
    """Return the bearer token carried by an ``Authorization`` header value.

    ``value`` is the header's value, ``None`` when the header is absent, or the
    list of values when the framework exposes repeated fields. The scheme is
    matched case-insensitively; one or more spaces may follow it.

    Raises :class:`MissingTokenError` (401, bare challenge) when there are no
    bearer credentials, including another scheme such as ``Basic``, and
    :class:`InvalidRequestError` (400) when the header is malformed or repeated.

    Example::

        token_from_authorization("Bearer eyJhbGciOi...")   # 'eyJhbGciOi...'
        token_from_authorization("bearer   abc.def.ghi")    # 'abc.def.ghi'
        token_from_authorization(None)                      # raises MissingTokenError
    """
    if value is not None and not isinstance(value, str):
        values = list(value)
        if len(values) > 1:
            raise InvalidRequestError(
                reason="The request repeats the Authorization header.", realm=realm
            )
        value = values[0] if values else None
    # Field values exclude leading and trailing whitespace (RFC 9110 §5.5).
    value = (value or "").strip(_OWS)
    if not value:
        raise MissingTokenError(realm=realm)
    if value[:6].lower() != "bearer" or (len(value) > 6 and value[6] not in _OWS):
        # Another scheme (Basic, DPoP, ...): "unsupported authentication method".
        raise MissingTokenError(
            reason="The Authorization header uses a scheme other than Bearer.", realm=realm
        )
    if len(value) == 6 or value[6] != " ":
        raise InvalidRequestError(
            reason="The Bearer scheme must be followed by a space and the token.", realm=realm
        )
    token = value[7:].lstrip(" ")
    if not _B64TOKEN.fullmatch(token):
        raise InvalidRequestError(
            reason="The Bearer credentials are not a single b64token (RFC 6750 §2.1).", realm=realm
        )
    return token
