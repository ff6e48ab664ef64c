"""An HTTP server serving from a daemon thread: started in one call, stopped in one.

Shared by the dev issuer and by the loopback servers of the tests and benchmarks
(key servers, identity providers, stubs), which all bind a ``socketserver`` and
serve it in the background while the caller goes on.
"""

from __future__ import annotations

import socketserver
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any

__all__ = ["QuietHTTPServer", "serve_in_background", "stop_serving"]


class QuietHTTPServer(ThreadingHTTPServer):
    """A thread per request (daemon threads), and no traceback for a client that hung up.

    A client that gave up (a timeout, a held request let go late) has closed its socket by
    the time the answer is written: expected, and not worth a traceback on stderr. Other
    errors go to :meth:`report_error` (by default ``socketserver``'s traceback).
    """

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        self.report_error(request, client_address)

    def report_error(self, request: Any, client_address: Any) -> None:
        super().handle_error(request, client_address)


def serve_in_background(
    server: socketserver.BaseServer, *, name: str, poll_interval: float = 0.1
) -> threading.Thread:
    """Serve ``server`` from a new daemon thread (started) until :func:`stop_serving`.

    ``poll_interval`` is how long a shutdown may wait for the serving loop to notice.

    Example::

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = serve_in_background(server, name="key-server")
        ...
        stop_serving(server, thread)
    """
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name=name,
        daemon=True,
    )
    thread.start()
    return thread


def stop_serving(
    server: socketserver.BaseServer, thread: threading.Thread, *, timeout: float = 10.0
) -> None:
    """Stop the serving loop, close the listening socket and join the thread."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=timeout)
