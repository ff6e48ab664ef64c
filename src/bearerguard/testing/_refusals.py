"""What bearerguard refused while a test ran, recorded for the pytest plugin's report.

A verifier logs every refusal at debug level on the ``bearerguard`` logger, the
reason being the record's one argument; the scope checks of the adapters raise
:class:`~bearerguard.InsufficientScopeError` without a log. A :class:`Recorder`
collects both for the duration of one test, and leaves no trace otherwise: what
the logger shows its handlers (pytest's captured log, ``caplog``) is what it
would have shown without the recorder.

Example::

    recorder = Recorder()
    recorder.start()
    ...  # requests with tokens from a fake issuer
    recorder.stop()
    recorder.refusals   # {Refusal("The exp claim has passed.", ExpiredTokenError): 2, ...}
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from bearerguard._errors import BearerError, InsufficientScopeError
from bearerguard._refresh import logger as verifier_logger
from bearerguard._token import AccessToken, RequiredScopes

__all__ = ["Recorder", "Refusal"]

# How the verifier's debug record of a refusal starts; its one argument is the reason.
# (Its warnings about likely configuration mistakes are reported as they are: log lines.)
_REFUSED = "Refused a bearer token"
# A test that is refused thousands of times needs no more lines than this.
_MOST = 50
# The level set while recording when the logger would drop debug records: one below DEBUG,
# which nobody else sets, so that a level the test sets (caplog.set_level) is told apart.
_RECORDING_LEVEL = logging.DEBUG - 1


@dataclass(frozen=True)
class Refusal:
    """One kind of refusal: the reason and, when known, the error class and the scopes."""

    reason: str
    error: type[BearerError] | None = None  # from the log record's error, or the scope check
    required: tuple[str, ...] = ()  # what the route requires, for InsufficientScopeError
    any_of: bool = False
    granted: frozenset[str] = frozenset()  # what the token grants


class Recorder:
    """Collects bearerguard's refusals and log lines between :meth:`start` and :meth:`stop`."""

    def __init__(self) -> None:
        self.refusals: dict[Refusal, int] = {}  # in the order first seen -> how many times
        self.log: dict[tuple[str, str], int] = {}  # (level name, message) -> how many times
        self._logger = verifier_logger
        self._recording = False
        self._lowered_from: int | None = None  # the logger's own level, if we lowered it
        self._enabled_by_us = False
        self._enforce: Any = None  # RequiredScopes.enforce as it was at start()
        self._observer: Any = None  # what stands in for it while recording

    def start(self) -> None:
        """Record from now on, until :meth:`stop`."""
        logger = self._logger
        # Before any gate of another recorder: a filter that refuses a record ends the chain.
        logger.filters.insert(0, self._capture)
        if logger.disabled or not logger.isEnabledFor(logging.DEBUG):
            # Debug records are not even made at a higher level: lower it, and hide from the
            # handlers what only the lowered level lets through.
            self._lowered_from = logger.level
            self._enabled_by_us = logger.disabled
            logger.disabled = False
            logger.setLevel(_RECORDING_LEVEL)
            logger.addFilter(self._gate)
        # Scope refusals happen in the adapters, after the verifier, and are not logged: the
        # one check they all go through is observed (and nothing else changes) while recording.
        self._enforce = RequiredScopes.enforce
        self._observer = self._observed(self._enforce)
        setattr(RequiredScopes, "enforce", self._observer)  # noqa: B010
        self._recording = True

    def stop(self) -> None:
        """Stop recording and put the logger and the scope check back as they were."""
        if not self._recording:
            return
        self._recording = False
        logger = self._logger
        logger.removeFilter(self._capture)
        if self._lowered_from is not None:
            logger.removeFilter(self._gate)
            if logger.level == _RECORDING_LEVEL:  # else the test set a level of its own: kept
                logger.setLevel(self._lowered_from)
            logger.disabled = logger.disabled or self._enabled_by_us
            self._lowered_from = None
        # Unless a recorder started since wraps ours: then ours stays below it, passing through.
        if RequiredScopes.enforce is self._observer:
            setattr(RequiredScopes, "enforce", self._enforce)  # noqa: B010

    def _capture(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            record.levelno == logging.DEBUG
            and isinstance(record.msg, str)
            and record.msg.startswith(_REFUSED)
            and isinstance(args, tuple)
            and len(args) == 1
            and isinstance(args[0], str)
        ):
            error = getattr(record, "bearerguard_error", None)
            kind = type(error) if isinstance(error, BearerError) else None
            self._count(self.refusals, Refusal(args[0], kind))
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # the handlers will say so; the raw text is enough here
            message = str(record.msg)
        self._count(self.log, (record.levelname, message))
        return True

    def _gate(self, record: logging.LogRecord) -> bool:
        if self._enabled_by_us:  # disabled (logging.config) before: it shows nothing at all
            return False
        logger = self._logger
        if logger.level != _RECORDING_LEVEL:  # the test set a level of its own: it decides
            return True
        threshold = self._lowered_from or (
            logger.parent.getEffectiveLevel() if logger.parent else logging.WARNING
        )
        return record.levelno >= threshold

    def _observed(self, enforce: Any) -> Any:
        @functools.wraps(enforce)
        def observed_enforce(needed: RequiredScopes, token: AccessToken) -> None:
            try:
                enforce(needed, token)
            except InsufficientScopeError as exc:
                if self._recording:
                    refusal = Refusal(
                        exc.reason, type(exc), needed.names, needed.any_of, token.scopes
                    )
                    self._count(self.refusals, refusal)
                raise

        return observed_enforce

    @staticmethod
    def _count(counts: dict[Any, int], key: object) -> None:
        if key in counts or len(counts) < _MOST:
            counts[key] = counts.get(key, 0) + 1
