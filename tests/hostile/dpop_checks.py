"""How a DPoP case is run through the core and judged: the same rules wherever it runs.

An answer passes when it is exactly the case's: accepted (200, the token bound to
the client's key), or refused with the error's status, its fixed description and
error code in the challenge of the right scheme (RFC 9449 §7.1: a DPoP error in
the ``DPoP`` challenge, a token error in the ``Bearer`` one), a challenge for each
scheme the verifier accepts, the ``algs`` it accepts, a fresh ``DPoP-Nonce`` with
``use_dpop_nonce``, and nothing of the request's tokens and proofs in what is shown.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

import bearerguard as bg
from bearerguard import AccessToken, BearerError, HttpRequest, Verifier
from tests.adapters.harness import IdentityProviders
from tests.support import DPOP_ALGS

from .builders import Env
from .checks import (
    DESCRIPTIONS,
    ERROR_CODES,
    STATUS,
    Mode,
    assert_nothing_from_the_tokens,
    assert_safe_answer,
)
from .dpop_builders import (
    ATTACKER,
    CLIENT,
    CLIENT_EDDSA,
    CLIENT_RS256,
    CORE_BASE_URL,
    ProofCase,
    Reply,
    Sent,
    World,
)

SUBJECT = "auth0|123"
#: the thumbprints a bound token of a case may name: the keys of its clients
CLIENT_THUMBPRINTS = {key.thumbprint() for key in (CLIENT, ATTACKER, CLIENT_RS256, CLIENT_EDDSA)}
SCHEMES = {"off": ("Bearer",), "allowed": ("Bearer", "DPoP"), "required": ("DPoP",)}
DPOP_DESCRIPTIONS: Mapping[type[BearerError], str] = {
    **DESCRIPTIONS,
    bg.InvalidDPoPProofError: "Invalid DPoP proof",
    bg.UseDPoPNonceError: "Resource server requires nonce in DPoP proof",
}
DPOP_ERROR_CODES: Mapping[type[BearerError], str | None] = {
    **ERROR_CODES,
    bg.InvalidDPoPProofError: "invalid_dpop_proof",
    bg.UseDPoPNonceError: "use_dpop_nonce",
}
NONCE_LENGTH = 32  # characters of a bearerguard nonce


@dataclass(frozen=True)
class Answer:
    """What a response shows: status, headers (lower-case names), JSON body."""

    status: int
    headers: Mapping[str, str]
    body: Any


def world_env(idp: IdentityProviders) -> Env:
    """The tenant signs the tokens; its custom domain is served too, as in the catalogue."""
    return Env(idp.tenant, idp.clock, [idp.custom_domain])


def expected_challenge(
    case: ProofCase,
    error: type[BearerError],
    env: Env,
    *,
    bearer_path: bool = False,
    route_scope: str = "",
) -> str:
    """The exact ``WWW-Authenticate`` of a refusal: a challenge per accepted scheme, the
    error in its own scheme's (else the first offered), ``algs`` in DPoP's.

    ``bearer_path``: an adapter's answer to a Bearer request it verified on the bearer
    path (no ``DPoP`` field): the ``Bearer`` challenge alone. ``route_scope``: the
    scopes of the route an adapter guards, which every challenge of a request without
    credentials names (RFC 6750 §3, RFC 9449 §7.1).
    """
    settings = case.settings(env)
    offered = ("Bearer",) if bearer_path else SCHEMES[settings.get("dpop", "allowed")]
    algorithms = settings.get("dpop_algorithms")
    algs = DPOP_ALGS if algorithms is None else " ".join(sorted(algorithms))
    own = "DPoP" if issubclass(error, bg.InvalidDPoPProofError) else "Bearer"
    erring = own if own in offered else offered[0]
    code = DPOP_ERROR_CODES.get(error, "invalid_token")
    challenges = []
    for scheme in offered:
        params = ['realm="api"']
        if scheme == erring and code is not None:
            params += [f'error="{code}"', f'error_description="{description_of(case, error)}"']
        if scheme == "DPoP":
            params.append(f'algs="{algs}"')
        if error is bg.MissingTokenError and route_scope:
            params.append(f'scope="{route_scope}"')
        challenges.append(f"{scheme} {', '.join(params)}")
    return ", ".join(challenges)


def description_of(case: ProofCase, error: type[BearerError]) -> str:
    return case.description or DPOP_DESCRIPTIONS[error]


def expected_body(case: ProofCase, error: type[BearerError]) -> dict[str, str]:
    return {
        "error": DPOP_ERROR_CODES.get(error, "invalid_token") or "unauthorized",
        "error_description": description_of(case, error),
    }


def judge_answer(case: ProofCase, answer: Answer, sent: Sent, challenge: str | None) -> None:
    """The answer is exactly the case's; ``challenge`` is the expected one (refusals)."""
    error = case.error
    if error is None:
        assert answer.status == 200, f"{case.id} refused: {answer}"
        return
    assert answer.status == STATUS.get(error, 401), answer
    assert answer.headers.get("www-authenticate") == challenge
    assert answer.body == expected_body(case, error)
    if error is bg.UseDPoPNonceError:
        nonce = answer.headers.get("dpop-nonce", "")
        assert len(nonce) == NONCE_LENGTH, answer.headers
        assert all(nonce not in value for _, value in sent.fields), "the nonce sent came back"
    else:
        assert "dpop-nonce" not in answer.headers
    shown = [f"{name}: {value}" for name, value in answer.headers.items()]
    assert_safe_answer([*shown, json.dumps(answer.body)], sent.secrets)


def judge_fetches(case: ProofCase, env: Env, before: int) -> None:
    """Only trusted hosts are asked, and the proof's own checks ask nobody."""
    assert {url.split("/")[2] for url in env.requested} <= env.hosts(), env.requested
    if case.fetches is False:
        assert env.requested[before:] == [], f"refused only after a fetch: {env.requested}"


# --- the core: verify_request() and averify_request() ---------------------------------------


def http_request(world: World, sent: Sent) -> HttpRequest:
    url = world.url(sent.path) + (f"?{sent.query}" if sent.query else "")
    return HttpRequest("GET", url, sent.fields)


def outcome_of(verifier: Verifier, request: HttpRequest, mode: Mode) -> AccessToken | BearerError:
    """Whatever is not a token or a :class:`BearerError` escapes and fails the test."""
    try:
        if mode == "sync":
            return verifier.verify_request(request)
        return asyncio.run(verifier.averify_request(request))
    except BearerError as exc:
        return exc


def answer_of(outcome: AccessToken | BearerError) -> Answer:
    if isinstance(outcome, AccessToken):
        return Answer(200, {}, {"sub": outcome.subject})
    headers = {name.lower(): value for name, value in outcome.headers.items()}
    return Answer(outcome.status_code, headers, json.loads(outcome.json_body()))


def run_in_core(
    case: ProofCase, idp: IdentityProviders, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    """Build the case's verifier, send its request (and what comes first), judge the answer."""
    caplog.set_level(logging.DEBUG, logger="bearerguard")
    env = world_env(idp)
    verifier = idp.verifier(**{**env.transports(), **case.settings(env)})

    def exchange(sent: Sent) -> Reply:
        answer = answer_of(outcome_of(verifier, http_request(world, sent), mode))
        return Reply(answer.status, answer.headers)

    world = World(env, CORE_BASE_URL, exchange)
    sent = case.request(world)
    before = len(env.requested)
    outcome = outcome_of(verifier, http_request(world, sent), mode)

    if case.error is None:
        assert isinstance(outcome, AccessToken), f"{case.id} refused: {outcome!r}"
        assert outcome.subject == SUBJECT
        if case.bound:
            assert outcome.confirmation is not None
            assert outcome.confirmation["jkt"] in CLIENT_THUMBPRINTS
        else:
            assert outcome.confirmation is None
    else:
        assert isinstance(outcome, BearerError), f"{case.id} was accepted"
        assert type(outcome) is case.error, f"{outcome!r}: {outcome.reason}"
        assert outcome.realm == "api"
        assert_nothing_from_the_tokens([repr(outcome), str(outcome)], sent.secrets)
    challenge = None
    if case.error is not None:
        challenge = expected_challenge(case, case.error, env)
    judge_answer(case, answer_of(outcome), sent, challenge)
    logged = [record.getMessage() for record in caplog.records]
    assert_nothing_from_the_tokens(logged, sent.secrets)
    judge_fetches(case, env, before)
