"""The claims of a minted token: moved to :mod:`bearerguard._mint`, re-exported here.

The testing support, the dev issuer and the command line share that module; this
name stays so that code importing from it keeps working.
"""

from __future__ import annotations

from bearerguard._mint import (
    CLIENT_ID,
    REGISTERED_CLAIMS,
    build_claims,
    namespace_prefix,
    scope_claim,
    whole_seconds,
)

__all__ = [
    "CLIENT_ID",
    "REGISTERED_CLAIMS",
    "build_claims",
    "namespace_prefix",
    "scope_claim",
    "whole_seconds",
]
