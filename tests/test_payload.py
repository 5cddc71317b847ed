"""Tests for airhttp.payload and airhttp.payload_streamer: request body values."""

from __future__ import annotations

import asyncio
import io
import json
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from airhttp import payload
from airhttp.payload import (
    PAYLOAD_REGISTRY,
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonBytesPayload,
    JsonPayload,
    Order,
    Payload,
    PayloadRegistry,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    get_payload,
    payload_type,
)


class CollectingWriter:
    """Stands in for a stream writer: keeps every chunk it is handed."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


async def written(p: Payload, length: int | str | None = "all") -> bytes:
    writer = CollectingWriter()
    if length == "all":
        await p.write(writer)  # type: ignore[arg-type]
    else:
        await p.write_with_length(writer, length)  # type: ignore[arg-type]
    return writer.data


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


# --- bytes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (b"abc", 3),
        (bytearray(b"ab"), 2),
        (memoryview(b"abcd"), 4),
        (memoryview(bytes(8)).cast("I"), 8),
    ],
)
def test_bytes_payload_size_counts_bytes_not_items(value: Any, size: int) -> None:
    p = get_payload(value)
    assert type(p) is BytesPayload
    assert p.size == size
    assert p.content_type == "application/octet-stream"
    assert p.buffer is value


def test_bytes_payload_rejects_text() -> None:
    with pytest.raises(TypeError, match="byte-ish"):
        BytesPayload("text")  # type: ignore[arg-type]


def test_bytes_payload_headers_hold_the_content_type() -> None:
    p = BytesPayload(b"x")
    assert list(p.headers.items()) == [("Content-Type", "application/octet-stream")]
    assert isinstance(p.headers, CIMultiDict)
    assert p.encoded_headers == b"Content-Type: application/octet-stream\r\n\r\n"


def test_headers_built_turns_true_once_the_header_dict_exists() -> None:
    p = BytesPayload(b"x")
    assert not p.headers_built
    assert p.content_type == "application/octet-stream"
    assert p.encoded_headers == b"Content-Type: application/octet-stream\r\n\r\n"
    assert not p.headers_built
    p.headers["X-A"] = "b"
    assert p.headers_built
    assert BytesPayload(b"x", headers={"X-A": "b"}).headers_built


@pytest.mark.parametrize("value", [b"abc", bytearray(b"abc"), memoryview(b"abc")])
def test_bytes_payload_buffer_is_the_value_itself(value: bytes | bytearray | memoryview) -> None:
    assert BytesPayload(value).buffer is value


def test_text_payload_buffer_holds_the_encoded_text() -> None:
    assert StringPayload("é", encoding="latin-1").buffer == b"\xe9"


def test_given_content_type_header_wins_and_keeps_its_spelling_and_lead() -> None:
    p = BytesPayload(b"x", headers=[("X", "y"), ("X", "z"), ("content-type", "a/b")])
    assert list(p.headers.items()) == [("content-type", "a/b"), ("X", "y"), ("X", "z")]
    assert p.content_type == "a/b"
    p = BytesPayload(b"x", headers={"X": "y"}, content_type="c/d")
    assert list(p.headers.items()) == [("Content-Type", "c/d"), ("X", "y")]


def test_filename_only_guesses_the_type_when_content_type_is_none() -> None:
    assert BytesPayload(b"x", filename="q.json").content_type == "application/octet-stream"
    p = BytesPayload(b"x", filename="q.json", content_type=None)
    assert p.content_type == "application/json"
    assert p.filename == "q.json"


def test_content_type_follows_header_edits() -> None:
    p = BytesPayload(b"x")
    p.headers["Content-Type"] = "zz/zz"
    assert p.content_type == "zz/zz"
    del p.headers["Content-Type"]
    with pytest.raises(KeyError):
        _ = p.content_type


async def test_bytes_payload_writes_its_value_and_stops_at_the_length() -> None:
    p = BytesPayload(b"hello world")
    assert await written(p) == b"hello world"
    assert await written(p) == b"hello world"
    assert await written(p, 4) == b"hell"
    assert await written(p, None) == b"hello world"
    assert await written(p, 10**9) == b"hello world"
    assert await written(p, 0) == b""
    assert await p.as_bytes() == b"hello world"
    assert p.decode() == "hello world"
    await p.close()
    assert not p.consumed
    assert await written(p) == b"hello world"


async def test_empty_bytes_payload_writes_no_chunk() -> None:
    writer = CollectingWriter()
    await BytesPayload(b"").write(writer)  # type: ignore[arg-type]
    assert writer.chunks == []


def test_memoryview_payload_decodes() -> None:
    assert BytesPayload(memoryview(b"ab")).decode() == "ab"


def test_large_bytes_body_warns_like_aiohttp() -> None:
    BytesPayload(bytes(2**20))
    with pytest.warns(ResourceWarning, match="io.BytesIO"):
        BytesPayload(bytes(2**20 + 1))


def test_set_content_disposition_shows_in_encoded_headers() -> None:
    p = BytesPayload(b"x")
    p.set_content_disposition("attachment", filename="a b.txt", name="n")
    assert p.headers["Content-Disposition"] == 'attachment; filename="a%20b.txt"; name="n"'
    assert p.encoded_headers == (
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="a%20b.txt"; name="n"\r\n\r\n'
    )
    p.set_content_disposition("attachment", quote_fields=False, filename="a b.txt")
    assert p.headers["Content-Disposition"] == 'attachment; filename="a b.txt"'


# --- text and JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "content_type", "encoding", "body"),
    [
        ({}, "text/plain; charset=utf-8", "utf-8", b"\xc3\xa9"),
        ({"encoding": "latin-1"}, "text/plain; charset=latin-1", "latin-1", b"\xe9"),
        ({"content_type": "text/html"}, "text/html", "utf-8", b"\xc3\xa9"),
        (
            {"content_type": "text/html; charset=latin-1"},
            "text/html; charset=latin-1",
            "latin-1",
            b"\xe9",
        ),
        (
            {"content_type": "text/plain; charset=latin-1", "encoding": "utf-8"},
            "text/plain; charset=latin-1",
            "utf-8",
            b"\xc3\xa9",
        ),
        (
            {"headers": {"Content-Type": "a/b; charset=latin-1"}},
            "a/b; charset=latin-1",
            "utf-8",
            b"\xc3\xa9",
        ),
    ],
)
async def test_string_payload_charset_comes_from_encoding_then_content_type(
    kwargs: dict[str, Any], content_type: str, encoding: str, body: bytes
) -> None:
    p = StringPayload("é", **kwargs)
    assert (p.content_type, p.encoding, await p.as_bytes()) == (content_type, encoding, body)
    assert p.size == len(body)


def test_string_payload_ignores_filename_for_its_type() -> None:
    assert StringPayload("x", filename="a.csv").content_type == "text/plain; charset=utf-8"


async def test_string_io_payload_reads_the_text_once() -> None:
    p = get_payload(io.StringIO("héllo"))
    assert type(p) is StringIOPayload
    assert (p.size, p.content_type) == (6, "text/plain; charset=utf-8")
    assert await written(p) == "héllo".encode()
    assert await written(p) == "héllo".encode()


async def test_json_payload_serialises_with_json_dumps() -> None:
    p = JsonPayload({"a": [1, "é"]})
    assert p.buffer == b'{"a": [1, "\\u00e9"]}'
    assert (p.content_type, p.encoding, p.size) == ("application/json", "utf-8", 20)
    assert JsonPayload(1, content_type="application/vnd+json").content_type == (
        "application/vnd+json"
    )
    assert JsonPayload(1, headers={"Content-Type": "a/b"}).content_type == "a/b"
    assert await JsonPayload(1, dumps=lambda v: "custom").as_bytes() == b"custom"


def test_json_bytes_payload_uses_the_bytes_dumps() -> None:
    p = JsonBytesPayload({"a": 1}, dumps=lambda v: json.dumps(v).encode())
    assert (p.buffer, p.content_type, p.encoding) == (b'{"a": 1}', "application/json", None)


# --- registry --------------------------------------------------------------------------


def test_registry_hands_back_a_payload_unchanged() -> None:
    p = BytesPayload(b"x")
    assert get_payload(p) is p


@pytest.mark.parametrize("value", [1, None, [1], {"a": 1}, object()])
def test_registry_raises_its_lookup_error_for_unknown_types(value: Any) -> None:
    with pytest.raises(payload.LookupError):
        get_payload(value)
    assert not issubclass(payload.LookupError, LookupError)


def test_registry_rejects_an_unknown_order() -> None:
    with pytest.raises(ValueError, match="Unsupported order"):
        PayloadRegistry().register(BytesPayload, bytes, order="bogus")  # type: ignore[arg-type]


def test_registry_exact_type_uses_latest_registration_and_subclasses_the_first() -> None:
    class Mine(BytesPayload):
        pass

    class Sub(bytes):
        pass

    registry = PayloadRegistry()
    registry.register(BytesPayload, (bytes, bytearray))
    registry.register(Mine, bytes)
    assert type(registry.get(b"x")) is Mine
    assert type(registry.get(bytearray(b"x"))) is BytesPayload
    assert type(registry.get(Sub(b"x"))) is BytesPayload


def test_registry_try_first_beats_exact_and_try_last_only_catches_leftovers() -> None:
    class First(BytesPayload):
        pass

    class Last(StringPayload):
        pass

    registry = PayloadRegistry()
    registry.register(BytesPayload, bytes)
    registry.register(Last, object, order=Order.try_last)
    assert type(registry.get(b"x")) is BytesPayload
    assert type(registry.get("x")) is Last
    registry.register(First, bytes, order=Order.try_first)
    assert type(registry.get(b"x")) is First


def test_registry_passes_extra_arguments_to_the_factory() -> None:
    p = PAYLOAD_REGISTRY.get(b"x", disposition=None, content_type="a/b")
    assert p.content_type == "a/b"


def test_payload_type_decorator_registers_the_class() -> None:
    class Token:
        pass

    @payload_type(Token)
    class TokenPayload(BytesPayload):
        def __init__(self, value: Token, *args: Any, **kwargs: Any) -> None:
            super().__init__(b"token", *args, **kwargs)

    assert type(get_payload(Token())) is TokenPayload


def test_builtin_registrations_pick_the_specific_class() -> None:
    assert type(get_payload("x")) is StringPayload
    assert type(get_payload(io.BytesIO(b"x"))) is BytesIOPayload
    assert type(get_payload(io.TextIOWrapper(io.BytesIO(b"x")))) is TextIOPayload
    assert type(get_payload(agen())) is AsyncIterablePayload


# --- files and streams -----------------------------------------------------------------


async def test_bytes_io_payload_starts_where_the_position_was_and_rewinds() -> None:
    value = io.BytesIO(b"hello world")
    value.seek(3)
    p = get_payload(value)
    assert isinstance(p, IOBasePayload) and p.rewindable
    assert (p.size, p.content_type, p.filename, p.autoclose) == (
        8,
        "application/octet-stream",
        None,
        True,
    )
    assert await written(p) == b"lo world"
    assert await written(p) == b"lo world"
    assert await written(p, 4) == b"lo w"
    assert await p.as_bytes() == b"lo world"
    assert p.decode() == "lo world"
    await p.close()
    assert not value.closed
    assert await written(p) == b"lo world"


async def test_bytes_io_payload_writes_in_read_size_chunks() -> None:
    writer = CollectingWriter()
    await get_payload(io.BytesIO(bytes(payload.READ_SIZE * 2 + 5))).write(writer)  # type: ignore[arg-type]
    assert [len(c) for c in writer.chunks] == [payload.READ_SIZE, payload.READ_SIZE, 5]


def test_named_bytes_io_gets_a_file_name_type_and_disposition() -> None:
    value = io.BytesIO(b"x")
    value.name = "/tmp/dir/n.png"
    p = get_payload(value)
    assert (p.filename, p.content_type) == ("n.png", "image/png")
    assert p.headers["Content-Disposition"] == 'attachment; filename="n.png"'


@pytest.mark.parametrize(
    ("kwargs", "disposition"),
    [
        ({}, 'attachment; filename="a.html"'),
        ({"disposition": "inline"}, 'inline; filename="a.html"'),
        ({"disposition": None}, None),
        ({"headers": {"Content-Disposition": "x"}}, "x"),
    ],
)
def test_io_payload_disposition_options(kwargs: dict[str, Any], disposition: str | None) -> None:
    p = BytesIOPayload(io.BytesIO(b"x"), filename="a.html", **kwargs)
    assert p.content_type == "text/html"
    assert p.headers.get("Content-Disposition") == disposition


async def test_file_payload_reads_in_the_executor_in_chunks_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "data.unknownext"
    content = bytes(range(256)) * 1000
    path.write_bytes(content)
    with open(path, "rb") as f:
        f.seek(6)
        p = get_payload(f)
        assert type(p) is BufferedReaderPayload
        assert (p.size, p.content_type, p.filename, p.autoclose) == (
            len(content) - 6,
            "application/octet-stream",
            "data.unknownext",
            False,
        )
        writer = CollectingWriter()
        await p.write(writer)  # type: ignore[arg-type]
        assert writer.data == content[6:]
        assert max(len(c) for c in writer.chunks) == payload.READ_SIZE
        assert await written(p) == content[6:]
        assert await written(p, 100_000) == content[6:100_006]
        assert await p.as_bytes() == content[6:]
        await p.close()
        assert p.consumed
        assert f.closed


async def test_text_file_payload_encodes_what_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("héllo\n" * 10, encoding="latin-1")
    with open(path, encoding="latin-1") as f:
        p = get_payload(f, encoding="utf-16")
        assert type(p) is TextIOPayload
        assert p.content_type == "text/plain; charset=utf-16"
        assert await written(p) == ("héllo\n" * 10).encode("utf-16")
        assert p.decode() == "héllo\n" * 10
        await p.close()


async def test_text_wrapper_without_a_file_has_no_size_but_replays() -> None:
    p = get_payload(io.TextIOWrapper(io.BytesIO("héllo".encode()), encoding="latin-1"))
    assert (p.size, p.content_type, p.encoding) == (None, "text/plain; charset=utf-8", "utf-8")
    assert await written(p) == "hÃ©llo".encode()
    assert await written(p, 3) == "hÃ".encode()[:3]
    await p.close()


class OneShotStream(io.RawIOBase):
    """A readable, non-seekable stream, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._data.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


async def test_non_seekable_stream_is_sent_once_with_unknown_size() -> None:
    p = get_payload(OneShotStream(b"abc"))
    assert type(p) is IOBasePayload
    assert not p.rewindable
    assert p.size is None
    assert await written(p) == b"abc"
    assert await written(p) == b""
    await p.close()


async def test_async_iterable_payload_is_written_once() -> None:
    p = get_payload(agen(b"ab", b"cd", b"ef"))
    assert (p.size, p.content_type, p.consumed) == (None, "application/octet-stream", False)
    assert await written(p) == b"abcdef"
    assert p.consumed
    assert await written(p) == b""
    assert await p.as_bytes() == b""


async def test_async_iterable_payload_stops_pulling_at_the_length() -> None:
    pulled: list[bytes] = []

    async def source() -> AsyncIterator[bytes]:
        for chunk in (b"ab", b"cd", b"ef"):
            pulled.append(chunk)
            yield chunk

    p = AsyncIterablePayload(source())
    writer = CollectingWriter()
    await p.write_with_length(writer, 3)  # type: ignore[arg-type]
    assert writer.chunks == [b"ab", b"c"]
    assert pulled == [b"ab", b"cd"]
    assert p.consumed


async def test_async_iterable_as_bytes_caches_so_it_can_still_be_written() -> None:
    p = get_payload(agen(b"ab", b"cd"))
    with pytest.raises(TypeError, match="Call as_bytes"):
        p.decode()
    assert await p.as_bytes() == b"abcd"
    assert await p.as_bytes() == b"abcd"
    assert not p.consumed
    assert p.decode() == "abcd"
    assert await written(p) == b"abcd"
    assert await written(p, 3) == b"abc"
    await p.close()
    assert p.consumed


def test_async_iterable_payload_rejects_other_values() -> None:
    with pytest.raises(TypeError, match="AsyncIterable"):
        AsyncIterablePayload([b"x"])  # type: ignore[arg-type]


async def test_file_reads_do_not_block_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(payload.READ_SIZE * 4))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    with open(path, "rb") as f:
        await written(get_payload(f))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ticks >= 4


# --- streamer --------------------------------------------------------------------------


async def test_streamer_is_deprecated_and_writes_through_the_coroutine() -> None:
    from airhttp.payload_streamer import StreamWrapperPayload, streamer

    with pytest.warns(DeprecationWarning, match="async generators"):

        @streamer
        async def produce(writer: Any, data: bytes) -> None:
            await writer.write(data)
            await writer.write(b"!")

    p = get_payload(produce(b"hi"))
    assert isinstance(p, StreamWrapperPayload)
    assert (p.size, p.content_type) == (None, "application/octet-stream")
    assert await written(p) == b"hi!"
    assert await written(p, 1) == b"hi!"
    with pytest.raises(TypeError, match="Unable to decode"):
        p.decode()
    with pytest.raises(TypeError, match="Unable to decode"):
        await p.as_bytes()


async def test_undecorated_call_of_a_streamer_is_a_payload_too() -> None:
    from airhttp.payload_streamer import streamer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        @streamer
        async def produce(writer: Any) -> None:
            await writer.write(b"bare")

    assert await written(get_payload(produce)) == b"bare"


async def test_stream_reader_is_forwarded_chunk_by_chunk() -> None:
    from airhttp.base_protocol import BaseProtocol
    from airhttp.payload import StreamReaderPayload
    from airhttp.streams import StreamReader

    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    stream.feed_data(b"ab")
    stream.feed_data(b"cd")
    stream.feed_eof()
    p = get_payload(stream)
    assert type(p) is StreamReaderPayload
    assert p.size is None
    assert await written(p) == b"abcd"
    assert p.consumed
