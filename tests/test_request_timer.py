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
