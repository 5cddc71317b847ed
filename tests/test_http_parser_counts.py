"""Too many field lines are refused as they arrive, not once the head's byte cap is reached.

Sans-IO: byte strings fed whole, split at every offset and byte by byte (the `parse` helper).
"""

from __future__ import annotations

from airhttp.http_exceptions import BadHttpMessage
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
