"""Tests for permessage-deflate (airhttp._ws_deflate) and the frame reader that inflates with it.

Byte strings only: messages fed whole, split at every offset and byte by byte; the
`websockets` library's implementation is the independent peer for interop checks.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
import time
import tracemalloc
import zlib
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets import headers as ws_headers
from websockets.extensions.permessage_deflate import PerMessageDeflate as WsDeflate
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from airhttp._ws_deflate import DeflateParams, PerMessageDeflate, extension_offer, negotiate
from airhttp._ws_frames import WebSocketReader, build_compressed_frame, build_frame
from airhttp.http_websocket import WebSocketError, WSHandshakeError, WSMessage, WSMsgType

from . import ws_reader_support
from .ws_reader_support import (
    INVALID_TEXT,
    KEY,
    MESSAGE_TOO_BIG,
    PROTOCOL_ERROR,
    binary,
    corrupted,
    drain,
    read_chunks,
    splits,
    text,
)
from .ws_support import BINARY, CLOSE, CONT, PING, PONG, TEXT, server_frame

RSV1, RSV2, RSV3 = 0b100, 0b010, 0b001
DEFAULT = DeflateParams()

# The reader inflates as DEFAULT agrees unless a test passes other `params` (None: off).
assert_reads = functools.partial(ws_reader_support.assert_reads, params=DEFAULT)
assert_fails = functools.partial(ws_reader_support.assert_fails, params=DEFAULT)

# Every combination of context takeover in the two directions.
TAKEOVERS = [
    DeflateParams(client_no_context_takeover=client, server_no_context_takeover=server)
    for client, server in itertools.product((False, True), repeat=2)
]


def mirrored(params: DeflateParams) -> DeflateParams:
    """The same agreement as the server applies it: its sending side is our "server" side."""
    return DeflateParams(
        client_max_window_bits=params.server_max_window_bits,
        server_max_window_bits=params.client_max_window_bits,
        client_no_context_takeover=params.server_no_context_takeover,
        server_no_context_takeover=params.client_no_context_takeover,
    )


def server_side(params: DeflateParams) -> PerMessageDeflate:
    return PerMessageDeflate(mirrored(params))


def pieces(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:stop] for start, stop in itertools.pairwise(bounds)]


def compressed_frames(body: bytes, opcode: int, cuts: Sequence[int] = ()) -> bytes:
    """A compressed message body as server frames: RSV1 on the first fragment only."""
    parts = pieces(body, cuts)
    wire = bytearray()
    for index, part in enumerate(parts):
        first = index == 0
        wire += server_frame(
            opcode if first else CONT, part, fin=index == len(parts) - 1, rsv=RSV1 if first else 0
        )
    return bytes(wire)


def sample_payloads() -> Iterator[bytes]:
    """Repetitive, random and mixed payloads: back-references near and far, and none."""
    rng = random.Random(7692)
    yield b""
    yield b"Hello"
    yield b"abcabcabcabc" * 50
    noise = bytes(rng.randrange(256) for _ in range(700))
    yield noise
    yield noise[:300] + b"\x00" * 2000 + noise[:300]
    yield "caf\u00e9 \u20ac \U0001f600 ".encode() * 40


# --- the offer --------------------------------------------------------------------------


def test_offer_for_the_largest_window_is_the_bare_parameter() -> None:
    assert extension_offer() == "permessage-deflate; client_max_window_bits"
    assert extension_offer(15) == "permessage-deflate; client_max_window_bits"


def test_offer_for_a_smaller_window_carries_its_size() -> None:
    for bits in range(9, 15):
        assert extension_offer(bits) == (
            f"permessage-deflate; client_max_window_bits; server_max_window_bits={bits}"
        )


def test_offer_outside_9_to_15_is_refused() -> None:
    for bits in (-15, 0, 1, 8, 16):
        with pytest.raises(ValueError):
            extension_offer(bits)
        with pytest.raises(ValueError):
            negotiate("permessage-deflate", bits)


# --- the answer -------------------------------------------------------------------------


def test_answer_without_extensions_means_no_compression() -> None:
    for value in ("", "   ", ",", " , ,\t"):
        assert negotiate(value, 15) is None, value


def test_bare_acceptance_keeps_the_offered_server_window() -> None:
    # Our offer carries a bare client_max_window_bits: without an answer we use 15 bits;
    # a smaller offer limits the server's window.
    assert negotiate("permessage-deflate", 15) == DeflateParams()
    assert negotiate("permessage-deflate", 11) == DeflateParams(server_max_window_bits=11)
    assert negotiate("permessage-deflate; client_max_window_bits", 15) == DeflateParams()


def test_other_extensions_and_a_second_acceptance_are_ignored() -> None:
    assert negotiate("x-webkit-deflate-frame", 15) is None
    assert negotiate("x-foo, permessage-deflate", 15) == DeflateParams()
    assert negotiate(
        "permessage-deflate; server_max_window_bits=10, permessage-deflate", 15
    ) == DeflateParams(server_max_window_bits=10)


def test_every_response_parameter_is_read() -> None:
    answer = (
        "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9;"
        " client_no_context_takeover; server_no_context_takeover"
    )
    assert negotiate(answer, 12) == DeflateParams(
        client_max_window_bits=10,
        server_max_window_bits=9,
        client_no_context_takeover=True,
        server_no_context_takeover=True,
    )


def test_answer_syntax_variants_are_accepted() -> None:
    expected = DeflateParams(client_max_window_bits=9, server_no_context_takeover=True)
    variants = [
        "permessage-deflate;client_max_window_bits=9;server_no_context_takeover",
        "  permessage-deflate ;\tclient_max_window_bits = 9 ; server_no_context_takeover  ",
        'permessage-deflate; client_max_window_bits="9"; server_no_context_takeover',
        'permessage-deflate; client_max_window_bits="\\9"; server_no_context_takeover',
        "Permessage-Deflate; Client_Max_Window_Bits=9; SERVER_NO_CONTEXT_TAKEOVER",
        ", permessage-deflate; client_max_window_bits=9; server_no_context_takeover, ,",
    ]
    for value in variants:
        assert negotiate(value, 15) == expected, value


def test_window_of_8_bits_is_accepted_in_both_directions() -> None:
    answer = "permessage-deflate; client_max_window_bits=8; server_max_window_bits=8"
    params = negotiate(answer, 9)
    assert params == DeflateParams(client_max_window_bits=8, server_max_window_bits=8)


REFUSED_ANSWERS: list[tuple[str, str]] = [
    ("permessage-deflate; mystery", "^Extension for deflate not supported; mystery$"),
    ("permessage-deflate; foo=1", "^Extension for deflate not supported; foo=1$"),
    ("permessage-deflate; client_max_window_bit=9", "not supported"),
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", "twice"),
    ("permessage-deflate; server_max_window_bits=9; Server_Max_Window_Bits=10", "twice"),
    ("permessage-deflate; server_max_window_bits", "needs a value"),
    ("permessage-deflate; server_no_context_takeover=1", "takes no value"),
    ('permessage-deflate; client_no_context_takeover=""', "Malformed"),
    ("permessage-deflate; client_no_context_takeover=yes", "takes no value"),
    ("permessage-deflate; client_max_window_bits=16", "^Invalid window size$"),
    ("permessage-deflate; client_max_window_bits=7", "^Invalid window size$"),
    ("permessage-deflate; server_max_window_bits=16", "^Invalid window size$"),
    ("permessage-deflate; server_max_window_bits=0", "^Invalid window size$"),
    ("permessage-deflate; server_max_window_bits=09", "^Invalid window size$"),
    ("permessage-deflate; server_max_window_bits=+9", "^Invalid window size$"),
    ("permessage-deflate; server_max_window_bits=nine", "^Invalid window size$"),
    ("permessage-deflate; server_max_window_bits=1e1", "^Invalid window size$"),
    ("permessage-deflate;", "Malformed"),
    ("permessage-deflate; =9", "Malformed"),
    ("permessage-deflate; server_max_window_bits=", "Malformed"),
    ("permessage-deflate; server_max_window_bits=9=9", "Malformed"),
    ('permessage-deflate; server_max_window_bits="9', "Malformed"),
    ('permessage-deflate; server_max_window_bits="1 0"', "Malformed"),
    ("permessage-deflate server_no_context_takeover", "Malformed"),
    ("permessage-deflate; server_no_context_takeover\n", "Malformed"),
    ("permessage-deflate; server_\u00e9", "Malformed"),
    ('"permessage-deflate"', "Malformed"),
]


def test_answers_a_client_must_fail_on_raise_a_handshake_error() -> None:
    for value, message in REFUSED_ANSWERS:
        with pytest.raises(WSHandshakeError, match=message):
            negotiate(value, 15)


def test_server_window_above_the_offered_one_is_refused() -> None:
    with pytest.raises(WSHandshakeError, match=r"^Invalid window size$"):
        negotiate("permessage-deflate; server_max_window_bits=11", 10)
    assert negotiate("permessage-deflate; server_max_window_bits=10", 10) is not None
    # The client window is ours to keep to, whatever we asked of the server.
    assert negotiate("permessage-deflate; client_max_window_bits=12", 10) is not None


def test_offer_and_answer_agree_with_an_independent_server() -> None:
    # The websockets library parses our offer and answers it; we read its answer.
    configs = [
        {},
        {"client_max_window_bits": 9, "server_max_window_bits": 10},
        {"server_no_context_takeover": True, "client_no_context_takeover": True},
        {"client_max_window_bits": 12, "server_max_window_bits": 9},
    ]
    for config, offered in itertools.product(configs, (15, 11)):
        factory = ServerPerMessageDeflateFactory(**config)  # type: ignore[arg-type]
        ((name, params),) = ws_headers.parse_extension(extension_offer(offered))
        response, peer = factory.process_request_params(params, [])
        answer = ws_headers.build_extension([(name, response)])
        ours = negotiate(answer, offered)
        assert ours == DeflateParams(
            client_max_window_bits=peer.remote_max_window_bits,
            server_max_window_bits=peer.local_max_window_bits,
            client_no_context_takeover=peer.remote_no_context_takeover,
            server_no_context_takeover=peer.local_no_context_takeover,
        ), (config, offered, answer)


# --- PerMessageDeflate directly -----------------------------------------------------------

# RFC 7692 section 7.2.3: the example payloads and what they decode to.
RFC_EXAMPLES: list[tuple[str, list[str], str]] = [
    ("7.2.3.1 one compressed block", ["f248cdc9c90700"], "Hello"),
    ("7.2.3.2 sliding window shared", ["f248cdc9c90700", "f200110000"], "Hello"),
    ("7.2.3.3 block with no compression", ["000500faff48656c6c6f00"], "Hello"),
    ("7.2.3.4 block with BFINAL set", ["f348cdc9c9070000"], "Hello"),
    ("7.2.3.5 two blocks in one message", ["f24805000000ffffcac9c90700"], "Hello"),
]


def test_rfc_examples_decompress() -> None:
    for case, bodies, expected in RFC_EXAMPLES:
        deflate = PerMessageDeflate(DEFAULT)
        for body in bodies:
            assert deflate.decompress(bytes.fromhex(body), 0) == expected.encode(), case


def test_compress_matches_the_rfc_examples() -> None:
    shared = PerMessageDeflate(DEFAULT)
    assert shared.compress(b"Hello").hex() == "f248cdc9c90700"
    assert shared.compress(b"Hello").hex() == "f200110000"
    fresh = PerMessageDeflate(DeflateParams(client_no_context_takeover=True))
    assert fresh.compress(b"Hello").hex() == "f248cdc9c90700"
    assert fresh.compress(b"Hello").hex() == "f248cdc9c90700"


def test_empty_message_compresses_to_one_zero_octet() -> None:
    # RFC 7692 section 7.2.3.6: an empty stored block's first octet.
    deflate = PerMessageDeflate(DEFAULT)
    assert deflate.compress(b"") == b"\x00"
    assert deflate.decompress(b"\x00", 0) == b""
    assert deflate.decompress(b"", 0) == b""
    assert deflate.compress(b"again") != b""


def test_no_context_takeover_resets_the_server_window() -> None:
    # The second RFC example refers back to the first message: without takeover it is bad.
    deflate = PerMessageDeflate(DeflateParams(server_no_context_takeover=True))
    assert deflate.decompress(bytes.fromhex("f248cdc9c90700"), 0) == b"Hello"
    with pytest.raises(WebSocketError) as info:
        deflate.decompress(bytes.fromhex("f200110000"), 0)
    assert info.value.code == PROTOCOL_ERROR


def test_compressed_messages_round_trip_for_every_window_and_takeover() -> None:
    for bits, takeover in itertools.product(range(8, 16), TAKEOVERS):
        params = dataclasses.replace(
            takeover, client_max_window_bits=bits, server_max_window_bits=bits
        )
        client, server = PerMessageDeflate(params), server_side(params)
        for payload in [*sample_payloads(), *sample_payloads()]:
            assert server.decompress(client.compress(payload), 0) == payload, params
            assert client.decompress(server.compress(payload), 0) == payload, params


def window_checked_inflate(body: bytes, inflater: zlib._Decompress) -> bytes:
    """Inflate in 16-byte steps, so references are checked against the window kept."""
    return b"".join(inflater.decompress(part) for part in pieces(body, range(16, len(body), 16)))


def test_an_8_bit_client_window_is_honoured_despite_zlib() -> None:
    # zlib cannot compress with a 256-byte window; ours must still fit a peer keeping one.
    rng = random.Random(8)
    client = PerMessageDeflate(DeflateParams(client_max_window_bits=8))
    peer = zlib.decompressobj(-8)
    for distance in (200, 251, 256, 257, 300, 511):
        block = bytes(rng.randrange(256) for _ in range(distance))
        payload = block * 3 + b"\x00" * 100
        body = client.compress(payload) + b"\x00\x00\xff\xff"
        assert window_checked_inflate(body, peer) == payload, distance
        once = client.compress_once(payload, 15) + b"\x00\x00\xff\xff"
        assert window_checked_inflate(once, zlib.decompressobj(-8)) == payload, distance


def test_an_8_bit_server_window_still_inflates_zlib_style_streams() -> None:
    # A server rounding 8 up to 9 may refer 300 bytes back across messages.
    rng = random.Random(9)
    block = bytes(rng.randrange(256) for _ in range(300))
    sender = zlib.compressobj(6, zlib.DEFLATED, -10)
    ours = PerMessageDeflate(DeflateParams(server_max_window_bits=8))
    for _ in range(3):
        body = (sender.compress(block) + sender.flush(zlib.Z_SYNC_FLUSH))[:-4]
        assert ours.decompress(body, 0) == block


def test_compress_once_takes_the_shared_window_away() -> None:
    # The server's inflater holds every compressed message in order; a message from a
    # separate compressor must not leave ours referring to the wrong bytes.
    client = PerMessageDeflate(DEFAULT)
    server = zlib.decompressobj(-15)
    messages = [b"shared history " * 20, b"override " * 20, b"shared history " * 20]
    bodies = [
        client.compress(messages[0]),
        client.compress_once(messages[1], 9),
        client.compress(messages[2]),
    ]
    for body, message in zip(bodies, messages, strict=True):
        assert server.decompress(body + b"\x00\x00\xff\xff") == message


def test_compress_once_refuses_windows_outside_9_to_15() -> None:
    deflate = PerMessageDeflate(DEFAULT)
    for bits in (0, 8, 16):
        with pytest.raises(ValueError):
            deflate.compress_once(b"x", bits)


def test_bad_construction_is_refused() -> None:
    for params in (
        DeflateParams(client_max_window_bits=7),
        DeflateParams(server_max_window_bits=16),
    ):
        with pytest.raises(ValueError):
            PerMessageDeflate(params)
    for level in (-2, 10):
        with pytest.raises(ValueError):
            PerMessageDeflate(DEFAULT, level=level)
    assert PerMessageDeflate(DEFAULT, level=0).compress(b"stored") != b""


def test_corrupt_deflate_data_is_a_protocol_error() -> None:
    # Block type 3 is reserved (RFC 1951 section 3.2.3); a distance before the start.
    for body in (b"\xff\xff\xff\xff", b"\x07", bytes.fromhex("f200110000")):
        with pytest.raises(WebSocketError) as info:
            PerMessageDeflate(DEFAULT).decompress(body, 1000)
        assert info.value.code == PROTOCOL_ERROR, body
        assert "Invalid compressed message" in str(info.value)


def test_decompressed_size_limit_is_exact() -> None:
    payload = b"0123456789" * 100
    body = PerMessageDeflate(DEFAULT).compress(payload)
    assert PerMessageDeflate(DEFAULT).decompress(body, 1000) == payload
    with pytest.raises(WebSocketError) as info:
        PerMessageDeflate(DEFAULT).decompress(body, 999)
    assert info.value.code == MESSAGE_TOO_BIG


def test_limit_counts_each_message_separately() -> None:
    deflate = PerMessageDeflate(DEFAULT)
    body = PerMessageDeflate(DeflateParams(client_no_context_takeover=True)).compress(b"x" * 600)
    for _ in range(5):
        assert deflate.decompress(body, 600) == b"x" * 600


def zero_bomb(mebibytes: int) -> bytes:
    """`mebibytes` MiB of zeros as one compressed message, built without compressing it all.

    From the second MiB on, a zero window and a sync flush give the same bytes each time.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
    repeat = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return (first + repeat * (mebibytes - 1))[:-4]


def test_compression_bomb_stops_at_the_limit_without_inflating_it() -> None:
    bomb = zero_bomb(100)
    assert len(bomb) < 110_000
    wire = compressed_frames(bomb, BINARY)
    reader = WebSocketReader(max_msg_size=1 << 20, deflate=PerMessageDeflate(DEFAULT))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(WebSocketError) as info:
            reader.feed_data(wire)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == MESSAGE_TOO_BIG
    assert peak < 4 << 20, peak
    assert time.perf_counter() - started < 2.0


def test_compression_bomb_in_fragments_stops_at_the_limit() -> None:
    bomb = zero_bomb(20)
    wire = compressed_frames(bomb, TEXT, range(1000, len(bomb), 1000))
    reader = WebSocketReader(max_msg_size=1 << 20, deflate=PerMessageDeflate(DEFAULT))
    with pytest.raises(WebSocketError) as info:
        for chunk in pieces(wire, range(4096, len(wire), 4096)):
            reader.feed_data(chunk)
    assert info.value.code == MESSAGE_TOO_BIG


def test_decompress_never_returns_more_than_the_limit() -> None:
    deflate = PerMessageDeflate(DEFAULT)
    bomb = zero_bomb(8)
    out = deflate.decompress_chunk(bomb[:500], 1 << 20)
    assert 0 < len(out) <= 1 << 20
    with pytest.raises(WebSocketError) as info:
        deflate.decompress_chunk(bomb[500:], 1 << 20)
    assert info.value.code == MESSAGE_TOO_BIG


# --- the reader ---------------------------------------------------------------------------


def test_compressed_text_and_binary_read_under_any_split() -> None:
    for params in TAKEOVERS:
        server = server_side(params)
        wire = bytearray()
        expected: list[WSMessage] = []
        for index, payload in enumerate(sample_payloads()):
            if index % 2:
                wire += compressed_frames(server.compress(payload), BINARY)
                expected.append(binary(payload))
            else:
                value = payload.decode("utf-8", "replace")
                wire += compressed_frames(server.compress(value.encode()), TEXT)
                expected.append(text(value))
        assert_reads(bytes(wire), expected, params=params, case=params)


def test_every_window_size_reads_back_with_context_takeover() -> None:
    for bits in range(8, 16):
        params = DeflateParams(server_max_window_bits=bits)
        server = server_side(params)
        payloads = list(sample_payloads())[2:5]
        wire = b"".join(compressed_frames(server.compress(p), BINARY) for p in payloads * 2)
        messages = read_chunks(pieces(wire, range(7, len(wire), 97)), params)
        assert messages == [binary(p) for p in payloads * 2], bits


def test_fragmented_compressed_message_with_control_frames_between() -> None:
    payload = "fragments \u20ac and more fragments \u20ac ".encode() * 10
    body = server_side(DEFAULT).compress(payload)
    third = len(body) // 3
    wire = (
        server_frame(TEXT, body[:third], fin=False, rsv=RSV1)
        + server_frame(PING, b"1")
        + server_frame(CONT, body[third : 2 * third], fin=False)
        + server_frame(CONT, b"", fin=False)
        + server_frame(PONG, b"2")
        + server_frame(CONT, body[2 * third :])
    )
    expected = [
        WSMessage(WSMsgType.PING, b"1", ""),
        WSMessage(WSMsgType.PONG, b"2", ""),
        text(payload.decode()),
    ]
    assert_reads(wire, expected)


def test_rfc_fragmented_example_reads() -> None:
    # RFC 7692 section 7.2.3.1: "Hello" compressed and sent in two fragments.
    assert_reads(bytes.fromhex("4103f248cd" + "8004c9c90700"), [text("Hello")])


def test_plain_messages_mix_with_compressed_ones_without_touching_the_window() -> None:
    server = server_side(DEFAULT)
    wire = (
        compressed_frames(server.compress(b"Hello"), TEXT)
        + server_frame(TEXT, b"plain")
        + build_frame(BINARY, b"\x00\x01", mask_key=None)
        + compressed_frames(server.compress(b"Hello"), TEXT)
    )
    expected = [text("Hello"), text("plain"), binary(b"\x00\x01"), text("Hello")]
    assert_reads(wire, expected)


def test_empty_compressed_messages_read_as_empty() -> None:
    server = server_side(DEFAULT)
    wire = (
        compressed_frames(server.compress(b""), TEXT)
        + compressed_frames(b"", BINARY)
        + compressed_frames(server.compress(b"after"), TEXT)
    )
    assert_reads(wire, [text(""), binary(b""), text("after")])


def test_rsv1_outside_the_first_data_frame_is_a_protocol_error() -> None:
    body = server_side(DEFAULT).compress(b"Hello")
    cases = {
        "continuation": server_frame(TEXT, body[:2], fin=False, rsv=RSV1)
        + server_frame(CONT, body[2:], rsv=RSV1),
        "ping": server_frame(PING, b"", rsv=RSV1),
        "pong": server_frame(PONG, b"x", rsv=RSV1),
        "close": server_frame(CLOSE, b"\x03\xe8", rsv=RSV1),
        "plain start, flagged continuation": server_frame(BINARY, b"a", fin=False)
        + server_frame(CONT, body, rsv=RSV1),
    }
    for case, wire in cases.items():
        assert_fails(wire, PROTOCOL_ERROR, case=case)


def test_rsv2_and_rsv3_stay_errors_with_deflate() -> None:
    body = server_side(DEFAULT).compress(b"Hello")
    for rsv in (RSV2, RSV3, RSV1 | RSV2, RSV1 | RSV3):
        assert_fails(server_frame(TEXT, body, rsv=rsv), PROTOCOL_ERROR, case=f"rsv={rsv:03b}")


def test_rsv1_without_deflate_and_corrupt_compressed_data_are_protocol_errors() -> None:
    body = server_side(DEFAULT).compress(b"Hello")
    assert_fails(compressed_frames(body, TEXT), PROTOCOL_ERROR, params=None)
    assert_fails(compressed_frames(b"\xff\xff\xff\xff", BINARY), PROTOCOL_ERROR)


def test_compressed_text_that_is_not_utf8_is_invalid_text() -> None:
    for payload in (b"\xff", b"ok\xc0\xaf", b"ends in \xe2\x82", b"\xed\xa0\x80"):
        body = server_side(DEFAULT).compress(payload)
        assert_fails(compressed_frames(body, TEXT), INVALID_TEXT, case=payload)


def test_inflated_size_over_max_msg_size_is_too_big() -> None:
    body = server_side(DEFAULT).compress(b"z" * 1001)
    assert len(body) < 100
    assert_fails(
        compressed_frames(body, BINARY, [len(body) // 2]), MESSAGE_TOO_BIG, max_msg_size=1000
    )
    assert_reads(compressed_frames(body, BINARY), [binary(b"z" * 1001)], max_msg_size=1001)


def test_wire_size_over_max_msg_size_is_too_big_from_the_header() -> None:
    header = server_frame(BINARY, declared_length=1 << 40, rsv=RSV1)
    assert_fails(header, MESSAGE_TOO_BIG, max_msg_size=1024)


def test_reader_with_deflate_and_no_limit_reads_large_messages() -> None:
    payload = bytes(range(256)) * 4096
    body = server_side(DEFAULT).compress(payload)
    assert read_chunks([compressed_frames(body, BINARY)], DEFAULT) == [binary(payload)]


# --- the writer -------------------------------------------------------------------------


def test_build_compressed_frame_sets_rsv1_and_masks() -> None:
    client = PerMessageDeflate(DEFAULT)
    frame = build_compressed_frame(TEXT, b"Hello", client, mask_key=KEY)
    assert frame[:2] == bytes([0x80 | 0x40 | TEXT, 0x80 | 7])
    assert frame[2:6] == KEY
    unmasked = build_compressed_frame(BINARY, b"Hello", PerMessageDeflate(DEFAULT), mask_key=None)
    assert unmasked == bytes([0xC2, 7]) + bytes.fromhex("f248cdc9c90700")


def test_build_compressed_frame_refuses_control_and_continuation_opcodes() -> None:
    for opcode in (CONT, CLOSE, PING, PONG, 0x3):
        with pytest.raises(ValueError):
            build_compressed_frame(opcode, b"x", PerMessageDeflate(DEFAULT), mask_key=KEY)


def test_build_compressed_frame_with_wbits_uses_a_fresh_window() -> None:
    client = PerMessageDeflate(DEFAULT)
    build_compressed_frame(TEXT, b"Hello", client, mask_key=None)
    again = build_compressed_frame(TEXT, b"Hello", client, mask_key=None, wbits=12)
    assert again[2:] == bytes.fromhex("f248cdc9c90700")


# --- interop with the websockets library ---------------------------------------------------

INTEROP_PARAMS = [
    DeflateParams(),
    DeflateParams(client_no_context_takeover=True, server_no_context_takeover=True),
    DeflateParams(client_max_window_bits=9, server_max_window_bits=10),
    DeflateParams(client_max_window_bits=12, server_no_context_takeover=True),
    DeflateParams(server_max_window_bits=9, client_no_context_takeover=True),
]


def websockets_server(params: DeflateParams) -> WsDeflate:
    """websockets' server-side permessage-deflate for the same agreement."""
    return WsDeflate(
        remote_no_context_takeover=params.client_no_context_takeover,
        local_no_context_takeover=params.server_no_context_takeover,
        remote_max_window_bits=params.client_max_window_bits,
        local_max_window_bits=params.server_max_window_bits,
    )


def websockets_parse(wire: bytes, peer: WsDeflate, count: int) -> list[Frame]:
    """`count` client frames as a websockets server reads them (unmasked and inflated)."""
    stream = StreamReader()
    stream.feed_data(wire)
    frames: list[Frame] = []
    for _ in range(count):
        parser = Frame.parse(stream.read_exact, mask=True, extensions=[peer])
        with pytest.raises(StopIteration) as done:
            next(parser)
        frames.append(done.value.value)
    assert not stream.buffer
    return frames


def test_our_compressed_frames_decode_with_websockets() -> None:
    for params in INTEROP_PARAMS:
        client, peer = PerMessageDeflate(params), websockets_server(params)
        payloads = [*sample_payloads(), *sample_payloads()]
        wire = b"".join(build_compressed_frame(BINARY, p, client, mask_key=KEY) for p in payloads)
        frames = websockets_parse(wire, peer, len(payloads))
        assert [bytes(frame.data) for frame in frames] == payloads, params
        assert all(frame.opcode is Opcode.BINARY and not frame.rsv1 for frame in frames)


def test_websockets_compressed_frames_read_with_ours() -> None:
    for params in INTEROP_PARAMS:
        peer = websockets_server(params)
        wire = bytearray()
        expected: list[WSMessage] = []
        for payload in [*sample_payloads(), *sample_payloads()]:
            value = payload.decode("utf-8", "replace")
            encoded = value.encode()
            wire += Frame(Opcode.TEXT, encoded).serialize(mask=False, extensions=[peer])
            expected.append(text(value))
            # Fragmented: websockets sync-flushes every fragment, RSV1 on the first only.
            half = len(payload) // 2
            wire += Frame(Opcode.BINARY, payload[:half], fin=False).serialize(
                mask=False, extensions=[peer]
            )
            wire += Frame(Opcode.CONT, payload[half:]).serialize(mask=False, extensions=[peer])
            expected.append(binary(payload))
        messages = read_chunks(pieces(bytes(wire), range(5, len(wire), 61)), params)
        assert messages == expected, params


# --- properties ---------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

deflate_params = st.builds(
    DeflateParams,
    client_max_window_bits=st.integers(8, 15),
    server_max_window_bits=st.integers(8, 15),
    client_no_context_takeover=st.booleans(),
    server_no_context_takeover=st.booleans(),
)


@st.composite
def compressed_conversations(
    draw: st.DrawFn, params: DeflateParams
) -> tuple[bytes, list[WSMessage]]:
    """Server bytes for random messages, some compressed, fragmented at random."""
    server = server_side(params)
    wire = bytearray()
    expected: list[WSMessage] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            value = draw(st.text(max_size=80))
            payload, opcode, message = value.encode(), TEXT, text(value)
        else:
            raw = draw(st.binary(max_size=400) | st.sampled_from(list(sample_payloads())))
            payload, opcode, message = raw, BINARY, binary(raw)
        if draw(st.booleans()):
            wire += server_frame(opcode, payload)
        else:
            body = server.compress(payload)
            cuts = st.lists(st.integers(0, len(body)), max_size=3)
            wire += compressed_frames(body, opcode, draw(cuts))
        expected.append(message)
        if draw(st.booleans()):
            wire += server_frame(PING, b"p")
            expected.append(WSMessage(WSMsgType.PING, b"p", ""))
    return bytes(wire), expected


@PROPERTY_SETTINGS
@given(st.data(), deflate_params)
def test_any_compressed_conversation_reads_back_under_any_split(
    data: st.DataObject, params: DeflateParams
) -> None:
    wire, expected = data.draw(compressed_conversations(params))
    assert read_chunks(data.draw(splits(wire)), params) == expected


@PROPERTY_SETTINGS
@given(deflate_params, st.lists(st.binary(max_size=300), max_size=6))
def test_our_compressed_messages_inflate_on_the_server_side(
    params: DeflateParams, payloads: list[bytes]
) -> None:
    client, server = PerMessageDeflate(params), server_side(params)
    for payload in payloads:
        assert server.decompress(client.compress(payload), 0) == payload


@st.composite
def hostile_compressed_bytes(draw: st.DrawFn) -> bytes:
    """Frames with RSV1 and random payloads, or a valid conversation with bytes overwritten."""
    if draw(st.booleans()):
        wire = bytearray()
        for _ in range(draw(st.integers(1, 4))):
            opcode = draw(st.sampled_from([TEXT, BINARY, CONT, PING]))
            rsv = draw(st.sampled_from([RSV1, RSV1, 0, RSV2]))
            wire += server_frame(opcode, draw(st.binary(max_size=120)), rsv=rsv)
        return bytes(wire)
    return draw(corrupted(draw(compressed_conversations(DEFAULT))[0]))


@PROPERTY_SETTINGS
@given(st.data(), hostile_compressed_bytes(), st.sampled_from([0, 1, 64, 4096]))
def test_arbitrary_bytes_with_deflate_give_messages_or_a_websocket_error(
    data: st.DataObject, noise: bytes, max_msg_size: int
) -> None:
    def outcome(chunks: Sequence[bytes]) -> tuple[list[WSMessage], int | None]:
        reader = WebSocketReader(max_msg_size=max_msg_size, deflate=PerMessageDeflate(DEFAULT))
        messages: list[WSMessage] = []
        for chunk in chunks:
            try:
                reader.feed_data(chunk)
            except WebSocketError as exc:
                return messages + drain(reader), exc.code
            messages += drain(reader)
        return messages, None

    messages, code = outcome(data.draw(splits(noise)))
    assert code in (None, PROTOCOL_ERROR, INVALID_TEXT, MESSAGE_TOO_BIG)
    for message in messages:
        if message.type is WSMsgType.TEXT:
            assert isinstance(message.data, str)
        elif message.type is not WSMsgType.CLOSE:
            assert isinstance(message.data, bytes)
    # Chunking changes neither the messages nor whether the connection fails. The code
    # may differ: zlib raises on bad data without handing out what it inflated before,
    # so a smaller chunk can show that output's bad UTF-8 (1007) or size (1009) first.
    whole_messages, whole_code = outcome([noise])
    assert messages == whole_messages
    assert (code is None) == (whole_code is None)
