"""``bearerguard dev-issuer``: the two functions the command line is built from.

The ``bearerguard`` command adds a ``dev-issuer`` subcommand with
:func:`add_arguments` and calls :func:`run` with the parsed arguments.

Example::

    parser = argparse.ArgumentParser(prog="bearerguard dev-issuer")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shlex
import time
from collections.abc import Callable

from bearerguard._config import is_loopback_host
from bearerguard._errors import ConfigurationError

from ._clients import described_credentials
from ._config import ClientConfig
from ._handler import logger
from ._loading import default_config, load_config
from ._redirects import loopback_redirect
from ._server import DevIssuer

__all__ = ["add_arguments", "banner", "run"]

Out = Callable[[str], None]
_ENDPOINT_NOTES = {
    "registration": "  (POST: RFC 7591, public clients with loopback redirect URIs)",
    "introspection": "  (POST: RFC 7662, confidential clients)",
    "revocation": "  (POST: RFC 7009, confidential clients)",
    "rotate": "  (POST: rotate the signing key)",
}
_RULE = "=" * 72


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the dev-issuer's options to ``parser``.

    Example::

        add_arguments(parser)
        parser.parse_args(["--port", "9100", "--auto-approve"])
    """
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; loopback only without --allow-remote)",
    )
    parser.add_argument("--port", type=int, default=9000, help="port (default 9000; 0: any)")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="JSON file with the APIs, clients and users (default: a built-in demo tenant)",
    )
    parser.add_argument(
        "--keys",
        metavar="FILE",
        help="JWKS file of private signing keys: loaded if it exists, else created, so tokens "
        "survive restarts (default: fresh keys on each start)",
    )
    parser.add_argument(
        "--auto-approve",
        action="store_true",
        help="answer /authorize at once (login_hint, else the first user) without a consent "
        "page: for scripts and end-to-end tests",
    )
    parser.add_argument(
        "--dpop-nonce",
        action="store_true",
        help="demand a server nonce in the DPoP proofs of token requests (RFC 9449 §8), as "
        'the configuration\'s "dpop_nonce": true does',
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow listening on a non-loopback address (e.g. 0.0.0.0 in a container); "
        "anyone who reaches it can get tokens",
    )


def run(args: argparse.Namespace, out: Out = print) -> int:
    """Start the dev-issuer, print what it serves, and serve until Ctrl-C.

    Returns 0 after a Ctrl-C, 2 for a configuration mistake, 1 when the port is taken.

    Example::

        run(parser.parse_args(["--port", "9000"]))   # serves until Ctrl-C
    """
    try:
        config = load_config(args.config) if args.config else default_config()
        if args.dpop_nonce:
            config = dataclasses.replace(config, dpop_nonce=True)
        issuer = DevIssuer(
            config,
            host=args.host,
            port=args.port,
            keys_file=args.keys,
            auto_approve=args.auto_approve,
            allow_remote=args.allow_remote,
        )
    except ConfigurationError as exc:
        out(f"bearerguard dev-issuer: {exc}")
        return 2
    try:
        issuer.start()
    except OSError as exc:
        out(
            f"bearerguard dev-issuer: cannot listen on {args.host}:{args.port} "
            f"({exc.strerror or exc}). Is another server using the port? Choose one with --port."
        )
        return 1
    handler = _OutHandler(out)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for line in banner(issuer, keys_file=args.keys, host=args.host):
            out(line)
        _wait_for_interrupt()
    except KeyboardInterrupt:
        out("Stopping the dev-issuer.")
    finally:
        issuer.stop()
        logger.removeHandler(handler)
        logger.setLevel(level)
    return 0


def _wait_for_interrupt() -> None:
    # The server runs in its own thread; the main thread only waits for Ctrl-C
    # (a KeyboardInterrupt, delivered to the main thread while it sleeps).
    while True:
        time.sleep(3600)


def banner(
    issuer: DevIssuer, *, keys_file: str | None = None, host: str | None = None
) -> list[str]:
    """What the command prints at start: the warning, issuers, endpoints, clients, APIs."""
    config = issuer.config
    lines = [
        _RULE,
        "bearerguard dev-issuer: DEVELOPMENT TOOL — not for production",
        "Users sign in without a password and secrets are printed below.",
        _RULE,
    ]
    if host is not None and not is_loopback_host(host):
        lines.append(f"WARNING: listening on {host}: other machines can reach it and get tokens.")
    lines += [
        f"Issuer:         {issuer.url}",
        f"Custom domain:  {issuer.custom_domain_url}  (same tenant; tokens requested "
        "there carry this iss)",
        "Endpoints:",
        *(
            f"  {name:<13} {url}" + _ENDPOINT_NOTES.get(name, "")
            for name, url in issuer.endpoints().items()
        ),
        "APIs:",
        *(
            f"  {api.identifier}  scopes: {' '.join(api.scopes) or '-'}"
            + ("  (opaque tokens: introspect them)" if api.opaque else "")
            for api in config.apis
        ),
        "Clients:",
        *(_client_line(client) for client in config.clients),
        "Users:",
        *(
            f"  {user.sub}  {user.name or ''} {'<' + user.email + '>' if user.email else ''}"
            for user in config.users
        ),
        f"Signing key:    kid {issuer.kid} "
        + (f"(kept in {keys_file})" if keys_file else "(new on every start; --keys FILE keeps it)"),
        "Consent:        "
        + ("auto-approve" if issuer.auto_approve else "interactive page at /authorize"),
        "DPoP:           a proof in a DPoP header gets a bound token (token_type DPoP); "
        + ("a server nonce is required" if config.dpop_nonce else "no server nonce required"),
    ]
    if config.loopback_resources:
        lines.append(
            "MCP servers:    any loopback URL (http://127.0.0.1:<port>/mcp) is an API that "
            "grants the scopes asked for"
        )
    example = _example(issuer)
    if example:
        lines += ["Try:", f"  {example}"]
    audiences = [api.identifier for api in config.apis if not api.opaque] or [
        api.identifier for api in config.apis
    ]
    audience = audiences[0] if len(audiences) == 1 else audiences
    lines += [
        "Verify its tokens with:",
        f"  Verifier(issuer={list(issuer.issuers)!r}, audience={audience!r}"
        + _algorithms_argument(issuer.signing_algorithm)
        + ")",
        *_introspection_lines(issuer),
        "Press Ctrl-C to stop.",
    ]
    return lines


def _introspection_lines(issuer: DevIssuer) -> list[str]:
    """How an API with opaque tokens verifies them: by introspection, with a confidential
    client's credentials (its own client's, when one is granted the API)."""
    config = issuer.config
    opaque = [api.identifier for api in config.apis if api.opaque]
    confidential = [client for client in config.clients if client.client_secret]
    if not opaque or not confidential:
        return []
    client = next((c for c in confidential if opaque[0] in c.grants), confidential[0])
    audience = opaque[0] if len(opaque) == 1 else opaque
    return [
        "Verify its opaque tokens by introspection (any confidential client may introspect):",
        f"    Verifier(issuer={issuer.url!r}, audience={audience!r}, "
        f"introspection=Introspection(client_id={client.client_id!r}, "
        f"client_secret={client.client_secret!r}))",
    ]


def _algorithms_argument(algorithm: str) -> str:
    """What the printed verifier needs to accept the tokens: RS256 is the default, any other
    algorithm (ML-DSA above all, never allowed by default) must be named."""
    return "" if algorithm == "RS256" else f", algorithms=[{algorithm!r}]"


def _client_line(client: ClientConfig) -> str:
    line = f"  {client.client_id}  {_credentials(client)}  grants: {' '.join(client.grant_types)}"
    if client.redirect_uris:
        line += f"  redirect: {' '.join(client.redirect_uris)}"
        if client.public and any(map(loopback_redirect, client.redirect_uris)):
            line += "  (loopback ones: any port)"
    return line


def _credentials(client: ClientConfig) -> str:
    """How the client authenticates at the token endpoint: its secret is shown (it is dev)."""
    return described_credentials(
        client, public="public (PKCE)", secret="secret {}".format, keys="keys (private_key_jwt)"
    )


def _example(issuer: DevIssuer) -> str | None:
    """A curl command for a client-credentials token, when a client can get one by secret
    (a client assertion has to be signed first: curl cannot make one)."""
    for client in issuer.config.clients:
        if "client_credentials" in client.grant_types and client.grants and client.client_secret:
            audience = next(iter(client.grants))
            return shlex.join(
                [
                    "curl", "-s", issuer.endpoints()["token"],
                    "-d", "grant_type=client_credentials",
                    "-d", f"client_id={client.client_id}",
                    "-d", f"client_secret={client.client_secret}",
                    "-d", f"audience={audience}",
                ]
            )  # fmt: skip
    return None


class _OutHandler(logging.Handler):
    """Request log lines go where the banner went."""

    def __init__(self, out: Out) -> None:
        super().__init__(logging.INFO)
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._out(self.format(record))
        except Exception:
            self.handleError(record)
