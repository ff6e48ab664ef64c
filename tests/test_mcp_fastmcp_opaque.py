"""fastmcp servers with opaque access tokens (RFC 7662 introspection) and encrypted ones (JWE).

The servers of the other fastmcp tests (fastmcp's streamable-HTTP app under uvicorn on
127.0.0.1, with ``auth=BearerguardProvider`` or behind ``protect()``), their verifiers
configured for a provider that issues opaque tokens or encrypts them to the API; calls
that pass go through fastmcp's own ``Client``. Unlike fastmcp's own
``IntrospectionTokenVerifier``, an endpoint that cannot answer is a 503 with
``Retry-After``, not a 401 that sends the client to authorize again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastmcp.server.auth import TokenVerificationError

import tests.test_mcp_fastmcp as fast
from bearerguard import Verifier
from bearerguard.asgi import ASGIApp
from bearerguard.mcp.fastmcp import BearerguardProvider
from bearerguard.testing import FakeIssuer
from tests.mcp_support import api_key, introspection, other_key, refused_url

ISSUER = "https://tenant.auth0.com/"
RESOURCE = "https://mcp.example.com/mcp"


@contextlib.contextmanager
def serving(
    app_for: Callable[[fast.Served], ASGIApp], **verifier_settings: Any
) -> Iterator[tuple[fast.Served, FakeIssuer]]:
    """The fastmcp server ``app_for`` builds, its verifier's resource the served URL, and a
    FakeIssuer of tokens for it."""
    with (
        fast.serving(app_for, **verifier_settings) as served,
        FakeIssuer(ISSUER, audience=served.url) as issuer,
    ):
        yield served, issuer


# The provider: verify_token


def test_verify_token_raises_fastmcps_error_when_the_endpoint_cannot_answer() -> None:
    with (
        refused_url("/oauth/introspect") as down,
        FakeIssuer(ISSUER, audience=RESOURCE) as issuer,
    ):
        verifier = Verifier(issuer=ISSUER, resource=RESOURCE, introspection=introspection(url=down))
        provider = BearerguardProvider(verifier)

        with pytest.raises(TokenVerificationError, match="introspection endpoint"):
            asyncio.run(provider.verify_token(issuer.opaque_token()))


# The provider under fastmcp


def test_a_tool_sees_the_introspected_token() -> None:
    with serving(fast.with_provider(), introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token(sub="auth0|alice", scopes="mcp:tools", client_id="agent")
        (answer,) = served.call_tools(raw, "whoami")

    assert answer == {
        "subject": "auth0|alice",
        "client_id": "agent",
        "scopes": ["mcp:tools"],
        "iss": ISSUER,
    }
    (access,) = served.seen
    assert access is not None
    assert access.token == raw
    assert access.resource == served.url
    assert access.expires_at == access.claims["exp"]


def test_required_scopes_missing_from_an_opaque_token_are_403() -> None:
    provider = fast.with_provider(required_scopes=["mcp:tools"])
    with serving(provider, introspection=introspection()) as (served, issuer):
        answer = served.post_tool_call("whoami", f"Bearer {issuer.opaque_token(scopes='openid')}")

    assert answer.status_code == 403
    assert 'scope="mcp:tools"' in answer.headers["WWW-Authenticate"]
    assert served.seen == []


def test_a_revoked_token_is_401_once_the_endpoint_says_so() -> None:
    with serving(fast.with_provider(), introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token()
        served.call_tools(raw, "whoami")
        issuer.revoke(raw)
        after = served.post_tool_call("whoami", f"Bearer {raw}")

    assert len(served.seen) == 1
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]


def test_an_introspection_outage_is_503_with_retry_after() -> None:
    with (
        refused_url("/oauth/introspect") as down,
        serving(fast.with_provider(), introspection=introspection(url=down)) as (served, issuer),
    ):
        answer = served.post_tool_call("whoami", f"Bearer {issuer.opaque_token()}")

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"] == "temporarily_unavailable"
    assert served.seen == []


def test_an_encrypted_token_is_answered_and_one_for_another_key_is_401() -> None:
    with serving(fast.with_provider(), decryption_keys=api_key()) as (served, issuer):
        raw = issuer.encrypted_token(api_key(), sub="auth0|alice", client_id="agent")
        (answer,) = served.call_tools(raw, "whoami")
        refused = served.post_tool_call("whoami", f"Bearer {issuer.encrypted_token(other_key())}")

    assert (answer["subject"], answer["client_id"]) == ("auth0|alice", "agent")
    assert refused.status_code == 401
    assert [access.token for access in served.seen if access is not None] == [raw]


# fastmcp behind protect()


def test_through_protect_an_opaque_token_reaches_the_tool_and_a_scoped_tool_steps_up() -> None:
    with serving(fast.with_protect, introspection=introspection()) as (served, issuer):
        raw = issuer.opaque_token(sub="auth0|alice", scopes="mcp:tools")
        (answer,) = served.call_tools(raw, "whoami")
        refused = served.post_tool_call("list_contacts", f"Bearer {raw}")

    assert answer["subject"] == "auth0|alice"
    assert refused.status_code == 403
    assert 'scope="mcp:tools read:contacts"' in refused.headers["WWW-Authenticate"]


def test_through_protect_an_introspection_outage_is_503_with_retry_after() -> None:
    with (
        refused_url("/oauth/introspect") as down,
        serving(fast.with_protect, introspection=introspection(url=down)) as (served, issuer),
    ):
        answer = served.post_tool_call("whoami", f"Bearer {issuer.opaque_token()}")

    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
