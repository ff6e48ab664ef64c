"""The verified-token cache: a repeat of a token that passed is answered without the
parse and the signature, yet is refused from the very instant a full verification
would refuse it.

A token is kept from its second verification on (the first sighting only records
its hash), and a hit returns the very ``AccessToken`` object that was kept; a miss
builds a new one. That is how these tests tell the two apart, with real tokens,
real signatures and the in-process provider.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    ConfigurationError,
    ExpiredTokenError,
    ImmatureTokenError,
    InvalidSignatureError,
    MalformedTokenError,
    MissingTokenError,
    UnknownKeyError,
    Verifier,
    token_from_authorization,
)
from bearerguard._claims import Lifetime
from bearerguard._tokencache import TokenCache

from .support import AUDIENCE, ISSUER, NOW, Clock, claims, rsa_key, sign_token


def cache_of(verifier: Verifier) -> TokenCache:
    tokens = verifier._plan.tokens
    assert tokens is not None
    return tokens


def remembered(verifier: Verifier, raw: str) -> AccessToken:
    """Verify ``raw`` until the cache keeps it (the second time); return the kept token."""
    verifier.verify(raw)
    return verifier.verify(raw)


class TestHits:
    def test_a_repeated_token_is_answered_from_the_cache(self, make_verifier, provider):
        verifier = make_verifier()
        raw = provider.token()
        first = verifier.verify(raw)
        assert len(cache_of(verifier)) == 0  # a token seen once may never come back
        second = verifier.verify(raw)
        assert second is not first
        assert len(cache_of(verifier)) == 1
        assert verifier.verify(raw) is second
        assert verifier.verify(raw) is second

    def test_tokens_seen_once_do_not_evict_the_tokens_in_use(self, make_verifier, provider):
        verifier = make_verifier(token_cache_size=2)
        kept = [remembered(verifier, provider.token(sub=name)) for name in "ab"]
        for i in range(10):
            verifier.verify(provider.token(sub=f"once-{i}"))
        assert [verifier.verify(token.raw) for token in kept] == kept

    def test_averify_shares_the_cache_with_verify(self, make_verifier, provider):
        verifier = make_verifier()
        raw = provider.token()
        asyncio.run(verifier.averify(raw))
        kept = asyncio.run(verifier.averify(raw))
        assert verifier.verify(raw) is kept

    def test_a_token_differing_in_one_character_is_verified_in_full(self, make_verifier, provider):
        verifier = make_verifier()
        raw = provider.token()
        verifier.verify(raw)
        head, payload, signature = raw.split(".")
        swapped = "A" if signature[-2] != "A" else "B"
        tampered = f"{head}.{payload}.{signature[:-2]}{swapped}{signature[-1]}"
        with pytest.raises((InvalidSignatureError, MalformedTokenError)):
            verifier.verify(tampered)

    def test_the_cache_can_be_turned_off(self, make_verifier, provider):
        verifier = make_verifier(token_cache_size=0)
        raw = provider.token()
        assert verifier.verify(raw) is not verifier.verify(raw)
        assert verifier._plan.tokens is None

    def test_tokens_signed_with_a_shared_secret_are_cached_too(self, make_verifier):
        secret = b"s" * 32
        verifier = make_verifier(algorithms=["HS256"], secret=secret)
        raw = sign_token({"alg": "HS256", "typ": "JWT"}, claims(), secret)
        kept = remembered(verifier, raw)
        assert verifier.verify(raw) is kept

    @pytest.mark.parametrize("junk", [None, 42, b"a.b.c", ["a.b.c"], {"t": 1}])
    def test_values_that_are_no_string_are_refused_not_looked_up(self, make_verifier, junk):
        with pytest.raises(MalformedTokenError):
            make_verifier().verify(junk)

    def test_refused_tokens_are_never_remembered(self, make_verifier, provider):
        verifier = make_verifier()
        with pytest.raises(ExpiredTokenError):
            verifier.verify(provider.token(exp=int(NOW) - 3600))
        assert len(cache_of(verifier)) == 0


class TestLifetimeIsCheckedOnEveryHit:
    def test_a_cached_token_expires_with_its_exp_claim(self, make_verifier, provider, clock):
        verifier = make_verifier(leeway=30)
        raw = provider.token(exp=int(NOW) + 100)
        first = remembered(verifier, raw)
        clock.advance(129)
        assert verifier.verify(raw) is first  # within exp + leeway
        clock.advance(1)
        with pytest.raises(ExpiredTokenError):
            verifier.verify(raw)
        assert len(cache_of(verifier)) == 0

    def test_a_clock_set_back_before_nbf_refuses_the_cached_token(
        self, make_verifier, provider, clock
    ):
        verifier = make_verifier(leeway=0)
        raw = provider.token(nbf=int(NOW), iat=int(NOW))
        remembered(verifier, raw)
        clock.now -= 10  # the wall clock is corrected backwards
        with pytest.raises(ImmatureTokenError):
            verifier.verify(raw)

    def test_max_age_is_enforced_on_hits(self, make_verifier, provider, clock):
        verifier = make_verifier(max_age=300, leeway=0)
        raw = provider.token(iat=int(NOW))
        first = remembered(verifier, raw)
        clock.advance(300)
        assert verifier.verify(raw) is first
        clock.advance(1)
        with pytest.raises(ExpiredTokenError, match="max_age"):
            verifier.verify(raw)


class TestKeySetChanges:
    def test_a_routine_refresh_with_the_same_keys_keeps_the_entries(
        self, make_verifier, provider, clock
    ):
        verifier = make_verifier()
        raw = provider.token()
        first = remembered(verifier, raw)
        clock.advance(601)  # the key set (max-age=600) is stale: the next use refreshes it
        again = verifier.verify(raw)
        assert again is not first  # verified in full, which refreshed the keys
        assert provider.jwks_hits == 2
        assert verifier.verify(raw) is again  # the same keys came back: kept at once
        assert provider.jwks_hits == 2

    def test_a_stale_key_set_is_refreshed_even_if_every_request_is_a_hit(
        self, make_verifier, provider, clock
    ):
        verifier = make_verifier()
        raw = provider.token()
        remembered(verifier, raw)
        clock.advance(601)
        verifier.verify(raw)
        assert provider.jwks_hits == 2

    def test_a_token_whose_key_left_the_key_set_is_refused_after_the_refresh(
        self, make_verifier, provider, clock
    ):
        verifier = make_verifier()
        raw = provider.token(kid="k1")
        remembered(verifier, raw)
        provider.keys = {"k2": ("RS256", rsa_key(1))}  # k1 is withdrawn
        clock.advance(601)
        with pytest.raises(UnknownKeyError):
            verifier.verify(raw)
        assert len(cache_of(verifier)) == 0

    def test_a_key_added_by_a_rotation_invalidates_entries_but_they_verify_again(
        self, make_verifier, provider, clock
    ):
        verifier = make_verifier()
        old = provider.token(kid="k1")
        first = remembered(verifier, old)
        provider.keys["k2"] = ("RS256", rsa_key(1))
        clock.advance(31)  # past the unknown-kid cooldown
        verifier.verify(provider.token(kid="k2", sub="other"))  # the rotation is fetched
        assert provider.jwks_hits == 2
        second = verifier.verify(old)
        assert second is not first  # the key set changed: verified in full, and kept again
        assert verifier.verify(old) is second

    def test_forget_keys_empties_the_cache(self, make_verifier, provider):
        verifier = make_verifier()
        raw = provider.token()
        first = remembered(verifier, raw)
        verifier.forget_keys()
        assert len(cache_of(verifier)) == 0
        assert verifier.verify(raw) is not first
        assert provider.jwks_hits == 2


class TestBounds:
    def test_the_oldest_token_goes_first_unless_it_is_in_use(self, make_verifier, provider):
        verifier = make_verifier(token_cache_size=8)
        raws = [provider.token(sub=f"user-{i}") for i in range(10)]
        first = [remembered(verifier, raw) for raw in raws[:8]]  # full
        assert verifier.verify(raws[0]) is first[0]  # the oldest is used again: kept
        remembered(verifier, raws[8])  # evicts user-1, now the least recently used
        assert len(cache_of(verifier)) == 8
        assert verifier.verify(raws[0]) is first[0]
        assert verifier.verify(raws[2]) is first[2]
        assert verifier.verify(raws[1]) is not first[1]

    def test_a_token_in_steady_use_survives_a_stream_of_new_ones(self, make_verifier, provider):
        verifier = make_verifier(token_cache_size=8)
        steady = provider.token(sub="steady")
        kept = remembered(verifier, steady)
        for i in range(40):
            remembered(verifier, provider.token(sub=f"twice-{i}"))
            assert verifier.verify(steady) is kept
        assert len(cache_of(verifier)) == 8

    def test_expired_entries_are_swept_out_even_if_never_asked_for_again(
        self, make_verifier, provider, clock
    ):
        verifier = make_verifier(leeway=0)
        remembered(verifier, provider.token(sub="short", exp=int(NOW) + 10))
        remembered(verifier, provider.token(sub="long"))
        clock.advance(61)  # past exp and past the sweep interval
        remembered(verifier, provider.token(sub="next", iat=int(clock.now)))
        assert len(cache_of(verifier)) == 2  # "short" is gone, unasked

    def test_threads_hitting_and_filling_a_small_cache_all_get_their_own_token(
        self, make_verifier, provider
    ):
        verifier = make_verifier(token_cache_size=4)
        raws = [provider.token(sub=f"user-{i}") for i in range(12)]
        errors: list[BaseException] = []

        def work(offset: int) -> None:
            try:
                for round_ in range(30):
                    raw = raws[(offset + round_) % len(raws)]
                    assert verifier.verify(raw).subject == raw_subject[raw]
            except BaseException as exc:
                errors.append(exc)

        raw_subject = {raw: f"user-{i}" for i, raw in enumerate(raws)}
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(cache_of(verifier)) <= 4


class TestSettings:
    @pytest.mark.parametrize("size", [-1, True, 1.5, "10", (1 << 20) + 1])
    def test_a_bad_size_is_a_configuration_error(self, size):
        with pytest.raises(ConfigurationError, match="token_cache_size"):
            Verifier(issuer=ISSUER, audience=AUDIENCE, token_cache_size=size)

    def test_the_size_comes_from_the_environment_too(self):
        verifier = Verifier.from_env(
            {
                "BEARERGUARD_ISSUER": ISSUER,
                "BEARERGUARD_AUDIENCE": AUDIENCE,
                "BEARERGUARD_TOKEN_CACHE_SIZE": "16",
            }
        )
        assert verifier.config.token_cache_size == 16
        assert cache_of(verifier).maxsize == 16

    def test_the_default_is_1024_tokens(self):
        verifier = Verifier(issuer=ISSUER, audience=AUDIENCE)
        assert cache_of(verifier).maxsize == 1024


class TestTheCacheItself:
    """``TokenCache`` stores and evicts; the re-checks are the flow's (above)."""

    def token(self) -> AccessToken:
        secret = b"k" * 32
        verifier = Verifier(
            issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256"], secret=secret,
            clock=Clock().time,
        )  # fmt: skip
        return verifier.verify(sign_token({"alg": "HS256"}, claims(), secret))

    def put(self, cache: TokenCache, raw: str, dead_at: float, now: float) -> None:
        cache.put(raw, self.token(), Lifetime(dead_at, None, None), None, dead_at=dead_at, now=now)

    def test_put_get_discard_clear(self):
        cache = TokenCache(2, lock=threading.Lock())
        self.put(cache, "a", NOW + 100, NOW)
        entry = cache.get("a")
        assert entry is not None
        assert entry.dead_at == NOW + 100
        cache.discard("a")
        cache.discard("a")  # twice is fine: two threads may both drop a failed hit
        assert cache.get("a") is None
        self.put(cache, "b", NOW + 100, NOW)
        assert not cache.admit("c")
        cache.clear()
        assert len(cache) == 0
        assert not cache.admit("c")  # the doorkeeper forgot it too

    def test_putting_a_token_again_replaces_its_entry(self):
        cache = TokenCache(2, lock=threading.Lock())
        self.put(cache, "a", NOW + 100, NOW)
        self.put(cache, "a", NOW + 200, NOW)
        entry = cache.get("a")
        assert len(cache) == 1
        assert entry is not None
        assert entry.dead_at == NOW + 200

    def test_the_sweep_runs_at_most_once_a_minute(self):
        cache = TokenCache(8, lock=threading.Lock())
        self.put(cache, "dies", NOW + 10, NOW)
        self.put(cache, "x", NOW + 1000, NOW + 30)  # "dies" is dead, but no sweep yet
        assert cache.get("dies") is not None
        self.put(cache, "y", NOW + 1000, NOW + 60)
        assert cache.get("dies") is None
        assert len(cache) == 2

    def test_the_doorkeeper_admits_a_token_on_its_second_sighting(self):
        cache = TokenCache(1, lock=threading.Lock())
        assert not cache.admit("a")
        assert cache.admit("a")
        assert not cache.admit("b")

    def test_the_doorkeeper_is_bounded_and_starts_afresh_when_full(self):
        cache = TokenCache(2, lock=threading.Lock())  # remembers 8 hashes
        for i in range(8):
            assert not cache.admit(f"t{i}")
        assert cache.admit("t7")
        assert not cache.admit("t8")  # the doorkeeper was full: it started afresh
        assert not cache.admit("t0")
        assert len(cache._seen) <= 8

    def test_a_cache_holds_at_least_one_token(self):
        with pytest.raises(ValueError, match="at least one"):
            TokenCache(0, lock=threading.Lock())


class TestTheAdaptersShortcut:
    """``authenticate()`` answers a remembered token sent the usual way without the parser,
    and every request, usual or not, gets exactly the parser's answer."""

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer {t}",
            ["Bearer {t}"],
            "bearer {t}",
            "BEARER {t}",
            "Bearer  {t}",
            "Bearer {t} ",
            "Bearer {t}\t",
            ["Bearer {t}", "Bearer {t}"],
            "Basic abc, Bearer {t}",
            "Bearer {t}, Bearer {t}",
            "Basic {t}",
            "Bearer {t}x",
        ],
    )
    @pytest.mark.parametrize("query", ["", "page=2", "access_token={t}"])
    def test_the_answer_is_the_parsers(self, make_verifier, provider, header, query):
        verifier = make_verifier()
        raw = provider.token()
        kept = remembered(verifier, raw)
        value: str | list[str]
        value = [h.format(t=raw) for h in header] if isinstance(header, list) else header
        value = value.format(t=raw) if isinstance(value, str) else value
        query = query.format(t=raw)
        try:
            expected: object = verifier.verify(token_from_authorization(value, query=query))
        except MissingTokenError:
            expected = None  # authenticate(): no credentials
        except BearerError as exc:
            expected = (type(exc), exc.reason)
        try:
            answer: object = verifier.authenticate(value, query=query)
        except BearerError as exc:
            answer = (type(exc), exc.reason)
        assert answer == expected  # an AccessToken compares by identity: the very same one
        if answer is not None and not isinstance(answer, tuple):
            assert answer is kept
