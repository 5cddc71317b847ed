"""Writing multipart bodies (RFC 2046 §5.1, RFC 7578): MultipartWriter and its part encoding.

Only produces bytes for the stream writer it is given; it never reads bodies or opens connections.
"""

from __future__ import annotations

import base64
import binascii
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlencode

from . import hdrs
from ._mime import TOKEN_CHARS
from .abc import AbstractStreamWriter
from .payload import (
    JsonPayload,
    LookupError,
    Payload,
    StringPayload,
    get_payload,
    needs_close,
)

__all__ = ("MultipartWriter",)

_CRLF: Final = b"\r\n"
# Control characters other than HTAB may not appear in a boundary.
_CTL_CHARS: Final = frozenset(map(chr, range(0x20))) - {"\t"} | {"\x7f"}
_KNOWN_TRANSFER_ENCODINGS: Final = frozenset({"", "base64", "quoted-printable", "binary"})
_KNOWN_CONTENT_ENCODINGS: Final = frozenset({"", "deflate", "gzip", "identity"})


class _PartEncoder:
    """Applies a part's Content-Encoding, then its Content-Transfer-Encoding."""

    __slots__ = ("_compressor", "_pending", "_transfer", "_writer")

    def __init__(self, writer: AbstractStreamWriter, encoding: str, transfer: str) -> None:
        self._writer = writer
        self._compressor: Any = None
        if encoding == "gzip":
            self._compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        self._transfer = transfer
        # base64 turns 3 bytes into 4 characters; a remainder waits for the next write.
        self._pending = b""

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        data = bytes(chunk)
        if self._compressor is not None:
            data = self._compressor.compress(data)
        await self._write_transfer(data)

    async def write_eof(self) -> None:
        tail = self._compressor.flush() if self._compressor is not None else b""
        await self._write_transfer(tail)
        if self._pending:
            await self._writer.write(base64.b64encode(self._pending))
            self._pending = b""

    async def _write_transfer(self, data: bytes) -> None:
        transfer = self._transfer
        if transfer == "base64":
            data = self._pending + data
            whole = len(data) - len(data) % 3
            self._pending = data[whole:]
            data = base64.b64encode(data[:whole])
        elif transfer == "quoted-printable":
            data = binascii.b2a_qp(data)
        if data:
            await self._writer.write(data)


def _encode_part(data: bytes, encoding: str, transfer: str) -> bytes:
    if encoding == "gzip":
        compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        data = compressor.compress(data) + compressor.flush()
    elif encoding == "deflate":
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        data = compressor.compress(data) + compressor.flush()
    if transfer == "base64":
        return base64.b64encode(data)
    if transfer == "quoted-printable":
        return binascii.b2a_qp(data)
    return data


_Part = tuple[Payload, str, str]


class MultipartWriter(Payload):
    """Builds a multipart body out of payloads; is itself a payload."""

    __slots__ = ("_boundary", "_close_boundary", "_is_form_data", "_parts")

    def __init__(
        self, subtype: str = "mixed", boundary: str | None = None, close_boundary: bool = True
    ) -> None:
        boundary = uuid.uuid4().hex if boundary is None else boundary
        try:
            self._boundary = boundary.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("boundary should contain ASCII only chars") from None
        if not _CTL_CHARS.isdisjoint(boundary):
            raise ValueError("boundary value contains invalid characters")
        super().__init__(
            None, content_type=f"multipart/{subtype}; boundary={self._quoted_boundary}"
        )
        self._parts: list[_Part] = []
        self._is_form_data = subtype == "form-data"
        self._close_boundary = close_boundary

    @property
    def _quoted_boundary(self) -> str:
        boundary = self._boundary.decode("ascii")
        if boundary and TOKEN_CHARS.issuperset(boundary):
            return boundary
        escaped = boundary.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        pass

    def __iter__(self) -> Iterator[_Part]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    @property
    def boundary(self) -> str:
        """The boundary string, without the leading dashes."""
        return self._boundary.decode("ascii")

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add `obj` (anything get_payload accepts) as the next part."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        try:
            payload = get_payload(obj, headers=headers)
        except LookupError:
            raise TypeError(f"Cannot create payload from {obj!r}") from None
        return self.append_payload(payload)

    def append_payload(self, payload: Payload) -> Payload:
        """Add `payload` as the next part and return it."""
        headers = payload.headers
        encoding = headers.get(hdrs.CONTENT_ENCODING, "").lower()
        if encoding not in _KNOWN_CONTENT_ENCODINGS:
            raise RuntimeError(f"unknown content encoding: {encoding}")
        if encoding == "identity":
            encoding = ""
        transfer = headers.get(hdrs.CONTENT_TRANSFER_ENCODING, "").lower()
        if transfer not in _KNOWN_TRANSFER_ENCODINGS:
            raise RuntimeError(f"unknown content transfer encoding: {transfer}")
        if transfer == "binary":
            transfer = ""
        if self._is_form_data:
            # RFC 7578 §4.2: every part names its field; §4.8: no other headers count.
            if hdrs.CONTENT_DISPOSITION not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        elif not encoding and not transfer:
            size = payload.size
            if size is not None:
                headers[hdrs.CONTENT_LENGTH] = str(size)
        self._parts.append((payload, encoding, transfer))
        return payload

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add `obj` serialised as JSON."""
        return self.append_payload(JsonPayload(obj, headers=headers))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Payload:
        """Add `obj` as an application/x-www-form-urlencoded part."""
        if isinstance(obj, Mapping):
            obj = list(obj.items())
        data = urlencode(obj, doseq=True)
        return self.append_payload(
            StringPayload(data, headers=headers, content_type="application/x-www-form-urlencoded")
        )

    @property
    def size(self) -> int | None:
        """Exact body length, or None when a part's is unknown or encoded."""
        boundary_len = len(self._boundary)
        total = 0
        for part, encoding, transfer in self._parts:
            part_size = part.size
            if encoding or transfer or part_size is None:
                return None
            # "--" boundary CRLF, headers, body, CRLF
            total += boundary_len + 4 + len(part.encoded_headers) + part_size + 2
        return total + boundary_len + 6  # "--" boundary "--" CRLF

    @property
    def autoclose(self) -> bool:
        return all(part.autoclose for part, _, _ in self._parts)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        boundary = self.boundary
        pieces = []
        for part, _, _ in self._parts:
            pieces.append(f"--{boundary}\r\n")
            pieces.append(part.encoded_headers.decode(encoding, errors))
            pieces.append(part.decode(encoding, errors))
            pieces.append("\r\n")
        pieces.append(f"--{boundary}--\r\n")
        return "".join(pieces)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        # Parts give their bytes through as_bytes, which leaves one-shot parts
        # (async iterables) still writable afterwards.
        out = bytearray()
        boundary_line = b"--" + self._boundary + _CRLF
        for part, content_encoding, transfer in self._parts:
            out += boundary_line
            out += part.encoded_headers
            data = await part.as_bytes(encoding, errors)
            if content_encoding or transfer:
                data = _encode_part(data, content_encoding, transfer)
            out += data
            out += _CRLF
        out += b"--" + self._boundary + b"--\r\n"
        return bytes(out)

    async def write(self, writer: AbstractStreamWriter, close_boundary: bool = True) -> None:
        """Write every part, then the closing boundary unless told not to."""
        boundary_line = b"--" + self._boundary + _CRLF
        separator = b""
        for part, content_encoding, transfer in self._parts:
            # One write per part head: the CRLF ending the previous part, the
            # boundary line and the headers go out together.
            await writer.write(separator + boundary_line + part.encoded_headers)
            if content_encoding or transfer:
                encoder = _PartEncoder(writer, content_encoding, transfer)
                await part.write(encoder)  # type: ignore[arg-type]
                await encoder.write_eof()
            else:
                await part.write_with_length(writer, part.size)
            separator = _CRLF
        if close_boundary and self._close_boundary:
            await writer.write(separator + b"--" + self._boundary + b"--\r\n")
        elif separator:
            await writer.write(separator)

    async def close(self) -> None:
        """Close the parts that hold something; the body is spent if one held a file."""
        if not self.autoclose:
            self._consumed = True
        for part, _, _ in self._parts:
            if not part.consumed and needs_close(part):
                await part.close()
