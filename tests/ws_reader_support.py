"""Feeding server bytes to airhttp's sans-IO WebSocket reader, for the frame and deflate tests.

Every input is fed whole, split at every offset and byte by byte; the frames themselves
come from `ws_support.server_frame`. Test scaffolding only: no sockets.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Final

import pytest
from hypothesis import strategies as st

from airhttp._ws_deflate import DeflateParams, PerMessageDeflate
from airhttp._ws_frames import WebSocketReader
from airhttp.http_websocket import WebSocketError, WSCloseCode, WSMessage, WSMsgType

PROTOCOL_ERROR: Final = WSCloseCode.PROTOCOL_ERROR
INVALID_TEXT: Final = WSCloseCode.INVALID_TEXT
MESSAGE_TOO_BIG: Final = WSCloseCode.MESSAGE_TOO_BIG

# A client mask key for the writer tests.
KEY: Final = b"\x37\xfa\x21\x3d"

# Inputs longer than this are split at every offset near their ends and at a stride in
# between: re-feeding a 64 KiB frame at each of its 64 Ki offsets would take minutes.
EVERY_OFFSET_LIMIT: Final = 4096


def text(value: str) -> WSMessage:
    return WSMessage(WSMsgType.TEXT, value, "")


def binary(value: bytes) -> WSMessage:
    return WSMessage(WSMsgType.BINARY, value, "")


def feed_modes(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """The same bytes whole, in two pieces at each offset, and one byte at a time."""
    yield "whole", [data]
    if len(data) <= EVERY_OFFSET_LIMIT:
        offsets: Sequence[int] = range(1, len(data))
    else:
        edges = set(range(1, 64)) | set(range(len(data) - 64, len(data)))
        offsets = sorted(edges | set(range(1, len(data), 1021)))
    for offset in offsets:
        yield f"split at {offset}", [data[:offset], data[offset:]]
    yield "byte by byte", [data[i : i + 1] for i in range(len(data))]


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` cut at up to 12 random offsets."""
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=12))))
    bounds = [0, *cuts, len(data)]
    return [data[start:stop] for start, stop in itertools.pairwise(bounds)]


@st.composite
def corrupted(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with one to four of its bytes overwritten at random."""
    wire = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not wire:
            break
        wire[draw(st.integers(0, len(wire) - 1))] = draw(st.integers(0, 255))
    return bytes(wire)


def drain(reader: WebSocketReader) -> list[WSMessage]:
    messages: list[WSMessage] = []
    while (message := reader.next_message()) is not None:
        messages.append(message)
    return messages


def read_chunks(
    chunks: Sequence[bytes], params: DeflateParams | None = None, max_msg_size: int = 0
) -> list[WSMessage]:
    """Every message a fresh reader yields for `chunks`; `params` switches deflate on."""
    deflate = None if params is None else PerMessageDeflate(params)
    reader = WebSocketReader(max_msg_size=max_msg_size, deflate=deflate)
    messages: list[WSMessage] = []
    for chunk in chunks:
        reader.feed_data(chunk)
        messages += drain(reader)
    return messages


def assert_reads(
    data: bytes,
    expected: list[WSMessage],
    params: DeflateParams | None = None,
    *,
    max_msg_size: int = 0,
    case: object = "",
) -> None:
    for mode, chunks in feed_modes(data):
        assert read_chunks(chunks, params, max_msg_size) == expected, (case, mode)


def assert_fails(
    data: bytes,
    code: int,
    params: DeflateParams | None = None,
    *,
    max_msg_size: int = 0,
    case: object = "",
) -> None:
    for mode, chunks in feed_modes(data):
        with pytest.raises(WebSocketError) as info:
            read_chunks(chunks, params, max_msg_size)
        assert info.value.code == code, (case, mode)
