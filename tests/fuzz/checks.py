"""What every refusal must look like, whatever the input: a safe, fixed RFC 6750 answer."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import bearerguard
from bearerguard import (
    AccessToken,
    BearerError,
    EncryptedTokenError,
    ExpiredTokenError,
    ImmatureTokenError,
    InsufficientClaimsError,
    InsufficientScopeError,
    IntrospectionUnavailableError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidIssuerError,
    InvalidRequestError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UnknownKeyError,
    Verifier,
    VerifierConfig,
)
from tests.support import Provider, challenge_params

PARAMETER_NAMES = ("realm", "error", "error_description", "scope")

ERRORS: tuple[type[BearerError], ...] = (
    MissingTokenError,
    InvalidRequestError,
    InvalidTokenError,
    MalformedTokenError,
    EncryptedTokenError,
    UnknownKeyError,
    InvalidSignatureError,
    InvalidIssuerError,
    InvalidAudienceError,
    ExpiredTokenError,
    ImmatureTokenError,
    InvalidClaimsError,
    SenderConstrainedTokenError,  # a cnf claim on the bearer path (bound tokens fail closed)
    InsufficientScopeError,
    InsufficientClaimsError,
    KeySetUnavailableError,
    IntrospectionUnavailableError,
)
# Every description a refusal may carry: the fixed sentences of the error classes, and the
# two the core passes explicitly. Being one of these proves a description echoes nothing.
DESCRIPTIONS = frozenset(cls.default_description for cls in ERRORS) | {
    "The access token is not valid for this organization",
    "The request uses more than one method to send the access token",
}
STATUSES = {
    MissingTokenError: 401,
    InvalidRequestError: 400,
    InvalidTokenError: 401,
    InsufficientScopeError: 403,
    KeySetUnavailableError: 503,
}
# Shorter pieces of an input may occur in a fixed sentence by chance ("token", "key").
ECHO_LENGTH = 8


@cache
def source_text() -> str:
    """All of bearerguard's own source: where every fixed sentence of an answer comes from.

    Hypothesis mines string literals from the code under test, so an input may well *be*
    a piece of a fixed sentence (it once sent ``b' error_descripti'``): that is no echo.
    """
    package = Path(bearerguard.__file__).parent
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py")))


def assert_safe_refusal(exc: BaseException, given: object, *, realm: str = "api") -> None:
    """``exc`` is a :class:`BearerError` whose answer is fixed, well-formed and echoes nothing."""
    assert isinstance(exc, BearerError), f"{type(exc).__name__} escaped: {exc!r}"
    assert isinstance(exc, ERRORS)
    expected_status = next(s for cls, s in STATUSES.items() if isinstance(exc, cls))
    assert exc.status_code == expected_status

    assert exc.description in DESCRIPTIONS
    body = exc.to_json()
    assert body == {"error": exc.error or "unauthorized", "error_description": exc.description}
    assert json.loads(exc.json_body()) == body

    challenge = exc.www_authenticate
    assert challenge is not None
    params = challenge_params(challenge)
    assert set(params) <= set(PARAMETER_NAMES)
    assert params["realm"] == realm
    assert params.get("error") == exc.error
    if exc.error is not None:
        assert params["error_description"] == exc.description
    expected_headers = {"WWW-Authenticate": challenge}
    if isinstance(exc, KeySetUnavailableError):
        expected_headers["Retry-After"] = str(exc.retry_after)
    assert exc.headers == expected_headers

    if isinstance(given, str):
        answer = f"{challenge}\n{exc.json_body().decode()}\n{exc.reason}\n{exc}\n{exc!r}"
        for piece in {given, *re.split(r"[\s.,;=]+", given)}:
            if len(piece) >= ECHO_LENGTH and piece not in source_text():
                assert piece not in answer, f"the answer echoes {piece!r}"


def assert_sound(token: AccessToken, raw: str, config: VerifierConfig, now: float) -> None:
    """An accepted token satisfies every rule the configuration asks for."""
    claims, header = token.claims, token.header
    assert token.raw == raw
    assert header["alg"] in config.algorithms
    assert not {"crit", "b64"} & set(header)
    typ = header.get("typ")
    if config.rfc9068_strict:
        assert isinstance(typ, str)
        assert typ.lower() in ("at+jwt", "application/at+jwt")
        assert {"sub", "client_id", "iat", "jti"} <= set(claims)
    else:
        assert typ is None or typ.lower() in (
            "at+jwt",
            "application/at+jwt",
            "jwt",
            "application/jwt",
        )
    assert token.issuer == claims["iss"]
    assert token.issuer in config.issuer_index  # a configured issuer, in the token's spelling
    assert token.audience
    assert any(aud in config.audience_index for aud in token.audience)  # in any spelling
    leeway = config.leeway
    assert type(claims["exp"]) in (int, float)
    assert claims["exp"] + leeway > now
    for name in ("nbf", "iat"):
        if name in claims:
            assert type(claims[name]) in (int, float)
            assert claims[name] <= now + leeway
    if config.max_age is not None:
        assert now - claims["iat"] <= config.max_age + leeway
    for name in ("sub", "client_id", "azp", "jti", "org_id", "org_name"):
        assert name not in claims or isinstance(claims[name], str)
    if config.organizations:
        names = {o.lower() for o in config.organizations}
        assert claims.get("org_id") in config.organizations or (
            claims.get("org_name") is not None and claims["org_name"].lower() in names
        )
    assert "" not in token.scopes


@dataclass
class Target:
    """A verifier and the in-process issuer it fetched its keys from, once."""

    verifier: Verifier
    provider: Provider
    now: float
    warm_hits: Counter[str] = field(init=False)

    def __post_init__(self) -> None:
        self.warm_hits = Counter(self.provider.hits)

    @property
    def realm(self) -> str:
        return self.verifier.config.realm

    def outcome(self, token: Any) -> AccessToken | BearerError:
        """``verify()`` and ``averify()`` agree: both accept alike or refuse alike.

        Anything but a ``BearerError`` escapes and fails the example.
        """
        sync = attempt(self.verifier.verify, token)
        from_async = attempt(lambda t: asyncio.run(self.verifier.averify(t)), token)
        assert type(sync) is type(from_async)
        if isinstance(sync, AccessToken):
            assert isinstance(from_async, AccessToken)
            assert dict(sync.claims) == dict(from_async.claims)
            assert_sound(sync, token, self.verifier.config, self.now)
        else:
            assert isinstance(from_async, BearerError)
            assert (sync.reason, sync.description) == (from_async.reason, from_async.description)
            assert_safe_refusal(sync, token, realm=self.realm)
        assert self.provider.hits == self.warm_hits, "a token caused a fetch"
        return sync

    def refusal(self, token: Any) -> BearerError:
        result = self.outcome(token)
        assert isinstance(result, BearerError), f"accepted: {token!r}"
        return result


T = TypeVar("T")


def refused(exc: BearerError) -> str:
    """A statistics label for a refusal (``--hypothesis-show-statistics``): class and reason."""
    return f"{type(exc).__name__}: {re.sub(r'[0-9]+', 'N', exc.reason)}"


def attempt(call: Callable[..., T], *args: Any, **kwargs: Any) -> T | BearerError:
    """What ``call`` returns, or the ``BearerError`` it raises; anything else escapes."""
    try:
        return call(*args, **kwargs)
    except BearerError as exc:
        return exc
