"""The DPoP client of the load benchmark: a client key, its bound token, files of fresh proofs.

A DPoP client sends its token again and again, each time with a new proof: a
small JWT signed by its key that names the request's method and URL, the time
and a unique ``jti`` (RFC 9449). The servers refuse a proof seen before and one
older than ``dpop_proof_max_age`` (60 s, plus the leeway), so proofs cannot be
signed once and cached like the token pool: :func:`write_proofs` signs a file of
them just before each measurement (about 65 µs a proof, so some 15,000 a second),
all with the same ``iat``, for a measurement of a few seconds. ``proofs.lua``
sends the file's first line as the ``Authorization`` value and one proof per
request, never the same one twice.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from bearerguard._mint import SigningKey, dpop_proof

from . import tokens

__all__ = ["ALGORITHM", "DPoPClient", "write_proofs"]

ALGORITHM = "ES256"  # what DPoP clients use most (the browser's WebCrypto P-256 key)


@dataclass(frozen=True)
class DPoPClient:
    """One client: its proof-signing key and the access token bound to that key.

    Example::

        client = DPoPClient.create(signing_key, serial=7)
        write_proofs(path, client, "http://127.0.0.1:8000/dpop", count=1000)
    """

    key: SigningKey
    token: str
    #: jti serial numbers: each proof of the run gets the next one
    serials: itertools.count[int]

    @classmethod
    def create(cls, signing_key: rsa.RSAPrivateKey, serial: int) -> DPoPClient:
        """A new client key and a token signed by the benchmark's key, bound to it."""
        key = SigningKey(ALGORITHM)
        token = tokens.mint(signing_key, serial, jkt=key.thumbprint())
        return cls(key, token, itertools.count())

    def proof(self, url: str, *, method: str = "GET", iat: float | None = None) -> str:
        """A proof for one request to ``url`` with this client's token, never made before."""
        issued = int(time.time()) if iat is None else iat
        return dpop_proof(
            self.key,
            method=method,
            url=url,
            iat=issued,
            jti=f"load-{next(self.serials)}",
            access_token=self.token,
        )


def write_proofs(path: Path, client: DPoPClient, url: str, count: int) -> Path:
    """A file as ``proofs.lua`` reads it: ``DPoP <token>``, then ``count`` new proofs for
    GET ``url``, one per line, all issued now."""
    now = int(time.time())
    lines = [f"DPoP {client.token}", *(client.proof(url, iat=now) for _ in range(count))]
    path.write_text("\n".join(lines) + "\n")
    return path
