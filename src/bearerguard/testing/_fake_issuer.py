"""FakeIssuer: real tokens from a fake provider that the application's verifier trusts.

The fake owns generated keys and an issuer URL. While it is active, every
:class:`~bearerguard.Verifier` that trusts that issuer gets its discovery
document and JWKS from the fake, in-process, through
:data:`bearerguard._intercept.interceptions`: the application under test keeps
its real settings and its real verifier, and every signature is really checked.
"""

from __future__ import annotations

import base64
import enum
import hmac
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote

from bearerguard._certificates import certificate_der, certificate_thumbprint
from bearerguard._coerce import names
from bearerguard._config import Introspection, check_url, normalize_issuer
from bearerguard._errors import ConfigurationError
from bearerguard._introspector import endpoints
from bearerguard._keycache import Document, discovery_urls
from bearerguard._mint import (
    FAKE_ALGORITHMS,
    SigningKey,
    build_claims,
    compact_jws,
    json_segment,
    whole_seconds,
)

from ._activation import Activation, active_during
from ._certificates import ClientCertificate
from ._encryption import encrypt_token
from ._proofs import BrokenProof, DPoPKey, mint_proof

__all__ = ["FakeIssuer"]

F = TypeVar("F", bound=Callable[..., Any])


class _Default(enum.Enum):
    """Marks an argument left out, where ``None`` already means "remove this claim"."""

    DEFAULT = enum.auto()


_DEFAULT = _Default.DEFAULT
_HOUR = 3600
_SUBJECT = "auth0|test-user"


class FakeIssuer:
    """A fake OAuth 2.0 / OIDC issuer: mints real signed tokens and answers key fetches.

    Example::

        from bearerguard import Verifier
        from bearerguard.testing import FakeIssuer

        verifier = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
        with FakeIssuer("tenant.auth0.com", audience="https://api.example.com") as issuer:
            token = verifier.verify(issuer.token(scopes=["read:contacts"]))
            token.scopes                                  # frozenset({'read:contacts'})

    Arguments:
        issuer: the ``iss`` of the tokens, normalised as :class:`~bearerguard.Verifier`
            normalises it (a bare domain becomes ``https://domain/``); use the
            application's own issuer setting. ``http://`` only for loopback hosts.
        audience: the default ``aud`` of the tokens (one string or several).
        algorithm: RS256/384/512, PS256/384/512, ES256/384/512, ES256K, EdDSA (an Ed25519
            key), RFC 9864's Ed25519 or Ed448, or RFC 9964's ML-DSA-44/65/87 (an ``AKP``
            key; the verifier must name that level in ``algorithms``).
        jwks_uri: where the key set is published; default ``<issuer>/.well-known/jwks.json``.
            Set it to the application's ``jwks_uri`` when it configures one.
        lifetime: seconds from ``iat`` to ``exp`` of the tokens.
        clock: the time source of ``iat``/``exp``; pass the one your verifier uses in tests.

    Each fake owns fresh keys, made on first use (an RSA key takes some 40 ms), and
    nothing it does outlives :meth:`stop`.

    For DPoP (RFC 9449) it also plays the client: :meth:`dpop_key` makes a client
    key, ``token(dpop_key=key)`` binds a token to it, :meth:`dpop_proof` signs the
    proof of a request (or a broken one), and ``auth_header(dpop=(method, url))``
    gives both headers at once. For certificate binding (RFC 8705) likewise:
    :meth:`client_certificate` makes a client's certificate and key,
    ``token(certificate=cert)`` binds a token to it, and
    ``auth_header(client_certificate="header:Client-Cert")`` adds the field a proxy
    sets for it. For encrypted tokens (JWE), :meth:`encrypted_token` encrypts a token to
    the API's key, as providers do. For opaque tokens (RFC 7662), :meth:`opaque_token`
    issues one and the fake's introspection endpoint (named by its discovery document)
    answers for it, to the client ``introspection_client_id`` /
    ``introspection_client_secret`` only; :meth:`introspection` gives the matching
    :class:`~bearerguard.Introspection`.
    """

    def __init__(
        self,
        issuer: str = "https://fake-issuer.bearerguard.test/",
        *,
        audience: str | Sequence[str] = "https://api.bearerguard.test",
        algorithm: str = "RS256",
        jwks_uri: str | None = None,
        lifetime: float = _HOUR,
        clock: Callable[[], float] = time.time,
        introspection_client_id: str = "bearerguard-test-api",
        introspection_client_secret: str = "bearerguard-test-secret",  # noqa: S107 - a fake's
    ) -> None:
        self._issuer = normalize_issuer(issuer)
        for name, value in (
            ("introspection_client_id", introspection_client_id),
            ("introspection_client_secret", introspection_client_secret),
        ):
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{name} must be a non-empty string.")
        self._client = (introspection_client_id, introspection_client_secret)
        self._audience = _check_audience(audience)
        if not isinstance(algorithm, str) or algorithm not in FAKE_ALGORITHMS:
            raise ConfigurationError(
                f"A FakeIssuer signs with one of {', '.join(FAKE_ALGORITHMS)}, not {algorithm!r}."
            )
        self._algorithm = algorithm
        if jwks_uri is None:
            jwks_uri = self._issuer.rstrip("/") + "/.well-known/jwks.json"
        check_url(jwks_uri, what="jwks_uri")
        self._jwks_uri = jwks_uri
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
            raise ConfigurationError("lifetime must be a positive number of seconds.")
        if not math.isfinite(lifetime):
            raise ConfigurationError("lifetime must be a finite number of seconds.")
        self._lifetime = lifetime
        self._clock = clock
        self._discovery_urls = discovery_urls(self._issuer)
        self._keys: tuple[SigningKey, ...] = (SigningKey(algorithm),)  # current key first
        self._stranger: SigningKey | None = None  # signs unknown_key_token(); never published
        self._lock = threading.Lock()  # guards the keys
        self._activation = Activation(self._issuer, self._serve)
        self._opaque: dict[str, dict[str, Any]] = {}  # opaque token -> its introspection answer
        self._introspection_calls = 0

    # --- settings -----------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The normalised issuer URL: the ``iss`` of every token and the key of the fake."""
        return self._issuer

    @property
    def audience(self) -> str | tuple[str, ...]:
        """The default ``aud`` of the tokens."""
        return self._audience

    @property
    def algorithm(self) -> str:
        """The JWS algorithm of the signing keys."""
        return self._algorithm

    @property
    def jwks_uri(self) -> str:
        """Where the key set is published (and named by the discovery document)."""
        return self._jwks_uri

    @property
    def lifetime(self) -> float:
        """Seconds from ``iat`` to ``exp`` of the tokens, unless ``expires_in`` says otherwise."""
        return self._lifetime

    @property
    def introspection_endpoint(self) -> str:
        """Where the fake answers introspection requests (RFC 7662)."""
        return self._issuer.rstrip("/") + "/oauth/introspect"

    @property
    def introspection_client_id(self) -> str:
        """The client id the introspection endpoint accepts."""
        return self._client[0]

    @property
    def introspection_client_secret(self) -> str:
        """The client secret the introspection endpoint accepts."""
        return self._client[1]

    @property
    def introspection_calls(self) -> int:
        """How many introspection requests the endpoint has answered (any answer)."""
        return self._introspection_calls

    @property
    def kid(self) -> str:
        """The ``kid`` of the current signing key."""
        return self._keys[0].kid

    # --- documents ----------------------------------------------------------------------

    def discovery_document(self) -> dict[str, Any]:
        """The OpenID Connect discovery document (also served as RFC 8414 metadata).

        Example::

            FakeIssuer("tenant.auth0.com").discovery_document()["token_endpoint"]
            # 'https://tenant.auth0.com/oauth/token'
        """
        base = self._issuer.rstrip("/")
        return {
            "issuer": self._issuer,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "device_authorization_endpoint": f"{base}/oauth/device/code",
            "userinfo_endpoint": f"{base}/userinfo",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "introspection_endpoint": self.introspection_endpoint,
            "introspection_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "jwks_uri": self._jwks_uri,
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self._algorithm],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        """The published key set: public JWKs only, current key first.

        Example::

            issuer = FakeIssuer()
            [key["kid"] for key in issuer.jwks()["keys"]] == [issuer.kid]   # True
        """
        return {"keys": [key.public_jwk() for key in self._keys]}

    # --- tokens -------------------------------------------------------------------------

    def token(
        self,
        *,
        scopes: str | Iterable[str] = (),
        sub: str | None = _SUBJECT,
        aud: str | Sequence[str] | _Default | None = _DEFAULT,
        iss: str | _Default | None = _DEFAULT,
        expires_in: float | None = None,
        headers: Mapping[str, Any] | None = None,
        namespace: str | None = None,
        dpop_key: DPoPKey | None = None,
        certificate: ClientCertificate | bytes | None = None,
        **claims: Any,
    ) -> str:
        """A valid access token, signed by the current key.

        The claims are Auth0-like: ``iss``, ``sub``, ``aud``, ``iat`` (now), ``exp``
        (now + lifetime, or ``expires_in``), ``scope`` (when ``scopes`` is not empty),
        ``azp``, ``client_id`` and a unique ``jti``; the header is ``alg``, ``typ:
        at+jwt`` (RFC 9068) and ``kid``. Any claim can be set or replaced through
        ``**claims`` (a ``datetime`` becomes a NumericDate) and removed with ``None``;
        ``headers`` does the same for header members other than ``alg``.
        ``namespace`` prefixes the ``**claims`` that are not registered claims, as
        Auth0 requires of custom claims. ``dpop_key`` (from :meth:`dpop_key`) binds
        the token to that key: ``cnf: {"jkt": <its thumbprint>}`` (RFC 9449 §6).
        ``certificate`` (from :meth:`client_certificate`, or a certificate's DER) binds
        it to that certificate: ``cnf: {"x5t#S256": <its thumbprint>}`` (RFC 8705 §3.1);
        with both, the token is bound both ways.

        Example::

            issuer.token(scopes=["read:contacts"], namespace="https://example.com/",
                         roles=["admin"])        # claims["https://example.com/roles"]
            issuer.token(dpop_key=key)           # claims["cnf"] == {"jkt": key.jkt}
            issuer.token(certificate=cert)       # claims["cnf"] == {"x5t#S256": cert.thumbprint}
            issuer.token(aud="https://other-api.example")   # InvalidAudienceError
            issuer.token(exp=None)                          # no exp: InvalidClaimsError
        """
        key = self._keys[0]  # once: a concurrent rotate() must not split kid and signature
        header, payload = self._build(
            key,
            scopes=scopes,
            sub=sub,
            aud=aud,
            iss=iss,
            expires_in=expires_in,
            headers=headers,
            namespace=namespace,
            dpop_key=dpop_key,
            certificate=certificate,
            claims=claims,
        )
        return compact_jws(header, payload, key)

    def opaque_token(
        self,
        *,
        scopes: str | Iterable[str] = (),
        sub: str | None = _SUBJECT,
        aud: str | Sequence[str] | _Default | None = _DEFAULT,
        iss: str | _Default | None = _DEFAULT,
        expires_in: float | None = None,
        active: Any = True,
        dpop_key: DPoPKey | None = None,
        certificate: ClientCertificate | bytes | None = None,
        **claims: Any,
    ) -> str:
        """An opaque access token: random text, judged by the fake's introspection endpoint.

        The endpoint answers ``{"active": true, ...}`` with the claims :meth:`token`
        would sign (``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``scope``,
        ``client_id``, ...) plus ``token_type: Bearer``; set, replace or remove them
        (``None``) as there. ``active`` is sent as given (``"true"``, a string, for the
        hostile cases); ``dpop_key`` / ``certificate`` put the binding in ``cnf``.
        :meth:`revoke` makes the endpoint answer ``{"active": false}``.

        Example::

            verifier = Verifier(issuer=..., audience=..., introspection=issuer.introspection())
            with issuer:
                verifier.verify(issuer.opaque_token(scopes=["read:contacts"])).scopes
                # frozenset({'read:contacts'})
        """
        key = self._keys[0]
        _, answer = self._build(
            key,
            scopes=scopes,
            sub=sub,
            aud=aud,
            iss=iss,
            expires_in=expires_in,
            headers=None,
            namespace=None,
            dpop_key=dpop_key,
            certificate=certificate,
            claims={"token_type": "Bearer", **claims},
        )
        token = "bgo_" + secrets.token_urlsafe(32)
        with self._lock:
            self._opaque[token] = {"active": active, **answer}
        return token

    def revoke(self, token: str) -> None:
        """Make the introspection endpoint answer ``{"active": false}`` for ``token``."""
        with self._lock:
            self._opaque.pop(token, None)

    def introspection(self, **settings: Any) -> Introspection:
        """The :class:`~bearerguard.Introspection` of a client the fake's endpoint accepts.

        Example::

            Verifier(issuer=issuer.issuer, audience=issuer.audience,
                     introspection=issuer.introspection(cache_ttl=60))
        """
        return Introspection(
            **{"client_id": self._client[0], "client_secret": self._client[1], **settings}
        )

    def auth_header(
        self,
        *,
        dpop: tuple[str, str] | None = None,
        dpop_nonce: str | None = None,
        client_certificate: str | None = None,
        **kwargs: Any,
    ) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` for test clients; takes :meth:`token`'s
        arguments.

        With ``dpop=(method, url)``, the headers of a DPoP request instead:
        ``{"Authorization": "DPoP <token>", "DPoP": <proof>}``, the token bound to
        ``dpop_key`` (a fresh key when not given) and the proof signed by it for that
        method and URL, carrying ``dpop_nonce`` when given (a nonce the API issued
        in ``DPoP-Nonce``). A proof is good for one request: call again for the next.

        With ``client_certificate`` (the API's ``client_certificate`` setting, e.g.
        ``"header:Client-Cert"``), the token is bound to ``certificate`` (a fresh
        :meth:`client_certificate` when not given) and the field a proxy sets for that
        certificate is added, as the API reads it.

        Example::

            client.get("/contacts", headers=issuer.auth_header(scopes="read:contacts"))
            url = "https://api.example.com/contacts"
            headers = issuer.auth_header(scopes="read:contacts", dpop=("GET", url))
            verifier.verify_request(HttpRequest("GET", url, headers))
            issuer.auth_header(client_certificate="header:Client-Cert")
            # {'Authorization': 'Bearer <a token bound to a new certificate>',
            #  'Client-Cert': ':MIIB...:'}
        """
        forwarded: dict[str, str] = {}
        if client_certificate is not None:
            certificate = kwargs.get("certificate") or self.client_certificate()
            if not isinstance(certificate, ClientCertificate):
                raise TypeError(
                    "client_certificate=... adds the certificate's header: pass a "
                    "ClientCertificate (from issuer.client_certificate()) as certificate=..., "
                    f"not {type(certificate).__name__}."
                )
            forwarded = certificate.headers(client_certificate)
            kwargs["certificate"] = certificate
        if dpop is None:
            if dpop_nonce is not None:
                raise TypeError("dpop_nonce=... goes with dpop=(method, url).")
            return {"Authorization": f"Bearer {self.token(**kwargs)}", **forwarded}
        if not (
            isinstance(dpop, tuple) and len(dpop) == 2 and all(isinstance(v, str) for v in dpop)
        ):
            raise TypeError(
                f"dpop must be the request's (method, url), e.g. "
                f"dpop=('GET', 'https://api.example.com/api/contacts'), got {dpop!r}."
            )
        method, url = dpop
        key = kwargs.pop("dpop_key", None) or self.dpop_key()
        token = self.token(dpop_key=key, **kwargs)
        proof = self.dpop_proof(method, url, token=token, key=key, nonce=dpop_nonce)
        return {"Authorization": f"DPoP {token}", "DPoP": proof, **forwarded}

    # --- DPoP (RFC 9449): the client's key and proofs ------------------------------------

    def dpop_key(self, algorithm: str = "ES256") -> DPoPKey:
        """A new DPoP client key: the test holds it, as a client holds its own.

        Bind a token to it with ``token(dpop_key=key)`` and sign the proofs of the
        requests with ``dpop_proof(..., key=key)``. ``algorithm`` is one a verifier
        accepts in proofs: ES256/384/512, PS256/384/512, RS256/384/512, EdDSA, Ed25519
        or Ed448.

        Example::

            key = issuer.dpop_key()
            key.jkt     # the thumbprint a bound token names in cnf.jkt
        """
        return DPoPKey(algorithm)

    def dpop_proof(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        key: DPoPKey,
        nonce: str | None = None,
        jti: str | None = None,
        iat: float | datetime | None = None,
        broken: BrokenProof | None = None,
        **claims: Any,
    ) -> str:
        """A DPoP proof (RFC 9449 §4.2) of a request, signed by the client's ``key``.

        The header is ``typ: dpop+jwt``, the key's ``alg`` and its public ``jwk``;
        the claims ``jti`` (fresh and random unless given), ``htm`` (``method``),
        ``htu`` (``url`` without its query and fragment), ``iat`` (this issuer's
        clock, unless given), ``ath`` (the hash of ``token``, when given) and
        ``nonce`` (when given). ``**claims`` adds or replaces claims; ``None``
        removes one.

        ``broken`` makes a proof that ``Verifier.verify_request`` refuses for one
        reason, each with InvalidDPoPProofError but ``"nonce"``:

        * ``"htm"``: another method; ``"htu"``: another URL of the same server;
        * ``"iat"``: issued an hour ago, older than any verifier accepts;
        * ``"jti"``: the ``jti`` of the key's latest proof made without ``broken``: a
          replay, refused once that proof was accepted;
        * ``"ath"``: the hash of another token;
        * ``"key"``: a valid proof by another key than the one the token is bound to;
        * ``"signature"``: the key's ``jwk``, but signed by another key;
        * ``"nonce"``: no nonce even when ``nonce`` is given: UseDPoPNonceError from
          a verifier with ``dpop_nonce`` set (a verifier without accepts it).

        Example::

            url = "https://api.example.com/contacts"
            key = issuer.dpop_key()
            token = issuer.token(scopes="read:contacts", dpop_key=key)
            proof = issuer.dpop_proof("GET", url, token=token, key=key)
            headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
            verifier.verify_request(HttpRequest("GET", url, headers))
            issuer.dpop_proof("GET", url, token=token, key=key, broken="htm")   # refused
        """
        return mint_proof(
            key,
            method=method,
            url=url,
            now=self._clock(),
            token=token,
            nonce=nonce,
            jti=jti,
            iat=iat,
            broken=broken,
            claims=claims,
        )

    # --- certificate binding (RFC 8705): the client's certificate --------------------------

    def client_certificate(self, name: str = "bearerguard test client") -> ClientCertificate:
        """A new client certificate and key (self-signed, ECDSA P-256): the test holds it,
        as an mTLS client holds its own.

        Bind a token to it with ``token(certificate=cert)``; the API sees it where its
        ``client_certificate`` setting says (``cert.headers("header:Client-Cert")``, or
        the server's TLS layer: ``cert.tls_extension()``, ``cert.wsgi_environ()``).

        Example::

            cert = issuer.client_certificate()
            cert.thumbprint     # what a bound token names in cnf["x5t#S256"]
        """
        return ClientCertificate(name)

    def encrypted_token(
        self,
        to: object,
        *,
        alg: str = "RSA-OAEP-256",
        enc: str = "A256GCM",
        kid: str | None = None,
        **kwargs: Any,
    ) -> str:
        """A valid token, encrypted to the API (JWE, RFC 7516) as providers encrypt them.

        ``to`` is the API's key: its public key, or what the verifier's
        ``decryption_keys`` holds (a PEM private key, a private JWK, a key object; an
        ``oct`` JWK or ``bytes`` for ``dir``). ``alg`` is RSA-OAEP-256, ECDH-ES,
        ECDH-ES+A128KW/A192KW/A256KW or dir; ``enc`` A128GCM/A192GCM/A256GCM or
        A128CBC-HS256/A192CBC-HS384/A256CBC-HS512; ``kid`` names the API's key in the
        JWE header. The JWE's ``cty`` is ``JWT``; inside is :meth:`token`, which takes
        every other argument.

        Example::

            verifier = Verifier(issuer=..., audience=..., decryption_keys=api_key_pem)
            verifier.verify(issuer.encrypted_token(api_key_pem, scopes="read:contacts"))
        """
        signed = self.token(**kwargs)
        try:
            return encrypt_token(signed, to, alg=alg, enc=enc, kid=kid)
        except ValueError as exc:  # a key that does not fit alg and enc
            raise ConfigurationError(f"encrypted_token(): {exc}") from None

    # Deliberately broken tokens: each one fails exactly one check of the verifier.

    def expired_token(self, **kwargs: Any) -> str:
        """A token that expired an hour ago (issued two hours ago): ExpiredTokenError.

        Takes :meth:`token`'s arguments; ``exp=...`` chooses another moment.

        Example::

            verifier.verify(issuer.expired_token())   # raises ExpiredTokenError
        """
        if "expires_in" in kwargs:
            raise TypeError("expired_token() sets exp itself: pass exp=... to choose it.")
        now = int(self._clock())
        return self.token(**{"iat": now - 2 * _HOUR, "exp": now - _HOUR, **kwargs})

    def immature_token(self, **kwargs: Any) -> str:
        """A token not valid before an hour from now (``nbf``): ImmatureTokenError.

        Example::

            verifier.verify(issuer.immature_token())   # raises ImmatureTokenError
        """
        if "expires_in" in kwargs:
            raise TypeError("immature_token() sets exp itself: pass exp=... to choose it.")
        start = int(self._clock()) + _HOUR
        exp = whole_seconds(start + self._lifetime)
        return self.token(**{"nbf": start, "exp": exp, **kwargs})

    def tampered_token(self, **kwargs: Any) -> str:
        """A valid token whose payload was changed after signing: InvalidSignatureError.

        The change elevates the ``scope`` claim with ``admin``, as an attacker would.

        Example::

            verifier.verify(issuer.tampered_token(scopes="read:contacts"))
            # raises InvalidSignatureError
        """
        key = self._keys[0]
        header, payload = self._build_from(key, kwargs)
        signed = compact_jws(header, payload, key)
        scope = payload.get("scope")
        payload["scope"] = f"{scope} admin" if isinstance(scope, str) and scope else "admin"
        head, _, signature = signed.split(".")
        return f"{head}.{json_segment(payload)}.{signature}"

    def unsigned_token(self, **kwargs: Any) -> str:
        """The token with ``alg: none`` and an empty signature: refused as malformed.

        Example::

            verifier.verify(issuer.unsigned_token())   # raises MalformedTokenError
        """
        header, payload = self._build_from(self._keys[0], kwargs)
        header["alg"] = "none"
        return f"{json_segment(header)}.{json_segment(payload)}."

    def unknown_key_token(self, **kwargs: Any) -> str:
        """A token signed by a key the key set never publishes, under a kid it never lists.

        The verifier refuses it with UnknownKeyError; with ``headers={"kid": issuer.kid}``
        (an attacker's key under the real kid) with InvalidSignatureError.

        Example::

            verifier.verify(issuer.unknown_key_token())   # raises UnknownKeyError
        """
        with self._lock:
            if self._stranger is None:
                self._stranger = SigningKey(self._algorithm)
            stranger = self._stranger
        header, payload = self._build_from(stranger, kwargs)
        return compact_jws(header, payload, stranger)

    def _build_from(
        self, key: SigningKey, kwargs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        arguments = dict(kwargs)
        return self._build(
            key,
            scopes=arguments.pop("scopes", ()),
            sub=arguments.pop("sub", _SUBJECT),
            aud=arguments.pop("aud", _DEFAULT),
            iss=arguments.pop("iss", _DEFAULT),
            expires_in=arguments.pop("expires_in", None),
            headers=arguments.pop("headers", None),
            namespace=arguments.pop("namespace", None),
            dpop_key=arguments.pop("dpop_key", None),
            certificate=arguments.pop("certificate", None),
            claims=arguments,
        )

    def _build(
        self,
        key: SigningKey,
        *,
        scopes: str | Iterable[str],
        sub: str | None,
        aud: str | Sequence[str] | _Default | None,
        iss: str | _Default | None,
        expires_in: float | None,
        headers: Mapping[str, Any] | None,
        namespace: str | None,
        dpop_key: DPoPKey | None,
        certificate: ClientCertificate | bytes | None,
        claims: Mapping[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        header: dict[str, Any] = {"alg": self._algorithm, "typ": "at+jwt", "kid": key.kid}
        cnf: dict[str, str] = {}
        if dpop_key is not None:
            if not isinstance(dpop_key, DPoPKey):
                raise TypeError(
                    "dpop_key must be a DPoPKey (from issuer.dpop_key()), "
                    f"got {type(dpop_key).__name__}."
                )
            cnf["jkt"] = dpop_key.jkt
        if certificate is not None:
            cnf["x5t#S256"] = _thumbprint_of(certificate)
        if cnf:
            if "cnf" in claims:
                raise TypeError(
                    "Pass dpop_key=... / certificate=... or a raw cnf=... claim, not both."
                )
            claims = {**claims, "cnf": cnf}
        if headers:
            if "alg" in headers:
                raise ConfigurationError(
                    "token() signs with the issuer's algorithm: for another alg use "
                    "unsigned_token() or FakeIssuer(algorithm=...)."
                )
            header.update(headers)
        payload = build_claims(
            now=self._clock(),
            iss=self._issuer if isinstance(iss, _Default) else iss,
            sub=sub,
            aud=self._audience if isinstance(aud, _Default) else aud,
            lifetime=self._lifetime,
            expires_in=expires_in,
            scopes=scopes,
            namespace=namespace,
            extra=claims,
        )
        return {name: v for name, v in header.items() if v is not None}, payload

    # --- keys ---------------------------------------------------------------------------

    def rotate(self, *, keep_old: bool = True) -> str:
        """Publish a new signing key and sign with it from now on; return its ``kid``.

        With ``keep_old=False`` the previous keys are unpublished, so their tokens are
        refused (UnknownKeyError). Verifiers of this issuer forget their cached keys,
        so the change is seen at once: withdrawn keys stop serving without waiting for
        the key set's TTL, and no earlier unknown-kid cooldown delays the new key.

        Example::

            old = issuer.token()
            issuer.rotate(keep_old=False)
            verifier.verify(issuer.token())   # verifies
            verifier.verify(old)              # raises UnknownKeyError
        """
        key = SigningKey(self._algorithm)
        with self._lock:
            self._keys = (key, *self._keys) if keep_old else (key,)
        self._activation.republish()
        return key.kid

    # --- activation ---------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether the fake is answering its issuer's key fetches right now."""
        return self._activation.active

    def start(self) -> FakeIssuer:
        """Answer the key fetches of every verifier that trusts this issuer, until :meth:`stop`.

        Raises RuntimeError if this fake, or another for the same issuer, is active.
        Verifiers of the issuer forget the keys they had cached.

        Example::

            issuer = FakeIssuer("tenant.auth0.com").start()
            ...
            issuer.stop()
        """
        self._activation.start()
        endpoints.activate(self.introspection_endpoint, self._introspect)
        return self

    def stop(self) -> None:
        """Stop answering; the verifiers forget the fake's keys. Stopping twice is harmless.

        Example::

            issuer.stop()
            issuer.active   # False
        """
        endpoints.deactivate(self.introspection_endpoint)
        self._activation.stop()

    def __enter__(self) -> FakeIssuer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        """Decorate a function, coroutine function or test class: active during each call.

        Calls must not overlap (the fake cannot be started twice). On a class, each
        method whose name starts with ``test`` is decorated.

        Example::

            issuer = FakeIssuer("tenant.auth0.com", audience="https://api.example.com")

            @issuer
            def test_contacts(client):
                assert client.get("/contacts", headers=issuer.auth_header()).status_code == 200
        """
        return active_during(self, func)

    def _serve(self, url: str) -> bytes | None:
        # Computed per fetch, so a rotation is served on the verifiers' next fetch.
        if url == self._jwks_uri:
            return json.dumps(self.jwks()).encode()
        if url in self._discovery_urls:
            return json.dumps(self.discovery_document()).encode()
        return None

    def _introspect(self, form: Mapping[str, str], headers: Mapping[str, str]) -> Document:
        """The introspection endpoint: the client authenticated, then the token's answer."""
        with self._lock:
            self._introspection_calls += 1
            answer = self._opaque.get(form.get("token", ""))
        if not self._authenticated(form, headers):
            return _json(401, {"error": "invalid_client"})
        if answer is None or (
            isinstance(answer.get("exp"), (int, float)) and answer["exp"] <= self._clock()
        ):
            return _json(200, {"active": False})
        return _json(200, {name: value for name, value in answer.items() if value is not None})

    def _authenticated(self, form: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        """client_secret_basic or client_secret_post, with the fake's client, and not both."""
        basic = headers.get("Authorization", "")
        if basic.startswith("Basic ") and "client_secret" not in form:
            try:
                pair = base64.b64decode(basic[6:], validate=True).decode()
            except ValueError:
                return False
            given = tuple(unquote(part) for part in pair.partition(":")[::2])
        elif not basic and "client_secret" in form:
            given = (form.get("client_id", ""), form["client_secret"])
        else:
            return False
        return hmac.compare_digest(given[0], self._client[0]) and hmac.compare_digest(
            given[1], self._client[1]
        )

    def __repr__(self) -> str:
        # Never the keys themselves: a repr ends up in logs and assertion messages.
        return (
            f"FakeIssuer(issuer={self._issuer!r}, algorithm={self._algorithm!r}, "
            f"kid={self.kid!r}, active={self.active})"
        )


def _json(status: int, body: Mapping[str, Any]) -> Document:
    return Document(status, {"content-type": "application/json"}, json.dumps(body).encode())


def _thumbprint_of(certificate: object) -> str:
    """``cnf["x5t#S256"]`` for a :class:`ClientCertificate` or a certificate's DER."""
    if isinstance(certificate, ClientCertificate):
        return certificate.thumbprint
    if isinstance(certificate, (bytes, bytearray, memoryview)):
        try:
            return certificate_thumbprint(certificate_der(certificate))
        except ValueError as exc:
            raise TypeError(f"certificate=... holds bytes that are no certificate: {exc}") from None
    raise TypeError(
        "certificate must be a ClientCertificate (from issuer.client_certificate()) or a "
        f"certificate's DER bytes, got {type(certificate).__name__}."
    )


def _check_audience(audience: str | Sequence[str]) -> str | tuple[str, ...]:
    values = names(audience, "audience", "audience='https://api.example.com'")
    if not values or not all(isinstance(a, str) and a and a == a.strip() for a in values):
        raise ConfigurationError(
            "audience must be your API's identifier (or several), e.g. 'https://api.example.com'."
        )
    return audience if isinstance(audience, str) else values
