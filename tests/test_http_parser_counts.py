"""Lines are judged as they arrive, in order: a bad status line at once, too many field
lines (head or trailers) before the byte cap, the same error however the bytes were cut.

Sans-IO: byte strings fed whole, split at every offset and byte by byte (the `parse` helper).
"""

from __future__ import annotations

from airhttp.http_exceptions import BadHttpMessage, BadStatusLine, InvalidHeader, LineTooLong
from airhttp.http_parser import RawResponseMessage

from .test_http_parser import parse, parse_error


def test_field_lines_past_max_headers_fail_before_the_head_ends() -> None:
    # No blank line: the head never completes, yet the 13th field is enough to refuse it.
    data = b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 13
    error = parse_error(data, max_headers=10)
    assert type(error) is BadHttpMessage and "Too many headers" in str(error)


def test_max_headers_plus_one_line_still_waits_for_the_rest() -> None:
    # Up to the count the complete-head check allows, a partial head just waits.
    out = parse(b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 11, max_headers=10)
    assert out.error is None and out.events == []


def test_folded_lines_are_not_counted_as_fields() -> None:
    # 30 continuation lines of 3 fields: within max_headers=10 and max_field_size.
    folded = b"X: a\r\n" + b" b\r\n" * 10
    out = parse(b"HTTP/1.1 200 OK\r\n" + folded * 3 + b"\r\n", max_headers=10)
    assert out.error is None
    (head,) = out.heads
    assert isinstance(head, RawResponseMessage) and len(head.headers) == 3


def test_trailer_lines_past_max_headers_fail_before_the_section_ends() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    error = parse_error(head + b"T: 1\r\n" * 12, max_headers=10)
    assert type(error) is BadHttpMessage and "Too many headers" in str(error)


def test_trailers_within_max_headers_still_wait_for_the_rest() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    out = parse(head + b"T: 1\r\n" * 9, max_headers=10)
    assert out.error is None


def test_a_bad_status_line_fails_before_the_head_ends() -> None:
    # As llhttp: the status line is judged once complete, not when the blank line comes.
    assert type(parse_error(b"HTTP\r\nX: y\r\n")) is BadStatusLine


def test_a_bad_status_line_comes_before_a_bare_cr_in_a_field() -> None:
    assert type(parse_error(b"XX\r\nA: b\rc\r\n\r\n")) is BadStatusLine
    assert type(parse_error(b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n")) is InvalidHeader


def test_a_long_status_line_is_first_judged_as_a_status_line() -> None:
    # Too long and no status line at all: BadStatusLine, whole, split or incomplete.
    assert type(parse_error(b"ICY " + b"x" * 80 + b"\r\n\r\n", max_line_size=20)) is (BadStatusLine)
    assert type(parse_error(b"HTTP/1.1 200 " + b"x" * 80, max_line_size=20)) is LineTooLong


def test_a_complete_field_line_too_long_fails_before_the_head_ends() -> None:
    head = b"HTTP/1.1 200 OK\r\nX: " + b"v" * 40 + b"\r\nY: 1\r\n"
    assert type(parse_error(head, max_field_size=10)) is LineTooLong
