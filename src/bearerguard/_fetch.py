"""Fetch a provider document over HTTP with httpx, sync or async.

A fetch never raises: it returns the final :class:`Document` (any status; the
cache decides what a status means) or a :class:`FetchFailure`. It has a total
deadline, caps the body size while streaming, and follows redirects only within
the same origin (scheme, host and port), so a key-set URL can never be bounced
to another host. :func:`post` and :func:`apost` send a form (an introspection
request, RFC 7662) within the same bounds, and follow no redirect at all: a
redirected POST would carry the token and the client's credentials wherever it
points.

The deadline is hard: the caller has its answer when it passes, whatever the
provider does (a sync fetch runs on a worker thread whose sockets are shut down
then; an async one is cancelled). A transport passed in is shared by every
fetch of a verifier: it is lent to each fetch's client, never closed by it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import socket
import ssl
import sys
import threading
import time
from collections.abc import Awaitable
from typing import Any

import httpcore
import httpx

from ._config import CachePolicy
from ._keycache import Document, FetchFailure, Outcome
from ._version import __version__

__all__ = ["afetch", "apost", "fetch", "post"]

_MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "Accept": "application/json, application/jwk-set+json",
    "User-Agent": f"bearerguard/{__version__}",
}


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def _tls_context() -> ssl.SSLContext:
    """The TLS settings of every fetch, made once per process.

    Building a context loads the CA bundle, which costs tens of milliseconds of
    CPU; httpx would build one for every client, i.e. for every fetch, and an
    async fetch would do it on the event loop. ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` are read when it is made, as httpx reads them.
    """
    global _tls  # noqa: PLW0603 - one context per process, made on first use
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls


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
    url: httpx.URL,
    response: httpx.Response,
    policy: CachePolicy,
    deadline: float,
    form: Form | None = None,
) -> _Body | httpx.URL | FetchFailure:
    """What to do with a response's head: follow a redirect, refuse, or read the body."""
    if form is not None and response.status_code in _REDIRECTS:
        return FetchFailure(f"the endpoint redirected (HTTP {response.status_code}): not followed")
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


# A POST's form and its extra header fields (e.g. Authorization).
Form = dict[str, str]


def post(
    url: str,
    form: Form,
    headers: Form,
    policy: CachePolicy,
    transport: httpx.BaseTransport | None = None,
    *,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """POST ``form`` to ``url`` synchronously, as :func:`fetch` GETs; no redirect followed.

    ``tls``: the TLS settings of this POST instead of every fetch's, e.g. with the API's
    client certificate (RFC 8705 client authentication).
    """
    return _waited(_Attempt(url, policy, transport, form, headers, tls=tls))


async def apost(
    url: str,
    form: Form,
    headers: Form,
    policy: CachePolicy,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """Async :func:`post`, within one total deadline as :func:`afetch`."""
    return await afetch(url, policy, transport, form, headers, tls=tls)


def fetch(url: str, policy: CachePolicy, transport: httpx.BaseTransport | None = None) -> Outcome:
    """GET ``url`` synchronously, within one total deadline; see the module docstring.

    httpx's timeouts bound each socket operation, not the fetch: a provider that
    drips its headers one byte at a time never trips them, and name resolution
    ignores them altogether. So the request runs on a short-lived worker thread
    and the caller waits for it only until the deadline; then the worker's
    sockets are shut down, which ends it promptly too.
    """
    return _waited(_Attempt(url, policy, transport))


def _waited(attempt: _Attempt) -> Outcome:
    """Run ``attempt`` on a worker thread; its outcome once settled or the deadline passed."""
    context = contextvars.copy_context()  # the caller's context (e.g. tracing) goes along
    worker = threading.Thread(
        target=context.run, args=(attempt.run,), name="bearerguard-fetch", daemon=True
    )
    worker.start()
    return attempt.outcome()


class _Attempt:
    """One sync fetch: run on a worker thread, waited for until the deadline, then cut off."""

    def __init__(
        self,
        url: str,
        policy: CachePolicy,
        transport: httpx.BaseTransport | None,
        form: Form | None = None,
        headers: Form | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.form = form
        self.headers = headers
        self.tls = tls
        self.policy = policy
        self.transport = transport
        self.deadline = time.monotonic() + policy.fetch_timeout
        self._done: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        # Guards the sockets and the cut-off flag: a socket is only ever shut down while
        # it is known to be open, never after httpcore closed it (its descriptor number
        # could already belong to another connection of the process).
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False

    def outcome(self) -> Outcome:
        """The worker's outcome, or a failure once the deadline has passed (caller's thread)."""
        try:
            return self._done.result(timeout=max(0.0, self.deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            with self._lock:
                self._cut = True
                for sock in self._sockets:
                    _shut(sock)
                self._sockets.clear()
            return FetchFailure("the provider did not answer in time")

    def run(self) -> None:
        """Fetch and hand the outcome over (worker thread); never raises."""
        try:
            outcome = self._get()
        except Exception as exc:  # an unreachable provider, whatever the transport raised
            outcome = _failure(exc)
        self._done.set_result(outcome)

    def _get(self) -> Outcome:
        # No keep-alive: every hop opens its own connection, so every socket is seen.
        limits = httpx.Limits(max_keepalive_connections=0)
        extensions = {"trace": self._trace}
        with httpx.Client(
            transport=_Borrowed(self.transport) if self.transport is not None else None,
            verify=True if self.transport is not None else self.tls or _tls_context(),
            timeout=self.policy.fetch_timeout,
            headers=_HEADERS,
            limits=limits,
        ) as client:
            try:
                target = httpx.URL(self.url)
                for _ in range(_MAX_REDIRECTS + 1):
                    # Each hop gets only what is left, and none starts past the deadline.
                    remaining = self.deadline - time.monotonic()
                    if remaining <= 0:
                        return FetchFailure("the provider did not answer in time")
                    with client.stream(
                        "GET" if self.form is None else "POST",
                        target,
                        data=self.form,
                        headers=self.headers,
                        timeout=remaining,
                        extensions=extensions,
                    ) as response:
                        step = _look(target, response, self.policy, self.deadline, self.form)
                        if isinstance(step, _Body):
                            for chunk in response.iter_bytes():
                                if refused := step.add(chunk):
                                    return refused
                            return step.document()
                        if isinstance(step, FetchFailure):
                            return step
                        target = step
                return FetchFailure("too many redirects")
            finally:
                self._forget()  # before the client closes whatever is still open

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's ``trace`` extension: note each connection's socket while it is open."""
        step = event.partition(".")[2]
        if step in ("connect_tcp.complete", "start_tls.complete"):
            stream = info.get("return_value")
            if isinstance(stream, httpcore.NetworkStream):
                self._watch(stream.get_extra_info("socket"))
        elif step in ("start_tls.started", "response_closed.started"):
            # TLS takes the plain socket over; a closed response closes its connection.
            self._forget()

    def _watch(self, sock: object) -> None:
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self._cut:
                _shut(sock)  # connected after the deadline: end the exchange at once
            else:
                self._sockets.append(sock)

    def _forget(self) -> None:
        with self._lock:
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    """Wake a read or write blocked on ``sock``; its owner then closes it as usual."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


async def afetch(
    url: str,
    policy: CachePolicy,
    transport: httpx.AsyncBaseTransport | None = None,
    form: Form | None = None,
    headers: Form | None = None,
    *,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """GET ``url`` asynchronously, within one total deadline.

    The deadline cancels the fetch in the caller's own task, as ``asyncio.timeout``
    does. (``wait_for`` before Python 3.12 runs it in a second task; when both are
    cancelled at once, as ``asyncio.run`` cancels every task left at shutdown,
    httpcore's shielded clean-up is cut short and the connection stays open.)
    """
    task = asyncio.current_task()
    if task is None:  # not run by an asyncio task: wait_for is all there is
        return await _settled(
            asyncio.wait_for(
                _afetch(url, policy, transport, form, headers, own_tls=tls), policy.fetch_timeout
            )
        )
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(policy.fetch_timeout, expire)
    try:
        return await _afetch(url, policy, transport, form, headers, own_tls=tls)
    except asyncio.CancelledError:
        if not expired or _cancelled_by_others(task):
            raise  # the caller's cancellation (or shutdown) goes on
        return FetchFailure("the provider did not answer in time")
    except Exception as exc:  # an unreachable provider, whatever the transport raised
        return _failure(exc)
    finally:
        timer.cancel()


async def _settled(fetching: Awaitable[Outcome]) -> Outcome:
    try:
        return await fetching
    except Exception as exc:  # CancelledError is no Exception: cancellation still propagates
        return _failure(exc)


def _cancelled_by_others(task: asyncio.Task[Any]) -> bool:
    """Withdraw the deadline's cancellation; whether another one is pending (3.11+)."""
    if sys.version_info >= (3, 11):
        pending = task.uncancel()
    else:
        pending = 0  # Python 3.10 does not count cancellations
    return pending > 0


async def _afetch(
    url: str,
    policy: CachePolicy,
    transport: httpx.AsyncBaseTransport | None,
    form: Form | None = None,
    headers: Form | None = None,
    *,
    own_tls: ssl.SSLContext | None = None,
) -> Outcome:
    deadline = time.monotonic() + policy.fetch_timeout
    tls: ssl.SSLContext | bool = True
    if transport is None and own_tls is not None:
        tls = own_tls
    elif transport is None:
        # The first context is made on a worker thread: the event loop must not stall.
        tls = _tls if _tls is not None else await asyncio.to_thread(_tls_context)
    async with httpx.AsyncClient(
        transport=_ABorrowed(transport) if transport is not None else None,
        verify=tls,
        timeout=policy.fetch_timeout,
        headers=_HEADERS,
    ) as client:
        target = httpx.URL(url)
        for _ in range(_MAX_REDIRECTS + 1):
            method = "GET" if form is None else "POST"
            async with client.stream(method, target, data=form, headers=headers) as response:
                step = _look(target, response, policy, deadline, form)
                if isinstance(step, _Body):
                    async for chunk in response.aiter_bytes():
                        if refused := step.add(chunk):
                            return refused
                    return step.document()
                if isinstance(step, FetchFailure):
                    return step
                target = step
        return FetchFailure("too many redirects")


class _Borrowed(httpx.BaseTransport):
    """The caller's transport, lent to one fetch's client: closing the client leaves it open.

    (A client closes its transport on exit; a verifier's transport serves every fetch,
    and closing it would cut off the fetches running alongside.)
    """

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        pass  # not ours to close


class _ABorrowed(httpx.AsyncBaseTransport):
    """The async :class:`_Borrowed`."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        pass  # not ours to close
