"""Threads and tasks verify while the provider rotates its keys, over real sockets.

The provider publishes a new key at every step and retires the one before last,
as Auth0 and Okta do. Meanwhile six threads and four asyncio tasks verify, at
random, genuine tokens of every key (published, retired or not yet published),
tokens of kids that are never published, and forgeries naming published kids.

No wrong answer: a forgery or a never-published kid is never accepted, a
genuine token is accepted or refused as unknown, never anything else, and
nothing but a BearerError escapes. Each new key verifies within a few cooldowns
of its publication. And the key set is fetched no more often than the rules
allow: past the first (routine) fetch, only an unknown kid triggers one here
(the TTL is ten minutes), and those start at least a cooldown apart.

That test runs on the real monotonic clock: the cooldown is a fraction of a
second. Counting uses the verifier's own rules, never the machine's speed: a
slow machine makes fewer fetches, never more.

Then a key rotated in just after a routine fetch (the first one, or a refresh
past the TTL), on the injected clock with the default 30 s cooldown: a routine
fetch starts no cooldown, so the first token of the new key is accepted at the
cost of one fetch, and that fetch starts the cooldown that keeps a flood of
random kids down to one fetch per cooldown.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    CachePolicy,
    InvalidSignatureError,
    UnknownKeyError,
    Verifier,
)
from tests.support import Clock

from .conftest import STALE
from .server import FaultyProvider

COOLDOWN = 0.1
POLICY = CachePolicy(ttl=600, min_ttl=1, unknown_kid_cooldown=COOLDOWN, fetch_timeout=2.0)
STEPS = 8
THREADS, TASKS = 6, 4
WAIT = 15.0  # only ever reached if something hangs


class Ledger:
    """Every verification's (kind, kid, outcome), from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[tuple[str, str, object]] = []

    def record(self, kind: str, kid: str, outcome: object) -> None:
        with self.lock:
            self.entries.append((kind, kid, outcome))

    def outcomes(self, kind: str) -> list[tuple[str, object]]:
        with self.lock:
            return [(kid, outcome) for k, kid, outcome in self.entries if k == kind]


def test_under_concurrent_rotation_no_token_is_misjudged_and_fetches_keep_the_cooldown(
    faulty_idp: FaultyProvider, verifier_for: Callable[..., Any]
) -> None:
    idp = faulty_idp
    verifier = verifier_for(idp, policy=POLICY, monotonic=time.monotonic)
    kids = ["k1"] + [f"r{step}" for step in range(STEPS + 1)]
    tokens: list[tuple[str, str, str]] = [("genuine", kid, idp.token(kid)) for kid in kids]
    tokens += [("ghost", f"ghost{i}", idp.token(f"ghost{i}")) for i in range(4)]
    tokens += [("forged", kid, idp.forged(kid)) for kid in kids]
    ledger = Ledger()
    stop = threading.Event()

    def verify_one(rng: random.Random) -> None:
        kind, kid, token = rng.choice(tokens)
        try:
            ledger.record(kind, kid, verifier.verify(token))
        except BaseException as exc:  # whatever escapes is what this test is about
            ledger.record(kind, kid, exc)

    async def averify_one(rng: random.Random) -> None:
        kind, kid, token = rng.choice(tokens)
        try:
            ledger.record(kind, kid, await verifier.averify(token))
        except BaseException as exc:
            ledger.record(kind, kid, exc)

    def thread_worker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            verify_one(rng)

    async def task_worker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            await averify_one(rng)
            await asyncio.sleep(0)

    async def task_workers() -> None:
        await asyncio.gather(*(task_worker(100 + i) for i in range(TASKS)))

    idp.publish("r0")
    started = time.monotonic()
    assert verifier.verify(idp.token("r0")).header["kid"] == "r0"  # warm: one fetch
    workers = [threading.Thread(target=thread_worker, args=(i,)) for i in range(THREADS)]
    workers.append(threading.Thread(target=lambda: asyncio.run(task_workers())))
    for worker in workers:
        worker.start()
    try:
        for step in range(1, STEPS + 1):
            new = f"r{step}"
            idp.publish(new)
            idp.retire("k1" if step == 1 else f"r{step - 2}")
            assert verifies_soon(verifier, idp.token(new)), f"{new} was published but refused"
            time.sleep(COOLDOWN)  # let the workers see this window for a while
    finally:
        stop.set()
        for worker in workers:
            worker.join(WAIT)
    elapsed = time.monotonic() - started
    assert not any(worker.is_alive() for worker in workers)

    everything = [outcome for _, _, outcome in ledger.entries]
    assert not [o for o in everything if not isinstance(o, AccessToken | BearerError)]
    genuine = ledger.outcomes("genuine")
    assert {type(o) for _, o in genuine} <= {AccessToken, UnknownKeyError}
    accepted = [(kid, o) for kid, o in genuine if isinstance(o, AccessToken)]
    assert accepted, "no genuine token was ever accepted"
    assert all(o.header["kid"] == kid for kid, o in accepted)
    assert {type(o) for _, o in ledger.outcomes("ghost")} == {UnknownKeyError}
    assert {type(o) for _, o in ledger.outcomes("forged")} <= {
        InvalidSignatureError,
        UnknownKeyError,
    }

    # One fetch to warm up, then one per step at least (each new key was seen, so a
    # fetch started after its publication); at most one per cooldown after the first.
    assert idp.discovery.hits == 1
    assert 1 + STEPS <= idp.jwks.hits <= 2 + elapsed / COOLDOWN


def verifies_soon(verifier: Verifier, token: str) -> bool:
    """Whether ``token`` verifies within a few cooldowns.

    An attempt may join a fetch that started just before the key was published;
    the next, a cooldown later, starts (or joins) one that started after it.
    """
    for _ in range(5):
        outcome = outcome_of(verifier, token)
        if isinstance(outcome, AccessToken):
            return True
        assert isinstance(outcome, UnknownKeyError), outcome
        time.sleep(COOLDOWN)
    return False


def outcome_of(verifier: Verifier, token: str) -> AccessToken | BearerError:
    try:
        return verifier.verify(token)
    except BearerError as exc:
        return exc


# --- a key rotated in just after a routine fetch ---------------------------------------------

FLOOD = 2000  # tokens of random kids, each never published
FLOOD_THREADS = 8


def flood(verifier: Verifier, tokens: Sequence[str]) -> set[type[BaseException]]:
    """Verify half of ``tokens`` from threads and half from asyncio tasks; the error types."""
    half = len(tokens) // 2

    def attempt(token: str) -> type[BaseException] | None:
        try:
            verifier.verify(token)
        except BearerError as exc:
            return type(exc)
        return None

    async def aattempt(token: str) -> type[BaseException] | None:
        try:
            await verifier.averify(token)
        except BearerError as exc:
            return type(exc)
        return None

    async def tasks() -> list[type[BaseException] | None]:
        return list(await asyncio.gather(*(aattempt(t) for t in tokens[half:])))

    with ThreadPoolExecutor(FLOOD_THREADS) as pool:
        from_threads = pool.map(attempt, tokens[:half])
        from_tasks = asyncio.run(tasks())
        outcomes = [*from_threads, *from_tasks]
    assert len(outcomes) == len(tokens)
    assert None not in outcomes, "a token of a never-published kid was accepted"
    return {o for o in outcomes if o is not None}


@pytest.mark.parametrize("routine", ["first fetch", "TTL refresh"])
def test_a_key_rotated_in_just_after_a_routine_fetch_is_accepted_on_its_first_request(
    faulty_idp: FaultyProvider,
    verifier_for: Callable[..., Verifier],
    clock: Clock,
    verify: Callable[[Verifier, str], AccessToken],
    routine: str,
) -> None:
    idp = faulty_idp
    verifier = verifier_for(idp)  # the default 30 s cooldown, on the injected clock
    assert verify(verifier, idp.token("k1")).header["kid"] == "k1"  # the first fetch
    fetched = discovered = 1
    if routine == "TTL refresh":
        clock.advance(STALE)  # past the key set's max-age and the discovery TTL alike
        assert verify(verifier, idp.token("k1")).header["kid"] == "k1"  # refreshed on use
        fetched, discovered = 2, 2
    assert (idp.discovery.hits, idp.jwks.hits) == (discovered, fetched)

    clock.advance(1)
    idp.publish("k2")  # the provider rotates a second after that routine fetch
    assert verify(verifier, idp.token("k2")).header["kid"] == "k2"  # its first request
    assert idp.jwks.hits == fetched + 1  # at the cost of exactly one fetch
    assert verify(verifier, idp.token("k1")).header["kid"] == "k1"  # k1 still served
    assert idp.jwks.hits == fetched + 1

    # That fetch started the cooldown: a flood of random kids within it fetches nothing ...
    ghosts = [idp.stranger(f"{random.getrandbits(64):016x}") for _ in range(FLOOD)]
    clock.advance(29)
    assert flood(verifier, ghosts) == {UnknownKeyError}
    assert idp.jwks.hits == fetched + 1
    # ... and once it is over, the next flood fetches once more, at most.
    clock.advance(1)
    assert flood(verifier, ghosts) == {UnknownKeyError}
    assert idp.jwks.hits <= fetched + 2
    assert idp.discovery.hits == discovered
    assert verify(verifier, idp.token("k2")).header["kid"] == "k2"
