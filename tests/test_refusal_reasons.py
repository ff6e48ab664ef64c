"""Each common first-hour mistake gets its own precise reason (for logs and ``bearerguard
verify``), while the API's answer stays a fixed sentence; the mistakes only a
configuration can cause are logged at WARNING, at most once a minute per kind.
"""

from __future__ import annotations

import logging

import pytest

from bearerguard import (
    EncryptedTokenError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidIssuerError,
    MalformedTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    Verifier,
    token_from_authorization,
)
from bearerguard._hints import HINT_INTERVAL
from bearerguard.testing import FakeIssuer

ISSUER = "https://tenant.auth0.com/"
API = "https://api.example.com"
CLIENT_ID = "k3yQmE1vTzXsd2Bq9uGf7RcA0pLhWnYo"


@pytest.fixture
def fake():
    with FakeIssuer(ISSUER, audience=API) as issuer:
        yield issuer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- the shape of what was sent -----------------------------------------------------------------


def test_a_jwt_without_the_bearer_scheme_is_told_apart_from_another_scheme(fake):
    with pytest.raises(MissingTokenError) as refused:
        token_from_authorization(fake.token())
    assert refused.value.reason == (
        "The Authorization header holds a JWT without the Bearer scheme: send "
        "'Authorization: Bearer <token>'."
    )
    assert refused.value.status_code == 401
    assert refused.value.www_authenticate == 'Bearer realm="api"'
    with pytest.raises(MissingTokenError, match="scheme other than Bearer"):
        token_from_authorization("Basic dXNlcjpwYXNz")


def test_an_opaque_token_is_named_as_one_with_what_to_ask_for_instead():
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(MalformedTokenError) as refused:
        verifier.verify("8xLOxBtZp8aBcDeFgHiJkLmNoPqRsTuV")
    assert "looks like an opaque access token" in refused.value.reason
    assert "your API's identifier as its audience (resource, RFC 8707)" in refused.value.reason
    assert refused.value.description == "Invalid token"  # the answer stays fixed


def test_a_jwe_is_described_without_naming_a_provider():
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(EncryptedTokenError) as refused:
        verifier.verify("eyJhbGciOiJSU0EtT0FFUCJ9.YQ.aXY.Y2lwaGVy.dGFn")
    assert "Auth0" not in refused.value.reason + refused.value.description
    assert "audience (resource, RFC 8707)" in refused.value.reason


# --- ID tokens ----------------------------------------------------------------------------------


def id_token(fake: FakeIssuer, **changes) -> str:
    claims = {"nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "scopes": (),
              "aud": CLIENT_ID, "client_id": None, "azp": CLIENT_ID, "auth_time": 1_700_000_000,
              "headers": {"typ": "JWT"}}  # fmt: skip
    claims.update(changes)
    return fake.token(**claims)


def test_an_id_token_is_said_to_be_one(fake):
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(InvalidAudienceError) as refused:
        verifier.verify(id_token(fake))
    assert refused.value.reason.startswith("This is an ID token, not an access token")
    assert "nonce, at_hash, auth_time" in refused.value.reason
    assert refused.value.description == "The access token is not intended for this API"


@pytest.mark.parametrize("typ", [None, "JWT", "application/jwt"])
def test_an_id_token_is_recognised_with_any_plain_typ(fake, typ):
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(InvalidAudienceError, match="This is an ID token"):
        verifier.verify(id_token(fake, headers={"typ": typ}))


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "https://other-api.example.com"},  # an API's identifier: an access token
        {"scopes": ("read:contacts",)},  # scopes: an access token
        {"nonce": None, "at_hash": None, "auth_time": None},  # nothing ID-token-like
        {"headers": {"typ": "at+jwt"}},  # typed as an access token
        {"typ": "Bearer"},  # Keycloak says so itself
    ],
)
def test_an_access_token_for_another_api_is_not_called_an_id_token(fake, changes):
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(InvalidAudienceError) as refused:
        verifier.verify(id_token(fake, **changes))
    assert "ID token" not in refused.value.reason


def test_keycloak_s_id_typ_marks_an_id_token(fake):
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(InvalidAudienceError, match="This is an ID token"):
        verifier.verify(id_token(fake, typ="ID", nonce=None, at_hash=None, auth_time=None))


def test_under_rfc9068_an_id_token_fails_its_typ_with_a_word_about_id_tokens(fake):
    verifier = Verifier(issuer=ISSUER, audience=API, rfc9068_strict=True)
    with pytest.raises(InvalidClaimsError, match="an ID token"):
        verifier.verify(id_token(fake))


# --- bound tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cnf", "names"),
    [
        ({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, "a DPoP key (cnf.jkt, RFC 9449)"),
        ({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}, "(cnf.x5t#S256, RFC 8705)"),
        ({"kid": "k"}, "cnf.kid"),
        ({}, "a key (cnf claim)"),
        ("x", "a key (cnf claim)"),
    ],
)
def test_a_token_bound_to_a_key_is_refused_as_a_bearer_token(fake, cnf, names):
    verifier = Verifier(issuer=ISSUER, audience=API)
    with pytest.raises(SenderConstrainedTokenError) as refused:
        verifier.verify(fake.token(cnf=cnf, scopes="read:contacts"))
    error = refused.value
    assert (error.status_code, error.error) == (401, "invalid_token")
    assert "sender-constrained" in error.description
    assert names in error.reason


def test_a_bound_token_is_refused_every_time_not_only_the_first(fake):
    verifier = Verifier(issuer=ISSUER, audience=API)
    token = fake.token(cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
    for _ in range(3):  # the verified-token cache admits on the second sighting
        with pytest.raises(SenderConstrainedTokenError):
            verifier.verify(token)


# --- hints that a configuration is wrong, logged at WARNING ---------------------------------


def test_an_issuer_near_miss_is_logged_as_a_warning_once_a_minute(caplog):
    realm = "https://kc.example.com/realms/main"
    clock = Clock()
    with FakeIssuer(realm, audience=API) as fake:
        verifier = Verifier(issuer=realm + "/", audience=API, monotonic=clock)
        caplog.set_level(logging.WARNING, logger="bearerguard")
        for _ in range(5):
            with pytest.raises(InvalidIssuerError):
                verifier.verify(fake.token())
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "only by a trailing slash" in warnings[0]
        assert f"configure issuer='{realm}'" in warnings[0]
        assert "at most once a minute" in warnings[0]

        clock.now += HINT_INTERVAL
        with pytest.raises(InvalidIssuerError):
            verifier.verify(fake.token())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "4 more such refusals since the last warning" in warnings[1]


def test_an_audience_that_differs_by_a_trailing_slash_is_logged_as_a_warning(fake, caplog):
    # After a path, a trailing slash makes another URL (RFC 3986 §6.2.3 equates only an
    # empty path with "/"): refused, with a hint for the configuration.
    verifier = Verifier(issuer=ISSUER, audience=API + "/v1/")
    caplog.set_level(logging.WARNING, logger="bearerguard")
    with pytest.raises(InvalidAudienceError):
        verifier.verify(fake.token(aud=API + "/v1"))
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert f"configure audience='{API}/v1'" in record.getMessage()


def test_an_attacker_s_issuer_is_no_configuration_hint(fake, caplog):
    verifier = Verifier(issuer=ISSUER, audience=API)
    caplog.set_level(logging.WARNING, logger="bearerguard")
    with pytest.raises(InvalidIssuerError) as refused:
        verifier.verify(fake.token(iss="https://evil.example.com/"))
    assert refused.value.hint is None
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_flood_of_near_misses_costs_one_warning_a_minute(fake, caplog):
    clock = Clock()
    verifier = Verifier(issuer=ISSUER + "tenant", audience=API, monotonic=clock)
    caplog.set_level(logging.WARNING, logger="bearerguard")
    for n in range(1000):
        scheme = "http" if n % 2 else "https"  # two kinds of near miss, one kind of hint
        with pytest.raises(InvalidIssuerError):
            verifier.verify(fake.token(iss=f"{scheme}://tenant.auth0.com/tenant/"))
        clock.now += 0.01  # ten seconds in all
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
