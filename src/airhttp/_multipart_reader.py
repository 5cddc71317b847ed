"""Reading multipart bodies (RFC 2046 §5.1, RFC 7578): MultipartReader and BodyPartReader.

Only consumes the stream it is handed; it never writes, opens connections or knows HTTP framing.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from . import hdrs
from ._mime import (
    TOKEN_CHARS,
    MimeType,
    content_disposition_filename,
    parse_content_disposition,
    parse_mimetype,
)
from .abc import AbstractStreamWriter
from .http_exceptions import BadHttpMessage, InvalidHeader, LineTooLong
from .payload import Order, Payload, payload_type

if TYPE_CHECKING:
    from ._interfaces import ReceivedResponse

__all__ = (
    "BodyPartReader",
    "BodyPartReaderPayload",
    "MultipartReader",
    "MultipartResponseWrapper",
)

_CRLF: Final = b"\r\n"
# What one pull from the underlying stream or one part read asks for.
_READ_SIZE: Final = 2**16
# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace, so at most 70 characters.
_MAX_BOUNDARY: Final = 70
# Control characters other than HTAB may not appear in a header value.
_CTL_BYTES: Final = frozenset(range(0x20)) - {0x09} | {0x7F}
_TOKEN_BYTES: Final = frozenset(ord(c) for c in TOKEN_CHARS)


class _Source:
    """A pushback buffer over the stream a multipart body arrives on.

    A reader and all its part readers share one, so bytes read past the end of
    a part stay available to whoever reads next; the stream itself never has
    to take data back.
    """

    __slots__ = ("_fetch", "buf", "eof")

    def __init__(self, content: Any) -> None:
        self.buf = bytearray()
        self.eof = False
        if isinstance(content, BodyPartReader):
            self._fetch: Any = _bound_read(content.read_chunk, _READ_SIZE)
        elif hasattr(content, "readany"):
            self._fetch = content.readany
        else:
            self._fetch = _bound_read(content.read, _READ_SIZE)

    async def fill(self) -> bool:
        """Append the next piece of the stream; False once it is exhausted."""
        if self.eof:
            return False
        data = await self._fetch()
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def ensure(self, size: int) -> bool:
        """Buffer at least `size` bytes; False when the stream ends first."""
        while len(self.buf) < size:
            if not await self.fill():
                return False
        return True

    def take(self, size: int) -> bytes:
        buf = self.buf
        if size >= len(buf):
            data = bytes(buf)
            buf.clear()
            return data
        # One copy through a view; buf[:size] would copy twice (bytearray, then bytes).
        with memoryview(buf) as view:
            data = view[:size].tobytes()
        # bytearray drops a prefix in O(1): it only moves its start offset.
        del buf[:size]
        return data

    async def readline(self, limit: int) -> bytes:
        """Return bytes up to and including LF, at most `limit` of them.

        Returns fewer without LF only when the stream ends; b"" at the end.
        """
        buf = self.buf
        start = 0
        while True:
            pos = buf.find(b"\n", start)
            if pos != -1:
                return self.take(min(pos + 1, limit))
            if len(buf) >= limit:
                return self.take(limit)
            start = len(buf)
            if not await self.fill():
                return self.take(len(buf))


def _bound_read(read: Any, size: int) -> Any:
    async def fetch() -> bytes:
        return await read(size)  # type: ignore[no-any-return]

    return fetch


class BodyPartReader:
    """Reads one part of a multipart body: its bytes up to the next boundary."""

    __slots__ = (
        "_at_bof",
        "_at_eof",
        "_boundary",
        "_client_max_size",
        "_content",
        "_default_charset",
        "_delimiter",
        "_disposition",
        "_length",
        "_max_decompress_size",
        "_max_size_error_cls",
        "_read_bytes",
        "_src",
        "_subtype",
        "headers",
    )

    chunk_size: ClassVar[int] = 8192

    def __init__(
        self,
        boundary: bytes,
        headers: CIMultiDictProxy[str],
        content: Any,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        max_decompress_size: int = 2**18,
        client_max_size: int = sys.maxsize,
        max_size_error_cls: type[Exception] = ValueError,
    ) -> None:
        self.headers = headers
        self._boundary = boundary
        # RFC 2046 §5.1.1: the CRLF before a boundary belongs to the boundary.
        self._delimiter = _CRLF + boundary
        self._content = content
        self._src = content if isinstance(content, _Source) else _Source(content)
        self._subtype = subtype
        self._default_charset = default_charset
        self._max_decompress_size = max_decompress_size
        self._client_max_size = client_max_size
        self._max_size_error_cls = max_size_error_cls
        self._at_eof = False
        self._at_bof = True
        self._read_bytes = 0
        self._disposition: tuple[str | None, dict[str, str]] | None = None
        length = headers.get(hdrs.CONTENT_LENGTH)
        self._length = int(length) if length is not None and length.isdigit() else None

    def __aiter__(self) -> BodyPartReader:
        return self

    async def __anext__(self) -> bytes:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    async def next(self) -> bytes | None:
        """Return the whole rest of the body, or None once it is read."""
        item = await self.read()
        if not item:
            return None
        return item

    async def read(self, *, decode: bool = False) -> bytes:
        """Read the rest of the body; with `decode`, undo its encodings."""
        if self._at_eof:
            return b""
        data = bytearray()
        limit = self._client_max_size
        while not self._at_eof:
            data += await self.read_chunk(_READ_SIZE)
            if len(data) > limit:
                raise self._max_size_error_cls(
                    f"Maximum request body size {limit} exceeded, actual body size {len(data)}"
                )
        if decode:
            return self.decode(data)
        return data

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Read at most `size` raw bytes of the body; b"" at its end."""
        if self._at_eof or size <= 0:
            return b""
        if self._at_bof:
            self._at_bof = False
            if await self._starts_with_boundary():
                return b""
        if self._length is not None:
            chunk = await self._read_chunk_from_length(size)
        else:
            chunk = await self._read_chunk_from_stream(size)
        self._read_bytes += len(chunk)
        return chunk

    async def _starts_with_boundary(self) -> bool:
        # An empty body may run straight into the boundary, with the CRLF that
        # ends the headers doubling as the one that opens the delimiter.
        src = self._src
        boundary = self._boundary
        await src.ensure(len(boundary))
        if src.buf.startswith(boundary):
            self._at_eof = True
            return True
        return False

    async def _read_chunk_from_length(self, size: int) -> bytes:
        src = self._src
        assert self._length is not None
        remaining = self._length - self._read_bytes
        if remaining > 0:
            if not src.buf and not await src.fill():
                raise ValueError("Reader did not read all the data or it is malformed")
            chunk = src.take(min(size, remaining, len(src.buf)))
            remaining -= len(chunk)
        else:
            chunk = b""
        if remaining == 0:
            delimiter = self._delimiter
            await src.ensure(len(delimiter))
            if not src.buf.startswith(delimiter):
                raise ValueError("Reader did not read all the data or it is malformed")
            del src.buf[:2]
            self._at_eof = True
        return chunk

    async def _read_chunk_from_stream(self, size: int) -> bytes:
        src = self._src
        buf = src.buf
        delimiter = self._delimiter
        keep = len(delimiter) - 1
        while True:
            end = buf.find(delimiter, 0, size + len(delimiter))
            if end != -1:
                chunk = src.take(end)
                del buf[:2]
                self._at_eof = True
                return chunk
            # Keep a tail that could be the start of a delimiter split across reads.
            safe = min(len(buf) - keep, size)
            if safe > 0:
                return src.take(safe)
            if not await src.fill():
                raise ValueError("Multipart body part ended before its closing boundary")

    async def readline(self) -> bytes:
        """Read one line of the body, with its line break unless it ends the body."""
        if self._at_eof:
            return b""
        if self._at_bof:
            self._at_bof = False
            if await self._starts_with_boundary():
                return b""
        src = self._src
        buf = src.buf
        delimiter = self._delimiter
        while True:
            newline = buf.find(b"\n")
            end = buf.find(delimiter)
            if end != -1 and (newline == -1 or end < newline):
                line = src.take(end)
                del buf[:2]
                self._at_eof = True
                self._read_bytes += len(line)
                return line
            # Once enough follows the LF, no delimiter can start at its CR.
            if newline != -1 and len(buf) >= newline - 1 + len(delimiter):
                line = src.take(newline + 1)
                self._read_bytes += len(line)
                return line
            if not await src.fill():
                raise ValueError("Multipart body part ended before its closing boundary")

    async def release(self) -> None:
        """Read and drop the rest of the body."""
        while not self._at_eof:
            await self.read_chunk(_READ_SIZE)

    async def text(self, *, encoding: str | None = None) -> str:
        """The decoded body as text, in `encoding` or the part's charset."""
        data = await self.read(decode=True)
        return data.decode(encoding or self.get_charset(default="utf-8"))

    async def json(self, *, encoding: str | None = None) -> dict[str, Any] | None:
        """The decoded body parsed as JSON; None when the body is empty."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset(default="utf-8")))  # type: ignore[no-any-return]

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """The decoded body parsed as application/x-www-form-urlencoded pairs."""
        data = await self.read(decode=True)
        if not data:
            return []
        real_encoding = encoding or self.get_charset(default="utf-8")
        return parse_qsl(
            data.rstrip().decode(real_encoding), keep_blank_values=True, encoding=real_encoding
        )

    def at_eof(self) -> bool:
        """True once the whole body has been read."""
        return self._at_eof

    def decode(self, data: bytes | bytearray) -> bytes:
        """Undo Content-Transfer-Encoding, then Content-Encoding, of `data`."""
        return self._decode_content(self._decode_content_transfer(data))

    def _decode_content_transfer(self, data: bytes | bytearray) -> bytes:
        encoding = self.headers.get(hdrs.CONTENT_TRANSFER_ENCODING, "").lower()
        if encoding == "base64":
            return base64.b64decode(data)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
        # RFC 2045 §6.2: these three only describe the data, they change nothing.
        if encoding in ("", "binary", "8bit", "7bit"):
            return bytes(data)
        raise RuntimeError(f"unknown content transfer encoding: {encoding}")

    def _decode_content(self, data: bytes) -> bytes:
        encoding = self.headers.get(hdrs.CONTENT_ENCODING, "").lower()
        if encoding in ("", "identity"):
            return data
        if encoding == "gzip":
            return _decompress(data, 16 + zlib.MAX_WBITS, self._max_size_error_cls)
        if encoding == "deflate":
            # "deflate" is zlib-wrapped by RFC 9110 §8.4.1.2 but often sent raw.
            wbits = zlib.MAX_WBITS if _has_zlib_header(data) else -zlib.MAX_WBITS
            return _decompress(data, wbits, self._max_size_error_cls)
        raise RuntimeError(f"unknown content encoding: {encoding}")

    def get_charset(self, default: str) -> str:
        """The charset of the part's Content-Type, else the reader's, else `default`."""
        mimetype = parse_mimetype(self.headers.get(hdrs.CONTENT_TYPE, ""))
        return mimetype.parameters.get("charset", self._default_charset or default)

    def _parsed_disposition(self) -> tuple[str | None, dict[str, str]]:
        disposition = self._disposition
        if disposition is None:
            disposition = parse_content_disposition(self.headers.get(hdrs.CONTENT_DISPOSITION))
            self._disposition = disposition
        return disposition

    @property
    def name(self) -> str | None:
        """The ``name`` parameter of Content-Disposition, if any."""
        return content_disposition_filename(self._parsed_disposition()[1], "name")

    @property
    def filename(self) -> str | None:
        """The ``filename`` parameter of Content-Disposition, if any."""
        return content_disposition_filename(self._parsed_disposition()[1], "filename")


def _has_zlib_header(data: bytes) -> bool:
    # RFC 1950 §2.2: CM = 8 in the low nibble, and CMF*256 + FLG a multiple of 31.
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _decompress(data: bytes, wbits: int, error_cls: type[Exception]) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        result = decompressor.decompress(data) + decompressor.flush()
    except zlib.error:
        if wbits != zlib.MAX_WBITS:
            raise
        return _decompress(data, -zlib.MAX_WBITS, error_cls)
    return result


@payload_type(BodyPartReader, order=Order.try_first)
class BodyPartReaderPayload(Payload):
    """Forwards a part read from one multipart body into another request."""

    __slots__ = ()

    def __init__(self, value: BodyPartReader, *args: Any, **kwargs: Any) -> None:
        super().__init__(value, *args, **kwargs)
        params: dict[str, str] = {}
        if value.name is not None:
            params["name"] = value.name
        if value.filename is not None:
            params["filename"] = value.filename
        if params:
            self.set_content_disposition("attachment", True, **params)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode.")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        raise TypeError("Unable to read body part as bytes. Use write() to consume.")

    async def write(self, writer: AbstractStreamWriter) -> None:
        field: BodyPartReader = self._value
        headers = field.headers
        if hdrs.CONTENT_ENCODING in headers or hdrs.CONTENT_TRANSFER_ENCODING in headers:
            # Encoded data only decodes whole; such parts are small form fields.
            data = await field.read(decode=True)
            if data:
                await writer.write(data)
            return
        chunk = await field.read_chunk(_READ_SIZE)
        while chunk:
            await writer.write(chunk)
            chunk = await field.read_chunk(_READ_SIZE)


class MultipartResponseWrapper:
    """Ties a MultipartReader to its response, releasing it at the end."""

    __slots__ = ("resp", "stream")

    def __init__(self, resp: ReceivedResponse, stream: MultipartReader) -> None:
        self.resp = resp
        self.stream = stream

    def __aiter__(self) -> MultipartResponseWrapper:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True once the response body is read."""
        return bool(self.resp.content.at_eof())

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """The next part; the response is released after the last one."""
        item = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return item

    async def release(self) -> None:
        """Release the response and its connection."""
        await self.resp.release()


class MultipartReader:
    """Reads the parts of a multipart body one after the other."""

    __slots__ = (
        "_at_bof",
        "_at_eof",
        "_boundary",
        "_client_max_size",
        "_content",
        "_default_charset",
        "_last_part",
        "_max_field_size",
        "_max_headers",
        "_max_size_error_cls",
        "_mimetype",
        "_src",
        "headers",
    )

    response_wrapper_cls: ClassVar[type[MultipartResponseWrapper]] = MultipartResponseWrapper
    multipart_reader_cls: ClassVar[type[MultipartReader] | None] = None
    part_reader_cls: ClassVar[type[BodyPartReader]] = BodyPartReader

    def __init__(
        self,
        headers: Mapping[str, str],
        content: Any,
        *,
        client_max_size: int = sys.maxsize,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_size_error_cls: type[Exception] = ValueError,
    ) -> None:
        self.headers = headers
        self._mimetype: MimeType = parse_mimetype(headers[hdrs.CONTENT_TYPE])
        if self._mimetype.type != "multipart":
            raise ValueError("multipart/* content type expected")
        self._boundary = b"--" + self._get_boundary().encode()
        self._content = content
        self._src = _Source(content)
        self._client_max_size = client_max_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_size_error_cls = max_size_error_cls
        self._default_charset: str | None = None
        # What must be drained before the next part: a part, or a nested
        # multipart's enclosing part.
        self._last_part: BodyPartReader | None = None
        self._at_eof = False
        self._at_bof = True

    @classmethod
    def from_response(cls, response: ReceivedResponse) -> MultipartResponseWrapper:
        """Read the multipart body of `response`."""
        return cls.response_wrapper_cls(response, cls(response.headers, response.content))

    def __aiter__(self) -> MultipartReader:
        return self

    async def __anext__(self) -> MultipartReader | BodyPartReader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True once the closing boundary has been read."""
        return self._at_eof

    async def next(self) -> MultipartReader | BodyPartReader | None:
        """Skip what is left of the previous part and return the next one."""
        while True:
            if self._at_eof:
                return None
            await self._maybe_release_last_part()
            if self._at_bof:
                await self._read_until_first_boundary()
                self._at_bof = False
            else:
                await self._read_boundary()
            if self._at_eof:
                return None
            part = await self.fetch_next_part()
            if (
                self._mimetype.subtype == "form-data"
                and isinstance(part, BodyPartReader)
                and part.name == "_charset_"
            ):
                # RFC 7578 §4.6: this field names the charset of the fields without one.
                self._default_charset = (await part.read()).decode("ascii", "replace").strip()
                continue
            return part

    async def release(self) -> None:
        """Read and drop every remaining part."""
        while not self._at_eof:
            part = await self.next()
            if part is None:
                break
            await part.release()
        if isinstance(self._content, BodyPartReader):
            await self._content.release()

    async def fetch_next_part(self) -> MultipartReader | BodyPartReader:
        """Read the headers of the next part and return a reader for it."""
        headers = await self._read_headers()
        return self._get_part_reader(headers)

    def _get_part_reader(self, headers: CIMultiDictProxy[str]) -> MultipartReader | BodyPartReader:
        body = self.part_reader_cls(
            self._boundary,
            headers,
            self._src,
            subtype=self._mimetype.subtype,
            default_charset=self._default_charset,
            client_max_size=self._client_max_size,
            max_size_error_cls=self._max_size_error_cls,
        )
        self._last_part = body
        if parse_mimetype(headers.get(hdrs.CONTENT_TYPE, "")).type != "multipart":
            return body
        reader_cls = self.multipart_reader_cls or type(self)
        return reader_cls(
            headers,
            body,
            client_max_size=self._client_max_size,
            max_field_size=self._max_field_size,
            max_headers=self._max_headers,
            max_size_error_cls=self._max_size_error_cls,
        )

    def _get_boundary(self) -> str:
        boundary = self._mimetype.parameters.get("boundary")
        if not boundary:
            raise ValueError(f"boundary missed for Content-Type: {self.headers[hdrs.CONTENT_TYPE]}")
        if len(boundary) > _MAX_BOUNDARY:
            raise ValueError(f"boundary {boundary!r} is too long ({_MAX_BOUNDARY} chars max)")
        return boundary

    async def _maybe_release_last_part(self) -> None:
        part = self._last_part
        if part is not None:
            if not part.at_eof():
                await part.release()
            self._last_part = None

    async def _read_until_first_boundary(self) -> None:
        # RFC 2046 §5.1.1: lines before the first boundary are a preamble to ignore.
        boundary = self._boundary
        limit = max(self._max_field_size, len(boundary) + 4)
        while True:
            line = await self._src.readline(limit)
            if not line:
                raise ValueError(f"Could not find starting boundary {boundary!r}")
            line = line.rstrip()
            if line == boundary:
                return
            if line == boundary + b"--":
                self._at_eof = True
                return

    async def _read_boundary(self) -> None:
        boundary = self._boundary
        line = (await self._src.readline(max(self._max_field_size, len(boundary) + 4))).rstrip()
        if line == boundary:
            return
        if line == boundary + b"--":
            # What follows the close-delimiter is an epilogue, which nobody reads.
            self._at_eof = True
            return
        raise ValueError(f"Invalid boundary {line!r}, expected {boundary!r}")

    async def _read_headers(self) -> CIMultiDictProxy[str]:
        src = self._src
        limit = self._max_field_size
        headers: CIMultiDict[str] = CIMultiDict()
        count = 0
        while True:
            line = await src.readline(limit + 2)
            if not line.endswith(b"\n"):
                if len(line) >= limit + 2:
                    raise LineTooLong(line[:100] + b"...", limit)
                raise BadHttpMessage("Multipart body ended inside part headers")
            line = line.rstrip(b"\r\n")
            if not line:
                return CIMultiDictProxy(headers)
            if len(line) > limit:
                raise LineTooLong(line[:100] + b"...", limit)
            count += 1
            if count > self._max_headers:
                raise BadHttpMessage("Too many headers received")
            name, colon, value = line.partition(b":")
            # RFC 9112 §5.1 and §5.2: no whitespace before the colon, no obs-fold.
            if not colon or line[0] in b" \t" or name[-1:] in (b" ", b"\t"):
                raise InvalidHeader(line)
            if not name or not _TOKEN_BYTES.issuperset(name):
                raise InvalidHeader(name)
            value = value.strip(b" \t")
            if not _CTL_BYTES.isdisjoint(value):
                raise InvalidHeader(value)
            headers.add(name.decode("ascii"), value.decode("utf-8", "surrogateescape"))
