"""DevIssuer's Python API: life cycle, loopback only, minting, rotation, the keys file."""

from __future__ import annotations

import socket

import pytest

from bearerguard import ConfigurationError, ExpiredTokenError, InvalidIssuerError, Verifier
from bearerguard.devissuer import DevIssuer, default_config

from .flows import API


def test_only_loopback_hosts_unless_allowed():
    for host in ("0.0.0.0", "192.0.2.1", "example.com", ""):  # noqa: S104
        with pytest.raises(ConfigurationError, match=r"allow_remote=True|host must be"):
            DevIssuer(default_config(), host=host)
    with pytest.raises(ConfigurationError, match="port must be"):
        DevIssuer(default_config(), port=70000)


def test_a_remote_host_is_allowed_explicitly_and_keeps_loopback_issuer_urls():
    # Not started: tests listen on 127.0.0.1 only.
    issuer = DevIssuer(default_config(), host="0.0.0.0", port=9000, allow_remote=True)  # noqa: S104
    assert issuer.issuers == ("http://127.0.0.1:9000/", "http://localhost:9000/")
    named = DevIssuer(host="localhost", port=9000)
    assert named.issuers == ("http://localhost:9000/", "http://127.0.0.1:9000/")


def test_life_cycle():
    issuer = DevIssuer()  # the default configuration
    assert repr(issuer) == "DevIssuer(127.0.0.1:0 (stopped))"
    with pytest.raises(RuntimeError, match="call start"):
        issuer.url  # noqa: B018 - port 0 is known only once bound
    assert issuer.start() is issuer
    try:
        assert issuer.running
        with pytest.raises(RuntimeError, match="already running"):
            issuer.start()
        assert repr(issuer) == f"DevIssuer({issuer.url})"
    finally:
        issuer.stop()
    assert repr(issuer).endswith("(stopped))")
    issuer.stop()  # harmless twice
    host, port = "127.0.0.1", int(issuer.url.rsplit(":", 1)[1].rstrip("/"))
    with socket.socket() as probe:
        assert probe.connect_ex((host, port)) != 0  # nothing listens any more


def test_a_taken_port_is_an_os_error():
    with DevIssuer() as first:
        port = int(first.url.rsplit(":", 1)[1].rstrip("/"))
        second = DevIssuer(port=port)
        with pytest.raises(OSError):
            second.start()
        assert not second.running


def test_minted_tokens_verify_and_can_be_expired(issuer: DevIssuer):
    verifier = Verifier(issuer=issuer.url, audience=API)
    token = verifier.verify(
        issuer.mint_access_token(audience=API, scopes=["read:messages"], roles=["admin"])
    )
    assert token.subject == "auth0|alice"  # the first configured user
    assert token.scopes == {"read:messages"}
    assert token.claims["https://example.com/roles"] == ["admin"]  # the config's namespace
    assert token.issuer == issuer.url
    with pytest.raises(ExpiredTokenError):
        verifier.verify(issuer.mint_access_token(audience=API, expires_in=-3600))
    custom = issuer.mint_access_token(audience=API, sub="svc@clients", azp=None)
    assert verifier.verify(custom).subject == "svc@clients"
    with pytest.raises(ConfigurationError, match="issuer must be one of"):
        issuer.mint_access_token(audience=API, issuer="https://elsewhere.example/")


def test_custom_domain_tokens_verify_against_a_verifier_trusting_both(issuer: DevIssuer):
    custom = issuer.mint_access_token(audience=API, issuer=issuer.custom_domain_url)
    assert Verifier(issuer=list(issuer.issuers), audience=API).verify(custom).issuer == (
        issuer.custom_domain_url
    )
    with pytest.raises(InvalidIssuerError):
        Verifier(issuer=issuer.url, audience=API).verify(custom)


def test_rotation_publishes_a_new_key_and_old_tokens_still_verify(issuer: DevIssuer):
    verifier = Verifier(issuer=issuer.url, audience=API)
    old_kid = issuer.kid
    old = issuer.mint_access_token(audience=API)
    verifier.verify(old)
    new_kid = issuer.rotate_keys()
    assert new_kid == issuer.kid != old_kid
    # The new key was published ahead of the rotation (as Auth0 publishes its next key):
    # a verifier that cached the key set before accepts the new tokens at once.
    new = issuer.mint_access_token(audience=API)
    assert verifier.verify(new).header["kid"] == new_kid
    assert verifier.verify(old).header["kid"] == old_kid  # the previous key stays published


def test_rotation_over_http(issuer: DevIssuer, http):
    old_kid = issuer.kid
    response = http.post(issuer.url + "dev/rotate")
    assert response.status_code == 200
    answer = response.json()
    assert answer["kid"] == issuer.kid != old_kid
    assert answer["published"][0] == issuer.kid
    assert answer["published"][2] == old_kid
    kids = [key["kid"] for key in http.get(issuer.url + ".well-known/jwks.json").json()["keys"]]
    assert kids == answer["published"]


def test_a_keys_file_keeps_tokens_valid_across_restarts(tmp_path):
    keys = tmp_path / "keys.json"
    with DevIssuer(keys_file=keys) as first:
        kid = first.kid
        token = first.mint_access_token(audience=API)
        port = int(first.url.rsplit(":", 1)[1].rstrip("/"))
    assert keys.exists()
    # The same port, so the issuer URL (the token's iss) is the same too.
    with DevIssuer(keys_file=keys, port=port) as second:
        assert second.kid == kid
        Verifier(issuer=second.url, audience=API).verify(token)


def test_the_public_api_is_one_sorted_all():
    import types

    import bearerguard.devissuer as package

    assert package.__all__ == sorted(package.__all__)
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert set(package.__all__) == public
