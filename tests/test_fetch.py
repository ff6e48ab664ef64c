"""Fetching a provider document: never raises, size cap, same-origin redirects, deadline.

Every test runs through ``fetch`` (sync) and ``afetch`` (async) over an
``httpx.MockTransport``; no sockets. Catalogue rows: T87, T89, T90, T92.
"""

from __future__ import annotations

import asyncio
import contextvars
import gzip
import itertools
import socket
import ssl
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from bearerguard import _fetch
from bearerguard._config import CachePolicy
from bearerguard._fetch import afetch, fetch
from bearerguard._keycache import Document, FetchFailure, Outcome
from bearerguard._version import __version__

URL = "https://tenant.auth0.com/.well-known/jwks.json"
BODY = b'{"keys": []}'
POLICY = CachePolicy()
SMALL = CachePolicy(max_document_bytes=1024)
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST_ID", default="-")

Handler = Callable[[httpx.Request], httpx.Response]
Get = Callable[..., Outcome]


@pytest.fixture(params=["sync", "async"])
def get(request: pytest.FixtureRequest) -> Get:
    """``get(handler, url=URL, policy=POLICY)`` through ``fetch`` or ``afetch``."""

    def sync(handler: Handler, url: str = URL, policy: CachePolicy = POLICY) -> Outcome:
        return fetch(url, policy, as_transport(handler))

    def run_async(handler: Handler, url: str = URL, policy: CachePolicy = POLICY) -> Outcome:
        return asyncio.run(afetch(url, policy, as_transport(handler)))

    return sync if request.param == "sync" else run_async


def as_transport(handler: Handler | httpx.MockTransport) -> httpx.MockTransport:
    return handler if isinstance(handler, httpx.MockTransport) else httpx.MockTransport(handler)


class Recorder:
    """A handler that records requests and answers from a path -> response table."""

    def __init__(self, routes: dict[str, Callable[[], httpx.Response]]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(str(request.url))
        return route() if route else httpx.Response(404)

    @property
    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body without Content-Length, produced chunk by chunk (sync or async)."""

    def __init__(self, chunks: Iterator[bytes], pause: float = 0.0) -> None:
        self.chunks = chunks
        self.pause = pause
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.pause:
                time.sleep(self.pause)
            self.produced += 1
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.pause:
                await asyncio.sleep(self.pause)
            self.produced += 1
            yield chunk


def redirect(status: int, location: str | None) -> Callable[[], httpx.Response]:
    headers = {"location": location} if location is not None else {}
    return lambda: httpx.Response(status, headers=headers)


def ok(body: bytes = BODY) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, content=body, headers={"content-type": "application/json"})


# --- responses ------------------------------------------------------------------------------


class TestResponses:
    def test_a_200_is_returned_with_lower_case_header_names_and_the_body(self, get):
        def handler(request: httpx.Request) -> httpx.Response:
            headers = {
                "Cache-Control": "max-age=60",
                "Content-Type": "application/json",
                "X-Request-ID": "Abc",
            }
            return httpx.Response(200, content=BODY, headers=headers)

        outcome = get(handler)
        assert isinstance(outcome, Document)
        assert outcome.status == 200
        assert outcome.body == BODY
        assert outcome.headers["cache-control"] == "max-age=60"
        assert outcome.headers["content-type"] == "application/json"
        assert outcome.headers["x-request-id"] == "Abc"  # values are kept as sent
        assert all(name == name.lower() for name in outcome.headers)

    @pytest.mark.parametrize("status", [204, 304, 400, 404, 429, 500, 503])
    def test_a_non_200_status_is_returned_as_a_document_for_the_cache_to_judge(self, get, status):
        outcome = get(lambda request: httpx.Response(status, content=b"nope"))
        assert isinstance(outcome, Document)
        assert outcome.status == status

    def test_a_300_is_not_a_redirect_and_is_returned_as_is(self, get):
        outcome = get(lambda r: httpx.Response(300, headers={"location": "/elsewhere"}))
        assert isinstance(outcome, Document)
        assert outcome.status == 300

    def test_the_request_is_a_get_with_the_bearerguard_user_agent_and_json_accept(self, get):
        recorder = Recorder({URL: ok()})
        get(recorder)
        (request,) = recorder.requests
        assert request.method == "GET"
        assert request.headers["user-agent"] == f"bearerguard/{__version__}"
        accept = request.headers["accept"]
        assert "application/json" in accept
        assert "application/jwk-set+json" in accept
        assert "authorization" not in request.headers
        assert "cookie" not in request.headers

    def test_a_compressed_body_is_returned_decompressed(self, get):
        compressed = gzip.compress(BODY)
        outcome = get(
            lambda r: httpx.Response(200, content=compressed, headers={"content-encoding": "gzip"})
        )
        assert isinstance(outcome, Document)
        assert outcome.body == BODY


class TestTransport:
    def test_the_callers_transport_is_lent_to_the_fetch_and_never_closed(self, get):
        # A verifier hands every fetch the same transport: closing it after one fetch
        # would cut off the fetches running alongside (other issuers, a late worker).
        transport = Lending(lambda r: httpx.Response(200, content=BODY))
        for _ in range(2):
            assert isinstance(get(transport), Document)
        assert transport.closed == 0

    def test_a_failed_fetch_does_not_close_the_callers_transport_either(self, get):
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused")

        transport = Lending(refuse)
        assert isinstance(get(transport), FetchFailure)
        assert transport.closed == 0


class Lending(httpx.MockTransport):
    """A MockTransport that counts how often anyone closes it (sync or async)."""

    closed = 0

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1


# --- size cap (T90) ---------------------------------------------------------------------------


class TestSizeCap:
    def test_T90_a_declared_content_length_over_the_cap_is_refused_before_reading(self, get):
        stream = Chunks(iter([b"x" * 10]))

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, headers={"content-length": "1025"}, stream=stream)

        outcome = get(handler, policy=SMALL)
        assert isinstance(outcome, FetchFailure)
        assert "larger than 1024 bytes" in outcome.reason
        assert stream.produced == 0

    def test_a_body_of_exactly_the_cap_is_accepted(self, get):
        outcome = get(lambda r: httpx.Response(200, content=b"x" * 1024), policy=SMALL)
        assert isinstance(outcome, Document)
        assert len(outcome.body) == 1024

    def test_T90_a_streamed_body_over_the_cap_is_refused(self, get):
        outcome = get(
            lambda r: httpx.Response(200, stream=Chunks(iter([b"x" * 1000, b"x" * 25]))),
            policy=SMALL,
        )
        assert isinstance(outcome, FetchFailure)
        assert "larger than 1024 bytes" in outcome.reason

    def test_T90_an_endless_stream_is_cut_off_at_the_cap(self, get):
        stream = Chunks(itertools.repeat(b"x" * 100))
        outcome = get(lambda r: httpx.Response(200, stream=stream), policy=SMALL)
        assert isinstance(outcome, FetchFailure)
        assert stream.produced <= 11  # 1024 bytes is reached by the 11th chunk

    def test_T90_a_small_compressed_body_that_inflates_past_the_cap_is_refused(self, get):
        bomb = gzip.compress(b" " * 2_000_000)
        assert len(bomb) < 1024 * 4

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=bomb, headers={"content-encoding": "gzip"})

        outcome = get(handler, policy=SMALL)
        assert isinstance(outcome, FetchFailure)
        assert "larger than" in outcome.reason

    def test_a_declared_length_within_the_cap_is_still_counted_while_reading(self, get):
        stream = Chunks(iter([b"x" * 600, b"x" * 600]))
        outcome = get(
            lambda r: httpx.Response(200, headers={"content-length": "100"}, stream=stream),
            policy=SMALL,
        )
        assert isinstance(outcome, FetchFailure)


# --- redirects (T92) ----------------------------------------------------------------------------


class TestRedirects:
    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    def test_a_same_origin_redirect_with_a_relative_location_is_followed(self, get, status):
        recorder = Recorder(
            {URL: redirect(status, "/keys/v2.json"), "https://tenant.auth0.com/keys/v2.json": ok()}
        )
        outcome = get(recorder)
        assert isinstance(outcome, Document)
        assert outcome.status == 200
        assert outcome.body == BODY
        assert recorder.urls == [URL, "https://tenant.auth0.com/keys/v2.json"]

    def test_a_path_relative_location_resolves_against_the_current_url(self, get):
        target = "https://tenant.auth0.com/.well-known/jwks-v2.json"
        recorder = Recorder({URL: redirect(302, "jwks-v2.json"), target: ok()})
        assert isinstance(get(recorder), Document)
        assert recorder.urls == [URL, target]

    @pytest.mark.parametrize(
        "location",
        ["https://tenant.auth0.com/keys/v2.json", "https://tenant.auth0.com:443/keys/v2.json"],
    )
    def test_a_same_origin_redirect_with_an_absolute_location_is_followed(self, get, location):
        recorder = Recorder(
            {URL: redirect(301, location), "https://tenant.auth0.com/keys/v2.json": ok()}
        )
        outcome = get(recorder)
        assert isinstance(outcome, Document)
        assert outcome.status == 200

    def test_the_final_documents_headers_are_those_of_the_last_response(self, get):
        target = "https://tenant.auth0.com/keys/v2.json"

        def moved() -> httpx.Response:
            return httpx.Response(301, headers={"location": target, "cache-control": "max-age=1"})

        recorder = Recorder({URL: moved, target: ok()})
        outcome = get(recorder)
        assert isinstance(outcome, Document)
        assert "cache-control" not in outcome.headers

    @pytest.mark.parametrize(
        "location",
        [
            pytest.param("https://evil.example/jwks.json", id="other-host"),
            pytest.param("https://sub.tenant.auth0.com/jwks.json", id="subdomain"),
            pytest.param("//evil.example/jwks.json", id="scheme-relative"),
            pytest.param("http://tenant.auth0.com/.well-known/jwks.json", id="http-downgrade"),
            pytest.param("https://tenant.auth0.com:8443/jwks.json", id="other-port"),
            pytest.param("http://169.254.169.254/latest/meta-data/", id="metadata-service"),
            pytest.param("https://127.0.0.1/jwks.json", id="loopback"),
            pytest.param("https://tenant.auth0.com@evil.example/jwks.json", id="userinfo-trick"),
        ],
    )
    @pytest.mark.parametrize("status", [301, 307])
    def test_T92_a_cross_origin_redirect_is_refused_and_never_requested(
        self, get, location, status
    ):
        recorder = Recorder({URL: redirect(status, location)})
        outcome = get(recorder)
        assert isinstance(outcome, FetchFailure)
        assert "another origin" in outcome.reason
        assert recorder.urls == [URL]

    def test_T92_a_redirect_away_after_a_same_origin_hop_is_refused_too(self, get):
        hop = "https://tenant.auth0.com/hop"
        recorder = Recorder(
            {URL: redirect(302, "/hop"), hop: redirect(302, "https://evil.example/")}
        )
        outcome = get(recorder)
        assert isinstance(outcome, FetchFailure)
        assert recorder.urls == [URL, hop]

    @pytest.mark.parametrize("location", [None, ""])
    def test_a_redirect_without_a_location_is_refused(self, get, location):
        outcome = get(Recorder({URL: redirect(302, location)}))
        assert isinstance(outcome, FetchFailure)
        assert "without a Location" in outcome.reason

    def test_a_redirect_loop_ends_as_too_many_redirects(self, get):
        recorder = Recorder({URL: redirect(302, URL)})
        outcome = get(recorder)
        assert isinstance(outcome, FetchFailure)
        assert outcome.reason == "too many redirects"
        assert len(recorder.requests) == 4  # the request and three redirects, no more

    def test_three_redirects_are_followed_and_a_fourth_is_too_many(self, get):
        base = "https://tenant.auth0.com/r"
        chain = {
            URL: redirect(302, "/r1"),
            base + "1": redirect(302, "/r2"),
            base + "2": redirect(302, "/r3"),
        }
        assert isinstance(get(Recorder({**chain, base + "3": ok()})), Document)
        outcome = get(Recorder({**chain, base + "3": redirect(302, "/r4"), base + "4": ok()}))
        assert isinstance(outcome, FetchFailure)


# --- transport errors (T87) and the deadline (T89) ---------------------------------------------


class TestFailures:
    @pytest.mark.parametrize(
        "error",
        [
            httpx.ConnectError("connection refused"),
            httpx.ConnectError("[Errno -2] Name or service not known"),
            httpx.ConnectTimeout("connect timeout"),
            httpx.ReadTimeout("read timeout"),
            httpx.ReadError("connection reset"),
            httpx.RemoteProtocolError("server disconnected"),
            httpx.ProxyError("proxy says no"),
            ConnectionRefusedError(111, "refused"),
        ],
        ids=lambda e: type(e).__name__,
    )
    def test_T87_a_transport_error_becomes_a_fetch_failure_and_never_raises(self, get, error):
        def handler(request: httpx.Request) -> httpx.Response:
            raise error

        outcome = get(handler)
        assert isinstance(outcome, FetchFailure)
        assert outcome.reason

    @pytest.mark.parametrize(
        "error", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("x")]
    )
    def test_timeouts_say_the_provider_did_not_answer_in_time(self, get, error):
        def handler(request: httpx.Request) -> httpx.Response:
            raise error

        assert get(handler) == FetchFailure("the provider did not answer in time")

    def test_an_error_while_reading_the_body_becomes_a_fetch_failure(self, get):
        def broken() -> Iterator[bytes]:
            yield b"{"
            raise httpx.ReadError("connection reset")

        outcome = get(lambda r: httpx.Response(200, stream=Chunks(broken())))
        assert isinstance(outcome, FetchFailure)

    @pytest.mark.parametrize("url", ["not a url", "https://"])
    def test_a_url_that_cannot_be_requested_is_a_fetch_failure(self, get, url):
        assert isinstance(get(Recorder({}), url=url), FetchFailure)

    @pytest.mark.parametrize(
        "url",
        [
            pytest.param("https://tenant.auth0.com/\x00keys", id="control-character"),
            pytest.param("https://tenant.auth0.com/" + "k" * 70_000, id="too-long"),
        ],
    )
    def test_a_url_httpx_refuses_to_parse_is_a_fetch_failure(self, get, url):
        # Such a jwks_uri can come from a discovery document: fetch must not raise.
        recorder = Recorder({})
        assert get(recorder, url=url) == FetchFailure("the URL cannot be fetched")
        assert recorder.requests == []

    def test_a_corrupt_compressed_body_is_a_fetch_failure(self, get):
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b"not gzip", headers={"content-encoding": "gzip"})

        assert isinstance(get(handler), FetchFailure)

    def test_T89_async_total_deadline_ends_a_provider_that_never_answers(self):
        policy = CachePolicy(fetch_timeout=0.05)

        async def silent(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(3)
            return httpx.Response(200, content=BODY)

        started = time.monotonic()
        outcome = asyncio.run(afetch(URL, policy, httpx.MockTransport(silent)))
        assert time.monotonic() - started < 2.0
        assert outcome == FetchFailure("the provider did not answer in time")

    def test_T89_async_total_deadline_ends_a_body_dribbled_byte_by_byte(self):
        policy = CachePolicy(fetch_timeout=0.1)
        stream = Chunks(itertools.repeat(b" ", 200), pause=0.01)  # bounded: ~2 s
        started = time.monotonic()
        outcome = asyncio.run(
            afetch(URL, policy, httpx.MockTransport(lambda r: httpx.Response(200, stream=stream)))
        )
        assert time.monotonic() - started < 2.0
        assert isinstance(outcome, FetchFailure)
        assert stream.produced < 100

    def test_T89_sync_total_deadline_ends_a_body_dribbled_chunk_by_chunk(self):
        policy = CachePolicy(fetch_timeout=0.05)
        stream = Chunks(itertools.repeat(b" ", 200), pause=0.01)  # bounded: ~2 s
        started = time.monotonic()
        outcome = fetch(
            URL, policy, httpx.MockTransport(lambda r: httpx.Response(200, stream=stream))
        )
        assert time.monotonic() - started < 1.5
        # Whichever notices first: the caller's deadline or the reader's check between chunks.
        assert outcome in (
            FetchFailure("the provider did not answer in time"),
            FetchFailure("the response arrived too slowly"),
        )
        assert stream.produced < 100

    def test_T89_sync_total_deadline_ends_a_provider_that_never_answers(self):
        # httpx's timeouts bound socket operations; a transport that blocks (or a provider
        # dripping its headers, or a hanging DNS lookup) never trips them. The caller
        # gets its answer at the deadline anyway.
        policy = CachePolicy(fetch_timeout=0.05)
        release = threading.Event()

        def silent(request: httpx.Request) -> httpx.Response:
            release.wait(10)  # bounded: a regression fails the test instead of hanging it
            return httpx.Response(200, content=BODY)

        started = time.monotonic()
        try:
            outcome = fetch(URL, policy, httpx.MockTransport(silent))
            elapsed = time.monotonic() - started
        finally:
            release.set()
        assert elapsed < 5.0
        assert outcome == FetchFailure("the provider did not answer in time")

    def test_T89_sync_the_deadline_counts_from_the_call_not_from_each_hop(self):
        policy = CachePolicy(fetch_timeout=0.2)
        release = threading.Event()
        requested: list[str] = []

        def slow_then_silent(request: httpx.Request) -> httpx.Response:
            requested.append(request.url.path)
            if len(requested) == 1:
                time.sleep(0.15)  # most of the budget, then a redirect...
                return httpx.Response(302, headers={"location": "/hop"})
            release.wait(10)  # ...to a hop that never answers
            return httpx.Response(200, content=BODY)

        started = time.monotonic()
        try:
            outcome = fetch(URL, policy, httpx.MockTransport(slow_then_silent))
            elapsed = time.monotonic() - started
        finally:
            release.set()
        assert outcome == FetchFailure("the provider did not answer in time")
        assert elapsed < 5.0

    def test_a_sync_fetch_runs_in_the_callers_context(self):
        # The request runs on a worker thread; context variables (request ids, tracing)
        # go along, as they would had the caller made the request itself.
        seen: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(REQUEST_ID.get())
            return httpx.Response(200, content=BODY)

        token = REQUEST_ID.set("req-42")
        try:
            assert isinstance(fetch(URL, POLICY, httpx.MockTransport(handler)), Document)
        finally:
            REQUEST_ID.reset(token)
        assert seen == ["req-42"]

    def test_T89_sync_total_deadline_stops_following_slow_redirects(self):
        policy = CachePolicy(fetch_timeout=0.05)
        requested: list[str] = []

        def slow_hops(request: httpx.Request) -> httpx.Response:
            requested.append(request.url.path)
            time.sleep(0.03)
            if len(requested) == 4:
                return httpx.Response(200)  # an empty body: no chunk to notice the deadline
            return httpx.Response(302, headers={"location": f"/hop{len(requested)}"})

        outcome = fetch(URL, policy, httpx.MockTransport(slow_hops))
        assert outcome == FetchFailure("the provider did not answer in time")
        assert len(requested) < 4

    def test_an_async_fetch_runs_in_the_callers_task(self):
        # No second task (as wait_for made before Python 3.12): asyncio.run cancels every
        # task left at shutdown, and a fetch cancelled twice at once (its own task and the
        # one awaiting it) has httpcore's clean-up cut short, leaving the connection open.
        seen: list[object] = []

        async def handler(request: httpx.Request) -> httpx.Response:
            seen.append(asyncio.current_task())
            return httpx.Response(200, content=BODY)

        async def scenario() -> object:
            assert isinstance(await afetch(URL, POLICY, httpx.MockTransport(handler)), Document)
            return asyncio.current_task()

        assert seen == [asyncio.run(scenario())]

    def test_the_async_deadline_is_withdrawn_once_it_has_done_its_work(self):
        policy = CachePolicy(fetch_timeout=0.05)

        async def silent(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(3)
            return httpx.Response(200, content=BODY)

        async def scenario() -> tuple[Outcome, int]:
            outcome = await afetch(URL, policy, httpx.MockTransport(silent))
            await asyncio.sleep(0)  # a cancellation still pending would strike here
            task = asyncio.current_task()
            assert task is not None
            return outcome, task.cancelling() if sys.version_info >= (3, 11) else 0

        assert asyncio.run(scenario()) == (FetchFailure("the provider did not answer in time"), 0)

    def test_cancelling_an_async_fetch_is_not_mistaken_for_its_deadline(self):
        # The caller's cancellation (a client gone, a server shutting down) propagates.
        async def silent(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(3)
            return httpx.Response(200, content=BODY)

        async def scenario() -> None:
            fetching = asyncio.create_task(afetch(URL, POLICY, httpx.MockTransport(silent)))
            await asyncio.sleep(0.01)
            fetching.cancel()
            with pytest.raises(asyncio.CancelledError):
                await fetching

        asyncio.run(scenario())

    def test_a_fast_async_fetch_within_the_deadline_succeeds(self):
        async def quick(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0)
            return httpx.Response(200, content=BODY)

        outcome = asyncio.run(afetch(URL, POLICY, httpx.MockTransport(quick)))
        assert outcome == Document(200, {"content-length": str(len(BODY))}, BODY)


class TestTLSContext:
    """Building a TLS context loads the CA bundle (tens of milliseconds of CPU): once only."""

    def test_fetches_without_a_transport_share_one_context(self, monkeypatch, get_raw):
        loads: list[object] = []
        original = ssl.SSLContext.load_verify_locations

        def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
            loads.append(args or kwargs)
            original(self, *args, **kwargs)

        monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
        monkeypatch.setattr(_fetch, "_tls", None)
        refused = f"http://127.0.0.1:{unused_port()}/jwks.json"  # nobody listens: fails fast
        for _ in range(3):
            assert isinstance(get_raw(refused), FetchFailure)
        assert len(loads) == 1
        assert _fetch._tls is not None


@pytest.fixture(params=["sync", "async"])
def get_raw(request: pytest.FixtureRequest) -> Callable[[str], Outcome]:
    """``fetch`` / ``afetch`` with no transport: httpx's own, over real sockets."""
    if request.param == "sync":
        return lambda url: fetch(url, POLICY)
    return lambda url: asyncio.run(afetch(url, POLICY))


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
