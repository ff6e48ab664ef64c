"""Bearer credentials from an ``Authorization`` header (RFC 6750 §2.1, RFC 9110 §11).

Pure: takes the header value(s) a framework hands over, returns the raw token
or raises the error whose status the response must carry.
"""

from __future__ import annotations

import re
import string
from collections.abc import Container, Sequence
from urllib.parse import unquote_plus

from ._errors import DEFAULT_REALM, InvalidRequestError, MissingTokenError

__all__ = ["query_has_access_token", "token_from_authorization"]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_CHARACTERS = (string.ascii_letters + string.digits + "-._~+/").encode("ascii")
_OWS = " \t"
# A Bearer field after a comma: what a server makes of a repeated Authorization field.
_FOLDED_BEARER = re.compile(r",[ \t]*bearer(?:[ \t]|$)", re.IGNORECASE)


def token_from_authorization(
    value: str | Sequence[str] | None,
    *,
    query: str | None = None,
    realm: str = DEFAULT_REALM,
    known: Container[str] | None = None,
) -> str:
    """Return the bearer token carried by an ``Authorization`` header value.

    ``value`` is the header's value, ``None`` when the header is absent, or the
    list of values when the framework exposes repeated fields. The scheme is
    matched case-insensitively; one or more spaces may follow it.

    ``query`` is the request's raw query string, when the caller has one. A
    token sent as ``?access_token=`` is never accepted (RFC 6750 §2.3 says
    servers SHOULD NOT: URLs end up in logs and browser history), and a request
    that sends it alongside the header uses more than one method (§3.1).

    ``known`` holds tokens known to be well-formed (the verifier passes the
    tokens it remembers): one found there skips the character check.

    Raises :class:`MissingTokenError` (401, bare challenge) when there are no
    bearer credentials, including another scheme such as ``Basic`` or a token
    only in the query string, and :class:`InvalidRequestError` (400) when the
    header is malformed or repeated, or a second method is used.

    Example::

        token_from_authorization("Bearer eyJhbGciOi...")   # 'eyJhbGciOi...'
        token_from_authorization("bearer   abc.def.ghi")    # 'abc.def.ghi'
        token_from_authorization(None)                      # raises MissingTokenError
        token_from_authorization("Bearer a.b.c", query="access_token=a.b.c")
        # raises InvalidRequestError: more than one method
    """
    in_query = query is not None and query_has_access_token(query)
    try:
        token = _token_from_header(value, realm, known)
    except MissingTokenError as exc:
        if in_query:
            exc.reason = (
                "The token was sent in the query string, which is not accepted "
                "(RFC 6750 §2.3); send it in the Authorization header."
            )
        raise
    if in_query:
        raise InvalidRequestError(
            "The request uses more than one method to send the access token",
            reason="The token was sent in both the Authorization header and the query string.",
            realm=realm,
        )
    return token


def query_has_access_token(query: str) -> bool:
    """Whether a raw query string carries an ``access_token`` parameter (RFC 6750 §2.3).

    Example::

        query_has_access_token("page=2&access_token=abc")   # True
        query_has_access_token("access%5Ftoken=abc")        # True: names are percent-decoded
    """
    if "access" not in query and "%" not in query:
        return False  # the common case costs one scan
    for field in query.split("&"):
        name = field.split("=", 1)[0]
        if name == "access_token" or ("%" in name and unquote_plus(name) == "access_token"):
            return True
    return False


def _token_from_header(
    value: str | Sequence[str] | None, realm: str, known: Container[str] | None
) -> str:
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
        if _FOLDED_BEARER.search(value):
            # "Basic ..., Bearer ...": a server folded two Authorization fields into one
            # (RFC 9110 §5.3), so the Bearer field is repeated too, not absent.
            raise InvalidRequestError(
                reason="The request repeats the Authorization header.", realm=realm
            )
        # Another scheme (Basic, DPoP, ...): "unsupported authentication method".
        raise MissingTokenError(
            reason="The Authorization header uses a scheme other than Bearer.", realm=realm
        )
    if len(value) == 6 or value[6] != " ":
        raise InvalidRequestError(
            reason="The Bearer scheme must be followed by a space and the token.", realm=realm
        )
    token = value[7:].lstrip(" ")
    if not (known is not None and token in known) and not _is_b64token(token):
        raise InvalidRequestError(
            reason="The Bearer credentials are not a single b64token (RFC 6750 §2.1).", realm=realm
        )
    return token


def _is_b64token(token: str) -> bool:
    """RFC 6750's b64token: with the trailing "=" removed, something is left and deleting
    every allowed byte leaves nothing (a bytes translate: three times a regex's speed)."""
    if not token.isascii():
        return False
    body = token.encode("ascii").rstrip(b"=")
    return bool(body) and not body.translate(None, _B64TOKEN_CHARACTERS)
