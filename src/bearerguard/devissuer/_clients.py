"""Client authentication by secret at the token endpoint (RFC 6749 §2.3, §3.2.1).

Confidential clients send ``client_secret`` in the body (client_secret_post) or
HTTP Basic (client_secret_basic), never both; public clients send only their
``client_id`` (method ``none``) and prove possession with PKCE instead. A
confidential client with ``jwks`` may sign a ``client_assertion`` instead
(private_key_jwt), which :mod:`._client_auth` checks; one with ``jwks`` and no
secret authenticates that way only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Mapping
from urllib.parse import unquote_plus

from ._config import ClientConfig
from ._directory import REGISTERED_PREFIX, ClientDirectory
from ._errors import OAuthError

__all__ = ["BASIC_REALM", "authenticate_client", "basic_credentials", "described_credentials"]

BASIC_REALM = "dev-issuer"


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an ``Authorization: Basic`` header, if one is sent.

    Other schemes are not client authentication and are ignored. Both parts are
    form-urlencoded before base64 (RFC 6749 §2.3.1), so they are decoded after it.

    Example::

        basic_credentials("Basic bTJtLWNsaWVudDptMm0tc2VjcmV0")   # ('m2m-client', 'm2m-secret')
    """
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise _refused("The Basic credentials are not base64 of 'client_id:client_secret'.", True)
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client(
    clients: ClientDirectory, params: Mapping[str, str], basic: tuple[str, str] | None
) -> ClientConfig:
    """The client making the token request, authenticated; OAuthError otherwise.

    The client is a configured one, or one registered during this run.

    Failures through Basic are 401 with ``WWW-Authenticate: Basic``; through the
    body, 400 (RFC 6749 §5.2), as a 401 would have to carry a challenge.
    """
    body_id, body_secret = params.get("client_id"), params.get("client_secret") or None
    if basic is not None:
        if body_secret is not None:
            raise OAuthError(
                "invalid_request",
                "Send the client secret in the Authorization header or in the body, not both.",
            )
        if body_id is not None and body_id != basic[0]:
            raise OAuthError(
                "invalid_request", "client_id in the body differs from the Basic credentials."
            )
        client_id, secret = basic[0], basic[1] or None
    elif body_id:
        client_id, secret = body_id, body_secret
    else:
        raise OAuthError(
            "invalid_request",
            "Name the client: send client_id (and client_secret) in the body, or HTTP Basic.",
        )
    via_basic = basic is not None
    client = clients.find(client_id)
    if client is None:
        forgotten = (
            " Registered clients are forgotten when the dev-issuer restarts: register again."
            if client_id.startswith(REGISTERED_PREFIX)
            else ""
        )
        raise _refused(f"Unknown client_id {client_id!r}.{forgotten}", via_basic)
    if client.public:
        if secret is not None:
            raise _refused(
                f"Client {client_id!r} is public: it has no secret and must not send one.",
                via_basic,
            )
        return client
    if client.client_secret is None:
        # Confidential by its keys alone (checked at load): nothing to compare a secret with.
        raise _refused(
            f"Client {client_id!r} has no client_secret: authenticate with a client_assertion "
            "signed by a key of its jwks (private_key_jwt), in client_assertion_type and "
            "client_assertion.",
            via_basic,
        )
    if secret is None:
        also = " (or a client_assertion: private_key_jwt)" if client.jwks is not None else ""
        raise _refused(
            f"Client {client_id!r} is confidential: authenticate with its client_secret{also}.",
            via_basic,
        )
    # The configured secret is a str (checked at load); compare as bytes in constant time.
    if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        raise _refused(f"Wrong client_secret for client {client_id!r}.", via_basic)
    return client


def _refused(description: str, via_basic: bool) -> OAuthError:
    if via_basic:
        challenge = {"WWW-Authenticate": f'Basic realm="{BASIC_REALM}", charset="UTF-8"'}
        return OAuthError("invalid_client", description, status=401, headers=challenge)
    return OAuthError("invalid_client", description)


def described_credentials(
    client: ClientConfig, *, public: str, secret: Callable[[str], str], keys: str
) -> str:
    """How ``client`` authenticates at the token endpoint, in the words given: ``public``
    (PKCE, no credentials), its ``secret`` (shown: this is a development tool), ``keys``
    (private_key_jwt), or the secret "or" the keys. The banner and the front page say it."""
    if client.public:
        return public
    if client.client_secret is None:
        return keys
    return secret(client.client_secret) + (f" or {keys}" if client.jwks is not None else "")
