"""The DPoP replay store: a proof's ``jti`` is accepted once, and no fullness lets a replay in.

A key is what the verifier builds from a proof's ``jti``; ``expires_at`` is derived
from the proof (its ``iat`` plus the accepted age), so a replayed proof comes back
with the same key *and* the same ``expires_at``. That pair is what the properties
below track: whatever the capacity and whatever the clock does, a pair accepted
once is never accepted again.
"""

from __future__ import annotations

import asyncio
import math
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bearerguard import ConfigurationError
from bearerguard._replay import MemoryReplayStore, ReplayStore, ReplayStoreUnavailable

NOW = 1_700_000_000.0
WINDOW = 300.0


@pytest.fixture
def store() -> MemoryReplayStore:
    return MemoryReplayStore()


class TestOnce:
    def test_a_new_key_is_accepted_once_then_refused(self, store):
        assert store.remember("k", NOW + WINDOW, NOW) is True
        assert store.remember("k", NOW + WINDOW, NOW) is False
        assert store.remember("k", NOW + WINDOW, NOW + 1) is False

    def test_keys_are_independent(self, store):
        assert store.remember("a", NOW + WINDOW, NOW)
        assert store.remember("b", NOW + WINDOW, NOW)
        assert not store.remember("a", NOW + WINDOW, NOW)
        assert len(store) == 2

    def test_a_replay_is_refused_for_as_long_as_its_window_lasts(self, store):
        assert store.remember("k", NOW + WINDOW, NOW)
        for later in (0.001, 1, WINDOW / 2, WINDOW - 0.001):
            assert not store.remember("k", NOW + WINDOW, NOW + later)

    def test_after_its_expiry_a_key_may_be_accepted_again(self, store):
        assert store.remember("k", NOW + WINDOW, NOW)
        # At expires_at the window is closed: the key is forgotten, a new window opens.
        assert store.remember("k", NOW + 2 * WINDOW, NOW + WINDOW)
        assert not store.remember("k", NOW + 2 * WINDOW, NOW + WINDOW + 1)

    def test_the_same_key_with_a_later_window_is_refused_while_the_first_lasts(self, store):
        assert store.remember("k", NOW + WINDOW, NOW)
        assert not store.remember("k", NOW + WINDOW + 60, NOW + 10)

    def test_a_window_already_closed_is_never_recorded(self, store):
        assert not store.remember("k", NOW, NOW)
        assert not store.remember("k", NOW - 1, NOW)
        assert len(store) == 0

    @pytest.mark.parametrize(
        ("expires_at", "now"),
        [(math.inf, NOW), (math.nan, NOW), (NOW + WINDOW, math.nan), (-math.inf, NOW)],
    )
    def test_windows_that_never_close_or_make_no_sense_are_refused(self, store, expires_at, now):
        assert store.remember("k", expires_at, now) is False
        assert len(store) == 0
        assert store.remember("k", NOW + WINDOW, NOW)  # nothing was spoiled

    def test_a_key_is_kept_until_the_next_whole_second_never_less(self, store):
        assert store.remember("k", NOW + 10.2, NOW)
        assert not store.remember("k", NOW + 20, NOW + 10.5)  # past 10.2, kept until 11
        assert store.remember("k", NOW + 20, NOW + 11)

    def test_a_clock_set_back_does_not_bring_a_forgotten_key_back(self, store):
        assert store.remember("k", NOW + 10, NOW)
        assert store.remember("other", NOW + 100, NOW + 50)  # purges k
        # The clock steps back to when k's window was open: the same proof is refused, as is
        # any key whose window the latest clock reading had already closed.
        assert not store.remember("k", NOW + 10, NOW + 5)
        assert not store.remember("never-seen", NOW + 40, NOW + 5)
        assert store.remember("fresh", NOW + 60, NOW + 5)

    @pytest.mark.parametrize(
        "key", ["", " ", "dpop:" + "A" * 43, "é\x00\U0001f600", "k" * 10_000, "1.5", "None"]
    )
    def test_keys_are_opaque_strings(self, store, key):
        assert store.remember(key, NOW + WINDOW, NOW)
        assert not store.remember(key, NOW + WINDOW, NOW)

    def test_integer_times_work_as_floats_do(self, store):
        assert store.remember("k", 1_700_000_300, 1_700_000_000)
        assert not store.remember("k", 1_700_000_300, 1_700_000_001)
        assert store.remember("k", 1_700_000_600, 1_700_000_300)


class TestAFullStore:
    def test_evicts_the_key_that_expires_first_and_raises_the_horizon_to_its_expiry(self):
        store = MemoryReplayStore(max_entries=3)
        for key, ttl in (("b", 20), ("a", 10), ("c", 30)):
            assert store.remember(key, NOW + ttl, NOW)
        assert store.horizon == -math.inf
        assert store.remember("d", NOW + 40, NOW)
        assert len(store) == 3
        assert store.horizon == NOW + 10
        # "a" is forgotten, yet its replay is refused: its window ends at the horizon.
        assert not store.remember("a", NOW + 10, NOW + 1)
        assert not store.remember("b", NOW + 20, NOW + 1)  # still remembered

    def test_keys_expiring_at_or_before_the_horizon_are_refused_even_if_new(self):
        store = MemoryReplayStore(max_entries=1)
        assert store.remember("a", NOW + 10, NOW)
        assert store.remember("b", NOW + 20, NOW)
        assert store.horizon == NOW + 10
        assert not store.remember("new", NOW + 10, NOW)
        assert not store.remember("new", NOW + 5, NOW)
        assert store.remember("new", NOW + 30, NOW)

    def test_a_new_key_that_would_be_the_first_to_go_is_refused_and_nothing_is_evicted(self):
        store = MemoryReplayStore(max_entries=2)
        assert store.remember("a", NOW + 10, NOW)
        assert store.remember("b", NOW + 20, NOW)
        assert not store.remember("short", NOW + 5, NOW)
        assert not store.remember("tied", NOW + 10, NOW)
        assert store.horizon == -math.inf
        assert not store.remember("a", NOW + 10, NOW)  # still held, not just covered

    def test_keys_expiring_in_the_same_second_leave_together(self):
        store = MemoryReplayStore(max_entries=3)
        assert store.remember("a1", NOW + 10, NOW)
        assert store.remember("a2", NOW + 9.5, NOW)  # kept until NOW + 10 as well
        assert store.remember("b", NOW + 20, NOW)
        assert store.remember("c", NOW + 30, NOW)
        assert len(store) == 2
        assert store.horizon == NOW + 10

    def test_expired_keys_make_room_without_raising_the_horizon(self):
        store = MemoryReplayStore(max_entries=2)
        assert store.remember("a", NOW + 10, NOW)
        assert store.remember("b", NOW + 20, NOW)
        assert store.remember("c", NOW + 50, NOW + 15)
        assert store.horizon == -math.inf
        assert len(store) == 2

    def test_the_horizon_never_goes_down(self):
        store = MemoryReplayStore(max_entries=2)
        seen = [store.horizon]
        for i in range(50):
            store.remember(f"k{i}", NOW + 10 + (i * 7) % 30, NOW + i / 10)
            seen.append(store.horizon)
        store.remember("late", NOW + 10_000, NOW + 5_000)  # everything else has expired
        seen.append(store.horizon)
        assert seen == sorted(seen)
        assert seen[-1] > -math.inf

    def test_a_store_of_one_key_still_refuses_every_replay(self):
        store = MemoryReplayStore(max_entries=1)
        proofs = [(f"k{i}", NOW + 10 + i) for i in range(20)]
        for key, expires_at in proofs:
            assert store.remember(key, expires_at, NOW)
        assert all(not store.remember(key, exp, NOW + 1) for key, exp in proofs)


def presentations(*, clock_goes_back: bool) -> st.SearchStrategy[list[tuple[str, float, float]]]:
    """(key, expires_at, now): new proofs and replays of earlier ones, as time passes.

    A new proof reuses one of a few jtis (a client may reuse one in a later proof, with
    another window) and is accepted for 1 to 60 seconds, from a whole second (as proofs
    with whole-second ``iat`` are) or not; a replay presents an earlier proof again.
    """
    event = st.tuples(
        st.integers(0, 5),  # the jti of a new proof
        st.sampled_from(["replay", "new, whole second", "new"]),
        st.one_of(st.integers(1, 60), st.floats(0.5, 60)),  # a new proof's window
        st.floats(-3 if clock_goes_back else 0, 5),  # then the clock moves on
    )

    def play(events: list[tuple[int, str, float, float]]) -> list[tuple[str, float, float]]:
        now = NOW
        made: list[tuple[str, float]] = []
        calls = []
        for jti, kind, window, step in events:
            if kind == "replay" and made:
                key, expires_at = made[jti * 7 % len(made)]
            else:
                start = float(math.floor(now)) if kind == "new, whole second" else now
                key, expires_at = f"jti-{jti}", start + window
                made.append((key, expires_at))
            calls.append((key, expires_at, now))
            now += step
        return calls

    return st.lists(event, min_size=1, max_size=80).map(play)


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(capacity=st.integers(1, 6), calls=presentations(clock_goes_back=True))
    def test_no_proof_is_ever_accepted_twice_whatever_the_capacity_or_the_clock(
        self, capacity, calls
    ):
        store = MemoryReplayStore(max_entries=capacity)
        accepted: set[tuple[str, float]] = set()
        horizon = store.horizon
        for key, expires_at, now in calls:
            if store.remember(key, expires_at, now):
                assert (key, expires_at) not in accepted, "a replay was accepted"
                assert expires_at > now
                accepted.add((key, expires_at))
            assert len(store) <= capacity
            assert store.horizon >= horizon
            horizon = store.horizon

    @settings(max_examples=300, deadline=None)
    @given(capacity=st.integers(1, 6), calls=presentations(clock_goes_back=False))
    def test_with_a_steady_clock_no_key_is_accepted_while_an_accepted_proof_is_live(
        self, capacity, calls
    ):
        # Besides replays: the same jti in a proof with another window is refused too while
        # the first is live, unless the store has evicted the key. Then the horizon covers
        # the first proof, which stays refused (the property above).
        store = MemoryReplayStore(max_entries=capacity)
        live_until: dict[str, float] = {}
        for key, expires_at, now in calls:
            if store.remember(key, expires_at, now):
                earlier = live_until.get(key, -math.inf)
                assert earlier <= now or earlier <= store.horizon
                live_until[key] = expires_at

    @settings(max_examples=300, deadline=None)
    @given(calls=presentations(clock_goes_back=False))
    def test_a_store_with_room_answers_exactly_as_the_rule_says(self, calls):
        # Accepted if and only if the window is open and no earlier acceptance of the key
        # is still kept (until its expiry rounded up to a whole second).
        store = MemoryReplayStore(max_entries=len(calls))
        kept_until: dict[str, float] = {}
        for key, expires_at, now in calls:
            expected = expires_at > now and kept_until.get(key, -math.inf) <= now
            assert store.remember(key, expires_at, now) is expected
            if expected:
                kept_until[key] = math.ceil(expires_at)
        assert store.horizon == -math.inf


@pytest.fixture
def contended() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, to make races likely."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def run_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at once; their results, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    return results


@pytest.mark.usefixtures("contended")
class TestThreads:
    def test_of_16_threads_remembering_the_same_key_exactly_one_is_told_true(self, store):
        for round_ in range(200):
            key = f"k{round_}"
            results = run_threads(16, lambda i, key=key: store.remember(key, NOW + WINDOW, NOW))
            assert results.count(True) == 1, round_

    def test_on_a_full_store_too_exactly_one_thread_is_told_true(self):
        # Each call must evict to make room: work between the check and the insert.
        store = MemoryReplayStore(max_entries=4)
        for round_ in range(200):
            key = f"k{round_}"
            results = run_threads(
                16, lambda i, key=key, r=round_: store.remember(key, NOW + 10 + r, NOW)
            )
            assert results.count(True) == 1, round_
            assert len(store) <= 4

    def test_a_replay_racing_the_purge_of_its_key_is_still_refused(self):
        store = MemoryReplayStore()
        for round_ in range(100):
            now = NOW + 2 * round_
            assert store.remember(f"old{round_}", now + 1, now)
            assert store.remember(f"k{round_}", now + 5, now)
            # Half the threads move the clock past old's expiry (purging it) while the
            # others replay k, whose window is open: k is never accepted again.
            results = run_threads(
                16,
                lambda i, r=round_, n=now: store.remember(
                    f"new{r}-{i}" if i % 2 else f"k{r}", n + 5 + i, n + 1.5
                ),
            )
            assert not any(results[0::2])
            assert all(results[1::2])

    def test_threads_filling_a_small_store_never_get_a_replay_through(self):
        store = MemoryReplayStore(max_entries=8)
        proofs = [(f"k{i}", NOW + 10 + i % 13) for i in range(64)]

        def present(i: int) -> list[tuple[str, float]]:
            accepted = []
            for j in range(len(proofs) * 4):
                key, expires_at = proofs[(i * 7 + j) % len(proofs)]
                if store.remember(key, expires_at, NOW + j / 1000):
                    accepted.append((key, expires_at))
            return accepted

        results = run_threads(8, present)
        everything = [proof for accepted in results for proof in accepted]
        assert len(everything) == len(set(everything))
        assert len(store) <= 8


class TestAsync:
    def test_aremember_answers_as_remember_does(self, store):
        async def main() -> list[bool]:
            return [
                await store.aremember("k", NOW + WINDOW, NOW),
                await store.aremember("k", NOW + WINDOW, NOW + 1),
                store.remember("k", NOW + WINDOW, NOW + 2),
                await store.aremember("k", NOW + 2 * WINDOW, NOW + WINDOW),
            ]

        assert asyncio.run(main()) == [True, False, False, True]

    def test_of_many_tasks_remembering_the_same_key_exactly_one_is_told_true(self, store):
        async def main() -> list[bool]:
            return await asyncio.gather(
                *(store.aremember("k", NOW + WINDOW, NOW) for _ in range(50))
            )

        assert asyncio.run(main()).count(True) == 1

    def test_a_full_store_refuses_the_same_way(self):
        store = MemoryReplayStore(max_entries=1)

        async def main() -> list[bool]:
            return [
                await store.aremember("a", NOW + 10, NOW),
                await store.aremember("b", NOW + 20, NOW),
                await store.aremember("a", NOW + 10, NOW),
            ]

        assert asyncio.run(main()) == [True, True, False]


class TestSettings:
    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            (0, "the int 0"),
            (-5, "the int -5"),
            (True, "the bool True"),
            (False, "the bool False"),
            (1.5, "the float 1.5"),
            (100.0, "the float 100.0"),
            ("100", "the str '100'"),
            (None, "unset environment variable"),
        ],
    )
    def test_a_bad_max_entries_is_a_configuration_error_naming_the_setting(self, value, shown):
        with pytest.raises(ConfigurationError) as caught:
            MemoryReplayStore(max_entries=value)
        assert caught.value.setting == "replay_store"
        message = str(caught.value)
        assert "max_entries" in message
        assert shown in message
        assert "MemoryReplayStore(max_entries=100_000)" in message

    def test_the_default_holds_100_000_keys(self):
        assert MemoryReplayStore().max_entries == 100_000
        assert MemoryReplayStore(1).max_entries == 1


class TestTheInterface:
    def test_the_memory_store_is_a_replay_store(self, store):
        assert isinstance(store, ReplayStore)

    def test_any_object_with_both_methods_is_one(self):
        class Remote:
            def remember(self, key: str, expires_at: float, now: float) -> bool:
                raise ReplayStoreUnavailable("redis at cache:6379 timed out", retry_after=2)

            async def aremember(self, key: str, expires_at: float, now: float) -> bool:
                return self.remember(key, expires_at, now)

        assert isinstance(Remote(), ReplayStore)
        assert not isinstance(object(), ReplayStore)
        with pytest.raises(ReplayStoreUnavailable, match="timed out") as caught:
            Remote().remember("k", NOW + 1, NOW)
        assert caught.value.retry_after == 2.0

    @pytest.mark.parametrize("retry_after", [math.nan, math.inf, -1.0])
    def test_a_nonsensical_retry_after_becomes_one_second(self, retry_after):
        assert ReplayStoreUnavailable("down", retry_after=retry_after).retry_after == 1.0

    def test_unavailable_is_not_a_refusal_of_the_request_by_itself(self):
        # The verifier decides what it means (a 503): the store only says it cannot answer.
        from bearerguard import BearerError

        assert not issubclass(ReplayStoreUnavailable, BearerError)
        assert ReplayStoreUnavailable("down").retry_after == 1.0

    def test_repr_shows_the_size_and_horizon_but_no_key(self):
        store = MemoryReplayStore(max_entries=1)
        store.remember("secret-jti-hash", NOW + 10, NOW)
        store.remember("another-jti-hash", NOW + 20, NOW)
        text = repr(store)
        assert text == f"MemoryReplayStore(max_entries=1, entries=1, horizon={NOW + 10!r})"
        assert "jti" not in text
