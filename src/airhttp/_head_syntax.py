"""RFC 9112 head and trailer syntax: line splitting, status line, field lines, CL and TE values.

Also the characters no head we send may hold (request heads, multipart part heads).

Pure functions and lookup tables over bytes and str; no parser state, no I/O, no body bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, cast

from multidict import istr

from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11
from .http_exceptions import (
    BadHttpMessage,
    BadStatusLine,
    InvalidHeader,
    LineTooLong,
)

__all__ = (
    "CODES",
    "ENCODING",
    "ERRORS",
    "FORBIDDEN_IN_HEAD",
    "KNOWN_NAMES",
    "KNOWN_NAMES_LIMIT",
    "MAX_CONTENT_LENGTH_DIGITS",
    "PREVIEW",
    "VERSIONS",
    "check_field_sizes",
    "check_head_start",
    "check_partial_head",
    "check_partial_fields",
    "long_line_end",
    "check_status_size",
    "field_size_cap",
    "find_block_end",
    "injection_error",
    "is_chunked",
    "parse_content_length",
    "parse_field_lines",
    "parse_status",
    "parse_status_line",
    "preview",
    "split_block",
)

ENCODING: Final = "utf-8"
ERRORS: Final = "surrogateescape"
PREVIEW: Final = 100
# Longer Content-Length values (leading zeros aside) exceed any real body and int().
MAX_CONTENT_LENGTH_DIGITS: Final = 19
# What a status line begins with: a head cut short before its end is checked against it.
_STATUS_START: Final = b"HTTP/"

# RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive). A dict
# lookup of the 8-char prefix validates and converts in one step; the bool is
# "close by default" (RFC 9112 §9.3: only 1.1 and later persist by default).
VERSIONS: Final[dict[str, tuple[HttpVersion, bool]]] = {}
for _major in range(10):
    for _minor in range(10):
        _v = HttpVersion(_major, _minor)
        if _v == HttpVersion11:
            _v = HttpVersion11
        elif _v == HttpVersion10:
            _v = HttpVersion10
        VERSIONS[f"HTTP/{_major}.{_minor}"] = (_v, _v < HttpVersion11)
del _major, _minor, _v

# RFC 9112 §4: status-code = 3DIGIT; codes below 100 are not valid HTTP statuses.
CODES: Final[dict[str, int]] = {f"{code:03d}": code for code in range(100, 1000)}

# Field names already proven to be tokens, each mapped to its istr. Names repeat
# across responses, so one dict lookup per line replaces a token scan, and istr keys
# build a CIMultiDict ~2.5x faster than str keys (it skips case-folding). The slow
# path validates and adds new names; the size is bounded.
KNOWN_NAMES: Final[dict[str, istr]] = {}
KNOWN_NAMES_LIMIT: Final = 2048

# RFC 9110 §5.6.2: tchar; field names are tokens.
_NON_TCHAR_RE: Final = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")
# RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ); other CTLs are refused.
_STATUS_CTL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


# RFC 9110 5.5: a field value is VCHAR, obs-text, SP and HTAB; every other control
# character (and CR/LF above all, RFC 9112 2.2) would let a caller inject a header or a
# second request, as would one in the request line.
FORBIDDEN_IN_HEAD: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def injection_error(first_line: str, headers: Mapping[str, str]) -> ValueError:
    """The error naming where a forbidden character sits (slow path only)."""
    place = "status line"
    match = FORBIDDEN_IN_HEAD.search(first_line)
    if match is None:
        for name, value in headers.items():
            match = FORBIDDEN_IN_HEAD.search(name)
            if match is not None:
                place = f"header name {name!r}"
                break
            match = FORBIDDEN_IN_HEAD.search(str(value))
            if match is not None:
                place = f"value of header {name!r}"
                break
    char = match.group() if match is not None else "?"
    if char in "\r\n":
        what = "Newline or carriage return character"
    else:
        what = f"Forbidden control character {char!r}"
    return ValueError(f"{what} detected in HTTP {place}. Potential header injection attack.")


def preview(line: bytes | bytearray | str) -> bytes | str:
    """Shorten an offending line for an error message."""
    if isinstance(line, str):
        return line[:PREVIEW] + "..." if len(line) > PREVIEW else line
    if len(line) > PREVIEW:
        return bytes(line[:PREVIEW]) + b"..."
    return bytes(line)


# Bare LF line ends: aiohttp, observed as a black box against a raw socket server,
# accepts a lone LF anywhere in the head and the trailer section (RFC 9112 §2.2 lets
# a recipient do so) but not in chunk-size lines. We match that; a bare CR is always
# an error, and a chunk's data must end in CRLF.
def find_block_end(buf: bytes | bytearray, start: int, stop: int) -> tuple[int, int]:
    """Locate the first empty line at or after `start`.

    Returns (index of the LF ending the last non-empty line, offset just past the
    empty line), or (-1, -1). RFC 9112 §2.2 lets a recipient accept a bare LF as a
    line terminator, so both "\\n\\n" and "\\n\\r\\n" end a block.
    """
    crlf = buf.find(b"\n\r\n", start, stop)
    lf = buf.find(b"\n\n", start, crlf + 1 if crlf >= 0 else stop)
    if lf >= 0:
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 3
    return -1, -1


def split_block(buf: bytes | bytearray, start: int, last: int, has_status: bool) -> list[str]:
    """Cut buf[start:last] into decoded lines, without their line ends. A bare CR is left
    in: parse_status_line and check_field_sizes refuse it in line order (RFC 9112 §2.2)."""
    lines: list[str] = []
    for raw in bytes(buf[start:last]).split(b"\n"):
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        lines.append(raw.decode(ENCODING, ERRORS))
    return lines


# Size limits: aiohttp's default (C) parser, observed as a black box (3.13 and 3.14
# alike), does not bound whole lines. It bounds the reason phrase by max_line_size and,
# by max_field_size, each field value counted from its first non-blank byte (trailing
# blanks and obs-fold continuations included), the first field of a section adding its
# name, and each field name together with the previous field's name. Too many fields
# fail once the field past max_headers is complete. We refuse exactly what it refuses.


def _size(text: str) -> int:
    """Length in received bytes of a line decoded with ENCODING/ERRORS."""
    return len(text) if text.isascii() else len(text.encode(ENCODING, ERRORS))


def _too_long(seen: str, limit: int, *, status: bool = False) -> LineTooLong:
    # aiohttp quotes up to 100 bytes of what it had read, always followed by "...";
    # for the reason phrase it quotes a bytearray.
    quote = seen.encode(ENCODING, ERRORS)[:PREVIEW] + b"..."
    # LineTooLong is typed for str | bytes; the bytearray is only ever shown by repr().
    return LineTooLong(cast(bytes, bytearray(quote)) if status else quote, limit)


def check_status_size(line: str, limit: int) -> None:
    """Refuse a reason phrase longer than `limit` bytes (the rest of the line is fixed)."""
    reason = line[13:]
    if len(reason) > limit and _size(reason) > limit:
        raise _too_long(reason, limit, status=True)


def check_field_sizes(
    lines: list[str],
    limit: int,
    max_fields: int,
    *,
    trailers: bool = False,
    complete: bool = True,
    cut: bool = False,
) -> None:
    """Refuse the first field line of one section (head or trailers) that breaks a rule.

    Line by line in order, as llhttp reads them: a line's sizes, then its syntax (a bare
    CR, the name a token followed by a colon, no NUL), so the error is the same however
    the section arrived. Past `max_fields`, the field after the next one is refused once
    its name is read (in the trailers, the next one itself); `complete=False` (a section
    still arriving) leaves the final count for later. `cut`: the last line is still
    arriving, so only its sizes are judged (they can only grow; its syntax could still be
    preceded by a size error further on).
    """
    syntax_lines = len(lines) - 1 if cut else len(lines)
    in_loop_cap = max_fields if trailers else max_fields + 1
    prev = ""
    count = 0
    value = ""
    size = 0
    for index, line in enumerate(lines):
        # Sized up to a bare CR, which llhttp only meets after the bytes before it.
        text = line.partition("\r")[0]
        folded = bool(count) and text[:1] in (" ", "\t")
        if folded:
            # obs-fold: the continuation line counts whole, its indent too.
            value += text
            size += _size(text)
            if size > limit:
                raise _too_long(value, limit)
        else:
            name, _, value = text.partition(":")
            name_size = _size(name)
            if _size(prev) + name_size > limit:
                raise _too_long(prev + name, limit)
            # RFC 9110 §5.4: a client may refuse fields beyond what it is willing to process.
            if count >= in_loop_cap:
                raise BadHttpMessage("Too many headers received")
            count += 1
            value = value.lstrip(" \t")
            size = _size(value) + (name_size if count == 1 else 0)
            if size > limit:
                raise _too_long(value, limit)
            prev = name
        if index < syntax_lines:
            _check_field_syntax(line, folded)
    if complete and count > max_fields:
        raise BadHttpMessage("Too many headers received")


def _check_field_syntax(line: str, folded: bool) -> None:
    # RFC 9112 §2.2: no bare CR; RFC 9110 §5.5: no NUL in a value.
    if "\r" in line or "\x00" in line:
        raise InvalidHeader(line)
    if folded:
        return
    # RFC 9112 §2.2: no whitespace before the first field line; §5.1: the name is a token
    # right before the colon.
    name, sep, _ = line.partition(":")
    if not sep or not name or _NON_TCHAR_RE.search(name) is not None:
        raise InvalidHeader(line)


def field_size_cap(limit: int, max_fields: int) -> int:
    """The most bytes a section within these limits can take (indents aside)."""
    return (max_fields + 1) * (2 * limit + 4) + 4


def parse_status(line: str, max_line_size: int) -> tuple[HttpVersion, bool, int, str]:
    """parse_status_line and check_status_size, in llhttp's order: a line too long to be
    within the limit is judged on the bytes up to the limit, then refused for its length."""
    cap = max_line_size + 14  # "HTTP/1.1 200 " and a CR around the reason phrase
    if len(line) > cap:
        parse_status_line(line[: cap + 1].removesuffix("\r"))
        check_status_size(line, max_line_size)
    parsed = parse_status_line(line)
    check_status_size(line, max_line_size)
    return parsed


def parse_status_line(line: str) -> tuple[HttpVersion, bool, int, str]:
    """Strictly parse `HTTP-version SP status-code [SP reason-phrase]` (RFC 9112 §4)."""
    known = VERSIONS.get(line[:8])
    code = CODES.get(line[9:12])
    if known is None or code is None or line[8:9] != " ":
        raise BadStatusLine(line)
    # RFC 9112 §4 wants SP before even an empty reason-phrase; servers omit it, and
    # aiohttp accepts that, so both spellings pass.
    if len(line) > 12 and line[12] != " ":
        raise BadStatusLine(line)
    if _STATUS_CTL_RE.search(line) is not None:
        raise BadStatusLine(line)
    return known[0], known[1], code, line[13:]


def _intern_name(name: str) -> istr:
    """The shared istr for a field name already checked to be a token."""
    known = KNOWN_NAMES.get(name)
    if known is None:
        # Starting over when full keeps the set tuned to current traffic; a peer
        # sending endless new names only costs itself the slow path.
        if len(KNOWN_NAMES) >= KNOWN_NAMES_LIMIT:
            KNOWN_NAMES.clear()
        known = KNOWN_NAMES[name] = istr(name)
    return known


def parse_field_lines(lines: list[str]) -> list[tuple[str, str]]:
    """The (name, value) pairs of field lines that passed check_field_sizes (RFC 9112 §5)."""
    pairs: list[tuple[str, str]] = []
    unstripped = ""
    for line in lines:
        if line.startswith((" ", "\t")):
            # RFC 9112 §5.2 lets a user agent replace each obs-fold with SP; aiohttp
            # drops only the CRLF and keeps the blanks around it, and so do we.
            unstripped += line
            pairs[-1] = (pairs[-1][0], unstripped.strip(" \t"))
            continue
        name, _, value = line.partition(":")
        # RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
        unstripped = value
        pairs.append((_intern_name(name), value.strip(" \t")))
    return pairs


def check_head_start(
    buf: bytes | bytearray,
    pos: int,
    max_line_size: int,
    max_field_size: int,
    max_headers: int,
    stop: int,
) -> None:
    """Raise if the incomplete head from `pos` is already malformed in its complete lines
    (those that end before `stop`, the head's cap).

    A status line cut short is only checked to begin like one.
    """
    last = buf.rfind(b"\n", pos, stop)
    if last < 0:
        if not _STATUS_START.startswith(bytes(buf[pos : pos + len(_STATUS_START)])):
            raise BadStatusLine(
                repr(preview(buf[pos:])), "Connection closed before the status line was complete"
            )
        return
    lines = split_block(buf, pos, last, True)  # the complete lines only
    parse_status(lines[0], max_line_size)
    check_field_sizes(lines[1:], max_field_size, max_headers, complete=False)


def check_partial_head(
    buf: bytes | bytearray,
    pos: int,
    new_from: int,
    max_line_size: int,
    max_field_size: int,
    max_headers: int,
    head_cap: int,
) -> bool:
    """Raise if the incomplete head from `pos` already broke a rule; True once its status
    line is complete (so its field lines can be counted).

    As llhttp (aiohttp) does, what arrived is judged line by line in order, the same
    however the bytes were cut: the status line once complete (or too long to be one),
    then, once a field line is too long to pass (a complete one that came from
    `new_from` on, or the incomplete last one), the lines up to it.
    """
    n = len(buf)
    # "HTTP/1.1 200 " comes before the reason phrase, a CR may end it.
    status_cap = max_line_size + 14
    first = buf.find(b"\n", pos, pos + status_cap + 1)
    if first < 0:
        if n - pos > status_cap:
            # Too long to be within the limit: first, as llhttp reads it, do its bytes up
            # to the limit begin a status line at all?
            parse_status_line(
                split_block(buf, pos, pos + status_cap + 1, True)[0].removesuffix("\r")
            )
            reason = bytes(buf[pos + 13 : pos + 13 + PREVIEW]).split(b"\n")[0]
            quote = bytearray(reason.split(b"\r")[0] + b"...")
            raise LineTooLong(cast(bytes, quote), max_line_size)
        return False
    if new_from <= first:  # the status line is judged once, in the read it completed
        parse_status(split_block(buf, pos, first, True)[0], max_line_size)
    start = max(new_from, first + 1)
    check_partial_fields(buf, pos, start, max_field_size, max_headers, head_cap, "response head")
    return True


def long_line_end(buf: bytes | bytearray, pos: int, start: int, longest: int, stop: int) -> int:
    """Where the first line longer than `longest` bytes ends, of the section at `pos`, among
    the lines that end at `start` or after, up to `stop` (the last may be cut); -1 if none."""
    begin = buf.rfind(b"\n", pos, start) + 1 or pos
    pieces = bytes(buf[begin:stop]).split(b"\n")
    if max(map(len, pieces)) <= longest:  # C-level scans: the common answer
        return -1
    for piece in pieces:
        begin += len(piece)
        if len(piece) > longest:
            return begin
        begin += 1
    return -1


def check_partial_fields(
    buf: bytes | bytearray,
    pos: int,
    start: int,
    limit: int,
    max_fields: int,
    cap: int,
    section: str,
) -> None:
    """Judge the field lines of the incomplete section at `pos` (a "response head" from its
    second line, or a "trailer section") once one from `start` on is too long to pass, or
    the section passed its byte cap; nothing past the cap is judged, as if it had not come.
    """
    n = len(buf)
    over = n - pos > cap
    stop = pos + cap + 1 if over else n
    end = long_line_end(buf, pos, start, 2 * limit + 2, stop)
    if end >= 0 or over:
        head = section == "response head"
        lines = split_block(buf, pos, end if end >= 0 else stop, head)
        # The last line is cut when it runs to `stop` (still arriving, or past the cap).
        check_field_sizes(
            lines[1:] if head else lines,
            limit,
            max_fields,
            trailers=not head,
            complete=False,
            cut=end < 0 or end == stop,
        )
    if over:
        raise LineTooLong(section, cap, n - pos)


def parse_content_length(values: list[str]) -> int:
    """RFC 9110 §8.6: 1*DIGIT, given once.

    The RFC lets a recipient accept a list or repeat of one value; aiohttp (llhttp) refuses
    both, and so do we: two lengths in one head are how responses get smuggled.
    """
    if len(values) > 1:
        raise BadHttpMessage(f"Duplicate Content-Length headers: {values!r}")
    value = values[0]
    item = value.strip(" \t")
    if not item or not item.isdigit() or not item.isascii():
        raise BadHttpMessage(f"Invalid Content-Length header: {value!r}")
    digits = item.lstrip("0") or "0"
    if len(digits) > MAX_CONTENT_LENGTH_DIGITS:
        raise BadHttpMessage(f"Content-Length is too large: {values!r}")
    return int(digits)


def is_chunked(values: list[str]) -> bool:
    """RFC 9112 §6.3 rule 4: chunked frames a response body only as its final coding.

    With another coding last, the body runs until the close. A repeated chunked (which
    RFC 9112 §6.1 forbids senders) is decoded once, as aiohttp does.
    """
    # RFC 9110 5.3 and 5.6.1: the field lines form one list; empty elements do not count.
    for value in reversed(values):
        for coding in reversed(value.split(",")):
            coding = coding.strip(" \t")
            if coding:
                return coding.lower() == "chunked"
    return False
