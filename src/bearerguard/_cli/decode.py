"""``bearerguard decode``: a token's header and claims, WITHOUT verifying anything.

Anyone can write a JWT's claims; only the signature, checked against the
issuer's key, makes them true. So everything shown here is labelled as not
verified, and ``bearerguard verify`` is the command that decides.

The strict parser of the verifier (:mod:`bearerguard._jose`) reads the token
first. When it refuses the framing (an empty signature, padding, non-canonical
base64url), the segments are decoded leniently so the user still sees what the
token claims, next to the reason every verifier refuses it. The JSON itself is
only ever parsed strictly: hostile JSON (duplicate names, NaN, deep nesting) is
reported, never rendered.

An encrypted token (JWE) shows its protected header, the one part readable without the
API's private key; with ``--decryption-keys FILE`` (that key) the signed token inside is
decrypted and shown like any other, still NOT verified.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bearerguard._claims import (
    STRING_CLAIMS,
    check_header,
    claimed_audiences,
    granted_scopes,
    numeric_date,
)
from bearerguard._config import (
    HMAC_ALGORITHMS,
    MLDSA_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    VerifierConfig,
)
from bearerguard._decryption_keys import DecryptionKeys, decryption_keys
from bearerguard._errors import (
    ConfigurationError,
    EncryptedTokenError,
    InvalidTokenError,
    MalformedTokenError,
)
from bearerguard._jose import parse_json_object, parse_token
from bearerguard._jwe import decrypt

from ._output import error, field, pretty_json, relative_time, safe, section, time_claims

__all__ = [
    "Inspection",
    "UsageError",
    "inspect_token",
    "open_encrypted",
    "read_token",
    "register",
    "render",
]

# The longest max_token_size a Verifier accepts: anything longer is no token.
MAX_INPUT = 1 << 20
BANNER = (
    "NOT VERIFIED: anyone can write these claims. "
    "'bearerguard verify' checks the signature, issuer, audience and expiry."
)
JWE_ADVICE = (
    "Its claims can be read only with the decryption key. If the provider encrypts tokens to "
    "your API, give the API's private key with --decryption-keys FILE (decryption_keys= in "
    "the verifier). Otherwise ask for the token with your API's identifier as its audience "
    "(resource, RFC 8707; Auth0's audience parameter); the provider then issues a signed JWT."
)
DECRYPTED = "Decrypted with the given key: the signed token inside follows, NOT verified."
INNER = "of the signed token inside"
DECRYPTED_LABEL = "(decrypted, NOT verified)"
OPAQUE_ADVICE = (
    "A string without dots is an opaque access token, not a JWT: providers issue those for "
    "their own endpoints (e.g. Auth0's /userinfo when no audience is requested). Only the "
    "provider can check it (token introspection); ask for a token with your API's audience."
)
WELL_FORMED = "A well-formed signed JWT. Whether it is genuine, only 'bearerguard verify' says."
# Header parameters that carry or point to keys: the verifier never follows or trusts them.
_KEY_PARAMETERS = ("jku", "x5u", "jwk", "x5c")
# Structural header checks run against a neutral configuration; ``alg`` is judged
# separately, since which algorithms are allowed is each API's own choice.
_NEUTRAL = VerifierConfig(issuers=("https://decode.invalid/",), audiences=("decode",))
_SCOPE_CLAIMS = ("scope", "scp", "permissions")


class UsageError(Exception):
    """The command was given no usable input: exit status 2."""


@dataclass(frozen=True, slots=True)
class Inspection:
    """What could be read from a token without verifying it.

    ``problems`` are reasons every bearerguard verifier refuses the token,
    whatever its settings; ``notes`` are facts worth knowing that depend on them.
    ``error`` says why the header or the claims could not be decoded at all.
    """

    kind: str  # "jws" (three segments), "jwe" (five) or "unreadable"
    header: Mapping[str, Any] | None = None
    #: an encrypted token opened with the API's key: what the signed token inside holds
    inner: Inspection | None = None
    claims: Mapping[str, Any] | None = None
    signature_size: int | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def decoded(self) -> bool:
        """Whether both the header and the claims could be decoded."""
        return self.header is not None and self.claims is not None

    def to_json(self, now: float) -> dict[str, Any]:
        """The machine-readable form printed by ``--json``."""
        return {
            "verified": False,
            "kind": self.kind,
            "header": None if self.header is None else dict(self.header),
            "claims": None if self.claims is None else dict(self.claims),
            "times": {} if self.claims is None else time_claims(self.claims, now),
            "signature_bytes": self.signature_size,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "error": self.error,
            "inner": None if self.inner is None else self.inner.to_json(now),
        }


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bearerguard decode`` to the command's sub-parsers."""
    parser = commands.add_parser(
        "decode",
        help="show a token's header and claims WITHOUT verifying them",
        description="Decode a JWT and show its header and claims, with readable times. "
        "Nothing is verified: anyone can write these claims (use 'bearerguard verify'). "
        "Also explains encrypted tokens (JWE) and what the verifier refuses structurally. "
        "Exit status: 0 decoded, 1 not decodable, 2 usage error.",
    )
    add_token_argument(parser)
    add_decryption_argument(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")
    parser.set_defaults(run=run)


def add_token_argument(parser: argparse.ArgumentParser) -> None:
    """The TOKEN argument of the commands that read one (see :func:`read_token`)."""
    parser.add_argument(
        "token",
        metavar="TOKEN",
        help="the JWT; '-' reads it from stdin; a pasted 'Bearer ...' or "
        "'Authorization: Bearer ...' header is accepted",
    )


def add_decryption_argument(parser: argparse.ArgumentParser) -> None:
    """``--decryption-keys FILE``: the API's private key(s), to open an encrypted token."""
    parser.add_argument(
        "--decryption-keys",
        metavar="FILE",
        help="the API's private key(s) for encrypted tokens (JWE): a PEM private key, a "
        "private JWK or a JWK Set (JSON) file",
    )


def run(args: argparse.Namespace) -> int:
    """Decode, print, and return 0 if the header and the claims could be decoded."""
    try:
        raw = read_token(args.token)
        keys = None if args.decryption_keys is None else decryption_keys(Path(args.decryption_keys))
    except (UsageError, ConfigurationError) as exc:
        error("decode", str(exc))
        return 2
    now = time.time()
    inspection = inspect_token(raw, now)
    if keys is not None and inspection.kind == "jwe":
        inspection = open_encrypted(inspection, raw, keys, now)
    if args.json:
        print(pretty_json(inspection.to_json(now)))
    else:
        print("\n\n".join(render(inspection, now)))
    inner = inspection.inner
    return 0 if inspection.decoded or (inner is not None and inner.decoded) else 1


# --- input ------------------------------------------------------------------------------------


def read_token(argument: str) -> str:
    """The token given on the command line, or read from stdin for ``-``, unwrapped.

    Users paste what they have: quoted strings, ``Bearer <token>``, whole
    ``Authorization: Bearer <token>`` header lines. Raises :class:`UsageError`.
    """
    return token_of(read_input(argument), argument)


def read_input(argument: str) -> str:
    """What was given: the argument itself, or stdin's text for ``-``."""
    if argument != "-":
        return argument
    try:
        return sys.stdin.read(MAX_INPUT + 1)
    except UnicodeDecodeError:
        raise UsageError("stdin is not UTF-8 text.") from None


def token_of(text: str, argument: str) -> str:
    """The token in ``text`` (see :func:`unwrap`); :class:`UsageError` if there is none."""
    token = unwrap(text)
    if not token:
        raise UsageError("no token given" + (" (stdin was empty)." if argument == "-" else "."))
    return token


def unwrap(text: str) -> str:
    """Strip whitespace, quotes, ``Authorization:`` and ``Bearer`` around a pasted token.

    Example::

        unwrap("Authorization: Bearer eyJ...")   # 'eyJ...'
        unwrap('"eyJ..."')                        # 'eyJ...'
    """
    token = _unquote(text)
    if token[:14].lower() == "authorization:":
        token = token[14:].strip()
    if token[:6].lower() == "bearer" and token[6:7] in (" ", "\t"):
        token = token[7:].strip()
    return token


def header_value(text: str) -> str | None:
    """The ``Authorization`` field value when ``text`` is given as a header (a whole
    ``Authorization: ...`` line, or a value starting with ``Bearer``), else ``None``:
    such input is judged as the header an API would receive, not just its token.

    Example::

        header_value("Authorization: eyJ...")   # 'eyJ...'  (no scheme: an API refuses it)
        header_value("Bearer eyJ...")           # 'Bearer eyJ...'
        header_value("eyJ...")                  # None: a bare token
    """
    line = _unquote(text)
    if line[:14].lower() == "authorization:":
        return line[14:].strip(" \t")
    if line[:6].lower() == "bearer" and line[6:7] in (" ", "\t", ""):
        return line
    return None


def _unquote(text: str) -> str:
    token = text.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        token = token[1:-1].strip()
    return token


# --- inspection -------------------------------------------------------------------------------


def inspect_token(raw: str, now: float) -> Inspection:
    """Decode ``raw`` as far as it safely goes; never raises for any input string."""
    if len(raw) > MAX_INPUT:
        return Inspection("unreadable", error=f"The input is {len(raw)} characters long: no token.")
    try:
        parsed = parse_token(raw, max_size=MAX_INPUT)
    except EncryptedTokenError as exc:
        header, _ = _decode_segment(raw.split(".", 1)[0], "header")
        return Inspection("jwe", header=header, problems=(exc.reason,), error=JWE_ADVICE)
    except MalformedTokenError as exc:
        return _inspect_leniently(raw, exc.reason, now)
    problems, notes = _structure(parsed.header, parsed.claims, now)
    return Inspection(
        "jws",
        header=parsed.header,
        claims=parsed.claims,
        signature_size=len(parsed.signature),
        problems=problems,
        notes=notes,
    )


def open_encrypted(
    inspection: Inspection, raw: str, keys: DecryptionKeys, now: float
) -> Inspection:
    """``inspection`` of an encrypted token, with the signed token inside when ``keys``
    open it, or why they do not (the verifier's own reason) in its ``problems``."""
    try:
        opened = decrypt(raw, keys, MAX_INPUT)
    except InvalidTokenError as exc:
        return Inspection("jwe", header=inspection.header, problems=(exc.reason,))
    inner = inspect_token(opened.payload, now)
    return Inspection("jwe", header=inspection.header, inner=inner)


def _inspect_leniently(raw: str, reason: str, now: float) -> Inspection:
    """The strict parser refused ``raw``: show what its segments hold, and why it was refused."""
    segments = raw.split(".")
    if len(segments) != 3:
        count = len(segments)
        detail = OPAQUE_ADVICE if count == 1 else f"It has {count} segments, not 3."
        return Inspection("unreadable", problems=(reason,), error=f"{reason} {detail}")
    header, header_problem = _decode_segment(segments[0], "header")
    claims, claims_problem = _decode_segment(segments[1], "claims")
    part_problems = [p for p in (header_problem, claims_problem) if p and p != reason]
    if header is None and claims is None:
        return Inspection(
            "unreadable", problems=(reason,), error=" ".join([reason, *part_problems])
        )
    try:
        signature_size: int | None = len(_lenient_b64decode(segments[2]))
    except ValueError:
        signature_size = None
    problems, notes = _structure(header, claims, now)
    return Inspection(
        "jws",
        header=header,
        claims=claims,
        signature_size=signature_size,
        problems=(reason, *part_problems, *problems),
        notes=notes,
        error=" ".join(part_problems) or None,
    )


def _lenient_b64decode(segment: str) -> bytes:
    """base64url with or without padding, non-canonical bits tolerated; ``ValueError`` else."""
    stripped = segment.rstrip("=")
    # binascii.Error is a ValueError; so is a str that is not ASCII.
    return base64.b64decode(stripped + "=" * (-len(stripped) % 4), altchars=b"-_", validate=True)


def _decode_segment(segment: str, what: str) -> tuple[dict[str, Any] | None, str | None]:
    """A segment's JSON object, or ``None`` and why not; JSON is parsed strictly."""
    try:
        data = _lenient_b64decode(segment)
    except (ValueError, binascii.Error):
        return None, f"The {what} is not base64url."
    try:
        return parse_json_object(data, what=what), None
    except MalformedTokenError as exc:
        return None, exc.reason


def _structure(
    header: Mapping[str, Any] | None, claims: Mapping[str, Any] | None, now: float
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What every verifier refuses (problems) and what depends on its settings (notes)."""
    problems: list[str] = []
    notes: list[str] = []
    if header is not None:
        _header_structure(header, problems, notes)
    if claims is not None:
        _claims_structure(claims, now, problems, notes)
    return tuple(problems), tuple(notes)


def _header_structure(header: Mapping[str, Any], problems: list[str], notes: list[str]) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str):
        problems.append("The header has no alg: there is no signature to check.")
    elif alg.lower() == "none":
        problems.append("alg is 'none': the token is unsigned and proves nothing.")
    elif alg not in SUPPORTED_ALGORITHMS:
        problems.append(f"alg '{alg}' is not a JWS algorithm bearerguard supports.")
    elif alg in HMAC_ALGORITHMS:
        notes.append(
            f"alg {alg} uses a shared secret: a verifier accepts it only when configured with "
            "that secret (BEARERGUARD_SECRET), never by default."
        )
    elif alg in MLDSA_ALGORITHMS:
        notes.append(
            f"alg {alg} is post-quantum (ML-DSA, RFC 9964): a verifier accepts it only when "
            f"{alg} is named in its algorithms (BEARERGUARD_ALGORITHMS), never by default."
        )
    try:
        # Every header rule except the algorithm allow-list, exactly as the verifier has them.
        check_header({**header, "alg": "RS256"}, _NEUTRAL)
    except InvalidTokenError as exc:
        problems.append(exc.reason)
    notes.extend(
        f"The header carries {name}: it is ignored; keys come only from the issuer's key set."
        for name in _KEY_PARAMETERS
        if name in header
    )


def _claims_structure(
    claims: Mapping[str, Any], now: float, problems: list[str], notes: list[str]
) -> None:
    for name in ("exp", "nbf", "iat"):
        try:
            value = numeric_date(claims, name)
        except InvalidTokenError as exc:
            problems.append(exc.reason)
            continue
        if name == "exp" and value is None:
            problems.append("The token has no exp claim.")
        elif name == "exp" and value is not None and value <= now:
            problems.append(f"The exp claim has passed ({relative_time(value - now)}).")
        elif name != "exp" and value is not None and value > now:
            problems.append(f"The {name} claim lies in the future ({relative_time(value - now)}).")
    if not isinstance(claims.get("iss"), str):
        problems.append("The token has no iss claim (a string): no issuer can be trusted for it.")
    try:
        claimed_audiences(claims)
    except InvalidTokenError as exc:
        problems.append(exc.reason)
    problems.extend(
        f"The {name} claim is not a string."
        for name in STRING_CLAIMS
        if name in claims and not isinstance(claims[name], str)
    )
    try:
        granted_scopes(claims, _SCOPE_CLAIMS)
    except InvalidTokenError as exc:
        problems.append(exc.reason)
    if "nonce" in claims or "at_hash" in claims:
        notes.append(
            "nonce/at_hash are ID token claims: this looks like an ID token, which tells a client "
            "who logged in. Send the access token to APIs instead."
        )


# --- rendering --------------------------------------------------------------------------------


def render_contents(inspection: Inspection, now: float, label: str) -> list[str]:
    """The header, the claims and their times as sections, each title suffixed by ``label``."""
    blocks: list[str] = []
    for title, value in (("HEADER", inspection.header), ("CLAIMS", inspection.claims)):
        if value is not None:
            blocks.append(section(f"{title} {label}", pretty_json(value).split("\n")))
    times = {} if inspection.claims is None else time_claims(inspection.claims, now)
    if times:
        rows = [field(name, f"{t['utc']}  ({t['relative']})", width=9) for name, t in times.items()]
        blocks.append(section("TIMES (UTC)", rows))
    return blocks


def render(inspection: Inspection, now: float, label: str = "(decoded, NOT verified)") -> list[str]:
    """Every section ``bearerguard decode`` prints, in order."""
    blocks = [BANNER, *render_contents(inspection, now, label)]
    if inspection.kind == "jwe":
        if inspection.inner is not None:
            blocks.append(section("ENCRYPTED TOKEN (JWE)", [DECRYPTED]))
            # The banner once; the inner token's sections named apart from the JWE header's.
            return blocks + render(inspection.inner, now, f"{INNER} {DECRYPTED_LABEL}")[1:]
        lines = [safe(problem) for problem in inspection.problems]
        lines += [inspection.error] if inspection.error else []
        blocks.append(section("ENCRYPTED TOKEN (JWE)", lines))
        return blocks
    if inspection.signature_size is not None:
        size = inspection.signature_size
        blocks.append(section("SIGNATURE", [f"{size} bytes, not checked (decode never verifies)"]))
    if not inspection.decoded:
        blocks.append(section("CANNOT BE DECODED", [safe(inspection.error or "")]))
    if inspection.problems:
        items = [f"- {safe(problem)}" for problem in inspection.problems]
        blocks.append(section("EVERY VERIFIER REFUSES THIS TOKEN", items))
    elif inspection.decoded:
        blocks.append(section("STRUCTURE", [WELL_FORMED]))
    if inspection.notes:
        blocks.append(section("NOTES", [f"- {safe(note)}" for note in inspection.notes]))
    return blocks
