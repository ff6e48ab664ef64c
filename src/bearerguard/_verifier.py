"""Verifier: the front door. ``verify()`` and ``averify()`` drive one flow over one cache."""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from ._binding import DPoPBinding, replay_store_argument
from ._claim_rules import ClaimRule
from ._coerce import LISTS
from ._config import (
    DEFAULT_SCOPE_CLAIMS,
    DEFAULT_TOKEN_CACHE_SIZE,
    DPOP_ALGORITHMS,
    CachePolicy,
    Introspection,
    VerifierConfig,
)
from ._credentials import (
    is_b64token,
    query_has_access_token,
    token_from_authorization,
    usual_bearer,
)
from ._dpop import Proof
from ._drive import adrive, drive
from ._errors import DEFAULT_REALM, BearerError, ConfigurationError, MissingTokenError
from ._flow import VerifyFlow, VerifyPlan, remembered, verify_now, warm_up_flow
from ._hints import HintLimiter
from ._intercept import interceptions
from ._introspection import Introspect
from ._introspection_cache import AnswerCache
from ._introspector import Introspector
from ._keycache import Fetch, KeyCache
from ._metadata import ProviderMetadata, read_metadata
from ._nonces import NonceSource
from ._refresh import Refresher, logger
from ._replay import ReplayStore, ReplayStoreUnavailable
from ._request import HttpRequest
from ._resolved_cache import ResolvedKeyCache
from ._resolvers import WITHOUT_REQUEST
from ._resource import metadata_document
from ._settings import check_names, named_errors, settings_from_mapping
from ._signatures import signature_primitives
from ._token import AccessToken, scope_names
from ._tokencache import TokenCache

__all__ = ["Verifier"]


def verifier_argument(value: object, where: str) -> Verifier:
    """``value`` if it is a :class:`Verifier`; else a :class:`ConfigurationError` saying
    so, rather than an ``AttributeError`` on the first request.

    Example::

        self.verifier = verifier_argument(verifier, "BearerAuthBackend(verifier)")
    """
    if isinstance(value, Verifier):
        return value
    raise ConfigurationError(
        f"{where} must be a bearerguard.Verifier, got {type(value).__name__}: build one with "
        "Verifier(issuer=..., audience=...) or Verifier.from_env().",
        setting="verifier",
    )


def _checked_request(request: object) -> HttpRequest:
    if not isinstance(request, HttpRequest):
        raise TypeError(
            f"verify_request() takes a bearerguard HttpRequest, got {type(request).__name__}."
        )
    return request


def _check_hooks(
    transport: object, async_transport: object, clock: object, monotonic: object
) -> None:
    """The arguments for tests and proxies: the wrong kind would fail on the first request."""
    if transport is not None and not isinstance(transport, httpx.BaseTransport):
        raise ConfigurationError(
            f"transport must be an httpx.BaseTransport (e.g. httpx.HTTPTransport()), "
            f"got {type(transport).__name__}.",
            setting="transport",
        )
    if async_transport is not None and not isinstance(async_transport, httpx.AsyncBaseTransport):
        raise ConfigurationError(
            f"async_transport must be an httpx.AsyncBaseTransport (e.g. "
            f"httpx.AsyncHTTPTransport()), got {type(async_transport).__name__}.",
            setting="async_transport",
        )
    for name, value, example in (("clock", clock, "time"), ("monotonic", monotonic, "monotonic")):
        if not callable(value):
            raise ConfigurationError(
                f"{name} must be a function returning seconds (e.g. time.{example}), "
                f"got {type(value).__name__}.",
                setting=name,
            )


def _route_scopes(scopes: object) -> tuple[str, ...]:
    """A route's required scope names, checked: a string is one scope."""
    if isinstance(scopes, str):
        return scope_names((scopes,))
    if isinstance(scopes, LISTS):
        return scope_names(tuple(scopes))
    raise ConfigurationError(
        f"missing_token(scopes=...) takes the route's scope names as a list, got "
        f"{type(scopes).__name__}: e.g. missing_token(['read:contacts']).",
        setting="scopes",
    )


def _key_cache(config: VerifierConfig) -> KeyCache:
    """The key cache: bounded, and taking issuers in within a budget, when ``issuer=`` is a
    function (issuers resolved at run time); else the plain one, at no cost to its lookups."""
    if config.issuer_predicate is None:
        return KeyCache(config.cache, config.jwks_uris, config.static_keys)
    return ResolvedKeyCache(
        config.cache,
        config.jwks_uris,
        config.static_keys,
        configured=config.issuers,
        lock=threading.Lock(),
    )


class Verifier:
    """Verifies JWT bearer access tokens issued by one or more OAuth 2.0 / OIDC issuers.

    Keys come from each issuer's JWKS, found by discovery (or ``jwks_uri``),
    fetched lazily on first use and cached: nothing touches the network at
    construction. One verifier serves sync and async callers alike; create it
    once per application and share it.

    Example::

        verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
        token = verifier.verify(raw_jwt)              # Flask, Django, WSGI
        token = await verifier.averify(raw_jwt)       # ASGI
        token.require_scopes("read:contacts")

    Arguments (keyword-only):
        issuer: the ``iss`` to trust, a URL or a bare domain; a list for several
            (an Auth0 custom domain and the canonical one, several tenants); or a
            function of the unverified ``iss`` returning ``True`` to trust it (tenants
            of one domain pattern: asked about sound https URLs only, in their normal
            form; issuers it trusts are kept within ``CachePolicy.max_issuers`` and taken
            in at ``CachePolicy.new_issuers_per_minute``; docs/security.md).
        issuer_for_request: a function of the :class:`HttpRequest` returning the issuers
            trusted for that request (a string, a list, or ``None``), among ``issuer``'s:
            multiple custom domains, a tenant per host. Applies to :meth:`verify_request`
            and :meth:`authenticate_request`; a token given without its request is refused.
        keys: the public keys of the issuer instead of fetching them: a PEM public key, a
            JWK, a JWK Set (a dict, its JSON text, or the path of a file with either), or
            ``{issuer: keys}`` for several issuers. Imported as strictly as fetched keys; a
            key without ``kid`` (a PEM) serves tokens whatever their ``kid``.
        decryption_keys: the API's private key(s) for encrypted access tokens (JWE, RFC
            7516): a PEM private key, a private JWK or JWK Set (a dict, its JSON text, or
            the path of a file with either), or a list of them, chosen by the token's
            ``kid``. RSA-OAEP-256, ECDH-ES(+A128KW/A192KW/A256KW) and dir, with A*GCM or
            A*CBC-HS*; never RSA1_5 or PBES2. The token inside must be a signed JWT, then
            verified like any other. Default ``None``: encrypted tokens are refused.
        audience: your API's identifier(s); the token's ``aud`` must name one (a URL
            in any spelling RFC 3986 makes equivalent). Default: ``resource``.
        algorithms: the allow-list; default ``["RS256"]``. HS256/384/512 need ``secret``.
        leeway: seconds of clock skew tolerated on ``exp``/``nbf``/``iat`` (max 600).
        jwks_uri: skip discovery: one URL for every issuer, or ``{issuer: url}``.
        authorization_servers: the issuers the RFC 9728 metadata names (default: every
            issuer; required with ``issuer`` a function and a ``resource``).
        secret: the shared key for HS* tokens (at least as long as the hash).
        rfc9068_strict: require ``typ: at+jwt`` and the RFC 9068 claims.
        max_age: refuse tokens issued (``iat``) longer ago than this many seconds.
        organization: Auth0 organization id(s) or name(s) the token must belong to.
        scope_claims: claims that grant scopes; default ``("scope", "scp")``; add
            ``"permissions"`` for Auth0 RBAC.
        max_token_size: longest token accepted, in characters (default 16 KiB).
        token_cache_size: how many verified tokens to remember (default 1024; 0
            turns the cache off). A repeat of a remembered token skips the parse
            and the signature but not the checks of its lifetime and key set.
        realm: the ``realm`` of the ``WWW-Authenticate`` challenges.
        cache: a :class:`CachePolicy` for the key sets (TTL, cooldown, timeouts, ...).
        dpop: DPoP (RFC 9449) for :meth:`verify_request`: ``"off"``, ``"allowed"``
            (default: bound tokens with the DPoP scheme, others as Bearer) or ``"required"``.
        dpop_algorithms: the algorithms proofs may use (default: every asymmetric one).
        dpop_proof_max_age: seconds a proof's ``iat`` may lie in the past (default 60, at
            most 300), plus the leeway.
        dpop_nonce: a shared secret (32 bytes or more): proofs must carry a server nonce.
        replay_store: where proofs' ``jti`` are remembered: ``None`` or ``"memory"`` (this
            process, bounded), a ``redis://`` URL, or a store object.
        public_url: ``scheme://host[:port][/prefix]`` clients use, when a proxy hides it.
        client_certificate: where requests carry the client's TLS certificate, for tokens
            bound to one (RFC 8705 ``cnf["x5t#S256"]``): ``"tls"`` (the server's own TLS),
            ``"header:Client-Cert"`` (RFC 9440), ``"header:X-Forwarded-Client-Cert"``
            (Envoy) or ``"header:X-SSL-Client-Cert"`` (nginx's escaped PEM). A header is
            read only when named here, the statement that a trusted proxy sets it and
            strips it from clients; default ``None``: none is read and certificate-bound
            tokens are refused.
        introspection: an :class:`Introspection` (RFC 7662): tokens that are not JWTs
            (opaque tokens) are judged by the provider's introspection endpoint, called
            with this API's client credentials, its answers cached by token hash; the
            answer's claims then meet the same checks as a JWT's. Default ``None``: opaque
            tokens are refused (docs/security.md, "Opaque tokens and introspection").
        resource: the URL clients call (RFC 9728, RFC 8707; an MCP server's URL): the
            audience by default, named by :meth:`resource_metadata`, and every refusal's
            challenge names :attr:`resource_metadata_url`.
        scopes_supported: the scopes the metadata lists (default: what the routes require).
        resource_name: the API's name for people, in the metadata.
        resource_documentation: the URL of a page about the API, in the metadata.
        scope_implications: a scope hierarchy, ``{broader: [narrower, ...]}`` (transitive):
            every scope check counts a required scope as granted when the token holds a
            broader scope implying it; the token's ``scopes`` stay what it says.
        required_claims: claims every token must carry, present and not null (e.g.
            ``["org_id"]``); else 401 ``invalid_token``.
        claim_rules: rules every token's claims must meet, built with
            :mod:`bearerguard.claims` (``[claims.equals("email_verified", True)]``);
            checked after the standard claims, else 401 ``invalid_token`` with a fixed
            description and a ``reason`` naming the rule. Per-route rules (403) are the
            adapters' ``claims=``.
        transport, async_transport: httpx transports for the fetches (proxies, tests).
        clock, monotonic: time sources, for tests.
    """

    def __init__(
        self,
        *,
        issuer: str | Sequence[str] | Callable[[str], object],
        audience: str | Sequence[str] | None = None,
        algorithms: Sequence[str] = ("RS256",),
        leeway: float = 30.0,
        jwks_uri: str | Mapping[str, str] | None = None,
        secret: str | bytes | None = None,
        rfc9068_strict: bool = False,
        max_age: float | None = None,
        organization: str | Sequence[str] = (),
        scope_claims: Sequence[str] = DEFAULT_SCOPE_CLAIMS,
        max_token_size: int = 16 * 1024,
        token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE,
        realm: str = DEFAULT_REALM,
        cache: CachePolicy | None = None,
        dpop: str = "allowed",
        dpop_algorithms: Sequence[str] = tuple(sorted(DPOP_ALGORITHMS)),
        dpop_proof_max_age: float = 60.0,
        dpop_nonce: str | bytes | None = None,
        replay_store: ReplayStore | None = None,
        public_url: str | None = None,
        client_certificate: str | None = None,
        resource: str | None = None,
        scopes_supported: str | Sequence[str] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        scope_implications: Mapping[str, str | Sequence[str]] | None = None,
        required_claims: str | Sequence[str] = (),
        claim_rules: Sequence[ClaimRule] = (),
        keys: object = None,
        decryption_keys: object = None,
        introspection: Introspection | None = None,
        issuer_for_request: Callable[[HttpRequest], object] | None = None,
        authorization_servers: str | Sequence[str] | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        settings: dict[str, Any] = {  # VerifierConfig checks each, naming the keyword
            "issuers": issuer,
            "audiences": audience,
            "algorithms": algorithms,
            "leeway": leeway,
            "jwks_uri": jwks_uri,
            "secret": secret,
            "rfc9068_strict": rfc9068_strict,
            "max_age": max_age,
            "organizations": organization,
            "scope_claims": scope_claims,
            "max_token_size": max_token_size,
            "token_cache_size": token_cache_size,
            "realm": realm,
            "cache": cache,
            "dpop": dpop,
            "dpop_algorithms": dpop_algorithms,
            "dpop_proof_max_age": dpop_proof_max_age,
            "public_url": public_url,
            "client_certificate": client_certificate,
            "resource": resource,
            "scopes_supported": scopes_supported,
            "resource_name": resource_name,
            "resource_documentation": resource_documentation,
            "scope_implications": scope_implications,
            "required_claims": required_claims,
            "claim_rules": claim_rules,
            "keys": keys,
            "decryption_keys": decryption_keys,
            "introspection": introspection,
            "issuer_for_request": issuer_for_request,
            "authorization_servers": authorization_servers,
        }
        config = VerifierConfig(**settings)
        _check_hooks(transport, async_transport, clock, monotonic)
        self._config = config
        self._clock = clock
        self._monotonic = monotonic
        cache_state = _key_cache(config)
        # One answer cache for both paths: an answer is judged per path (cnf is the bound
        # path's to check), and the judged tokens are kept per path inside each answer.
        answers = (
            None
            if config.introspection is None
            else AnswerCache(config.introspection.cache_size, lock=threading.Lock())
        )
        self._plan = VerifyPlan(
            config,
            cache_state,
            signature_primitives(config.algorithms),
            tokens=TokenCache(config.token_cache_size, lock=threading.Lock())
            if config.token_cache_size
            else None,
            answers=answers,
        )
        # The DPoP path: the same keys and signature checks, cnf left to the binding, and a
        # token cache of its own (a bound token must never be answered on the bearer path).
        self._bound_plan = VerifyPlan(
            config,
            cache_state,
            self._plan.primitives,
            tokens=TokenCache(config.token_cache_size, lock=threading.Lock())
            if config.token_cache_size
            else None,
            bound=True,
            answers=answers,
        )
        self._binding = DPoPBinding(
            config,
            nonces=None if dpop_nonce is None else NonceSource(dpop_nonce),
            replays=replay_store_argument(replay_store),
        )
        self._refresher = Refresher(cache_state, monotonic, transport, async_transport)
        self._introspector = (
            None
            if answers is None
            else Introspector(
                config,
                answers,
                clock,
                self._refresher.fetch,
                transport=transport,
                async_transport=async_transport,
            )
        )
        self._hints = HintLimiter(monotonic)
        # What tokens without their request are judged by: every configured issuer, or,
        # with issuer_for_request=, none (refused, saying to verify the request).
        self._without_request = None if config.request_issuers is None else WITHOUT_REQUEST
        interceptions.track(self)  # so a fake issuer (bearerguard.testing) can reset the keys

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Verifier:
        """Build a verifier from ``BEARERGUARD_*`` environment variables.

        ``BEARERGUARD_ISSUER`` (a comma-separated list) is required, and so is
        ``BEARERGUARD_AUDIENCE`` (comma-separated) or ``BEARERGUARD_RESOURCE`` (the
        audience defaults to it); ``BEARERGUARD_ALGORITHMS``, ``_LEEWAY``, ``_JWKS_URI``,
        ``_SECRET``, ``_RFC9068_STRICT``, ``_MAX_AGE``, ``_ORGANIZATION``,
        ``_SCOPE_CLAIMS``, ``_MAX_TOKEN_SIZE``, ``_TOKEN_CACHE_SIZE``, ``_REALM``,
        ``_DPOP``, ``_DPOP_ALGORITHMS``, ``_DPOP_PROOF_MAX_AGE``, ``_DPOP_NONCE_SECRET``,
        ``_REPLAY_STORE``, ``_PUBLIC_URL``, ``_CLIENT_CERTIFICATE``, ``_SCOPES_SUPPORTED``
        (comma- or space-separated), ``_RESOURCE_NAME``, ``_RESOURCE_DOCUMENTATION``,
        ``_SCOPE_IMPLICATIONS`` (a JSON object, ``{"admin": ["read:contacts"]}``),
        ``_REQUIRED_CLAIMS`` (comma-separated claim names), ``_KEYS`` (a key file's path, or a
        JWK Set or ``{issuer: keys}`` as JSON), ``_DECRYPTION_KEYS`` (a private key file's
        path, a PEM private key, or a private JWK or JWK Set as JSON) and
        ``_AUTHORIZATION_SERVERS`` (comma-separated) are optional. Opaque tokens are
        introspected (RFC 7662) when ``BEARERGUARD_INTROSPECTION_*`` variables are set, one
        per field of :class:`Introspection`: ``_CLIENT_ID`` (required), ``_CLIENT_SECRET``,
        ``_URL``, ``_ISSUER``, ``_AUTH``, ``_INTROSPECT_JWTS`` (true/false), ``_CACHE_TTL``,
        ``_INACTIVE_TTL``, ``_CACHE_SIZE``, ``_SHARED_CACHE`` (a ``redis://`` URL) and so on;
        or all at once, ``BEARERGUARD_INTROSPECTION`` as a JSON object of those fields.
        Claim rules, an issuer function and ``issuer_for_request`` have no text form: pass
        them as overrides. Keyword ``overrides`` win over the environment.

        Example::

            # BEARERGUARD_ISSUER=tenant.auth0.com BEARERGUARD_RESOURCE=https://api.example.com/mcp
            verifier = Verifier.from_env()
            # and opaque tokens: BEARERGUARD_INTROSPECTION_CLIENT_ID=api
            #                    BEARERGUARD_INTROSPECTION_CLIENT_SECRET=...
        """
        source = os.environ if environ is None else environ
        check_names(source)
        keywords = inspect.signature(cls).parameters  # what the constructor takes
        unknown = sorted(set(overrides) - keywords.keys())
        if unknown:
            raise ConfigurationError(
                f"Verifier.from_env() got unknown keyword(s) {', '.join(unknown)}; "
                f"it takes {', '.join(sorted(keywords))}.",
            )
        settings = settings_from_mapping(source)
        from_source = set(settings) - set(overrides)
        settings.update(overrides)
        if settings.get("issuer") is None:
            raise ConfigurationError(
                "Set BEARERGUARD_ISSUER (comma-separated for several), "
                "or pass issuer=... to Verifier.from_env().",
                setting="issuer",
            )
        if settings.get("audience") is None and settings.get("resource") is None:
            raise ConfigurationError(
                "Set BEARERGUARD_AUDIENCE (your API's identifier, comma-separated for several) "
                "or BEARERGUARD_RESOURCE (the URL clients call; the audience defaults to it), "
                "or pass audience=... or resource=... to Verifier.from_env().",
                setting="audience",
            )
        return named_errors(lambda: cls(**settings), from_source, source=source)

    @property
    def config(self) -> VerifierConfig:
        """The validated settings."""
        return self._config

    @property
    def resource_metadata_url(self) -> str | None:
        """Where this resource's RFC 9728 metadata is served (§3.1), ``None`` without a
        ``resource``: the well-known path inserted between its host and its path.

        Every refusal's challenge names it (``resource_metadata="..."``, §5.1).

        Example::

            Verifier(issuer="tenant.auth0.com", resource="https://api.example.com/mcp")
            .resource_metadata_url
            # 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
        """
        return self._config.resource_metadata_url

    def resource_metadata(self, *, scopes: Iterable[str] = ()) -> dict[str, Any]:
        """This resource's RFC 9728 §2 metadata document, as a JSON-ready dict.

        Derived from the settings: ``resource``, ``authorization_servers`` (the
        issuers), ``scopes_supported`` (the configured ones, else ``scopes``: what the
        routes require), ``bearer_methods_supported``, the DPoP members for the ``dpop``
        mode, ``tls_client_certificate_bound_access_tokens`` with ``client_certificate``,
        ``resource_name`` and ``resource_documentation`` when set. Raises
        :class:`ConfigurationError` when no ``resource`` is configured.

        Example::

            verifier = Verifier(issuer="tenant.auth0.com", resource="https://api.example.com/mcp")
            verifier.resource_metadata(scopes=["read:contacts"])
            # {'resource': 'https://api.example.com/mcp',
            #  'authorization_servers': ['https://tenant.auth0.com/'],
            #  'scopes_supported': ['read:contacts'], 'bearer_methods_supported': ['header'],
            #  'dpop_signing_alg_values_supported': ['ES256', ...]}
        """
        return metadata_document(self._config, scopes)

    def verify(self, token: str) -> AccessToken:
        """Verify a raw JWT and return its :class:`AccessToken`; raise a :class:`BearerError`.

        May block on a key-set fetch (bounded by the fetch timeout); in async code
        use :meth:`averify`.
        """
        outcome = self._begin(token, self._clock(), self._monotonic())
        return outcome if isinstance(outcome, AccessToken) else self._fetch_then_finish(outcome)

    async def averify(self, token: str) -> AccessToken:
        """Verify a raw JWT without blocking the event loop; same cache and rules as ``verify``."""
        outcome = self._begin(token, self._clock(), self._monotonic())
        if isinstance(outcome, AccessToken):
            return outcome
        return await self._afetch_then_finish(outcome)

    def _begin(self, token: str, now: float, monotonic: float) -> AccessToken | VerifyFlow:
        """The verification up to the first fetch: with the keys cached, all of it."""
        try:
            return verify_now(token, self._plan, now, monotonic, self._without_request)
        except BearerError as exc:
            self._refused(exc)
            raise

    def _fetch_then_finish(self, flow: VerifyFlow) -> AccessToken:
        try:
            return drive(flow, self._settle)
        except BearerError as exc:
            self._refused(exc)
            raise

    async def _afetch_then_finish(self, flow: VerifyFlow) -> AccessToken:
        try:
            return await adrive(flow, self._asettle)
        except BearerError as exc:
            self._refused(exc)
            raise

    def _refused(self, exc: BearerError) -> None:
        self._challenging(exc)
        # The error itself rides along for handlers that want more than the text (the
        # pytest plugin's failure report names its class).
        logger.debug("Refused a bearer token: %s", exc.reason, extra={"bearerguard_error": exc})
        if exc.hint is not None:
            held = self._hints.admit(type(exc).__name__)
            if held is not None:
                logger.warning(
                    "Refused a bearer token, probably because of this verifier's configuration "
                    "(warned at most once a minute%s): %s",
                    f"; {held} more such refusals since the last warning" if held else "",
                    exc.hint,
                )

    def _challenging(self, exc: BearerError) -> BearerError:
        """``exc`` with this verifier's realm and, with a resource, its metadata URL."""
        exc.realm = self._config.realm
        exc.resource_metadata = self._config.resource_metadata_url
        return exc

    def verify_authorization(
        self, header: str | Sequence[str] | None, *, query: str | None = None
    ) -> AccessToken:
        """Verify the token of an ``Authorization`` header value.

        Raises :class:`MissingTokenError` / :class:`InvalidRequestError` for a
        missing or malformed header, as :func:`token_from_authorization` does.
        Pass the raw query string as ``query`` so that a token sent there too is
        refused (400) rather than silently ignored.

        Example::

            token = verifier.verify_authorization(request.headers.get("Authorization"))
        """
        return self.verify(self._token_of(header, query))

    async def averify_authorization(
        self, header: str | Sequence[str] | None, *, query: str | None = None
    ) -> AccessToken:
        """Async :meth:`verify_authorization`."""
        return await self.averify(self._token_of(header, query))

    def _token_of(self, header: str | Sequence[str] | None, query: str | None) -> str:
        """The header's bearer token; its refusals (none, malformed) carry the challenge."""
        try:
            return token_from_authorization(header, query=query, realm=self._config.realm)
        except BearerError as exc:
            self._challenging(exc)
            raise

    def authenticate(
        self, header: str | Sequence[str] | None, *, query: str | None = None
    ) -> AccessToken | None:
        """Like :meth:`verify_authorization`, but ``None`` when there are no bearer credentials.

        What adapters call: a request without a token may still reach a public or
        optional route, while a malformed header (400) or a bad token (401) is
        always refused.

        Example::

            token = verifier.authenticate(request.headers.get("Authorization"))
            if token is None:
                raise verifier.missing_token()
        """
        outcome = self._start(header, query)
        if outcome is None or isinstance(outcome, AccessToken):
            return outcome
        return self._fetch_then_finish(outcome)

    async def aauthenticate(
        self, header: str | Sequence[str] | None, *, query: str | None = None
    ) -> AccessToken | None:
        """Async :meth:`authenticate`."""
        # No call to averify(): one coroutine less on every request.
        outcome = self._start(header, query)
        if outcome is None or isinstance(outcome, AccessToken):
            return outcome
        return await self._afetch_then_finish(outcome)

    def verify_request(self, request: HttpRequest) -> AccessToken:
        """Verify the credentials of a whole request: Bearer, or DPoP with its proof.

        The request's method, URL and header fields are what DPoP (RFC 9449) binds
        a token to, and its client certificate what RFC 8705 does (with
        ``client_certificate=``); a bearer token is judged as
        :meth:`verify_authorization` judges it. A token bound both ways needs both.
        With ``issuer_for_request=``, the token's issuer must be one of this request's.
        Refusals offer every scheme this verifier accepts (``dpop=``).

        Example::

            request = HttpRequest("GET", "https://api.example.com/api/contacts",
                                  {"Authorization": "DPoP eyJ...", "DPoP": "eyJ..."})
            token = verifier.verify_request(request)
            token.confirmation   # {'jkt': '...'}: bound to the proof's key
        """
        token = self.authenticate_request(request)
        if token is None:
            raise self._binding.offer(MissingTokenError())
        return token

    async def averify_request(self, request: HttpRequest) -> AccessToken:
        """Async :meth:`verify_request`: same rules, same caches."""
        token = await self.aauthenticate_request(request)
        if token is None:
            raise self._binding.offer(MissingTokenError())
        return token

    def missing_token(self, scopes: str | Iterable[str] = ()) -> MissingTokenError:
        """What adapters raise when a route needs a token and the request carries none.

        One challenge per accepted scheme (RFC 9449 §7.1): with DPoP allowed (the
        default), ``Bearer realm="api", DPoP realm="api", algs="ES256 ..."``; with
        ``dpop="required"`` the DPoP challenge alone, with ``dpop="off"`` the Bearer one.
        ``scopes`` are what the route requires (all of them, or each alternative of an
        any-of requirement): every challenge names them, ``scope="read:contacts"``
        (RFC 6750 §3), so the client asks for them when it gets its token; never
        ``offline_access``, and nothing for a route that needs no scope. With a
        ``resource``, each challenge names its metadata URL (RFC 9728 §5.1).

        Raises :class:`ConfigurationError` when ``scopes`` are not scope names.

        Example::

            raise verifier.missing_token(["read:contacts"])
            # WWW-Authenticate: Bearer realm="api", scope="read:contacts", DPoP realm="api",
            #                   algs="ES256 ...", scope="read:contacts"
        """
        error = MissingTokenError(required_scopes=_route_scopes(scopes))
        self._binding.offer(error)
        return error

    def dpop_nonce_for(self, token: AccessToken | None) -> str | None:
        """The ``DPoP-Nonce`` to send with a successful answer to ``token``'s request.

        With ``dpop_nonce`` set, a DPoP-bound token gets the current server nonce, so
        that its client keeps up with the rotation without being refused first (RFC
        9449 §8.2); otherwise (no nonces, a bearer token, no token) ``None``. Every
        adapter sends it; call it when answering from :meth:`verify_request` yourself.

        Example::

            token = verifier.verify_request(request)
            nonce = verifier.dpop_nonce_for(token)
            if nonce is not None:
                response.headers["DPoP-Nonce"] = nonce
        """
        nonces = self._binding.nonces
        if nonces is None or token is None:
            return None
        cnf = token.confirmation
        if cnf is None or "jkt" not in cnf:
            return None
        return nonces.issue(self._clock())

    def authenticate_request(self, request: HttpRequest) -> AccessToken | None:
        """Like :meth:`verify_request`, but ``None`` when there are no credentials."""
        now, monotonic = self._clock(), self._monotonic()
        binding = self._binding
        try:
            prepared = binding.prepare(
                request if type(request) is HttpRequest else _checked_request(request), now
            )
            if prepared is None:
                return None
            proof = prepared.proof
            resolver = self._config.request_issuers  # issuer_for_request=: this request's
            trusted = None if resolver is None else resolver.resolve(request)
            outcome = verify_now(prepared.token, self._plan_for(proof), now, monotonic, trusted)
            token = outcome if isinstance(outcome, AccessToken) else drive(outcome, self._settle)
            if proof is not None:  # the replay check last: a refused request uses up no jti
                key, expires = binding.bind(token, prepared, now, request)
                try:
                    fresh = binding.replays.remember(key, expires, now)
                except ReplayStoreUnavailable as why:
                    raise binding.unavailable(why) from None
                if not fresh:
                    raise binding.replayed()
            elif binding.certificates is not None:  # verified on the bound plan: cnf is ours
                binding.bind_bearer(token, request)
            return token
        except BearerError as exc:
            self._refused(binding.offer(exc))
            raise

    async def aauthenticate_request(self, request: HttpRequest) -> AccessToken | None:
        """Async :meth:`authenticate_request`: same steps, the fetch and the store awaited."""
        now, monotonic = self._clock(), self._monotonic()
        binding = self._binding
        try:
            prepared = binding.prepare(
                request if type(request) is HttpRequest else _checked_request(request), now
            )
            if prepared is None:
                return None
            proof = prepared.proof
            resolver = self._config.request_issuers  # issuer_for_request=: this request's
            trusted = None if resolver is None else resolver.resolve(request)
            outcome = verify_now(prepared.token, self._plan_for(proof), now, monotonic, trusted)
            if isinstance(outcome, AccessToken):
                token = outcome
            else:
                token = await adrive(outcome, self._asettle)
            if proof is not None:
                key, expires = binding.bind(token, prepared, now, request)
                try:
                    fresh = await binding.replays.aremember(key, expires, now)
                except ReplayStoreUnavailable as why:
                    raise binding.unavailable(why) from None
                if not fresh:
                    raise binding.replayed()
            elif binding.certificates is not None:
                binding.bind_bearer(token, request)
            return token
        except BearerError as exc:
            self._refused(binding.offer(exc))
            raise

    def _plan_for(self, proof: Proof | None) -> VerifyPlan:
        """The bound plan (cnf left to the binding, a cache of its own) for a request with a
        proof, and for every request when client certificates are read (a Bearer token may
        be bound to one); else the bearer's."""
        if proof is None and self._binding.certificates is None:
            return self._plan
        return self._bound_plan

    def _start(
        self, header: str | Sequence[str] | None, query: str | None
    ) -> AccessToken | VerifyFlow | None:
        """What both authenticate methods do before a fetch: ``None`` without credentials.

        The usual request, one ``Bearer <token>`` field and no token in the query, is read
        without the full parser: the remembered token if the cache holds it, else the
        token's text once it is seen to be well-formed. The parser gives the same answer
        for such a request (the same token, or, for a token the cache holds, that token:
        it passed the parser's stricter alphabet); anything else goes through the parser.
        """
        now, monotonic = self._clock(), self._monotonic()  # read once for the whole request
        raw = usual_bearer(header)
        if raw is not None and not (query and query_has_access_token(query)):
            token = remembered(raw, self._plan, now, monotonic, self._without_request)
            if token is not None:
                return token
            if not is_b64token(raw):
                raw = None
        else:
            raw = None
        if raw is None:
            raw = self._credentials(header, query)
            if raw is None:
                return None
        return self._begin(raw, now, monotonic)

    def _credentials(self, header: str | Sequence[str] | None, query: str | None) -> str | None:
        """The bearer token of the header, ``None`` if there is none; 400 if malformed."""
        try:
            return token_from_authorization(header, query=query, realm=self._config.realm)
        except MissingTokenError:
            return None
        except BearerError as exc:  # a malformed header: 400, with the challenge all the same
            self._challenging(exc)
            raise

    def warm_up(self) -> None:
        """Fetch every issuer's keys now (e.g. at start-up) instead of on the first request.

        Raises :class:`KeySetUnavailableError` if an issuer's keys cannot be had.
        """
        try:
            drive(warm_up_flow(self._plan, self._monotonic()), self._settle)
        except BearerError as exc:
            self._challenging(exc)
            raise

    async def awarm_up(self) -> None:
        """Async :meth:`warm_up`."""
        try:
            await adrive(warm_up_flow(self._plan, self._monotonic()), self._asettle)
        except BearerError as exc:
            self._challenging(exc)
            raise

    def _provider_metadata(self, issuer: str | None = None) -> ProviderMetadata:
        """The metadata document of ``issuer`` (default: the first configured), fetched now.

        Fetched as the keys are (this verifier's transport, limits and the testing
        interceptions) but not cached: the FastAPI adapter reads Swagger UI's
        endpoints from it once. Raises :class:`MetadataUnavailable`.
        """
        if issuer is None and not self._config.issuers:
            raise ConfigurationError(
                "This verifier's issuer= is a function and names no issuer: say which "
                "issuer's metadata to read (authorization_servers=, or the issuer argument).",
                setting="issuer",
            )
        return read_metadata(issuer or self._config.issuers[0], self._refresher.fetch)

    def forget_keys(self) -> None:
        """Forget every cached key set and discovery result; the next token fetches afresh.

        Rarely needed: keys rotate by themselves. Testing support calls it when a
        fake issuer starts or stops answering for one of this verifier's issuers.
        """
        self._plan.cache.forget()
        if self._plan.tokens is not None:
            self._plan.tokens.clear()  # their stamps no longer hold anyway: free the memory
        if self._introspector is not None:
            self._introspector.forget()  # the answers of a provider that changed hands

    def _settle(self, request: Fetch | Introspect) -> float:
        if isinstance(request, Introspect):
            assert self._introspector is not None  # noqa: S101 - asked only with introspection=
            self._introspector.settle(request)
        else:
            self._refresher.refresh(request)
        return self._monotonic()

    async def _asettle(self, request: Fetch | Introspect) -> float:
        if isinstance(request, Introspect):
            assert self._introspector is not None  # noqa: S101
            await self._introspector.asettle(request)
        else:
            await self._refresher.arefresh(request)
        return self._monotonic()

    def __repr__(self) -> str:
        config = self._config
        predicate = config.issuer_predicate
        issuer = list(config.issuers) if predicate is None else getattr(predicate, "__name__", "?")
        return f"Verifier(issuer={issuer!r}, audience={list(config.audiences)!r})"
