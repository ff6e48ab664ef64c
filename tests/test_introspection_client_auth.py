"""How the API authenticates itself to the introspection endpoint, beyond a client secret.

``private_key_jwt`` (RFC 7523): every call carries a new client assertion signed by the
API's private key: ``iss`` and ``sub`` the client, ``aud`` the issuer (or what
``assertion_audience`` says), a minute's life, a new ``jti``; no secret travels.

``tls_client_auth`` (RFC 8705 §2): the API presents its client certificate in the TLS
handshake of the POST, and of that POST alone, over real TLS on loopback here: the
endpoint is a TLS server of the test that requires a certificate of its CA. Discovery's
``mtls_endpoint_aliases`` (§5) is followed with a certificate, ignored without one.

The settings say one way, completely: a secret beside a key, a key without its
certificate, a key that is public, small, encrypted or not the certificate's, are each a
:class:`ConfigurationError` that says what to write, never key material.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bearerguard import (
    ConfigurationError,
    Introspection,
    IntrospectionUnavailableError,
    Verifier,
)
from bearerguard._background import QuietHTTPServer, serve_in_background, stop_serving
from tests.certificates import Authority, Issued
from tests.jwe_keys import private_jwk, private_pem, public_pem
from tests.support import AUDIENCE, ISSUER, Clock, ec_key, ed_key, public_jwk, rsa_key

ENDPOINT = "https://tenant.auth0.com/oauth/introspect"
OPAQUE = "2YotnFZFEjr1zCsicMWpAA"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _answer(now: float, **claims: Any) -> dict[str, Any]:
    return {"active": True, "iss": ISSUER, "aud": AUDIENCE, "exp": int(now) + 3600, **claims}


class Recorder:
    """An introspection endpoint on an httpx transport that keeps each request's form."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(200, json=_answer(self.clock.now))

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request)

    def form(self, index: int = -1) -> dict[str, str]:
        parsed = parse_qs(self.requests[index].content.decode())
        return {name: values[0] for name, values in parsed.items()}


def verifier_with(recorder: Recorder, **settings: Any) -> Verifier:
    return Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        introspection=Introspection(client_id="api", url=ENDPOINT, **settings),
        transport=httpx.MockTransport(recorder.handle),
        async_transport=httpx.MockTransport(recorder.ahandle),
        clock=recorder.clock.time,
        monotonic=recorder.clock.monotonic,
    )


# --- private_key_jwt ---------------------------------------------------------------------------


def _assertion(recorder: Recorder, public: Any, algorithm: str, **options: Any) -> dict[str, Any]:
    form = recorder.form()
    assert form["client_assertion_type"] == ASSERTION_TYPE
    assert "client_secret" not in form
    assert "authorization" not in recorder.requests[-1].headers
    claims: dict[str, Any] = jwt.decode(
        form["client_assertion"],
        public,
        algorithms=[algorithm],
        audience=options.get("audience", ISSUER),
        options={"verify_exp": False, "verify_iat": False},
    )
    return claims


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        (rsa_key(), "RS256"),
        (ec_key("P-256"), "ES256"),
        (ec_key("P-384"), "ES384"),
        (ed_key(), "EdDSA"),
    ],
    ids=["RSA", "P-256", "P-384", "Ed25519"],
)
def test_a_client_assertion_signed_by_the_apis_key_authenticates_each_call(
    key: Any, algorithm: str
) -> None:
    recorder = Recorder(Clock())
    verifier = verifier_with(recorder, private_key=private_pem(key))
    assert verifier.config.introspection is not None
    assert verifier.config.introspection.auth == "private_key_jwt"
    assert verifier.verify(OPAQUE).issuer == ISSUER
    claims = _assertion(recorder, key.public_key(), algorithm)
    # RFC 7523 §3: the client is iss and sub; aud the issuer identifier (rfc7523bis).
    assert claims["iss"] == claims["sub"] == "api"
    assert claims["aud"] == ISSUER
    assert claims["iat"] == int(Clock.now)
    assert claims["exp"] - claims["iat"] == 60
    header = jwt.get_unverified_header(recorder.form()["client_assertion"])
    assert header == {"alg": algorithm, "typ": "JWT"}


def test_each_call_carries_a_new_assertion_with_its_own_jti() -> None:
    recorder = Recorder(Clock())
    key = ec_key()
    verifier = verifier_with(recorder, private_key=private_pem(key))
    verifier.verify(OPAQUE)
    first = _assertion(recorder, key.public_key(), "ES256")
    verifier.verify(OPAQUE + "-other")
    second = _assertion(recorder, key.public_key(), "ES256")
    assert first["jti"] != second["jti"]
    assert len(first["jti"]) >= 32


def test_async_calls_carry_an_assertion_too() -> None:
    recorder = Recorder(Clock())
    key = ec_key()
    verifier = verifier_with(recorder, private_key=private_pem(key))
    asyncio.run(verifier.averify(OPAQUE))
    assert _assertion(recorder, key.public_key(), "ES256")["sub"] == "api"


def test_a_jwk_names_its_kid_and_private_key_id_overrides_it(tmp_path: Path) -> None:
    recorder = Recorder(Clock())
    key = rsa_key(1)
    verifier_with(recorder, private_key=private_jwk(key, kid="from-jwk")).verify(OPAQUE)
    assert jwt.get_unverified_header(recorder.form()["client_assertion"])["kid"] == "from-jwk"
    as_json = json.dumps(private_jwk(key, kid="from-jwk"))
    verifier_with(recorder, private_key=as_json, private_key_id="k2").verify(OPAQUE + "2")
    assert jwt.get_unverified_header(recorder.form()["client_assertion"])["kid"] == "k2"
    path = tmp_path / "introspect.pem"
    path.write_text(private_pem(key))
    verifier_with(recorder, private_key=str(path), private_key_id="k3").verify(OPAQUE + "3")
    assert jwt.get_unverified_header(recorder.form()["client_assertion"])["kid"] == "k3"


def test_assertion_audience_and_algorithm_can_be_chosen() -> None:
    recorder = Recorder(Clock())
    key = rsa_key()
    verifier = verifier_with(
        recorder, private_key=key, assertion_audience=ENDPOINT, assertion_algorithm="PS256"
    )
    verifier.verify(OPAQUE)
    claims = _assertion(recorder, key.public_key(), "PS256", audience=ENDPOINT)
    assert claims["aud"] == ENDPOINT


# --- the settings ------------------------------------------------------------------------------


def _encrypted_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    ).decode()


EC_PEM = private_pem(ec_key())
K1_PEM = private_pem(ec.generate_private_key(ec.SECP256K1()))


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({}, "needs one way to authenticate the API to the provider"),
        ({"client_secret": "s", "private_key": private_pem(ec_key())}, "not several"),
        ({"auth": "private_key_jwt", "client_secret": "s"}, "needs private_key="),
        ({"auth": "tls_client_auth", "client_secret": "s"}, "needs tls_certificate="),
        (
            {
                "auth": "client_secret_post",
                "client_secret": "s",
                "private_key": private_pem(ec_key()),
            },
            "does not use private_key",
        ),
        ({"client_secret": "s", "private_key_id": "k1"}, "is for auth='private_key_jwt'"),
        ({"client_secret": "s", "tls_key": "api.key"}, "tls_key goes with tls_certificate"),
        ({"private_key": public_pem(ec_key())}, "holds no private key"),
        ({"private_key": public_jwk(ec_key())}, "is a public JWK"),
        ({"private_key": {"kty": "oct", "k": "c2VjcmV0"}}, "kty 'oct'"),
        ({"private_key": {"kty": "EC", "crv": "P-256", "d": "AA"}}, "not a valid EC private JWK"),
        ({"private_key": _encrypted_pem(ec_key())}, "encrypted PEM private key"),
        ({"private_key": private_pem(rsa_key(bits=1024))}, "RSA key of 1024 bits"),
        (
            {"private_key": private_pem(ec.generate_private_key(ec.SECP256K1()))},
            "EC key on secp256k1",
        ),
        (
            {"private_key": private_pem(ec_key()), "assertion_algorithm": "RS256"},
            "can sign with ES256",
        ),
        ({"private_key": private_pem(ec_key()), "private_key_id": ""}, "private_key_id must be"),
        ({"private_key": 42}, "must be a private key"),
        ({"private_key": "keys/missing.pem"}, "private_key"),
        ({"tls_certificate": "certs/missing.pem"}, "no file at 'certs/missing.pem'"),
        ({"tls_certificate": 7}, "tls_certificate must be the path of a PEM file"),
    ],
)
def test_bad_client_authentication_settings_say_what_to_write(
    settings: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words) as raised:
        Introspection(client_id="api", **settings)
    assert not re.search("[A-Za-z0-9+/_-]{40}", str(raised.value))  # no key material


def test_a_jwk_set_of_one_key_is_that_key() -> None:
    recorder = Recorder(Clock())
    key = rsa_key(2)
    verifier_with(recorder, private_key={"keys": [private_jwk(key, kid="only")]}).verify(OPAQUE)
    assert jwt.get_unverified_header(recorder.form()["client_assertion"])["kid"] == "only"
    two = {"keys": [private_jwk(key), private_jwk(rsa_key(3))]}
    with pytest.raises(ConfigurationError, match="does not hold exactly one key"):
        Introspection(client_id="api", private_key=two)


def test_certificate_files_that_do_not_fit_say_what_to_give(pki: Pki) -> None:
    certificate, key = pki.files(pki.client, "client")
    _, other_key = pki.files(pki.stranger, "stranger")
    not_pem = pki.folder / "not.pem"
    not_pem.write_text("hello")
    cases = [
        ({"tls_certificate": certificate, "tls_key": other_key}, "is not the key of the certif"),
        ({"tls_certificate": certificate}, "holds no private key: give tls_key"),
        ({"tls_certificate": str(not_pem)}, "holds no PEM certificate"),
        ({"tls_certificate": str(pki.folder)}, "cannot be read"),
        ({"tls_certificate": certificate, "tls_key": str(not_pem)}, "holds no private key"),
    ]
    for settings, words in cases:
        with pytest.raises(ConfigurationError, match=words):
            Introspection(client_id="api", **settings)
    assert Introspection(client_id="api", tls_certificate=certificate, tls_key=key).tls_identity


def test_the_method_follows_from_what_is_given_and_the_key_is_never_shown() -> None:
    key = private_pem(ec_key())
    settings = Introspection(client_id="api", private_key=key)
    assert settings.auth == "private_key_jwt"
    assert "PRIVATE" not in repr(settings)
    assert Introspection(client_id="api", client_secret="s").auth == "client_secret_basic"


# --- mutual TLS: a real TLS endpoint on loopback --------------------------------------------


@dataclass
class Endpoint:
    """An introspection endpoint served over loopback: notes each call's client certificate
    subject, form and Authorization field; answers for ``issuer``; serves ``discovery``."""

    issuer: str = ISSUER
    url: str = ""
    discovery: dict[str, Any] | None = None
    calls: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        document = self.server.owner.discovery
        if document is None or self.path != "/.well-known/openid-configuration":
            self._send(404, {})
        else:
            self._send(200, document)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        peer = getattr(self.connection, "getpeercert", dict)()
        subject = dict(item[0] for item in peer["subject"]) if peer else {}
        owner = self.server.owner
        owner.calls.append((subject.get("commonName", ""), form, self.headers.get("Authorization")))
        named = {"client_id": form["client_id"]} if "client_id" in form else {}
        self._send(200, _answer(Clock.now, iss=owner.issuer, **named))

    def _send(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(QuietHTTPServer):
    owner: Endpoint


@contextlib.contextmanager
def serving(owner: Endpoint, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``owner`` on a loopback port until the block ends; yields its origin."""
    server = _Server(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.owner = owner
    thread = serve_in_background(server, name="introspection-endpoint")
    try:
        scheme = "https" if tls else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        stop_serving(server, thread)


@dataclass
class Pki:
    folder: Path
    ca: Authority
    client: Issued
    stranger: Issued  # a client certificate of another CA

    def files(self, issued: Issued, stem: str) -> tuple[str, str]:
        certificate, key = issued.write(self.folder, stem)
        return str(certificate), str(key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = Authority("introspection test CA")
    return Pki(
        tmp_path_factory.mktemp("pki"),
        ca,
        ca.issue("api-client"),
        Authority("another CA").issue("api-client"),
    )


@pytest.fixture
def tls_endpoint(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    """The TLS endpoint: it requires a client certificate of the test CA (RFC 8705 §2.1)."""
    server_cert, server_key = pki.files(pki.ca.issue("127.0.0.1", server_ip="127.0.0.1"), "srv")
    ca_file = pki.folder / "ca.pem"
    ca_file.write_text(pki.ca.pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert, server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(ca_file))
    # The API trusts the endpoint's CA as a deployment trusts its provider's.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    endpoint = Endpoint()
    with serving(endpoint, context) as origin:
        endpoint.url = origin + "/introspect"
        yield endpoint


def _mtls_verifier(certificate: str, key: str | None, **settings: Any) -> Verifier:
    issuer = settings.pop("issuer", ISSUER)
    return Verifier(
        issuer=issuer,
        audience=AUDIENCE,
        introspection=Introspection(
            client_id="api", tls_certificate=certificate, tls_key=key, **settings
        ),
    )


def test_the_client_certificate_authenticates_the_api_over_real_tls(
    pki: Pki, tls_endpoint: Endpoint
) -> None:
    verifier = _mtls_verifier(*pki.files(pki.client, "client"), url=tls_endpoint.url)
    assert verifier.config.introspection is not None
    assert verifier.config.introspection.auth == "tls_client_auth"
    token = verifier.verify(OPAQUE)
    assert token.claims["client_id"] == "api"
    subject, form, authorization = tls_endpoint.calls[-1]
    assert subject == "api-client"
    # RFC 8705 §2: client_id names the client; no secret, no assertion, no Basic.
    assert form == {"token": OPAQUE, "token_type_hint": "access_token", "client_id": "api"}
    assert authorization is None


def test_async_calls_present_the_certificate_too(pki: Pki, tls_endpoint: Endpoint) -> None:
    verifier = _mtls_verifier(*pki.files(pki.client, "client"), url=tls_endpoint.url)
    asyncio.run(verifier.averify(OPAQUE))
    assert tls_endpoint.calls[-1][0] == "api-client"


def test_a_file_holding_the_certificate_and_its_key_is_enough(
    pki: Pki, tls_endpoint: Endpoint
) -> None:
    combined = pki.folder / "combined.pem"
    combined.write_text(pki.client.pem + pki.client.key_pem)
    verifier = _mtls_verifier(str(combined), None, url=tls_endpoint.url)
    verifier.verify(OPAQUE)
    assert tls_endpoint.calls[-1][0] == "api-client"


def test_a_certificate_the_provider_refuses_fails_closed_with_503(
    pki: Pki, tls_endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    verifier = _mtls_verifier(*pki.files(pki.stranger, "stranger"), url=tls_endpoint.url)
    with (
        caplog.at_level(logging.ERROR, "bearerguard"),
        pytest.raises(IntrospectionUnavailableError),
    ):
        verifier.verify(OPAQUE)
    assert tls_endpoint.calls == []
    assert "gave no answer" in caplog.text
    assert "client certificate" in caplog.text
    assert OPAQUE not in caplog.text


def test_without_a_certificate_the_tls_endpoint_is_out_of_reach(tls_endpoint: Endpoint) -> None:
    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        introspection=Introspection(client_id="api", client_secret="s", url=tls_endpoint.url),
    )
    with pytest.raises(IntrospectionUnavailableError):
        verifier.verify(OPAQUE)
    assert tls_endpoint.calls == []


@pytest.mark.parametrize("mtls", [True, False], ids=["with-certificate", "with-secret"])
def test_discovery_mtls_aliases_are_followed_with_a_certificate_only(
    pki: Pki, tls_endpoint: Endpoint, mtls: bool
) -> None:
    # A provider on loopback: its discovery document and plain endpoint over HTTP, the
    # mTLS alias (RFC 8705 §5) over TLS; both answer for the one issuer.
    plain = Endpoint()
    with serving(plain) as origin:
        issuer = origin + "/"
        plain.issuer = tls_endpoint.issuer = issuer
        plain.discovery = {
            "issuer": issuer,
            "jwks_uri": origin + "/.well-known/jwks.json",
            "introspection_endpoint": origin + "/introspect",
            "mtls_endpoint_aliases": {"introspection_endpoint": tls_endpoint.url},
        }
        if mtls:
            verifier = _mtls_verifier(*pki.files(pki.client, "client"), issuer=issuer)
        else:
            verifier = Verifier(
                issuer=issuer,
                audience=AUDIENCE,
                introspection=Introspection(client_id="api", client_secret="s"),
            )
        assert verifier.verify(OPAQUE).issuer == issuer
    used, unused = (tls_endpoint, plain) if mtls else (plain, tls_endpoint)
    assert len(used.calls) == 1
    assert unused.calls == []
    assert (used.calls[0][2] is None) is mtls  # Basic only with the secret
