"""The hostile DPoP catalogue: every check of RFC 9449 §4.3 and the attacks around it.

Ids ``D01``-``D25``, one per check or attack, each case a variant of it with its
source: the RFC 9449 section (§4.3 numbers its checks 1 to 12), the RFC the
check rests on, or the write-up of the attack. ``tests/hostile/test_dpop_core.py``
runs every case through ``verify_request()`` and ``averify_request()``;
``tests/hostile/test_dpop_adapters.py`` through every framework adapter over its
real test client. The positive twins (``D24``, and the ``accepted`` variants of
other rows) must be accepted: a check that refused them would be refusing
clients that follow the RFC.

``POLICY`` names where bearerguard chose an answer RFC 9449 leaves open, or is
stricter than it (docs/security.md reproduces it).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from typing import Any

from bearerguard import (
    BearerError,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UseDPoPNonceError,
)
from bearerguard._dpop import token_hash
from bearerguard._mint import SigningKey
from tests.support import b64url, ec_key

from .builders import self_signed_certificate
from .dpop_builders import (
    ATTACKER,
    CLIENT,
    CLIENT_EDDSA,
    CLIENT_RS256,
    NONCE_SECRET,
    PATH,
    Build,
    ProofCase,
    Sent,
    World,
    claims_of,
    dpop_request,
    flip_unused_bits,
    flipped_signature,
    hs256_by,
    issuer_jwk,
    issuer_signer,
    json_text,
    private_jwk,
    proof,
    proof_claims,
    segment,
    short_rsa,
    sound,
    thumbprint_of,
    using,
)

RFC = "RFC 9449"
LEEWAY = 30  # the verifier's default
MAX_AGE = 60  # dpop_proof_max_age's default
NONCES = using(dpop_nonce=NONCE_SECRET)
NONCE_PERIOD = 60  # seconds: a nonce is accepted in its period and the next

POLICY: dict[str, str] = {
    "D01": (
        "Several proofs in one DPoP field (as a WSGI server folds repeated fields, joined by "
        "commas) are several proofs: 401 invalid_dpop_proof, like two fields."
    ),
    "D06": (
        "typ must be exactly dpop+jwt (§4.3 check 4): no other letter case and no "
        "application/ prefix, although RFC 7515 §4.1.9 calls media types case-insensitive."
    ),
    "D11": (
        "§4.3 check 9 compares htu with the request's URL ignoring any query and fragment: "
        "an htu that carries one is compared without it (accepted when the rest names the "
        "request), so a query never smuggles another path in."
    ),
    "D13": (
        "A jti is remembered per client key (its thumbprint): the same jti from another "
        "client is another proof and is accepted; a jti may be up to 512 characters."
    ),
    "D23": (
        "A Bearer request carrying a DPoP field is 400 invalid_request (a proof belongs with "
        "the DPoP scheme); an unbound token sent as DPoP is 401 invalid_token in the Bearer "
        "challenge; a bound token sent as Bearer is 401 invalid_token (sender-constrained). "
        "With dpop='required' a Bearer request counts as no credentials (401, DPoP "
        "challenge only); with dpop='off' a DPoP request does (401, Bearer challenge only)."
    ),
}


def refused(
    id: str,
    source: str,
    request: Build,
    error: type[BearerError] = InvalidDPoPProofError,
    *,
    early: bool = True,
    **kw: Any,
) -> ProofCase:
    """A request refused with ``error``; ``early``: before any network (the proof's own
    checks and the scheme rules need none)."""
    return ProofCase(id, source, request, error, fetches=False if early else None, **kw)


def late(id: str, source: str, request: Build, **kw: Any) -> ProofCase:
    """A proof refused once the token is known (binding, nonce, replay): after its keys."""
    return refused(id, source, request, early=False, **kw)


def accepted(id: str, source: str, request: Build, **kw: Any) -> ProofCase:
    return ProofCase(id, source, request, None, **kw)


def fields(build: Callable[[World], tuple[tuple[str, str], ...]]) -> Build:
    """A request of these exact fields (the token and proofs in them are its secrets)."""

    def make(world: World) -> Sent:
        made = build(world)
        return Sent(made, secrets=tuple(value.split(" ")[-1] for _, value in made))

    return make


def layout(token: Callable[[World], str], *named: tuple[str, str]) -> Build:
    """A request of these fields, in which ``{token}`` stands for ``token(world)`` and each
    ``{proof}`` for a new sound proof of it."""

    def build(world: World) -> Sent:
        access = token(world)
        made: list[tuple[str, str]] = []
        shown = [access]
        for name, template in named:
            value = template.replace("{token}", access)
            while "{proof}" in value:
                shown.append(proof(world, access))
                value = value.replace("{proof}", shown[-1], 1)
            made.append((name, value))
        return Sent(tuple(made), secrets=tuple(shown))

    return build


def with_proof(
    make: Callable[[World, str], str], token: Callable[[World], str] | None = None
) -> Build:
    """A DPoP request whose proof ``make(world, token)`` builds."""

    def build(world: World) -> Sent:
        access = token(world) if token is not None else world.bound_token()
        return dpop_request(access, make(world, access))

    return build


def claims(**changes: Any) -> Build:
    """A sound proof but for these claims (``None`` removes one)."""
    return with_proof(lambda w, t: proof(w, t, raw_claims=json_text(claims_of(w, t, **changes))))


def header(**changes: Any) -> Build:
    """A sound proof but for these header members (``None`` removes one)."""
    return sound(header=changes)


def raw_header(make: Callable[[World], str]) -> Build:
    return with_proof(lambda w, t: proof(w, t, raw_header=make(w)))


def raw_claims(make: Callable[[World, str], str]) -> Build:
    return with_proof(lambda w, t: proof(w, t, raw_claims=make(w, t)))


def htu(change: Callable[[World], str]) -> Build:
    """A sound proof whose htu is ``change(world)``."""
    return with_proof(lambda w, t: proof(w, t, claims={"htu": change(w)}))


def iat(offset: float) -> Build:
    """A sound proof issued ``offset`` seconds from now."""
    return with_proof(lambda w, t: proof(w, t, claims={"iat": w.now() + offset}))


def replayed(build: Build) -> Build:
    """``build``'s request, sent once and accepted first: the hostile request is the replay."""

    def make(world: World) -> Sent:
        sent = build(world)
        first = world.exchange(sent)
        assert first.status == 200, f"the first sending was refused: {first}"
        return sent

    return make


def bound_to(key: SigningKey) -> Callable[[World], str]:
    return lambda world: world.bound_token(key)


def unbound(world: World) -> str:
    return world.token()


def bound(world: World) -> str:
    return world.bound_token()


# --- URLs -------------------------------------------------------------------------------------


def origin(world: World) -> tuple[str, str]:
    scheme, host = world.base_url.split("://")
    return scheme, host


def other_scheme(world: World) -> str:
    scheme, host = origin(world)
    return f"{'http' if scheme == 'https' else 'https'}://{host}{PATH}"


def default_port(world: World) -> str:
    scheme, host = origin(world)
    return f"{scheme}://{host}:{443 if scheme == 'https' else 80}{PATH}"


def spelt(
    world: World, *, scheme: str | None = None, host: str | None = None, path: str = PATH
) -> str:
    own_scheme, own_host = origin(world)
    return f"{scheme or own_scheme}://{host or own_host}{path}"


# --- keys and signatures ------------------------------------------------------------------------


def alg_none(world: World, token: str) -> str:
    """An unsecured proof: ``alg: none`` and an empty signature (RFC 7519 §6)."""
    head = {"typ": "dpop+jwt", "alg": "none", "jwk": CLIENT.bare_jwk()}
    return (
        b64url(json_text(head).encode())
        + "."
        + b64url(json_text(proof_claims(world, token)).encode())
        + "."
    )


def alg_named(name: str) -> Callable[[World, str], str]:
    """A proof whose ``alg`` is ``name`` (any spelling), signed as ES256 by the client."""
    return lambda world, token: proof(world, token, header={"alg": name})


def hs256_with_jwk_as_secret(world: World, token: str) -> str:
    """``alg: HS256`` keyed with the jwk's public ``x`` (RFC 8725 §2.1's confusion)."""
    secret = base64.urlsafe_b64decode(CLIENT.bare_jwk()["x"] + "==")
    return hs256_by(secret)(world, token)


def standard_alphabet_signature(world: World, token: str) -> str:
    """A sound proof whose signature is spelt in the standard alphabet (``+`` and ``/``)."""
    while True:  # ES256 signatures are random: one in ~16 has neither "-" nor "_"
        made = proof(world, token)
        head, body, signature = made.split(".")
        if "-" in signature or "_" in signature:
            spelt_otherwise = signature.replace("-", "+").replace("_", "/")
            return f"{head}.{body}.{spelt_otherwise}"


def other_signature(world: World, token: str) -> str:
    """A sound proof's header and claims under the signature of another of its proofs."""
    head, body, _ = proof(world, token).split(".")
    return f"{head}.{body}.{proof(world, token).split('.')[2]}"


def duplicate_in_header(world: World) -> str:
    jwk = json_text(CLIENT.bare_jwk())
    return f'{{"typ":"jwt","typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}'


def duplicate_in_jwk(world: World) -> str:
    jwk = CLIENT.bare_jwk()
    other = ATTACKER.bare_jwk()
    members = (
        f'"kty":"EC","crv":"P-256","x":"{other["x"]}","x":"{jwk["x"]}",'
        f'"y":"{other["y"]}","y":"{jwk["y"]}"'
    )
    return f'{{"typ":"dpop+jwt","alg":"ES256","jwk":{{{members}}}}}'


def duplicate_htu(world: World, token: str) -> str:
    body = claims_of(world, token)
    text = json_text(body)
    return text.replace('"htu":', f'"htu":"{world.url("/api/private")}","htu":', 1)


def nested_too_deep(world: World, token: str) -> str:
    text = json_text(claims_of(world, token))
    return text[:-1] + ',"deep":' + "[" * 2_000 + "]" * 2_000 + "}"  # under the size cap


def huge_number_iat(world: World, token: str) -> str:
    text = json_text(claims_of(world, token, iat=None))
    return text[:-1] + ',"iat":1' + "0" * 40 + "}"  # 41 digits: no NumericDate has that many


def nan_iat(world: World, token: str) -> str:
    text = json_text(claims_of(world, token, iat=None))
    return text[:-1] + ',"iat":NaN}'


def jwk_with(**members: Any) -> Callable[[World, str], str]:
    """A proof by the client whose jwk has these members changed (``None`` removes one)."""

    def make(world: World, token: str) -> str:
        jwk = {**CLIENT.bare_jwk(), **members}
        return proof(world, token, header={"jwk": {k: v for k, v in jwk.items() if v is not None}})

    return make


def p256_jwk_on_p224(world: World, token: str) -> str:
    return jwk_with(crv="P-224")(world, token)


def oct_key(world: World, token: str) -> str:
    """A symmetric jwk (``kty: oct``, a shared secret) under an allowed alg: no DPoP key."""
    secret = {"kty": "oct", "k": b64url(secrets.token_bytes(32))}
    return proof(world, token, header={"jwk": secret})


def rsa_with_private_members(world: World, token: str) -> str:
    return proof(world, token, key=CLIENT_RS256, header={"jwk": private_jwk(CLIENT_RS256)})


def ec_with_d(world: World, token: str) -> str:
    return proof(world, token, header={"jwk": private_jwk(CLIENT)})


def certificate_of(key: Any) -> str:
    return self_signed_certificate(key)


def oversized(world: World, token: str) -> str:
    """A sound proof of more than 8 KiB (the proof parser's cap)."""
    return proof(world, token, claims={"padding": "x" * 9000})


def unencoded_payload(world: World, token: str) -> str:
    """RFC 7797: ``b64: false`` listed in ``crit``, the claims as they are (not base64url)."""
    head = {
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": CLIENT.bare_jwk(),
        "b64": False,
        "crit": ["b64"],
    }
    encoded_head = b64url(json_text(head).encode())
    payload = json_text(proof_claims(world, token))
    signing_input = f"{encoded_head}.{payload}".encode()
    return f"{encoded_head}.{payload}.{b64url(CLIENT.sign(signing_input))}"


def nested_unsecured_jwt(world: World, token: str) -> str:
    """``cty: JWT`` and an unsecured proof as the payload: a signed proof wrapping an
    unsigned one, whose claims a careless verifier would read."""
    head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": CLIENT.bare_jwk(), "cty": "JWT"}
    return proof(world, token, raw_header=json_text(head), raw_claims=alg_none(world, token))


def issuer_thumbprint_token(world: World) -> str:
    """A token the tenant bound to the thumbprint of its own signing key."""
    return world.token(cnf={"jkt": thumbprint_of(issuer_jwk())})


def jwk_is_issuer_key_signed_by(signer: SigningKey) -> Callable[[World, str], str]:
    """A proof whose jwk is the tenant's public key (with its kid), signed by ``signer``."""
    return lambda world, token: proof(
        world, token, key=signer, header={"alg": "RS256", "jwk": {**issuer_jwk(), "kid": "k1"}}
    )


def kid_instead_of_jwk(world: World, token: str) -> str:
    """No jwk: a ``kid`` naming the tenant's key, as a token's header would."""
    return proof(world, token, key=CLIENT_RS256, header={"jwk": None, "kid": "k1"})


def token_as_proof(world: World) -> Sent:
    token = world.bound_token()
    return dpop_request(token, token)


def proof_as_token(world: World) -> Sent:
    """The client's proof in the token's place, with a second proof that hashes it."""
    first = proof(world, None)
    return dpop_request(first, proof(world, first))


def proof_as_bearer_token(world: World) -> Sent:
    made = proof(world, None)
    return Sent((("Authorization", f"Bearer {made}"),), secrets=(made,))


def another_tokens_proof(world: World) -> Sent:
    """A sound proof of one of the client's tokens, sent with another of its tokens."""
    mine, other = world.bound_token(), world.bound_token(jti="another-token")
    return dpop_request(mine, proof(world, other))


def proof_replayed_with_another_token(world: World) -> Sent:
    """A proof accepted with one token, then sent again with another (same jti)."""
    first = world.bound_token()
    made = proof(world, first)
    assert world.exchange(dpop_request(first, made)).status == 200
    other = world.bound_token(jti="another-token")
    return dpop_request(other, proof(world, other, claims={"jti": _jti_of(made)}))


def _jti_of(made: str) -> str:
    body = made.split(".")[1]
    jti: str = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["jti"]
    return jti


def same_jti_new_proof(world: World) -> Sent:
    """A new proof (a second later) that reuses the jti of an accepted one."""
    token = world.bound_token()
    made = proof(world, token)
    assert world.exchange(dpop_request(token, made)).status == 200
    world.env.clock.advance(1)
    return dpop_request(token, proof(world, token, claims={"jti": _jti_of(made)}))


def same_jti_other_client(world: World) -> Sent:
    """Two clients that happen to pick the same jti: two proofs, both accepted."""
    mine = world.bound_token()
    made = proof(world, mine, claims={"jti": "shared-jti"})
    assert world.exchange(dpop_request(mine, made)).status == 200
    theirs = world.bound_token(ATTACKER)
    return dpop_request(theirs, proof(world, theirs, key=ATTACKER, claims={"jti": "shared-jti"}))


# --- nonces -------------------------------------------------------------------------------------


def with_nonce(make: Callable[[World], str]) -> Build:
    def build(world: World) -> Sent:
        nonce = make(world)
        token = world.bound_token()
        return dpop_request(token, proof(world, token, claims={"nonce": nonce}))

    return build


def current_nonce(world: World) -> str:
    return world.nonce()


def stale_nonce(world: World) -> str:
    nonce = world.nonce()
    world.env.clock.advance(3 * NONCE_PERIOD)
    return nonce


def previous_period_nonce(world: World) -> str:
    nonce = world.nonce()
    world.env.clock.advance(NONCE_PERIOD)
    return nonce


def tampered_nonce(world: World) -> str:
    nonce = world.nonce()
    return nonce[:-2] + ("AA" if nonce[-2:] != "AA" else "BB")


def made_up_nonce(world: World) -> str:
    return b64url(secrets.token_bytes(24))


def unbound_bearer(world: World) -> Sent:
    token = world.token()
    return Sent((("Authorization", f"Bearer {token}"),), secrets=(token,))


def bearer_of(token: Callable[[World], str]) -> Build:
    def build(world: World) -> Sent:
        made = token(world)
        return Sent((("Authorization", f"Bearer {made}"),), secrets=(made,))

    return build


def nothing(world: World) -> Sent:
    return Sent(())


def proof_without_authorization(world: World) -> Sent:
    token = world.bound_token()
    made = proof(world, token)
    return Sent((("DPoP", made),), secrets=(token, made))


NOT_BOUND = "The access token is not bound to a DPoP key"
SOURCE_1 = f"{RFC} §4.3 check 1 (one DPoP field), §7.1"
SOURCE_2 = f"{RFC} §4.3 check 2 (a single well-formed JWT); RFC 7515 §7.1"
SOURCE_B64 = f"{RFC} §4.3 check 2; RFC 7515 §2 and RFC 4648 §3.5 (canonical base64url)"
SOURCE_JSON = f"{RFC} §4.3 check 2; RFC 7515 §5.2 step 3-4 (JSON object, unique members)"
SOURCE_3 = f"{RFC} §4.2 and §4.3 check 3 (the required claims)"
SOURCE_4 = f"{RFC} §4.3 check 4 (typ dpop+jwt)"
SOURCE_5 = f"{RFC} §4.3 check 5 (asymmetric alg, not none, allowed); RFC 8725 §3.1-3.2"
SOURCE_6 = f"{RFC} §4.3 check 6 (the signature verifies with the jwk)"
SOURCE_7 = f"{RFC} §4.3 check 7 (no private key); RFC 7517 §4, RFC 7518 §3.3 and §6"
SOURCE_8 = f"{RFC} §4.3 check 8 (htm is the request's method); RFC 9110 §9.1 (case-sensitive)"
SOURCE_9 = f"{RFC} §4.3 check 9 (htu, ignoring query and fragment); RFC 3986 §6.2.2-6.2.3"
SOURCE_10 = f"{RFC} §4.3 check 10, §8 and §9 (server nonces)"
SOURCE_11 = f"{RFC} §4.3 check 11 and §11.1 (iat within the window)"
SOURCE_JTI = f"{RFC} §4.2 (jti) and §11.1 (replay)"
SOURCE_ATH = f"{RFC} §4.3 check 12.1 (ath is the token's hash), §4.2"
SOURCE_JKT = f"{RFC} §4.3 check 12.2 and §6.1 (cnf.jkt); RFC 7638 (thumbprint)"
SOURCE_KEYS = f"{RFC} §4.2 (the key is the jwk); RFC 8725 §3.10 (do not follow key references)"
SOURCE_CRIT = "RFC 7515 §4.1.11 (crit: refuse what is not understood); RFC 7797 §3 and §6 (b64)"
SOURCE_NONE = "RFC 8725 §2.1 and §3.1 (alg none and embedded unsecured JWTs)"
SOURCE_CONFUSION = "RFC 8725 §2.8 and §3.12 (one kind of JWT taken for another); RFC 9449 §4.2"
SOURCE_SCHEMES = f"{RFC} §7.1-7.2 (the DPoP and Bearer schemes side by side)"
SOURCE_SIZE = f"{RFC} §4.3 check 2; RFC 8259 §9 (a parser may limit the size it accepts)"

DPOP_CATALOGUE: list[ProofCase] = [
    # D00: the sound request every hostile one changes, through each key family.
    accepted("D00-a-sound-proof", f"{RFC} §4.2-4.3, §7.1", sound()),
    accepted(
        "D00-a-sound-rs256-proof",
        f"{RFC} §4.2",
        sound(key=CLIENT_RS256, token=bound_to(CLIENT_RS256)),
    ),
    accepted(
        "D00-a-sound-eddsa-proof",
        f"{RFC} §4.2",
        sound(key=CLIENT_EDDSA, token=bound_to(CLIENT_EDDSA)),
    ),
    # D01: exactly one DPoP field.
    refused("D01-no-dpop-field", SOURCE_1, lambda w: dpop_request(w.bound_token())),
    refused(
        "D01-two-dpop-fields",
        SOURCE_1,
        layout(bound, ("Authorization", "DPoP {token}"), ("DPoP", "{proof}"), ("DPoP", "{proof}")),
    ),
    refused(
        "D01-two-proofs-comma-joined-in-one-field",
        SOURCE_1,
        layout(bound, ("Authorization", "DPoP {token}"), ("DPoP", "{proof}, {proof}")),
    ),
    refused("D01-empty-dpop-field", SOURCE_1, with_proof(lambda w, t: "")),
    # D02: a compact JWS.
    refused("D02-not-a-jwt", SOURCE_2, with_proof(lambda w, t: "not-a-proof")),
    refused(
        "D02-two-segments",
        SOURCE_2,
        with_proof(lambda w, t: proof(w, t).rsplit(".", 1)[0]),
    ),
    refused(
        "D02-four-segments",
        SOURCE_2,
        with_proof(lambda w, t: proof(w, t) + ".e30"),
    ),
    refused(
        "D02-five-segments-a-jwe",
        SOURCE_2,
        with_proof(
            lambda w, t: b64url(b'{"alg":"RSA-OAEP","enc":"A256GCM","typ":"dpop+jwt"}') + ".a.b.c.d"
        ),
    ),
    refused(
        "D02-empty-signature",
        SOURCE_2,
        with_proof(lambda w, t: proof(w, t).rsplit(".", 1)[0] + "."),
    ),
    refused(
        "D02-json-serialization",
        SOURCE_2,
        with_proof(
            lambda w, t: json_text(
                dict(
                    zip(("protected", "payload", "signature"), proof(w, t).split("."), strict=True)
                )
            )
        ),
    ),
    # D03: canonical base64url.
    refused(
        "D03-padded-header",
        SOURCE_B64,
        sound(edit=segment(0, lambda s: s + "=" * (-len(s) % 4 or 4))),
    ),
    refused("D03-standard-alphabet", SOURCE_B64, with_proof(standard_alphabet_signature)),
    refused(
        "D03-unused-bits-set-in-the-signature",
        SOURCE_B64,
        sound(edit=segment(2, flip_unused_bits)),
    ),
    refused(
        "D03-character-outside-the-alphabet",
        SOURCE_B64,
        sound(edit=segment(1, lambda s: s[:5] + "!" + s[6:])),
    ),
    # D04: strict JSON.
    refused("D04-header-not-json", SOURCE_JSON, raw_header(lambda w: "dpop+jwt ES256")),
    refused("D04-claims-not-json", SOURCE_JSON, raw_claims(lambda w, t: "htm=GET")),
    refused(
        "D04-header-a-json-array",
        SOURCE_JSON,
        raw_header(lambda w: json_text({"a": 1}).replace("{", "[").replace("}", "]")),
    ),
    refused(
        "D04-claims-trailing-garbage",
        SOURCE_JSON,
        raw_claims(lambda w, t: json_text(claims_of(w, t)) + "x"),
    ),
    refused("D04-nan-iat", SOURCE_JSON, raw_claims(nan_iat)),
    refused("D04-nested-two-thousand-levels", SOURCE_JSON, raw_claims(nested_too_deep)),
    # D05: duplicate members, where parsers disagree on which one wins.
    refused("D05-duplicate-typ-in-the-header", SOURCE_JSON, raw_header(duplicate_in_header)),
    refused("D05-duplicate-x-in-the-jwk", SOURCE_JSON, raw_header(duplicate_in_jwk)),
    refused("D05-duplicate-htu-in-the-claims", SOURCE_JSON, raw_claims(duplicate_htu)),
    # D06: typ.
    refused("D06-typ-missing", SOURCE_4, header(typ=None)),
    refused("D06-typ-jwt", SOURCE_4, header(typ="JWT")),
    refused("D06-typ-at+jwt", SOURCE_4, header(typ="at+jwt")),
    refused("D06-typ-upper-case", SOURCE_4, header(typ="DPOP+JWT")),
    refused("D06-typ-mixed-case", SOURCE_4, header(typ="DPoP+jwt")),
    refused("D06-typ-with-application-prefix", SOURCE_4, header(typ="application/dpop+jwt")),
    refused("D06-typ-not-a-string", SOURCE_4, header(typ=["dpop+jwt"])),
    # D07: alg.
    refused("D07-alg-none-unsigned", SOURCE_5, with_proof(alg_none)),
    refused("D07-alg-none-capitalised", SOURCE_5, with_proof(alg_named("None"))),
    refused("D07-alg-missing", SOURCE_5, header(alg=None)),
    refused("D07-alg-hs256-keyed-with-the-jwk", SOURCE_5, with_proof(hs256_with_jwk_as_secret)),
    refused(
        "D07-alg-not-in-dpop-algorithms",
        SOURCE_5,
        sound(key=CLIENT_EDDSA, token=bound_to(CLIENT_EDDSA)),
        settings=using(dpop_algorithms=["ES256"]),
    ),
    refused(
        "D07-alg-es256k-not-allowed",
        SOURCE_5,
        with_proof(lambda w, t: proof(w, t, key=SigningKey("ES256K"))),
    ),
    refused("D07-alg-rs256-with-an-ec-jwk", SOURCE_5, with_proof(alg_named("RS256"))),
    refused("D07-alg-es384-with-a-p256-jwk", SOURCE_5, with_proof(alg_named("ES384"))),
    refused("D07-alg-lower-case", SOURCE_5, with_proof(alg_named("es256"))),
    refused(
        "D07-alg-eddsa-with-an-rsa-jwk",
        SOURCE_5,
        with_proof(lambda w, t: proof(w, t, key=CLIENT_RS256, header={"alg": "EdDSA"})),
    ),
    # D08: jwk, a public signing key and nothing else.
    refused("D08-jwk-missing", SOURCE_7, header(jwk=None)),
    refused("D08-jwk-as-a-string", SOURCE_7, header(jwk=json_text(CLIENT.bare_jwk()))),
    refused("D08-jwk-with-private-d", SOURCE_7, with_proof(ec_with_d)),
    refused("D08-rsa-jwk-with-p-q-and-d", SOURCE_7, with_proof(rsa_with_private_members)),
    refused(
        "D08-rsa-jwk-of-1024-bits",
        SOURCE_7,
        with_proof(lambda w, t: proof(w, t, key=short_rsa())),
    ),
    refused("D08-unknown-kty", SOURCE_7, with_proof(jwk_with(kty="XYZ"))),
    refused("D08-unknown-crv", SOURCE_7, with_proof(p256_jwk_on_p224)),
    refused("D08-oct-key", SOURCE_7, with_proof(oct_key)),
    refused("D08-jwk-for-encryption", SOURCE_7, with_proof(jwk_with(use="enc"))),
    refused("D08-jwk-missing-y", SOURCE_7, with_proof(jwk_with(y=None))),
    # D09: the signature, by the jwk.
    refused("D09-bad-signature", SOURCE_6, sound(edit=flipped_signature)),
    refused("D09-signed-by-another-key", SOURCE_6, sound(signer=ATTACKER)),
    refused("D09-signature-of-another-proof", SOURCE_6, with_proof(other_signature)),
    refused(
        "D09-signature-over-other-claims",
        SOURCE_6,
        with_proof(
            lambda w, t: ".".join(
                [
                    *proof(w, t).split(".")[:1],
                    proof(w, t, path="/api/private").split(".")[1],
                    proof(w, t).split(".")[2],
                ]
            )
        ),
    ),
    # D10: htm.
    refused("D10-htm-post-for-a-get", SOURCE_8, claims(htm="POST")),
    refused("D10-htm-lower-case", SOURCE_8, claims(htm="get")),
    refused("D10-htm-with-a-space", SOURCE_8, claims(htm="GET ")),
    refused("D10-htm-missing", SOURCE_3, claims(htm=None)),
    refused("D10-htm-not-a-string", SOURCE_3, claims(htm=["GET"])),
    # D11: htu.
    refused("D11-htu-other-host", SOURCE_9, htu(lambda w: spelt(w, host="evil.example.com"))),
    refused("D11-htu-other-path", SOURCE_9, htu(lambda w: w.url("/api/private"))),
    refused("D11-htu-other-scheme", SOURCE_9, htu(other_scheme)),
    refused(
        "D11-htu-other-port",
        SOURCE_9,
        htu(lambda w: spelt(w, host=origin(w)[1] + ":8443")),
    ),
    refused("D11-htu-trailing-slash", SOURCE_9, htu(lambda w: w.url(PATH + "/"))),
    refused("D11-htu-a-prefix-of-the-path", SOURCE_9, htu(lambda w: w.url("/api"))),
    refused(
        "D11-htu-with-userinfo",
        SOURCE_9,
        htu(lambda w: spelt(w, host="user@" + origin(w)[1])),
    ),
    refused(
        "D11-htu-host-with-a-trailing-dot",
        SOURCE_9,
        htu(lambda w: spelt(w, host=origin(w)[1] + ".")),
    ),
    refused("D11-htu-encoded-slash", SOURCE_9, htu(lambda w: w.url("/api%2Fcontacts"))),
    refused("D11-htu-relative", SOURCE_9, htu(lambda w: PATH)),
    refused("D11-htu-missing", SOURCE_3, claims(htu=None)),
    refused("D11-htu-not-a-string", SOURCE_3, claims(htu={"href": "x"})),
    refused(
        "D11-htu-other-path-with-the-right-one-in-its-query",
        SOURCE_9,
        htu(lambda w: w.url("/api/private?") + w.url()),
    ),
    refused(
        "D11-htu-other-path-with-the-right-one-in-its-fragment",
        SOURCE_9,
        htu(lambda w: w.url("/api/private#") + PATH),
    ),
    accepted("D11-htu-with-a-query-ignored", SOURCE_9, htu(lambda w: w.url(PATH + "?page=2"))),
    accepted("D11-htu-with-a-fragment-ignored", SOURCE_9, htu(lambda w: w.url(PATH + "#top"))),
    # D12: iat, within dpop_proof_max_age (60 s) and the leeway (30 s).
    refused("D12-iat-missing", SOURCE_3, claims(iat=None)),
    refused(
        "D12-iat-a-string",
        SOURCE_11,
        with_proof(lambda w, t: proof(w, t, claims={"iat": str(w.now())})),
    ),
    refused("D12-iat-true", SOURCE_11, claims(iat=True)),
    refused("D12-iat-huge-number", SOURCE_JSON, raw_claims(huge_number_iat)),
    refused("D12-iat-too-old", SOURCE_11, iat(-3600)),
    refused("D12-iat-just-too-old", SOURCE_11, iat(-(MAX_AGE + LEEWAY) - 0.5)),
    accepted("D12-iat-at-the-oldest-edge", SOURCE_11, iat(-(MAX_AGE + LEEWAY))),
    refused("D12-iat-in-the-future", SOURCE_11, iat(3600)),
    refused("D12-iat-just-beyond-the-leeway", SOURCE_11, iat(LEEWAY + 0.5)),
    accepted("D12-iat-at-the-leeway", SOURCE_11, iat(LEEWAY)),
    refused("D12-iat-1e300", SOURCE_11, iat(1e300)),
    # D13: jti, and replays.
    refused("D13-jti-missing", SOURCE_JTI, claims(jti=None)),
    refused("D13-jti-empty", SOURCE_JTI, claims(jti="")),
    refused("D13-jti-a-number", SOURCE_JTI, claims(jti=12345)),
    refused("D13-jti-an-array", SOURCE_JTI, claims(jti=["a"])),
    refused("D13-jti-of-513-characters", SOURCE_JTI, claims(jti="j" * 513)),
    accepted("D13-jti-of-512-characters", SOURCE_JTI, claims(jti="j" * 512)),
    late("D13-proof-replayed", SOURCE_JTI, replayed(sound())),
    late("D13-jti-reused-by-a-new-proof", SOURCE_JTI, same_jti_new_proof),
    accepted("D13-same-jti-from-another-client", SOURCE_JTI, same_jti_other_client),
    # D14: ath.
    refused("D14-ath-missing", SOURCE_ATH, claims(ath=None)),
    refused(
        "D14-ath-of-another-token",
        SOURCE_ATH,
        with_proof(lambda w, t: proof(w, t, claims={"ath": token_hash(t + "x")})),
    ),
    refused(
        "D14-ath-non-canonical",
        SOURCE_ATH,
        with_proof(lambda w, t: proof(w, t, claims={"ath": flip_unused_bits(token_hash(t))})),
    ),
    refused(
        "D14-ath-padded",
        SOURCE_ATH,
        with_proof(lambda w, t: proof(w, t, claims={"ath": token_hash(t) + "="})),
    ),
    refused(
        "D14-ath-of-the-whole-authorization-value",
        SOURCE_ATH,
        with_proof(lambda w, t: proof(w, t, claims={"ath": token_hash("DPoP " + t)})),
    ),
    refused(
        "D14-ath-not-a-string",
        SOURCE_ATH,
        with_proof(lambda w, t: proof(w, t, claims={"ath": [token_hash(t)]})),
    ),
    # D15: cnf.jkt, the binding.
    late("D15-token-bound-to-another-key", SOURCE_JKT, sound(token=bound_to(ATTACKER))),
    late(
        "D15-cnf-jkt-spelt-non-canonically",
        SOURCE_JKT,
        sound(token=lambda w: w.token(cnf={"jkt": flip_unused_bits(CLIENT.thumbprint())})),
    ),
    accepted(
        "D15-jwk-with-a-kid-has-the-same-thumbprint",
        SOURCE_JKT,
        with_proof(jwk_with(kid="my-key", alg="ES256")),
    ),
    # D16: server nonces (dpop_nonce set).
    late("D16-nonce-missing", SOURCE_10, sound(), settings=NONCES, error=UseDPoPNonceError),
    late(
        "D16-nonce-stale",
        SOURCE_10,
        with_nonce(stale_nonce),
        settings=NONCES,
        error=UseDPoPNonceError,
    ),
    late(
        "D16-nonce-tampered",
        SOURCE_10,
        with_nonce(tampered_nonce),
        settings=NONCES,
        error=UseDPoPNonceError,
    ),
    late(
        "D16-nonce-made-up",
        SOURCE_10,
        with_nonce(made_up_nonce),
        settings=NONCES,
        error=UseDPoPNonceError,
    ),
    late(
        "D16-nonce-not-a-string",
        SOURCE_10,
        claims(nonce=12345),
        settings=NONCES,
        error=UseDPoPNonceError,
    ),
    accepted("D16-current-nonce", SOURCE_10, with_nonce(current_nonce), settings=NONCES),
    accepted(
        "D16-nonce-of-the-previous-period",
        SOURCE_10,
        with_nonce(previous_period_nonce),
        settings=NONCES,
    ),
    accepted(
        "D16-bearer-request-needs-no-nonce",
        SOURCE_10,
        unbound_bearer,
        settings=NONCES,
        bound=False,
    ),
    # D17: size.
    refused("D17-proof-over-8-kib", SOURCE_SIZE, with_proof(oversized)),
    # D18: a jwk, or header members, pointing at another key.
    refused(
        "D18-header-x5c-of-another-key",
        SOURCE_KEYS,
        header(x5c=[self_signed_certificate(ec_key("P-256", 7))]),
    ),
    refused("D18-header-x5u", SOURCE_KEYS, header(x5u="https://evil.example.com/cert.pem")),
    refused("D18-header-jku", SOURCE_KEYS, header(jku="https://evil.example.com/jwks.json")),
    refused("D18-header-x5t-s256", SOURCE_KEYS, header(**{"x5t#S256": b64url(b"x" * 32)})),
    refused(
        "D18-client-jwk-with-x5c-of-the-signers-key",
        SOURCE_KEYS,
        sound(
            signer=ATTACKER,
            header={
                "jwk": {**CLIENT.bare_jwk(), "x5c": [self_signed_certificate(ATTACKER._key())]}
            },
        ),
    ),
    refused(
        "D18-client-jwk-with-x5u-of-the-signers-key",
        SOURCE_KEYS,
        sound(
            signer=ATTACKER,
            header={"jwk": {**CLIENT.bare_jwk(), "x5u": "https://evil.example.com/attacker.pem"}},
        ),
    ),
    late(
        "D18-attacker-jwk-with-the-issuers-kid",
        SOURCE_KEYS,
        sound(key=ATTACKER, header={"kid": "k1", "jwk": {**ATTACKER.bare_jwk(), "kid": "k1"}}),
    ),
    accepted("D18-a-kid-beside-the-jwk-is-ignored", SOURCE_KEYS, header(kid="my-key")),
    # D19: crit and b64.
    refused("D19-crit-unknown-extension", SOURCE_CRIT, header(crit=["exp"], exp=1)),
    refused("D19-crit-empty", SOURCE_CRIT, header(crit=[])),
    refused("D19-unencoded-payload-b64-in-crit", SOURCE_CRIT, with_proof(unencoded_payload)),
    refused("D19-b64-false-without-crit", SOURCE_CRIT, header(b64=False)),
    # D20: an embedded none.
    refused("D20-jwk-with-alg-none", SOURCE_NONE, with_proof(jwk_with(alg="none"))),
    refused("D20-alg-none-with-a-signature", SOURCE_NONE, with_proof(alg_named("none"))),
    refused("D20-unsecured-jwt-as-the-payload", SOURCE_NONE, with_proof(nested_unsecured_jwt)),
    # D21: a proof of another token.
    refused("D21-proof-of-another-token-of-the-client", SOURCE_ATH, another_tokens_proof),
    refused(
        "D21-accepted-proof-replayed-with-another-token",
        SOURCE_ATH,
        proof_replayed_with_another_token,
    ),
    # D22: key confusion between the proof and the token.
    late(
        "D22-proof-signed-by-the-issuers-key",
        SOURCE_CONFUSION,
        with_proof(jwk_is_issuer_key_signed_by(issuer_signer())),
    ),
    refused(
        "D22-token-bound-to-the-issuers-key-proof-by-an-attacker",
        SOURCE_CONFUSION,
        with_proof(jwk_is_issuer_key_signed_by(CLIENT_RS256), token=issuer_thumbprint_token),
    ),
    refused(
        "D22-token-bound-to-the-issuers-key-proof-names-its-kid",
        SOURCE_CONFUSION,
        with_proof(kid_instead_of_jwk, token=issuer_thumbprint_token),
    ),
    refused("D22-the-tokens-own-jwt-as-the-proof", SOURCE_CONFUSION, token_as_proof),
    refused(
        "D22-a-proof-as-the-token",
        SOURCE_CONFUSION,
        proof_as_token,
        error=InvalidTokenError,
    ),
    refused(
        "D22-a-proof-as-a-bearer-token",
        SOURCE_CONFUSION,
        proof_as_bearer_token,
        error=InvalidTokenError,
    ),
    # D23: the schemes.
    refused(
        "D23-bearer-with-a-dpop-field",
        SOURCE_SCHEMES,
        layout(unbound, ("Authorization", "Bearer {token}"), ("DPoP", "{proof}")),
        error=InvalidRequestError,
        description="A DPoP proof was sent with a Bearer token",
    ),
    refused(
        "D23-bound-token-as-bearer",
        SOURCE_SCHEMES,
        bearer_of(lambda w: w.bound_token()),
        error=SenderConstrainedTokenError,
        early=False,
    ),
    refused(
        "D23-unbound-token-as-dpop",
        SOURCE_SCHEMES,
        sound(token=unbound),
        error=InvalidTokenError,
        description=NOT_BOUND,
        early=False,
    ),
    refused(
        "D23-required-and-bearer",
        SOURCE_SCHEMES,
        unbound_bearer,
        error=MissingTokenError,
        settings=using(dpop="required"),
    ),
    refused(
        "D23-required-and-no-credentials",
        SOURCE_SCHEMES,
        nothing,
        error=MissingTokenError,
        settings=using(dpop="required"),
    ),
    accepted("D23-required-and-dpop", SOURCE_SCHEMES, sound(), settings=using(dpop="required")),
    refused(
        "D23-off-and-dpop",
        SOURCE_SCHEMES,
        sound(),
        error=MissingTokenError,
        settings=using(dpop="off"),
    ),
    refused(
        "D23-off-and-bound-token-as-bearer",
        SOURCE_SCHEMES,
        bearer_of(lambda w: w.bound_token()),
        error=SenderConstrainedTokenError,
        settings=using(dpop="off"),
        early=False,
    ),
    refused(
        "D23-dpop-field-without-authorization",
        SOURCE_SCHEMES,
        proof_without_authorization,
        error=MissingTokenError,
    ),
    refused(
        "D23-dpop-scheme-without-a-token",
        SOURCE_SCHEMES,
        fields(lambda w: (("Authorization", "DPoP"), ("DPoP", proof(w, None)))),
        error=InvalidRequestError,
    ),
    refused(
        "D23-dpop-and-bearer-authorization-fields",
        SOURCE_SCHEMES,
        layout(
            bound,
            ("Authorization", "DPoP {token}"),
            ("Authorization", "Bearer {token}"),
            ("DPoP", "{proof}"),
        ),
        error=InvalidRequestError,
    ),
    accepted(
        "D23-dpop-scheme-in-lower-case",
        "RFC 9110 §11.1 (auth schemes are case-insensitive)",
        layout(bound, ("Authorization", "dpop {token}"), ("DPoP", "{proof}")),
    ),
    # D24: the positive twins: an htu spelt otherwise, the same URL by RFC 3986.
    accepted(
        "D24-htu-scheme-in-upper-case",
        SOURCE_9,
        htu(lambda w: spelt(w, scheme=origin(w)[0].upper())),
    ),
    accepted(
        "D24-htu-host-in-upper-case", SOURCE_9, htu(lambda w: spelt(w, host=origin(w)[1].upper()))
    ),
    accepted("D24-htu-with-the-default-port", SOURCE_9, htu(default_port)),
    accepted(
        "D24-htu-percent-encoding-lower-case",
        SOURCE_9,
        htu(lambda w: w.url("/api/c%6fntacts")),
    ),
    accepted(
        "D24-htu-percent-encoding-upper-case",
        SOURCE_9,
        htu(lambda w: w.url("/api/c%6Fntacts")),
    ),
    accepted("D24-htu-with-a-dot-segment", SOURCE_9, htu(lambda w: w.url("/api/./contacts"))),
    accepted(
        "D24-htu-with-a-dot-dot-segment",
        SOURCE_9,
        htu(lambda w: w.url("/api/v1/../contacts")),
    ),
    accepted(
        "D24-request-with-a-query-proof-without",
        SOURCE_9,
        sound(query="page=2&sort=name"),
    ),
]
