"""The HTTP/2 frame splitter, sans-IO: whole, split at every offset, and byte by byte."""

from __future__ import annotations

import hyperframe.frame
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airhttp._h2_frames import FrameSplitter, FrameTooLarge, Segment, header_frames

_BIG = 2**14


def _frame(kind: int, flags: int, stream_id: int, body: bytes) -> bytes:
    return len(body).to_bytes(3, "big") + bytes([kind, flags]) + stream_id.to_bytes(4, "big") + body


SETTINGS = _frame(0x4, 0, 0, b"")
HEADERS = _frame(0x1, 0x4, 1, b"\x88")
HEADERS_CUT = _frame(0x1, 0x0, 3, b"\x88")  # no END_HEADERS: a CONTINUATION follows
CONTINUATION = _frame(0x9, 0x4, 3, b"")
DATA = _frame(0x0, 0x0, 1, b"abc")
DATA_END = _frame(0x0, 0x1, 1, b"xyz" * 10)
DATA_BIG = _frame(0x0, 0x0, 1, b"q" * (_BIG + 1))
WINDOW = _frame(0x8, 0, 0, (100).to_bytes(4, "big"))
STREAM = SETTINGS + HEADERS + DATA + WINDOW + DATA_END + HEADERS_CUT + DATA + CONTINUATION


def _flat(segments: list[Segment]) -> list[tuple[str, bytes]]:
    out = []
    for segment in segments:
        if isinstance(segment, bytes):
            out.append(("h2", segment))
        else:
            header, body = segment
            out.append(("frame", bytes(header) + bytes(body)))
    return out


def _merge(items: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Adjacent runs for h2 joined: how reads cut them does not matter to h2."""
    merged: list[tuple[str, bytes]] = []
    for kind, data in items:
        if merged and kind == "h2" and merged[-1][0] == "h2":
            merged[-1] = ("h2", merged[-1][1] + data)
        else:
            merged.append((kind, data))
    return merged


EXPECTED = [
    ("frame", SETTINGS),
    ("frame", HEADERS),
    ("frame", DATA),
    ("frame", WINDOW),
    ("frame", DATA_END),
    # A header block carried on by CONTINUATION goes to h2 whole (a DATA frame inside
    # it is h2's to refuse).
    ("h2", HEADERS_CUT + DATA + CONTINUATION),
]


def _feed(chunks: list[bytes], max_data: int = _BIG) -> list[tuple[str, bytes]]:
    splitter = FrameSplitter()
    items: list[tuple[str, bytes]] = []
    for chunk in chunks:
        items += _flat(splitter.feed(chunk, max_data))
    return _merge(items)


def test_whole() -> None:
    assert _feed([STREAM]) == EXPECTED


def test_split_at_every_offset() -> None:
    for cut in range(len(STREAM) + 1):
        assert _feed([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_byte_by_byte() -> None:
    assert _feed([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_a_frame_over_the_limit_is_refused_from_its_header() -> None:
    for kind in (0x0, 0x1):  # DATA, HEADERS
        splitter = FrameSplitter()
        splitter.feed(HEADERS, _BIG)
        with pytest.raises(FrameTooLarge, match=f"{_BIG + 1} bytes"):
            splitter.feed(_frame(kind, 0, 1, b"q" * (_BIG + 1))[:9], _BIG)
    with pytest.raises(FrameTooLarge):  # an HTTP/1.1 answer read as a frame header
        FrameSplitter().feed(b"HTTP/1.1 400 Bad Request\r\n", _BIG)
    splitter = FrameSplitter()
    splitter.feed(DATA_BIG[:4], _BIG)  # the header completes in the next read
    with pytest.raises(FrameTooLarge):
        splitter.feed(DATA_BIG[4:12], _BIG)


def test_nothing_comes_out_of_a_cut_frame_until_it_is_whole() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(DATA[:5], _BIG) == []
    assert splitter.feed(DATA[5:-1], _BIG) == []
    assert _flat(splitter.feed(DATA[-1:] + WINDOW[:2], _BIG)) == [("frame", DATA)]
    assert _flat(splitter.feed(WINDOW[2:], _BIG)) == [("frame", WINDOW)]


@given(cuts=st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_random_cuts(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert _feed(chunks) == EXPECTED


@given(
    stream_id=st.integers(1, 2**31 - 1),
    block=st.binary(min_size=1, max_size=200),
    end_stream=st.booleans(),
    max_frame=st.integers(1, 64),
)
def test_header_frames_are_hyperframes(
    stream_id: int, block: bytes, end_stream: bool, max_frame: int
) -> None:
    """HEADERS then CONTINUATION frames, as hyperframe serialises them."""
    pieces = [block[i : i + max_frame] for i in range(0, len(block), max_frame)]
    expected = []
    for index, piece in enumerate(pieces):
        frame: hyperframe.frame.Frame
        if index == 0:
            frame = hyperframe.frame.HeadersFrame(stream_id, data=piece)
            if end_stream:
                frame.flags.add("END_STREAM")
        else:
            frame = hyperframe.frame.ContinuationFrame(stream_id, data=piece)
        if index == len(pieces) - 1:
            frame.flags.add("END_HEADERS")
        expected.append(frame.serialize())
    assert header_frames(stream_id, block, end_stream, max_frame) == b"".join(expected)
