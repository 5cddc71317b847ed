"""airhttp._wait_within: a time limit on one step (in the caller's task from 3.11.3)."""

from __future__ import annotations

import asyncio

import pytest

from airhttp._wait_within import wait_within


async def test_a_step_within_its_limit_returns_its_result() -> None:
    async def step() -> str:
        await asyncio.sleep(0)
        return "done"

    assert await wait_within(step(), 1.0) == "done"


async def test_a_step_past_its_limit_raises_timeout_error_and_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def step() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(asyncio.TimeoutError):
        await wait_within(step(), 0.01)
    assert cancelled.is_set()


async def test_the_callers_own_cancel_comes_through_as_cancelled_error() -> None:
    started = asyncio.Event()

    async def outer() -> None:
        async def step() -> None:
            started.set()
            await asyncio.sleep(10)

        await wait_within(step(), 5.0)

    task = asyncio.create_task(outer())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_error_of_the_step_comes_through_unchanged() -> None:
    async def step() -> None:
        raise ConnectionRefusedError(111, "refused")

    with pytest.raises(ConnectionRefusedError):
        await wait_within(step(), 1.0)
