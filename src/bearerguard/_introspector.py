"""Asks the introspection endpoint about opaque tokens (RFC 7662): the shell's half.

Single-flight per token: concurrent requests carrying one token, on any thread or
event loop, make one call; the others wait for its answer in the cache. The call
is a POST with the bounds of every fetch (``_fetch.post``: one total deadline, a
size cap, no redirect), authenticated with the API's client credentials. Only
a JSON object with HTTP 200 is an answer; anything else is stored nowhere, and
the flow then refuses with 503 (fail closed), after an ERROR log here that says
what went wrong. Neither the log nor any key holds the token's text.

The API authenticates itself by the method of ``Introspection(auth=...)``: a client
secret (HTTP Basic or in the form), a client assertion signed by its private key
(``private_key_jwt``, RFC 7523), or its TLS client certificate (RFC 8705), presented
with this POST alone.

The endpoint is ``Introspection(url=...)``, else the issuer's discovery document's
``introspection_endpoint`` (with a client certificate, its ``mtls_endpoint_aliases``
one first, RFC 8705 §5), read once and kept.

``endpoints`` lets ``bearerguard.testing`` answer an endpoint in-process, as
``_intercept.py`` answers the fetches of keys.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import json
import ssl
import threading
from collections.abc import Callable
from urllib.parse import quote

import httpx

from ._client_auth import ASSERTION_TYPE, TlsIdentity, client_assertion
from ._config import VerifierConfig
from ._errors import ConfigurationError
from ._fetch import Form, apost, post
from ._introspection import Introspect, answer_from
from ._introspection_cache import AnswerCache
from ._keycache import Document, FetchFailure, Outcome, json_body
from ._keys import KeySetError
from ._metadata import MetadataUnavailable, read_metadata
from ._refresh import _wait, logger

__all__ = ["Introspector", "endpoints"]

_SHARED_QUIET = 5.0  # seconds the shared cache is left alone after it failed

# Answers an in-process endpoint: (form, header fields) -> the response.
Answerer = Callable[[Form, Form], Document]


class Endpoints:
    """The introspection endpoints answered in-process (``bearerguard.testing``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, Answerer] = {}

    def activate(self, url: str, answer: Answerer) -> None:
        with self._lock:
            self._active[url] = answer

    def deactivate(self, url: str) -> None:
        with self._lock:
            self._active.pop(url, None)

    def answer(self, url: str, form: Form, headers: Form) -> Document | None:
        if not self._active:
            return None
        answerer = self._active.get(url)
        return None if answerer is None else answerer(form, headers)


endpoints = Endpoints()

# What to check when the endpoint refuses the API's credentials, by method.
_CREDENTIALS = {
    "client_secret_basic": "client_secret=...",
    "client_secret_post": "client_secret=...",
    "private_key_jwt": "private_key=..., private_key_id=..., assertion_audience=...",
    "tls_client_auth": "tls_certificate=... and the certificate's subject registered",
    "self_signed_tls_client_auth": "tls_certificate=... and the certificate registered",
}


def _client_tls(identity: TlsIdentity | None) -> ssl.SSLContext | None:
    """The TLS settings that present the API's client certificate (RFC 8705), or None."""
    if identity is None:
        return None
    # Trusts what every fetch trusts (SSL_CERT_FILE, SSL_CERT_DIR, else certifi's bundle).
    context = httpx.create_ssl_context()
    try:
        context.load_cert_chain(identity.certificate, identity.key)
    except (ssl.SSLError, OSError) as why:
        raise ConfigurationError(
            f"Introspection tls_certificate {identity.certificate!r} cannot be used for TLS "
            f"({why}): give a PEM certificate and its unencrypted private key.",
            setting="tls_certificate",
        ) from None
    return context


class Introspector:
    """Runs the introspection calls a flow asks for, one at a time per token."""

    def __init__(
        self,
        config: VerifierConfig,
        answers: AnswerCache,
        clock: Callable[[], float],
        get: Callable[[str], Outcome],
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings = config.introspection
        issuer = config.introspection_issuer
        assert settings is not None  # noqa: S101 - made only with introspection=
        assert issuer is not None  # noqa: S101
        self._settings = settings
        self._issuer = issuer
        self._policy = config.cache
        self._answers = answers
        self._clock = clock
        self._get = get  # a GET as the key fetches make it: for the discovery document
        self._transport = transport
        self._async_transport = async_transport
        self._url: str | None = settings.url
        self._tls = _client_tls(settings.tls_identity)
        self._lock = threading.Lock()
        self._in_flight: dict[bytes, concurrent.futures.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wait_limit = 3 * self._policy.fetch_timeout + 1.0  # discovery, then the POST
        # After a failed call, new tokens are refused (503) without a call for
        # CachePolicy.failure_backoff seconds: a provider that is down is not hammered.
        self._quiet_until = 0.0
        # The answers shared by a fleet (Introspection(shared_cache=...)); left alone for a
        # while after it failed, so requests do not each wait for it.
        self._shared = settings.shared_cache
        self._shared_quiet_until = 0.0

    def settle(self, request: Introspect) -> None:
        """Store the endpoint's answer about ``request``'s token, asking it or waiting."""
        flight, lead = self._join(request.key)
        if lead:
            try:
                if self._shared_answer(request.key, self._read_shared(request.key)):
                    return
                url = None if self._backing_off() else self._url or self._endpoint()
                if url is not None:
                    record = self._store(request.key, url, self._post(url, request.token))
                    if record is not None:
                        self._write_shared(request.key, *record)
            finally:
                self._land(request.key, flight)
            return
        with contextlib.suppress(concurrent.futures.TimeoutError):
            flight.result(timeout=self._wait_limit)

    async def asettle(self, request: Introspect) -> None:
        """Like :meth:`settle`, without blocking the event loop."""
        flight, lead = self._join(request.key)
        if lead:
            # Owned by the introspector: a cancelled request cancels nobody else's answer.
            task = asyncio.get_running_loop().create_task(self._alead(request, flight))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await _wait(flight, self._wait_limit)

    async def _alead(self, request: Introspect, flight: concurrent.futures.Future[None]) -> None:
        try:
            if self._shared_answer(request.key, await self._aread_shared(request.key)):
                return
            url = self._url
            if self._backing_off():
                url = None
            elif url is None:
                url = await asyncio.to_thread(self._endpoint)
            if url is not None:
                form, headers = self._request(request.token, url)
                outcome = endpoints.answer(url, form, headers) or await apost(
                    url, form, headers, self._policy, self._async_transport, tls=self._tls
                )
                record = self._store(request.key, url, outcome)
                if record is not None:
                    await self._awrite_shared(request.key, *record)
        finally:
            self._land(request.key, flight)

    def _join(self, key: bytes) -> tuple[concurrent.futures.Future[None], bool]:
        with self._lock:
            flight = self._in_flight.get(key)
            if flight is not None:
                return flight, False
            flight = self._in_flight[key] = concurrent.futures.Future()
            return flight, True

    def _land(self, key: bytes, flight: concurrent.futures.Future[None]) -> None:
        with self._lock:
            if self._in_flight.get(key) is flight:
                del self._in_flight[key]
        flight.set_result(None)

    def _backing_off(self) -> bool:
        return self._clock() < self._quiet_until

    def _failed(self) -> None:
        self._quiet_until = self._clock() + self._policy.failure_backoff

    def _endpoint(self) -> str | None:
        """The discovery document's ``introspection_endpoint``, kept once read; with a client
        certificate, its alias for mutual TLS when the document names one (RFC 8705 §5)."""
        try:
            metadata = read_metadata(self._issuer, self._get)
            if self._tls is not None and metadata.mtls_alias("introspection_endpoint"):
                url = metadata.mtls_endpoint("introspection_endpoint")
            else:
                url = metadata.endpoint("introspection_endpoint")
        except MetadataUnavailable as why:
            logger.error(
                "Cannot introspect tokens of %s: %s. Give Introspection(url=...) or make the "
                "provider's discovery document name its introspection_endpoint.",
                self._issuer,
                why.detail,
            )
            self._failed()
            return None
        self._url = url
        return url

    def _request(self, token: str, url: str) -> tuple[Form, Form]:
        """The form and header fields of the POST to ``url``, with the client authentication."""
        settings = self._settings
        form = {"token": token, "token_type_hint": "access_token"}
        headers: Form = {}
        if settings.auth == "client_secret_basic":
            # RFC 6749 §2.3.1: each part form-encoded before Basic encodes the pair
            secret = settings.client_secret or ""
            pair = f"{quote(settings.client_id, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        elif settings.auth == "client_secret_post":
            form["client_id"] = settings.client_id
            form["client_secret"] = settings.client_secret or ""
        elif settings.assertion_key is not None:  # private_key_jwt: a new assertion each call
            form["client_assertion_type"] = ASSERTION_TYPE
            form["client_assertion"] = client_assertion(
                settings.assertion_key,
                client_id=settings.client_id,
                audience=settings.assertion_audience or self._issuer,
                now=self._clock(),
            )
        else:  # RFC 8705 §2: the certificate authenticates; client_id says whose it is
            form["client_id"] = settings.client_id
        return form, headers

    def _post(self, url: str, token: str) -> Outcome:
        form, headers = self._request(token, url)
        return endpoints.answer(url, form, headers) or post(
            url, form, headers, self._policy, self._transport, tls=self._tls
        )

    def _store(self, key: bytes, url: str, outcome: Outcome) -> tuple[bytes, float] | None:
        """Cache an answer; log why there is none (the flow then answers 503). Returns what
        the shared cache gets: the record and its lifetime in seconds."""
        if isinstance(outcome, FetchFailure):
            logger.error(
                "The introspection endpoint %s gave no answer: %s.%s Requests with opaque "
                "tokens are answered 503 until it does.",
                url,
                outcome.reason,
                # TLS 1.3 servers refuse a client certificate after the handshake: a read error
                # is then all the client sees.
                " If the provider refused the API's client certificate, check that "
                "Introspection(tls_certificate=...) is the one registered for the client and "
                "issued by a CA the provider trusts."
                if self._tls is not None
                else "",
            )
            self._failed()
            return None
        if outcome.status in (401, 403):
            logger.error(
                "The introspection endpoint %s refused this API's client credentials (HTTP %d, "
                "auth=%s): check Introspection(client_id=..., %s) against the API's client at "
                "the provider. Requests with opaque tokens are answered 503.",
                url,
                outcome.status,
                self._settings.auth,
                _CREDENTIALS[self._settings.auth or ""],
            )
            self._failed()
            return None
        try:
            body = json_body(outcome)
        except KeySetError as why:
            logger.error(
                "The introspection endpoint %s gave no usable answer: %s. Requests with opaque "
                "tokens are answered 503 until it does.",
                url,
                why,
            )
            self._failed()
            return None
        now = self._clock()
        answer = answer_from(body, self._issuer, self._settings, now)
        self._answers.put(key, answer)
        record = json.dumps({"until": answer.until, "answer": body}, separators=(",", ":"))
        return record.encode(), answer.until - now

    # --- the shared cache: a miss or a failure there only means asking the endpoint ---------

    def _shared_key(self, key: bytes) -> str | None:
        if self._shared is None or self._clock() < self._shared_quiet_until:
            return None
        return key.hex()

    def _read_shared(self, key: bytes) -> bytes | None:
        name = self._shared_key(key)
        if name is None:
            return None
        try:
            value: object = self._shared.get(name)
        except Exception as why:  # any failure: ask the endpoint instead
            self._shared_failed(why)
            return None
        return value if isinstance(value, bytes) else None

    async def _aread_shared(self, key: bytes) -> bytes | None:
        name = self._shared_key(key)
        if name is None:
            return None
        try:
            value: object = await self._shared.aget(name)
        except Exception as why:
            self._shared_failed(why)
            return None
        return value if isinstance(value, bytes) else None

    def _write_shared(self, key: bytes, record: bytes, ttl: float) -> None:
        name = self._shared_key(key)
        if name is not None and ttl > 0:
            try:
                self._shared.put(name, record, ttl)
            except Exception as why:
                self._shared_failed(why)

    async def _awrite_shared(self, key: bytes, record: bytes, ttl: float) -> None:
        name = self._shared_key(key)
        if name is not None and ttl > 0:
            try:
                await self._shared.aput(name, record, ttl)
            except Exception as why:
                self._shared_failed(why)

    def _shared_failed(self, why: Exception) -> None:
        self._shared_quiet_until = self._clock() + max(_SHARED_QUIET, self._policy.failure_backoff)
        logger.warning(
            "The shared introspection cache failed (%s: %s); asking the introspection endpoint "
            "instead, and leaving the shared cache alone for %g s.",
            type(why).__name__,
            why,
            max(_SHARED_QUIET, self._policy.failure_backoff),
        )

    def _shared_answer(self, key: bytes, record: bytes | None) -> bool:
        """Take a record of the shared cache as this worker's answer; whether there was one.

        Its time is kept: another worker's answer is never held past what it said.
        """
        if record is None:
            return False
        try:
            parsed = json.loads(record)
            until, body = parsed["until"], parsed["answer"]
        except (ValueError, TypeError, KeyError):
            return False  # not a record of ours: ask the endpoint
        now = self._clock()
        if not isinstance(body, dict) or not isinstance(until, (int, float)) or until < now:
            return False
        answer = answer_from(body, self._issuer, self._settings, now)
        answer.until = min(answer.until, until)
        self._answers.put(key, answer)
        return True

    def forget(self) -> None:
        """Forget the answers and a discovered endpoint (a fake issuer started or stopped)."""
        self._answers.clear()
        self._url = self._settings.url
