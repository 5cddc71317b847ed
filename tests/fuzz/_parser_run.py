"""Driving airhttp's sans-IO ResponseParser over pieces of input, and what one run produced.

Shared by the response and chunked targets. A run feeds the pieces one by one, drains the
events after each (starting the next response after each end of message, as a keep-alive
connection does), then feeds EOF if asked. Whatever is wrong with the parser itself (an
exception outside HttpProcessingError, the internal-error safety net firing, a drain that
does not settle, a broken event) raises `ParserBug`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airhttp._settings import RequestSettings
from airhttp.http_exceptions import HttpProcessingError
from airhttp.http_parser import (
    CONNECTION_CLOSED,
    NEED_DATA,
    PAUSED,
    EndOfMessage,
    RawResponseMessage,
    ResponseParser,
    Sentinel,
)

from ._known import lenient

# The safety net in ResponseParser.next_event wraps internal errors in this text.
_INTERNAL = "Internal parser error"
_FORBIDDEN_IN_FIELDS = ("\r", "\n", "\x00")


class ParserBug(AssertionError):
    """The parser broke its contract on this input (see the module docstring)."""


@dataclass
class Run:
    """What one run of the parser produced; adjacent body events are merged."""

    events: list[Any] = field(default_factory=list)
    error: HttpProcessingError | None = None
    trailing: bytes = b""
    heads: list[RawResponseMessage] = field(default_factory=list)
    ends: int = 0

    def key(self) -> tuple[Any, ...]:
        """What must not depend on how the input was split."""
        error = None if self.error is None else type(self.error)
        return (self.events, error, self.trailing if self.error is None else None)

    @property
    def body(self) -> bytes:
        return b"".join(event for event in self.events if isinstance(event, bytes))


def _check_head(head: RawResponseMessage) -> tuple[Any, ...]:
    if not 100 <= head.code <= 999:
        raise ParserBug(f"status code out of range: {head.code}")
    if any(ch in head.reason for ch in _FORBIDDEN_IN_FIELDS):
        raise ParserBug(f"CR/LF/NUL in reason {head.reason!r}")
    for name, value in head.headers.items():
        if not name or any(ch in name for ch in (*_FORBIDDEN_IN_FIELDS, ":", " ", "\t")):
            raise ParserBug(f"bad field name accepted: {name!r}")
        if any(ch in value for ch in _FORBIDDEN_IN_FIELDS):
            raise ParserBug(f"CR/LF/NUL in field value accepted: {name!r}: {value!r}")
        if value != value.strip(" \t"):
            raise ParserBug(f"field value not trimmed: {value!r}")
    if head.content_length is not None and (head.content_length < 0 or head.chunked):
        raise ParserBug(f"content length {head.content_length} with chunked={head.chunked}")
    return (
        "head",
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


def _normal(event: object) -> object:
    if isinstance(event, RawResponseMessage):
        return _check_head(event)
    if isinstance(event, EndOfMessage):
        trailers = event.trailers
        if trailers is not None:
            for name, value in trailers.items():
                if any(ch in name + value for ch in _FORBIDDEN_IN_FIELDS):
                    raise ParserBug(f"CR/LF/NUL in trailer accepted: {name!r}: {value!r}")
        return ("end", None if trailers is None else tuple(trailers.items()))
    if isinstance(event, (bytes, Sentinel)):
        return event
    raise ParserBug(f"unknown event {event!r}")


class _Driver:
    def __init__(self, methods: Sequence[str], settings: RequestSettings, budget: int) -> None:
        self.parser = ResponseParser()
        self.settings = settings
        self.pending = list(methods)
        self.run = Run()
        self.stopped = False
        # Every event but NEED_DATA consumes input or ends a response, so a run can never
        # need more next_event() calls than this.
        self.budget = budget
        self.parser.start_response(self.pending.pop(0), settings)

    def next_event(self) -> object:
        self.budget -= 1
        if self.budget < 0:
            raise ParserBug("the parser did not settle: more events than the input allows")
        try:
            return self.parser.next_event()
        except HttpProcessingError as exc:
            if str(exc.message).startswith(_INTERNAL) or exc.__cause__ is not None:
                raise ParserBug(f"the safety net fired: {exc!r}") from exc
            raise

    def drain(self) -> None:
        run = self.run
        while True:
            event = self.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, (bytes, bytearray)):
                if type(event) is not bytes or not event:
                    raise ParserBug(f"body events are non-empty bytes, got {event!r}")
                if run.events and isinstance(run.events[-1], bytes):
                    run.events[-1] += event
                    continue
            elif isinstance(event, RawResponseMessage):
                run.heads.append(event)
            run.events.append(_normal(event))
            if event is PAUSED or event is CONNECTION_CLOSED:
                self.stopped = True
                return
            if isinstance(event, EndOfMessage):
                run.ends += 1
                if not self.pending:
                    # No request is waiting: the rest of the input is trailing data.
                    self.stopped = True
                    return
                self.parser.start_response(self.pending.pop(0), self.settings)


def feed(
    pieces: Sequence[bytes],
    methods: Sequence[str],
    settings: RequestSettings,
    *,
    eof: bool,
) -> Run:
    """Feed `pieces` to a fresh parser expecting responses to `methods`; see the docstring."""
    size = sum(map(len, pieces))
    driver = _Driver(methods, settings, budget=2 * size + 8 * len(methods) + 8 * len(pieces) + 16)
    parser = driver.parser
    run = driver.run
    try:
        for piece in pieces:
            parser.feed_data(piece)
            if not driver.stopped:
                driver.drain()
        if eof and not driver.stopped:
            parser.feed_eof()
            driver.drain()
    except HttpProcessingError as exc:
        run.error = exc
        _check_sticky(parser, exc)
    run.trailing = parser.trailing_data
    return run


def _check_sticky(parser: ResponseParser, exc: HttpProcessingError) -> None:
    """After an error the parser is dead: it raises the same error class again."""
    try:
        parser.next_event()
    except HttpProcessingError as again:
        if type(again) is not type(exc):
            raise ParserBug(f"the error changed from {exc!r} to {again!r}") from again
    else:
        raise ParserBug(f"next_event() after {exc!r} did not raise")


def _lenient_agree(whole: Run, parts: Run, eof: bool) -> bool:
    """Known bug 1 (tests/fuzz/_known.py): the events agree, only the errors do not."""
    if whole.events != parts.events:
        return False
    if whole.error is not None and parts.error is not None:
        return True  # both failed, with different classes
    if whole.error is None and parts.error is None:
        return False  # other trailing data: never accepted
    return not eof  # one failed early, the other is still waiting for more data


def check_split_agrees(
    data: bytes,
    pieces: Sequence[bytes],
    methods: Sequence[str],
    settings: RequestSettings,
    *,
    eof: bool,
) -> Run:
    """Parse `data` whole and as `pieces`; the events and the error class must agree."""
    whole = feed([data] if data else [], methods, settings, eof=eof)
    if len(pieces) > 1:
        parts = feed(pieces, methods, settings, eof=eof)
        if parts.key() != whole.key() and not (lenient() and _lenient_agree(whole, parts, eof)):
            raise ParserBug(
                "split input parsed differently:\n"
                f"  whole: {whole.key()!r}\n  split at {[len(p) for p in pieces]}: {parts.key()!r}"
            )
    return whole
