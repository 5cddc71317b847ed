"""The deprecated `@streamer` decorator: a coroutine that writes a body piece by piece.

Kept for old client code only; it adds no I/O of its own beyond the writer it is handed.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from .abc import AbstractStreamWriter
from .payload import Payload, payload_type

__all__ = ("streamer",)


class _stream_wrapper:  # lower-case: aiohttp's spelling
    """A streamer coroutine with its arguments bound, waiting for a writer."""

    __slots__ = ("args", "coro", "kwargs")

    def __init__(
        self,
        coro: Callable[..., Awaitable[None]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.coro = coro
        self.args = args
        self.kwargs = kwargs

    async def __call__(self, writer: AbstractStreamWriter) -> None:
        await self.coro(writer, *self.args, **self.kwargs)


class streamer:  # lower-case: aiohttp's public spelling
    """Decorate ``async def gen(writer, *args)`` so that ``gen(*args)`` is a body.

    Deprecated like in aiohttp: pass an async generator instead.
    """

    __slots__ = ("coro",)

    def __init__(self, coro: Callable[..., Awaitable[None]]) -> None:
        warnings.warn(
            "@streamer is deprecated, use async generators instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self.coro = coro

    def __call__(self, *args: Any, **kwargs: Any) -> _stream_wrapper:
        return _stream_wrapper(self.coro, args, kwargs)


@payload_type(_stream_wrapper)
class StreamWrapperPayload(Payload):
    """Runs a bound streamer against the writer; its size is never known."""

    __slots__ = ()

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self._value(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode.")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        raise TypeError("Unable to decode.")


@payload_type(streamer)
class StreamPayload(StreamWrapperPayload):
    """A decorated streamer passed without calling it, i.e. with no arguments."""

    __slots__ = ()

    def __init__(self, value: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(value(), *args, **kwargs)
