"""Property tests for the response parser: any input and any split behave the same.

Hypothesis generates bytes and well-formed responses; no sockets or event loop needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airhttp import http_exceptions
from airhttp._settings import RequestSettings
from airhttp.http_exceptions import HttpProcessingError
from airhttp.http_parser import (
    CONNECTION_CLOSED,
    NEED_DATA,
    PAUSED,
    EndOfMessage,
    RawResponseMessage,
    ResponseParser,
)

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DOCUMENTED = tuple(getattr(http_exceptions, name) for name in http_exceptions.__all__)


@dataclass
class Run:
    events: list[Any]
    error: type[Exception] | None


def run(
    data: bytes,
    cuts: list[int],
    methods: list[str],
    *,
    eof: bool,
    read_until_eof: bool = True,
) -> Run:
    """Feed `data` cut at `cuts`; drain with a bounded number of calls; record the outcome."""
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    parser = ResponseParser()
    pending = list(methods)
    parser.start_response(pending.pop(0), RequestSettings(read_until_eof=read_until_eof))
    events: list[Any] = []
    budget = 4 * len(data) + 50
    stopped = False

    def drain() -> None:
        nonlocal budget, stopped
        while True:
            budget -= 1
            assert budget > 0, "parser keeps producing events without consuming input"
            event = parser.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, bytes):
                assert type(event) is bytes and event
                if events and isinstance(events[-1], bytes):
                    events[-1] += event
                    continue
                events.append(event)
            elif isinstance(event, RawResponseMessage):
                events.append(
                    (
                        event.version,
                        event.code,
                        event.reason,
                        tuple(event.headers.items()),
                        event.raw_headers,
                        event.should_close,
                        event.chunked,
                        event.content_length,
                        event.compression,
                        event.upgrade,
                    )
                )
            elif isinstance(event, EndOfMessage):
                trailers = event.trailers
                events.append(("end", None if trailers is None else tuple(trailers.items())))
                if pending:
                    parser.start_response(
                        pending.pop(0), RequestSettings(read_until_eof=read_until_eof)
                    )
            else:
                assert event is PAUSED or event is CONNECTION_CLOSED
                events.append(event)
                stopped = True
                return

    try:
        for piece in pieces:
            parser.feed_data(piece)
            if not stopped:
                drain()
        if eof and not stopped:
            parser.feed_eof()
            drain()
    except HttpProcessingError as exc:
        assert isinstance(exc, DOCUMENTED)
        # The internal-error safety net chains the real exception; it must never fire.
        assert exc.__cause__ is None, exc
        try:
            parser.next_event()
        except HttpProcessingError as again:
            assert type(again) is type(exc)
        else:
            raise AssertionError("a dead parser produced an event") from None
        return Run(events, type(exc))
    return Run(events, None)


def cut_points(size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, size), max_size=8).map(sorted)


# -- (1) arbitrary input ----------------------------------------------------------------

HEAD_ALPHABET = b"HTP/1.0 2345\r\n:;-=,\t abcdefxyzkCLTE\x00\x7f\xc3\x96"
SEEDS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.0 200 OK\nConnection: keep-alive\n X-Fold: a\n\nbody",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\nrest",
    b"\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\nContent-Encoding: GZIP\r\n\r\n",
]


@st.composite
def garbage(draw: st.DrawFn) -> bytes:
    """Random bytes, or a real response with random bytes inserted, dropped or replaced."""
    if draw(st.booleans()):
        alphabet = draw(st.sampled_from([bytes(range(256)), HEAD_ALPHABET]))
        chars = draw(st.lists(st.sampled_from(alphabet), max_size=300))
        return bytes(chars)
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(st.sampled_from(HEAD_ALPHABET))
        if action == "insert":
            data.insert(at, byte)
        elif at < len(data):
            if action == "delete":
                del data[at]
            else:
                data[at] = byte
    return bytes(data)


@SETTINGS
@given(
    data=garbage(),
    split_seed=st.data(),
    methods=st.lists(st.sampled_from(["GET", "HEAD", "CONNECT", "POST"]), min_size=1, max_size=3),
    eof=st.booleans(),
    read_until_eof=st.booleans(),
)
def test_any_input_gives_events_or_documented_errors_whatever_the_split(
    data: bytes,
    split_seed: st.DataObject,
    methods: list[str],
    eof: bool,
    read_until_eof: bool,
) -> None:
    whole = run(data, [], methods, eof=eof, read_until_eof=read_until_eof)
    cuts = split_seed.draw(cut_points(len(data)))
    split = run(data, cuts, methods, eof=eof, read_until_eof=read_until_eof)
    assert split == whole


_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def learn_names(data: bytes) -> None:
    """Let the parser meet every token-like field name in `data` in a valid response."""
    for line in data.split(b"\n"):
        name = line.partition(b":")[0]
        if _TOKEN_RE.fullmatch(name):
            parser = ResponseParser()
            parser.start_response("GET")
            parser.feed_data(b"HTTP/1.1 204 No Content\r\n" + name + b": 0\r\n\r\n")
            assert isinstance(parser.next_event(), RawResponseMessage)


def head_outcome(parser: ResponseParser, read: Callable[[], object]) -> object:
    try:
        event = read()
    except HttpProcessingError as exc:
        return type(exc)
    if isinstance(event, RawResponseMessage):
        return (event.version, event.code, event.reason, tuple(event.headers.items()))
    return (event, parser.buffered)


LIMITS: st.SearchStrategy[dict[str, int]] = st.fixed_dictionaries(
    {
        "max_line_size": st.integers(8, 120),
        "max_field_size": st.integers(8, 120),
        "max_headers": st.integers(1, 6),
    }
) | st.just({})


@SETTINGS
@given(data=garbage(), method=st.sampled_from(["GET", "HEAD"]), limits=LIMITS)
def test_fast_head_path_agrees_with_slow_path(
    data: bytes, method: str, limits: dict[str, int]
) -> None:
    # White-box on purpose: the slow path is the reference implementation, and this
    # is the only way to hold the fast path to it for inputs it accepts.
    learn_names(data)
    fast, slow = ResponseParser(), ResponseParser()
    for parser in (fast, slow):
        parser.start_response(method, RequestSettings(**limits))
        parser.feed_data(data)
    assert head_outcome(fast, fast.next_event) == head_outcome(slow, slow._read_head_slow)


# -- (2) valid responses round-trip --------------------------------------------------

TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~", min_size=1)
VALUE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x17F, exclude_characters="\x7f"),
    max_size=40,
).map(lambda s: s.strip(" "))
REASON = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@st.composite
def valid_response(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A well-formed response plus what the parser must report for it."""
    code = draw(st.sampled_from([200, 201, 206, 299, 404, 500, 599]))
    reason = draw(REASON)
    fields = draw(st.lists(st.tuples(TOKEN.map(lambda t: "X-" + t), VALUE), max_size=12))
    body = draw(st.binary(max_size=300))
    use_chunked = draw(st.booleans())
    newline = draw(st.sampled_from(["\r\n", "\r\n", "\n"]))
    trailers: list[tuple[str, str]] = []
    if use_chunked:
        framing = [("Transfer-Encoding", "chunked")]
        sizes = draw(st.lists(st.integers(1, 64), max_size=10))
        chunks: list[bytes] = []
        rest = body
        for size in sizes:
            if not rest:
                break
            piece, rest = rest[:size], rest[size:]
            ext = draw(st.sampled_from(["", ";a=b", " ;q"]))
            digits = draw(st.sampled_from(["{:x}", "{:X}", "{:04x}"])).format(len(piece))
            chunks.append(f"{digits}{ext}\r\n".encode() + piece + b"\r\n")
        if rest:
            chunks.append(f"{len(rest):x}\r\n".encode() + rest + b"\r\n")
        trailers = draw(st.lists(st.tuples(TOKEN.map(lambda t: "T-" + t), VALUE), max_size=3))
        trailer_block = "".join(f"{n}: {v}\r\n" for n, v in trailers).encode()
        encoded = b"".join(chunks) + b"0\r\n" + trailer_block + b"\r\n"
    else:
        framing = [("Content-Length", str(len(body)))]
        encoded = body
    all_fields = fields + framing
    head = f"HTTP/1.1 {code} {reason}{newline}" + "".join(
        f"{name}:{draw(st.sampled_from([' ', '', '  ', chr(9)]))}{value}{newline}"
        for name, value in all_fields
    )
    data = (head + newline).encode() + encoded
    expected = {
        "code": code,
        "reason": reason,
        "fields": all_fields,
        "body": body,
        "trailers": trailers or None,
        "chunked": use_chunked,
    }
    return data, expected


@SETTINGS
@given(case=valid_response(), split_seed=st.data(), repeat=st.integers(1, 3))
def test_valid_responses_round_trip_for_any_split(
    case: tuple[bytes, dict[str, Any]], split_seed: st.DataObject, repeat: int
) -> None:
    data, expected = case
    stream = data * repeat
    cuts = split_seed.draw(cut_points(len(stream)))
    outcome = run(stream, cuts, ["GET"] * repeat, eof=False)
    assert outcome.error is None
    assert len(outcome.events) == 3 * repeat - (0 if expected["body"] else repeat)
    for index in range(repeat):
        head = outcome.events[index * len(outcome.events) // repeat]
        code, reason, fields = head[1:4]
        assert (code, reason) == (expected["code"], expected["reason"])
        assert list(fields) == expected["fields"]
        assert head[6] is expected["chunked"]
    bodies = [e for e in outcome.events if isinstance(e, bytes)]
    assert bodies == [expected["body"]] * repeat if expected["body"] else not bodies
    ends = [e for e in outcome.events if isinstance(e, tuple) and e[0] == "end"]
    assert ends == [
        ("end", None if expected["trailers"] is None else tuple(expected["trailers"]))
    ] * (repeat)
