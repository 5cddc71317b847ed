"""Awaiting a step with a time limit, without asyncio.wait_for's extra task on 3.11.

A leaf module: it imports nothing from airhttp.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ("wait_within",)

_T = TypeVar("_T")


# From 3.11.3 (gh-102780): before it, asyncio.timeout let an expiry through as a bare
# CancelledError when the task had been cancelled and not uncancelled earlier.
if sys.version_info >= (3, 11) and sys.version_info >= (3, 11, 3):  # the first for mypy

    async def wait_within(step: Awaitable[_T], delay: float) -> _T:
        """Await `step` in the caller's task; TimeoutError after `delay` seconds.

        asyncio.wait_for runs its step in a task of its own on 3.11, which costs three
        loop iterations per call (the task's first step, the result, the caller's
        wake-up): on a new connection that was a quarter of a cold request's steps.
        """
        async with asyncio.timeout(delay):
            return await step

else:

    async def wait_within(step: Awaitable[_T], delay: float) -> _T:
        """Await `step`; TimeoutError after `delay` seconds."""
        return await asyncio.wait_for(step, delay)
