"""Stream a large download to a file, with a progress line on stderr.

The body is never held in memory: chunks go to disk as they arrive.
    python examples/download.py http://127.0.0.1:8080/bytes/10000000 out.bin
"""

from __future__ import annotations

import asyncio
import sys
import time

import airhttp

CHUNK = 64 * 1024


def progress(done: int, total: int | None, started: float) -> str:
    rate = done / max(time.monotonic() - started, 1e-6)
    if total:
        return (
            f"\r{done:>12,} / {total:,} bytes  {100 * done / total:5.1f}%  {rate / 1e6:6.1f} MB/s"
        )
    return f"\r{done:>12,} bytes  {rate / 1e6:6.1f} MB/s"


async def download(url: str, path: str) -> int:
    done = 0
    started = time.monotonic()
    async with airhttp.ClientSession() as session:
        async with session.get(url, raise_for_status=True) as resp:
            total = resp.content_length
            with open(path, "wb") as out:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    print(progress(done, total, started), end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return done


if __name__ == "__main__":
    size = asyncio.run(download(sys.argv[1], sys.argv[2]))
    print(f"saved {size} bytes to {sys.argv[2]}")
