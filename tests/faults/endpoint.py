"""One origin of the fault server: a listening port that serves documents or a fault."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from enum import Enum

from .wire import (
    HOST,
    JSON,
    Answer,
    Request,
    bound_socket,
    closed_by_peer,
    head,
    padded,
    read_request,
    reissued,
    send,
    send_chunked,
)

OTHER_HOST = "localhost"  # the same loopback, another origin
MOVED = "/moved"  # where a same-origin redirect leads
DRIP_INTERVAL = 0.05  # seconds between two dripped bytes
# Bounds for a broken run, never reached by a passing one: a held request, a drip or
# a handler thread outlives its client by at most this long.
HOLD_LIMIT = 60.0
JOIN_LIMIT = 10.0
POLL = 0.02


class Fault(str, Enum):
    """What an endpoint does with a request. Each value names a row of the fault table."""

    HEALTHY = "healthy"
    REFUSED = "refused"  # nothing listens on the port: connect() gets a RST
    TIMEOUT = "timeout"  # accepts and reads the request, then never answers
    DRIP_BODY = "drip-body"  # headers at once, then the body one byte per DRIP_INTERVAL
    DRIP_HEADERS = "drip-headers"  # the status line, then header bytes one per DRIP_INTERVAL
    HTTP_404 = "404"
    HTTP_429 = "429"  # with Retry-After: 120
    HTTP_500 = "500"
    HTTP_503 = "503"
    NOT_JSON = "not-json"  # 200 text/html: a login page, as a captive portal serves
    GARBLED_JSON = "garbled-json"  # 200 application/json, cut off mid-document
    EMPTY_KEY_SET = "empty-key-set"  # {"keys": []} (key set only)
    OVERSIZED = "oversized"  # a valid document padded past the cap, Content-Length declared
    OVERSIZED_CHUNKED = "oversized-chunked"  # the same, chunked: no Content-Length
    REDIRECT_OTHER_PORT = "redirect-other-port"  # 302 to the "another origin" endpoint
    REDIRECT_OTHER_HOST = "redirect-other-host"  # 302 to http://localhost:<same port>
    REDIRECT_SAME_ORIGIN = "redirect-same-origin"  # 302 to /moved/...: followed (a control)
    # Discovery names the issuer with one "/" more: another issuer. (Without its "/" it would
    # be the same one: for an empty path, RFC 3986 makes "" and "/" equivalent.)
    ISSUER_TRAILING_SLASH = "issuer-trailing-slash"
    ISSUER_OTHER_HOST = "issuer-other-host"  # discovery names http://localhost:<port>/


KEY_SET_ONLY = frozenset({Fault.EMPTY_KEY_SET})
DISCOVERY_ONLY = frozenset({Fault.ISSUER_TRAILING_SLASH, Fault.ISSUER_OTHER_HOST})


_STATUSES = {Fault.HTTP_404: 404, Fault.HTTP_429: 429, Fault.HTTP_500: 500, Fault.HTTP_503: 503}


class Endpoint:
    """One origin of the provider (``http://127.0.0.1:<port>``): its documents or a fault."""

    def __init__(self, name: str, documents: Callable[[str], Answer | None]) -> None:
        self.name = name
        self._documents = documents  # path -> the healthy answer, None for a 404
        self.elsewhere = ""  # the origin cross-origin redirects point to (set by the provider)
        self._state = threading.Condition()  # guards everything below
        self._fault = Fault.HEALTHY
        self._requests: list[Request] = []
        self._held = 0
        self._open: set[socket.socket] = set()  # client connections being served
        self._handlers: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._waker, self._wakeup = socket.socketpair()  # interrupts the acceptor's select()
        self._waker.setblocking(False)
        self._listener = bound_socket(0)
        self._listener.listen(64)
        self._listening = True
        self.port: int = self._listener.getsockname()[1]
        self.origin = f"http://{HOST}:{self.port}"
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"faulty-{name}-{self.port}", daemon=True
        )
        self._acceptor.start()

    # --- the test's controls ----------------------------------------------------------------

    def fail(self, fault: Fault) -> None:
        """Answer every request from now on with ``fault`` (``Fault.HEALTHY`` to recover).

        Requests held by :data:`Fault.TIMEOUT` are answered with the new fault (a
        refusal closes them unanswered). Returns once a refusal is in force.
        """
        listening = fault is not Fault.REFUSED
        with self._state:
            self._fault = fault
            self._state.notify_all()
            self._wake()  # the acceptor owns the sockets: it swaps them and says so
            if not self._state.wait_for(lambda: self._listening == listening, JOIN_LIMIT):
                raise RuntimeError(f"the {self.name} endpoint did not switch to {fault.value}")

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order."""
        with self._state:
            return list(self._requests)

    @property
    def hits(self) -> int:
        with self._state:
            return len(self._requests)

    @property
    def held(self) -> int:
        """Requests held unanswered right now (:data:`Fault.TIMEOUT`)."""
        with self._state:
            return self._held

    def wait_until_held(self, count: int = 1, timeout: float = JOIN_LIMIT) -> bool:
        """Wait until ``count`` requests are held; ``False`` if they were not in time."""
        with self._state:
            return self._state.wait_for(lambda: self._held >= count, timeout)

    def wait_until_idle(self, timeout: float = JOIN_LIMIT) -> bool:
        """Wait until every client connection is closed; ``False`` if not in time."""
        with self._state:
            return self._state.wait_for(lambda: not self._open, timeout)

    def close(self) -> list[str]:
        """Stop: release held requests, cut every connection, join every thread.

        Returns the names of the threads that would not stop (none, unless broken).
        """
        self._stopping.set()
        with self._state:
            self._state.notify_all()
            self._wake()
            connections = list(self._open)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(JOIN_LIMIT)
        with self._state:
            handlers = list(self._handlers)
        for handler in handlers:
            handler.join(JOIN_LIMIT)
        for sock in (self._listener, self._waker, self._wakeup):
            sock.close()
        return [t.name for t in (self._acceptor, *handlers) if t.is_alive()]

    # --- accepting ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            self._listen_or_refuse()
            watched = [self._wakeup, self._listener] if self._listening else [self._wakeup]
            readable, _, _ = select.select(watched, [], [], HOLD_LIMIT)
            if self._wakeup in readable:
                self._wakeup.recv(4096)
            if self._listening and self._listener in readable:
                with contextlib.suppress(BlockingIOError):
                    conn, _ = self._listener.accept()
                    self._serve_in_thread(conn)

    def _listen_or_refuse(self) -> None:
        with self._state:
            refusing = self._fault is Fault.REFUSED
            if refusing and self._listening:
                # Take the port with a socket that does not listen, then drop the listener:
                # connections (and any waiting in the backlog) are refused, the port is kept.
                reserve = bound_socket(self.port)
                self._listener.close()
                self._listener, self._listening = reserve, False
            elif not refusing and not self._listening:
                self._listener.listen(64)
                self._listening = True
            self._state.notify_all()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._waker.send(b"!")

    def _serve_in_thread(self, conn: socket.socket) -> None:
        handler = threading.Thread(
            target=self._serve, args=(conn,), name=f"faulty-{self.name}-conn", daemon=True
        )
        with self._state:
            self._open.add(conn)
            self._handlers.add(handler)
            # Forget finished handlers as we go: a long test makes many connections.
            self._handlers = {t for t in self._handlers if t.is_alive() or t is handler}
        handler.start()

    # --- serving one connection ---------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(JOIN_LIMIT)
                request = read_request(conn)
                if request is None:
                    return
                with self._state:
                    self._requests.append(request)
                    fault = self._fault
                if fault is Fault.TIMEOUT:
                    fault = self._hold(conn)
                if fault is not None and fault is not Fault.REFUSED:
                    self._answer(conn, request, fault)
        except OSError:
            pass  # the client gave up (its deadline passed): nothing left to do
        finally:
            with self._state:
                self._open.discard(conn)
                self._state.notify_all()

    def _hold(self, conn: socket.socket) -> Fault | None:
        """Block while the fault is TIMEOUT; the fault to answer with, or None to hang up."""
        with self._state:
            self._held += 1
            self._state.notify_all()
        try:
            give_up = time.monotonic() + HOLD_LIMIT
            while time.monotonic() < give_up and not self._stopping.is_set():
                with self._state:
                    self._state.wait_for(lambda: self._fault is not Fault.TIMEOUT, POLL)
                    if self._fault is not Fault.TIMEOUT:
                        return self._fault
                if closed_by_peer(conn):
                    return None
            return None
        finally:
            with self._state:
                self._held -= 1
                self._state.notify_all()

    def _answer(self, conn: socket.socket, request: Request, fault: Fault) -> None:
        path = request.path
        if fault is Fault.REDIRECT_SAME_ORIGIN:
            if path.startswith(MOVED + "/"):
                fault, path = Fault.HEALTHY, path[len(MOVED) :]
            else:
                send(conn, Answer(302, b"", {"Location": MOVED + path}))
                return
        if fault is Fault.REDIRECT_OTHER_PORT:
            send(conn, Answer(302, b"", {"Location": self.elsewhere + path}))
            return
        if fault is Fault.REDIRECT_OTHER_HOST:
            send(conn, Answer(302, b"", {"Location": f"http://{OTHER_HOST}:{self.port}{path}"}))
            return
        if fault in _STATUSES:
            extra = {"Retry-After": "120"} if fault is Fault.HTTP_429 else {}
            send(conn, Answer(_STATUSES[fault], b'{"error": "nope"}', JSON | extra))
            return
        if fault is Fault.NOT_JSON:
            page = b"<!doctype html><html><body><form>Sign in</form></body></html>"
            send(conn, Answer(200, page, {"Content-Type": "text/html; charset=utf-8"}))
            return
        healthy = self._documents(path)
        if healthy is None:
            send(conn, Answer(404, b"", {}))
            return
        if fault is Fault.GARBLED_JSON:
            send(conn, Answer(200, healthy.body[: len(healthy.body) // 2], JSON))
        elif fault is Fault.EMPTY_KEY_SET:
            send(conn, Answer(200, b'{"keys": []}', healthy.headers))
        elif fault is Fault.ISSUER_TRAILING_SLASH:
            send(conn, reissued(healthy, lambda issuer: issuer + "/"))
        elif fault is Fault.ISSUER_OTHER_HOST:
            send(conn, reissued(healthy, lambda issuer: issuer.replace(HOST, OTHER_HOST, 1)))
        elif fault is Fault.OVERSIZED:
            send(conn, padded(healthy))
        elif fault is Fault.OVERSIZED_CHUNKED:
            send_chunked(conn, padded(healthy))
        elif fault is Fault.DRIP_BODY:
            self._drip_body(conn, healthy)
        elif fault is Fault.DRIP_HEADERS:
            self._drip_headers(conn)
        else:
            send(conn, healthy)

    def _drip_body(self, conn: socket.socket, answer: Answer) -> None:
        conn.sendall(head(answer, len(answer.body)))
        for byte in limited(answer.body):
            if self._stopping.wait(DRIP_INTERVAL):
                return
            conn.sendall(byte)

    def _drip_headers(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        for byte in limited(b"a" * 100_000):
            if self._stopping.wait(DRIP_INTERVAL):
                return
            conn.sendall(byte)


def limited(body: bytes) -> Iterator[bytes]:
    """The body's bytes one by one, for at most HOLD_LIMIT seconds of dripping."""
    limit = int(HOLD_LIMIT / DRIP_INTERVAL)
    for index in range(min(len(body), limit)):
        yield body[index : index + 1]
