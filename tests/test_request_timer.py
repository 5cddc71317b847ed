"""The total-timeout timer's deadline: rounded up as aiohttp rounds it, or exact."""

from __future__ import annotations

import asyncio

import pytest

import airhttp
from airhttp._request_timer import RequestTimer, SharedDeadlines


@pytest.mark.parametrize("shared", [False, True], ids=["own timer", "shared second"])
@pytest.mark.parametrize(
    ("total", "threshold", "rounded"),
    [(0.4, 0.4, True), (0.6, 0.4, True), (0.4, 0.5, False)],
    ids=["at the threshold", "above it", "below it"],
)
async def test_a_total_from_ceil_threshold_on_ends_on_a_whole_second(
    total: float, threshold: float, rounded: bool, shared: bool
) -> None:
    # Checked against aiohttp 3.14 as a black box: total=0.4, ceil_threshold=0.4 times out
    # at the next whole second of loop time, not after 0.4 s.
    loop = asyncio.get_running_loop()
    deadlines = SharedDeadlines(loop) if shared else None
    started = loop.time()
    timer = RequestTimer.start(
        loop, airhttp.ClientTimeout(total=total, ceil_threshold=threshold), deadlines
    )
    assert timer is not None
    try:
        when = loop.time() + timer.remaining()
        if rounded:
            assert when == pytest.approx(round(when), abs=1e-3)
            assert started + total <= when + 1e-3 < started + total + 1
        else:
            assert when == pytest.approx(started + total, abs=1e-3)
    finally:
        timer.cancel()
        if deadlines is not None:
            deadlines.close()


class _Protocol:
    def __init__(self) -> None:
        self.failed: list[BaseException] = []

    def fail(self, exc: BaseException) -> None:
        self.failed.append(exc)


class _Connection:
    def __init__(self) -> None:
        self.protocol = _Protocol()


async def test_a_timer_that_failed_the_connection_takes_back_no_cancel() -> None:
    # It never cancelled the task: a CancelledError then is the caller's, and stays one.
    loop = asyncio.get_running_loop()
    timer = RequestTimer.start(loop, airhttp.ClientTimeout(total=0.01))
    assert timer is not None
    connection = _Connection()
    timer.attach(connection)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert timer.fired and len(connection.protocol.failed) == 1
    assert not timer.take_back_cancel()
    task = asyncio.current_task()
    assert task is not None and getattr(task, "cancelling", lambda: 0)() == 0  # 3.11+


async def test_a_timer_that_cancelled_the_task_takes_its_cancel_back() -> None:
    loop = asyncio.get_running_loop()

    async def waits() -> bool:
        timer = RequestTimer.start(loop, airhttp.ClientTimeout(total=0.01))
        assert timer is not None
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            return timer.take_back_cancel()
        return False

    assert await asyncio.create_task(waits()) is True
