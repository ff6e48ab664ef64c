"""What ``verify()`` of an encrypted access token (JWE) costs over its raw cryptography.

Usage::

    python benchmarks/jwe.py [--seconds N] [--json]

Two kinds of encrypted tokens, as providers send them: ``RSA-OAEP-256`` + ``A256GCM``
(Auth0's) to an RSA-2048 key, and ``ECDH-ES`` + ``A128GCM`` to a P-256 key; inside each,
an Auth0-shaped RS256 access token. For each kind, a pool of distinct tokens encrypted in
advance, and two candidates taking turns in every round:

* ``verify()`` of a token not seen before by a verifier holding both decryption keys (the
  verified-token cache on, as by default, so the cost of filling it is included);
* the floor: the raw ``cryptography`` operations of the very same token, its parts decoded
  in advance: the content key (RSA-OAEP decryption of the key block; or the ephemeral
  key's import with its on-curve check, ECDH and the Concat KDF), AES-GCM decryption of
  the content, and the RS256 check of the inner token's signature.

Medians of the per-round means; the garbage collector is off while timing. No target is
set: the ratio says what bearerguard adds to the work no implementation can skip (the
strict parse of the JWE and of the inner token, the header checks, the claims).
"""

from __future__ import annotations

import base64
import json
import platform
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.append(str(Path(__file__).resolve().parent.parent / "src"))
    sys.path.append(str(Path(__file__).resolve().parent.parent))

import cryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from bearerguard._mint import SigningKey, compact_jws
from bearerguard.testing._encryption import encrypt_token
from benchmarks._common import seconds_main, signature_of, warmed_and_timed
from benchmarks.micro import cached_verifier, token_claims

#: the kinds of encrypted tokens timed: name -> (alg, enc)
KINDS = {"RSA-OAEP-256 + A256GCM": ("RSA-OAEP-256", "A256GCM"),
         "ECDH-ES + A128GCM": ("ECDH-ES", "A128GCM")}  # fmt: skip
ROUNDS = 7
_OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


def _decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _floor_parts(token: str) -> dict[str, Any]:
    """What the floor takes, decoded in advance: the JWE's parts, its header's ``epk``
    coordinates, and the inner token's signing input and signature."""
    header_b64, encrypted_key, iv, ciphertext, tag = token.split(".")
    header = json.loads(_decoded(header_b64))
    epk = header.get("epk")
    return {
        "aad": header_b64.encode("ascii"),
        "encrypted_key": _decoded(encrypted_key),
        "iv": _decoded(iv),
        "sealed": _decoded(ciphertext) + _decoded(tag),
        "epk": None if epk is None else (
            int.from_bytes(_decoded(epk["x"]), "big"), int.from_bytes(_decoded(epk["y"]), "big")
        ),
    }  # fmt: skip


def _rsa_floor(key: rsa.RSAPrivateKey) -> Any:
    def content(parts: dict[str, Any]) -> bytes:
        cek = key.decrypt(parts["encrypted_key"], _OAEP)
        return AESGCM(cek).decrypt(parts["iv"], parts["sealed"], parts["aad"])

    return content


def _ecdh_floor(key: ec.EllipticCurvePrivateKey, enc: str, size: int) -> Any:
    # RFC 7518 §4.6.2 for ECDH-ES direct, without apu/apv: fixed for every token.
    info = enc.encode("ascii")
    other_info = struct.pack(">I", len(info)) + info + bytes(8) + struct.pack(">I", 8 * size)
    curve = ec.SECP256R1()

    def content(parts: dict[str, Any]) -> bytes:
        x, y = parts["epk"]
        ephemeral = ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
        shared = key.exchange(ec.ECDH(), ephemeral)
        cek = ConcatKDFHash(hashes.SHA256(), size, other_info).derive(shared)
        return AESGCM(cek).decrypt(parts["iv"], parts["sealed"], parts["aad"])

    return content


def run(seconds: float) -> dict[str, Any]:
    signing = SigningKey("RS256")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    recipients = {"RSA-OAEP-256": rsa_key, "ECDH-ES": ec_key}
    verifier = cached_verifier(signing.public_jwk(), decryption_keys=[rsa_key, ec_key])
    found = verifier._plan.cache.locate(
        token_claims(0, 0)["iss"], signing.kid, "RS256", time.monotonic(), set()
    )
    public: Any = getattr(found, "public_key", None)
    assert isinstance(public, rsa.RSAPublicKey)  # noqa: S101 - warm_up() cached the key set
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

    # About 600 µs a call on average over the four candidates (an RSA-2048 private-key
    # operation dominates); the pools cover every timed verify(), so none is verified twice
    # (signing and encrypting cost about a millisecond a token, hence the cap).
    per_round = max(10, min(int(seconds * 1e6 / ROUNDS / 2 / len(KINDS) / 600), 200))
    pool_size = ROUNDS * per_round + 10  # and 10 for the warm-up
    now = int(time.time())
    header = {"alg": "RS256", "typ": "at+jwt", "kid": signing.kid}
    candidates: dict[str, Callable[[int], object]] = {}
    sizes: dict[str, dict[str, int]] = {}
    for name, (alg, enc) in KINDS.items():
        claims = (token_claims(now, serial) for serial in range(pool_size))
        inner = [compact_jws(header, each, signing) for each in claims]
        pool = [encrypt_token(jws, recipients[alg], alg=alg, enc=enc) for jws in inner]
        parts = [_floor_parts(token) for token in pool]
        signatures = [signature_of(jws) for jws in inner]
        content = _rsa_floor(rsa_key) if alg == "RSA-OAEP-256" else _ecdh_floor(ec_key, enc, 16)
        # Sanity: the verifier opens the token, and the floor gets the very same inner token.
        assert verifier.verify(pool[0]).subject == token_claims(now, 0)["sub"]  # noqa: S101
        assert content(parts[0]).decode() == inner[0]  # noqa: S101
        verify = verifier.verify

        def whole(i: int, verify: Any = verify, pool: list[str] = pool) -> object:
            return verify(pool[i % pool_size])

        def floor(
            i: int, content: Any = content, parts: Any = parts, signatures: Any = signatures
        ) -> object:
            content(parts[i % pool_size])
            signing_input, signature = signatures[i % pool_size]
            public.verify(signature, signing_input, pkcs1, sha256)
            return None

        candidates[f"{name} verify()"] = whole
        candidates[f"{name} floor"] = floor
        sizes[name] = {"token_chars": len(pool[0]), "inner_chars": len(inner[0])}
    warm_up = range(pool_size - 10, pool_size)  # the last 10 tokens of each pool
    _, medians = warmed_and_timed(candidates, ROUNDS, per_round, warm_up)
    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "rounds": ROUNDS,
        "per_round": per_round,
        "distinct_tokens": pool_size,
        "kinds": list(KINDS),
        "sizes": sizes,
        "us_median": medians,
        "over_floor": {
            name: medians[f"{name} verify()"] / medians[f"{name} floor"] for name in KINDS
        },
    }


def report(result: dict[str, Any]) -> str:
    medians, sizes = result["us_median"], result["sizes"]
    lines = [
        f"{result['rounds']} interleaved rounds of {result['per_round']} distinct tokens per "
        f"kind (cryptography {result['cryptography']}, Python {result['python']}); no target",
        "",
        f"{'encrypted token':<24}{'verify() µs':>13}{'floor µs':>10}{'x floor':>9}"
        f"{'token chars':>13}{'inner chars':>13}",
    ]
    lines.extend(
        f"{name:<24}{medians[f'{name} verify()']:>13.1f}{medians[f'{name} floor']:>10.1f}"
        f"{result['over_floor'][name]:>9.2f}"
        f"{sizes[name]['token_chars']:>13}{sizes[name]['inner_chars']:>13}"
        for name in result["kinds"]
    )
    lines += [
        "",
        "floor: the raw cryptography of the same token (content key, AES-GCM, the inner "
        "RS256 check)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return seconds_main(__doc__, run, report, argv)


if __name__ == "__main__":
    sys.exit(main())
