"""Upload a large file without reading it into memory, watching the progress.

`UploadTracker` counts the body bytes the kernel has taken, so the line moves as the
server reads, not as fast as we can copy.
    python examples/upload.py http://127.0.0.1:8080/upload big.iso
"""

from __future__ import annotations

import asyncio
import sys

import airhttp


async def upload(url: str, path: str) -> None:
    async with airhttp.ClientSession() as session:
        tracker = airhttp.UploadTracker()
        with open(path, "rb") as body:
            request = asyncio.ensure_future(
                session.post(url, data=body, upload_tracker=tracker, raise_for_status=True)
            )
            while not request.done():
                total = tracker.bytes_total or 0
                share = f"{100 * tracker.bytes_written / total:5.1f}%" if total else ""
                print(f"\rsent {tracker.bytes_written:,} bytes {share}", end="", file=sys.stderr)
                await asyncio.sleep(0.05)
            async with await request as resp:
                print(file=sys.stderr)
                await tracker.upload_complete  # None: the whole body went out
                print("server says:", await resp.text())


if __name__ == "__main__":
    asyncio.run(upload(sys.argv[1], sys.argv[2]))
