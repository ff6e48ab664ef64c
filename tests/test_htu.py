"""The htu comparison of DPoP (RFC 9449 §4.3 check 9): RFC 3986 §6.2.2-6.2.3, and nothing more."""

from __future__ import annotations

import pytest

from bearerguard._htu import TargetMemo, comparable_url, same_target

REQUEST = "https://api.example.com/api/contacts"


@pytest.mark.parametrize(
    "htu",
    [
        "https://api.example.com/api/contacts",
        "HTTPS://API.EXAMPLE.COM/api/contacts",  # scheme and host case
        "https://api.example.com:443/api/contacts",  # the default port
        "https://api.example.com:0443/api/contacts",  # a port is a number
        "https://api.example.com/api/contacts?page=2",  # the query is not compared
        "https://api.example.com/api/contacts#top",  # nor the fragment
        "https://api.example.com/api/./contacts",  # dot segments
        "https://api.example.com/api/v1/../contacts",
        "https://api.example.com/%61pi/contacts",  # an unreserved character encoded
    ],
)
def test_spellings_of_the_same_url_name_the_same_target(htu: str) -> None:
    assert same_target(htu, REQUEST)
    assert same_target(REQUEST, htu)  # and the other way round


@pytest.mark.parametrize(
    "htu",
    [
        "http://api.example.com/api/contacts",  # another scheme
        "https://api.example.com:8443/api/contacts",  # another port
        "https://api.example.org/api/contacts",  # another host
        "https://api.example.com/api/contacts/",  # a trailing slash is another path
        "https://api.example.com/API/contacts",  # paths are case-sensitive
        "https://api.example.com/api/contacts%2F",  # a reserved character stays encoded
        "https://api.example.com/api",  # a prefix
        "https://api.example.com/api/contacts/..",  # climbs out
        "https://user@api.example.com/api/contacts",  # user information
        "https://api.example.com@evil.example/api/contacts",
        "//api.example.com/api/contacts",  # not absolute
        "/api/contacts",
        "ftp://api.example.com/api/contacts",
        "https:///api/contacts",  # no host
        "https://api.example.com:99999/api/contacts",  # no such port
        "https://api.example.com/api/con%tacts",  # a % that starts no encoding
        "https://api.example.com/api/contacts\n",  # a control character
        "https://api.example.com/api/cöntacts",  # not ASCII
        "https://api.example.com /api/contacts",
        "",
    ],
)
def test_other_urls_name_other_targets(htu: str) -> None:
    assert not same_target(htu, REQUEST)


@pytest.mark.parametrize("value", [None, 42, b"https://api.example.com/", ["https://x/"], {}])
def test_a_claim_that_is_not_a_string_names_nothing(value: object) -> None:
    assert comparable_url(value) is None
    assert not same_target(value, REQUEST)


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://Api.Example.com", "https://api.example.com/"),
        ("http://127.0.0.1:80/x", "http://127.0.0.1/x"),
        ("http://[::1]:8000/x", "http://[::1]:8000/x"),
        ("http://[FE80::1]/x", "http://[fe80::1]/x"),
        ("https://h/a/b/c/./../../g", "https://h/a/g"),
        ("https://h/a/..", "https://h/"),
        ("https://h/..", "https://h/"),
        ("https://h/a/.", "https://h/a/"),
        ("https://h/%7euser/%2f", "https://h/~user/%2F"),
        ("https://h/p?q#f", "https://h/p"),
    ],
)
def test_the_normal_form(url: str, normal: str) -> None:
    assert comparable_url(url) == normal


def test_an_oversized_url_is_refused_before_any_work() -> None:
    assert comparable_url("https://h/" + "a" * 10_000) is None


# --- the memo of normal forms ----------------------------------------------------------------

SPELLINGS = [
    REQUEST,
    REQUEST + "?page=2",
    REQUEST + "#top",
    "HTTPS://API.EXAMPLE.COM:443/api/./contacts?x#y",
    "https://api.example.com/api/contacts/",
    "https://user@api.example.com/api/contacts",
    "https://api.example.com/api/con%tacts?x=1",
    "https://api.example.com/api/contacts?q=\u00e9",  # not ASCII, in the query: still refused
    "https://api.example.com/api/contacts?" + "q" * 9000,  # oversized by its query: refused
    "https://h?x",
    "https://h#f/..",
    "",
]


@pytest.mark.parametrize("htu", SPELLINGS)
@pytest.mark.parametrize("request_url", [REQUEST, REQUEST + "?page=3", "https://h/"])
def test_the_memo_answers_as_the_comparison_without_it(htu: str, request_url: str) -> None:
    targets = TargetMemo()
    for _ in range(2):  # unseen, then from the memo
        assert targets.same_target(htu, request_url) == same_target(htu, request_url)
        assert targets.comparable(htu) == comparable_url(htu)


@pytest.mark.parametrize("value", [None, 42, ["https://x/"], {}])
def test_the_memo_remembers_no_claim_that_is_not_a_string(value: object) -> None:
    targets = TargetMemo()

    assert not targets.same_target(value, REQUEST)
    assert len(targets) == 1  # the request URL only


def test_a_url_is_remembered_without_its_query_and_the_memo_is_bounded() -> None:
    targets = TargetMemo(max_entries=4)
    for page in range(10):
        assert targets.same_target(REQUEST, f"{REQUEST}?page={page}")
    assert len(targets) == 1  # every page is one entry

    for number in range(10):
        targets.comparable(f"https://api.example.com/{number}")
    assert 0 < len(targets) <= 4


@pytest.mark.parametrize("request_url", SPELLINGS)
def test_a_request_url_seen_before_is_judged_as_the_first_time(request_url: str) -> None:
    # The second look finds the request URL in the memo by itself (when it has no query):
    # a URL without a comparable form stays without one, and a good one keeps its form.
    targets = TargetMemo()
    for htu in (REQUEST, request_url, REQUEST, request_url):
        assert targets.same_target(htu, request_url) == same_target(htu, request_url)
