"""The dev-issuer's configuration as JSON: the default tenant, and reading a file.

JSON rather than TOML: ``tomllib`` arrived in Python 3.11 and bearerguard runs
on 3.10. This module checks the *shape* (unknown and repeated keys, JSON types)
with the path of each mistake; the dataclasses of :mod:`._config` check the
meaning, and their :class:`._checks.KeyProblem` is named by its path here too,
so every message starts with the key at fault: ``clients[1].redirect_uris[0]``.
The format is documented, key by key, in docs/dev-issuer.md.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bearerguard._errors import ConfigurationError

from ._checks import KeyProblem
from ._config import ApiConfig, ClientConfig, DevIssuerConfig, Organization, UserConfig

__all__ = ["DEFAULT_CONFIG", "config_from_dict", "default_config", "load_config"]

T = TypeVar("T")
D = TypeVar("D")

DEFAULT_CONFIG: Mapping[str, Any] = {
    "apis": [
        {
            "identifier": "https://api.example.com",
            "name": "Example API",
            "scopes": ["read:messages", "read:contacts", "write:contacts"],
            "token_lifetime": 86400,
        },
        {
            # Opaque access tokens: the API asks the introspection endpoint about them.
            "identifier": "https://opaque.example.com",
            "name": "Example API with opaque tokens",
            "scopes": ["read:reports", "write:reports"],
            "token_lifetime": 3600,
            "token_format": "opaque",
        },
    ],
    "clients": [
        {
            "client_id": "m2m-client",
            "client_secret": "m2m-secret",
            "name": "Demo M2M service",
            "grant_types": ["client_credentials"],
            "grants": {"https://api.example.com": ["read:messages", "read:contacts"]},
            "claims": {"https://example.com/tier": "gold"},
            "organization": None,
        },
        {
            "client_id": "spa-client",
            "name": "Demo single-page app",
            "public": True,
            "grant_types": ["authorization_code", "refresh_token", "implicit"],
            # The last two are Swagger UI's callback in a FastAPI app; loopback redirect URIs
            # of a public client match on any port, so uvicorn may listen where it likes.
            "redirect_uris": [
                "http://127.0.0.1:8080/callback",
                "http://localhost:8080/callback",
                "http://127.0.0.1:8000/docs/oauth2-redirect",
                "http://localhost:8000/docs/oauth2-redirect",
            ],
        },
        {
            "client_id": "web-client",
            "client_secret": "web-secret",
            "name": "Demo web app",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["http://127.0.0.1:8080/callback"],
        },
        {
            # The opaque API's own client: it introspects tokens (any confidential client
            # may), and gets opaque tokens with client credentials, to try it with curl.
            "client_id": "api-client",
            "client_secret": "api-secret",
            "name": "Demo API with opaque tokens",
            "grant_types": ["client_credentials"],
            "grants": {"https://opaque.example.com": ["read:reports"]},
        },
    ],
    "users": [
        {
            "sub": "auth0|alice",
            "name": "Alice Example",
            "email": "alice@example.com",
            "claims": {"https://example.com/roles": ["admin"]},
            "organization": {"id": "org_demo", "name": "demo-org"},
        },
        {
            "sub": "auth0|bob",
            "name": "Bob Example",
            "email": "bob@example.com",
            "permissions": ["read:messages"],
        },
    ],
    "namespace": "https://example.com/",
    # A local MCP server (or any API on loopback) is an API of its own: no file to edit.
    "loopback_resources": True,
}


def default_config() -> DevIssuerConfig:
    """A working tenant: a JWT API, an opaque-token API, an M2M client, a SPA, a web app,
    the opaque API's client (it may introspect), Alice and Bob.

    Example::

        config = default_config()
        [client.client_id for client in config.clients]
        # ['m2m-client', 'spa-client', 'web-client', 'api-client']
    """
    return config_from_dict(copy.deepcopy(dict(DEFAULT_CONFIG)))


def load_config(path: str | os.PathLike[str]) -> DevIssuerConfig:
    """Read a dev-issuer configuration from a JSON file (the shape of :data:`DEFAULT_CONFIG`).

    Raises :class:`~bearerguard.ConfigurationError` naming the file and the mistake.

    Example::

        config = load_config("dev-issuer.json")
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as file:
            data = json.load(file, object_pairs_hook=_JsonObject.from_pairs)
    except FileNotFoundError:
        raise ConfigurationError(f"{name}: no such configuration file.") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{name}: cannot be read ({exc}).") from None
    try:
        return config_from_dict(data)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None


def config_from_dict(data: object) -> DevIssuerConfig:
    """A :class:`DevIssuerConfig` from parsed JSON (what :func:`load_config` reads).

    Example::

        config_from_dict({"clients": [{"client_id": "m2m", "client_secret": "s",
                                       "grant_types": ["client_credentials"]}]})
    """
    return _Object(data, "the configuration", _TOP).build(_tenant)


def _tenant(top: _Object) -> DevIssuerConfig:
    return DevIssuerConfig(
        apis=top.items("apis", _API, _api),
        clients=top.items("clients", _CLIENT, _client),
        users=top.items("users", _USER, _user),
        namespace=top.get("namespace", str, None),
        default_audience=top.get("default_audience", str, None),
        id_token_lifetime=top.get("id_token_lifetime", int, 36000),
        refresh_token_lifetime=top.get("refresh_token_lifetime", int, 30 * 86400),
        dpop_nonce=top.get("dpop_nonce", bool, False),
        loopback_resources=top.get("loopback_resources", bool, False),
        signing_algorithm=top.get("signing_algorithm", str, None),
    )


_TOP = (
    "apis", "clients", "users", "namespace", "default_audience",
    "id_token_lifetime", "refresh_token_lifetime", "dpop_nonce", "loopback_resources",
    "signing_algorithm",
)  # fmt: skip
_API = (
    "identifier", "name", "scopes", "token_lifetime", "token_lifetime_for_web",
    "allow_offline_access", "encryption_key", "token_format",
)  # fmt: skip
_CLIENT = (
    "client_id", "client_secret", "name", "public", "grant_types", "grants",
    "redirect_uris", "claims", "organization", "jwks",
)  # fmt: skip
_USER = (
    "sub", "name", "email", "email_verified", "permissions", "claims", "organization",
)  # fmt: skip
_ORGANIZATION = ("id", "name")
_JSON_TYPES = {str: "a string", int: "a whole number", bool: "true or false", list: "a list"}


class _JsonObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys the file wrote more than once.

    ``json`` keeps the last of repeated keys silently; a file that sets
    ``redirect_uris`` twice in one client surely meant something else.
    """

    repeated: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        found = cls(pairs)
        if len(found) < len(pairs):
            names = [name for name, _ in pairs]
            found.repeated = tuple(dict.fromkeys(n for n in names if names.count(n) > 1))
        return found


class _Object:
    """One JSON object of the file: refuses unknown keys, reads typed values with their path."""

    def __init__(self, value: object, where: str, known: tuple[str, ...]) -> None:
        if not isinstance(value, dict):
            raise ConfigurationError(f"{where} must be a JSON object, got {_kind(value)}.")
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigurationError(
                    f"{where}: unknown key {key!r}{hint}; the known keys are {', '.join(known)}."
                )
        repeated: tuple[str, ...] = getattr(value, "repeated", ())
        if repeated:
            raise ConfigurationError(
                f"{self._path(where, repeated[0])} is written twice in one object; JSON keeps "
                "only the last one: delete the other."
            )
        self.value: dict[str, Any] = value
        self.where = where

    def path(self, key: str) -> str:
        return self._path(self.where, key)

    @staticmethod
    def _path(where: str, key: str) -> str:
        return key if where == "the configuration" else f"{where}.{key}"

    def build(self, make: Callable[[_Object], T]) -> T:
        """``make(self)``; a mistake in one of its keys is named by the key's path in the file."""
        try:
            return make(self)
        except KeyProblem as exc:
            raise ConfigurationError(f"{self.path(exc.key)} {exc.problem}") from None

    def get(self, key: str, kind: type[T], default: D) -> T | D:
        value = self.value.get(key)
        if value is None:
            return default
        # bool is an int to Python, never to a reader of the file.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigurationError(
                f"{self.path(key)} must be {_JSON_TYPES[kind]}, got {_kind(value)}."
            )
        return value

    def require(self, key: str) -> str:
        value = self.get(key, str, None)
        if value is None:
            raise ConfigurationError(f"{self.path(key)} is required: write a non-empty string.")
        return value

    def strings(self, key: str) -> tuple[str, ...] | None:
        values = self.get(key, list, None)
        if values is None:
            return None
        for index, item in enumerate(values):
            if not isinstance(item, str):
                raise ConfigurationError(
                    f"{self.path(key)}[{index}] must be a string, got {_kind(item)}."
                )
        return tuple(values)

    def items(
        self, key: str, known: tuple[str, ...], build: Callable[[_Object], T]
    ) -> tuple[T, ...]:
        values: list[Any] = self.get(key, list, [])
        return tuple(
            _Object(item, f"{self.path(key)}[{index}]", known).build(build)
            for index, item in enumerate(values)
        )

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.value.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigurationError(f"{self.path(key)} must be a JSON object, got {_kind(value)}.")
        return value

    def organization(self) -> Organization | None:
        value = self.value.get("organization")
        if value is None:
            return None
        return _Object(value, self.path("organization"), _ORGANIZATION).build(_organization)


def _kind(value: object) -> str:
    """What the file wrote, in JSON's words: ``a string ('1h')``, ``the number 1.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"a string ({value[:60]!r})"
    return f"the number {value!r}"


def _organization(item: _Object) -> Organization:
    return Organization(id=item.require("id"), name=item.require("name"))


def _api(item: _Object) -> ApiConfig:
    return ApiConfig(
        identifier=item.require("identifier"),
        name=item.get("name", str, None),
        scopes=item.strings("scopes") or (),
        token_lifetime=item.get("token_lifetime", int, 86400),
        token_lifetime_for_web=item.get("token_lifetime_for_web", int, 7200),
        allow_offline_access=item.get("allow_offline_access", bool, True),
        encryption_key=_encryption_key(item),
        token_format=item.get("token_format", str, "jwt"),
    )


def _encryption_key(item: _Object) -> str | dict[str, Any] | None:
    """A PEM text or a file's path (a string), or a JWK (an object); checked by ApiConfig."""
    value = item.value.get("encryption_key")
    if value is not None and not isinstance(value, (str, dict)):
        raise ConfigurationError(
            f"{item.path('encryption_key')} must be a string (PEM text, or the path of a PEM "
            f"or JWK file) or a JWK object, got {_kind(value)}."
        )
    return value


def _client(item: _Object) -> ClientConfig:
    grants: dict[str, tuple[str, ...]] = {}
    for api, scopes in item.mapping("grants").items():
        where = f"{item.path('grants')}[{api!r}]"
        if not isinstance(scopes, list):
            raise ConfigurationError(
                f'{where} must be a list of scope names, e.g. ["read:messages"]; got '
                f"{_kind(scopes)}."
            )
        for index, scope in enumerate(scopes):
            if not isinstance(scope, str):
                raise ConfigurationError(f"{where}[{index}] must be a string, got {_kind(scope)}.")
        grants[api] = tuple(scopes)
    grant_types = item.strings("grant_types")
    if grant_types is None:
        raise ConfigurationError(
            f"{item.path('grant_types')} is required: list what the client may do, e.g. "
            '["client_credentials"] or ["authorization_code", "refresh_token"].'
        )
    return ClientConfig(
        client_id=item.require("client_id"),
        client_secret=item.get("client_secret", str, None),
        name=item.get("name", str, None),
        public=item.get("public", bool, False),
        grant_types=grant_types,
        grants=grants,
        redirect_uris=item.strings("redirect_uris") or (),
        claims=item.mapping("claims"),
        organization=item.organization(),
        jwks=_jwks(item),
    )


def _jwks(item: _Object) -> dict[str, Any] | None:
    """A JWK Set (an object); its keys are checked by ClientConfig."""
    value = item.value.get("jwks")
    if value is not None and not isinstance(value, dict):
        raise ConfigurationError(
            f"{item.path('jwks')} must be a JWK Set object of the client's public keys, e.g. "
            f'{{"keys": [{{"kty": "EC", "crv": "P-256", "x": "...", "y": "..."}}]}}; got '
            f"{_kind(value)}."
        )
    return value


def _user(item: _Object) -> UserConfig:
    return UserConfig(
        sub=item.require("sub"),
        name=item.get("name", str, None),
        email=item.get("email", str, None),
        email_verified=item.get("email_verified", bool, True),
        permissions=item.strings("permissions"),
        claims=item.mapping("claims"),
        organization=item.organization(),
    )
