"""Claim rules: what a token's claims must say, for the verifier and for each route.

Five constructors make every rule; each checks its arguments where the rule is
written (a :class:`~bearerguard.ConfigurationError` says what to write) and
returns an immutable :class:`ClaimRule`:

* :func:`required`: the claims are present and not null;
* :func:`equals`: a claim is exactly a JSON string, number, boolean or null
  (``True`` is not ``1``, ``"true"`` is not ``True``);
* :func:`includes`: a claim, an array or a space-separated string, holds every
  value given;
* :func:`any_of`: one of several rules holds;
* :func:`check`: a function of the claims returns ``True``, for the rest.

``namespace=`` reads namespaced claims as :meth:`AccessToken.claim
<bearerguard.AccessToken.claim>` does (Auth0's custom claims:
``namespace="https://example.com/"`` reads ``https://example.com/roles``).

Example::

    from bearerguard import Verifier, claims

    # Every token: 401 invalid_token unless it meets them.
    verifier = Verifier(
        issuer="tenant.auth0.com",
        audience="https://api.example.com",
        claim_rules=[claims.required("org_id"), claims.equals("email_verified", True)],
    )

    # One route: 403 unless the (valid) token meets them.
    Rule("/api/reports", "read:reports", claims=[claims.includes("roles", "analyst")])
"""

from __future__ import annotations

from ._claim_rules import ClaimRule, ClaimValue, any_of, check, equals, includes, required

__all__ = ["ClaimRule", "ClaimValue", "any_of", "check", "equals", "includes", "required"]
