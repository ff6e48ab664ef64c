"""Test support: real keys, raw token signing, an in-process identity provider, clocks.

Nothing here mocks verification: tokens are signed with real private keys and
the verifier fetches the provider's documents through an httpx MockTransport.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from unittest import mock

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from bearerguard._config import DPOP_ALGORITHMS

# RFC 6750 §3: the quoted values of a challenge are %x20-21 / %x23-5B / %x5D-7E only.
_QDTEXT = r"[\x20\x21\x23-\x5b\x5d-\x7e]*"
_CHALLENGE = re.compile(rf'Bearer [a-z_]+="{_QDTEXT}"(?:, [a-z_]+="{_QDTEXT}")*')
_PARAMETER = re.compile(rf'([a-z_]+)="({_QDTEXT})"')

ISSUER = "https://tenant.auth0.com/"
CUSTOM_DOMAIN = "https://login.example.com/"
AUDIENCE = "https://api.example.com"
NOW = 1_800_000_000.0  # a fixed wall-clock instant for claim checks
#: The proof algorithms of a DPoP challenge by default: every asymmetric one, sorted.
DPOP_ALGS = " ".join(sorted(DPOP_ALGORITHMS))


def no_token_challenge(realm: str = "api") -> str:
    """The answer to a request without credentials while DPoP is allowed (the default): a
    challenge for each scheme (RFC 9449 §7.1)."""
    return f'Bearer realm="{realm}", DPoP realm="{realm}", algs="{DPOP_ALGS}"'


NO_TOKEN_CHALLENGE = no_token_challenge()


@contextlib.contextmanager
def no_settings_in_the_environment() -> Iterator[None]:
    """Inside, the environment holds no ``BEARERGUARD_*`` variable (all is restored on
    leaving): a pytester run in this process sees none of the test process's settings."""
    with mock.patch.dict(os.environ):
        for name in list(os.environ):
            if name.startswith("BEARERGUARD_"):
                del os.environ[name]
        yield


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@cache
def rsa_key(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    """Deterministic per test session (cached), freshly generated per run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(curve: str = "P-256", index: int = 0) -> ec.EllipticCurvePrivateKey:
    curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
    return ec.generate_private_key(curves[curve])


@cache
def ed_key(index: int = 0) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def sign_input(alg: str, key: Any, signing_input: bytes) -> bytes:
    """Sign with a real private key exactly as JWS ``alg`` prescribes (RFC 7518)."""
    if alg.startswith("RS"):
        return key.sign(signing_input, padding.PKCS1v15(), _HASHES[alg[2:]]())
    if alg.startswith("PS"):
        h = _HASHES[alg[2:]]()
        pss = padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
        return key.sign(signing_input, pss, h)
    if alg.startswith("ES"):
        der = key.sign(signing_input, ec.ECDSA(_HASHES[alg[2:]]()))
        r, s = decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return key.sign(signing_input)
    if alg.startswith("HS"):
        return hmac.new(key, signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
    raise ValueError(alg)


def encode_part(part: Mapping[str, Any] | bytes | str) -> str:
    """A header/claims part: a mapping is JSON-encoded, bytes/str are used verbatim."""
    if isinstance(part, Mapping):
        return b64url(json.dumps(part, separators=(",", ":")).encode())
    if isinstance(part, str):
        part = part.encode()
    return b64url(part)


def sign_token(
    header: Mapping[str, Any] | bytes | str,
    claims: Mapping[str, Any] | bytes | str,
    key: Any,
    alg: str | None = None,
) -> str:
    """A compact JWS over arbitrary header and claims bytes, with a real signature."""
    if alg is None:
        assert isinstance(header, Mapping)
        alg = header["alg"]
    signing_input = encode_part(header) + "." + encode_part(claims)
    return signing_input + "." + b64url(sign_input(alg, key, signing_input.encode()))


def challenge_params(challenge: str | None) -> dict[str, str]:
    """The auth-params of a well-formed Bearer challenge (RFC 6750 §3), each name once."""
    assert challenge is not None
    assert _CHALLENGE.fullmatch(challenge), challenge
    pairs = _PARAMETER.findall(challenge)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), names
    return dict(pairs)


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header carrying ``token``, as test clients take headers."""
    return {"Authorization": f"Bearer {token}"}


def forbidden_transport(why: str) -> httpx.MockTransport:
    """A transport that fails the test if used: proves which driver (sync/async) fetched."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"{why}: fetched {request.url}")

    return httpx.MockTransport(refuse)


def public_jwk(key: Any, **members: Any) -> dict[str, Any]:
    """The public JWK of a private key, plus extra members (kid, alg, use, ...)."""
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = json.loads(ECAlgorithm.to_jwk(public))
    else:
        jwk = json.loads(OKPAlgorithm.to_jwk(public))
    jwk.update(members)
    return {k: v for k, v in jwk.items() if v is not None}


def claims(now: float = NOW, **overrides: Any) -> dict[str, Any]:
    """A valid Auth0-style access token's claims; ``name=None`` removes a claim."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "auth0|123",
        "aud": [AUDIENCE, ISSUER + "userinfo"],
        "iat": int(now),
        "exp": int(now) + 3600,
        "azp": "client-1",
        "scope": "openid read:contacts",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@dataclass
class Clock:
    """Wall clock and monotonic clock under the test's control."""

    now: float = NOW
    mono: float = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.mono += seconds


Handler = Callable[[httpx.Request], httpx.Response]


class Responder:
    """What serves a verifier's fetches in-process: a subclass's ``respond``, on the sync and
    the async transport alike, after ``delay`` seconds when it is set (a slow IdP)."""

    delay: float

    def respond(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError  # pragma: no cover - every responder defines it

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            time.sleep(self.delay)
        return self.respond(request)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.respond(request)


@dataclass
class Provider(Responder):
    """An in-process OIDC provider: discovery and JWKS served to a MockTransport.

    ``keys`` maps kid -> (alg, private key). Tests change ``keys``, ``jwks_extra``
    or ``override`` (path -> handler) to rotate keys or inject faults; ``hits``
    counts requests per path. ``delay`` makes every response wait (a slow IdP).
    """

    issuer: str = ISSUER
    keys: dict[str, tuple[str, Any]] = field(default_factory=dict)
    jwks_extra: list[dict[str, Any]] = field(default_factory=list)
    override: dict[str, Handler] = field(default_factory=dict)
    cache_control: str | None = "max-age=600"
    delay: float = 0.0
    hits: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = {"k1": ("RS256", rsa_key(0))}

    @property
    def host(self) -> str:
        return httpx.URL(self.issuer).host

    @property
    def jwks_uri(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        keys = [public_jwk(k, kid=kid, alg=alg, use="sig") for kid, (alg, k) in self.keys.items()]
        return {"keys": keys + self.jwks_extra}

    def token(
        self, kid: str = "k1", header: Mapping[str, Any] | None = None, **overrides: Any
    ) -> str:
        """A valid token signed by key ``kid``; claim overrides as in :func:`claims`."""
        alg, key = self.keys[kid]
        head = {"alg": alg, "typ": "JWT", "kid": kid, **(header or {})}
        overrides.setdefault("iss", self.issuer)
        return sign_token(
            {k: v for k, v in head.items() if v is not None}, claims(**overrides), key, alg
        )

    def respond(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            self.hits[path] += 1
        if path in self.override:
            return self.override[path](request)
        if request.url.host != self.host:
            return httpx.Response(404)
        if path == httpx.URL(self.issuer).path.rstrip("/") + "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": self.issuer, "jwks_uri": self.jwks_uri})
        if path == httpx.URL(self.jwks_uri).path:
            headers = {"cache-control": self.cache_control} if self.cache_control else {}
            return httpx.Response(200, json=self.jwks(), headers=headers)
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.ahandle)

    @property
    def jwks_hits(self) -> int:
        return self.hits[httpx.URL(self.jwks_uri).path]


class Providers:
    """Several providers behind one transport, routed by host."""

    def __init__(self, *providers: Provider) -> None:
        self.by_host = {p.host: p for p in providers}

    def handle(self, request: httpx.Request) -> httpx.Response:
        provider = self.by_host.get(request.url.host)
        return provider.handle(request) if provider else httpx.Response(404)

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        provider = self.by_host.get(request.url.host)
        return await provider.ahandle(request) if provider else httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.ahandle)
