"""While one issuer's key set hangs, nothing else waits on it.

Issuer A's cache is stale and its JWKS endpoint holds every request open (it
accepts, reads, never answers). One verification of A leads the refresh and
waits for it, as does a token whose kid is new (it may have been published by
the very rotation being fetched). Everything else is served meanwhile: A's
cached kids, and issuer B, whose discovery and key set are fetched cold over
the network while A's fetch is still held.

Ordering, not speed: the held fetch ends only when the test releases it (the
policy's fetch timeout is far longer than the test), so "served while A's fetch
was held" is checked by the provider's own count of held requests.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bearerguard import AccessToken
from tests.support import Clock

from .conftest import HOLDING, STALE
from .server import Fault, FaultyProvider

WAIT = 15.0  # only ever reached if something hangs
ROUNDS = 20


def stale_and_held(a: FaultyProvider, b: FaultyProvider, verifier_for: Any, clock: Clock) -> Any:
    """A verifier trusting A and B; A's keys are cached, then stale; A's JWKS now hangs."""
    verifier = verifier_for(a, b, policy=HOLDING)
    assert verifier.verify(a.token("k1")).issuer == a.issuer
    a.publish("k2")
    clock.advance(STALE)
    a.jwks.fail(Fault.TIMEOUT)
    return verifier


def test_threads_a_hanging_key_set_holds_up_only_who_needs_it(
    faulty_idp: FaultyProvider, second_idp: FaultyProvider, verifier_for: Any, clock: Clock
) -> None:
    a, b = faulty_idp, second_idp
    verifier = stale_and_held(a, b, verifier_for, clock)
    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            leader = pool.submit(verifier.verify, a.token("k1"))  # leads A's refresh
            assert a.jwks.wait_until_held(1, WAIT)
            newcomer = pool.submit(verifier.verify, a.token("k2"))  # joins that refresh

            for _ in range(ROUNDS):
                assert verifier.verify(a.token("k1")).issuer == a.issuer  # cached kid of A
                assert verifier.verify(b.token("k1")).issuer == b.issuer  # B: cold, then cached

            assert a.jwks.held == 1  # all of the above while A's one fetch was held
            assert not leader.done()
            assert not newcomer.done()
        finally:
            a.jwks.fail(Fault.HEALTHY)  # the held request is answered, with k1 and k2
        assert leader.result(WAIT).header["kid"] == "k1"
        assert newcomer.result(WAIT).header["kid"] == "k2"
    assert a.jwks.hits == 2  # the warm-up and the one held refresh: the newcomer joined it
    assert (b.discovery.hits, b.jwks.hits) == (1, 1)


def test_tasks_a_hanging_key_set_holds_up_only_who_needs_it(
    faulty_idp: FaultyProvider, second_idp: FaultyProvider, verifier_for: Any, clock: Clock
) -> None:
    a, b = faulty_idp, second_idp
    verifier = stale_and_held(a, b, verifier_for, clock)

    async def scenario() -> tuple[AccessToken, AccessToken]:
        leader = asyncio.create_task(verifier.averify(a.token("k1")))
        try:
            assert await asyncio.to_thread(a.jwks.wait_until_held, 1, WAIT)
            newcomer = asyncio.create_task(verifier.averify(a.token("k2")))

            for _ in range(ROUNDS):
                assert (await verifier.averify(a.token("k1"))).issuer == a.issuer
                assert (await verifier.averify(b.token("k1"))).issuer == b.issuer

            assert a.jwks.held == 1
            assert not leader.done()
            assert not newcomer.done()
        finally:
            a.jwks.fail(Fault.HEALTHY)
        return await asyncio.wait_for(leader, WAIT), await asyncio.wait_for(newcomer, WAIT)

    led, new = asyncio.run(scenario())
    assert (led.header["kid"], new.header["kid"]) == ("k1", "k2")
    assert a.jwks.hits == 2
    assert (b.discovery.hits, b.jwks.hits) == (1, 1)


def test_threads_and_tasks_share_the_held_fetch(
    faulty_idp: FaultyProvider, verifier_for: Any, clock: Clock
) -> None:
    # A thread leads the held refresh; a task with a new kid waits for the same fetch
    # without blocking its event loop, which keeps serving cached kids.
    a = faulty_idp
    verifier = verifier_for(a, policy=HOLDING)
    verifier.verify(a.token("k1"))
    a.publish("k2")
    clock.advance(STALE)
    a.jwks.fail(Fault.TIMEOUT)

    async def scenario() -> AccessToken:
        newcomer = asyncio.create_task(verifier.averify(a.token("k2")))
        for _ in range(ROUNDS):
            assert (await verifier.averify(a.token("k1"))).issuer == a.issuer
        assert not newcomer.done()
        assert a.jwks.held == 1
        a.jwks.fail(Fault.HEALTHY)
        return await asyncio.wait_for(newcomer, WAIT)

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            leader = pool.submit(verifier.verify, a.token("k1"))
            assert a.jwks.wait_until_held(1, WAIT)
            new = asyncio.run(scenario())
        finally:
            a.jwks.fail(Fault.HEALTHY)
        assert leader.result(WAIT).header["kid"] == "k1"
    assert new.header["kid"] == "k2"
    assert a.jwks.hits == 2
