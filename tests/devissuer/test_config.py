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
    assert [api.identifier for api in config.apis] == [
        "https://api.example.com",
        "https://opaque.example.com",
    ]
    assert [api.token_format for api in config.apis] == ["jwt", "opaque"]
    m2m, spa, web, api = config.clients
    assert (m2m.client_id, m2m.client_secret, m2m.grant_types) == (
        "m2m-client",
        "m2m-secret",
        ("client_credentials",),
    )
    assert m2m.grants == {"https://api.example.com": ("read:messages", "read:contacts")}
    assert spa.public
    assert spa.client_secret is None
    assert "implicit" in spa.grant_types
    # Swagger UI's callback in a FastAPI app, on any port (loopback, public client).
    assert spa.redirect_uris == (
        "http://127.0.0.1:8080/callback",
        "http://localhost:8080/callback",
        "http://127.0.0.1:8000/docs/oauth2-redirect",
        "http://localhost:8000/docs/oauth2-redirect",
    )
    assert web.redirect_uris == ("http://127.0.0.1:8080/callback",)
    # The opaque API's own client: confidential, so it may introspect.
    assert (api.client_id, api.client_secret, api.public) == ("api-client", "api-secret", False)
    assert api.grants == {"https://opaque.example.com": ("read:reports",)}
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


DELETE = object()
GRANT_TYPES = "authorization_code, client_credentials, implicit, refresh_token"
CALLBACK = "'http://127.0.0.1:8080/callback'"

# (where the file changes, the value written there or DELETE, how the message starts, and
# what it tells the reader to write when the start does not say it already).
MISTAKES = [
    # the top level
    (("client",), [1], "the configuration: unknown key 'client' (did you mean 'clients'?)",
     "the known keys are apis, clients, users"),
    (("clients",), {}, "clients must be a list, got an object", None),
    (("clients",), [], "clients must list at least one client", '{"client_id": "m2m"'),
    (("apis",), "x", "apis must be a list, got a string ('x')", None),
    (("users",), [], "users must list at least one user, as client 'spa-client' signs users in",
     '[{"sub": "auth0|alice", "name": "Alice"}]'),
    (("namespace",), 1, "namespace must be a string, got the number 1", None),
    (("namespace",), "", "namespace must be a non-empty string", None),
    (("default_audience",), "urn:nope", "default_audience is 'urn:nope', which is not the "
     "identifier of a configured API (configured: https://api.example.com, "
     "https://opaque.example.com)", "write one of them"),
    (("id_token_lifetime",), "1h", "id_token_lifetime must be a whole number, got a string ('1h')",
     None),
    (("id_token_lifetime",), 0, "id_token_lifetime must be a whole number of seconds between 1 "
     "and 31536000", "e.g. 3600 for an hour"),
    (("refresh_token_lifetime",), True, "refresh_token_lifetime must be a whole number, got true",
     None),
    (("refresh_token_lifetime",), 1.5, "refresh_token_lifetime must be a whole number, got the "
     "number 1.5", None),
    (("dpop_nonce",), "yes", "dpop_nonce must be true or false, got a string ('yes')", None),
    (("dpop_nonce",), 1, "dpop_nonce must be true or false, got the number 1", None),
    # an API
    (("apis", 0), "x", "apis[0] must be a JSON object, got a string ('x')", None),
    (("apis", 0, "scope"), [], "apis[0]: unknown key 'scope' (did you mean 'scopes'?)", None),
    (("apis", 0, "identifier"), DELETE, "apis[0].identifier is required", "a non-empty string"),
    (("apis", 0, "identifier"), 1, "apis[0].identifier must be a string, got the number 1", None),
    (("apis", 0, "identifier"), " https://api.example.com",
     "apis[0].identifier must be a non-empty string without surrounding spaces", None),
    (("apis", 0, "name"), "", "apis[0].name must be a non-empty string", None),
    (("apis", 0, "scopes"), "read", "apis[0].scopes must be a list, got a string ('read')", None),
    (("apis", 0, "scopes", 1), 7, "apis[0].scopes[1] must be a string, got the number 7", None),
    (("apis", 0, "scopes", 1), "two words", "apis[0].scopes[1] must be a scope name",
     "such as 'read:messages'; got 'two words'"),
    (("apis", 0, "scopes", 2), "openid", "apis[0].scopes[2] is 'openid', an OpenID Connect scope",
     "remove it"),
    (("apis", 0, "token_lifetime"), -1, "apis[0].token_lifetime must be a whole number of seconds",
     "e.g. 3600"),
    (("apis", 0, "token_lifetime_for_web"), "2h",
     "apis[0].token_lifetime_for_web must be a whole number, got a string", None),
    (("apis", 0, "allow_offline_access"), "no",
     "apis[0].allow_offline_access must be true or false, got a string ('no')", None),
    (("apis", 1), copy.deepcopy(DEFAULT_CONFIG["apis"][0]), "apis[1].identifier "
     "'https://api.example.com' is configured twice (also apis[0].identifier)",
     "give each its own identifier"),
    # a client
    (("clients", 0, "client_secert"), "x",
     "clients[0]: unknown key 'client_secert' (did you mean 'client_secret'?)", None),
    (("clients", 0, "client_id"), DELETE, "clients[0].client_id is required", "a non-empty string"),
    (("clients", 0, "client_id"), "", "clients[0].client_id must be a non-empty string", None),
    (("clients", 0, "client_secret"), 5, "clients[0].client_secret must be a string", None),
    (("clients", 0, "client_secret"), DELETE, "clients[0].client_secret is required: a "
     "confidential client needs a client_secret", 'set "public": true'),
    (("clients", 0, "name"), "two\nlines", "clients[0].name must be a non-empty string without "
     "surrounding spaces or control characters", None),
    (("clients", 0, "public"), "no", "clients[0].public must be true or false", None),
    (("clients", 0, "grant_types"), DELETE, "clients[0].grant_types is required",
     '["client_credentials"]'),
    (("clients", 0, "grant_types"), "client_credentials",
     "clients[0].grant_types must be a list, got a string", None),
    (("clients", 0, "grant_types"), [], "clients[0].grant_types must list what the client may do",
     GRANT_TYPES),
    (("clients", 0, "grant_types", 1), "password",
     f"clients[0].grant_types[1] must be one of {GRANT_TYPES}; got 'password'", None),
    (("clients", 0, "grant_types", 1), "refresh_token", "clients[0].grant_types[1] is "
     "refresh_token, and refresh tokens come from authorization_code", "add authorization_code"),
    (("clients", 1, "grant_types", 0), "client_credentials", "clients[1].grant_types[0] is "
     "client_credentials, which needs a confidential client",
     'a client_secret and "public": false'),
    (("clients", 1, "client_secret"), "x", "clients[1].client_secret must be left out: a public "
     "client has no secret", 'or set "public": false'),
    (("clients", 0, "grants"), [], "clients[0].grants must be a JSON object, got a list", None),
    (("clients", 0, "grants", "https://api.example.com"), "read:messages",
     "clients[0].grants['https://api.example.com'] must be a list of scope names",
     '["read:messages"]'),
    (("clients", 0, "grants", "https://api.example.com", 1), 3,
     "clients[0].grants['https://api.example.com'][1] must be a string, got the number 3", None),
    (("clients", 0, "grants", "https://api.example.com", 1), "admin",
     "clients[0].grants['https://api.example.com'][1] is 'admin', which is not a scope of API",
     "write one of its scopes (read:messages, read:contacts, write:contacts)"),
    (("clients", 0, "grants", "https://nope.example"), [],
     "clients[0].grants['https://nope.example'] names an API that is not configured "
     "(configured: https://api.example.com, https://opaque.example.com)",
     "add the API"),
    (("clients", 1, "redirect_uris"), "http://127.0.0.1:8080/callback",
     "clients[1].redirect_uris must be a list, got a string", None),
    (("clients", 1, "redirect_uris"), [], "clients[1].redirect_uris must list the exact callback "
     "URLs of the app", '["http://127.0.0.1:8080/callback"]'),
    (("clients", 1, "redirect_uris", 0), 8080,
     "clients[1].redirect_uris[0] must be a string, got the number 8080", None),
    (("clients", 1, "redirect_uris", 1), "/callback",
     "clients[1].redirect_uris[1] must be an absolute URL without a fragment", CALLBACK),
    (("clients", 1, "redirect_uris", 1), "http://127.0.0.1:8080/callback#x",
     "clients[1].redirect_uris[1] must be an absolute URL without a fragment", CALLBACK),
    (("clients", 1, "redirect_uris", 1), "http://127.0.0.1:99999/callback",
     "clients[1].redirect_uris[1] must have a port from 1 to 65535", CALLBACK),
    (("clients", 1, "redirect_uris", 1), "http://127.0.0.1:http/callback",
     "clients[1].redirect_uris[1] must have a port from 1 to 65535", CALLBACK),
    (("clients", 0, "claims"), ["tier"], "clients[0].claims must be a JSON object, got a list",
     None),
    (("clients", 0, "claims", "sub"), "x", "clients[0].claims['sub'] is a registered claim",
     "use a custom name such as 'https://example.com/roles'"),
    (("clients", 0, "organization"), "org_demo",
     "clients[0].organization must be a JSON object, got a string", None),
    (("clients", 0, "organization"), {"id": "org_1"}, "clients[0].organization.name is required",
     "a non-empty string"),
    (("clients", 0, "organization"), {"id": "org_1", "name": "x", "display_name": "X"},
     "clients[0].organization: unknown key 'display_name'", "the known keys are id, name"),
    (("clients", 0, "organization"), {"id": " org_1", "name": "x"},
     "clients[0].organization.id must be a non-empty string without surrounding spaces", None),
    (("clients", 2, "client_id"), "spa-client", "clients[2].client_id 'spa-client' is configured "
     "twice (also clients[1].client_id)", "give each its own client_id"),
    # a user
    (("users", 1), None, "users[1] must be a JSON object, got null", None),
    (("users", 1, "perms"), [], "users[1]: unknown key 'perms' (did you mean 'permissions'?)",
     None),
    (("users", 1, "sub"), DELETE, "users[1].sub is required", "a non-empty string"),
    (("users", 1, "sub"), " padded ", "users[1].sub must be a non-empty string without "
     "surrounding spaces", None),
    (("users", 1, "sub"), "auth0|alice", "users[1].sub 'auth0|alice' is configured twice (also "
     "users[0].sub)", "give each its own sub"),
    (("users", 1, "name"), 1, "users[1].name must be a string, got the number 1", None),
    (("users", 1, "email"), "", "users[1].email must be a non-empty string", None),
    (("users", 1, "email_verified"), 1,
     "users[1].email_verified must be true or false, got the number 1", None),
    (("users", 1, "permissions"), "read:messages",
     "users[1].permissions must be a list, got a string", None),
    (("users", 1, "permissions", 0), "fly", "users[1].permissions[0] is 'fly', which is not a "
     "scope of any configured API",
     "write one of read:contacts, read:messages, read:reports, write:contacts, write:reports"),
    (("users", 1, "permissions", 0), "read messages",
     "users[1].permissions[0] must be a scope name", "such as 'read:messages'"),
    (("users", 1, "claims"), [], "users[1].claims must be a JSON object, got a list", None),
    (("users", 0, "claims", "aud"), "x", "users[0].claims['aud'] is a registered claim", None),
    (("users", 0, "organization", "name"), DELETE, "users[0].organization.name is required", None),
    (("users", 0, "organization", "id"), 7,
     "users[0].organization.id must be a string, got the number 7", None),
    (("users", 0, "organization", "slug"), "x", "users[0].organization: unknown key 'slug'", None),
]  # fmt: skip


def edited(path: tuple[Any, ...], value: object) -> dict[str, Any]:
    """The default tenant with ``value`` written at ``path`` (appended at a list's end)."""
    data = tenant()
    *parents, last = path
    target: Any = data
    for step in parents:
        target = target[step]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list) and last == len(target):
        target.append(value)
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "start", "advice"),
    MISTAKES,
    ids=[".".join(map(str, path)) for path, *_ in MISTAKES],
)
def test_every_mistake_is_named_by_its_path_and_says_what_to_write(path, value, start, advice):
    with pytest.raises(ConfigurationError) as raised:
        config_from_dict(edited(path, value))
    message = str(raised.value)
    assert message.startswith(start), message
    assert advice is None or advice in message, message


def test_a_mistake_in_python_names_the_object_instead_of_a_path():
    with pytest.raises(ConfigurationError) as raised:
        ClientConfig(client_id="spa", public=True, grant_types=["authorization_code"],
                     redirect_uris=["/callback"])  # fmt: skip
    assert str(raised.value).startswith(
        "client 'spa': redirect_uris[0] must be an absolute URL without a fragment"
    )
    with pytest.raises(ConfigurationError, match=r"^API 'urn:api': scopes\[0\] is 'openid'"):
        ApiConfig(identifier="urn:api", scopes=["openid"])
    with pytest.raises(
        ConfigurationError, match=r"^user 'u': email_verified must be true or false"
    ):
        UserConfig(sub="u", email_verified="yes")  # type: ignore[arg-type]
    with pytest.raises(
        ConfigurationError, match=r"^organization 'org_1': name must be a non-empty"
    ):
        Organization(id="org_1", name="")
    with pytest.raises(ConfigurationError, match=r"^clients must list at least one client"):
        DevIssuerConfig(clients=[])
    with pytest.raises(ConfigurationError, match=r"^dpop_nonce must be true or false, got 'on'"):
        DevIssuerConfig(clients=default_config().clients, dpop_nonce="on")  # type: ignore[arg-type]


def test_server_nonces_are_off_unless_the_configuration_turns_them_on():
    assert default_config().dpop_nonce is False
    assert config_from_dict(tenant(dpop_nonce=True)).dpop_nonce is True
    assert config_from_dict(tenant(dpop_nonce=None)).dpop_nonce is False  # null: the default


def test_a_key_written_twice_in_a_file_is_a_mistake(tmp_path):
    # JSON keeps the last of two equal keys without a word; the second was surely meant
    # to be another key.
    path = tmp_path / "twice.json"
    path.write_text(
        '{"clients": [{"client_id": "c", "client_secret": "s", "client_id": "d", '
        '"grant_types": ["client_credentials"]}]}'
    )
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: clients[0].client_id is written twice in one object; JSON keeps only the last "
        "one: delete the other."
    )


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
