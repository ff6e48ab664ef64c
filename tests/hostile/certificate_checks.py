"""How a certificate case is run through the core and judged: the same rules wherever it runs.

An answer passes when it is exactly the case's: accepted (200, the token naming the
certificate when it is bound), or refused with the error's status, its fixed
description in the challenge of the right scheme, a challenge for each scheme the
verifier accepts, and nothing of the request's tokens or certificates shown, in the
answer or the log.

In the core the request is built as the adapters build it: :func:`asgi_request` from
an ASGI scope (with the server's ``tls`` extension when the case has one) and
:func:`wsgi_request` from a WSGI environ (repeated fields folded into one, as WSGI
servers do; ``SSL_CLIENT_CERT`` when the case has one).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Literal

import pytest

import bearerguard as bg
from bearerguard import AccessToken, BearerError, HttpRequest, Verifier
from bearerguard._request import asgi_request, wsgi_request
from tests.adapters.harness import IdentityProviders, join_repeated
from tests.support import DPOP_ALGS

from .certificate_builders import CLIENT, CertificateCase, Sent, World, thumbprint
from .checks import DESCRIPTIONS, Mode, assert_nothing_from_the_tokens, assert_safe_answer
from .dpop_builders import CORE_BASE_URL, Reply
from .dpop_checks import Answer, answer_of, outcome_of, world_env

SUBJECT = "auth0|123"
Builder = Literal["asgi", "wsgi"]
# What no answer may show of the certificates: the client's thumbprint and its encodings.
NEVER_SHOWN = (thumbprint(CLIENT.der), CLIENT.pem.splitlines()[1][:40])
DESCRIPTION: Mapping[type[BearerError], str] = {
    **DESCRIPTIONS,
    bg.InvalidDPoPProofError: "Invalid DPoP proof",
}


def verifier_for(case: CertificateCase, idp: IdentityProviders) -> Verifier:
    env = world_env(idp)
    return idp.verifier(**env.transports(), client_certificate=case.setting)


def expected_challenge(case: CertificateCase, *, bearer_path: bool = False) -> str:
    """A challenge per accepted scheme (``Bearer`` alone on an adapter's bearer path), the
    error in its own scheme's."""
    assert case.error is not None
    description = case.description or DESCRIPTION[case.error]
    dpop_error = issubclass(case.error, bg.InvalidDPoPProofError)
    code = "invalid_dpop_proof" if dpop_error else "invalid_token"
    error = f'error="{code}", error_description="{description}"'
    bearer = 'Bearer realm="api"' + ("" if dpop_error else f", {error}")
    if bearer_path:
        return bearer
    dpop = 'DPoP realm="api"' + (f", {error}" if dpop_error else "")
    return f'{bearer}, {dpop}, algs="{DPOP_ALGS}"'


def judge_answer(case: CertificateCase, answer: Answer, sent: Sent, challenge: str | None) -> None:
    if case.error is None:
        assert answer.status == 200, f"{case.id} refused: {answer}"
        return
    assert answer.status == 401, answer
    assert answer.headers.get("www-authenticate") == challenge
    code = "invalid_dpop_proof" if issubclass(case.error, bg.InvalidDPoPProofError) else None
    description = case.description or DESCRIPTION[case.error]
    assert answer.body == {"error": code or "invalid_token", "error_description": description}
    shown = [f"{name}: {value}" for name, value in answer.headers.items()]
    assert_safe_answer([*shown, json.dumps(answer.body)], sent.secrets, NEVER_SHOWN)


# --- the core: verify_request() and averify_request() ---------------------------------------


def http_request(verifier: Verifier, sent: Sent, builder: Builder) -> HttpRequest:
    """The request an ASGI or a WSGI adapter hands this verifier."""
    source = verifier.config.certificate_source
    if builder == "asgi":
        scope: dict[str, Any] = {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "path": sent.path,
            "headers": [(b"host", b"api.example.com")]
            + [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in sent.fields],
        }
        if sent.tls is not None:
            scope["extensions"] = {"tls": dict(sent.tls)}
        return asgi_request(scope, source)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "api.example.com",
        "PATH_INFO": sent.path,
        **{"HTTP_" + n.upper().replace("-", "_"): v for n, v in join_repeated(sent.fields).items()},
        **sent.environ,
    }
    return wsgi_request(environ, source)


def run_in_core(
    case: CertificateCase,
    idp: IdentityProviders,
    mode: Mode,
    builder: Builder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Build the case's verifier, send its request (and what comes first), judge the answer."""
    caplog.set_level(logging.DEBUG, logger="bearerguard")
    verifier = verifier_for(case, idp)

    def exchange(sent: Sent) -> Reply:
        answer = answer_of(outcome_of(verifier, http_request(verifier, sent, builder), mode))
        return Reply(answer.status, answer.headers)

    world = World(world_env(idp), CORE_BASE_URL, exchange)
    sent = case.request(world)
    outcome = outcome_of(verifier, http_request(verifier, sent, builder), mode)

    if case.error is None:
        assert isinstance(outcome, AccessToken), f"{case.id} refused: {outcome!r}"
        assert outcome.subject == SUBJECT
        named = (outcome.confirmation or {}).get("x5t#S256")
        assert (named is not None) is case.bound
    else:
        assert isinstance(outcome, BearerError), f"{case.id} was accepted"
        assert type(outcome) is case.error, f"{outcome!r}: {outcome.reason}"
        assert outcome.realm == "api"
        assert_nothing_from_the_tokens([repr(outcome), str(outcome)], sent.secrets)
        for value in NEVER_SHOWN:
            assert value not in outcome.reason
    challenge = expected_challenge(case) if case.error is not None else None
    judge_answer(case, answer_of(outcome), sent, challenge)
    logged = [record.getMessage() for record in caplog.records]
    assert_nothing_from_the_tokens(logged, sent.secrets)
    for text in logged:
        for value in NEVER_SHOWN:
            assert value not in text
