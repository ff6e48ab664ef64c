"""What the dev-issuer publishes about itself: endpoint URLs and the discovery document."""

from __future__ import annotations

from typing import Any

from ._config import GRANT_TYPES, OIDC_SCOPES, DevIssuerConfig
from ._proofs import PROOF_ALGORITHMS
from ._tokens import USERINFO

__all__ = ["DISCOVERY", "JWKS", "OAUTH_METADATA", "discovery_document", "endpoints"]

DISCOVERY = ".well-known/openid-configuration"
OAUTH_METADATA = ".well-known/oauth-authorization-server"
JWKS = ".well-known/jwks.json"
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
        "rotate": issuer + "dev/rotate",  # POST: a dev convenience, see DevIssuer.rotate_keys
    }


def discovery_document(issuer: str, config: DevIssuerConfig, algorithm: str) -> dict[str, Any]:
    """The OpenID Connect discovery document of ``issuer`` (also served as RFC 8414 metadata)."""
    scopes = dict.fromkeys([*OIDC_SCOPES, *(s for api in config.apis for s in api.scopes)])
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "authorize",
        "token_endpoint": issuer + "oauth/token",
        "userinfo_endpoint": issuer + USERINFO,
        "jwks_uri": issuer + JWKS,
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [algorithm],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        # RFC 9449 §5.1: the token endpoint takes DPoP proofs signed with these.
        "dpop_signing_alg_values_supported": list(PROOF_ALGORITHMS),
        "scopes_supported": list(scopes),
        "claims_supported": list(_CLAIMS),
    }
