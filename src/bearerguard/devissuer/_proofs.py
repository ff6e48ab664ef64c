"""DPoP proofs at the token endpoint (RFC 9449 §5, §8): which key a token request proves.

A client that wants sender-constrained tokens sends a ``DPoP`` header with its
token request: a proof signed by its key, naming ``POST`` and the token
endpoint's URL. :class:`TokenEndpointProofs` checks it with the library's own
proof code (:mod:`bearerguard._dpop`, the checks a resource server makes), then
the server nonce when nonces are on (§8), then the replay of its ``jti``, last,
and answers the RFC 7638 thumbprint of the key: what the access token's
``cnf.jkt`` will name. A token request carries no access token, so no ``ath``
is asked for.

Every refusal is an :class:`~._errors.OAuthError` (400): ``invalid_dpop_proof``
with the failed check as its description (a developer reads it), or
``use_dpop_nonce`` with a fresh nonce in a ``DPoP-Nonce`` header.

Example::

    proofs = TokenEndpointProofs(nonces=False)
    jkt = proofs.key_of(request.header("DPoP"), method="POST",
                        url="http://127.0.0.1:9000/oauth/token")   # None: no proof sent
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from bearerguard._config import DPOP_ALGORITHMS
from bearerguard._dpop import KnownHeaders, check_binding, read_proof
from bearerguard._errors import InvalidDPoPProofError
from bearerguard._htu import same_target
from bearerguard._jose import b64url_encode
from bearerguard._nonces import NonceSource
from bearerguard._replay import MemoryReplayStore
from bearerguard._signatures import signature_primitives

from ._errors import OAuthError

__all__ = [
    "NONCE_HEADER",
    "PROOF_ALGORITHMS",
    "PROOF_LEEWAY",
    "PROOF_MAX_AGE",
    "TokenEndpointProofs",
]

#: what a proof may be signed with: every asymmetric algorithm the library verifies
PROOF_ALGORITHMS = tuple(sorted(DPOP_ALGORITHMS))
#: seconds a proof's iat may lie in the past: a proof is made for the request it comes with
PROOF_MAX_AGE = 60.0
#: seconds of clock difference allowed either way; client and server share a machine here
PROOF_LEEWAY = 5.0
#: the response header that hands clients a server nonce (RFC 9449 §8)
NONCE_HEADER = "DPoP-Nonce"


class TokenEndpointProofs:
    """Checks the DPoP proofs of token requests; one per running server.

    ``nonces``: demand a server nonce in every proof (RFC 9449 §8). The nonces are
    stateless (:class:`~bearerguard._nonces.NonceSource` under a secret made at
    start): a nonce is good during the minute it was issued and the next one.

    Example::

        proofs = TokenEndpointProofs(nonces=True)
        proofs.nonce()     # the current nonce, for the DPoP-Nonce response header
    """

    def __init__(self, *, nonces: bool, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._primitives = signature_primitives(DPOP_ALGORITHMS)
        self._headers: KnownHeaders = {}  # proof headers that passed: one per client key
        self._replays = MemoryReplayStore()
        # A fresh secret per start: nonces of an earlier run are not current anyway.
        self._nonces = NonceSource(secrets.token_bytes(32)) if nonces else None

    @property
    def demands_nonces(self) -> bool:
        """Whether every proof must carry a current server nonce."""
        return self._nonces is not None

    def nonce(self) -> str | None:
        """The current server nonce (``None`` when nonces are off): every token response
        carries it, so a client always holds a fresh one for its next proof."""
        return None if self._nonces is None else self._nonces.issue(self._clock())

    def key_of(self, proof: str | None, *, method: str, url: str) -> str | None:
        """The thumbprint (``jkt``) of the key that signed ``proof``; ``None`` without one.

        ``proof`` is the request's ``DPoP`` header as received (repeated fields joined
        with commas, which no compact JWS holds); ``url`` the token endpoint's URL as
        the client used it (its ``Host``). Raises :class:`~._errors.OAuthError`.
        """
        if proof is None:
            return None
        if "," in proof:
            raise _invalid(
                "The request has several DPoP header fields; send exactly one (RFC 9449 §4.3)."
            )
        now = self._clock()
        try:
            checked = read_proof(proof, self._primitives, self._headers)
            if not same_target(checked.claims["htu"], url):
                # Said here rather than by check_binding, whose advice is a resource server's.
                raise _invalid(
                    f"The DPoP proof's htu is not the URL this request was sent to, {url} "
                    "(the token endpoint of the issuer the client uses; query aside)."
                )
            check_binding(
                checked,
                method=method,
                url=url,
                access_token=None,  # nothing to hash yet: no ath at the token endpoint
                jkt=None,  # nothing to bind to yet: this proof names the key
                now=now,
                leeway=PROOF_LEEWAY,
                max_age=PROOF_MAX_AGE,
            )
        except InvalidDPoPProofError as refused:
            raise _invalid(refused.reason) from None
        if self._nonces is not None and not self._nonces.accepts(checked.claims.get("nonce"), now):
            raise OAuthError(
                "use_dpop_nonce",
                "Authorization server requires nonce in DPoP proof: sign a new proof with the "
                f"nonce of the {NONCE_HEADER} header of this answer.",
                headers={NONCE_HEADER: self._nonces.issue(now)},
            )
        # Last, so that a proof refused for another reason does not use up its jti. The
        # key is scoped by the client's key: two clients may well pick the same jti.
        digest = hashlib.sha256(f"{checked.jkt}\x00{checked.jti}".encode()).digest()
        expires = checked.iat + PROOF_MAX_AGE + 2 * PROOF_LEEWAY
        if not self._replays.remember(b64url_encode(digest), expires, now):
            raise _invalid(
                "The DPoP proof was used before (its jti is known): sign a new proof, with a "
                "new jti, for every request."
            )
        return checked.jkt


def _invalid(description: str) -> OAuthError:
    return OAuthError("invalid_dpop_proof", description)
