"""Encrypted access tokens, hostile: through the core and every adapter.

- every row of ``jwe_catalogue.py`` through ``verify()``/``averify()`` (judged as the main
  catalogue's rows are: exact refusal, safe answer, fetches only from trusted hosts) and,
  when it can be sent, through every adapter's real test client;
- every failure of the cryptography gives the same reason, whichever step failed;
- the RSA-OAEP path takes as long when the key block does not decrypt as when it does
  (RFC 7516 §11.5): a wrong key block goes on with a random content key;
- refusals before any cryptography take no time worth counting (a PBES2 ``p2c`` of 2^31,
  a correctly encrypted zip bomb).
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter

import pytest

from bearerguard import InvalidTokenError, Verifier
from bearerguard._jwe import UNDECRYPTABLE
from tests.adapters.harness import IdentityProviders

from .builders import Case, Env
from .checks import MODES, Mode, adapter_runs, run_in_adapter, run_in_core
from .jwe_catalogue import JWE_CATALOGUE, SOURCES, WITH_KEYS, encrypted, flipped, replaced
from .test_core import world

CASE_ID = re.compile(r"J\d\d-[a-z0-9][a-z0-9+-]*")
# The rows whose every refusal is a failure of the cryptography itself.
CRYPTOGRAPHY_ROWS = ("J06", "J13")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", JWE_CATALOGUE, ids=lambda case: case.id)
def test_the_verifier_answers_the_row(
    case: Case, mode: Mode, idp: IdentityProviders, caplog: pytest.LogCaptureFixture
) -> None:
    run_in_core(case, world(idp), idp.verifier, mode, caplog)


@pytest.mark.parametrize(("case", "adapter"), adapter_runs(JWE_CATALOGUE))
def test_the_adapter_answers_the_row(case: Case, adapter: str, idp: IdentityProviders) -> None:
    run_in_adapter(case, world(idp), idp.verifier, adapter)


# --- one refusal, whichever step of the cryptography failed --------------------------------


def refusal_reason(verifier: Verifier, token: str) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        verifier.verify(token)
    assert type(caught.value) is InvalidTokenError
    assert caught.value.description == "Invalid token"
    return caught.value.reason


def test_every_failure_of_the_cryptography_has_the_same_reason(idp: IdentityProviders) -> None:
    env = world(idp)
    verifier = idp.verifier(**{**env.transports(), **WITH_KEYS(env)})
    uniform = [
        case
        for case in JWE_CATALOGUE
        if case.id[:3] in CRYPTOGRAPHY_ROWS or case.id.startswith("J07")
        if case.error is InvalidTokenError and "unknown-kid" not in case.id
        if "another-size" not in case.id and "apu" not in case.id
    ]
    assert len(uniform) > 20
    reasons = {case.id: refusal_reason(verifier, case.attempt(env)) for case in uniform}
    assert set(reasons.values()) == {UNDECRYPTABLE}, reasons


# --- time --------------------------------------------------------------------------------------


def median_time(verifier: Verifier, tokens: list[str]) -> float:
    spent = []
    for token in tokens:
        start = time.perf_counter()
        with pytest.raises(InvalidTokenError):
            verifier.verify(token)
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def test_a_key_block_that_does_not_decrypt_costs_what_one_that_does_costs(
    idp: IdentityProviders,
) -> None:
    # Manger's attack needs to tell the two apart; a random content key makes the tag fail
    # in both. Interleaved, and medians: a loaded machine slows both alike.
    env = world(idp)
    verifier = idp.verifier(**{**env.transports(), **WITH_KEYS(env)})
    bad_tag, bad_block = flipped(encrypted(), 4), flipped(encrypted(), 1, 0)
    first = [bad_tag(env) for _ in range(60)]
    second = [bad_block(env) for _ in range(60)]
    median_time(verifier, first[:5] + second[:5])  # warm up
    tag, block = [], []
    for round_ in range(5):
        part = slice(12 * round_, 12 * (round_ + 1))
        tag.append(median_time(verifier, first[part]))
        block.append(median_time(verifier, second[part]))
    ratio = statistics.median(block) / statistics.median(tag)
    assert 0.7 < ratio < 1.4, (tag, block)


def test_refusals_before_any_cryptography_are_immediate(idp: IdentityProviders) -> None:
    env = world(idp)
    verifier = idp.verifier(**{**env.transports(), **WITH_KEYS(env)})
    bombs = {case.id: case for case in JWE_CATALOGUE if case.id[:3] in ("J04", "J05")}
    for case in bombs.values():
        token = case.attempt(env)
        start = time.perf_counter()
        with pytest.raises(InvalidTokenError):
            verifier.verify(token)
        assert time.perf_counter() - start < 0.05, case.id


def test_a_short_key_block_is_not_told_apart_from_a_wrong_one(idp: IdentityProviders) -> None:
    env = world(idp)
    verifier = idp.verifier(**{**env.transports(), **WITH_KEYS(env)})
    for build in (replaced(encrypted(), 1, b""), replaced(encrypted(), 1, b"\1" * 300)):
        assert refusal_reason(verifier, build(env)) == UNDECRYPTABLE


# --- the table itself --------------------------------------------------------------------------


def test_every_row_has_an_id_of_its_kind_and_a_source() -> None:
    ids = [case.id for case in JWE_CATALOGUE]
    assert [id for id, count in Counter(ids).items() if count > 1] == []
    for id in ids:
        assert CASE_ID.fullmatch(id), id
    rows = {id[:3] for id in ids}
    assert rows == {f"J{n:02d}" for n in range(15)}
    assert rows - {"J00"} == SOURCES.keys()  # the twins (accepted) need no source
    for source in SOURCES.values():
        assert source == " ".join(source.split())
        assert re.search(r"RFC \d{4}", source)


def test_every_row_but_the_twins_is_refused() -> None:
    for case in JWE_CATALOGUE:
        assert (case.error is None) == (case.id[:3] == "J00"), case.id


def test_the_world_is_the_catalogues(idp: IdentityProviders) -> None:
    env: Env = world(idp)
    assert idp.verifier(**WITH_KEYS(env)).config.decryption is not None
