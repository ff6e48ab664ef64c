"""How a case is run through the core, or its answer through an adapter, and judged: one set
of rules for every table.

A case passes when each attempt is accepted or refused exactly as it says, and
when what the refusal shows is safe (RFC 6750 §3, hostile-tokens T10-T12):

- exactly the expected :class:`BearerError` subclass, its status and its fixed
  description; nothing else ever escapes (any other exception fails the test);
- a single-line ``WWW-Authenticate`` challenge in RFC 6750 shape and charset,
  each parameter at most once;
- no part of the token, no claim value, no URL and none of the case's
  ``never_shown`` values in the description, challenge or JSON body; no token
  in the log;
- the provider asked only on trusted hosts, and as often as the case says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import httpx
import pytest

import bearerguard as bg
from bearerguard import AccessToken, BearerError, ConfigurationError, Verifier
from tests.adapters.harness import ADAPTERS, Answer, client_factory
from tests.support import NO_TOKEN_CHALLENGE

from .builders import Attempt, Case, Env, Request, b64decode

Mode = Literal["sync", "async"]
MODES: tuple[Mode, ...] = ("sync", "async")  # verify() one by one, averify() all at once
Outcome = AccessToken | BearerError

# RFC 6750 §3.1, and 503 for a provider that cannot be reached (a design decision).
STATUS: Mapping[type[BearerError], int] = {
    bg.InvalidRequestError: 400,
    bg.InsufficientScopeError: 403,
    bg.KeySetUnavailableError: 503,
}
ERROR_CODES: Mapping[type[BearerError], str | None] = {
    bg.MissingTokenError: None,
    bg.InvalidRequestError: "invalid_request",
    bg.InsufficientScopeError: "insufficient_scope",
    bg.KeySetUnavailableError: "temporarily_unavailable",
}
GENERIC = "Invalid token"
# Fixed sentences. Format, key and signature failures all read "Invalid token" (T10):
# a client learns that its token failed, never at which stage.
DESCRIPTIONS: Mapping[type[BearerError], str] = {
    bg.MissingTokenError: "Authentication required",
    bg.InvalidRequestError: "Malformed Authorization header",
    bg.InvalidTokenError: GENERIC,
    bg.MalformedTokenError: GENERIC,
    bg.UnknownKeyError: GENERIC,
    bg.InvalidSignatureError: GENERIC,
    bg.InvalidClaimsError: GENERIC,
    bg.EncryptedTokenError: "The access token is encrypted (JWE); this API accepts signed JWTs",
    bg.SenderConstrainedTokenError: (
        "The access token is sender-constrained (bound to a key) and cannot be used as a "
        "bearer token"
    ),
    bg.InvalidIssuerError: "The access token was issued by an untrusted issuer",
    bg.InvalidAudienceError: "The access token is not intended for this API",
    bg.ExpiredTokenError: "The access token expired",
    bg.ImmatureTokenError: "The access token is not valid yet",
    bg.InsufficientScopeError: "Insufficient scope",
    bg.KeySetUnavailableError: "The token cannot be checked right now; try again later",
}

# RFC 6750 §3: error and error_description are %x20-21 / %x23-5B / %x5D-7E; scope tokens
# %x21 / %x23-5B / %x5D-7E joined by single spaces; each parameter at most once.
_TEXT = r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'
_SCOPE = r'"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*"'
CHALLENGE = re.compile(
    rf"Bearer realm={_TEXT}(?:, error=\"[a-z_]+\", error_description={_TEXT}(?:, scope={_SCOPE})?)?"
)


def status_of(error: type[BearerError]) -> int:
    return STATUS.get(error, 401)


def description_of(case: Case, error: type[BearerError]) -> str:
    return case.description or DESCRIPTIONS[error]


def challenge_of(case: Case, error: type[BearerError], realm: str = "api") -> str:
    """The exact ``WWW-Authenticate`` value the refusal must carry."""
    code = ERROR_CODES.get(error, "invalid_token")
    if code is None:
        return f'Bearer realm="{realm}"'
    value = (
        f'Bearer realm="{realm}", error="{code}", error_description="{description_of(case, error)}"'
    )
    if error is bg.InsufficientScopeError:
        value += f', scope="{" ".join(case.require)}"'
    return value


def body_of(case: Case, error: type[BearerError]) -> dict[str, str]:
    """The exact JSON body of the refusal."""
    return {
        "error": ERROR_CODES.get(error, "invalid_token") or "unauthorized",
        "error_description": description_of(case, error),
    }


# --- running a case through verify()/averify() ------------------------------------------------


def tokens_of(attempt: Attempt) -> tuple[str, ...]:
    return (attempt,) if isinstance(attempt, str) else attempt.tokens


def _finish(token: AccessToken, case: Case) -> AccessToken:
    if case.require:
        token.require_scopes(*case.require, any_of=case.any_of)
    return token


def _try_sync(verifier: Verifier, attempt: Attempt, case: Case) -> Outcome:
    try:
        if isinstance(attempt, str):
            return _finish(verifier.verify(attempt), case)
        header = attempt.field_value()
        return _finish(verifier.verify_authorization(header, query=attempt.query or None), case)
    except BearerError as exc:  # anything else escapes and fails the test
        return exc


async def _try_async(verifier: Verifier, attempt: Attempt, case: Case) -> Outcome:
    try:
        if isinstance(attempt, str):
            return _finish(await verifier.averify(attempt), case)
        header = attempt.field_value()
        token = await verifier.averify_authorization(header, query=attempt.query or None)
        return _finish(token, case)
    except BearerError as exc:
        return exc


def attempt_all(
    verifier: Verifier, attempts: list[Attempt], case: Case, mode: Mode
) -> list[Outcome]:
    """Try every attempt: one after the other (sync), or all at once on one event loop."""
    if mode == "sync":
        return [_try_sync(verifier, attempt, case) for attempt in attempts]

    async def together() -> list[Outcome]:
        return list(await asyncio.gather(*(_try_async(verifier, a, case) for a in attempts)))

    return asyncio.run(together())


def run_in_core(
    case: Case,
    env: Env,
    make_verifier: Callable[..., Verifier],
    mode: Mode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Build the case's verifier, prepare the world, try the input and judge every outcome."""
    caplog.set_level(logging.DEBUG, logger="bearerguard")
    settings = {**env.transports(), **case.settings(env)}
    if case.error is ConfigurationError:
        with pytest.raises(ConfigurationError):
            make_verifier(**settings)
        return
    refused = case.error
    assert refused is None or issubclass(refused, BearerError)
    verifier = make_verifier(**settings)
    for step in case.prepare:
        step(env, verifier)
    attempts = [case.attempt(env) for _ in range(case.repeat)]
    outcomes = attempt_all(verifier, attempts, case, mode)

    for attempt, outcome in zip(attempts, outcomes, strict=True):
        if case.error is None:
            assert isinstance(outcome, AccessToken), f"refused: {outcome!r}"
            judge_accepted(case, verifier, attempt, outcome)
        else:
            assert isinstance(outcome, BearerError), f"{case.id} was accepted"
            judge_refused(case, verifier, attempt, outcome)
    logged = [record.getMessage() for record in caplog.records]
    assert_nothing_from_the_tokens(logged, [t for a in attempts for t in tokens_of(a)])
    judge_fetches(case, env, refused)


def judge_accepted(case: Case, verifier: Verifier, attempt: Attempt, token: AccessToken) -> None:
    if isinstance(attempt, str):
        assert token.raw == attempt
    assert token.issuer in verifier.config.issuer_index  # any spelling of a configured one
    assert any(aud in verifier.config.audience_index for aud in token.audience)  # likewise
    if case.check is not None:
        assert case.check(token)


def judge_refused(case: Case, verifier: Verifier, attempt: Attempt, exc: BearerError) -> None:
    error = case.error
    assert error is not None
    assert issubclass(error, BearerError)
    assert type(exc) is error, f"{exc!r}: {exc.reason}"
    assert exc.status_code == status_of(error)
    assert exc.description == description_of(case, error)
    challenge = exc.www_authenticate or ""
    assert CHALLENGE.fullmatch(challenge), challenge
    assert exc.realm == verifier.config.realm
    assert exc.headers["WWW-Authenticate"] == challenge
    if isinstance(exc, bg.InsufficientScopeError):
        assert exc.required_scopes == case.require
        assert challenge.endswith(f', scope="{" ".join(case.require)}"')
    if isinstance(exc, bg.KeySetUnavailableError):
        assert int(exc.headers["Retry-After"]) >= 1
    assert_safe_answer(
        [exc.description, challenge, exc.json_body().decode()],
        tokens_of(attempt),
        case.never_shown,
        claim_values=not isinstance(exc, bg.InsufficientScopeError),  # it names *required* scopes
    )
    assert_nothing_from_the_tokens([repr(exc), str(exc)], tokens_of(attempt))


# Refused by the cheap checks, which come before any network I/O (catalogue §0).
BEFORE_ANY_FETCH = (
    bg.MissingTokenError,
    bg.InvalidRequestError,
    bg.MalformedTokenError,
    bg.EncryptedTokenError,
    bg.InvalidIssuerError,
    bg.InvalidTokenError,  # exactly: an alg outside the allow-list
)


def judge_fetches(case: Case, env: Env, error: type[BearerError] | None) -> None:
    """The provider is asked only on the hosts this world trusts, and as often as expected."""
    asked = {httpx.URL(url).host for url in env.requested}
    assert asked <= env.hosts(), f"fetched from an untrusted host: {env.requested}"
    if case.hits is not None:
        assert env.hits() == case.hits, env.requested
    if error in BEFORE_ANY_FETCH and not case.prepare:
        assert env.requested == [], f"{error.__name__} only after a fetch: {env.requested}"


# --- running a case through an adapter ---------------------------------------------------------


def http_error(case: Case) -> type[BearerError] | None:
    """The error an HTTP request gets: the case's own, or the one its ``http`` names."""
    if isinstance(case.http, type):
        return case.http
    assert case.error is None or issubclass(case.error, BearerError)
    return case.error


def adapter_challenge(case: Case, error: type[BearerError], verifier: Verifier) -> str:
    """The challenge an adapter answers with: the case's own, except that a request without
    credentials is offered every scheme the verifier accepts (RFC 9449 §7.1): with DPoP
    allowed (the default), Bearer and DPoP."""
    if error is bg.MissingTokenError and verifier.config.dpop == "allowed":
        return NO_TOKEN_CHALLENGE
    return challenge_of(case, error)


def adapter_runs(catalogue: Iterable[Case]) -> list[Any]:
    """Each row of ``catalogue`` that can be sent over HTTP, through every adapter: the
    ``(case, adapter)`` parameters of a table's adapter test, with ids like ``flask-K01-...``."""
    return [
        pytest.param(case, adapter, id=f"{adapter}-{case.id}")
        for case in catalogue
        if case.sendable
        for adapter in ADAPTERS
    ]


def run_in_adapter(
    case: Case, env: Env, make_verifier: Callable[..., Verifier], adapter: str
) -> None:
    """Build the case's verifier, prepare the world, send its token as a Bearer token
    through the adapter's real test client and judge the answer."""
    verifier = make_verifier(**{**env.transports(), **case.settings(env)})
    for step in case.prepare:
        step(env, verifier)
    token = case.attempt(env)
    assert isinstance(token, str)
    request = Request((f"Bearer {token}",), "", (token,))
    with client_factory(adapter)(verifier) as client:
        answer = client.get("/api/private", headers=request.headers())
    judge_adapter_answer(case, env, verifier, request, answer)


def judge_adapter_answer(
    case: Case, env: Env, verifier: Verifier, request: Request, answer: Answer
) -> None:
    """An adapter's answer to the case's ``request``: exactly its outcome over HTTP (200 and
    the subject, or the refusal's status, challenge and JSON body, ``Retry-After`` on a
    503), nothing of the tokens or of ``never_shown`` in it, and the fetches it costs."""
    error = http_error(case)
    if error is None:
        assert (answer.status, answer.challenge, answer.body) == (200, None, {"sub": "auth0|123"})
    else:
        assert answer.status == status_of(error)
        assert answer.challenge == adapter_challenge(case, error, verifier)
        assert answer.body == body_of(case, error)
        assert answer.headers["content-type"].split(";")[0] == "application/json"
        if error is bg.KeySetUnavailableError:
            assert int(answer.headers["retry-after"]) >= 1
    shown = [f"{name}: {value}" for name, value in answer.headers.items()]
    assert_safe_answer(
        [*shown, json.dumps(answer.body, ensure_ascii=False)],
        request.tokens,
        case.never_shown,
        claim_values=error not in (None, bg.InsufficientScopeError),  # it names *required* scopes
    )
    judge_fetches(case, env, error)


# --- what an answer may show ---------------------------------------------------------------------


def assert_safe_answer(
    shown: list[str],
    tokens: Iterable[str],
    never_shown: Iterable[str] = (),
    *,
    claim_values: bool = True,
) -> None:
    """Descriptions, challenges and bodies are fixed sentences: no token, claim, URL or
    attacker value (hostile-tokens T10-T12)."""
    assert_nothing_from_the_tokens(shown, tokens, claim_values=claim_values)
    for text in shown:
        assert "://" not in text.split(", scope=")[0], text
        for value in never_shown:
            assert value not in text, (value, text)


def assert_nothing_from_the_tokens(
    shown: list[str], tokens: Iterable[str], *, claim_values: bool = False
) -> None:
    for raw in tokens:
        pieces = [s for s in (raw, *raw.split(".")) if len(s) >= 8]
        if claim_values:
            pieces += [v for v in _claim_strings(raw) if len(v) >= 6]
        for text in shown:
            for piece in pieces:
                assert piece not in text, (piece, text)


def _claim_strings(raw: str) -> list[str]:
    segments = raw.split(".")
    try:
        body: Any = json.loads(b64decode(segments[1])) if len(segments) > 1 else {}
    except (ValueError, RecursionError):
        return []
    return [v for v in body.values() if isinstance(v, str)] if isinstance(body, dict) else []
