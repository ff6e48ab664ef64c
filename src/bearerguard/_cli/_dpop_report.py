"""What ``bearerguard verify --dpop-proof`` adds to its report: the proof and the binding.

A DPoP request (RFC 9449) is judged whole by ``Verifier.verify_request``: the
token, its proof, the method and the URL. This module builds that request from
the command line and explains the outcome: the proof's header and claims
(decoded for display; the verifier is what checks them), every check the proof
passed with what it was compared to when the request is accepted, and what to
do next when it is refused.

Example::

    request = dpop_request(raw, header=None, proof=proof, method="GET", url=url)
    ...verdict = check(verifier, raw, request=request)...
    lines = binding_lines(verdict.token, read_proof_view(proof), request, verifier, now)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bearerguard._dpop import MAX_PROOF_SIZE, jwk_thumbprint, token_hash
from bearerguard._errors import (
    BearerError,
    InvalidDPoPProofError,
    MalformedTokenError,
    SenderConstrainedTokenError,
    UseDPoPNonceError,
)
from bearerguard._jose import parse_token
from bearerguard._request import HttpRequest
from bearerguard._token import AccessToken
from bearerguard._verifier import Verifier

from ._output import field, pretty_json, safe, section, timestamp

__all__ = [
    "ProofView",
    "binding_lines",
    "dpop_hints",
    "dpop_request",
    "proof_json",
    "read_proof_view",
    "render_proof",
]

_MAKE_ONE = "bearerguard proof --dpop-key FILE --method {method} --url {url} --token TOKEN"


@dataclass(frozen=True, slots=True)
class ProofView:
    """A DPoP proof decoded for display: its header and claims, or why it cannot be read."""

    header: Mapping[str, Any] | None = None
    claims: Mapping[str, Any] | None = None
    error: str | None = None

    @property
    def thumbprint(self) -> str | None:
        """The RFC 7638 thumbprint of the proof's ``jwk``, when it has a usable one."""
        jwk = (self.header or {}).get("jwk")
        try:
            return jwk_thumbprint(jwk) if isinstance(jwk, dict) else None
        except (KeyError, TypeError, ValueError):  # a jwk the verifier refuses anyway
            return None


def dpop_request(
    raw: str, *, header: str | None, proof: str | None, method: str, url: str
) -> HttpRequest:
    """The request an API would receive: ``Authorization`` (the pasted header, else
    ``DPoP <token>`` with a proof and ``Bearer <token>`` without), and the ``DPoP`` proof."""
    if header is not None:
        authorization = header
    else:
        authorization = f"{'DPoP' if proof is not None else 'Bearer'} {raw}"
    fields = [("Authorization", authorization)]
    if proof is not None:
        fields.append(("DPoP", proof))
    return HttpRequest(method, url, fields)


def read_proof_view(proof: str) -> ProofView:
    """Decode ``proof`` with the strict parser proofs go through, for display only."""
    try:
        parsed = parse_token(proof, MAX_PROOF_SIZE)
    except MalformedTokenError as exc:
        return ProofView(error=f"The proof is not a well-formed compact JWS: {exc.reason}")
    return ProofView(header=parsed.header, claims=parsed.claims)


def render_proof(view: ProofView) -> list[str]:
    """The proof's sections: header and claims (decoded, not verified yet), or why not."""
    if view.error is not None:
        return [section("DPOP PROOF (cannot be decoded)", [safe(view.error)])]
    blocks = []
    for title, value in (("HEADER", view.header), ("CLAIMS", view.claims)):
        if value is not None:
            text = pretty_json(dict(value)).split("\n")
            blocks.append(section(f"DPOP PROOF {title} (decoded, not verified yet)", text))
    return blocks


def binding_lines(
    token: AccessToken, view: ProofView, request: HttpRequest, verifier: Verifier, now: float
) -> list[str]:
    """Every check an accepted DPoP request passed, with what it was compared to."""
    header, claims = view.header or {}, view.claims or {}
    config = verifier.config
    cnf = token.confirmation or {}
    found = header.get("jwk")
    jwk: Mapping[str, Any] = found if isinstance(found, dict) else {}
    curve = f" {jwk['crv']}" if isinstance(jwk.get("crv"), str) else ""
    iat = claims.get("iat")
    age = f"{timestamp(float(iat), now)}" if isinstance(iat, (int, float)) else "?"
    limits = f"accepted up to {config.dpop_proof_max_age:g} s old, plus {config.leeway:g} s leeway"
    nonce = claims.get("nonce")
    return [
        field("scheme", "DPoP: Authorization: DPoP <token>, one DPoP proof"),
        field("cnf.jkt", f"{safe(str(cnf.get('jkt')))}  = the thumbprint of the proof's key"),
        field("key", f"{safe(str(jwk.get('kty')))}{safe(curve)}, alg {safe(str(header.get('alg')))}"
              ", typ dpop+jwt; the proof's signature verifies under it"),
        field("htm", f"{safe(str(claims.get('htm')))}  = the request's method"),
        field("htu", f"{safe(str(claims.get('htu')))}  = {safe(request.url)} "
              "(query and fragment aside)"),
        field("iat", f"{age}; {limits}"),
        field("ath", f"{token_hash(token.raw)}  = SHA-256 of the token"),
        field("jti", f"{safe(str(claims.get('jti')))}  (first use: the API remembers it and "
              "refuses the proof if it comes again)"),
        field("nonce", "not required (no BEARERGUARD_DPOP_NONCE_SECRET)" if nonce is None
              else f"{safe(str(nonce))} (current)"),
    ]  # fmt: skip


def dpop_hints(
    refusal: BearerError,
    view: ProofView | None,
    request: HttpRequest | None,
    claims: Mapping[str, Any],
) -> list[str]:
    """What to do next about a refusal that DPoP explains; ``[]`` for any other."""
    method = request.method if request is not None else "GET"
    url = request.url if request is not None else "URL"
    make_one = _MAKE_ONE.format(method=method, url=url)
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if isinstance(refusal, SenderConstrainedTokenError) and isinstance(jkt, str):
        return [
            f"The token is bound to a DPoP key (cnf.jkt {safe(jkt)}): an API takes it only with "
            "the DPoP scheme and a proof signed by that key. Verify it with "
            "--dpop-proof PROOF --method METHOD --url URL; make the proof with: " + make_one
        ]
    if isinstance(refusal, UseDPoPNonceError):
        return [
            # "--nonce=VALUE": a nonce may start with "-", which argparse takes for an option
            f"The API requires its nonce in the proof: make a new proof with the DPoP-Nonce "
            f"above: {make_one} --nonce={safe(refusal.nonce)}"
        ]
    if isinstance(refusal, InvalidDPoPProofError):
        hints = []
        mine = view.thumbprint if view is not None else None
        if isinstance(jkt, str) and mine is not None and mine != jkt:
            hints.append(
                f"The proof's key has thumbprint {mine}; the token is bound to {safe(jkt)}: "
                "sign the proof with the key file the token was obtained with (--dpop-key)."
            )
        return [*hints, f"Make a fresh proof for this very request: {make_one}"]
    if view is not None and refusal.reason.startswith("The token was sent with the DPoP scheme"):
        return ["The token is not DPoP-bound (no cnf.jkt): an API takes it as a Bearer token."]
    return []


def proof_json(
    view: ProofView | None, token: AccessToken | None, request: HttpRequest | None
) -> dict[str, Any] | None:
    """The ``dpop`` member of ``verify --json``: the request, the proof, the binding."""
    if request is None:
        return None
    cnf = None if token is None else token.confirmation
    return {
        "method": request.method,
        "url": request.url,
        "proof_header": None if view is None or view.header is None else dict(view.header),
        "proof_claims": None if view is None or view.claims is None else dict(view.claims),
        "proof_error": None if view is None else view.error,
        "proof_jkt": None if view is None else view.thumbprint,
        "cnf": None if cnf is None else dict(cnf),
        "bound": token is not None and cnf is not None,
    }
