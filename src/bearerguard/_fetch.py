"""Fetch a provider document over HTTP with httpx, sync or async.

A fetch never raises: it returns the final :class:`Document` (any status; the
cache decides what a status means) or a :class:`FetchFailure`. It has a total
deadline, caps the body size while streaming, and follows redirects only within
the same origin (scheme, host and port), so a key-set URL can never be bounced
to another host.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from ._config import CachePolicy
from ._keycache import Document, FetchFailure, Outcome
from ._version import __version__

__all__ = ["afetch", "fetch"]

_MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "Accept": "application/json, application/jwk-set+json",
    "User-Agent": f"bearerguard/{__version__}",
}


class _Body:
    """Collects a response body within the size cap and the deadline."""

    def __init__(self, response: httpx.Response, policy: CachePolicy, deadline: float) -> None:
        self.response = response
        self.limit = policy.max_document_bytes
        self.deadline = deadline
        self.chunks: list[bytes] = []
        self.size = 0

    def refuse_early(self) -> FetchFailure | None:
        declared = self.response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            return FetchFailure(f"the response is larger than {self.limit} bytes")
        return None

    def add(self, chunk: bytes) -> FetchFailure | None:
        self.size += len(chunk)
        if self.size > self.limit:
            return FetchFailure(f"the response is larger than {self.limit} bytes")
        if time.monotonic() > self.deadline:
            return FetchFailure("the response arrived too slowly")
        self.chunks.append(chunk)
        return None

    def document(self) -> Document:
        headers = {name.lower(): value for name, value in self.response.headers.items()}
        return Document(self.response.status_code, headers, b"".join(self.chunks))


def _next_hop(url: httpx.URL, response: httpx.Response) -> httpx.URL | FetchFailure | None:
    """Where a redirect leads, if it may be followed; ``None`` when it is no redirect."""
    if response.status_code not in _REDIRECTS:
        return None
    location = response.headers.get("location")
    if not location:
        return FetchFailure(f"HTTP {response.status_code} without a Location")
    target = url.join(location)
    if (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port):
        return FetchFailure("the provider redirected to another origin")
    return target


def _look(
    url: httpx.URL, response: httpx.Response, policy: CachePolicy, deadline: float
) -> _Body | httpx.URL | FetchFailure:
    """What to do with a response's head: follow a redirect, refuse, or read the body."""
    hop = _next_hop(url, response)
    if hop is not None:
        return hop
    body = _Body(response, policy, deadline)
    return body.refuse_early() or body


def _failure(exc: Exception) -> FetchFailure:
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError):
        return FetchFailure("the provider did not answer in time")
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return FetchFailure("the URL cannot be fetched")
    # Anything else, e.g. a custom transport's own exception: never a 500 for the caller.
    return FetchFailure(f"the request failed ({type(exc).__name__})")


def fetch(url: str, policy: CachePolicy, transport: httpx.BaseTransport | None = None) -> Outcome:
    """GET ``url`` synchronously; see the module docstring for the rules."""
    deadline = time.monotonic() + policy.fetch_timeout
    try:
        with httpx.Client(
            transport=transport, timeout=policy.fetch_timeout, headers=_HEADERS
        ) as client:
            target = httpx.URL(url)
            for _ in range(_MAX_REDIRECTS + 1):
                # httpx timeouts bound each operation, not the fetch: give each hop
                # only what is left, and start none once the deadline has passed.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return FetchFailure("the provider did not answer in time")
                with client.stream("GET", target, timeout=remaining) as response:
                    step = _look(target, response, policy, deadline)
                    if isinstance(step, _Body):
                        for chunk in response.iter_bytes():
                            if refused := step.add(chunk):
                                return refused
                        return step.document()
                    if isinstance(step, FetchFailure):
                        return step
                    target = step
            return FetchFailure("too many redirects")
    except Exception as exc:  # an unreachable provider, whatever the transport raised
        return _failure(exc)


async def afetch(
    url: str, policy: CachePolicy, transport: httpx.AsyncBaseTransport | None = None
) -> Outcome:
    """GET ``url`` asynchronously, within one total deadline."""
    try:
        return await asyncio.wait_for(_afetch(url, policy, transport), policy.fetch_timeout)
    except Exception as exc:  # CancelledError is no Exception: cancellation still propagates
        return _failure(exc)


async def _afetch(
    url: str, policy: CachePolicy, transport: httpx.AsyncBaseTransport | None
) -> Outcome:
    deadline = time.monotonic() + policy.fetch_timeout
    async with httpx.AsyncClient(
        transport=transport, timeout=policy.fetch_timeout, headers=_HEADERS
    ) as client:
        target = httpx.URL(url)
        for _ in range(_MAX_REDIRECTS + 1):
            async with client.stream("GET", target) as response:
                step = _look(target, response, policy, deadline)
                if isinstance(step, _Body):
                    async for chunk in response.aiter_bytes():
                        if refused := step.add(chunk):
                            return refused
                    return step.document()
                if isinstance(step, FetchFailure):
                    return step
                target = step
        return FetchFailure("too many redirects")
