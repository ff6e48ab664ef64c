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
import json
import os
import signal
import threading
import time
from collections.abc import Callable

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bearerguard import Verifier
from bearerguard._signatures import SignaturePrimitive

from . import PARENT_PID_VARIABLE

__all__ = ["dpop_signature_floor", "server_verifier", "signature_floor", "watch_parent"]

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
    token_verified = _token_signature_check(jwks_uri)

    def verified(authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        return token_verified(authorization[7:])

    return verified


def dpop_signature_floor(jwks_uri: str | None = None) -> Callable[[str | None, str | None], bool]:
    """The floor of a DPoP route: the token's RS256 signature and the proof's ES256 one.

    What ``/dpop-floor`` runs instead of bearerguard, given the ``Authorization``
    and ``DPoP`` values: the token checked as :func:`signature_floor` checks it,
    and the proof's signature by the key its header carries, with bearerguard's
    own ES256 primitive. The key is imported once per header segment (a client
    signs every proof with one key, so this is one import per client, as
    bearerguard's memo of proof headers does); nothing else of the proof is read:
    no claim, no type, no replay. No verifier that checks both signatures can
    serve a new proof per request faster.
    """
    token_verified = _token_signature_check(jwks_uri)
    proof_check = SignaturePrimitive("ES256").verify
    keys: dict[str, ec.EllipticCurvePublicKey] = {}

    def proof_key(segment: str) -> ec.EllipticCurvePublicKey:
        key = keys.get(segment)
        if key is None:
            jwk = json.loads(_decoded(segment))["jwk"]
            numbers = ec.EllipticCurvePublicNumbers(
                _number(jwk["x"]), _number(jwk["y"]), ec.SECP256R1()
            )
            key = keys[segment] = numbers.public_key()
        return key

    def verified(authorization: str | None, proof: str | None) -> bool:
        if not authorization or not proof or not authorization.startswith("DPoP "):
            return False
        if not token_verified(authorization[5:]):
            return False
        signing_input, _, signature = proof.rpartition(".")
        try:
            key = proof_key(signing_input.partition(".")[0])
            return proof_check(signing_input.encode("ascii"), key, _decoded(signature))
        except (ValueError, KeyError, TypeError):  # not base64, not JSON, no such member
            return False

    return verified


def _token_signature_check(jwks_uri: str | None) -> Callable[[str], bool]:
    """The RS256 check of a token's signature under the issuer's key, loaded once."""
    url = jwks_uri or os.environ["BEARERGUARD_JWKS_URI"]
    jwk = httpx.get(url, timeout=10).json()["keys"][0]
    key = rsa.RSAPublicNumbers(_number(jwk["e"]), _number(jwk["n"])).public_key()
    check = SignaturePrimitive("RS256").verify

    def verified(token: str) -> bool:
        signing_input, _, signature = token.rpartition(".")
        try:
            raw = base64.urlsafe_b64decode(signature + "==")
            return check(signing_input.encode("ascii"), key, raw)
        except ValueError:  # not base64, not ASCII
            return False

    return verified


def _decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


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
