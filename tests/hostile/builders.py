"""What a table case is made of: the world it runs in, its token or request, its setup.

A :class:`Case` names its input (a token, or the ``Authorization`` fields and
query of a request), the verifier settings, the steps that prepare the world
(warm the cache, advance the clock, break the provider) and the expected
outcome. The builders here sign every token with real keys; nothing is mocked
but the provider's network, which :class:`Env` serves in-process and records.

Shared by the hostile-token catalogue (``tests/hostile/catalogue.py``) and the
verifier's own table (``tests/test_verifier.py``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm

from bearerguard import (
    AccessToken,
    BearerError,
    ConfigurationError,
    KeySetUnavailableError,
    UnknownKeyError,
    Verifier,
)
from tests.support import (
    CUSTOM_DOMAIN,
    ISSUER,
    NOW,
    Clock,
    Provider,
    b64url,
    claims,
    ec_key,
    encode_part,
    public_jwk,
    rsa_key,
    sign_input,
)
from tests.test_keys import _self_signed_certificate_der

N = int(NOW)
LEEWAY = 30  # the verifier's default
TENANT_B = "https://tenant-b.auth0.com/"
SECRET = bytes(range(64))  # long enough for HS256, HS384 and HS512
DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/.well-known/jwks.json"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


# --- the world a case runs in ---------------------------------------------------------------


@dataclass
class Env:
    """The provider(s) and clock of one case, and every URL the verifier asked for.

    ``provider`` is the tenant that signs tokens by default; ``others`` are served
    next to it, routed by host. A request to any other host is recorded and
    answered 404: an attacker's URL never reaches a provider.
    """

    provider: Provider
    clock: Clock
    others: list[Provider] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def hits(self) -> int:
        return len(self.requested)

    def hosts(self) -> set[str]:
        """The hosts of the providers this world trusts."""
        return {p.host for p in (self.provider, *self.others)}

    def transports(self) -> dict[str, Any]:
        """Verifier settings: transports that serve every provider and record each URL."""
        return {
            "transport": httpx.MockTransport(self._handle),
            "async_transport": httpx.MockTransport(self._ahandle),
        }

    def route(self, *others: Provider) -> dict[str, Any]:
        """Serve ``others`` next to the default provider, routed by host."""
        self.others.extend(others)
        return self.transports()

    def _provider_for(self, request: httpx.Request) -> Provider | None:
        self.requested.append(str(request.url))
        host = request.url.host
        return next((p for p in (self.provider, *self.others) if p.host == host), None)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        provider = self._provider_for(request)
        return provider.handle(request) if provider else httpx.Response(404)

    async def _ahandle(self, request: httpx.Request) -> httpx.Response:
        provider = self._provider_for(request)
        return await provider.ahandle(request) if provider else httpx.Response(404)


Build = Callable[[Env], str]
Settings = Callable[[Env], dict[str, Any]]
Signer = Callable[[bytes], bytes]
Step = Callable[[Env, Verifier], None]


def no_settings(env: Env) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Request:
    """What an HTTP request carries: its ``Authorization`` field values and its raw query."""

    authorization: tuple[str, ...] = ()
    query: str = ""
    tokens: tuple[str, ...] = ()  # the tokens it carries, which no answer may echo

    def field_value(self) -> str | list[str] | None:
        """The header as ``Verifier.verify_authorization`` takes it from a framework."""
        if not self.authorization:
            return None
        if len(self.authorization) == 1:
            return self.authorization[0]
        return list(self.authorization)

    def headers(self) -> list[tuple[str, str]]:
        return [("Authorization", value) for value in self.authorization]


Attempt = str | Request  # what one verification is given: a token, or a request


@dataclass(frozen=True)
class Case:
    """One input and its exact outcome: accepted (``error=None``) or the error class.

    ``token`` is handed to ``verify()``; ``request`` instead goes through
    ``verify_authorization()`` (and, in the adapter tests, is the HTTP request).
    ``prepare`` runs after the verifier is built and before the input is tried
    ``repeat`` times (concurrently on the async path).

    ``http`` says how the case looks over HTTP: ``False`` when it cannot be sent
    (or concerns start-up), an error class when an HTTP request gets that answer
    instead, ``True`` or ``None`` when it is sent and answered like ``verify()``.
    ``bug`` marks a known verifier bug, a strict
    xfail where it shows: ``bug_in`` names "core" or adapters (empty: everywhere).
    """

    id: str
    token: Build | None = None
    error: type[BearerError] | type[ConfigurationError] | None = None  # None: accepted
    settings: Settings = no_settings
    request: Callable[[Env], Request] | None = None
    prepare: tuple[Step, ...] = ()
    repeat: int = 1
    require: tuple[str, ...] = ()  # then token.require_scopes(*require, any_of=...)
    any_of: bool = False
    check: Callable[[AccessToken], object] | None = None
    hits: int | None = None  # requests the provider(s) must have seen in total
    description: str | None = None  # when not the error class's fixed description
    never_shown: tuple[str, ...] = ()  # attacker data no answer may contain
    http: bool | type[BearerError] | None = None
    bug: str | None = None
    bug_in: tuple[str, ...] = ()

    @property
    def sendable(self) -> bool:
        return self.http is not False

    def shows_bug(self, where: str) -> bool:
        return self.bug is not None and (not self.bug_in or where in self.bug_in)

    def attempt(self, env: Env) -> Attempt:
        if self.request is not None:
            return self.request(env)
        assert self.token is not None, f"{self.id} has neither a token nor a request"
        return self.token(env)


def ok(id: str, token: Build | None = None, **kw: Any) -> Case:
    return Case(id, token, None, **kw)


def no(
    id: str,
    error: type[BearerError] | type[ConfigurationError],
    token: Build | None = None,
    **kw: Any,
) -> Case:
    return Case(id, token, error, **kw)


def unavailable(id: str, *prepare: Step, **kw: Any) -> Case:
    """A valid token whose keys cannot be had once ``prepare`` ran: 503, Retry-After."""
    return no(id, KeySetUnavailableError, signed(), prepare=prepare, **kw)


def served(id: str, *prepare: Step, **kw: Any) -> Case:
    """A valid token that is still accepted once ``prepare`` ran."""
    return ok(id, signed(), prepare=prepare, **kw)


# --- requests -------------------------------------------------------------------------------


def sent(*authorization: str, query: str = "") -> Callable[[Env], Request]:
    """A request with these ``Authorization`` field values and query string, in which
    ``{token}`` stands for a valid token of the default provider."""

    def build(env: Env) -> Request:
        token = env.provider.token()
        values = tuple(value.replace("{token}", token) for value in authorization)
        used = token if "{token}" in query or any("{token}" in v for v in authorization) else ""
        return Request(values, query.replace("{token}", token), (used,) if used else ())

    return build


# --- token builders ---------------------------------------------------------------------------


def signed(
    *,
    kid: str | None = "k1",
    alg: str | None = None,
    key: Callable[[], Any] | None = None,
    header: Mapping[str, Any] | None = None,
    raw_header: str | bytes | None = None,
    drop: tuple[str, ...] = (),
    body: str | bytes | None = None,
    signer: Callable[[Env], Signer] | None = None,
    **values: Any,
) -> Build:
    """A token over ``claims()`` updated with ``values`` (``None`` stays JSON null) minus
    ``drop``; signed with the provider's key ``kid`` unless ``alg``/``key``/``signer`` say
    otherwise. Header members set to ``None`` are removed. ``raw_header`` and ``body``
    replace the header or the claims with these exact characters or bytes."""

    def build(env: Env) -> str:
        known = env.provider.keys.get(kid or "", (None, None))
        use_alg = alg or known[0]
        use_key = key() if key is not None else known[1]
        head: dict[str, Any] | str | bytes
        if raw_header is None:
            head = {"alg": use_alg, "typ": "JWT", "kid": kid, **(header or {})}
            head = {name: value for name, value in head.items() if value is not None}
        else:
            head = raw_header
        payload: dict[str, Any] | str | bytes
        if body is None:
            payload = claims()
            payload.update(values)
            for name in drop:
                payload.pop(name, None)
        else:
            payload = body
        signing_input = (encode_part(head) + "." + encode_part(payload)).encode()
        signature = (
            signer(env)(signing_input) if signer else sign_input(use_alg, use_key, signing_input)
        )
        return signing_input.decode() + "." + b64url(signature)

    return build


def with_raw(name: str, literal: str) -> str:
    """Valid claims JSON whose member ``name`` is the verbatim JSON text ``literal``."""
    values = claims()
    values[name] = "\x01"
    text = json.dumps(values, separators=(",", ":"))
    assert text.count('"\\u0001"') == 1
    return text.replace('"\\u0001"', literal)


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def edited(build: Build, edit: Callable[[list[str]], None]) -> Build:
    """``build``'s token with its segments edited after signing."""

    def run(env: Env) -> str:
        segments = build(env).split(".")
        edit(segments)
        return ".".join(segments)

    return run


def shaped(shape: str, build: Build | None = None) -> Build:
    """A valid token's segments rearranged: ``"{h}.{p}"``, ``"{h}..{s}"``, ``"x{s}"``..."""
    source = build or signed()

    def run(env: Env) -> str:
        h, p, s = source(env).split(".")
        return shape.format(h=h, p=p, s=s)

    return run


def literal(text: str) -> Build:
    return lambda env: text


def payload_replaced(old: bytes, new: bytes) -> Callable[[list[str]], None]:
    def edit(segments: list[str]) -> None:
        decoded = b64decode(segments[1])
        assert old in decoded
        segments[1] = b64url(decoded.replace(old, new))

    return edit


def header_updated(**members: Any) -> Callable[[list[str]], None]:
    def edit(segments: list[str]) -> None:
        header = json.loads(b64decode(segments[0]))
        header.update(members)
        segments[0] = encode_part(header)

    return edit


def signature_edited(change: Callable[[bytes], bytes]) -> Callable[[list[str]], None]:
    def edit(segments: list[str]) -> None:
        segments[2] = b64url(change(b64decode(segments[2])))

    return edit


def segment_edited(index: int, change: Callable[[str], str]) -> Callable[[list[str]], None]:
    """Edit the base64url text of segment ``index`` (0 header, 1 claims, 2 signature)."""

    def edit(segments: list[str]) -> None:
        segments[index] = change(segments[index])

    return edit


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def nonzero_unused_bits(segment: str) -> str:
    """The same bytes for a lenient decoder, but a non-zero unused bit in the last char."""
    assert len(segment) % 4 in (2, 3)
    last = _ALPHABET.index(segment[-1])
    assert last & 1 == 0  # a canonical encoding leaves the unused low bits zero
    return segment[:-1] + _ALPHABET[last | 1]


def length_1_mod_4(segment: str) -> str:
    while len(segment) % 4 != 1:
        segment += "A"
    return segment


def standard_alphabet(urlsafe: str) -> Build:
    """A valid token whose signature uses ``+``/``/`` where base64url has ``-``/``_``."""
    standard = {"-": "+", "_": "/"}[urlsafe]

    def build(env: Env) -> str:
        for index in itertools.count():  # pragma: no branch - a few tries suffice
            head, signature = signed(jti=f"j{index}")(env).rsplit(".", 1)
            if urlsafe in signature:
                return f"{head}.{signature.replace(urlsafe, standard)}"
        raise AssertionError("unreachable")

    return build


def modulus_bytes(plus: int = 0) -> bytes:
    return (rsa_key(0).public_key().public_numbers().n + plus).to_bytes(256, "big")


def pkcs1_forgery(digest_info: Callable[[bytes], bytes]) -> Callable[[Env], Signer]:
    """RSASSA-PKCS1-v1_5 computed by hand (RFC 8017 §9.2) over a chosen DigestInfo."""

    def signer(env: Env) -> Signer:
        numbers = rsa_key(0).private_numbers()
        modulus, exponent = numbers.public_numbers.n, numbers.d

        def sign(signing_input: bytes) -> bytes:
            info = digest_info(signing_input)
            encoded = b"\x00\x01" + b"\xff" * (256 - 3 - len(info)) + b"\x00" + info
            value = pow(int.from_bytes(encoded, "big"), exponent, modulus)
            return value.to_bytes(256, "big")

        return sign

    return signer


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha1_digest_info(signing_input: bytes) -> bytes:
    digest = hashlib.sha1(signing_input).digest()  # noqa: S324 - the forgery under test
    return bytes.fromhex("3021300906052b0e03021a05000414") + digest


SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def with_signer(sign: Callable[[bytes], bytes]) -> Callable[[Env], Signer]:
    return lambda env: sign


def es256_high_s(signing_input: bytes) -> bytes:
    """A valid ES256 signature (r, n - s): mathematically valid, so it must verify."""
    der = ec_key("P-256").sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")


def es256_der(signing_input: bytes) -> bytes:
    return ec_key("P-256").sign(signing_input, ec.ECDSA(hashes.SHA256()))


def pss(salt: int, mgf_hash: hashes.HashAlgorithm) -> Signer:
    def sign(signing_input: bytes) -> bytes:
        return rsa_key(1).sign(
            signing_input,
            padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=salt),
            hashes.SHA256(),
        )

    return sign


def hs256_with(key_bytes: Callable[[], bytes]) -> Callable[[Env], Signer]:
    return lambda env: lambda signing_input: sign_input("HS256", key_bytes(), signing_input)


def public_key_as(encoding: Encoding, format: PublicFormat) -> Callable[[], bytes]:
    """The tenant's RSA public key in one serialization: HMAC-confusion material (T26)."""
    return lambda: rsa_key(0).public_key().public_bytes(encoding, format)


public_pem = public_key_as(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
pkcs1_pem = public_key_as(Encoding.PEM, PublicFormat.PKCS1)
public_der = public_key_as(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
public_openssh = public_key_as(Encoding.OpenSSH, PublicFormat.OpenSSH)


def public_jwk_json() -> bytes:
    return json.dumps(public_jwk(rsa_key(0), kid="k1")).encode()


def self_signed_certificate(key: Any) -> str:
    """A certificate for ``key``, base64 (not url) as a JWK's ``x5c`` carries it."""
    return base64.b64encode(_self_signed_certificate_der(key)).decode()


# --- settings builders ------------------------------------------------------------------------


def using(**settings: Any) -> Settings:
    return lambda env: dict(settings)


def serving(keys: Mapping[str, tuple[str, Callable[[], Any]]], **settings: Any) -> Settings:
    """Publish extra keys in the provider's JWKS, then use ``settings``."""

    def setup(env: Env) -> dict[str, Any]:
        for kid, (alg, key) in keys.items():
            env.provider.keys[kid] = (alg, key())
        return dict(settings)

    return setup


def publishing(*jwks: Callable[[], dict[str, Any]], **settings: Any) -> Settings:
    """Make the provider's JWKS exactly these JWKs (built at setup), then use ``settings``."""

    def setup(env: Env) -> dict[str, Any]:
        env.provider.keys.clear()
        env.provider.jwks_extra[:] = [make() for make in jwks]
        return dict(settings)

    return setup


def jwk(key: Callable[[], Any], **members: Any) -> Callable[[], dict[str, Any]]:
    """The public JWK of ``key()`` with ``members`` (``None`` removes one)."""
    return lambda: public_jwk(key(), **members)


def serving_unbound_rsa(**settings: Any) -> Settings:
    """Publish RSA key ``any`` without an ``alg``: it may verify every RS*/PS* algorithm."""

    def setup(env: Env) -> dict[str, Any]:
        env.provider.jwks_extra.append(public_jwk(rsa_key(1), kid="any", use="sig"))
        return dict(settings)

    return setup


def two_tenants(b_keys: Mapping[str, tuple[str, Callable[[], Any]]]) -> Settings:
    """Trust tenant A (the default provider) and tenant B, each with its own key set."""

    def setup(env: Env) -> dict[str, Any]:
        tenant_b = Provider(issuer=TENANT_B, keys={k: (a, f()) for k, (a, f) in b_keys.items()})
        return {"issuer": [ISSUER, TENANT_B], **env.route(tenant_b)}

    return setup


def custom_domain(*, one_jwks_uri: bool = False) -> Settings:
    """Auth0 canonical + custom domain: the same tenant and keys under two issuer URLs."""

    def setup(env: Env) -> dict[str, Any]:
        custom = Provider(issuer=CUSTOM_DOMAIN)  # serves the same key k1 as the tenant
        settings = {"issuer": [ISSUER, CUSTOM_DOMAIN], **env.route(custom)}
        if one_jwks_uri:
            settings["jwks_uri"] = env.provider.jwks_uri
        return settings

    return setup


# --- steps that prepare the world before the case's input is tried ----------------------------


def warm(env: Env, verifier: Verifier) -> None:
    """Verify a good token, so that discovery and the key set are cached."""
    verifier.verify(env.provider.token())


def warm_every_issuer(env: Env, verifier: Verifier) -> None:
    """Verify a good token of every trusted provider, so that all their keys are cached."""
    for provider in (env.provider, *env.others):
        if provider.issuer in verifier.config.issuers:
            verifier.verify(provider.token())


def verified(build: Build) -> Step:
    """Verify the token ``build`` makes, which must pass (e.g. to make the cache refetch)."""

    def step(env: Env, verifier: Verifier) -> None:
        verifier.verify(build(env))

    return step


def advance(seconds: float, *, wall: bool = True, monotonic: bool = True) -> Step:
    """Move the clocks on (or back): the wall clock for claims, the monotonic one for caches."""

    def step(env: Env, verifier: Verifier) -> None:
        env.clock.now += seconds if wall else 0
        env.clock.mono += seconds if monotonic else 0

    return step


def rotate(
    add: Mapping[str, tuple[str, Callable[[], Any]]] | None = None, remove: tuple[str, ...] = ()
) -> Step:
    """The provider publishes new keys and withdraws old ones."""

    def step(env: Env, verifier: Verifier) -> None:
        for kid, (alg, key) in (add or {}).items():
            env.provider.keys[kid] = (alg, key())
        for kid in remove:
            del env.provider.keys[kid]

    return step


Answer = Callable[[httpx.Request], httpx.Response]


def failing(path: str, answer: Answer) -> Step:
    """From now on the provider answers ``path`` (DISCOVERY or JWKS) with ``answer``."""

    def step(env: Env, verifier: Verifier) -> None:
        env.provider.override[path] = answer

    return step


def slow(seconds: float) -> Step:
    """Every answer of the provider takes ``seconds`` to begin."""

    def step(env: Env, verifier: Verifier) -> None:
        env.provider.delay = seconds

    return step


def status(code: int, **headers: str) -> Answer:
    return lambda request: httpx.Response(code, headers=headers)


def raising(exc: Exception) -> Answer:
    """A transport-level failure: refused, unresolvable, TLS, ... (or a transport's bug)."""

    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    return answer


def body(content: bytes | str, content_type: str = "application/json") -> Answer:
    data = content.encode() if isinstance(content, str) else content
    return lambda request: httpx.Response(200, content=data, headers={"content-type": content_type})


def redirect(code: int, location: str) -> Answer:
    return lambda request: httpx.Response(code, headers={"location": location})


def discovery(**metadata: Any) -> Answer:
    """A discovery document: the tenant's issuer and JWKS URL, changed by ``metadata``."""
    document = {"issuer": ISSUER, "jwks_uri": ISSUER + JWKS[1:], **metadata}
    document = {name: value for name, value in document.items() if value is not None}
    return lambda request: httpx.Response(200, json=document)


class Dribble(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that never ends: ``chunk`` after ``chunk``, ``pause`` seconds apart."""

    def __init__(self, chunk: bytes, pause: float = 0.0) -> None:
        self.chunk = chunk
        self.pause = pause

    def __iter__(self) -> Iterator[bytes]:
        while True:
            time.sleep(self.pause)
            yield self.chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(self.pause)
            yield self.chunk


def streaming(chunk: bytes, pause: float = 0.0) -> Answer:
    return lambda request: httpx.Response(
        200, headers={"content-type": "application/json"}, stream=Dribble(chunk, pause)
    )


# --- tokens, keys and worlds of particular catalogue rows --------------------------------------


def unsigned(header: dict[str, Any]) -> Build:
    """``alg: none`` style: header and claims, and an empty signature."""
    return lambda env: encode_part(header) + "." + encode_part(claims()) + "."


def jwe(alg: str, **header: Any) -> Build:
    """A JWE compact serialization (RFC 7516 §7.1), as Auth0 issues without an audience."""

    def build(env: Env) -> str:
        head = encode_part({"alg": alg, "enc": "A256GCM", "kid": "k1", **header})
        encrypted_key = "" if alg == "dir" else b64url(bytes(range(256)))
        parts = [head, encrypted_key, b64url(b"\x01" * 12), b64url(b"ciphertext"), "AgICAg"]
        return ".".join(parts)

    return build


def jws_json(general: bool = False) -> Build:
    """The JWS JSON serialization of a valid token (RFC 7515 §7.2)."""

    def build(env: Env) -> str:
        h, p, s = signed()(env).split(".")
        if general:
            return json.dumps({"payload": p, "signatures": [{"protected": h, "signature": s}]})
        return json.dumps({"payload": p, "protected": h, "signature": s})

    return build


def polyglot(env: Env) -> str:
    """CVE-2022-39227: a compact token hidden in a JSON document that also parses as one."""
    h, p, s = signed()(env).split(".")
    return json.dumps({f"{h}.{p}.": "", "protected": h, "payload": p, "signature": s})


def inserted(char: str) -> Build:
    """A valid token with ``char`` inside its signature segment."""

    def build(env: Env) -> str:
        h, p, s = signed()(env).split(".")
        return f"{h}.{p}.{s[:100]}{char}{s[100:]}"

    return build


def signature_from(other: Build) -> Build:
    """A valid token's header and claims under the signature of ``other``."""

    def build(env: Env) -> str:
        h, p, _ = signed()(env).split(".")
        return f"{h}.{p}.{other(env).rsplit('.', 1)[1]}"

    return build


_ghosts = itertools.count()


def ghost_kid(env: Env) -> str:
    """A well-signed token whose kid no key set has ever held: a new one each call."""
    return signed(kid=f"ghost-{next(_ghosts)}", alg="RS256", key=lambda: rsa_key(0))(env)


def probed(env: Env, verifier: Verifier) -> None:
    """Verify a token whose kid was never published: its refetch starts the cooldown.

    (Routine fetches, the warm-up's included, start none.)
    """
    with contextlib.suppress(UnknownKeyError):
        verifier.verify(ghost_kid(env))


def crafted_rsa(kid: str, n: int, e: int = 65537) -> Callable[[], dict[str, Any]]:
    """An RSA JWK with chosen numbers (not necessarily a real key)."""

    def encoded(value: int) -> str:
        return b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))

    return lambda: {"kty": "RSA", "kid": kid, "alg": "RS256", "n": encoded(n), "e": encoded(e)}


def flipped(data: bytes) -> bytes:
    """``data`` with its lowest bit flipped."""
    return data[:-1] + bytes([data[-1] ^ 1])


def n_text(key: Callable[[], Any]) -> str:
    """The base64url modulus of ``key()``, as its JWK carries it."""
    text: str = public_jwk(key())["n"]
    return text


def n_of(key: Callable[[], Any]) -> int:
    """The modulus of ``key()``."""
    value: int = key().public_key().public_numbers().n
    return value


def ec_jwk(**members: Any) -> Callable[[], dict[str, Any]]:
    """kid e1: the P-256 key's JWK with ``members`` changed (``None`` removes one)."""

    def make() -> dict[str, Any]:
        jwk = {**public_jwk(ec_key("P-256"), kid="e1", alg="ES256"), **members}
        return {name: value for name, value in jwk.items() if value is not None}

    return make


def p256_coordinate(name: str) -> bytes:
    """The x or y coordinate of the P-256 test key, 32 bytes."""
    numbers = ec_key("P-256").public_key().public_numbers()
    value: int = getattr(numbers, name)
    return value.to_bytes(32, "big")


@functools.cache
def secp256k1_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256K1())


@functools.cache
def ed448_key() -> ed448.Ed448PrivateKey:
    return ed448.Ed448PrivateKey.generate()


def ed_signed(
    kid: str,
    alg: str,
    key: Callable[[], Any],
    change: Callable[[bytes], bytes] = lambda signature: signature,
) -> Build:
    """A token of header ``alg`` (EdDSA, Ed25519 or Ed448: any name, whatever the curve)
    signed by the Edwards key ``key()``, its signature passed through ``change``.
    (``sign_input`` knows EdDSA by its RFC 8037 name only.)"""
    return signed(kid=kid, alg=alg, signer=with_signer(lambda si: change(key().sign(si))))


def private_rsa_jwk(kid: str) -> Callable[[], dict[str, Any]]:
    """The complete private JWK (d, p, q, dp, dq, qi) of the tenant key."""
    return lambda: {**json.loads(RSAAlgorithm.to_jwk(rsa_key(0))), "kid": kid}


def same_origin_redirect(env: Env, verifier: Verifier) -> None:
    """The JWKS moved on the same host: the old path answers 302 to the new one."""
    env.provider.override[JWKS] = redirect(302, "/keys/v2")
    env.provider.override["/keys/v2"] = lambda request: httpx.Response(
        200, json=env.provider.jwks()
    )


KEYS_HOST = "https://keys.example.net/"


def keys_elsewhere(env: Env) -> dict[str, Any]:
    """Discovery names a JWKS on another https host, which serves the tenant's keys."""
    env.provider.override[DISCOVERY] = discovery(jwks_uri=KEYS_HOST + JWKS[1:])
    return env.route(Provider(issuer=KEYS_HOST))


def clock_only(seconds: float) -> Step:
    """The wall clock jumps; the monotonic clock (key-set freshness) does not."""
    return advance(seconds, monotonic=False)
