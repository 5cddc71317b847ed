"""The first things people do with airhttp: GET, query parameters, JSON, errors, timeouts.

Run it against any HTTP server that has the httpbin-style endpoints used below, for
example the one the test suite starts:  python examples/quickstart.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import sys

import airhttp


async def main(base: str) -> None:
    timeout = airhttp.ClientTimeout(total=10)
    async with airhttp.ClientSession(base_url=base, timeout=timeout) as session:
        # A GET with query parameters; the body read as text.
        async with session.get("get", params={"q": "airhttp", "page": 1}) as resp:
            print("GET", resp.status, resp.content_type)
            print(await resp.text())

        # A JSON POST; the answer decoded as JSON.
        async with session.post("post", json={"name": "airhttp", "fast": True}) as resp:
            data = await resp.json()
            print("POST", resp.status, data["json"])

        # Custom headers, and the ones the server sent back.
        async with session.get("headers", headers={"X-Demo": "yes"}) as resp:
            print("X-Demo seen by the server:", (await resp.json())["X-Demo"])

        # HTTP errors become exceptions only when asked to.
        async with session.get("status/404") as resp:
            print("404 without raise_for_status:", resp.status)
        try:
            async with session.get("status/503", raise_for_status=True):
                pass
        except airhttp.ClientResponseError as exc:
            print("raised:", exc.status, exc.message)

        # A per-request timeout.
        try:
            await session.get("delay/5", timeout=airhttp.ClientTimeout(total=0.2))
        except asyncio.TimeoutError:
            print("timed out after 0.2 s")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/") + "/"))
