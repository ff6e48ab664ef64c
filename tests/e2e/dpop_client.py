"""A DPoP client of the loopback identity provider: its own key, bound tokens, a proof per request.

The servers under test are other processes, so they fetch the provider's keys over
HTTP like any resource server; the tokens here are signed with the very key the
provider publishes (as the provider's own :meth:`Tenant.token` signs them), and
carry ``cnf.jkt``, the thumbprint of the client's key (RFC 9449 §6). Proofs come
from the project's minting (:mod:`bearerguard._mint`), each with a new ``jti``,
the current time, and the URL the request goes to.

Example::

    client = DPoPClient()
    token = client.bound_token(tenant)
    headers = client.headers("GET", "http://127.0.0.1:8000/api/private", token)
    # {"Authorization": "DPoP eyJ...", "DPoP": "eyJ..."}
"""

from __future__ import annotations

import secrets
import time

from bearerguard._mint import SigningKey, dpop_proof
from tests.support import claims, sign_token

from .identity_provider import KID, SUB, Tenant

TOKEN_LIFETIME = 600


class DPoPClient:
    """A client that holds a DPoP key (ES256, as most DPoP clients use)."""

    def __init__(self, algorithm: str = "ES256") -> None:
        self.key = SigningKey(algorithm)

    def bound_token(self, tenant: Tenant, *, scope: str = "openid profile") -> str:
        """An access token from ``tenant``'s issuer, bound to this client's key."""
        issued_at = int(time.time())
        body = claims(
            now=issued_at,
            iss=tenant.issuer,
            sub=SUB,
            aud=[tenant.audience, tenant.issuer + "userinfo"],
            exp=issued_at + TOKEN_LIFETIME,
            scope=scope,
            cnf={"jkt": self.key.thumbprint()},
        )
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        return sign_token(header, body, tenant.provider.key)

    def proof(self, method: str, url: str, token: str) -> str:
        """A new proof for ``method`` ``url`` with ``token``: a fresh ``jti``, ``iat`` now."""
        return dpop_proof(
            self.key,
            method=method,
            url=url,
            iat=int(time.time()),
            jti=secrets.token_urlsafe(16),
            access_token=token,
        )

    def headers(self, method: str, url: str, token: str) -> dict[str, str]:
        """``Authorization: DPoP <token>`` and a new ``DPoP`` proof for the request."""
        return {"Authorization": f"DPoP {token}", "DPoP": self.proof(method, url, token)}
