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

__all__ = [
    "credentials_from_authorization",
    "is_b64token",
    "query_has_access_token",
    "token_from_authorization",
    "usual_bearer",
    "usual_credentials",
]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_CHARACTERS = (string.ascii_letters + string.digits + "-._~+/").encode("ascii")
_OWS = " \t"
# A Bearer field after a comma: what a server makes of a repeated Authorization field.
_FOLDED_BEARER = re.compile(r",[ \t]*bearer(?:[ \t]|$)", re.IGNORECASE)
_FOLDED_DPOP = re.compile(r",[ \t]*dpop(?:[ \t]|$)", re.IGNORECASE)


def token_from_authorization(
    value: str | Sequence[str] | None,
    *,
    query: str | None = None,
    realm: str = DEFAULT_REALM,
) -> str:
    """Return the bearer token carried by an ``Authorization`` header value.

    ``value`` is the header's value, ``None`` when the header is absent, or the
    list of values when the framework exposes repeated fields. The scheme is
    matched case-insensitively; one or more spaces may follow it.

    ``query`` is the request's raw query string, when the caller has one. A
    token sent as ``?access_token=`` is never accepted (RFC 6750 §2.3 says
    servers SHOULD NOT: URLs end up in logs and browser history), and a request
    that sends it alongside the header uses more than one method (§3.1).

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
        token = _token_from_header(value, realm)
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


def _token_from_header(value: str | Sequence[str] | None, realm: str) -> str:
    return _credentials_from_header(value, realm, _BEARER_ONLY)[1]


def credentials_from_authorization(
    value: str | Sequence[str] | None,
    *,
    query: str | None = None,
    realm: str = DEFAULT_REALM,
) -> tuple[str, str]:
    """``(scheme, token)`` of ``Bearer`` or ``DPoP`` credentials (RFC 6750 §2.1, RFC 9449 §7.1).

    The same rules as :func:`token_from_authorization`, with either scheme: the
    scheme is returned as ``"Bearer"`` or ``"DPoP"`` whatever its case.

    Example::

        credentials_from_authorization("DPoP eyJhbGciOi...")   # ('DPoP', 'eyJhbGciOi...')
    """
    in_query = query is not None and query_has_access_token(query)
    scheme, token = _credentials_from_header(value, realm, _BEARER_OR_DPOP)
    if in_query:
        raise InvalidRequestError(
            "The request uses more than one method to send the access token",
            reason="The token was sent in both the Authorization header and the query string.",
            realm=realm,
        )
    return scheme, token


_BEARER_ONLY = ("Bearer",)
_BEARER_OR_DPOP = ("Bearer", "DPoP")


def _credentials_from_header(
    value: str | Sequence[str] | None, realm: str, schemes: tuple[str, ...]
) -> tuple[str, str]:
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
    for scheme in schemes:
        size = len(scheme)
        if value[:size].lower() == scheme.lower() and (len(value) == size or value[size] in _OWS):
            break
    else:
        if _FOLDED_BEARER.search(value) or (len(schemes) > 1 and _FOLDED_DPOP.search(value)):
            # "Basic ..., Bearer ...": a server folded two Authorization fields into one
            # (RFC 9110 §5.3), so the Bearer field is repeated too, not absent.
            raise InvalidRequestError(
                reason="The request repeats the Authorization header.", realm=realm
            )
        # Another scheme (Basic, DPoP where only Bearer is taken...): "unsupported
        # authentication method".
        raise MissingTokenError(reason=_other_scheme_reason(value, schemes), realm=realm)
    if len(value) == size or value[size] != " ":
        raise InvalidRequestError(
            reason=f"The {scheme} scheme must be followed by a space and the token.", realm=realm
        )
    token = value[size + 1 :].lstrip(" ")
    if not is_b64token(token):
        raise InvalidRequestError(
            reason=f"The {scheme} credentials are not a single b64token (RFC 6750 §2.1).",
            realm=realm,
        )
    return scheme, token


def _other_scheme_reason(value: str, schemes: tuple[str, ...] = _BEARER_ONLY) -> str:
    """Why a field that does not start with Bearer carries no bearer credentials; a token
    sent without any scheme (a common client mistake) is told apart from another scheme."""
    if " " not in value and "\t" not in value and is_b64token(value):
        what = "a JWT" if value.count(".") in (2, 4) else "a token"
        return (
            f"The Authorization header holds {what} without the Bearer scheme: send "
            "'Authorization: Bearer <token>'."
        )
    return f"The Authorization header uses a scheme other than {' or '.join(schemes)}."


def is_b64token(token: str) -> bool:
    """RFC 6750's b64token: with the trailing "=" removed, something is left and deleting
    every allowed byte leaves nothing (a bytes translate: three times a regex's speed).

    Example::

        is_b64token("abc.def-ghi_~+/==")   # True
        is_b64token("a b")                 # False
    """
    if not token.isascii():
        return False
    body = token.encode("ascii").rstrip(b"=")
    return bool(body) and not body.translate(None, _B64TOKEN_CHARACTERS)


def usual_bearer(value: str | Sequence[str] | None) -> str | None:
    """The token of a request sent the usual way, one ``Bearer <token>`` field, else ``None``.

    A shortcut, not a parser: it looks no further than the exact prefix, so its
    answer is only worth something to a caller that knows the token already (the
    verifier's cache). Anything else goes through :func:`token_from_authorization`.

    Example::

        usual_bearer("Bearer abc.def.ghi")     # 'abc.def.ghi'
        usual_bearer("bearer  abc.def.ghi")    # None: not the usual spelling
    """
    if type(value) is list:  # what adapters hand over: every field value
        if len(value) != 1:
            return None
        value = value[0]
    if type(value) is str and value.startswith("Bearer "):
        return value[7:]
    return None


def usual_credentials(values: Sequence[str], known: Container[str] = ()) -> tuple[str, str] | None:
    """``(scheme, token)`` of a request sent the usual way, one ``DPoP <token>`` or
    ``Bearer <token>`` field with a well-formed token; else ``None``.

    The parser (:func:`credentials_from_authorization`) answers such a field the same
    way; this only spares it the work. Anything else (another spelling, stray
    whitespace, several fields) gets ``None`` and goes through the parser, as does a
    request with a token in its query, which the caller checks. ``known`` holds tokens
    that passed before (so they are b64tokens): one of them is not checked again.

    Example::

        usual_credentials(["DPoP abc.def.ghi"])     # ('DPoP', 'abc.def.ghi')
        usual_credentials(["dpop abc.def.ghi"])     # None: not the usual spelling
    """
    if len(values) != 1:
        return None
    value = values[0]
    if type(value) is not str:
        return None
    if value.startswith("DPoP "):
        scheme, token = "DPoP", value[5:]
    elif value.startswith("Bearer "):
        scheme, token = "Bearer", value[7:]
    else:
        return None
    # A token that starts with a space (two after the scheme) or ends with whitespace fails
    # this test, as it must: the parser strips those, so its answer could differ. A known
    # token is one the parser took before, in that very spelling.
    return (scheme, token) if token in known or is_b64token(token) else None
