"""Static keys (``keys=``): an issuer's public keys in the configuration, never fetched.

Each form the setting takes (a PEM, a JWK, a JWK Set as a dict, its JSON text or a
file, a mapping of issuer to keys, ``BEARERGUARD_KEYS``), the import rules fetched
keys follow (public keys only, RSA of 2048 bits or more, ``use``/``alg`` honoured),
refused at construction with a message that never repeats key material, and the
lookups: a key without ``kid`` serves any ``kid``, a ``kid`` none of the keys has is
401 and never a fetch.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from bearerguard import ConfigurationError, InvalidSignatureError, UnknownKeyError, Verifier
from bearerguard._config import settings_from_mapping
from bearerguard._settings import named_errors
from bearerguard._signatures import mldsa_public_key_class
from bearerguard._static_keys import NOT_CONFIGURED, StaticKeySet
from tests.jwe_keys import private_pem
from tests.jwe_keys import public_pem as pem
from tests.support import (
    AUDIENCE,
    CUSTOM_DOMAIN,
    ISSUER,
    Clock,
    Provider,
    b64url,
    claims,
    ec_key,
    ed_key,
    forbidden_transport,
    public_jwk,
    rsa_key,
    sign_token,
)
from tests.test_keys import _self_signed_certificate_der

MakeVerifier = Callable[..., Verifier]
NO_FETCH = {
    "transport": forbidden_transport("keys= must never fetch"),
    "async_transport": forbidden_transport("keys= must never fetch"),
}


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


def rs256(kid: str | None = "k1", key: Any = None, **claim_overrides: Any) -> str:
    header = {"alg": "RS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    return sign_token(header, claims(**claim_overrides), key or rsa_key(0))


def es256(kid: str | None = "e1", **claim_overrides: Any) -> str:
    header = {"alg": "ES256", "typ": "JWT", **({"kid": kid} if kid else {})}
    return sign_token(header, claims(**claim_overrides), ec_key("P-256"))


@pytest.fixture
def static(clock: Clock) -> MakeVerifier:
    """A verifier of the tenant with keys=, whose every fetch fails the test."""

    def make(keys: object, **overrides: Any) -> Verifier:
        settings: dict[str, Any] = {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "algorithms": ["RS256", "ES256"],
            "keys": keys,
            "clock": clock.time,
            "monotonic": clock.monotonic,
            **NO_FETCH,
        }
        settings.update(overrides)
        return Verifier(**settings)

    return make


# --- every form of the setting -----------------------------------------------------------------


def test_a_pem_public_key_verifies_its_issuers_tokens_without_any_fetch(static: MakeVerifier):
    verifier = static(pem(rsa_key(0)))
    assert verifier.verify(rs256()).subject == "auth0|123"
    assert isinstance(verifier.config.static_keys[ISSUER], StaticKeySet)


def test_a_key_without_kid_serves_tokens_whatever_their_kid(static: MakeVerifier, verify):
    verifier = static(pem(rsa_key(0)))
    for kid in ("k1", "rotated-2031", None):
        assert verify(verifier, rs256(kid)).subject == "auth0|123"


def test_a_single_jwk_a_jwk_set_and_their_json_text_are_each_accepted(static: MakeVerifier):
    jwk = public_jwk(rsa_key(0), kid="k1", alg="RS256", use="sig")
    for keys in (jwk, jwks(jwk), json.dumps(jwk), json.dumps(jwks(jwk)).encode()):
        assert static(keys).verify(rs256("k1")).subject == "auth0|123"


@pytest.mark.parametrize("as_path", [Path, str])
@pytest.mark.parametrize("form", ["pem", "jwks"])
def test_a_file_path_names_a_pem_or_json_key_file(
    static: MakeVerifier, tmp_path: Path, as_path: Callable[[Path], object], form: str
):
    path = tmp_path / ("tenant.pem" if form == "pem" else "tenant.json")
    jwk = public_jwk(rsa_key(0), kid="k1", alg="RS256")
    path.write_text(pem(rsa_key(0)) if form == "pem" else json.dumps(jwks(jwk)))
    assert static(as_path(path)).verify(rs256("k1")).subject == "auth0|123"


def test_a_mapping_gives_each_issuer_its_own_keys_and_the_others_discover(
    make_verifier: MakeVerifier, provider: Provider
):
    custom = Provider(issuer=CUSTOM_DOMAIN, keys={"c1": ("ES256", ec_key("P-256"))})
    verifier = make_verifier(
        issuer=[ISSUER, CUSTOM_DOMAIN],
        algorithms=["RS256", "ES256"],
        keys={"https://login.example.com": {"keys": [public_jwk(ec_key("P-256"), kid="c1")]}},
    )
    assert verifier.verify(custom.token("c1")).issuer == CUSTOM_DOMAIN  # its keys=: no fetch
    assert verifier.verify(provider.token()).issuer == ISSUER  # discovered as ever
    assert provider.jwks_hits == 1
    assert all(CUSTOM_DOMAIN.rstrip("/").split("//")[1] not in p for p in provider.hits)


def test_several_pems_in_one_text_are_several_keys(static: MakeVerifier):
    verifier = static(pem(rsa_key(0)) + "\n" + pem(ec_key("P-256")))
    assert verifier.verify(rs256("anything")).subject == "auth0|123"
    assert verifier.verify(es256("anything")).subject == "auth0|123"


def test_ec_and_ed25519_pems_are_imported_as_the_jwks_they_are(static: MakeVerifier):
    verifier = static(pem(ed_key(0)), algorithms=["EdDSA"])
    token = sign_token({"alg": "EdDSA", "kid": "x"}, claims(), ed_key(0))
    assert verifier.verify(token).subject == "auth0|123"
    for curve, alg in (("P-384", "ES384"), ("P-521", "ES512")):
        token = sign_token({"alg": alg}, claims(), ec_key(curve))
        assert static(pem(ec_key(curve)), algorithms=[alg]).verify(token).subject == "auth0|123"


def test_an_ml_dsa_pem_is_an_akp_key_of_its_level(static: MakeVerifier):
    mldsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.mldsa")
    if mldsa_public_key_class("ML-DSA-44") is None:
        pytest.skip("this cryptography cannot verify ML-DSA")
    key = mldsa.MLDSA44PrivateKey.generate()
    verifier = static(pem(key), algorithms=["ML-DSA-44"])
    signing_input = b64url(b'{"alg":"ML-DSA-44"}') + "." + b64url(json.dumps(claims()).encode())
    token = signing_input + "." + b64url(key.sign(signing_input.encode()))
    assert verifier.verify(token).subject == "auth0|123"


# --- what a token gets -------------------------------------------------------------------------


def test_a_kid_none_of_the_keys_has_is_401_saying_so_and_never_a_fetch(
    static: MakeVerifier, verify
):
    verifier = static(jwks(public_jwk(rsa_key(0), kid="k1", alg="RS256")))
    with pytest.raises(UnknownKeyError) as refused:
        verify(verifier, rs256("k2"))
    assert refused.value.reason == NOT_CONFIGURED
    assert "keys=" in refused.value.reason
    assert refused.value.status_code == 401


def test_a_kidless_key_serves_other_kids_only_for_the_algorithms_it_verifies(
    static: MakeVerifier, verify
):
    verifier = static(
        jwks(public_jwk(ec_key("P-256"), kid="e1"), public_jwk(rsa_key(0), alg="RS256"))
    )
    assert verify(verifier, es256("e1")).subject == "auth0|123"
    assert verify(verifier, rs256("whatever")).subject == "auth0|123"  # the kid-less RSA key
    with pytest.raises(UnknownKeyError):
        verify(verifier, es256("e2"))  # no EC key without kid


def test_an_rsa_pem_does_not_verify_an_es256_token(static: MakeVerifier, verify):
    with pytest.raises(UnknownKeyError):
        verify(static(pem(rsa_key(0))), es256())


def test_a_token_signed_by_another_key_is_refused(static: MakeVerifier):
    with pytest.raises(InvalidSignatureError):
        static(pem(rsa_key(0))).verify(rs256(key=rsa_key(1)))


def test_configured_keys_survive_forget_keys_and_warm_up_fetches_nothing(static: MakeVerifier):
    verifier = static(pem(rsa_key(0)))
    verifier.warm_up()
    verifier.forget_keys()
    assert verifier.verify(rs256()).subject == "auth0|123"


def test_remembered_tokens_stay_valid_with_configured_keys(static: MakeVerifier):
    verifier = static(pem(rsa_key(0)))
    token = rs256()
    _first, second, third = (verifier.verify(token) for _ in range(3))
    assert third is second  # kept from the second sighting, answered by the token cache


# --- refused at construction, saying what to do, never echoing the key ------------------------


def refused(static: MakeVerifier, keys: object, **overrides: Any) -> str:
    with pytest.raises(ConfigurationError) as error:
        static(keys, **overrides)
    assert error.value.setting == "keys"
    return str(error.value)


def assert_no_key_material(message: str, *texts: str) -> None:
    """No run of 16 characters of the given key text appears in the message."""
    for text in texts:
        body = "".join(line for line in text.splitlines() if "-----" not in line)
        body = body.replace('"', "")
        for start in range(0, max(1, len(body) - 16), 8):
            assert body[start : start + 16] not in message, message


def test_a_private_pem_is_refused_as_such_without_echoing_it(static: MakeVerifier):
    text = private_pem(rsa_key(0))
    message = refused(static, text)
    assert "private key" in message
    assert "public key only" in message
    assert_no_key_material(message, text)


def test_a_private_jwk_is_refused_as_such_without_echoing_it(static: MakeVerifier):
    jwk = public_jwk(rsa_key(0), kid="k1")
    jwk["d"] = b64url(b"\x01" * 256)
    message = refused(static, jwks(jwk))
    assert "private key" in message
    assert_no_key_material(message, jwk["d"], jwk["n"])


def test_a_symmetric_oct_jwk_is_refused_pointing_at_secret(static: MakeVerifier):
    message = refused(static, {"kty": "oct", "k": b64url(b"s" * 32), "kid": "h1"})
    assert "symmetric" in message
    assert "secret=" in message
    assert b64url(b"s" * 32) not in message


def test_an_rsa_key_of_1024_bits_is_refused(static: MakeVerifier):
    assert "1024 bits" in refused(static, pem(rsa_key(9, 1024)))
    assert "1024 bits" in refused(static, public_jwk(rsa_key(9, 1024)))


def test_an_ec_key_publishing_alg_rs256_is_refused(static: MakeVerifier):
    message = refused(static, public_jwk(ec_key("P-256"), alg="RS256"))
    assert "'RS256' does not fit" in message


def test_a_key_with_use_enc_is_refused(static: MakeVerifier):
    assert "'enc'" in refused(static, public_jwk(rsa_key(0), use="enc"))


def test_a_certificate_is_refused_with_the_command_that_extracts_its_key(static: MakeVerifier):
    der = _self_signed_certificate_der(rsa_key(0))
    body = base64.encodebytes(der).decode()
    certificate = f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"
    assert "-pubkey" in refused(static, certificate)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (x25519.X25519PrivateKey.generate, "signs no JWS algorithm"),
        (lambda: ec.generate_private_key(ec.SECP224R1()), "a curve no JWS algorithm uses"),
    ],
    ids=["X25519", "P-224"],
)
def test_keys_of_no_jws_algorithm_are_refused(
    static: MakeVerifier, make: Callable[[], Any], words: str
):
    assert words in refused(static, pem(make()))


def test_a_key_that_verifies_no_allowed_algorithm_is_refused(static: MakeVerifier):
    message = refused(static, pem(ec_key("P-256")), algorithms=["RS256"])
    assert "ES256" in message
    assert "algorithms=" in message


def test_hmac_only_verifiers_have_no_use_for_public_keys(static: MakeVerifier):
    message = refused(static, pem(rsa_key(0)), algorithms=["HS256"], secret="x" * 32)
    assert "algorithms=" in message


@pytest.mark.parametrize(
    "keys",
    [
        jwks(public_jwk(rsa_key(0), kid="k1"), public_jwk(rsa_key(1), kid="k1")),
        jwks(public_jwk(rsa_key(0)), public_jwk(rsa_key(1))),
    ],
    ids=["the same kid twice", "two keys without kid"],
)
def test_keys_a_token_could_not_choose_between_are_refused(static: MakeVerifier, keys: Any):
    assert "tell them apart" in refused(static, keys)


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ("", "empty string"),
        ("   ", "empty string"),
        ("{not json", "neither a PEM key nor valid JSON"),
        (b"\x30\x82\x01\x22\x30\x0d\x06\x09", "DER"),
        ("-----BEGIN PUBLIC KEY-----\nMIIB", "not well-formed PEM"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "cryptography can read"),
        ("-----BEGIN X-----\nAAAA\n-----END X-----", "not a PUBLIC KEY"),
        ({"keys": []}, "non-empty list"),
        ({"keys": "k1"}, "non-empty list"),
        ({"keys": ["not a jwk"]}, "not a JSON object"),
        ({"kty": "RSA"}, "missing"),
        ({"kty": "XYZ"}, "not a public signing key type"),
        (42, "a value of type int"),
        ({}, "an empty dict"),
        ([pem(rsa_key(0))], "a value of type list"),
        ({"keys": [public_jwk(rsa_key(0), kid=f"k{i}") for i in range(101)]}, "more than 100"),
    ],
)
def test_unusable_values_are_refused_saying_what_is_wrong(
    static: MakeVerifier, keys: object, words: str
):
    assert words in refused(static, keys)


def test_a_missing_file_is_named_when_it_reads_as_a_path(static: MakeVerifier, tmp_path: Path):
    missing = tmp_path / "nope.pem"
    assert str(missing) in refused(static, missing)
    assert "'keys/tenant.pem'" in refused(static, "keys/tenant.pem")


def test_a_string_that_could_be_key_material_is_never_repeated(static: MakeVerifier):
    blob = "".join(pem(rsa_key(0)).splitlines()[1:-1])  # the base64 body, without its armour
    message = refused(static, blob)
    assert "neither PEM nor JSON" in message
    assert_no_key_material(message, blob)


def test_a_directory_or_a_huge_file_is_refused(static: MakeVerifier, tmp_path: Path):
    assert "cannot be read" in refused(static, tmp_path)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (1 << 20) + b"{}")
    assert "larger than" in refused(static, huge)


# --- which issuer the keys belong to ------------------------------------------------------------


def test_one_key_set_with_several_issuers_must_be_a_mapping(static: MakeVerifier):
    message = refused(static, pem(rsa_key(0)), issuer=[ISSUER, CUSTOM_DOMAIN])
    assert "several issuers" in message
    assert "mapping" in message


def test_a_mapping_names_trusted_issuers_only(static: MakeVerifier):
    message = refused(static, {"https://evil.example/": pem(rsa_key(0))})
    assert "not a trusted issuer" in message
    message = refused(static, {ISSUER: pem(rsa_key(0)), "https://TENANT.auth0.com": "{}"})
    assert "twice" in message


def test_an_issuer_with_both_keys_and_a_jwks_uri_is_refused_naming_which_to_drop(
    static: MakeVerifier,
):
    for jwks_uri in ("https://tenant.auth0.com/jwks", {ISSUER: "https://tenant.auth0.com/jwks"}):
        message = refused(static, pem(rsa_key(0)), jwks_uri=jwks_uri)
        assert "both keys= and jwks_uri=" in message
        assert "drop" in message


# --- by name: the environment, Flask, Django ------------------------------------------------


def test_bearerguard_keys_is_a_file_path_or_json(tmp_path: Path, clock: Clock):
    path = tmp_path / "tenant.pem"
    path.write_text(pem(rsa_key(0)))
    jwk_set = json.dumps(jwks(public_jwk(rsa_key(0), kid="k1", alg="RS256")))
    mapping = json.dumps({ISSUER: jwks(public_jwk(rsa_key(0), kid="k1"))})
    for value in (str(path), jwk_set, mapping):
        environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
        environ["BEARERGUARD_KEYS"] = value
        verifier = Verifier.from_env(environ, clock=clock.time, **NO_FETCH)
        assert verifier.verify(rs256("k1")).subject == "auth0|123"


def test_a_bad_bearerguard_keys_is_named_as_the_variable():
    environ = {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": AUDIENCE}
    environ["BEARERGUARD_KEYS"] = private_pem(rsa_key(0))
    with pytest.raises(ConfigurationError) as error:
        Verifier.from_env(environ)
    assert str(error.value).startswith("BEARERGUARD_KEYS: ")
    assert_no_key_material(str(error.value), private_pem(rsa_key(0)))


def test_flask_and_django_settings_take_keys_typed_or_as_text(tmp_path: Path, clock: Clock):
    path = tmp_path / "tenant.pem"
    path.write_text(pem(rsa_key(0)))
    for prefix, label in (
        ("BEARERGUARD_", lambda name: f"app.config[{name!r}]"),
        ("", lambda name: f"BEARERGUARD[{name!r}]"),
    ):
        source = {f"{prefix}ISSUER": ISSUER, f"{prefix}AUDIENCE": AUDIENCE, f"{prefix}KEYS": path}
        settings = settings_from_mapping(source, prefix, label=label)
        verifier = named_errors(
            lambda s=settings: Verifier(**s, clock=clock.time, **NO_FETCH), settings, prefix
        )
        assert verifier.verify(rs256()).subject == "auth0|123"
        source[f"{prefix}KEYS"] = {"kty": "oct", "k": "c2VjcmV0"}
        settings = settings_from_mapping(source, prefix, label=label)
        with pytest.raises(ConfigurationError) as error:
            named_errors(lambda s=settings: Verifier(**s), settings, prefix, label=label)
        assert str(error.value).startswith(label(f"{prefix}KEYS"))


def test_nothing_is_logged_about_keys_that_are_fine(static: MakeVerifier, caplog):
    caplog.set_level(logging.DEBUG, logger="bearerguard")
    static(pem(rsa_key(0))).verify(rs256())
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
