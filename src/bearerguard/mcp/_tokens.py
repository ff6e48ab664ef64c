"""The SDK's ``TokenVerifier`` answered by a bearerguard verifier, and the mapping of a
verified token to the SDK's ``AccessToken`` that every way in shares."""

from __future__ import annotations

import logging

from bearerguard._errors import BearerError, ConfigurationError
from bearerguard._issuers import same_issuer
from bearerguard._token import AccessToken
from bearerguard._verifier import Verifier, verifier_argument

from ._sdk import MCPAccessToken, TokenVerifier

__all__ = ["BearerTokenVerifier", "sdk_access_token", "verified_or_none"]

logger = logging.getLogger("bearerguard")


class BearerTokenVerifier(TokenVerifier):
    """The MCP SDK's ``TokenVerifier``, answering with a bearerguard :class:`Verifier`.

    ``verify_token`` runs the verifier's async path (``averify``: the event loop
    never waits on a key fetch or an introspection call, and every request shares
    the verifier's caches) and maps the verified token to the SDK's ``AccessToken``.
    Whatever the provider issues, the mapping is the same: a signed JWT; an
    encrypted one (JWE, with ``decryption_keys=``), mapped from the signed token
    inside; an opaque one (with ``introspection=``), mapped from the endpoint's
    answer (RFC 7662 names its members as JWTs name their claims):

    - ``token``: the raw token, as the client sent it (the JWE, the opaque string);
    - ``client_id``: the ``client_id`` claim (RFC 9068 §2.2, the access-token
      claim for the client), else ``azp`` (OpenID Connect's authorized party,
      which Auth0 puts in its access tokens instead); both name the same client
      when a token has both. ``""`` when the token names no client: the SDK
      requires a string, and its principal is then told apart by issuer and
      subject;
    - ``scopes``: the granted scopes, sorted (the verifier's ``scope_claims``:
      ``scope``, ``scp``, and ``permissions`` when configured);
    - ``expires_at``: ``exp`` in whole seconds, rounded down;
    - ``resource``: the verifier's first configured audience that the token
      names, spelled as configured (RFC 8707: the resource it was issued for), what
      ``AuthSettings(validate_token_resource=True)`` compares with the
      server's ``resource_server_url``;
    - ``subject``: ``sub``; ``claims``: every claim, ``iss`` included (the SDK
      identifies a principal by client, issuer and subject). For an opaque token,
      every member of the answer but ``active``, and ``iss`` the endpoint's issuer
      when the answer names none.

    A refused token is ``None``, as the protocol asks, and the SDK answers 401;
    its answer says only "Authentication required", so the reason (expired,
    another audience, a bad signature, revoked: the endpoint says it is not
    active, ...) is logged on the ``bearerguard`` logger at INFO. A provider
    outage is not a refusal: when the issuer's keys cannot be had, or its
    introspection endpoint gives no usable answer (bearerguard's 503),
    ``KeySetUnavailableError`` (``IntrospectionUnavailableError``, a subclass,
    for the endpoint) is raised. The protocol's only answers are a token and
    ``None``, and ``None`` would send the client to authorize again for nothing;
    the SDK's app answers the error with 500. :func:`~bearerguard.mcp.protect`
    answers 503 with ``Retry-After`` instead.

    Example::

        server = MCPServer("contacts", token_verifier=BearerTokenVerifier(verifier),
                           auth=AuthSettings(issuer_url=..., resource_server_url=...))
    """

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier_argument(verifier, "BearerTokenVerifier(verifier)")
        if self.verifier.config.dpop == "required":
            # The SDK hands over Bearer tokens only, and averify() judges a token alone:
            # with DPoP required, this verifier would let through what the setting forbids.
            raise ConfigurationError(
                "BearerTokenVerifier cannot honour dpop='required': the MCP SDK's built-in auth "
                "accepts only Bearer tokens. Use dpop='allowed' (DPoP-bound tokens are still "
                "refused as Bearer tokens) or dpop='off' with this verifier.",
                setting="dpop",
            )

    async def verify_token(self, token: str) -> MCPAccessToken | None:
        """The SDK's ``AccessToken`` for a valid ``token``; ``None`` for a refused one.

        Raises ``KeySetUnavailableError`` when the issuer's keys cannot be
        fetched, ``IntrospectionUnavailableError`` (a subclass) when its
        introspection endpoint gives no usable answer (see the class documentation).

        Example::

            access = await BearerTokenVerifier(verifier).verify_token(raw)
            access.subject, access.scopes    # ('auth0|123', ['read:contacts'])
        """
        verified = await verified_or_none(self.verifier, token)
        if verified is None:
            return None
        return self.access_token(verified)

    def access_token(self, token: AccessToken) -> MCPAccessToken:
        """The SDK's ``AccessToken`` for a token this verifier verified.

        Example::

            mcp_token = BearerTokenVerifier(verifier).access_token(verifier.verify(raw))
            mcp_token.resource    # 'https://mcp.example.com/mcp'
        """
        return sdk_access_token(self.verifier, token)


def sdk_access_token(verifier: Verifier, token: AccessToken) -> MCPAccessToken:
    """The SDK's ``AccessToken`` for ``token``, which ``verifier`` verified (the mapping
    :class:`BearerTokenVerifier` documents field by field).

    Example::

        sdk_access_token(verifier, verifier.verify(raw)).client_id    # 'the-client'
    """
    claims = token.claims
    return MCPAccessToken(
        token=token.raw,
        client_id=token.client_id or "",
        scopes=sorted(token.effective_scopes),
        expires_at=int(claims["exp"]),  # int() rounds a fractional exp down: never later
        resource=_resource_of(verifier, token),
        subject=token.subject,
        claims=dict(claims),
    )


def _resource_of(verifier: Verifier, token: AccessToken) -> str | None:
    """The first configured audience that ``token`` names, in the configured spelling.

    Compared as the verifier compares URL-shaped names (equal, or equal under RFC
    3986 §6.2.2-6.2.3), so that a token naming ``HTTPS://MCP.example.com:443/mcp``
    reports the ``https://mcp.example.com/mcp`` the server was configured with.
    """
    claimed = token.audience
    for configured in verifier.config.audiences:
        if configured in claimed or any(same_issuer(configured, aud) for aud in claimed):
            return configured
    return None


async def verified_or_none(verifier: Verifier, token: str) -> AccessToken | None:
    """``token`` verified, or ``None`` when refused (the reason logged at INFO on the
    ``bearerguard`` logger), as the SDKs' token-verifier protocols ask.

    A provider outage is not a refusal: the 5xx error (``KeySetUnavailableError``, or
    its ``IntrospectionUnavailableError`` when the introspection endpoint gives no usable
    answer) is raised, for the caller to answer "try again later" however its SDK can.
    """
    try:
        return await verifier.averify(token)
    except BearerError as refusal:
        if refusal.status_code >= 500:  # the provider's fault, not the token's
            raise
        logger.info(
            "MCP server refused a bearer token (%d %s): %s",
            refusal.status_code,
            refusal.error,
            refusal.reason,
        )
        return None
