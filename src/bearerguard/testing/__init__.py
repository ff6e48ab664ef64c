"""Testing support: real tokens from a fake issuer, and no network.

A :class:`FakeIssuer` owns freshly generated keys and an issuer URL. It mints
real, signed access tokens (valid ones, and deliberately broken ones for
negative tests) and, while active, answers the discovery and JWKS fetches of
every :class:`~bearerguard.Verifier` that trusts its issuer, in-process. The
application under test keeps its real settings; nothing is patched.

Example::

    from bearerguard.testing import FakeIssuer

    issuer = FakeIssuer("tenant.auth0.com", audience="https://api.example.com")

    @issuer
    def test_reading_contacts(client):
        response = client.get("/contacts", headers=issuer.auth_header(scopes="read:contacts"))
        assert response.status_code == 200

For DPoP-bound tokens (RFC 9449) the fake also plays the client: a
:class:`DPoPKey` from ``issuer.dpop_key()``, tokens bound to it, and proofs of
each request (``issuer.auth_header(dpop=("GET", url))`` gives both headers).
For certificate-bound tokens (RFC 8705) likewise: a client's certificate and key
from ``issuer.client_certificate()``, tokens bound to it, and the header a proxy
sets for it (``issuer.auth_header(client_certificate="header:Client-Cert")``).
"""

from __future__ import annotations

from ._certificates import ClientCertificate
from ._fake_issuer import FakeIssuer
from ._proofs import DPoPKey

__all__ = ["ClientCertificate", "DPoPKey", "FakeIssuer"]
