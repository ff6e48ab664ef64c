"""DPoP proofs (RFC 9449): every check of §4.3 that needs no state, as pure functions.

:func:`read_proof` takes the ``DPoP`` header's value apart and checks what the
proof says of itself (§4.3 checks 2 to 7): one compact JWS, parsed by the same
strict parser as access tokens (size, canonical base64url, strict JSON), ``typ``
``dpop+jwt``, an allowed asymmetric ``alg``, a public ``jwk`` imported with the
rules of key sets (no private members, RSA of 2048 bits or more, known curves),
no other way to name a key, the signature by that ``jwk``, and the claims every
proof carries. :func:`check_binding` then checks the proof against the request
and the token (checks 8, 9, 11 and 12): ``htm``, ``htu``, ``iat`` within the
window, ``ath`` (the token's hash) and the key's RFC 7638 thumbprint against the
token's ``cnf.jkt``. The nonce (check 10) and the replay of ``jti`` need a
secret and a store: the verifier asks them after these.

Every refusal is an :class:`InvalidDPoPProofError` whose ``reason`` names the
failed check; nothing from the proof reaches the response.

A client sends proof after proof with the same key, URL and token, so a verifier
keeps three bounded memos (its :class:`ProofChecker` holds them) and passes them
in: the checked headers by segment (:data:`KnownHeaders`: the header's parse and
key import once per key), the normal form of URLs
(:class:`~bearerguard._htu.TargetMemo`) and the ``ath`` of tokens that passed
(:class:`TokenHashes`). Each remembers a pure function's answer or a
header that passed its checks; none skips a check of the proof in hand: its
signature, claims, ``htu``, ``iat`` and ``ath`` are checked every time.

Example::

    proof = read_proof(request_header, allowed)
    check_binding(proof, method="GET", url="https://api.example.com/contacts",
                  access_token=token, jkt=claims["cnf"]["jkt"], now=time.time(),
                  leeway=30, max_age=60)
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from ._config import DPOP_ALGORITHMS  # every asymmetric JWS algorithm bearerguard verifies
from ._errors import InvalidDPoPProofError, InvalidTokenError
from ._htu import TargetMemo, same_target
from ._jose import MAX_HEADER_SEGMENT, b64url_encode, parse_token
from ._keys import KeySetError, VerificationKey
from ._signatures import KeyCheck, SignaturePrimitive

__all__ = [
    "DPOP_ALGORITHMS",
    "MAX_PROOF_SIZE",
    "KnownHeaders",
    "Proof",
    "ProofChecker",
    "ProofHeader",
    "TokenHashes",
    "check_binding",
    "jwk_thumbprint",
    "read_proof",
    "token_hash",
]

#: characters: a proof holds a public key (an RSA-4096 jwk is under 1 KiB) and a few claims
MAX_PROOF_SIZE = 8192
_MAX_JTI = 512
# Header members that name a key some other way than the embedded jwk: a proof's key is
# its jwk and nothing else (§4.2), so a proof that points elsewhere is not trusted. A kid
# names nothing by itself and is ignored; crit asks for extensions nobody here knows
# (RFC 7515 §4.1.11: refuse).
_OTHER_KEY_SOURCES = frozenset({"jku", "x5u", "x5c", "x5t", "x5t#S256", "crit"})
# RFC 7638 §3.2: the members a thumbprint is computed over, by key type.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


class Proof(NamedTuple):
    """A proof whose signature verified under its own ``jwk``: its claims and key's thumbprint.

    Immutable; a named tuple because every request builds one.
    """

    claims: Mapping[str, Any]
    #: RFC 7638 SHA-256 thumbprint of the proof's ``jwk`` (base64url)
    jkt: str
    jti: str
    iat: float


@dataclass(frozen=True, slots=True)
class ProofHeader:
    """A proof header that passed its checks: what a proof with the same header needs."""

    header: Mapping[str, Any]
    primitive: SignaturePrimitive
    key: VerificationKey
    jkt: str
    #: ``verify(signing_input, signature)``: the primitive's check made for this key
    #: (``primitive.for_key``), its type, curve and sizes decided once per key
    verify: KeyCheck = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verify", self.primitive.for_key(self.key.public_key))


#: header segment -> its checked header; a client signs every proof with one key, so its
#: proofs share one header segment: the parse and the key import are done once per key
KnownHeaders = dict[str, ProofHeader]
_MAX_KNOWN_HEADERS = 256


def read_proof(
    value: object,
    algorithms: Mapping[str, SignaturePrimitive],
    known: KnownHeaders | None = None,
) -> Proof:
    """Parse ``value`` (a ``DPoP`` header) and verify it under its own ``jwk`` (§4.3, 2-7).

    ``algorithms``: the allowed proof algorithms' primitives (never ``none`` nor HS*:
    the verifier builds them from :data:`DPOP_ALGORITHMS`). ``known``: the headers of
    proofs that passed before, by segment (a verifier's memo): a proof with one of
    them skips the header's parse, checks and key import, never its signature.

    Example::

        proof = read_proof(request.header_values("dpop")[0], signature_primitives(["ES256"]))
        proof.jkt, proof.jti
    """
    # A header segment is never longer than the parser allows: a bounded search.
    end = value.find(".", 0, MAX_HEADER_SEGMENT + 1) if type(value) is str else -1
    segment = value[:end] if end > 0 else ""  # type: ignore[index]  # a str when end > 0
    checked = None if known is None else known.get(segment)
    seen = checked is not None
    try:
        parsed = parse_token(
            value,  # type: ignore[arg-type]  # checked there
            MAX_PROOF_SIZE,
            None if checked is None else checked.header,
        )
    except InvalidTokenError as exc:  # malformed, or a JWE: what the token parser refuses
        raise _refused(f"The DPoP proof is not a well-formed compact JWS: {exc.reason}") from None
    if checked is None:
        checked = _checked_header(parsed.header, algorithms)
    if not checked.verify(parsed.signing_input, parsed.signature):
        raise _refused("The DPoP proof's signature does not verify under its jwk.")
    claims = parsed.claims
    jti, iat = claims.get("jti"), claims.get("iat")
    # Exact types: JSON gives str, int, float or bool, and bool (an int) is no time.
    if type(jti) is not str or not jti or len(jti) > _MAX_JTI:
        raise _refused("The DPoP proof's jti is missing, empty or implausibly long.")
    if type(iat) is not int and type(iat) is not float:
        raise _refused("The DPoP proof's iat is missing or not a number.")
    if type(claims.get("htm")) is not str:
        raise _refused("The DPoP proof's htm is missing or not a string.")
    if type(claims.get("htu")) is not str:
        raise _refused("The DPoP proof's htu is missing or not a string.")
    if known is not None and not seen:
        if len(known) >= _MAX_KNOWN_HEADERS:
            known.clear()  # that many clients at once: not worth remembering any
        known[segment] = checked  # only a proof that verified gets its header remembered
    return _proof((claims, checked.jkt, jti, float(iat)))


# One per request: tuple.__new__ skips the named tuple's Python-level __new__.
_proof: Callable[[tuple[Any, ...]], Proof] = functools.partial(tuple.__new__, Proof)


def _checked_header(
    header: Mapping[str, Any], algorithms: Mapping[str, SignaturePrimitive]
) -> ProofHeader:
    """The header's own checks (§4.3, 4-7 but the signature) and its imported key."""
    if header.get("typ") != "dpop+jwt":
        raise _refused("The DPoP proof's typ is not dpop+jwt.")
    alg = header.get("alg")
    primitive = algorithms.get(alg) if isinstance(alg, str) else None
    if primitive is None:
        raise _refused(
            f"The DPoP proof's alg {_shown(alg)} is not one of {', '.join(sorted(algorithms))}."
        )
    named = sorted(_OTHER_KEY_SOURCES & header.keys())
    if named:
        raise _refused(f"The DPoP proof's header has {named[0]}: its key is its jwk alone.")
    if "b64" in header:
        # RFC 7797: an unencoded payload, which another JWS library may read as one even
        # without crit; a proof is a JWT, its payload always encoded (as for tokens).
        raise _refused("The DPoP proof's header asks for an unencoded payload (b64).")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise _refused("The DPoP proof's header has no jwk object.")
    try:
        key = VerificationKey.from_jwk(jwk)
    except KeySetError as why:
        raise _refused(f"The DPoP proof's jwk cannot be used: {why}.") from None
    if alg not in key.algorithms:
        raise _refused(f"The DPoP proof's alg {alg} does not fit its {key.kty} jwk.")
    return ProofHeader(MappingProxyType(dict(header)), primitive, key, jwk_thumbprint(jwk))


def check_binding(
    proof: Proof,
    *,
    method: str,
    url: str,
    access_token: str | None,
    jkt: str | None,
    now: float,
    leeway: float,
    max_age: float,
    targets: TargetMemo | None = None,
    hashes: TokenHashes | None = None,
) -> None:
    """Check ``proof`` against the request and the token it comes with (§4.3, 8, 9, 11, 12).

    ``access_token`` is the token the proof must hash (``ath``); ``jkt`` the
    thumbprint the token's ``cnf`` binds it to. ``None`` skips that check (a
    proof presented without a token, as at a token endpoint). ``targets`` and
    ``hashes`` are a verifier's memos of URL normal forms and token hashes: they
    give the same answers, faster.

    Example::

        check_binding(proof, method="GET", url="https://api.example.com/contacts",
                      access_token=token, jkt=None, now=time.time(), leeway=30, max_age=60)
    """
    _check_binding(proof, method, url, access_token, jkt, now, leeway, max_age, targets, hashes)


def _check_binding(  # noqa: PLR0917 - positional: called on every DPoP request
    proof: Proof,
    method: str,
    url: str,
    access_token: str | None,
    jkt: str | None,
    now: float,
    leeway: float,
    max_age: float,
    targets: TargetMemo | None,
    hashes: TokenHashes | None,
) -> None:
    """:func:`check_binding`, its arguments by position (a cheaper call per request)."""
    claims = proof.claims
    htm, htu = claims["htm"], claims["htu"]
    if htm != method:
        raise _refused(f"The DPoP proof's htm {_shown(htm)} is not {method}.")
    if not (same_target(htu, url) if targets is None else targets.same_target(htu, url)):
        raise _refused(
            f"The DPoP proof's htu {_shown(htu)} is not this request's URL {url!r} "
            "(query and fragment aside). Behind a proxy, set public_url to the URL clients use."
        )
    iat = proof.iat
    if iat > now + leeway:
        raise _refused("The DPoP proof's iat lies in the future (check the client's clock).")
    if iat < now - max_age - leeway:
        raise _refused(f"The DPoP proof is older than {max_age:g} s (plus {leeway:g} s leeway).")
    if access_token is not None:
        ath = claims.get("ath")
        expected = token_hash(access_token) if hashes is None else hashes.of(access_token)
        if type(ath) is not str or not hmac.compare_digest(ath, expected):
            raise _refused("The DPoP proof's ath is missing or is not the hash of this token.")
    if jkt is not None and not hmac.compare_digest(proof.jkt, jkt):
        raise _refused("The DPoP proof's key is not the key the token is bound to (cnf.jkt).")


class ProofChecker:
    """:func:`read_proof` and :func:`check_binding` as a resource server runs them on every
    DPoP request: its allowed algorithms, leeway and proof age, and the three memos a
    client's proofs fill (:data:`KnownHeaders`, :class:`~bearerguard._htu.TargetMemo`,
    :class:`TokenHashes`), each bounded.

    Example::

        checker = ProofChecker(signature_primitives(["ES256"]), leeway=30, max_age=60)
        proof = checker.check(request_header, "GET", "https://api.example.com/contacts",
                              token, time.time())
    """

    __slots__ = ("algorithms", "hashes", "headers", "leeway", "max_age", "targets")

    def __init__(
        self, algorithms: Mapping[str, SignaturePrimitive], *, leeway: float, max_age: float
    ) -> None:
        self.algorithms = algorithms
        self.leeway = leeway
        self.max_age = max_age
        self.headers: KnownHeaders = {}  # proof headers that passed (one per client key)
        self.targets = TargetMemo()  # the normal forms of request URLs and htu claims
        self.hashes = TokenHashes()  # the ath of tokens that passed

    def check(self, value: object, method: str, url: str, access_token: str, now: float) -> Proof:
        """The proof in ``value``, read and checked against the request and its token (§4.3,
        2-9 and 11); the token's ``cnf`` (check 12) is the caller's once the token passed.

        Raises :class:`InvalidDPoPProofError` saying which check failed.
        """
        proof = read_proof(value, self.algorithms, self.headers)
        _check_binding(
            proof,
            method,
            url,
            access_token,
            None,
            now,
            self.leeway,
            self.max_age,
            self.targets,
            self.hashes,
        )
        return proof


class TokenHashes:
    """:func:`token_hash` of the tokens that passed, remembered: a client sends its token
    with proof after proof, and hashing a 1 KB token costs more than a lookup.

    Only :meth:`keep` adds a token, and the verifier calls it once the token itself
    has passed, so forged tokens never take room; at most ``max_entries`` tokens,
    cleared when full.

    Example::

        hashes = TokenHashes()
        hashes.of(token)                    # computed: not kept yet
        hashes.keep(token, hashes.of(token))
        hashes.of(token)                    # from the memo
    """

    __slots__ = ("_hashes", "max_entries")

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._hashes: dict[str, str] = {}

    def of(self, access_token: str) -> str:
        """``ath`` of ``access_token``."""
        known = self._hashes.get(access_token)
        return token_hash(access_token) if known is None else known

    def keep(self, access_token: str, ath: str) -> None:
        """Remember ``ath`` (the caller checked it is the token's hash) for a token that passed."""
        hashes = self._hashes
        if access_token not in hashes:
            if len(hashes) >= self.max_entries:
                hashes.clear()  # that many clients at once: start afresh
            hashes[access_token] = ath

    def __contains__(self, access_token: object) -> bool:
        """Whether ``access_token`` is kept: a token that passed on the DPoP path."""
        return access_token in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)


def token_hash(access_token: str) -> str:
    """``ath``: base64url(SHA-256(the token's ASCII)) (RFC 9449 §4.2).

    Example::

        token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
        # 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo'
    """
    return b64url_encode(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url (``cnf.jkt``).

    Only the required members count, in lexicographic order, with no whitespace:
    whatever else the JWK carries (``kid``, ``alg``, ``x5c``) changes nothing.

    Example::

        jwk_thumbprint({"kty": "EC", "crv": "P-256", "x": "...", "y": "..."})
    """
    members = _THUMBPRINT_MEMBERS[str(jwk["kty"])]
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def _refused(reason: str) -> InvalidDPoPProofError:
    return InvalidDPoPProofError(reason=reason)


def _shown(value: object) -> str:
    """A claim or header value for a log line: short, printable, never a whole payload."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
