"""Tests for airhttp.compression_utils: bounded body decoders, compressors, zlib backends."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airhttp import _body_decoders as body_decoders
from airhttp import compression_utils as cu
from airhttp.compression_utils import (
    BodyDecompressor,
    ZLibCompressor,
    ZLibDecompressor,
    encoding_to_mode,
    make_decompressor,
    set_zlib_backend,
)
from airhttp.http_exceptions import ContentEncodingError

brotli: Any = pytest.importorskip("brotli")
zstd: Any = pytest.importorskip("backports.zstd")
zstandard: Any = pytest.importorskip("zstandard")

# Text with some repetition, so the compressed form is much shorter than the original.
PAYLOAD = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(40))
ZEROS_10MB = b"\0" * 10_000_000


def raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def compress(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "deflate-raw":
        return raw_deflate(data)
    if coding == "br":
        return bytes(brotli.compress(data))
    assert coding in ("zstd", "zstd-zstandard")
    return bytes(zstd.compress(data))


def header_for(coding: str) -> str:
    return {"deflate-raw": "deflate", "zstd-zstandard": "zstd"}.get(coding, coding)


def decoder_for(coding: str, monkeypatch: pytest.MonkeyPatch) -> BodyDecompressor:
    if coding == "zstd-zstandard":
        monkeypatch.setattr(body_decoders, "_zstd", None)
        monkeypatch.setattr(body_decoders, "_zstandard", zstandard)
    return make_decompressor(header_for(coding))


def drain(dec: BodyDecompressor, data: bytes, max_length: int) -> bytes:
    """Feed one piece and pull output until the decoder wants input, checking the bound."""
    parts = [dec.decompress(data, max_length)]
    assert len(parts[0]) <= max_length
    while not dec.needs_input:
        out = dec.decompress(b"", max_length)
        assert len(out) <= max_length
        parts.append(out)
    return b"".join(parts)


def decode(dec: BodyDecompressor, pieces: list[bytes], max_length: int) -> bytes:
    out = b"".join(drain(dec, piece, max_length) for piece in pieces)
    return out + dec.flush()


CODINGS = ["gzip", "deflate", "deflate-raw", "br", "zstd", "zstd-zstandard"]


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_round_trip_for_every_two_way_split_of_the_body(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = compress(coding, PAYLOAD)
    for cut in range(len(body) + 1):
        dec = decoder_for(coding, monkeypatch)
        assert decode(dec, [body[:cut], body[cut:]], 97) == PAYLOAD, cut
        assert dec.eof


@pytest.mark.parametrize("coding", CODINGS)
def test_round_trip_byte_by_byte_with_a_tiny_output_bound(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = compress(coding, PAYLOAD)
    dec = decoder_for(coding, monkeypatch)
    pieces = [body[i : i + 1] for i in range(len(body))]
    assert decode(dec, pieces, 5) == PAYLOAD
    assert dec.eof


@pytest.mark.parametrize("coding", CODINGS)
def test_zero_max_length_means_no_bound(coding: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dec = decoder_for(coding, monkeypatch)
    assert dec.decompress(compress(coding, PAYLOAD), 0) + dec.flush() == PAYLOAD


@pytest.mark.parametrize("coding", CODINGS)
def test_empty_body_decodes_to_nothing_without_error(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dec = decoder_for(coding, monkeypatch)
    assert dec.decompress(b"", 100) == b""
    assert dec.needs_input
    assert dec.flush() == b""


def test_deflate_header_is_sniffed_even_when_the_first_piece_is_one_byte() -> None:
    for body in (zlib.compress(PAYLOAD), raw_deflate(PAYLOAD)):
        dec = make_decompressor("deflate")
        assert dec.decompress(body[:1], 100) == b""
        assert dec.needs_input
        assert decode(dec, [body[1:]], 100) == PAYLOAD


def test_encoding_name_is_case_insensitive() -> None:
    dec = make_decompressor("GZip")
    assert dec.encoding == "gzip"
    assert decode(dec, [gzip.compress(PAYLOAD)], 1000) == PAYLOAD


# --- bounded output: decompression bombs --------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_ten_megabytes_of_zeros_come_out_in_bounded_steps(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = compress(coding, ZEROS_10MB)
    dec = decoder_for(coding, monkeypatch)
    limit = 65536
    first = dec.decompress(body, limit)
    assert len(first) == limit
    assert not dec.needs_input
    total = len(first)
    calls = 1
    while not dec.needs_input:
        out = dec.decompress(b"", limit)
        assert len(out) <= limit
        assert out.count(0) == len(out)
        total += len(out)
        calls += 1
    assert dec.flush() == b""
    assert total == len(ZEROS_10MB)
    assert calls >= len(ZEROS_10MB) // limit
    assert dec.eof


def test_legacy_brotli_without_output_limit_still_hands_out_bounded_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(body_decoders, "_BROTLI_BOUNDED", False)
    dec = make_decompressor("br")
    out = drain(dec, brotli.compress(b"\0" * 1_000_000), 4096)
    assert out == b"\0" * 1_000_000


# --- multiple members / frames and trailing bytes -----------------------------------------


def test_multi_member_gzip_decodes_every_member_for_every_split() -> None:
    body = gzip.compress(b"first member\n") + gzip.compress(b"") + gzip.compress(PAYLOAD)
    for cut in range(len(body) + 1):
        dec = make_decompressor("gzip")
        assert decode(dec, [body[:cut], body[cut:]], 11) == b"first member\n" + PAYLOAD
        assert dec.eof


def test_multi_member_gzip_bomb_stays_bounded_across_members() -> None:
    body = gzip.compress(b"\0" * 1_000_000) * 3
    dec = make_decompressor("gzip")
    assert drain(dec, body, 50_000) == b"\0" * 3_000_000


@pytest.mark.parametrize("coding", ["zstd", "zstd-zstandard"])
def test_multiple_zstd_frames_decode_back_to_back(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = zstd.compress(b"one ") + zstd.compress(b"") + zstd.compress(PAYLOAD)
    for cut in range(len(body) + 1):
        dec = decoder_for(coding, monkeypatch)
        assert decode(dec, [body[:cut], body[cut:]], 13) == b"one " + PAYLOAD, cut
        assert dec.eof


@pytest.mark.parametrize("coding", CODINGS)
def test_bytes_after_the_end_of_the_stream_are_rejected(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dec = decoder_for(coding, monkeypatch)
    with pytest.raises(ContentEncodingError, match="Can not decode content-encoding"):
        decode(dec, [compress(coding, PAYLOAD) + b"garbage!"], 1 << 20)


# --- corrupt and cut-short bodies ---------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_corrupt_body_raises_content_encoding_error_naming_the_coding(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dec = decoder_for(coding, monkeypatch)
    message = f"Can not decode content-encoding: {header_for(coding)}"
    with pytest.raises(ContentEncodingError, match=message):
        decode(dec, [b"\x1f\x8b this is not compressed at all" * 4], 1000)


def test_gzip_with_a_bad_crc_is_rejected() -> None:
    body = bytearray(gzip.compress(PAYLOAD))
    body[-8] ^= 0xFF
    with pytest.raises(ContentEncodingError):
        decode(make_decompressor("gzip"), [bytes(body)], 1000)


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd", "zstd-zstandard"])
def test_cut_short_body_yields_what_was_decodable_like_aiohttp(
    coding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = compress(coding, PAYLOAD * 50)
    dec = decoder_for(coding, monkeypatch)
    out = decode(dec, [body[: len(body) - 6]], 1000)
    assert (PAYLOAD * 50).startswith(out)
    assert not dec.eof


@pytest.mark.parametrize("body", [zlib.compress(PAYLOAD)[:-3], raw_deflate(PAYLOAD)[:20], b"x"])
def test_cut_short_deflate_body_is_an_error_like_aiohttp(body: bytes) -> None:
    dec = make_decompressor("deflate")
    drain(dec, body, 1000)
    with pytest.raises(ContentEncodingError, match="deflate"):
        dec.flush()


# --- choosing a decoder -------------------------------------------------------------------


def test_unknown_coding_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="x-gzip"):
        make_decompressor("x-gzip")


def test_known_coding_without_its_library_is_a_content_encoding_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(body_decoders, "_brotli", None)
    monkeypatch.setattr(body_decoders, "_zstd", None)
    monkeypatch.setattr(body_decoders, "_zstandard", None)
    with pytest.raises(ContentEncodingError, match="brotli"):
        make_decompressor("br")
    with pytest.raises(ContentEncodingError, match=r"backports\.zstd"):
        make_decompressor("zstd")


def test_accept_encoding_lists_every_installed_coding() -> None:
    assert cu.HAS_BROTLI and cu.HAS_ZSTD
    assert cu.ACCEPT_ENCODING == "gzip, deflate, br, zstd"


# --- the zlib backend switch --------------------------------------------------------------


class CountingZlib:
    """A zlib-like module that records which factories were used."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.MAX_WBITS = zlib.MAX_WBITS
        self.Z_FULL_FLUSH = zlib.Z_FULL_FLUSH
        self.Z_SYNC_FLUSH = zlib.Z_SYNC_FLUSH
        self.Z_BEST_SPEED = zlib.Z_BEST_SPEED
        self.Z_FINISH = zlib.Z_FINISH
        self.error: type[Exception] = zlib.error

    def compressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("compressobj")
        return zlib.compressobj(*args, **kwargs)

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("decompressobj")
        return zlib.decompressobj(*args, **kwargs)

    def compress(self, data: bytes, /, level: int = -1) -> bytes:
        self.calls.append("compress")
        return zlib.compress(data, level)

    def decompress(self, data: bytes, /, wbits: int = 15, bufsize: int = 16384) -> bytes:
        self.calls.append("decompress")
        return zlib.decompress(data, wbits, bufsize)


@pytest.fixture
def counting_zlib() -> Iterator[CountingZlib]:
    fake = CountingZlib()
    set_zlib_backend(fake)
    try:
        yield fake
    finally:
        set_zlib_backend(zlib)


def test_set_zlib_backend_is_used_by_compressors_and_decoders_made_afterwards(
    counting_zlib: CountingZlib,
) -> None:
    compressor = ZLibCompressor(encoding="gzip")
    body = compressor.compress_sync(PAYLOAD) + compressor.flush()
    assert decode(make_decompressor("gzip"), [body], 1000) == PAYLOAD
    legacy = ZLibDecompressor(encoding="gzip")
    assert legacy.decompress_sync(body) == PAYLOAD
    assert counting_zlib.calls == ["compressobj", "decompressobj", "decompressobj"]


def test_set_zlib_backend_constants_drive_encoding_to_mode(counting_zlib: CountingZlib) -> None:
    counting_zlib.MAX_WBITS = 14
    assert encoding_to_mode("gzip") == 30
    assert encoding_to_mode("deflate") == 14
    assert encoding_to_mode("deflate", suppress_deflate_header=True) == -14


def test_default_backend_is_stdlib_zlib_again_after_restore(counting_zlib: CountingZlib) -> None:
    set_zlib_backend(zlib)
    make_decompressor("gzip")
    assert counting_zlib.calls == []


def test_zlib_errors_of_a_replacement_backend_become_content_encoding_errors() -> None:
    class OwnError(Exception):
        pass

    class Broken:
        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            raise OwnError("boom")

    fake = CountingZlib()
    fake.error = OwnError
    fake.decompressobj = lambda *a, **k: Broken()  # type: ignore[method-assign]
    set_zlib_backend(fake)
    try:
        dec = make_decompressor("gzip")
    finally:
        set_zlib_backend(zlib)
    with pytest.raises(ContentEncodingError, match="gzip"):
        dec.decompress(b"\x1f\x8b\x08\x00", 10)


# --- encoding_to_mode and the request-side compressor -------------------------------------


@pytest.mark.parametrize(
    ("encoding", "suppress", "wbits"),
    [("gzip", False, 31), ("gzip", True, 31), ("deflate", False, 15), ("deflate", True, -15)],
)
def test_encoding_to_mode_matches_aiohttp(encoding: str, suppress: bool, wbits: int) -> None:
    assert encoding_to_mode(encoding, suppress) == wbits


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15)])
async def test_compressor_output_decodes_with_zlib(encoding: str, wbits: int) -> None:
    compressor = ZLibCompressor(encoding=encoding)
    body = await compressor.compress(PAYLOAD) + compressor.flush()
    assert zlib.decompress(body, wbits) == PAYLOAD


def test_compressor_passes_level_and_strategy() -> None:
    fast = ZLibCompressor(encoding="deflate", level=0, strategy=zlib.Z_FILTERED)
    stored = fast.compress_sync(PAYLOAD) + fast.flush()
    assert len(stored) > len(PAYLOAD)
    assert zlib.decompress(stored) == PAYLOAD


async def test_big_inputs_are_compressed_in_the_executor_and_stay_in_order() -> None:
    submitted: list[int] = []

    class CountingExecutor(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    pieces = [bytes([i]) * (5000 + i) for i in range(8)] + [b"small"]
    with CountingExecutor(max_workers=2) as executor:
        compressor = ZLibCompressor(encoding="gzip", executor=executor, max_sync_chunk_size=4096)
        outputs = await asyncio.gather(*(compressor.compress(p) for p in pieces))
        body = b"".join(outputs) + compressor.flush()
    assert submitted == [len(p) for p in pieces[:-1]]
    assert gzip.decompress(body) == b"".join(pieces)


async def test_no_sync_limit_keeps_every_input_inline() -> None:
    compressor = ZLibCompressor(encoding="deflate", max_sync_chunk_size=None)
    body = await compressor.compress(b"a" * 100_000) + compressor.flush()
    assert zlib.decompress(body) == b"a" * 100_000


# --- aiohttp's low-level wrappers ---------------------------------------------------------


async def test_legacy_zlib_decompressor_exposes_zlib_state() -> None:
    body = raw_deflate(PAYLOAD) + b"tail"
    dec = ZLibDecompressor(encoding="deflate", suppress_deflate_header=True, max_sync_chunk_size=8)
    out = dec.decompress_sync(body[:10], max_length=4)
    assert len(out) <= 4
    assert dec.data_available == bool(dec.unconsumed_tail)
    out += await dec.decompress(dec.unconsumed_tail + body[10:])
    out += dec.flush()
    assert out == PAYLOAD
    assert dec.eof
    assert dec.unused_data == b"tail"


@pytest.mark.parametrize("kind", ["br", "zstd"])
async def test_legacy_brotli_and_zstd_decompressors_decode(kind: str) -> None:
    if kind == "br":
        dec: Any = cu.BrotliDecompressor(max_sync_chunk_size=16)
        body = brotli.compress(PAYLOAD)
    else:
        dec = cu.ZSTDDecompressor(max_sync_chunk_size=16)
        body = zstd.compress(PAYLOAD)
    out = dec.decompress_sync(body[:10], 3)
    assert len(out) <= 3
    out += await dec.decompress(body[10:])
    out += dec.flush()
    assert out == PAYLOAD
    assert dec.eof
    assert not dec.data_available


def test_legacy_wrappers_say_which_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(body_decoders, "_brotli", None)
    monkeypatch.setattr(body_decoders, "_zstd", None)
    monkeypatch.setattr(body_decoders, "_zstandard", None)
    with pytest.raises(RuntimeError, match="Brotli"):
        cu.BrotliDecompressor()
    with pytest.raises(RuntimeError, match=r"backports\.zstd"):
        cu.ZSTDDecompressor()
