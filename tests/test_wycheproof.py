"""Project Wycheproof test vectors through bearerguard's signatures, parser and key import.

The vectors (``tests/data/wycheproof``, unmodified, Apache-2.0; see the README there) are run
in three layers. Each test is named after the vector's ``tcId``; each expects the vector's
label (``valid`` accepted, ``invalid`` refused) unless :data:`POLICY_DIFFERENCES` or
:data:`LABEL_DEFECTS` says otherwise, and every ``acceptable`` vector must be listed there with
bearerguard's decision.

1. **Raw signatures** (RS256, PS256, ES256 with r‖s signatures, Ed25519 under both its JWS
   names: RFC 8037's ``EdDSA`` and RFC 9864's ``Ed25519``). The group's
   public key is turned into a JWK from its raw numbers and imported with
   ``VerificationKey.from_jwk``, exactly as a key from a provider's JWKS is (so the import
   policy applies: e = 65537 only, 2048..8192-bit moduli, points on the curve). The verdict is
   step 6 of the pipeline as ``_flow.verify_flow`` takes it: the signature must be as long as the
   key's ``signature_size`` *and* ``SignaturePrimitive.verify`` must return ``True``. An
   invalid signature must come back as ``False``, never as an exception. A second test runs the
   bare primitive on a key loaded from the vector's DER, without bearerguard's import policy or
   the length check, to show that what the policy refuses would verify and that the primitive
   alone agrees with every label.

2. **Whole tokens** (``json_web_signature_test.json``). The payloads are not access-token
   claims (``foo``, empty, binary, RFC 7520's prose), so the verifier, which parses the claims
   and checks ``iss`` before it looks at any key, refuses every one of them long before the
   signature. Two tests therefore split the question:

   * :func:`signature_stage` runs every step the verifier takes *before* the claims, with
     bearerguard's own functions, in the order of ``verify_flow``: ``parse_token`` (size,
     shape, canonical base64url, strict JSON header), ``check_header`` (the allow-list, ``crit``,
     ``kid``, ``typ``), the key from ``KeySet.from_document`` and ``KeySet.find`` (kty, curve and
     published ``alg`` binding), the length check and the primitive. The one refusal it steps
     over is ``parse_token``'s refusal of a payload that is not a JSON object, and only when
     that is the sole problem (its reason starts with "The claims"); the header and signature
     are then taken from the very segments ``parse_token`` has just accepted. The vector's key
     is the only key; the allow-list holds every asymmetric algorithm (so a wrong-algorithm
     token is refused by the key's binding, not just by a short list), or, for the vectors
     with an HMAC key, that one HS algorithm with the key as the verifier's ``secret``.
   * The real :class:`Verifier`, its JWKS served in-process with the vector's key, must refuse
     every compact vector with an :class:`InvalidTokenError`, fetch nothing (no trusted ``iss``),
     refuse parsing failures for the same reason as the signature stage, and refuse each token
     the signature stage accepts *only* because its payload is not a claims set.

   JSON serializations (flattened or general) are refused at parsing: bearerguard reads the
   compact serialization only.

3. **JWK sets** (``json_web_key_test.json``). Each group's key set is served as the issuer's
   JWKS (``public`` where the group has one, else ``private``, as a careless provider might
   publish it): :data:`PUBLISHED_KEYS` states what ``VerificationKey.from_jwk`` makes of each
   JWK (imported, or the reason it is skipped), and the group's token then goes through the
   signature stage with what was imported. Private and symmetric JWKs of both JWS/JWK files are
   refused as private key material. The HS256/384/512 keys are also tried the way bearerguard
   does take HMAC keys, as the verifier's ``secret=``: too-short and empty keys are refused at
   construction, the others verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from bearerguard import (
    ConfigurationError,
    InvalidTokenError,
    MalformedTokenError,
    UnknownKeyError,
    Verifier,
)
from bearerguard._claims import check_header
from bearerguard._config import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    HMAC_DIGEST_SIZES,
    VerifierConfig,
)
from bearerguard._jose import b64url_decode, parse_json_object, parse_token
from bearerguard._keys import KeySet, KeySetError, VerificationKey
from bearerguard._signatures import signature_primitives

from .support import AUDIENCE, ISSUER, Provider
from .wycheproof import (
    DATA,
    ECDSA_P256,
    ED25519,
    FILES,
    JWK,
    JWS,
    RSA_PKCS1,
    RSA_PSS,
    SignatureVector,
    TokenVector,
    load,
    public_jwk,
    published_sha256,
    signature_vectors,
    token_vectors,
    vectors_own_jwk,
)

# --- outcomes and the deliberate differences ------------------------------------------------------

ACCEPTED = "accepted"
# Where bearerguard refuses: building the verifier, importing a key set, or a pipeline step.
KEY_IMPORT = "key import"
CONFIGURATION = "configuration"
PARSING = "parsing"
HEADER = "header"
KEY_SELECTION = "key selection"
SIGNATURE = "signature"

DOES_NOT_VERIFY = "the signature does not verify"
NO_FITTING_KEY = "no key of the set fits the token's kid and alg"
IMPORTED = "imported"
PRIVATE_MATERIAL = "it contains private key material"


@dataclass(frozen=True)
class Outcome:
    """bearerguard's answer to one vector: accepted, or refused at ``stage`` for ``reason``."""

    stage: str
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.stage == ACCEPTED


@dataclass(frozen=True)
class Difference:
    """Vectors whose label bearerguard answers otherwise, and why."""

    file: str
    tc_ids: tuple[int, ...]
    label: str  # the vectors' result
    stage: str  # bearerguard's answer: ACCEPTED, or the stage that refuses them
    reason: str  # the refusal's reason contains this ("" when accepted)
    why: str


POLICY_DIFFERENCES: Mapping[str, Difference] = {
    "RSA public exponent 3": Difference(
        RSA_PKCS1,
        (258, 259),
        "valid",
        KEY_IMPORT,
        "its RSA exponent is 3, not 65537",
        "Only e = 65537 is imported: every real provider uses it, and small exponents mostly "
        "appear in forgeries against lax PKCS#1 parsers. These edge-case signatures (a tiny "
        "signature, one close to n) can only be built with e = 3. With the key loaded anyway, "
        "the RS256 primitive verifies both.",
    ),
    "PKCS#1 v1.5 DigestInfo without its NULL": Difference(
        RSA_PKCS1,
        (8,),
        "acceptable",
        SIGNATURE,
        DOES_NOT_VERIFY,
        "A legacy encoding that omits the NULL algorithm parameter; RFC 8017 requires it, "
        "and cryptography (OpenSSL) refuses the signature. Nothing an identity provider emits.",
    ),
    "JWS with an empty payload": Difference(
        JWS,
        (259, 264, 268, 272, 320, 325),
        "valid",
        PARSING,
        "three non-empty base64url segments",
        "RFC 7515 allows an empty payload, but an access token always carries claims: the "
        "compact parser refuses empty segments before any cryptography.",
    ),
    "key published for another algorithm": Difference(
        JWS,
        (346, 350),
        "valid",
        KEY_SELECTION,
        NO_FITTING_KEY,
        "RFC 7520 figure 20 is signed with PS384, but the vector's JWK publishes alg PS256. "
        "A key verifies only the algorithm it publishes (RFC 8725 §3.1), so no key fits.",
    ),
    "key published with alg ES521": Difference(
        JWS,
        (347, 351),
        "valid",
        KEY_IMPORT,
        "its alg 'ES521' does not fit a EC key",
        "RFC 7520 figure 27's key publishes alg 'ES521', which is no JWS algorithm (P-521 "
        "signs ES512). A JWK whose alg does not fit its type and curve is skipped, leaving no "
        "key for the token.",
    ),
    "HMAC keys in a JWK Set": Difference(
        JWK,
        (2, 13, 14, 15),
        "valid",
        HEADER,
        "alg is not one of the allowed algorithms",
        "Symmetric JWKs in a key set are never used (a published secret is skipped as private "
        "key material); HS256/384/512 are allowed only with the verifier's one secret=. "
        "Configured as that secret, these keys verify their tokens "
        "(test_hmac_keys_as_the_configured_secret).",
    ),
}

LABEL_DEFECTS: Mapping[str, Difference] = {
    "same token as the valid test 357": Difference(
        JWS,
        (367, 370),
        "invalid",
        ACCEPTED,
        "",
        "Labelled invalid for bad base64 padding, but byte-for-byte the valid token of test "
        "357: there is nothing wrong with them.",
    ),
    "'?' inside a segment": Difference(
        JWS,
        (372, 373),
        "valid",
        PARSING,
        "base64url",
        "Labelled valid, but '?' is not in the base64url alphabet, so the token is not a "
        "compact JWS (RFC 7515 §2, §7.1).",
    ),
}

DIFFERENCES: Mapping[tuple[str, int], Difference] = {
    (difference.file, tc_id): difference
    for difference in (*POLICY_DIFFERENCES.values(), *LABEL_DEFECTS.values())
    for tc_id in difference.tc_ids
}

# Bugs these vectors found, both fixed: an ES256 primitive that split an r||s of any length
# in half (tcIds 121-151 of the ECDSA file), and an RSA key with the ROCA fingerprint imported
# (tc7 of the JWK file). Their vectors now pass like every other.


def expect(label: str, outcome: Outcome, listed: Difference | None) -> None:
    """``outcome`` must be what the label asks for, or what the listed difference says."""
    if listed is not None:
        assert outcome.stage == listed.stage, f"expected {listed.stage}, got {outcome}"
        assert listed.reason in outcome.reason, outcome
    elif label == "acceptable":
        pytest.fail(f"an 'acceptable' vector needs its decision listed: bearerguard says {outcome}")
    elif label == "valid":
        assert outcome.accepted, f"a valid vector was refused: {outcome}"
    else:
        assert label == "invalid"
        assert not outcome.accepted, "an invalid vector was accepted"


def label_verdict(file: str, tc_id: int, label: str) -> bool:
    """Whether a vector verifies cryptographically: its label, or the decision listed for it."""
    if label == "acceptable":
        return DIFFERENCES[file, tc_id].stage == ACCEPTED
    return label == "valid"


def params(vectors: Iterable[SignatureVector | TokenVector]) -> list[Any]:
    """One case per vector, named ``tc<tcId>``."""
    return [pytest.param(vector, id=f"tc{vector.tc_id}") for vector in vectors]


# --- the data -------------------------------------------------------------------------------------


def test_the_vector_files_are_the_unmodified_published_copies():
    sums = published_sha256()
    assert sorted(sums) == sorted(FILES)
    for name, digest in sums.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (DATA / "LICENSE").read_text("utf-8")


@pytest.mark.parametrize(
    ("name", "tests", "labels"),
    [
        (RSA_PKCS1, 259, {"valid": 9, "invalid": 249, "acceptable": 1}),
        (RSA_PSS, 108, {"valid": 63, "invalid": 45}),
        (ECDSA_P256, 262, {"valid": 173, "invalid": 89}),
        (ED25519, 151, {"valid": 88, "invalid": 63}),
        (JWS, 401, {"valid": 46, "invalid": 355}),
        (JWK, 26, {"valid": 5, "invalid": 21}),
    ],
)
def test_every_vector_of_each_file_is_loaded(name, tests, labels):
    loaded = signature_vectors(name) if name not in (JWS, JWK) else token_vectors(name)
    assert len(loaded) == load(name)["numberOfTests"] == tests
    counted: dict[str, int] = {}
    for vector in loaded:
        counted[vector.result] = counted.get(vector.result, 0) + 1
    assert counted == labels
    assert len({vector.tc_id for vector in loaded}) == tests


@pytest.mark.parametrize("name", [RSA_PKCS1, RSA_PSS, ECDSA_P256, ED25519])
def test_the_jwks_built_from_key_numbers_match_the_vectors_own(name):
    for group in load(name)["testGroups"]:
        own = vectors_own_jwk(group)
        if own is not None:
            assert public_jwk(group) == {k: v for k, v in own.items() if k not in ("kid", "alg")}


@pytest.mark.parametrize(
    "difference",
    [*POLICY_DIFFERENCES.values(), *LABEL_DEFECTS.values()],
    ids=[*POLICY_DIFFERENCES, *LABEL_DEFECTS],
)
def test_each_listed_difference_names_vectors_with_that_label(difference):
    vectors: list[SignatureVector | TokenVector] = [
        *(signature_vectors(difference.file) if difference.file not in (JWS, JWK) else ()),
        *(token_vectors(difference.file) if difference.file in (JWS, JWK) else ()),
    ]
    labels = {vector.tc_id: vector.result for vector in vectors}
    assert {labels.get(tc_id) for tc_id in difference.tc_ids} == {difference.label}
    if difference.label == "valid":
        assert difference.stage != ACCEPTED
    elif difference.label == "invalid":
        assert difference.stage == ACCEPTED


def test_no_vector_is_listed_twice():
    listed = [
        (d.file, tc_id)
        for d in [*POLICY_DIFFERENCES.values(), *LABEL_DEFECTS.values()]
        for tc_id in d.tc_ids
    ]
    assert len(listed) == len(set(listed)) == len(DIFFERENCES)


# --- 1. raw signatures ----------------------------------------------------------------------------

ALGORITHM = {RSA_PKCS1: "RS256", RSA_PSS: "PS256", ECDSA_P256: "ES256", ED25519: "EdDSA"}
# Every JWS name a file's signatures go by: Ed25519's also has RFC 9864's fully specified one.
ALGORITHMS = {**{name: (alg,) for name, alg in ALGORITHM.items()}, ED25519: ("EdDSA", "Ed25519")}


def verify_signature(vector: SignatureVector, alg: str | None = None) -> Outcome:
    """Import the key as a JWK, then check the signature as step 6 of ``verify_flow`` does."""
    alg = alg or ALGORITHM[vector.file]
    try:
        key = VerificationKey.from_jwk(vector.jwk)
    except KeySetError as why:
        return Outcome(KEY_IMPORT, str(why))
    assert alg in key.algorithms  # so KeySet.find would hand this key to a token of this alg
    primitive = signature_primitives([alg])[alg]
    if len(vector.signature) != key.signature_size or not primitive.verify(
        vector.message, key.public_key, vector.signature
    ):
        return Outcome(SIGNATURE, DOES_NOT_VERIFY)
    return Outcome(ACCEPTED)


def check_signature_vector(vector: SignatureVector, alg: str | None = None) -> None:
    expect(
        vector.result, verify_signature(vector, alg), DIFFERENCES.get((vector.file, vector.tc_id))
    )


@pytest.mark.parametrize("vector", params(signature_vectors(RSA_PKCS1)))
def test_rs256_pkcs1_v1_5(vector):
    check_signature_vector(vector)


@pytest.mark.parametrize("vector", params(signature_vectors(RSA_PSS)))
def test_ps256_pss_mgf1_sha256_salt_32(vector):
    check_signature_vector(vector)


@pytest.mark.parametrize("vector", params(signature_vectors(ECDSA_P256)))
def test_es256_p256_r_s_signature(vector):
    check_signature_vector(vector)


@pytest.mark.parametrize("alg", ALGORITHMS[ED25519])
@pytest.mark.parametrize("vector", params(signature_vectors(ED25519)))
def test_eddsa_ed25519(vector, alg):
    check_signature_vector(vector, alg)


@pytest.mark.parametrize(
    ("alg", "vector"),
    [
        pytest.param(alg, vector, id=f"{alg}-tc{vector.tc_id}")
        for name, names in ALGORITHMS.items()
        for alg in names
        for vector in signature_vectors(name)
    ],
)
def test_the_bare_primitive_agrees_with_every_label(alg, vector):
    """No import policy, no length check: the primitive alone, on the key from the DER."""
    key = load_der_public_key(bytes.fromhex(vector.group["publicKeyDer"]))
    primitive = signature_primitives([alg])[alg]
    verified = primitive.verify(vector.message, key, vector.signature)
    assert verified is label_verdict(vector.file, vector.tc_id, vector.result)


# --- 2. whole tokens ------------------------------------------------------------------------------


def key_import_reason(jwk: Mapping[str, Any]) -> str:
    """``IMPORTED``, or why ``VerificationKey.from_jwk`` skips the JWK."""
    try:
        VerificationKey.from_jwk(jwk)
    except KeySetError as why:
        return str(why)
    return IMPORTED


def signature_stage(jws: str, config: VerifierConfig, key_set: Mapping[str, Any]) -> Outcome:
    """Every step ``verify_flow`` takes before the claims, on one token (see the docstring)."""
    try:
        parsed = parse_token(jws, max_size=config.max_token_size)
        header, signing_input, signature = parsed.header, parsed.signing_input, parsed.signature
    except MalformedTokenError as refusal:
        if not refusal.reason.startswith("The claims "):
            return Outcome(PARSING, refusal.reason)
        # Only the payload is not a claims set: parse_token accepted all three segments.
        header_b64, _, signature_b64 = jws.split(".")
        header = parse_json_object(b64url_decode(header_b64), what="header")
        signing_input = jws.rpartition(".")[0].encode("ascii")
        signature = b64url_decode(signature_b64)
    except InvalidTokenError as refusal:  # EncryptedTokenError
        return Outcome(PARSING, refusal.reason)

    try:
        alg, kid = check_header(header, config)
    except InvalidTokenError as refusal:
        return Outcome(HEADER, refusal.reason)

    key: Any
    if alg in HMAC_ALGORITHMS:
        key, size = config.secret, HMAC_DIGEST_SIZES[alg]
    else:
        try:
            keys = KeySet.from_document(key_set, source="the vector's key set")
        except KeySetError as why:
            skipped = "; ".join(key_import_reason(jwk) for jwk in key_set.get("keys", ()))
            return Outcome(KEY_IMPORT, f"{why} ({skipped})")
        try:
            found = keys.find(kid, alg)
        except UnknownKeyError as refusal:
            return Outcome(KEY_SELECTION, refusal.reason)
        if found is None:
            return Outcome(KEY_SELECTION, NO_FITTING_KEY)
        key, size = found.public_key, found.signature_size

    primitive = signature_primitives(config.algorithms)[alg]
    if len(signature) != size or not primitive.verify(signing_input, key, signature):
        return Outcome(SIGNATURE, DOES_NOT_VERIFY)
    return Outcome(ACCEPTED)


def serving(key_set: Mapping[str, Any]) -> Provider:
    """An in-process provider whose JWKS is exactly ``key_set``; it counts every request."""
    provider = Provider()
    provider.override[httpx.URL(provider.jwks_uri).path] = lambda request: httpx.Response(
        200, json=key_set
    )
    return provider


def jws_verifier(vector: TokenVector, provider: Provider) -> Verifier:
    """Every asymmetric algorithm, or the group's HS algorithm with its key as the secret."""
    private = vector.private
    if private["kty"] == "oct":
        algorithms, secret = [private["alg"]], b64url_decode(private["k"])
    else:
        algorithms, secret = sorted(ASYMMETRIC_ALGORITHMS), None
    return Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=algorithms,
        secret=secret,
        jwks_uri=provider.jwks_uri,
        transport=provider.transport(),
        async_transport=provider.async_transport(),
    )


def jws_key_set(vector: TokenVector) -> dict[str, Any]:
    return {"keys": [vector.public] if vector.public is not None else []}


JWS_VECTORS = token_vectors(JWS)
COMPACT_JWS_VECTORS = [vector for vector in JWS_VECTORS if not vector.jws.startswith("{")]


def jws_signature_stage(vector: TokenVector) -> Outcome:
    key_set = jws_key_set(vector)
    return signature_stage(vector.jws, jws_verifier(vector, serving(key_set)).config, key_set)


@pytest.mark.parametrize("vector", params(JWS_VECTORS))
def test_jws_token_signature_stage(vector):
    expect(vector.result, jws_signature_stage(vector), DIFFERENCES.get((JWS, vector.tc_id)))


@pytest.mark.parametrize("vector", params(COMPACT_JWS_VECTORS))
def test_jws_token_through_the_verifier_is_refused_before_any_fetch(vector):
    provider = serving(jws_key_set(vector))
    verifier = jws_verifier(vector, provider)
    with pytest.raises(InvalidTokenError) as refused:
        verifier.verify(vector.jws)
    assert not provider.hits, "no trusted iss: the key set must never be fetched"

    stage = jws_signature_stage(vector)
    if stage.stage == PARSING:
        assert refused.value.reason == stage.reason
    if stage.accepted:
        # The signature holds: the payload not being a claims set is the only fault.
        assert isinstance(refused.value, MalformedTokenError)
        assert refused.value.reason.startswith("The claims ")


@pytest.mark.parametrize(
    "vector",
    params(vector for vector in JWS_VECTORS if "JsonSerialization" in vector.flags),
)
def test_json_serialization_is_refused_at_parsing(vector):
    assert vector.jws.startswith("{")
    outcome = jws_signature_stage(vector)
    assert outcome == Outcome(
        PARSING, "The token is not three non-empty base64url segments separated by dots."
    )
    with pytest.raises(MalformedTokenError):
        jws_verifier(vector, serving(jws_key_set(vector))).verify(vector.jws)


# --- 3. JWK sets ----------------------------------------------------------------------------------

JWK_VECTORS = token_vectors(JWK)

# For each test of json_web_key_test.json: what from_jwk makes of each JWK of the key set
# its group publishes (``public`` if the group has one, else ``private``).
PUBLISHED_KEYS: Mapping[int, tuple[str, ...]] = {
    1: (PRIVATE_MATERIAL, IMPORTED),  # an HS256 secret next to a public P-256 key
    2: (PRIVATE_MATERIAL, PRIVATE_MATERIAL),  # two HS256 secrets
    3: (PRIVATE_MATERIAL, PRIVATE_MATERIAL),
    4: (PRIVATE_MATERIAL, PRIVATE_MATERIAL),  # two HS256 secrets with one kid
    5: (IMPORTED,),
    6: ("its use is 'enc', not 'sig'",),  # an RSA1_5 encryption key
    7: ("ROCA",),  # a ROCA-vulnerable modulus (CVE-2017-15361)
    8: ("its RSA modulus has 1024 bits, outside 2048..8192",),
    9: ("its RSA exponent is 1, not 65537",),
    **dict.fromkeys(range(10, 19), (PRIVATE_MATERIAL,)),  # HS256/384/512: short, long, empty
    19: ("its alg 'ES521' does not fit a EC key",),
    20: ("its alg 'ES224' does not fit a EC key",),
    21: ("its use is 'enc', not 'sig'",),
    22: ("its point is not on the curve",),
    23: ("its coordinates are not 48 bytes long",),  # a P-256 point labelled P-384
    24: ("its 'n' member is missing",),  # an EC key labelled RSA
    25: (PRIVATE_MATERIAL,),  # an A256GCM key
    26: (PRIVATE_MATERIAL,),  # an A256KW key
}


def published(vector: TokenVector) -> Mapping[str, Any]:
    return vector.public if vector.public is not None else vector.private


def same_reason(expected: str, actual: str) -> bool:
    return actual == expected or (expected != IMPORTED and expected in actual)


@pytest.mark.parametrize("vector", params(JWK_VECTORS))
def test_published_key_set_import(vector):
    key_set = published(vector)
    expected = PUBLISHED_KEYS[vector.tc_id]
    reasons = [key_import_reason(jwk) for jwk in key_set["keys"]]
    assert len(reasons) == len(expected)
    assert all(map(same_reason, expected, reasons)), reasons

    usable = expected.count(IMPORTED)
    if not usable:
        with pytest.raises(KeySetError, match="holds no usable signing keys"):
            KeySet.from_document(key_set)
        return
    keys = KeySet.from_document(key_set, source="the JWKS")
    assert len(keys) == usable
    refused = [reason for reason in reasons if reason != IMPORTED]
    assert len(keys.skipped) == len(refused)
    assert all(map(str.endswith, keys.skipped, (f": {reason}" for reason in refused)))


# The private members of RSA, EC and OKP keys and the secret of oct keys (RFC 7518 §6).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def private_key_sets() -> list[Any]:
    """The ``private`` key(s) of every group of both token files, one case per group."""
    cases: list[Any] = []
    for name, prefix in ((JWS, "jws"), (JWK, "jwk")):
        for group in load(name)["testGroups"]:
            private = group["private"]
            jwks = private.get("keys", [private])
            cases.append(pytest.param(jwks, id=f"{prefix}-tc{group['tests'][0]['tcId']}"))
    return cases


@pytest.mark.parametrize("jwks", private_key_sets())
def test_private_and_symmetric_jwks_are_refused(jwks):
    for jwk in jwks:
        if PRIVATE_MEMBERS & jwk.keys():
            with pytest.raises(KeySetError, match=f"^{PRIVATE_MATERIAL}$"):
                VerificationKey.from_jwk(jwk)
    public = [jwk for jwk in jwks if not PRIVATE_MEMBERS & jwk.keys()]
    if not public:
        with pytest.raises(KeySetError, match="holds no usable signing keys"):
            KeySet.from_document({"keys": jwks})
    else:  # only the mixed set of test 1: its public P-256 key is kept
        assert len(KeySet.from_document({"keys": jwks})) == len(public)


@pytest.mark.parametrize("vector", params(JWK_VECTORS))
def test_jwk_set_token_signature_stage(vector):
    """Every asymmetric algorithm allowed, no secret: keys come only from the key set."""
    config = Verifier(
        issuer=ISSUER, audience=AUDIENCE, algorithms=sorted(ASYMMETRIC_ALGORITHMS)
    ).config
    outcome = signature_stage(vector.jws, config, published(vector))
    expect(vector.result, outcome, DIFFERENCES.get((JWK, vector.tc_id)))


def hmac_secret(vector: TokenVector) -> bytes | None:
    """The HMAC key the token names, if the group is HS keys with distinct kids; else None."""
    jwks = vector.private["keys"]
    kids = [jwk.get("kid") for jwk in jwks]
    if len(set(kids)) != len(kids) or any(
        jwk["kty"] != "oct" or jwk.get("alg") not in HMAC_ALGORITHMS for jwk in jwks
    ):
        return None  # a mixed set (1), a duplicate kid (4), AES keys (25, 26): no single secret
    kid = parse_json_object(b64url_decode(vector.jws.split(".")[0]), what="header")["kid"]
    return next(b64url_decode(jwk["k"]) for jwk in jwks if jwk["kid"] == kid)


@pytest.mark.parametrize(
    "vector", params(vector for vector in JWK_VECTORS if hmac_secret(vector) is not None)
)
def test_hmac_keys_as_the_configured_secret(vector):
    alg = vector.private["keys"][0]["alg"]
    try:
        config = Verifier(
            issuer=ISSUER, audience=AUDIENCE, algorithms=[alg], secret=hmac_secret(vector)
        ).config
    except ConfigurationError as why:
        outcome = Outcome(CONFIGURATION, str(why))
    else:
        outcome = signature_stage(vector.jws, config, {"keys": []})
    expect(vector.result, outcome, listed=None)
    if vector.comment in ("key_too_short", "empty_key"):
        assert outcome.stage == CONFIGURATION
        assert "The secret must be at least" in outcome.reason
