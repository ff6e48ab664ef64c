"""What the dev-issuer publishes about itself: endpoint URLs and the discovery document.

One document answers both discovery URLs: OpenID Connect discovery and RFC 8414
authorization server metadata share their fields, and a client reads the one it
knows. An MCP client reads RFC 8414's, and checks in it (the official Python
SDK's client, among others): ``issuer`` equal to the URL it derived the metadata
URL from (§3.3); the authorization, token and registration endpoints;
``scopes_supported``, whose ``offline_access`` makes it ask for a refresh token;
and ``authorization_response_iss_parameter_supported``, which makes it demand
the ``iss`` of RFC 9207 in the authorization response.
"""

from __future__ import annotations

from typing import Any

from ._client_auth import AUTH_METHODS
from ._config import GRANT_TYPES, OIDC_SCOPES, DevIssuerConfig
from ._proofs import PROOF_ALGORITHMS
from ._tokens import USERINFO

__all__ = [
    "DISCOVERY",
    "INTROSPECTION",
    "JWKS",
    "OAUTH_METADATA",
    "REGISTRATION",
    "REVOCATION",
    "discovery_document",
    "endpoints",
]

DISCOVERY = ".well-known/openid-configuration"
OAUTH_METADATA = ".well-known/oauth-authorization-server"
JWKS = ".well-known/jwks.json"
REGISTRATION = "oidc/register"  # where Auth0 serves dynamic client registration
INTROSPECTION = "oauth/introspect"  # RFC 7662
REVOCATION = "oauth/revoke"  # RFC 7009, where Auth0 serves it
_CLAIMS = (
    "iss", "sub", "aud", "iat", "exp", "auth_time", "nonce",
    "name", "email", "email_verified", "org_id", "org_name",
)  # fmt: skip


def endpoints(issuer: str) -> dict[str, str]:
    """The URLs of ``issuer``'s endpoints, by name.

    Example::

        endpoints("http://127.0.0.1:9000/")["token"]   # 'http://127.0.0.1:9000/oauth/token'
    """
    return {
        "discovery": issuer + DISCOVERY,
        "jwks": issuer + JWKS,
        "authorize": issuer + "authorize",
        "token": issuer + "oauth/token",
        "userinfo": issuer + USERINFO,
        "registration": issuer + REGISTRATION,
        "introspection": issuer + INTROSPECTION,  # POST: confidential clients (RFC 7662)
        "revocation": issuer + REVOCATION,  # POST: confidential clients (RFC 7009)
        "rotate": issuer + "dev/rotate",  # POST: a dev convenience, see DevIssuer.rotate_keys
    }


def discovery_document(issuer: str, config: DevIssuerConfig, algorithm: str) -> dict[str, Any]:
    """The OpenID Connect discovery document of ``issuer`` (also served as RFC 8414 metadata).

    Example::

        discovery_document("http://127.0.0.1:9000/", default_config(), "RS256")["issuer"]
        # 'http://127.0.0.1:9000/'
    """
    scopes = dict.fromkeys([*OIDC_SCOPES, *(s for api in config.apis for s in api.scopes)])
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "authorize",
        "token_endpoint": issuer + "oauth/token",
        "userinfo_endpoint": issuer + USERINFO,
        "jwks_uri": issuer + JWKS,
        # RFC 7591: public clients with loopback redirect URIs (see ._registration).
        "registration_endpoint": issuer + REGISTRATION,
        # RFC 7662 and RFC 7009: for confidential clients, by secret or private_key_jwt.
        "introspection_endpoint": issuer + INTROSPECTION,
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(PROOF_ALGORITHMS),
        "revocation_endpoint": issuer + REVOCATION,
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(PROOF_ALGORITHMS),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [algorithm],
        # The confidential clients' methods, and none: public clients send their client_id only.
        "token_endpoint_auth_methods_supported": [*AUTH_METHODS, "none"],
        "token_endpoint_auth_signing_alg_values_supported": list(PROOF_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        # RFC 9207: every authorization response carries iss.
        "authorization_response_iss_parameter_supported": True,
        # RFC 9449 §5.1: the token endpoint takes DPoP proofs signed with these.
        "dpop_signing_alg_values_supported": list(PROOF_ALGORITHMS),
        "scopes_supported": list(scopes),
        "claims_supported": list(_CLAIMS),
    }
