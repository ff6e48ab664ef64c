"""AccessToken: scope checks, namespaced claims, client id, immutability, no leaks."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from bearerguard import AccessToken, ConfigurationError, InsufficientScopeError
from bearerguard._scopes import ScopeHierarchy, check_scope_implications
from bearerguard._token import RequiredScopes

EXP = 1_800_003_600  # 2027-01-15 09:00 UTC
RAW = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxMjMifQ.c2lnbmF0dXJlLWJ5dGVz"


def make_token(scopes: str = "read:contacts write:contacts", realm: str = "api", **claims: Any):
    body = {"sub": "auth0|123", "scope": scopes, "exp": EXP, **claims}
    return AccessToken(
        claims=MappingProxyType(body),
        header=MappingProxyType({"alg": "RS256", "kid": "k1"}),
        scopes=frozenset(scopes.split()),
        issuer="https://tenant.auth0.com/",
        audience=("https://api.example.com",),
        subject="auth0|123",
        raw=RAW,
        realm=realm,
    )


# --- has_scopes ----------------------------------------------------------------------------


def test_has_scopes_requires_all_of_them_by_default() -> None:
    token = make_token()
    assert token.has_scopes("read:contacts")
    assert token.has_scopes("read:contacts", "write:contacts")
    assert not token.has_scopes("read:contacts", "delete:contacts")


def test_has_scopes_any_of_needs_only_one() -> None:
    token = make_token()
    assert token.has_scopes("delete:contacts", "write:contacts", any_of=True)
    assert not token.has_scopes("delete:contacts", "admin", any_of=True)


@pytest.mark.parametrize("any_of", [False, True])
def test_requiring_nothing_is_satisfied(any_of: bool) -> None:
    empty = make_token(scopes="")
    assert empty.has_scopes(any_of=any_of)
    empty.require_scopes(any_of=any_of)  # does not raise


@pytest.mark.parametrize("asked", ["READ:CONTACTS", "read:contact", "read:contacts ", "read"])
def test_scopes_match_exactly_and_case_sensitively(asked: str) -> None:
    token = make_token()
    if asked != asked.strip():
        with pytest.raises(ConfigurationError):
            token.has_scopes(asked)
    else:
        assert not token.has_scopes(asked)
        assert not token.has_scopes(asked, any_of=True)


def test_repeated_required_scope_is_still_one_scope() -> None:
    assert make_token().has_scopes("read:contacts", "read:contacts")


# --- require_scopes ------------------------------------------------------------------------


def test_require_scopes_passes_when_granted() -> None:
    token = make_token()
    token.require_scopes("read:contacts")
    token.require_scopes("read:contacts", "write:contacts")
    token.require_scopes("admin", "write:contacts", any_of=True)


def test_require_scopes_raises_403_with_the_required_scopes_in_the_challenge() -> None:
    token = make_token(realm="orders")
    with pytest.raises(InsufficientScopeError) as caught:
        token.require_scopes("read:contacts", "delete:contacts")
    exc = caught.value
    assert exc.status_code == 403
    assert exc.error == "insufficient_scope"
    assert exc.required_scopes == ("read:contacts", "delete:contacts")
    assert exc.any_of is False
    assert exc.www_authenticate == (
        'Bearer realm="orders", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="read:contacts delete:contacts"'
    )
    assert exc.to_json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }


def test_require_scopes_any_of_records_the_mode() -> None:
    with pytest.raises(InsufficientScopeError) as caught:
        make_token().require_scopes("admin", "root", any_of=True)
    assert caught.value.any_of is True
    assert caught.value.required_scopes == ("admin", "root")
    assert 'scope="admin root"' in (caught.value.www_authenticate or "")


@pytest.mark.parametrize(
    "bad",
    ["", "read contacts", 'read"contacts', "read\\contacts", "read\tcontacts", "caf\u00e9", 123],
    ids=["empty", "space", "quote", "backslash", "tab", "non-ascii", "not-a-string"],
)
@pytest.mark.parametrize("method", ["has_scopes", "require_scopes"])
def test_invalid_scope_names_are_a_configuration_error(bad: Any, method: str) -> None:
    token = make_token()
    with pytest.raises(ConfigurationError) as caught:
        getattr(token, method)("read:contacts", bad)
    assert "scope" in str(caught.value)


def test_a_scope_string_with_spaces_is_refused_not_split() -> None:
    # A common mistake: require_scopes("read:contacts write:contacts"). It must not pass
    # or fail silently; the error says to pass each scope separately.
    with pytest.raises(ConfigurationError, match="own argument"):
        make_token().require_scopes("read:contacts write:contacts")


# --- scope hierarchies ---------------------------------------------------------------------


def hierarchical_token(scopes: str) -> AccessToken:
    hierarchy = ScopeHierarchy(
        check_scope_implications({"admin": ["write:a"], "write:a": ["read:a"]})
    )
    return dataclasses.replace(make_token(scopes), scope_hierarchy=hierarchy)


def test_a_hand_built_token_has_no_hierarchy_and_matches_exactly() -> None:
    token = make_token("admin")
    assert token.scope_hierarchy is None
    assert token.effective_scopes == {"admin"}
    assert not token.has_scopes("read:a")


def test_a_token_carrying_a_hierarchy_grants_what_its_scopes_imply() -> None:
    token = hierarchical_token("admin")
    assert token.has_scopes("read:a", "write:a")
    assert token.has_scopes("read:b", "read:a", any_of=True)
    assert not token.has_scopes("read:b", "read:a")
    assert token.effective_scopes == {"admin", "write:a", "read:a"}
    assert token.scopes == {"admin"}


def test_a_refusal_under_a_hierarchy_still_names_the_required_scopes() -> None:
    with pytest.raises(InsufficientScopeError) as caught:
        hierarchical_token("write:a").require_scopes("read:a", "admin")
    assert caught.value.required_scopes == ("read:a", "admin")
    assert 'scope="read:a admin"' in (caught.value.www_authenticate or "")


def test_the_hierarchy_is_not_in_repr() -> None:
    assert "ScopeHierarchy" not in repr(hierarchical_token("admin"))


# --- claims --------------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ["https://example.com/", "https://example.com"])
def test_claim_with_namespace_with_or_without_trailing_slash(namespace: str) -> None:
    token = make_token(**{"https://example.com/roles": ["admin"]})
    assert token.claim("roles", namespace=namespace) == ["admin"]


def test_claim_without_namespace_and_default() -> None:
    token = make_token(email="a@example.com")
    assert token.claim("email") == "a@example.com"
    assert token.claim("missing") is None
    assert token.claim("missing", default=[]) == []
    assert token.claim("roles", namespace="https://example.com", default=()) == ()


def test_claim_does_not_fall_back_to_the_unnamespaced_name() -> None:
    token = make_token(roles=["admin"])
    assert token.claim("roles", namespace="https://example.com") is None


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"client_id": "c-9068"}, "c-9068"),
        ({"azp": "c-auth0"}, "c-auth0"),
        ({"client_id": "c-9068", "azp": "c-auth0"}, "c-9068"),
        ({}, None),
    ],
    ids=["client_id", "azp", "client_id-wins", "neither"],
)
def test_client_id_from_client_id_or_azp(claims: dict[str, Any], expected: str | None) -> None:
    assert make_token(**claims).client_id == expected


# --- times ---------------------------------------------------------------------------------


def test_expires_at_is_the_exp_claim_as_an_aware_utc_datetime() -> None:
    expires = make_token().expires_at
    assert expires == datetime(2027, 1, 15, 9, tzinfo=timezone.utc)
    assert expires.utcoffset() == timedelta(0)


def test_issued_at_is_the_iat_claim_and_none_without_one() -> None:
    assert make_token().issued_at is None
    issued = make_token(iat=EXP - 3600).issued_at
    assert issued == datetime(2027, 1, 15, 8, tzinfo=timezone.utc)
    assert issued is not None
    assert issued.utcoffset() == timedelta(0)


def test_fractional_numeric_dates_keep_their_microseconds() -> None:
    token = make_token(exp=EXP + 0.25, iat=EXP - 0.5)
    assert token.expires_at == datetime(2027, 1, 15, 9, 0, 0, 250000, tzinfo=timezone.utc)
    assert token.issued_at == datetime(2027, 1, 15, 8, 59, 59, 500000, tzinfo=timezone.utc)


# --- immutability and repr ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["subject", "scopes", "claims", "raw", "issuer"])
def test_access_token_is_frozen(name: str) -> None:
    token = make_token()
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(token, name, "changed")


@pytest.mark.parametrize("name", ["expires_at", "issued_at"])
def test_its_times_cannot_be_set_either(name: str) -> None:
    token = make_token()
    # Refused by the frozen dataclass' __setattr__; for a name that is not a field,
    # CPython refuses with a TypeError from its slots class (python/cpython#105936).
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        setattr(token, name, datetime(2099, 1, 1, tzinfo=timezone.utc))
    assert token.expires_at == datetime(2027, 1, 15, 9, tzinfo=timezone.utc)


def test_claims_and_header_are_read_only() -> None:
    token = make_token()
    with pytest.raises(TypeError):
        token.claims["sub"] = "someone-else"  # type: ignore[index]
    with pytest.raises(TypeError):
        token.header["alg"] = "none"  # type: ignore[index]


def test_scopes_cannot_be_extended() -> None:
    token = make_token()
    with pytest.raises(AttributeError):
        token.scopes.add("admin")  # type: ignore[attr-defined]


def test_raw_token_is_not_in_repr() -> None:
    text = repr(make_token())
    assert RAW not in text
    for segment in RAW.split("."):
        assert segment not in text
    assert "auth0|123" in text  # the useful parts are still shown


def test_scope_names_found_valid_are_remembered_within_a_bound() -> None:
    from bearerguard import _token

    token = make_token()
    for i in range(5000):
        assert not token.has_scopes(f"generated:{i}")
    assert len(_token._VALID_SCOPE_NAMES) <= _token._MAX_VALID_SCOPE_NAMES
    assert token.has_scopes("read:contacts")
    with pytest.raises(ConfigurationError):
        token.has_scopes("read contacts")  # still checked, however many names came before


class TestRequiredScopes:
    """What adapters hold per route: the names checked once, the sets compared per request."""

    def test_names_are_checked_where_the_route_is_declared(self):
        with pytest.raises(ConfigurationError):
            RequiredScopes(("read contacts",))

    @pytest.mark.parametrize(
        ("names", "any_of", "granted"),
        [
            ((), False, True),
            (("read:contacts",), False, True),
            (("read:contacts", "delete:contacts"), False, False),
            (("delete:contacts", "write:contacts"), True, True),
            (("delete:contacts", "admin"), True, False),
        ],
    )
    def test_granted_exactly_when_the_token_has_scopes_says_so(self, names, any_of, granted):
        token = make_token()
        required = RequiredScopes(names, any_of=any_of)
        assert required.granted_by(token) is granted
        assert token.has_scopes(*names, any_of=any_of) is granted
        assert bool(required) is bool(names)

    def test_enforce_raises_what_require_scopes_raises(self):
        token = make_token(realm="contacts")
        with pytest.raises(InsufficientScopeError) as from_route:
            RequiredScopes(("admin", "root"), any_of=True).enforce(token)
        with pytest.raises(InsufficientScopeError) as from_token:
            token.require_scopes("admin", "root", any_of=True)
        assert from_route.value.www_authenticate == from_token.value.www_authenticate
        assert 'scope="admin root"' in from_route.value.www_authenticate

    @pytest.mark.parametrize(
        ("names", "any_of", "named"),
        [
            # all-of: the scopes the token holds too, not only the missing one
            (("read:contacts", "delete:contacts"), False, "read:contacts delete:contacts"),
            # any-of: every alternative
            (("admin", "root", "owner"), True, "admin root owner"),
        ],
    )
    def test_the_403_names_every_scope_the_requirement_needs(self, names, any_of, named):
        # MCP step-up: a client that asks for exactly these gets a token that passes.
        token = make_token()
        with pytest.raises(InsufficientScopeError) as refused:
            RequiredScopes(names, any_of=any_of).enforce(token)
        assert refused.value.required_scopes == names
        assert f'scope="{named}"' in refused.value.www_authenticate
