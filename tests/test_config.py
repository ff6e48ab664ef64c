"""Configuration is validated when the verifier is built, with messages that say what to do."""

from __future__ import annotations

import pytest

from bearerguard import CachePolicy, ConfigurationError, Verifier, VerifierConfig
from bearerguard._config import is_loopback_host, normalize_issuer, settings_from_mapping

AUD = "https://api.example.com"


def config(**overrides: object) -> VerifierConfig:
    settings: dict[str, object] = {"issuers": ("tenant.auth0.com",), "audiences": (AUD,)}
    settings.update(overrides)
    return VerifierConfig(**settings)  # type: ignore[arg-type]


class TestIssuer:
    def test_a_bare_domain_becomes_an_https_url_with_a_trailing_slash(self):
        assert normalize_issuer("tenant.auth0.com") == "https://tenant.auth0.com/"

    @pytest.mark.parametrize(
        "url",
        [
            "https://tenant.auth0.com/",
            "https://dev-123.okta.com/oauth2/default",
            "https://login.microsoftonline.com/tid/v2.0",
            "https://keycloak.example.com/realms/main",
        ],
    )
    def test_a_full_url_is_kept_verbatim(self, url):
        assert normalize_issuer(url) == url

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/",
            "http://127.5.6.7/",
            "http://localhost:9000/",
            "http://[::1]:8000/",
        ],
    )
    def test_plain_http_is_allowed_for_loopback_hosts(self, url):
        assert normalize_issuer(url) == url

    @pytest.mark.parametrize(
        "url", ["http://tenant.auth0.com/", "http://10.0.0.1/", "http://localhost.evil.com/"]
    )
    def test_plain_http_is_refused_elsewhere_with_a_hint(self, url):
        with pytest.raises(ConfigurationError, match="must use https"):
            normalize_issuer(url)

    @pytest.mark.parametrize(
        "value",
        [
            "",
            " tenant.auth0.com",
            "tenant.auth0.com/path",
            "ftp://tenant.auth0.com/",
            "https:///nohost",
            "https://user:pw@tenant.auth0.com/",
            "https://tenant.auth0.com/?q=1",
            "https://tenant.auth0.com/#frag",
            "https://tenant.auth0.com:99999/",
            "https://tenant.auth0.com/\x00keys",
            "https://tenant .auth0.com/",
            "https://tenant.auth0.com/a\tb",
            "https://tenant.auth0.com/\x7f",
        ],
    )
    def test_unusable_issuers_are_refused(self, value):
        with pytest.raises(ConfigurationError):
            normalize_issuer(value)

    def test_several_issuers_are_kept_in_order_without_duplicates(self):
        cfg = config(issuers=("tenant.auth0.com", "https://login.example.com/", "tenant.auth0.com"))
        assert cfg.issuers == ("https://tenant.auth0.com/", "https://login.example.com/")

    def test_an_issuer_is_required(self):
        with pytest.raises(ConfigurationError, match="issuer must not be empty"):
            config(issuers=())

    def test_loopback_hosts(self):
        assert is_loopback_host("127.0.0.1")
        assert is_loopback_host("::1")
        assert is_loopback_host("LOCALHOST")
        assert not is_loopback_host("example.com")
        assert not is_loopback_host("10.0.0.1")


class TestAudience:
    def test_an_audience_is_required_to_validate_aud(self):
        with pytest.raises(ConfigurationError, match="audience must name this API") as refused:
            config(audiences=())
        assert "got the tuple () (an unset environment variable?)" in str(refused.value)

    def test_without_an_audience_or_a_resource_the_error_names_both(self):
        with pytest.raises(ConfigurationError, match="unless resource= is given") as e:
            Verifier(issuer="tenant.auth0.com")
        assert e.value.setting == "audience"
        assert "resource='https://api.example.com/mcp'" in str(e.value)

    def test_the_audience_defaults_to_the_resource(self):
        configured = VerifierConfig(
            issuers=("tenant.auth0.com",), resource="https://api.example.com/mcp"
        )
        assert configured.audiences == ("https://api.example.com/mcp",)

    def test_a_given_audience_wins_over_the_resource(self):
        configured = config(resource="https://api.example.com/mcp")
        assert configured.audiences == (AUD,)

    @pytest.mark.parametrize("bad", ["", " https://api.example.com"])
    def test_blank_or_padded_audiences_are_refused(self, bad):
        with pytest.raises(ConfigurationError):
            config(audiences=(bad,))

    def test_several_audiences(self):
        assert config(audiences=(AUD, "urn:other")).audiences == (AUD, "urn:other")


class TestAlgorithms:
    def test_the_default_is_rs256_only(self):
        assert config().algorithms == frozenset({"RS256"})

    @pytest.mark.parametrize("name", ["RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA"])
    def test_asymmetric_families_are_allowed(self, name):
        assert config(algorithms=frozenset({name})).algorithms == {name}

    @pytest.mark.parametrize("name", ["none", "None", "NONE"])
    def test_none_is_never_allowed(self, name):
        with pytest.raises(ConfigurationError, match="never allowed"):
            config(algorithms=frozenset({name}))

    def test_hmac_needs_an_explicit_secret(self):
        with pytest.raises(ConfigurationError, match="shared secret"):
            config(algorithms=frozenset({"HS256"}))

    def test_a_secret_shorter_than_the_hash_is_refused(self):
        with pytest.raises(ConfigurationError, match="at least 32 bytes"):
            config(algorithms=frozenset({"HS256"}), secret=b"short")
        with pytest.raises(ConfigurationError, match="at least 64 bytes"):
            config(algorithms=frozenset({"HS256", "HS512"}), secret=b"x" * 32)

    def test_a_secret_without_an_hmac_algorithm_is_refused(self):
        with pytest.raises(ConfigurationError, match="only used with HS"):
            config(secret=b"x" * 32)

    def test_unknown_algorithms_are_listed(self):
        with pytest.raises(ConfigurationError, match="unsupported algorithm"):
            config(algorithms=frozenset({"RS1"}))

    def test_an_empty_allow_list_is_refused(self):
        with pytest.raises(ConfigurationError):
            config(algorithms=frozenset())


class TestOtherSettings:
    def test_leeway_defaults_to_30_seconds_and_is_capped_at_ten_minutes(self):
        assert config().leeway == 30.0
        assert config(leeway=600).leeway == 600.0
        with pytest.raises(ConfigurationError, match="leeway"):
            config(leeway=601)
        for bad in (-1, float("nan"), float("inf"), True, "30"):
            with pytest.raises(ConfigurationError):
                config(leeway=bad)

    def test_max_age(self):
        assert config(max_age=300).max_age == 300.0
        with pytest.raises(ConfigurationError):
            config(max_age=-5)

    def test_jwks_uri_as_one_url_serves_every_issuer(self):
        cfg = config(
            issuers=("tenant.auth0.com", "login.example.com"),
            jwks_uri="https://tenant.auth0.com/.well-known/jwks.json",
        )
        assert dict(cfg.jwks_uris) == {
            "https://tenant.auth0.com/": "https://tenant.auth0.com/.well-known/jwks.json",
            "https://login.example.com/": "https://tenant.auth0.com/.well-known/jwks.json",
        }

    def test_jwks_uri_per_issuer(self):
        cfg = config(jwks_uri={"tenant.auth0.com": "https://keys.example.com/jwks"})
        assert dict(cfg.jwks_uris) == {"https://tenant.auth0.com/": "https://keys.example.com/jwks"}

    def test_jwks_uri_for_an_unknown_issuer_or_over_http_is_refused(self):
        with pytest.raises(ConfigurationError, match="not a configured issuer"):
            config(jwks_uri={"other.auth0.com": "https://other.auth0.com/jwks"})
        with pytest.raises(ConfigurationError, match="https"):
            config(jwks_uri="http://keys.example.com/jwks")

    def test_scope_claims(self):
        assert config().scope_claims == ("scope", "scp")
        assert config(scope_claims=("scope", "permissions")).scope_claims == (
            "scope",
            "permissions",
        )
        with pytest.raises(ConfigurationError, match="scope_claims"):
            config(scope_claims=())

    def test_scope_implications_are_kept_as_declared_beside_their_closure(self):
        assert config().scope_hierarchy is None  # no map: checks never consult one
        declared = config(scope_implications={"admin": ["write:a"], "write:a": "read:a"})
        assert dict(declared.scope_implications) == {"admin": ("write:a",), "write:a": ("read:a",)}
        assert declared.scope_hierarchy is not None
        assert declared.scope_hierarchy.implied_by("admin") == {"write:a", "read:a"}
        with pytest.raises(ConfigurationError, match="scope_implications holds a cycle"):
            config(scope_implications={"read:a": ["write:a"], "write:a": ["read:a"]})

    def test_max_token_size_bounds(self):
        with pytest.raises(ConfigurationError):
            config(max_token_size=100)
        with pytest.raises(ConfigurationError):
            config(max_token_size=10 << 20)

    def test_realm_must_be_legal_in_a_quoted_challenge(self):
        assert config(realm="my api").realm == "my api"
        for bad in ('a"b', "a\\b", "", "caf\u00e9"):
            with pytest.raises(ConfigurationError, match="realm"):
                config(realm=bad)

    def test_cache_policy_is_validated(self):
        with pytest.raises(ConfigurationError, match="fetch_timeout"):
            CachePolicy(fetch_timeout=0)
        with pytest.raises(ConfigurationError):
            CachePolicy(ttl=10, min_ttl=60)
        with pytest.raises(ConfigurationError):
            CachePolicy(unknown_kid_cooldown=-1)

    def test_config_is_frozen(self):
        cfg = config()
        with pytest.raises(AttributeError):
            cfg.leeway = 5  # type: ignore[misc]

    def test_the_secret_is_not_shown_in_repr(self):
        cfg = config(algorithms=frozenset({"HS256"}), secret=b"s3cr3t" * 8)
        assert "s3cr3t" not in repr(cfg)


class TestVerifierConstruction:
    def test_accepts_strings_or_lists_and_never_touches_the_network(self):
        verifier = Verifier(issuer="tenant.auth0.com", audience=AUD)
        assert verifier.config.issuers == ("https://tenant.auth0.com/",)
        verifier = Verifier(issuer=["a.auth0.com", "b.auth0.com"], audience=[AUD, "urn:x"])
        assert len(verifier.config.issuers) == 2
        assert verifier.config.audiences == (AUD, "urn:x")

    def test_a_string_secret_is_encoded(self):
        verifier = Verifier(
            issuer="tenant.auth0.com", audience=AUD, algorithms=["HS256"], secret="k" * 32
        )
        assert verifier.config.secret == b"k" * 32

    def test_repr_names_issuers_and_audiences(self):
        assert "tenant.auth0.com" in repr(Verifier(issuer="tenant.auth0.com", audience=AUD))


class TestFromEnv:
    def test_reads_the_bearerguard_variables(self):
        env = {
            "BEARERGUARD_ISSUER": "tenant.auth0.com, login.example.com",
            "BEARERGUARD_AUDIENCE": AUD,
            "BEARERGUARD_ALGORITHMS": "RS256,PS256",
            "BEARERGUARD_LEEWAY": "45",
            "BEARERGUARD_RFC9068_STRICT": "true",
            "BEARERGUARD_MAX_AGE": "3600",
            "BEARERGUARD_ORGANIZATION": "org_123",
            "BEARERGUARD_SCOPE_CLAIMS": "scope,permissions",
            "BEARERGUARD_MAX_TOKEN_SIZE": "8192",
            "BEARERGUARD_REALM": "contacts",
            "BEARERGUARD_SCOPE_IMPLICATIONS": '{"admin": "read:contacts write:contacts"}',
            "UNRELATED": "ignored",
        }
        cfg = Verifier.from_env(env).config
        assert cfg.issuers == ("https://tenant.auth0.com/", "https://login.example.com/")
        assert cfg.audiences == (AUD,)
        assert cfg.algorithms == {"RS256", "PS256"}
        assert cfg.leeway == 45.0
        assert cfg.rfc9068_strict is True
        assert cfg.max_age == 3600.0
        assert cfg.organizations == {"org_123"}
        assert cfg.scope_claims == ("scope", "permissions")
        assert cfg.max_token_size == 8192
        assert cfg.realm == "contacts"
        assert dict(cfg.scope_implications) == {"admin": ("read:contacts", "write:contacts")}

    def test_reads_os_environ_by_default(self, monkeypatch):
        monkeypatch.setenv("BEARERGUARD_ISSUER", "tenant.auth0.com")
        monkeypatch.setenv("BEARERGUARD_AUDIENCE", AUD)
        monkeypatch.setenv("BEARERGUARD_JWKS_URI", "https://tenant.auth0.com/.well-known/jwks.json")
        cfg = Verifier.from_env().config
        assert cfg.jwks_uris["https://tenant.auth0.com/"].endswith("jwks.json")

    def test_keyword_overrides_win(self):
        env = {"BEARERGUARD_ISSUER": "tenant.auth0.com", "BEARERGUARD_AUDIENCE": AUD}
        assert Verifier.from_env(env, leeway=5).config.leeway == 5.0

    def test_the_secret_enables_hmac(self):
        env = {
            "BEARERGUARD_ISSUER": "tenant.auth0.com",
            "BEARERGUARD_AUDIENCE": AUD,
            "BEARERGUARD_ALGORITHMS": "HS256",
            "BEARERGUARD_SECRET": "k" * 32,
        }
        assert Verifier.from_env(env).config.secret == b"k" * 32

    @pytest.mark.parametrize("missing", ["BEARERGUARD_ISSUER", "BEARERGUARD_AUDIENCE"])
    def test_missing_required_variables_say_what_to_set(self, missing):
        env = {"BEARERGUARD_ISSUER": "tenant.auth0.com", "BEARERGUARD_AUDIENCE": AUD}
        del env[missing]
        with pytest.raises(ConfigurationError, match=f"Set {missing}"):
            Verifier.from_env(env)

    @pytest.mark.parametrize(
        ("name", "value"),
        [("BEARERGUARD_LEEWAY", "soon"), ("BEARERGUARD_RFC9068_STRICT", "maybe")],
    )
    def test_badly_typed_values_name_the_variable(self, name, value):
        env = {"BEARERGUARD_ISSUER": "tenant.auth0.com", "BEARERGUARD_AUDIENCE": AUD, name: value}
        with pytest.raises(ConfigurationError, match=name):
            Verifier.from_env(env)

    def test_typed_values_pass_through_as_in_flask_app_config(self):
        settings = settings_from_mapping(
            {"BEARERGUARD_ISSUER": ["a.auth0.com"], "BEARERGUARD_LEEWAY": 10, "OTHER": 1}
        )
        assert settings == {"issuer": ["a.auth0.com"], "leeway": 10}

    @pytest.mark.parametrize("name", ["BEARERGUARD_MAX_AGE", "BEARERGUARD_SECRET"])
    def test_a_variable_set_to_nothing_is_refused_by_name(self, name):
        with pytest.raises(ConfigurationError, match=f"{name} is set but empty"):
            settings_from_mapping({name: " "})
