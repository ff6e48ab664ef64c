"""Request-bound verification: which scheme, which proof, and the binding after the token.

The order (``docs/design.md``): the credentials and their scheme -> the DPoP
proof's own checks and its binding to this request (pure, before any network) ->
the token, as for a bearer token but with ``cnf`` left to the next step -> the
binding of the token to the proof's key (``cnf.jkt``) and to the client
certificate (``cnf["x5t#S256"]``, RFC 8705 §3) -> the server nonce -> the
replay check, last, so that no refused request uses up a ``jti``.

A verifier that reads client certificates (``client_certificate=``) verifies
Bearer requests on the bound plan too, their ``cnf`` left to :meth:`bind_bearer`:
a token bound to a certificate passes with that certificate only, and any other
``cnf`` is refused as before. Without a source, a certificate-bound token is
refused whatever the scheme: there is nothing to match it with.

The rules of the schemes (RFC 9449 §7, choices written in ``docs/security.md``):

* ``Bearer`` carries unbound tokens only: a bound token sent as Bearer is refused
  by the token's own checks (:class:`SenderConstrainedTokenError`), and a Bearer
  request that also sends a ``DPoP`` header is malformed (400).
* ``DPoP`` needs exactly one ``DPoP`` field and a token bound to its key; an
  unbound token sent as DPoP is refused (401 ``invalid_token``).
* ``dpop="required"`` takes no Bearer credentials (401, a ``DPoP`` challenge
  only); ``"off"`` takes no DPoP credentials (401, a ``Bearer`` challenge only).

Example::

    binding = DPoPBinding(config, nonces=None, replays=MemoryReplayStore())
    prepared = binding.prepare(request, now)      # None: no credentials
    ...verify prepared.token (prepared.bound: on the DPoP plan)...
    key, expires = binding.bind(token, prepared, now, request)
    if not binding.replays.remember(key, expires, now):
        raise binding.replayed()
    # a Bearer request, client certificates read: binding.bind_bearer(token, request)
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ._certificates import certificate_thumbprint
from ._claims import bound_reason
from ._config import VerifierConfig
from ._credentials import (
    credentials_from_authorization,
    query_has_access_token,
    usual_credentials,
)
from ._dpop import Proof, ProofChecker
from ._errors import (
    BearerError,
    ConfigurationError,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    KeySetUnavailableError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UseDPoPNonceError,
)
from ._jose import b64url_decode, b64url_encode
from ._nonces import NonceSource
from ._redis_urls import from_redis_url, is_redis_url
from ._replay import MemoryReplayStore, ReplayStore, ReplayStoreUnavailable
from ._request import HttpRequest
from ._signatures import signature_primitives
from ._token import AccessToken

__all__ = ["CERTIFICATE_DESCRIPTION", "DPoPBinding", "Prepared", "replay_store_argument"]

#: The one description of every certificate refusal (no certificate, an unreadable one,
#: another): the reason, in the log, says which (RFC 8705 §3: 401 invalid_token).
CERTIFICATE_DESCRIPTION = (
    "The access token is bound to a client certificate that the request does not present"
)
_THUMBPRINT = "x5t#S256"


class Prepared(NamedTuple):
    """A request's credentials, their proof checked as far as it can be without the token.

    Immutable; a named tuple because every request builds one.
    """

    scheme: str  # "Bearer" or "DPoP"
    token: str
    proof: Proof | None = None

    @property
    def bound(self) -> bool:
        """Whether the token is verified on the DPoP plan (its binding checked after)."""
        return self.proof is not None


# One per request: tuple.__new__ skips the named tuple's Python-level __new__.
_prepared: Callable[[tuple[Any, ...]], Prepared] = functools.partial(tuple.__new__, Prepared)


class DPoPBinding:
    """The request-bound steps of one verifier: its DPoP settings, nonces and replay store."""

    def __init__(
        self, config: VerifierConfig, *, nonces: NonceSource | None, replays: ReplayStore
    ) -> None:
        self.config = config
        self.schemes = config.dpop_schemes
        self.algorithms = tuple(sorted(config.dpop_algorithms))
        self.nonces = nonces
        self.replays = replays
        #: where requests carry their client certificate; None: certificate-bound tokens
        #: are refused, and Bearer requests take the bearer plan
        self.certificates = config.certificate_source
        # The proof's checks, with the memos of what a client sends again and again (its
        # key's header, its URLs, its token's hash), each bounded (docs/performance.md).
        self._proofs = ProofChecker(
            signature_primitives(config.dpop_algorithms),
            leeway=config.leeway,
            max_age=config.dpop_proof_max_age,
        )
        self._hashes = self._proofs.hashes
        # How long a proof's jti is worth remembering after its iat: past that, the proof
        # is refused as too old anyway (plus the leeway on either clock).
        self._replay_window = config.dpop_proof_max_age + 2 * config.leeway

    def offer(self, error: BearerError) -> BearerError:
        """``error`` with this verifier's realm and a challenge for each accepted scheme,
        each naming the resource's metadata URL when there is one (RFC 9728 §5.1)."""
        error.realm = self.config.realm
        error.resource_metadata = self.config.resource_metadata_url
        return error.offering(self.schemes, self.algorithms if "DPoP" in self.schemes else ())

    def prepare(self, request: HttpRequest, now: float) -> Prepared | None:
        """The request's credentials and its proof's own checks; ``None`` without credentials.

        Raises the refusal otherwise; like every refusal here, the verifier offers it
        with the accepted schemes (:meth:`offer`) before it is raised further.
        """
        url = request.url
        # One pass over the fields for both names (header names are lower-cased already).
        authorization: list[str] = []
        proofs: list[str] = []
        for name, value in request.headers:
            if name == "authorization":
                authorization.append(value)
            elif name == "dpop":
                proofs.append(value)
        query = urlsplit(url).query if "?" in url else ""
        # The usual request is read without the full parser, which gives the same answer
        # for it (a single well-formed field, no token in the query); a token that passed
        # on this path before is a b64token, and not checked for being one again.
        usual = usual_credentials(authorization, self._hashes)
        if usual is not None and not (query and query_has_access_token(query)):
            scheme, token = usual
        else:
            try:
                scheme, token = credentials_from_authorization(
                    authorization, query=query, realm=self.config.realm
                )
            except MissingTokenError:
                return None
        if scheme not in self.schemes:
            raise MissingTokenError(
                reason=f"The {scheme} scheme is not accepted here (dpop={self.config.dpop!r}).",
                realm=self.config.realm,
            )
        if scheme == "Bearer":
            if proofs:
                raise InvalidRequestError(
                    "A DPoP proof was sent with a Bearer token",
                    reason="The request sends a DPoP proof with the Bearer scheme: a bound "
                    "token is sent with the DPoP scheme (RFC 9449 §7.1).",
                    realm=self.config.realm,
                )
            return _prepared(("Bearer", token, None))
        if len(proofs) != 1:
            raise InvalidDPoPProofError(
                reason="The DPoP scheme needs exactly one DPoP header field "
                f"(RFC 9449 §4.3); the request has {len(proofs)}.",
                realm=self.config.realm,
            )
        if self.config.public_url is not None:
            url = self.public(url)
        # The token's cnf is checked by bind(), once the token passed.
        proof = self._proofs.check(proofs[0], request.method, url, token, now)
        return _prepared(("DPoP", token, proof))

    def public(self, url: str) -> str:
        """The URL clients used: ``url``, or its path under ``public_url`` when one is set."""
        base = self.config.public_url
        if base is None:
            return url
        parts = urlsplit(url)
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def bind(
        self, token: AccessToken, prepared: Prepared, now: float, request: HttpRequest
    ) -> tuple[str, float]:
        """The steps after the token (a DPoP request): the token is bound to the proof's key
        (``cnf.jkt``, RFC 9449 §6 and §4.3 check 12) and, if it names one, to the request's
        client certificate (``cnf["x5t#S256"]``, RFC 8705 §3), the server nonce is current
        (§9).

        Returns the replay store's entry for the proof: its key (per client key and
        ``jti``, hashed: a store adds its own prefix) and when the proof is too old anyway.
        """
        proof = prepared.proof
        assert proof is not None  # noqa: S101 - only DPoP requests come here
        cnf = token.claims.get("cnf")
        if type(cnf) is not dict:  # what JSON gives; anything else the slow way
            cnf = token.confirmation
        jkt = None if cnf is None else cnf.get("jkt")
        if not isinstance(jkt, str):
            raise InvalidTokenError(
                "The access token is not bound to a DPoP key",
                reason="The token was sent with the DPoP scheme but carries no cnf.jkt: "
                "send a token that is not DPoP-bound with the Bearer scheme.",
            )
        if proof.jkt != jkt:
            raise InvalidDPoPProofError(
                reason="The DPoP proof's key is not the key the token is bound to (cnf.jkt)."
            )
        if cnf is not None and _THUMBPRINT in cnf:  # bound both ways: both are needed
            self._certificate_matches(cnf[_THUMBPRINT], request)
        # The token passed and the proof hashed it: its ath is worth remembering now.
        self._hashes.keep(prepared.token, proof.claims["ath"])
        if self.nonces is not None and not self.nonces.accepts(proof.claims.get("nonce"), now):
            raise UseDPoPNonceError(self.nonces.issue(now))
        digest = hashlib.sha256(f"{proof.jkt}\x00{proof.jti}".encode()).digest()
        return b64url_encode(digest), proof.iat + self._replay_window

    def bind_bearer(self, token: AccessToken, request: HttpRequest) -> None:
        """The binding of a Bearer request verified on the bound plan (client certificates
        are read): no ``cnf`` passes; a ``cnf`` naming a certificate needs the request's
        (RFC 8705 §3); any other ``cnf`` (a DPoP key, a key of no kind this verifier
        checks) is refused, as on the bearer path: a bound token is never a bearer token.
        """
        claims = token.claims
        if "cnf" not in claims:
            return
        cnf = claims["cnf"]
        if not isinstance(cnf, Mapping) or _THUMBPRINT not in cnf or "jkt" in cnf:
            raise SenderConstrainedTokenError(reason=bound_reason(cnf))
        self._certificate_matches(cnf[_THUMBPRINT], request)

    def _certificate_matches(self, thumbprint: object, request: HttpRequest) -> None:
        """The token's ``cnf["x5t#S256"]`` is the thumbprint of the request's client
        certificate (RFC 8705 §3.1: the base64url SHA-256 of its DER), compared in
        constant time; else 401 ``invalid_token``, the reason saying what was wrong."""
        if self.certificates is None:
            raise SenderConstrainedTokenError(
                reason="The token is bound to a client certificate (cnf.x5t#S256, RFC 8705), "
                "and this verifier reads none: set client_certificate= to where requests "
                "carry it (docs/security.md), or the token is refused."
            )
        if not isinstance(thumbprint, str) or not _is_sha256_thumbprint(thumbprint):
            raise _certificate_refusal(
                "The token's cnf.x5t#S256 is not a base64url SHA-256 thumbprint (43 characters, "
                "RFC 8705 §3.1): no certificate can match it."
            )
        der = request.client_certificate
        if der is None:
            raise _certificate_refusal(
                request.client_certificate_error
                or "The request presents no client certificate, and the token is bound to one."
            )
        if not hmac.compare_digest(certificate_thumbprint(der), thumbprint):
            raise _certificate_refusal(
                "The client certificate's SHA-256 thumbprint is not the token's cnf.x5t#S256: "
                "the token is bound to another certificate."
            )

    @staticmethod
    def replayed() -> InvalidDPoPProofError:
        """The refusal of a proof whose ``jti`` the store knew (or is older than it vouches
        for): the store's ``remember`` answered ``False``."""
        return InvalidDPoPProofError(
            reason="The DPoP proof was used before (its jti is known), or is older than "
            "the replay store can vouch for."
        )

    @staticmethod
    def unavailable(why: ReplayStoreUnavailable) -> KeySetUnavailableError:
        """The store cannot answer: 503, fail closed."""
        return KeySetUnavailableError(
            reason=f"The DPoP replay store cannot answer ({why}); the request is refused "
            "rather than risk accepting a replayed proof.",
            retry_after=why.retry_after,
        )


def _certificate_refusal(reason: str) -> InvalidTokenError:
    return InvalidTokenError(CERTIFICATE_DESCRIPTION, reason=reason)


def _is_sha256_thumbprint(text: str) -> bool:
    """43 characters of canonical base64url, read as every JOSE value is: the 32 bytes of
    a SHA-256 digest."""
    if len(text) != 43:
        return False
    try:
        b64url_decode(text)
    except ValueError:
        return False
    return True


def replay_store_argument(store: object) -> ReplayStore:
    """The ``replay_store`` setting: ``None`` or ``"memory"`` (a bounded in-memory store), a
    ``redis://`` / ``rediss://`` / ``unix://`` URL (``bearerguard.redis``), or a store object."""
    if store is None or store == "memory":
        return MemoryReplayStore()
    if isinstance(store, str):
        if is_redis_url(store):
            replays: ReplayStore = from_redis_url("RedisReplayStore", store, "replay_store")
            return replays
        raise ConfigurationError(
            "replay_store must be 'memory' or a redis:// (rediss://, unix://) URL such as "
            "'redis://localhost:6379/0', or a store object; got a string that is neither.",
            setting="replay_store",
        )
    methods = (getattr(store, name, None) for name in ("remember", "aremember"))
    if not all(callable(method) for method in methods):
        raise ConfigurationError(
            f"replay_store must be None (in memory) or a replay store such as "
            f"bearerguard.redis.RedisReplayStore(...), got {type(store).__name__}.",
            setting="replay_store",
        )
    return store  # type: ignore[return-value]  # it has the protocol's two methods
