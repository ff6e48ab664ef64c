"""``bearerguard verify``: what would my API answer to this token, and why?

The token is checked by a real :class:`~bearerguard.Verifier` built from the
flags (or the ``BEARERGUARD_*`` variables an application would read), so the
verdict is exactly the middleware's: ``VALID`` with who and what the token is
for, or ``REFUSED`` with the HTTP answer (status, ``WWW-Authenticate``, body)
and the precise reason an API never sends but its developer needs.

With ``--dpop-proof PROOF --method M --url URL`` it judges a DPoP request
(RFC 9449) as ``Verifier.verify_request`` does, token and proof together, and
shows the binding: the token's ``cnf.jkt``, each check of the proof, or why the
proof was refused (:mod:`._dpop_report`).

With ``--decryption-keys FILE`` (or ``BEARERGUARD_DECRYPTION_KEYS``) it verifies an
encrypted token (JWE) as an API holding that private key does, and shows the signed
token inside next to the encrypted token's header.

With the ``BEARERGUARD_INTROSPECTION_*`` variables set (the API's client at the provider)
an opaque token is judged by the provider's introspection endpoint (RFC 7662), as the API
judges it. They have no flags: the client secret must not sit in a command line, where
the shell's history and the process list show it.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bearerguard._config import settings_from_mapping
from bearerguard._errors import (
    BearerError,
    ConfigurationError,
    EncryptedTokenError,
    ExpiredTokenError,
    InsufficientScopeError,
    IntrospectionUnavailableError,
    InvalidAudienceError,
    InvalidIssuerError,
    KeySetUnavailableError,
    MissingTokenError,
    UnknownKeyError,
)
from bearerguard._introspection import INACTIVE_REASON
from bearerguard._request import HttpRequest
from bearerguard._settings import check_names, named_errors
from bearerguard._token import AccessToken, scope_names
from bearerguard._verifier import Verifier

from ._dpop_report import (
    ProofView,
    binding_lines,
    dpop_hints,
    dpop_request,
    proof_json,
    read_proof_view,
    render_proof,
)
from ._output import as_numeric_date, error, field, iso_time, pretty_json, safe, section, timestamp
from .decode import (
    INNER,
    OPAQUE_ADVICE,
    Inspection,
    UsageError,
    add_decryption_argument,
    add_token_argument,
    header_value,
    inspect_token,
    open_encrypted,
    read_input,
    render_contents,
    token_of,
)
from .proof import ProofUsageError, check_method, check_url

__all__ = ["Verdict", "check", "register"]

_ENVIRONMENT = (
    "Settings missing from the flags are read from the environment, as Verifier.from_env() "
    "reads them: BEARERGUARD_ISSUER, BEARERGUARD_RESOURCE (the API's URL: the audience "
    "defaults to it), BEARERGUARD_AUDIENCE (comma-separated), "
    "BEARERGUARD_ALGORITHMS, BEARERGUARD_JWKS_URI, BEARERGUARD_KEYS (a key file's path, or the "
    "JWK Set as JSON), BEARERGUARD_LEEWAY, BEARERGUARD_SCOPE_CLAIMS, "
    "BEARERGUARD_SECRET (for HS256), BEARERGUARD_DECRYPTION_KEYS (the API's private key(s) "
    "for encrypted tokens), BEARERGUARD_RFC9068_STRICT, BEARERGUARD_MAX_AGE, "
    "BEARERGUARD_ORGANIZATION, BEARERGUARD_REALM, and for opaque tokens (introspection, "
    "RFC 7662) BEARERGUARD_INTROSPECTION_CLIENT_ID, BEARERGUARD_INTROSPECTION_CLIENT_SECRET, "
    "BEARERGUARD_INTROSPECTION_URL (default: from discovery) and the other "
    "BEARERGUARD_INTROSPECTION_* settings. Flags win. "
    "Exit status: 0 valid, 1 refused, 2 usage or configuration error."
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verifier's answer: the token (when it verified), the refusal, the missing scopes."""

    token: AccessToken | None
    refusal: BearerError | None
    required_scopes: tuple[str, ...] = ()
    missing_scopes: tuple[str, ...] = ()
    #: what the verifier logged meanwhile (why a key fetch failed, a skipped JWK, ...)
    log: tuple[str, ...] = ()
    #: the whole request, when it was judged as one (a DPoP proof, a method and a URL)
    request: HttpRequest | None = None

    @property
    def valid(self) -> bool:
        """Whether an API configured like this would serve the request."""
        return self.refusal is None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bearerguard verify`` to the command's sub-parsers."""
    parser = commands.add_parser(
        "verify",
        help="verify a token exactly as an API protected by bearerguard would",
        description="Verify an access token with the same Verifier the middleware uses, show "
        "its (decoded) header and claims, and the verdict: VALID, or REFUSED with the HTTP "
        "answer an API gives (status, WWW-Authenticate) and the exact reason.",
        epilog=_ENVIRONMENT,
    )
    add_token_argument(parser)
    parser.add_argument(
        "--issuer",
        action="append",
        metavar="ISSUER",
        help="a trusted issuer: the exact iss URL, or a bare domain such as tenant.auth0.com; "
        "repeat for several",
    )
    parser.add_argument(
        "--audience",
        action="append",
        metavar="AUD",
        help="your API's identifier; the token's aud must name one; repeat for several",
    )
    parser.add_argument(
        "--scope",
        action="append",
        metavar="S",
        help="a scope the route requires (all of them, unless --any-scope); "
        "repeat, or separate with spaces",
    )
    parser.add_argument(
        "--any-scope", action="store_true", help="require at least one of the --scope values"
    )
    parser.add_argument(
        "--algorithm",
        action="append",
        metavar="ALG",
        help="an allowed JWS algorithm (default RS256); repeat for several",
    )
    parser.add_argument(
        "--jwks-uri", metavar="URL", help="the key set's URL, skipping OIDC discovery"
    )
    parser.add_argument(
        "--keys",
        metavar="FILE",
        help="the issuer's public keys, skipping discovery and every fetch: a PEM public key, "
        "a JWK or a JWK Set (JSON) file",
    )
    parser.add_argument(
        "--leeway", type=float, metavar="N", help="seconds of clock skew tolerated (default 30)"
    )
    parser.add_argument(
        "--scope-claim",
        action="append",
        metavar="NAME",
        help="a claim that grants scopes (default: scope and scp; add permissions for Auth0 "
        "RBAC); repeat for several",
    )
    add_decryption_argument(parser)
    _add_request_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")
    parser.set_defaults(run=run)


def _add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The DPoP request (RFC 9449): the proof, and the method and URL it must name."""
    parser.add_argument(
        "--dpop-proof",
        metavar="PROOF",
        help="the request's DPoP proof (its DPoP header): the token is then verified with "
        "it, sent with the DPoP scheme, as Verifier.verify_request judges a request; needs "
        "--url",
    )
    parser.add_argument(
        "--method", default="GET", help="with --dpop-proof: the request's method (default GET)"
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help="with --dpop-proof: the URL the request went to, as the client used it",
    )


def run(args: argparse.Namespace) -> int:
    """Verify, print, and return 0 (valid), 1 (refused) or 2 (usage or configuration)."""
    try:
        text = read_input(args.token)
        raw = token_of(text, args.token)
        settings = _settings(args)
        # Introspection's settings come from the environment only: named as written there.
        introspection = {"introspection"} & settings.keys()
        verifier = named_errors(lambda: Verifier(**settings), introspection, source=os.environ)
        required = _required_scopes(args.scope or ())
        request = _request(args, raw, header_value(text))
    except (UsageError, ProofUsageError, ConfigurationError) as exc:
        error("verify", str(exc))
        return 2
    now = time.time()
    inspection = inspect_token(raw, now)
    keys = verifier.config.decryption
    if keys is not None and inspection.kind == "jwe":
        # What the verifier decrypts, shown; the verdict below is the verifier's own.
        inspection = open_encrypted(inspection, raw, keys, now)
    view = None if args.dpop_proof is None else read_proof_view(args.dpop_proof)
    verdict = check(
        verifier, raw, required, any_of=args.any_scope, header=header_value(text), request=request
    )
    if args.json:
        result = _to_json(inspection, verdict, now, view)
        result["introspected"] = _introspected(verifier, raw)
        print(pretty_json(result))
    else:
        blocks = render_contents(inspection, now, "(decoded, not verified yet)")
        if inspection.inner is not None:
            label = f"{INNER} (decrypted, not verified yet)"
            blocks += render_contents(inspection.inner, now, label)
        introspected = _introspected(verifier, raw)
        if introspected:
            blocks.append(section("INTROSPECTION", _introspection_lines(verifier)))
        elif inspection.kind != "jwe" and not inspection.decoded:
            blocks.append(section("CANNOT BE DECODED", [safe(inspection.error or "")]))
        if view is not None:
            blocks += render_proof(view)
        blocks.append(_render_verdict(verdict, inspection, verifier, now, view))
        token, judged = verdict.token, verdict.request
        if verdict.valid and view is not None and token is not None and judged is not None:
            blocks.append(
                section("DPOP BINDING", binding_lines(token, view, judged, verifier, now))
            )
        print("\n\n".join(blocks))
    return 0 if verdict.valid else 1


def check(
    verifier: Verifier,
    raw: str,
    required: Sequence[str] = (),
    *,
    any_of: bool = False,
    header: str | None = None,
    request: HttpRequest | None = None,
) -> Verdict:
    """Verify ``raw`` and require ``required``, as the middleware does for a route.

    With ``header`` (the ``Authorization`` value, when the input was given as one),
    the header is judged as the adapters judge it, scheme and all: the same verdict
    and status as the API. With ``request`` (a DPoP request: its method, URL,
    ``Authorization`` and ``DPoP`` fields), the whole request is judged, as
    :meth:`Verifier.verify_request` judges it.
    """
    required = tuple(required)
    with _LogCollector() as log:
        try:
            if request is not None:
                token = verifier.verify_request(request)
            elif header is None:
                token = verifier.verify(raw)
            elif verifier.config.certificate_source is not None:
                # An API that reads client certificates judges every request whole: a token
                # bound to one meets a request that presents none here.
                whole = HttpRequest("GET", "https://localhost/", {"Authorization": header})
                token = verifier.verify_request(whole)
            else:
                token = verifier.verify_authorization(header)
        except MissingTokenError as exc:
            # The adapters offer every accepted scheme to a request without credentials,
            # each naming the route's scopes; the reason stays this one, which says what
            # the header lacked.
            offered = verifier.missing_token(required)
            exc.offering(offered.offered, offered.dpop_algorithms)
            exc.required_scopes = offered.required_scopes
            return Verdict(None, exc, required, log=log.messages(), request=request)
        except BearerError as exc:
            return Verdict(None, exc, required, log=log.messages(), request=request)
    try:
        token.require_scopes(*required, any_of=any_of)
    except InsufficientScopeError as exc:
        missing = required if any_of else tuple(s for s in required if s not in token.scopes)
        return Verdict(token, exc, required, missing, log=log.messages(), request=request)
    return Verdict(token, None, required, log=log.messages(), request=request)


class _LogCollector(logging.Handler):
    """Keeps the ``bearerguard`` logger's warnings to show them in the verdict.

    A fetch failure is the answer to "why 503?", so it belongs next to the
    verdict, not on stderr after it; while this handler is attached, Python's
    last-resort handler stays silent.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self._messages.append(record.getMessage())

    def messages(self) -> tuple[str, ...]:
        return tuple(self._messages)

    def __enter__(self) -> _LogCollector:
        logging.getLogger("bearerguard").addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logging.getLogger("bearerguard").removeHandler(self)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Verifier's keyword arguments: the environment's, overridden by the flags."""
    check_names(os.environ)  # a misspelt variable would silently verify something else
    settings = settings_from_mapping(os.environ)
    flags = {
        "issuer": args.issuer,
        "audience": args.audience,
        "algorithms": _split(args.algorithm),
        "jwks_uri": args.jwks_uri,
        "keys": None if args.keys is None else Path(args.keys),
        "decryption_keys": None if args.decryption_keys is None else Path(args.decryption_keys),
        "leeway": args.leeway,
        "scope_claims": _split(args.scope_claim),
    }
    settings.update({name: value for name, value in flags.items() if value is not None})
    if not settings.get("issuer"):
        raise UsageError("--issuer is required (or set BEARERGUARD_ISSUER).")
    # The audience defaults to the resource, as in the app that Verifier.from_env() configures.
    if not settings.get("audience") and not settings.get("resource"):
        raise UsageError(
            "--audience is required (or set BEARERGUARD_AUDIENCE, or BEARERGUARD_RESOURCE, "
            "which the audience defaults to)."
        )
    return settings


def _request(args: argparse.Namespace, raw: str, header: str | None) -> HttpRequest | None:
    """The DPoP request to judge whole, or ``None`` for a token (or header) alone."""
    if args.dpop_proof is None:
        if args.url is not None:
            raise UsageError("--url goes with --dpop-proof PROOF: the proof names the URL.")
        return None
    if args.url is None:
        raise UsageError(
            "--dpop-proof needs --url URL, the URL the request went to (and --method, "
            "default GET): the proof must name them."
        )
    proof = args.dpop_proof.strip()
    if proof[:5].lower() == "dpop:":  # a pasted "DPoP: eyJ..." header line
        proof = proof[5:].strip()
    if not proof:
        raise UsageError("--dpop-proof is empty: pass the proof, the value of the DPoP header.")
    args.dpop_proof = proof
    method, url = check_method(args.method), check_url(args.url)
    return dpop_request(raw, header=header, proof=proof, method=method, url=url)


def _introspected(verifier: Verifier, raw: str) -> bool:
    """Whether the verifier asks the introspection endpoint about ``raw`` (RFC 7662)."""
    settings = verifier.config.introspection
    return settings is not None and settings.introspects(raw)


def _introspection_lines(verifier: Verifier) -> list[str]:
    """Who judges the token: the endpoint and the client asking it (never its credentials)."""
    config = verifier.config
    settings = config.introspection
    assert settings is not None  # noqa: S101 - called only for an introspected token
    endpoint = settings.url or (
        f"the introspection_endpoint of {config.introspection_issuer}'s discovery document"
    )
    return [
        "Not decoded here: the provider's introspection endpoint (RFC 7662) judges the token.",
        field("endpoint", safe(endpoint)),
        field("client", safe(settings.client_id)),
    ]


def _split(values: list[str] | None) -> list[str] | None:
    # Algorithm and claim names never hold commas, so "RS256,ES256" reads as the
    # environment variable would.
    if values is None:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _required_scopes(values: Sequence[str]) -> tuple[str, ...]:
    names = tuple(name for value in values for name in value.split())
    return scope_names(names)


# --- output -----------------------------------------------------------------------------------


def _render_verdict(
    verdict: Verdict,
    inspection: Inspection,
    verifier: Verifier,
    now: float,
    view: ProofView | None = None,
) -> str:
    token, refusal = verdict.token, verdict.refusal
    if refusal is None:
        assert token is not None  # noqa: S101 - a verdict without a refusal carries its token
        return section("VALID", _describe(token, verdict, now))
    status = refusal.status_code
    answer = [f"HTTP {status} {HTTPStatus(status).phrase}"]
    answer += [f"{name}: {value}" for name, value in refusal.headers.items()]
    answer.append(refusal.json_body().decode())
    lines = [field("reason", safe(refusal.reason))]
    lines += [field("" if i else "answer", text) for i, text in enumerate(answer)]
    if isinstance(refusal, InsufficientScopeError):
        granted = " ".join(sorted(token.scopes)) if token else ""
        wanted = "at least one of " if refusal.any_of else ""
        lines.append(field("missing", wanted + " ".join(verdict.missing_scopes)))
        lines.append(field("granted", safe(granted) or "(no scopes)"))
    lines += [field("log", safe(message)) for message in verdict.log]
    hints = _hints(refusal, inspection, verifier, now)
    hints += dpop_hints(refusal, view, verdict.request, inspection.claims or {})
    lines += [field("hint", safe(hint)) for hint in hints]
    return section("REFUSED", lines)


def _describe(token: AccessToken, verdict: Verdict, now: float) -> list[str]:
    expires = token.expires_at.timestamp()
    lines = [
        field("subject", safe(token.subject or "(no sub claim)")),
        field("client", safe(token.client_id or "(no client_id or azp claim)")),
        field("issuer", safe(token.issuer)),
        field("audience", safe(" ".join(token.audience))),
        field("scopes", safe(" ".join(sorted(token.scopes))) or "(no scopes)"),
        field("expires", timestamp(expires, now)),
    ]
    if verdict.required_scopes:
        lines.append(field("required", " ".join(verdict.required_scopes) + "  (granted)"))
    lines += [field("log", safe(message)) for message in verdict.log]
    return lines


def _hints(
    refusal: BearerError, inspection: Inspection, verifier: Verifier, now: float
) -> list[str]:
    """What to look at next, from the unverified claims and the settings."""
    inspection = inspection.inner or inspection  # an encrypted token: the signed one inside
    claims = inspection.claims or {}
    header = inspection.header or {}
    config = verifier.config
    if isinstance(refusal, InvalidIssuerError):
        iss = claims.get("iss")
        trusted = ", ".join(config.issuers)
        if not isinstance(iss, str):
            return [f"The token carries no iss string; trusted: {trusted}."]
        hints = [f"The token's iss is {iss}; trusted: {trusted}."]
        return [*hints, refusal.hint] if refusal.hint else hints
    if isinstance(refusal, InvalidAudienceError):
        aud = claims.get("aud")
        shown = " ".join(aud) if isinstance(aud, list) else str(aud)
        hints = [f"The token's aud is {shown}; expected one of: {', '.join(config.audiences)}."]
        return [*hints, refusal.hint] if refusal.hint else hints
    if isinstance(refusal, ExpiredTokenError):
        exp = as_numeric_date(claims.get("exp"))
        if exp is not None:
            return [f"It expired at {timestamp(exp, now)}; leeway {config.leeway:g} s."]
    if isinstance(refusal, InsufficientScopeError):
        permissions = claims.get("permissions")
        if isinstance(permissions, list) and "permissions" not in config.scope_claims:
            shown = " ".join(str(p) for p in permissions) or "none"
            return [
                f"The token also carries Auth0 RBAC permissions ({shown}), which this check "
                "does not read: add --scope-claim scope,permissions if your API reads them."
            ]
        return []
    if isinstance(refusal, IntrospectionUnavailableError):
        return [
            "The introspection endpoint gave no usable answer (the log says why): is it "
            "reachable from here, and are BEARERGUARD_INTROSPECTION_CLIENT_ID and its secret "
            "(or key, or certificate) the API's client at the provider? "
            "BEARERGUARD_INTROSPECTION_URL skips discovery."
        ]
    if config.introspection is not None and refusal.reason == INACTIVE_REASON:
        return [
            "The provider no longer vouches for the token: revoked, expired, or never issued "
            "by it (another tenant or environment?)."
        ]
    if config.introspection is None and OPAQUE_ADVICE in (inspection.error or ""):
        return [
            "To verify opaque tokens as an API does, set BEARERGUARD_INTROSPECTION_CLIENT_ID "
            "and BEARERGUARD_INTROSPECTION_CLIENT_SECRET (the API's client at the provider): "
            "they are then judged by its introspection endpoint (RFC 7662)."
        ]
    if isinstance(refusal, EncryptedTokenError):
        return [
            "Request the token with your API's identifier as its audience (or resource); if "
            "the provider encrypts tokens to your API, give its private key with "
            "--decryption-keys FILE (or BEARERGUARD_DECRYPTION_KEYS)."
        ]
    if isinstance(refusal, UnknownKeyError):
        kid = header.get("kid")
        return [f"The key set of {claims.get('iss')} has no key for kid {kid} (another tenant?)."]
    if isinstance(refusal, KeySetUnavailableError):
        return [
            "The issuer's discovery document or key set could not be fetched: is the issuer "
            "reachable from here? --jwks-uri skips discovery."
        ]
    alg = header.get("alg")
    if refusal.reason.startswith("The token's alg") and isinstance(alg, str):
        allowed = ", ".join(sorted(config.algorithms))
        return [f"The token's alg is {alg}; allowed: {allowed} (--algorithm)."]
    return []


def _to_json(
    inspection: Inspection, verdict: Verdict, now: float, view: ProofView | None
) -> dict[str, Any]:
    token, refusal = verdict.token, verdict.refusal
    inner = inspection.inner
    shown = inner or inspection  # the claims of an encrypted token are those inside
    result: dict[str, Any] = {
        "valid": verdict.valid,
        "status": 200 if refusal is None else refusal.status_code,
        "error": None if refusal is None else refusal.error,
        "error_description": None if refusal is None else refusal.description,
        "reason": None if refusal is None else refusal.reason,
        "www_authenticate": None if refusal is None else refusal.www_authenticate,
        "headers": {} if refusal is None else refusal.headers,
        "header": None if inspection.header is None else dict(inspection.header),
        "encrypted": inspection.kind == "jwe",
        "inner_header": None if inner is None or inner.header is None else dict(inner.header),
        "claims": None if shown.claims is None else dict(shown.claims),
        "times": shown.to_json(now)["times"],
        "subject": token.subject if token else None,
        "scopes": sorted(token.scopes) if token else None,
        "expires_at": iso_time(token.expires_at.timestamp()) if token else None,
        "required_scopes": list(verdict.required_scopes),
        "missing_scopes": list(verdict.missing_scopes),
        "log": list(verdict.log),
        "dpop": proof_json(view, token, verdict.request),
    }
    return result
