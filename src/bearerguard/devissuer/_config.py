"""The dev-issuer's tenant: APIs, clients, users. Frozen, validated when built.

Each dataclass checks itself; :class:`DevIssuerConfig` checks what spans them
(client grants naming a configured API, unique ids, ...). Every message names
the object at fault and says what to do. The JSON shape (unknown keys, types)
is checked by :mod:`._loading` before these are built. Lists may be passed
where a ``Sequence`` is asked for; they are stored as tuples, so a configuration
never changes once built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bearerguard._errors import ConfigurationError
from bearerguard.testing._minting import namespace_prefix

from ._checks import (
    DAY,
    check_claims,
    check_flag,
    check_lifetime,
    check_redirect_uris,
    check_scopes,
    check_strings,
    check_text,
    check_unique,
)

__all__ = [
    "GRANT_TYPES",
    "OIDC_SCOPES",
    "ApiConfig",
    "ClientConfig",
    "DevIssuerConfig",
    "Organization",
    "UserConfig",
]

# What a client may be allowed; "implicit" is the legacy response_type=token flow.
GRANT_TYPES = ("authorization_code", "client_credentials", "implicit", "refresh_token")
# Scopes of the OpenID Connect layer, not of any API: they shape the id_token and userinfo.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


@dataclass(frozen=True, slots=True, kw_only=True)
class Organization:
    """An Auth0 organization: its tokens carry ``org_id`` and ``org_name``."""

    id: str
    name: str

    def __post_init__(self) -> None:
        check_text(self.id, "organization id")
        check_text(self.name, f"organization {self.id!r}: name")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    """An API (an Auth0 "resource server"): the ``audience`` of its access tokens.

    Example::

        ApiConfig(identifier="https://api.example.com", scopes=("read:messages",))
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

    def __post_init__(self) -> None:
        check_text(self.identifier, "API identifier")
        what = f"API {self.identifier!r}"
        object.__setattr__(self, "scopes", check_scopes(self.scopes, f"{what}: scopes"))
        reserved = sorted(set(self.scopes) & set(OIDC_SCOPES))
        if reserved:
            raise ConfigurationError(
                f"{what}: {reserved[0]!r} is an OpenID Connect scope, not an API permission: "
                "remove it from the API's scopes (clients ask for it at /authorize anyway)."
            )
        if self.name is not None:
            check_text(self.name, f"{what}: name")
        check_lifetime(self.token_lifetime, f"{what}: token_lifetime")
        check_lifetime(self.token_lifetime_for_web, f"{what}: token_lifetime_for_web")
        check_flag(self.allow_offline_access, f"{what}: allow_offline_access")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """An OAuth client (an Auth0 "application").

    Confidential clients authenticate with ``client_secret``; public ones (SPAs,
    native apps) have none and must use PKCE. ``grants`` maps an API identifier
    to the scopes the client gets with ``client_credentials``; ``claims`` are
    added to those machine-to-machine tokens.

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

    def __post_init__(self) -> None:
        check_text(self.client_id, "client_id")
        what = f"client {self.client_id!r}"
        if self.name is not None:
            check_text(self.name, f"{what}: name")
        check_flag(self.public, f"{what}: public")
        grant_types = check_strings(self.grant_types, f"{what}: grant_types")
        unknown = sorted(set(grant_types) - set(GRANT_TYPES))
        if not grant_types or unknown:
            raise ConfigurationError(
                f"{what}: grant_types must list some of {', '.join(GRANT_TYPES)}"
                + (f"; {unknown[0]!r} is not one of them." if unknown else ".")
            )
        object.__setattr__(self, "grant_types", tuple(dict.fromkeys(grant_types)))
        self._check_secret(what)
        object.__setattr__(self, "redirect_uris", check_redirect_uris(self.redirect_uris, what))
        if self.redirect_uris == () and self.interactive:
            raise ConfigurationError(
                f"{what}: authorization_code and implicit need redirect_uris: list the exact "
                "callback URLs of the app, e.g. ['http://127.0.0.1:8080/callback']."
            )
        if "refresh_token" in grant_types and not self.interactive:
            raise ConfigurationError(
                f"{what}: refresh tokens come from authorization_code (scope offline_access): "
                "add authorization_code to grant_types or remove refresh_token."
            )
        if not isinstance(self.grants, Mapping):
            raise ConfigurationError(f"{what}: grants must map API identifiers to scopes.")
        object.__setattr__(
            self,
            "grants",
            MappingProxyType(
                {api: check_scopes(s, f"{what}: grants[{api!r}]") for api, s in self.grants.items()}
            ),
        )
        object.__setattr__(self, "claims", check_claims(self.claims, what))
        _organization(self.organization, what)

    def _check_secret(self, what: str) -> None:
        if self.public:
            if self.client_secret is not None:
                raise ConfigurationError(
                    f"{what}: a public client has no client_secret (anyone can read a SPA's "
                    'code): remove the secret, or set "public": false.'
                )
            if "client_credentials" in self.grant_types:
                raise ConfigurationError(
                    f"{what}: client_credentials needs a confidential client: give it a "
                    'client_secret and "public": false.'
                )
        elif not isinstance(self.client_secret, str) or not self.client_secret:
            raise ConfigurationError(
                f"{what}: a confidential client needs a client_secret; for a SPA or a "
                'native app without one, set "public": true (it will use PKCE).'
            )

    @property
    def display_name(self) -> str:
        """The name shown on the consent page (the client id when it has no name)."""
        return self.name or self.client_id

    @property
    def interactive(self) -> bool:
        """Whether users sign in to this client at /authorize."""
        return "authorization_code" in self.grant_types or "implicit" in self.grant_types


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
        check_text(self.sub, "user sub")
        what = f"user {self.sub!r}"
        for name in ("name", "email"):
            if getattr(self, name) is not None:
                check_text(getattr(self, name), f"{what}: {name}")
        check_flag(self.email_verified, f"{what}: email_verified")
        if self.permissions is not None:
            object.__setattr__(
                self, "permissions", check_scopes(self.permissions, f"{what}: permissions")
            )
        object.__setattr__(self, "claims", check_claims(self.claims, what))
        _organization(self.organization, what)


@dataclass(frozen=True, slots=True, kw_only=True)
class DevIssuerConfig:
    """The whole tenant of a :class:`~bearerguard.devissuer.DevIssuer`.

    ``namespace`` prefixes custom claim names that are not URLs already
    (``tier`` -> ``https://example.com/tier``), as Auth0 requires of custom claims.
    ``default_audience`` is used when a request names no ``audience`` (Auth0's
    tenant setting of that name).

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

    def __post_init__(self) -> None:
        for name, kind in (("apis", ApiConfig), ("clients", ClientConfig), ("users", UserConfig)):
            items = getattr(self, name)
            if isinstance(items, (str, Mapping)) or not isinstance(items, Sequence):
                raise ConfigurationError(f"{name} must be a list of {kind.__name__}.")
            if not all(isinstance(item, kind) for item in items):
                raise ConfigurationError(f"Every item of {name} must be a {kind.__name__}.")
            object.__setattr__(self, name, tuple(items))
        if not self.clients:
            raise ConfigurationError(
                "Configure at least one client: nothing can ask for a token otherwise."
            )
        check_unique((a.identifier for a in self.apis), "API identifier")
        check_unique((c.client_id for c in self.clients), "client_id")
        check_unique((u.sub for u in self.users), "user sub")
        if self.namespace is not None:
            object.__setattr__(self, "namespace", namespace_prefix(self.namespace))
        if self.default_audience is not None and self.api(self.default_audience) is None:
            raise ConfigurationError(
                f"default_audience {self.default_audience!r} is not the identifier of a "
                "configured API."
            )
        check_lifetime(self.id_token_lifetime, "id_token_lifetime")
        check_lifetime(self.refresh_token_lifetime, "refresh_token_lifetime")
        for client in self.clients:
            self._check_grants(client)
        api_scopes = {scope for api in self.apis for scope in api.scopes}
        for user in self.users:
            for permission in user.permissions or ():
                if permission not in api_scopes:
                    raise ConfigurationError(
                        f"user {user.sub!r}: permission {permission!r} is not a scope of any "
                        "configured API."
                    )
        if not self.users and any(client.interactive for client in self.clients):
            raise ConfigurationError(
                "Clients that sign users in (authorization_code, implicit) need at least one "
                'user: add one to "users", e.g. {"sub": "auth0|alice", "name": "Alice"}.'
            )

    def _check_grants(self, client: ClientConfig) -> None:
        for identifier, scopes in client.grants.items():
            api = self.api(identifier)
            if api is None:
                known = ", ".join(a.identifier for a in self.apis) or "none"
                raise ConfigurationError(
                    f"client {client.client_id!r}: grants name {identifier!r}, which is not a "
                    f"configured API (known: {known})."
                )
            for scope in scopes:
                if scope not in api.scopes:
                    raise ConfigurationError(
                        f"client {client.client_id!r}: scope {scope!r} is not a scope of API "
                        f"{identifier!r} (its scopes: {', '.join(api.scopes) or 'none'})."
                    )

    def api(self, identifier: str) -> ApiConfig | None:
        """The API with this identifier, if configured."""
        return next((api for api in self.apis if api.identifier == identifier), None)

    def client(self, client_id: str) -> ClientConfig | None:
        """The client with this id, if configured."""
        return next((c for c in self.clients if c.client_id == client_id), None)

    def user(self, sub: str) -> UserConfig | None:
        """The user with this ``sub``, if configured."""
        return next((user for user in self.users if user.sub == sub), None)


def _organization(value: object, what: str) -> None:
    if value is not None and not isinstance(value, Organization):
        raise ConfigurationError(f"{what}: organization must be an Organization or None.")
