"""Single flight across threads and asyncio tasks, failure handling, cancellation, isolation.

Fetch counts are exact and do not depend on timing: delays and gates only make the
callers overlap, so that a missing single flight would show up as extra fetches.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    CachePolicy,
    ExpiredTokenError,
    ImmatureTokenError,
    KeySetUnavailableError,
    UnknownKeyError,
    Verifier,
)

from .support import (
    AUDIENCE,
    ISSUER,
    NOW,
    Clock,
    Provider,
    Providers,
    b64url,
    claims,
    ec_key,
    encode_part,
    rsa_key,
    sign_token,
)

DISCOVERY = "/.well-known/openid-configuration"
TENANT_B = "https://tenant-b.auth0.com/"
CALLERS = 200
WAIT = 10.0  # seconds: only ever reached if something hangs


class Arrivals:
    """Counts callers that are about to verify; fetches wait (bounded) until all are there."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.lock = threading.Lock()
        self.all_here = threading.Event()

    def arrive(self) -> None:
        with self.lock:
            self.count += 1
            if self.count >= self.expected:
                self.all_here.set()

    def transports(self, provider: Provider) -> dict[str, Any]:
        """Provider transports whose responses wait for every caller to have arrived."""

        def handle(request: httpx.Request) -> httpx.Response:
            self.all_here.wait(WAIT)
            return provider.handle(request)

        async def ahandle(request: httpx.Request) -> httpx.Response:
            await asyncio.to_thread(self.all_here.wait, WAIT)
            return await provider.ahandle(request)

        return {
            "transport": httpx.MockTransport(handle),
            "async_transport": httpx.MockTransport(ahandle),
        }


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` on ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count, timeout=WAIT)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    return results


async def eventually(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    """Yield to the event loop until ``condition()`` holds or ``seconds`` pass."""
    for _ in range(int(seconds * 1000)):
        if condition():
            return
        await asyncio.sleep(0.001)


async def in_tasks(count: int, work: Callable[[int], Awaitable[Any]]) -> list[Any]:
    return await asyncio.gather(*(work(i) for i in range(count)), return_exceptions=True)


def fake_signed(kid: str, alg: str = "RS256", size: int = 256) -> str:
    """A token for ``kid`` with a well-formed but meaningless signature (the key is never found)."""
    header = encode_part({"alg": alg, "typ": "JWT", "kid": kid})
    return f"{header}.{encode_part(claims())}.{b64url(bytes(size))}"


# --- single flight on a cold cache -------------------------------------------------------------


def test_200_threads_on_a_cold_cache_make_one_discovery_and_one_jwks_fetch(
    make_verifier, provider
) -> None:
    provider.delay = 0.05
    arrivals = Arrivals(CALLERS)
    verifier = make_verifier(**arrivals.transports(provider))
    raw = provider.token()

    def work(index: int) -> AccessToken:
        arrivals.arrive()
        return verifier.verify(raw)

    results = in_threads(CALLERS, work)
    assert all(isinstance(r, AccessToken) and r.subject == "auth0|123" for r in results), {
        type(r).__name__ for r in results
    }
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1


def test_200_tasks_on_a_cold_cache_make_one_discovery_and_one_jwks_fetch(
    make_verifier, provider
) -> None:
    provider.delay = 0.05
    arrivals = Arrivals(CALLERS)
    verifier = make_verifier(**arrivals.transports(provider))
    raw = provider.token()

    async def work(index: int) -> AccessToken:
        arrivals.arrive()
        return await verifier.averify(raw)

    results = asyncio.run(in_tasks(CALLERS, work))
    assert all(isinstance(r, AccessToken) for r in results), {type(r).__name__ for r in results}
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1


def test_threads_and_tasks_at_once_share_one_fetch(make_verifier, provider) -> None:
    provider.delay = 0.05
    threads, tasks = 100, 100
    arrivals = Arrivals(threads + tasks)
    verifier = make_verifier(**arrivals.transports(provider))
    raw = provider.token()

    async def one_task(index: int) -> AccessToken:
        arrivals.arrive()
        return await verifier.averify(raw)

    def work(index: int) -> Any:
        if index == threads:  # one extra thread runs the event loop with all the tasks
            return asyncio.run(in_tasks(tasks, one_task))
        arrivals.arrive()
        return verifier.verify(raw)

    outcome = in_threads(threads + 1, work)
    from_tasks = outcome.pop()
    results = outcome + list(from_tasks)
    assert len(results) == threads + tasks
    assert all(isinstance(r, AccessToken) for r in results), {type(r).__name__ for r in results}
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1


def test_at_ttl_expiry_concurrent_callers_refresh_once(make_verifier, provider, clock) -> None:
    verifier = make_verifier()
    raw = provider.token()
    verifier.verify(raw)
    clock.advance(601)  # the key set (max-age=600) is stale now
    provider.delay = 0.05
    results = in_threads(CALLERS, lambda i: verifier.verify(raw))
    assert all(isinstance(r, AccessToken) for r in results)
    assert provider.jwks_hits == 2
    assert provider.hits[DISCOVERY] == 1  # discovery is fresh for a day


# --- failures are shared, and not cached ----------------------------------------------------------


def _assert_all_unavailable(results: list[Any]) -> None:
    assert all(isinstance(r, KeySetUnavailableError) for r in results), {
        type(r).__name__ for r in results
    }
    for exc in results:
        assert exc.status_code == 503
        assert int(exc.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("mode", ["threads", "tasks"])
def test_concurrent_callers_all_get_503_when_the_fetch_fails_and_the_failure_is_not_kept(
    mode, make_verifier, provider, clock
) -> None:
    provider.delay = 0.05
    provider.override[DISCOVERY] = lambda request: httpx.Response(503)
    arrivals = Arrivals(CALLERS)
    verifier = make_verifier(**arrivals.transports(provider))
    raw = provider.token()

    if mode == "threads":

        def work(index: int) -> AccessToken:
            arrivals.arrive()
            return verifier.verify(raw)

        results = in_threads(CALLERS, work)
    else:

        async def awork(index: int) -> AccessToken:
            arrivals.arrive()
            return await verifier.averify(raw)

        results = asyncio.run(in_tasks(CALLERS, awork))
    _assert_all_unavailable(results)
    assert provider.hits[DISCOVERY] == 1  # one shared attempt, not one per caller

    # Within the backoff nobody hammers the provider...
    with pytest.raises(KeySetUnavailableError):
        verifier.verify(raw)
    assert provider.hits[DISCOVERY] == 1

    # ...and once it has passed, the next call tries again: the failure was not cached.
    del provider.override[DISCOVERY]
    clock.advance(CachePolicy().failure_backoff)
    assert verifier.verify(raw).subject == "auth0|123"
    assert provider.hits[DISCOVERY] == 2
    assert provider.jwks_hits == 1


# --- cancellation ----------------------------------------------------------------------


class HeldJwks:
    """An async transport whose JWKS responses are held until ``release`` is set."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.requested = asyncio.Event()
        self.release = asyncio.Event()
        self.answered = asyncio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != httpx.URL(self.provider.jwks_uri).path:
            return await self.provider.ahandle(request)
        self.requested.set()
        await asyncio.wait_for(self.release.wait(), WAIT)
        response = await self.provider.ahandle(request)
        self.answered.set()
        return response


def test_cancelling_the_caller_that_started_a_fetch_does_not_cancel_it(
    make_verifier, provider
) -> None:
    raw = provider.token()

    async def scenario() -> tuple[Verifier, AccessToken]:
        held = HeldJwks(provider)
        verifier = make_verifier(async_transport=httpx.MockTransport(held.handle))
        first = asyncio.create_task(verifier.averify(raw))
        await asyncio.wait_for(held.requested.wait(), WAIT)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first

        second = asyncio.create_task(verifier.averify(raw))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not second.done()  # waiting for the fetch the cancelled caller started
        held.release.set()
        token = await asyncio.wait_for(second, WAIT)
        assert held.answered.is_set()
        return verifier, token

    verifier, token = asyncio.run(scenario())
    assert token.subject == "auth0|123"
    assert provider.jwks_hits == 1  # the second caller joined the first fetch
    assert verifier._plan.cache.key_set(provider.jwks_uri) is not None
    verifier.verify(raw)
    assert provider.jwks_hits == 1


def test_a_cancelled_fetch_lands_in_the_cache_even_with_nobody_waiting(
    make_verifier, provider
) -> None:
    raw = provider.token()

    async def scenario() -> Verifier:
        held = HeldJwks(provider)
        verifier = make_verifier(async_transport=httpx.MockTransport(held.handle))
        first = asyncio.create_task(verifier.averify(raw))
        await asyncio.wait_for(held.requested.wait(), WAIT)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        held.release.set()
        cache = verifier._plan.cache
        await eventually(lambda: cache.key_set(provider.jwks_uri) is not None)
        assert held.answered.is_set()
        assert cache.key_set(provider.jwks_uri) is not None, "the fetch died with its caller"
        return verifier

    verifier = asyncio.run(scenario())
    assert verifier.verify(raw).subject == "auth0|123"
    assert asyncio.run(verifier.averify(raw)).subject == "auth0|123"
    assert provider.hits[DISCOVERY] == 1
    assert provider.jwks_hits == 1


# --- T85: unknown kids never amplify ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["threads", "tasks"])
def test_T85_1000_random_unknown_kids_refetch_at_most_once_per_cooldown(
    mode, make_verifier, provider, clock
) -> None:
    verifier = make_verifier()
    verifier.verify(provider.token())
    assert provider.jwks_hits == 1
    clock.advance(CachePolicy().unknown_kid_cooldown + 1)  # the keys are still fresh
    provider.delay = 0.02  # the refetch overlaps many of the misses
    rng = random.Random(85)
    tokens = [fake_signed(f"{rng.getrandbits(64):016x}") for _ in range(1000)]

    def attempt(raw: str) -> Any:
        try:
            return verifier.verify(raw)
        except BearerError as exc:
            return exc

    if mode == "threads":
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(attempt, tokens))
    else:

        async def aattempt(index: int) -> AccessToken:
            return await verifier.averify(tokens[index])

        results = asyncio.run(in_tasks(len(tokens), aattempt))
    assert all(type(r) is UnknownKeyError for r in results), {type(r).__name__ for r in results}
    assert all(r.status_code == 401 for r in results)
    assert provider.jwks_hits == 2  # exactly one refetch for the whole burst

    # Still within the new cooldown: another burst fetches nothing.
    for raw in tokens[:100]:
        with pytest.raises(UnknownKeyError):
            verifier.verify(raw)
    assert provider.jwks_hits == 2
    assert verifier.verify(provider.token()).subject == "auth0|123"


# --- one issuer's slow fetch never holds up another ----------------------------------------------


def test_a_slow_fetch_for_issuer_b_does_not_hold_up_issuer_a_threads(make_verifier, provider):
    tenant_b = Provider(issuer=TENANT_B, keys={"k1": ("RS256", rsa_key(1))})
    routes = Providers(provider, tenant_b)
    b_in_flight, release_b, b_answered = threading.Event(), threading.Event(), threading.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host != tenant_b.host:
            return routes.handle(request)
        b_in_flight.set()
        release_b.wait(WAIT)
        response = routes.handle(request)
        b_answered.set()
        return response

    verifier = make_verifier(issuer=[ISSUER, TENANT_B], transport=httpx.MockTransport(handle))
    b_result: list[Any] = []
    b_thread = threading.Thread(target=lambda: b_result.append(verifier.verify(tenant_b.token())))
    b_thread.start()
    try:
        assert b_in_flight.wait(WAIT)
        # Issuer A, cold: its own discovery and key set are fetched meanwhile...
        assert verifier.verify(provider.token()).issuer == ISSUER
        # ...and then served from the cache, many times, all while B's fetch is pending.
        for _ in range(50):
            assert verifier.verify(provider.token()).issuer == ISSUER
        assert not b_answered.is_set()
        assert b_thread.is_alive()
    finally:
        release_b.set()
        b_thread.join(WAIT)
    assert [t.issuer for t in b_result] == [TENANT_B]
    assert provider.jwks_hits == 1
    assert tenant_b.jwks_hits == 1


def test_a_slow_fetch_for_issuer_b_does_not_hold_up_issuer_a_tasks(make_verifier, provider):
    tenant_b = Provider(issuer=TENANT_B, keys={"k1": ("RS256", rsa_key(1))})
    routes = Providers(provider, tenant_b)

    async def scenario() -> AccessToken:
        b_in_flight, release_b = asyncio.Event(), asyncio.Event()

        async def handle(request: httpx.Request) -> httpx.Response:
            if request.url.host == tenant_b.host:
                b_in_flight.set()
                await asyncio.wait_for(release_b.wait(), WAIT)
            return await routes.ahandle(request)

        verifier = make_verifier(
            issuer=[ISSUER, TENANT_B], async_transport=httpx.MockTransport(handle)
        )
        b_task = asyncio.create_task(verifier.averify(tenant_b.token()))
        await asyncio.wait_for(b_in_flight.wait(), WAIT)
        for _ in range(50):
            assert (await verifier.averify(provider.token())).issuer == ISSUER
        assert not b_task.done()
        release_b.set()
        return await asyncio.wait_for(b_task, WAIT)

    assert asyncio.run(scenario()).issuer == TENANT_B
    assert provider.jwks_hits == 1
    assert tenant_b.jwks_hits == 1


# --- rotation under load ---------------------------------------------------------------


def test_concurrent_rotation_and_clock_jumps_only_ever_raise_bearer_errors() -> None:
    clock = Clock()
    all_keys = {f"e{i}": ("ES256", ec_key("P-256", i)) for i in range(5)}
    provider = Provider(keys={k: all_keys[k] for k in ("e0", "e1")}, cache_control=None)
    provider.delay = 0.001
    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["ES256"],
        cache=CachePolicy(ttl=60, min_ttl=1, unknown_kid_cooldown=5, stale_if_error=120),
        transport=provider.transport(),
        async_transport=provider.async_transport(),
        clock=clock.time,
        monotonic=clock.monotonic,
    )
    long_lived = {
        kid: sign_token({"alg": alg, "typ": "JWT", "kid": kid}, claims(exp=NOW + 10**7), key)
        for kid, (alg, key) in all_keys.items()
    }
    tokens = [
        *long_lived.values(),
        provider.token(kid="e0"),
        fake_signed("never-published", "ES256", 64),
    ]
    stop = threading.Event()
    outcomes: list[Any] = []
    lock = threading.Lock()

    def record(outcome: Any) -> None:
        with lock:
            outcomes.append(outcome)

    def attempt(raw: str) -> None:
        try:
            record(verifier.verify(raw))
        except BaseException as exc:  # whatever escapes is what this test is about
            record(exc)

    async def aattempt(raw: str) -> None:
        try:
            record(await verifier.averify(raw))
        except BaseException as exc:
            record(exc)

    def sync_worker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            attempt(rng.choice(tokens))

    async def async_worker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            await aattempt(rng.choice(tokens))
            await asyncio.sleep(0)

    async def async_workers() -> None:
        await asyncio.gather(*(async_worker(100 + i) for i in range(4)))

    workers = [threading.Thread(target=sync_worker, args=(i,)) for i in range(6)]
    workers.append(threading.Thread(target=lambda: asyncio.run(async_workers())))
    for worker in workers:
        worker.start()
    # The chaos starts once the workers verify: on a loaded machine they may start late,
    # and a run that only ever saw the clock in a bad state would prove nothing.
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not any(isinstance(o, AccessToken) for o in outcomes):
        time.sleep(0.005)
    rng = random.Random(95)
    kids = sorted(all_keys)
    jwks_path = httpx.URL(provider.jwks_uri).path

    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    try:
        for step in range(80):
            window = kids[step % 4 : step % 4 + 2]
            provider.keys = {kid: all_keys[kid] for kid in window}  # replaced whole
            provider.override = {jwks_path: failing} if step % 9 == 4 else {}
            jump = rng.choice([0.5, 6.0, 61.0, 3600.0, -3600.0])
            if jump > 0:
                clock.advance(jump)
            else:
                clock.now += jump  # the wall clock may jump back; monotonic time never does
            time.sleep(0.002)
    finally:
        stop.set()
        for worker in workers:
            worker.join(WAIT)
    assert not any(worker.is_alive() for worker in workers)

    unexpected = [o for o in outcomes if not isinstance(o, AccessToken | BearerError)]
    assert not unexpected, unexpected[:3]
    kinds = {type(o) for o in outcomes}
    assert AccessToken in kinds
    # Each kid has exactly one key: a rotation may make a key unknown, never wrong;
    # a wall clock jumping back makes iat lie in the future.
    assert kinds <= {
        AccessToken,
        UnknownKeyError,
        KeySetUnavailableError,
        ExpiredTokenError,
        ImmatureTokenError,
    }

    # Afterwards, with a healthy provider, the current keys verify again.
    provider.override = {}
    clock.now = NOW + 60
    clock.mono += 3600  # past the TTL, the backoff and the cooldown
    current = next(iter(provider.keys))
    assert verifier.verify(long_lived[current]).header["kid"] == current


# --- cancellation, continued: waiters, event loops that go away, hard deadlines ----------------


def test_cancelling_a_caller_that_only_waits_leaves_the_fetch_and_the_others_alone(
    make_verifier, provider
) -> None:
    raw = provider.token()

    async def scenario() -> list[AccessToken]:
        held = HeldJwks(provider)
        verifier = make_verifier(async_transport=httpx.MockTransport(held.handle))
        leader = asyncio.create_task(verifier.averify(raw))
        await asyncio.wait_for(held.requested.wait(), WAIT)
        quitter, stayer = (asyncio.create_task(verifier.averify(raw)) for _ in range(2))
        for _ in range(10):
            await asyncio.sleep(0)
        quitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await quitter
        assert not leader.done()
        assert not stayer.done()
        held.release.set()
        return [await asyncio.wait_for(task, WAIT) for task in (leader, stayer)]

    tokens = asyncio.run(scenario())
    assert [t.subject for t in tokens] == ["auth0|123", "auth0|123"]
    assert provider.jwks_hits == 1


def test_an_event_loop_shutting_down_mid_fetch_releases_the_threads_waiting_on_it(
    make_verifier, provider, clock
) -> None:
    # asyncio.run() cancels the tasks left when its coroutine returns, the refresher's
    # fetch among them. The fetch is abandoned (a failure, with its backoff) and the
    # threads waiting for it hear so at once, not after twice the fetch timeout.
    policy = CachePolicy(fetch_timeout=20)
    raw = provider.token()
    held = HeldJwks(provider)  # never released: only the shutdown ends this fetch
    verifier = make_verifier(cache=policy, async_transport=httpx.MockTransport(held.handle))

    async def lead_then_leave(pool: ThreadPoolExecutor) -> Any:
        asyncio.create_task(verifier.averify(raw))  # noqa: RUF006 - left to asyncio.run
        await asyncio.wait_for(held.requested.wait(), WAIT)
        waiting = pool.submit(verifier.verify, raw)
        await asyncio.sleep(0.1)  # the thread joins the fetch in flight
        return waiting

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = asyncio.run(lead_then_leave(pool))
        assert 2 * policy.fetch_timeout > WAIT  # the limit after which a lead is taken over
        with pytest.raises(KeySetUnavailableError):
            waiting.result(WAIT)
    assert not held.answered.is_set()
    clock.advance(policy.failure_backoff)
    assert verifier.verify(raw).subject == "auth0|123"  # fetched again, by the thread's driver
    assert provider.jwks_hits == 1  # the held request never got as far as the provider


def test_threads_on_a_cold_cache_get_503_at_the_deadline_while_the_provider_never_answers(
    make_verifier, provider
) -> None:
    # The fetch deadline is total for sync fetches too: a transport that blocks (as a
    # provider dripping its headers does) holds up neither the lead nor the waiters.
    policy = CachePolicy(fetch_timeout=0.2)
    release = threading.Event()
    asked: list[str] = []

    def silent(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        release.wait(WAIT)  # bounded: a regression fails the test instead of hanging it
        return provider.handle(request)

    verifier = make_verifier(cache=policy, transport=httpx.MockTransport(silent))
    raw = provider.token()
    started = time.monotonic()
    try:
        results = in_threads(50, lambda i: verifier.verify(raw))
        elapsed = time.monotonic() - started
    finally:
        release.set()
    _assert_all_unavailable(results)
    assert elapsed < WAIT / 2
    assert asked == [DISCOVERY]  # one attempt for all fifty
