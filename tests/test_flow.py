"""The pipeline's memory of header segments: what it keeps, and that it changes no answer.

Providers sign with a handful of headers, so the flow remembers the header
segments of tokens that passed and skips decoding and checking them again.
"""

from __future__ import annotations

import pytest

from bearerguard import InvalidSignatureError, UnknownKeyError

from .support import claims, rsa_key, sign_token


def segment(raw: str) -> str:
    return raw.split(".", 1)[0]


def test_the_header_of_a_token_that_passed_is_remembered(make_verifier, provider):
    verifier = make_verifier()
    verifier.warm_up()  # a token that had to wait for the keys is not remembered
    raw = provider.token()
    verifier.verify(raw)
    header, alg, kid = verifier._plan.headers[segment(raw)]
    assert (alg, kid) == ("RS256", "k1")
    assert dict(header) == {"alg": "RS256", "typ": "JWT", "kid": "k1"}


def test_a_remembered_header_still_gets_every_other_check(make_verifier, provider):
    verifier = make_verifier()
    verifier.warm_up()
    verifier.verify(provider.token())
    forged = sign_token({"alg": "RS256", "typ": "JWT", "kid": "k1"}, claims(sub="x"), rsa_key(9))
    assert segment(forged) in verifier._plan.headers
    with pytest.raises(InvalidSignatureError):
        verifier.verify(forged)


@pytest.mark.parametrize("kid", ["k1", "nope"])
def test_refused_tokens_leave_no_header_behind(make_verifier, provider, kid):
    verifier = make_verifier()
    verifier.verify(provider.token())
    before = dict(verifier._plan.headers)
    for i in range(100):  # a flood of forgeries, each with a header of its own
        head = {"alg": "RS256", "kid": kid, "x": i}
        with pytest.raises((InvalidSignatureError, UnknownKeyError)):
            verifier.verify(sign_token(head, claims(), rsa_key(9)))
    assert verifier._plan.headers == before


def test_the_memory_is_bounded(make_verifier, provider):
    verifier = make_verifier()
    for i in range(70):
        verifier.verify(provider.token(header={"x": i}))
    assert 0 < len(verifier._plan.headers) <= 64
