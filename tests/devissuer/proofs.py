"""A DPoP client for the dev issuer's tests: its key, its proofs, and its token requests.

Proofs are signed with the project's own minting (``bearerguard._mint``), as the
command line signs them; the dev issuer checks them with the library's own proof
code, so these tests exercise both halves for real.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import httpx

from bearerguard._mint import SigningKey, compact_jws, dpop_proof, proof_claims, proof_header
from bearerguard.devissuer import DevIssuer

from .flows import API, M2M


class ClientKey:
    """A DPoP client's key pair (ES256 unless told otherwise) and the proofs it signs.

    Example::

        key = ClientKey()
        key.proof(issuer.url + "oauth/token")          # a fresh proof of a token request
        key.jkt                                         # what a bound token's cnf.jkt names
    """

    def __init__(self, algorithm: str = "ES256") -> None:
        self.signing_key = SigningKey(algorithm)

    @property
    def jkt(self) -> str:
        return self.signing_key.thumbprint()

    def proof(
        self,
        url: str,
        *,
        method: str = "POST",
        iat: float | None = None,
        jti: str | None = None,
        nonce: str | None = None,
        access_token: str | None = None,
    ) -> str:
        """A sound proof of ``method url`` (now, a new jti), unless the arguments say otherwise."""
        return dpop_proof(
            self.signing_key,
            method=method,
            url=url,
            iat=time.time() if iat is None else iat,
            jti=secrets.token_urlsafe(16) if jti is None else jti,
            access_token=access_token,
            nonce=nonce,
        )

    def forged_proof(self, url: str) -> str:
        """A proof that carries this key's jwk but another key's signature."""
        claims = proof_claims(
            method="POST", url=url, iat=time.time(), jti=secrets.token_urlsafe(16)
        )
        return compact_jws(proof_header(self.signing_key), claims, SigningKey("ES256"))


def token_url(issuer: DevIssuer, base: str | None = None) -> str:
    """The token endpoint under ``base`` (default: the canonical issuer)."""
    return (base or issuer.url) + "oauth/token"


def request_token(
    http: httpx.Client,
    issuer: DevIssuer,
    *,
    proof: str | list[str] | None,
    base: str | None = None,
    **params: str,
) -> httpx.Response:
    """``POST /oauth/token`` with ``params`` and ``proof`` as its ``DPoP`` header (a list:
    that many ``DPoP`` fields; ``None``: none)."""
    values = [proof] if isinstance(proof, str) else proof or []
    headers = [("DPoP", value) for value in values]
    return http.post(token_url(issuer, base), data=params, headers=headers)


def machine_token(
    http: httpx.Client, issuer: DevIssuer, *, proof: str | list[str] | None, **params: str
) -> httpx.Response:
    """The M2M client's client-credentials request, with ``proof``."""
    form: dict[str, Any] = {
        "grant_type": "client_credentials",
        "client_id": M2M,
        "client_secret": "m2m-secret",
        "audience": API,
        **params,
    }
    return request_token(http, issuer, proof=proof, **form)


def refused(response: httpx.Response, error: str = "invalid_dpop_proof") -> str:
    """The description of a 400 refusal with ``error``; fails the test on anything else."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == error, body
    assert response.headers["Cache-Control"] == "no-store"
    description: str = body["error_description"]
    return description


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, read without verifying it (the tests verify where it matters)."""
    segment = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded
