"""A connection's repeated response heads: parsed once, the same answer every time.

ResponseParser remembers the last few heads of its connection by their text (with the
limits they were checked against), so these tests feed the same head again and again,
whole and split, under the same and under stricter limits.
"""

from __future__ import annotations

import pytest

from airhttp._settings import RequestSettings
from airhttp.http_exceptions import LineTooLong
from airhttp.http_parser import NEED_DATA, EndOfMessage, RawResponseMessage, ResponseParser

HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: test\r\nDate: Tue, 01 Dec 2026 18:00:00 GMT\r\n"
    b"X-Long: " + b"v" * 60 + b"\r\nContent-Length: 2\r\n\r\n"
)


def read_one(parser: ResponseParser, data: bytes, settings: RequestSettings, step: int) -> list:
    """Start a GET, feed `data` in pieces of `step` bytes; the events up to the end."""
    parser.start_response("GET", settings)
    events: list = []
    for i in range(0, len(data), step):
        parser.feed_data(data[i : i + step])
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
            if isinstance(event, EndOfMessage):
                return events
    return events


def head_of(events: list) -> tuple[object, ...]:
    """Everything a response head tells, comparable."""
    (head,) = [e for e in events if isinstance(e, RawResponseMessage)]
    return (
        head.version,
        head.code,
        head.reason,
        tuple(head.headers.items()),
        head.raw_headers,
        head.should_close,
        head.compression,
        head.upgrade,
        head.chunked,
        head.content_length,
    )


@pytest.mark.parametrize("step", [len(HEAD) + 2, 7, 1])
def test_the_same_head_again_gives_the_same_message_and_body(step: int) -> None:
    parser = ResponseParser()
    settings = RequestSettings()
    first = read_one(parser, HEAD + b"ok", settings, len(HEAD) + 2)
    for _ in range(3):
        again = read_one(parser, HEAD + b"ok", settings, step)
        assert head_of(again) == head_of(first)
        assert b"".join(e for e in again if isinstance(e, bytes)) == b"ok"


def test_a_repeat_under_a_stricter_limit_is_checked_again() -> None:
    parser = ResponseParser()
    read_one(parser, HEAD + b"ok", RequestSettings(), len(HEAD) + 2)
    with pytest.raises(LineTooLong):
        read_one(parser, HEAD + b"ok", RequestSettings(max_field_size=40), len(HEAD) + 2)


def test_many_different_heads_on_one_connection_each_parse_right() -> None:
    parser = ResponseParser()
    settings = RequestSettings()
    for round_ in range(3):
        for n in range(10):
            head = HEAD.replace(b"Server: test", b"Server: test-%d" % n)
            events = read_one(parser, head + b"ok", settings, len(head) + 2)
            assert dict(head_of(events)[3])["Server"] == f"test-{n}", round_


def test_a_head_over_8_kib_parses_the_same_every_time() -> None:
    parser = ResponseParser()
    settings = RequestSettings()
    big = HEAD.replace(b"X-Long: ", b"X-Big: " + b"b" * 6000 + b"\r\nX-Long: ")
    big = big.replace(b"X-Big: ", b"X-Big2: " + b"c" * 6000 + b"\r\nX-Big: ")
    assert len(big) > 8192
    first = read_one(parser, big + b"ok", settings, len(big) + 2)
    again = read_one(parser, big + b"ok", settings, 1000)
    assert head_of(again) == head_of(first)
    assert len(dict(head_of(again)[3])["X-Big"]) == 6000
