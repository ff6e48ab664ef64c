"""The tokens the dev-issuer signs: access tokens (RFC 9068, Auth0-shaped) and ID tokens.

Claims are built by :func:`bearerguard._mint.build_claims`, the same code
:class:`~bearerguard.testing.FakeIssuer` uses, and signed with the key store's
current key by :func:`bearerguard._mint.compact_jws`. An access token issued
to a client that proved a DPoP key (RFC 9449 §6.1) names that key's RFC 7638
thumbprint in ``cnf.jkt``. An access token for an API configured with an
``encryption_key`` is then encrypted to that API (:mod:`._encryption`), as Auth0 does.
For an API with ``"token_format": "opaque"``, the same claims are kept by
:class:`._opaque.OpaqueTokens` instead, and the token is a random string that
only the introspection endpoint can tell about.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bearerguard._mint import build_claims, compact_jws

from ._config import ApiConfig, ClientConfig, DevIssuerConfig, Organization, UserConfig
from ._encryption import EncryptionKey
from ._keys import KeyStore
from ._opaque import OpaqueTokens
from ._resources import find_api
from ._store import Approval

__all__ = ["USERINFO", "Minter", "namespaced", "organization_claims", "profile_claims"]

USERINFO = "userinfo"  # the userinfo endpoint, relative to the issuer URL
# Lifetime of a sign-in-only access token (no API asked for; good for /userinfo alone).
_USERINFO_LIFETIME = 86400


class Minter:
    """Builds and signs the dev-issuer's tokens.

    Example::

        minter = Minter(config, KeyStore())
        minter.access_token(issuer="http://127.0.0.1:9000/", sub="auth0|alice",
                            audience="https://api.example.com", scopes=["read:messages"],
                            lifetime=3600)
    """

    def __init__(
        self,
        config: DevIssuerConfig,
        keys: KeyStore,
        clock: Callable[[], float] = time.time,
        opaque: OpaqueTokens | None = None,
    ) -> None:
        self._config = config
        self._keys = keys
        self._clock = clock
        self._opaque = OpaqueTokens(clock) if opaque is None else opaque

    @property
    def opaque(self) -> OpaqueTokens:
        """The opaque access tokens issued, with their claims (what introspection reads)."""
        return self._opaque

    def access_token(
        self,
        *,
        issuer: str,
        sub: str | None,
        audience: str | Sequence[str] | None,
        scopes: str | Iterable[str],
        lifetime: float,
        client_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        jkt: str | None = None,
    ) -> str:
        """A signed access token; ``extra`` claims are namespaced, ``None`` removes a claim.

        ``jkt``: the thumbprint of the client's DPoP key; the token is then bound to
        it (``cnf: {"jkt": ...}``) and a resource server accepts it with a proof by
        that key only. For an API with an ``encryption_key`` (the first configured API
        ``audience`` names), the signed token is encrypted to it: a JWE. For an API with
        opaque tokens, the claims are kept and the token is a random string.
        """
        claims = dict(extra or {})
        if client_id is not None:
            # Auth0 names the client in azp, RFC 9068 in client_id: both are read.
            claims = {"azp": client_id, "client_id": client_id, **claims}
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}
        payload = build_claims(
            now=self._clock(),
            iss=issuer,
            sub=sub,
            aud=audience,
            lifetime=lifetime,
            expires_in=None,
            scopes=scopes,
            namespace=self._config.namespace,
            extra=claims,
        )
        api = self._api(audience)
        if api is not None and api.opaque:
            return self._opaque.issue(payload)
        signed = self._sign("at+jwt", payload)
        encryption: EncryptionKey | None = None if api is None else api.encryption
        return signed if encryption is None else encryption.encrypt(signed)

    def _api(self, audience: str | Sequence[str] | None) -> ApiConfig | None:
        """The configured API the token is for: the first one ``audience`` names."""
        names = [audience] if isinstance(audience, str) else list(audience or ())
        for name in names:
            api = self._config.api(name)
            if api is not None:  # the API; a user's token also names userinfo, after it
                return api
        return None

    def client_token(
        self,
        *,
        issuer: str,
        client: ClientConfig,
        api: ApiConfig,
        scopes: Sequence[str],
        jkt: str | None = None,
    ) -> str:
        """A client-credentials (machine-to-machine) token, as Auth0 shapes it; bound to the
        DPoP key ``jkt`` names, when given."""
        return self.access_token(
            issuer=issuer,
            sub=f"{client.client_id}@clients",
            audience=api.identifier,
            scopes=scopes,
            lifetime=api.token_lifetime,
            client_id=client.client_id,
            extra={
                "gty": "client-credentials",
                **organization_claims(client.organization),
                **client.claims,
            },
            jkt=jkt,
        )

    def user_token(
        self, *, issuer: str, approval: Approval, implicit: bool = False, jkt: str | None = None
    ) -> tuple[str, int]:
        """A user's access token and its lifetime in seconds.

        ``aud`` is the API, or ``[API, {iss}userinfo]`` when ``openid`` was granted
        (Auth0's shape); without an API it is ``{iss}userinfo`` alone. ``jkt``: the
        DPoP key the token is bound to, if any.
        """
        api = (
            None
            if approval.audience is None
            else find_api(self._config, approval.audience, approval.scopes)
        )
        user = self._config.user(approval.sub)
        userinfo = issuer + USERINFO
        audience: str | list[str]
        if api is None:
            audience, lifetime = userinfo, _USERINFO_LIFETIME
        else:
            audience = [api.identifier, userinfo] if "openid" in approval.scopes else api.identifier
            lifetime = api.token_lifetime_for_web if implicit else api.token_lifetime
        extra: dict[str, Any] = {}
        if user is not None:
            if user.permissions is not None and api is not None:
                # Auth0 RBAC: the user's permissions for this API, whatever was asked.
                extra["permissions"] = [p for p in user.permissions if p in api.scopes]
            extra.update(organization_claims(user.organization))
            extra.update(user.claims)
        token = self.access_token(
            issuer=issuer,
            sub=approval.sub,
            audience=audience,
            scopes=approval.scopes,
            lifetime=lifetime,
            client_id=approval.client_id,
            extra=extra,
            jkt=jkt,
        )
        return token, lifetime

    def id_token(self, *, issuer: str, approval: Approval) -> str:
        """An OpenID Connect ID token for the client (``aud`` = its client_id)."""
        now = int(self._clock())
        user = self._config.user(approval.sub)
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": approval.sub,
            "aud": approval.client_id,
            "iat": now,
            "exp": now + self._config.id_token_lifetime,
            "auth_time": approval.auth_time,
        }
        if approval.nonce is not None:
            claims["nonce"] = approval.nonce
        if user is not None:
            claims.update(profile_claims(user, approval.scopes))
            claims.update(organization_claims(user.organization))
            claims.update(namespaced(user.claims, self._config.namespace))
        return self._sign("JWT", claims)

    def _sign(self, typ: str, claims: Mapping[str, Any]) -> str:
        key = self._keys.current  # once: a rotation in between must not split kid and signature
        return compact_jws({"alg": key.algorithm, "typ": typ, "kid": key.kid}, claims, key)


def profile_claims(user: UserConfig, scopes: Iterable[str]) -> dict[str, Any]:
    """The standard claims the ``profile`` and ``email`` scopes release (OIDC Core §5.4)."""
    granted = set(scopes)
    claims: dict[str, Any] = {}
    if "profile" in granted and user.name is not None:
        claims["name"] = user.name
    if "email" in granted and user.email is not None:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    return claims


def namespaced(claims: Mapping[str, Any], prefix: str | None) -> dict[str, Any]:
    """Custom claims under ``prefix``, except names that are URLs already (as ``build_claims``)."""
    if prefix is None:
        return dict(claims)
    return {(name if "://" in name else prefix + name): v for name, v in claims.items()}


def organization_claims(organization: Organization | None) -> dict[str, str]:
    if organization is None:
        return {}
    return {"org_id": organization.id, "org_name": organization.name}
