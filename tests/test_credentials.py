"""Bearer credentials from the Authorization header (RFC 6750 §2.1, RFC 9110 §11).

Catalogue rows T01-T06 of ``hostile-tokens.md``: no credentials or another scheme is a
bare 401 challenge; a malformed or repeated Bearer header is a 400 ``invalid_request``.
"""

from __future__ import annotations

import pytest

from bearerguard import (
    BearerError,
    InvalidRequestError,
    MissingTokenError,
    token_from_authorization,
)
from bearerguard._credentials import (
    credentials_from_authorization,
    usual_bearer,
    usual_credentials,
)

BARE_CHALLENGE = 'Bearer realm="api"'
INVALID_REQUEST_CHALLENGE = (
    'Bearer realm="api", error="invalid_request", '
    'error_description="Malformed Authorization header"'
)
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxMjMifQ.c2lnbmF0dXJl"


def missing(value: object, **kwargs: str) -> MissingTokenError:
    with pytest.raises(MissingTokenError) as info:
        token_from_authorization(value, **kwargs)  # type: ignore[arg-type]
    exc = info.value
    assert isinstance(exc, BearerError)
    assert exc.status_code == 401
    assert exc.error is None
    return exc


def malformed(value: object, **kwargs: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        token_from_authorization(value, **kwargs)  # type: ignore[arg-type]
    exc = info.value
    assert isinstance(exc, BearerError)
    assert exc.status_code == 400
    assert exc.error == "invalid_request"
    assert exc.description == "Malformed Authorization header"
    return exc


# --- T01: no credentials ---------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", " ", "\t", "  \t  "], ids=repr)
def test_t01_no_credentials_is_a_bare_401_challenge(value):
    exc = missing(value)
    assert exc.www_authenticate == BARE_CHALLENGE
    assert exc.headers == {"WWW-Authenticate": BARE_CHALLENGE}
    assert "error=" not in exc.www_authenticate


# --- T02: another scheme -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "DPoP eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
        "Bearerabc",
        f"Bearer{TOKEN}",
        "Digest username=x",
        "Negotiate YIIC",
        "Bear abc",
        "Bearer-abc",
        "MAC id=x",
    ],
)
def test_t02_another_scheme_is_a_bare_401_challenge(value):
    exc = missing(value)
    assert exc.www_authenticate == BARE_CHALLENGE
    assert exc.headers == {"WWW-Authenticate": BARE_CHALLENGE}


def test_t02_another_scheme_logs_why_without_telling_the_client():
    exc = missing("Basic dXNlcjpwYXNz")
    assert "scheme" in exc.reason
    assert "dXNlcjpwYXNz" not in f"{exc.reason} {exc!r} {exc.www_authenticate}"


# --- T03: scheme case and spaces -----------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr", "bEARER"])
def test_t03_the_scheme_is_case_insensitive(scheme):
    assert token_from_authorization(f"{scheme} {TOKEN}") == TOKEN


@pytest.mark.parametrize("spaces", [1, 2, 3, 10])
def test_t03_one_or_more_spaces_may_follow_the_scheme(spaces):
    assert token_from_authorization("Bearer" + " " * spaces + TOKEN) == TOKEN


@pytest.mark.parametrize(
    "value",
    [f"  Bearer {TOKEN}", f"Bearer {TOKEN}  ", f"\tBearer {TOKEN}\t", f" \t Bearer {TOKEN} \t "],
    ids=["leading", "trailing", "tabs", "mixed"],
)
def test_leading_and_trailing_optional_whitespace_is_tolerated(value):
    assert token_from_authorization(value) == TOKEN


# --- T04: the Bearer scheme without a usable token ------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "bearer",
        "Bearer\t",
        f"Bearer\t{TOKEN}",
        f"Bearer \t{TOKEN}",
    ],
    ids=repr,
)
def test_t04_bearer_without_a_space_separated_token_is_a_400(value):
    exc = malformed(value)
    assert exc.www_authenticate == INVALID_REQUEST_CHALLENGE
    assert exc.headers == {"WWW-Authenticate": INVALID_REQUEST_CHALLENGE}


# --- T05: more than one b64token ---------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "a b",
        f"{TOKEN} extra",
        "a,b",
        f"{TOKEN},{TOKEN}",
        "a;b",
        'a"b',
        '"abc"',
        "{abc}",
        "a\\b",
        "abc\r\n",
        "abc\x00",
        "t\u00f6ken",
        "a=b",
        "===",
        "a==b",
        "a\tb",
    ],
    ids=repr,
)
def test_t05_credentials_that_are_not_one_b64token_are_a_400(token):
    exc = malformed(f"Bearer {token}")
    assert exc.www_authenticate == INVALID_REQUEST_CHALLENGE


def test_t05_the_offending_value_is_never_echoed():
    exc = malformed('Bearer a"\r\nSet-Cookie: evil=1')
    rendered = f"{exc.www_authenticate} {exc.reason} {exc!r} {exc.to_json()}"
    assert "evil" not in rendered
    assert "Set-Cookie" not in rendered


@pytest.mark.parametrize(
    "token",
    ["abc", "a-b.c_d~e+f/g", "abc=", "abc==", "abc=====", "A", "~", "+/", TOKEN, "0.1.2"],
)
def test_every_b64token_character_and_trailing_equals_signs_are_accepted(token):
    assert token_from_authorization(f"Bearer {token}") == token


def test_the_token_is_returned_verbatim_without_any_decoding():
    assert token_from_authorization("Bearer not.a.jwt") == "not.a.jwt"


# --- T06: repeated header fields --------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        [f"Bearer {TOKEN}", f"Bearer {TOKEN}"],
        [f"Bearer {TOKEN}", "Basic dXNlcjpwYXNz"],
        ["", ""],
        ("a", "b", "c"),
    ],
    ids=["same_twice", "bearer_and_basic", "two_empty", "three_tuple"],
)
def test_t06_two_authorization_fields_are_a_400(values):
    exc = malformed(values)
    assert exc.www_authenticate == INVALID_REQUEST_CHALLENGE


@pytest.mark.parametrize("values", [[f"Bearer {TOKEN}"], (f"bearer  {TOKEN} ",)])
def test_t06_a_list_of_one_value_is_that_value(values):
    assert token_from_authorization(values) == TOKEN


@pytest.mark.parametrize("values", [[], (), [""], ["  "]])
def test_t06_an_empty_list_means_no_credentials(values):
    assert missing(values).www_authenticate == BARE_CHALLENGE


def test_t06_a_list_of_one_malformed_value_is_a_400():
    malformed(["Bearer a b"])


def test_a_list_of_one_other_scheme_is_a_bare_challenge():
    assert missing(["Basic dXNlcjpwYXNz"]).www_authenticate == BARE_CHALLENGE


# --- realm ---------------------------------------------------------------------------


def test_the_realm_keyword_flows_into_the_bare_challenge():
    assert missing(None, realm="photos").www_authenticate == 'Bearer realm="photos"'
    assert missing("Basic x", realm="photos").www_authenticate == 'Bearer realm="photos"'


def test_the_realm_keyword_flows_into_the_invalid_request_challenge():
    assert malformed("Bearer a b", realm="photos").www_authenticate == (
        'Bearer realm="photos", error="invalid_request", '
        'error_description="Malformed Authorization header"'
    )
    assert malformed(["a", "b"], realm="photos").realm == "photos"


def test_the_realm_keyword_does_not_change_a_valid_result():
    assert token_from_authorization(f"Bearer {TOKEN}", realm="photos") == TOKEN


# --- T07 / T08: tokens in the query string -----------------------------------------------

MORE_THAN_ONE_METHOD = "The request uses more than one method to send the access token"


@pytest.mark.parametrize(
    "query",
    [
        f"access_token={TOKEN}",
        f"page=2&access_token={TOKEN}",
        f"access_token={TOKEN}&page=2",
        "access_token=",
        "access_token",
        f"access%5Ftoken={TOKEN}",
        f"access%5ftoken={TOKEN}",
        f"%61ccess_token={TOKEN}",
    ],
)
def test_t07_a_token_in_the_header_and_the_query_is_a_400(query):
    with pytest.raises(InvalidRequestError) as info:
        token_from_authorization(f"Bearer {TOKEN}", query=query)
    assert info.value.status_code == 400
    assert info.value.description == MORE_THAN_ONE_METHOD
    assert info.value.www_authenticate == (
        f'Bearer realm="api", error="invalid_request", error_description="{MORE_THAN_ONE_METHOD}"'
    )


@pytest.mark.parametrize("query", [f"access_token={TOKEN}", f"x=1&access_token={TOKEN}"])
def test_t08_a_token_only_in_the_query_is_no_credentials_at_all(query):
    exc = missing(None, query=query)
    assert exc.www_authenticate == BARE_CHALLENGE
    assert "query string" in exc.reason  # the log line says why; the client sees nothing
    assert TOKEN not in exc.reason


@pytest.mark.parametrize(
    "query",
    ["", "page=2", "token=abc", "my_access_token=abc", "access_token_hint=abc", "x=access_token"],
)
def test_other_query_parameters_do_not_count_as_a_second_method(query):
    assert token_from_authorization(f"Bearer {TOKEN}", query=query) == TOKEN


def test_without_a_query_the_header_alone_decides():
    assert token_from_authorization(f"Bearer {TOKEN}", query=None) == TOKEN


def test_a_malformed_header_with_a_query_token_is_still_a_400():
    with pytest.raises(InvalidRequestError):
        token_from_authorization("Bearer", query=f"access_token={TOKEN}")


def test_the_realm_keyword_flows_into_the_more_than_one_method_challenge():
    with pytest.raises(InvalidRequestError) as info:
        token_from_authorization(f"Bearer {TOKEN}", query=f"access_token={TOKEN}", realm="crm")
    assert info.value.www_authenticate.startswith('Bearer realm="crm", error="invalid_request"')


@pytest.mark.parametrize(
    "value",
    [
        f"Basic dXNlcjpwYXNz, Bearer {TOKEN}",
        f"Basic dXNlcjpwYXNz,Bearer {TOKEN}",
        f"DPoP abc, bearer {TOKEN}",
        "Basic dXNlcjpwYXNz, Bearer",
    ],
)
def test_t06_a_bearer_field_folded_after_another_scheme_is_a_repeated_header(value):
    # WSGI servers and Django join repeated fields with ", " (RFC 9110 §5.3): the Bearer
    # field is repeated, not absent, so the answer is 400, not a bare 401.
    malformed(value)


def test_a_comma_inside_another_scheme_is_still_another_scheme():
    exc = missing('Digest realm="x", nonce="bearer"')
    assert exc.www_authenticate == BARE_CHALLENGE


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("Bearer abc", "abc"),
        (["Bearer abc"], "abc"),
        ("Bearer  abc", " abc"),  # a shortcut, not a parser: the caller's cache will not know it
        ("bearer abc", None),
        ("Basic abc", None),
        (["Bearer abc", "Bearer abc"], None),
        ([], None),
        (None, None),
        ("Bearer", None),
    ],
)
def test_usual_bearer_reads_only_the_usual_spelling(value, token):
    assert usual_bearer(value) == token


# --- DPoP beside Bearer (RFC 9449 §7.1) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DPoP a.b.c", ("DPoP", "a.b.c")),
        ("dpop a.b.c", ("DPoP", "a.b.c")),
        ("DPOP   a.b.c", ("DPoP", "a.b.c")),
        ("Bearer a.b.c", ("Bearer", "a.b.c")),
        (["DPoP a.b.c"], ("DPoP", "a.b.c")),
    ],
)
def test_credentials_of_either_scheme(value, expected):
    assert credentials_from_authorization(value) == expected


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, MissingTokenError),
        ("Basic dXNlcjpwYXNz", MissingTokenError),
        ("DPoPa.b.c", MissingTokenError),  # no space: another scheme's name
        ("DPoP", InvalidRequestError),
        ("DPoP\ta.b.c", InvalidRequestError),
        ("DPoP a b", InvalidRequestError),
        (["DPoP a.b.c", "DPoP a.b.c"], InvalidRequestError),  # repeated
        ("Basic x, DPoP a.b.c", InvalidRequestError),  # two fields folded into one
    ],
)
def test_refused_credentials_of_either_scheme(value, error):
    with pytest.raises(error):
        credentials_from_authorization(value)


def test_a_dpop_token_also_in_the_query_is_two_methods():
    with pytest.raises(InvalidRequestError):
        credentials_from_authorization("DPoP a.b.c", query="access_token=a.b.c")


def test_the_bearer_only_parser_still_takes_dpop_as_another_scheme():
    with pytest.raises(MissingTokenError) as refused:
        token_from_authorization("DPoP a.b.c")

    assert refused.value.reason == "The Authorization header uses a scheme other than Bearer."


# --- the usual DPoP or Bearer field, read without the parser ------------------------------------

SPELLINGS = [
    "DPoP a.b.c",
    "Bearer a.b.c",
    "dpop a.b.c",  # another spelling: the parser's to read
    "DPoP  a.b.c",  # two spaces
    "DPoP a.b.c ",  # trailing whitespace, which the parser strips
    "DPoP a.b.c\t",
    "\tDPoP a.b.c",
    "DPoP a b",
    "DPoP a.b.c==",
    "DPoP ==",
    "DPoP ",
    "DPoP",
    "DPoPa.b.c",
    "DPoP a.b.\u00e9",
    "Basic x, DPoP a.b.c",
    "Bearer a.b.c, DPoP a.b.c",
]


@pytest.mark.parametrize("value", SPELLINGS)
def test_usual_credentials_answer_as_the_parser_or_leave_it_to_the_parser(value):
    usual = usual_credentials([value])
    if usual is None:
        return  # the parser decides, as before
    assert usual == credentials_from_authorization([value])


def test_usual_credentials_read_the_usual_fields_only():
    assert usual_credentials(["DPoP a.b.c"]) == ("DPoP", "a.b.c")
    assert usual_credentials(["Bearer a.b.c"]) == ("Bearer", "a.b.c")
    assert usual_credentials(["dpop a.b.c"]) is None
    assert usual_credentials(["DPoP a.b.c", "DPoP a.b.c"]) is None  # repeated: the parser's 400
    assert usual_credentials([]) is None


def _parsed_tokens() -> set[str]:
    """Every token the parser takes from the spellings: what a verifier may know."""
    return {parsed for value in SPELLINGS if (parsed := _token_or_none(value)) is not None}


def _token_or_none(value: str) -> str | None:
    try:
        return credentials_from_authorization([value])[1]
    except (MissingTokenError, InvalidRequestError):
        return None


@pytest.mark.parametrize("value", SPELLINGS)
def test_usual_credentials_answer_alike_when_the_token_is_known(value):
    # A verifier passes the tokens that passed before: their spelling is not checked again,
    # and every answer stays the parser's (or the parser's to give).
    assert usual_credentials([value], _parsed_tokens()) == usual_credentials([value])


def test_a_known_token_is_read_without_its_b64token_check_only_in_the_usual_spelling():
    known = {"a.b.c"}
    assert usual_credentials(["DPoP a.b.c"], known) == ("DPoP", "a.b.c")
    assert usual_credentials(["DPoP  a.b.c"], known) is None  # two spaces: the parser's
    assert usual_credentials(["dpop a.b.c"], known) is None
