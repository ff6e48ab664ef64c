"""What an OpenAPI document says about a protected operation, framework-neutral.

Two pieces, both pure:

* :func:`security_alternatives`: OpenAPI's ``security`` is a list of
  alternatives (any one will do), each a map of schemes whose scopes are all
  needed. Requirements that need every scope merge into each alternative; one
  that needs any of its scopes multiplies the alternatives; optional
  authentication adds the anonymous ``{}``.
* :func:`error_responses`: the ``400``/``401``/``403``/``503`` answers a
  protected operation can give, with the RFC 6750 JSON body's schema and the
  ``WWW-Authenticate`` (and ``Retry-After``) headers. The examples are made by
  the error classes the adapters raise, so the document cannot drift from them.

Example::

    security_alternatives([Requirement(("read:contacts",)), Requirement(("a", "b"), any_of=True)])
    # [('read:contacts', 'a'), ('read:contacts', 'b')]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import (
    BearerError,
    InsufficientScopeError,
    InvalidRequestError,
    InvalidTokenError,
    KeySetUnavailableError,
    MissingTokenError,
)

__all__ = [
    "ERROR_SCHEMA",
    "ERROR_SCHEMA_NAME",
    "Requirement",
    "error_responses",
    "security_alternatives",
]

#: the name of the error body's schema under ``components/schemas``
ERROR_SCHEMA_NAME = "BearerError"
#: the RFC 6750 §3 / RFC 6749 §5.2 error body every adapter answers with
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": "Why the request was refused (RFC 6750 §3.1); the same words are in the "
    "WWW-Authenticate challenge.",
    "properties": {
        "error": {
            "type": "string",
            "description": "invalid_request (400), invalid_token (401), insufficient_scope "
            "(403) or temporarily_unavailable (503); absent for a request without credentials.",
        },
        "error_description": {"type": "string", "description": "A human-readable reason."},
    },
}
# More alternatives than this would not be read by anyone: several any-of lists on one
# operation are documented by their first scopes only (the checks are unchanged).
_MAX_ALTERNATIVES = 64


@dataclass(frozen=True, slots=True)
class Requirement:
    """One dependency's scopes: all of them (default) or any one; ``optional``: a request
    without credentials passes it."""

    scopes: tuple[str, ...] = ()
    any_of: bool = False
    optional: bool = False


def security_alternatives(requirements: Iterable[Requirement]) -> list[tuple[str, ...]]:
    """The scope sets of which a token needs one (each set: all of its scopes).

    An empty tuple in the result stands for "a valid token, whatever its scopes".
    The anonymous alternative (no token at all) is the caller's to add, when
    :func:`anonymous_allowed` says so.
    """
    alternatives: list[tuple[str, ...]] = [()]
    for requirement in requirements:
        choices: list[tuple[str, ...]]
        if requirement.any_of and requirement.scopes:
            choices = [(scope,) for scope in requirement.scopes]
        else:
            choices = [requirement.scopes]
        product = [_merged(have, more) for have in alternatives for more in choices]
        alternatives = list(dict.fromkeys(product))[:_MAX_ALTERNATIVES]
    return alternatives


def anonymous_allowed(requirements: Sequence[Requirement]) -> bool:
    """Whether a request without credentials passes: every requirement is optional."""
    return bool(requirements) and all(requirement.optional for requirement in requirements)


def _merged(have: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*have, *more)))


def error_responses(
    alternatives: Sequence[tuple[str, ...]], *, realm: str, schema_ref: str
) -> dict[str, dict[str, Any]]:
    """The refusals of a protected operation, as OpenAPI ``responses`` entries.

    ``alternatives`` (from :func:`security_alternatives`) shapes the 403's
    description and example; ``schema_ref`` points at :data:`ERROR_SCHEMA`.
    """
    needed = [scopes for scopes in alternatives if scopes]
    # The challenge names every scope of the requirement, each alternative's included:
    # what a client asks for to be let in at the next attempt.
    example_scopes = tuple(dict.fromkeys(scope for scopes in needed for scope in scopes))
    if not needed:
        forbidden = "The token lacks a scope the operation checks for."
    elif len(needed) == 1:
        forbidden = "The token lacks a scope: it needs " + " and ".join(needed[0]) + "."
    else:
        forbidden = (
            "The token lacks a scope: it needs "
            + " or ".join(
                "(" + " and ".join(scopes) + ")" if len(scopes) > 1 else scopes[0]
                for scopes in needed
            )
            + "."
        )
    refusals: list[tuple[BearerError, str]] = [
        (
            InvalidRequestError("The Authorization header is malformed", realm=realm),
            "The request is malformed: a repeated or malformed Authorization header, or a token "
            "also sent in the query string.",
        ),
        (
            InvalidTokenError("The access token expired", realm=realm),
            "No access token, or one that is invalid: expired, not yet valid, badly signed, "
            "or issued by another issuer or for another audience. A request without a token "
            "gets a challenge without error (RFC 6750 §3.1) naming the scopes the operation "
            "needs.",
        ),
        (
            InsufficientScopeError(example_scopes, any_of=len(needed) > 1, realm=realm),
            forbidden,
        ),
        (
            KeySetUnavailableError(realm=realm),
            "The provider's signing keys cannot be fetched right now and none are cached: "
            "retry after Retry-After seconds. The token was not judged.",
        ),
    ]
    responses = {
        str(error.status_code): _response(error, text, schema_ref) for error, text in refusals
    }
    responses["401"]["content"]["application/json"]["examples"] = {
        "invalid token": {"value": refusals[1][0].to_json()},
        "no token": {"value": MissingTokenError(realm=realm).to_json()},
    }
    del responses["401"]["content"]["application/json"]["example"]
    return responses


def _response(error: BearerError, description: str, schema_ref: str) -> dict[str, Any]:
    headers: dict[str, Any] = {
        "WWW-Authenticate": {
            "description": "The Bearer challenge (RFC 6750 §3): realm, error, "
            "error_description" + (", scope" if error.status_code in (401, 403) else "") + ".",
            "schema": {"type": "string", "example": error.www_authenticate},
        }
    }
    if isinstance(error, KeySetUnavailableError):
        headers["Retry-After"] = {
            "description": "Seconds to wait before trying again (RFC 9110 §10.2.3).",
            "schema": {"type": "integer", "minimum": 1, "example": error.retry_after},
        }
    return {
        "description": description,
        "headers": headers,
        "content": {
            "application/json": {"schema": {"$ref": schema_ref}, "example": error.to_json()}
        },
    }
