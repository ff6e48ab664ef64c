"""What every benchmark app does when a server starts it: get a warm verifier, watch its parent.

The verifier is built from the ``BEARERGUARD_*`` environment the benchmark sets
(issuer, audience and the loopback ``BEARERGUARD_JWKS_URI``) with bearerguard's
defaults otherwise, and fetches its keys with ``warm_up()`` before the server
accepts a connection: no key fetch can happen while the load is timed.

A server runs in a process group of its own, so that a Ctrl-C in the terminal
does not kill it half-way; the benchmark stops it (SIGTERM, then SIGKILL to the
whole group) when it is done, on an error, or on Ctrl-C. Should the benchmark
itself be killed outright (SIGKILL leaves it no last word), the watchdog
started here notices within a second and takes its whole server group down.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

from bearerguard import Verifier

from . import PARENT_PID_VARIABLE

__all__ = ["server_verifier", "watch_parent"]

_WATCH_INTERVAL = 1.0  # one wake-up a second: nothing next to thousands of requests


def server_verifier() -> Verifier:
    """The verifier of a benchmark server: from the environment, its keys fetched already."""
    verifier = Verifier.from_env()
    verifier.warm_up()
    watch_parent()
    return verifier


def watch_parent() -> None:
    """Kill this server's process group when the benchmark that started it is gone."""
    raw = os.environ.get(PARENT_PID_VARIABLE)
    if not raw:
        return
    parent = int(raw)

    def watch() -> None:
        while True:
            time.sleep(_WATCH_INTERVAL)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(os.getpgrp(), signal.SIGKILL)
                return
            except PermissionError:  # alive, under another user: it cannot be ours then
                return

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
