"""Survive a flaky server: RetryMiddleware retries 503s and dropped connections.

    python examples/retry.py http://127.0.0.1:8080/flaky
The server used by the test suite answers 503 twice, then 200.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import airhttp


async def main(url: str) -> None:
    # Each retry is logged on "airhttp.client" at INFO.
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    retry = airhttp.RetryMiddleware(attempts=5, backoff=0.05, backoff_max=1.0)
    async with airhttp.ClientSession(middlewares=(retry,)) as session:
        async with session.get(url) as resp:
            print(resp.status, await resp.text())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
