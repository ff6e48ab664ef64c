"""The fetch deadline is total, for sync and async fetches, over real sockets.

httpx's timeouts bound each socket operation: a provider that sends a byte now
and then never trips them. ``fetch`` (sync) runs the request on a worker thread
and cuts its socket at the deadline; ``afetch`` cancels. Either way the caller
has its answer at the deadline, and the connection is gone soon after: no thread
keeps listening to a provider that nobody waits for. (Bounds are generous, for
loaded machines: a regression overshoots them by far, as the drips last a minute.)

These run the production path: no transport is injected.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from bearerguard import CachePolicy
from bearerguard._fetch import afetch, fetch
from bearerguard._keycache import Document, FetchFailure, Outcome

from .server import Fault, FaultyProvider

POLICY = CachePolicy(fetch_timeout=0.5, max_document_bytes=16 * 1024)
BOUND = 10 * POLICY.fetch_timeout
Get = Callable[[str], Outcome]


@pytest.fixture(params=["sync", "async"])
def get(request: pytest.FixtureRequest) -> Get:
    if request.param == "sync":
        return lambda url: fetch(url, POLICY)
    return lambda url: asyncio.run(afetch(url, POLICY))


def fetch_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "bearerguard-fetch"}


IN_TIME = "the provider did not answer in time"


@pytest.mark.parametrize(
    ("fault", "reasons"),
    [
        pytest.param(Fault.TIMEOUT, {IN_TIME}, id="timeout"),
        pytest.param(Fault.DRIP_HEADERS, {IN_TIME}, id="drip-headers"),
        pytest.param(Fault.DRIP_BODY, {IN_TIME, "the response arrived too slowly"}, id="drip-body"),
    ],
)
def test_a_provider_that_keeps_the_connection_busy_is_cut_off_at_the_deadline(
    get: Get, faulty_idp: FaultyProvider, fault: Fault, reasons: set[str]
) -> None:
    faulty_idp.jwks.fail(fault)
    before = fetch_threads()

    started = time.monotonic()
    outcome = get(faulty_idp.jwks_uri)
    elapsed = time.monotonic() - started

    assert isinstance(outcome, FetchFailure)
    assert outcome.reason in reasons
    assert elapsed < BOUND
    # The connection does not outlive the fetch: the client closed it (the drips would
    # go on for a minute, a held request until the test ends).
    assert faulty_idp.jwks.wait_until_idle(timeout=BOUND)
    deadline = time.monotonic() + BOUND
    while fetch_threads() - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not fetch_threads() - before


def test_a_refused_connection_is_a_failure_at_once_not_at_the_deadline(
    get: Get, faulty_idp: FaultyProvider
) -> None:
    faulty_idp.jwks.fail(Fault.REFUSED)
    outcome = get(faulty_idp.jwks_uri)
    assert outcome == FetchFailure("the request failed (ConnectError)")


def test_a_healthy_provider_is_fetched_and_the_connection_closed(
    get: Get, faulty_idp: FaultyProvider
) -> None:
    outcome = get(faulty_idp.jwks_uri)
    assert isinstance(outcome, Document)
    assert outcome.status == 200
    assert b'"kid": "k1"' in outcome.body
    assert faulty_idp.jwks.wait_until_idle(timeout=BOUND)


def test_a_deadline_cut_leaves_other_fetches_alone(faulty_idp: FaultyProvider) -> None:
    # Two sync fetches at once: one held until its deadline, one healthy. Cutting the
    # first off must not touch the second's connection.
    faulty_idp.jwks.fail(Fault.TIMEOUT)
    results: list[Outcome] = []
    held = threading.Thread(target=lambda: results.append(fetch(faulty_idp.jwks_uri, POLICY)))
    held.start()
    try:
        assert faulty_idp.jwks.wait_until_held()
        for _ in range(20):
            outcome = fetch(faulty_idp.issuer + ".well-known/openid-configuration", POLICY)
            assert isinstance(outcome, Document)
            assert outcome.status == 200
    finally:
        held.join(BOUND)
    assert results == [FetchFailure("the provider did not answer in time")]
