"""The key cache state machine, driven directly with a fake monotonic clock.

No network here except in the last class, which runs the same rules end to end
through a Verifier and the in-process provider. Catalogue rows: T45, T85, T87,
T88, T91, T93, T94, T95; section 11 items 1, 2, 3, 4 and 6.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bearerguard._config import CachePolicy
from bearerguard._drive import drive
from bearerguard._errors import KeySetUnavailableError, UnknownKeyError
from bearerguard._keycache import (
    Document,
    Fetch,
    FetchDiscovery,
    FetchFailure,
    FetchKeySet,
    KeyCache,
    Outcome,
    discovery_urls,
)
from bearerguard._keys import KeySet, VerificationKey

from .support import ISSUER, claims, ed_key, public_jwk, rsa_key, sign_token

JWKS_URI = "https://tenant.auth0.com/.well-known/jwks.json"
OIDC_URL = "https://tenant.auth0.com/.well-known/openid-configuration"
RFC8414_URL = "https://tenant.auth0.com/.well-known/oauth-authorization-server"
T0 = 1000.0  # monotonic seconds when a test starts
ALG = "EdDSA"
JSON = {"content-type": "application/json"}


def key_set_document(*kids: str, cache_control: str | None = None) -> Document:
    """A JWKS response with an Ed25519 key per kid ("k1" is ed_key(1), ...)."""
    keys = [public_jwk(ed_key(int(kid[1:])), kid=kid, alg=ALG, use="sig") for kid in kids]
    headers = dict(JSON)
    if cache_control is not None:
        headers["cache-control"] = cache_control
    return Document(200, headers, json.dumps({"keys": keys}).encode())


def discovery_document(**members: Any) -> Document:
    metadata = {"issuer": ISSUER, "jwks_uri": JWKS_URI, **members}
    metadata = {k: v for k, v in metadata.items() if v is not None}
    return Document(200, JSON, json.dumps(metadata).encode())


def configured(policy: CachePolicy | None = None) -> KeyCache:
    """A cache whose issuer's JWKS URL is configured (no discovery)."""
    return KeyCache(policy or CachePolicy(), {ISSUER: JWKS_URI})


def discovering(policy: CachePolicy | None = None) -> KeyCache:
    return KeyCache(policy or CachePolicy(), {})


class Shell:
    """Plays the I/O shell: answers the cache's fetches with canned outcomes, in order.

    ``responses`` maps URL -> outcome (or a callable returning one); an unknown URL
    is unreachable. ``fetched`` records (monotonic time, URL) of every HTTP request.
    """

    def __init__(self, cache: KeyCache, issuer: str = ISSUER) -> None:
        self.cache = cache
        self.issuer = issuer
        self.responses: dict[str, Outcome | Callable[[], Outcome]] = {}
        self.fetched: list[tuple[float, str]] = []
        self.requests: list[Fetch] = []
        self.notes: list[str] = []  # the warnings the cache hands back for the log
        self.now = T0

    def answer(self, url: str) -> Outcome:
        self.fetched.append((self.now, url))
        response = self.responses.get(url, FetchFailure("connection refused"))
        return response() if callable(response) else response

    def settle(self, fetch: Fetch, now: float) -> None:
        self.now = now
        assert self.cache.begin(fetch, now)
        self.notes.extend(self.cache.store(fetch, drive(fetch.plan(), self.answer), now))

    def lookup(self, kid: str | None, now: float, alg: str = ALG) -> VerificationKey:
        """One verification's key lookup, as the verify flow runs it."""
        refreshed: set[tuple[str, str]] = set()
        for _ in range(4):
            step = self.cache.locate(self.issuer, kid, alg, now, refreshed)
            if isinstance(step, VerificationKey):
                return step
            assert step.key not in refreshed, "the same fetch was asked twice"
            self.requests.append(step)
            refreshed.add(step.key)
            self.settle(step, now)
        raise AssertionError("the lookup did not settle")

    def urls(self) -> list[str]:
        return [url for _, url in self.fetched]


@pytest.fixture
def shell() -> Shell:
    """A configured cache whose provider publishes k1 (default cache headers)."""
    shell = Shell(configured())
    shell.responses[JWKS_URI] = key_set_document("k1")
    return shell


def warm(shell: Shell, now: float = T0) -> VerificationKey:
    key = shell.lookup("k1", now)
    assert key.kid == "k1"
    return key


# --- the first lookups ----------------------------------------------------------------------


class TestColdCache:
    def test_discovery_comes_first_then_the_key_set(self):
        cache = discovering()
        first = cache.locate(ISSUER, "k1", ALG, T0, set())
        assert first == FetchDiscovery(ISSUER, 0)
        assert cache.begin(first, T0)
        cache.store(first, discovery_document(), T0)
        second = cache.locate(ISSUER, "k1", ALG, T0, {first.key})
        assert second == FetchKeySet(JWKS_URI, 0)
        assert cache.begin(second, T0)
        cache.store(second, key_set_document("k1"), T0)
        key = cache.locate(ISSUER, "k1", ALG, T0, {first.key, second.key})
        assert isinstance(key, VerificationKey)
        assert key.kid == "k1"

    def test_the_shell_fetches_the_oidc_document_then_the_jwks(self):
        shell = Shell(discovering())
        shell.responses.update({OIDC_URL: discovery_document(), JWKS_URI: key_set_document("k1")})
        assert shell.lookup("k1", T0).kid == "k1"
        assert shell.urls() == [OIDC_URL, JWKS_URI]
        assert shell.cache.jwks_uri(ISSUER) == JWKS_URI

    def test_a_configured_jwks_uri_skips_discovery(self):
        cache = configured()
        assert cache.jwks_uri(ISSUER) == JWKS_URI
        assert cache.locate(ISSUER, "k1", ALG, T0, set()) == FetchKeySet(JWKS_URI, 0)

    def test_concurrent_callers_are_asked_for_the_same_fetch_so_the_shell_can_coalesce(self):
        cache = configured()
        asked = {cache.locate(ISSUER, f"k{i}", ALG, T0, set()) for i in range(50)}
        assert asked == {FetchKeySet(JWKS_URI, 0)}

    def test_storing_a_good_document_makes_locate_return_the_key(self, shell):
        key = warm(shell)
        assert key.public_key.public_bytes_raw() == ed_key(1).public_key().public_bytes_raw()
        assert shell.cache.locate(ISSUER, "k1", ALG, T0 + 1, set()) == key
        key_set = shell.cache.key_set(JWKS_URI)
        assert isinstance(key_set, KeySet)
        assert [k.kid for k in key_set.keys] == ["k1"]

    def test_an_unknown_issuer_has_nothing_cached(self):
        cache = configured()
        assert cache.key_set(JWKS_URI) is None
        assert cache.jwks_uri("https://other.example/") is None


# --- freshness --------------------------------------------------------------------------------


class TestFreshness:
    @pytest.mark.parametrize(
        ("cache_control", "ttl"),
        [
            ("max-age=300", 300),
            ("public, max-age=120, must-revalidate", 120),
            ('max-age="900"', 900),
            ("MAX-AGE=240", 240),
            ("max-age=5", 60),  # raised to min_ttl
            ("max-age=0", 60),
            ("max-age=9999999", 86400),  # lowered to max_ttl
            ("no-store", 60),
            ("no-cache", 60),
            ("max-age=3600, no-cache", 60),
            ('private, no-cache="set-cookie"', 60),
            (None, 600),  # the default ttl
            ("public", 600),
            ("max-age=abc", 600),
            ("max-age=-5", 600),
            ("s-maxage=30", 600),  # for shared caches, not this one
        ],
    )
    def test_cache_control_sets_the_freshness_within_bounds(self, cache_control, ttl):
        shell = Shell(configured())
        shell.responses[JWKS_URI] = key_set_document("k1", cache_control=cache_control)
        warm(shell)
        assert isinstance(
            shell.cache.locate(ISSUER, "k1", ALG, T0 + ttl - 0.01, set()), VerificationKey
        )
        assert shell.cache.locate(ISSUER, "k1", ALG, T0 + ttl, set()) == FetchKeySet(JWKS_URI, 1)

    @pytest.mark.parametrize(
        ("cache_control", "ttl"), [("max-age=10", 50), ("max-age=1000", 200), (None, 100)]
    )
    def test_the_bounds_come_from_the_policy(self, cache_control, ttl):
        shell = Shell(configured(CachePolicy(ttl=100, min_ttl=50, max_ttl=200)))
        shell.responses[JWKS_URI] = key_set_document("k1", cache_control=cache_control)
        warm(shell)
        assert isinstance(
            shell.cache.locate(ISSUER, "k1", ALG, T0 + ttl - 0.01, set()), VerificationKey
        )
        assert isinstance(shell.cache.locate(ISSUER, "k1", ALG, T0 + ttl, set()), FetchKeySet)

    def test_after_the_ttl_the_next_use_refetches_once_and_restarts_the_ttl(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        for t in (T0 + 100, T0 + 599):
            shell.lookup("k1", t)
        assert len(shell.fetched) == 1
        shell.lookup("k1", T0 + 600)
        assert shell.urls() == [JWKS_URI, JWKS_URI]
        shell.lookup("k1", T0 + 1199)
        assert len(shell.fetched) == 2
        shell.lookup("k1", T0 + 1200)
        assert len(shell.fetched) == 3

    def test_while_a_refresh_is_in_flight_the_stale_keys_serve_without_asking_again(self, shell):
        key = warm(shell)
        refresh = shell.cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert refresh == FetchKeySet(JWKS_URI, 1)
        assert shell.cache.begin(refresh, T0 + 600)
        for i in range(100):
            assert shell.cache.locate(ISSUER, "k1", ALG, T0 + 600 + i / 10, set()) is key

    def test_an_unknown_kid_during_a_refresh_joins_it_instead_of_failing(self, shell):
        warm(shell)
        refresh = shell.cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert shell.cache.begin(refresh, T0 + 600)
        joined = shell.cache.locate(ISSUER, "k2", ALG, T0 + 601, set())
        assert isinstance(joined, FetchKeySet)
        assert (joined.key, joined.generation) == (refresh.key, refresh.generation)
        assert joined.unknown_kid  # a probe, but the shell coalesces it with the refresh

    def test_keys_past_the_stale_window_are_not_served_even_while_a_refresh_runs(self):
        shell = Shell(configured(CachePolicy(stale_if_error=100)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        warm(shell)
        refresh = shell.cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert shell.cache.begin(refresh, T0 + 600)
        assert isinstance(shell.cache.locate(ISSUER, "k1", ALG, T0 + 699, set()), VerificationKey)
        with pytest.raises(KeySetUnavailableError):
            shell.cache.locate(ISSUER, "k1", ALG, T0 + 700, set())


# --- failures ---------------------------------------------------------------------------------

BAD_KEY_SET_OUTCOMES = [
    pytest.param(FetchFailure("connection refused"), id="refused"),
    pytest.param(FetchFailure("the provider did not answer in time"), id="timeout"),
    pytest.param(Document(500, JSON, key_set_document("k1").body), id="500"),
    pytest.param(Document(503, JSON, b"{}"), id="503"),
    pytest.param(Document(429, JSON, b"{}"), id="429"),
    pytest.param(Document(404, {}, b""), id="404"),
    pytest.param(Document(302, {"location": "https://evil.example/"}, b""), id="302"),
    pytest.param(
        Document(200, {"content-type": "text/html"}, key_set_document("k1").body), id="html-type"
    ),
    pytest.param(Document(200, JSON, b"<html>oops</html>"), id="html-body"),
    pytest.param(Document(200, JSON, b'{"keys": ['), id="invalid-json"),
    pytest.param(Document(200, JSON, b"[]"), id="array"),
    pytest.param(Document(200, JSON, b"{}"), id="no-keys"),
    pytest.param(Document(200, JSON, b'{"keys": {}}'), id="keys-object"),
    pytest.param(Document(200, JSON, b'{"keys": []}'), id="empty"),
    pytest.param(
        Document(200, JSON, json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).encode()),
        id="no-signing-keys",
    ),
]


class TestFailures:
    @pytest.mark.parametrize("outcome", BAD_KEY_SET_OUTCOMES)
    def test_T87_a_failed_first_fetch_answers_503_and_caches_nothing(self, outcome):
        shell = Shell(configured())
        shell.responses[JWKS_URI] = outcome
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k1", T0)
        assert caught.value.status_code == 503
        assert caught.value.headers["Retry-After"] == "1"
        assert shell.cache.key_set(JWKS_URI) is None
        assert len(shell.fetched) == 1

    @pytest.mark.parametrize("outcome", BAD_KEY_SET_OUTCOMES)
    def test_T88_T91_a_failed_refresh_keeps_the_last_good_key_set(self, shell, outcome):
        key = warm(shell)
        good = shell.cache.key_set(JWKS_URI)
        shell.responses[JWKS_URI] = outcome
        assert shell.lookup("k1", T0 + 600) is key
        assert shell.cache.key_set(JWKS_URI) is good
        assert len(shell.fetched) == 2

    @pytest.mark.parametrize(
        "content_type",
        [
            "application/json",
            "application/jwk-set+json",
            "application/json; charset=utf-8",
            "Application/JSON",
            None,
        ],
    )
    def test_json_content_types_and_a_missing_one_are_accepted(self, content_type):
        shell = Shell(configured())
        headers = {} if content_type is None else {"content-type": content_type}
        shell.responses[JWKS_URI] = Document(200, headers, key_set_document("k1").body)
        assert shell.lookup("k1", T0).kid == "k1"

    def test_T87_no_fetch_storm_while_backing_off_on_a_cold_cache(self):
        shell = Shell(configured())
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k1", T0)
        for i in range(100):
            with pytest.raises(KeySetUnavailableError) as caught:
                shell.lookup("k1", T0 + i * 0.0099)
            assert caught.value.retry_after == 1
        assert len(shell.fetched) == 1
        shell.responses[JWKS_URI] = key_set_document("k1")
        assert shell.lookup("k1", T0 + 1).kid == "k1"
        assert len(shell.fetched) == 2

    def test_T87_consecutive_failures_back_off_exponentially_up_to_the_cap(self):
        cache = configured()
        shell = Shell(cache)
        now, waits = T0, []
        for _ in range(9):
            with pytest.raises(KeySetUnavailableError) as caught:
                shell.lookup("k1", now)
            waits.append(caught.value.retry_after)
            retry_at = now + caught.value.retry_after
            with pytest.raises(KeySetUnavailableError):
                cache.locate(ISSUER, "k1", ALG, retry_at - 0.001, set())
            assert isinstance(cache.locate(ISSUER, "k1", ALG, retry_at, set()), FetchKeySet)
            now = retry_at
        assert waits == [1, 2, 4, 8, 16, 30, 30, 30, 30]
        assert len(shell.fetched) == 9

    def test_the_backoff_follows_the_policy(self):
        cache = configured(CachePolicy(failure_backoff=3, max_failure_backoff=10))
        shell = Shell(cache)
        now, waits = T0, []
        for _ in range(4):
            with pytest.raises(KeySetUnavailableError) as caught:
                shell.lookup("k1", now)
            waits.append(caught.value.retry_after)
            now += caught.value.retry_after
        assert waits == [3, 6, 10, 10]

    def test_a_success_resets_the_backoff(self):
        shell = Shell(configured())
        now = T0
        for wait in (1, 2, 4, 8):
            with pytest.raises(KeySetUnavailableError):
                shell.lookup("k1", now)
            now += wait
        shell.responses[JWKS_URI] = key_set_document("k1")
        shell.lookup("k1", now)
        shell.responses[JWKS_URI] = FetchFailure("down again")
        now += 600
        shell.lookup("k1", now)  # stale keys serve; this failure is the first again
        assert isinstance(shell.cache.locate(ISSUER, "k1", ALG, now + 1, set()), FetchKeySet)

    def test_T88_stale_keys_serve_until_the_stale_window_ends_then_503_with_retry_after(self):
        shell = Shell(configured(CachePolicy(stale_if_error=120)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        key = warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("connection refused")
        for second in range(600, 720):
            assert shell.lookup("k1", T0 + second) is key
        attempts = [round(t - T0) for t, _ in shell.fetched[1:]]
        assert attempts == [600, 601, 603, 607, 615, 631, 661, 691]  # backoff 1, 2, 4 ... 30
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k1", T0 + 720)
        assert caught.value.status_code == 503
        assert caught.value.retry_after == 1  # the next attempt is due at 721
        assert len(shell.fetched) == 9
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k1", T0 + 721)
        assert caught.value.retry_after == 30
        assert len(shell.fetched) == 10
        assert shell.cache.key_set(JWKS_URI) is not None  # kept, just no longer served

    def test_T88_the_provider_coming_back_restores_service_after_the_stale_window(self):
        shell = Shell(configured(CachePolicy(stale_if_error=10)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("connection refused")
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k1", T0 + 610)
        shell.responses[JWKS_URI] = key_set_document("k1")
        assert shell.lookup("k1", T0 + 610 + caught.value.retry_after).kid == "k1"

    def test_a_failed_refresh_is_reported_for_the_log(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = Document(500, JSON, b"{}")
        shell.lookup("k1", T0 + 600)
        (message,) = shell.notes
        assert JWKS_URI in message
        assert "HTTP 500" in message
        assert "keeping the last good copy" in message


# --- unknown kids and rotation ----------------------------------------------------------------


class TestUnknownKid:
    def test_T45_an_unknown_kid_refetches_once_then_answers_401(self, shell):
        warm(shell)
        with pytest.raises(UnknownKeyError) as caught:
            shell.lookup("k9", T0 + 30)
        assert caught.value.status_code == 401
        assert shell.urls() == [JWKS_URI, JWKS_URI]

    def test_T45_an_unknown_kid_right_after_a_routine_fetch_refetches_once(self, shell):
        warm(shell)  # the first fetch is routine: it starts no cooldown
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 0.1)
        assert len(shell.fetched) == 2
        (probe,) = shell.requests[1:]
        assert isinstance(probe, FetchKeySet)
        assert probe.unknown_kid
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 30.0)  # within the cooldown that probe started
        assert len(shell.fetched) == 2

    def test_T85_a_thousand_unknown_kids_within_the_cooldown_cause_one_fetch(self, shell):
        warm(shell)
        before = len(shell.requests)
        for i in range(1000):
            with pytest.raises(UnknownKeyError):
                shell.lookup(f"random-{i}", T0 + 30 + i * 0.0299)
        assert len(shell.requests) - before == 1
        assert len(shell.fetched) == 2
        with pytest.raises(UnknownKeyError):
            shell.lookup("random-again", T0 + 60)
        assert len(shell.fetched) == 3

    def test_the_cooldown_follows_the_policy(self):
        shell = Shell(configured(CachePolicy(unknown_kid_cooldown=5)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        warm(shell)
        with pytest.raises(UnknownKeyError):
            shell.lookup("k8", T0 + 1)  # the probe: the cooldown starts here
        assert len(shell.fetched) == 2
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 5.9)
        assert len(shell.fetched) == 2
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 6)
        assert len(shell.fetched) == 3

    def test_an_unknown_kid_does_not_refetch_while_failures_back_off(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("down")
        # The provider could not be asked, so the kid may exist: 503, never 401.
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k9", T0 + 600)  # the TTL refetch fails
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k9", T0 + 600.5)
        assert len(shell.fetched) == 2
        assert shell.lookup("k1", T0 + 600.5).kid == "k1"  # the cached keys keep serving

    def test_a_known_kid_with_an_algorithm_its_key_cannot_verify_is_unknown(self, shell):
        warm(shell)
        with pytest.raises(UnknownKeyError):
            shell.lookup("k1", T0 + 1, alg="RS256")

    def test_an_unknown_kid_while_a_probe_is_in_flight_shares_it(self, shell):
        warm(shell)
        cache = shell.cache
        first = cache.locate(ISSUER, "k8", ALG, T0 + 1, set())
        assert isinstance(first, FetchKeySet)
        assert first.unknown_kid
        assert cache.begin(first, T0 + 1)
        second = cache.locate(ISSUER, "k9", ALG, T0 + 1.01, set())
        assert second == first  # the same probe: the shell joins the one in flight
        cache.store(first, key_set_document("k1"), T0 + 1.05)
        for kid in ("k8", "k9"):  # each caller looks again, having waited for that fetch
            with pytest.raises(UnknownKeyError):
                cache.locate(ISSUER, kid, ALG, T0 + 1.05, {first.key})
        with pytest.raises(UnknownKeyError):
            shell.lookup("k7", T0 + 30.9)  # the cooldown runs from the probe's start
        assert len(shell.fetched) == 1  # the probe above was settled by hand
        with pytest.raises(UnknownKeyError):
            shell.lookup("k7", T0 + 31)
        assert len(shell.fetched) == 2

    def test_an_unknown_kid_joining_a_routine_refresh_starts_no_cooldown(self, shell):
        warm(shell)
        cache = shell.cache
        refresh = cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert isinstance(refresh, FetchKeySet)
        assert not refresh.unknown_kid
        assert cache.begin(refresh, T0 + 600)
        assert cache.locate(ISSUER, "k9", ALG, T0 + 600.01, set()).key == refresh.key  # joins
        cache.store(refresh, key_set_document("k1"), T0 + 600.05)
        with pytest.raises(UnknownKeyError):
            cache.locate(ISSUER, "k9", ALG, T0 + 600.05, {refresh.key})  # waited once: 401
        # The refresh may have started just before a rotation: the next unknown kid looks.
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        assert shell.lookup("k2", T0 + 600.1).kid == "k2"
        assert len(shell.fetched) == 2  # warm-up and that probe (the refresh was by hand)

    def test_a_failed_probe_backs_off_and_keeps_the_cooldown(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("connection refused")
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k2", T0 + 1)  # the probe fails: the kid may exist, so 503
        assert caught.value.retry_after == 30  # the next probe, not the 1 s backoff
        assert shell.lookup("k1", T0 + 2).kid == "k1"  # the fresh keys keep serving
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k2", T0 + 2)  # the backoff is over, the cooldown is not
        assert caught.value.retry_after == 29
        assert len(shell.fetched) == 2
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        assert shell.lookup("k2", T0 + 31).kid == "k2"
        assert len(shell.fetched) == 3

    def test_a_failed_probe_waits_for_its_backoff_when_that_is_longer(self):
        shell = Shell(configured(CachePolicy(unknown_kid_cooldown=5, failure_backoff=10)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("connection refused")
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k2", T0 + 1)
        assert caught.value.retry_after == 10
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k2", T0 + 10.9)
        assert len(shell.fetched) == 2
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        assert shell.lookup("k2", T0 + 11).kid == "k2"
        assert len(shell.fetched) == 3

    def test_a_failed_probe_near_the_ttl_names_the_routine_refresh_as_the_next_look(self):
        shell = Shell(configured(CachePolicy(ttl=60, min_ttl=1)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("connection refused")
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k2", T0 + 50)
        assert caught.value.retry_after == 10  # the set goes stale (and is refetched) first


class TestRotation:
    """A key published after a routine fetch is found by the first token that names it."""

    def test_a_key_rotated_in_just_after_the_first_fetch_is_accepted_at_once(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")  # published 1 s later
        assert shell.lookup("k2", T0 + 1).kid == "k2"  # the first request that names it
        assert len(shell.fetched) == 2  # exactly one extra fetch
        assert shell.lookup("k2", T0 + 1.5).kid == "k2"
        assert shell.lookup("k1", T0 + 1.5).kid == "k1"
        assert len(shell.fetched) == 2
        # ... and that probe started the cooldown: a flood of random kids costs nothing ...
        for i in range(2000):
            with pytest.raises(UnknownKeyError):
                shell.lookup(f"random-{i}", T0 + 1 + i * 0.0149)  # up to T0 + 30.8
        assert len(shell.fetched) == 2
        # ... until it ends: then one fetch at most for the next flood.
        for i in range(2000):
            with pytest.raises(UnknownKeyError):
                shell.lookup(f"again-{i}", T0 + 31 + i * 0.0149)
        assert len(shell.fetched) == 3

    def test_a_key_rotated_in_just_after_a_ttl_refresh_is_accepted_at_once(self, shell):
        warm(shell)
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 10)  # a probe (its set is fresh until T0 + 610)
        shell.lookup("k1", T0 + 610)  # the routine refresh past the TTL
        assert len(shell.fetched) == 3
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        assert shell.lookup("k2", T0 + 611).kid == "k2"
        assert len(shell.fetched) == 4

    def test_a_routine_refresh_during_the_cooldown_neither_resets_nor_ends_it(self):
        shell = Shell(configured(CachePolicy(ttl=20, min_ttl=1, unknown_kid_cooldown=30)))
        shell.responses[JWKS_URI] = key_set_document("k1")
        warm(shell)
        with pytest.raises(UnknownKeyError):
            shell.lookup("k8", T0 + 10)  # the probe: cooldown until T0 + 40, fresh until 30
        shell.lookup("k1", T0 + 30)  # the routine refresh lands mid-cooldown
        assert len(shell.fetched) == 3
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 31)  # not ended by the refresh
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 39.9)
        assert len(shell.fetched) == 3
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 40)  # not restarted by it either (that would be T0 + 60)
        assert len(shell.fetched) == 4

    def test_failed_routine_refreshes_start_no_cooldown(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("connection refused")
        assert shell.lookup("k1", T0 + 600).kid == "k1"  # stale keys serve
        shell.responses[JWKS_URI] = key_set_document("k1")
        assert shell.lookup("k1", T0 + 601).kid == "k1"  # the refresh after the backoff
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        assert shell.lookup("k2", T0 + 602).kid == "k2"
        assert len(shell.fetched) == 4

    def test_forget_ends_the_cooldown(self, shell):
        warm(shell)
        with pytest.raises(UnknownKeyError):
            shell.lookup("k9", T0 + 1)
        shell.cache.forget()
        assert shell.lookup("k1", T0 + 2).kid == "k1"  # fetched afresh
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")
        assert shell.lookup("k2", T0 + 3).kid == "k2"  # no cooldown survived
        assert len(shell.fetched) == 4

    def test_T94_a_new_key_is_found_by_one_refetch_and_a_removed_key_lapses_with_the_ttl(
        self, shell
    ):
        warm(shell)
        shell.responses[JWKS_URI] = key_set_document("k1", "k2")  # the next key is published
        assert shell.lookup("k2", T0 + 30).kid == "k2"
        assert shell.lookup("k1", T0 + 31).kid == "k1"
        assert len(shell.fetched) == 2
        shell.responses[JWKS_URI] = key_set_document("k2")  # the old key is revoked
        assert shell.lookup("k1", T0 + 629).kid == "k1"  # still cached: fresh until T0 + 630
        assert len(shell.fetched) == 2
        with pytest.raises(UnknownKeyError):
            shell.lookup("k1", T0 + 630)  # the TTL refetch drops it, no unknown kid needed
        assert len(shell.fetched) == 3
        assert shell.lookup("k2", T0 + 631).kid == "k2"
        assert len(shell.fetched) == 3


# --- generations: single flight and ordering --------------------------------------------------


class TestGenerations:
    def test_begin_returns_false_when_another_fetch_finished_since_the_request_was_made(self):
        cache = configured()
        mine = cache.locate(ISSUER, "k1", ALG, T0, set())
        theirs = cache.locate(ISSUER, "k1", ALG, T0, set())
        assert cache.begin(theirs, T0)
        cache.store(theirs, key_set_document("k1"), T0 + 0.2)
        assert not cache.begin(mine, T0 + 0.3)
        assert isinstance(cache.locate(ISSUER, "k1", ALG, T0 + 0.3, set()), VerificationKey)

    def test_begin_returns_false_after_a_failure_settled_the_generation_too(self):
        cache = configured()
        mine = cache.locate(ISSUER, "k1", ALG, T0, set())
        assert cache.begin(mine, T0)
        cache.store(mine, FetchFailure("down"), T0)
        assert not cache.begin(mine, T0 + 5)
        assert cache.locate(ISSUER, "k1", ALG, T0 + 5, set()) == FetchKeySet(JWKS_URI, 1)

    def test_T95_an_older_in_flight_fetch_cannot_overwrite_a_newer_key_set(self, shell):
        warm(shell)
        cache = shell.cache
        hung = cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert cache.begin(hung, T0 + 600)  # this fetch hangs ...
        assert cache.begin(hung, T0 + 612)  # ... so another caller takes it over
        cache.store(hung, key_set_document("k2"), T0 + 613)  # the takeover finishes first
        cache.store(hung, key_set_document("k1"), T0 + 615)  # the old answer arrives late
        assert cache.locate(ISSUER, "k2", ALG, T0 + 616, set()).kid == "k2"
        assert [k.kid for k in cache.key_set(JWKS_URI).keys] == ["k2"]

    def test_T95_a_late_failure_of_an_outdated_fetch_is_dropped_too(self, shell):
        warm(shell)
        cache = shell.cache
        old = cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert cache.begin(old, T0 + 600)
        cache.store(old, key_set_document("k1"), T0 + 601)
        cache.store(old, FetchFailure("late timeout"), T0 + 602)
        cache.abandon(old, T0 + 603)
        # Neither counted: the next refresh is due on time, for the next generation.
        assert cache.prefetch(ISSUER, T0 + 1201, set()) == FetchKeySet(JWKS_URI, 2)

    def test_T95_a_fetch_asked_before_a_newer_set_arrived_cannot_store_over_it(self, shell):
        warm(shell)
        cache = shell.cache
        outdated = FetchKeySet(JWKS_URI, 0)  # asked on the cold cache, finishing only now
        cache.store(outdated, key_set_document("k3"), T0 + 1)
        assert cache.locate(ISSUER, "k1", ALG, T0 + 1, set()).kid == "k1"
        with pytest.raises(UnknownKeyError):
            cache.locate(ISSUER, "k3", ALG, T0 + 1, {("jwks", JWKS_URI)})

    def test_every_settled_fetch_moves_the_generation_on(self, shell):
        warm(shell)
        assert shell.cache.locate(ISSUER, "k1", ALG, T0 + 600, set()).generation == 1
        shell.responses[JWKS_URI] = FetchFailure("down")
        shell.lookup("k1", T0 + 600)
        assert shell.cache.locate(ISSUER, "k1", ALG, T0 + 601, set()).generation == 2


# --- abandon and prefetch ---------------------------------------------------------------------


class TestAbandon:
    def test_an_abandoned_first_fetch_counts_as_a_failure(self):
        cache = configured()
        fetch = cache.locate(ISSUER, "k1", ALG, T0, set())
        assert cache.begin(fetch, T0)
        notes = cache.abandon(fetch, T0 + 2)
        assert not cache.begin(fetch, T0 + 2)
        with pytest.raises(KeySetUnavailableError) as caught:
            cache.locate(ISSUER, "k1", ALG, T0 + 2.5, set())
        assert caught.value.retry_after == 1
        assert cache.locate(ISSUER, "k1", ALG, T0 + 3, set()) == FetchKeySet(JWKS_URI, 1)
        assert any("abandoned" in note for note in notes)

    def test_an_abandoned_refresh_keeps_serving_the_stale_keys(self, shell):
        key = warm(shell)
        fetch = shell.cache.locate(ISSUER, "k1", ALG, T0 + 600, set())
        assert shell.cache.begin(fetch, T0 + 600)
        shell.cache.abandon(fetch, T0 + 605)
        assert shell.cache.locate(ISSUER, "k1", ALG, T0 + 605.5, set()) is key
        assert isinstance(shell.cache.locate(ISSUER, "k1", ALG, T0 + 606, set()), FetchKeySet)


class TestPrefetch:
    def test_a_configured_issuer_needs_its_key_set_then_nothing_until_the_ttl(self, shell):
        cache = shell.cache
        assert cache.prefetch(ISSUER, T0, set()) == FetchKeySet(JWKS_URI, 0)
        shell.settle(FetchKeySet(JWKS_URI, 0), T0)
        assert cache.prefetch(ISSUER, T0 + 599, set()) is None
        assert cache.prefetch(ISSUER, T0 + 600, set()) == FetchKeySet(JWKS_URI, 1)

    def test_a_discovered_issuer_needs_discovery_then_its_key_set(self):
        shell = Shell(discovering())
        shell.responses.update({OIDC_URL: discovery_document(), JWKS_URI: key_set_document("k1")})
        refreshed: set[tuple[str, str]] = set()
        while (step := shell.cache.prefetch(ISSUER, T0, refreshed)) is not None:
            refreshed.add(step.key)
            shell.settle(step, T0)
        assert shell.urls() == [OIDC_URL, JWKS_URI]
        assert isinstance(shell.cache.locate(ISSUER, "k1", ALG, T0, set()), VerificationKey)

    def test_a_failed_prefetch_on_a_cold_cache_raises_503(self):
        cache = configured()
        step = cache.prefetch(ISSUER, T0, set())
        assert cache.begin(step, T0)
        cache.store(step, FetchFailure("down"), T0)
        with pytest.raises(KeySetUnavailableError):
            cache.prefetch(ISSUER, T0, {step.key})

    def test_a_failed_discovery_prefetch_raises_503(self):
        cache = discovering()
        step = cache.prefetch(ISSUER, T0, set())
        assert step == FetchDiscovery(ISSUER, 0)
        assert cache.begin(step, T0)
        cache.store(step, FetchFailure("down"), T0)
        with pytest.raises(KeySetUnavailableError):
            cache.prefetch(ISSUER, T0, {step.key})

    def test_a_failed_prefetch_with_stale_keys_is_settled(self, shell):
        warm(shell)
        shell.responses[JWKS_URI] = FetchFailure("down")
        step = shell.cache.prefetch(ISSUER, T0 + 600, set())
        shell.settle(step, T0 + 600)
        assert shell.cache.prefetch(ISSUER, T0 + 600, {step.key}) is None


# --- discovery --------------------------------------------------------------------------------


class TestDiscovery:
    @pytest.mark.parametrize(
        "outcome",
        [
            pytest.param(discovery_document(issuer="https://evil.example/"), id="other-issuer"),
            pytest.param(discovery_document(issuer="https://tenant.auth0.com//"), id="two-slashes"),
            pytest.param(discovery_document(issuer="http://tenant.auth0.com/"), id="http"),
            pytest.param(discovery_document(issuer="https://tenant.auth0.com/x"), id="path"),
            pytest.param(discovery_document(issuer=None), id="no-issuer"),
            pytest.param(discovery_document(issuer=[ISSUER]), id="issuer-list"),
            pytest.param(discovery_document(jwks_uri=None), id="no-jwks_uri"),
            pytest.param(discovery_document(jwks_uri=42), id="jwks_uri-number"),
            pytest.param(
                discovery_document(jwks_uri="http://tenant.auth0.com/jwks.json"), id="http"
            ),
            pytest.param(
                discovery_document(jwks_uri="http://169.254.169.254/latest"), id="http-metadata"
            ),
            pytest.param(
                discovery_document(jwks_uri="https://u:p@tenant.auth0.com/jwks.json"), id="creds"
            ),
            pytest.param(
                discovery_document(jwks_uri="https://tenant.auth0.com/jwks.json?a=1"), id="query"
            ),
            pytest.param(discovery_document(jwks_uri="file:///etc/passwd"), id="file"),
            pytest.param(discovery_document(jwks_uri="/jwks.json"), id="relative"),
            pytest.param(Document(500, JSON, discovery_document().body), id="500"),
            pytest.param(
                Document(200, {"content-type": "text/html"}, discovery_document().body),
                id="html-type",
            ),
            pytest.param(Document(200, JSON, b"<html>"), id="not-json"),
            pytest.param(Document(200, JSON, b"[]"), id="array"),
            pytest.param(FetchFailure("connection refused"), id="refused"),
        ],
    )
    def test_T91_T93_an_unusable_discovery_document_is_a_failure(self, outcome):
        shell = Shell(discovering())
        shell.responses[OIDC_URL] = outcome
        with pytest.raises(KeySetUnavailableError) as caught:
            shell.lookup("k1", T0)
        assert caught.value.status_code == 503
        assert shell.cache.jwks_uri(ISSUER) is None
        assert JWKS_URI not in shell.urls()
        assert all(isinstance(r, FetchDiscovery) for r in shell.requests)

    def test_an_issuer_mismatch_is_reported_with_the_hint_about_trailing_slashes(self):
        shell = Shell(discovering())
        shell.responses[OIDC_URL] = discovery_document(issuer="https://tenant.auth0.com//")
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k1", T0)
        (message,) = shell.notes
        assert "'https://tenant.auth0.com//'" in message
        assert "trailing slash" in message

    @pytest.mark.parametrize(
        "named",
        ["https://tenant.auth0.com", "HTTPS://TENANT.auth0.com/", "https://tenant.auth0.com:443"],
    )
    def test_the_document_may_spell_the_issuer_s_url_another_equivalent_way(self, named):
        shell = Shell(discovering())
        shell.responses.update(
            {OIDC_URL: discovery_document(issuer=named), JWKS_URI: key_set_document("k1")}
        )
        assert shell.lookup("k1", T0).kid == "k1"
        assert shell.cache.jwks_uri(ISSUER) == JWKS_URI

    def test_a_failed_discovery_backs_off_before_trying_again(self):
        shell = Shell(discovering())
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k1", T0)
        with pytest.raises(KeySetUnavailableError):
            shell.lookup("k1", T0 + 0.5)
        assert shell.urls() == [OIDC_URL]
        shell.responses.update({OIDC_URL: discovery_document(), JWKS_URI: key_set_document("k1")})
        assert shell.lookup("k1", T0 + 1).kid == "k1"

    def test_an_http_jwks_uri_is_accepted_for_a_loopback_issuer(self):
        issuer = "http://127.0.0.1:8080/"
        jwks_uri = "http://127.0.0.1:8080/jwks"
        shell = Shell(discovering(), issuer=issuer)
        shell.responses.update(
            {
                "http://127.0.0.1:8080/.well-known/openid-configuration": Document(
                    200, JSON, json.dumps({"issuer": issuer, "jwks_uri": jwks_uri}).encode()
                ),
                jwks_uri: key_set_document("k1"),
            }
        )
        assert shell.lookup("k1", T0).kid == "k1"
        assert shell.cache.jwks_uri(issuer) == jwks_uri

    def test_a_jwks_uri_on_another_https_host_is_accepted(self):
        # Google's issuer is accounts.google.com, its keys are on www.googleapis.com.
        elsewhere = "https://keys.example.net/oauth2/v3/certs"
        shell = Shell(discovering())
        shell.responses.update(
            {OIDC_URL: discovery_document(jwks_uri=elsewhere), elsewhere: key_set_document("k1")}
        )
        assert shell.lookup("k1", T0).kid == "k1"
        assert shell.urls() == [OIDC_URL, elsewhere]

    def test_rfc8414_metadata_is_used_when_oidc_discovery_is_not_found(self):
        shell = Shell(discovering())
        shell.responses.update(
            {
                OIDC_URL: Document(404, {}, b"not found"),
                RFC8414_URL: discovery_document(),
                JWKS_URI: key_set_document("k1"),
            }
        )
        assert shell.lookup("k1", T0).kid == "k1"
        assert shell.urls() == [OIDC_URL, RFC8414_URL, JWKS_URI]

    def test_the_discovered_url_is_rediscovered_after_the_discovery_ttl(self):
        shell = Shell(discovering(CachePolicy(discovery_ttl=3600)))
        moved = "https://tenant.auth0.com/keys/v2"
        shell.responses.update({OIDC_URL: discovery_document(), JWKS_URI: key_set_document("k1")})
        shell.lookup("k1", T0)
        shell.lookup("k1", T0 + 3599)
        assert shell.urls() == [OIDC_URL, JWKS_URI, JWKS_URI]
        shell.responses.update(
            {OIDC_URL: discovery_document(jwks_uri=moved), moved: key_set_document("k2")}
        )
        assert shell.lookup("k2", T0 + 3600).kid == "k2"
        assert shell.urls()[3:] == [OIDC_URL, moved]
        assert shell.cache.jwks_uri(ISSUER) == moved

    def test_a_failed_rediscovery_keeps_using_the_discovered_url(self):
        shell = Shell(discovering(CachePolicy(discovery_ttl=3600)))
        shell.responses.update({OIDC_URL: discovery_document(), JWKS_URI: key_set_document("k1")})
        shell.lookup("k1", T0)
        shell.responses[OIDC_URL] = Document(500, JSON, b"{}")
        assert shell.lookup("k1", T0 + 3600).kid == "k1"
        assert shell.urls()[2:] == [OIDC_URL, JWKS_URI]
        assert shell.cache.jwks_uri(ISSUER) == JWKS_URI
        assert shell.lookup("k1", T0 + 3600.5).kid == "k1"  # backing off: no new attempt
        assert len(shell.fetched) == 4


class TestDiscoveryUrls:
    @pytest.mark.parametrize(
        ("issuer", "oidc", "rfc8414"),
        [
            (
                "https://tenant.auth0.com/",
                "https://tenant.auth0.com/.well-known/openid-configuration",
                "https://tenant.auth0.com/.well-known/oauth-authorization-server",
            ),
            (
                "https://tenant.auth0.com",
                "https://tenant.auth0.com/.well-known/openid-configuration",
                "https://tenant.auth0.com/.well-known/oauth-authorization-server",
            ),
            (
                "https://login.example.com/realms/main",
                "https://login.example.com/realms/main/.well-known/openid-configuration",
                "https://login.example.com/.well-known/oauth-authorization-server/realms/main",
            ),
            (
                "https://login.example.com/realms/main/",
                "https://login.example.com/realms/main/.well-known/openid-configuration",
                "https://login.example.com/.well-known/oauth-authorization-server/realms/main",
            ),
            (
                "http://127.0.0.1:8080/",
                "http://127.0.0.1:8080/.well-known/openid-configuration",
                "http://127.0.0.1:8080/.well-known/oauth-authorization-server",
            ),
        ],
    )
    def test_oidc_form_appends_and_rfc8414_form_inserts_the_well_known_path(
        self, issuer, oidc, rfc8414
    ):
        assert discovery_urls(issuer) == (oidc, rfc8414)


def run_plan(fetch: Fetch, outcomes: list[Outcome]) -> tuple[list[str], Outcome]:
    """The URLs a plan asks for, answered in turn by ``outcomes``, and what it returns."""
    plan = fetch.plan()
    asked = [next(plan)]
    answers = iter(outcomes)
    try:
        while True:
            asked.append(plan.send(next(answers)))
    except StopIteration as finished:
        return asked, finished.value


class TestPlans:
    def test_a_key_set_plan_fetches_its_one_url(self):
        ok = key_set_document("k1")
        assert run_plan(FetchKeySet(JWKS_URI, 0), [ok]) == ([JWKS_URI], ok)

    def test_a_discovery_plan_stops_at_the_oidc_document(self):
        ok = discovery_document()
        assert run_plan(FetchDiscovery(ISSUER, 0), [ok]) == ([OIDC_URL], ok)

    def test_a_discovery_plan_falls_back_to_rfc8414_on_a_404(self):
        ok = discovery_document()
        asked, outcome = run_plan(FetchDiscovery(ISSUER, 0), [Document(404, {}, b""), ok])
        assert asked == [OIDC_URL, RFC8414_URL]
        assert outcome is ok

    @pytest.mark.parametrize(
        "first",
        [
            Document(500, {}, b""),
            Document(403, {}, b""),
            Document(410, {}, b""),
            Document(200, JSON, b"[]"),
            FetchFailure("timeout"),
        ],
    )
    def test_a_discovery_plan_falls_back_on_a_404_only(self, first):
        assert run_plan(FetchDiscovery(ISSUER, 0), [first]) == ([OIDC_URL], first)

    def test_two_404s_end_the_discovery_plan_with_the_second(self):
        second = Document(404, {}, b"second")
        asked, outcome = run_plan(FetchDiscovery(ISSUER, 0), [Document(404, {}, b""), second])
        assert asked == [OIDC_URL, RFC8414_URL]
        assert outcome is second

    def test_fetch_keys_name_the_cache_entry(self):
        assert FetchKeySet(JWKS_URI, 3).key == ("jwks", JWKS_URI)
        assert FetchDiscovery(ISSUER, 3).key == ("discovery", ISSUER)


# --- end to end through a Verifier --------------------------------------------------------------


class TestThroughTheVerifier:
    """The same rules with real tokens, the in-process provider and the test clock."""

    JWKS_PATH = "/.well-known/jwks.json"
    OIDC_PATH = "/.well-known/openid-configuration"

    def test_failed_refreshes_and_skipped_keys_are_logged_as_warnings(
        self, make_verifier, provider, clock, verify, caplog
    ):
        caplog.set_level(logging.WARNING, logger="bearerguard")
        provider.jwks_extra.append({"kty": "XYZ", "kid": "odd"})
        verifier = make_verifier()
        verify(verifier, provider.token())
        clock.advance(601)
        provider.override[self.JWKS_PATH] = lambda request: httpx.Response(500)
        assert verify(verifier, provider.token()).subject == "auth0|123"  # stale keys serve
        messages = [r.getMessage() for r in caplog.records if r.name == "bearerguard"]
        assert all(r.levelno == logging.WARNING for r in caplog.records if r.name == "bearerguard")
        assert any("'odd'" in m and provider.jwks_uri in m for m in messages)
        assert any("HTTP 500" in m and "keeping the last good copy" in m for m in messages)

    def test_two_verifications_fetch_discovery_and_the_key_set_once(
        self, make_verifier, provider, verify
    ):
        verifier = make_verifier()
        verify(verifier, provider.token())
        verify(verifier, provider.token())
        assert provider.jwks_hits == 1
        assert provider.hits[self.OIDC_PATH] == 1

    def test_the_key_set_is_refetched_after_its_ttl(self, make_verifier, provider, clock, verify):
        verifier = make_verifier()
        verify(verifier, provider.token())
        clock.advance(599)
        verify(verifier, provider.token())
        assert provider.jwks_hits == 1
        clock.advance(1)
        verify(verifier, provider.token())
        assert provider.jwks_hits == 2

    def test_T88_cached_keys_verify_while_the_provider_fails_until_the_stale_window_ends(
        self, make_verifier, provider, clock, verify
    ):
        verifier = make_verifier(cache=CachePolicy(stale_if_error=300))
        verify(verifier, provider.token())
        provider.override[self.JWKS_PATH] = lambda request: httpx.Response(500)
        clock.advance(600)
        assert verify(verifier, provider.token()).subject == "auth0|123"
        assert provider.jwks_hits == 2
        clock.advance(299)
        verify(verifier, provider.token())
        clock.advance(1)
        with pytest.raises(KeySetUnavailableError) as caught:
            verify(verifier, provider.token())
        assert caught.value.status_code == 503
        assert int(caught.value.headers["Retry-After"]) >= 1
        # Recovery: the provider comes back and the next attempt succeeds.
        del provider.override[self.JWKS_PATH]
        clock.advance(caught.value.retry_after)
        assert verify(verifier, provider.token()).subject == "auth0|123"

    def test_T87_a_cold_cache_answers_503_while_the_provider_is_down_then_recovers(
        self, make_verifier, provider, clock, verify
    ):
        verifier = make_verifier()
        provider.override[self.JWKS_PATH] = lambda request: httpx.Response(503)
        with pytest.raises(KeySetUnavailableError):
            verify(verifier, provider.token())
        with pytest.raises(KeySetUnavailableError):
            verify(verifier, provider.token())
        assert provider.jwks_hits == 1  # backing off: no fetch per request
        del provider.override[self.JWKS_PATH]
        clock.advance(1)
        verify(verifier, provider.token())
        assert provider.jwks_hits == 2

    def test_T45_unknown_kid_refetches_are_throttled(self, make_verifier, provider, clock, verify):
        verifier = make_verifier()
        verify(verifier, provider.token())
        ghost = sign_token({"alg": "RS256", "typ": "JWT", "kid": "ghost"}, claims(), rsa_key(1))
        clock.advance(30)
        for _ in range(20):
            with pytest.raises(UnknownKeyError):
                verify(verifier, ghost)
            clock.advance(1)
        assert provider.jwks_hits == 2
        clock.advance(10)
        with pytest.raises(UnknownKeyError):
            verify(verifier, ghost)
        assert provider.jwks_hits == 3

    def test_T94_a_rotated_in_key_verifies_after_one_refetch(
        self, make_verifier, provider, clock, verify
    ):
        verifier = make_verifier()
        verify(verifier, provider.token("k1"))
        provider.keys["k2"] = ("RS256", rsa_key(1))
        clock.advance(30)
        assert verify(verifier, provider.token("k2")).subject == "auth0|123"
        assert verify(verifier, provider.token("k1")).subject == "auth0|123"
        assert provider.jwks_hits == 2

    def test_a_key_rotated_in_a_second_after_the_first_fetch_verifies_on_its_first_request(
        self, make_verifier, provider, clock, verify
    ):
        verifier = make_verifier()
        verify(verifier, provider.token("k1"))
        clock.advance(1)
        provider.keys["k2"] = ("RS256", rsa_key(1))
        assert verify(verifier, provider.token("k2")).subject == "auth0|123"
        assert provider.jwks_hits == 2
        ghost = sign_token({"alg": "RS256", "typ": "JWT", "kid": "ghost"}, claims(), rsa_key(2))
        for _ in range(20):  # within the cooldown that refetch started
            with pytest.raises(UnknownKeyError):
                verify(verifier, ghost)
        assert provider.jwks_hits == 2

    def test_a_discovered_jwks_uri_httpx_cannot_parse_answers_503_not_a_crash(
        self, make_verifier, provider, verify
    ):
        def discovery(request: httpx.Request) -> httpx.Response:
            jwks_uri = "https://tenant.auth0.com/\x00keys"
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": jwks_uri})

        provider.override[self.OIDC_PATH] = discovery
        with pytest.raises(KeySetUnavailableError):
            verify(make_verifier(), provider.token())


class TestStamps:
    """What the verified-token cache asks: is the key set that vouched for a token still it?"""

    def loaded(self, *kids: str) -> KeyCache:
        cache = configured()
        fetch = cache.locate(ISSUER, kids[0], ALG, T0, set())
        assert isinstance(fetch, FetchKeySet)
        cache.begin(fetch, T0)
        cache.store(fetch, key_set_document(*kids), T0)
        return cache

    def refresh(self, cache: KeyCache, now: float, *kids: str) -> None:
        fetch = FetchKeySet(JWKS_URI, cache._entries[("jwks", JWKS_URI)].generation)
        assert cache.begin(fetch, now)
        cache.store(fetch, key_set_document(*kids), now)

    def test_nothing_fetched_yet_has_no_stamp(self):
        assert configured().stamp(ISSUER) is None
        assert KeyCache(CachePolicy(), {}).stamp(ISSUER) is None  # not even discovered

    def test_a_stamp_is_current_while_the_key_set_is_fresh(self):
        cache = self.loaded("k1")
        stamp = cache.stamp(ISSUER)
        assert stamp is not None
        assert cache.is_current(stamp, T0 + 599)
        assert not cache.is_current(stamp, T0 + 600)  # stale: the token must go the full way

    def test_a_refresh_with_the_same_keys_in_another_order_keeps_stamps_current(self):
        cache = self.loaded("k1", "k2")
        stamp = cache.stamp(ISSUER)
        assert stamp is not None
        self.refresh(cache, T0 + 700, "k2", "k1")
        assert cache.is_current(stamp, T0 + 701)

    @pytest.mark.parametrize("kids", [("k1",), ("k1", "k2", "k3"), ("k3", "k2")])
    def test_a_key_set_that_changed_retires_every_stamp(self, kids):
        cache = self.loaded("k1", "k2")
        stamp = cache.stamp(ISSUER)
        assert stamp is not None
        self.refresh(cache, T0 + 700, *kids)
        assert not cache.is_current(stamp, T0 + 701)
        fresh = cache.stamp(ISSUER)
        assert fresh is not None
        assert cache.is_current(fresh, T0 + 701)

    def test_a_probe_that_brings_back_the_same_keys_keeps_stamps_current(self):
        cache = self.loaded("k1", "k2")
        stamp = cache.stamp(ISSUER)
        assert stamp is not None
        probe = cache.locate(ISSUER, "k9", ALG, T0 + 1, set())
        assert isinstance(probe, FetchKeySet)
        assert probe.unknown_kid
        assert cache.begin(probe, T0 + 1)
        cache.store(probe, key_set_document("k2", "k1"), T0 + 1.1)
        assert cache.is_current(stamp, T0 + 2)
        assert cache.key_set(JWKS_URI) is stamp[1]

    def test_a_probe_that_finds_a_rotated_in_key_retires_every_stamp(self):
        cache = self.loaded("k1")
        stamp = cache.stamp(ISSUER)
        assert stamp is not None
        probe = cache.locate(ISSUER, "k2", ALG, T0 + 1, set())
        assert isinstance(probe, FetchKeySet)
        assert cache.begin(probe, T0 + 1)
        cache.store(probe, key_set_document("k1", "k2"), T0 + 1.1)
        assert not cache.is_current(stamp, T0 + 2)

    def test_forget_retires_every_stamp(self):
        cache = self.loaded("k1")
        stamp = cache.stamp(ISSUER)
        assert stamp is not None
        cache.forget()
        assert not cache.is_current(stamp, T0 + 1)
        assert cache.stamp(ISSUER) is None
