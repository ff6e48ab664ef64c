"""PKCE with S256 only (RFC 7636): the challenge's shape, and the verifier's check.

``plain`` is refused: it protects nothing once the authorization request is
seen, and OAuth 2.1 and Auth0's guidance both ask for S256.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bearerguard._jose import b64url_encode

__all__ = ["check_challenge", "s256", "verifier_matches"]

# base64url of a SHA-256 digest, unpadded: always 43 characters (RFC 7636 §4.2).
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
# RFC 7636 §4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def s256(verifier: str) -> str:
    """The S256 challenge of ``verifier``: ``BASE64URL(SHA256(ASCII(verifier)))``.

    Example::

        s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        # 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'  (RFC 7636 Appendix B)
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return b64url_encode(digest)


def check_challenge(challenge: str | None, method: str | None) -> str | None:
    """Why ``code_challenge`` / ``code_challenge_method`` are unacceptable, or ``None``."""
    if challenge is None:
        return None if method is None else "code_challenge_method was sent without code_challenge."
    if method != "S256":
        # A missing method means "plain" (RFC 7636 §4.3): refused with it.
        return "Only code_challenge_method=S256 is supported" + (
            f", not {method!r}." if method else "; send it explicitly (absent means plain)."
        )
    if not _CHALLENGE.fullmatch(challenge):
        return "code_challenge must be the 43-character base64url SHA-256 of the code_verifier."
    return None


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` is well formed and hashes to ``challenge``."""
    if not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)
