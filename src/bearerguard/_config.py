"""Verifier settings: frozen, keyword-only, validated when built.

Every message says what to do. Issuers are normalised here (a bare domain
becomes ``https://domain/``); tokens are later compared verbatim against the
normalised list, never normalised themselves (RFC 7519 §7.3).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ._errors import DEFAULT_REALM, SCOPE_TOKEN, ConfigurationError

ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "ES256K",
        "EdDSA",
    }
)  # fmt: skip
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
SUPPORTED_ALGORITHMS = ASYMMETRIC_ALGORITHMS | HMAC_ALGORITHMS
# Digest sizes; RFC 7518 §3.2 also makes them the minimum length of an HMAC key.
HMAC_DIGEST_SIZES: Mapping[str, int] = MappingProxyType({"HS256": 32, "HS384": 48, "HS512": 64})
MAX_LEEWAY = 600.0  # ten minutes, as Tink caps clock skew; more hides broken clocks
DEFAULT_SCOPE_CLAIMS = ("scope", "scp")
DEFAULT_TOKEN_CACHE_SIZE = 1024
MAX_TOKEN_CACHE_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How the key sets of the issuers are cached and fetched.

    Times are seconds. ``ttl`` applies when the response has no usable
    ``Cache-Control: max-age``; a max-age is honoured within ``min_ttl..max_ttl``.
    """

    ttl: float = 600.0
    min_ttl: float = 60.0
    max_ttl: float = 86400.0
    unknown_kid_cooldown: float = 30.0
    stale_if_error: float = 6 * 3600.0
    failure_backoff: float = 1.0
    max_failure_backoff: float = 30.0
    discovery_ttl: float = 86400.0
    fetch_timeout: float = 5.0
    max_document_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        for name in (
            "ttl", "min_ttl", "max_ttl", "unknown_kid_cooldown", "stale_if_error",
            "failure_backoff", "max_failure_backoff", "discovery_ttl", "fetch_timeout",
        ):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigurationError(f"jwks {name} must be a number of seconds >= 0.")
        if not self.min_ttl <= self.ttl <= self.max_ttl:
            raise ConfigurationError("jwks ttl must lie between min_ttl and max_ttl.")
        if self.fetch_timeout <= 0:
            raise ConfigurationError(
                "fetch_timeout must be > 0 seconds: every fetch needs a deadline."
            )
        if self.max_document_bytes < 1024:
            raise ConfigurationError("max_document_bytes must be at least 1024.")


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierConfig:
    """Validated settings of a :class:`~bearerguard.Verifier`.

    Example::

        config = VerifierConfig(issuers=("tenant.auth0.com",), audiences=("https://api.example.com",))
        config.issuers   # ('https://tenant.auth0.com/',)
    """

    issuers: tuple[str, ...]
    audiences: tuple[str, ...]
    algorithms: frozenset[str] = frozenset({"RS256"})
    leeway: float = 30.0
    jwks_uri: str | Mapping[str, str] | None = None
    secret: bytes | None = field(default=None, repr=False)
    rfc9068_strict: bool = False
    max_age: float | None = None
    organizations: frozenset[str] = frozenset()
    scope_claims: tuple[str, ...] = DEFAULT_SCOPE_CLAIMS
    max_token_size: int = 16 * 1024
    token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE
    realm: str = DEFAULT_REALM
    cache: CachePolicy = field(default_factory=CachePolicy)
    #: issuer -> JWKS URL for the issuers whose key set is not found by discovery
    jwks_uris: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        issuers = tuple(normalize_issuer(i) for i in _as_tuple(self.issuers, "issuer"))
        if not issuers:
            raise ConfigurationError(
                "An issuer is required: pass issuer='your-tenant.auth0.com' "
                "(or the full URL your provider puts in the 'iss' claim)."
            )
        object.__setattr__(self, "issuers", tuple(dict.fromkeys(issuers)))

        audiences = _as_tuple(self.audiences, "audience")
        if not audiences or any(not a or a != a.strip() for a in audiences):
            raise ConfigurationError(
                "An audience is required to validate the 'aud' claim: pass "
                "audience='https://api.example.com' (your API's identifier)."
            )
        object.__setattr__(self, "audiences", tuple(dict.fromkeys(audiences)))

        object.__setattr__(self, "algorithms", _check_algorithms(self.algorithms, self.secret))
        object.__setattr__(self, "leeway", _check_seconds(self.leeway, "leeway", MAX_LEEWAY))
        if self.max_age is not None:
            object.__setattr__(self, "max_age", _check_seconds(self.max_age, "max_age", math.inf))
        object.__setattr__(self, "jwks_uris", _check_jwks_uris(self.jwks_uri, self.issuers))
        object.__setattr__(
            self, "organizations", frozenset(_as_tuple(self.organizations, "organization"))
        )

        claims = _as_tuple(self.scope_claims, "scope_claims")
        if not claims or any(not c for c in claims):
            raise ConfigurationError(
                "scope_claims must name at least one claim, e.g. ('scope', 'scp', 'permissions')."
            )
        object.__setattr__(self, "scope_claims", claims)

        if not isinstance(self.max_token_size, int) or not 512 <= self.max_token_size <= 1 << 20:
            raise ConfigurationError("max_token_size must be an integer between 512 and 1048576.")
        size = self.token_cache_size
        if isinstance(size, bool) or not isinstance(size, int):
            raise ConfigurationError("token_cache_size must be an integer (0 turns the cache off).")
        if not 0 <= size <= MAX_TOKEN_CACHE_SIZE:
            raise ConfigurationError(
                f"token_cache_size must lie between 0 (off) and {MAX_TOKEN_CACHE_SIZE}."
            )
        if not self.realm or not SCOPE_TOKEN.fullmatch(self.realm.replace(" ", "!")):
            raise ConfigurationError("realm must be printable ASCII without quotes or backslashes.")
        if not isinstance(self.cache, CachePolicy):
            raise ConfigurationError("cache must be a bearerguard CachePolicy.")

    @property
    def uses_key_sets(self) -> bool:
        """Whether any allowed algorithm needs a provider's key set (i.e. is asymmetric)."""
        return bool(self.algorithms & ASYMMETRIC_ALGORITHMS)


def normalize_issuer(value: str) -> str:
    """Turn ``tenant.auth0.com`` into ``https://tenant.auth0.com/``; check URLs are usable.

    Example::

        normalize_issuer("tenant.auth0.com")             # 'https://tenant.auth0.com/'
        normalize_issuer("https://login.example.com/")   # unchanged
    """
    if not isinstance(value, str) or not value or value != value.strip():
        raise ConfigurationError(f"Issuer {value!r} must be a non-empty string without spaces.")
    if "://" not in value:
        if "/" in value or "?" in value or "#" in value:
            raise ConfigurationError(
                f"Issuer {value!r} looks like a URL without a scheme: write it in full, "
                "e.g. 'https://login.example.com/realms/main'."
            )
        value = f"https://{value}/"
    check_url(value, what="Issuer")
    return value


def check_url(url: str, *, what: str) -> None:
    """Require ``https``, or ``http`` for loopback hosts only; no credentials, query or fragment."""
    # urlsplit is lenient: it keeps spaces and control characters that no URL may carry.
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise ConfigurationError(f"{what} {url!r} contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigurationError(f"{what} {url!r} is not a valid URL.") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError(f"{what} {url!r} must be an https:// URL with a host.")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"{what} {url!r} must use https://; plain http is allowed only for loopback hosts "
            "(127.0.0.0/8, ::1, localhost) during development."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{what} {url!r} must not carry credentials, a query or a fragment."
        )


def is_loopback_host(host: str) -> bool:
    """``localhost``, any of 127.0.0.0/8, or ``::1``."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _as_tuple(value: str | Sequence[str] | frozenset[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ConfigurationError(f"Every {what} must be a string, got {items!r}.")
    return items


def _check_algorithms(
    algorithms: Sequence[str] | frozenset[str], secret: bytes | None
) -> frozenset[str]:
    names = frozenset(_as_tuple(algorithms, "algorithm"))
    if not names:
        raise ConfigurationError("algorithms must allow at least one algorithm, e.g. ['RS256'].")
    if any(n.lower() == "none" for n in names):
        raise ConfigurationError(
            "The 'none' algorithm is never allowed: unsigned tokens prove nothing."
        )
    unknown = names - SUPPORTED_ALGORITHMS
    if unknown:
        raise ConfigurationError(
            f"Unsupported algorithm(s) {sorted(unknown)}; "
            f"choose from {sorted(SUPPORTED_ALGORITHMS)}."
        )
    hmac = names & HMAC_ALGORITHMS
    if hmac and secret is None:
        raise ConfigurationError(
            f"{sorted(hmac)} need a shared secret: pass secret=... or allow only "
            "asymmetric algorithms such as RS256."
        )
    if secret is not None:
        if not hmac:
            raise ConfigurationError(
                "A secret is only used with HS256/HS384/HS512: add one to algorithms."
            )
        shortest = max(HMAC_DIGEST_SIZES[n] for n in hmac)
        if len(secret) < shortest:
            raise ConfigurationError(
                f"The secret must be at least {shortest} bytes for {sorted(hmac)} (RFC 7518 §3.2)."
            )
    return names


def _check_seconds(value: float, what: str, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(f"{what} must be a number of seconds.")
    if not 0 <= value <= upper:
        raise ConfigurationError(f"{what} must lie between 0 and {upper:g} seconds.")
    return float(value)


def _check_jwks_uris(
    jwks_uri: str | Mapping[str, str] | None, issuers: tuple[str, ...]
) -> Mapping[str, str]:
    """One URL serves every issuer (e.g. an Auth0 custom domain and its canonical domain);
    a mapping names the URL of each issuer that should skip discovery."""
    if jwks_uri is None:
        return MappingProxyType({})
    uris = dict.fromkeys(issuers, jwks_uri) if isinstance(jwks_uri, str) else jwks_uri
    checked: dict[str, str] = {}
    for given, uri in uris.items():
        issuer = normalize_issuer(given)
        if issuer not in issuers:
            raise ConfigurationError(
                f"jwks_uri is given for {issuer!r}, which is not a configured issuer."
            )
        check_url(uri, what="jwks_uri")
        checked[issuer] = uri
    return MappingProxyType(checked)


# --- settings given as strings (environment variables, Flask app.config, Django) -------------

SETTING_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "ISSUER": "issuer",
        "AUDIENCE": "audience",
        "ALGORITHMS": "algorithms",
        "LEEWAY": "leeway",
        "JWKS_URI": "jwks_uri",
        "SECRET": "secret",
        "RFC9068_STRICT": "rfc9068_strict",
        "MAX_AGE": "max_age",
        "ORGANIZATION": "organization",
        "SCOPE_CLAIMS": "scope_claims",
        "MAX_TOKEN_SIZE": "max_token_size",
        "TOKEN_CACHE_SIZE": "token_cache_size",
        "REALM": "realm",
    }
)
_LIST_SETTINGS = {"issuer", "audience", "algorithms", "organization", "scope_claims"}
_FLOAT_SETTINGS = {"leeway", "max_age"}
_INT_SETTINGS = {"max_token_size", "token_cache_size"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def settings_from_mapping(
    source: Mapping[str, Any], prefix: str = "BEARERGUARD_"
) -> dict[str, Any]:
    """Read ``BEARERGUARD_*`` settings into :class:`~bearerguard.Verifier` keyword arguments.

    Values may be strings (environment variables: lists are comma-separated) or
    already typed values (Flask ``app.config``). Unknown names are ignored.

    Example::

        settings_from_mapping({"BEARERGUARD_ISSUER": "a.auth0.com,login.example.com"})
        # {'issuer': ['a.auth0.com', 'login.example.com']}
    """
    kwargs: dict[str, Any] = {}
    for suffix, name in SETTING_NAMES.items():
        if prefix + suffix not in source:
            continue
        value = source[prefix + suffix]
        if isinstance(value, str):
            value = _from_string(name, value, prefix + suffix)
        if value is not None:
            kwargs[name] = value
    return kwargs


def _from_string(name: str, raw: str, variable: str) -> Any:
    text = raw.strip()
    if name in _LIST_SETTINGS:
        return [item.strip() for item in text.split(",") if item.strip()]
    if name == "secret":
        return text.encode() if text else None
    if name == "rfc9068_strict":
        if text.lower() not in _TRUE | _FALSE:
            raise ConfigurationError(f"{variable} must be true or false, got {raw!r}.")
        return text.lower() in _TRUE
    if not text:
        return None
    if name in _FLOAT_SETTINGS or name in _INT_SETTINGS:
        try:
            return int(text) if name in _INT_SETTINGS else float(text)
        except ValueError:
            raise ConfigurationError(f"{variable} must be a number, got {raw!r}.") from None
    return text
