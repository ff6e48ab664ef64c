"""Introspection (RFC 7662) configured by name: ``BEARERGUARD_INTROSPECTION_*`` in the
environment, Flask's ``app.config`` and Django's ``BEARERGUARD``.

Each field of :class:`~bearerguard.Introspection` has its name, ``INTROSPECTION_`` and the
field in capitals, read as the field's type (text, true/false, numbers; ``SHARED_CACHE`` a
Redis URL). ``INTROSPECTION`` alone takes them all at once: an ``Introspection``, a dict of its
fields, or (in the environment) that dict as JSON. Either form turns introspection on; both
at once are refused. A mistake is named as the user wrote it, never with the client secret.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import path
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from bearerguard import ConfigurationError, Introspection, Verifier
from bearerguard._settings import check_names
from bearerguard.django import requires_scopes
from bearerguard.django.conf import check_setting
from bearerguard.flask import BearerGuard, current_token, requires
from bearerguard.redis import RedisIntrospectionCache
from bearerguard.testing import FakeIssuer
from tests.adapters.apps.django_project import configure
from tests.support import AUDIENCE, ISSUER, bearer

configure()

BASE = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
SECRET = "s3cret-never-shown-7f1c"
CREDENTIALS = {
    "BEARERGUARD_INTROSPECTION_CLIENT_ID": "api",
    "BEARERGUARD_INTROSPECTION_CLIENT_SECRET": SECRET,
}
ENDPOINT = "https://tenant.auth0.com/oauth/introspect"


def from_env(**variables: str) -> Verifier:
    return Verifier.from_env({**BASE, **CREDENTIALS, **variables})


def refusal(environ: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as refused:
        Verifier.from_env({**BASE, **environ})
    message = str(refused.value)
    assert SECRET not in message
    return message


# --- the environment ----------------------------------------------------------------------------


def test_without_any_introspection_variable_opaque_tokens_stay_refused():
    assert Verifier.from_env(BASE).config.introspection is None


def test_the_client_id_and_secret_turn_introspection_on():
    settings = from_env().config.introspection
    assert settings == Introspection(client_id="api", client_secret=SECRET)


@pytest.mark.parametrize(
    ("variable", "raw", "field", "value"),
    [
        ("URL", ENDPOINT, "url", ENDPOINT),
        ("ISSUER", ISSUER, "issuer", ISSUER),
        ("AUTH", "client_secret_post", "auth", "client_secret_post"),
        ("INTROSPECT_JWTS", "true", "introspect_jwts", True),
        ("INTROSPECT_JWTS", "off", "introspect_jwts", False),
        ("CACHE_TTL", "30", "cache_ttl", 30.0),
        ("CACHE_TTL", "0", "cache_ttl", 0.0),
        ("INACTIVE_TTL", "2.5", "inactive_ttl", 2.5),
        ("CACHE_SIZE", "500", "cache_size", 500),
        ("CLIENT_ID", " api-2 ", "client_id", "api-2"),
    ],
)
def test_each_variable_sets_its_field_as_its_type(variable, raw, field, value):
    settings = from_env(**{f"BEARERGUARD_INTROSPECTION_{variable}": raw}).config.introspection
    got = getattr(settings, field)
    assert got == value
    assert type(got) is type(value)


def test_the_shared_cache_is_a_redis_url_as_the_replay_store_is():
    url = "redis://:a-redis-password@localhost:6379/0"
    settings = from_env(BEARERGUARD_INTROSPECTION_SHARED_CACHE=url).config.introspection
    assert isinstance(settings.shared_cache, RedisIntrospectionCache)
    assert "a-redis-password" not in repr(settings.shared_cache)


def test_every_field_of_introspection_has_its_variable():
    names = [
        f"BEARERGUARD_INTROSPECTION_{field.name.upper()}"
        for field in dataclasses.fields(Introspection)
        if field.init
    ]
    assert "BEARERGUARD_INTROSPECTION_CLIENT_SECRET" in names
    check_names([*names, "BEARERGUARD_INTROSPECTION"])  # none is refused


def test_all_of_them_at_once_as_json():
    settings = Verifier.from_env(
        {
            **BASE,
            "BEARERGUARD_INTROSPECTION": json.dumps(
                {"client_id": "api", "client_secret": SECRET, "cache_ttl": 30, "URL": ENDPOINT}
            ),
        }
    ).config.introspection
    assert settings == Introspection(
        client_id="api", client_secret=SECRET, cache_ttl=30, url=ENDPOINT
    )


def test_both_forms_at_once_are_refused():
    message = refusal(
        {
            **CREDENTIALS,
            "BEARERGUARD_INTROSPECTION": json.dumps({"client_id": "api", "client_secret": SECRET}),
        }
    )
    assert "BEARERGUARD_INTROSPECTION and BEARERGUARD_INTROSPECTION_CLIENT_ID are both set" in (
        message
    )


def test_a_missing_client_id_is_named():
    message = refusal({"BEARERGUARD_INTROSPECTION_CLIENT_SECRET": SECRET})
    assert message.startswith("BEARERGUARD_INTROSPECTION_CLIENT_ID is not set")


@pytest.mark.parametrize(
    ("variable", "raw", "says"),
    [
        ("AUTH", "basic", "auth must be one of"),
        ("URL", "http://idp.example.com/introspect", "https://"),
        ("URL", "idp.example.com/introspect", "https:// URL"),
        ("ISSUER", "https://None/", "no real host"),
        ("CACHE_TTL", "soon", "must be a number of seconds, got 'soon'"),
        ("CACHE_TTL", "-1", "between 0"),
        ("INACTIVE_TTL", "1e9", "between 0"),
        ("CACHE_SIZE", "1e4", "must be a whole number"),
        ("CACHE_SIZE", "0", "between 1"),
        ("INTROSPECT_JWTS", "maybe", "must be true or false"),
        ("SHARED_CACHE", "memcached://cache:11211", "redis://"),
        ("SHARED_CACHE", "redis://cache:6379/0?socket_timeout=60", "socket_timeout"),
        ("CLIENT_ID", "", "is set but empty"),
        ("CLIENT_SECRET", " ", "is set but empty"),
    ],
)
def test_a_mistake_is_named_by_its_variable(variable, raw, says):
    name = f"BEARERGUARD_INTROSPECTION_{variable}"
    message = refusal({**CREDENTIALS, name: raw})
    assert message.startswith((f"{name}: ", f"{name} "))
    assert says in message


def test_an_issuer_the_verifier_does_not_trust_is_named():
    message = refusal({**CREDENTIALS, "BEARERGUARD_INTROSPECTION_ISSUER": "https://other.example/"})
    assert message.startswith("BEARERGUARD_INTROSPECTION_ISSUER: ")
    assert "not one of the verifier's issuers" in message


def test_several_issuers_need_the_introspection_issuer_variable():
    message = refusal({**CREDENTIALS, "BEARERGUARD_ISSUER": f"{ISSUER},https://login.example.com/"})
    assert message.startswith("BEARERGUARD_INTROSPECTION_ISSUER: ")


@pytest.mark.parametrize(
    ("variable", "suggested"),
    [
        ("BEARERGUARD_INTROSPECTION_CLIENT_SECRETS", "BEARERGUARD_INTROSPECTION_CLIENT_SECRET"),
        ("BEARERGUARD_INTROSPECTION_CACHETTL", "BEARERGUARD_INTROSPECTION_CACHE_TTL"),
        ("BEARERGUARD_INTROSPECT_URL", "BEARERGUARD_INTROSPECTION_URL"),
    ],
)
def test_a_misspelt_variable_is_refused_with_a_did_you_mean(variable, suggested):
    message = refusal({**CREDENTIALS, variable: "x"})
    assert f"{variable} (did you mean {suggested}?)" in message


def test_an_unknown_variable_is_refused():
    assert "BEARERGUARD_INTROSPECTION_FOO" in refusal({"BEARERGUARD_INTROSPECTION_FOO": "x"})


@pytest.mark.parametrize(
    "environ",
    [
        {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_AUTH": "basic"},
        {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_CACHE_TTL": "later"},
        {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_SHARED_CACHE": f"memcached://:{SECRET}@c/"},
        {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_SHARED_CACHE": f"redis://:{SECRET}@c:x/"},
        {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_ISSUER": "https://other.example/"},
        {"BEARERGUARD_INTROSPECTION_CLIENT_SECRET": SECRET},
        {"BEARERGUARD_INTROSPECTION": f'{{"client_id": "api", "client_secret": "{SECRET}"'},
        {"BEARERGUARD_INTROSPECTION": f'{{"client_id": "api", "secret": "{SECRET}"}}'},
        {"BEARERGUARD_INTROSPECTION": f'{{"client_id": 5, "client_secret": "{SECRET}"}}'},
    ],
    ids=[
        "auth", "ttl", "cache-url", "redis-port", "issuer", "no-client-id", "json", "key",
        "type",
    ],
)  # fmt: skip
def test_the_secret_is_never_shown(environ):
    refusal(environ)  # asserts it


# --- the JSON form's own mistakes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"client_id": "api"', "must be JSON"),
        ('["api"]', "must be a bearerguard Introspection, or a dict"),
        ('{"client_id": "api", "client_secrte": "x"}', "did you mean 'client_secret'?"),
        ('{"client_secret": "x"}', "has no 'client_id'"),
        ('{"client_id": "api", "client_secret": "x", "cache_ttl": "soon"}', "number of seconds"),
        ('{"client_id": "api", "client_id": "api2", "client_secret": "x"}', "twice"),
        (" ", "is set but empty"),
    ],
)
def test_the_json_form_names_its_mistakes(value, says):
    message = refusal({"BEARERGUARD_INTROSPECTION": value})
    assert message.startswith("BEARERGUARD_INTROSPECTION")
    assert says in message


def test_a_field_mistake_in_json_names_the_key():
    value = json.dumps({"client_id": "api", "client_secret": SECRET, "auth": "basic"})
    message = refusal({"BEARERGUARD_INTROSPECTION": value})
    assert message.startswith("BEARERGUARD_INTROSPECTION['auth']: ")


# --- Flask ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=AUDIENCE) as issuer:
        yield issuer


def flask_client(config: dict[str, Any]) -> Any:
    app = Flask(__name__)
    app.config.update({**BASE, **config})
    BearerGuard(app)

    @app.get("/contacts")
    @requires("read:contacts")
    def contacts() -> dict[str, Any]:
        return {"sub": current_token.subject if current_token else None}

    return app.test_client()


def flask_forms(fake: FakeIssuer) -> dict[str, dict[str, Any]]:
    """The same settings, each way app.config takes them; every answer is asked for afresh."""
    client_id, secret = fake.introspection_client_id, fake.introspection_client_secret
    return {
        "flat": {
            "BEARERGUARD_INTROSPECTION_CLIENT_ID": client_id,
            "BEARERGUARD_INTROSPECTION_CLIENT_SECRET": secret,
            "BEARERGUARD_INTROSPECTION_CACHE_TTL": 0,
        },
        "dict": {
            "BEARERGUARD_INTROSPECTION": {
                "client_id": client_id,
                "client_secret": secret,
                "cache_ttl": "0",
            }
        },
        "instance": {"BEARERGUARD_INTROSPECTION": fake.introspection(cache_ttl=0)},
    }


@pytest.mark.parametrize("form", ["flat", "dict", "instance"])
def test_a_flask_app_configured_by_settings_accepts_an_opaque_token_until_revoked(
    fake: FakeIssuer, form: str
):
    client = flask_client(flask_forms(fake)[form])
    token = fake.opaque_token(scopes=["read:contacts"], sub="auth0|alice")
    answer = client.get("/contacts", headers=bearer(token))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json == {"sub": "auth0|alice"}
    fake.revoke(token)
    refused = client.get("/contacts", headers=bearer(token))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    no_scope = client.get("/contacts", headers=bearer(fake.opaque_token(scopes=["other"])))
    assert no_scope.status_code == 403


@pytest.mark.parametrize(
    ("config", "named", "says"),
    [
        (
            {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_AUTH": "basic"},
            "app.config['BEARERGUARD_INTROSPECTION_AUTH']: ",
            "auth must be one of",
        ),
        (
            {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_CACHE_SIZE": 2.5},
            "app.config['BEARERGUARD_INTROSPECTION_CACHE_SIZE']: ",
            "an integer",
        ),
        (
            {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_URL": 5},
            "app.config['BEARERGUARD_INTROSPECTION_URL']: ",
            "must be a URL",
        ),
        (
            {"BEARERGUARD_INTROSPECTION_CLIENT_SECRET": SECRET},
            "app.config['BEARERGUARD_INTROSPECTION_CLIENT_ID'] is not set",
            "",
        ),
        (
            {"BEARERGUARD_INTROSPECTION": {"client_id": "api", "client_secret": 12345}},
            "app.config['BEARERGUARD_INTROSPECTION']['client_secret']: ",
            "",
        ),
        (
            {"BEARERGUARD_INTROSPECTION": {"client_id": "api", "client_secret": SECRET,
                                           "introspect_jwts": "sometimes"}},
            "app.config['BEARERGUARD_INTROSPECTION']['introspect_jwts'] ",
            "true or false",
        ),
        (
            {"BEARERGUARD_INTROSPECTION": {"client_secret": SECRET}},
            "app.config['BEARERGUARD_INTROSPECTION'] has no 'client_id'",
            "",
        ),
        (
            {"BEARERGUARD_INTROSPECTION": {"client_id": "api", "clientsecret": SECRET}},
            "app.config['BEARERGUARD_INTROSPECTION'] has an unknown key 'clientsecret'",
            "did you mean 'client_secret'?",
        ),
        (
            {"BEARERGUARD_INTROSPECTION": [SECRET]},
            "app.config['BEARERGUARD_INTROSPECTION'] must be",
            "a value of type list",
        ),
        (
            {"BEARERGUARD_INTROSPECTION": {"client_id": "api", "client_secret": SECRET,
                                           "issuer": "https://other.example/"}},
            "app.config['BEARERGUARD_INTROSPECTION']['issuer']: ",
            "not one of the verifier's issuers",
        ),
        (
            {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_ISSUER": "https://other.example/"},
            "app.config['BEARERGUARD_INTROSPECTION_ISSUER']: ",
            "not one of the verifier's issuers",
        ),
        (
            {**CREDENTIALS, "BEARERGUARD_INTROSPECTION_CLIENT_SECRT": SECRET},
            "app.config: BEARERGUARD_INTROSPECTION_CLIENT_SECRT (did you mean "
            "BEARERGUARD_INTROSPECTION_CLIENT_SECRET?)",
            "",
        ),
    ],
    ids=[
        "auth", "cache-size", "url-type", "no-client-id", "secret-type", "switch",
        "dict-no-client-id", "dict-unknown-key", "not-a-dict", "dict-issuer", "flat-issuer",
        "misspelt",
    ],
)  # fmt: skip
def test_flask_names_the_config_key_at_fault(config, named, says):
    with pytest.raises(ConfigurationError) as refused:
        flask_client(config)
    message = str(refused.value)
    assert named in message
    assert says in message
    assert SECRET not in message
    assert "12345" not in message


# --- Django -------------------------------------------------------------------------------------


@requires_scopes("read:contacts")
def contacts(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"sub": request.access_token.subject})


urlpatterns = [path("contacts", contacts)]


def django_forms(fake: FakeIssuer) -> dict[str, dict[str, Any]]:
    client_id, secret = fake.introspection_client_id, fake.introspection_client_secret
    return {
        "flat": {
            "INTROSPECTION_CLIENT_ID": client_id,
            "INTROSPECTION_CLIENT_SECRET": secret,
            "INTROSPECTION_CACHE_TTL": "0",
        },
        "dict": {
            "INTROSPECTION": {"CLIENT_ID": client_id, "CLIENT_SECRET": secret, "CACHE_TTL": 0}
        },
        "instance": {"INTROSPECTION": fake.introspection(cache_ttl=0)},
    }


@pytest.mark.parametrize("form", ["flat", "dict", "instance"])
def test_a_django_app_configured_by_settings_accepts_an_opaque_token_until_revoked(
    fake: FakeIssuer, form: str
):
    setting = {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, **django_forms(fake)[form]}
    assert check_setting(setting) == []
    with override_settings(BEARERGUARD=setting, ROOT_URLCONF=__name__):
        token = fake.opaque_token(scopes=["read:contacts"], sub="auth0|alice")
        answer = Client().get("/contacts", headers=bearer(token))
        assert answer.status_code == 200, answer.content
        assert answer.json() == {"sub": "auth0|alice"}
        fake.revoke(token)
        assert Client().get("/contacts", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    ("extra", "problem_id", "named", "says"),
    [
        (
            {"INTROSPECTION": {"client_id": "api", "client_secret": SECRET, "cache_ttl": "x"}},
            "bearerguard.E006",
            "BEARERGUARD['INTROSPECTION']['cache_ttl'] ",
            "number of seconds",
        ),
        (
            {"INTROSPECTION": {"CLIENT_ID": "api", "CLIENT_SECRET": SECRET, "AUTH": "none"}},
            "bearerguard.E006",
            "BEARERGUARD['INTROSPECTION']['AUTH']: ",
            "auth must be one of",
        ),
        (
            {"INTROSPECTION_CLIENT_ID": "api", "INTROSPECTION_CLIENT_SECRET": SECRET,
             "INTROSPECTION_URL": "ftp://idp.example.com/introspect"},
            "bearerguard.E006",
            "BEARERGUARD['INTROSPECTION_URL']: ",
            "https://",
        ),
        (
            {"INTROSPECTION_CLIENT_SECRET": SECRET},
            "bearerguard.E006",
            "BEARERGUARD['INTROSPECTION_CLIENT_ID'] is not set",
            "",
        ),
        (
            {"INTROSPECTION": {"client_id": "api", "client_secret": SECRET},
             "INTROSPECTION_URL": "https://idp.example.com/introspect"},
            "bearerguard.E006",
            "BEARERGUARD['INTROSPECTION'] and BEARERGUARD['INTROSPECTION_URL'] are both set",
            "",
        ),
        (
            {"INTROSPECTION_CLIENT_ID": "api", "INTROSPECTION_CLIENT_SECRET": SECRET,
             "INTROSPECTION_ISSUER": "https://other.example/"},
            "bearerguard.E006",
            "BEARERGUARD['INTROSPECTION_ISSUER']: ",
            "not one of the verifier's issuers",
        ),
    ],
    ids=["ttl", "auth", "url", "no-client-id", "both-forms", "issuer"],
)  # fmt: skip
def test_django_system_checks_name_the_key_at_fault(extra, problem_id, named, says):
    (problem,) = check_setting({"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, **extra})
    assert problem.id == problem_id
    assert named in problem.msg
    assert says in problem.msg
    assert SECRET not in problem.msg


def test_django_refuses_a_misspelt_introspection_key_as_unknown():
    setting = {
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "INTROSPECTION_CLIENT_ID": "api",
        "INTROSPECTION_CLIENT_SECRETS": SECRET,
    }
    problems = check_setting(setting)
    assert problems[0].id == "bearerguard.E003"
    assert problems[0].hint == (
        "Did you mean 'INTROSPECTION_CLIENT_SECRETS' -> 'INTROSPECTION_CLIENT_SECRET'?"
    )


def test_manage_py_check_reports_a_bad_introspection_setting():
    # bearerguard's own check, as manage.py check runs it; the project's other apps' checks
    # depend on what earlier tests left in the app registry.
    from bearerguard.django.checks import check_settings

    setting = {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "INTROSPECTION": {"client_id": "api"}}
    with override_settings(BEARERGUARD=setting):
        messages = check_settings()
    assert [m.id for m in messages] == ["bearerguard.E006"]
    assert "BEARERGUARD['INTROSPECTION']" in messages[0].msg


# --- any value at all -------------------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.lists(st.one_of(st.text(max_size=30), st.integers(), st.none()), max_size=4),
    st.dictionaries(
        st.one_of(st.text(max_size=20), st.sampled_from(["client_id", "url", "auth"])),
        st.one_of(st.text(max_size=30), st.integers(), st.none()),
        max_size=3,
    ),
    st.builds(object),
    st.sampled_from(["", " ", "{}", "[]", "true", "0", "redis://", ISSUER, "{"]),
)
NAMES = sorted(
    {"INTROSPECTION"}
    | {f"INTROSPECTION_{f.name.upper()}" for f in dataclasses.fields(Introspection) if f.init}
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), value=ANY_VALUE)
def test_any_value_gives_a_verifier_or_an_error_naming_the_setting(name, value):
    flat = {} if name == "INTROSPECTION" else {"INTROSPECTION_CLIENT_ID": "api"}
    config = {f"BEARERGUARD_{key}": item for key, item in {**flat, name: value}.items()}
    app = Flask(__name__)
    app.config.update({**BASE, **config})
    try:
        BearerGuard(app)
    except ConfigurationError as exc:
        assert "app.config" in str(exc)  # noqa: PT017 - it names where the mistake is
    for problem in check_setting({"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, **flat, name: value}):
        assert problem.id.startswith("bearerguard.E")
    if isinstance(value, str):
        try:
            Verifier.from_env({**BASE, **config})
        except ConfigurationError as exc:
            assert "BEARERGUARD_INTROSPECTION" in str(exc)  # noqa: PT017
