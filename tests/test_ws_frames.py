"""Tests for the sans-IO WebSocket frame reader and writer (airhttp._ws_frames).

Every reader case is fed whole, split at every offset and byte by byte; no sockets needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airhttp._ws_frames import (
    MAX_CONTROL_PAYLOAD,
    NO_STATUS_CODE,
    WebSocketReader,
    apply_mask,
    build_frame,
    close_payload,
)
from airhttp.http_websocket import WebSocketError, WSMessage, WSMsgType

from .ws_reader_support import (
    INVALID_TEXT,
    KEY,
    MESSAGE_TOO_BIG,
    PROTOCOL_ERROR,
    assert_fails,
    assert_reads,
    binary,
    corrupted,
    read_chunks,
    splits,
    text,
)
from .ws_support import (
    BINARY,
    CLOSE,
    CONT,
    PING,
    PONG,
    TEXT,
    close_frame,
    reference_mask,
    server_frame,
)

# Cases loop inside one test rather than being parametrized: the suite-wide leak check
# costs tens of milliseconds per test, which would dwarf the parsing itself.


# --- valid input -------------------------------------------------------------------

VALID_CASES: list[tuple[str, bytes, list[WSMessage]]] = [
    ("empty text", server_frame(TEXT), [text("")]),
    ("short text", server_frame(TEXT, b"hello"), [text("hello")]),
    (
        "multibyte text",
        server_frame(TEXT, "h\u00e9\u20ac\U0001f600".encode()),
        [text("h\u00e9\u20ac\U0001f600")],
    ),
    ("empty binary", server_frame(BINARY), [binary(b"")]),
    ("125-byte binary, 7-bit length", server_frame(BINARY, b"x" * 125), [binary(b"x" * 125)]),
    ("126-byte binary, 16-bit length", server_frame(BINARY, b"y" * 126), [binary(b"y" * 126)]),
    (
        "16-bit length form for 5 bytes",
        server_frame(BINARY, b"abcde", length_bits=16),
        [binary(b"abcde")],
    ),
    (
        "64-bit length form for 5 bytes",
        server_frame(TEXT, b"abcde", length_bits=64),
        [text("abcde")],
    ),
    (
        "ping with payload",
        server_frame(PING, b"are you there"),
        [WSMessage(WSMsgType.PING, b"are you there", "")],
    ),
    ("empty pong", server_frame(PONG), [WSMessage(WSMsgType.PONG, b"", "")]),
    ("125-byte ping", server_frame(PING, b"p" * 125), [WSMessage(WSMsgType.PING, b"p" * 125, "")]),
    ("close without status", server_frame(CLOSE), [WSMessage(WSMsgType.CLOSE, NO_STATUS_CODE, "")]),
    ("close with code only", close_frame(1000), [WSMessage(WSMsgType.CLOSE, 1000, "")]),
    (
        "close with reason",
        close_frame(1001, "bye \u00e9".encode()),
        [WSMessage(WSMsgType.CLOSE, 1001, "bye \u00e9")],
    ),
    ("close with 1014", close_frame(1014), [WSMessage(WSMsgType.CLOSE, 1014, "")]),
    ("close with app code 3000", close_frame(3000, b"x"), [WSMessage(WSMsgType.CLOSE, 3000, "x")]),
    ("close with app code 4999", close_frame(4999), [WSMessage(WSMsgType.CLOSE, 4999, "")]),
    (
        "fragmented text, euro sign split across fragments",
        server_frame(TEXT, b"a\xe2", fin=False)
        + server_frame(CONT, b"\x82", fin=False)
        + server_frame(CONT, b"\xacb"),
        [text("a\u20acb")],
    ),
    (
        "fragmented binary with empty fragments",
        server_frame(BINARY, b"", fin=False)
        + server_frame(CONT, b"ab", fin=False)
        + server_frame(CONT, b""),
        [binary(b"ab")],
    ),
    (
        "control frames between fragments come out first",
        server_frame(TEXT, b"one ", fin=False)
        + server_frame(PING, b"1")
        + server_frame(CONT, b"two ", fin=False)
        + server_frame(PONG, b"2")
        + server_frame(CONT, b"three"),
        [
            WSMessage(WSMsgType.PING, b"1", ""),
            WSMessage(WSMsgType.PONG, b"2", ""),
            text("one two three"),
        ],
    ),
    (
        "close between fragments",
        server_frame(BINARY, b"a", fin=False) + close_frame(1000) + server_frame(CONT, b"b"),
        [WSMessage(WSMsgType.CLOSE, 1000, ""), binary(b"ab")],
    ),
    (
        "several messages back to back",
        server_frame(TEXT, b"a") + server_frame(BINARY, b"b") + server_frame(TEXT, b"c"),
        [text("a"), binary(b"b"), text("c")],
    ),
]


def test_valid_frames_read_the_same_under_any_split() -> None:
    for case, data, expected in VALID_CASES:
        assert_reads(data, expected, case=case)


def test_largest_16_bit_length_frame_is_read() -> None:
    payload = bytes(range(256)) * 255 + bytes(range(255))
    assert len(payload) == 0xFFFF
    data = server_frame(BINARY, payload)
    assert data[1] == 126
    assert_reads(data, [binary(payload)])


def test_64_bit_length_frame_is_read() -> None:
    payload = "\u20ac".encode() * 21846  # 65538 bytes: the first size needing 64 bits
    data = server_frame(TEXT, payload)
    assert data[1] == 127
    assert_reads(data, [text("\u20ac" * 21846)])


def test_partial_frame_yields_nothing_until_complete() -> None:
    reader = WebSocketReader()
    data = server_frame(TEXT, b"hello")
    reader.feed_data(data[:-1])
    assert reader.next_message() is None
    reader.feed_data(data[-1:])
    assert reader.next_message() == text("hello")
    assert reader.next_message() is None


def test_message_exactly_at_max_msg_size_is_accepted() -> None:
    data = server_frame(BINARY, b"ab", fin=False) + server_frame(CONT, b"cd")
    assert_reads(data, [binary(b"abcd")], max_msg_size=4)


def test_max_msg_size_zero_means_no_limit() -> None:
    payload = b"z" * 70000
    assert read_chunks([server_frame(BINARY, payload)], max_msg_size=0) == [binary(payload)]


def test_max_msg_size_counts_each_message_separately() -> None:
    data = server_frame(BINARY, b"abc") + server_frame(BINARY, b"def")
    assert_reads(data, [binary(b"abc"), binary(b"def")], max_msg_size=3)


def test_control_frames_do_not_count_towards_max_msg_size() -> None:
    data = (
        server_frame(BINARY, b"ab", fin=False)
        + server_frame(PING, b"p" * 100)
        + server_frame(CONT, b"cd")
    )
    assert_reads(data, [WSMessage(WSMsgType.PING, b"p" * 100, ""), binary(b"abcd")], max_msg_size=4)


def test_negative_max_msg_size_is_refused() -> None:
    with pytest.raises(ValueError):
        WebSocketReader(max_msg_size=-1)


# --- protocol errors -----------------------------------------------------------------


def test_masked_frame_from_server_is_a_protocol_error() -> None:
    assert_fails(server_frame(TEXT, b"hi", mask_key=b"\x01\x02\x03\x04"), PROTOCOL_ERROR)


def test_reserved_bits_are_a_protocol_error_without_extensions() -> None:
    # RSV1 included: it means "compressed" only when permessage-deflate was negotiated.
    for rsv in (0b100, 0b010, 0b001, 0b111):
        assert_fails(server_frame(TEXT, b"hi", rsv=rsv), PROTOCOL_ERROR, case=f"rsv={rsv:03b}")


def test_unknown_opcode_is_a_protocol_error() -> None:
    for opcode in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
        assert_fails(server_frame(opcode, b"x"), PROTOCOL_ERROR, case=opcode)


def test_fragmented_control_frame_is_a_protocol_error() -> None:
    for opcode in (CLOSE, PING, PONG):
        assert_fails(server_frame(opcode, b"", fin=False), PROTOCOL_ERROR, case=opcode)


def test_control_frame_over_125_bytes_is_a_protocol_error() -> None:
    for opcode in (CLOSE, PING, PONG):
        data = server_frame(opcode, b"\x03\xe8" + b"r" * 124)
        assert_fails(data, PROTOCOL_ERROR, case=opcode)


def test_control_frame_with_16_bit_length_form_is_a_protocol_error() -> None:
    # Even a small payload: the 7-bit length field itself must be at most 125.
    assert_fails(server_frame(PING, b"x", length_bits=16), PROTOCOL_ERROR)


def test_continuation_without_a_start_is_a_protocol_error() -> None:
    assert_fails(server_frame(CONT, b"x"), PROTOCOL_ERROR)


def test_continuation_after_a_finished_message_is_a_protocol_error() -> None:
    assert_fails(server_frame(TEXT, b"done") + server_frame(CONT, b"x"), PROTOCOL_ERROR)


def test_new_data_frame_inside_a_fragmented_message_is_a_protocol_error() -> None:
    for opcode in (TEXT, BINARY):
        data = server_frame(BINARY, b"a", fin=False) + server_frame(opcode, b"b")
        assert_fails(data, PROTOCOL_ERROR, case=opcode)


def test_64_bit_length_with_top_bit_set_is_a_protocol_error() -> None:
    data = bytes([0x82, 127]) + (1 << 63).to_bytes(8, "big")
    assert_fails(data, PROTOCOL_ERROR)


def test_one_byte_close_payload_is_a_protocol_error() -> None:
    assert_fails(server_frame(CLOSE, b"\x03"), PROTOCOL_ERROR)


def test_invalid_close_code_is_a_protocol_error() -> None:
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0xFFFF):
        assert_fails(close_frame(code), PROTOCOL_ERROR, case=code)


def test_close_reason_that_is_not_utf8_is_invalid_text() -> None:
    assert_fails(close_frame(1000, b"\xff"), INVALID_TEXT)


def test_text_that_is_not_utf8_is_invalid_text() -> None:
    cases = {
        "invalid byte": b"\xff",
        "overlong": b"ok\xc0\xaf",
        "surrogate": b"\xed\xa0\x80",
        "above U+10FFFF": b"\xf4\x90\x80\x80",
        "truncated at end": b"trailing \xe2\x82",
    }
    for case, payload in cases.items():
        assert_fails(server_frame(TEXT, payload), INVALID_TEXT, case=case)


def test_text_truncated_at_the_last_fragment_is_invalid_text() -> None:
    data = server_frame(TEXT, b"a\xe2", fin=False) + server_frame(CONT, b"\x82")
    assert_fails(data, INVALID_TEXT)


def test_invalid_utf8_fails_before_the_message_is_complete() -> None:
    reader = WebSocketReader()
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(server_frame(TEXT, b"ab\xff", fin=False))
    assert info.value.code == INVALID_TEXT


def test_frame_over_max_msg_size_is_too_big() -> None:
    assert_fails(server_frame(BINARY, b"x" * 11), MESSAGE_TOO_BIG, max_msg_size=10)


def test_fragments_adding_up_over_max_msg_size_are_too_big() -> None:
    data = server_frame(TEXT, b"x" * 6, fin=False) + server_frame(CONT, b"x" * 5)
    assert_fails(data, MESSAGE_TOO_BIG, max_msg_size=10)


def test_oversized_message_is_refused_from_its_header_alone() -> None:
    # Only the 10-byte header of a 1 TiB frame arrives: no payload needs to be buffered.
    header = server_frame(BINARY, declared_length=1 << 40)
    assert len(header) == 10
    assert_fails(header, MESSAGE_TOO_BIG, max_msg_size=1024)


def test_error_kills_the_reader_for_good() -> None:
    reader = WebSocketReader()
    bad = server_frame(TEXT, b"x", mask_key=b"abcd")
    with pytest.raises(WebSocketError) as first:
        reader.feed_data(bad)
    with pytest.raises(WebSocketError) as again:
        reader.feed_data(server_frame(TEXT, b"fine"))
    assert again.value is first.value
    assert reader.exception is first.value
    assert reader.next_message() is None


def test_messages_before_an_error_stay_available() -> None:
    reader = WebSocketReader()
    with pytest.raises(WebSocketError):
        reader.feed_data(server_frame(TEXT, b"first") + server_frame(0x3))
    assert reader.next_message() == text("first")
    assert reader.next_message() is None


def test_error_message_is_readable() -> None:
    reader = WebSocketReader()
    with pytest.raises(WebSocketError, match="masked"):
        reader.feed_data(server_frame(TEXT, b"x", mask_key=b"abcd"))


# --- writer --------------------------------------------------------------------------


def test_apply_mask_matches_the_per_octet_definition() -> None:
    for size in (0, 1, 3, 4, 5, 125, 126, 1000, 0xFFFF, 0x10000, 100003):
        payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
        masked = apply_mask(payload, KEY)
        assert masked == reference_mask(payload, KEY), size
        assert apply_mask(masked, KEY) == payload, size


def test_apply_mask_keeps_leading_zero_octets() -> None:
    # A big-integer XOR must not drop octets that come out as zero.
    assert apply_mask(KEY * 3, KEY) == bytes(12)


def test_apply_mask_needs_a_four_byte_key() -> None:
    with pytest.raises(ValueError):
        apply_mask(b"data", b"abc")


def test_build_frame_masks_and_uses_the_shortest_length() -> None:
    forms = [(0, 0, 2), (125, 125, 2), (126, 126, 4), (0xFFFF, 126, 4), (0x10000, 127, 10)]
    for size, length_byte, header_len in forms:
        payload = bytes(i & 0xFF for i in range(size))
        frame = build_frame(BINARY, payload, mask_key=KEY)
        assert frame[0] == 0x80 | BINARY, size
        assert frame[1] == 0x80 | length_byte, size
        if header_len > 2:
            assert int.from_bytes(frame[2:header_len], "big") == size
        assert frame[header_len : header_len + 4] == KEY, size
        assert frame[header_len + 4 :] == reference_mask(payload, KEY), size


def test_build_frame_sets_fin_rsv1_and_opcode_bits() -> None:
    assert build_frame(TEXT, b"a", fin=False, mask_key=None)[0] == TEXT
    assert build_frame(CONT, b"a", mask_key=None)[0] == 0x80
    assert build_frame(BINARY, b"a", rsv1=True, mask_key=None)[0] == 0x80 | 0x40 | BINARY


def test_unmasked_built_frames_read_back() -> None:
    data = (
        build_frame(TEXT, "caf\u00e9".encode(), fin=False, mask_key=None)
        + build_frame(PING, b"x", mask_key=None)
        + build_frame(CONT, b"!", mask_key=None)
        + build_frame(CLOSE, close_payload(1000, "done"), mask_key=None)
    )
    assert_reads(
        data,
        [
            WSMessage(WSMsgType.PING, b"x", ""),
            text("caf\u00e9!"),
            WSMessage(WSMsgType.CLOSE, 1000, "done"),
        ],
    )


def test_masked_frame_unmasks_to_the_payload() -> None:
    frame = build_frame(TEXT, b"hello", mask_key=KEY)
    assert frame[:2] == b"\x81\x85"
    assert reference_mask(frame[6:], KEY) == b"hello"


def test_build_frame_refuses_frames_a_peer_must_reject() -> None:
    refused = [(PING, b"", False), (CLOSE, b"x" * 126, True), (0x3, b"", True), (0xB, b"", True)]
    for opcode, payload, fin in refused:
        with pytest.raises(ValueError):
            build_frame(opcode, payload, fin=fin, mask_key=KEY)


def test_close_payload_is_code_then_utf8_reason() -> None:
    assert close_payload(1000) == b"\x03\xe8"
    assert close_payload(4000, "\u00e9") == b"\x0f\xa0\xc3\xa9"
    assert len(build_frame(CLOSE, close_payload(1000, "r" * 123), mask_key=KEY)) == 6 + 125


def test_close_payload_refuses_what_does_not_fit() -> None:
    for code, reason in ((-1, ""), (0x10000, ""), (1000, "r" * 124)):
        with pytest.raises(ValueError):
            close_payload(code, reason)


# --- properties ------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def length_form(draw: st.DrawFn, size: int) -> int:
    minimal = 7 if size <= 125 else 16 if size <= 0xFFFF else 64
    return draw(st.sampled_from([bits for bits in (7, 16, 64) if bits >= minimal]))


@st.composite
def conversations(draw: st.DrawFn) -> tuple[bytes, list[WSMessage]]:
    """Server bytes for random messages, fragmented at random, with control frames mixed in."""
    wire = bytearray()
    expected: list[WSMessage] = []

    def maybe_control() -> None:
        if draw(st.booleans()):
            kind = draw(st.sampled_from([WSMsgType.PING, WSMsgType.PONG]))
            body = draw(st.binary(max_size=MAX_CONTROL_PAYLOAD))
            wire.extend(server_frame(kind, body, length_bits=7))
            expected.append(WSMessage(kind, body, ""))

    for _ in range(draw(st.integers(0, 5))):
        maybe_control()
        if draw(st.booleans()):
            value = draw(st.text(max_size=60))
            payload, opcode, message = value.encode(), TEXT, text(value)
        else:
            raw = draw(st.binary(max_size=300))
            payload, opcode, message = raw, BINARY, binary(raw)
        cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=4)))
        bounds = [0, *cuts, len(payload)]
        pieces = [payload[start:stop] for start, stop in itertools.pairwise(bounds)]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            bits = draw(length_form(len(piece)))
            wire.extend(
                server_frame(opcode if index == 0 else CONT, piece, fin=last, length_bits=bits)
            )
            if last:
                expected.append(message)
            else:
                maybe_control()
    if draw(st.booleans()):
        wire.extend(close_frame(1000, b"bye"))
        expected.append(WSMessage(WSMsgType.CLOSE, 1000, "bye"))
    return bytes(wire), expected


@PROPERTY_SETTINGS
@given(st.data(), conversations())
def test_any_conversation_reads_back_under_any_split(
    data: st.DataObject, conversation: tuple[bytes, list[WSMessage]]
) -> None:
    wire, expected = conversation
    chunks = data.draw(splits(wire))
    assert read_chunks(chunks) == expected


def outcome(chunks: Sequence[bytes], max_msg_size: int) -> tuple[list[WSMessage], int | None]:
    """Messages read and the close code of the error, if any; other exceptions escape."""
    reader = WebSocketReader(max_msg_size=max_msg_size)
    messages: list[WSMessage] = []
    code: int | None = None
    for chunk in chunks:
        try:
            reader.feed_data(chunk)
        except WebSocketError as exc:
            code = exc.code
        while (message := reader.next_message()) is not None:
            messages.append(message)
        if code is not None:
            with pytest.raises(WebSocketError):
                reader.feed_data(b"\x81\x00")
            break
    return messages, code


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    """Pure noise, or a valid conversation with some bytes overwritten."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    return draw(corrupted(draw(conversations())[0]))


@PROPERTY_SETTINGS
@given(st.data(), hostile_bytes(), st.sampled_from([0, 1, 16, 200, 4096]))
def test_arbitrary_bytes_give_messages_or_a_websocket_error(
    data: st.DataObject, noise: bytes, max_msg_size: int
) -> None:
    messages, code = outcome(data.draw(splits(noise)), max_msg_size)
    assert code in (None, PROTOCOL_ERROR, INVALID_TEXT, MESSAGE_TOO_BIG)
    for message in messages:
        assert message.type in (
            WSMsgType.TEXT,
            WSMsgType.BINARY,
            WSMsgType.PING,
            WSMsgType.PONG,
            WSMsgType.CLOSE,
        )
        if message.type is WSMsgType.TEXT:
            assert isinstance(message.data, str)
        elif message.type is not WSMsgType.CLOSE:
            assert isinstance(message.data, bytes)
    # Chunking changes nothing: the same messages and the same verdict as one feed.
    assert (messages, code) == outcome([noise], max_msg_size)
