"""The two ways the dev-issuer refuses: an OAuth error response, or an error page.

:class:`OAuthError` is answered as RFC 6749 §5.2 JSON by the token endpoint, or
sent back to the client in the redirect (§4.1.2.1) once /authorize trusts the
``redirect_uri``. Before that, a mistake is an :class:`ErrorPage`: redirecting
to an unverified URI would make the server an open redirector (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ErrorPage", "OAuthError"]


class OAuthError(Exception):
    """``{"error": ..., "error_description": ...}`` with its HTTP status and headers.

    Example::

        raise OAuthError("invalid_grant", "The authorization code was already used.")
    """

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = dict(headers or {})

    def to_json(self) -> dict[str, str]:
        """The response body (RFC 6749 §5.2)."""
        return {"error": self.error, "error_description": self.description}


class ErrorPage(Exception):
    """A mistake /authorize shows to the user instead of redirecting anywhere.

    ``detail`` says what is wrong, ``fix`` what to do about it: whoever reads the
    page is a developer whose sign-in just stopped, and it is all they see.

    Example::

        raise ErrorPage("Missing client_id", "The authorization request names no client_id.",
                        fix="Add client_id=spa-client to the authorization URL.")
    """

    def __init__(self, title: str, detail: str, *, fix: str, status: int = 400) -> None:
        super().__init__(f"{title}: {detail}")
        self.title = title
        self.detail = detail
        self.fix = fix
        self.status = status
