"""MCP servers with opaque access tokens (RFC 7662 introspection) and encrypted ones (JWE).

The same servers as the other MCP tests (the SDK's streamable-HTTP app under uvicorn
on 127.0.0.1, behind ``protect()`` or with ``BearerTokenVerifier`` as the SDK's own
auth), their verifiers configured for a provider that issues opaque tokens
(``introspection=``) or encrypts its tokens to the API (``decryption_keys=``). A
FakeIssuer issues the tokens and answers the introspection requests in-process.

An introspected token reaches the tools as faithfully as a JWT: ``client_id``,
``scopes``, ``expires_at`` (``exp``), ``resource`` (``aud``), ``subject`` and every
member of the answer in ``claims``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from mcp.server.auth.provider import AccessToken as MCPAccessToken

import tests.test_mcp as sdk_auth
import tests.test_mcp_protect as guarded
from bearerguard import IntrospectionUnavailableError, Verifier
from bearerguard.asgi import ASGIApp
from bearerguard.mcp import BearerTokenVerifier
from bearerguard.testing import FakeIssuer
from tests.mcp_support import api_key, introspection, other_key, refused_url

ISSUER = "https://tenant.auth0.com/"
RESOURCE = "https://mcp.example.com/mcp"


def verify_token(verifier: Verifier, token: str) -> MCPAccessToken | None:
    return asyncio.run(BearerTokenVerifier(verifier).verify_token(token))


@contextlib.contextmanager
def protected(**verifier_settings: Any) -> Iterator[tuple[guarded.Served, FakeIssuer]]:
    """The contacts server behind ``protect()``, its verifier's resource the served URL,
    and a FakeIssuer of tokens for it."""
    with (
        guarded.serving(guarded.protected(**verifier_settings)) as served,
        FakeIssuer(ISSUER, audience=served.url) as issuer,
    ):
        yield served, issuer


@contextlib.contextmanager
def with_sdk_auth(**verifier_settings: Any) -> Iterator[tuple[sdk_auth.Served, FakeIssuer]]:
    """The SDK's server with ``BearerTokenVerifier`` as its own auth, and a FakeIssuer."""

    def build(url: str, served: sdk_auth.Served) -> ASGIApp:
        verifier = Verifier(issuer=ISSUER, resource=url, **verifier_settings)
        return sdk_auth.mcp_server(url, verifier, served)

    with (
        sdk_auth.serving(build) as served,
        FakeIssuer(ISSUER, audience=served.url) as issuer,
    ):
        yield served, issuer


# The mapping of an introspection answer to the SDK's AccessToken, field by field


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer(ISSUER, audience=RESOURCE) as fake:
        yield fake


@pytest.fixture
def verifier() -> Verifier:
    return Verifier(issuer=ISSUER, resource=RESOURCE, introspection=introspection())


def test_an_opaque_token_maps_as_a_jwt_does(issuer: FakeIssuer, verifier: Verifier) -> None:
    exp = int(time.time()) + 600
    raw = issuer.opaque_token(
        sub="auth0|alice", scopes="write:contacts read:contacts", client_id="agent", exp=exp
    )

    access = verify_token(verifier, raw)

    assert access is not None
    assert access.token == raw  # the opaque token itself
    assert access.client_id == "agent"  # the answer's client_id
    assert access.scopes == ["read:contacts", "write:contacts"]
    assert access.expires_at == exp
    assert access.resource == RESOURCE  # the answer's aud, spelled as configured
    assert access.subject == "auth0|alice"
    assert access.claims is not None
    assert access.claims["iss"] == ISSUER  # the SDK ties a session to client, issuer, subject
    assert access.claims["token_type"] == "Bearer"
    assert "active" not in access.claims  # said of every verified token: not a claim


def test_an_answer_without_iss_speaks_for_the_endpoints_issuer(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    access = verify_token(verifier, issuer.opaque_token(iss=None))

    assert access is not None
    assert access.claims is not None
    assert access.claims["iss"] == ISSUER


def test_a_client_credentials_answer_has_no_subject_and_its_client(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    access = verify_token(verifier, issuer.opaque_token(sub=None, azp=None, client_id="batch"))

    assert access is not None
    assert access.subject is None
    assert access.client_id == "batch"


def test_an_answer_that_names_no_client_has_an_empty_client_id(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    access = verify_token(verifier, issuer.opaque_token(client_id=None, azp=None))

    assert access is not None
    assert access.client_id == ""


def test_scopes_as_a_list_in_the_answer_are_read_too(
    issuer: FakeIssuer, verifier: Verifier
) -> None:
    access = verify_token(verifier, issuer.opaque_token(scope=None, scp=["b", "a"]))

    assert access is not None
    assert access.scopes == ["a", "b"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("revoked", "The introspection endpoint says the token is not active."),
        ("for another API", "The aud claim names none of the configured audiences."),
        ("unknown to the endpoint", "The introspection endpoint says the token is not active."),
    ],
)
def test_a_refused_opaque_token_is_none_and_its_reason_is_logged(
    issuer: FakeIssuer,
    verifier: Verifier,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    reason: str,
) -> None:
    if kind == "revoked":
        raw = issuer.opaque_token()
        issuer.revoke(raw)
    elif kind == "for another API":
        raw = issuer.opaque_token(aud="https://api.example.com")
    else:
        raw = "bgo_never-issued"

    with caplog.at_level("INFO", logger="bearerguard"):
        access = verify_token(verifier, raw)

    assert access is None
    assert [r.getMessage() for r in caplog.records if r.levelname == "INFO"] == [
        f"MCP server refused a bearer token (401 invalid_token): {reason}"
    ]


def test_an_introspection_outage_is_raised_not_passed_off_as_a_bad_token(
    issuer: FakeIssuer,
) -> None:
    with refused_url("/oauth/introspect") as down:
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE, introspection=introspection(url=down))

        with pytest.raises(IntrospectionUnavailableError):
            verify_token(verifier, issuer.opaque_token())


def test_an_encrypted_token_maps_as_the_signed_token_inside(issuer: FakeIssuer) -> None:
    verifier = Verifier(issuer=ISSUER, resource=RESOURCE, decryption_keys=api_key())
    raw = issuer.encrypted_token(api_key(), sub="auth0|alice", scopes="mcp:tools", client_id="a")

    access = verify_token(verifier, raw)

    assert access is not None
    assert access.token == raw  # the JWE as the client sent it, not the JWT inside
    assert (access.subject, access.client_id, access.scopes) == ("auth0|alice", "a", ["mcp:tools"])
    assert access.resource == RESOURCE
    assert access.claims is not None
    assert access.claims["iss"] == ISSUER


# protect(): bearerguard's middleware in front of the SDK's app


def test_through_protect_a_tool_sees_the_introspected_token() -> None:
    with protected(introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token(sub="auth0|alice", scopes="mcp:tools", client_id="agent")
        (answer,) = served.call_tools(guarded.BearerAuth(raw), "whoami")

    assert answer == {"subject": "auth0|alice", "scopes": ["mcp:tools"]}
    (access,) = served.seen
    assert access.token == raw
    assert access.client_id == "agent"
    assert access.resource == served.url
    assert access.claims is not None
    assert access.claims["iss"] == ISSUER
    assert access.expires_at == access.claims["exp"]


def test_through_protect_one_session_calls_every_tool_with_one_introspection() -> None:
    with protected(introspection=introspection(cache_ttl=60)) as (served, issuer):
        raw = issuer.opaque_token(scopes="mcp:tools read:contacts")
        whoami, contacts = served.call_tools(guarded.BearerAuth(raw), "whoami", "list_contacts")
        calls = issuer.introspection_calls

    assert whoami["scopes"] == ["mcp:tools", "read:contacts"]
    assert contacts == {"contacts": ["Ada Lovelace"]}
    assert calls == 1  # the session's every request answered from the cache


def test_through_protect_an_opaque_token_lacking_a_tools_scope_is_403_naming_them() -> None:
    with protected(introspection=introspection()) as (served, issuer):
        answer = served.post_tool_call("list_contacts", issuer.opaque_token(scopes="mcp:tools"))

    assert answer.status_code == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:tools read:contacts"' in challenge
    assert f'resource_metadata="{served.metadata_url}"' in challenge
    assert served.seen == []


def test_through_protect_an_opaque_token_lacking_the_endpoint_scope_is_403() -> None:
    with protected(introspection=introspection()) as (served, issuer):
        answer = served.post_tool_call("whoami", issuer.opaque_token(scopes="read:contacts"))

    assert answer.status_code == 403
    assert 'scope="mcp:tools"' in answer.headers["WWW-Authenticate"]


def test_through_protect_a_revoked_token_is_401_once_the_endpoint_says_so() -> None:
    with protected(introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token(scopes="mcp:tools")
        served.call_tools(guarded.BearerAuth(raw), "whoami")
        issuer.revoke(raw)
        after = served.post_tool_call("whoami", raw)

    assert len(served.seen) == 1
    assert after.status_code == 401
    challenge = after.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="{served.metadata_url}"' in challenge


def test_through_protect_a_revoked_token_is_401_after_the_cached_answer_runs_out() -> None:
    later = 0.0  # seconds the verifier's clock is ahead of the wall clock

    def clock() -> float:
        return time.time() + later

    with protected(introspection=introspection(cache_ttl=60), clock=clock) as (served, issuer):
        raw = issuer.opaque_token(scopes="mcp:tools")
        served.call_tools(guarded.BearerAuth(raw), "whoami")
        issuer.revoke(raw)
        served.call_tools(guarded.BearerAuth(raw), "whoami")  # the active answer, still held
        later = 61.0
        after = served.post_tool_call("whoami", raw)

    assert len(served.seen) == 2
    assert after.status_code == 401


def test_through_protect_an_introspection_outage_is_503_with_retry_after() -> None:
    with (
        refused_url("/oauth/introspect") as down,
        protected(introspection=introspection(url=down)) as (served, issuer),
    ):
        answer = served.post_tool_call("whoami", issuer.opaque_token(scopes="mcp:tools"))

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"] == "temporarily_unavailable"
    assert served.seen == []


def test_through_protect_a_dpop_bound_opaque_token_with_its_proofs_reaches_the_tool() -> None:
    with protected(introspection=introspection()) as (served, issuer):
        key = issuer.dpop_key()
        raw = issuer.opaque_token(sub="auth0|alice", scopes="mcp:tools", dpop_key=key)
        (answer,) = served.call_tools(guarded.DPoPAuth(issuer, raw, key), "whoami")
        as_bearer = served.post_tool_call("whoami", raw)

    assert answer["subject"] == "auth0|alice"
    assert served.seen[0].claims is not None
    assert served.seen[0].claims["cnf"] == {"jkt": key.jkt}
    assert as_bearer.status_code == 401  # a bound token is never a bearer token


def test_through_protect_an_encrypted_token_reaches_the_tool() -> None:
    with protected(decryption_keys=api_key()) as (served, issuer):
        raw = issuer.encrypted_token(api_key(), sub="auth0|alice", scopes="mcp:tools")
        (answer,) = served.call_tools(guarded.BearerAuth(raw), "whoami")

    assert answer == {"subject": "auth0|alice", "scopes": ["mcp:tools"]}
    assert [access.token for access in served.seen] == [raw]


def test_through_protect_a_token_encrypted_to_another_key_is_401() -> None:
    with protected(decryption_keys=api_key()) as (served, issuer):
        answer = served.post_tool_call("whoami", issuer.encrypted_token(other_key()))

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert served.seen == []


# BearerTokenVerifier: the SDK's own auth asking bearerguard


def test_with_the_sdks_auth_a_tool_sees_the_introspected_token() -> None:
    with with_sdk_auth(introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token(sub="auth0|alice", scopes="read:contacts", client_id="agent")
        answer = served.call_tool_with(raw)

    assert answer["token"] == raw
    assert answer["client_id"] == "agent"
    assert answer["scopes"] == ["read:contacts"]
    assert answer["resource"] == served.url  # what validate_token_resource=True compares
    assert answer["subject"] == "auth0|alice"
    assert answer["expires_at"] == answer["claims"]["exp"]
    assert answer["claims"]["iss"] == ISSUER


def test_with_the_sdks_auth_a_revoked_token_is_401() -> None:
    with with_sdk_auth(introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token()
        served.call_tool_with(raw)
        issuer.revoke(raw)
        after = served.post_tool_call(f"Bearer {raw}")

    assert len(served.seen) == 1
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]


def test_with_the_sdks_auth_an_introspection_outage_is_a_server_error_not_401() -> None:
    # The SDK's TokenVerifier can only answer a token or None (401); an outage is raised,
    # which the SDK's app answers with 500.
    with (
        refused_url("/oauth/introspect") as down,
        with_sdk_auth(introspection=introspection(url=down)) as (served, issuer),
    ):
        answer = served.post_tool_call(f"Bearer {issuer.opaque_token()}")

    assert answer.status_code == 500
    assert served.seen == []


def test_with_the_sdks_auth_an_encrypted_token_is_answered_and_another_keys_refused() -> None:
    with with_sdk_auth(decryption_keys=api_key()) as (served, issuer):
        raw = issuer.encrypted_token(api_key(), sub="auth0|alice")
        answer = served.call_tool_with(raw)
        refused = served.post_tool_call(f"Bearer {issuer.encrypted_token(other_key())}")

    assert answer["token"] == raw
    assert answer["subject"] == "auth0|alice"
    assert refused.status_code == 401
    assert len(served.seen) == 1


# The guide's server (docs/mcp.md, "Opaque and encrypted tokens"), run as written


def test_the_guides_opaque_token_server_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeIssuer(ISSUER)
    monkeypatch.setenv("INTROSPECTION_CLIENT_ID", fake.introspection_client_id)
    monkeypatch.setenv("INTROSPECTION_CLIENT_SECRET", fake.introspection_client_secret)

    def build(url: str, served: guarded.Served) -> ASGIApp:
        return sdk_auth.guide_app("Opaque and encrypted tokens", "server", monkeypatch, url)

    with guarded.serving(build) as served, FakeIssuer(ISSUER, audience=served.url) as issuer:
        raw = issuer.opaque_token(sub="auth0|alice", scopes="mcp:tools", client_id="agent")
        (answer,) = served.call_tools(guarded.BearerAuth(raw), "whoami")
        refused = served.post_tool_call("whoami", issuer.opaque_token(scopes="openid"))

    assert answer == {"user": "auth0|alice", "client": "agent"}
    assert refused.status_code == 403
    assert 'scope="mcp:tools"' in refused.headers["WWW-Authenticate"]
