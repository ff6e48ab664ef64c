"""``bearerguard dev-issuer``: a local OAuth 2.0 / OIDC server for demos and tests.

The server and its options live in :mod:`bearerguard.devissuer.cli`, imported
only when this command runs: ``bearerguard --help`` and every other command keep
working when that package is missing or broken. The options are therefore
parsed here, by a parser built once the package has loaded.
"""

from __future__ import annotations

import argparse
import importlib
import textwrap
from typing import Protocol, cast

from ._output import error

__all__ = ["register"]

_PROG = "bearerguard dev-issuer"
_DESCRIPTION = (
    "Run a local, Auth0-shaped OAuth 2.0 / OpenID Connect issuer on 127.0.0.1: discovery, "
    "JWKS, /authorize and /oauth/token, for demos and end-to-end tests. "
    "'bearerguard token' gets tokens from it."
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bearerguard dev-issuer``; its own options are parsed when it runs."""
    parser = commands.add_parser(
        "dev-issuer",
        help="run a local OAuth 2.0 / OIDC issuer for demos and tests",
        description=_DESCRIPTION,
        # -h and every option go to the dev issuer's own parser, built in run().
        add_help=False,
    )
    parser.set_defaults(run=run, takes_extra_arguments=True)


def run(args: argparse.Namespace) -> int:
    """Load the dev issuer, parse its options, and run it."""
    arguments: list[str] = list(args.extra_arguments)
    try:
        cli = _load()
    except Exception as exc:  # any failure to load (absent, broken) means "not available"
        reason = f"{type(exc).__name__}: {exc}"
        if "-h" in arguments or "--help" in arguments:
            print(f"usage: {_PROG} [options]\n\n{textwrap.fill(_DESCRIPTION)}\n")
            print(textwrap.fill(f"Not available in this installation ({reason})."))
            return 0
        error(
            "dev-issuer",
            f"the dev issuer is not available in this installation: "
            f"bearerguard.devissuer could not be loaded ({reason}).",
        )
        return 1
    parser = argparse.ArgumentParser(prog=_PROG, description=_DESCRIPTION)
    cli.add_arguments(parser)
    status: int = cli.run(parser.parse_args(arguments))
    return status


class _DevIssuerCli(Protocol):
    """What :mod:`bearerguard.devissuer.cli` offers the command line."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load() -> _DevIssuerCli:
    # import_module looks the module up in sys.modules by its full name, which an
    # import statement does not when the package already holds the attribute.
    return cast(_DevIssuerCli, importlib.import_module("bearerguard.devissuer.cli"))
