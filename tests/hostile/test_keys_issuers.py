"""Static keys and issuers resolved at run time, hostile: through the core and every adapter.

- every row of ``keys_issuers_catalogue.py`` through ``verify()``/``averify()`` (judged as
  the main catalogue's rows are: exact refusal, safe answer, fetches only from trusted
  hosts) and, when it can be sent, through every adapter's real test client;
- the crafted issuers against naive predicates, which they fool, and against the
  documented one, which they do not;
- floods of distinct issuers the predicate accepts: bounded memory, bounded fetches, the
  known issuer served, through the core (sync and async) and every adapter;
- ``issuer_for_request`` through every adapter: a request sent whole (DPoP) is judged by
  its own issuers.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    CachePolicy,
    HttpRequest,
    InvalidSignatureError,
    KeySetUnavailableError,
    Verifier,
)
from bearerguard._issuers import issuer_key
from bearerguard._resolved_cache import ResolvedKeyCache
from tests.adapters.harness import ADAPTERS, IdentityProviders, client_factory
from tests.support import AUDIENCE, CUSTOM_DOMAIN, ISSUER
from tests.tenants import Tenants, trusted_tenant

from .builders import Case
from .checks import MODES, Mode, adapter_runs, run_in_adapter, run_in_core
from .dpop_builders import CLIENT, PATH, World, dpop_request, proof
from .keys_issuers_catalogue import KEYS_ISSUERS, SOURCES
from .test_core import world

CASE_ID = re.compile(r"[KI]\d\d-[a-z0-9][a-z0-9-]*")


# --- the table, through the core and every adapter ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", KEYS_ISSUERS, ids=lambda case: case.id)
def test_the_verifier_answers_the_row(
    case: Case, mode: Mode, idp: IdentityProviders, caplog: pytest.LogCaptureFixture
) -> None:
    run_in_core(case, world(idp), idp.verifier, mode, caplog)


@pytest.mark.parametrize(("case", "adapter"), adapter_runs(KEYS_ISSUERS))
def test_the_adapter_answers_the_row(case: Case, adapter: str, idp: IdentityProviders) -> None:
    run_in_adapter(case, world(idp), idp.verifier, adapter)


def test_every_row_has_an_id_of_its_kind_and_a_source() -> None:
    ids = [case.id for case in KEYS_ISSUERS]
    assert [id for id, count in Counter(ids).items() if count > 1] == []
    for id in ids:
        assert CASE_ID.fullmatch(id), id
    rows = {id[:3] for id in ids}
    assert rows - {"K00", "I00"} == SOURCES.keys()  # the twins (accepted) need no source
    for source in SOURCES.values():
        assert source == " ".join(source.split())


# --- naive predicates are fooled; the documented one is not -------------------------------

NAIVE: dict[str, Callable[[str], bool]] = {
    "startswith": lambda iss: iss.startswith("https://acme.id.example.com"),
    "contains": lambda iss: ".id.example.com" in iss,
    "endswith": lambda iss: iss.endswith(".id.example.com/"),
    "hostname suffix": lambda iss: (urlsplit(iss).hostname or "").endswith("id.example.com"),
    "unanchored search": lambda iss: re.search(r"[a-z]+\.id\.example\.com", iss) is not None,
}
#: the crafted issuers of the table that the verifier's own URL rules let reach a predicate
CRAFTED = (
    "https://acme.id.example.com.evil.example/",
    "https://acme.id.example.com:8443/",
    "https://acme.id.example.com./",
    "https://evil.example/acme.id.example.com/",
    "https://evil.example/.id.example.com/",
    "https://evilid.example.com/",
    "https://evil.acme.id.example.com.attacker.example/",
)


def test_the_crafted_issuers_fool_naive_predicates_but_not_the_documented_one() -> None:
    normal = [issuer_key(iss) for iss in CRAFTED]
    assert None not in normal  # sound URLs: the function is asked about each
    for name, naive in NAIVE.items():
        fooled = [iss for iss in normal if iss is not None and naive(iss)]
        assert fooled, f"{name} resists every crafted issuer"
    assert [iss for iss in normal if iss is not None and trusted_tenant(iss)] == []


@pytest.mark.parametrize("name", NAIVE)
def test_a_naive_predicate_lets_a_token_steer_the_fetches(name: str) -> None:
    """Why the predicate matters: the verifier fetches keys from whatever it trusts."""
    tenants = Tenants()
    verifier = Verifier(issuer=NAIVE[name], audience=AUDIENCE, **tenants.transports())
    for iss in CRAFTED:
        with contextlib.suppress(BearerError):
            verifier.verify(tenants.forged("acme", iss=iss))
    tenant_host = re.compile(r"[a-z0-9-]{1,63}\.id\.example\.com")
    attacker_hosts = [host for host in tenants.hosts() if not tenant_host.fullmatch(host)]
    assert attacker_hosts, f"{name} let no crafted issuer steer a fetch"


def test_the_documented_predicate_fetches_nothing_for_the_crafted_issuers() -> None:
    tenants = Tenants()
    verifier = Verifier(issuer=trusted_tenant, audience=AUDIENCE, **tenants.transports())
    for iss in CRAFTED:
        with pytest.raises(BearerError):
            verifier.verify(tenants.forged("acme", iss=iss))
    assert tenants.hits() == 0


# --- floods of issuers the predicate accepts -----------------------------------------------


def attempt(verifier: Verifier, token: str) -> AccessToken | BearerError:
    try:
        return verifier.verify(token)
    except BearerError as exc:
        return exc


@pytest.mark.parametrize("mode", MODES)
def test_a_flood_of_thousands_of_issuers_in_the_core(mode: Mode, idp: IdentityProviders) -> None:
    tenants = Tenants(real={"acme"})
    policy = CachePolicy(max_issuers=100, new_issuers_per_minute=60)
    verifier = tenants.verifier(idp.clock, cache=policy)
    known = tenants.token("acme")
    assert verifier.verify(known).issuer
    flood = [tenants.forged(f"t{i:05d}") for i in range(5000)]
    if mode == "sync":
        outcomes: list[object] = []
        for start in range(0, len(flood), 500):
            outcomes += [attempt(verifier, token) for token in flood[start : start + 500]]
            assert verifier.verify(tenants.token("acme", sub=f"s{start}")).issuer
    else:

        async def all_at_once() -> list[object]:
            calls = [verifier.averify(t) for t in flood]
            calls.append(verifier.averify(tenants.token("acme", sub="during")))
            return list(await asyncio.gather(*calls, return_exceptions=True))

        outcomes = asyncio.run(all_at_once())
        assert isinstance(outcomes.pop(), AccessToken)  # the known issuer, amid the flood
    assert {type(o) for o in outcomes} == {KeySetUnavailableError}  # made-up: never 401/500
    cache = verifier._plan.cache
    assert isinstance(cache, ResolvedKeyCache)
    assert len(cache.known_issuers()) <= 100
    assert len(cache._entries) <= 200
    assert tenants.hits("acme") == 2
    assert tenants.hits() == 2 + 59 * 2  # the budget, less acme; two discovery URLs each
    assert verifier.verify(known).issuer


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_flood_of_issuers_through_the_adapter(adapter: str, idp: IdentityProviders) -> None:
    tenants = Tenants()
    policy = CachePolicy(max_issuers=20, new_issuers_per_minute=10)
    verifier = tenants.verifier(idp.clock, cache=policy)
    known = tenants.token("acme")
    with client_factory(adapter)(verifier) as client:
        assert (
            client.get("/api/private", headers=[("Authorization", f"Bearer {known}")]).status == 200
        )
        statuses: Counter[int] = Counter()
        for i in range(300):
            forged = tenants.forged(f"t{i}")
            statuses[
                client.get("/api/private", headers=[("Authorization", f"Bearer {forged}")]).status
            ] += 1
            if i % 50 == 0:
                fresh = tenants.token("acme", sub=f"s{i}")
                answer = client.get("/api/private", headers=[("Authorization", f"Bearer {fresh}")])
                assert answer.status == 200
    assert statuses == {401: 9, 503: 291}  # keys had (a forged signature), or the budget spent
    assert tenants.hits() == 2 * 10
    assert len(verifier._plan.cache.known_issuers()) == 10  # type: ignore[attr-defined]


# --- issuer_for_request through the adapters ------------------------------------------------


def brand_of(request: HttpRequest) -> str:
    """The issuers of the brand the request names (a header a trusted front end sets)."""
    return CUSTOM_DOMAIN if request.header_values("x-brand") == ("b",) else ISSUER


def per_brand(idp: IdentityProviders, **overrides: Any) -> Verifier:
    return idp.verifier(issuer_for_request=brand_of, **overrides)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_request_sent_whole_is_judged_by_its_own_issuers(
    adapter: str, idp: IdentityProviders
) -> None:
    verifier = per_brand(idp)
    env = world(idp)

    with client_factory(adapter)(verifier) as client:
        here = World(env, client.base_url, lambda sent: None)  # type: ignore[arg-type, return-value]

        def dpop_get(token: str, *brand: tuple[str, str]) -> Any:
            sent = dpop_request(token, proof(here, token))
            return client.get(PATH, headers=[*sent.fields, *brand])

        bound = {"cnf": {"jkt": CLIENT.thumbprint()}}
        tenant_token = idp.tenant.token(**bound)
        custom_token = idp.custom_domain.token(**bound)
        assert dpop_get(tenant_token).status == 200
        refused = dpop_get(custom_token)
        assert refused.status == 401
        assert (
            refused.body["error_description"]
            == "The access token was issued by an untrusted issuer"
        )
        assert dpop_get(custom_token, ("X-Brand", "b")).status == 200
        assert dpop_get(tenant_token, ("X-Brand", "b")).status == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_bearer_request_is_judged_by_its_own_issuers(
    adapter: str, idp: IdentityProviders
) -> None:
    verifier = per_brand(idp)
    with client_factory(adapter)(verifier) as client:
        answer = client.get("/api/private", headers=[("Authorization", f"Bearer {idp.token()}")])
    assert answer.status == 200


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_bearer_request_of_another_brand_is_refused_by_every_adapter(
    adapter: str, idp: IdentityProviders
) -> None:
    verifier = per_brand(idp)
    custom = idp.custom_domain.token()
    with client_factory(adapter)(verifier) as client:
        answer = client.get("/api/private", headers=[("Authorization", f"Bearer {custom}")])
    assert answer.status == 401  # never a 500, whatever path the adapter takes


def test_forged_tokens_reach_the_signature_only_for_known_issuers() -> None:
    """The flood rows rely on this: a forged token of a real tenant costs its key fetch."""
    tenants = Tenants()
    verifier = Verifier(issuer=trusted_tenant, audience=AUDIENCE, **tenants.transports())
    with pytest.raises(InvalidSignatureError):
        verifier.verify(tenants.forged("acme"))
    assert tenants.hits() == 2
