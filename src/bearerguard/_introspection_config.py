"""The settings of introspection (RFC 7662): :class:`Introspection`, validated when built.

Which endpoint, which one way of authenticating the API to it (a secret, a private key for
``private_key_jwt``, a client certificate for mTLS: ``_client_auth`` reads and checks the
key material), and how answers are cached. Every message names the setting and what to
write instead; a secret or key is never repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._client_auth import AssertionKey, TlsIdentity, assertion_key, tls_identity
from ._coerce import integer, number, switch
from ._errors import ConfigurationError
from ._jose import looks_like_jwt
from ._urls import check_url

__all__ = ["INTROSPECTION_AUTH_METHODS", "TLS_AUTH_METHODS", "Introspection"]

INTROSPECTION_AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
)
#: the methods that authenticate the API by its TLS client certificate (RFC 8705 §2)
TLS_AUTH_METHODS = frozenset({"tls_client_auth", "self_signed_tls_client_auth"})
_CREDENTIAL_EXAMPLES = {
    "client_secret": "e.g. Introspection(client_id='api', client_secret=os.environ['SECRET']).",
    "private_key": "the API's private key, e.g. private_key='keys/introspect.pem'.",
    "tls_certificate": "the API's client certificate, e.g. tls_certificate='certs/api.pem', "
    "tls_key='certs/api.key'.",
}
_MAX_ANSWER_TTL = 86400.0
_MAX_ANSWERS = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Introspection:
    """How opaque access tokens are checked: by the provider's introspection endpoint.

    Example::

        verifier = Verifier(
            issuer="https://login.example.com/realms/api",
            audience="https://api.example.com",
            introspection=Introspection(client_id="api", client_secret=os.environ["SECRET"]),
        )
        # Without a shared secret: the API's private key, or its client certificate.
        Introspection(client_id="api", private_key="keys/introspect.pem")
        Introspection(client_id="api", tls_certificate="certs/api.pem", tls_key="certs/api.key")

    Arguments (keyword-only):
        client_id: this API's client at the provider.
        client_secret: its secret, for ``client_secret_basic`` or ``client_secret_post``.
        url: the endpoint; default the ``introspection_endpoint`` of the issuer's
            discovery document (read once, on the first opaque token).
        issuer: whose endpoint it is, one of the verifier's issuers (default: the
            verifier's only issuer). Answers speak for it.
        auth: how the API authenticates itself to the endpoint. Default: by what is
            given: ``"client_secret_basic"`` (HTTP Basic) with ``client_secret``,
            ``"private_key_jwt"`` with ``private_key``, ``"tls_client_auth"`` with
            ``tls_certificate``. Also ``"client_secret_post"`` and
            ``"self_signed_tls_client_auth"`` (RFC 8705 §2.2).
        private_key: for ``private_key_jwt`` (RFC 7523): the API's private key (PEM text,
            a private JWK or its JSON, or a file path); the provider holds its public half.
        private_key_id: the ``kid`` the provider knows that key by (default: the JWK's).
        assertion_algorithm: what the assertion is signed with (default by the key: RS256,
            ES256/384/512 by curve, EdDSA).
        assertion_audience: the assertion's ``aud`` (default: the issuer identifier, as
            Auth0 and Keycloak take it; Okta wants the endpoint's URL).
        tls_certificate, tls_key: for ``tls_client_auth`` (RFC 8705): the paths of the
            API's PEM client certificate (its chain may follow) and of its private key
            (default: in the certificate's file). With these, the ``mtls_endpoint_aliases``
            of discovery are followed.
        introspect_jwts: send JWTs to the endpoint too (default ``False``: a JWT is
            verified locally with the issuer's keys, and never introspected).
        cache_ttl: the longest an active answer is reused, in seconds (default 300;
            never past the token's ``exp``; 0: every request asks the endpoint).
        inactive_ttl: how long an inactive answer is reused (default 10 seconds).
        cache_size: how many answers are kept (default 10,000; the oldest go first).
        shared_cache: answers shared by every worker and host, e.g.
            ``bearerguard.redis.RedisIntrospectionCache(url)``: a fleet asks the endpoint
            about once per token. When it fails, the endpoint is asked (a WARNING logged).
    """

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    url: str | None = None
    issuer: str | None = None
    auth: str | None = None
    private_key: Any = field(default=None, repr=False)
    private_key_id: str | None = None
    assertion_algorithm: str | None = None
    assertion_audience: str | None = None
    tls_certificate: str | None = None
    tls_key: str | None = None
    introspect_jwts: bool = False
    cache_ttl: float = 300.0
    inactive_ttl: float = 10.0
    cache_size: int = 10_000
    shared_cache: Any = None
    #: read from the settings above: the key signing client assertions, the TLS identity
    assertion_key: AssertionKey | None = field(default=None, init=False, repr=False)
    tls_identity: TlsIdentity | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        example = 'Introspection(client_id="api", client_secret="...")'
        if not isinstance(self.client_id, str) or not self.client_id:
            raise ConfigurationError(
                "Introspection client_id must be a non-empty string (this API's client at the "
                f"provider), got {type(self.client_id).__name__}: e.g. {example}.",
                setting="client_id",
            )
        self._check_credentials()
        for name in ("url", "issuer"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(
                    f"Introspection {name} must be a URL or None, got {type(value).__name__}.",
                    setting=name,
                )
        if self.url is not None:
            check_url(self.url, what="Introspection url")
        switch(self.introspect_jwts, "introspect_jwts")
        for name, default in (("cache_ttl", 300), ("inactive_ttl", 10)):
            value = number(
                getattr(self, name), name, _MAX_ANSWER_TTL, f"Introspection({name}={default})"
            )
            object.__setattr__(self, name, value)
        integer(self.cache_size, "cache_size", 1, _MAX_ANSWERS, "Introspection(cache_size=10000)")
        shared = self.shared_cache
        if shared is not None and not all(
            callable(getattr(shared, name, None)) for name in ("get", "put", "aget", "aput")
        ):
            raise ConfigurationError(
                "Introspection shared_cache must be a shared answer cache (get, put, aget, "
                f"aput), got {type(shared).__name__}: e.g. shared_cache="
                'bearerguard.redis.RedisIntrospectionCache("redis://localhost:6379/0").',
                setting="shared_cache",
            )

    def introspects(self, token: str) -> bool:
        """Whether ``token`` goes to the endpoint: an opaque token always, a JWT (a compact
        JWS or JWE) only with ``introspect_jwts``; otherwise it is verified locally."""
        return self.introspect_jwts or not looks_like_jwt(token)

    def _check_credentials(self) -> None:
        """One way of authenticating the API, complete: ``auth`` and what it needs, nothing
        of another way (a secret left beside a key would be a secret kept for nothing)."""
        given = {
            "client_secret": self.client_secret is not None,
            "private_key": self.private_key is not None,
            "tls_certificate": self.tls_certificate is not None,
        }
        auth = self.auth
        if auth is None:
            chosen = [name for name, present in given.items() if present]
            if len(chosen) != 1:
                raise ConfigurationError(
                    "Introspection needs one way to authenticate the API to the provider: "
                    "client_secret=..., private_key=... (private_key_jwt) or "
                    "tls_certificate=... (mTLS), "
                    + ("not several" if chosen else "none was given")
                    + "; auth=... names the method.",
                    setting="auth" if chosen else "client_secret",
                )
            auth = {
                "client_secret": "client_secret_basic",
                "private_key": "private_key_jwt",
                "tls_certificate": "tls_client_auth",
            }[chosen[0]]
            object.__setattr__(self, "auth", auth)
        if auth not in INTROSPECTION_AUTH_METHODS:
            raise ConfigurationError(
                f"Introspection auth must be one of {', '.join(INTROSPECTION_AUTH_METHODS)}, got "
                f"{auth!r}: e.g. auth='client_secret_post'.",
                setting="auth",
            )
        needs = (
            "tls_certificate"
            if auth in TLS_AUTH_METHODS
            else "private_key"
            if auth == "private_key_jwt"
            else "client_secret"
        )
        if not given[needs]:
            raise ConfigurationError(
                f"Introspection auth={auth!r} needs {needs}=...: " + _CREDENTIAL_EXAMPLES[needs],
                setting=needs,
            )
        for other, present in given.items():
            if present and other != needs:
                raise ConfigurationError(
                    f"Introspection auth={auth!r} does not use {other}: remove it, or choose "
                    "the method that does.",
                    setting=other,
                )
        if needs == "client_secret" and (
            not isinstance(self.client_secret, str) or not self.client_secret
        ):
            raise ConfigurationError(
                "Introspection client_secret must be a non-empty string, got "
                f"{type(self.client_secret).__name__}.",
                setting="client_secret",
            )
        key_settings = ("private_key_id", "assertion_algorithm", "assertion_audience")
        for name in key_settings:
            value = getattr(self, name)
            if value is not None and needs != "private_key":
                raise ConfigurationError(
                    f"Introspection {name} is for auth='private_key_jwt', not {auth!r}.",
                    setting=name,
                )
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(
                    f"Introspection {name} must be a non-empty string, got {type(value).__name__}.",
                    setting=name,
                )
        if self.tls_key is not None and needs != "tls_certificate":
            raise ConfigurationError(
                f"Introspection tls_key goes with tls_certificate (mTLS), not {auth!r}.",
                setting="tls_key",
            )
        if needs == "private_key":
            key = assertion_key(
                self.private_key, algorithm=self.assertion_algorithm, key_id=self.private_key_id
            )
            object.__setattr__(self, "assertion_key", key)
        elif needs == "tls_certificate":
            object.__setattr__(
                self, "tls_identity", tls_identity(self.tls_certificate, self.tls_key)
            )
