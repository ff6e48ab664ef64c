"""``bearerguard proof``: a DPoP proof (RFC 9449 §4) for one request, for curl and scripts.

A DPoP-bound token is useless alone: each request carries a proof, signed by the
key the token is bound to, that names the request's method and URL (``htm``,
``htu``), the time, a fresh ``jti`` and the token's hash (``ath``)::

    TOKEN=$(bearerguard token --dpop-key dpop.pem --issuer http://127.0.0.1:9000/ \\
            --client-id m2m-client --client-secret m2m-secret --audience https://api.example.com)
    URL=http://127.0.0.1:8000/api/private
    curl -H "Authorization: DPoP $TOKEN" \\
         -H "DPoP: $(bearerguard proof --dpop-key dpop.pem --url $URL --token $TOKEN)" $URL

A proof is good for one request and a minute or so: make a new one per call.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from urllib.parse import urlsplit

from ._dpop_key import DPoPKeyError, load_key, new_proof
from ._output import error

__all__ = ["ProofUsageError", "check_method", "check_url", "register"]

# RFC 9110 §5.6.2 token: what a method may be made of.
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
# RFC 9449 §8.1 NQCHAR: what a server nonce may be made of.
_NONCE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# RFC 6750 §2.1 b64token: what a token in an Authorization field may be made of.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class ProofUsageError(Exception):
    """A request that no proof can describe; the message says what to write (exit 2)."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bearerguard proof`` to the command's sub-parsers."""
    parser = commands.add_parser(
        "proof",
        help="make a DPoP proof for one request (for curl's DPoP header)",
        description="Print a DPoP proof (RFC 9449) for one request, signed by the key in "
        "--dpop-key: its method and URL, the time, a fresh jti and, with --token, the "
        "token's hash (ath). Make a new proof for every request: an API refuses one it "
        "has seen. Exit status: 0 printed, 2 usage error.",
        epilog='curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $(bearerguard proof '
        '--dpop-key dpop.pem --url $URL --token $TOKEN)" $URL',
    )
    parser.add_argument(
        "--dpop-key",
        required=True,
        type=Path,
        metavar="FILE",
        help="the private key the token is bound to: PEM or a JWK as JSON (the file "
        "'bearerguard token --dpop-key FILE' created or used)",
    )
    parser.add_argument(
        "--method", default="GET", help="the request's method, exactly as sent (default GET)"
    )
    parser.add_argument(
        "--url",
        required=True,
        metavar="URL",
        help="the URL the request goes to, as the client sends it (its query and fragment "
        "are left out of the proof)",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="the access token the request carries: the proof then holds its hash (ath); "
        "leave it out for a proof to a token endpoint",
    )
    parser.add_argument(
        "--nonce", metavar="NONCE", help="the server's nonce, from its DPoP-Nonce header"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the proof; 0, or 2 when the key or the request cannot be used."""
    try:
        method = check_method(args.method)
        url = check_url(args.url)
        token = None if args.token is None else _token(args.token)
        nonce = None if args.nonce is None else _nonce(args.nonce)
        key = load_key(args.dpop_key)
    except (ProofUsageError, DPoPKeyError) as exc:
        error("proof", str(exc))
        return 2
    print(new_proof(key, method=method, url=url, access_token=token, nonce=nonce))
    return 0


def check_method(method: str) -> str:
    """``method`` when it is an HTTP method; methods are case-sensitive (RFC 9110 §9.1).

    Example::

        check_method("GET")    # 'GET'
        check_method("get")    # ProofUsageError: ... did you mean GET?
    """
    if method.upper() in _STANDARD_METHODS and method != method.upper():
        raise ProofUsageError(
            f"--method {method!r}: methods are case-sensitive and the proof must name the one "
            f"the request uses; did you mean {method.upper()}?"
        )
    if not _METHOD.fullmatch(method):
        raise ProofUsageError(f"--method {method!r} is not an HTTP method, such as GET or POST.")
    return method


def check_url(url: str) -> str:
    """``url`` when it is an absolute http(s) URL with a host, as the proof's ``htu`` needs.

    Example::

        check_url("http://127.0.0.1:8000/api/private")   # unchanged
        check_url("/api/private")                         # ProofUsageError: absolute URL
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        raise ProofUsageError(f"--url {url!r} is not a URL.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ProofUsageError(
            f"--url {url!r} must be the absolute URL the request goes to, such as "
            "http://127.0.0.1:8000/api/private: the proof names scheme, host and path."
        )
    return url


def _token(text: str) -> str:
    token = text.strip()
    for scheme in ("DPoP ", "Bearer "):  # a pasted Authorization value: its token
        if token[: len(scheme)].lower() == scheme.lower():
            token = token[len(scheme) :].strip()
    if not _TOKEN.fullmatch(token):
        raise ProofUsageError(
            "--token is not an access token (letters, digits and -._~+/ only): pass the "
            'token itself, e.g. --token "$TOKEN".'
        )
    return token


def _nonce(nonce: str) -> str:
    if not _NONCE.fullmatch(nonce):
        raise ProofUsageError(
            f"--nonce {nonce!r} is not a DPoP nonce (printable ASCII, no space, quote or "
            "backslash): pass the DPoP-Nonce header's value as the server sent it."
        )
    return nonce
