"""Pure checks of a token's header and claims, with strict JSON types.

Each check takes the parsed values, the configuration and ``now`` (seconds since
the epoch) and either returns or raises an :class:`InvalidTokenError` subclass.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from ._claim_rules import first_failing, verifier_refusal
from ._config import DEFAULT_SCOPE_CLAIMS, VerifierConfig
from ._errors import (
    ExpiredTokenError,
    ImmatureTokenError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidIssuerError,
    InvalidTokenError,
    MalformedTokenError,
    SenderConstrainedTokenError,
)
from ._issuers import near_miss
from ._resolvers import IssuerPattern
from ._token import AccessToken, verified_token

__all__ = [
    "STRING_CLAIMS",
    "Lifetime",
    "bound_reason",
    "check_claims",
    "check_header",
    "check_lifetime",
    "claim_lifetime",
    "claimed_audiences",
    "granted_scopes",
    "numeric_date",
    "unverified_issuer",
]

# datetime's range: a NumericDate outside it cannot be an honest timestamp.
_MIN_DATE, _MAX_DATE = -62135596800, 253402300799
_MAX_KID_LENGTH = 1024
_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_PLAIN_JWT_TYPES = frozenset({"jwt", "application/jwt"})
_LENIENT_TYPES = _ACCESS_TOKEN_TYPES | _PLAIN_JWT_TYPES
_STRICT_REQUIRED = ("sub", "client_id", "iat", "jti")  # RFC 9068 §2.2
_NO_SCOPE = frozenset({""})
STRING_CLAIMS = frozenset({"sub", "client_id", "azp", "jti", "org_id", "org_name"})


def check_header(header: Mapping[str, Any], config: VerifierConfig) -> tuple[str, str | None]:
    """Check the JOSE header; return ``(alg, kid)``.

    ``jku``, ``x5u``, ``jwk`` and ``x5c`` are never read: keys come only from the
    configured issuers (RFC 8725 §3.10).
    """
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in config.algorithms:
        raise InvalidTokenError(reason="The token's alg is not one of the allowed algorithms.")
    if "crit" in header:
        # RFC 7515 §4.1.11: we understand no extension, so any crit makes the JWS invalid.
        raise MalformedTokenError(reason="The token's header lists critical extensions.")
    if "b64" in header:
        raise MalformedTokenError(reason="The token's header asks for an unencoded payload.")
    cty = header.get("cty")
    if isinstance(cty, str) and cty.lower() in ("jwt", "application/jwt"):
        raise MalformedTokenError(reason="The token is a nested JWT, which is not accepted.")
    # An explicit null is not an absent member: refuse it rather than guess.
    kid = header.get("kid")
    if "kid" in header and (not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_LENGTH):
        raise MalformedTokenError(reason="The token's kid is not a short non-empty string.")
    typ = header.get("typ")
    if "typ" in header and not isinstance(typ, str):
        raise MalformedTokenError(reason="The token's typ is not a string.")
    # Media types are case-insensitive (RFC 7515 §4.1.9).
    allowed = _ACCESS_TOKEN_TYPES if config.rfc9068_strict else _LENIENT_TYPES
    if (typ is None and config.rfc9068_strict) or (typ is not None and typ.lower() not in allowed):
        raise InvalidClaimsError(
            reason="The token's typ is not at+jwt as RFC 9068 requires (an ID token, or "
            "a token meant for another purpose?)."
            if config.rfc9068_strict
            else "The token's typ marks another kind of JWT, not an access token."
        )
    return alg, kid


def unverified_issuer(claims: Mapping[str, Any], config: VerifierConfig) -> str:
    """The configured issuer the token's ``iss`` names: checked before any network.

    ``iss`` may be any equivalent spelling of a configured issuer's URL (see
    ``_issuers``); what is returned is the configured issuer, whose key set the
    token must be signed with. With ``issuer=`` a function, an ``iss`` it trusts
    (asked once per spelling, about sound URLs only: ``_resolvers``) is returned in
    its normal form. Anything else is refused, with a hint for the log when the
    refusal looks like a configuration mistake rather than an attack.
    """
    issuer = claims.get("iss")
    if type(issuer) is str:  # JSON gives exact types; the usual spellings in one lookup
        configured = config.issuer_index.spellings.get(issuer)
        if configured is not None:
            return configured
    return _other_spelling(issuer, config)


def _other_spelling(issuer: object, config: VerifierConfig) -> str:
    """The configured issuer a less usual spelling names, or the refusal."""
    if isinstance(issuer, str):
        index = config.issuer_index
        if isinstance(index, IssuerPattern):  # issuer= a function: trusted, or refused saying why
            return index.resolve(issuer)
        configured = index.find(issuer)
        if configured is not None:
            return configured
        error = InvalidIssuerError()
        miss = near_miss(issuer, config.issuers)
        if miss is not None:
            error.hint = (
                f"Tokens name the issuer {_shown(issuer)}, which differs from the configured "
                f"{miss[0]!r} only by {miss[1]}: if that is your provider, configure "
                f"issuer={_shown(issuer)}."
            )
        raise error
    raise InvalidIssuerError(reason="The token has no iss claim, or it is not a string.")


def _shown(text: str) -> str:
    """A claim's text fit for a log line: quoted, printable, short."""
    return (
        repr(text[:200] + ("..." if len(text) > 200 else ""))
        .encode("ascii", "backslashreplace")
        .decode()
    )


def check_claims(  # noqa: PLR0917 - the verifier passes them positionally: a faster call
    claims: Mapping[str, Any],
    header: Mapping[str, Any],
    raw: str,
    config: VerifierConfig,
    now: float,
    issuer: str | None = None,
    lifetime: Lifetime | None = None,
    owned: bool = False,
    bound: bool = False,
) -> AccessToken:
    """Check the verified claims and build the :class:`AccessToken`.

    ``issuer`` is what :func:`unverified_issuer` already returned for these claims
    (the flow checks it before any network); without it, the check runs here.
    Likewise ``lifetime`` is what :func:`claim_lifetime` returned for them.
    ``owned`` says that nothing else holds ``claims``: the token then wraps the
    dict itself, read-only, instead of a copy. ``bound`` says that a binding step
    follows (the DPoP path): a ``cnf`` claim is then left to it instead of refused.
    """
    if issuer is None:
        issuer = unverified_issuer(claims, config)  # the signature now vouches for it
    if lifetime is None:
        lifetime = claim_lifetime(claims)
    check_lifetime(lifetime, config, now)

    audience = claimed_audiences(claims)
    spellings = config.audience_index.spellings  # the usual spellings: one dict lookup each
    for aud in audience:
        if aud in spellings:
            break
    else:
        if not any(aud in config.audience_index for aud in audience):  # the rare spellings
            raise _wrong_audience(header, claims, audience, config.audiences)
    if "cnf" in claims and not bound:
        raise SenderConstrainedTokenError(reason=bound_reason(claims["cnf"]))

    for name in STRING_CLAIMS & claims.keys():  # the ones present, even if null
        if not isinstance(claims[name], str):
            raise InvalidClaimsError(reason=f"The {name} claim is not a string.")
    if config.rfc9068_strict:
        missing = [name for name in _STRICT_REQUIRED if name not in claims]
        if missing:
            raise InvalidClaimsError(reason=f"RFC 9068 requires the {', '.join(missing)} claim(s).")
    if config.organizations and not _in_organization(claims, config.organizations):
        raise InvalidClaimsError(
            "The access token is not valid for this organization",
            reason="The org_id/org_name claim names none of the configured organizations.",
        )
    # The parser's fresh dicts are handed over (no copy); anything else is copied.
    view = MappingProxyType(claims if type(claims) is dict and owned else dict(claims))
    if config.claim_checks:  # the verifier's claim rules: read-only claims for check()
        failed = first_failing(config.claim_checks, view)
        if failed is not None:
            raise verifier_refusal(failed, view)

    return verified_token(  # positional: the hot path, in AccessToken's field order
        view,
        header if type(header) is MappingProxyType else MappingProxyType(dict(header)),
        granted_scopes(claims, config.scope_claims),
        claims["iss"],  # as the token spells it; ``issuer`` is the configured spelling
        audience,
        claims.get("sub"),
        raw,
        config.realm,
        config.resource_metadata_url,
        config.scope_hierarchy,
    )


_ID_TOKEN_MARKS = ("nonce", "at_hash", "c_hash", "auth_time")


def _wrong_audience(
    header: Mapping[str, Any],
    claims: Mapping[str, Any],
    audience: tuple[str, ...],
    audiences: tuple[str, ...],
) -> InvalidAudienceError:
    """The refusal of a signed token for another audience, saying what it most likely is."""
    marks = _id_token_marks(header, claims, audience)
    if marks:
        return InvalidAudienceError(
            reason=(
                f"This is an ID token, not an access token: it carries {', '.join(marks)} and "
                "its aud is a client id. Send the access token your client received, requested "
                "with your API's identifier as its audience (resource, RFC 8707)."
            )
        )
    error = InvalidAudienceError()
    for aud in audience:
        for configured in audiences:
            if aud.rstrip("/") == configured.rstrip("/"):
                error.hint = (
                    f"Tokens are for the audience {_shown(aud)}, which differs from the "
                    f"configured {configured!r} only by a trailing slash: the audience is "
                    f"compared exactly; configure audience={_shown(aud)}."
                )
                return error
    return error


def _id_token_marks(
    header: Mapping[str, Any], claims: Mapping[str, Any], audience: tuple[str, ...]
) -> list[str]:
    """The claims that make a token an OpenID Connect ID token (Core §2, §3.1.3.6), if it is
    one: typed as a plain JWT, for a client (no URL as aud), with no scopes, and carrying
    what only ID tokens carry. Keycloak says so itself in its ``typ`` claim."""
    kind = claims.get("typ")
    if kind == "Bearer":
        return []
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _PLAIN_JWT_TYPES):
        return []
    marks = [name for name in _ID_TOKEN_MARKS if name in claims]
    if kind == "ID":
        return marks or ["typ ID"]
    if not marks or "scope" in claims or "scp" in claims:
        return []
    return [] if any("://" in aud for aud in audience) else marks


def bound_reason(cnf: Any) -> str:
    """Which key the token is bound to, by the confirmation members it names (RFC 7800 §3)."""
    kinds = {"jkt": "a DPoP key (cnf.jkt, RFC 9449)", "x5t#S256": "a client certificate "
             "(cnf.x5t#S256, RFC 8705)"}  # fmt: skip
    members = [kinds.get(name, f"cnf.{name}") for name in cnf] if isinstance(cnf, dict) else []
    bound = " and ".join(members[:3]) if members else "a key (cnf claim)"
    return (
        f"The token is sender-constrained: its issuer bound it to {bound}. This API accepts "
        "bearer tokens only and cannot check that binding, so the token is refused (a stolen "
        "bound token must not work as a bearer token)."
    )


class Lifetime(NamedTuple):
    """A token's NumericDates (seconds since the epoch): when it is valid, and for how long."""

    expires: float
    not_before: float | None
    issued: float | None


def claim_lifetime(claims: Mapping[str, Any]) -> Lifetime:
    """Read ``exp`` (required), ``nbf`` and ``iat``, each a NumericDate or absent."""
    expires, issued = claims.get("exp"), claims.get("iat")
    if (  # the usual case at the cost of a few comparisons: whole seconds, no nbf
        type(expires) is int
        and type(issued) is int
        and _MIN_DATE <= expires <= _MAX_DATE
        and _MIN_DATE <= issued <= _MAX_DATE
        and "nbf" not in claims
    ):
        return _lifetime((float(expires), None, float(issued)))
    expires = numeric_date(claims, "exp")
    if expires is None:
        raise InvalidClaimsError(reason="The token has no exp claim.")
    return _lifetime((expires, numeric_date(claims, "nbf"), numeric_date(claims, "iat")))


# One per new token: tuple.__new__ skips the named tuple's Python-level __new__.
_lifetime: Callable[[tuple[float, float | None, float | None]], Lifetime] = functools.partial(
    tuple.__new__, Lifetime
)


def dead_at(lifetime: Lifetime, config: VerifierConfig) -> float:
    """When :func:`check_lifetime` will refuse the token for good: ``exp``, or ``max_age``
    after ``iat``, each plus the leeway. What caches of verified answers keep them until."""
    end = lifetime.expires + config.leeway
    if config.max_age is not None and lifetime.issued is not None:
        end = min(end, lifetime.issued + config.max_age + config.leeway)
    return end


def check_lifetime(lifetime: Lifetime, config: VerifierConfig, now: float) -> None:
    """Refuse a token that is not valid at ``now``, give or take the leeway.

    Run for every verification and again for every hit of the verified-token cache,
    so a cached token is refused from the very instant a fresh check would refuse it.
    """
    expires, not_before, issued = lifetime
    leeway = config.leeway
    if expires + leeway <= now:  # RFC 7519 §4.1.4: now must be before exp
        raise ExpiredTokenError()
    if not_before is not None and not_before > now + leeway:
        raise ImmatureTokenError(reason="The nbf claim lies in the future.")
    if issued is not None and issued > now + leeway:
        raise ImmatureTokenError(reason="The iat claim lies in the future.")
    if config.max_age is not None:
        if issued is None:
            raise InvalidClaimsError(reason="max_age is configured but the token has no iat claim.")
        if now - issued > config.max_age + leeway:
            raise ExpiredTokenError(reason="The token is older than max_age (by its iat claim).")


def numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate (RFC 7519 §2): a JSON number, never a bool or a string."""
    value = claims.get(name)
    if type(value) is int and _MIN_DATE <= value <= _MAX_DATE:  # the usual case (not a bool)
        return float(value)
    if value is None and name not in claims:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not _MIN_DATE <= value <= _MAX_DATE
    ):
        raise InvalidClaimsError(reason=f"The {name} claim is not a NumericDate.")
    return float(value)


def claimed_audiences(claims: Mapping[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list) and aud:
        for item in aud:  # a loop: cheaper than all() over a generator for a few items
            if not isinstance(item, str):
                break
        else:
            return tuple(aud)
    raise InvalidAudienceError(
        reason="The aud claim is missing or not a string or array of strings."
    )


# The sets of the "scope" strings seen lately: a provider issues the same few strings to
# token after token. Filled only after a signature passed, and bounded in count and length.
_SCOPE_SETS: dict[str, frozenset[str]] = {}
_MAX_SCOPE_SETS = 256
_MAX_MEMO_SCOPE_LENGTH = 2048


def granted_scopes(claims: Mapping[str, Any], sources: tuple[str, ...]) -> frozenset[str]:
    """Granted scopes: ``scope`` is a space-delimited string (RFC 8693 §4.2); the other
    sources (``scp``, ``permissions``, ...) may be a string or an array of strings."""
    if sources == DEFAULT_SCOPE_CLAIMS and "scp" not in claims:  # the usual case, at once
        scope = claims.get("scope")
        if type(scope) is str:
            remembered = _SCOPE_SETS.get(scope)
            if remembered is not None:
                return remembered
            if "  " not in scope and scope.strip(" ") == scope:
                fresh = frozenset(scope.split(" ")) if scope else frozenset()
                if len(scope) <= _MAX_MEMO_SCOPE_LENGTH:
                    if len(_SCOPE_SETS) >= _MAX_SCOPE_SETS:
                        _SCOPE_SETS.clear()  # that many different strings: start afresh
                    _SCOPE_SETS[scope] = fresh
                return fresh
    granted: frozenset[str] = frozenset()
    for name in sources:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            names: list[str] = value.split(" ")  # only %x20 separates scope tokens
        elif name != "scope" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            names = value
        else:
            raise InvalidClaimsError(reason=f"The {name} claim has the wrong type for scopes.")
        granted = granted.union(names) if granted else frozenset(names)
    return granted - _NO_SCOPE if "" in granted else granted


def _in_organization(claims: Mapping[str, Any], organizations: frozenset[str]) -> bool:
    # Auth0 puts the organization's id in org_id ("org_...") and its lower-case name in org_name.
    org_id, org_name = claims.get("org_id"), claims.get("org_name")
    if org_id is not None and org_id in organizations:
        return True
    return org_name is not None and org_name.lower() in {o.lower() for o in organizations}
