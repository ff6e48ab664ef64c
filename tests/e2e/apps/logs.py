"""The apps' log: bearerguard's records on stderr, each with its level and the worker's pid.

The servers send stderr to the log a test reads. Without a handler of its own,
Python writes a library's warnings bare (its "last resort" handler): the log would
not say a line is a WARNING rather than an ERROR, nor which worker process wrote it.

Example::

    log_to_stderr()   # before the app is built
    # WARNING bearerguard [4242]: The shared introspection cache failed (...)
"""

from __future__ import annotations

import logging
import sys

#: How each record reads: a test matches ``WARNING bearerguard [<pid>]: <message>``.
FORMAT = "%(levelname)s %(name)s [%(process)d]: %(message)s"
_LOGGER = "bearerguard"
# Ours, known by its name: importing an app twice adds it once.
_HANDLER = "tests-e2e-apps-stderr"


def log_to_stderr() -> None:
    """Write bearerguard's warnings and errors to stderr, in :data:`FORMAT`."""
    logger = logging.getLogger(_LOGGER)
    if any(handler.get_name() == _HANDLER for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER)
    handler.setLevel(logging.WARNING)  # what the last-resort handler wrote before: no more
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
