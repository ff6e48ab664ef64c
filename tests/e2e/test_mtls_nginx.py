"""Certificate-bound tokens (RFC 8705) for real: TLS with client certificates through nginx.

The test makes a CA, a server certificate for 127.0.0.1 and client certificates
(``tests/certificates.py``), and runs Debian's nginx (``scripts/nginx-setup.sh``) on a
free port of 127.0.0.1 in front of an example: the FastAPI example under uvicorn and
the Flask example under gunicorn, each told where nginx puts the certificate
(``BEARERGUARD_CLIENT_CERTIFICATE=header:X-SSL-Client-Cert``, nginx's
``$ssl_client_escaped_cert``). Clients speak TLS to nginx with their own
certificate, or none; tokens come from the loopback identity provider's key, one
bound to the client's certificate (``cnf["x5t#S256"]``), one plain.

What must hold: a bound token passes with its certificate only; another certificate,
no certificate, and a certificate header forged by the client (nginx replaces it) are
401 ``invalid_token``; plain bearer tokens pass as before; the metadata says so.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bearerguard._binding import CERTIFICATE_DESCRIPTION
from tests.certificates import Authority, Issued, escaped_pem
from tests.support import claims, sign_token

from .identity_provider import KID, SUB, IdentityProvider, Tenant
from .nginx import FORWARDED, NginxProxy
from .servers import EXAMPLES, REQUEST_TIMEOUT, Server, example_environment, serve_app

pytestmark = pytest.mark.e2e

# The FastAPI example under uvicorn, the Flask example under gunicorn.
APPS = ("fastapi", "flask")
TOKEN_LIFETIME = 600


@dataclass(frozen=True)
class Certificates:
    """The test's CA, nginx's server certificate, and two clients of the CA."""

    ca: Authority
    server: Issued
    client: Issued
    other: Issued


@pytest.fixture(scope="module")
def certificates() -> Certificates:
    ca = Authority("bearerguard e2e CA")
    return Certificates(
        ca,
        ca.issue("127.0.0.1", server_ip="127.0.0.1"),
        ca.issue("the client"),
        ca.issue("another client"),
    )


@dataclass
class Deployment:
    """An example behind nginx: the URL clients use and the tenant the example trusts."""

    proxy: NginxProxy
    app: Server
    tenant: Tenant
    certificates: Certificates

    def get(
        self,
        path: str,
        *,
        token: str | None = None,
        certificate: Issued | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """GET ``path`` through nginx over TLS, presenting ``certificate`` (or none)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        context = self.proxy.client_context(certificate)
        with httpx.Client(verify=context, trust_env=False, timeout=REQUEST_TIMEOUT) as client:
            return client.get(self.proxy.url + path, headers=sent)

    def token(self, bound_to: Issued | None = None) -> str:
        """A token of the tenant's issuer; bound to ``bound_to``'s certificate when given."""
        issued_at = int(time.time())
        extra = {} if bound_to is None else {"cnf": {"x5t#S256": bound_to.thumbprint}}
        body = claims(
            now=issued_at,
            iss=self.tenant.issuer,
            sub=SUB,
            aud=[self.tenant.audience, self.tenant.issuer + "userinfo"],
            exp=issued_at + TOKEN_LIFETIME,
            scope="openid read:messages",
            **extra,
        )
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        return sign_token(header, body, self.tenant.provider.key)


@pytest.fixture(scope="module", params=APPS)
def deployment(
    request: pytest.FixtureRequest,
    identity_provider: IdentityProvider,
    certificates: Certificates,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    name = str(request.param)
    tenant = identity_provider.add_tenant(f"{name}-mtls")
    folder = tmp_path_factory.mktemp(f"{name}-mtls")
    environment = {
        **example_environment(tenant.issuers, tenant.audience),
        "BEARERGUARD_CLIENT_CERTIFICATE": f"header:{FORWARDED}",
    }
    with (
        serve_app(EXAMPLES[name], environment=environment, log_dir=folder) as app,
        NginxProxy(
            folder, upstream=app.url, ca=certificates.ca, server=certificates.server
        ) as proxy,
    ):
        yield Deployment(proxy, app, tenant, certificates)


def assert_certificate_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "invalid_token",
        "error_description": CERTIFICATE_DESCRIPTION,
    }
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="api", error="invalid_token"'), challenge


# --- the bound token ---------------------------------------------------------------------------


def test_a_bound_token_passes_with_its_certificate(deployment: Deployment):
    client = deployment.certificates.client

    response = deployment.get(
        "/api/private", token=deployment.token(bound_to=client), certificate=client
    )

    assert response.status_code == 200, response.text
    assert SUB in response.text


def test_a_bound_token_is_refused_with_another_certificate(deployment: Deployment):
    certificates = deployment.certificates

    response = deployment.get(
        "/api/private",
        token=deployment.token(bound_to=certificates.client),
        certificate=certificates.other,
    )

    assert_certificate_refused(response)


def test_a_bound_token_is_refused_without_a_certificate(deployment: Deployment):
    token = deployment.token(bound_to=deployment.certificates.client)

    assert_certificate_refused(deployment.get("/api/private", token=token))


def test_a_certificate_header_a_client_forges_never_reaches_the_app(deployment: Deployment):
    certificates = deployment.certificates
    token = deployment.token(bound_to=certificates.client)
    forged = {FORWARDED: escaped_pem(certificates.client.pem)}

    # The thief holds the token and the victim's certificate (public), not its key.
    without_tls_certificate = deployment.get("/api/private", token=token, headers=forged)
    with_its_own = deployment.get(
        "/api/private", token=token, certificate=certificates.other, headers=forged
    )
    in_another_spelling = deployment.get(
        "/api/private",
        token=token,
        headers={FORWARDED.lower(): forged[FORWARDED], "Client-Cert": "forged"},
    )

    assert_certificate_refused(without_tls_certificate)
    assert_certificate_refused(with_its_own)
    assert_certificate_refused(in_another_spelling)


def test_a_certificate_of_no_ca_nginx_trusts_is_refused_by_nginx(deployment: Deployment):
    stranger = Authority("a CA nginx does not trust").issue("the client")

    response = deployment.get(
        "/api/private",
        token=deployment.token(bound_to=deployment.certificates.client),
        certificate=stranger,
    )

    assert response.status_code == 400  # nginx: "The SSL certificate error"
    assert "invalid_token" not in response.text


# --- everything else, as before ----------------------------------------------------------------


@pytest.mark.parametrize("presented", [False, True], ids=["no-certificate", "a-certificate"])
def test_a_plain_bearer_token_is_fine_with_or_without_a_certificate(
    deployment: Deployment, presented: bool
):
    certificate = deployment.certificates.other if presented else None

    response = deployment.get("/api/private", token=deployment.token(), certificate=certificate)

    assert response.status_code == 200, response.text


def test_a_scoped_route_still_checks_scopes(deployment: Deployment):
    client = deployment.certificates.client

    allowed = deployment.get(
        "/api/private-scoped", token=deployment.token(bound_to=client), certificate=client
    )
    missing = deployment.get(
        "/api/contacts", token=deployment.token(bound_to=client), certificate=client
    )

    assert allowed.status_code == 200, allowed.text
    assert missing.status_code == 403, missing.text


def test_the_metadata_says_certificate_bound_tokens_are_supported(deployment: Deployment):
    response = deployment.get("/.well-known/oauth-protected-resource")

    assert response.status_code == 200, response.text
    document = response.json()
    assert document["tls_client_certificate_bound_access_tokens"] is True
    assert document["resource"] == deployment.tenant.audience


def test_nginx_speaks_tls_only_with_a_client_that_trusts_the_test_ca(deployment: Deployment):
    with (
        httpx.Client(verify=ssl.create_default_context(), trust_env=False) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get(deployment.proxy.url + "/api/public")


def test_the_app_trusts_the_header_so_only_the_proxy_may_reach_it(deployment: Deployment):
    # The contrast that shows nginx at work: sent straight to the app, the forged header is
    # what the setting names, and the token passes. Naming a header in client_certificate
    # is the statement that only a proxy which sets it can reach the app.
    certificates = deployment.certificates
    token = deployment.token(bound_to=certificates.client)
    forged = {"Authorization": f"Bearer {token}", FORWARDED: escaped_pem(certificates.client.pem)}

    with httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as client:
        response = client.get(deployment.app.url + "/api/private", headers=forged)

    assert response.status_code == 200, response.text
