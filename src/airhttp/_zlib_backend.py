"""The zlib-like module that every gzip/deflate (de)compressor is made from, and its swap.

Only the backend, its constants and the wbits of each coding; no compressing, no buffering, no HTTP.
"""

from __future__ import annotations

import zlib
from typing import Any, Final, Generic, Protocol, TypeVar, overload

__all__ = (
    "GZIP_WBITS_OFFSET",
    "Buffer",
    "ZLibBackend",
    "ZLibBackendProtocol",
    "ZLibBackendWrapper",
    "ZLibCompressObjProtocol",
    "ZLibDecompressObjProtocol",
    "encoding_to_mode",
    "set_zlib_backend",
)

# Added to the window bits, this asks zlib for gzip framing (RFC 1952) instead of zlib's.
GZIP_WBITS_OFFSET: Final = 16

Buffer = bytes | bytearray | memoryview

_T = TypeVar("_T")


class ZLibCompressObjProtocol(Protocol):
    """What `compressobj()` of a zlib-like module returns."""

    def compress(self, data: Buffer, /) -> bytes: ...

    def flush(self, mode: int = ..., /) -> bytes: ...


class ZLibDecompressObjProtocol(Protocol):
    """What `decompressobj()` of a zlib-like module returns."""

    def decompress(self, data: bytes, /, max_length: int = ...) -> bytes: ...

    def flush(self, length: int = ..., /) -> bytes: ...

    @property
    def eof(self) -> bool: ...

    @property
    def unconsumed_tail(self) -> bytes: ...

    @property
    def unused_data(self) -> bytes: ...


class ZLibBackendProtocol(Protocol):
    """The part of the `zlib` module API a replacement (isal, zlib-ng) must offer."""

    @property
    def MAX_WBITS(self) -> int: ...

    @property
    def Z_FULL_FLUSH(self) -> int: ...

    @property
    def Z_SYNC_FLUSH(self) -> int: ...

    @property
    def Z_BEST_SPEED(self) -> int: ...

    @property
    def Z_FINISH(self) -> int: ...

    @property
    def error(self) -> type[Exception]: ...

    def compressobj(
        self,
        level: int = ...,
        method: int = ...,
        wbits: int = ...,
        memLevel: int = ...,
        strategy: int = ...,
    ) -> ZLibCompressObjProtocol: ...

    def decompressobj(self, wbits: int = ...) -> ZLibDecompressObjProtocol: ...

    def compress(self, data: bytes, /, level: int = ...) -> bytes: ...

    def decompress(self, data: bytes, /, wbits: int = ..., bufsize: int = ...) -> bytes: ...


class _FromBackend(Generic[_T]):
    """A read-only attribute of `ZLibBackendWrapper` that reads the same-named attribute
    of the backend in use at each access, so `set_zlib_backend` (or a backend whose
    constants change) takes effect at once."""

    __slots__ = ("_name",)

    def __set_name__(self, owner: type[ZLibBackendWrapper], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, wrapper: None, owner: type[ZLibBackendWrapper]) -> _FromBackend[_T]: ...

    @overload
    def __get__(self, wrapper: ZLibBackendWrapper, owner: type[ZLibBackendWrapper]) -> _T: ...

    def __get__(
        self, wrapper: ZLibBackendWrapper | None, owner: type[ZLibBackendWrapper]
    ) -> _T | _FromBackend[_T]:
        if wrapper is None:
            return self  # looked up on the class, as `help()` does
        value: _T = getattr(wrapper._zlib_backend, self._name)
        return value


class ZLibBackendWrapper:
    """The zlib-like module in use, behind one object that `set_zlib_backend` repoints."""

    __slots__ = ("_zlib_backend",)

    MAX_WBITS = _FromBackend[int]()
    Z_FULL_FLUSH = _FromBackend[int]()
    Z_SYNC_FLUSH = _FromBackend[int]()
    Z_BEST_SPEED = _FromBackend[int]()
    Z_FINISH = _FromBackend[int]()
    error = _FromBackend[type[Exception]]()

    def __init__(self, _zlib_backend: ZLibBackendProtocol) -> None:
        self._zlib_backend = _zlib_backend

    @property
    def name(self) -> str:
        return getattr(self._zlib_backend, "__name__", "undefined")

    def compressobj(self, *args: Any, **kwargs: Any) -> ZLibCompressObjProtocol:
        return self._zlib_backend.compressobj(*args, **kwargs)

    def decompressobj(self, *args: Any, **kwargs: Any) -> ZLibDecompressObjProtocol:
        return self._zlib_backend.decompressobj(*args, **kwargs)

    def compress(self, data: Buffer, *args: Any, **kwargs: Any) -> bytes:
        return self._zlib_backend.compress(bytes(data), *args, **kwargs)

    def decompress(self, data: Buffer, *args: Any, **kwargs: Any) -> bytes:
        return self._zlib_backend.decompress(bytes(data), *args, **kwargs)


# Every gzip/deflate (de)compressor, for request and response bodies, is made through this.
ZLibBackend: Final = ZLibBackendWrapper(zlib)


def set_zlib_backend(lib: ZLibBackendProtocol) -> None:
    """Use `lib` (e.g. `zlib_ng.zlib_ng`) for every zlib (de)compressor created from now on."""
    ZLibBackend._zlib_backend = lib


def encoding_to_mode(encoding: str | None = None, suppress_deflate_header: bool = False) -> int:
    """Return the zlib `wbits` for a Content-Encoding: gzip framing, zlib or raw deflate."""
    max_wbits = ZLibBackend.MAX_WBITS
    if encoding == "gzip":
        return GZIP_WBITS_OFFSET + max_wbits
    return -max_wbits if suppress_deflate_header else max_wbits
