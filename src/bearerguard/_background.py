"""An HTTP server serving from a daemon thread: started in one call, stopped in one.

Shared by the dev issuer and by the loopback servers of the tests and benchmarks
(key servers, identity providers, stubs), which all bind a ``socketserver`` and
serve it in the background while the caller goes on.
"""

from __future__ import annotations

import socketserver
import threading

__all__ = ["serve_in_background", "stop_serving"]


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
