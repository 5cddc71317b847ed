"""A WebSocket chat client: lines you type go out, messages that arrive are printed.

    python examples/ws_chat.py ws://127.0.0.1:8080/chat
Type lines and press Enter; Ctrl-D (end of input) closes the socket politely. As in
aiohttp, messages still on their way when you close are dropped with the connection.
"""

from __future__ import annotations

import asyncio
import sys

import airhttp


async def read_lines(queue: asyncio.Queue[str | None]) -> None:
    """stdin lines into `queue` (None at the end), without blocking the event loop."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            await queue.put(None)
            return
        await queue.put(line.rstrip("\n"))


async def chat(url: str) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    async with airhttp.ClientSession() as session:
        async with session.ws_connect(url, heartbeat=30) as ws:
            reader = asyncio.create_task(read_lines(lines))

            async def show_messages() -> None:
                async for message in ws:
                    if message.type is airhttp.WSMsgType.TEXT:
                        print("<", message.data, flush=True)

            printer = asyncio.create_task(show_messages())
            while (line := await lines.get()) is not None:
                await ws.send_str(line)
            await ws.close()
            await printer
            await reader
    print("closed with code", ws.close_code)


if __name__ == "__main__":
    asyncio.run(chat(sys.argv[1]))
