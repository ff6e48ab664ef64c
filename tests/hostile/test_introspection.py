"""Opaque tokens by introspection (RFC 7662), hostile: through the core and every adapter.

- every row of ``introspection_catalogue.py`` through ``verify()``/``averify()`` (judged as
  the main catalogue's rows are: exact refusal, safe answer, nothing of the tokens in the
  log, requests only to trusted hosts) and through every adapter's real test client;
- the endpoint's faults: down (500), slow, oversized, redirected (elsewhere or to itself),
  not JSON, refusing our client credentials: 503 with ``Retry-After`` everywhere, an
  ERROR log, never an acceptance, and a redirect never followed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bearerguard import BearerError, CachePolicy, IntrospectionUnavailableError, Verifier
from tests.adapters.harness import ADAPTERS, IdentityProviders, client_factory

from .builders import Case, Env
from .checks import MODES, Mode, adapter_runs, run_in_adapter, run_in_core
from .introspection_catalogue import (
    ENDPOINT,
    INTROSPECTION_CATALOGUE,
    SOURCES,
    answer,
    with_endpoint,
)
from .test_core import world

CASE_ID = re.compile(r"O\d\d-[a-z0-9][a-z0-9-]*")
TOKEN = "hostile-opaque-fault-2YotnFZFEjr1zCsicMWpAA"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", INTROSPECTION_CATALOGUE, ids=lambda case: case.id)
def test_the_verifier_answers_the_row(
    case: Case, mode: Mode, idp: IdentityProviders, caplog: pytest.LogCaptureFixture
) -> None:
    run_in_core(case, world(idp), idp.verifier, mode, caplog)


@pytest.mark.parametrize(("case", "adapter"), adapter_runs(INTROSPECTION_CATALOGUE))
def test_the_adapter_answers_the_row(case: Case, adapter: str, idp: IdentityProviders) -> None:
    run_in_adapter(case, world(idp), idp.verifier, adapter)


def test_every_row_has_an_id_and_a_source() -> None:
    ids = [case.id for case in INTROSPECTION_CATALOGUE]
    assert len(ids) == len(set(ids))
    assert all(CASE_ID.fullmatch(i) for i in ids), ids
    rows = {i[:3] for i in ids}
    assert rows - {"O00"} == SOURCES.keys()
    assert all(source.strip() for source in SOURCES.values())


# --- the endpoint's faults: 503 with Retry-After, never an acceptance -----------------------


def json_response(body: Any, status: int = 200, content_type: str = "application/json") -> Any:
    def respond(_: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    return respond


def redirect_to(location: str) -> Callable[[httpx.Request], httpx.Response]:
    def respond(_: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"location": location})

    return respond


FAULTS: dict[str, dict[str, Any]] = {
    "down": {"respond": json_response({"error": "server_error"}, 500)},
    "bad-gateway-html": {"respond": json_response(b"<html>502</html>", 502, "text/html")},
    "not-json": {"respond": json_response(b"{active: true}")},
    "html-200": {"respond": json_response(b"<html>ok</html>", 200, "text/html")},
    "json-array": {"respond": json_response([answer()])},
    "huge": {"respond": json_response(answer(padding="x" * 400_000))},
    "redirect-elsewhere": {"respond": redirect_to("https://attacker.example/introspect")},
    "redirect-same-host": {"respond": redirect_to(ENDPOINT + "?again=1")},
    "credentials-refused": {"respond": json_response({"error": "invalid_client"}, 401)},
    "forbidden": {"respond": json_response({"error": "access_denied"}, 403)},
    "slow": {"respond": json_response(answer()), "delay": 1.5},
}
LOGGED = {
    "credentials-refused": "check Introspection(client_id=",
    "forbidden": "refused this API's client credentials",
}


def fault_verifier(idp: IdentityProviders, fault: str) -> tuple[Env, Verifier]:
    env = world(idp)
    settings = with_endpoint(env, **FAULTS[fault])
    return env, idp.verifier(**settings, cache=CachePolicy(fetch_timeout=0.5))


def judge_fault(env: Env, error: BearerError) -> None:
    assert type(error) is IntrospectionUnavailableError
    assert error.status_code == 503
    assert int(error.headers["Retry-After"]) >= 1
    assert TOKEN not in json.dumps(error.headers) + error.json_body().decode()
    assert {httpx.URL(url).host for url in env.requested} == {httpx.URL(ENDPOINT).host}
    assert len(env.requested) == 1  # one POST, no redirect followed, no retry


def verify(verifier: Verifier, mode: Mode) -> None:
    if mode == "sync":
        verifier.verify(TOKEN)
    else:
        asyncio.run(verifier.averify(TOKEN))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_of_the_endpoint_is_a_503_in_the_core(
    fault: str, mode: Mode, idp: IdentityProviders, caplog: pytest.LogCaptureFixture
) -> None:
    env, verifier = fault_verifier(idp, fault)
    with caplog.at_level(logging.ERROR, logger="bearerguard"), pytest.raises(BearerError) as caught:
        verify(verifier, mode)
    judge_fault(env, caught.value)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, errors
    assert LOGGED.get(fault, "introspection endpoint") in errors[0]
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("fault", ["down", "huge", "redirect-elsewhere", "credentials-refused"])
def test_a_fault_of_the_endpoint_is_a_503_through_the_adapter(
    fault: str, adapter: str, idp: IdentityProviders
) -> None:
    env, verifier = fault_verifier(idp, fault)
    with client_factory(adapter)(verifier) as client:
        answered = client.get("/api/private", headers=[("Authorization", f"Bearer {TOKEN}")])
    assert answered.status == 503
    assert int(answered.headers["retry-after"]) >= 1
    assert answered.body["error"] == "temporarily_unavailable"
    assert TOKEN not in json.dumps(answered.body) + json.dumps(dict(answered.headers))
    assert {httpx.URL(url).host for url in env.requested} == {httpx.URL(ENDPOINT).host}
