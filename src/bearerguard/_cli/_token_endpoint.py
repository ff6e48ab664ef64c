"""The token request (RFC 6749 §3.2): the form posted, the client's authentication,
the DPoP proof and its nonce retry (RFC 9449 §5, §8), and the answer checked.

Example::

    response = request_token(session, {"grant_type": "refresh_token", "refresh_token": rt,
                                       "client_id": "spa-client", "scope": None})
    response["access_token"]   # TokenError when refused, unusable, or not bound as asked
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

import httpx

from ._dpop_key import new_proof
from ._output import safe
from ._provider_answers import checked_token_response, describe_failure, json_object
from ._token_error import TokenError
from ._token_session import Fields, Session, form_fields

__all__ = ["request_token"]


def request_token(
    session: Session, form: Mapping[str, str | Sequence[str] | None]
) -> dict[str, Any]:
    """POST ``form`` (``None`` values left out) to the token endpoint."""
    fields = form_fields(form)
    headers = {}
    if session.endpoints.client_auth == "client_secret_basic" and "client_secret" in fields:
        headers["Authorization"] = _basic(str(fields["client_id"]), str(fields["client_secret"]))
        del fields["client_secret"]  # RFC 6749 §2.3.1: one method per request
    response = _post_token(session, fields, headers)
    body = json_object(response)
    if response.status_code != 200 or body is None:
        raise TokenError(describe_failure(response, "the token request", body))
    checked = checked_token_response(body)
    if session.dpop is not None:
        _check_bound(checked)
    return checked


def _post_token(session: Session, fields: Fields, headers: dict[str, str]) -> httpx.Response:
    """POST to the token endpoint, with a fresh DPoP proof when the client has a key.

    A provider that wants a nonce in the proof answers 400 ``use_dpop_nonce`` with
    one in ``DPoP-Nonce`` (RFC 9449 §8): the request is sent once more, with a new
    proof carrying it.
    """
    url, key = session.endpoints.token, session.dpop
    if key is None:
        return session.http.post(url, data=fields, headers=headers)
    headers = {**headers, "DPoP": new_proof(key, method="POST", url=url)}
    response = session.http.post(url, data=fields, headers=headers)
    nonce = response.headers.get("dpop-nonce")
    if response.status_code == 400 and nonce and _error_code(response) == "use_dpop_nonce":
        headers["DPoP"] = new_proof(key, method="POST", url=url, nonce=nonce)
        response = session.http.post(url, data=fields, headers=headers)
    return response


def _error_code(response: httpx.Response) -> str | None:
    body = json_object(response)
    code = None if body is None else body.get("error")
    return code if isinstance(code, str) else None


def _check_bound(body: Mapping[str, Any]) -> None:
    """A DPoP client's token must be a DPoP token (RFC 9449 §5): else the provider ignored
    the proof and issued a bearer token, which the API would take from anyone."""
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "dpop":
        shown = safe(str(token_type)) if token_type is not None else "missing"
        raise TokenError(
            f"the provider did not bind the token to the DPoP key: its token_type is "
            f"{shown}, not DPoP (RFC 9449 §5). Does it support DPoP for this client? (its "
            "metadata lists dpop_signing_alg_values_supported when it does.)"
        )


def _basic(client_id: str, secret: str) -> str:
    """HTTP Basic client credentials: each part form-urlencoded first (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")
