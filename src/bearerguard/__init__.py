"""bearerguard: protect HTTP APIs with OAuth 2.0 / OpenID Connect JWT bearer access tokens.

Example::

    from bearerguard import Verifier, BearerError

    verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
    try:
        token = verifier.verify_authorization(request.headers.get("Authorization"))
        token.require_scopes("read:contacts")
    except BearerError as exc:
        return respond(exc.to_json(), status=exc.status_code, headers=exc.headers)

This module imports no web framework; the adapters live in ``bearerguard.asgi``,
``bearerguard.wsgi``, ``bearerguard.starlette``, ``bearerguard.fastapi``,
``bearerguard.flask`` and ``bearerguard.django`` (each import path is also the
name of the extra that installs its framework). Claim rules, for the verifier and
for routes, are built with ``bearerguard.claims``.
"""

from __future__ import annotations

from ._claim_rules import ClaimRule
from ._config import CachePolicy, Introspection, VerifierConfig
from ._credentials import token_from_authorization
from ._errors import (
    BearerError,
    ConfigurationError,
    EncryptedTokenError,
    ExpiredTokenError,
    ImmatureTokenError,
    InsufficientClaimsError,
    InsufficientScopeError,
    IntrospectionUnavailableError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidDPoPProofError,
    InvalidIssuerError,
    InvalidRequestError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UnknownKeyError,
    UseDPoPNonceError,
)
from ._request import HttpRequest
from ._rules import Rule
from ._token import AccessToken
from ._verifier import Verifier
from ._version import __version__

__all__ = [
    "AccessToken",
    "BearerError",
    "CachePolicy",
    "ClaimRule",
    "ConfigurationError",
    "EncryptedTokenError",
    "ExpiredTokenError",
    "HttpRequest",
    "ImmatureTokenError",
    "InsufficientClaimsError",
    "InsufficientScopeError",
    "Introspection",
    "IntrospectionUnavailableError",
    "InvalidAudienceError",
    "InvalidClaimsError",
    "InvalidDPoPProofError",
    "InvalidIssuerError",
    "InvalidRequestError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "KeySetUnavailableError",
    "MalformedTokenError",
    "MissingTokenError",
    "Rule",
    "SenderConstrainedTokenError",
    "UnknownKeyError",
    "UseDPoPNonceError",
    "Verifier",
    "VerifierConfig",
    "__version__",
    "token_from_authorization",
]
