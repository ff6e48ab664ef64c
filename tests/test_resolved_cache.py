"""The bounds of a verifier whose issuers are resolved at run time (``issuer=`` a function).

A flood of distinct issuers the function accepts must not exhaust memory or the
network: new issuers are taken in within ``CachePolicy.new_issuers_per_minute`` (a
token bucket; beyond it, 503 with ``Retry-After``), at most ``CachePolicy.max_issuers``
are kept (the least recently used forgotten first), a made-up issuer whose first
fetch fails is forgotten at once, and the issuers in use keep working throughout.
Sync, async and threads alike; a new issuer is fetched once however many ask at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    CachePolicy,
    InvalidIssuerError,
    InvalidSignatureError,
    KeySetUnavailableError,
    Verifier,
)
from bearerguard._keycache import Document, FetchDiscovery
from bearerguard._resolved_cache import ResolvedKeyCache
from tests.support import AUDIENCE, Clock, public_jwk, rsa_key
from tests.tenants import Tenants, trusted_tenant

MakeVerifier = Callable[..., Verifier]


@pytest.fixture
def tenants() -> Tenants:
    return Tenants()


@pytest.fixture
def resolving(tenants: Tenants, clock: Clock) -> MakeVerifier:
    """A verifier trusting every tenant the documented function accepts; kwargs: its cache."""
    return lambda **policy: tenants.verifier(clock, cache=CachePolicy(**policy))


def cache_of(verifier: Verifier) -> ResolvedKeyCache:
    cache = verifier._plan.cache
    assert isinstance(cache, ResolvedKeyCache)
    return cache


def attempt(verifier: Verifier, token: str) -> AccessToken | BearerError:
    try:
        return verifier.verify(token)
    except BearerError as exc:
        return exc


def test_only_a_function_issuer_gets_the_bounded_cache(resolving: MakeVerifier):
    assert isinstance(resolving()._plan.cache, ResolvedKeyCache)
    plain = Verifier(issuer="tenant.auth0.com", audience=AUDIENCE)
    assert type(plain._plan.cache).__name__ == "KeyCache"


def test_new_issuers_beyond_the_budget_get_503_with_retry_after(
    resolving: MakeVerifier, tenants: Tenants, clock: Clock
):
    verifier = resolving(new_issuers_per_minute=10)
    outcomes = [attempt(verifier, tenants.forged(f"t{i}")) for i in range(1000)]
    checked = [o for o in outcomes if isinstance(o, InvalidSignatureError)]  # keys were had
    refused = [o for o in outcomes if isinstance(o, KeySetUnavailableError)]
    assert len(checked) == 10
    assert len(refused) == 990
    assert {o.headers["Retry-After"] for o in refused} == {"6"}  # one unit per 6 s at 10/min
    assert tenants.hits() == 20  # ten issuers, a discovery and a key set each: nothing else
    clock.advance(6)
    assert isinstance(attempt(verifier, tenants.token("late")), AccessToken)
    assert isinstance(attempt(verifier, tenants.token("later")), KeySetUnavailableError)


def test_known_issuers_never_spend_the_budget(resolving: MakeVerifier, tenants: Tenants):
    verifier = resolving(new_issuers_per_minute=1)
    for _ in range(50):
        assert verifier.verify(tenants.token("acme", sub="x")).issuer
    assert isinstance(attempt(verifier, tenants.token("globex")), KeySetUnavailableError)


def test_the_budget_is_a_bucket_refilled_at_its_rate_up_to_its_size(
    resolving: MakeVerifier, tenants: Tenants, clock: Clock
):
    verifier = resolving(new_issuers_per_minute=60)
    clock.advance(3600)  # an idle hour refills no more than the bucket holds
    names = iter(range(10_000))

    def taken(prefix: str) -> int:
        outcomes = [attempt(verifier, tenants.forged(f"{prefix}{next(names)}")) for _ in range(200)]
        return sum(isinstance(o, InvalidSignatureError) for o in outcomes)

    assert taken("a") == 60
    clock.advance(10)  # one a second
    assert taken("b") == 10


def test_at_most_max_issuers_are_kept_the_least_recently_used_forgotten_first(
    resolving: MakeVerifier, tenants: Tenants
):
    verifier = resolving(max_issuers=3, new_issuers_per_minute=6000)
    for name in ("a", "b", "c"):
        verifier.verify(tenants.token(name))
    verifier.verify(tenants.token("a", sub="again"))  # a is used: b is now the oldest
    verifier.verify(tenants.token("d"))
    cache = cache_of(verifier)
    assert cache.known_issuers() == tuple(Tenants.issuer(n) for n in ("c", "a", "d"))
    assert len(cache._entries) == 6  # a discovery document and a key set each
    assert tenants.hits("b") == 2
    verifier.verify(tenants.token("b", sub="back"))  # forgotten: fetched again
    assert tenants.hits("b") == 4


def test_a_flood_keeps_memory_and_fetches_bounded_and_the_known_issuer_served(
    resolving: MakeVerifier, tenants: Tenants, clock: Clock
):
    """Thousands of distinct issuers the function accepts, some real, most made up."""
    tenants.real = {"acme"} | {f"real{i}" for i in range(100)}
    verifier = resolving(max_issuers=50, new_issuers_per_minute=120)
    acme = tenants.token("acme")
    assert verifier.verify(acme).issuer
    served = 0
    for i in range(5000):
        name = f"real{i % 100}" if i % 3 == 0 else f"fake{i}"
        attempt(verifier, tenants.forged(name, sub=f"s{i}"))
        if i % 10 == 0:
            assert verifier.verify(tenants.token("acme", sub=f"new{i}")).issuer  # a new token
            assert verifier.verify(acme).issuer  # and a remembered one
            served += 2
        clock.advance(0.05)  # the flood lasts 250 s
    cache = cache_of(verifier)
    assert served == 1000
    assert len(cache.known_issuers()) <= 50
    assert len(cache._entries) <= 2 * 50
    assert tenants.hits("acme") == 2  # never forgotten, never fetched again
    # 250 s at 120 a minute: at most 120 + 500 new issuers, each at most a discovery and a key
    # set (a made-up one: its discovery, then the RFC 8414 one; real ones: discovery + keys).
    assert tenants.hits() <= 2 * (120 + 500) + 2
    assert len(verifier.config.issuer_index.spellings) <= 4096


def test_an_issuer_in_use_only_through_remembered_tokens_is_kept(
    resolving: MakeVerifier, tenants: Tenants, clock: Clock
):
    verifier = resolving(max_issuers=5, new_issuers_per_minute=6000)
    token = tenants.token("acme")
    for _ in range(3):
        verifier.verify(token)  # from now on answered by the verified-token cache
    for i in range(200):
        attempt(verifier, tenants.forged(f"t{i}"))
        assert verifier.verify(token).issuer
    assert Tenants.issuer("acme") in cache_of(verifier).known_issuers()
    assert tenants.hits("acme") == 2


def test_a_made_up_issuer_is_forgotten_when_its_first_discovery_fails(
    resolving: MakeVerifier, tenants: Tenants
):
    tenants.real = set()
    verifier = resolving(new_issuers_per_minute=5)
    for _ in range(3):
        assert isinstance(attempt(verifier, tenants.token("ghost")), KeySetUnavailableError)
    cache = cache_of(verifier)
    assert cache.known_issuers() == ()
    assert cache._entries == {}
    assert tenants.hits("ghost") == 6  # OIDC then RFC 8414 discovery, once per unit spent
    for i in range(10):
        attempt(verifier, tenants.token(f"ghost{i}"))
    assert tenants.hits() == 6 + 2 * 2  # the two units left; then 503 without a fetch


def test_an_issuer_whose_key_set_never_answered_is_forgotten(
    resolving: MakeVerifier, tenants: Tenants
):
    original = tenants.respond

    def no_keys(request: Any) -> Any:
        if request.url.path == "/jwks.json":
            tenants.requested.append(str(request.url))
            return httpx.Response(500)
        return original(request)

    tenants.respond = no_keys  # type: ignore[method-assign]
    verifier = resolving()
    assert isinstance(attempt(verifier, tenants.token("acme")), KeySetUnavailableError)
    cache = cache_of(verifier)
    assert cache.known_issuers() == ()
    assert cache._entries == {}


def test_configured_issuers_are_neither_counted_nor_forgotten(tenants: Tenants, clock: Clock):
    key = {"keys": [public_jwk(rsa_key(0), kid="k1", alg="RS256")]}
    verifier = Verifier(
        issuer=trusted_tenant,
        audience=AUDIENCE,
        keys={Tenants.issuer("pinned"): key},
        authorization_servers=["https://home.id.example.com/"],
        cache=CachePolicy(max_issuers=2, new_issuers_per_minute=6000),
        clock=clock.time,
        monotonic=clock.monotonic,
        **tenants.transports(),
    )
    verifier.verify(tenants.token("home"))
    for i in range(20):
        verifier.verify(tenants.token(f"t{i}"))
    verifier.verify(tenants.token("home", sub="y"))
    verifier.verify(tenants.token("pinned"))
    assert tenants.hits("home") == 2
    assert tenants.hits("pinned") == 0
    assert len(cache_of(verifier).known_issuers()) == 2


def test_forget_keys_forgets_the_issuers_resolved_at_run_time(
    resolving: MakeVerifier, tenants: Tenants
):
    verifier = resolving()
    verifier.verify(tenants.token("acme"))
    verifier.forget_keys()
    assert cache_of(verifier).known_issuers() == ()
    assert cache_of(verifier)._entries == {}
    verifier.verify(tenants.token("acme", sub="z"))
    assert tenants.hits("acme") == 4


def test_a_fetch_of_an_issuer_forgotten_meanwhile_is_dropped(tenants: Tenants):
    cache = ResolvedKeyCache(
        CachePolicy(max_issuers=1), {}, {}, configured=(), lock=threading.Lock()
    )
    first = cache.locate(Tenants.issuer("a"), "k1", "RS256", 0.0, frozenset())
    assert isinstance(first, FetchDiscovery)
    assert cache.begin(first, 0.0)
    cache.locate(Tenants.issuer("b"), "k1", "RS256", 0.0, frozenset())  # pushes a out
    assert cache.known_issuers() == (Tenants.issuer("b"),)
    body = b'{"issuer": "https://a.id.example.com/", "jwks_uri": "https://a.id.example.com/j"}'
    cache.store(first, Document(200, {"content-type": "application/json"}, body), 1.0)
    assert ("discovery", Tenants.issuer("a")) not in cache._entries
    assert not cache.begin(first, 1.0)  # a begin for it is refused too: the caller looks again


def test_concurrent_tokens_of_one_new_issuer_fetch_once_async(
    resolving: MakeVerifier, tenants: Tenants
):
    tenants.delay = 0.05
    verifier = resolving(new_issuers_per_minute=1)

    async def many() -> list[AccessToken]:
        tokens = [tenants.token("acme", sub=f"u{i}") for i in range(50)]
        return list(await asyncio.gather(*(verifier.averify(t) for t in tokens)))

    assert len(asyncio.run(many())) == 50
    assert tenants.hosts() == {"acme.id.example.com": 2}


def test_concurrent_tokens_of_one_new_issuer_fetch_once_threads(
    resolving: MakeVerifier, tenants: Tenants
):
    tenants.delay = 0.05
    verifier = resolving(new_issuers_per_minute=1)
    tokens = [tenants.token("acme", sub=f"u{i}") for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert all(t.issuer for t in pool.map(verifier.verify, tokens))
    assert tenants.hosts() == {"acme.id.example.com": 2}


def test_an_async_flood_is_bounded_as_the_sync_one(resolving: MakeVerifier, tenants: Tenants):
    verifier = resolving(max_issuers=40, new_issuers_per_minute=30)
    acme = tenants.token("acme")
    verifier.verify(acme)

    async def flood() -> list[AccessToken | BaseException]:
        tokens = [tenants.forged(f"t{i}") for i in range(2000)]
        return list(
            await asyncio.gather(*(verifier.averify(t) for t in tokens), return_exceptions=True)
        )

    outcomes = asyncio.run(flood())
    signed = sum(isinstance(o, InvalidSignatureError) for o in outcomes)  # keys fetched
    assert signed == 29  # the bucket, less acme
    assert all(isinstance(o, (InvalidSignatureError, KeySetUnavailableError)) for o in outcomes)
    assert len(cache_of(verifier).known_issuers()) == 30
    assert tenants.hits() == 2 * 30
    assert asyncio.run(verifier.averify(acme)).issuer


def test_an_issuer_the_function_rejects_never_spends_the_budget(
    resolving: MakeVerifier, tenants: Tenants
):
    verifier = resolving(new_issuers_per_minute=1)
    for i in range(100):
        with pytest.raises(InvalidIssuerError):
            verifier.verify(tenants.token("x", iss=f"https://t{i}.other.example/"))
    assert verifier.verify(tenants.token("acme")).issuer
