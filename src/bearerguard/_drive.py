"""Run a generator-based flow to completion: one sync and one async driver.

The flows (verification, a refresh plan) yield what they need and are sent the
answer; these drivers are the only place that knows how answers are obtained.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TypeVar

__all__ = ["adrive", "drive"]

Y = TypeVar("Y")
S = TypeVar("S")
R = TypeVar("R")


def drive(flow: Generator[Y, S, R], answer: Callable[[Y], S]) -> R:
    """Run ``flow``, answering each yielded request with ``answer(request)``."""
    try:
        request = next(flow)
        while True:
            request = flow.send(answer(request))
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]


async def adrive(flow: Generator[Y, S, R], answer: Callable[[Y], Awaitable[S]]) -> R:
    """Run ``flow``, awaiting ``answer(request)`` for each yielded request."""
    try:
        request = next(flow)
        while True:
            request = flow.send(await answer(request))
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
