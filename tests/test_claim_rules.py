"""Claim rules: one vocabulary, checked where written, exact when run, silent about values.

The rules themselves (what passes, what fails, what the log is told), the
verifier's ``required_claims``/``claim_rules`` (401 ``invalid_token``, as Express's
claim checks answer) and their settings by name. Per-route rules (403) in every
adapter: ``tests/adapters/table.py`` and ``tests/test_claim_rules_adapters.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

from bearerguard import (
    AccessToken,
    ClaimRule,
    ConfigurationError,
    ExpiredTokenError,
    InsufficientClaimsError,
    InsufficientScopeError,
    InvalidClaimsError,
    Verifier,
    claims,
)
from bearerguard._claim_rules import RequiredScopesAndClaims, requirement
from bearerguard._token import RequiredScopes

from .support import AUDIENCE, ISSUER, NOW, Clock, Provider, Providers

NS = "https://example.com/"
VERIFIER_DESCRIPTION = "The claims of the access token do not meet the requirements of this API"
ROUTE_DESCRIPTION = "The claims of the access token do not grant access to this resource"
# A claim value that must never reach a response or a reason.
SECRET_VALUE = "tenant-7f3a-not-for-clients"


def token_with(**token_claims: Any) -> AccessToken:
    """A verified-looking token with these claims (no signature involved)."""
    return AccessToken(
        claims=MappingProxyType(token_claims),
        header=MappingProxyType({"alg": "RS256"}),
        scopes=frozenset({"read:reports"}),
        issuer=ISSUER,
        audience=(AUDIENCE,),
        subject="auth0|123",
        raw="a.b.c",
    )


# --- what each rule lets through ---------------------------------------------------------------

PASSES: list[tuple[ClaimRule, dict[str, Any]]] = [
    (claims.required("org_id"), {"org_id": "org_1"}),
    (claims.required("org_id", "email"), {"org_id": "", "email": "a@example.com"}),
    (claims.required("count"), {"count": 0}),  # falsy, yet present
    (claims.required("flag"), {"flag": False}),
    (claims.required("tenant", namespace=NS), {NS + "tenant": "t1"}),
    (claims.required("tenant", namespace="https://example.com"), {NS + "tenant": "t1"}),
    (claims.equals("email_verified", True), {"email_verified": True}),
    (claims.equals("tier", 3), {"tier": 3}),
    (claims.equals("tier", 3), {"tier": 3.0}),  # one JSON number
    (claims.equals("ratio", 0.5), {"ratio": 0.5}),
    (claims.equals("org_id", "org_1"), {"org_id": "org_1"}),
    (claims.equals("region", None), {"region": None}),
    (claims.equals("plan", "pro", namespace=NS), {NS + "plan": "pro"}),
    (claims.includes("roles", "admin"), {"roles": ["admin"]}),
    (claims.includes("roles", "admin", "editor"), {"roles": ["viewer", "editor", "admin"]}),
    (claims.includes("roles", "admin"), {"roles": "editor admin"}),
    (claims.includes("roles", "admin"), {"roles": "admin"}),
    (claims.includes("roles", "admin"), {"roles": ["admin", {"x": 1}, None, 7]}),
    (claims.includes("groups", "Team A"), {"groups": ["Team A"]}),  # an item may hold spaces
    (claims.includes("roles", "admin", namespace=NS), {NS + "roles": ["admin"]}),
    (
        claims.any_of(claims.includes("roles", "admin"), claims.equals("org_id", "org_1")),
        {"org_id": "org_1"},
    ),
    (claims.any_of(claims.required("a")), {"a": 1}),
    (claims.check(lambda c: c.get("tier") == "pro", "pro tier only"), {"tier": "pro"}),
]

FAILS: list[tuple[ClaimRule, dict[str, Any]]] = [
    (claims.required("org_id"), {}),
    (claims.required("org_id"), {"org_id": None}),  # null asserts nothing
    (claims.required("org_id", "email"), {"org_id": "org_1"}),
    (claims.required("tenant", namespace=NS), {"tenant": "t1"}),  # not namespaced
    (claims.equals("email_verified", True), {"email_verified": "true"}),
    (claims.equals("email_verified", True), {"email_verified": 1}),  # True is not 1
    (claims.equals("email_verified", True), {"email_verified": [True]}),
    (claims.equals("email_verified", True), {}),
    (claims.equals("tier", 1), {"tier": True}),  # 1 is not True
    (claims.equals("tier", 3), {"tier": "3"}),
    (claims.equals("org_id", "org_1"), {"org_id": ["org_1"]}),
    (claims.equals("org_id", "org_1"), {"org_id": "ORG_1"}),
    (claims.equals("org_id", "org_1"), {"org_id": "org_1 "}),
    (claims.equals("region", None), {}),  # null asks for the claim, null
    (claims.equals("region", None), {"region": "eu"}),
    (claims.equals("flag", False), {"flag": 0}),
    (claims.equals("flag", False), {"flag": None}),
    (claims.includes("roles", "admin"), {}),
    (claims.includes("roles", "admin"), {"roles": None}),
    (claims.includes("roles", "admin"), {"roles": ["Admin"]}),
    (claims.includes("roles", "admin"), {"roles": ["administrator"]}),
    (claims.includes("roles", "admin"), {"roles": "administrator"}),
    (claims.includes("roles", "admin"), {"roles": {"admin": True}}),
    (claims.includes("roles", "admin"), {"roles": True}),
    (claims.includes("roles", "admin"), {"roles": [["admin"]]}),
    (claims.includes("roles", "admin", "editor"), {"roles": ["admin"]}),
    (claims.includes("groups", "Team A"), {"groups": "Team A"}),  # words of a string
    (claims.includes("roles", "admin", namespace=NS), {"roles": ["admin"]}),
    (
        claims.any_of(claims.includes("roles", "admin"), claims.equals("org_id", "org_1")),
        {"org_id": "org_2", "roles": ["editor"]},
    ),
    (claims.check(lambda c: c.get("tier") == "pro", "pro tier only"), {"tier": "basic"}),
]


@pytest.mark.parametrize(("rule", "token_claims"), PASSES, ids=lambda v: repr(v)[:60])
def test_a_rule_lets_in_the_claims_that_meet_it(rule: ClaimRule, token_claims: dict[str, Any]):
    assert rule.passes(token_claims) is True


@pytest.mark.parametrize(("rule", "token_claims"), FAILS, ids=lambda v: repr(v)[:60])
def test_a_rule_refuses_the_claims_that_do_not(rule: ClaimRule, token_claims: dict[str, Any]):
    assert rule.passes(token_claims) is False
    assert rule.failure(token_claims).endswith(".")


def test_a_reason_names_the_claim_and_the_rule_never_the_tokens_value():
    cases = [
        (claims.equals("org_id", "org_1"), {"org_id": SECRET_VALUE}),
        (claims.equals("org_id", "org_1"), {"org_id": [SECRET_VALUE]}),
        (claims.includes("roles", "admin"), {"roles": [SECRET_VALUE]}),
        (claims.includes("roles", "admin"), {"roles": {SECRET_VALUE: 1}}),
        (claims.required("org_id", "email"), {"org_id": SECRET_VALUE}),
        (claims.any_of(claims.equals("org_id", "org_1")), {"org_id": SECRET_VALUE}),
        (claims.check(lambda c: False, "never"), {"org_id": SECRET_VALUE}),
    ]
    for rule, token_claims in cases:
        reason = rule.failure(token_claims)
        assert SECRET_VALUE not in reason
        assert repr(rule) in reason


def test_each_reason_says_what_is_wrong():
    equals = claims.equals("org_id", "org_1")
    assert "has no org_id claim" in equals.failure({})
    assert "is an array, not a string" in equals.failure({"org_id": ["x"]})
    assert "another value" in equals.failure({"org_id": "org_2"})
    includes = claims.includes("roles", "admin", "editor")
    assert "lacks 'editor'" in includes.failure({"roles": ["admin"]})
    assert "is an object, not an array or a space-separated string" in includes.failure(
        {"roles": {}}
    )
    assert "has no email claim" in claims.required("org_id", "email").failure({"org_id": "o"})


def test_rules_read_as_they_are_written():
    assert repr(claims.required("org_id", "email")) == "claims.required('org_id', 'email')"
    assert repr(claims.equals("email_verified", True)) == "claims.equals('email_verified', True)"
    assert (
        repr(claims.includes("roles", "admin", namespace="https://example.com"))
        == "claims.includes('https://example.com/roles', 'admin')"
    )
    rule = claims.any_of(claims.required("a"), claims.check(len, "has claims"))
    assert repr(rule) == "claims.any_of(claims.required('a'), claims.check(len, 'has claims'))"
    assert repr(claims.equals("note", "x" * 100)).endswith("...)")


def test_rules_are_immutable_values():
    rule = claims.equals("org_id", "org_1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.value = "org_2"  # type: ignore[attr-defined]
    assert rule == claims.equals("org_id", "org_1")
    assert hash(rule) == hash(claims.equals("org_id", "org_1"))
    assert claims.equals("tier", 1) != claims.equals("tier", True)  # 1 == True in Python
    assert len({claims.required("a"), claims.required("a"), claims.required("b")}) == 2


# --- check(): user code, fenced --------------------------------------------------------------


def test_check_passes_on_true_only(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR, logger="bearerguard")
    rule = claims.check(lambda c: c.get("email_verified"), "verified emails only")
    assert rule.passes({"email_verified": True}) is True
    # Truthy text is no True: "false" would otherwise let the token in.
    assert rule.passes({"email_verified": "false"}) is False
    [record] = caplog.records
    assert "returned str, not a bool" in record.getMessage()


def test_an_exception_in_a_check_refuses_and_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.ERROR, logger="bearerguard")
    rule = claims.check(lambda c: c["tenant"]["active"], "active tenants only")
    assert rule.passes({}) is False
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "claims.check(<lambda>, 'active tenants only') raised an exception" in (
        record.getMessage()
    )
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError


def test_a_failing_check_is_logged_at_most_once_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    clock = Clock()
    monkeypatch.setattr("bearerguard._claim_rules.time.monotonic", clock.monotonic)
    caplog.set_level(logging.ERROR, logger="bearerguard")
    rule = claims.check(lambda c: 1 / 0, "divides")
    other = claims.check(lambda c: 1 / 0, "divides too")
    for _ in range(100):
        assert rule.passes({}) is False
    assert other.passes({}) is False  # each rule has its own minute
    assert len(caplog.records) == 2
    clock.mono += 61
    assert rule.passes({}) is False
    assert len(caplog.records) == 3
    assert "(99 more such failures since the last message)" in caplog.records[-1].getMessage()


def test_a_check_sees_the_claims_read_only():
    seen: list[Mapping[str, Any]] = []

    def remember(token_claims: Mapping[str, Any]) -> bool:
        seen.append(token_claims)
        return True

    provider, clock = Provider(), Clock()
    verifier = make_verifier(provider, clock, claim_rules=[claims.check(remember, "remembers")])
    verifier.verify(provider.token())
    assert isinstance(seen[0], MappingProxyType)


# --- constructors refuse what cannot work, saying what to write -------------------------------

REFUSED: list[tuple[Any, str]] = [
    (claims.required, "claims.required('org_id')"),
    (lambda: claims.required(""), "claim names as strings"),
    (lambda: claims.required(7), "got the int 7"),
    (lambda: claims.required("org_id,email"), "claims.required('org_id', 'email')"),
    (lambda: claims.required("org_id email"), "Pass each claim as its own argument"),
    (lambda: claims.required("org\nid"), "not one claim name"),
    (lambda: claims.required("a", namespace=""), "'https://example.com/'"),
    (lambda: claims.required("a", namespace=" https://e.com/"), "prefix of namespaced claims"),
    (lambda: claims.equals(1, 2), "claims.equals('org_id', ...)"),
    (lambda: claims.equals("roles", ["admin"]), "claims.includes(name, ...)"),
    (lambda: claims.equals("tenant", {"id": 1}), "claims.check(...)"),
    (lambda: claims.equals("ratio", float("nan")), "no NaN or infinity"),
    (lambda: claims.equals("ratio", float("inf")), "no NaN or infinity"),
    (lambda: claims.equals("when", b"x"), "got the bytes"),
    (lambda: claims.includes("roles"), "claims.includes('roles', 'admin')"),
    (lambda: claims.includes("roles", ""), "claims.includes('roles', 'admin')"),
    (lambda: claims.includes("groups", 42), "compares the claim's items with strings"),
    (claims.any_of, "claims.any_of(claims.includes('roles', 'admin')"),
    (lambda: claims.any_of("roles"), "claims.required('roles')"),
    (lambda: claims.any_of([claims.required("a")]), "got the list"),
    (lambda: claims.check("org_id", "x"), "a function of the claims returning a bool"),
    (lambda: claims.check(dict, "x"), "a function of the claims returning a bool"),
    (lambda: claims.check(lambda c: True, ""), "a short fixed sentence"),
    (lambda: claims.check(lambda c: True, "x" * 201), "a short fixed sentence"),
    (lambda: claims.check(lambda c: True, "two\nlines"), "a short fixed sentence"),
    (lambda: claims.check(lambda c: True, None), "a short fixed sentence"),
]


@pytest.mark.parametrize(("build", "says"), REFUSED, ids=[says for _, says in REFUSED])
def test_a_rule_that_cannot_work_is_refused_when_written(build: Any, says: str):
    with pytest.raises(ConfigurationError) as refused:
        build()
    assert says in str(refused.value)


def test_an_async_predicate_is_refused_when_written():
    async def predicate(token_claims: Mapping[str, Any]) -> bool:
        return True

    class Callable:
        async def __call__(self, token_claims: Mapping[str, Any]) -> bool:
            return True

    for async_predicate in (predicate, Callable()):
        with pytest.raises(ConfigurationError, match="plain function"):
            claims.check(async_predicate, "async")  # type: ignore[arg-type]


# --- the verifier's rules: 401 invalid_token ---------------------------------------------------


def make_verifier(provider: Provider, clock: Clock, **settings: Any) -> Verifier:
    both = Providers(provider)
    return Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        transport=both.transport(),
        async_transport=both.async_transport(),
        clock=clock.time,
        monotonic=clock.monotonic,
        **settings,
    )


def test_a_token_that_fails_a_verifier_rule_is_an_invalid_token():
    provider, clock = Provider(), Clock()
    verifier = make_verifier(
        provider, clock, claim_rules=[claims.equals("org_id", "org_1")], realm="contacts"
    )
    assert verifier.verify(provider.token(org_id="org_1")).claim("org_id") == "org_1"
    with pytest.raises(InvalidClaimsError) as refused:
        verifier.verify(provider.token(org_id=SECRET_VALUE))
    error = refused.value
    assert error.status_code == 401
    assert error.www_authenticate == (
        'Bearer realm="contacts", error="invalid_token", '
        f'error_description="{VERIFIER_DESCRIPTION}"'
    )
    assert error.to_json() == {"error": "invalid_token", "error_description": VERIFIER_DESCRIPTION}
    assert error.reason == (
        "The token's org_id claim has another value than claims.equals('org_id', 'org_1') requires."
    )
    assert SECRET_VALUE not in error.reason


def test_required_claims_and_claim_rules_run_in_order_the_first_failure_answers():
    provider, clock = Provider(), Clock()
    verifier = make_verifier(
        provider,
        clock,
        required_claims=["org_id"],
        claim_rules=[claims.includes("roles", "admin"), claims.equals("email_verified", True)],
    )
    assert verifier.config.claim_checks == (
        claims.required("org_id"),
        claims.includes("roles", "admin"),
        claims.equals("email_verified", True),
    )
    with pytest.raises(InvalidClaimsError, match=r"claims\.required\('org_id'\)"):
        verifier.verify(provider.token(roles=["editor"]))
    with pytest.raises(InvalidClaimsError, match=r"claims\.includes\('roles', 'admin'\)"):
        verifier.verify(provider.token(org_id="o", roles=["editor"]))
    with pytest.raises(InvalidClaimsError, match=r"claims\.equals\('email_verified', True\)"):
        verifier.verify(provider.token(org_id="o", roles=["admin"]))
    verifier.verify(provider.token(org_id="o", roles=["admin"], email_verified=True))


def test_the_standard_claims_are_checked_before_the_rules():
    provider, clock = Provider(), Clock()
    verifier = make_verifier(provider, clock, required_claims=["org_id"])
    with pytest.raises(ExpiredTokenError):
        verifier.verify(provider.token(exp=int(NOW) - 3600))


def test_the_async_verifier_checks_the_rules_alike():
    provider, clock = Provider(), Clock()
    verifier = make_verifier(provider, clock, claim_rules=[claims.includes("roles", "admin")])
    assert asyncio.run(verifier.averify(provider.token(roles="admin"))).subject == "auth0|123"
    with pytest.raises(InvalidClaimsError):
        asyncio.run(verifier.averify(provider.token(roles="editor")))


def test_a_remembered_token_is_not_checked_again():
    calls: list[None] = []

    def counted(token_claims: Mapping[str, Any]) -> bool:
        calls.append(None)
        return True

    provider, clock = Provider(), Clock()
    verifier = make_verifier(provider, clock, claim_rules=[claims.check(counted, "counted")])
    token = provider.token()
    for _ in range(10):
        verifier.verify(token)
    # Checked on its first sighting and on the second, when the cache takes it in; then
    # answered from the cache (rules are settings: a cached token passed them).
    assert len(calls) == 2


def test_a_refusal_by_a_rule_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG, logger="bearerguard")
    provider, clock = Provider(), Clock()
    verifier = make_verifier(provider, clock, required_claims=["org_id"])
    with pytest.raises(InvalidClaimsError):
        verifier.verify(provider.token())
    assert any("claims.required('org_id')" in r.getMessage() for r in caplog.records)


def test_a_verifier_without_rules_checks_none():
    provider, clock = Provider(), Clock()
    verifier = make_verifier(provider, clock)
    assert verifier.config.claim_checks == ()
    verifier.verify(provider.token())


SETTINGS_REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"claim_rules": "org_id"}, "claim_rules", "[claims.required('org_id')]"),
    ({"claim_rules": ["org_id"]}, "claim_rules", "claims.required('org_id')"),
    ({"claim_rules": claims.required("a")}, "claim_rules", "[claims.required('a')]"),
    ({"claim_rules": [{"org_id": "o"}]}, "claim_rules", "claims.equals('org_id', 'org_123')"),
    ({"claim_rules": None}, "claim_rules", "a list of claim rules"),
    ({"required_claims": ["org id"]}, "required_claims", "one claim name per item"),
    ({"required_claims": [1]}, "required_claims", "required_claims=['org_id', 'email']"),
    ({"required_claims": [""]}, "required_claims", "must not hold an empty string"),
]


@pytest.mark.parametrize(("settings", "setting", "says"), SETTINGS_REFUSED)
def test_the_verifier_refuses_rules_that_are_no_rules(
    settings: dict[str, Any], setting: str, says: str
):
    with pytest.raises(ConfigurationError) as refused:
        Verifier(issuer=ISSUER, audience=AUDIENCE, **settings)
    assert refused.value.setting == setting
    assert says in str(refused.value)


def test_one_required_claim_may_be_a_string():
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, required_claims="org_id")
    assert verifier.config.claim_checks == (claims.required("org_id"),)


# --- by name: the environment, Flask's app.config, Django's BEARERGUARD -------------------------

BASE_ENV = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}


def test_required_claims_come_from_the_environment_comma_separated():
    environ = {**BASE_ENV, "BEARERGUARD_REQUIRED_CLAIMS": "org_id, https://example.com/tenant"}
    verifier = Verifier.from_env(environ)
    assert verifier.config.claim_checks == (
        claims.required("org_id", "https://example.com/tenant"),
    )


def test_a_required_claim_with_a_space_in_the_environment_is_refused_by_its_name():
    environ = {**BASE_ENV, "BEARERGUARD_REQUIRED_CLAIMS": "org id"}
    with pytest.raises(ConfigurationError, match=r"^BEARERGUARD_REQUIRED_CLAIMS: "):
        Verifier.from_env(environ)


def test_claim_rules_have_no_text_form():
    environ = {**BASE_ENV, "BEARERGUARD_CLAIM_RULES": "org_id=org_1"}
    with pytest.raises(ConfigurationError) as refused:
        Verifier.from_env(environ)
    message = str(refused.value)
    assert message.startswith("BEARERGUARD_CLAIM_RULES cannot be written as text")
    assert "BEARERGUARD_REQUIRED_CLAIMS" in message


def test_from_env_takes_claim_rules_as_an_override():
    rule = claims.equals("org_id", "org_1")
    verifier = Verifier.from_env(BASE_ENV, claim_rules=[rule])
    assert verifier.config.claim_checks == (rule,)


def test_flask_config_takes_claim_rules_and_required_claims():
    from flask import Flask

    from bearerguard.flask import BearerGuard

    app = Flask(__name__)
    rule = claims.includes("roles", "admin")
    app.config.update(
        BASE_ENV, BEARERGUARD_REQUIRED_CLAIMS="org_id", BEARERGUARD_CLAIM_RULES=[rule]
    )
    BearerGuard(app)
    verifier = app.extensions["bearerguard"]
    assert verifier.config.claim_checks == (claims.required("org_id"), rule)

    broken = Flask(__name__)
    broken.config.update(BASE_ENV, BEARERGUARD_CLAIM_RULES=["org_id"])
    with pytest.raises(ConfigurationError, match=r"app\.config\['BEARERGUARD_CLAIM_RULES'\]"):
        BearerGuard(broken)


def test_django_setting_takes_claim_rules_and_reports_bad_ones_as_a_system_check():
    from tests.adapters.apps.django_project import configure

    configure()
    from bearerguard.django.conf import build_verifier, check_setting

    rule = claims.equals("email_verified", True)
    setting = {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "CLAIM_RULES": [rule]}
    assert build_verifier({**setting, "REQUIRED_CLAIMS": ["org_id"]}).config.claim_checks == (
        claims.required("org_id"),
        rule,
    )
    [problem] = check_setting({**setting, "CLAIM_RULES": "email_verified"})
    assert problem.id == "bearerguard.E006"
    assert "BEARERGUARD['CLAIM_RULES']" in problem.msg


# --- per route: the requirement the adapters hold ------------------------------------------------


def test_a_route_without_claim_rules_holds_plain_scopes():
    assert type(requirement(("read:reports",))) is RequiredScopes
    assert type(requirement((), claims=[])) is RequiredScopes
    needed = requirement((), claims=[claims.required("org_id")])
    assert isinstance(needed, RequiredScopesAndClaims)
    assert bool(needed)  # a requirement, though it names no scope


def test_a_route_checks_its_scopes_first_then_its_claims():
    needed = requirement(("read:reports",), claims=[claims.includes("roles", "analyst")])
    needed.enforce(token_with(roles=["analyst"]))

    without_scope = dataclasses.replace(token_with(roles=[]), scopes=frozenset())
    with pytest.raises(InsufficientScopeError) as refused:
        needed.enforce(without_scope)
    assert type(refused.value) is InsufficientScopeError
    assert refused.value.required_scopes == ("read:reports",)

    with pytest.raises(InsufficientClaimsError) as refused:
        needed.enforce(token_with(roles=[SECRET_VALUE]))
    error = refused.value
    assert error.status_code == 403
    assert error.www_authenticate == (
        f'Bearer realm="api", error="insufficient_scope", error_description="{ROUTE_DESCRIPTION}"'
    )
    assert error.to_json() == {
        "error": "insufficient_scope",
        "error_description": ROUTE_DESCRIPTION,
    }
    assert error.required_scopes == ()
    assert "claims.includes('roles', 'analyst')" in error.reason
    assert SECRET_VALUE not in error.reason


def test_a_routes_claims_refusal_names_the_resources_metadata():
    token = dataclasses.replace(
        token_with(),
        realm="reports",
        resource_metadata="https://api.example.com/.well-known/oauth-protected-resource",
    )
    refused = requirement((), claims=[claims.required("org_id")]).claims_refusal(token)
    assert refused is not None
    assert refused.www_authenticate == (
        f'Bearer realm="reports", error="insufficient_scope", '
        f'error_description="{ROUTE_DESCRIPTION}", '
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
    )


def test_a_routes_rules_must_be_rules():
    with pytest.raises(ConfigurationError, match=r"claims\.required\('org_id'\)"):
        requirement((), claims=["org_id"])
