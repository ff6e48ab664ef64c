"""``bearerguard dev-issuer``: a local OAuth 2.0 / OpenID Connect server for development.

It mirrors Auth0: discovery and a JWKS, ``/authorize`` (authorization code with
PKCE S256, and the legacy implicit flow), ``/oauth/token`` (client_credentials,
authorization_code, refresh_token with rotation), ``/userinfo``, Auth0-shaped
tokens (``gty``, ``azp``, ``permissions``, ``org_id``, namespaced custom claims),
DPoP-bound tokens (RFC 9449) for clients that send a proof to ``/oauth/token``,
and a second issuer URL for the same tenant, like an Auth0 custom domain. MCP
clients log in offline: RFC 8414 metadata, dynamic client registration (RFC
7591), loopback MCP servers as ``resource`` (RFC 8707), ``iss`` (RFC 9207). An API
may get opaque access tokens instead, which confidential clients introspect at
``/oauth/introspect`` (RFC 7662) and revoke at ``/oauth/revoke`` (RFC 7009).

It is a DEVELOPMENT tool, never for production: users sign in without a
password, it listens on loopback only by default, and it serves plain HTTP.

Example::

    from bearerguard import Verifier
    from bearerguard.devissuer import DevIssuer, default_config

    with DevIssuer(default_config(), auto_approve=True) as issuer:
        verifier = Verifier(issuer=issuer.issuers, audience="https://api.example.com")
        token = issuer.mint_access_token(audience="https://api.example.com",
                                         scopes=["read:messages"])
        verifier.verify(token)

The command line (``bearerguard dev-issuer``) is :mod:`bearerguard.devissuer.cli`.
"""

from __future__ import annotations

from ._config import ApiConfig, ClientConfig, DevIssuerConfig, Organization, UserConfig
from ._loading import config_from_dict, default_config, load_config
from ._server import DevIssuer

__all__ = [
    "ApiConfig",
    "ClientConfig",
    "DevIssuer",
    "DevIssuerConfig",
    "Organization",
    "UserConfig",
    "config_from_dict",
    "default_config",
    "load_config",
]
