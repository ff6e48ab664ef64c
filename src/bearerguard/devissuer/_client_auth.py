"""Client authentication at the token, introspection and revocation endpoints.

Three methods, one per request (RFC 6749 §2.3): ``client_secret_basic`` (HTTP
Basic), ``client_secret_post`` (``client_id`` and ``client_secret`` in the body),
and ``private_key_jwt`` (RFC 7523 §2.2, OpenID Connect Core §9): a
``client_assertion`` JWT signed by a key of the client's configured ``jwks``,
with ``client_assertion_type`` ``urn:ietf:params:oauth:client-assertion-type:jwt-bearer``.

An assertion is accepted when its signature verifies with an asymmetric
algorithm; ``iss`` and ``sub`` are both the client's id; ``aud`` names the
issuer, the endpoint called or the token endpoint (the caller says which);
``exp`` is in the future and at most :data:`MAX_ASSERTION_LIFETIME` seconds
ahead; ``nbf`` and ``iat``, when present, are not in the future; and its ``jti``
was not seen before from that client (each assertion is good for one request,
however it was answered).

Only confidential clients are let in at introspection and revocation: a public
client has nothing to prove who it is with. There, every failure is 401
``invalid_client`` with a ``WWW-Authenticate: Basic`` challenge (RFC 6749 §5.2),
whatever the method; sending two methods at once is 400 ``invalid_request``.

The token endpoint also serves public clients (method ``none``), and answers the
secret methods as :func:`._clients.authenticate_client` always has; an assertion
is checked here, as at the other endpoints, and refused the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from bearerguard._errors import EncryptedTokenError, MalformedTokenError, UnknownKeyError
from bearerguard._jose import parse_token
from bearerguard._replay import MemoryReplayStore
from bearerguard._signatures import SignaturePrimitive

from ._clients import BASIC_REALM, authenticate_client, basic_credentials
from ._config import ClientConfig
from ._directory import ClientDirectory
from ._errors import OAuthError
from ._proofs import PROOF_ALGORITHMS, PROOF_LEEWAY

__all__ = [
    "ASSERTION_TYPE",
    "AUTH_METHODS",
    "MAX_ASSERTION_LIFETIME",
    "ClientAuthenticator",
    "refused",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: what the token, introspection and revocation endpoints accept (their metadata says so;
#: the token endpoint takes ``none`` too, from public clients)
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
#: seconds an assertion's exp may lie ahead: an assertion is made for the request it is in
MAX_ASSERTION_LIFETIME = 300.0
_MAX_ASSERTION = 16 * 1024  # characters
_MAX_JTI = 256
_CHALLENGE = {"WWW-Authenticate": f'Basic realm="{BASIC_REALM}", charset="UTF-8"'}


class ClientAuthenticator:
    """Authenticates the client calling an endpoint; one per running server, so that an
    assertion's jti is spent at every endpoint at once.

    Example::

        callers = ClientAuthenticator(clients)
        client = callers.authenticate(params, request.header("Authorization"),
                                      audiences=(issuer, issuer + "oauth/introspect"))
        client = callers.token_client(params, basic_credentials(authorization),
                                      audiences=(issuer, issuer + "oauth/token"))
    """

    def __init__(self, clients: ClientDirectory, clock: Callable[[], float] = time.time) -> None:
        self._clients = clients
        self._clock = clock
        # jtis of accepted assertions, each until its exp: lifetimes are short, so it stays small.
        self._seen = MemoryReplayStore(max_entries=10_000)

    def authenticate(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        *,
        audiences: Collection[str],
    ) -> ClientConfig:
        """The authenticated confidential client; OAuthError otherwise.

        ``audiences``: what an assertion's ``aud`` may name (the issuer, the endpoint
        called, the token endpoint).
        """
        basic = basic_credentials(authorization)  # a malformed Basic header: 401 already
        if _asserts(params):
            return self._asserted(params, basic, audiences)
        if basic is None and "client_secret" not in params:
            raise refused(
                "Client authentication is required: HTTP Basic with the client_id and "
                "client_secret (client_secret_basic), client_id and client_secret in the body "
                "(client_secret_post), or a client_assertion (private_key_jwt)."
            )
        try:
            client = authenticate_client(self._clients, params, basic)
        except OAuthError as exc:
            if exc.error != "invalid_client":
                raise
            raise refused(exc.description) from None
        if client.public:
            raise refused(_public(client))
        return client

    def token_client(
        self,
        params: Mapping[str, str],
        basic: tuple[str, str] | None,
        *,
        audiences: Collection[str],
    ) -> ClientConfig:
        """The client making a token request; OAuthError otherwise.

        A ``client_assertion`` is checked as at the other endpoints (``audiences``: the
        issuer and the token endpoint); anything else is a secret, or a public client's
        bare ``client_id``, answered by :func:`._clients.authenticate_client`.
        """
        if _asserts(params):
            return self._asserted(params, basic, audiences)
        return authenticate_client(self._clients, params, basic)

    def _asserted(
        self,
        params: Mapping[str, str],
        basic: tuple[str, str] | None,
        audiences: Collection[str],
    ) -> ClientConfig:
        if basic is not None or "client_secret" in params:
            raise OAuthError(
                "invalid_request",
                "Authenticate with one method: a client_assertion, or a client_secret "
                "(HTTP Basic or in the body), not both.",
            )
        return self._assertion(params, audiences)

    def _assertion(self, params: Mapping[str, str], audiences: Collection[str]) -> ClientConfig:
        kind = params.get("client_assertion_type")
        if kind != ASSERTION_TYPE:
            raise refused(f"client_assertion_type must be {ASSERTION_TYPE!r}; got {kind!r}.")
        assertion = params.get("client_assertion", "")
        try:
            parsed = parse_token(assertion, _MAX_ASSERTION)
        except (MalformedTokenError, EncryptedTokenError) as why:
            raise refused(f"The client_assertion is not a signed JWT: {why.reason}") from None
        claims, header = parsed.claims, parsed.header
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or not client_id or claims.get("sub") != client_id:
            raise refused(
                "The client_assertion's iss and sub must both be the client_id of the client "
                "that signs it (RFC 7523 §3)."
            )
        named = params.get("client_id")
        if named is not None and named != client_id:
            raise refused("client_id differs from the client_assertion's iss and sub.")
        client = self._clients.find(client_id)
        if client is None:
            raise refused(f"Unknown client_id {client_id!r} (the client_assertion's iss).")
        if client.public:
            raise refused(
                f"Client {client_id!r} is public: it has no keys to sign a client_assertion "
                "with. A public client sends only its client_id (and PKCE), and may not call "
                "the introspection and revocation endpoints."
            )
        keys = client.key_set
        if keys is None:
            raise refused(
                f"Client {client_id!r} has no jwks: add the public keys it signs its "
                "client_assertion with to its jwks in the configuration, or authenticate "
                "with its client_secret."
            )
        algorithm = header.get("alg")
        if algorithm not in PROOF_ALGORITHMS:
            raise refused(
                f"The client_assertion's alg must be an asymmetric algorithm "
                f"({', '.join(PROOF_ALGORITHMS)}); got {algorithm!r}."
            )
        kid = header.get("kid")
        try:
            key = keys.find(kid if isinstance(kid, str) else None, algorithm)
        except UnknownKeyError:
            key = None
        if key is None:
            raise refused(
                f"No single key of client {client_id!r}'s jwks fits the client_assertion's "
                f"kid {kid!r} and alg {algorithm!r}."
            )
        if not SignaturePrimitive(algorithm).verify(
            parsed.signing_input, key.public_key, parsed.signature
        ):
            raise refused("The client_assertion's signature does not verify with the client's key.")
        return self._check_claims(client, claims, audiences)

    def _check_claims(
        self, client: ClientConfig, claims: Mapping[str, Any], audiences: Collection[str]
    ) -> ClientConfig:
        audience = claims.get("aud")
        named = [audience] if isinstance(audience, str) else audience
        if not isinstance(named, list) or not any(
            isinstance(name, str) and name in audiences for name in named
        ):
            raise refused(
                f"The client_assertion's aud must name this issuer or this endpoint: one of "
                f"{', '.join(sorted(audiences))}; got {audience!r}."
            )
        now = self._clock()
        expires = _number(claims, "exp")
        if expires is None:
            raise refused("The client_assertion has no exp (a NumericDate): it is required.")
        if expires <= now - PROOF_LEEWAY:
            raise refused("The client_assertion has expired: sign a new one for each request.")
        if expires > now + MAX_ASSERTION_LIFETIME + PROOF_LEEWAY:
            raise refused(
                f"The client_assertion's exp is more than {MAX_ASSERTION_LIFETIME:g} seconds "
                "ahead: sign a short-lived assertion for each request."
            )
        for name in ("nbf", "iat"):
            if name in claims:
                value = _number(claims, name)
                if value is None or value > now + PROOF_LEEWAY:
                    raise refused(f"The client_assertion's {name} is not a past NumericDate.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI:
            raise refused(
                "The client_assertion needs a jti (a unique string of at most "
                f"{_MAX_JTI} characters), so that it cannot be replayed."
            )
        # Until exp (and the leeway) has passed, a second sighting of the jti is a replay.
        if not self._seen.remember(
            f"{client.client_id}\n{jti}", expires_at=expires + PROOF_LEEWAY, now=now
        ):
            raise refused(
                "The client_assertion was used already (its jti): sign a new one for each request."
            )
        return client


def refused(description: str) -> OAuthError:
    """401 ``invalid_client`` with a Basic challenge (RFC 6749 §5.2)."""
    return OAuthError("invalid_client", description, status=401, headers=_CHALLENGE)


def _asserts(params: Mapping[str, str]) -> bool:
    """Whether the request authenticates with private_key_jwt (or means to)."""
    return "client_assertion" in params or "client_assertion_type" in params


def _public(client: ClientConfig) -> str:
    return (
        f"Client {client.client_id!r} is public: only confidential clients (with a "
        "client_secret or jwks) may call this endpoint."
    )


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
