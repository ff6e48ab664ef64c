"""The rule table of the ASGI and WSGI middlewares: which request needs which token.

Pure tests: a path and a method in, the rule that governs them out. The
middlewares' own tests check the same rules through real requests.
"""

from __future__ import annotations

import pytest

from bearerguard import ConfigurationError, InsufficientScopeError, Rule
from bearerguard._rules import RuleTable


def table(*rules: Rule, public_by_default: bool = False) -> RuleTable:
    return RuleTable(rules, public_by_default=public_by_default)


@pytest.fixture
def verified_token(make_verifier, provider):
    """Mint and really verify a token with these claim overrides."""
    verifier = make_verifier()
    return lambda **claims: verifier.verify(provider.token(**claims))


# --- matching paths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/api/contacts", "/api/contacts", True),
        ("/api/contacts", "/api/contacts/", True),  # a trailing slash is the same route
        ("/api/contacts/", "/api/contacts", True),
        ("/api/contacts", "/api/contactsx", False),  # no prefix matching
        ("/api/contacts", "/api/contacts/1", False),
        ("/api/contacts", "/API/contacts", False),  # paths are case-sensitive
        ("/api/contacts/{id}", "/api/contacts/42", True),
        ("/api/contacts/{id}", "/api/contacts/42/", True),
        ("/api/contacts/{id}", "/api/contacts/", False),  # a parameter is never empty
        ("/api/contacts/{id}", "/api/contacts/42/notes", False),  # one segment only
        ("/api/{kind}/{id}/notes", "/api/contacts/42/notes", True),
        ("/files/{rest:path}", "/files/a/b/c.txt", True),
        ("/files/{rest:path}", "/files/", True),
        ("/files/{rest:path}", "/filesystem", False),
        ("/", "/", True),
        ("/", "/api", False),
        ("/a.b", "/aXb", False),  # literal characters are not regular expressions
        ("/a+b", "/a+b", True),
    ],
)
def test_patterns_use_starlette_syntax(pattern, path, matches):
    assert Rule(pattern).matches("GET", path) is matches


def test_repeated_slashes_are_collapsed_before_matching():
    rules = table(Rule("/api/public", public=True))
    assert rules.match("GET", "//api//public").public
    assert rules.match("GET", "/api///public/").public


def test_the_first_matching_rule_wins():
    specific = Rule("/api/contacts/export", "export:contacts")
    general = Rule("/api/contacts/{id}", "read:contacts")
    assert table(specific, general).match("GET", "/api/contacts/export") is specific
    assert table(general, specific).match("GET", "/api/contacts/export") is general


def test_answers_are_remembered_per_method_and_path_within_a_bound():
    from bearerguard import _rules

    rules = table(
        Rule("/api/contacts", "read:contacts", methods=["GET"]),
        Rule("/api/contacts", "write:contacts", methods=["POST"]),
    )
    for _ in range(2):  # the second time from memory: the same answers
        assert rules.match("GET", "/api/contacts").scopes == ("read:contacts",)
        assert rules.match("post", "/api/contacts").scopes == ("write:contacts",)
        assert not rules.match("GET", "//api//contacts").public
        assert rules.match("DELETE", "/api/contacts") is rules.match("GET", "/elsewhere")
    for i in range(_rules._MAX_MATCHED + 10):  # client-chosen paths cannot grow it unbounded
        rules.match("GET", f"/probe/{i}")
    assert len(rules._matched) <= _rules._MAX_MATCHED
    assert rules.match("GET", "/api/contacts").scopes == ("read:contacts",)


# --- methods -----------------------------------------------------------------------------


def test_a_rule_without_methods_covers_every_method():
    rule = Rule("/api/contacts", "read:contacts")
    assert all(rule.matches(m, "/api/contacts") for m in ("GET", "POST", "DELETE", "PATCH"))


def test_a_rule_with_methods_covers_only_those():
    reads = Rule("/api/contacts", "read:contacts", methods=["GET"])
    writes = Rule("/api/contacts", "write:contacts", methods=["POST", "put"])
    rules = table(reads, writes)
    assert rules.match("GET", "/api/contacts") is reads
    assert rules.match("POST", "/api/contacts") is writes
    assert rules.match("put", "/api/contacts") is writes  # methods compare case-insensitively
    assert not rules.match("DELETE", "/api/contacts").public  # unmatched: fail closed


def test_get_also_covers_head():
    assert Rule("/api/contacts", methods=["GET"]).matches("HEAD", "/api/contacts")
    assert not Rule("/api/contacts", methods=["POST"]).matches("HEAD", "/api/contacts")


def test_one_method_may_be_given_as_a_string():
    assert Rule("/x", methods="post").methods == frozenset({"POST"})


# --- what a request needs ----------------------------------------------------------------


def test_unmatched_paths_need_a_valid_token_by_default():
    default = table(Rule("/api/public", public=True)).match("GET", "/admin")
    assert not default.public
    assert not default.optional
    assert default.scopes == ()


def test_public_by_default_lets_unmatched_paths_through():
    assert table(public_by_default=True).match("GET", "/anything").public


def test_authorize_checks_all_scopes_by_default(verified_token):
    token = verified_token(scope="read:contacts")
    Rule("/x", "read:contacts").authorize(token)
    with pytest.raises(InsufficientScopeError) as info:
        Rule("/x", "read:contacts", "write:contacts").authorize(token)
    assert info.value.required_scopes == ("read:contacts", "write:contacts")


def test_authorize_any_of_needs_one_scope(verified_token):
    token = verified_token(scope="read:messages")
    Rule("/x", "read:contacts", "read:messages", any_of=True).authorize(token)
    with pytest.raises(InsufficientScopeError):
        Rule("/x", "read:contacts", "admin", any_of=True).authorize(token)


def test_a_rule_without_scopes_accepts_any_valid_token(verified_token):
    Rule("/x").authorize(verified_token(scope=None))


# --- configuration mistakes are caught when the rule is written --------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("api/contacts",), {}, "must start with '/'"),
        (("/x", "read:contacts"), {"public": True}, "cannot require scopes"),
        (("/x", "read:contacts"), {"optional": True}, "cannot require scopes"),
        (("/x",), {"public": True, "optional": True}, "not both"),
        (("/x", "read contacts"), {}, "is not a scope name"),
        (("/x", ""), {}, "is not a scope name"),
        (("/x/{id",), {}, "parameters look like"),
        (("/x/{1id}",), {}, "parameters look like"),
    ],
)
def test_a_rule_that_cannot_work_is_refused(args, kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        Rule(*args, **kwargs)


def test_the_table_only_takes_rules():
    with pytest.raises(ConfigurationError, match=r"bearerguard\.Rule"):
        RuleTable(["/api/public"])  # type: ignore[list-item]


def test_a_rule_reads_back_as_written():
    rule = Rule("/api/contacts/{id}", "read:contacts", "admin", methods=["GET"], any_of=True)
    assert repr(rule) == (
        "Rule('/api/contacts/{id}', 'read:contacts', 'admin', methods=['GET', 'HEAD'], any_of=True)"
    )
    assert repr(Rule("/p", public=True)) == "Rule('/p', public=True)"
