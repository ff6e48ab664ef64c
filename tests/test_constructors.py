"""Every public constructor refuses a wrong argument with a ConfigurationError that says
what it wanted, at construction: never an AttributeError or TypeError on the first
request, never a truthy string taken for ``True``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bearerguard import ConfigurationError, Rule, Verifier
from bearerguard._token import RequiredScopes
from bearerguard.testing import FakeIssuer

VERIFIER = Verifier(issuer="tenant.auth0.com", audience="https://api.example.com")
WRONG_VERIFIERS = [None, "tenant.auth0.com", {"issuer": "x"}, 5, object()]


def app(*args: Any) -> None:  # pragma: no cover - never called
    raise AssertionError


def starlette_backend(verifier: Any) -> object:
    from bearerguard.starlette import BearerAuthBackend

    return BearerAuthBackend(verifier)


def fastapi_auth(verifier: Any) -> object:
    from bearerguard.fastapi import BearerAuth

    return BearerAuth(verifier)


def asgi_middleware(verifier: Any) -> object:
    from bearerguard.asgi import BearerMiddleware

    return BearerMiddleware(app, verifier=verifier)


def wsgi_middleware(verifier: Any) -> object:
    from bearerguard.wsgi import BearerMiddleware

    return BearerMiddleware(app, verifier=verifier)


def flask_guard(verifier: Any) -> object:
    from flask import Flask

    from bearerguard.flask import BearerGuard

    return BearerGuard(Flask(__name__), verifier=verifier)


BUILDERS = [starlette_backend, fastapi_auth, asgi_middleware, wsgi_middleware, flask_guard]
# BearerGuard(app, verifier=None) is how Flask apps ask for the verifier of app.config.
PAIRS = [(b, w) for b in BUILDERS for w in WRONG_VERIFIERS if not (b is flask_guard and w is None)]


@pytest.mark.parametrize(("build", "wrong"), PAIRS, ids=[f"{b.__name__}-{w!r}" for b, w in PAIRS])
def test_every_adapter_wants_a_verifier(build, wrong):
    with pytest.raises(ConfigurationError, match=r"bearerguard\.Verifier") as refused:
        build(wrong)
    assert type(wrong).__name__ in str(refused.value)


@pytest.mark.parametrize("rules", [None, 5, Rule("/a"), "/api/public"], ids=repr)
def test_middleware_rules_are_a_list_of_rules(rules):
    from bearerguard.asgi import BearerMiddleware

    with pytest.raises(ConfigurationError, match="rules"):
        BearerMiddleware(app, verifier=VERIFIER, rules=rules)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"public": "false"},
        {"optional": 1},
        {"any_of": "yes"},
        {"methods": 5},
        {"methods": [None]},
        {"methods": b"GET"},
    ],
    ids=repr,
)
def test_a_rule_refuses_what_it_would_misread(kwargs):
    with pytest.raises(ConfigurationError):
        Rule("/api/contacts", **kwargs)


def test_a_rule_takes_one_method_as_a_string():
    assert Rule("/a", methods="get").methods == frozenset({"GET", "HEAD"})


@pytest.mark.parametrize("names", [None, 5, object()], ids=repr)
def test_required_scopes_are_names(names):
    with pytest.raises(ConfigurationError, match="list of scope names"):
        RequiredScopes(names)


def test_required_scopes_take_one_name_as_a_string():
    assert RequiredScopes("read:contacts").names == ("read:contacts",)


@pytest.mark.parametrize(
    "kwargs",
    [{"audience": None}, {"audience": 5}, {"algorithm": None}, {"algorithm": "HS256"},
     {"lifetime": "3600"}, {"issuer": None}, {"issuer": "https://None/"}],
    ids=repr,
)  # fmt: skip
def test_fake_issuer_settings_are_checked_too(kwargs):
    with pytest.raises(ConfigurationError):
        FakeIssuer(**kwargs)
