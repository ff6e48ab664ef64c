"""Signing keys and compact JWS: moved to :mod:`bearerguard._mint`, re-exported here.

The testing support, the dev issuer and the command line share that module; this
name stays so that code importing from it keeps working.
"""

from __future__ import annotations

from bearerguard._mint import (
    FAKE_ALGORITHMS,
    SIGNING_ALGORITHMS,
    PrivateKey,
    SigningKey,
    b64url,
    compact_jws,
    json_segment,
)

__all__ = [
    "FAKE_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "PrivateKey",
    "SigningKey",
    "b64url",
    "compact_jws",
    "json_segment",
]
