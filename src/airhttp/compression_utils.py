"""Compression of request bodies and aiohttp's low-level decompressor API.

Pure byte transforms for gzip, deflate, br and zstd; no sockets, no HTTP framing, no headers.
The zlib backend lives in `_zlib_backend`, the bounded response-body decoders in
`_body_decoders`; both are re-exported here under aiohttp's names.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from concurrent.futures import Executor
from typing import Final, TypedDict

from ._body_decoders import (
    ACCEPT_ENCODING,
    HAS_BROTLI,
    HAS_ZSTD,
    MAX_DECOMPRESS_MEMBERS,
    BodyDecompressor,
    TooManyMembersError,
    brotli_body,
    make_decompressor,
    zstd_body,
)
from ._zlib_backend import (
    Buffer,
    ZLibBackend,
    ZLibBackendProtocol,
    ZLibBackendWrapper,
    ZLibCompressObjProtocol,
    ZLibDecompressObjProtocol,
    encoding_to_mode,
    set_zlib_backend,
)

# Raised in `_body_decoders` now; still importable from here, as before the split.
from .http_exceptions import ContentEncodingError as ContentEncodingError

__all__ = (
    "ACCEPT_ENCODING",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "MAX_DECOMPRESS_MEMBERS",
    "MAX_SYNC_CHUNK_SIZE",
    "ZLIB_MAX_LENGTH_UNLIMITED",
    "ZSTD_MAX_LENGTH_UNLIMITED",
    "BodyDecompressor",
    "BrotliDecompressor",
    "Buffer",
    "CompressObjArgs",
    "DecompressionBaseHandler",
    "TooManyMembersError",
    "ZLibBackend",
    "ZLibBackendProtocol",
    "ZLibBackendWrapper",
    "ZLibCompressObjProtocol",
    "ZLibCompressor",
    "ZLibDecompressObjProtocol",
    "ZLibDecompressor",
    "ZSTDDecompressor",
    "encoding_to_mode",
    "make_decompressor",
    "set_zlib_backend",
)

# Inputs up to this size are (de)compressed inline; larger ones go to the executor so
# one big body cannot stall the event loop.
MAX_SYNC_CHUNK_SIZE: Final = 4096

# The `max_length` that means "no bound" to zlib's and to zstd's decompress().
ZLIB_MAX_LENGTH_UNLIMITED: Final = 0
ZSTD_MAX_LENGTH_UNLIMITED: Final = -1


class CompressObjArgs(TypedDict, total=False):
    """The keyword arguments `ZLibCompressor` passes on to `compressobj()`."""

    wbits: int
    strategy: int
    level: int


# --- request bodies ---------------------------------------------------------------------


class ZLibCompressor:
    """Streaming gzip/deflate compressor; big inputs are compressed in an executor."""

    __slots__ = ("_compressobj", "_executor", "_finish", "_lock", "_max_sync_chunk_size")

    def __init__(
        self,
        encoding: str | None = None,
        suppress_deflate_header: bool = False,
        level: int | None = None,
        wbits: int | None = None,
        strategy: int | None = None,
        executor: Executor | None = None,
        max_sync_chunk_size: int | None = MAX_SYNC_CHUNK_SIZE,
    ) -> None:
        backend = ZLibBackend
        if wbits is None:
            wbits = encoding_to_mode(encoding, suppress_deflate_header)
        # Only pass what the caller chose so each backend keeps its own defaults.
        if level is None and strategy is None:
            self._compressobj = backend.compressobj(wbits=wbits)
        elif strategy is None:
            assert level is not None
            self._compressobj = backend.compressobj(level=level, wbits=wbits)
        elif level is None:
            self._compressobj = backend.compressobj(wbits=wbits, strategy=strategy)
        else:
            self._compressobj = backend.compressobj(level=level, wbits=wbits, strategy=strategy)
        self._finish = backend.Z_FINISH
        self._executor = executor
        self._max_sync_chunk_size = max_sync_chunk_size
        self._lock: asyncio.Lock | None = None

    def compress_sync(self, data: Buffer) -> bytes:
        return self._compressobj.compress(data)

    async def compress(self, data: Buffer) -> bytes:
        """Compress `data`, in the executor when it is bigger than `max_sync_chunk_size`."""
        limit = self._max_sync_chunk_size
        lock = self._lock
        if (limit is None or len(data) <= limit) and (lock is None or not lock.locked()):
            return self._compressobj.compress(data)
        if lock is None:
            lock = self._lock = asyncio.Lock()
        # The lock keeps calls in order: a compressobj is a stream, not reentrant.
        async with lock:
            if limit is not None and len(data) > limit:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._executor, self._compressobj.compress, data)
            return self._compressobj.compress(data)

    def flush(self, mode: int | None = None) -> bytes:
        return self._compressobj.flush(self._finish if mode is None else mode)


# --- aiohttp's low-level decompressors ----------------------------------------------------


class DecompressionBaseHandler(ABC):
    """Base of aiohttp's low-level decompressors: `decompress()` moves inputs above
    `max_sync_chunk_size` to the executor so one big chunk cannot stall the event loop."""

    __slots__ = ("_executor", "_max_sync_chunk_size")

    def __init__(
        self,
        executor: Executor | None = None,
        max_sync_chunk_size: int | None = MAX_SYNC_CHUNK_SIZE,
    ) -> None:
        self._executor = executor
        self._max_sync_chunk_size = max_sync_chunk_size

    @abstractmethod
    def decompress_sync(self, data: bytes, max_length: int = 0) -> bytes:
        """Decompress `data` now; at most `max_length` bytes out (0: no bound)."""

    @property
    @abstractmethod
    def data_available(self) -> bool:
        """Whether a call with `b""` could still produce output."""

    async def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        limit = self._max_sync_chunk_size
        if limit is not None and len(data) > limit:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, self.decompress_sync, data, max_length
            )
        return self.decompress_sync(data, max_length)


class ZLibDecompressor(DecompressionBaseHandler):
    """One zlib `decompressobj` with aiohttp's wrapper API (one gzip member, no sniffing)."""

    __slots__ = ("_decompressobj", "_error")

    def __init__(
        self,
        encoding: str | None = None,
        suppress_deflate_header: bool = False,
        executor: Executor | None = None,
        max_sync_chunk_size: int | None = MAX_SYNC_CHUNK_SIZE,
    ) -> None:
        backend = ZLibBackend
        self._decompressobj = backend.decompressobj(
            wbits=encoding_to_mode(encoding, suppress_deflate_header)
        )
        self._error = backend.error
        super().__init__(executor, max_sync_chunk_size)

    def decompress_sync(self, data: bytes, max_length: int = 0) -> bytes:
        return self._decompressobj.decompress(data, max_length)

    def flush(self, length: int = 0) -> bytes:
        obj = self._decompressobj
        return obj.flush(length) if length > 0 else obj.flush()

    @property
    def eof(self) -> bool:
        return self._decompressobj.eof

    @property
    def unconsumed_tail(self) -> bytes:
        return self._decompressobj.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return self._decompressobj.unused_data

    @property
    def data_available(self) -> bool:
        """Whether input is waiting that a call with `b""` would turn into output."""
        return bool(self._decompressobj.unconsumed_tail)


# --- aiohttp-compatible wrappers over the optional decoders ---------------------------------


class _BoundedWrapper(DecompressionBaseHandler):
    """Shared part of `BrotliDecompressor` and `ZSTDDecompressor`: aiohttp's API on a body."""

    __slots__ = ("_body",)

    def __init__(
        self,
        body: BodyDecompressor,
        executor: Executor | None,
        max_sync_chunk_size: int | None,
    ) -> None:
        self._body = body
        super().__init__(executor, max_sync_chunk_size)

    def decompress_sync(self, data: bytes, max_length: int = 0) -> bytes:
        return self._body.decompress(data, max_length)

    def flush(self) -> bytes:
        return self._body.flush()

    @property
    def eof(self) -> bool:
        return self._body.eof

    @property
    def data_available(self) -> bool:
        """Whether a call with `b""` could still produce output."""
        return not self._body.needs_input


class BrotliDecompressor(_BoundedWrapper):
    """aiohttp's brotli decompressor API; `max_length` <= 0 means no bound."""

    __slots__ = ()

    def __init__(
        self,
        executor: Executor | None = None,
        max_sync_chunk_size: int | None = MAX_SYNC_CHUNK_SIZE,
    ) -> None:
        body = brotli_body()
        if body is None:
            raise RuntimeError("The brotli decompression is not available. Please install `Brotli`")
        super().__init__(body, executor, max_sync_chunk_size)


class ZSTDDecompressor(_BoundedWrapper):
    """aiohttp's zstd decompressor API; `max_length` <= 0 means no bound."""

    __slots__ = ()

    def __init__(
        self,
        executor: Executor | None = None,
        max_sync_chunk_size: int | None = MAX_SYNC_CHUNK_SIZE,
    ) -> None:
        body = zstd_body()
        if body is None:
            raise RuntimeError(
                "The zstd decompression is not available. Please install `backports.zstd`"
            )
        super().__init__(body, executor, max_sync_chunk_size)
