"""Certificate-bound access tokens (RFC 8705 §3) through ``verify_request()``: the binding step.

A token whose ``cnf`` names a certificate (``x5t#S256``) passes with that certificate
only; without one, with an unreadable one or with another, 401 ``invalid_token`` with
one fixed description, the reason (in the log) saying which. A bound token never
passes as a plain bearer token, a token bound both ways needs its DPoP proof and its
certificate, and a verifier that reads no certificate refuses every certificate-bound
token, as before.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bearerguard import (
    AccessToken,
    BearerError,
    HttpRequest,
    InvalidDPoPProofError,
    InvalidTokenError,
    SenderConstrainedTokenError,
    Verifier,
)
from bearerguard._binding import CERTIFICATE_DESCRIPTION
from bearerguard._certificates import CertificateSource
from bearerguard._mint import dpop_proof as mint_proof
from bearerguard._request import asgi_request
from bearerguard.testing._signing import SigningKey
from tests.support import NOW, Provider

from .certificates import Authority, client_cert_field, escaped_pem

MakeVerifier = Callable[..., Verifier]
URL = "https://api.example.com/api/contacts"
CA = Authority()
# A certificate whose thumbprint holds a "-" or "_", so that its standard-alphabet spelling
# differs (three in four do).
CLIENT = next(c for c in iter(lambda: CA.issue("client"), None) if {"-", "_"} & set(c.thumbprint))
OTHER = CA.issue("other client")
DPOP_KEY = SigningKey("ES256")
SOURCE = "header:Client-Cert"
# How an adapter builds the request of a verifier with that setting (asgi_request).
READER = CertificateSource(SOURCE)


def bound(provider: Provider, certificate_der: bytes = CLIENT.der, **claims: Any) -> str:
    """A token bound to the certificate (``cnf["x5t#S256"]``)."""
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(certificate_der).digest())
    cnf = {"x5t#S256": thumbprint.decode().rstrip("="), **claims.pop("cnf", {})}
    return provider.token(cnf=cnf, **claims)


def request(token: str, *fields: tuple[str, str], certificate: bytes | None = None) -> HttpRequest:
    """A Bearer request presenting ``certificate`` in the Client-Cert field a proxy sets."""
    headers = [("Authorization", f"Bearer {token}"), *fields]
    if certificate is not None:
        headers.append(("Client-Cert", client_cert_field(certificate)))
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/api/contacts",
        "headers": [(b"host", b"api.example.com")]
        + [(n.lower().encode(), v.encode()) for n, v in headers],
    }
    return asgi_request(scope, READER)


@pytest.fixture
def verifier(make_verifier: MakeVerifier) -> Verifier:
    return make_verifier(client_certificate=SOURCE)


def refusal(verifier: Verifier, sent: HttpRequest) -> BearerError:
    with pytest.raises(BearerError) as refused:
        verifier.verify_request(sent)
    return refused.value


# --- what passes -------------------------------------------------------------------------------


def test_a_bound_token_with_its_certificate_passes(verifier: Verifier, provider: Provider):
    token = verifier.verify_request(request(bound(provider), certificate=CLIENT.der))

    assert isinstance(token, AccessToken)
    assert token.confirmation == {"x5t#S256": CLIENT.thumbprint}


def test_the_async_path_has_the_same_rules(verifier: Verifier, provider: Provider):
    token = bound(provider)

    passed = asyncio.run(verifier.averify_request(request(token, certificate=CLIENT.der)))

    assert passed.subject == "auth0|123"
    with pytest.raises(InvalidTokenError):
        asyncio.run(verifier.averify_request(request(token, certificate=OTHER.der)))


def test_a_plain_token_passes_with_or_without_a_certificate(verifier: Verifier, provider: Provider):
    token = provider.token()

    assert verifier.verify_request(request(token)).confirmation is None
    assert verifier.verify_request(request(token, certificate=OTHER.der)).confirmation is None
    # An unreadable certificate is evidence for no binding, and a plain token needs none.
    unreadable = request(token, ("Client-Cert", "garbage"))
    assert verifier.verify_request(unreadable).confirmation is None


def test_unknown_cnf_members_beside_the_thumbprint_are_left_alone(
    verifier: Verifier, provider: Provider
):
    token = bound(provider, cnf={"x-vendor": {"a": 1}})

    assert verifier.verify_request(request(token, certificate=CLIENT.der)).subject == "auth0|123"


def test_a_certificate_given_as_der_to_the_request_is_matched(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(client_certificate="tls")
    sent = HttpRequest("GET", URL, {"Authorization": f"Bearer {bound(provider)}"},
                       client_certificate=CLIENT.der)  # fmt: skip

    assert verifier.verify_request(sent).confirmation == {"x5t#S256": CLIENT.thumbprint}


# --- what is refused, and why ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (request, "no Client-Cert field"),
        (lambda token: request(token, certificate=OTHER.der), "another certificate"),
        (lambda token: request(token, ("Client-Cert", "junk")), "Byte Sequence"),
        (
            lambda token: request(
                token,
                ("Client-Cert", client_cert_field(OTHER.der)),
                ("Client-Cert", client_cert_field(CLIENT.der)),
            ),
            "repeats",
        ),
        (
            lambda token: request(token, ("X-SSL-Client-Cert", escaped_pem(CLIENT.pem))),
            "no Client-Cert field",
        ),  # another proxy's field: not where this verifier reads
    ],
    ids=["no-certificate", "another-certificate", "unreadable", "repeated", "another-field"],
)
def test_a_bound_token_without_its_certificate_is_an_invalid_token(
    verifier: Verifier,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
    sent: Callable[[str], HttpRequest],
    reason: str,
):
    caplog.set_level(logging.DEBUG, logger="bearerguard")
    token = bound(provider)

    error = refusal(verifier, sent(token))

    assert type(error) is InvalidTokenError
    assert error.status_code == 401
    assert error.description == CERTIFICATE_DESCRIPTION
    assert reason in error.reason
    assert error.www_authenticate is not None
    assert error.www_authenticate.startswith(
        f'Bearer realm="api", error="invalid_token", error_description="{CERTIFICATE_DESCRIPTION}"'
    )
    shown = [error.www_authenticate, error.json_body().decode(), error.reason]
    shown += [record.getMessage() for record in caplog.records]
    for text in shown:
        assert CLIENT.thumbprint not in text
        assert token not in text


@pytest.mark.parametrize(
    "thumbprint",
    [
        hashlib.sha256(CLIENT.der).hexdigest(),  # hex, not base64url
        base64.urlsafe_b64encode(hashlib.sha256(CLIENT.der).digest()).decode(),  # padded
        base64.b64encode(hashlib.sha256(CLIENT.der).digest()).decode().rstrip("="),  # + and /
        base64.urlsafe_b64encode(hashlib.sha1(CLIENT.der).digest()).decode().rstrip("="),  # noqa: S324 - x5t, SHA-1
        base64.urlsafe_b64encode(hashlib.sha512(CLIENT.der).digest()).decode().rstrip("="),
        base64.urlsafe_b64encode(hashlib.sha256(CLIENT.pem.encode()).digest()).decode()[:43],
        "",
        42,
        None,
        ["x"],
    ],
    ids=[
        "hex",
        "padded",
        "standard-alphabet",
        "sha1",
        "sha512",
        "of-the-pem",
        "empty",
        "number",
        "null",
        "array",
    ],
)
def test_a_thumbprint_of_another_encoding_or_hash_matches_nothing(
    verifier: Verifier, provider: Provider, thumbprint: Any
):
    token = provider.token(cnf={"x5t#S256": thumbprint})

    error = refusal(verifier, request(token, certificate=CLIENT.der))

    assert type(error) is InvalidTokenError
    assert error.description == CERTIFICATE_DESCRIPTION


def test_the_binding_is_checked_on_every_request_not_only_the_first(
    verifier: Verifier, provider: Provider
):
    token = bound(provider)
    for _ in range(3):  # remembered by the token cache from the second sighting on
        verifier.verify_request(request(token, certificate=CLIENT.der))

    assert refusal(verifier, request(token, certificate=OTHER.der)).description == (
        CERTIFICATE_DESCRIPTION
    )
    assert type(refusal(verifier, request(token))) is InvalidTokenError


@pytest.mark.parametrize(
    "cnf",
    [
        {"jkt": DPOP_KEY.thumbprint()},
        {"kid": "a-key"},
        {"jkt": DPOP_KEY.thumbprint(), "x5t#S256": CLIENT.thumbprint},
        {},
        "x5t#S256",
        None,
    ],
    ids=["dpop-key", "unknown-member", "both-ways", "empty", "a-string", "null"],
)
def test_any_other_binding_is_no_bearer_token(verifier: Verifier, provider: Provider, cnf: Any):
    token = provider.token(cnf=cnf) if cnf is not None else _null_cnf(provider)

    error = refusal(verifier, request(token, certificate=CLIENT.der))

    assert type(error) is SenderConstrainedTokenError


def _null_cnf(provider: Provider) -> str:
    # claims() drops None values; sign the null claim by hand.
    from tests.support import claims, rsa_key, sign_token

    body = claims(cnf=0)
    body["cnf"] = None
    return sign_token({"alg": "RS256", "typ": "JWT", "kid": "k1"}, body, rsa_key(0))


def test_header_only_verification_refuses_a_certificate_bound_token(
    verifier: Verifier, provider: Provider
):
    # verify() and authenticate() see no request, so no certificate: fail closed.
    with pytest.raises(SenderConstrainedTokenError):
        verifier.verify(bound(provider))
    with pytest.raises(SenderConstrainedTokenError):
        verifier.authenticate(f"Bearer {bound(provider)}")


# --- a verifier that reads no certificate --------------------------------------------------------


def test_without_a_source_no_header_is_read_and_bound_tokens_are_refused(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier()
    token = bound(provider)
    fields = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"client-cert", client_cert_field(CLIENT.der).encode()),
        (b"x-ssl-client-cert", escaped_pem(CLIENT.pem).encode()),
    ]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": fields}
    sent = asgi_request(scope, verifier.config.certificate_source)

    assert sent.client_certificate is None
    assert type(refusal(verifier, sent)) is SenderConstrainedTokenError
    with_der = HttpRequest("GET", URL, {"Authorization": f"Bearer {token}"},
                           client_certificate=CLIENT.der)  # fmt: skip
    assert type(refusal(verifier, with_der)) is SenderConstrainedTokenError


# --- bound both ways: a DPoP proof and a certificate ---------------------------------------------


def dpop_proof(token: str, key: SigningKey = DPOP_KEY) -> str:
    jti = f"jti-{next(_counter)}"
    return mint_proof(key, method="GET", url=URL, iat=NOW, jti=jti, access_token=token)


_counter = iter(range(1_000_000))


def both_ways(provider: Provider) -> str:
    return bound(provider, cnf={"jkt": DPOP_KEY.thumbprint()})


def dpop_request(token: str, certificate: bytes | None, key: SigningKey = DPOP_KEY) -> HttpRequest:
    fields = [("Authorization", f"DPoP {token}"), ("DPoP", dpop_proof(token, key))]
    return HttpRequest("GET", URL, fields, client_certificate=certificate)


def test_a_token_bound_both_ways_passes_with_its_proof_and_its_certificate(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(client_certificate="tls")
    token = both_ways(provider)

    passed = verifier.verify_request(dpop_request(token, CLIENT.der))

    assert passed.confirmation == {"x5t#S256": CLIENT.thumbprint, "jkt": DPOP_KEY.thumbprint()}


def test_a_token_bound_both_ways_needs_both(make_verifier: MakeVerifier, provider: Provider):
    verifier = make_verifier(client_certificate="tls")
    token = both_ways(provider)

    no_certificate = refusal(verifier, dpop_request(token, None))
    another = refusal(verifier, dpop_request(token, OTHER.der))
    another_key = refusal(verifier, dpop_request(token, CLIENT.der, SigningKey("ES256")))
    as_bearer = refusal(
        verifier,
        HttpRequest(
            "GET", URL, {"Authorization": f"Bearer {token}"}, client_certificate=CLIENT.der
        ),
    )

    assert no_certificate.description == another.description == CERTIFICATE_DESCRIPTION
    assert type(another_key) is InvalidDPoPProofError
    assert type(as_bearer) is SenderConstrainedTokenError


def test_a_token_bound_both_ways_is_refused_by_a_verifier_that_reads_no_certificate(
    make_verifier: MakeVerifier, provider: Provider
):
    # The DPoP proof alone is half the binding: fail closed.
    verifier = make_verifier()

    error = refusal(verifier, dpop_request(both_ways(provider), CLIENT.der))

    assert type(error) is SenderConstrainedTokenError
    assert "client_certificate=" in error.reason


def test_a_refused_certificate_uses_up_no_dpop_proof(
    make_verifier: MakeVerifier, provider: Provider
):
    verifier = make_verifier(client_certificate="tls")
    token = both_ways(provider)
    proof = dpop_proof(token)
    fields = [("Authorization", f"DPoP {token}"), ("DPoP", proof)]

    with pytest.raises(InvalidTokenError):
        verifier.verify_request(HttpRequest("GET", URL, fields, client_certificate=OTHER.der))
    passed = verifier.verify_request(HttpRequest("GET", URL, fields, client_certificate=CLIENT.der))

    assert passed.subject == "auth0|123"


# --- the metadata --------------------------------------------------------------------------------


def test_the_metadata_says_certificate_bound_tokens_are_supported(make_verifier: MakeVerifier):
    resource = "https://api.example.com/mcp"

    with_source = make_verifier(resource=resource, client_certificate=SOURCE).resource_metadata()
    without = make_verifier(resource=resource).resource_metadata()

    assert with_source["tls_client_certificate_bound_access_tokens"] is True
    assert "tls_client_certificate_bound_access_tokens" not in without
