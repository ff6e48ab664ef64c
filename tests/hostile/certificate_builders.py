"""What a hostile certificate case is made of: the world it runs in and the request it sends.

A :class:`CertificateCase` builds one request in a :class:`World`: the tenant that
signs the access tokens, the clock, the URL the client sends to, and a way to send
a request first (to have a token remembered before the hostile request). The
request is header fields (``Authorization``, the certificate's field a proxy sets,
``DPoP``) and, for the server's own TLS (``client_certificate="tls"``), what the
server reports: the ASGI ``tls`` extension or the WSGI environ's
``SSL_CLIENT_CERT``. Tokens are signed for real by the tenant; certificates are made
by ``tests/certificates.py``.

Shared by the catalogue (``certificate_catalogue.py``) and the runs through the core
(``test_certificate_core.py``) and every adapter (``test_certificate_adapters.py``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bearerguard import BearerError
from bearerguard._mint import SigningKey
from tests.certificates import Authority, Issued, client_cert_field, escaped_pem, xfcc_field

from .dpop_builders import PATH, RequestWorld, proof

CA = Authority("hostile test CA")
# The client: a certificate whose thumbprint holds a "-" or "_" (three in four do), so that
# its spelling in the standard base64 alphabet is another string.
CLIENT = next(c for c in iter(lambda: CA.issue("client"), None) if {"-", "_"} & set(c.thumbprint))
# Another client of the same CA; the CA's own certificate; the client's key in another
# certificate (a binding is to the certificate, not to its key); an RSA client.
OTHER = CA.issue("other client")
REISSUED = CA.issue("client", key=CLIENT.key)
RSA_CLIENT = CA.issue("rsa client", rsa_bits=2048)
SELF_SIGNED = Authority("a client of its own").issued
# The client's DPoP key, for the tokens bound both ways.
DPOP_KEY = SigningKey("ES256")

CLIENT_CERT = "header:Client-Cert"
XFCC = "header:X-Forwarded-Client-Cert"
NGINX = "header:X-SSL-Client-Cert"
HEADER_SOURCES = (CLIENT_CERT, XFCC, NGINX)


def thumbprint(der: bytes) -> str:
    """RFC 8705 §3.1: base64url, unpadded, of the SHA-256 of the DER."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def field_of(source: str, certificate: Issued) -> tuple[str, str]:
    """The field a proxy that ``source`` names sets for ``certificate``."""
    name = source.partition(":")[2]
    if source == CLIENT_CERT:
        return name, client_cert_field(certificate.der)
    if source == XFCC:
        return name, xfcc_field(certificate.pem, certificate.der)
    return name, escaped_pem(certificate.pem)


@dataclass(frozen=True)
class Sent:
    """One request: header fields (names may repeat) and what a TLS server reports.

    ``tls`` is the ASGI ``tls`` extension and ``environ`` what a WSGI server exports
    beside the fields (``SSL_CLIENT_CERT``): only the core's request builders take them,
    since no framework's test client speaks TLS. ``secrets`` are the tokens and proofs
    it carries: no answer may show a piece of them.
    """

    fields: tuple[tuple[str, str], ...]
    secrets: tuple[str, ...] = ()
    tls: Mapping[str, Any] | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    path: str = PATH


class World(RequestWorld[Sent]):
    """A certificate case's world: tokens bound to a client certificate."""

    def bound_token(self, certificate: Issued = CLIENT, **cnf: Any) -> str:
        """A tenant token bound to ``certificate`` (``cnf["x5t#S256"]``), plus ``cnf``."""
        return self.token(cnf={"x5t#S256": thumbprint(certificate.der), **cnf})


Build = Callable[[World], Sent]


@dataclass(frozen=True)
class CertificateCase:
    """One hostile (or twin) request of a certificate-bound world and its exact outcome.

    ``setting`` is the verifier's ``client_certificate`` (``None``: none is read);
    ``error`` the refusal (``None``: accepted, ``bound`` saying whether the token names a
    certificate); ``description`` the refusal's when it is not its class's fixed one;
    ``source`` where the rule comes from (an RFC section, a proxy's documentation).
    """

    id: str
    source: str
    request: Build
    error: type[BearerError] | None = None
    setting: str | None = CLIENT_CERT
    description: str | None = None
    bound: bool = True
    #: the request builders the case goes through in the core: a request that needs the
    #: server's TLS report is an ASGI one (the tls extension) or a WSGI one (the environ);
    #: only requests of header fields alone go through both, and through the adapters
    builders: tuple[str, ...] = ("asgi", "wsgi")

    @property
    def sendable(self) -> bool:
        """Whether a test client can send it: header fields alone, no TLS report."""
        return len(self.builders) == 2


# --- requests ---------------------------------------------------------------------------------


def bearer_with(
    *fields: tuple[str, str] | Callable[[World], tuple[str, str]],
    token: Callable[[World], str] | None = None,
    tls: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Build:
    """``Authorization: Bearer <token>`` (default: bound to CLIENT) and these fields."""

    def build(world: World) -> Sent:
        access = token(world) if token is not None else world.bound_token()
        made = [("Authorization", f"Bearer {access}")]
        made += [f(world) if callable(f) else f for f in fields]
        return Sent(tuple(made), (access,), tls, dict(environ or {}))

    return build


def presented(source: str, certificate: Issued = CLIENT, **kw: Any) -> Build:
    """A token bound to CLIENT and ``certificate``'s field as the proxy ``source`` sets it."""
    return bearer_with(field_of(source, certificate), **kw)


def asgi_tls(*chain: str, error: str | None = None) -> dict[str, Any]:
    """The ASGI ``tls`` extension of a server that vouches for this client chain."""
    return {"client_cert_chain": list(chain), "client_cert_error": error, "tls_version": 0x0304}


def dpop_with(*fields: tuple[str, str], token: Callable[[World], str] | None = None) -> Build:
    """``Authorization: DPoP <token>`` (default: bound to DPOP_KEY and CLIENT), a sound proof
    of the request, and these fields."""

    def build(world: World) -> Sent:
        access = token(world) if token is not None else world.bound_token(jkt=DPOP_KEY.thumbprint())
        made = (("Authorization", f"DPoP {access}"), ("DPoP", proof(world, access, key=DPOP_KEY)))
        return Sent(made + fields, (access,))

    return build


def remembered_then(build: Build) -> Build:
    """The token accepted with its certificate three times over (the token cache keeps it),
    then ``build``'s request with the same token."""

    def run(world: World) -> Sent:
        token = world.bound_token()
        first = bearer_with(field_of(CLIENT_CERT, CLIENT), token=lambda w: token)(world)
        for _ in range(3):
            assert world.exchange(first).status == 200
        return bearer_with(*build(world).fields[1:], token=lambda w: token)(world)

    return run
