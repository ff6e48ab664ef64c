"""Django REST framework: an authentication class and a scope permission.

``BearerTokenAuthentication`` makes ``request.auth`` the verified
:class:`~bearerguard.AccessToken` and ``request.user`` a
:class:`~bearerguard.django.TokenUser` (no Django user, no database).
``HasScopes`` enforces the view's ``required_scopes`` and, when it sets them, its
``required_claims`` (rules from :mod:`bearerguard.claims`). Refusals are DRF
exceptions (:class:`BearerTokenError`) that DRF's exception handler renders
with the RFC 6750 status, ``WWW-Authenticate`` challenge, ``Retry-After`` and
``{"error": ..., "error_description": ...}`` body.

Requests without a token are anonymous: DRF then sets ``request.user`` to its
``UNAUTHENTICATED_USER``, Django's ``AnonymousUser`` by default, which needs
``django.contrib.auth`` installed (but no tables). Without that app set
``REST_FRAMEWORK["UNAUTHENTICATED_USER"] = None`` (check ``bearerguard.W001``).

CSRF needs nothing here: DRF's views are ``csrf_exempt`` and only its
``SessionAuthentication`` checks CSRF, for the requests it authenticates by
session. List ``BearerTokenAuthentication`` first next to it, so that a request
with a token is not judged by the cookie it may also carry.

Example::

    from bearerguard.django.rest_framework import BearerTokenAuthentication, HasScopes

    class ContactList(APIView):
        authentication_classes = [BearerTokenAuthentication]
        permission_classes = [HasScopes]
        required_scopes = {"GET": ["read:contacts"], "POST": ["write:contacts"]}
        required_claims = [claims.equals("org_id", "org_123")]

        def get(self, request):
            return Response({"sub": request.auth.subject})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    from rest_framework.authentication import BaseAuthentication  # type: ignore[import-untyped]
    from rest_framework.exceptions import APIException  # type: ignore[import-untyped]
    from rest_framework.permissions import BasePermission  # type: ignore[import-untyped]
except ImportError as exc:
    raise ImportError(
        "bearerguard.django.rest_framework needs Django REST framework: "
        "pip install 'bearerguard[django]'"
    ) from exc

from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]

from bearerguard._claim_rules import ClaimRule, check_rules, first_failing, route_refusal
from bearerguard._errors import (
    BearerError,
    ConfigurationError,
    InsufficientClaimsError,
    InsufficientScopeError,
)
from bearerguard._token import AccessToken, scope_names

from ._requests import outcome, recorded
from .apps import get_verifier
from .user import TokenUser

__all__ = ["BearerTokenAuthentication", "BearerTokenError", "HasScopes"]


class BearerTokenError(APIException):  # type: ignore[misc]  # DRF ships no type hints
    """A :class:`~bearerguard.BearerError` as a DRF exception, answered as RFC 6750 says.

    DRF's exception handler renders ``detail`` (the error's JSON body) with the
    error's ``status_code``, copies ``auth_header`` into ``WWW-Authenticate`` and
    ``wait`` into ``Retry-After``. The original error is ``.error``.
    """

    def __init__(self, error: BearerError) -> None:
        super().__init__(detail=error.to_json(), code=error.error or "unauthorized")
        self.error = error
        self.status_code = error.status_code
        headers = error.headers
        self.auth_header = headers.get("WWW-Authenticate")
        retry_after = headers.get("Retry-After")
        self.wait = int(retry_after) if retry_after else None


class BearerTokenAuthentication(BaseAuthentication):  # type: ignore[misc]
    """Authenticate by ``Authorization: Bearer <token>``: ``(TokenUser, AccessToken)``.

    Uses what :class:`~bearerguard.django.BearerTokenMiddleware` found when it
    is installed, else verifies the token itself. No credentials: ``None``
    (anonymous, for DRF to decide); invalid credentials: :class:`BearerTokenError`.
    """

    def authenticate(self, request: Any) -> tuple[TokenUser, AccessToken] | None:
        found = outcome(_django_request(request))
        if found.nonce is not None:
            _answer_with(request, "DPoP-Nonce", found.nonce)
        if found.error is not None:
            raise BearerTokenError(found.error)
        if found.token is None:
            return None
        return TokenUser(found.token), found.token

    def authenticate_header(self, request: Any) -> str | None:
        """The challenge of DRF's own 401s (``NotAuthenticated`` from ``IsAuthenticated``):
        it names the view's ``required_scopes`` for the method, when it declares them."""
        found = recorded(_django_request(request))
        if found is not None and found.error is not None and found.error.status_code == 401:
            return found.error.www_authenticate
        return get_verifier().missing_token(_declared_scopes(request)).www_authenticate


class HasScopes(BasePermission):  # type: ignore[misc]
    """Require a bearer token granting the view's ``required_scopes`` (and meeting its
    ``required_claims``, when it sets them).

    ``required_scopes`` is a list of scopes (``[]``: any valid token) or a
    mapping from HTTP method to such a list; a method the mapping does not name
    is refused (``HEAD`` follows ``GET``). Set ``required_scopes_any_of = True``
    to accept any one of the scopes instead of all of them. ``required_claims``
    is a list of claim rules (:mod:`bearerguard.claims`) or such a mapping, read
    the same way (a method it does not name is refused; ``[]``: no rules), and
    checked after the scopes. Without a token the answer is 401, with too few
    scopes 403 naming them, with claims that fail a rule 403 naming no scope, each
    with its challenge.

    Example::

        class Reports(APIView):
            permission_classes = [HasScopes]
            required_scopes = ["read:reports", "admin"]
            required_scopes_any_of = True
            required_claims = [claims.includes("roles", "analyst")]
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        required = _required_scopes(view, request.method)
        token = request.auth
        if not isinstance(token, AccessToken):
            raise BearerTokenError(get_verifier().missing_token(required or ()))
        if required is None:
            refused = InsufficientScopeError(realm=token.realm)
            raise BearerTokenError(refused.with_resource_metadata(token.resource_metadata))
        any_of = bool(getattr(view, "required_scopes_any_of", False))
        try:
            token.require_scopes(*required, any_of=any_of)
        except InsufficientScopeError as exc:
            raise BearerTokenError(exc) from None
        claims_refusal = _claims_refusal(view, request.method, token)
        if claims_refusal is not None:
            raise BearerTokenError(claims_refusal)
        return True


def _answer_with(request: Any, name: str, value: str) -> None:
    """Add a field to the view's answer, refusal or not.

    DRF's exception handler copies only ``WWW-Authenticate`` and ``Retry-After`` from an
    exception; the fields of ``APIView.headers`` go on every answer of the view
    (``finalize_response``), so that is where a ``DPoP-Nonce`` goes.
    """
    view = (getattr(request, "parser_context", None) or {}).get("view")
    headers = getattr(view, "headers", None)
    if isinstance(headers, dict):
        headers[name] = value


def _declared_scopes(request: Any) -> tuple[str, ...]:
    """The ``required_scopes`` of the request's view for its method; none when the view
    declares none (a view guarded by ``IsAuthenticated`` alone needs any valid token)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None or not hasattr(view, "required_scopes"):
        return ()
    return _required_scopes(view, request.method) or ()


def _required_scopes(view: Any, method: str) -> tuple[str, ...] | None:
    """The scopes the view requires for this method; ``None``: the method is not allowed."""
    try:
        required = view.required_scopes
    except AttributeError:
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses HasScopes but sets no required_scopes: "
            "set a list of scopes ([] for any valid token) or {method: [scopes]}."
        ) from None
    if isinstance(required, Mapping):
        method = method.upper()
        if method not in required and method == "HEAD":
            method = "GET"
        if method not in required:
            return None  # fail closed: a method nobody thought of needs no less than any other
        required = required[method]
    return scope_names((required,) if isinstance(required, str) else tuple(required))


def _claims_refusal(view: Any, method: str, token: AccessToken) -> BearerError | None:
    """The 403 of the view's ``required_claims`` for this method, else ``None``."""
    rules = getattr(view, "required_claims", None)
    if rules is None:
        return None  # the view sets none: nothing to check
    if isinstance(rules, Mapping):
        method = method.upper()
        if method not in rules and method == "HEAD":
            method = "GET"
        if method not in rules:  # fail closed, as for required_scopes
            refused = InsufficientClaimsError(
                reason=f"The view's required_claims name no rules for {method}.",
                realm=token.realm,
            )
            return refused.with_resource_metadata(token.resource_metadata)
        rules = rules[method]
    try:
        checked = check_rules(rules, f"{type(view).__name__}.required_claims")
    except ConfigurationError as exc:
        raise ImproperlyConfigured(
            f"{exc} (a list of rules, or {{method: [rules]}}; [] for none)"
        ) from None
    failed: ClaimRule | None = first_failing(checked, token.claims)
    return None if failed is None else route_refusal(failed, token)


def _django_request(request: Any) -> Any:
    # DRF's Request wraps Django's; the middleware recorded its findings on the latter.
    return getattr(request, "_request", request)
