"""The ``bearerguard`` command line.

Each command lives in its own module, which registers its parser with
:func:`main`'s sub-parsers and hands back the function that runs it::

    bearerguard verify TOKEN --issuer URL --audience AUD   # what would my API answer?
    bearerguard decode TOKEN                               # what is in it? (not verified)
    bearerguard token --issuer URL --client-id ID ...      # a token from the dev issuer
    bearerguard proof --dpop-key FILE --url URL ...        # a DPoP proof for curl
    bearerguard dev-issuer ...                             # a local OAuth server
    bearerguard demo [--framework flask]                   # an example API, real tokens
    bearerguard demo --serve                               # ... left running: Swagger UI

Exit status: 0 success, 1 the command ran and the answer is "no" (a refused or
undecodable token, a failed request), 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bearerguard._version import __version__

from . import decode, demo, dev_issuer, proof, token, verify
from ._output import configure_streams
from .demo import run_demo

__all__ = ["build_parser", "main", "run_demo"]

# The order of ``bearerguard --help``: the everyday commands first.
_COMMANDS = (verify, decode, token, proof, dev_issuer, demo)


def build_parser() -> argparse.ArgumentParser:
    """The ``bearerguard`` parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="bearerguard",
        description="Protect HTTP APIs with OAuth 2.0 / OIDC JWT bearer access tokens.",
        epilog="Run 'bearerguard COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"bearerguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in _COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bearerguard`` command; returns the exit status.

    Bad flags exit through ``SystemExit(2)`` as argparse does, and ``--help`` /
    ``--version`` through ``SystemExit(0)``.
    """
    configure_streams()
    parser = build_parser()
    # parse_known_args so that a command may hand its own arguments to a parser it
    # builds later (dev-issuer loads its options lazily); every other command
    # gets parse_args' strictness back below.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_extra_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    args.extra_arguments = extra
    status: int = args.run(args)
    return status
