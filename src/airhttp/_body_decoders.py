"""Bounded decoders for response bodies: gzip, deflate, br and zstd, each step capped by the reader.

Pure byte transforms; no sockets, no HTTP framing, no executor (`compression_utils` wraps these).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import ModuleType
from typing import Final, Protocol, cast

from ._zlib_backend import GZIP_WBITS_OFFSET, Buffer, ZLibBackend, ZLibDecompressObjProtocol
from .http_exceptions import ContentEncodingError

__all__ = (
    "ACCEPT_ENCODING",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "MAX_DECOMPRESS_MEMBERS",
    "BodyDecompressor",
    "TooManyMembersError",
    "brotli_body",
    "make_decompressor",
    "zstd_body",
)

# More gzip members than this in one input chunk is taken as an attack, not a body: each
# member costs a new decompressor, so tiny members would make decoding CPU-bound.
MAX_DECOMPRESS_MEMBERS: Final = 1024


class TooManyMembersError(ValueError):
    """A compressed stream held more members than `MAX_DECOMPRESS_MEMBERS` in one input."""


# --- optional backends: brotli and zstd -------------------------------------------------


class _BrotliDecoderProtocol(Protocol):
    def process(self, data: bytes, output_buffer_limit: int = ...) -> bytes: ...

    def is_finished(self) -> bool: ...

    def can_accept_more_data(self) -> bool: ...


class _ZstandardDecoderProtocol(Protocol):
    """The decompressobj of the `zstandard` package."""

    def decompress(self, data: Buffer, /) -> bytes: ...

    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...


class _ZstdDecoderProtocol(Protocol):
    """`compression.zstd.ZstdDecompressor` (and backports.zstd's)."""

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...


def _import_first(*names: str) -> ModuleType | None:
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_brotli: ModuleType | None = _import_first("brotli", "brotlicffi")
HAS_BROTLI: Final = _brotli is not None
# Brotli/brotlicffi >= 1.2 can stop at an output limit; older ones cannot bound output.
_BROTLI_BOUNDED: Final = _brotli is not None and hasattr(
    _brotli.Decompressor, "can_accept_more_data"
)

_zstd: ModuleType | None = _import_first("compression.zstd", "backports.zstd")
_zstandard: ModuleType | None = None if _zstd is not None else _import_first("zstandard")
HAS_ZSTD: Final = _zstd is not None or _zstandard is not None

# What this client can decode, in aiohttp's order, for the Accept-Encoding header.
ACCEPT_ENCODING: Final = (
    "gzip, deflate" + (", br" if HAS_BROTLI else "") + (", zstd" if HAS_ZSTD else "")
)


# --- response bodies: bounded decoders ---------------------------------------------------


def _decode_error(encoding: str) -> ContentEncodingError:
    return ContentEncodingError(f"Can not decode content-encoding: {encoding}")


def _bounded(parts: list[bytes], size: int, max_length: int) -> tuple[bytes, bytes]:
    """The first `max_length` bytes of `parts` (all of them for 0), and what is left over."""
    out = b"".join(parts)
    if max_length > 0 and size > max_length:
        return out[:max_length], out[max_length:]
    return out, b""


class BodyDecompressor(ABC):
    """Decodes one response body in steps whose output never passes a caller's bound.

    Feed body bytes with `decompress(data, max_length)`; whatever input is not expanded yet
    stays inside and `decompress(b"", max_length)` goes on with it. `needs_input` turns
    True once all fed input is consumed and no output is waiting. At end of body call
    `flush()`. Broken input raises `ContentEncodingError`. This is what keeps a
    decompression bomb from filling memory: the reader pulls at most what fits its buffer.
    """

    __slots__ = ("encoding",)

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding

    @abstractmethod
    def decompress(self, data: bytes, max_length: int) -> bytes:
        """Feed `data` (may be empty) and return at most `max_length` bytes (0: no bound)."""

    @property
    @abstractmethod
    def needs_input(self) -> bool:
        """True when every byte fed so far has been decoded and handed out."""

    @property
    @abstractmethod
    def eof(self) -> bool:
        """True when the compressed stream ended cleanly at the last byte fed."""

    @abstractmethod
    def flush(self) -> bytes:
        """End of body: return what is left; raise if this coding cannot be cut short.

        The output is not bounded: drain with `decompress(b"", n)` until `needs_input` first.
        """


class _ZlibBody(BodyDecompressor):
    """gzip (any number of members) and deflate (zlib-wrapped or raw, sniffed)."""

    __slots__ = ("_backend", "_error", "_fed", "_gzip", "_more", "_obj", "_pending", "_stream_end")

    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        backend = ZLibBackend
        self._backend = backend
        self._error = backend.error
        self._gzip = encoding == "gzip"
        self._obj: ZLibDecompressObjProtocol | None = (
            backend.decompressobj(wbits=GZIP_WBITS_OFFSET + backend.MAX_WBITS)
            if self._gzip
            else None
        )
        self._pending = b""
        # The last call filled max_length, so zlib may still hold output for us.
        self._more = False
        self._stream_end = False
        self._fed = False

    def _open_deflate(self, head: bytes) -> ZLibDecompressObjProtocol:
        # RFC 9110 8.4.1.2 means zlib (RFC 1950) but many servers send raw RFC 1951 data.
        # RFC 1950 2.2: CM=8, CINFO<=7 and the 16-bit header is a multiple of 31; a raw
        # stream almost never starts that way (it would need non-zero stored-block padding).
        cmf = head[0]
        zlib_wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and ((cmf << 8) | head[1]) % 31 == 0
        max_wbits = self._backend.MAX_WBITS
        return self._backend.decompressobj(wbits=max_wbits if zlib_wrapped else -max_wbits)

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if data:
            self._fed = True
            if self._pending:
                data = self._pending + data
        elif self._pending:
            data = self._pending
        elif not self._more:
            return b""
        self._pending = b""
        obj = self._obj
        if obj is None:
            if len(data) < 2:
                self._pending = data
                return b""
            obj = self._obj = self._open_deflate(data)
        try:
            if self._stream_end:
                if not self._gzip:
                    raise _decode_error(self.encoding)
                obj = self._next_member()
            out = obj.decompress(data, max_length)
            if obj.eof:
                return self._members(out, max_length)
        except self._error as exc:
            raise _decode_error(self.encoding) from exc
        self._pending = obj.unconsumed_tail
        self._more = 0 < max_length <= len(out)
        return out

    def _next_member(self) -> ZLibDecompressObjProtocol:
        backend = self._backend
        obj = self._obj = backend.decompressobj(wbits=GZIP_WBITS_OFFSET + backend.MAX_WBITS)
        self._stream_end = False
        return obj

    def _members(self, out: bytes, max_length: int) -> bytes:
        """Go on past the end of a stream: more gzip members, or reject trailing bytes."""
        obj = self._obj
        assert obj is not None
        parts = [out]
        size = len(out)
        members = 1
        while obj.eof:
            self._more = False
            rest = obj.unused_data
            if not rest:
                self._stream_end = True
                break
            if not self._gzip:
                raise _decode_error(self.encoding)
            members += 1
            if members > MAX_DECOMPRESS_MEMBERS:
                # As aiohttp 3.14: counted per input chunk, the body fails as undecodable.
                raise _decode_error(self.encoding) from TooManyMembersError(
                    f"Compressed stream has more than {MAX_DECOMPRESS_MEMBERS} members"
                )
            obj = self._next_member()
            if 0 < max_length <= size:
                self._pending = rest
                break
            out = obj.decompress(rest, max_length - size if max_length > 0 else 0)
            parts.append(out)
            size += len(out)
            if not obj.eof:
                self._pending = obj.unconsumed_tail
                self._more = 0 < max_length <= size
        return parts[0] if len(parts) == 1 else b"".join(parts)

    @property
    def needs_input(self) -> bool:
        # With no decompressobj yet, `_pending` is a lone first byte waiting for the second.
        return not self._more and (not self._pending or self._obj is None)

    @property
    def eof(self) -> bool:
        return self._stream_end and not self._pending

    def flush(self) -> bytes:
        out = self.decompress(b"", 0) if self._pending or self._more else b""
        # aiohttp hands out a cut-short gzip body as is but rejects a cut-short deflate one.
        if not self._gzip and self._fed and not self._stream_end:
            raise _decode_error(self.encoding)
        return out


class _BrotliBody(BodyDecompressor):
    """br; bounded with Brotli/brotlicffi >= 1.2, which stop at an output buffer limit.

    Brotli may overshoot the limit by one buffer growth step; the surplus is kept here and
    handed out by the next calls, so each call still returns at most `max_length`. With an
    older Brotli the output of one input chunk is unbounded (it is still handed out in
    `max_length` slices).
    """

    __slots__ = ("_decoder", "_error", "_finished", "_input", "_more", "_output")

    def __init__(self, module: ModuleType) -> None:
        super().__init__("br")
        self._decoder = cast(_BrotliDecoderProtocol, module.Decompressor())
        self._error = cast("type[Exception]", module.error)
        self._input = b""
        self._output = b""
        # The last call filled its limit, so the decoder may hold more output. Brotli's
        # can_accept_more_data() turns True as soon as the input is taken in, not when
        # the output is drained, so it cannot tell us this.
        self._more = False
        self._finished = False

    def _can_take_input(self) -> bool:
        return not _BROTLI_BOUNDED or self._decoder.can_accept_more_data()

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if data:
            if self._finished:
                raise _decode_error(self.encoding)
            self._input = self._input + data if self._input else data
        out = self._output
        if max_length > 0 and len(out) >= max_length:
            self._output = out[max_length:]
            return out[:max_length]
        parts = [out]
        size = len(out)
        decoder = self._decoder
        try:
            while not self._finished and (max_length <= 0 or size < max_length):
                limit = max_length - size if max_length > 0 else 0
                if self._more or not self._can_take_input():
                    feed = b""
                elif self._input:
                    feed, self._input = self._input, b""
                else:
                    break
                if limit and _BROTLI_BOUNDED:
                    chunk = decoder.process(feed, output_buffer_limit=limit)
                    self._more = len(chunk) >= limit
                else:
                    chunk = decoder.process(feed)
                    self._more = False
                parts.append(chunk)
                size += len(chunk)
                self._finished = decoder.is_finished()
                if not chunk and not feed and not self._can_take_input():
                    # No progress is possible; never spin on a confused decoder.
                    raise _decode_error(self.encoding)
        except self._error as exc:
            raise _decode_error(self.encoding) from exc
        if self._finished and self._input:
            raise _decode_error(self.encoding)
        out, self._output = _bounded(parts, size, max_length)
        return out

    @property
    def needs_input(self) -> bool:
        if self._input or self._output:
            return False
        return self._finished or (not self._more and self._can_take_input())

    @property
    def eof(self) -> bool:
        return self._finished and not self._output

    def flush(self) -> bytes:
        # aiohttp hands out a cut-short br body without complaint; so do we.
        return self.decompress(b"", 0)


class _ZstdBody(BodyDecompressor):
    """zstd via `compression.zstd` / `backports.zstd`, bounded by their `max_length`."""

    __slots__ = ("_decoder", "_error", "_factory", "_pending", "_stream_end")

    def __init__(self, module: ModuleType) -> None:
        super().__init__("zstd")
        self._factory = cast("Callable[[], _ZstdDecoderProtocol]", module.ZstdDecompressor)
        self._error = cast("type[Exception]", module.ZstdError)
        self._decoder = self._factory()
        self._pending = b""
        self._stream_end = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._pending:
            data = self._pending + data if data else self._pending
            self._pending = b""
        limit = max_length if max_length > 0 else -1
        try:
            if self._stream_end:
                if not data:
                    return b""
                self._decoder = self._factory()
                self._stream_end = False
            decoder = self._decoder
            out = decoder.decompress(data, limit)
            if not decoder.eof:
                return out
            parts = [out]
            size = len(out)
            # A body may hold several frames back to back (RFC 8878 3.1).
            while decoder.eof:
                rest = decoder.unused_data
                if not rest:
                    self._stream_end = True
                    break
                decoder = self._decoder = self._factory()
                if 0 < max_length <= size:
                    self._pending = rest
                    break
                out = decoder.decompress(rest, max_length - size if max_length > 0 else -1)
                parts.append(out)
                size += len(out)
        except self._error as exc:
            raise _decode_error(self.encoding) from exc
        return b"".join(parts)

    @property
    def needs_input(self) -> bool:
        return not self._pending and (self._stream_end or self._decoder.needs_input)

    @property
    def eof(self) -> bool:
        return self._stream_end and not self._pending

    def flush(self) -> bytes:
        # aiohttp hands out a cut-short zstd body without complaint; so do we.
        return self.decompress(b"", 0)


# zstandard's decompressobj cannot stop at an output size, so it is fed this much input per
# step. A zstd block needs at least 4 input bytes (RLE) and yields at most 128 KiB, so one
# step overshoots the bound by at most 128 / 4 * 128 KiB = 4 MiB, kept in `_output`.
# Measured: 128-byte steps decode ~65 MB/s of compressed input, vs ~140 MB/s unsliced.
_ZSTANDARD_STEP: Final = 128


class _ZstandardBody(BodyDecompressor):
    """zstd via the `zstandard` package, bounded only by slicing its input (see above)."""

    __slots__ = ("_decoder", "_error", "_factory", "_input", "_offset", "_output", "_stream_end")

    def __init__(self, module: ModuleType) -> None:
        super().__init__("zstd")
        maker = module.ZstdDecompressor()
        self._factory = cast("Callable[[], _ZstandardDecoderProtocol]", maker.decompressobj)
        self._error = cast("type[Exception]", module.ZstdError)
        self._decoder = self._factory()
        self._input = b""
        self._offset = 0
        self._output = b""
        self._stream_end = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if data:
            rest = self._input[self._offset :]
            self._input = rest + data if rest else bytes(data)
            self._offset = 0
        out = self._output
        parts = [out]
        size = len(out)
        view = memoryview(self._input)
        end = len(view)
        offset = self._offset
        step = _ZSTANDARD_STEP
        try:
            while offset < end and (max_length <= 0 or size < max_length):
                if self._stream_end:
                    self._decoder = self._factory()
                    self._stream_end = False
                decoder = self._decoder
                stop = min(offset + step, end)
                chunk = decoder.decompress(view[offset:stop])
                offset = stop
                if decoder.eof:
                    self._stream_end = True
                    # Bytes past the frame end belong to the next frame: step back to them.
                    offset -= len(decoder.unused_data)
                parts.append(chunk)
                size += len(chunk)
        except self._error as exc:
            raise _decode_error(self.encoding) from exc
        finally:
            view.release()
        self._offset = offset
        if offset >= end:
            self._input = b""
            self._offset = 0
        out, self._output = _bounded(parts, size, max_length)
        return out

    @property
    def needs_input(self) -> bool:
        return not self._output and self._offset >= len(self._input)

    @property
    def eof(self) -> bool:
        return self._stream_end and self.needs_input

    def flush(self) -> bytes:
        return self.decompress(b"", 0)


def brotli_body() -> BodyDecompressor | None:
    """A bounded br decoder, or None when neither Brotli nor brotlicffi is installed."""
    return None if _brotli is None else _BrotliBody(_brotli)


def zstd_body() -> BodyDecompressor | None:
    """A bounded zstd decoder, or None when no zstd package is installed."""
    if _zstd is not None:
        return _ZstdBody(_zstd)
    if _zstandard is not None:
        return _ZstandardBody(_zstandard)
    return None


def make_decompressor(encoding: str) -> BodyDecompressor:
    """Return a bounded decoder for a response Content-Encoding ("gzip", "deflate", "br", "zstd").

    Raises ValueError for a coding this module does not know (the caller should hand such
    a body over undecoded, as aiohttp does) and `ContentEncodingError` when the coding is
    known but its library is not installed.
    """
    name = encoding.lower()
    if name == "gzip" or name == "deflate":
        return _ZlibBody(name)
    if name == "br":
        body = brotli_body()
        if body is None:
            raise ContentEncodingError(
                "Can not decode content-encoding: brotli (br). Please install `Brotli`"
            )
        return body
    if name == "zstd":
        body = zstd_body()
        if body is None:
            raise ContentEncodingError(
                "Can not decode content-encoding: zstandard (zstd). Please install `backports.zstd`"
            )
        return body
    raise ValueError(f"Unsupported content-encoding: {encoding!r}")
