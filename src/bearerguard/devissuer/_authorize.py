"""The authorization endpoint's logic: read a request, then approve or deny it.

The order of the checks matters (RFC 6749 §4.1.2.1): until ``client_id`` and
``redirect_uri`` are known good, a mistake is an :class:`ErrorPage` and nothing
redirects; after that, every error goes back to the client in the redirect,
with its ``state``. ``response_type=token`` is the legacy implicit flow: the
access token travels in the URL fragment, for clients that allow it. The API is
named by ``audience`` (Auth0) or ``resource`` (RFC 8707 §2.1), read as the token
endpoint reads them (:func:`~bearerguard.devissuer._grants.requested_audience`).
``dpop_jkt`` (RFC 9449 §10) binds the code to a DPoP key: the token request that
redeems it must carry a proof signed by that key. The client is one of the
configuration's or one registered at run time (:class:`._directory.ClientDirectory`).

Every response that goes back to the client, success or error, carries the
issuer's identifier as ``iss`` (RFC 9207), beside ``state``: a client that talks
to several authorization servers can tell which one answered (mix-up attacks),
and the MCP SDKs' clients compare it with the issuer of the metadata they used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from ._config import OIDC_SCOPES, ApiConfig, ClientConfig, DevIssuerConfig, UserConfig
from ._directory import ClientDirectory
from ._errors import OAuthError
from ._grants import requested_audience
from ._pkce import check_challenge
from ._redirects import redirect_uri_matches
from ._refusals import (
    missing_client_id,
    missing_redirect_uri,
    unknown_client,
    unregistered_redirect_uri,
)
from ._resources import find_api
from ._store import Approval, GrantStore
from ._tokens import Minter

__all__ = [
    "AuthorizationRequest",
    "RedirectError",
    "approve",
    "choose_user",
    "deny",
    "read_request",
]

_RESPONSE_MODES = {"code": "query", "token": "fragment"}
# An RFC 7638 SHA-256 thumbprint in base64url without padding: 32 bytes, 43 characters.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """A checked authorization request, waiting for the user's decision."""

    client: ClientConfig
    redirect_uri: str
    response_type: str  # "code", or "token" (legacy implicit)
    state: str | None
    scopes: tuple[str, ...]  # what may be granted, before the chosen user's permissions
    ignored_scopes: tuple[str, ...]  # asked for, but not available to this client or API
    api: ApiConfig | None
    nonce: str | None
    code_challenge: str | None
    login_hint: str | None
    organization: str | None
    issuer: str
    #: the thumbprint of the DPoP key the code is bound to (RFC 9449 §10), if any
    dpop_jkt: str | None = None

    @property
    def implicit(self) -> bool:
        return self.response_type == "token"

    def redirect(self, params: Mapping[str, str | None]) -> str:
        """``redirect_uri`` with ``params``, ``state`` and ``iss`` (RFC 9207) in its query
        (in its fragment if implicit).

        Values are percent-encoded as RFC 3986 says (a space is ``%20``, never ``+``):
        RFC 6749 §4.1.2 appends them with the form encoding of its Appendix B, but
        clients, Swagger UI among them, read them back with ``decodeURIComponent``,
        which leaves a ``+`` as is. ``%20`` reads the same both ways, ``+`` does not.
        """
        values = {name: v for name, v in params.items() if v is not None}
        if self.state is not None:
            values["state"] = self.state
        values["iss"] = self.issuer
        encoded = urlencode(values, quote_via=quote)
        if self.implicit:
            return f"{self.redirect_uri}#{encoded}"
        # A registered redirect URI may carry a query of its own, which is kept (§3.1.2).
        return f"{self.redirect_uri}{'&' if '?' in self.redirect_uri else '?'}{encoded}"

    def members(self, config: DevIssuerConfig) -> tuple[UserConfig, ...]:
        """The users who may approve: all, or those of the requested organization."""
        return tuple(user for user in config.users if self._member(user))

    def _member(self, user: UserConfig) -> bool:
        org = user.organization
        return self.organization is None or (
            org is not None and self.organization in (org.id, org.name)
        )


class RedirectError(Exception):
    """An error to send back to the client: ``location`` carries it in the redirect."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def read_request(
    config: DevIssuerConfig,
    params: Mapping[str, str],
    issuer: str,
    clients: ClientDirectory | None = None,
) -> AuthorizationRequest:
    """Check an authorization request; ErrorPage before the redirect URI is trusted,
    RedirectError after. ``clients``: where clients are found (default: the configured ones)."""
    client_id = params.get("client_id")
    if not client_id:
        raise missing_client_id(config)
    client = (clients or ClientDirectory(config)).find(client_id)
    if client is None:
        raise unknown_client(config, client_id)
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise missing_redirect_uri(client)
    if not redirect_uri_matches(client, redirect_uri):
        # Exact string comparison, as OAuth 2.1 requires (no prefix or wildcard matching),
        # but for the port of a public client's loopback URI (RFC 8252 §7.3).
        raise unregistered_redirect_uri(client, redirect_uri)
    response_type = params.get("response_type")
    base = AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        # Errors about response_type itself go back in the query, the default mode.
        response_type="token" if response_type == "token" else "code",
        state=params.get("state"),
        scopes=(),
        ignored_scopes=(),
        api=None,
        nonce=params.get("nonce"),
        code_challenge=params.get("code_challenge"),
        login_hint=params.get("login_hint"),
        organization=params.get("organization"),
        issuer=issuer,
    )
    try:
        return _complete(config, base, params, response_type)
    except OAuthError as exc:
        raise RedirectError(base.redirect(exc.to_json())) from None


def _complete(
    config: DevIssuerConfig,
    base: AuthorizationRequest,
    params: Mapping[str, str],
    response_type: str | None,
) -> AuthorizationRequest:
    client = base.client
    if response_type not in _RESPONSE_MODES:
        raise OAuthError(
            "unsupported_response_type",
            "response_type must be code (or token, the legacy implicit flow).",
        )
    grant = "implicit" if response_type == "token" else "authorization_code"
    if grant not in client.grant_types:
        raise OAuthError(
            "unauthorized_client", f"Client {client.client_id!r} may not use the {grant} grant."
        )
    mode = params.get("response_mode")
    if mode is not None and mode != _RESPONSE_MODES[response_type]:
        raise OAuthError(
            "invalid_request",
            f"response_mode {mode!r} is not supported here; "
            f"response_type={response_type} answers in the {_RESPONSE_MODES[response_type]}.",
        )
    challenge = None
    if response_type == "code":
        challenge = params.get("code_challenge")
        problem = check_challenge(challenge, params.get("code_challenge_method"))
        if problem is not None:
            raise OAuthError("invalid_request", problem)
        if client.public and challenge is None:
            raise OAuthError(
                "invalid_request",
                "Public clients must use PKCE: send code_challenge and code_challenge_method=S256.",
            )
    dpop_jkt = _dpop_jkt(params.get("dpop_jkt"), response_type)
    audience = requested_audience(config, params)
    requested = tuple(dict.fromkeys((params.get("scope") or "").split()))
    api = None
    if audience is not None:
        api = find_api(config, audience, requested)
        if api is None:
            raise OAuthError("access_denied", f"Service not found: {audience}")
    allowed = [scope for scope in requested if _available(scope, client, api, response_type)]
    if api is None and "openid" not in allowed:
        raise OAuthError(
            "invalid_request",
            "Name an API with audience=... or resource=... (or configure default_audience), "
            "or ask for the openid scope to sign in only.",
        )
    if base.organization is not None and not base.members(config):
        raise OAuthError(
            "invalid_request", f"No configured user belongs to organization {base.organization!r}."
        )
    return AuthorizationRequest(
        client=client,
        redirect_uri=base.redirect_uri,
        response_type=response_type,
        state=base.state,
        scopes=tuple(allowed),
        ignored_scopes=tuple(scope for scope in requested if scope not in allowed),
        api=api,
        nonce=base.nonce,
        code_challenge=challenge,
        login_hint=base.login_hint,
        organization=base.organization,
        issuer=base.issuer,
        dpop_jkt=dpop_jkt,
    )


def _dpop_jkt(value: str | None, response_type: str | None) -> str | None:
    """The ``dpop_jkt`` parameter, checked: a thumbprint, for a code (RFC 9449 §10)."""
    if value is None:
        return None
    if response_type != "code":
        # The implicit flow issues a Bearer token straight away: nothing could be bound.
        raise OAuthError(
            "invalid_request",
            "dpop_jkt binds an authorization code to a DPoP key; response_type=token issues "
            "no code and no DPoP-bound token: use response_type=code.",
        )
    if not _THUMBPRINT.fullmatch(value):
        raise OAuthError(
            "invalid_request",
            "dpop_jkt must be the JWK SHA-256 thumbprint (RFC 7638) of the client's DPoP "
            "public key, in base64url without padding: 43 characters of A-Z, a-z, 0-9, - and _.",
        )
    return value


def _available(scope: str, client: ClientConfig, api: ApiConfig | None, response_type: str) -> bool:
    if scope == "offline_access":
        # As at Auth0: only for clients allowed refresh tokens, for APIs that allow them,
        # and never through the implicit flow (the token is in the browser's URL).
        return (
            "refresh_token" in client.grant_types
            and response_type == "code"
            and (api is None or api.allow_offline_access)
        )
    # Unknown scopes are dropped rather than refused, as Auth0 does.
    return scope in OIDC_SCOPES or (api is not None and scope in api.scopes)


def choose_user(config: DevIssuerConfig, request: AuthorizationRequest) -> UserConfig:
    """The user an auto-approving server signs in: ``login_hint`` (sub or email), else the
    first configured user (of the requested organization)."""
    members = request.members(config)
    if request.login_hint is None:
        return members[0]
    hint = request.login_hint.lower()
    for user in members:
        if user.sub == request.login_hint or (user.email or "").lower() == hint:
            return user
    raise RedirectError(
        request.redirect(
            {
                "error": "access_denied",
                "error_description": "No configured user matches login_hint "
                f"{request.login_hint!r}.",
            }
        )
    )


def approve(
    config: DevIssuerConfig,
    request: AuthorizationRequest,
    user: UserConfig,
    *,
    store: GrantStore,
    minter: Minter,
    now: float,
) -> str:
    """Where to send the browser once ``user`` approved: with a code, or (implicit) a token."""
    if user.sub not in {member.sub for member in request.members(config)}:
        return request.redirect(
            {
                "error": "access_denied",
                "error_description": f"{user.sub} is not a member of organization "
                f"{request.organization}.",
            }
        )
    # Auth0 RBAC: a user's API scopes are capped by their permissions, when they list any.
    granted = tuple(
        scope
        for scope in request.scopes
        if scope in OIDC_SCOPES or user.permissions is None or scope in user.permissions
    )
    approval = Approval(
        client_id=request.client.client_id,
        sub=user.sub,
        scopes=granted,
        audience=None if request.api is None else request.api.identifier,
        auth_time=int(now),
        nonce=request.nonce,
    )
    if request.implicit:
        token, lifetime = minter.user_token(issuer=request.issuer, approval=approval, implicit=True)
        return request.redirect(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": str(lifetime),
                "scope": " ".join(granted),
            }
        )
    code = store.issue_code(
        approval,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        dpop_jkt=request.dpop_jkt,
    )
    return request.redirect({"code": code})


def deny(request: AuthorizationRequest) -> str:
    """Where to send the browser once the user said no."""
    return request.redirect(
        {"error": "access_denied", "error_description": "The user denied the request."}
    )
