"""Resolving futures (and things with a set_exception) that may already be done.

A leaf module: it imports nothing from airhttp, and never awaits, schedules or logs.
"""

from __future__ import annotations

import asyncio
from typing import Final, Protocol, TypeVar

__all__ = ("EXC_CAUSE_SENTINEL", "set_exception", "set_result")

_T = TypeVar("_T")


class _ErrorableProtocol(Protocol):
    def set_exception(self, exc: BaseException, exc_cause: BaseException = ...) -> None: ...


# The default of every `exc_cause` parameter: no cause given, `exc.__cause__` is left alone.
EXC_CAUSE_SENTINEL: Final = BaseException()


def set_result(fut: asyncio.Future[_T], result: _T) -> None:
    """Resolve `fut` unless it is already done (a late result must not raise)."""
    if not fut.done():
        fut.set_result(result)


def set_exception(
    fut: asyncio.Future[_T] | _ErrorableProtocol,
    exc: BaseException,
    exc_cause: BaseException = EXC_CAUSE_SENTINEL,
) -> None:
    """Fail `fut` with `exc` (chained to `exc_cause` if given) unless it is already done."""
    if asyncio.isfuture(fut) and fut.done():
        return
    if exc_cause is not EXC_CAUSE_SENTINEL:
        exc.__cause__ = exc_cause
    fut.set_exception(exc)
