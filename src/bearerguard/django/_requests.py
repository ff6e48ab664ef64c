"""What bearerguard knows about one Django request, and how a refusal is answered.

The middleware authenticates each request once and records the outcome; the
decorators and the DRF classes read that record, or authenticate the request
themselves when the middleware is not installed. Views see two attributes:
``request.access_token`` (the verified :class:`~bearerguard.AccessToken`, or
``None``) and ``request.bearer_error`` (the :class:`~bearerguard.BearerError`
that refuses the credentials sent, or ``None``). The token is never truthy
unless it is valid, so ``if request.access_token:`` is always a safe test.

A request that uses DPoP (RFC 9449) is verified whole, with its proof, against
``request.build_absolute_uri()``: Django's own URL for it, which honours
``FORCE_SCRIPT_NAME``, ``USE_X_FORWARDED_HOST``, ``USE_X_FORWARDED_PORT`` and
``SECURE_PROXY_SSL_HEADER`` (and checks the host against ``ALLOWED_HOSTS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse  # type: ignore[import-untyped]

from bearerguard._errors import BearerError, InsufficientScopeError
from bearerguard._request import HttpRequest, wants_request, wsgi_request
from bearerguard._token import AccessToken, RequiredScopes
from bearerguard._verifier import Verifier

from .apps import get_verifier

__all__ = [
    "Outcome",
    "aauthenticate",
    "aoutcome",
    "authenticate",
    "error_response",
    "outcome",
    "with_nonce",
]

_RECORD = "_bearerguard_outcome"
_ANY_TOKEN = RequiredScopes(())


@dataclass(frozen=True, slots=True)
class Outcome:
    """The verified token, or the error that refuses the credentials sent; neither: none sent."""

    token: AccessToken | None
    error: BearerError | None
    #: the verifier that judged the request: its refusal of a request without credentials
    verifier: Verifier
    #: the ``DPoP-Nonce`` the answer carries (a DPoP request, with server nonces on)
    nonce: str | None = None

    def refusal(
        self, required: RequiredScopes = _ANY_TOKEN, *, optional: bool = False
    ) -> BearerError | None:
        """Why a view with these needs must refuse the request, or ``None`` to serve it."""
        if self.error is not None:
            return self.error
        if self.token is None:
            return None if optional else self.verifier.missing_token(required.names)
        try:
            required.enforce(self.token)
        except InsufficientScopeError as exc:
            return exc
        return None


def authenticate(request: Any) -> Outcome:
    """Verify the request's bearer credentials (blocking) and record the outcome on it."""
    verifier = get_verifier()
    header, query = _credentials(request)
    try:
        if _wants_request(verifier, header, request):
            token = verifier.authenticate_request(_whole(request, verifier))
        else:
            token = verifier.authenticate(header, query=query)
    except BearerError as exc:
        return _record(request, Outcome(None, exc, verifier, _nonce_of(exc)))
    return _record(request, Outcome(token, None, verifier, verifier.dpop_nonce_for(token)))


async def aauthenticate(request: Any) -> Outcome:
    """Verify the request's bearer credentials without blocking the event loop; record it."""
    verifier = get_verifier()
    header, query = _credentials(request)
    try:
        if _wants_request(verifier, header, request):
            token = await verifier.aauthenticate_request(_whole(request, verifier))
        else:
            token = await verifier.aauthenticate(header, query=query)
    except BearerError as exc:
        return _record(request, Outcome(None, exc, verifier, _nonce_of(exc)))
    return _record(request, Outcome(token, None, verifier, verifier.dpop_nonce_for(token)))


def recorded(request: Any) -> Outcome | None:
    """The outcome recorded on the request (by the middleware), if any."""
    found = getattr(request, _RECORD, None)
    return found if isinstance(found, Outcome) else None


def outcome(request: Any) -> Outcome:
    """The recorded outcome, or authenticate now (blocking) when nothing recorded one."""
    return recorded(request) or authenticate(request)


async def aoutcome(request: Any) -> Outcome:
    """The recorded outcome, or authenticate now without blocking the event loop."""
    return recorded(request) or await aauthenticate(request)


def _nonce_of(error: BearerError) -> str | None:
    """The fresh nonce a refusal hands the client (``use_dpop_nonce``), if any."""
    return error.headers.get("DPoP-Nonce")


def with_nonce(request: Any, response: Any) -> Any:
    """``response``, with the ``DPoP-Nonce`` of the request's recorded outcome (if any)."""
    found = recorded(request)
    if found is not None and found.nonce is not None and response is not None:
        response["DPoP-Nonce"] = found.nonce
    return response


def error_response(error: BearerError) -> HttpResponse:
    """The RFC 6750 answer: the error's status, its headers and its JSON body."""
    response = HttpResponse(
        error.json_body(), status=error.status_code, content_type="application/json"
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def _credentials(request: Any) -> tuple[str | None, str]:
    meta = request.META
    # The raw query string lets the verifier refuse a token sent as ?access_token= (RFC 6750 §2.3).
    return meta.get("HTTP_AUTHORIZATION"), meta.get("QUERY_STRING", "")


def _wants_request(verifier: Verifier, header: str | None, request: Any) -> bool:
    """Whether the verifier judges the whole request: DPoP, client certificates read, or
    issuers resolved from the request."""
    config = verifier.config
    return wants_request(
        config.dpop,
        header,
        "HTTP_DPOP" in request.META,
        whole=config.whole_requests,
    )


def _whole(request: Any, verifier: Verifier) -> HttpRequest:
    """The request as DPoP and certificate binding see it: method, Django's absolute URL,
    the fields, and the client certificate where the verifier reads it (under ASGI, the
    scope's tls extension for "tls")."""
    return wsgi_request(
        request.META,
        verifier.config.certificate_source,
        method=request.method,
        url=request.build_absolute_uri(),
        asgi_scope=getattr(request, "scope", None),
    )


def _record(request: Any, found: Outcome) -> Outcome:
    setattr(request, _RECORD, found)
    request.access_token = found.token
    request.bearer_error = found.error
    return found
