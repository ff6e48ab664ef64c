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

import base64
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from bearerguard import Verifier
from bearerguard._signatures import SignaturePrimitive

from . import PARENT_PID_VARIABLE

__all__ = ["server_verifier", "signature_floor", "watch_parent"]

_WATCH_INTERVAL = 1.0  # one wake-up a second: nothing next to thousands of requests


def server_verifier() -> Verifier:
    """The verifier of a benchmark server: from the environment, its keys fetched already."""
    verifier = Verifier.from_env()
    verifier.warm_up()
    watch_parent()
    return verifier


def signature_floor(jwks_uri: str | None = None) -> Callable[[str | None], bool]:
    """The floor of a guarded route: a check of the token's RS256 signature and nothing else.

    What the reference routes (``/floor``) run instead of bearerguard: the
    ``Authorization`` value's token, split at its last dot, the signature
    decoded, and the cheapest RS256 check there is, the very one bearerguard makes
    (``cryptography`` recovers the encoded message, ``hashlib`` hashes, one
    comparison: RFC 8017 §8.2.2), with the issuer's key loaded once here from
    ``jwks_uri`` (by default the servers' ``BEARERGUARD_JWKS_URI``). No claim,
    header or shape is looked at, so no verifier that checks the signature can
    serve a new token per request faster than this.
    """
    url = jwks_uri or os.environ["BEARERGUARD_JWKS_URI"]
    jwk = httpx.get(url, timeout=10).json()["keys"][0]
    key = rsa.RSAPublicNumbers(_number(jwk["e"]), _number(jwk["n"])).public_key()
    check = SignaturePrimitive("RS256").verify

    def verified(authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        signing_input, _, signature = authorization[7:].rpartition(".")
        try:
            raw = base64.urlsafe_b64decode(signature + "==")
            return check(signing_input.encode("ascii"), key, raw)
        except ValueError:  # not base64, not ASCII
            return False

    return verified


def _number(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


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
