"""Fuzz target: chunked bodies (RFC 9112 section 7.1) through ResponseParser.

The input (after the settings, see tests/fuzz/_fdp.py) is the body that follows a fixed,
valid "HTTP/1.1 200 OK / Transfer-Encoding: chunked" head.

A bug is anything the response target counts as one (tests/fuzz/fuzz_http_response.py:
foreign exceptions, split-dependence, loops, bad events), and any disagreement with an
independent decoding of the same bytes by the grammar the parser documents (a size line
of 1-16 hex digits, optional blanks, an optional ";" extension without CTLs but HTAB,
ended by CRLF and at most max_line_size long; data followed by CRLF; a last chunk "0"
then CRLF or LF, or a trailer section):
- framing the reference rejects must fail the parse;
- a body the reference decodes completely (no trailers) must be accepted with exactly
  that body, and the bytes after it left as trailing data;
- a body cut short must give exactly the data so far, and TransferEncodingError at EOF;
- whatever the parser hands out is always a prefix of the reference's decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from airhttp._settings import RequestSettings
from airhttp.http_exceptions import TransferEncodingError

from . import _fdp
from ._parser_run import ParserBug, Run, check_split_agrees

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
_HEX = frozenset(b"0123456789abcdefABCDEF")
_CTL_BUT_HTAB = frozenset(set(range(0x20)) - {0x09}) | {0x7F}


@dataclass
class Reference:
    """The reference decoding: "complete", "trailers", "incomplete" or "error"."""

    status: str
    body: bytes
    rest: bytes = b""


def _size_of(line: bytes) -> int | None:
    if 13 in line:
        return None
    size, _, extensions = line.partition(b";")
    if _CTL_BUT_HTAB.intersection(extensions):
        return None
    size = size.rstrip(b" \t")
    if not 1 <= len(size) <= 16 or not _HEX.issuperset(size):
        return None
    return int(size, 16)


def reference(body: bytes, max_line_size: int) -> Reference:
    """Decode `body` by the documented grammar, independently of the parser."""
    out = bytearray()
    pos = 0
    end = len(body)
    while True:
        lf = body.find(b"\n", pos)
        if lf < 0 or lf - pos > max_line_size + 1:
            # The parser looks for the LF within max_line_size + 2 bytes.
            too_long = (lf < 0 and end - pos > max_line_size + 1) or lf >= 0
            return Reference("error" if too_long else "incomplete", bytes(out))
        if lf == pos or body[lf - 1] != 13:
            return Reference("error", bytes(out))
        size = _size_of(body[pos : lf - 1])
        if size is None:
            return Reference("error", bytes(out))
        pos = lf + 1
        if size == 0:
            break
        out += body[pos : pos + size]
        pos += size
        if pos > end:
            return Reference("incomplete", bytes(out))
        crlf = body[pos : pos + 2]
        if crlf == b"\r\n":
            pos += 2
        elif crlf in (b"", b"\r"):
            return Reference("incomplete", bytes(out))
        else:
            return Reference("error", bytes(out))
    if body.startswith(b"\r\n", pos):
        return Reference("complete", bytes(out), body[pos + 2 :])
    if body.startswith(b"\n", pos):
        return Reference("complete", bytes(out), body[pos + 1 :])
    if body[pos:] in (b"", b"\r"):
        return Reference("incomplete", bytes(out))
    return Reference("trailers", bytes(out))


def check_against_reference(run: Run, ref: Reference, *, eof: bool) -> None:
    """The parser's run of HEAD + body must agree with the reference decoding."""
    if not run.heads:
        raise ParserBug(f"the fixed head was refused: {run.error!r}")
    body = run.body
    if not ref.body.startswith(body):
        raise ParserBug(f"body {body!r} is not a prefix of the reference's {ref.body!r}")
    if ref.status == "error" and run.error is None:
        raise ParserBug(f"broken framing accepted; events {run.events!r}")
    if ref.status == "complete":
        if run.error is not None or run.ends != 1 or body != ref.body:
            raise ParserBug(f"valid chunked body refused or changed: {run.error!r} {body!r}")
        if run.events[-1] != ("end", None) or run.trailing != ref.rest:
            raise ParserBug(f"wrong end or trailing data: {run.events[-1]!r} {run.trailing!r}")
    if ref.status == "incomplete":
        if body != ref.body or run.ends:
            raise ParserBug(f"cut-short body gave {body!r}, reference {ref.body!r}")
        if eof and not isinstance(run.error, TransferEncodingError):
            raise ParserBug(f"cut-short body at EOF gave {run.error!r}")
        if not eof and run.error is not None:
            raise ParserBug(f"cut-short body without EOF failed: {run.error!r}")
    if ref.status == "trailers" and run.ends and body != ref.body:
        raise ParserBug(f"body with trailers gave {body!r}, reference {ref.body!r}")


def one_input(data: bytes) -> None:
    fdp = _fdp.provider(data)
    if _fdp.flag(fdp):
        settings = RequestSettings()
    else:
        settings = RequestSettings(
            max_line_size=fdp.ConsumeIntInRange(2, 64),
            max_field_size=fdp.ConsumeIntInRange(32, 300),
            max_headers=fdp.ConsumeIntInRange(2, 12),
        )
    eof = _fdp.flag(fdp)
    cuts = _fdp.consume_cuts(fdp, 8)
    body = _fdp.take_rest(fdp)
    payload = HEAD + body
    run = check_split_agrees(payload, _fdp.split(payload, cuts), ["GET"], settings, eof=eof)
    check_against_reference(run, reference(body, settings.max_line_size), eof=eof)


def seed(
    body: bytes,
    *,
    eof: bool = True,
    cuts: tuple[int, ...] = (),
    limits: tuple[int, int, int] | None = None,
) -> bytes:
    """The input that makes `one_input` parse HEAD + `body` with these settings."""
    writer = _fdp.SeedWriter().flag(limits is None)
    if limits is not None:
        writer.int_in_range(2, 64, limits[0])
        writer.int_in_range(32, 300, limits[1])
        writer.int_in_range(2, 12, limits[2])
    writer.flag(eof)
    writer.cuts(cuts, 8)
    return writer.build(body)


def main() -> None:
    from ._harness import run

    run(one_input)


if __name__ == "__main__":
    main()
