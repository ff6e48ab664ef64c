"""The token endpoint's grants: client_credentials, authorization_code, refresh_token.

Pure OAuth logic over parsed parameters: no HTTP here. The client is
authenticated first, by :class:`._client_auth.ClientAuthenticator`: a secret
(client_secret_basic or client_secret_post), a client assertion (private_key_jwt,
RFC 7523, whose ``aud`` names the issuer or this token endpoint), or a public
client's bare ``client_id``. Every refusal is an
:class:`~bearerguard.devissuer._errors.OAuthError` with the RFC 6749 §5.2 code
(or Auth0's ``access_denied`` where Auth0 answers with it: an unknown API, a
client without a grant for the API).

The API a token is for is named by Auth0's ``audience`` or by RFC 8707's
``resource`` (see :func:`requested_audience`, which /authorize uses too). A
token is for one API here, so ``resource`` is sent at most once; with a code
or a refresh token it may only repeat the API that was authorized (RFC 8707
§2.2). A malformed or unknown resource, or one that is not what was
authorized, is ``invalid_target`` (RFC 8707 §2).

DPoP (RFC 9449): the HTTP layer checks the request's proof and hands over the
thumbprint of its key (``jkt``). Every grant then issues an access token bound
to that key (``cnf.jkt``, ``token_type`` ``DPoP``). A refresh token issued to a
public client with a proof is bound to the key too (§5), and so is a code whose
authorization request named ``dpop_jkt`` (§10): redeeming either needs a proof
by that key, else ``invalid_dpop_proof``. A confidential client's refresh tokens
stay unbound: its secret or keys already constrain who may use them (§5).
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from bearerguard._urls import resource_problem

from ._client_auth import ClientAuthenticator
from ._config import ClientConfig, DevIssuerConfig
from ._directory import ClientDirectory
from ._documents import endpoints
from ._errors import OAuthError
from ._pkce import verifier_matches
from ._resources import find_api
from ._store import Approval, GrantStore, RefreshGrant
from ._tokens import Minter

__all__ = ["GRANT_TYPES_SUPPORTED", "TokenEndpoint", "requested_audience"]

GRANT_TYPES_SUPPORTED = ("authorization_code", "client_credentials", "refresh_token")


class TokenEndpoint:
    """Answers token requests; the HTTP layer hands it the parameters and Basic credentials.

    Example::

        endpoint = TokenEndpoint(config, GrantStore(), minter)
        endpoint.token({"grant_type": "client_credentials", "client_id": "m2m-client",
                        "client_secret": "m2m-secret", "audience": "https://api.example.com"},
                       basic=None, issuer="http://127.0.0.1:9000/")
        # {'access_token': 'eyJ...', 'token_type': 'Bearer', 'expires_in': 86400, 'scope': ...}

    With ``jkt=`` (the thumbprint of a DPoP proof's key) the token is bound to that
    key and ``token_type`` is ``DPoP``. ``clients`` finds the clients (default: the
    configured ones; the server passes the directory that registered clients join);
    ``callers`` authenticates them (the server passes the one its introspection and
    revocation endpoints use, so that a client assertion is good for one request in all).
    """

    def __init__(
        self,
        config: DevIssuerConfig,
        store: GrantStore,
        minter: Minter,
        clients: ClientDirectory | None = None,
        callers: ClientAuthenticator | None = None,
    ) -> None:
        self._config = config
        self._store = store
        self._minter = minter
        self._clients = clients or ClientDirectory(config)
        self._callers = callers or ClientAuthenticator(self._clients)

    def token(
        self,
        params: Mapping[str, str],
        *,
        basic: tuple[str, str] | None,
        issuer: str,
        jkt: str | None = None,
    ) -> dict[str, Any]:
        """The token response for a request to ``issuer``'s token endpoint; ``jkt`` is the
        thumbprint of the key the request's DPoP proof was signed with, if it had one."""
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant_type not in GRANT_TYPES_SUPPORTED:
            raise OAuthError(
                "unsupported_grant_type",
                f"grant_type {grant_type!r} is not supported; use one of "
                f"{', '.join(GRANT_TYPES_SUPPORTED)}.",
            )
        # An assertion names the issuer or this endpoint (RFC 7523 §3), as Auth0 and Okta take.
        client = self._callers.token_client(
            params, basic, audiences=(issuer, endpoints(issuer)["token"])
        )
        if grant_type not in client.grant_types:
            raise OAuthError(
                "unauthorized_client",
                f"Client {client.client_id!r} may not use the {grant_type} grant "
                f"(its grant_types: {', '.join(client.grant_types)}).",
            )
        if grant_type == "client_credentials":
            return self._client_credentials(client, params, issuer, jkt)
        if grant_type == "authorization_code":
            return self._authorization_code(client, params, issuer, jkt)
        return self._refresh_token(client, params, issuer, jkt)

    def _client_credentials(
        self, client: ClientConfig, params: Mapping[str, str], issuer: str, jkt: str | None
    ) -> dict[str, Any]:
        audience = requested_audience(self._config, params)
        if not audience:
            raise OAuthError(
                "invalid_request",
                "audience (or resource) is required: the identifier of the API the token is for.",
            )
        api = find_api(self._config, audience, _requested(params))
        if api is None:
            raise OAuthError("access_denied", f"Service not found: {audience}", status=403)
        granted = client.grants.get(audience)
        if granted is None:
            raise OAuthError(
                "access_denied",
                f"Client {client.client_id!r} is not authorized to access {audience!r}: "
                "add the API to the client's grants in the configuration.",
                status=403,
            )
        scopes = _requested(params) or granted
        if scopes is not granted:
            for scope in scopes:
                if scope not in api.scopes:
                    raise OAuthError(
                        "invalid_scope", f"{scope!r} is not a scope of API {audience!r}."
                    )
                if scope not in granted:
                    raise OAuthError(
                        "invalid_scope",
                        f"Client {client.client_id!r} has not been granted {scope!r} for "
                        f"{audience!r}.",
                    )
        token = self._minter.client_token(
            issuer=issuer, client=client, api=api, scopes=scopes, jkt=jkt
        )
        return _response(token, api.token_lifetime, scopes, bound=jkt is not None)

    def _authorization_code(
        self, client: ClientConfig, params: Mapping[str, str], issuer: str, jkt: str | None
    ) -> dict[str, Any]:
        code = params.get("code")
        redirect_uri = params.get("redirect_uri")
        if not code or not redirect_uri:
            raise OAuthError("invalid_request", "code and redirect_uri are required.")
        grant = self._store.redeem_code(code)
        if grant.approval.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The code was issued to another client.")
        if redirect_uri != grant.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri differs from the one of the authorization request."
            )
        verifier = params.get("code_verifier")
        if grant.code_challenge is not None:
            if not verifier:
                raise OAuthError(
                    "invalid_grant", "code_verifier is required: the request sent a code_challenge."
                )
            if not verifier_matches(verifier, grant.code_challenge):
                raise OAuthError(
                    "invalid_grant", "code_verifier does not match the code_challenge."
                )
        elif verifier:
            # A verifier without a challenge is a PKCE downgrade attempt (RFC 9700 §2.1.1).
            raise OAuthError(
                "invalid_grant", "code_verifier was sent, but the request had no code_challenge."
            )
        _check_key(grant.dpop_jkt, jkt, "authorization code (dpop_jkt)")
        # After PKCE: only the code's rightful holder learns which API it was issued for.
        _check_target(params, grant.approval.audience, "code")
        response = self._user_tokens(issuer, grant.approval, jkt)
        if "offline_access" in grant.approval.scopes:
            response["refresh_token"] = self._store.issue_refresh(
                grant.approval,
                lifetime=self._config.refresh_token_lifetime,
                code=code,
                jkt=_refresh_binding(client, jkt),
            )
        return response

    def _refresh_token(
        self, client: ClientConfig, params: Mapping[str, str], issuer: str, jkt: str | None
    ) -> dict[str, Any]:
        token = params.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required.")
        grant: RefreshGrant = self._store.use_refresh(token)
        original = grant.approval
        if original.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The refresh token was issued to another client.")
        # Checked once the token is spent, as the client is: a bound refresh token presented
        # without its key was most likely stolen, and its family's next use revokes it.
        _check_key(grant.jkt, jkt, "refresh token")
        _check_target(params, original.audience, "refresh token")
        scopes = _requested(params) or original.scopes
        if scopes is not original.scopes:
            extra = [scope for scope in scopes if scope not in original.scopes]
            if extra:
                raise OAuthError(
                    "invalid_scope",
                    f"{extra[0]!r} was not granted originally; a refresh can only narrow scopes.",
                )
        # The access token gets the narrowed scopes; the new refresh token keeps the
        # original ones (RFC 6749 §6) and the family's absolute expiry.
        response = self._user_tokens(issuer, dataclasses.replace(original, scopes=scopes), jkt)
        response["refresh_token"] = self._store.issue_refresh(
            original,
            lifetime=self._config.refresh_token_lifetime,
            previous=grant,
            jkt=_refresh_binding(client, jkt),
        )
        return response

    def _user_tokens(self, issuer: str, approval: Approval, jkt: str | None) -> dict[str, Any]:
        token, lifetime = self._minter.user_token(issuer=issuer, approval=approval, jkt=jkt)
        response = _response(token, lifetime, approval.scopes, bound=jkt is not None)
        if "openid" in approval.scopes:
            response["id_token"] = self._minter.id_token(issuer=issuer, approval=approval)
        return response


# --- RFC 8707 resource indicators -------------------------------------------------------------


def requested_audience(config: DevIssuerConfig, params: Mapping[str, str]) -> str | None:
    """The identifier of the API a request asks for, or ``None`` when it names none.

    ``resource`` (RFC 8707) must be well formed and the identifier of a configured
    API (or a loopback resource, when the tenant accepts them), else
    ``invalid_target``; ``audience`` (Auth0) is returned as sent, for the caller to
    look up (Auth0 answers an unknown one with ``access_denied``). Both
    may be sent when they name the same API; two different APIs are
    ``invalid_target``, since a token here is for one API. Neither: the tenant's
    ``default_audience``.
    """
    resource = params.get("resource")
    audience = params.get("audience")
    if resource is None:
        return audience or config.default_audience
    problem = resource_problem(resource)
    if problem is not None:
        raise OAuthError("invalid_target", f"resource {resource!r} {problem}.")
    if find_api(config, resource) is None:
        known = ", ".join(api.identifier for api in config.apis) or "none"
        loopback = " or a loopback URL" if config.loopback_resources else ""
        raise OAuthError(
            "invalid_target",
            f"resource {resource!r} is not the identifier of an API of this issuer "
            f"(its APIs: {known}{loopback}).",
        )
    if audience is not None and audience != resource:
        raise OAuthError(
            "invalid_target",
            f"audience {audience!r} and resource {resource!r} name different APIs, and a "
            "token here is for one API: send one of them (or the same value in both).",
        )
    return resource


def _check_target(params: Mapping[str, str], authorized: str | None, grant: str) -> None:
    """RFC 8707 §2.2: ``resource`` with a code or refresh token names what was authorized."""
    resource = params.get("resource")
    if resource is None:
        return
    problem = resource_problem(resource)
    if problem is not None:
        raise OAuthError("invalid_target", f"resource {resource!r} {problem}.")
    if resource != authorized:
        granted = f"API {authorized!r}" if authorized else "signing in only (no API)"
        raise OAuthError(
            "invalid_target",
            f"resource {resource!r} was not authorized: the {grant} was issued for {granted}.",
        )


# --- DPoP (RFC 9449) ---------------------------------------------------------------------------


def _check_key(bound: str | None, proven: str | None, what: str) -> None:
    """A grant bound to a DPoP key is redeemed with a proof by that key only (§5, §10)."""
    if bound is None:
        return
    if proven is None:
        raise OAuthError(
            "invalid_dpop_proof",
            f"The {what} is bound to a DPoP key: send a DPoP header with a proof signed by "
            "that key.",
        )
    if not hmac.compare_digest(bound, proven):
        raise OAuthError(
            "invalid_dpop_proof",
            f"The DPoP proof is signed by another key than the one the {what} is bound to.",
        )


def _refresh_binding(client: ClientConfig, jkt: str | None) -> str | None:
    """The key a new refresh token is bound to: the proof's, for a public client (§5); a
    confidential client's refresh tokens are constrained by its secret or keys already."""
    return jkt if client.public else None


def _requested(params: Mapping[str, str]) -> tuple[str, ...]:
    # Space-separated, duplicates ignored; only spaces is the same as no scope parameter.
    return tuple(dict.fromkeys(params.get("scope", "").split()))


def _response(token: str, lifetime: int, scopes: Sequence[str], *, bound: bool) -> dict[str, Any]:
    return {
        "access_token": token,
        # RFC 9449 §5: a bound token's type says how to present it (Authorization: DPoP).
        "token_type": "DPoP" if bound else "Bearer",
        "expires_in": lifetime,
        "scope": " ".join(scopes),
    }
