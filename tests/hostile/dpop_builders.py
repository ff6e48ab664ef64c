"""What a hostile DPoP case is made of: the world it runs in, and the request it sends.

A :class:`ProofCase` builds one request (``Authorization`` and ``DPoP`` fields, a
path and a query) in a :class:`World`: the tenant that signs the access tokens,
the clock, the URL the client sends to (``https://api.example.com`` for the core,
the test client's own for an adapter) and a way to send a request first, as a
client would before the hostile one (to have a proof accepted, then replay it;
to be handed a server nonce). Every token and every proof is signed for real:
tokens by the tenant's key, proofs by the client keys below or by an attacker's.

Shared by the DPoP catalogue (``dpop_catalogue.py``), its checks (``dpop_checks.py``)
and the properties of ``tests/fuzz/test_dpop.py``; the certificate cases' world
(``certificate_builders.py``) is a :class:`RequestWorld` too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bearerguard import BearerError
from bearerguard._dpop import jwk_thumbprint, token_hash
from bearerguard._mint import SigningKey
from tests.support import b64url, encode_part, public_jwk, rsa_key

from .builders import Env, no_settings

#: the route every case asks for: any valid token with ``read:contacts`` (the tenant's
#: tokens carry ``openid read:contacts``)
PATH = "/api/contacts"
#: the URL clients use in the core's world
CORE_BASE_URL = "https://api.example.com"
#: a shared secret for the server nonces (RFC 9449 §9) of the cases that turn them on
NONCE_SECRET = "a-shared-secret-of-the-api-workers-0123456789"

# The client's key: the tokens of the cases are bound to it (cnf.jkt) unless they say not.
CLIENT = SigningKey("ES256")
# Another client, or an attacker with a key of its own: a sound proof, by the wrong key.
ATTACKER = SigningKey("ES256")
# The client keys of the other algorithm families, for the alg/jwk cases.
CLIENT_RS256 = SigningKey("RS256")
CLIENT_EDDSA = SigningKey("EdDSA")


@dataclass(frozen=True)
class Reply:
    """An answer as a case sees it: the status and the response headers (lower-case names)."""

    status: int
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Sent:
    """One request: its header fields (names may repeat), its path and raw query.

    ``secrets`` are the tokens and proofs it carries: no answer may show a piece of them.
    """

    fields: tuple[tuple[str, str], ...]
    path: str = PATH
    query: str = ""
    secrets: tuple[str, ...] = ()


SentT = TypeVar("SentT")


@dataclass
class RequestWorld(Generic[SentT]):
    """The world of one run of a request case: the identity provider(s), the client's URL,
    the way to send. What a DPoP case's :class:`World` and a certificate case's share."""

    env: Env
    base_url: str
    #: sends a request and returns the answer; the cases that need a request first use it
    exchange: Callable[[SentT], Reply]

    def now(self) -> int:
        return int(self.env.clock.time())

    def url(self, path: str = PATH) -> str:
        return self.base_url + path

    def token(self, **claims: Any) -> str:
        """A tenant token with ``openid read:contacts``; claim overrides as in support."""
        return self.env.provider.token(**claims)


class World(RequestWorld[Sent]):
    """A DPoP case's world: tokens bound to a client key, and the API's nonces."""

    def bound_token(self, key: SigningKey = CLIENT, **claims: Any) -> str:
        """A tenant token bound to ``key`` (``cnf.jkt`` its RFC 7638 thumbprint)."""
        return self.token(cnf={"jkt": key.thumbprint()}, **claims)

    def nonce(self) -> str:
        """A nonce the API hands out: the answer to a sound request that carries none."""
        token = self.bound_token()
        reply = self.exchange(dpop_request(token, proof(self, token)))
        assert reply.status == 401, reply
        return reply.headers["dpop-nonce"]


Build = Callable[[World], Sent]
Settings = Callable[[Env], dict[str, Any]]


@dataclass(frozen=True)
class ProofCase:
    """One hostile (or twin) DPoP request and its exact outcome.

    ``error`` is the refusal (``None``: accepted, with ``confirmation`` the client
    key's thumbprint when the token is bound). ``source`` is where the rule comes
    from: the RFC 9449 section, or the write-up of the attack. ``fetches=False``
    asserts the refusal came before any network (the proof's own checks run
    first). ``description`` is the refusal's when it is not its class's fixed one.
    ``bug`` marks a known verifier bug: a strict xfail wherever the case runs.
    """

    id: str
    source: str
    request: Build
    error: type[BearerError] | None = None
    settings: Settings = no_settings
    fetches: bool | None = None
    description: str | None = None
    bound: bool = True
    bug: str | None = None


def using(**settings: Any) -> Settings:
    return lambda env: settings


# --- proofs -----------------------------------------------------------------------------------


def jws(header: Mapping[str, Any] | str, claims: Mapping[str, Any] | str, key: SigningKey) -> str:
    """A compact JWS over this header and these claims (JSON text kept as it is), signed by
    ``key`` whatever the header says."""
    signing_input = encode_part(header) + "." + encode_part(claims)
    return signing_input + "." + b64url(key.sign(signing_input.encode("ascii")))


def proof_claims(world: World, token: str | None, path: str = PATH) -> dict[str, Any]:
    """The claims of a sound proof of a GET of ``path`` with ``token``."""
    body: dict[str, Any] = {
        "jti": next_jti(),
        "htm": "GET",
        "htu": world.url(path),
        "iat": world.now(),
    }
    if token is not None:
        body["ath"] = token_hash(token)
    return body


def proof(
    world: World,
    token: str | None,
    *,
    key: SigningKey = CLIENT,
    signer: SigningKey | None = None,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    raw_header: str | None = None,
    raw_claims: str | None = None,
    path: str = PATH,
) -> str:
    """A proof of a GET of ``path`` with ``token``: ``key``'s jwk in the header, signed by
    ``signer`` (default: ``key``). ``header`` and ``claims`` add or replace members
    (``None`` removes one); ``raw_header`` / ``raw_claims`` are JSON text used as they are."""
    head: dict[str, Any] = {"typ": "dpop+jwt", "alg": key.algorithm, "jwk": key.bare_jwk()}
    body = proof_claims(world, token, path)
    head.update(header or {})
    body.update(claims or {})
    return jws(
        raw_header if raw_header is not None else _present(head),
        raw_claims if raw_claims is not None else _present(body),
        signer or key,
    )


def _present(members: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}


_jtis = iter(range(10**9))


def next_jti() -> str:
    """A jti no other proof of the run carries."""
    return f"hostile-{next(_jtis):012d}"  # one length: proofs of one shape for the fuzzer


def dpop_request(token: str, *proofs: str, path: str = PATH, query: str = "") -> Sent:
    """``Authorization: DPoP <token>`` and one ``DPoP`` field per proof."""
    fields = (("Authorization", f"DPoP {token}"), *(("DPoP", p) for p in proofs))
    return Sent(fields, path, query, (token, *proofs))


def sound(
    *,
    token: Callable[[World], str] | None = None,
    path: str = PATH,
    query: str = "",
    edit: Callable[[str], str] | None = None,
    **options: Any,
) -> Build:
    """A DPoP request: the bound token (or ``token(world)``) and one proof made by
    :func:`proof` with ``options``, then changed by ``edit`` (the compact text)."""

    def build(world: World) -> Sent:
        access = token(world) if token is not None else world.bound_token()
        made = proof(world, access, **options)
        return dpop_request(access, edit(made) if edit else made, path=path, query=query)

    return build


def claims_of(world: World, token: str, **changes: Any) -> dict[str, Any]:
    """A sound proof's claims with ``changes`` (``None`` removes a claim)."""
    return _present({**proof_claims(world, token), **changes})


# --- edits of a compact proof -------------------------------------------------------------------


def segment(index: int, change: Callable[[str], str]) -> Callable[[str], str]:
    """Change one dot-separated segment of a compact JWS."""

    def edit(compact: str) -> str:
        parts = compact.split(".")
        parts[index] = change(parts[index])
        return ".".join(parts)

    return edit


def flip_unused_bits(text: str) -> str:
    """The same bytes spelt otherwise: the last character's unused low bits set
    (RFC 4648 §3.5; a canonical encoder leaves them zero)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 4, 3: 2}.get(len(text) % 4, 0)
    assert unused, "a segment whose length leaves no unused bits"
    last = alphabet.index(text[-1])
    return text[:-1] + alphabet[last | ((1 << unused) - 1)]


def flipped_signature(compact: str) -> str:
    """The signature's first byte changed."""
    head, body, signature = compact.split(".")
    first = "B" if signature[0] != "B" else "C"
    return f"{head}.{body}.{first}{signature[1:]}"


# --- keys from elsewhere ------------------------------------------------------------------------


def issuer_jwk() -> dict[str, Any]:
    """The public key of the tenant that signs the access tokens (``kid`` k1)."""
    return public_jwk(rsa_key(0))


def issuer_signer() -> SigningKey:
    """The tenant's own private key, as a proof signer (key confusion cases)."""
    return _ForeignKey("RS256", rsa_key(0))


class _ForeignKey(SigningKey):
    """A :class:`SigningKey` over a key pair made elsewhere (the tenant's, a short RSA key)."""

    def __init__(self, algorithm: str, private: Any) -> None:
        super().__init__(algorithm)
        self._private = private


def short_rsa() -> SigningKey:
    """An RSA key of 1024 bits: under the 2048 RFC 7518 §3.3 requires."""
    return _ForeignKey("RS256", rsa_key(5, bits=1024))


def private_jwk(key: SigningKey) -> dict[str, Any]:
    """``key``'s JWK with every private member (``d``; RSA's ``p``, ``q``, ``dp``...)."""
    exported = key._pyjwt.to_jwk(key._key(), as_dict=True)
    return {name: value for name, value in exported.items() if name not in ("kid", "alg")}


def hs256_by(secret: bytes) -> Callable[[World, str], str]:
    """A proof MACed with ``secret`` under ``alg: HS256`` (the jwk stays the client's)."""

    def make(world: World, token: str) -> str:
        header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": CLIENT.bare_jwk()}
        return maced(header, proof_claims(world, token), secret)

    return make


def maced(header: Mapping[str, Any], claims: Mapping[str, Any], secret: bytes) -> str:
    """A compact JWS whose "signature" is HMAC-SHA256 under ``secret``."""
    signing_input = encode_part(header) + "." + encode_part(claims)
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def thumbprint_of(jwk: Mapping[str, Any]) -> str:
    return jwk_thumbprint(jwk)


def json_text(members: Mapping[str, Any]) -> str:
    return json.dumps(members, separators=(",", ":"))
