"""The dev-issuer's tenant: APIs, clients, users. Frozen, validated when built.

Each dataclass checks itself; :class:`DevIssuerConfig` checks what spans them
(client grants naming a configured API, unique ids, ...). Every mistake is a
:class:`._checks.KeyProblem` naming the key at fault and saying what to write:
``client 'spa-client': redirect_uris[0] must be ...`` when built in Python,
``clients[1].redirect_uris[0] must be ...`` when read from a file by
:mod:`._loading`, which checks the JSON shape (unknown keys, types) first.
Lists may be passed where a ``Sequence`` is asked for; they are stored as
tuples, so a configuration never changes once built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bearerguard._keys import KeySet, KeySetError, VerificationKey
from bearerguard._mint import SIGNING_ALGORITHMS, namespace_prefix

from ._checks import (
    DAY,
    KeyProblem,
    check_claims,
    check_flag,
    check_lifetime,
    check_object,
    check_redirect_uris,
    check_scopes,
    check_strings,
    check_text,
    check_unique,
)
from ._encryption import EncryptionKey, encryption_key
from ._proofs import PROOF_ALGORITHMS

__all__ = [
    "GRANT_TYPES",
    "OIDC_SCOPES",
    "TOKEN_FORMATS",
    "ApiConfig",
    "ClientConfig",
    "DevIssuerConfig",
    "Organization",
    "UserConfig",
]

# What a client may be allowed; "implicit" is the legacy response_type=token flow.
GRANT_TYPES = ("authorization_code", "client_credentials", "implicit", "refresh_token")
_GRANT_TYPE_LIST = ", ".join(GRANT_TYPES)
# Scopes of the OpenID Connect layer, not of any API: they shape the id_token and userinfo.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
# What an API's access tokens are: signed JWTs, or opaque strings checked by introspection.
TOKEN_FORMATS = ("jwt", "opaque")


@dataclass(frozen=True, slots=True, kw_only=True)
class Organization:
    """An Auth0 organization: its tokens carry ``org_id`` and ``org_name``."""

    id: str
    name: str

    def __post_init__(self) -> None:
        check_object("organization", self.id, self._check)

    def _check(self) -> None:
        check_text(self.id, "id")
        check_text(self.name, "name")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    """An API (an Auth0 "resource server"): the ``audience`` of its access tokens.

    With ``encryption_key`` (the API's RSA public key: PEM text, a certificate, a JWK, or
    a file's path), its access tokens are encrypted to it (JWE: RSA-OAEP-256 and A256GCM),
    as Auth0 encrypts tokens for an API with JSON Web Encryption on; once built, the
    setting holds the key read and checked (:class:`._encryption.EncryptionKey`).

    With ``token_format="opaque"``, its access tokens are random strings whose claims the
    dev-issuer keeps (:mod:`._opaque`): the API asks the introspection endpoint about them
    (RFC 7662). An opaque token has no claims to encrypt, so it takes no ``encryption_key``.

    Example::

        ApiConfig(identifier="https://api.example.com", scopes=("read:messages",))
        ApiConfig(identifier="https://api.example.com", encryption_key="keys/api.pub.pem")
        ApiConfig(identifier="https://api.example.com", token_format="opaque")
    """

    identifier: str
    scopes: Sequence[str] = ()
    name: str | None = None
    #: seconds an access token for this API lives (Auth0's default: a day)
    token_lifetime: int = DAY
    #: seconds a token from the legacy implicit flow lives (Auth0's default: two hours)
    token_lifetime_for_web: int = 7200
    #: whether refresh tokens (scope offline_access) may be issued for this API
    allow_offline_access: bool = True
    #: the API's public key: its access tokens are then encrypted to it (JWE)
    encryption_key: EncryptionKey | object | None = field(default=None, repr=False)
    #: "jwt" (signed JWTs, the default) or "opaque" (checked at the introspection endpoint)
    token_format: str = "jwt"

    def __post_init__(self) -> None:
        check_object("API", self.identifier, self._check)

    def _check(self) -> None:
        check_text(self.identifier, "identifier")
        object.__setattr__(self, "scopes", check_scopes(self.scopes, "scopes"))
        for index, scope in enumerate(self.scopes):
            if scope in OIDC_SCOPES:
                raise KeyProblem(
                    f"scopes[{index}]",
                    f"is {scope!r}, an OpenID Connect scope, not an API permission: remove it "
                    "(clients ask for it at /authorize anyway).",
                )
        if self.name is not None:
            check_text(self.name, "name")
        check_lifetime(self.token_lifetime, "token_lifetime")
        check_lifetime(self.token_lifetime_for_web, "token_lifetime_for_web")
        check_flag(self.allow_offline_access, "allow_offline_access")
        object.__setattr__(self, "encryption_key", encryption_key(self.encryption_key))
        self._check_format()

    def _check_format(self) -> None:
        if self.token_format not in TOKEN_FORMATS:
            raise KeyProblem(
                "token_format",
                'must be "jwt" (signed JWTs, the default) or "opaque" (random strings the API '
                f"checks at the introspection endpoint); got {self.token_format!r}.",
            )
        if self.opaque and self.encryption_key is not None:
            raise KeyProblem(
                "token_format",
                'is "opaque", and encryption_key encrypts JWTs: an opaque token carries no '
                'claims to encrypt. Remove encryption_key, or write "token_format": "jwt".',
            )

    @property
    def opaque(self) -> bool:
        """Whether this API's access tokens are opaque (checked by introspection)."""
        return self.token_format == "opaque"

    @property
    def encryption(self) -> EncryptionKey | None:
        """The key this API's access tokens are encrypted to; ``None``: they are not."""
        key = self.encryption_key
        return key if isinstance(key, EncryptionKey) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """An OAuth client (an Auth0 "application").

    Confidential clients authenticate with ``client_secret``; public ones (SPAs,
    native apps) have none and must use PKCE. ``grants`` maps an API identifier
    to the scopes the client gets with ``client_credentials``; ``claims`` are
    added to those machine-to-machine tokens. ``jwks``, a confidential client's
    public JWK Set, lets it authenticate with ``private_key_jwt`` (RFC 7523) at the
    token, introspection and revocation endpoints, besides its secret; a client with
    ``jwks`` and no ``client_secret`` is confidential and authenticates that way only.

    Example::

        ClientConfig(client_id="m2m", client_secret="s3cret", grant_types=("client_credentials",),
                     grants={"https://api.example.com": ("read:messages",)})
    """

    client_id: str
    grant_types: Sequence[str]
    client_secret: str | None = field(default=None, repr=False)
    name: str | None = None
    public: bool = False
    grants: Mapping[str, Sequence[str]] = field(default_factory=dict)
    redirect_uris: Sequence[str] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)
    organization: Organization | None = None
    #: the client's public keys (a JWK Set), for private_key_jwt client authentication
    jwks: Mapping[str, Any] | None = field(default=None, repr=False)
    #: the keys of ``jwks``, imported once when the client is checked; ``None`` without
    key_set: KeySet | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_object("client", self.client_id, self._check)

    def _check(self) -> None:
        check_text(self.client_id, "client_id")
        if self.name is not None:
            check_text(self.name, "name")
        check_flag(self.public, "public")
        grant_types = check_strings(self.grant_types, "grant_types")
        if not grant_types:
            raise KeyProblem(
                "grant_types", f"must list what the client may do: some of {_GRANT_TYPE_LIST}."
            )
        for index, grant_type in enumerate(grant_types):
            if grant_type not in GRANT_TYPES:
                raise KeyProblem(
                    f"grant_types[{index}]",
                    f"must be one of {_GRANT_TYPE_LIST}; got {grant_type!r}.",
                )
        object.__setattr__(self, "grant_types", tuple(dict.fromkeys(grant_types)))
        self._check_secret(grant_types)
        uris = check_redirect_uris(self.redirect_uris, "redirect_uris")
        object.__setattr__(self, "redirect_uris", uris)
        if uris == () and self.interactive:
            raise KeyProblem(
                "redirect_uris",
                "must list the exact callback URLs of the app, as authorization_code and "
                'implicit redirect there: e.g. ["http://127.0.0.1:8080/callback"].',
            )
        if "refresh_token" in grant_types and not self.interactive:
            raise KeyProblem(
                f"grant_types[{grant_types.index('refresh_token')}]",
                "is refresh_token, and refresh tokens come from authorization_code (scope "
                "offline_access): add authorization_code to grant_types, or remove "
                "refresh_token.",
            )
        if not isinstance(self.grants, Mapping):
            raise KeyProblem(
                "grants",
                'must map API identifiers to lists of scopes, e.g. {"https://api.example.com": '
                '["read:messages"]}.',
            )
        object.__setattr__(
            self,
            "grants",
            MappingProxyType(
                {api: check_scopes(s, f"grants[{api!r}]") for api, s in self.grants.items()}
            ),
        )
        object.__setattr__(self, "claims", check_claims(self.claims, "claims"))
        _organization(self.organization)
        self._check_jwks()

    def _check_jwks(self) -> None:
        if self.jwks is None:
            return
        if self.public:
            raise KeyProblem(
                "jwks",
                "must be left out: a public client does not authenticate, so it has no keys "
                'to authenticate with. Remove jwks, or set "public": false.',
            )
        keys = self.jwks.get("keys") if isinstance(self.jwks, Mapping) else None
        if not isinstance(keys, Sequence) or isinstance(keys, str) or not keys:
            raise KeyProblem("jwks", f"must be a JWK Set of public keys, {_JWKS_EXAMPLE}.")
        for index, jwk in enumerate(keys):
            _check_jwk(jwk, f"jwks.keys[{index}]")
        object.__setattr__(self, "jwks", MappingProxyType({"keys": tuple(keys)}))
        try:
            key_set = KeySet.from_document({"keys": list(keys)})
        except KeySetError as why:
            raise KeyProblem("jwks", f"is not a usable JWK Set ({why}): {_JWKS_EXAMPLE}.") from None
        object.__setattr__(self, "key_set", key_set)

    def _check_secret(self, grant_types: tuple[str, ...]) -> None:
        if self.public:
            if self.client_secret is not None:
                raise KeyProblem(
                    "client_secret",
                    "must be left out: a public client has no secret (anyone can read a "
                    'SPA\'s code). Remove it, or set "public": false.',
                )
            if "client_credentials" in grant_types:
                raise KeyProblem(
                    f"grant_types[{grant_types.index('client_credentials')}]",
                    "is client_credentials, which needs a confidential client: give the client "
                    'a client_secret and "public": false, or remove client_credentials.',
                )
        elif self.client_secret is None and self.jwks is not None:
            return  # confidential by its keys: it authenticates with private_key_jwt only
        elif not isinstance(self.client_secret, str) or not self.client_secret:
            raise KeyProblem(
                "client_secret",
                "is required: a confidential client needs a client_secret (or jwks, to "
                "authenticate with private_key_jwt). For a SPA or a native app without one, set "
                '"public": true (it will use PKCE).',
            )

    @property
    def display_name(self) -> str:
        """The name shown on the consent page (the client id when it has no name)."""
        return self.name or self.client_id

    @property
    def interactive(self) -> bool:
        """Whether users sign in to this client at /authorize."""
        return "authorization_code" in self.grant_types or "implicit" in self.grant_types


_JWKS_EXAMPLE = 'e.g. {"keys": [{"kty": "EC", "crv": "P-256", "x": "...", "y": "..."}]}'


def _check_jwk(jwk: object, key: str) -> None:
    try:
        if not isinstance(jwk, Mapping):
            raise KeySetError("it is not a JSON object")
        if not VerificationKey.from_jwk(jwk).algorithms & set(PROOF_ALGORITHMS):
            raise KeySetError(
                f"client assertions are signed with {', '.join(PROOF_ALGORITHMS)}, and this "
                "key verifies none of them"
            )
    except KeySetError as why:
        raise KeyProblem(
            key,
            f"is not a usable public signing key ({why}): write the public half of the key "
            f"the client signs its assertions with, {_JWKS_EXAMPLE}.",
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserConfig:
    """A user who can be picked on the consent page (no password: it is a dev tool).

    ``permissions``, when given, caps the API scopes the user's tokens get and is
    published as the ``permissions`` claim, as Auth0 RBAC does; ``claims`` go into
    the user's access and ID tokens.

    Example::

        UserConfig(sub="auth0|alice", name="Alice", email="alice@example.com",
                   permissions=("read:messages",))
    """

    sub: str
    name: str | None = None
    email: str | None = None
    email_verified: bool = True
    permissions: Sequence[str] | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    organization: Organization | None = None

    def __post_init__(self) -> None:
        check_object("user", self.sub, self._check)

    def _check(self) -> None:
        check_text(self.sub, "sub")
        for name in ("name", "email"):
            if getattr(self, name) is not None:
                check_text(getattr(self, name), name)
        check_flag(self.email_verified, "email_verified")
        if self.permissions is not None:
            object.__setattr__(self, "permissions", check_scopes(self.permissions, "permissions"))
        object.__setattr__(self, "claims", check_claims(self.claims, "claims"))
        _organization(self.organization)


@dataclass(frozen=True, slots=True, kw_only=True)
class DevIssuerConfig:
    """The whole tenant of a :class:`~bearerguard.devissuer.DevIssuer`.

    ``namespace`` prefixes custom claim names that are not URLs already
    (``tier`` -> ``https://example.com/tier``), as Auth0 requires of custom claims.
    ``default_audience`` is used when a request names no ``audience`` (Auth0's
    tenant setting of that name). ``dpop_nonce`` makes the token endpoint demand a
    server nonce in every DPoP proof (RFC 9449 §8). ``loopback_resources`` accepts
    any loopback URL (``http://127.0.0.1:8000/mcp``) as the identifier of an API that
    grants the scopes asked for: what a local MCP server needs (see ``._resources``).

    Example::

        config = DevIssuerConfig(
            apis=(ApiConfig(identifier="https://api.example.com", scopes=("read:messages",)),),
            clients=(ClientConfig(client_id="m2m", client_secret="s3cret",
                                  grant_types=("client_credentials",),
                                  grants={"https://api.example.com": ("read:messages",)}),),
        )
    """

    apis: Sequence[ApiConfig] = ()
    clients: Sequence[ClientConfig] = ()
    users: Sequence[UserConfig] = ()
    namespace: str | None = None
    default_audience: str | None = None
    #: seconds an ID token lives (Auth0's default: ten hours)
    id_token_lifetime: int = 36000
    #: absolute lifetime of a refresh token family, in seconds (Auth0's default: 30 days)
    refresh_token_lifetime: int = 30 * DAY
    #: whether DPoP proofs at the token endpoint must carry a server nonce (RFC 9449 §8)
    dpop_nonce: bool = False
    #: whether a loopback URL names an API of its own, granting the scopes asked for
    loopback_resources: bool = False
    #: what new signing keys sign with: RS256 when unset (or what a keys file holds); an
    #: ML-DSA level makes the key set publish AKP keys (RFC 9964)
    signing_algorithm: str | None = None

    def __post_init__(self) -> None:
        for name, kind in (("apis", ApiConfig), ("clients", ClientConfig), ("users", UserConfig)):
            items = getattr(self, name)
            if isinstance(items, (str, Mapping)) or not isinstance(items, Sequence):
                raise KeyProblem(name, f"must be a list of {kind.__name__}, got {items!r}.")
            for index, item in enumerate(items):
                if not isinstance(item, kind):
                    raise KeyProblem(f"{name}[{index}]", f"must be a {kind.__name__}.")
            object.__setattr__(self, name, tuple(items))
        if not self.clients:
            raise KeyProblem(
                "clients",
                "must list at least one client: nothing can ask for a token otherwise. E.g. "
                '{"client_id": "m2m", "client_secret": "s3cret", '
                '"grant_types": ["client_credentials"]}.',
            )
        check_unique((a.identifier for a in self.apis), "apis", "identifier")
        check_unique((c.client_id for c in self.clients), "clients", "client_id")
        check_unique((u.sub for u in self.users), "users", "sub")
        if self.namespace is not None:
            check_text(self.namespace, "namespace")
            object.__setattr__(self, "namespace", namespace_prefix(self.namespace))
        if self.default_audience is not None:
            check_text(self.default_audience, "default_audience")
            if self.api(self.default_audience) is None:
                raise KeyProblem(
                    "default_audience",
                    f"is {self.default_audience!r}, which is not the identifier of a configured "
                    f"API (configured: {self._identifiers()}): write one of them, or leave "
                    "default_audience out.",
                )
        check_lifetime(self.id_token_lifetime, "id_token_lifetime")
        check_lifetime(self.refresh_token_lifetime, "refresh_token_lifetime")
        check_flag(self.dpop_nonce, "dpop_nonce")
        check_flag(self.loopback_resources, "loopback_resources")
        if self.signing_algorithm is not None and self.signing_algorithm not in SIGNING_ALGORITHMS:
            raise KeyProblem(
                "signing_algorithm",
                f"must be one of {', '.join(SIGNING_ALGORITHMS)}; got {self.signing_algorithm!r}.",
            )
        for index, client in enumerate(self.clients):
            self._check_grants(index, client)
        self._check_users()

    def _check_grants(self, index: int, client: ClientConfig) -> None:
        for identifier, scopes in client.grants.items():
            key = f"clients[{index}].grants[{identifier!r}]"
            api = self.api(identifier)
            if api is None:
                raise KeyProblem(
                    key,
                    f"names an API that is not configured (configured: {self._identifiers()}): "
                    'write the identifier of one of them, or add the API to "apis".',
                )
            for position, scope in enumerate(scopes):
                if scope not in api.scopes:
                    raise KeyProblem(
                        f"{key}[{position}]",
                        f"is {scope!r}, which is not a scope of API {identifier!r}: write one "
                        f"of its scopes ({', '.join(api.scopes) or 'none'}), or add it to the "
                        "API's scopes.",
                    )

    def _check_users(self) -> None:
        api_scopes = {scope for api in self.apis for scope in api.scopes}
        for index, user in enumerate(self.users):
            for position, permission in enumerate(user.permissions or ()):
                if permission not in api_scopes:
                    raise KeyProblem(
                        f"users[{index}].permissions[{position}]",
                        f"is {permission!r}, which is not a scope of any configured API: write "
                        f"one of {', '.join(sorted(api_scopes)) or '(no API has scopes)'}, or "
                        "add it to an API's scopes.",
                    )
        interactive = [c.client_id for c in self.clients if c.interactive]
        if not self.users and interactive:
            raise KeyProblem(
                "users",
                f"must list at least one user, as client {interactive[0]!r} signs users in "
                '(authorization_code, implicit): e.g. [{"sub": "auth0|alice", "name": "Alice"}].',
            )

    def _identifiers(self) -> str:
        return ", ".join(api.identifier for api in self.apis) or "none"

    def api(self, identifier: str) -> ApiConfig | None:
        """The API with this identifier, if configured."""
        return next((api for api in self.apis if api.identifier == identifier), None)

    def client(self, client_id: str) -> ClientConfig | None:
        """The client with this id, if configured."""
        return next((c for c in self.clients if c.client_id == client_id), None)

    def user(self, sub: str) -> UserConfig | None:
        """The user with this ``sub``, if configured."""
        return next((user for user in self.users if user.sub == sub), None)


def _organization(value: object) -> None:
    if value is not None and not isinstance(value, Organization):
        raise KeyProblem("organization", f"must be an Organization or None, got {value!r}.")
