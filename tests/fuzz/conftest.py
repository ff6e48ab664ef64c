"""Hypothesis settings of the fuzz tests: a quick budget in every run, a long run on request.

A normal run gives each property the number of examples its ``budget()`` names (100 to 300),
under the Hypothesis profile already active: ``default`` on a workstation (200 ms deadline,
failing examples remembered in the git-ignored ``.hypothesis/``) or ``ci`` when the ``CI``
variable is set (derandomized, no deadline, no example database). The whole package takes a
few seconds.

The long run gives every property the ``fuzz`` profile (20 000 examples, no deadline):

    pytest tests/fuzz --hypothesis-profile=fuzz -m fuzz
    BEARERGUARD_FUZZ_EXAMPLES=100000 pytest -m fuzz     # any path, any number of examples

(``--hypothesis-profile=fuzz`` needs ``tests/fuzz`` on the command line: Hypothesis loads the
profile before it collects anything, so this conftest must already be loaded.) A hang cannot
hide behind a missing deadline: ``time_limit()`` fails any example that runs for seconds.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

from bearerguard import UnknownKeyError, Verifier
from tests.support import AUDIENCE, ISSUER, Clock, Provider, claims

from .checks import Target
from .strategies import ALGORITHMS, ASYMMETRIC, GENUINE_KIDS, SECRET, genuine_signers

F = TypeVar("F", bound=Callable[..., Any])

LONG_RUN = "fuzz"
LONG_RUN_EXAMPLES = 20_000
EXAMPLES_VARIABLE = "BEARERGUARD_FUZZ_EXAMPLES"
# Every example takes milliseconds; this only ever fires on a hang (a deadline cannot:
# Hypothesis measures an example after it returns).
HANG_SECONDS = 10.0

settings.register_profile(
    LONG_RUN,
    max_examples=LONG_RUN_EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def long_run() -> settings | None:
    """The settings of a long run, if one was asked for.

    Either the environment variable, or an active profile with at least the long run's
    number of examples: ``fuzz``, or what the plugin derives from it (``--hypothesis-verbosity``).
    """
    examples = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    if examples:
        return settings(settings.get_profile(LONG_RUN), max_examples=int(examples))
    if settings.default.max_examples >= LONG_RUN_EXAMPLES:
        return settings(settings.default)
    return None


def budget(examples: int) -> settings:
    """One property's settings: ``examples`` in a normal run, the long run's when asked for."""
    return long_run() or settings(max_examples=examples)


class HangError(AssertionError):
    """An example ran for far longer than any input should ever take."""


@contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail the current example, instead of hanging the run, if it lasts over ``seconds``."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield  # pragma: no cover - Windows, or a worker thread: no SIGALRM to rely on
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise HangError(f"an example ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(test: F) -> F:
    """Run every example of ``test`` under :func:`time_limit` (put it below ``@given``)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        with time_limit():
            return test(*args, **kwargs)

    return run  # type: ignore[return-value]


# --- verifiers wired to an in-process issuer, its keys fetched once, the clock standing still --


def target(**options: Any) -> Target:
    """A verifier trusting the issuer of the genuine keys, warmed up; time never moves.

    With the clock frozen after the warm-up, no token can legitimately cause a fetch (the key
    set stays fresh, the unknown-kid cooldown never ends): ``Target`` checks none happens.
    """
    keys = {GENUINE_KIDS[alg]: (alg, genuine_signers()[alg].key) for alg in ASYMMETRIC}
    provider = Provider(keys=keys)
    clock = Clock()
    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        transport=provider.transport(),
        async_transport=provider.async_transport(),
        clock=clock.time,
        monotonic=clock.monotonic,
        **options,
    )
    verifier.warm_up()
    # A routine fetch starts no unknown-kid cooldown; one refused unknown kid does, and with
    # the clock standing still it never ends: from here on no token can cause a fetch.
    header = {"alg": "RS256", "typ": "at+jwt", "kid": "never-published"}
    with suppress(UnknownKeyError):
        verifier.verify(genuine_signers()["RS256"].sign(header, claims()))
    return Target(verifier, provider, clock.now)


@pytest.fixture(scope="module")
def permissive() -> Target:
    """Every algorithm the genuine tokens use (RS256, PS256, ES256, EdDSA, HS256 + secret)."""
    return target(algorithms=list(ALGORITHMS), secret=SECRET)


@pytest.fixture(scope="module")
def strict() -> Target:
    """Every optional check on: RFC 9068, max_age, organizations, permissions, no leeway."""
    return target(
        algorithms=list(ALGORITHMS),
        secret=SECRET,
        leeway=0,
        rfc9068_strict=True,
        max_age=3600,
        organization=["org_1", "Acme"],
        scope_claims=["scope", "scp", "permissions"],
        realm="fuzz realm",
    )


@pytest.fixture(scope="module", params=["permissive", "strict"])
def configured(request: pytest.FixtureRequest) -> Target:
    """Each of the two verifiers above."""
    chosen: Target = request.getfixturevalue(request.param)
    return chosen
