"""Cancelling an async verification never cancels the key fetch others rely on (real sockets).

The refresher runs an async fetch as a task of its own, so the request that
happened to start it can be cancelled (a client disconnects, a server times the
request out) without taking the fetch down with it. Here the provider holds the
key-set request open, so the proof is on the wire: after the cancellation the
request is still open at the provider, and once answered, its keys serve
whoever waits and land in the cache.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bearerguard import AccessToken, KeySetUnavailableError, Verifier
from tests.support import Clock

from .conftest import HOLDING
from .server import Fault, FaultyProvider

WAIT = 15.0  # only ever reached if something hangs
SETTLE = 0.2  # time for a wrongly cancelled fetch to show up as a closed connection


async def held(idp: FaultyProvider, count: int = 1) -> None:
    assert await asyncio.to_thread(idp.jwks.wait_until_held, count, WAIT)


async def cached(verifier: Verifier, idp: FaultyProvider) -> None:
    """Wait until the key set is in the cache (the fetch task finishes on its own)."""
    cache = verifier._plan.cache
    for _ in range(int(WAIT / 0.01)):
        if cache.key_set(idp.jwks_uri) is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the key set never reached the cache")


def test_cancelling_the_task_that_started_a_fetch_does_not_cancel_the_fetch(
    faulty_idp: FaultyProvider, verifier_for: Any
) -> None:
    idp = faulty_idp
    verifier = verifier_for(idp, policy=HOLDING)
    idp.jwks.fail(Fault.TIMEOUT)

    async def scenario() -> AccessToken:
        starter = asyncio.create_task(verifier.averify(idp.token()))
        try:
            await held(idp)
            follower = asyncio.create_task(verifier.averify(idp.token()))
            await asyncio.sleep(0)  # the follower joins the fetch in flight

            starter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await starter
            await asyncio.sleep(SETTLE)
            assert idp.jwks.held == 1  # the request is still open at the provider
            assert not follower.done()
        finally:
            idp.jwks.fail(Fault.HEALTHY)  # the held request is answered now
        return await asyncio.wait_for(follower, WAIT)

    assert asyncio.run(scenario()).issuer == idp.issuer
    assert idp.jwks.hits == 1  # the follower got the fetch the cancelled task started
    idp.jwks.fail(Fault.REFUSED)  # from now on only the cache can answer
    assert verifier.verify(idp.token()).issuer == idp.issuer


def test_a_fetch_whose_only_caller_was_cancelled_still_fills_the_cache(
    faulty_idp: FaultyProvider, verifier_for: Any
) -> None:
    idp = faulty_idp
    verifier = verifier_for(idp, policy=HOLDING)
    idp.jwks.fail(Fault.TIMEOUT)

    async def scenario() -> None:
        only = asyncio.create_task(verifier.averify(idp.token()))
        try:
            await held(idp)
            only.cancel()
            with pytest.raises(asyncio.CancelledError):
                await only
            await asyncio.sleep(SETTLE)
            assert idp.jwks.held == 1
        finally:
            idp.jwks.fail(Fault.HEALTHY)
        await cached(verifier, idp)  # nobody waits, and the fetch completes all the same

    asyncio.run(scenario())
    idp.jwks.fail(Fault.REFUSED)
    assert verifier.verify(idp.token()).issuer == idp.issuer
    assert idp.jwks.hits == 1


def test_a_thread_waiting_on_a_task_led_fetch_gets_its_keys_when_the_task_is_cancelled(
    faulty_idp: FaultyProvider, verifier_for: Any
) -> None:
    idp = faulty_idp
    verifier = verifier_for(idp, policy=HOLDING)
    idp.jwks.fail(Fault.TIMEOUT)

    async def scenario(pool: ThreadPoolExecutor) -> AccessToken:
        starter = asyncio.create_task(verifier.averify(idp.token()))
        try:
            await held(idp)
            waiting = asyncio.wrap_future(pool.submit(verifier.verify, idp.token()))
            await asyncio.sleep(SETTLE)  # the thread joins the fetch in flight
            starter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await starter
            await asyncio.sleep(SETTLE)
            assert idp.jwks.held == 1
            assert not waiting.done()
        finally:
            idp.jwks.fail(Fault.HEALTHY)
        return await asyncio.wait_for(waiting, WAIT)

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert asyncio.run(scenario(pool)).issuer == idp.issuer
    assert idp.jwks.hits == 1


def test_an_event_loop_that_shuts_down_mid_fetch_releases_the_threads_waiting_on_it(
    faulty_idp: FaultyProvider, verifier_for: Any, clock: Clock
) -> None:
    # asyncio.run() cancels every task left when its coroutine returns, the refresher's
    # fetch task too: that fetch is abandoned (a failure, with its backoff), and a thread
    # waiting for it hears so at once instead of waiting out twice the fetch timeout.
    idp = faulty_idp
    verifier = verifier_for(idp, policy=HOLDING)
    idp.jwks.fail(Fault.TIMEOUT)

    async def start_and_leave(pool: ThreadPoolExecutor) -> Any:
        asyncio.create_task(verifier.averify(idp.token()))  # noqa: RUF006 - left to asyncio.run
        await held(idp)
        waiting = pool.submit(verifier.verify, idp.token())
        await asyncio.sleep(SETTLE)  # the thread joins the fetch in flight
        return waiting

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = asyncio.run(start_and_leave(pool))
        assert 2 * HOLDING.fetch_timeout > WAIT  # the limit after which a lead is taken over
        with pytest.raises(KeySetUnavailableError):
            waiting.result(WAIT)
    assert idp.jwks.wait_until_idle()  # the abandoned request was closed

    idp.jwks.fail(Fault.HEALTHY)
    clock.advance(HOLDING.failure_backoff)
    assert verifier.verify(idp.token()).issuer == idp.issuer
    assert idp.jwks.hits == 2
