"""``TokenUser``: the caller behind a verified access token, without a Django user.

An access token names a subject at the identity provider, not a row in
``auth_user``: there is nothing to look up and no table is needed.
"""

from __future__ import annotations

from typing import Any

from bearerguard._token import AccessToken

__all__ = ["TokenUser"]


class TokenUser:
    """Stands in for ``request.user`` when a request is authenticated by an access token.

    It answers what Django and DRF ask of a user (``is_authenticated`` and
    friends) and holds no Django permissions: authorization comes from the
    token's scopes. ``pk`` and ``username`` are the token's subject (``sub``).

    Example::

        user = TokenUser(token)
        user.is_authenticated    # True
        user.username            # 'auth0|123'
        user.token.scopes        # frozenset({'read:contacts'})
    """

    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, token: AccessToken) -> None:
        self.token = token

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def subject(self) -> str | None:
        """The token's ``sub``: who the identity provider says the caller is."""
        return self.token.subject

    @property
    def pk(self) -> str | None:
        return self.token.subject

    @property
    def username(self) -> str:
        return self.token.subject or ""

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Always ``False``: a token grants scopes, never Django model permissions."""
        return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"TokenUser(subject={self.token.subject!r})"
