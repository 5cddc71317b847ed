"""Sans-IO HTTP/1.1 response parser: bytes go in, typed events come out.

No sockets, tasks, timers or decompression here; the client protocol drives it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from http import HTTPStatus
from typing import Final

from multidict import CIMultiDict, CIMultiDictProxy, istr

from ._head_syntax import (
    CODES,
    ENCODING,
    ERRORS,
    KNOWN_NAMES,
    MAX_CONTENT_LENGTH_DIGITS,
    PREVIEW,
    VERSIONS,
    check_field_sizes,
    check_head_start,
    check_partial_fields,
    check_partial_head,
    field_size_cap,
    find_block_end,
    is_chunked,
    parse_content_length,
    parse_field_lines,
    parse_status,
    preview,
    split_block,
)
from ._http_events import (
    CONNECTION_CLOSED,
    END_NO_TRAILERS,
    NEED_DATA,
    PAUSED,
    EndOfMessage,
    Event,
    RawResponseMessage,
    Sentinel,
)
from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11
from ._settings import DEFAULT_SETTINGS, RequestSettings
from .base_protocol import BaseProtocol
from .helpers import (
    DEBUG,
    DEFAULT_CHUNK_SIZE,
    EMPTY_BODY_METHODS,
    EMPTY_BODY_STATUS_CODES,
    NO_EXTENSIONS,
    BaseTimerContext,
    set_exception,
)
from .http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    ContentEncodingError,
    ContentLengthError,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)
from .http_exceptions import BadStatusLine as BadStatusLine  # aiohttp.http_parser has it
from .streams import EMPTY_PAYLOAD, StreamReader
from .typedefs import RawHeaders

__all__ = (
    "ASCIISET",
    "CONNECTION_CLOSED",
    "DEBUG",
    "DEFAULT_CHUNK_SIZE",
    "DIGITS",
    "EMPTY_BODY_METHODS",
    "EMPTY_BODY_STATUS_CODES",
    "EMPTY_PAYLOAD",
    "HEXDIGITS",
    "NEED_DATA",
    "NO_EXTENSIONS",
    "PAUSED",
    "SINGLETON_HEADERS",
    "TOKENRE",
    "VERSRE",
    "BadHttpMessage",
    "BadHttpMethod",
    "BaseProtocol",
    "BaseTimerContext",
    "ContentEncodingError",
    "EndOfMessage",
    "Event",
    "InvalidHeader",
    "InvalidURLError",
    "LineTooLong",
    "RawHeaders",
    "RawResponseMessage",
    "RawResponseMessagePy",
    "ResponseParser",
    "Sentinel",
    "StreamReader",
    "TransferEncodingError",
    "set_exception",
)

# aiohttp's names for the grammar pieces of HTTP/1.1 heads, for code that imports them;
# the parser below uses its own tables from _head_syntax.
ASCIISET: Final = frozenset(string.printable)
DIGITS: Final = re.compile(r"\d+", re.ASCII)
HEXDIGITS: Final = re.compile(rb"[0-9a-fA-F]+")
TOKENRE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VERSRE: Final = re.compile(r"HTTP/(\d)\.(\d)", re.ASCII)
# Fields that may appear only once in a message (a repeat is refused as ambiguous).
SINGLETON_HEADERS: Final = frozenset(
    {
        "content-length",
        "content-location",
        "content-range",
        "content-type",
        "etag",
        "host",
        "max-forwards",
        "server",
        "transfer-encoding",
        "user-agent",
    }
)

# The message type is the same for both of aiohttp's parsers; airhttp has one.
RawResponseMessagePy = RawResponseMessage

_CONTENT_LENGTH: Final = istr("Content-Length")
# How many distinct heads a connection remembers (see ResponseParser._heads), and what it
# keeps of each: the limits it was checked against, and the parsed head.
_HEADS_KEPT: Final = 4
_HEAD_KEPT_SIZE: Final = 8192  # bigger heads are not kept: a connection holds at most ~32 KB
_PlainHead = tuple[HttpVersion, bool, int, str, "CIMultiDict[str]"]
_SeenHead = tuple[tuple[int, int, int], _PlainHead]
_TRANSFER_ENCODING: Final = istr("Transfer-Encoding")
_CONNECTION: Final = istr("Connection")
_CONTENT_ENCODING: Final = istr("Content-Encoding")

_COMPRESSIONS: Final = {name: name for name in ("gzip", "deflate", "br", "zstd")}
# Exact spellings of a lone Connection token, mapped to "should close".
_CONNECTION_CLOSE: Final = {"close": True, "Close": True, "keep-alive": False, "Keep-Alive": False}

# Exact status lines that make up nearly all traffic, pre-parsed; anything else
# takes the generic checks below. Built from the stdlib's phrase table at import.
_COMMON_STATUS_LINES: Final[dict[str, tuple[HttpVersion, bool, int, str]]] = {
    f"HTTP/{version.major}.{version.minor} {status.value} {status.phrase}": (
        version,
        version < HttpVersion11,
        status.value,
        status.phrase,
    )
    for version in (HttpVersion10, HttpVersion11)
    for status in HTTPStatus
    if status.value >= 100
}

# The same CTL set as the status line's, on bytes, for chunk extensions.
_CTL_BYTES_RE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HEXDIGITS: Final = b"0123456789abcdefABCDEF"
_MAX_CHUNK_SIZE_DIGITS: Final = 16

# Leftovers smaller than this are re-joined into a fresh bytes object on feed;
# larger ones switch to an in-place bytearray so a trickled head stays linear.
_SMALL_LEFTOVER: Final = 4096

_CL_MISSING: Final = "Not enough data to satisfy content length header."
_TE_MISSING: Final = "Not enough data to satisfy transfer length header."


def _decide_close(connection: list[str], should_close: bool) -> bool:
    """RFC 9112 §9.3: "close" ends persistence; 1.0 persists only with "keep-alive"."""
    # RFC 9110 §7.6.1: Connection is a comma list of case-insensitive options.
    tokens = {t.strip(" \t") for value in connection for t in value.lower().split(",")}
    if "close" in tokens:
        return True
    if "keep-alive" in tokens:
        return False
    return should_close


def _read_transfer_encoding(codings: list[str], lengths: list[str] | None) -> bool:
    """Whether chunked frames the body (RFC 9112 §6.1), refusing TE beside Content-Length."""
    # RFC 9112 §6.3 (3): both present may be smuggling; "ought to be handled as an error".
    if lengths is not None:
        raise BadHttpMessage("Transfer-Encoding can't be present with Content-Length")
    return is_chunked(codings)


class ResponseParser:
    """Turn the bytes of HTTP/1.x responses into head, body and end-of-message events."""

    __slots__ = (
        "_buf",
        "_chunk_left",
        "_eof",
        "_error",
        "_head_fields",
        "_heads",
        "_is_connect",
        "_is_head",
        "_lines",
        "_lines_counted",
        "_pos",
        "_read_until_eof",
        "_reader",
        "_remaining",
        "_scan",
        "max_field_size",
        "max_headers",
        "max_line_size",
    )

    def __init__(self) -> None:
        # The limits of the response being read; start_response() takes them from the
        # exchange's settings.
        self.max_line_size = DEFAULT_SETTINGS.max_line_size
        self.max_field_size = DEFAULT_SETTINGS.max_field_size
        self.max_headers = DEFAULT_SETTINGS.max_headers
        # Unconsumed input is self._buf[self._pos:]; slicing the front off on every
        # event would copy the rest each time.
        self._buf: bytes | bytearray = b""
        self._pos = 0
        # Where the next search for an end-of-block may start (nothing earlier matched).
        self._scan = 0
        self._eof = False
        self._error: HttpProcessingError | None = None
        self._is_head = False
        self._is_connect = False
        self._read_until_eof = True
        self._remaining = 0
        self._chunk_left = 0
        # Fields in the head of a chunked response: the trailers' count adds to them.
        self._head_fields = 0
        # Of an incomplete head or trailer section: see _count_lines.
        self._lines = self._lines_counted = 0
        # Heads parsed on this connection by their text, with the limits they were checked
        # against: a server repeats the same head (within the second its Date names), and
        # a repeat skips splitting, checking and building the fields.
        self._heads: dict[str, _SeenHead] = {}
        # The state is the reader for it, held as a plain function: a bound method
        # stored on self would make every parser a reference cycle.
        self._reader: Callable[[ResponseParser], Event] = _IDLE

    # -- public API ---------------------------------------------------------

    def start_response(self, method: str, settings: RequestSettings = DEFAULT_SETTINGS) -> None:
        """Expect the response to a request made with `method`, read within `settings`."""
        if self._error is not None:
            raise self._error.with_traceback(None)
        reader = self._reader
        if reader is not _IDLE and reader is not _HEAD:
            raise RuntimeError("start_response() called while a response is being parsed")
        self._is_head = method == "HEAD"
        self._is_connect = method == "CONNECT"
        self._read_until_eof = settings.read_until_eof
        self.max_line_size = settings.max_line_size
        self.max_field_size = settings.max_field_size
        self.max_headers = settings.max_headers
        self._reader = _HEAD

    def feed_data(self, data: bytes) -> None:
        """Append received bytes; the parser keeps a reference, so pass immutable bytes."""
        buf = self._buf
        pos = self._pos
        if pos == len(buf):
            self._buf = data
            self._pos = 0
            self._scan = 0
        elif data:
            self._append(buf, pos, data)

    def feed_eof(self) -> None:
        """Record that the peer closed; the next next_event() calls report what that means."""
        self._eof = True

    def next_event(self) -> Event:
        """Return the next event, NEED_DATA, PAUSED or CONNECTION_CLOSED."""
        try:
            return self._reader(self)
        except HttpProcessingError as exc:
            self._die(exc)
            raise
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # Safety net so callers only ever see http_exceptions; tests assert it never fires.
            err = BadHttpMessage(f"Internal parser error: {exc!r}")
            self._die(err)
            raise err from exc

    @property
    def trailing_data(self) -> bytes:
        """Bytes buffered but not consumed; reading them clears the buffer."""
        buf = self._buf
        pos = self._pos
        data = bytes(buf[pos:]) if pos or type(buf) is not bytes else buf
        self._buf = b""
        self._pos = 0
        self._scan = 0
        return data

    @property
    def buffered(self) -> int:
        """Number of bytes buffered and not yet consumed."""
        return len(self._buf) - self._pos

    # -- buffer management --------------------------------------------------

    def _append(self, buf: bytes | bytearray, pos: int, data: bytes) -> None:
        left = len(buf) - pos
        scan = self._scan - pos
        self._scan = scan if scan > 0 else 0
        self._pos = 0
        if type(buf) is bytearray:
            # Dropping a bytearray's prefix only moves its start pointer in CPython.
            del buf[:pos]
            buf += data
        elif left < _SMALL_LEFTOVER:
            self._buf = buf[pos:] + data
        else:
            grown = bytearray(buf[pos:])
            grown += data
            self._buf = grown

    def _head_cap(self) -> int:
        # The biggest head the limits allow, with room for the line endings.
        return self.max_line_size + 16 + field_size_cap(self.max_field_size, self.max_headers)

    def _die(self, exc: HttpProcessingError) -> None:
        self._error = exc
        self._reader = _RAISE_ERROR

    # -- readers: one per state ---------------------------------------------

    def _raise_error(self) -> Event:
        assert self._error is not None
        raise self._error.with_traceback(None)

    def _read_idle(self) -> Event:
        # Idle means idle: buffered bytes wait for the next start_response().
        if self._eof and self._pos == len(self._buf):
            return CONNECTION_CLOSED
        return NEED_DATA

    def _read_paused(self) -> Event:
        return PAUSED

    def _read_done(self) -> Event:
        self._reader = _IDLE
        return END_NO_TRAILERS

    def _read_head(self) -> Event:
        """Fast path for a well-formed CRLF head; anything unusual goes to the slow path."""
        buf = self._buf
        pos = self._pos
        scan = self._scan
        end = buf.find(b"\r\n\r\n", scan if scan > pos else pos)
        if end < 0:
            return self._read_head_slow()
        text = buf[pos:end].decode(ENCODING, ERRORS)
        limits = (self.max_line_size, self.max_field_size, self.max_headers)
        seen = self._heads.get(text)
        if seen is not None and seen[0] == limits:
            head = seen[1]
        else:
            parsed = self._parse_plain_head(text, end - pos)
            if parsed is None:
                return self._read_head_slow()
            head = parsed
            if end - pos <= _HEAD_KEPT_SIZE:
                heads = self._heads
                if len(heads) >= _HEADS_KEPT:
                    heads.clear()
                heads[text] = (limits, head)
        return self._finish_head(*head, end + 4)

    def _parse_plain_head(self, text: str, size: int) -> _PlainHead | None:
        """Status and fields of a head (`size` bytes) in the common spelling, or None.

        None sends the head to the slow path, which decides what it is.
        """
        lines = text.split("\r\n")
        status = lines[0]
        del lines[0]

        common = _COMMON_STATUS_LINES.get(status)
        if common is not None:
            version, default_close, code, reason = common
        else:
            known = VERSIONS.get(status[:8])
            code_or_none = CODES.get(status[9:12])
            if known is None or code_or_none is None or status[8:9] != " ":
                return None
            version, default_close = known
            code = code_or_none
            if len(status) > 12:
                if status[12] != " ":
                    return None
                reason = status[13:]
                # isprintable() is a cheap conservative check: it refuses HTAB and
                # obs-text, which the slow path then accepts after a precise check.
                if not reason.isprintable():
                    return None
            else:
                reason = ""

        if not lines:
            if len(status) - 13 > self.max_line_size:
                return None
            return version, default_close, code, reason, CIMultiDict()
        if len(lines) > self.max_headers:
            return None
        # A head within both limits breaks none; a bigger one stays here only when
        # no field line could break them either (not even two names added up).
        if (size > self.max_field_size or size > self.max_line_size) and (
            not text.isascii()
            or len(status) - 13 > self.max_line_size
            or 2 * max(map(len, lines)) > self.max_field_size
        ):
            return None
        intern = KNOWN_NAMES.get
        try:
            # RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. Nearly
            # every server writes "name: value"; other spellings (no space, or a
            # line without a colon, which fails the unpack) take the slow path.
            pairs = [
                (name, v.strip(" \t"))
                for line in lines
                for n, v in [line.split(": ", 1)]
                if (name := intern(n))
            ]
        except ValueError:
            return None
        # Names not yet proven to be tokens were dropped above; the slow path checks them.
        if len(pairs) != len(lines):
            return None
        # No value may hold NUL (RFC 9110 §5.5), nor CR or LF other than the line
        # ends (RFC 9112 §2.2). A join plus memchr scans measured ~3x faster than
        # counting CR and LF over the block.
        joined = "".join(lines)
        if "\r" in joined or "\n" in joined or "\x00" in joined:
            return None
        return version, default_close, code, reason, CIMultiDict(pairs)

    def _read_head_slow(self) -> Event:
        """Authoritative head parser: bare LF endings, obs-fold, limits and precise errors."""
        buf = self._buf
        pos = self._pos
        n = len(buf)
        # RFC 9112 §2.2: be robust to empty lines before the status line.
        while pos < n:
            c = buf[pos]
            if c == 10:
                pos += 1
            elif c == 13 and pos + 1 < n and buf[pos + 1] == 10:
                pos += 2
            else:
                break
        self._pos = pos
        if pos == n:
            return CONNECTION_CLOSED if self._eof else NEED_DATA

        scan = self._scan
        last, end = find_block_end(buf, scan if scan > pos else pos, pos + self._head_cap())
        if last < 0:
            self._check_partial_head(buf, pos)
            self._scan = max(pos, n - 3)
            if not self._eof:
                return NEED_DATA
            # Cut short by the close: a disconnection, unless already malformed (as llhttp).
            limits = (self.max_line_size, self.max_field_size, self.max_headers)
            check_head_start(buf, pos, *limits, pos + self._head_cap() + 1)
            return CONNECTION_CLOSED

        lines = split_block(buf, pos, last, True)
        version, default_close, code, reason = parse_status(lines[0], self.max_line_size)
        del lines[0]
        check_field_sizes(lines, self.max_field_size, self.max_headers)
        headers: CIMultiDict[str] = CIMultiDict(parse_field_lines(lines))
        return self._finish_head(version, default_close, code, reason, headers, end)

    def _check_partial_head(self, buf: bytes | bytearray, pos: int) -> None:
        """Refuse an incomplete head that already broke a limit, so buffering stays bounded."""
        limits = (self.max_line_size, self.max_field_size, self.max_headers)
        new_from = pos + self._lines_counted  # where this read's lines begin
        # The line after max_headers + 1 fields may be the one aiohttp refuses.
        cap = self._head_cap()
        if check_partial_head(buf, pos, new_from, *limits, cap) and (
            self._count_lines(buf, pos, len(buf), self.max_headers + 2)
        ):
            check_head_start(buf, pos, *limits, pos + cap + 1)

    def _count_lines(self, buf: bytes | bytearray, pos: int, n: int, allowed: int) -> bool:
        """Count the lines of the incomplete section at `pos` that this read completed, but
        folded ones (no fields); True when they pass `allowed`: the section's fields are
        then to be checked against max_headers now, not at its byte cap."""
        start = pos + self._lines_counted
        last = buf.rfind(b"\n", start, n)
        if last >= 0:
            # Each new line after a LF: C-level counts instead of a loop over the lines.
            lines = b"\n" + bytes(buf[start:last])
            self._lines += lines.count(b"\n") - lines.count(b"\n ") - lines.count(b"\n\t")
            self._lines_counted = last + 1 - pos
        return self._lines > allowed

    def _finish_head(
        self,
        version: HttpVersion,
        should_close: bool,
        code: int,
        reason: str,
        headers: CIMultiDict[str],
        end: int,
    ) -> RawResponseMessage:
        """Decide persistence and framing from the fields, arm the body reader, build the head."""
        if self._lines_counted:  # the next head counts anew (most heads came whole)
            self._lines = self._lines_counted = 0
        getall = headers.getall
        connection = getall(_CONNECTION, None)
        if connection is not None:
            # A lone, exactly spelled token is nearly all traffic; the rest take the rule.
            close = _CONNECTION_CLOSE.get(connection[0]) if len(connection) == 1 else None
            should_close = _decide_close(connection, should_close) if close is None else close

        lengths = getall(_CONTENT_LENGTH, None)
        codings = getall(_TRANSFER_ENCODING, None)
        content_length: int | None = None
        chunked = False
        if codings is not None:
            chunked = _read_transfer_encoding(codings, lengths)
            self._head_fields = len(headers)
            # RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing; close after it.
            if version < HttpVersion11:
                should_close = True
        elif lengths is not None:
            # RFC 9112 §6.2 / RFC 9110 §8.6: Content-Length = 1*DIGIT. One plain number is
            # nearly all traffic; lists, repeats and anything odd take the full check.
            value = lengths[0]
            if (
                len(lengths) == 1
                and len(value) <= MAX_CONTENT_LENGTH_DIGITS
                and value.isdigit()
                and value.isascii()
            ):
                content_length = int(value)
            else:
                content_length = parse_content_length(lengths)

        # RFC 9110 §8.4: only codings the client can undo are reported; others pass through.
        compression = headers.get(_CONTENT_ENCODING)
        if compression is not None:
            compression = _COMPRESSIONS.get(compression.lower())

        # No need to reset self._scan: any end-of-block match lies past it, so from
        # here on it lags self._pos and searches ignore it.
        self._pos = end
        framing = self._choose_framing(code, codings, chunked, content_length)
        self._reader, closes, upgrade = _BODY_READERS[framing]
        return RawResponseMessage(
            version,
            code,
            reason,
            CIMultiDictProxy(headers),
            should_close or closes,
            compression,
            upgrade,
            chunked,
            content_length,
        )

    def _choose_framing(
        self, code: int, codings: list[str] | None, chunked: bool, content_length: int | None
    ) -> str:
        """Name the body's framing by RFC 9112 §6.3's length rules, in their order of precedence."""
        if code < 200:
            # Rule 1: 1xx has no body; 101 hands the connection to another protocol.
            return "upgrade" if code == 101 else "interim"
        if code == 204 or code == 304 or self._is_head:
            # Rule 1: no content after HEAD, 204 or 304, whatever the fields say.
            return "no_body"
        if self._is_connect and code < 300:
            # Rule 2: a 2xx answer to CONNECT turns the connection into a tunnel.
            return "tunnel"
        if codings is not None:
            # Rule 4: chunked as the final coding frames the body; any other final
            # coding in a response leaves only the close to end it.
            return "chunked" if chunked else "until_close"
        if content_length is not None:
            # Rule 6: a valid Content-Length frames the body.
            if content_length:
                # The length reader counts down from here.
                self._remaining = content_length
                return "length"
            return "no_body"
        # Rule 8: no framing in a response: the body runs until the close, unless the
        # caller asked not to wait for one.
        return "until_close" if self._read_until_eof else "no_body"

    def _read_length_body(self) -> Event:
        buf = self._buf
        pos = self._pos
        n = len(buf)
        if pos == n:
            if self._eof:
                raise ContentLengthError(_CL_MISSING)
            return NEED_DATA
        remaining = self._remaining
        if n - pos > remaining:
            end = pos + remaining
            chunk = buf[pos:end]
            self._pos = end
            self._reader = _DONE
        else:
            chunk = buf[pos:] if pos else buf
            self._pos = n
            remaining -= n - pos
            self._remaining = remaining
            if not remaining:
                self._reader = _DONE
        return chunk if type(chunk) is bytes else bytes(chunk)

    def _read_until_close(self) -> Event:
        buf = self._buf
        pos = self._pos
        n = len(buf)
        if pos < n:
            chunk = buf[pos:] if pos else buf
            self._pos = n
            return chunk if type(chunk) is bytes else bytes(chunk)
        if self._eof:
            self._reader = _IDLE
            return END_NO_TRAILERS
        return NEED_DATA

    def _read_chunk_size(self) -> Event:
        """RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF."""
        buf = self._buf
        pos = self._pos
        limit = self.max_line_size
        lf = buf.find(b"\n", pos, pos + limit + 2)
        if lf < 0:
            if len(buf) - pos > limit + 1:
                raise LineTooLong(preview(buf[pos : pos + PREVIEW + 1]), limit, len(buf) - pos)
            if self._eof:
                raise TransferEncodingError(_TE_MISSING)
            return NEED_DATA
        # RFC 9112 §7.1: chunk lines end in CRLF; a bare LF here is refused as smuggling-prone.
        if lf == pos or buf[lf - 1] != 13:
            raise TransferEncodingError(f"Chunk size line not ended by CRLF: {buf[pos:lf]!r}")
        line = buf[pos : lf - 1]
        if 0 < len(line) <= _MAX_CHUNK_SIZE_DIGITS and not line.translate(None, _HEXDIGITS):
            size = int(line, 16)
        else:
            size = self._parse_chunk_size_line(line)
        self._pos = lf + 1
        if size:
            self._chunk_left = size
            self._reader = _CHUNK_DATA
            return self._read_chunk_data()
        self._reader = _TRAILERS
        return self._read_trailers()

    @staticmethod
    def _parse_chunk_size_line(line: bytes | bytearray) -> int:
        if b"\r" in line:
            raise TransferEncodingError(f"Bare CR in chunk size line: {bytes(line)!r}")
        # RFC 9112 §7.1.1: extensions are ignored; BWS may precede the ";".
        size, _, extensions = line.partition(b";")
        # RFC 9112 §7.1.1: chunk-ext is tokens and quoted-strings: no CTLs but HTAB.
        if _CTL_BYTES_RE.search(extensions) is not None:
            raise TransferEncodingError(f"Invalid chunk extension: {preview(line)!r}")
        size = size.rstrip(b" \t")
        # RFC 9112 §7.1: chunk-size = 1*HEXDIG; no sign, prefix or leading whitespace,
        # and more than 16 digits cannot be a real size.
        if not size or len(size) > _MAX_CHUNK_SIZE_DIGITS or size.translate(None, _HEXDIGITS):
            raise TransferEncodingError(f"Invalid chunk size line: {preview(line)!r}")
        return int(size, 16)

    def _read_chunk_data(self) -> Event:
        buf = self._buf
        pos = self._pos
        n = len(buf)
        if pos == n:
            if self._eof:
                raise TransferEncodingError(_TE_MISSING)
            return NEED_DATA
        left = self._chunk_left
        if n - pos > left:
            end = pos + left
            chunk = buf[pos:end]
            # Taking the CRLF now when it is already here saves a state hop per chunk.
            if buf.startswith(b"\r\n", end):
                self._pos = end + 2
                self._reader = _CHUNK_SIZE
            else:
                self._pos = end
                self._reader = _CHUNK_CRLF
        else:
            chunk = buf[pos:] if pos else buf
            self._pos = n
            left -= n - pos
            self._chunk_left = left
            if not left:
                self._reader = _CHUNK_CRLF
        return chunk if type(chunk) is bytes else bytes(chunk)

    def _read_chunk_crlf(self) -> Event:
        buf = self._buf
        pos = self._pos
        if buf.startswith(b"\r\n", pos):
            self._pos = pos + 2
            self._reader = _CHUNK_SIZE
            return self._read_chunk_size()
        avail = len(buf) - pos
        # RFC 9112 §7.1: chunk-data is followed by CRLF; anything else is broken framing.
        if avail >= 2 or (avail == 1 and buf[pos] != 13):
            raise TransferEncodingError("Chunk data is not followed by CRLF")
        if self._eof:
            raise TransferEncodingError(_TE_MISSING)
        return NEED_DATA

    def _read_trailers(self) -> Event:
        """RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then the final CRLF."""
        buf = self._buf
        pos = self._pos
        n = len(buf)
        if buf.startswith(b"\r\n", pos):
            self._pos = pos + 2
            self._reader = _IDLE
            return END_NO_TRAILERS
        # RFC 9112 §2.2: as for the head, a bare LF may terminate the section.
        if buf.startswith(b"\n", pos):
            self._pos = pos + 1
            self._reader = _IDLE
            return END_NO_TRAILERS
        if n - pos >= 2 or (n - pos == 1 and buf[pos] != 13):
            limit = self.max_field_size
            # aiohttp lets head and trailer fields together pass max_headers by one.
            room = self.max_headers + 1 - self._head_fields
            cap = field_size_cap(limit, room)
            scan = self._scan
            last, end = find_block_end(buf, scan if scan > pos else pos, pos + cap)
            if last >= 0:
                lines = split_block(buf, pos, last, False)
                check_field_sizes(lines, limit, room, trailers=True)
                trailers: CIMultiDict[str] = CIMultiDict(parse_field_lines(lines))
                self._pos = end
                self._scan = 0
                self._lines = self._lines_counted = 0
                self._reader = _IDLE
                return EndOfMessage(CIMultiDictProxy(trailers))
            new_from = pos + self._lines_counted  # where this read's lines begin
            if self._count_lines(buf, pos, n, room):
                last = buf.rfind(b"\n", pos, pos + cap + 1)  # nothing past the cap is judged
                if last > pos:
                    complete = split_block(buf, pos, last, False)
                    check_field_sizes(complete, limit, room, trailers=True, complete=False)
            check_partial_fields(buf, pos, new_from, limit, room, cap, "trailer section")
            self._scan = max(pos, n - 3)
        if self._eof:
            raise TransferEncodingError(_TE_MISSING)
        return NEED_DATA


# Reader functions by state (see ResponseParser._reader).
_IDLE: Final = ResponseParser._read_idle
_HEAD: Final = ResponseParser._read_head
_DONE: Final = ResponseParser._read_done
_PAUSED_READER: Final = ResponseParser._read_paused
_LENGTH_BODY: Final = ResponseParser._read_length_body
_UNTIL_CLOSE: Final = ResponseParser._read_until_close
_CHUNK_SIZE: Final = ResponseParser._read_chunk_size
_CHUNK_DATA: Final = ResponseParser._read_chunk_data
_CHUNK_CRLF: Final = ResponseParser._read_chunk_crlf
_TRAILERS: Final = ResponseParser._read_trailers
_RAISE_ERROR: Final = ResponseParser._raise_error

# RFC 9112 §6.3 framing kinds, as _choose_framing names them, mapped to (body reader,
# forces close, upgrade), the way h11 keeps its READERS table. An interim 1xx head
# leaves the head reader in place for the final response.
_BODY_READERS: Final[dict[str, tuple[Callable[[ResponseParser], Event], bool, bool]]] = {
    "interim": (_HEAD, False, False),
    "upgrade": (_PAUSED_READER, False, True),
    "tunnel": (_PAUSED_READER, False, False),
    "no_body": (_DONE, False, False),
    "length": (_LENGTH_BODY, False, False),
    "chunked": (_CHUNK_SIZE, False, False),
    "until_close": (_UNTIL_CLOSE, True, False),
}
