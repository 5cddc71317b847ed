"""Fuzz target: the bounded body decoders (airhttp._body_decoders, behind Content-Encoding).

gzip, deflate, br and zstd from `make_decompressor` (what the client protocol uses), and
the `zstandard` fallback zstd decoder. The input's settings (see tests/fuzz/_fdp.py) pick
the coding, the step (the `max_length` of every call), up to 8 cut points and a mode:
0 the data is the compressed body; 1 the data is compressed first (a round trip); 2 the
data is compressed as two members/frames back to back; 3 it is compressed, then cut
short or has one byte flipped. The body is decoded the way client_proto._BodyDecoder
pumps it: feed a piece while the decoder needs input, else drain it with b"", then flush.

ContentEncodingError is the documented error (client_proto turns it into
ClientPayloadError with its text). A bug is any of:
- another exception, or a ContentEncodingError whose text is not aiohttp's
  "Can not decode content-encoding: <coding>";
- a call returning more than `max_length` bytes, or not bytes; flush() returning more
  than one step once the decoder says it needs input; a decoder that neither gives
  output nor asks for input (a spin);
- the body decoded whole and as pieces disagreeing: one output must be a prefix of the
  other, and when both ran to the end, both fail or neither does, with equal output
  (except where libzstd itself takes a frame in pieces that it refuses whole: it checks a
  frame's declared content size only then, so that split-dependence is not counted);
- a round trip not giving the original data back, two gzip members or zstd frames not
  giving both parts, two deflate or br streams back to back not failing;
- a body the coding's own library decodes completely (gzip: member by member, deflate:
  zlib or raw as the header says, br and zstd: their one-shot decoders) decoded
  differently or refused.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import brotli
import zstandard
from backports import zstd

from airhttp._body_decoders import (
    BodyDecompressor,
    TooManyMembersError,
    _ZstandardBody,
    make_decompressor,
)
from airhttp.http_exceptions import ContentEncodingError

from . import _fdp

CODINGS = ("gzip", "deflate", "br", "zstd", "zstd-zstandard")
MODES = ("raw", "round_trip", "two_members", "damaged")
# Decoding stops (and only prefixes are compared) past this many steps of output.
_STEPS_KEPT = 2048
_MAX_OUTPUT = 4 << 20


class DecoderBug(AssertionError):
    """A decoder broke its contract on this input (see the module docstring)."""


def _decoder(coding: str) -> BodyDecompressor:
    if coding == "zstd-zstandard":
        return _ZstandardBody(zstandard)
    return make_decompressor(coding)


@dataclass
class Decoded:
    out: bytes
    error: ContentEncodingError | None
    # Stopped at the output cap: `out` is only a prefix and `error` says nothing.
    capped: bool

    @property
    def too_many_members(self) -> bool:
        return self.error is not None and isinstance(self.error.__cause__, TooManyMembersError)


def output_cap(step: int) -> int:
    """Output past which decoding stops: enough for thousands of steps, never huge."""
    return min(step * _STEPS_KEPT, _MAX_OUTPUT)


def decode(coding: str, pieces: Sequence[bytes], step: int) -> Decoded:
    """Pump `pieces` through a fresh decoder `step` bytes at a time, checking every call."""
    dec = _decoder(coding)
    cap = output_cap(step)
    parts: list[bytes] = []
    size = 0
    pending = deque(pieces)
    # Calls in a row that were given nothing and gave nothing back.
    idle = 0
    try:
        while True:
            if dec.needs_input:
                if not pending:
                    break
                chunk = dec.decompress(pending.popleft(), step)
                idle = 0
            else:
                chunk = dec.decompress(b"", step)
                idle = 0 if chunk else idle + 1
                if idle > 2:
                    raise DecoderBug("no output and no request for input: the decoder spins")
            _check_chunk(chunk, step)
            parts.append(chunk)
            size += len(chunk)
            if size > cap:
                return Decoded(b"".join(parts), None, True)
        tail = dec.flush()
        _check_chunk(tail, step)
        parts.append(tail)
    except ContentEncodingError as exc:
        expected = "Can not decode content-encoding: " + coding.partition("-")[0]
        if exc.message != expected:
            raise DecoderBug(f"unexpected error text {exc.message!r}") from exc
        return Decoded(b"".join(parts), exc, False)
    return Decoded(b"".join(parts), None, False)


def _check_chunk(chunk: object, step: int) -> None:
    if type(chunk) is not bytes:
        raise DecoderBug(f"output is {type(chunk).__name__}, not bytes")
    if len(chunk) > step:
        raise DecoderBug(f"one call gave {len(chunk)} bytes, more than max_length={step}")


def _zstd_library_accepts(pieces: Sequence[bytes]) -> bool:
    """Whether libzstd's own streaming decoder, fed these pieces, takes them without error."""
    dec = zstd.ZstdDecompressor()
    try:
        for piece in pieces:
            while piece:
                if dec.eof:
                    dec = zstd.ZstdDecompressor()
                dec.decompress(piece)
                piece = dec.unused_data if dec.eof else b""
    except zstd.ZstdError:
        return False
    return True


def compare(coding: str, whole: Decoded, parts: Decoded, pieces: Sequence[bytes]) -> None:
    """Where the body was cut must not change what it decodes to."""
    short, long = sorted((whole.out, parts.out), key=len)
    if not long.startswith(short):
        raise DecoderBug("whole and split decoding disagree on the output")
    if whole.capped or parts.capped or whole.too_many_members or parts.too_many_members:
        return
    if (whole.error is None) != (parts.error is None):
        refused, taken = (
            (pieces, [b"".join(pieces)]) if parts.error else ([b"".join(pieces)], pieces)
        )
        if (
            coding.startswith("zstd")
            and _zstd_library_accepts(taken)
            and not _zstd_library_accepts(refused)
        ):
            # libzstd itself checks a frame's declared content size only when the frame
            # arrives whole: its split-dependence, not the decoder's.
            return
        raise DecoderBug(f"whole gave error {whole.error!r}, split gave {parts.error!r}")
    if whole.error is None and whole.out != parts.out:
        raise DecoderBug("whole and split decoding gave different output")


# --- compressing, for modes 1-3 -------------------------------------------------------------


def compress(coding: str, data: bytes, variant: int) -> bytes:
    """`data` in `coding`; `variant` (0-3) picks a level, and raw or wrapped deflate."""
    if coding == "gzip":
        obj = zlib.compressobj(variant * 3, zlib.DEFLATED, 31)
        return obj.compress(data) + obj.flush()
    if coding == "deflate":
        obj = zlib.compressobj(variant // 2 * 9, zlib.DEFLATED, -15 if variant % 2 else 15)
        return obj.compress(data) + obj.flush()
    if coding == "br":
        return bytes(brotli.compress(data, quality=variant * 3))
    return bytes(zstd.compress(data, variant * 3 - 1))


# --- the libraries' own decoding, for mode 0 and 3 ------------------------------------------


def _zlib_all(data: bytes, wbits: int, members: bool, limit: int) -> bytes | None:
    out = b""
    while True:
        obj = zlib.decompressobj(wbits)
        try:
            out += obj.decompress(data, limit - len(out) + 1)
        except zlib.error:
            return None
        if not obj.eof or len(out) > limit:
            return None
        data = obj.unused_data
        if not data:
            return out
        if not members:
            return None


def library_decode(coding: str, data: bytes, limit: int) -> bytes | None:
    """What the coding's own library makes of the whole body, or None (refused or too big)."""
    if coding == "gzip":
        return _zlib_all(data, 31, True, limit) if data else b""
    if coding == "deflate":
        if len(data) < 2:
            return b"" if not data else None
        wrapped = data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0
        return _zlib_all(data, 15 if wrapped else -15, False, limit)
    if coding == "br":
        decoder = brotli.Decompressor()
        try:
            out = decoder.process(data, output_buffer_limit=limit + 1)
        except brotli.error:
            return None
        return bytes(out) if decoder.is_finished() and len(out) <= limit else None
    out = b""
    while data:
        frame = zstd.ZstdDecompressor()
        try:
            out += bytes(frame.decompress(data, limit - len(out) + 1))
        except zstd.ZstdError:
            return None
        if not frame.eof or len(out) > limit:
            return None
        data = frame.unused_data
    return out


@dataclass
class Shape:
    """How modes 1-3 build the body: a level variant, a cut/flip position, cut or flip."""

    variant: int
    where: int
    cut: bool


def _body_for(mode: str, coding: str, data: bytes, shape: Shape) -> tuple[bytes, bytes | None]:
    """The body to decode and, where the mode fixes it, the output it must give."""
    if mode == "raw":
        return data, None
    if mode == "round_trip":
        return compress(coding, data, shape.variant), data
    if mode == "two_members":
        half = shape.where % (len(data) + 1)
        body = compress(coding, data[:half], shape.variant)
        body += compress(coding, data[half:], shape.variant)
        return body, (data if coding in ("gzip", "zstd", "zstd-zstandard") else None)
    body = compress(coding, data, shape.variant)
    at = shape.where % (len(body) + 1)
    if shape.cut or at == len(body):
        return body[:at], None
    flipped = body[at] ^ (1 << (shape.where >> 13))
    return body[:at] + bytes([flipped]) + body[at + 1 :], None


def one_input(data: bytes) -> None:
    fdp = _fdp.provider(data)
    coding = CODINGS[fdp.ConsumeIntInRange(0, len(CODINGS) - 1)]
    mode = MODES[fdp.ConsumeIntInRange(0, len(MODES) - 1)]
    step = fdp.ConsumeIntInRange(1, 1 << 16)
    cuts = _fdp.consume_cuts(fdp, 8)
    shape = Shape(fdp.ConsumeIntInRange(0, 3), fdp.ConsumeIntInRange(0, 0xFFFF), _fdp.flag(fdp))
    body, expected = _body_for(mode, coding, _fdp.take_rest(fdp), shape)
    whole = decode(coding, [body] if body else [], step)
    pieces = _fdp.split(body, cuts)
    parts = decode(coding, pieces, step)
    compare(coding, whole, parts, pieces)
    if whole.capped:
        return
    if mode == "two_members" and expected is None:
        if whole.error is None:
            raise DecoderBug(f"two {coding} streams back to back were accepted")
        return
    if expected is None and mode != "round_trip":
        expected = library_decode(coding.partition("-")[0], body, output_cap(step))
    if expected is not None and (whole.error is not None or whole.out != expected):
        raise DecoderBug(f"{coding} body decoded to {whole.out[:64]!r}, error {whole.error!r}")


def seed(
    body: bytes, coding: int, mode: int, step: int, cuts: tuple[int, ...] = (), where: int = 0
) -> bytes:
    """The input that makes `one_input` decode `body` this way (level variant 0, cut)."""
    writer = _fdp.SeedWriter()
    writer.int_in_range(0, len(CODINGS) - 1, coding).int_in_range(0, len(MODES) - 1, mode)
    writer.int_in_range(1, 1 << 16, step).cuts(cuts, 8)
    writer.int_in_range(0, 3, 0).int_in_range(0, 0xFFFF, where).flag(True)
    return writer.build(body)


def main() -> None:
    from ._harness import run

    run(one_input)


if __name__ == "__main__":
    main()
