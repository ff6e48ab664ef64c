"""Where a provider's endpoints are: its metadata document, or the command line.

``bearerguard token`` reads the issuer's metadata as a :class:`~bearerguard.Verifier`
does, with the core's own pieces: the same URLs in the same order
(``FetchDiscovery.plan``: OpenID Connect discovery, then RFC 8414 metadata with
the path inserted when the first answers 404), the same fetch (a total deadline,
a size cap, redirects within the origin only), the same JSON parsing, and the
rule that the document must name the issuer it was asked about (OIDC Discovery
§4.3, RFC 8414 §3.3; compared as the Verifier compares issuers): :mod:`bearerguard._metadata`.
Endpoints must be https, or http on loopback (``check_url``, as for the issuer).

Example::

    found = find_endpoints("http://127.0.0.1:9000/", need_authorization=False, timeout=10)
    found.token     # 'http://127.0.0.1:9000/oauth/token'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bearerguard._config import CachePolicy
from bearerguard._keycache import Document, FetchFailure, Outcome
from bearerguard._metadata import MetadataUnavailable, ProviderMetadata, fetcher, read_metadata

from ._output import safe

__all__ = ["DiscoveryError", "Endpoints", "find_endpoints"]

_NO_METADATA_HINT = (
    "A provider that publishes no metadata: name its endpoints with --token-endpoint URL "
    "(and --authorization-endpoint URL for the authorization-code and implicit flows)."
)


class DiscoveryError(Exception):
    """The endpoints could not be found; the message says what was fetched and what to do."""


@dataclass(frozen=True)
class Endpoints:
    """The endpoints ``bearerguard token`` talks to, and how it authenticates there."""

    token: str
    authorization: str | None
    #: "client_secret_post" (the secret in the form) or "client_secret_basic" (HTTP Basic)
    client_auth: str = "client_secret_post"
    #: the DPoP proof algorithms the provider lists (RFC 9449 §5.1), ``None`` when unsaid
    dpop_algorithms: tuple[str, ...] | None = None


def find_endpoints(
    issuer: str,
    *,
    need_authorization: bool,
    timeout: float,
    token: str | None = None,
    authorization: str | None = None,
) -> Endpoints:
    """The endpoints of ``issuer``: ``token``/``authorization`` if given, else its metadata's.

    The metadata is fetched only when a needed endpoint was not given. Raises
    :class:`DiscoveryError` when it cannot be had or is not usable.
    """
    if token is not None and (authorization is not None or not need_authorization):
        return Endpoints(token=token, authorization=authorization)
    source, metadata = _metadata(issuer, timeout)
    if token is None:
        token = _endpoint(metadata, "token_endpoint", source, "--token-endpoint")
    if authorization is None and need_authorization:
        authorization = _endpoint(
            metadata, "authorization_endpoint", source, "--authorization-endpoint"
        )
    return Endpoints(
        token=token,
        authorization=authorization,
        client_auth=_client_auth(metadata),
        dpop_algorithms=_dpop_algorithms(metadata),
    )


# --- the metadata document --------------------------------------------------------------------


def _metadata(issuer: str, timeout: float) -> tuple[str, Mapping[str, Any]]:
    """``(url, document)``: the issuer's metadata and where it was found."""
    try:
        with fetcher(issuer, CachePolicy(fetch_timeout=timeout)) as get:
            found = read_metadata(issuer, get)
    except MetadataUnavailable as why:
        raise DiscoveryError(_explained(issuer, why)) from None
    return found.url, found.document


def _endpoint(metadata: Mapping[str, Any], name: str, source: str, flag: str) -> str:
    try:
        return ProviderMetadata(source, metadata).endpoint(name)
    except MetadataUnavailable as why:
        advice = f": name it with {flag} URL." if why.detail.endswith(name) else ""
        raise DiscoveryError(safe(why.detail) + advice) from None


def _client_auth(metadata: Mapping[str, Any]) -> str:
    """How to send a client secret: in the form, unless the provider takes only HTTP Basic.

    The form (client_secret_post) is what Auth0, Keycloak and the dev issuer take by
    default; a provider whose metadata lists Basic but not the form gets Basic.
    """
    methods = metadata.get("token_endpoint_auth_methods_supported")
    if (
        isinstance(methods, list)
        and "client_secret_basic" in methods
        and "client_secret_post" not in methods
    ):
        return "client_secret_basic"
    return "client_secret_post"


def _dpop_algorithms(metadata: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``dpop_signing_alg_values_supported``: what the provider takes in proofs, if it says."""
    values = metadata.get("dpop_signing_alg_values_supported")
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        return None
    return tuple(values)


# --- messages ---------------------------------------------------------------------------------


def _explained(issuer: str, why: MetadataUnavailable) -> str:
    """What went wrong, what each URL answered, and what to do about it."""
    if why.problem == "other issuer":
        return (
            f"{safe(why.detail)}, so its endpoints are not used (RFC 8414 §3.3). Check "
            "--issuer: it must be the issuer URL exactly as the provider names it."
        )
    if why.problem == "unusable":
        url = why.tried[-1][0] if why.tried else issuer
        return (
            f"the metadata at {safe(url)} is not usable: {safe(why.detail)}.\n  {_NO_METADATA_HINT}"
        )
    return _unreachable(issuer, why.tried)


def _unreachable(issuer: str, tried: tuple[tuple[str, Outcome], ...]) -> str:
    """What each URL answered, and what to do about it."""
    answers = "\n  ".join(f"{safe(url)}: {_described(outcome)}" for url, outcome in tried)
    if any(isinstance(outcome, FetchFailure) for _, outcome in tried):
        advice = (
            f"Is the provider running and reachable at {safe(issuer)}? "
            "(`bearerguard dev-issuer` listens on http://127.0.0.1:9000/ by default.)"
        )
    elif all(isinstance(outcome, Document) and outcome.status == 404 for _, outcome in tried):
        advice = (
            "Check --issuer: it must be the issuer URL exactly as the provider names it "
            "(e.g. https://sso.example.com/realms/demo for Keycloak).\n  " + _NO_METADATA_HINT
        )
    else:
        advice = "The provider answered with an error: try again later.\n  " + _NO_METADATA_HINT
    return f"cannot read the provider's metadata:\n  {answers}\n  {advice}"


def _described(outcome: Outcome) -> str:
    if isinstance(outcome, FetchFailure):
        return outcome.reason
    return f"HTTP {outcome.status}"
