"""A provider's metadata document, read as the key cache reads it.

The same URLs in the same order (:class:`~bearerguard._keycache.FetchDiscovery`:
OpenID Connect discovery, then RFC 8414 metadata with the path inserted when
the first answers 404), the same fetch (a total deadline, a size cap, redirects
within the origin only), the same strict JSON, and the rule that the document
must name the issuer it was asked about (OIDC Discovery §4.3, RFC 8414 §3.3),
compared as issuers are compared (:func:`~bearerguard._issuers.same_issuer`).
``bearerguard token`` finds its endpoints with it, and the FastAPI adapter the
URLs of Swagger UI's Authorize button.

Example::

    with fetcher(issuer, CachePolicy()) as get:
        metadata = read_metadata("http://127.0.0.1:9000/", get)
    metadata.endpoint("token_endpoint")   # 'http://127.0.0.1:9000/oauth/token'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ._config import CachePolicy, check_url, is_loopback_host
from ._drive import drive
from ._errors import ConfigurationError
from ._fetch import fetch
from ._issuers import same_issuer
from ._keycache import Document, FetchDiscovery, Outcome, json_body
from ._keys import KeySetError

__all__ = ["MetadataUnavailable", "ProviderMetadata", "fetcher", "read_metadata"]

#: what went wrong: nothing usable answered, the answer is not a document, or it is
#: another issuer's
Problem = Literal["unreachable", "unusable", "other issuer"]


@dataclass(frozen=True)
class ProviderMetadata:
    """The metadata document of an issuer, and the URL it was found at."""

    url: str
    document: Mapping[str, Any] = field(repr=False)

    def endpoint(self, name: str) -> str:
        """The URL the document gives for ``name`` (``"token_endpoint"``, ...).

        Raises :class:`MetadataUnavailable` when it is missing, or not https (http
        only on loopback), as the issuer itself must be.
        """
        value = self.document.get(name)
        if not isinstance(value, str) or not value:
            raise MetadataUnavailable("unusable", f"the metadata at {self.url} has no {name}")
        try:
            check_url(value, what=f"the metadata's {name}")
        except ConfigurationError as why:
            raise MetadataUnavailable("unusable", f"{why} (read from {self.url})") from None
        return value

    def mtls_alias(self, name: str) -> bool:
        """Whether the document's ``mtls_endpoint_aliases`` (RFC 8705 §5) names ``name``."""
        aliases = self.document.get("mtls_endpoint_aliases")
        return isinstance(aliases, Mapping) and name in aliases

    def mtls_endpoint(self, name: str) -> str:
        """The URL for ``name`` over mutual TLS: its alias (RFC 8705 §5), checked as
        :meth:`endpoint` checks the plain one."""
        aliases = self.document.get("mtls_endpoint_aliases")
        assert isinstance(aliases, Mapping)  # noqa: S101 - asked after mtls_alias()
        return ProviderMetadata(self.url, aliases).endpoint(name)


class MetadataUnavailable(Exception):
    """The metadata could not be had; ``tried`` lists every URL fetched and its answer."""

    def __init__(
        self, problem: Problem, detail: str, tried: tuple[tuple[str, Outcome], ...] = ()
    ) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.tried = tried


def read_metadata(issuer: str, get: Callable[[str], Outcome]) -> ProviderMetadata:
    """The metadata of ``issuer``, or :class:`MetadataUnavailable` saying why not.

    ``get`` fetches one URL: a verifier's own (its transport, its limits, the
    testing interceptions) or :func:`fetcher`'s.
    """
    tried: list[tuple[str, Outcome]] = []

    def answer(url: str) -> Outcome:
        outcome = get(url)
        tried.append((url, outcome))
        return outcome

    drive(FetchDiscovery(issuer, generation=0).plan(), answer)
    url, outcome = tried[-1]
    if not isinstance(outcome, Document) or outcome.status != 200:
        raise MetadataUnavailable("unreachable", f"no metadata found for {issuer}", tuple(tried))
    try:
        document = json_body(outcome)
    except KeySetError as why:
        raise MetadataUnavailable("unusable", str(why), tuple(tried)) from None
    named = document.get("issuer")
    if not isinstance(named, str) or not same_issuer(named, issuer):
        shown = repr(named[:200]) if isinstance(named, str) else "no issuer"
        raise MetadataUnavailable(
            "other issuer",
            f"the metadata at {url} names {shown}, not the issuer {issuer!r}",
            tuple(tried),
        )
    return ProviderMetadata(url, document)


@contextmanager
def fetcher(issuer: str, policy: CachePolicy) -> Iterator[Callable[[str], Outcome]]:
    """A ``get`` for :func:`read_metadata` outside a verifier, with ``policy``'s limits.

    For a loopback issuer the transport has no proxy: a proxy from the environment
    is for the outside world and must never see a local provider's requests.
    """
    local = is_loopback_host(urlsplit(issuer).hostname or "")
    transport = httpx.HTTPTransport() if local else None
    try:
        yield lambda url: fetch(url, policy, transport)
    finally:
        if transport is not None:
            transport.close()  # lent to each fetch, never closed by one
