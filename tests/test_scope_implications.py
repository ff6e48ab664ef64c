"""Scope hierarchies: a broader scope implies narrower ones, in every requirement check.

``Verifier(scope_implications={broader: [narrower, ...]})`` is checked when the verifier is
built and closed under transitivity once; every check of required scopes (``has_scopes``,
``require_scopes``, ``RequiredScopes``, and so every adapter) then counts a required scope
as granted when the token holds a broader scope implying it. The token's own ``scopes``
stay what it says, and a 403's challenge keeps naming the scopes the route requires.
Tokens are signed for real; the adapters are driven through their real test clients.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from bearerguard import ConfigurationError, InsufficientScopeError, Verifier
from bearerguard._scopes import MAX_IMPLIED_SCOPE_NAMES, ScopeHierarchy, check_scope_implications
from bearerguard._token import RequiredScopes

from .support import AUDIENCE, ISSUER, Provider, bearer, challenge_params, claims, sign_token

MakeVerifier = Callable[..., Verifier]
CONTACTS = {
    "admin": ["write:contacts", "delete:contacts"],
    "write:contacts": ["read:contacts"],
}


@pytest.fixture
def verifier(make_verifier: MakeVerifier) -> Verifier:
    return make_verifier(scope_implications=CONTACTS)


def hierarchy(implications: dict[str, Any]) -> ScopeHierarchy:
    return ScopeHierarchy(check_scope_implications(implications))


# --- The map: what it accepts --------------------------------------------------------------


def test_each_broader_scope_lists_the_scopes_it_implies() -> None:
    checked = check_scope_implications({"admin": ["read:a", "write:a", "read:a"]})
    assert dict(checked) == {"admin": ("read:a", "write:a")}  # duplicates dropped, order kept


def test_one_string_of_space_separated_scopes_is_a_list_as_oauth_writes_scopes() -> None:
    assert dict(check_scope_implications({"admin": "read:a  write:a"})) == {
        "admin": ("read:a", "write:a")
    }


@pytest.mark.parametrize("nothing", [None, {}])
def test_no_map_means_no_hierarchy(make_verifier: MakeVerifier, nothing: Any) -> None:
    config = make_verifier(scope_implications=nothing).config
    assert dict(config.scope_implications) == {}
    assert config.scope_hierarchy is None


def test_the_verifier_keeps_the_map_as_declared_and_its_closure_apart(verifier: Verifier) -> None:
    assert dict(verifier.config.scope_implications) == {
        "admin": ("write:contacts", "delete:contacts"),
        "write:contacts": ("read:contacts",),
    }
    assert verifier.config.scope_hierarchy is not None
    assert verifier.config.scope_hierarchy.implied_by("admin") == {
        "write:contacts",
        "delete:contacts",
        "read:contacts",
    }


# --- The map: what it refuses, and how ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (["admin", "read:contacts"], "must map each broader scope to the narrower scopes"),
        ("admin=read:contacts", "must map each broader scope"),
        ({"admin": 5}, "must give the scopes 'admin' implies as a list of scope names"),
        ({"admin": {"read": True}}, "as a list of scope names"),
        ({"admin": []}, "says 'admin' implies nothing"),
        ({"admin": " "}, "says 'admin' implies nothing"),
        ({"admin": ["read contacts"]}, "a scope implied by 'admin' that is not a scope name"),
        ({"admin": ['read:"x"']}, "not a scope name"),
        ({"admin": [None]}, "not a scope name (None)"),
        ({"": ["read:contacts"]}, "has a key that is not a scope name ('')"),
        ({"read all": ["read:contacts"]}, "has a key that is not a scope name"),
        ({7: ["read:contacts"]}, "has a key that is not a scope name (7)"),
        ({"admin": ["admin", "read:contacts"]}, "makes 'admin' imply itself"),
    ],
)
def test_a_wrong_map_is_refused_naming_the_setting_and_what_to_write(value: Any, says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Verifier(issuer=ISSUER, audience=AUDIENCE, scope_implications=value)
    assert refused.value.setting == "scope_implications"
    assert says in str(refused.value)
    assert "scope_implications={'admin': ['read:contacts', 'write:contacts']}" in str(refused.value)


@pytest.mark.parametrize(
    ("value", "cycle"),
    [
        ({"read": ["write"], "write": ["read"]}, "'read' -> 'write' -> 'read'"),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, "'a' -> 'b' -> 'c' -> 'a'"),
        ({"admin": ["x", "b"], "b": ["c"], "c": ["b"]}, "'b' -> 'c' -> 'b'"),
    ],
)
def test_a_cycle_is_refused_because_a_narrower_scope_would_grant_a_broader_one(
    value: dict[str, list[str]], cycle: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Verifier(issuer=ISSUER, audience=AUDIENCE, scope_implications=value)
    message = str(refused.value)
    assert f"holds a cycle ({cycle})" in message
    assert "would let a narrower scope grant a broader one" in message


def test_a_long_cycle_is_named_by_its_start_and_its_end() -> None:
    ring = {f"s{i}": [f"s{(i + 1) % 20}"] for i in range(20)}
    with pytest.raises(ConfigurationError) as refused:
        check_scope_implications(ring)
    assert "('s0' -> 's1' -> 's2' -> 's3' -> 's4' -> 's5' -> ... -> 's0')" in str(refused.value)


def test_the_map_is_bounded_in_size() -> None:
    too_many = {f"s{i}": [f"s{i + 1}"] for i in range(MAX_IMPLIED_SCOPE_NAMES)}
    with pytest.raises(ConfigurationError, match=f"names more than {MAX_IMPLIED_SCOPE_NAMES}"):
        Verifier(issuer=ISSUER, audience=AUDIENCE, scope_implications=too_many)


def test_the_longest_chain_allowed_closes_fully_without_recursion() -> None:
    chain = {f"s{i}": [f"s{i + 1}"] for i in range(MAX_IMPLIED_SCOPE_NAMES - 1)}
    closed = hierarchy(chain)
    assert len(closed.implied_by("s0")) == MAX_IMPLIED_SCOPE_NAMES - 1
    assert closed.implied_by(f"s{MAX_IMPLIED_SCOPE_NAMES - 1}") == frozenset()


# --- Transitivity --------------------------------------------------------------------------


def test_implication_is_transitive() -> None:
    closed = hierarchy(CONTACTS)
    assert closed.implied_by("admin") == {"write:contacts", "delete:contacts", "read:contacts"}
    assert closed.implied_by("write:contacts") == {"read:contacts"}
    assert closed.implied_by("read:contacts") == frozenset()  # the narrowest implies nothing


def test_shared_narrower_scopes_are_reached_through_every_path() -> None:
    diamond = hierarchy({"owner": ["billing", "members"], "billing": ["read"], "members": ["read"]})
    assert diamond.implied_by("owner") == {"billing", "members", "read"}
    assert diamond.grants(frozenset({"members"}), frozenset({"read"}), any_of=False)
    assert not diamond.grants(frozenset({"members"}), frozenset({"billing"}), any_of=False)


def test_expand_adds_what_the_held_scopes_imply_and_nothing_else() -> None:
    closed = hierarchy(CONTACTS)
    assert closed.expand(frozenset({"write:contacts", "openid"})) == {
        "write:contacts",
        "read:contacts",
        "openid",
    }
    assert closed.expand(frozenset({"openid"})) == {"openid"}


# --- Every requirement check, through a real verifier -------------------------------------


def test_a_broader_scope_grants_the_narrower_ones(verifier: Verifier, provider: Provider) -> None:
    token = verifier.verify(provider.token(scope="openid admin"))
    assert token.has_scopes("read:contacts")
    assert token.has_scopes("read:contacts", "write:contacts", "delete:contacts")
    token.require_scopes("read:contacts", "delete:contacts")  # does not raise
    assert RequiredScopes(("read:contacts", "admin")).granted_by(token)


def test_a_narrower_scope_never_grants_a_broader_one(
    verifier: Verifier, provider: Provider
) -> None:
    token = verifier.verify(provider.token(scope="read:contacts"))
    assert not token.has_scopes("write:contacts")
    assert not token.has_scopes("admin")
    assert not token.has_scopes("write:contacts", "admin", any_of=True)


def test_all_of_needs_every_scope_held_or_implied(verifier: Verifier, provider: Provider) -> None:
    token = verifier.verify(provider.token(scope="write:contacts"))
    assert token.has_scopes("read:contacts", "write:contacts")
    assert not token.has_scopes("read:contacts", "delete:contacts")  # delete: admin only


def test_any_of_needs_one_scope_held_or_implied(verifier: Verifier, provider: Provider) -> None:
    token = verifier.verify(provider.token(scope="write:contacts"))
    assert token.has_scopes("delete:contacts", "read:contacts", any_of=True)
    assert RequiredScopes(("read:contacts", "admin"), any_of=True).granted_by(token)
    assert not token.has_scopes("delete:contacts", "admin", any_of=True)


def test_the_token_s_own_scopes_stay_what_it_says(verifier: Verifier, provider: Provider) -> None:
    token = verifier.verify(provider.token(scope="openid write:contacts"))
    assert token.scopes == {"openid", "write:contacts"}
    assert token.effective_scopes == {"openid", "write:contacts", "read:contacts"}


def test_without_implications_scopes_match_exactly(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    token = make_verifier().verify(provider.token(scope="admin"))
    assert not token.has_scopes("read:contacts")
    assert token.effective_scopes is token.scopes


def test_each_verifier_s_tokens_follow_that_verifier_s_hierarchy(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    raw = provider.token(scope="admin")
    assert make_verifier(scope_implications=CONTACTS).verify(raw).has_scopes("read:contacts")
    assert not make_verifier().verify(raw).has_scopes("read:contacts")


def test_a_remembered_token_keeps_its_verifier_s_hierarchy(
    verifier: Verifier, provider: Provider
) -> None:
    raw = provider.token(scope="admin")
    for _ in range(3):  # admitted to the verified-token cache on its second sighting
        assert verifier.verify(raw).has_scopes("read:contacts")


def test_permissions_from_auth0_rbac_are_expanded_too(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    verifier = make_verifier(scope_claims=("scope", "permissions"), scope_implications=CONTACTS)
    token = verifier.verify(provider.token(scope="openid", permissions=["write:contacts"]))
    assert token.has_scopes("read:contacts")


def test_the_403_names_the_scopes_the_route_requires_not_the_token_s(
    make_verifier: MakeVerifier, provider: Provider
) -> None:
    verifier = make_verifier(scope_implications=CONTACTS, resource=AUDIENCE)
    token = verifier.verify(provider.token(scope="write:contacts"))
    with pytest.raises(InsufficientScopeError) as refused:
        token.require_scopes("read:contacts", "delete:contacts")
    params = challenge_params(refused.value.headers["WWW-Authenticate"])
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "read:contacts delete:contacts"
    assert params["resource_metadata"] == verifier.resource_metadata_url


# --- Settings by name ------------------------------------------------------------------------

ENVIRONMENT = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}


def test_the_environment_gives_the_map_as_json() -> None:
    verifier = Verifier.from_env(
        {**ENVIRONMENT, "BEARERGUARD_SCOPE_IMPLICATIONS": json.dumps(CONTACTS)}
    )
    assert dict(verifier.config.scope_implications) == {
        "admin": ("write:contacts", "delete:contacts"),
        "write:contacts": ("read:contacts",),
    }


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("admin=read:contacts", 'must be JSON, e.g. \'{"admin": ["read:contacts"'),
        ('{"admin": ["read:contacts"]', "must be JSON"),
        ('{"admin": ["a"], "admin": ["b"]}', "names 'admin' twice"),
        ('["admin"]', "must map each broader scope"),
        ('{"read": ["write"], "write": ["read"]}', "holds a cycle"),
        ("[" * 100_000, "nested too deeply"),
        ('{"admin": ' + "7" * 5000 + "}", "must be JSON, e.g. "),
    ],
)
def test_a_wrong_variable_is_refused_under_its_name(raw: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Verifier.from_env({**ENVIRONMENT, "BEARERGUARD_SCOPE_IMPLICATIONS": raw})
    assert str(refused.value).startswith("BEARERGUARD_SCOPE_IMPLICATIONS")
    assert says in str(refused.value)
    assert refused.value.setting == "scope_implications"


def test_django_s_setting_takes_the_map_as_a_dict() -> None:
    from bearerguard.django.conf import check_setting

    setting = {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "SCOPE_IMPLICATIONS": CONTACTS}
    assert check_setting(setting) == []
    (problem,) = check_setting({**setting, "SCOPE_IMPLICATIONS": {"a": ["b"], "b": ["a"]}})
    assert problem.id == "bearerguard.E006"
    assert "BEARERGUARD['SCOPE_IMPLICATIONS']" in problem.msg
    assert "holds a cycle" in problem.msg


# --- Through the adapters' real test clients --------------------------------------------------


def _asgi_client(verifier: Verifier) -> Any:
    from starlette.testclient import TestClient

    from bearerguard.asgi import BearerMiddleware, Rule

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    rules = [
        Rule("/contacts", "read:contacts", methods=["GET"]),
        Rule("/contacts", "write:contacts", methods=["POST"]),
        Rule("/contacts/{id}", "delete:contacts", "admin", any_of=True, methods=["DELETE"]),
        Rule("/admin", "admin"),
    ]
    return TestClient(BearerMiddleware(app, verifier=verifier, rules=rules))


@pytest.mark.parametrize(
    ("scope", "request_line", "status"),
    [
        ("admin", "GET /contacts", 200),
        ("admin", "POST /contacts", 200),
        ("admin", "DELETE /contacts/1", 200),
        ("write:contacts", "GET /contacts", 200),
        ("write:contacts", "POST /contacts", 200),
        ("write:contacts", "DELETE /contacts/1", 403),
        ("read:contacts", "POST /contacts", 403),
        ("write:contacts", "GET /admin", 403),
    ],
)
def test_the_asgi_middleware_honours_the_hierarchy(
    verifier: Verifier, provider: Provider, scope: str, request_line: str, status: int
) -> None:
    method, path = request_line.split()
    client = _asgi_client(verifier)
    response = client.request(method, path, headers=bearer(provider.token(scope=scope)))
    assert response.status_code == status


def test_the_asgi_middleware_s_403_names_the_rule_s_scopes(
    verifier: Verifier, provider: Provider
) -> None:
    response = _asgi_client(verifier).get(
        "/admin", headers=bearer(provider.token(scope="write:contacts"))
    )
    assert response.status_code == 403
    params = challenge_params(response.headers["WWW-Authenticate"])
    assert (params["error"], params["scope"]) == ("insufficient_scope", "admin")


SECRET = "a-shared-secret-of-at-least-32-bytes!"


def _flask_client(implications: Any) -> Any:
    from flask import Flask

    from bearerguard.flask import BearerGuard, current_token, requires

    app = Flask(__name__)
    app.config.update(
        BEARERGUARD_ISSUER=ISSUER,
        BEARERGUARD_AUDIENCE=AUDIENCE,
        BEARERGUARD_ALGORITHMS="HS256",
        BEARERGUARD_SECRET=SECRET,
        BEARERGUARD_SCOPE_IMPLICATIONS=implications,
    )
    BearerGuard(app)

    @app.get("/contacts")
    @requires("read:contacts")
    def contacts() -> dict[str, Any]:
        return {"scopes": sorted(current_token.scopes)}

    @app.delete("/contacts/<int:ident>")
    @requires("delete:contacts", "admin", any_of=True)
    def delete(ident: int) -> dict[str, Any]:
        return {"deleted": ident}

    return app.test_client()


def _hs256(scope: str) -> str:
    return sign_token(
        {"alg": "HS256", "typ": "JWT"}, claims(now=time.time(), scope=scope), SECRET.encode()
    )


@pytest.mark.parametrize("implications", [CONTACTS, json.dumps(CONTACTS)], ids=["dict", "json"])
def test_flask_takes_the_map_from_app_config_and_honours_it(implications: Any) -> None:
    client = _flask_client(implications)
    answer = client.get("/contacts", headers=bearer(_hs256("write:contacts")))
    assert answer.status_code == 200
    assert answer.json == {"scopes": ["write:contacts"]}  # the view sees what the token says
    assert client.delete("/contacts/7", headers=bearer(_hs256("admin"))).status_code == 200


def test_flask_s_403_names_the_view_s_scopes() -> None:
    answer = _flask_client(CONTACTS).delete("/contacts/7", headers=bearer(_hs256("write:contacts")))
    assert answer.status_code == 403
    params = challenge_params(answer.headers["WWW-Authenticate"])
    assert (params["error"], params["scope"]) == ("insufficient_scope", "delete:contacts admin")


def test_flask_names_the_config_key_of_a_wrong_map() -> None:
    with pytest.raises(ConfigurationError) as refused:
        _flask_client({"admin": "admin"})
    assert str(refused.value).startswith("app.config['BEARERGUARD_SCOPE_IMPLICATIONS']: ")
    assert "makes 'admin' imply itself" in str(refused.value)
