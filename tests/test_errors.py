"""Errors carry the protocol: status, RFC 6750 error code, challenge, body (RFC 6750 §3).

The exact challenge strings are the design's table (DESIGN.md "Errors") and
``hostile-tokens.md`` §3; T11/T12 say nothing the caller sends may break or leak
through the ``WWW-Authenticate`` header.
"""

from __future__ import annotations

import copy
import json
import pickle

import pytest

import bearerguard
from bearerguard import (
    BearerError,
    ConfigurationError,
    EncryptedTokenError,
    ExpiredTokenError,
    ImmatureTokenError,
    InsufficientScopeError,
    InvalidAudienceError,
    InvalidClaimsError,
    InvalidDPoPProofError,
    InvalidIssuerError,
    InvalidRequestError,
    InvalidSignatureError,
    InvalidTokenError,
    KeySetUnavailableError,
    MalformedTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UnknownKeyError,
    UseDPoPNonceError,
)

from .support import challenge_params

INVALID_TOKEN_FAMILY = [
    (InvalidTokenError, "Invalid token"),
    (MalformedTokenError, "Invalid token"),
    (EncryptedTokenError, "The access token is encrypted (JWE); this API accepts signed JWTs"),
    (UnknownKeyError, "Invalid token"),
    (InvalidSignatureError, "Invalid token"),
    (InvalidIssuerError, "The access token was issued by an untrusted issuer"),
    (InvalidAudienceError, "The access token is not intended for this API"),
    (ExpiredTokenError, "The access token expired"),
    (ImmatureTokenError, "The access token is not valid yet"),
    (InvalidClaimsError, "Invalid token"),
    (
        SenderConstrainedTokenError,
        "The access token is sender-constrained (bound to a key) and cannot be used as a "
        "bearer token",
    ),
]
ALL_ERRORS: list[type[BearerError]] = [
    MissingTokenError,
    InvalidRequestError,
    *(cls for cls, _ in INVALID_TOKEN_FAMILY),
    InsufficientScopeError,
    KeySetUnavailableError,
]


params = challenge_params  # the auth-params of a well-formed challenge (tests.support)


# --- the design's table ----------------------------------------------------------------


def test_missing_token_is_401_with_a_bare_challenge():
    exc = MissingTokenError()
    assert exc.status_code == 401
    assert exc.error is None
    assert exc.www_authenticate == 'Bearer realm="api"'
    assert exc.headers == {"WWW-Authenticate": 'Bearer realm="api"'}
    assert exc.description == "Authentication required"
    assert exc.to_json() == {
        "error": "unauthorized",
        "error_description": "Authentication required",
    }


def test_invalid_request_is_400_with_a_malformed_header_challenge():
    exc = InvalidRequestError()
    challenge = (
        'Bearer realm="api", error="invalid_request", '
        'error_description="Malformed Authorization header"'
    )
    assert exc.status_code == 400
    assert exc.error == "invalid_request"
    assert exc.www_authenticate == challenge
    assert exc.headers == {"WWW-Authenticate": challenge}
    assert exc.to_json() == {
        "error": "invalid_request",
        "error_description": "Malformed Authorization header",
    }


@pytest.mark.parametrize(("cls", "description"), INVALID_TOKEN_FAMILY)
def test_the_invalid_token_family_is_401_invalid_token_with_its_fixed_description(cls, description):
    exc = cls()
    challenge = f'Bearer realm="api", error="invalid_token", error_description="{description}"'
    assert exc.status_code == 401
    assert exc.error == "invalid_token"
    assert exc.description == description
    assert exc.www_authenticate == challenge
    assert exc.headers == {"WWW-Authenticate": challenge}
    assert exc.to_json() == {"error": "invalid_token", "error_description": description}


def test_expired_token_says_the_access_token_expired():
    assert ExpiredTokenError().www_authenticate == (
        'Bearer realm="api", error="invalid_token", error_description="The access token expired"'
    )


@pytest.mark.parametrize(
    "cls", [MalformedTokenError, UnknownKeyError, InvalidSignatureError, InvalidClaimsError]
)
def test_t10_format_key_and_signature_failures_share_one_generic_description(cls):
    assert cls().description == "Invalid token"
    assert cls().www_authenticate == InvalidTokenError().www_authenticate


def test_insufficient_scope_is_403_with_the_required_scopes_appended():
    exc = InsufficientScopeError(["read:contacts", "write:contacts"])
    challenge = (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="read:contacts write:contacts"'
    )
    assert exc.status_code == 403
    assert exc.error == "insufficient_scope"
    assert exc.required_scopes == ("read:contacts", "write:contacts")
    assert exc.www_authenticate == challenge
    assert exc.headers == {"WWW-Authenticate": challenge}
    assert exc.to_json() == {
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
    }


def test_missing_token_names_the_scopes_the_route_needs():
    exc = MissingTokenError(required_scopes=["read:contacts", "write:contacts"])

    assert exc.status_code == 401
    assert exc.required_scopes == ("read:contacts", "write:contacts")
    assert exc.www_authenticate == 'Bearer realm="api", scope="read:contacts write:contacts"'
    assert exc.to_json() == {
        "error": "unauthorized",
        "error_description": "Authentication required",
    }


def test_missing_token_matches_its_documented_example():
    assert MissingTokenError(required_scopes=["read:contacts"]).www_authenticate == (
        'Bearer realm="api", scope="read:contacts"'
    )


def test_missing_token_takes_a_single_string_as_one_scope():
    assert MissingTokenError(required_scopes="read:contacts").required_scopes == ("read:contacts",)


def test_missing_token_names_each_scope_once_and_drops_what_is_not_a_scope_token():
    exc = MissingTokenError(required_scopes=["a", 'b"c', "a", "", "d e", "f"])

    assert params(exc.www_authenticate)["scope"] == "a f"


@pytest.mark.parametrize(
    ("scopes", "named"),
    [
        (["offline_access", "read:contacts"], "read:contacts"),
        (["read:contacts", "offline_access", "write:contacts"], "read:contacts write:contacts"),
        (["offline_access"], None),
    ],
)
@pytest.mark.parametrize("cls", [MissingTokenError, InsufficientScopeError])
def test_offline_access_is_never_named_in_a_challenge(cls, scopes, named):
    # MCP authorization, "Refresh Tokens": a refresh token is no requirement of a resource.
    exc = MissingTokenError(required_scopes=scopes) if cls is MissingTokenError else cls(scopes)

    assert params(exc.www_authenticate).get("scope") == named


def test_without_credentials_every_offered_challenge_names_the_scopes() -> None:
    error = MissingTokenError(required_scopes=["read:contacts"]).offering(
        ("Bearer", "DPoP"), ("ES256",)
    )
    url = "https://api.example.com/.well-known/oauth-protected-resource"
    error.with_resource_metadata(url)

    assert error.www_authenticate == (
        f'Bearer realm="api", scope="read:contacts", resource_metadata="{url}", '
        f'DPoP realm="api", algs="ES256", scope="read:contacts", resource_metadata="{url}"'
    )


def test_insufficient_scope_matches_its_documented_example():
    assert InsufficientScopeError(["read:contacts"]).www_authenticate == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="read:contacts"'
    )


def test_insufficient_scope_takes_a_single_string_as_one_scope():
    exc = InsufficientScopeError("read:contacts")
    assert exc.required_scopes == ("read:contacts",)
    assert params(exc.www_authenticate)["scope"] == "read:contacts"


def test_insufficient_scope_without_scopes_has_no_scope_parameter():
    exc = InsufficientScopeError()
    assert exc.required_scopes == ()
    assert exc.www_authenticate == (
        'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope"'
    )


def test_insufficient_scope_drops_values_that_are_not_scope_tokens():
    exc = InsufficientScopeError(
        [
            "read:contacts",
            'evil"scope',
            "back\\slash",
            "two words",
            "",
            "caf\u00e9",
            "tab\there",
            "line\r\nbreak",
            "write:contacts",
        ]
    )
    assert exc.required_scopes == ("read:contacts", "write:contacts")
    assert params(exc.www_authenticate)["scope"] == "read:contacts write:contacts"


def test_insufficient_scope_with_only_invalid_values_has_no_scope_parameter():
    exc = InsufficientScopeError(['a"b', "c d", ""])
    assert "scope" not in params(exc.www_authenticate)
    assert exc.www_authenticate == InsufficientScopeError().www_authenticate


def test_insufficient_scope_remembers_any_of():
    assert InsufficientScopeError(["a", "b"], any_of=True).any_of is True
    assert InsufficientScopeError(["a", "b"]).any_of is False


def test_key_set_unavailable_is_503_with_retry_after():
    exc = KeySetUnavailableError()
    challenge = (
        'Bearer realm="api", error="temporarily_unavailable", '
        'error_description="The token cannot be checked right now; try again later"'
    )
    assert exc.status_code == 503
    assert exc.error == "temporarily_unavailable"
    assert exc.www_authenticate == challenge
    assert exc.headers == {"WWW-Authenticate": challenge, "Retry-After": "5"}
    assert exc.to_json() == {
        "error": "temporarily_unavailable",
        "error_description": "The token cannot be checked right now; try again later",
    }


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        (0, "1"),
        (0.0, "1"),
        (0.001, "1"),
        (0.5, "1"),
        (1, "1"),
        (1.0, "1"),
        (1.2, "2"),
        (2.999, "3"),
        (30, "30"),
        (29.5, "30"),
        (-5, "1"),
    ],
)
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(retry_after, header):
    exc = KeySetUnavailableError(retry_after=retry_after)
    assert exc.retry_after == int(header)
    assert exc.headers["Retry-After"] == header


@pytest.mark.parametrize("cls", [cls for cls in ALL_ERRORS if cls is not KeySetUnavailableError])
def test_only_the_503_carries_retry_after(cls):
    assert set(cls().headers) == {"WWW-Authenticate"}


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_default_description_is_legal_in_a_challenge_unchanged(cls):
    exc = cls()
    found = params(exc.www_authenticate)
    assert found["realm"] == "api"
    if exc.error is None:
        assert set(found) == {"realm"}
    else:
        assert found["error"] == exc.error
        assert found["error_description"] == exc.description


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_the_json_body_is_error_and_description(cls):
    exc = cls()
    assert exc.to_json() == {
        "error": exc.error or "unauthorized",
        "error_description": exc.description,
    }


# --- sanitizing (T11) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        'say "hi"',
        "back\\slash",
        'a"\r\nSet-Cookie: x=1',
        "line\nbreak",
        "carriage\rreturn",
        "tab\there",
        "caf\u00e9 \u2713",
        "nul\x00byte",
        "del\x7f",
        "\u2028separator",
        '"\\',
    ],
    ids=repr,
)
@pytest.mark.parametrize("cls", [InvalidTokenError, InvalidRequestError, InsufficientScopeError])
def test_t11_descriptions_are_sanitized_to_one_legal_header_line(cls, description):
    exc = cls(description=description)
    challenge = exc.www_authenticate
    assert challenge is not None
    assert "\r" not in challenge
    assert "\n" not in challenge
    assert challenge.isascii()
    sanitized = params(challenge)["error_description"]
    assert len(sanitized) == len(description)  # one replacement per illegal character
    assert exc.description == description  # the body may carry it (JSON escapes it)


def test_t11_a_quote_cannot_close_the_description_and_inject_a_parameter():
    exc = InvalidTokenError('x", error="none", scope="admin')
    found = params(exc.www_authenticate)
    assert found == {
        "realm": "api",
        "error": "invalid_token",
        "error_description": "x', error='none', scope='admin",
    }


def test_t11_a_crlf_cannot_start_another_header():
    exc = InvalidTokenError("bad\r\nSet-Cookie: session=evil")
    assert exc.www_authenticate == (
        'Bearer realm="api", error="invalid_token", '
        "error_description=\"bad''Set-Cookie: session=evil\""
    )
    assert len(exc.headers) == 1


def test_t11_illegal_characters_become_apostrophes():
    exc = InvalidTokenError('a"b\\c\u00e9d')
    assert params(exc.www_authenticate)["error_description"] == "a'b'c'd"


def test_t11_a_realm_with_illegal_characters_is_sanitized_too():
    exc = InvalidTokenError().with_realm('my "realm"\r\n')
    assert params(exc.www_authenticate)["realm"] == "my 'realm'''"


# --- realm --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_with_realm_changes_the_challenge_and_returns_the_same_error(cls):
    exc = cls()
    assert exc.with_realm("photos") is exc
    assert exc.realm == "photos"
    assert params(exc.www_authenticate)["realm"] == "photos"
    assert exc.www_authenticate.startswith('Bearer realm="photos"')


def test_the_realm_can_be_given_at_construction():
    assert MissingTokenError(realm="photos").www_authenticate == 'Bearer realm="photos"'
    assert InsufficientScopeError(["read:contacts"], realm="photos").www_authenticate == (
        'Bearer realm="photos", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="read:contacts"'
    )
    assert KeySetUnavailableError(realm="photos", retry_after=2).headers["Retry-After"] == "2"


def test_with_realm_keeps_the_insufficient_scope_parameter():
    exc = InsufficientScopeError(["read:contacts"]).with_realm("photos")
    assert params(exc.www_authenticate) == {
        "realm": "photos",
        "error": "insufficient_scope",
        "error_description": "Insufficient scope",
        "scope": "read:contacts",
    }


# --- resource_metadata (RFC 9728 §5.1) -------------------------------------------------------

METADATA = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
DPOP_ERRORS: list[BearerError] = [InvalidDPoPProofError(), UseDPoPNonceError("n0nce")]


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_the_metadata_url_is_the_last_parameter_of_the_bearer_challenge(cls):
    exc = cls() if cls is not InsufficientScopeError else cls(["read:contacts"])
    assert exc.with_resource_metadata(METADATA) is exc
    parameters = params(exc.www_authenticate)
    assert list(parameters)[-1] == "resource_metadata"
    assert parameters["resource_metadata"] == METADATA
    assert parameters["realm"] == "api"
    assert b"resource_metadata" not in exc.json_body()  # the body stays RFC 6750's


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_offered_challenge_names_the_metadata_url(cls):
    exc = cls().offering(("Bearer", "DPoP"), ("ES256",)).with_resource_metadata(METADATA)
    bearer, dpop = exc.www_authenticate.split(", DPoP ")
    assert bearer.endswith(f'resource_metadata="{METADATA}"')
    assert dpop.startswith('realm="api", ')
    assert dpop.endswith(f'algs="ES256", resource_metadata="{METADATA}"')


@pytest.mark.parametrize("exc", DPOP_ERRORS, ids=lambda e: type(e).__name__)
def test_a_dpop_refusal_names_the_metadata_url_in_its_own_challenge(exc):
    exc.offering(("DPoP",), ("ES256",)).with_resource_metadata(METADATA)
    assert exc.www_authenticate == (
        f'DPoP realm="api", error="{exc.error}", error_description="{exc.description}", '
        f'algs="ES256", resource_metadata="{METADATA}"'
    )


def test_the_insufficient_scope_challenge_keeps_its_scope_before_the_metadata_url():
    exc = InsufficientScopeError(["read:contacts", "write:contacts"])
    assert exc.with_resource_metadata(METADATA).www_authenticate == (
        'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope", '
        f'scope="read:contacts write:contacts", resource_metadata="{METADATA}"'
    )


def test_none_takes_the_metadata_url_away_again():
    exc = MissingTokenError().with_resource_metadata(METADATA).with_resource_metadata(None)
    assert exc.www_authenticate == 'Bearer realm="api"'


# --- the tree ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_is_a_bearer_error_and_an_exception(cls):
    assert issubclass(cls, BearerError)
    assert issubclass(cls, Exception)
    assert not issubclass(cls, ConfigurationError)


@pytest.mark.parametrize("cls", [cls for cls, _ in INVALID_TOKEN_FAMILY])
def test_the_invalid_token_family_descends_from_invalid_token_error(cls):
    assert issubclass(cls, InvalidTokenError)
    assert cls().status_code == 401


@pytest.mark.parametrize(
    "cls", [MissingTokenError, InvalidRequestError, InsufficientScopeError, KeySetUnavailableError]
)
def test_non_token_errors_are_not_invalid_token_errors(cls):
    assert not issubclass(cls, InvalidTokenError)
    assert cls.__bases__ == (BearerError,)


def test_the_tree_has_exactly_the_documented_shape():
    assert set(BearerError.__subclasses__()) == {
        MissingTokenError,
        InvalidRequestError,
        InvalidTokenError,
        InsufficientScopeError,
        InvalidDPoPProofError,
        KeySetUnavailableError,
    }
    assert InvalidDPoPProofError.__subclasses__() == [UseDPoPNonceError]
    assert UseDPoPNonceError.__subclasses__() == []
    assert set(InvalidTokenError.__subclasses__()) == {
        MalformedTokenError,
        EncryptedTokenError,
        UnknownKeyError,
        InvalidSignatureError,
        InvalidIssuerError,
        InvalidAudienceError,
        ExpiredTokenError,
        ImmatureTokenError,
        InvalidClaimsError,
        SenderConstrainedTokenError,
    }
    for cls, _ in INVALID_TOKEN_FAMILY:
        if cls is not InvalidTokenError:
            assert cls.__subclasses__() == []


def test_configuration_error_is_a_value_error_and_not_a_bearer_error():
    assert issubclass(ConfigurationError, ValueError)
    assert not issubclass(ConfigurationError, BearerError)
    with pytest.raises(ValueError, match="what to do"):
        raise ConfigurationError("what to do")


def test_a_bearer_error_is_caught_by_its_family():
    with pytest.raises(InvalidTokenError):
        raise ExpiredTokenError
    with pytest.raises(BearerError):
        raise InsufficientScopeError(["read:contacts"])


def test_every_error_is_exported_from_the_package():
    for cls in [BearerError, ConfigurationError, *ALL_ERRORS]:
        assert getattr(bearerguard, cls.__name__) is cls
        assert cls.__name__ in bearerguard.__all__


# --- reason, description, repr -----------------------------------------------------------


def test_reason_is_separate_from_description():
    exc = InvalidSignatureError(reason="RS256 signature over 342 chars failed")
    assert exc.description == "Invalid token"
    assert exc.reason == "RS256 signature over 342 chars failed"
    assert "342" not in str(exc.www_authenticate)
    assert "342" not in str(exc.to_json())


def test_a_custom_description_does_not_change_the_reason():
    exc = InvalidClaimsError("The access token is not valid for this organization")
    assert exc.reason == InvalidClaimsError.default_reason
    assert exc.description == "The access token is not valid for this organization"


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_str_is_the_reason_for_logs(cls):
    exc = cls(reason="why, for the log")
    assert str(exc) == "why, for the log"
    assert exc.args == ("why, for the log",)
    assert str(cls()) == cls.default_reason


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_has_a_default_reason_distinct_from_its_description(cls):
    exc = cls()
    assert exc.reason
    assert exc.reason != exc.description


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_repr_names_the_class_and_status_but_not_the_description(cls):
    exc = cls(description="secret-description-xyz", reason="the reason")
    text = repr(exc)
    assert "secret-description-xyz" not in text
    assert text.startswith(f"{cls.__name__}(")
    assert f"status_code={cls.status_code}" in text
    assert "the reason" in text


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_an_empty_description_falls_back_to_the_default(cls):
    assert cls(description="").description == cls.default_description


@pytest.mark.parametrize(
    "clone",
    [copy.copy, lambda exc: pickle.loads(pickle.dumps(exc))],  # noqa: S301 - our own bytes
)
def test_errors_survive_copy_and_pickle_with_their_protocol(clone):
    original = InsufficientScopeError(
        ["read:contacts"], any_of=True, reason="for the log", realm="photos"
    )
    twin = clone(original)
    assert type(twin) is InsufficientScopeError
    assert twin.www_authenticate == original.www_authenticate
    assert twin.reason == "for the log"
    assert twin.any_of is True

    outage = clone(KeySetUnavailableError(retry_after=7.2, reason="down"))
    assert outage.headers["Retry-After"] == "8"
    assert outage.description == KeySetUnavailableError.default_description
    assert outage.reason == "down"

    signature = clone(InvalidSignatureError())
    assert signature.description == "Invalid token"
    assert signature.reason == InvalidSignatureError.default_reason


@pytest.mark.parametrize(
    "error",
    [
        MissingTokenError(),
        InvalidRequestError(),
        InvalidTokenError(),
        InsufficientScopeError(["read:contacts"]),
        KeySetUnavailableError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_json_body_is_to_json_as_compact_utf8_json(error):
    body = error.json_body()
    assert isinstance(body, bytes)
    assert json.loads(body) == error.to_json()
    assert b" " not in body.split(b'"error_description"')[0]  # compact separators


def test_json_body_of_a_missing_token_is_spelled_out():
    assert MissingTokenError().json_body() == (
        b'{"error":"unauthorized","error_description":"Authentication required"}'
    )


# --- DPoP (RFC 9449 §7.1): the DPoP scheme, offered beside Bearer ------------------------------


def test_an_invalid_proof_is_a_401_with_a_dpop_challenge() -> None:
    error = InvalidDPoPProofError(reason="htm is POST, the request GET").offering(
        ("DPoP",), ("ES256", "RS256")
    )

    assert error.status_code == 401
    assert error.headers == {
        "WWW-Authenticate": 'DPoP realm="api", error="invalid_dpop_proof", '
        'error_description="Invalid DPoP proof", algs="ES256 RS256"'
    }
    assert error.to_json() == {
        "error": "invalid_dpop_proof",
        "error_description": "Invalid DPoP proof",
    }
    assert "htm" not in error.json_body().decode()  # the reason is for logs only


def test_a_missing_nonce_answers_a_fresh_one() -> None:
    error = UseDPoPNonceError("n-123").offering(("DPoP",), ("ES256",))

    assert isinstance(error, InvalidDPoPProofError)
    assert error.headers["DPoP-Nonce"] == "n-123"
    assert error.headers["WWW-Authenticate"] == (
        'DPoP realm="api", error="use_dpop_nonce", '
        'error_description="Resource server requires nonce in DPoP proof", algs="ES256"'
    )


def test_without_credentials_every_accepted_scheme_is_offered() -> None:
    error = MissingTokenError().offering(("Bearer", "DPoP"), ("ES256", "EdDSA"))

    assert error.www_authenticate == 'Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"'


def test_the_error_goes_in_the_challenge_of_the_scheme_the_request_used() -> None:
    error = InsufficientScopeError(["read:contacts"]).offering(("Bearer", "DPoP"), ("ES256",))

    assert error.www_authenticate == (
        'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope", '
        'scope="read:contacts", DPoP realm="api", algs="ES256"'
    )


def test_when_only_dpop_is_offered_a_bearer_refusal_is_told_in_a_dpop_challenge() -> None:
    error = InvalidTokenError().offering(("DPoP",), ("ES256",))

    assert error.www_authenticate == (
        'DPoP realm="api", error="invalid_token", error_description="Invalid token", algs="ES256"'
    )
    assert "Bearer" not in (error.www_authenticate or "")


def test_the_usual_answer_is_unchanged_by_the_dpop_machinery() -> None:
    assert InvalidTokenError().www_authenticate == (
        'Bearer realm="api", error="invalid_token", error_description="Invalid token"'
    )
