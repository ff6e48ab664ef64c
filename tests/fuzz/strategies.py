"""Strategies of the fuzz tests: hostile inputs, and mutations of really signed tokens.

Two families:

* ``hostile_tokens``: anything an attacker can send as a token: arbitrary text (lone
  surrogates, NUL, controls), bytes read as latin-1, dot-separated base64url of arbitrary
  bytes, JSON-ish headers and claims (any JSON value, deep nesting, huge numbers, raw escapes,
  non-UTF-8), near-valid tokens with forged signatures, and tokens around the size limit.
* ``mutants``: a freshly signed valid token (RS256, PS256, ES256, EdDSA or HS256) changed in one
  way an attacker could: characters flipped, inserted, deleted, re-cased, segments swapped,
  duplicated, padded or made non-canonical, header or claims re-encoded with other members,
  re-signed with another key, alg confusion, ``alg: none``, a signature's arithmetic twin.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import strategies as st

from tests.support import (
    AUDIENCE,
    CUSTOM_DOMAIN,
    ISSUER,
    NOW,
    b64url,
    claims,
    ec_key,
    ed_key,
    public_jwk,
    rsa_key,
    sign_input,
)

ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
MAX_TOKEN_SIZE = 16 * 1024  # the verifier's default
SECRET = b"fuzz-shared-secret-of-32-bytes!!"
ATTACKER_SECRET = b"attacker-secret-also-32-bytes!!!"
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# --- characters and text --------------------------------------------------------------------

#: any code point, lone surrogates and NUL included
any_character = st.characters(exclude_categories=())
any_text = st.text(any_character, max_size=300)
latin1_text = st.binary(max_size=300).map(lambda raw: raw.decode("latin-1"))
b64url_text = st.text(st.sampled_from(ALPHABET), max_size=300)
#: text that survives a UTF-8 JSON round trip (what an honest issuer can sign)
clean_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))

# --- JSON -----------------------------------------------------------------------------------

huge_integers = st.integers(min_value=10**30, max_value=10**60) | st.integers(
    min_value=-(10**60), max_value=-(10**30)
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | huge_integers
    | st.floats()  # NaN and infinities too: json.dumps writes them, strict JSON has none
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_dumps(draw: st.DrawFn, value: Any) -> bytes:
    """``value`` serialised in one of the ways a sloppy or hostile encoder might."""
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (",", " : ")])),
        indent=draw(st.sampled_from([None, None, 0, 2, "\t"])),
        sort_keys=draw(st.booleans()),
    )
    # Lone surrogates left unescaped cannot be UTF-8: they become invalid byte sequences.
    return text.encode("utf-8", "surrogatepass")


def nested(depth: int, opener: str, closer: str, core: str = "1") -> str:
    return opener * depth + core + closer * depth


deep_documents = st.builds(
    lambda depth, shape, wrapped: (
        '{"x":' + nested(depth, *shape) + "}" if wrapped else nested(depth, *shape)
    ),
    st.integers(min_value=0, max_value=6000),
    st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")]),
    st.booleans(),
).map(str.encode)

number_literals = st.one_of(
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=6000).map(lambda n: "-" + "1" * n),
    st.sampled_from(["1e999", "-1e999", "1E+400", "1e-400", "-0", "0.0", "1.5e308", "NaN",
                     "Infinity", "-Infinity", "0x10", "01", "1.", ".5", "+1", "1_000"]),
)  # fmt: skip
number_documents = st.builds(
    lambda name, literal: f'{{"{name}":{literal}}}'.encode(),
    st.sampled_from(["exp", "nbf", "iat", "alg", "x"]),
    number_literals,
)

escapes = st.sampled_from(
    ["\\u0000", "\\ud800", "\\udfff", "\\uDC00\\uD800", "\\ud83d\\ude00", "\\u0041", "\\/",
     "\\x41", "\\", "\\uZZZZ", "\\U0001F600", "\x00", "\x1f", "\u2028"]
)  # fmt: skip
escape_documents = st.builds(
    lambda name, escape, in_name: (
        f'{{"{escape}":1}}' if in_name else f'{{"{name}":"a{escape}b"}}'
    ).encode("utf-8", "surrogatepass"),
    st.sampled_from(["iss", "sub", "kid", "alg"]),
    escapes,
    st.booleans(),
)

odd_documents = st.sampled_from(
    [
        b"",
        b"{}",
        b"[]",
        b"null",
        b'"{}"',
        b"{",
        b'{"a":1,"a":2}',
        b'{"alg":"RS256","alg":"none"}',
        b'\xef\xbb\xbf{"a":1}',  # a byte-order mark is not JSON whitespace
        b' \t\r\n{"a":1} \n',
        b'{"a":1}garbage',
        b'{"a":1}{"b":2}',
        b"{'a':1}",
        b'{"a":1,}',
        b'{"a":[1,]}',
        b'{"a":tru}',
        b'{"a":True}',
        b'{"a":undefined}',
        b'{"a":1}\x00',
        '{"a":"\u00e9"}'.encode("latin-1"),
        '{"a":1}'.encode("utf-16"),
        '{"a":1}'.encode("utf-32"),
        b'{"a":"\xc0\xaf"}',  # overlong UTF-8
        b'{"a":"\xed\xa0\x80"}',  # an encoded surrogate
    ]
)

json_documents = st.one_of(
    json_values.flatmap(json_dumps),
    st.dictionaries(any_text, json_values, max_size=6).flatmap(json_dumps),
    deep_documents,
    number_documents,
    escape_documents,
    odd_documents,
    st.binary(max_size=200),
)

# --- what a token looks like to an attacker --------------------------------------------------

ASYMMETRIC = ("RS256", "PS256", "ES256", "EdDSA")
ALGORITHMS = (*ASYMMETRIC, "HS256")
GENUINE_KIDS = {"RS256": "rs", "PS256": "ps", "ES256": "es", "EdDSA": "ed", "HS256": None}
SIGNATURE_SIZES = {"RS256": 256, "PS256": 256, "ES256": 64, "EdDSA": 64, "HS256": 32}

header_values: Mapping[str, st.SearchStrategy[Any]] = {
    "alg": st.sampled_from([*ALGORITHMS, "none", "None", "NONE", "HS384", "HS512", "RS384",
                            "RS512", "ES384", "ES512", "ES256K", "Ed25519", "PS512", "rs256",
                            "RSA-OAEP", "dir", "", " RS256"]) | json_values,
    "kid": st.sampled_from(["rs", "ps", "es", "ed", "", "RS", "rs ", "../../jwks", "k" * 2000])
    | json_values,
    "typ": st.sampled_from(["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "JOSE",
                            "id_token", "dpop+jwt", ""]) | json_values,
    "crit": st.sampled_from([["exp"], [], ["b64"], "b64", None]),
    "b64": st.sampled_from([False, True, "false"]),
    "cty": st.sampled_from(["JWT", "jwt", "application/JWT", "text/plain"]) | json_values,
    "jku": st.sampled_from(["https://attacker.example/jwks.json", ISSUER + "jwks.json"]),
    "x5u": st.just("https://attacker.example/cert.pem"),
    "jwk": st.just({"kty": "oct", "k": b64url(ATTACKER_SECRET)}),
    "x5c": st.just(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
    "zip": st.just("DEF"),
    "enc": st.just("A256GCM"),
}  # fmt: skip

claim_values: Mapping[str, st.SearchStrategy[Any]] = {
    "iss": st.sampled_from([ISSUER, ISSUER.rstrip("/"), ISSUER.upper(), ISSUER + " ",
                            "https://attacker.example/", CUSTOM_DOMAIN, ISSUER + "\x00",
                            ISSUER.replace("a", "\u0430"), [ISSUER], None]) | json_values,
    "aud": st.sampled_from([AUDIENCE, [AUDIENCE], AUDIENCE + "/", AUDIENCE.upper(), [],
                            [AUDIENCE, 1], "", None, {"aud": AUDIENCE}]) | json_values,
    "exp": st.sampled_from([NOW - 3600, NOW + 10**9, NOW - 31, NOW + 31, str(int(NOW) + 3600),
                            True, None, 1e308, -1, 0, 253402300800, -62135596801])
    | st.floats() | st.integers(),
    "nbf": st.sampled_from([NOW + 3600, NOW + 31, NOW, "0", False, None]) | st.floats(),
    "iat": st.sampled_from([NOW + 3600, NOW - 10**9, NOW, -62135596800, "now", None])
    | st.floats(),
    "scope": st.sampled_from(["admin", "openid read:contacts write:contacts admin",
                              ["read:contacts"], "", 7, None]) | json_values,
    "scp": st.sampled_from([["admin"], "admin", [1], None]) | json_values,
    "permissions": st.sampled_from([["admin"], "admin", [None], {}]) | json_values,
    "sub": st.sampled_from(["auth0|attacker", "", 123, None]) | json_values,
    "azp": json_values,
    "client_id": json_values,
    "jti": json_values,
    "org_id": st.sampled_from(["org_1", "ORG_1", 1, None]) | json_values,
    "org_name": st.sampled_from(["acme", "ACME", "Acme", ["acme"], None]) | json_values,
}  # fmt: skip


@st.composite
def members(draw: st.DrawFn, values: Mapping[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Some members with interesting names and values, and maybe an arbitrary one."""
    names = draw(st.lists(st.sampled_from(sorted(values)), max_size=4, unique=True))
    chosen = {name: draw(values[name]) for name in names}
    if draw(st.booleans()):
        chosen[draw(any_text)] = draw(json_values)
    return chosen


near_headers = st.builds(
    lambda alg, extra: {"alg": alg, "kid": GENUINE_KIDS[alg], **extra},
    st.sampled_from(ALGORITHMS),
    members(header_values) | st.just({}),
)
near_claims = st.builds(lambda extra: {**claims(), **extra}, members(claim_values) | st.just({}))


#: claims that pass even the strictest verifier (RFC 9068, max_age, organization) at NOW
RFC9068_CLAIMS = {
    "iss": ISSUER,
    "aud": AUDIENCE,
    "exp": int(NOW) + 60,
    "iat": int(NOW) - 60,
    "sub": "auth0|1",
    "client_id": "client-1",
    "jti": "j-1",
    "org_id": "org_1",
    "scope": "read:contacts",
}


@st.composite
def forged_tokens(draw: st.DrawFn) -> str:
    """Headers and claims that may pass every local check, with a signature nobody made."""
    alg = draw(st.sampled_from(ALGORITHMS))
    header = {"alg": alg, "kid": GENUINE_KIDS[alg]}
    if draw(st.booleans()):
        header.update(draw(members(header_values)))
    body = draw(near_claims)
    size = draw(st.sampled_from([SIGNATURE_SIZES[alg], 0, 1, 63, 65, 255, 257, 512]))
    signature = draw(st.binary(min_size=size, max_size=size))
    head = b64url(draw(json_dumps(header)))
    return f"{head}.{b64url(draw(json_dumps(body)))}.{b64url(signature)}"


jsonish_tokens = st.builds(
    lambda header, body, signature: f"{b64url(header)}.{b64url(body)}.{b64url(signature)}",
    st.one_of(json_documents, near_headers.flatmap(json_dumps)),
    st.one_of(json_documents, near_claims.flatmap(json_dumps)),
    st.binary(max_size=300),
)

segments = st.one_of(
    st.binary(max_size=300).map(b64url),
    b64url_text,
    st.just(""),
    st.text(st.sampled_from(ALPHABET + "+/=.~ \t%"), max_size=40),
    any_text,
)
dotted_tokens = st.lists(segments, min_size=1, max_size=7).map(".".join)

sized_tokens = st.builds(
    lambda head, signature, size, filler: (
        f"{b64url(head)}.{(filler * (size // len(filler) + 1))[:size]}.{b64url(signature)}"
    ),
    st.sampled_from([b'{"alg":"RS256","kid":"rs"}', b'{"alg":"EdDSA","kid":"ed"}']),
    st.binary(min_size=64, max_size=64),
    # around the 16 KiB limit (the other two segments take 123 characters), or anything
    st.integers(min_value=MAX_TOKEN_SIZE - 150, max_value=MAX_TOKEN_SIZE - 100)
    | st.integers(min_value=0, max_value=1 << 18),
    st.sampled_from(["A", "e30", "eyJhIjoxfQ", "_", "-"]),
)

#: anything at all an attacker might send where a token is expected
hostile_tokens = st.one_of(
    any_text,
    latin1_text,
    b64url_text,
    dotted_tokens,
    jsonish_tokens,
    forged_tokens(),
    sized_tokens,
)

# --- genuine tokens and their mutants --------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """Signs compact JWS with one algorithm and one key (a private key, or an HMAC secret)."""

    alg: str
    key: Any = field(repr=False)

    def sign(self, header: Mapping[str, Any], body: Mapping[str, Any], alg: str = "") -> str:
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        signing_input = head + "." + b64url(json.dumps(body, separators=(",", ":")).encode())
        signature = sign_input(alg or self.alg, self.key, signing_input.encode())
        return signing_input + "." + b64url(signature)


@cache
def genuine_signers() -> dict[str, Signer]:
    """The issuer's keys (published in its JWKS) and the verifier's shared secret."""
    return {
        "RS256": Signer("RS256", rsa_key(0)),
        "PS256": Signer("PS256", rsa_key(0)),
        "ES256": Signer("ES256", ec_key("P-256")),
        "EdDSA": Signer("EdDSA", ed_key()),
        "HS256": Signer("HS256", SECRET),
    }


@cache
def attacker_signers() -> dict[str, Signer]:
    """Keys of the same kinds that the issuer never published."""
    return {
        "RS256": Signer("RS256", rsa_key(1)),
        "PS256": Signer("PS256", rsa_key(1)),
        "ES256": Signer("ES256", ec_key("P-256", 1)),
        "EdDSA": Signer("EdDSA", ed_key(1)),
        "HS256": Signer("HS256", ATTACKER_SECRET),
    }


class Genuine(NamedTuple):
    """A valid token, its algorithm, and the header and claims it was signed over."""

    alg: str
    header: dict[str, Any]
    claims: dict[str, Any]
    token: str

    @property
    def parts(self) -> list[str]:
        return self.token.split(".")


scope_tokens = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'),
    min_size=1,
    max_size=12,
)


@st.composite
def genuine_tokens(draw: st.DrawFn, algorithms: tuple[str, ...] = ALGORITHMS) -> Genuine:
    """A token the permissive verifier accepts, freshly signed by the issuer."""
    alg = draw(st.sampled_from(algorithms))
    header: dict[str, Any] = {"alg": alg}
    if GENUINE_KIDS[alg] is not None:
        header["kid"] = GENUINE_KIDS[alg]
    typ = draw(st.sampled_from(["JWT", "at+jwt", None]))
    if typ is not None:
        header["typ"] = typ
    body = claims(
        sub=draw(clean_text),
        jti=draw(clean_text),
        scope=" ".join(draw(st.lists(scope_tokens, max_size=4))),
        exp=int(NOW) + draw(st.integers(min_value=0, max_value=86400)),
    )
    return Genuine(alg, header, body, genuine_signers()[alg].sign(header, body))


class Mutant(NamedTuple):
    """A changed token, and how it was changed (shown by Hypothesis on a failure)."""

    how: str
    token: str


Mutation = Callable[[st.DrawFn, Genuine], str]


def _position(draw: st.DrawFn, token: str, *, end: bool = False) -> int:
    return draw(st.integers(min_value=0, max_value=len(token) - (0 if end else 1)))


def _replace_character(draw: st.DrawFn, genuine: Genuine) -> str:
    token = genuine.token
    i = _position(draw, token)
    return token[:i] + draw(st.sampled_from(ALPHABET + ".=+/") | any_character) + token[i + 1 :]


def _insert_characters(draw: st.DrawFn, genuine: Genuine) -> str:
    token = genuine.token
    i = _position(draw, token, end=True)
    extra = draw(st.text(st.sampled_from(ALPHABET + ".= \t\r\n") | any_character, min_size=1))
    return token[:i] + extra + token[i:]


def _delete_characters(draw: st.DrawFn, genuine: Genuine) -> str:
    token = genuine.token
    i = _position(draw, token)
    return token[:i] + token[i + draw(st.integers(min_value=1, max_value=len(token) - i)) :]


def _change_case(draw: st.DrawFn, genuine: Genuine) -> str:
    token = genuine.token
    i = _position(draw, token)
    j = draw(st.integers(min_value=i + 1, max_value=len(token)))
    change = draw(st.sampled_from([str.swapcase, str.upper, str.lower]))
    return token[:i] + change(token[i:j]) + token[j:]


def _truncate(draw: st.DrawFn, genuine: Genuine) -> str:
    token = genuine.token
    i = _position(draw, token)
    return token[:i] if draw(st.booleans()) else token[i + 1 :]


def _append_junk(draw: st.DrawFn, genuine: Genuine) -> str:
    junk = draw(st.sampled_from([".", "=", "==", " ", "\n", "\x00", "..", "." + genuine.parts[2]])
                | any_text.filter(bool))  # fmt: skip
    return draw(st.sampled_from([genuine.token + junk, junk + genuine.token]))


def _pad_a_segment(draw: st.DrawFn, genuine: Genuine) -> str:
    parts = genuine.parts
    i = draw(st.integers(min_value=0, max_value=2))
    parts[i] += draw(st.sampled_from(["=", "==", "===", "%3D", "%3D%3D"]))
    return ".".join(parts)


def _rearrange_segments(draw: st.DrawFn, genuine: Genuine) -> str:
    """Segments swapped, duplicated, dropped or emptied."""
    parts = [*genuine.parts, ""]
    order = draw(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6))
    return ".".join(parts[i] for i in order)


def _set_unused_bits(draw: st.DrawFn, genuine: Genuine) -> str:
    """A non-canonical last character: the same bytes for a lenient base64 decoder."""
    parts = genuine.parts
    candidates = [i for i, part in enumerate(parts) if len(part) % 4 in (2, 3)]
    if not candidates:
        return genuine.token  # every segment is a multiple of 4 long: nothing to set
    i = draw(st.sampled_from(candidates))
    unused = 4 if len(parts[i]) % 4 == 2 else 2
    last = ALPHABET.index(parts[i][-1])
    bits = draw(st.integers(min_value=1, max_value=(1 << unused) - 1))
    parts[i] = parts[i][:-1] + ALPHABET[last | bits]
    return ".".join(parts)


def _standard_alphabet(draw: st.DrawFn, genuine: Genuine) -> str:
    """base64 where base64url was due: the same bytes for a lenient decoder."""
    variant = genuine.token.translate(str.maketrans("-_", "+/"))
    if draw(st.booleans()):  # and padded, as standard base64 is
        variant = ".".join(p + "=" * (-len(p) % 4) for p in variant.split("."))
    return variant


def _fold_lines(draw: st.DrawFn, genuine: Genuine) -> str:
    token = genuine.token
    width = draw(st.integers(min_value=1, max_value=100))
    breaker = draw(st.sampled_from(["\n", "\r\n", " ", "\t"]))
    return breaker.join(token[i : i + width] for i in range(0, len(token), width))


def _escape_a_character(draw: st.DrawFn, genuine: Genuine) -> str:
    """A character percent-encoded, or replaced by a look-alike (fullwidth, Unicode digit)."""
    token = genuine.token
    i = _position(draw, token)
    char = token[i]
    lookalike = chr(ord(char) + 0xFEE0) if char.isalnum() else "\uff0e"
    return token[:i] + draw(st.sampled_from([f"%{ord(char):02X}", lookalike])) + token[i + 1 :]


def _encode(draw: st.DrawFn, value: Mapping[str, Any]) -> str:
    return b64url(draw(json_dumps(dict(value))))


def _change_members(draw: st.DrawFn, value: dict[str, Any], pool: Mapping[str, Any]) -> dict:
    changed = dict(value)
    for name in draw(st.lists(st.sampled_from(sorted(pool)), min_size=1, max_size=3)):
        if name in changed and draw(st.booleans()):
            del changed[name]
        else:
            changed[name] = draw(pool[name])
    return changed


def _new_header_old_signature(draw: st.DrawFn, genuine: Genuine) -> str:
    header = _change_members(draw, genuine.header, header_values)
    return ".".join([_encode(draw, header), *genuine.parts[1:]])


def _new_claims_old_signature(draw: st.DrawFn, genuine: Genuine) -> str:
    body = _change_members(draw, genuine.claims, claim_values)
    head, _, signature = genuine.parts
    return f"{head}.{_encode(draw, body)}.{signature}"


def _same_json_other_bytes(draw: st.DrawFn, genuine: Genuine) -> str:
    """Header or claims re-serialised: equal as JSON, different as bytes."""
    head, body, signature = genuine.parts
    if draw(st.booleans()):
        head = _encode(draw, genuine.header)
    else:
        body = _encode(draw, genuine.claims)
    return f"{head}.{body}.{signature}"


def _attacker_key(draw: st.DrawFn, genuine: Genuine) -> str:
    """Re-signed with a key of the same kind that the issuer never published."""
    alg = draw(st.sampled_from([genuine.alg, *ALGORITHMS]))
    header = {**genuine.header, "alg": alg}
    if GENUINE_KIDS[alg] is not None:
        header["kid"] = draw(st.sampled_from([GENUINE_KIDS[alg], genuine.header.get("kid")]))
    if draw(st.booleans()):
        header = _change_members(draw, header, {"typ": header_values["typ"]})
    body = genuine.claims
    if draw(st.booleans()):
        body = _change_members(draw, body, claim_values)
    return attacker_signers()[alg].sign(header, body)


def _public_key_encodings(alg: str) -> list[bytes]:
    public = genuine_signers()[alg].key.public_key()
    encodings = [
        public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
        json.dumps(public_jwk(genuine_signers()[alg].key)).encode(),
    ]
    if isinstance(public, rsa.RSAPublicKey):
        encodings.append(public.public_bytes(Encoding.PEM, PublicFormat.PKCS1))
    elif isinstance(public, ec.EllipticCurvePublicKey):
        encodings.append(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    elif isinstance(public, ed25519.Ed25519PublicKey):
        encodings.append(public.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return encodings


def _hmac_with_the_public_key(draw: st.DrawFn, genuine: Genuine) -> str:
    """Algorithm confusion: HS* keyed with the issuer's public key, which anyone can fetch."""
    alg = draw(st.sampled_from(ASYMMETRIC))
    secret = draw(st.sampled_from(_public_key_encodings(alg)))
    hs = draw(st.sampled_from(["HS256", "HS384", "HS512"]))
    header = {**genuine.header, "alg": hs}
    if draw(st.booleans()):
        header["kid"] = GENUINE_KIDS[alg]
    return Signer(hs, secret).sign(header, genuine.claims)


def _unsigned(draw: st.DrawFn, genuine: Genuine) -> str:
    """``alg: none`` (in any spelling), with no signature or the old one."""
    header = {**genuine.header, "alg": draw(st.sampled_from(["none", "None", "NONE", "nOnE"]))}
    head, body, signature = genuine.parts
    head = _encode(draw, header)
    return draw(
        st.sampled_from([f"{head}.{body}.", f"{head}.{body}", f"{head}.{body}.{signature}"])
    )


def _signature_of_another_token(draw: st.DrawFn, genuine: Genuine) -> str:
    other = draw(genuine_tokens())
    head, body, _ = genuine.parts
    if other.token.rsplit(".", 1)[0] == f"{head}.{body}":
        # The issuer signed these very bytes twice (ECDSA and PSS are randomised): both
        # signatures are genuine, so this is no forgery.
        return genuine.token
    return f"{head}.{body}.{other.parts[2]}"


def _kid_of_another_key(draw: st.DrawFn, genuine: Genuine) -> str:
    """The rightful key signs, but the header names a key bound to another algorithm."""
    if genuine.alg not in ASYMMETRIC:
        return genuine.token
    others = [kid for alg, kid in GENUINE_KIDS.items() if alg not in (genuine.alg, "HS256")]
    kid = draw(st.sampled_from(others))
    return genuine_signers()[genuine.alg].sign({**genuine.header, "kid": kid}, genuine.claims)


def _arithmetic_twin(draw: st.DrawFn, genuine: Genuine) -> str:
    """The signature plus the group order: s + n (RSA, ECDSA), S + L (Ed25519).

    The same value modulo the order, refused because it is out of range. (ECDSA's other
    twin, (r, n - s), verifies: see ``test_an_ecdsa_signature_has_exactly_one_twin``.)
    """
    head, body, signature = genuine.parts
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    if genuine.alg in ("RS256", "PS256"):
        modulus = genuine_signers()[genuine.alg].key.public_key().public_numbers().n
        twin = int.from_bytes(raw, "big") + modulus
        twin_bytes = twin.to_bytes(len(raw), "big") if twin < 1 << (8 * len(raw)) else None
    elif genuine.alg == "ES256":
        s = int.from_bytes(raw[32:], "big") + P256_ORDER
        twin_bytes = raw[:32] + s.to_bytes(32, "big") if s < 1 << 256 else None
    elif genuine.alg == "EdDSA":
        s = int.from_bytes(raw[32:], "little") + ED25519_ORDER  # always fits: S < L < 2**253
        twin_bytes = raw[:32] + s.to_bytes(32, "little")
    else:
        twin_bytes = None  # HMAC has no twins
    if twin_bytes is None:
        return genuine.token  # no twin of this length
    return f"{head}.{body}.{b64url(twin_bytes)}"


MUTATIONS: dict[str, Mutation] = {
    "replace a character": _replace_character,
    "insert characters": _insert_characters,
    "delete characters": _delete_characters,
    "change case": _change_case,
    "truncate": _truncate,
    "append or prepend junk": _append_junk,
    "pad a segment": _pad_a_segment,
    "rearrange segments": _rearrange_segments,
    "set unused bits": _set_unused_bits,
    "standard base64 alphabet": _standard_alphabet,
    "fold lines": _fold_lines,
    "escape a character": _escape_a_character,
    "new header, old signature": _new_header_old_signature,
    "new claims, old signature": _new_claims_old_signature,
    "same JSON, other bytes": _same_json_other_bytes,
    "re-signed with an attacker's key": _attacker_key,
    "HMAC keyed with the public key": _hmac_with_the_public_key,
    "alg none": _unsigned,
    "signature of another token": _signature_of_another_token,
    "kid of another key": _kid_of_another_key,
    "arithmetic twin of the signature": _arithmetic_twin,
}


@st.composite
def mutants(draw: st.DrawFn, algorithms: tuple[str, ...] = ALGORITHMS) -> tuple[Genuine, Mutant]:
    """A genuine token and one mutation of it (possibly, rarely, a no-op)."""
    genuine = draw(genuine_tokens(algorithms))
    how = draw(st.sampled_from(list(MUTATIONS)))
    return genuine, Mutant(how, MUTATIONS[how](draw, genuine))


#: what arrives as an Authorization field value: anything, or almost a good one
authorization_values = st.one_of(
    any_text,
    latin1_text,
    st.builds(
        lambda scheme, spaces, token, before, after: f"{before}{scheme}{spaces}{token}{after}",
        st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR", "Basic", "DPoP", "Bearer,",
                         "Bearer:", "Bearer=", "Bearerx", "", "Bear er"]),
        st.sampled_from([" ", "  ", "\t", " \t", "", "\n", "\u00a0", ", "]),
        st.one_of(b64url_text, dotted_tokens, st.text(st.sampled_from(ALPHABET + "-._~+/=")),
                  any_text),
        st.sampled_from(["", " ", "\t", "\r\n", ","]),
        st.sampled_from(["", " ", "\t", "\r\n", ","]),
    ),
)  # fmt: skip
#: what arrives as a raw query string
query_texts = st.one_of(
    any_text,
    st.lists(
        st.tuples(
            st.sampled_from(["access_token", "access%5Ftoken", "access%5ftoken", "ACCESS_TOKEN",
                             "access_token%00", "access+token", "a", "", "%", "%zz", "page"]),
            st.sampled_from(["", "=", "=x", "=a.b.c", "=%"]),
        ),
        max_size=4,
    ).map(lambda fields: "&".join(name + value for name, value in fields)),
)  # fmt: skip
query_strings = st.none() | query_texts
