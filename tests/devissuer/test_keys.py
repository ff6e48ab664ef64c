"""The key store: fresh keys, a keys file kept between runs, rotation."""

from __future__ import annotations

import json
import os
import stat
import sys

import jwt
import pytest

from bearerguard import ConfigurationError
from bearerguard.devissuer._keys import KeyStore
from bearerguard.testing._signing import compact_jws

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def test_fresh_keys_publish_the_current_and_the_next_key_public_members_only():
    keys = KeyStore()
    current, following = keys.jwks()["keys"]
    assert current["kid"] == keys.current.kid != following["kid"]
    for published in (current, following):
        assert (published["alg"], published["use"], published["kty"]) == ("RS256", "sig", "RSA")
        assert not PRIVATE_MEMBERS & set(published)
    assert keys.path is None


def test_rotation_promotes_the_published_next_key_and_keeps_the_previous_one():
    keys = KeyStore()
    first, second = (key["kid"] for key in keys.jwks()["keys"])
    assert keys.rotate() == second == keys.current.kid
    current, third, previous = (key["kid"] for key in keys.jwks()["keys"])
    assert (current, previous) == (second, first)
    assert third not in (first, second)
    assert keys.rotate() == third
    assert [key["kid"] for key in keys.jwks()["keys"]][2] == second  # the first is dropped


def test_a_keys_file_is_created_then_loaded_with_the_same_keys(tmp_path):
    path = tmp_path / "keys.json"
    created = KeyStore(path)
    saved = json.loads(path.read_text())
    assert [k["kid"] for k in saved["keys"]] == [k["kid"] for k in created.jwks()["keys"]]
    assert set(saved["keys"][0]) >= PRIVATE_MEMBERS
    assert "development only" in saved["note"]
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    loaded = KeyStore(path)
    assert loaded.current.kid == created.current.kid
    assert loaded.jwks() == created.jwks()
    # The same private key: a token signed after loading verifies with the first public key.
    token = compact_jws({"alg": "RS256", "kid": loaded.current.kid}, {"sub": "x"}, loaded.current)
    public = jwt.PyJWK(created.jwks()["keys"][0]).key
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"sub": "x"}


def test_a_rotation_is_written_to_the_keys_file(tmp_path):
    path = tmp_path / "keys.json"
    keys = KeyStore(path)
    new = keys.rotate()
    reloaded = KeyStore(path)
    assert reloaded.current.kid == new
    assert reloaded.jwks() == keys.jwks()
    assert not list(tmp_path.glob("*.tmp"))


def test_a_file_with_one_key_gets_a_next_key(tmp_path):
    source = tmp_path / "source.json"
    KeyStore(source)
    document = json.loads(source.read_text())
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"keys": document["keys"][:1]}))
    keys = KeyStore(path)
    assert keys.current.kid == document["keys"][0]["kid"]
    assert len(json.loads(path.read_text())["keys"]) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"keys": []}', "'keys' list holds private JWKs"),
        ('{"keys": [1]}', r"keys\[0\] must be a JSON object"),
        ('{"keys": [{"alg": "RS256"}]}', r"keys\[0\] needs a 'kid'"),
        ('{"keys": [{"kid": "k", "alg": "HS256"}]}', "'alg' must be one of"),
        ('{"keys": [{"kid": "k", "alg": "RS256", "kty": "RSA"}]}', "must be a private signing key"),
        (
            '{"keys": [{"kid": "k", "alg": "RS256", "kty": "RSA", "d": "x"}]}',
            "not a valid RS256 key",
        ),
    ],
)
def test_a_broken_keys_file_is_explained(tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        KeyStore(path)


def test_two_keys_with_one_kid_are_refused(tmp_path):
    source = tmp_path / "one.json"
    KeyStore(source)
    document = json.loads(source.read_text())
    document["keys"] *= 2
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigurationError, match="two keys share a kid"):
        KeyStore(path)


def test_an_unwritable_keys_file_is_explained(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot write the keys file"):
        KeyStore(tmp_path / "missing-directory" / "keys.json")
