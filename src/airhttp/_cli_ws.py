"""The airhttp CLI's interactive WebSocket session: stdin lines out, received messages in.

It drives one open `ClientWebSocketResponse` until either side closes and turns the close
into an exit code. It never opens the connection nor parses arguments (`_cli` does).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import IO, Final

import airhttp

__all__ = ("chat",)

# After the end of input, messages still arriving are printed until the server has been
# quiet this long (a piped `echo hi | airhttp ws://...` must see the reply), at most LINGER.
QUIET: Final = 0.5
LINGER: Final = 5.0
# Larger binary messages are noted by size rather than dumped as a screenful of hex.
HEX_LIMIT: Final = 1024


async def chat(ws: airhttp.ClientWebSocketResponse, stdin: int, stdout: IO[str]) -> int:
    """Send the lines read from the descriptor `stdin`, print what arrives; the exit code."""
    lines: asyncio.Queue[bytes | None] = asyncio.Queue()
    _read_lines_in_thread(stdin, lines, asyncio.get_running_loop())
    received = asyncio.Event()
    printer = asyncio.create_task(_print_messages(ws, stdout, received))
    sender = asyncio.create_task(_send_lines(ws, lines))
    try:
        await asyncio.wait({printer, sender}, return_when=asyncio.FIRST_COMPLETED)
        if sender.done() and sender.exception() is None and not printer.done():
            await _linger(printer, received)
        # Ctrl-D, or the server went away: either way the close handshake ends the session.
        await ws.close()
        await printer
    finally:
        for task in (printer, sender):
            task.cancel()
        await asyncio.gather(printer, sender, return_exceptions=True)
    return _exit_code(ws)


def _read_lines_in_thread(
    stdin: int, lines: asyncio.Queue[bytes | None], loop: asyncio.AbstractEventLoop
) -> None:
    """Feed the lines read from the descriptor `stdin` to the queue from a thread; None at EOF.

    A thread works for terminals, pipes and regular files alike (the loop's pipe reader
    refuses files). It is a daemon, so it never holds the process open, and it reads with
    os.read: a daemon blocked inside sys.stdin's buffered reader would hold that reader's
    lock and abort the interpreter's shutdown.
    """

    def pump() -> None:
        pending = b""
        try:
            while chunk := os.read(stdin, 65536):
                *complete, pending = (pending + chunk).split(b"\n")
                for line in complete:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
            if pending:
                loop.call_soon_threadsafe(lines.put_nowait, pending)
            loop.call_soon_threadsafe(lines.put_nowait, None)
        except (RuntimeError, OSError):
            # The loop closed (the session is over) or stdin went away: nothing to feed.
            pass

    threading.Thread(target=pump, name="airhttp-stdin", daemon=True).start()


async def _send_lines(
    ws: airhttp.ClientWebSocketResponse, lines: asyncio.Queue[bytes | None]
) -> None:
    while (line := await lines.get()) is not None:
        await ws.send_str(line.decode("utf-8", "replace").removesuffix("\r"))


async def _print_messages(
    ws: airhttp.ClientWebSocketResponse, stdout: IO[str], received: asyncio.Event
) -> None:
    async for message in ws:
        if message.type is airhttp.WSMsgType.TEXT:
            stdout.write(f"{message.data}\n")
        elif message.type is airhttp.WSMsgType.BINARY:
            stdout.write(_binary_line(message.data))
        elif message.type is airhttp.WSMsgType.ERROR:
            sys.stderr.write(f"airhttp: WebSocket error: {message.data}\n")
            return
        stdout.flush()
        received.set()


def _binary_line(data: bytes) -> str:
    if len(data) > HEX_LIMIT:
        return f"[binary message: {len(data)} bytes]\n"
    return data.hex() + "\n"


async def _linger(printer: asyncio.Task[None], received: asyncio.Event) -> None:
    """Wait while messages keep coming: until QUIET passes without one, or LINGER in all."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER
    while (remaining := deadline - loop.time()) > 0:
        received.clear()
        waiter = asyncio.ensure_future(received.wait())
        done, _ = await asyncio.wait(
            {printer, waiter}, timeout=min(QUIET, remaining), return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        if printer in done or waiter not in done:
            return


def _exit_code(ws: airhttp.ClientWebSocketResponse) -> int:
    """0 for a normal close (1000), else 1 with the close code on stderr."""
    code = ws.close_code
    if code == airhttp.WSCloseCode.OK:
        return 0
    error = ws.exception()
    detail = f": {error}" if error is not None else ""
    sys.stderr.write(f"airhttp: WebSocket closed with code {code}{detail}\n")
    return 1
