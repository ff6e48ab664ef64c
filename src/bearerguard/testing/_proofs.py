"""DPoP for tests: a client's key, and proofs made to pass or to fail one check each.

:class:`DPoPKey` is the key a DPoP client holds; :func:`mint_proof` signs a
proof with it (through :mod:`bearerguard._mint`, as the dev issuer would) or,
with ``broken=...``, a proof that :meth:`Verifier.verify_request
<bearerguard.Verifier.verify_request>` refuses for one reason only.
:class:`~bearerguard.testing.FakeIssuer` is the front door of both.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

from bearerguard._config import DPOP_ALGORITHMS
from bearerguard._dpop import token_hash
from bearerguard._errors import ConfigurationError
from bearerguard._mint import (
    FAKE_ALGORITHMS,
    SigningKey,
    claim_value,
    compact_jws,
    proof_claims,
    proof_header,
    proof_target,
)

__all__ = ["BROKEN_PROOFS", "PROOF_ALGORITHMS", "BrokenProof", "DPoPKey", "mint_proof"]

#: what a DPoP client key may sign with: what the verifier accepts in proofs (no ES256K)
PROOF_ALGORITHMS = tuple(name for name in FAKE_ALGORITHMS if name in DPOP_ALGORITHMS)
#: ``broken=...``: the one check of the verifier that each kind of proof fails
BrokenProof = Literal["htm", "htu", "iat", "jti", "ath", "key", "signature", "nonce"]
BROKEN_PROOFS: tuple[BrokenProof, ...] = get_args(BrokenProof)
# Older than any verifier accepts: dpop_proof_max_age is at most 300 s, the leeway 600 s.
_STALE = 3600


class DPoPKey:
    """The key pair of a DPoP client: the test holds the private half, proofs carry the public.

    Made by :meth:`FakeIssuer.dpop_key() <bearerguard.testing.FakeIssuer.dpop_key>`;
    a token minted with ``dpop_key=key`` is bound to it (``cnf.jkt``), and
    :meth:`~bearerguard.testing.FakeIssuer.dpop_proof` signs proofs with it.

    Example::

        key = issuer.dpop_key()
        key.jwk             # {'kty': 'EC', 'crv': 'P-256', 'x': '...', 'y': '...'}
        key.jkt             # its RFC 7638 thumbprint: the token's cnf.jkt
    """

    __slots__ = ("_jkt", "_key", "_last_jti")

    def __init__(self, algorithm: str = "ES256") -> None:
        if not isinstance(algorithm, str) or algorithm not in PROOF_ALGORITHMS:
            raise ConfigurationError(
                f"A DPoP key signs with one of {', '.join(PROOF_ALGORITHMS)} (what a verifier "
                f"accepts in proofs), not {algorithm!r}."
            )
        self._key = SigningKey(algorithm)
        self._jkt: str | None = None
        self._last_jti: str | None = None  # of its latest sound proof: broken="jti"

    @property
    def algorithm(self) -> str:
        """The JWS algorithm of the proofs (their header's ``alg``)."""
        return self._key.algorithm

    @property
    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK, as a proof's header carries it; never a private member."""
        return self._key.bare_jwk()

    @property
    def jkt(self) -> str:
        """The RFC 7638 SHA-256 thumbprint of the public key: a bound token's ``cnf.jkt``."""
        if self._jkt is None:
            self._jkt = self._key.thumbprint()
        return self._jkt

    def __repr__(self) -> str:
        # Never the key itself: a repr ends up in logs and assertion messages.
        return f"DPoPKey(algorithm={self.algorithm!r})"


def mint_proof(
    key: DPoPKey,
    *,
    method: str,
    url: str,
    now: float,
    token: str | None = None,
    nonce: str | None = None,
    jti: str | None = None,
    iat: float | datetime | None = None,
    broken: BrokenProof | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """A proof of ``method`` and ``url`` signed by ``key``, or one broken as ``broken`` says.

    ``claims`` adds or replaces claims (``None`` removes one); ``now`` is the
    default ``iat``. See :meth:`FakeIssuer.dpop_proof
    <bearerguard.testing.FakeIssuer.dpop_proof>` for the kinds of broken proofs.
    """
    if not isinstance(key, DPoPKey):
        raise TypeError(
            f"key must be a DPoPKey (from issuer.dpop_key()), got {type(key).__name__}."
        )
    if not isinstance(method, str) or not method or not isinstance(url, str) or not url:
        raise TypeError(
            "dpop_proof() takes the request's method and URL, e.g. "
            "dpop_proof('GET', 'https://api.example.com/api/contacts', ...)."
        )
    if broken is not None and broken not in BROKEN_PROOFS:
        raise ValueError(f"broken must be one of {', '.join(BROKEN_PROOFS)}, not {broken!r}.")
    if broken == "jti":
        if key._last_jti is None:
            raise ValueError(
                "broken='jti' reuses the jti of this key's latest sound proof: sign one "
                "first (and have it accepted), then the replay is refused."
            )
        jti = key._last_jti
    body = proof_claims(
        method=method,
        url=url,
        iat=int(now) if iat is None else claim_value(iat),
        jti=secrets.token_urlsafe(16) if jti is None else jti,
        access_token=token,
        nonce=nonce,
    )
    body.update({name: claim_value(value) for name, value in (claims or {}).items()})
    header, signer = proof_header(key._key), key._key
    # Each kind breaks one thing only, after the caller's claims, so that it always shows.
    if broken == "htm":
        body["htm"] = "POST" if method.upper() != "POST" else "GET"
    elif broken == "htu":
        parts = urlsplit(proof_target(url))  # another resource of the same server
        body["htu"] = urlunsplit((*parts[:2], parts.path.rstrip("/") + "/elsewhere", "", ""))
    elif broken == "iat":
        body["iat"] = int(now) - _STALE
    elif broken == "ath":
        body["ath"] = token_hash(f"{token or ''}.another-token")
    elif broken == "nonce":
        body.pop("nonce", None)
    elif broken == "key":  # a sound proof, but by a key the token is not bound to
        signer = SigningKey(key.algorithm)
        header = proof_header(signer)
    elif broken == "signature":  # the key's jwk, another key's signature
        signer = SigningKey(key.algorithm)
    if broken is None and isinstance(body.get("jti"), str):
        key._last_jti = body["jti"]  # what broken="jti" replays
    return compact_jws(header, _present(body), signer)


def _present(claims: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in claims.items() if value is not None}
