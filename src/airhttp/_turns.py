"""Requests taking turns per connection key: FIFO queues of waiters, woken one or all.

The pool's HTTP/2 side queues requests for a stream of a shared connection here; a
woken waiter that gives up (cancelled) passes its turn to the next one. No pooling
decisions here: whoever wakes a queue decides why.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable

__all__ = ("Turns",)


class Turns:
    """Per-key FIFO queues of waiting tasks."""

    __slots__ = ("_loop", "_queues")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queues: dict[Hashable, deque[asyncio.Future[None]]] = {}

    def waiting(self, key: Hashable) -> bool:
        """Whether anybody waits for `key`."""
        return bool(self._queues.get(key))

    async def wait(self, key: Hashable) -> None:
        """Queue behind everyone waiting for `key` until woken."""
        waiter: asyncio.Future[None] = self._loop.create_future()
        queue = self._queues.setdefault(key, deque())
        queue.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.wake(key)  # woken, then cancelled: the turn goes on
            raise
        finally:
            if waiter in queue:
                queue.remove(waiter)
            if not queue and self._queues.get(key) is queue:
                del self._queues[key]

    def wake(self, key: Hashable, everyone: bool = False) -> None:
        """Wake the first waiter of `key` not woken yet, or all of them."""
        for waiter in self._queues.get(key, ()):
            if not waiter.done():
                waiter.set_result(None)
                if not everyone:
                    return

    def wake_all(self) -> None:
        """Wake every waiter of every key (the pool is closing)."""
        for key in list(self._queues):
            self.wake(key, everyone=True)
