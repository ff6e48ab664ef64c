"""The signing key and the RS256 tokens of the load benchmark, and the on-disk token pool.

RS256 is the reference algorithm (what Auth0 and most providers sign with), and
an RS256 signature costs the signer about a quarter of a millisecond: the
hundreds of thousands of distinct tokens that "a new token per request" needs
are signed once, by a pool of worker processes, and kept under
``benchmarks/.cache/load/`` with the key that signed them. The pool's file name
carries a fingerprint of everything that shapes a token (the public key, the
claims template, the lifetime), so a change to any of them mints a new pool;
a pool whose tokens expire within a day is minted again too. Every token of the
pool has its own ``sub``, hence its own bytes and signature: a server cannot
have verified one before, unless the benchmark itself walked past it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import AUDIENCE, GRANTED, ISSUER, KID, USERINFO

__all__ = [
    "POOL_LIFETIME",
    "TokenPool",
    "forge",
    "load_or_create_key",
    "mint",
    "public_jwk",
    "token_pool",
    "write_tokens",
]

POOL_LIFETIME = 30 * 86400  # pool tokens stay valid for a month ...
_MIN_REMAINING = 86400  # ... and are minted again when less than a day is left
_CHUNK = 2000  # tokens per task of the minting processes
_FORMAT = 1  # bump when the token layout changes without the template changing


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _claims(serial: int, issued_at: int, lifetime: int, scope: str, **extra: Any) -> dict[str, Any]:
    """An Auth0-shaped access token for a signed-in user (the shape micro.py times too);
    ``extra`` claims are added (``cnf`` for a DPoP-bound token)."""
    return {
        "iss": ISSUER,
        "sub": f"auth0|{serial:024x}",
        "aud": [AUDIENCE, USERINFO],
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "azp": "Xq7sdf8Gh2kLmN3pQrStUvWx9YzAbC1d",
        "scope": scope,
        "https://example.com/roles": ["admin", "editor"],
        **extra,
    }


_HEADER = _segment({"alg": "RS256", "typ": "JWT", "kid": KID})


def mint(
    key: rsa.RSAPrivateKey,
    serial: int,
    *,
    issued_at: int | None = None,
    lifetime: int = 86400,
    scope: str = GRANTED,
    jkt: str | None = None,
) -> str:
    """One RS256 access token; ``serial`` makes its ``sub`` (and so the token) unique.

    ``jkt``: the thumbprint of a client's DPoP key, which binds the token to it (``cnf``).
    """
    now = int(time.time()) if issued_at is None else issued_at
    extra = {} if jkt is None else {"cnf": {"jkt": jkt}}
    signing_input = _HEADER + "." + _segment(_claims(serial, now, lifetime, scope, **extra))
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)


def forge(token: str, other: str) -> str:
    """``token`` carrying ``other``'s signature: well formed, signed by the key, yet forged."""
    return token.rpartition(".")[0] + "." + other.rpartition(".")[2]


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The public half of ``key`` as the JWK the key server publishes."""
    numbers = key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": _b64(n), "e": _b64(e)}


def load_or_create_key(cache_dir: Path) -> rsa.RSAPrivateKey:
    """The benchmark's signing key, kept in ``cache_dir`` so that its token pool stays usable.

    A throwaway key that signs benchmark tokens only; the cache is never committed.
    """
    path = cache_dir / "signing-key.pem"
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(loaded, rsa.RSAPrivateKey):
            return loaded
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cache_dir.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with _replacing(path) as partial:
        partial.write_bytes(pem)
    return key


@dataclass(frozen=True)
class TokenPool:
    """A file of ``count`` distinct valid tokens, one per line."""

    path: Path
    count: int
    fingerprint: str
    not_after: int  # the earliest exp of the pool
    minted_now: bool  # whether this run had to sign it (else it came from the cache)


def token_pool(
    key: rsa.RSAPrivateKey,
    cache_dir: Path,
    size: int,
    *,
    processes: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> TokenPool:
    """At least ``size`` distinct tokens signed by ``key``: from the cache, or minted now."""
    fingerprint = _fingerprint(key)
    path = cache_dir / f"pool-{fingerprint[:16]}.tokens"
    manifest = path.with_suffix(".json")
    if path.exists() and manifest.exists():
        known = json.loads(manifest.read_text())
        if (
            known.get("fingerprint") == fingerprint
            and known.get("count", 0) >= size
            and known.get("not_after", 0) - time.time() > _MIN_REMAINING
        ):
            return TokenPool(path, known["count"], fingerprint, known["not_after"], False)
    workers = processes or os.cpu_count() or 1
    if progress:
        progress(f"signing {size} distinct RS256 tokens with {workers} processes (once; cached)")
    issued_at = int(time.time())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    starts = range(0, size, _CHUNK)
    with ProcessPoolExecutor(max_workers=workers) as executor:
        chunks = executor.map(
            _mint_chunk,
            [pem] * len(starts),
            starts,
            [min(_CHUNK, size - start) for start in starts],
            [issued_at] * len(starts),
        )
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _replacing(path) as partial, partial.open("w") as out:
            for chunk in chunks:
                out.write("\n".join(chunk) + "\n")
    not_after = issued_at + POOL_LIFETIME
    record = {"fingerprint": fingerprint, "count": size, "not_after": not_after}
    with _replacing(manifest) as partial:  # last: a pool without its manifest is never used
        partial.write_text(json.dumps(record))
    return TokenPool(path, size, fingerprint, not_after, True)


def write_tokens(path: Path, tokens: list[str]) -> Path:
    """A token file as ``tokens.lua`` reads it: one token per line."""
    path.write_text("\n".join(tokens) + "\n")
    return path


def _mint_chunk(pem: bytes, start: int, count: int, issued_at: int) -> list[str]:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)  # noqa: S101 - we wrote it
    return [
        mint(key, serial, issued_at=issued_at, lifetime=POOL_LIFETIME)
        for serial in range(start, start + count)
    ]


def _fingerprint(key: rsa.RSAPrivateKey) -> str:
    shape = {
        "format": _FORMAT,
        "jwk": public_jwk(key),
        "header": _HEADER,
        "claims": _claims(0, 0, POOL_LIFETIME, GRANTED),
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """Write to a side file and move it into place only once the block succeeds."""
    partial = path.with_name(path.name + f".partial-{os.getpid()}")
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
