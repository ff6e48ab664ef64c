"""ML-DSA access tokens (RFC 9964) end to end: off by default, each level on by naming it.

A verifier allows ``ML-DSA-44``, ``ML-DSA-65`` or ``ML-DSA-87`` only when its ``algorithms``
(or ``BEARERGUARD_ALGORITHMS``) name that level; then a provider's ``AKP`` key of that level
verifies tokens of that level, and nothing else changes. DPoP proofs never use ML-DSA: a proof
carries its public key in every request, kilobytes of it. ``FakeIssuer(algorithm=...)`` and the
dev issuer (``signing_algorithm``) mint such tokens and publish the ``AKP`` key; the command
line verifies and decodes them like any other.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from bearerguard import (
    ConfigurationError,
    HttpRequest,
    InvalidDPoPProofError,
    InvalidSignatureError,
    InvalidTokenError,
    UnknownKeyError,
    Verifier,
)
from bearerguard import _config as config_module
from bearerguard._cli import main as cli
from bearerguard._config import ASYMMETRIC_ALGORITHMS, DPOP_ALGORITHMS, MLDSA_ALGORITHMS
from bearerguard._jose import b64url_decode
from bearerguard._keys import VerificationKey
from bearerguard._mint import (
    FAKE_ALGORITHMS,
    SigningKey,
    compact_jws,
    proof_claims,
    proof_header,
)
from bearerguard._signatures import SignaturePrimitive
from bearerguard.devissuer import DevIssuer
from bearerguard.devissuer._config import DevIssuerConfig
from bearerguard.devissuer._keys import KeyStore, StoredKey
from bearerguard.devissuer._loading import DEFAULT_CONFIG, config_from_dict, load_config
from bearerguard.testing import FakeIssuer

from .support import Clock
from .test_testing import nothing_left_active  # noqa: F401 - autouse: no fake left active

LEVELS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
ISSUER = "https://tenant.auth0.com/"
AUDIENCE = "https://api.example.com"
URL = "https://api.example.com/api/contacts"
SIGNATURE_BYTES = {"ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627}


def verifier(clock: Clock, **settings: Any) -> Verifier:
    """The application's verifier: no transport, keys only through the fake's interception."""
    return Verifier(
        issuer=ISSUER, audience=AUDIENCE, clock=clock.time, monotonic=clock.monotonic, **settings
    )


def fake(clock: Clock, algorithm: str) -> FakeIssuer:
    return FakeIssuer(ISSUER, audience=AUDIENCE, algorithm=algorithm, clock=clock.time)


def header_of(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(token.split(".", maxsplit=1)[0]))


# --- off by default, on by name ---------------------------------------------------------------


class TestAllowList:
    def test_no_default_allows_ml_dsa(self):
        config = Verifier(issuer=ISSUER, audience=AUDIENCE).config
        assert not config.algorithms & MLDSA_ALGORITHMS
        assert not config.dpop_algorithms & MLDSA_ALGORITHMS
        assert not DPOP_ALGORITHMS & MLDSA_ALGORITHMS
        assert set(LEVELS) == MLDSA_ALGORITHMS
        assert MLDSA_ALGORITHMS <= ASYMMETRIC_ALGORITHMS  # asymmetric: keys from the key set

    @pytest.mark.parametrize("level", LEVELS)
    def test_naming_a_level_allows_that_level_only(self, level):
        config = Verifier(issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256", level]).config
        assert config.algorithms == {"RS256", level}
        assert config.uses_key_sets

    def test_the_environment_names_levels_as_the_keyword_does(self, monkeypatch):
        monkeypatch.setenv("BEARERGUARD_ISSUER", ISSUER)
        monkeypatch.setenv("BEARERGUARD_AUDIENCE", AUDIENCE)
        monkeypatch.setenv("BEARERGUARD_ALGORITHMS", "RS256, ML-DSA-65")
        assert Verifier.from_env().config.algorithms == {"RS256", "ML-DSA-65"}

    @pytest.mark.parametrize("name", ["ml-dsa-65", "MLDSA65", "ML-DSA-66", "Dilithium3"])
    def test_a_misspelt_level_is_refused_with_the_names_to_choose_from(self, name):
        with pytest.raises(ConfigurationError, match="unsupported algorithm") as raised:
            Verifier(issuer=ISSUER, audience=AUDIENCE, algorithms=[name])
        assert "'ML-DSA-65'" in str(raised.value)

    def test_without_ml_dsa_in_cryptography_naming_a_level_is_refused_at_start(self, monkeypatch):
        monkeypatch.setattr(config_module, "mldsa_public_key_class", lambda alg: None)
        with pytest.raises(ConfigurationError, match="cannot verify: ML-DSA needs") as raised:
            Verifier(issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256", "ML-DSA-87"])
        assert raised.value.setting == "algorithms"
        assert "ML-DSA-87" in str(raised.value)
        Verifier(issuer=ISSUER, audience=AUDIENCE)  # a verifier without ML-DSA is unaffected

    @pytest.mark.parametrize("level", LEVELS)
    def test_dpop_proofs_never_use_ml_dsa(self, level):
        with pytest.raises(ConfigurationError, match=f"must not name {level}") as raised:
            Verifier(issuer=ISSUER, audience=AUDIENCE, dpop_algorithms=["ES256", level])
        assert raised.value.setting == "dpop_algorithms"
        assert "Write e.g. dpop_algorithms=['ES256', 'EdDSA']" in str(raised.value)


# --- FakeIssuer ----------------------------------------------------------------------------------


class TestFakeIssuer:
    @pytest.mark.parametrize("level", LEVELS)
    def test_it_mints_tokens_of_each_level_that_a_verifier_naming_it_accepts(self, level, clock):
        assert level in FAKE_ALGORITHMS
        with fake(clock, level) as issuer:
            token = issuer.token(scopes=["read:contacts"])
            verified = verifier(clock, algorithms=["RS256", level]).verify(token)
            also = asyncio.run(verifier(clock, algorithms=[level]).averify(token))
        assert verified.scopes == also.scopes == {"read:contacts"}
        assert header_of(token) == {"alg": level, "typ": "at+jwt", "kid": issuer.kid}
        assert len(b64url_decode(token.split(".")[2])) == SIGNATURE_BYTES[level]

    @pytest.mark.parametrize("level", LEVELS)
    def test_it_publishes_the_akp_key_and_nothing_private(self, level, clock):
        with fake(clock, level) as issuer:
            (jwk,) = issuer.jwks()["keys"]
            assert jwk.keys() == {"kty", "alg", "pub", "kid", "use"}
            assert (jwk["kty"], jwk["alg"], jwk["kid"], jwk["use"]) == (
                "AKP",
                level,
                issuer.kid,
                "sig",
            )
            key = VerificationKey.from_jwk(jwk)
            assert key.algorithms == {level}
            assert issuer.discovery_document()["id_token_signing_alg_values_supported"] == [level]

    def test_a_verifier_that_does_not_name_the_level_refuses_before_any_key(self, clock):
        with fake(clock, "ML-DSA-65") as issuer:
            token = issuer.token()
            with pytest.raises(InvalidTokenError, match="not one of the allowed algorithms"):
                verifier(clock).verify(token)
            with pytest.raises(InvalidTokenError, match="not one of the allowed algorithms"):
                verifier(clock, algorithms=["ML-DSA-44", "ML-DSA-87"]).verify(token)

    def test_its_other_tokens_keep_their_meaning(self, clock):
        with fake(clock, "ML-DSA-44") as issuer:
            check = verifier(clock, algorithms=["ML-DSA-44"])
            with pytest.raises(UnknownKeyError):
                check.verify(issuer.unknown_key_token())
            with pytest.raises(InvalidSignatureError):
                check.verify(issuer.tampered_token())
            issuer.rotate()
            check.verify(issuer.token())

    def test_a_token_carrying_another_level_s_alg_finds_no_key(self, clock):
        with fake(clock, "ML-DSA-65") as issuer:
            # token() keeps the issuer's alg: the forgery is built by hand, with the issuer's kid.
            key = SigningKey("ML-DSA-44")
            token = compact_jws(
                {"alg": "ML-DSA-44", "kid": issuer.kid}, {"iss": ISSUER, "aud": AUDIENCE}, key
            )
            with pytest.raises(UnknownKeyError):
                verifier(clock, algorithms=list(LEVELS)).verify(token)


# --- DPoP ---------------------------------------------------------------------------------------


class TestDPoP:
    def test_an_ml_dsa_token_may_be_bound_to_a_classical_proof_key(self, clock):
        with fake(clock, "ML-DSA-65") as issuer:
            key = issuer.dpop_key()
            token = issuer.token(dpop_key=key)
            proof = issuer.dpop_proof("GET", URL, token=token, key=key)
            request = HttpRequest("GET", URL, {"Authorization": f"DPoP {token}", "DPoP": proof})
            verified = verifier(clock, algorithms=["ML-DSA-65"]).verify_request(request)
        assert verified.confirmation == {"jkt": key.jkt}

    def test_a_proof_signed_with_ml_dsa_is_refused(self, clock):
        client = SigningKey("ML-DSA-65")
        assert proof_header(client)["jwk"].keys() == {"kty", "alg", "pub"}
        with fake(clock, "ML-DSA-65") as issuer:
            token = issuer.token()
            claims = proof_claims(
                method="GET",
                url=URL,
                iat=clock.time(),
                jti=secrets.token_urlsafe(8),
                access_token=token,
            )
            proof = compact_jws(proof_header(client), claims, client)
            request = HttpRequest("GET", URL, {"Authorization": f"DPoP {token}", "DPoP": proof})
            with pytest.raises(InvalidDPoPProofError, match="alg 'ML-DSA-65' is not one of"):
                verifier(clock, algorithms=["ML-DSA-65"]).verify_request(request)

    def test_a_dpop_key_of_the_testing_helpers_is_never_ml_dsa(self, clock):
        with (
            fake(clock, "ML-DSA-65") as issuer,
            pytest.raises(ConfigurationError, match="DPoP key"),
        ):
            issuer.dpop_key("ML-DSA-65")


# --- the dev issuer ------------------------------------------------------------------------------


def dev_config(**top: Any) -> DevIssuerConfig:
    data = copy.deepcopy(dict(DEFAULT_CONFIG))
    data.update(top)
    return config_from_dict(data)


class TestDevIssuer:
    @pytest.mark.parametrize("level", LEVELS)
    def test_it_signs_with_the_configured_level_and_publishes_the_akp_key(self, level):
        with DevIssuer(dev_config(signing_algorithm=level)) as dev:
            token = dev.mint_access_token(audience=AUDIENCE, scopes=["read:messages"])
            check = Verifier(issuer=dev.url, audience=AUDIENCE, algorithms=["RS256", level])
            assert check.verify(token).scopes == {"read:messages"}
            assert header_of(token)["alg"] == level
            with pytest.raises(InvalidTokenError):
                Verifier(issuer=dev.url, audience=AUDIENCE).verify(token)

    def test_the_setting_is_read_from_the_configuration_file(self, tmp_path):
        path = tmp_path / "dev-issuer.json"
        path.write_text(json.dumps({**DEFAULT_CONFIG, "signing_algorithm": "ML-DSA-87"}), "utf-8")
        assert load_config(path).signing_algorithm == "ML-DSA-87"
        assert dev_config().signing_algorithm is None  # RS256, or what a keys file holds

    @pytest.mark.parametrize(
        ("value", "why"),
        [
            ("ML-DSA-66", "signing_algorithm must be one of RS256, .*ML-DSA-87; got 'ML-DSA-66'"),
            ("HS256", "signing_algorithm must be one of .*; got 'HS256'"),
            (65, "signing_algorithm must be a string, got"),
        ],
    )
    def test_a_bad_setting_is_refused_naming_the_key(self, value, why):
        with pytest.raises(ConfigurationError, match=why):
            dev_config(signing_algorithm=value)

    def test_a_keys_file_keeps_the_ml_dsa_keys_across_restarts(self, tmp_path):
        path = tmp_path / "keys.json"
        first = KeyStore(path, "ML-DSA-65")
        document = json.loads(path.read_text("utf-8"))
        stored = document["keys"][0]
        assert stored.keys() == {"kty", "alg", "pub", "priv", "kid", "use"}
        assert len(b64url_decode(stored["priv"])) == 32  # the seed, never the expanded key
        again = KeyStore(path, "ML-DSA-65")
        assert again.jwks() == first.jwks()
        token = compact_jws({"alg": "ML-DSA-65", "kid": first.current.kid}, {}, first.current)
        key = VerificationKey.from_jwk(again.jwks()["keys"][0])
        signing_input, _, signature = token.rpartition(".")
        assert SignaturePrimitive("ML-DSA-65").verify(
            signing_input.encode(), key.public_key, b64url_decode(signature)
        )
        assert KeyStore(path).current.algorithm == "ML-DSA-65"  # unset: the file's algorithm

    def test_a_keys_file_of_another_algorithm_is_refused_saying_what_to_do(self, tmp_path):
        path = tmp_path / "keys.json"
        KeyStore(path)  # RS256 keys
        with pytest.raises(
            ConfigurationError, match="signs with RS256, but the configuration asks for ML-DSA-44"
        ):
            KeyStore(path, "ML-DSA-44")

    @pytest.mark.parametrize(
        ("change", "why"),
        [
            ({"priv": None}, "needs 'priv'"),
            ({"priv": "AAAA"}, "32-byte seed"),
            ({"priv": 5}, "needs 'priv'"),
            ({"kty": "OKP"}, "must be an AKP signing key"),
            ({"use": "enc"}, "must be an AKP signing key"),
            ({"pub": "AAAA"}, "'pub' is not the public key of its 'priv' seed"),
        ],
    )
    def test_a_broken_akp_key_in_a_keys_file_is_refused(self, change, why):
        jwk = StoredKey("ML-DSA-65").private_jwk()
        jwk.update(change)
        jwk = {name: value for name, value in jwk.items() if value is not None}
        with pytest.raises(ConfigurationError, match=why):
            StoredKey.from_jwk(jwk, "keys[0]")

    def test_a_swapped_pub_of_another_key_is_refused(self):
        jwk = StoredKey("ML-DSA-65").private_jwk()
        jwk["pub"] = StoredKey("ML-DSA-65").public_jwk()["pub"]
        with pytest.raises(ConfigurationError, match="not the public key of its 'priv' seed"):
            StoredKey.from_jwk(jwk, "keys[0]")


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ml_dsa_dev_issuer() -> Iterator[DevIssuer]:
    with DevIssuer(dev_config(signing_algorithm="ML-DSA-65")) as dev:
        yield dev


class TestCommandLine:
    def test_decode_shows_the_alg_and_the_signature_size(self, ml_dsa_dev_issuer, capsys):
        token = ml_dsa_dev_issuer.mint_access_token(audience=AUDIENCE, scopes=["read:messages"])
        assert cli(["decode", token]) == 0
        shown = capsys.readouterr().out
        assert '"alg": "ML-DSA-65"' in shown
        assert "3309 bytes" in shown
        assert "not a JWS algorithm bearerguard supports" not in shown

    def test_verify_accepts_it_when_the_level_is_named_and_says_why_not_otherwise(
        self, ml_dsa_dev_issuer, capsys
    ):
        token = ml_dsa_dev_issuer.mint_access_token(audience=AUDIENCE, scopes=["read:messages"])
        common = ["verify", "--issuer", ml_dsa_dev_issuer.url, "--audience", AUDIENCE]
        assert cli([*common, token]) == 1
        assert (
            "The token's alg is ML-DSA-65; allowed: RS256 (--algorithm)." in capsys.readouterr().out
        )
        assert cli([*common, "--algorithm", "ML-DSA-65", token]) == 0
        assert "VALID" in capsys.readouterr().out

    def test_token_fetches_it_from_the_dev_issuer(self, ml_dsa_dev_issuer, capsys):
        arguments = ["--client-id", "m2m-client", "--client-secret", "m2m-secret"]
        assert (
            cli(["token", "--issuer", ml_dsa_dev_issuer.url, *arguments, "--audience", AUDIENCE])
            == 0
        )
        token = capsys.readouterr().out.strip().splitlines()[-1]
        assert header_of(token)["alg"] == "ML-DSA-65"
