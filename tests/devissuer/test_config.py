"""The configuration: the default tenant, JSON files, and clear messages for mistakes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bearerguard import ConfigurationError
from bearerguard.devissuer import (
    ApiConfig,
    ClientConfig,
    DevIssuerConfig,
    Organization,
    UserConfig,
    config_from_dict,
    default_config,
    load_config,
)
from bearerguard.devissuer._loading import DEFAULT_CONFIG


def tenant(**changes: Any) -> dict[str, Any]:
    """The default configuration as JSON data, with top-level changes."""
    data = copy.deepcopy(dict(DEFAULT_CONFIG))
    data.update(changes)
    return data


def test_the_default_tenant_is_the_documented_one():
    config = default_config()
    assert [api.identifier for api in config.apis] == ["https://api.example.com"]
    m2m, spa, web = config.clients
    assert (m2m.client_id, m2m.client_secret, m2m.grant_types) == (
        "m2m-client",
        "m2m-secret",
        ("client_credentials",),
    )
    assert m2m.grants == {"https://api.example.com": ("read:messages", "read:contacts")}
    assert spa.public
    assert spa.client_secret is None
    assert "implicit" in spa.grant_types
    assert web.redirect_uris == ("http://127.0.0.1:8080/callback",)
    alice, bob = config.users
    assert alice.organization == Organization(id="org_demo", name="demo-org")
    assert alice.permissions is None
    assert bob.permissions == ("read:messages",)
    assert config.namespace == "https://example.com/"


def test_a_json_file_is_read(tmp_path):
    path = tmp_path / "dev-issuer.json"
    path.write_text(json.dumps(tenant(default_audience="https://api.example.com")))
    config = load_config(path)
    assert config.default_audience == "https://api.example.com"
    assert config == config_from_dict(tenant(default_audience="https://api.example.com"))


def test_a_minimal_file_needs_only_a_client(tmp_path):
    path = tmp_path / "minimal.json"
    path.write_text(
        '{"apis": [{"identifier": "urn:api"}], "clients": [{"client_id": "c", '
        '"client_secret": "s", "grant_types": ["client_credentials"], "grants": {"urn:api": []}}]}'
    )
    config = load_config(str(path))
    assert config.apis[0].token_lifetime == 86400
    assert config.users == ()


def test_configs_can_be_built_in_python():
    config = DevIssuerConfig(
        apis=[ApiConfig(identifier="urn:api", scopes=["read"])],
        clients=[
            ClientConfig(
                client_id="c",
                client_secret="s",
                grant_types=["client_credentials"],
                grants={"urn:api": ["read"]},
            )
        ],
        users=[UserConfig(sub="u")],
        namespace="https://example.com",
    )
    assert config.apis[0].scopes == ("read",)
    assert config.namespace == "https://example.com/"
    assert config.client("c") is config.clients[0]
    assert config.user("nobody") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client": [1]}, "unknown key 'client' (did you mean 'clients'?)"),
        ({"clients": {}}, "clients must be a list, got an object"),
        ({"clients": []}, "at least one client"),
        ({"id_token_lifetime": "1h"}, "id_token_lifetime must be a whole number, got a string"),
        ({"id_token_lifetime": 0}, "id_token_lifetime must be a whole number of seconds"),
        ({"namespace": ""}, "namespace '' must be a non-empty string"),
        ({"default_audience": "urn:nope"}, "default_audience 'urn:nope' is not the identifier"),
        ({"users": []}, "need at least one user"),
        ({"apis": [{"scopes": []}]}, "apis[0].identifier is required"),
        ({"apis": [{"identifier": "a", "scopes": ["openid"]}]}, "'openid' is an OpenID Connect"),
        ({"apis": [{"identifier": "a", "scopes": ["two words"]}]}, "is not a scope name"),
        ({"apis": [{"identifier": "a", "scopes": [1]}]}, "apis[0].scopes[0] must be a string"),
    ],
)
def test_top_level_mistakes_are_explained(change, message):
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(tenant(**change))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (0, {"client_secert": "x"}, "clients[0]: unknown key 'client_secert' (did you mean"),
        (0, {"grants": {"https://nope": []}}, "grants name 'https://nope', which is not a config"),
        (0, {"grants": {"https://api.example.com": ["admin"]}}, "'admin' is not a scope of API"),
        (0, {"grants": {"https://api.example.com": "read"}}, "must be a list of scope names"),
        (0, {"grant_types": ["password"]}, "'password' is not one of them"),
        (0, {"grant_types": None}, "clients[0].grant_types is required"),
        (0, {"client_secret": None}, "a confidential client needs a client_secret"),
        (0, {"claims": {"sub": "x"}}, "claims may not set 'sub'"),
        (0, {"organization": {"id": "org_1"}}, "clients[0].organization.name is required"),
        (1, {"client_secret": "x"}, "a public client has no client_secret"),
        (1, {"redirect_uris": ["/callback"]}, "must be an absolute URL"),
        (1, {"redirect_uris": ["http://127.0.0.1/cb#x"]}, "without a fragment"),
        (1, {"redirect_uris": []}, "need redirect_uris"),
        (1, {"public": "yes"}, "clients[1].public must be true or false"),
        (1, {"grant_types": ["refresh_token"]}, "refresh tokens come from authorization_code"),
        (1, {"grant_types": ["client_credentials"]}, "client_credentials needs a confidential"),
        (1, {"client_id": "m2m-client"}, "client_id 'm2m-client' is configured twice"),
    ],
)
def test_client_mistakes_are_explained(index, change, message):
    data = tenant()
    data["clients"][index].update(change)
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(data)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"permissions": ["fly"]}, "permission 'fly' is not a scope of any configured API"),
        ({"sub": " padded "}, "user sub must be a non-empty string"),
        ({"email_verified": 1}, "email_verified must be true or false"),
        ({"claims": []}, "users[1].claims must be a JSON object"),
        ({"sub": "auth0|alice"}, "user sub 'auth0|alice' is configured twice"),
    ],
)
def test_user_mistakes_are_explained(change, message):
    data = tenant()
    data["users"][1].update(change)
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(data)
    assert message in str(raised.value)


def test_file_mistakes_name_the_file(tmp_path):
    with pytest.raises(ConfigurationError, match="no such configuration file"):
        load_config(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"clients": [}')
    with pytest.raises(ConfigurationError, match=r"broken\.json: not valid JSON \(line 1"):
        load_config(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"clients": [{"client_id": "c", "public": true, "client_secret": "s"}]}')
    with pytest.raises(ConfigurationError) as raised:
        load_config(wrong)
    assert str(raised.value).startswith(f"{wrong}: clients[0].grant_types is required")
    not_an_object = tmp_path / "list.json"
    not_an_object.write_text("[]")
    with pytest.raises(ConfigurationError, match="the configuration must be a JSON object"):
        load_config(not_an_object)
