"""Every setting, however it is given, is checked: a wrong value is a ConfigurationError that
names the setting as the user wrote it, says what was given and what to write instead.

One table of wrong values per setting runs through ``Verifier(...)``,
``Verifier.from_env``, Flask's ``app.config`` and Django's ``BEARERGUARD``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bearerguard import CachePolicy, ConfigurationError, Verifier
from bearerguard._settings import OTHER_NAMES, SETTING_NAMES, check_names

ISSUER = "https://tenant.auth0.com/"
AUDIENCE = "https://api.example.com"
BASE = {"issuer": ISSUER, "audience": AUDIENCE}
SUFFIX = {name: suffix for suffix, name in SETTING_NAMES.items()}
ROOT = Path(__file__).resolve().parent.parent

# (keyword, a wrong value, words the message must hold besides the setting's name)
WRONG: list[tuple[str, Any, str]] = [
    ("issuer", None, "unset environment variable"),
    ("issuer", 123, "the int 123"),
    ("issuer", [], "must not be empty"),
    ("issuer", [ISSUER, 5], "strings only"),
    ("issuer", b"tenant.auth0.com", "the bytes"),
    ("issuer", {"a": 1}, "the dict"),
    ("issuer", "https://None/", "unset"),
    ("issuer", "https://https://tenant.auth0.com/", "scheme twice"),
    ("audience", None, "unset environment variable"),
    ("audience", 1, "the int 1"),
    ("audience", [""], "empty string"),
    ("audience", " https://api.example.com", "spaces"),
    ("algorithms", None, "unset environment variable"),
    ("algorithms", 256, "the int 256"),
    ("algorithms", "RS256,ES256", "a list"),
    ("algorithms", [], "must not be empty"),
    ("algorithms", ["none"], "never allowed"),
    ("algorithms", ["RS265"], "unsupported algorithm(s) ['RS265']"),
    ("leeway", None, "unset environment variable"),
    ("leeway", "30", "the str '30'"),
    ("leeway", -1, "between 0 and 600"),
    ("leeway", 601, "between 0 and 600"),
    ("leeway", math.nan, "between 0 and 600"),
    ("leeway", True, "number of seconds"),
    ("jwks_uri", 5, "a URL"),
    ("jwks_uri", ["https://x.example/jwks"], "a URL"),
    ("jwks_uri", "ftp://x.example/jwks", "https://"),
    ("rfc9068_strict", "false", "True or False"),
    ("rfc9068_strict", None, "True or False"),
    ("rfc9068_strict", 1, "True or False"),
    ("max_age", "3600", "number of seconds"),
    ("max_age", -5, "between 0"),
    ("organization", 5, "string or a list"),
    ("organization", [1], "strings only"),
    ("scope_claims", None, "unset environment variable"),
    ("scope_claims", [], "must not be empty"),
    ("scope_claims", 5, "string or a list"),
    ("max_token_size", "16k", "an integer"),
    ("max_token_size", 100, "between 512"),
    ("max_token_size", None, "an integer"),
    ("max_token_size", 2048.0, "an integer"),
    ("token_cache_size", -1, "between 0"),
    ("token_cache_size", "1024", "an integer"),
    ("token_cache_size", True, "an integer"),
    ("realm", None, "printable ASCII"),
    ("realm", 'a"b', "printable ASCII"),
    ("realm", 5, "printable ASCII"),
    ("resource", 5, "the int 5"),
    ("resource", "api.example.com/mcp", "not an absolute URI"),
    ("resource", "https://api.example.com/mcp#tools", "fragment"),
    ("resource", "http://api.example.com/mcp", "https://"),
    ("scopes_supported", 5, "string or a list"),
    ("scopes_supported", ["read contacts"], "scope names"),
    ("resource_name", 5, "non-empty string"),
    ("resource_name", " Contacts", "without spaces around it"),
    ("resource_documentation", 5, "a URL"),
    ("resource_documentation", "http://docs.example.com/api", "https://"),
    ("scope_implications", "admin", "must map each broader scope"),
    ("scope_implications", ["admin"], "must map each broader scope"),
    ("scope_implications", {"admin": 5}, "as a list of scope names"),
    ("scope_implications", {"admin": ["read all"]}, "not a scope name"),
    ("scope_implications", {"a": ["b"], "b": ["a"]}, "holds a cycle"),
]
WRONG_IDS = [f"{name}={value!r}" for name, value, _ in WRONG]
# Strings given by name are parsed as environment variables are (lists comma-separated,
# numbers read), so the typed rows are the ones those routes must refuse as they are.
TYPED = [row for row in WRONG if not isinstance(row[1], str)]
TYPED_IDS = [f"{name}={value!r}" for name, value, _ in TYPED]


@pytest.mark.parametrize(("name", "value", "says"), WRONG, ids=WRONG_IDS)
def test_verifier_names_the_keyword_and_what_was_given(name, value, says):
    with pytest.raises(ConfigurationError) as refused:
        Verifier(**{**BASE, name: value})
    message = str(refused.value)
    assert name in message
    assert says in message
    assert refused.value.setting == name


@pytest.mark.parametrize(("name", "value", "says"), TYPED, ids=TYPED_IDS)
def test_from_env_names_the_variable(name, value, says):
    environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
    environ[f"BEARERGUARD_{SUFFIX[name]}"] = value
    with pytest.raises(ConfigurationError) as refused:
        Verifier.from_env(environ)
    message = str(refused.value)
    if name in ("issuer", "audience") and value in (None, []):
        assert f"Set BEARERGUARD_{SUFFIX[name]}" in message  # nothing given: missing
    else:
        assert message.startswith(f"BEARERGUARD_{SUFFIX[name]}: ")
        assert says in message


@pytest.mark.parametrize(("name", "value", "says"), TYPED, ids=TYPED_IDS)
def test_flask_names_the_config_key(name, value, says):
    from flask import Flask

    from bearerguard.flask import BearerGuard

    app = Flask(__name__)
    app.config.update(BEARERGUARD_ISSUER=ISSUER, BEARERGUARD_AUDIENCE=AUDIENCE)
    app.config[f"BEARERGUARD_{SUFFIX[name]}"] = value
    with pytest.raises(ConfigurationError) as refused:
        BearerGuard(app)
    message = str(refused.value)
    assert f"BEARERGUARD_{SUFFIX[name]}" in message
    if not (name in ("issuer", "audience") and value in (None, [])):
        assert message.startswith(f"app.config['BEARERGUARD_{SUFFIX[name]}']: ")
        assert says in message


@pytest.mark.parametrize(("name", "value", "says"), TYPED, ids=TYPED_IDS)
def test_django_names_the_key_in_a_system_check(name, value, says):
    from bearerguard.django.conf import check_setting

    problems = check_setting({"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, SUFFIX[name]: value})
    assert len(problems) == 1
    (problem,) = problems
    if name in ("issuer", "audience") and value in (None, []):
        assert problem.id in ("bearerguard.E004", "bearerguard.E005")
    else:
        assert problem.id == "bearerguard.E006"
        assert f"BEARERGUARD['{SUFFIX[name]}']" in problem.msg
        assert says in problem.msg


@pytest.mark.parametrize(
    ("variable", "raw", "says"),
    [
        ("BEARERGUARD_LEEWAY", "soon", "must be a number of seconds, got 'soon'"),
        ("BEARERGUARD_LEEWAY", "", "is set but empty"),
        ("BEARERGUARD_ALGORITHMS", " ", "is set but empty"),
        ("BEARERGUARD_ALGORITHMS", "RS256,,ES256", "empty item"),
        ("BEARERGUARD_MAX_TOKEN_SIZE", "16k", "must be a whole number"),
        ("BEARERGUARD_RFC9068_STRICT", "maybe", "must be true or false"),
        ("BEARERGUARD_SECRET", "", "is set but empty"),
        ("BEARERGUARD_ISSUER", "https://None/", "has no real host"),
        ("BEARERGUARD_SCOPE_IMPLICATIONS", "admin: read", "must be JSON"),
        ("BEARERGUARD_SCOPE_IMPLICATIONS", '{"a": ["b"], "a": ["c"]}', "names 'a' twice"),
    ],
)
def test_environment_strings_are_read_strictly(variable, raw, says):
    environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE, variable: raw}
    with pytest.raises(ConfigurationError, match=variable) as refused:
        Verifier.from_env(environ)
    assert says in str(refused.value)


@pytest.mark.parametrize("value", ["", " , ", None])
def test_an_empty_issuer_variable_is_reported_as_missing(value):
    with pytest.raises(ConfigurationError, match="Set BEARERGUARD_ISSUER"):
        Verifier.from_env({"BEARERGUARD_ISSUER": value, "BEARERGUARD_AUDIENCE": AUDIENCE})


def test_a_string_where_a_list_is_expected_is_one_item():
    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms="ES256",
        scope_claims="permissions",
        organization="org_123",
    )
    assert verifier.config.algorithms == frozenset({"ES256"})
    assert verifier.config.scope_claims == ("permissions",)
    assert verifier.config.organizations == frozenset({"org_123"})


def test_a_generator_is_refused_rather_than_consumed():
    with pytest.raises(ConfigurationError, match="string or a list"):
        Verifier(issuer=(i for i in [ISSUER]), audience=AUDIENCE)


def test_a_secret_is_never_repeated_in_a_message():
    with pytest.raises(ConfigurationError) as refused:
        Verifier(**BASE, algorithms=["HS256"], secret=12345678901234567890)
    assert "12345678901234567890" not in str(refused.value)
    assert "a value of type int" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("transport", "http"), ("async_transport", httpx.HTTPTransport()), ("clock", 5.0),
     ("monotonic", None), ("cache", {"ttl": 5})],
)  # fmt: skip
def test_the_hooks_are_checked_too(name, value):
    with pytest.raises(ConfigurationError) as refused:
        Verifier(**BASE, **{name: value})
    assert refused.value.setting == name


@pytest.mark.parametrize(
    ("field", "value"),
    [("ttl", "600"), ("ttl", None), ("fetch_timeout", 0), ("max_document_bytes", "1m"),
     ("max_document_bytes", 10), ("unknown_kid_cooldown", -1)],
)  # fmt: skip
def test_cache_policy_names_its_field(field, value):
    with pytest.raises(ConfigurationError) as refused:
        CachePolicy(**{field: value})
    assert field in str(refused.value)


# --- unknown names ------------------------------------------------------------------------


def test_from_env_refuses_a_misspelt_variable_with_a_did_you_mean():
    environ = {
        "BEARERGUARD_ISSUER": ISSUER,
        "BEARERGUARD_AUDIENCE": AUDIENCE,
        "BEARERGUARD_SCOPE_CLAIM": "permissions",
    }
    with pytest.raises(ConfigurationError) as refused:
        Verifier.from_env(environ)
    assert "BEARERGUARD_SCOPE_CLAIM (did you mean BEARERGUARD_SCOPE_CLAIMS?)" in str(refused.value)


def test_from_env_refuses_an_unknown_override_with_the_keywords_it_takes():
    with pytest.raises(ConfigurationError, match=r"unknown keyword.*audiences"):
        Verifier.from_env({"BEARERGUARD_ISSUER": ISSUER}, audiences=[AUDIENCE])


def test_flask_refuses_a_misspelt_key_with_a_did_you_mean():
    from flask import Flask

    from bearerguard.flask import BearerGuard

    app = Flask(__name__)
    app.config.update(
        BEARERGUARD_ISSUER=ISSUER, BEARERGUARD_AUDIENCE=AUDIENCE, BEARERGUARD_LEWAY=10
    )
    with pytest.raises(
        ConfigurationError,
        match=r"app\.config: BEARERGUARD_LEWAY \(did you mean BEARERGUARD_LEEWAY\?\)",
    ):
        BearerGuard(app)


def test_django_refuses_a_misspelt_key_with_a_did_you_mean():
    from bearerguard.django.conf import check_setting

    (problem,) = check_setting({"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "SCOPE_CLAIM": "x"})
    assert problem.id == "bearerguard.E003"
    assert problem.hint == "Did you mean 'SCOPE_CLAIM' -> 'SCOPE_CLAIMS'?"


def test_every_name_the_project_reads_anywhere_is_known():
    sources = [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("scripts").glob("*.sh")]
    sources += [*ROOT.joinpath("benchmarks").rglob("*.py"), ROOT / ".ci" / "run"]
    found = set()
    for path in sources:
        if path.name == "_settings.py":  # where the names are defined, with a misspelt example
            continue
        found.update(re.findall(r"BEARERGUARD_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    assert "BEARERGUARD_CLIENT_SECRET" in found  # the token command's, for one
    check_names(found)  # raises on any name bearerguard would refuse


def test_names_of_other_programs_pass():
    check_names(
        ["BEARERGUARD_VENV", "PATH", "AUTH0_DOMAIN", *(f"BEARERGUARD_{n}" for n in OTHER_NAMES)]
    )


# --- any value at all ------------------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.lists(st.one_of(st.text(max_size=30), st.integers(), st.none()), max_size=4),
    st.tuples(st.text(max_size=30)),
    st.frozensets(st.text(max_size=30), max_size=3),
    st.dictionaries(
        st.text(max_size=30), st.one_of(st.text(max_size=30), st.integers()), max_size=3
    ),
    st.builds(object),
    st.just(CachePolicy()),
    st.just(httpx.MockTransport(lambda request: httpx.Response(500))),
    st.sampled_from([ISSUER, AUDIENCE, "RS256", "tenant.auth0.com", "https://None/", "", " "]),
)
KEYWORDS = [
    "issuer", "audience", "algorithms", "leeway", "jwks_uri", "secret", "rfc9068_strict",
    "max_age", "organization", "scope_claims", "max_token_size", "token_cache_size", "realm",
    "cache", "transport", "async_transport", "clock", "monotonic", "dpop", "dpop_algorithms",
    "dpop_proof_max_age", "dpop_nonce", "replay_store", "public_url", "resource",
    "scopes_supported", "resource_name", "resource_documentation", "scope_implications",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(KEYWORDS), value=ANY_VALUE)
def test_any_value_for_any_setting_gives_a_verifier_or_a_configuration_error(name, value):
    try:
        Verifier(**{**BASE, name: value})
    except ConfigurationError as exc:  # the one acceptable failure, and it must say something
        problem = exc
    else:
        return
    assert str(problem)
    assert problem.setting in (name, "secret", "algorithms", None)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(SETTING_NAMES)), value=ANY_VALUE)
def test_any_value_in_the_environment_gives_a_verifier_or_a_configuration_error(name, value):
    environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
    environ[f"BEARERGUARD_{name}"] = value
    try:
        Verifier.from_env(environ)
    except ConfigurationError as exc:
        assert str(exc)  # noqa: PT017 - any ConfigurationError will do, as long as it explains


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(SETTING_NAMES)), value=ANY_VALUE)
def test_any_value_in_django_s_setting_gives_a_verifier_or_a_system_check(name, value):
    from bearerguard.django.conf import check_setting

    for problem in check_setting({"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, name: value}):
        assert problem.id.startswith("bearerguard.E")


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(SETTING_NAMES)), value=ANY_VALUE)
def test_any_value_in_flask_s_config_gives_a_verifier_or_a_configuration_error(name, value):
    from flask import Flask

    from bearerguard.flask import BearerGuard

    app = Flask(__name__)
    app.config.update(BEARERGUARD_ISSUER=ISSUER, BEARERGUARD_AUDIENCE=AUDIENCE)
    app.config[f"BEARERGUARD_{name}"] = value
    try:
        BearerGuard(app)
    except ConfigurationError as exc:
        assert f"BEARERGUARD_{name}" in str(exc)  # noqa: PT017 - it names the key at fault
