"""Errors that carry their HTTP protocol: status, RFC 6750 error code, challenge.

Adapters never choose status codes: they read ``status_code``, ``headers`` and
``to_json()`` from the error they caught.

Exception tree::

    BearerError                      a request must be refused (has status_code, headers)
    ├── MissingTokenError            401, no error code, scope="..." the route needs (§3.1)
    ├── InvalidRequestError          400, error="invalid_request"
    ├── InvalidTokenError            401, error="invalid_token"
    │   ├── MalformedTokenError      not a compact JWS, bad JSON, bad header
    │   ├── EncryptedTokenError      a JWE (five segments) where a signed JWT was expected
    │   ├── UnknownKeyError          no usable key in the issuer's key set
    │   ├── InvalidSignatureError    the signature does not verify
    │   ├── InvalidIssuerError       ``iss`` is not a configured issuer
    │   ├── InvalidAudienceError     ``aud`` names none of the configured audiences
    │   ├── ExpiredTokenError        ``exp`` has passed
    │   ├── ImmatureTokenError       ``nbf`` or ``iat`` lies in the future
    │   ├── InvalidClaimsError       a claim has the wrong type or fails a policy
    ├── InsufficientScopeError       403, error="insufficient_scope", scope="..." all needed
    │   └── InsufficientClaimsError  403, error="insufficient_scope", no scope: a route's
    │                                claim rule refused the token
    ├── InvalidDPoPProofError        401, DPoP error="invalid_dpop_proof" (RFC 9449 §7.1)
    │   └── UseDPoPNonceError        401, DPoP error="use_dpop_nonce" + DPoP-Nonce
    └── KeySetUnavailableError       503 + Retry-After: the provider's keys cannot be had
        └── IntrospectionUnavailableError  503 + Retry-After: no usable introspection answer

    ConfigurationError (ValueError)  raised at construction, never per request

A verifier with a ``resource`` (RFC 9728) sets ``resource_metadata`` on its refusals:
every challenge then names the URL of the resource's metadata (§5.1).

Descriptions are fixed sentences chosen here; nothing from the token is ever
echoed into a response. ``reason`` is a fixed, more precise sentence meant for
logs and the command line, never for the response. ``hint`` is set on the few
refusals that suggest the verifier itself is misconfigured (a token issuer that
differs from the configured one only by a trailing slash, ...): the verifier logs
it as a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import ClassVar

__all__ = [
    "BearerError",
    "ConfigurationError",
    "EncryptedTokenError",
    "ExpiredTokenError",
    "ImmatureTokenError",
    "InsufficientClaimsError",
    "InsufficientScopeError",
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
    "SenderConstrainedTokenError",
    "UnknownKeyError",
    "UseDPoPNonceError",
]

DEFAULT_REALM = "api"

# RFC 6750 §3: error and error_description allow %x20-21 / %x23-5B / %x5D-7E,
# so a double quote or a backslash can never appear, escaped or not.
_UNSAFE_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
# RFC 6750 §3: scope tokens are %x21 / %x23-5B / %x5D-7E, separated by %x20.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


# Never named in a challenge: it asks the authorization server for a refresh token, which is
# no requirement of a resource (MCP authorization, "Refresh Tokens": servers SHOULD NOT
# include it in a WWW-Authenticate scope).
NOT_A_RESOURCE_SCOPE = "offline_access"


def _quoted(value: str) -> str:
    return '"' + _UNSAFE_DESCRIPTION.sub("'", value.replace('"', "'")) + '"'


def _challenge_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scope names a challenge may carry: RFC 6750 §3 scope tokens, one at most once
    (a plain string is one scope, not its characters)."""
    if isinstance(scopes, str):
        scopes = (scopes,)
    return tuple(
        dict.fromkeys(s for s in scopes if isinstance(s, str) and SCOPE_TOKEN.fullmatch(s))
    )


def _scope_param(scopes: tuple[str, ...]) -> list[tuple[str, str]]:
    """The ``scope`` auth-param naming ``scopes`` (RFC 6750 §3: space-separated), or none
    when nothing is left to name once ``offline_access`` is set aside."""
    named = [scope for scope in scopes if scope != NOT_A_RESOURCE_SCOPE]
    return [("scope", " ".join(named))] if named else []


class ConfigurationError(ValueError):
    """The verifier was configured in a way that cannot work; the message says what to do.

    ``setting`` names the keyword argument at fault (``"issuer"``, ``"leeway"``, ...)
    when there is one, so that callers reading settings from elsewhere (environment
    variables, Flask's ``app.config``, Django's ``BEARERGUARD``) can name theirs.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class BearerError(Exception):
    """A request that must be refused, with everything needed to answer it (RFC 6750 §3).

    Example::

        try:
            token = verifier.verify(raw)
        except BearerError as exc:
            return Response(exc.to_json(), status=exc.status_code, headers=exc.headers)
    """

    status_code: ClassVar[int] = 401
    error: ClassVar[str | None] = "invalid_token"
    default_description: ClassVar[str] = "Invalid token"
    default_reason: ClassVar[str] = "The token was rejected."
    #: what to change in the configuration, when this refusal suggests a mistake there
    hint: str | None = None
    #: the authentication scheme the refused request used: its challenge carries the error
    scheme: ClassVar[str] = "Bearer"
    #: the schemes the answer offers, each a challenge (RFC 9110 §11.6.1), in order; a
    #: verifier that accepts DPoP offers it too (:meth:`offering`)
    offered: tuple[str, ...] = ("Bearer",)
    #: the proof algorithms the ``DPoP`` challenge lists (RFC 9449 §7.1 ``algs``)
    dpop_algorithms: tuple[str, ...] = ()
    #: where the protected resource's metadata is (RFC 9728 §5.1): every challenge names it
    resource_metadata: str | None = None

    def __init__(
        self,
        description: str | None = None,
        *,
        reason: str | None = None,
        realm: str = DEFAULT_REALM,
    ) -> None:
        self.description = description or self.default_description
        self.reason = reason or self.default_reason
        self.realm = realm
        super().__init__(self.reason)

    def challenge_params(self) -> list[tuple[str, str]]:
        """The auth-params of the challenge that carries the error, in order."""
        params = [("realm", self.realm)]
        if self.error is not None:
            params += [("error", self.error), ("error_description", self.description)]
        return params

    def shared_params(self) -> list[tuple[str, str]]:
        """The auth-params every offered challenge ends with: the metadata URL (RFC 9728
        §5.1) when there is one."""
        where = self.resource_metadata
        return [] if where is None else [("resource_metadata", where)]

    @property
    def www_authenticate(self) -> str | None:
        """The ``WWW-Authenticate`` value: ``Bearer realm="api", error="invalid_token", ...``.

        One challenge per offered scheme: the error goes in the challenge of the
        scheme the request used (else the first offered); the others carry the
        realm only, and a ``DPoP`` challenge the accepted proof algorithms.
        """
        offered = self.offered
        # The shared params go in every challenge: a client may read only the one of the
        # scheme it uses, and each must lead it to the resource's metadata (and, without a
        # token, to the scopes to ask for).
        shared = self.shared_params()
        if offered == ("Bearer",):  # the usual case, kept to one join
            params = self.challenge_params() + shared
            return "Bearer " + ", ".join(f"{n}={_quoted(v)}" for n, v in params)
        erring = self.scheme if self.scheme in offered else offered[0]
        challenges = []
        for scheme in offered:
            params = self.challenge_params() if scheme == erring else [("realm", self.realm)]
            if scheme == "DPoP" and self.dpop_algorithms:
                params.append(("algs", " ".join(self.dpop_algorithms)))
            params += shared
            challenges.append(scheme + " " + ", ".join(f"{n}={_quoted(v)}" for n, v in params))
        return ", ".join(challenges)

    def offering(self, schemes: tuple[str, ...], dpop_algorithms: tuple[str, ...]) -> BearerError:
        """Set the schemes the answer offers (and DPoP's algorithms); return ``self``.

        Example::

            MissingTokenError().offering(("Bearer", "DPoP"), ("ES256",)).www_authenticate
            # 'Bearer realm="api", DPoP realm="api", algs="ES256"'
        """
        self.offered = schemes
        self.dpop_algorithms = dpop_algorithms
        return self

    @property
    def headers(self) -> dict[str, str]:
        """The response headers this error needs (the challenge, and ``Retry-After`` for 503)."""
        challenge = self.www_authenticate
        return {"WWW-Authenticate": challenge} if challenge else {}

    def to_json(self) -> dict[str, str]:
        """The response body: ``{"error": ..., "error_description": ...}``."""
        return {"error": self.error or "unauthorized", "error_description": self.description}

    def json_body(self) -> bytes:
        """:meth:`to_json` as compact UTF-8 JSON: the body every adapter sends.

        Example::

            MissingTokenError().json_body()
            # b'{"error":"unauthorized","error_description":"Authentication required"}'
        """
        return json.dumps(self.to_json(), separators=(",", ":")).encode()

    def with_realm(self, realm: str) -> BearerError:
        """Set the realm announced in the challenge and return ``self``."""
        self.realm = realm
        return self

    def with_resource_metadata(self, url: str | None) -> BearerError:
        """Name the protected resource's metadata URL in every challenge (RFC 9728 §5.1),
        or nothing with ``None``; return ``self``.

        A verifier with a ``resource`` sets it on each of its refusals, so that a client
        refused without a token can discover where to get one.

        Example::

            url = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
            MissingTokenError().with_resource_metadata(url).www_authenticate
            # 'Bearer realm="api", resource_metadata="https://api.example.com/.well-known/...'
        """
        self.resource_metadata = url
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, reason={self.reason!r})"


class MissingTokenError(BearerError):
    """No bearer credentials at all: 401 with a challenge without error code (RFC 6750
    §3.1, last paragraph).

    ``required_scopes`` are what the refused route needs: every challenge then names
    them (``scope="a b"``, RFC 6750 §3) so that a client asks for those scopes when it
    gets its token, ``offline_access`` excepted (a refresh token is no requirement of a
    resource). A route that needs any valid token names none.

    Example::

        MissingTokenError(required_scopes=["read:contacts"]).www_authenticate
        # 'Bearer realm="api", scope="read:contacts"'
    """

    status_code = 401
    error = None
    default_description = "Authentication required"
    default_reason = "The request carries no bearer access token."

    def __init__(
        self,
        description: str | None = None,
        *,
        required_scopes: Iterable[str] = (),
        reason: str | None = None,
        realm: str = DEFAULT_REALM,
    ) -> None:
        self.required_scopes = _challenge_scopes(required_scopes)
        super().__init__(description, reason=reason, realm=realm)

    def shared_params(self) -> list[tuple[str, str]]:
        # Every challenge names the scopes: whichever scheme the client picks, it asks
        # for them when it gets its token.
        return _scope_param(self.required_scopes) + super().shared_params()


class InvalidRequestError(BearerError):
    """The request is malformed, e.g. a broken Authorization header (RFC 6750 §3.1)."""

    status_code = 400
    error = "invalid_request"
    default_description = "Malformed Authorization header"
    default_reason = "The Authorization header is not of the form 'Bearer <token>'."


class InvalidTokenError(BearerError):
    """The access token is expired, malformed or otherwise invalid (RFC 6750 §3.1)."""

    status_code = 401
    error = "invalid_token"


class MalformedTokenError(InvalidTokenError):
    """The token is not a well-formed compact JWS with JSON header and claims (RFC 7515 §7.1)."""

    default_reason = "The token is not a well-formed signed JWT."


class EncryptedTokenError(InvalidTokenError):
    """A five-segment JWE arrived where a signed JWT access token was expected (RFC 8725 §3.3)."""

    default_description = "The access token is encrypted (JWE); this API accepts signed JWTs"
    default_reason = (
        "The token has five segments: it is an encrypted JWE, not a signed JWT. Providers "
        "issue encrypted tokens meant for themselves (or for an API that holds the decryption "
        "key), e.g. when the client asks for a token without naming this API: request the "
        "token with your API's identifier as its audience (resource, RFC 8707), and make sure "
        "the API is not set up at the provider to receive encrypted tokens, or, if it is, give "
        "the verifier the API's private key (decryption_keys=)."
    )


class UnknownKeyError(InvalidTokenError):
    """No key of the issuer's key set matches the token's ``kid`` and ``alg`` (RFC 7515 §4.1.4)."""

    default_reason = "No key in the issuer's key set matches the token's kid and alg."


class InvalidSignatureError(InvalidTokenError):
    """The signature does not verify with the issuer's key (RFC 7515 §5.2)."""

    default_reason = "The signature does not verify."


class InvalidIssuerError(InvalidTokenError):
    """The ``iss`` claim is missing or not one of the configured issuers (RFC 7519 §4.1.1)."""

    default_description = "The access token was issued by an untrusted issuer"
    default_reason = "The iss claim is not one of the configured issuers."


class InvalidAudienceError(InvalidTokenError):
    """The ``aud`` claim names none of the configured audiences (RFC 7519 §4.1.3)."""

    default_description = "The access token is not intended for this API"
    default_reason = "The aud claim names none of the configured audiences."


class ExpiredTokenError(InvalidTokenError):
    """The ``exp`` claim has passed, leeway included (RFC 7519 §4.1.4)."""

    default_description = "The access token expired"
    default_reason = "The exp claim has passed."


class ImmatureTokenError(InvalidTokenError):
    """The ``nbf`` or ``iat`` claim lies in the future, leeway included (RFC 7519 §4.1.5-6)."""

    default_description = "The access token is not valid yet"
    default_reason = "The nbf or iat claim lies in the future."


class InvalidClaimsError(InvalidTokenError):
    """A claim has the wrong JSON type or fails a configured policy (RFC 7519 §4, RFC 9068 §2)."""

    default_reason = "A claim has the wrong type or fails a policy."


class SenderConstrainedTokenError(InvalidTokenError):
    """The token is bound to a key (a ``cnf`` claim, RFC 7800) and was sent as a bearer token.

    Its issuer bound it to a DPoP key (``cnf.jkt``, RFC 9449) or a client
    certificate (``cnf["x5t#S256"]``, RFC 8705): whoever presents it must prove
    possession of that key. A verifier that cannot check the proof must refuse the
    token, or a stolen bound token would work as a plain bearer token.
    """

    default_description = (
        "The access token is sender-constrained (bound to a key) and cannot be used "
        "as a bearer token"
    )
    default_reason = (
        "The token carries a cnf claim: its issuer bound it to a key, which this API cannot "
        "check, so it is refused rather than accepted as a bearer token."
    )


class InsufficientScopeError(BearerError):
    """The token lacks a scope the resource needs: 403 with ``scope=...`` (RFC 6750 §3.1).

    ``scope`` names every scope of the requirement, not only those the token lacks:
    all of them for an all-of requirement, every alternative for an any-of one. A
    client that asks for exactly these (MCP's step-up authorization) gets a token the
    operation accepts in one round; ``offline_access`` is never named.

    Example::

        InsufficientScopeError(["read:contacts"]).www_authenticate
        # 'Bearer realm="api", error="insufficient_scope", '
        # 'error_description="Insufficient scope", scope="read:contacts"'
    """

    status_code = 403
    error = "insufficient_scope"
    default_description = "Insufficient scope"
    default_reason = "The token lacks a scope this resource requires."

    def __init__(
        self,
        required_scopes: Iterable[str] = (),
        *,
        any_of: bool = False,
        description: str | None = None,
        reason: str | None = None,
        realm: str = DEFAULT_REALM,
    ) -> None:
        self.required_scopes = _challenge_scopes(required_scopes)
        self.any_of = any_of
        super().__init__(description, reason=reason, realm=realm)

    def challenge_params(self) -> list[tuple[str, str]]:
        return super().challenge_params() + _scope_param(self.required_scopes)


class InsufficientClaimsError(InsufficientScopeError):
    """A valid token whose claims a route's claim rules refuse: 403 ``insufficient_scope``,
    without ``scope`` (RFC 6750 §3.1).

    RFC 6750 defines one error for a valid token that may not do what the request
    asks, ``insufficient_scope``: "the request requires higher privileges than
    provided by the access token". Its ``scope`` attribute is optional, and left out
    here: the claims are no scope, and no scope a client could ask for would change
    the answer. The description is a fixed sentence (no claim value); ``reason``
    names the rule that failed, for logs.

    Example::

        InsufficientClaimsError().www_authenticate
        # 'Bearer realm="api", error="insufficient_scope", '
        # 'error_description="The claims of the access token do not grant access to this resource"'
    """

    default_description = "The claims of the access token do not grant access to this resource"
    default_reason = "The token's claims do not meet a claim rule of this resource."

    def __init__(
        self,
        description: str | None = None,
        *,
        reason: str | None = None,
        realm: str = DEFAULT_REALM,
    ) -> None:
        super().__init__((), description=description, reason=reason, realm=realm)


class InvalidDPoPProofError(BearerError):
    """The DPoP proof is missing, malformed, or does not bind this request to the token's key.

    401 with a ``DPoP`` challenge carrying ``error="invalid_dpop_proof"`` (RFC 9449
    §7.1). ``reason`` names the check that failed (for logs), never the response.
    """

    status_code = 401
    error = "invalid_dpop_proof"
    default_description = "Invalid DPoP proof"
    default_reason = "The DPoP proof was rejected."
    scheme = "DPoP"
    offered = ("DPoP",)


class UseDPoPNonceError(InvalidDPoPProofError):
    """The proof lacks a current server nonce: 401 ``use_dpop_nonce`` with a fresh
    ``DPoP-Nonce`` (RFC 9449 §9); the client retries with it.

    Example::

        UseDPoPNonceError("eyJ7...").headers["DPoP-Nonce"]   # 'eyJ7...'
    """

    error = "use_dpop_nonce"
    default_description = "Resource server requires nonce in DPoP proof"
    default_reason = "The DPoP proof carries no nonce, or one that is not current."

    def __init__(
        self,
        nonce: str,
        description: str | None = None,
        *,
        reason: str | None = None,
        realm: str = DEFAULT_REALM,
    ) -> None:
        self.nonce = nonce
        super().__init__(description, reason=reason, realm=realm)

    @property
    def headers(self) -> dict[str, str]:
        return {**super().headers, "DPoP-Nonce": self.nonce}


class KeySetUnavailableError(BearerError):
    """The provider's keys could not be fetched and none are cached: 503 with ``Retry-After``.

    A server-side fault, never a 401: answering 401 would make every client throw
    its token away and hammer the identity provider while it is down.
    """

    status_code = 503
    error = "temporarily_unavailable"
    default_description = "The token cannot be checked right now; try again later"
    default_reason = "The issuer's key set could not be fetched and no usable keys are cached."

    def __init__(
        self,
        description: str | None = None,
        *,
        retry_after: float = 5.0,
        reason: str | None = None,
        realm: str = DEFAULT_REALM,
    ) -> None:
        # Whole seconds, at least one: Retry-After is a delay-seconds integer (RFC 9110 §10.2.3).
        self.retry_after = max(1, int(-(-retry_after // 1)))
        super().__init__(description, reason=reason, realm=realm)

    @property
    def headers(self) -> dict[str, str]:
        return {**super().headers, "Retry-After": str(self.retry_after)}


class IntrospectionUnavailableError(KeySetUnavailableError):
    """The introspection endpoint gave no usable answer (RFC 7662): 503 with ``Retry-After``.

    The provider is down or slow, answered something else than a JSON object, or
    refused this API's client credentials (the log says which, at ERROR level).
    Never a 401: the token may well be good. A :class:`KeySetUnavailableError`, so
    that whatever handles one handles both.
    """

    default_reason = "The introspection endpoint gave no usable answer about the token."
