"""Request bodies: a Payload class per kind of value, and the default registry that picks one.

A payload only turns its value into bytes for a writer; it knows nothing of
connections, framing (chunked, Content-Length) or compression of the message.
The base class and the registry type live in `_payload_base`; this module re-exports them.
"""

from __future__ import annotations

import asyncio
import builtins
import codecs
import io
import json
import os
import warnings
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, Any, Final

from . import hdrs
from ._mime import content_disposition_header as content_disposition_header  # aiohttp has it here
from ._mime import parse_mimetype
from ._payload_base import OCTET_STREAM as _OCTET_STREAM
from ._payload_base import UNSET as _SENTINEL
from ._payload_base import LookupError, Order, Payload, PayloadRegistry
from ._payload_base import Unset as _Sentinel
from .abc import AbstractStreamWriter
from .helpers import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE  # aiohttp's name here too
from .helpers import guess_filename
from .helpers import sentinel as sentinel
from .streams import StreamReader
from .typedefs import JSONBytesEncoder, JSONEncoder, LooseHeaders

__all__ = (
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonBytesPayload",
    "JsonPayload",
    "LookupError",
    "Order",
    "Payload",
    "PayloadRegistry",
    "StreamReaderPayload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "get_payload",
    "payload_type",
)

# How much a file payload reads per executor round trip.
READ_SIZE: Final = 2**16
# Above this a bytes body earns a ResourceWarning, as in aiohttp: writing it
# in one go holds the event loop while the transport copies it.
TOO_LARGE_BYTES_BODY: Final = 2**20


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """Wrap `data` in the payload class registered for its type."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


def register_payload(factory: type[Payload], type: Any, *, order: Order = Order.normal) -> None:
    """Use `factory` for values of `type` in the default registry (aiohttp's function form)."""
    PAYLOAD_REGISTRY.register(factory, type, order=order)


class payload_type:  # lower-case: aiohttp's public spelling
    """Class decorator registering a payload class for `type`."""

    __slots__ = ("order", "type")

    def __init__(self, type: Any, *, order: Order = Order.normal) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: type[Payload]) -> type[Payload]:
        PAYLOAD_REGISTRY.register(factory, self.type, order=self.order)
        return factory


# aiohttp's alias for a payload class.
PayloadType = type["Payload"]


class BytesPayload(Payload):
    """bytes, bytearray or memoryview sent as they are."""

    __slots__ = ()

    _autoclose = True

    def __init__(
        self,
        value: bytes | bytearray | memoryview,
        headers: LooseHeaders | None = None,
        content_type: str | _Sentinel | None = _SENTINEL,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(value, memoryview):
            size = value.nbytes
        elif isinstance(value, (bytes, bytearray)):
            size = len(value)
        else:
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        if headers is None and content_type is _SENTINEL and filename is None:
            # The common case, set up field by field: this runs for every POST.
            self._value = value
            self._size = size
            self._encoding = encoding
            self._filename = None
            self._consumed = False
            self._content_type = _OCTET_STREAM
            self._headers = None
        else:
            if content_type is _SENTINEL:
                content_type = _OCTET_STREAM
            Payload.__init__(self, value, headers, content_type, filename, encoding)
            self._size = size
        if size > TOO_LARGE_BYTES_BODY:
            warnings.warn(
                "Sending a large body directly with raw bytes might lock the event loop. "
                "You should probably pass an io.BytesIO object instead",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    @property
    def buffer(self) -> bytes | bytearray | memoryview:
        """The bytes-like object this payload sends (the value given, or the encoded text).

        The object itself, not a copy: do not modify it.
        """
        return self._value  # type: ignore[no-any-return]

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        value = self._value
        if isinstance(value, memoryview):
            value = value.tobytes()
        return value.decode(encoding, errors)  # type: ignore[no-any-return]

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        value = self._value
        return value if type(value) is bytes else bytes(value)

    async def write(self, writer: AbstractStreamWriter) -> None:
        if self._size:
            await writer.write(self._value)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        size = self._size
        if not size:
            return
        if content_length is None or content_length >= size:
            await writer.write(self._value)
        elif content_length > 0:
            await writer.write(self._value[:content_length])


def _text_encoding(encoding: str | None, content_type: str | None) -> tuple[str, str]:
    """Pick (charset, Content-Type) for text from what the caller gave."""
    if encoding is None:
        if content_type is None:
            return "utf-8", "text/plain; charset=utf-8"
        charset = parse_mimetype(content_type).parameters.get("charset", "utf-8")
        return charset, content_type
    if content_type is None:
        content_type = f"text/plain; charset={encoding}"
    return encoding, content_type


class StringPayload(BytesPayload):
    """Text, encoded once up front with the charset of its Content-Type."""

    __slots__ = ()

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        real_encoding, kwargs["content_type"] = _text_encoding(encoding, content_type)
        kwargs["encoding"] = real_encoding
        super().__init__(value.encode(real_encoding), *args, **kwargs)


class StringIOPayload(StringPayload):
    """An io.StringIO, read whole when the payload is made."""

    __slots__ = ()

    def __init__(self, value: IO[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class IOBasePayload(Payload):
    """A binary file-like object, read in the executor and rewound for replays.

    The position at creation is where every write starts, so a request can be
    sent again on redirect or retry when the object is seekable.
    """

    __slots__ = ("_start",)

    def __init__(
        self, value: IO[Any], disposition: str | None = "attachment", *args: Any, **kwargs: Any
    ) -> None:
        if "filename" not in kwargs:
            kwargs["filename"] = guess_filename(value)
        super().__init__(value, *args, **kwargs)
        if (
            self._filename is not None
            and disposition is not None
            and hdrs.CONTENT_DISPOSITION not in self.headers
        ):
            self.set_content_disposition(disposition, filename=self._filename)
        self._start: int | None = None
        try:
            if value.seekable():
                self._start = value.tell()
        except (OSError, ValueError, AttributeError):
            pass
        self._size = self._measure()

    @property
    def size(self) -> int | None:
        """Bytes from the start position to the end; None when unknown.

        A file its owner closed raises the file's own ValueError here, as in aiohttp
        (one we closed after sending it is `consumed`, refused later more clearly).
        """
        size = self._size
        if size is None and not self._consumed and getattr(self._value, "closed", False):
            self._value.seekable()
        return size

    @property
    def rewindable(self) -> bool:
        """Whether the file was seekable at creation, so every write starts over from there.

        When False the body can be sent only once: a second write continues where the
        first stopped.
        """
        return self._start is not None

    def _measure(self) -> int | None:
        if self._start is None:
            return None
        try:
            total = os.fstat(self._value.fileno()).st_size
        except (OSError, ValueError, AttributeError):
            return None
        return max(total - self._start, 0)

    # The three readers below run in the executor: file I/O may block.
    def _read_first(self, size: int) -> bytes:
        if self._start is not None:
            self._value.seek(self._start)
        elif getattr(self._value, "closed", False):
            self._value.seekable()  # the file's own "I/O operation on closed file", as aiohttp
        return self._read(size)

    def _read(self, size: int) -> bytes:
        return self._value.read(size)  # type: ignore[no-any-return]

    def _read_all(self) -> bytes:
        if self._start is not None:
            self._value.seek(self._start)
        return self._read(-1)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        loop = asyncio.get_running_loop()
        remaining = content_length
        size = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
        if size <= 0:
            return
        chunk = await loop.run_in_executor(None, self._read_first, size)
        while chunk:
            if remaining is not None:
                if len(chunk) > remaining:
                    chunk = chunk[:remaining]
                remaining -= len(chunk)
            await writer.write(chunk)
            if remaining is not None:
                if remaining <= 0:
                    return
                size = min(READ_SIZE, remaining)
            chunk = await loop.run_in_executor(None, self._read, size)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._read_all)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._read_all().decode(encoding, errors)

    async def close(self) -> None:
        self._consumed = True
        value = self._value
        if not getattr(value, "closed", True):
            await asyncio.get_running_loop().run_in_executor(None, value.close)


def _same_codec(file_encoding: str | None, target: str) -> bool:
    if file_encoding is None:
        return True
    try:
        return codecs.lookup(file_encoding).name == codecs.lookup(target).name
    except builtins.LookupError:  # this module's LookupError is aiohttp's, not the codec one
        return False


class TextIOPayload(IOBasePayload):
    """A text file-like object, encoded chunk by chunk as it is read."""

    __slots__ = ("_encoder",)

    def __init__(
        self,
        value: IO[str],
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["encoding"], kwargs["content_type"] = _text_encoding(encoding, content_type)
        super().__init__(value, *args, **kwargs)
        target = self._encoding or "utf-8"
        self._encoder = codecs.getincrementalencoder(target)()
        if self._size is not None and not _same_codec(getattr(value, "encoding", None), target):
            # The file's charset is not the one we send: its size on disk says nothing
            # of ours (aiohttp announces it anyway and the server waits). Go chunked.
            self._size = None

    def _read_first(self, size: int) -> bytes:
        # A fresh pass starts a fresh encoder, so a BOM leads each replay once.
        self._encoder.reset()
        return super()._read_first(size)

    def _read(self, size: int) -> bytes:
        text: str = self._value.read(size)
        if not text:
            return b""
        return self._encoder.encode(text)

    def _read_all(self) -> bytes:
        if self._start is not None:
            self._value.seek(self._start)
        text: str = self._value.read()
        return text.encode(self._encoding or "utf-8")

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self._start is not None:
            self._value.seek(self._start)
        return self._value.read()  # type: ignore[no-any-return]


class BytesIOPayload(IOBasePayload):
    """An io.BytesIO: in memory, so read without the executor."""

    __slots__ = ()

    _autoclose = True

    def _measure(self) -> int | None:
        view: memoryview
        with self._value.getbuffer() as view:
            return max(view.nbytes - (self._start or 0), 0)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        remaining = content_length
        if remaining is not None and remaining <= 0:
            return
        size = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
        chunk = self._read_first(size)
        while chunk:
            await writer.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)
                if remaining <= 0:
                    return
                size = min(READ_SIZE, remaining)
            chunk = self._read(size)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._read_all()

    async def close(self) -> None:
        """Leave the BytesIO open: it holds no OS resource and may be reused."""


class BufferedReaderPayload(IOBasePayload):
    """A buffered binary file (open(..., "rb"))."""

    __slots__ = ()


class JsonPayload(BytesPayload):
    """A value serialised to JSON text and encoded."""

    __slots__ = ()

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: JSONEncoder = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        kwargs["content_type"] = content_type
        kwargs["encoding"] = encoding
        super().__init__(dumps(value).encode(encoding), *args, **kwargs)


class JsonBytesPayload(BytesPayload):
    """A value serialised by a `dumps` that already returns bytes."""

    __slots__ = ()

    def __init__(
        self,
        value: Any,
        dumps: JSONBytesEncoder,
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        kwargs["content_type"] = content_type
        super().__init__(dumps(value), *args, **kwargs)


class AsyncIterablePayload(Payload):
    """Chunks from an async iterable; it can be written only once.

    `as_bytes()` drains and keeps the chunks, after which the body can be
    written (and decoded) again from that copy.
    """

    __slots__ = ("_cache", "_iter")

    _autoclose = True

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                "value argument must support collections.abc.AsyncIterable "
                f"interface, got {type(value)!r}"
            )
        if "content_type" not in kwargs:
            kwargs["content_type"] = _OCTET_STREAM
        super().__init__(value, *args, **kwargs)
        self._iter: AsyncIterator[bytes] = value.__aiter__()
        self._cache: list[bytes] | None = None

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        remaining = content_length
        if self._cache is not None:
            for chunk in self._cache:
                if remaining is not None:
                    if remaining <= 0:
                        return
                    chunk = chunk[:remaining]
                    remaining -= len(chunk)
                await writer.write(chunk)
            return
        if self._consumed:
            return
        self._consumed = True
        iterator = self._iter
        while remaining is None or remaining > 0:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                return
            if remaining is not None:
                if len(chunk) > remaining:
                    chunk = chunk[:remaining]
                remaining -= len(chunk)
            if chunk:
                await writer.write(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if self._cache is None:
            if self._consumed:
                return b""
            chunks: list[bytes] = []
            async for chunk in self._iter:
                chunks.append(bytes(chunk))
            self._cache = chunks
        return b"".join(self._cache)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self._cache is None:
            raise TypeError("Unable to decode - content not cached. Call as_bytes() first.")
        return b"".join(self._cache).decode(encoding, errors)

    async def close(self) -> None:
        self._consumed = True


class StreamReaderPayload(AsyncIterablePayload):
    """Forwards a response body (a StreamReader) chunk by chunk."""

    __slots__ = ()

    def __init__(self, value: StreamReader, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.iter_any(), *args, **kwargs)


# Exact types whose close() has nothing to do: the common bodies skip the call.
_QUIET_TYPES: Final = frozenset(
    {BytesPayload, StringPayload, StringIOPayload, JsonPayload, JsonBytesPayload, BytesIOPayload}
)
_QUIET_CLOSES: Final = frozenset({Payload.close, BytesIOPayload.close, AsyncIterablePayload.close})


def needs_close(body: Payload) -> bool:
    """Whether `body.close()` has work to do once a request is done with the body.

    True for a file and for a subclass with its own close(): aiohttp calls close() on
    every request body."""
    cls = body.__class__
    if cls in _QUIET_TYPES:
        return False
    return not body.autoclose or cls.close not in _QUIET_CLOSES


PAYLOAD_REGISTRY: Final = PayloadRegistry()
PAYLOAD_REGISTRY.register(BytesPayload, (bytes, bytearray, memoryview))
PAYLOAD_REGISTRY.register(StringPayload, str)
PAYLOAD_REGISTRY.register(StringIOPayload, io.StringIO)
PAYLOAD_REGISTRY.register(TextIOPayload, io.TextIOBase)
PAYLOAD_REGISTRY.register(BytesIOPayload, io.BytesIO)
PAYLOAD_REGISTRY.register(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
PAYLOAD_REGISTRY.register(IOBasePayload, io.IOBase)
PAYLOAD_REGISTRY.register(StreamReaderPayload, StreamReader)
# Last, so that file objects that also happen to be async iterable stay files.
PAYLOAD_REGISTRY.register(AsyncIterablePayload, AsyncIterable, order=Order.try_last)
