"""Every provider fault, at a cold and at a stale cache, through verify() and averify().

The provider is real (sockets on 127.0.0.1); the verifier's clocks are injected,
so the cache ages without sleeping. Each row says what the caller gets while the
discovery document or the key set fails, what the log says, and that the
verifier recovers once the provider is healthy and the backoff has passed.

| failing   | cold cache        | stale cache, known kid | stale cache, new kid           |
| --------- | ----------------- | ---------------------- | ------------------------------ |
| discovery | 503 + Retry-After | verifies (stale keys)  | verifies (the JWKS URL stays)  |
| key set   | 503 + Retry-After | verifies (stale keys)  | 401 until the provider is back |

Every fault is a failure, an empty key set too (it is never stored over good
keys). A redirect within the origin is followed: that control row verifies
everywhere. Slow faults (timeout, drips) end at the fetch deadline.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    KeySetUnavailableError,
    UnknownKeyError,
    Verifier,
)
from tests.conftest import Verify
from tests.support import Clock

from .conftest import POLICY, STALE
from .server import DISCOVERY_ONLY, KEY_SET_ONLY, OTHER_HOST, Fault, FaultyProvider

#: A hang that the fetch deadline (1 s) did not end would blow this bound by far; a
#: passing run needs a fraction of it even on a loaded machine.
BOUND = 10 * POLICY.fetch_timeout
DEADLINE = "did not answer in time"
#: What the log says about each fault (a regular expression).
DIAGNOSIS = {
    Fault.REFUSED: r"the request failed \(ConnectError\)",
    Fault.TIMEOUT: DEADLINE,
    Fault.DRIP_BODY: f"{DEADLINE}|arrived too slowly",
    Fault.DRIP_HEADERS: DEADLINE,
    Fault.HTTP_404: "answered HTTP 404",
    Fault.HTTP_429: "answered HTTP 429",
    Fault.HTTP_500: "answered HTTP 500",
    Fault.HTTP_503: "answered HTTP 503",
    Fault.NOT_JSON: "answered 'text/html; charset=utf-8', not JSON",
    Fault.GARBLED_JSON: "the response is not JSON",
    Fault.EMPTY_KEY_SET: "holds no usable signing keys",
    Fault.OVERSIZED: f"larger than {POLICY.max_document_bytes} bytes",
    Fault.OVERSIZED_CHUNKED: f"larger than {POLICY.max_document_bytes} bytes",
    Fault.REDIRECT_OTHER_PORT: "redirected to another origin",
    Fault.REDIRECT_OTHER_HOST: "redirected to another origin",
    Fault.ISSUER_TRAILING_SLASH: "not the configured issuer",
    Fault.ISSUER_OTHER_HOST: "not the configured issuer",
}
FOLLOWED = Fault.REDIRECT_SAME_ORIGIN  # the control row: nothing is wrong


def rows() -> list[Any]:
    """(where, fault) for every fault that applies to the discovery document or the key set."""
    return [
        pytest.param(where, fault, id=f"{where}-{fault.value}")
        for where, excluded in (("discovery", KEY_SET_ONLY), ("jwks", DISCOVERY_ONLY))
        for fault in Fault
        if fault is not Fault.HEALTHY and fault not in excluded
    ]


@dataclass
class Bench:
    """The provider, a verifier factory, the test clock, and what the verifier logged."""

    idp: FaultyProvider
    verifier_for: Callable[..., Verifier]
    clock: Clock
    caplog: pytest.LogCaptureFixture

    def warnings(self) -> str:
        return "\n".join(
            r.getMessage()
            for r in self.caplog.records
            if r.name == "bearerguard" and r.levelno == logging.WARNING
        )

    def stale_verifier(self, verify: Verify) -> Verifier:
        """A verifier that cached k1 (and the JWKS URL); then k2 is published and time passes."""
        verifier = self.verifier_for(self.idp)
        assert isinstance(verify(verifier, self.idp.token("k1")), AccessToken)
        self.idp.publish("k2")  # a rotation the cache has not seen
        self.clock.advance(STALE)
        return verifier


@pytest.fixture
def bench(
    faulty_idp: FaultyProvider,
    verifier_for: Callable[..., Verifier],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> Bench:
    caplog.set_level(logging.WARNING, logger="bearerguard")
    return Bench(faulty_idp, verifier_for, clock, caplog)


def attempt(verify: Verify, verifier: Verifier, token: str) -> AccessToken | BearerError:
    try:
        return verify(verifier, token)
    except BearerError as exc:
        return exc


def timed(verify: Verify, verifier: Verifier, token: str) -> AccessToken | BearerError:
    """``attempt``, which must finish within BOUND whatever the provider does."""
    started = time.monotonic()
    outcome = attempt(verify, verifier, token)
    assert time.monotonic() - started < BOUND, f"{type(outcome).__name__} took too long"
    return outcome


def assert_unavailable(outcome: object) -> None:
    assert isinstance(outcome, KeySetUnavailableError), outcome
    assert outcome.status_code == 503
    assert int(outcome.headers["Retry-After"]) >= 1
    assert 'error="temporarily_unavailable"' in outcome.headers["WWW-Authenticate"]


def assert_nothing_fetched_elsewhere(idp: FaultyProvider) -> None:
    """Redirects away were never followed: no other origin and no other host was asked."""
    assert idp.elsewhere.hits == 0
    asked = idp.discovery.requests + idp.jwks.requests
    assert all(not r.host.startswith(OTHER_HOST) for r in asked), asked


# --- cold: nothing cached ------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "fault"), rows())
def test_cold_cache_a_failing_provider_answers_503_and_recovers_after_retry_after(
    where: str, fault: Fault, verify: Verify, bench: Bench
) -> None:
    idp = bench.idp
    verifier = bench.verifier_for(idp)
    idp.endpoint(where).fail(fault)

    outcome = timed(verify, verifier, idp.token())

    assert_nothing_fetched_elsewhere(idp)
    if fault is FOLLOWED:
        assert isinstance(outcome, AccessToken)
        return
    assert_unavailable(outcome)
    assert isinstance(outcome, KeySetUnavailableError)
    assert re.search(DIAGNOSIS[fault], bench.warnings()), bench.warnings()
    assert "nothing cached" in bench.warnings()

    # Within Retry-After nobody asks the provider again...
    hits = idp.endpoint(where).hits
    assert_unavailable(timed(verify, verifier, idp.token()))
    assert idp.endpoint(where).hits == hits

    # ...and after it, the provider being healthy again, the token verifies.
    idp.endpoint(where).fail(Fault.HEALTHY)
    bench.clock.advance(outcome.retry_after)
    recovered = timed(verify, verifier, idp.token())
    assert isinstance(recovered, AccessToken), recovered
    assert recovered.issuer == idp.issuer


def test_cold_cache_a_valid_key_set_without_the_kid_answers_401(
    verify: Verify, bench: Bench
) -> None:
    # The one cold case that is the token's fault: the provider answered, the kid is not there.
    outcome = timed(verify, bench.verifier_for(bench.idp), bench.idp.token("never-published"))
    assert isinstance(outcome, UnknownKeyError)
    assert outcome.status_code == 401


# --- stale: keys cached, their TTL passed ---------------------------------------------------------


@pytest.mark.parametrize(("where", "fault"), rows())
def test_stale_cache_known_kids_keep_verifying_and_new_kids_wait_for_the_recovery(
    where: str, fault: Fault, verify: Verify, bench: Bench
) -> None:
    idp = bench.idp
    verifier = bench.stale_verifier(verify)
    endpoint = idp.endpoint(where)
    endpoint.fail(fault)
    hits = endpoint.hits

    # The first caller leads the refresh (and waits for it); the stale keys serve it.
    first = timed(verify, verifier, idp.token("k1"))
    assert isinstance(first, AccessToken), first
    if fault is FOLLOWED:
        assert endpoint.hits > hits
    else:
        assert re.search(DIAGNOSIS[fault], bench.warnings()), bench.warnings()
        assert "keeping the last good copy" in bench.warnings()

    # Later callers are served from the cache, without asking the failing provider again.
    hits = endpoint.hits
    for _ in range(3):
        again = timed(verify, verifier, idp.token("k1"))
        assert isinstance(again, AccessToken), again
    assert endpoint.hits == hits

    # A kid published since the cache was filled:
    new = timed(verify, verifier, idp.token("k2"))
    if where == "discovery" or fault is FOLLOWED:
        # The JWKS URL stays known while rediscovery fails, and the key set answered.
        assert isinstance(new, AccessToken), new
    else:
        # The refresh failed and the stale set lacks the kid: the provider could not be asked,
        # so the kid may well exist: 503 (never a 401 that makes clients drop good tokens).
        assert_unavailable(new)
        assert endpoint.hits == hits  # within the backoff: the provider is not asked again
        # The provider is healthy again: after the backoff the new kid verifies.
        endpoint.fail(Fault.HEALTHY)
        bench.clock.advance(POLICY.failure_backoff)
        new = timed(verify, verifier, idp.token("k2"))
        assert isinstance(new, AccessToken), new
    assert new.header["kid"] == "k2"
    assert_nothing_fetched_elsewhere(idp)


def test_a_new_kid_during_a_key_set_outage_should_get_503(verify: Verify, bench: Bench) -> None:
    # KeySetUnavailableError's own rule: "never a 401 while the provider is down".
    verifier = bench.stale_verifier(verify)
    bench.idp.jwks.fail(Fault.HTTP_503)
    with pytest.raises(KeySetUnavailableError):
        verify(verifier, bench.idp.token("k2"))
