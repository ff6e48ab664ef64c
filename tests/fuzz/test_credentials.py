"""Properties of reading credentials: ``token_from_authorization`` and ``query_has_access_token``
over any header value (or list of values) and any query string, and the whole path from a
header through ``Verifier.authenticate()`` / ``aauthenticate()``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bearerguard import (
    AccessToken,
    BearerError,
    InvalidRequestError,
    MissingTokenError,
    token_from_authorization,
)
from bearerguard._credentials import query_has_access_token

from .checks import Target, assert_safe_refusal, attempt, refused
from .conftest import bounded, budget
from .strategies import (
    any_text,
    authorization_values,
    genuine_tokens,
    hostile_tokens,
    query_strings,
    query_texts,
)

pytestmark = pytest.mark.fuzz

B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 §2.1
OWS = st.text(st.sampled_from(" \t"), max_size=3)

header_values = st.one_of(
    st.none(),
    authorization_values,
    genuine_tokens().map(lambda genuine: f"Bearer {genuine.token}"),
    st.lists(authorization_values, max_size=3),
)


def names_access_token(query: str | None) -> bool:
    """The standard library's reading of a form-encoded query (RFC 6750 §2.3 refers to it)."""
    pairs = parse_qsl(query or "", keep_blank_values=True)
    return any(name == "access_token" for name, _ in pairs)


@budget(300)
@given(header_values, query_strings)
@bounded
def test_any_header_gives_a_b64token_or_a_400_or_a_401(value: Any, query: str | None):
    result = attempt(token_from_authorization, value, query=query)
    if isinstance(result, BearerError):
        event(refused(result))
        assert isinstance(result, MissingTokenError | InvalidRequestError)
        assert_safe_refusal(result, value if isinstance(value, str) else None)
        return
    event("token")
    single = value if isinstance(value, str) else value[0]
    assert B64TOKEN.fullmatch(result)
    assert single.strip(" \t")[:7].lower() == "bearer "
    assert single.strip(" \t").endswith(result)
    assert not names_access_token(query)


@st.composite
def bearer_headers(draw: st.DrawFn) -> tuple[str, str]:
    """``Bearer <token>`` in any case, with one or more spaces, and optional whitespace around."""
    scheme = "".join(draw(st.sampled_from([c, c.upper()])) for c in "bearer")
    spaces = draw(st.text(st.just(" "), min_size=1, max_size=4))
    token = draw(st.from_regex(B64TOKEN, fullmatch=True))
    before, after = draw(OWS), draw(OWS)
    return f"{before}{scheme}{spaces}{token}{after}", token


@budget(200)
@given(bearer_headers())
@bounded
def test_a_bearer_header_in_any_case_and_spacing_gives_back_its_token(case: tuple[str, str]):
    header, token = case
    assert token_from_authorization(header) == token
    assert token_from_authorization([header]) == token
    assert token_from_authorization(header, query="page=2&access=token") == token


@budget(200)
@given(
    header_values,
    st.lists(query_texts, max_size=2),
    st.sampled_from(["access_token", "access%5Ftoken", "access%5ftoken", "%61ccess_token"]),
    st.sampled_from(["", "=", "=eyJ.eyJ.sig"]),
)
@bounded
def test_a_token_in_the_query_string_is_never_accepted(
    value: Any, around: list[str], name: str, assignment: str
):
    query = "&".join([*around[:1], name + assignment, *around[1:]])
    assert query_has_access_token(query)
    result = attempt(token_from_authorization, value, query=query)
    assert isinstance(result, MissingTokenError | InvalidRequestError)
    assert_safe_refusal(result, value if isinstance(value, str) else None)


@budget(300)
@given(st.one_of(query_texts, any_text))
@bounded
def test_query_has_access_token_reads_any_query_as_rfc_6750_does(query: str):
    assert query_has_access_token(query) is names_access_token(query)


@budget(150)
@given(
    st.one_of(header_values, hostile_tokens.map(lambda token: f"Bearer {token}")),
    query_strings,
)
@bounded
def test_authenticate_and_aauthenticate_agree_and_answer_safely(
    permissive: Target, value: Any, query: str | None
):
    """No credentials: None; a genuine token: an AccessToken; anything else: a refusal."""
    verifier = permissive.verifier
    sync = attempt(verifier.authenticate, value, query=query)
    from_async = attempt(lambda: asyncio.run(verifier.aauthenticate(value, query=query)))
    assert type(sync) is type(from_async)
    event(refused(sync) if isinstance(sync, BearerError) else type(sync).__name__)
    if isinstance(sync, BearerError):
        assert not isinstance(sync, MissingTokenError)  # that one means None here
        assert_safe_refusal(sync, value if isinstance(value, str) else None)
    elif isinstance(sync, AccessToken):
        assert isinstance(value, str) or len(value) == 1
    assert permissive.provider.hits == permissive.warm_hits
