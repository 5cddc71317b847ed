"""Tests for airhttp.multipart and the header helpers of airhttp._mime it re-exports."""

from __future__ import annotations

import base64
import gzip
import io
import random
import warnings
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from airhttp import multipart
from airhttp._mime import content_disposition_header, parse_mimetype
from airhttp.http_exceptions import InvalidHeader, LineTooLong
from airhttp.multipart import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    BodyPartReader,
    MultipartReader,
    MultipartWriter,
    content_disposition_filename,
    parse_content_disposition,
)
from airhttp.payload import BytesPayload, StringPayload, get_payload

aiohttp_helpers = pytest.importorskip("aiohttp.helpers")
aiohttp_multipart = pytest.importorskip("aiohttp.multipart")


class FakeStream:
    """The slice of StreamReader the reader uses, fed from a list of chunks."""

    def __init__(self, data: bytes, chunk: int | None = None) -> None:
        size = chunk or max(len(data), 1)
        self._chunks = [data[i : i + size] for i in range(0, len(data), size)]
        self.reads = 0

    async def readany(self) -> bytes:
        self.reads += 1
        return self._chunks.pop(0) if self._chunks else b""

    async def read(self, n: int = -1) -> bytes:
        return await self.readany()

    def at_eof(self) -> bool:
        return not self._chunks


class CollectingWriter:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


async def written(writer: Any, **kwargs: Any) -> bytes:
    out = CollectingWriter()
    await writer.write(out, **kwargs)
    return out.data


# Every reader test runs with the body in one piece, byte by byte, and in odd pieces.
FEEDS = pytest.mark.parametrize("chunk", [None, 1, 7], ids=["whole", "bytewise", "by7"])


def reader(body: bytes, chunk: int | None, ctype: str = "multipart/mixed; boundary=B") -> Any:
    return MultipartReader({"Content-Type": ctype}, FakeStream(body, chunk))


# --- media types and Content-Disposition -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("", "", "", [])),
        ("*", ("*", "*", "", [])),
        ("TEXT/HTML; Charset=UTF-8", ("text", "html", "", [("charset", "UTF-8")])),
        ("application/rss+xml", ("application", "rss", "xml", [])),
        ("a/b+c+d", ("a", "b", "c+d", [])),
        (
            'application/json; charset="utf-8"; q=1',
            ("application", "json", "", [("charset", "utf-8"), ("q", "1")]),
        ),
        ("text/plain;base64", ("text", "plain", "", [("base64", "")])),
        ("text/plain;  ;a=b", ("text", "plain", "", [("a", "b")])),
        ("x/y; A=1; a=2", ("x", "y", "", [("a", "1"), ("a", "2")])),
        ("x/y; =", ("x", "y", "", [("", "")])),
    ],
)
def test_parse_mimetype_splits_and_lowercases_names(value: str, expected: Any) -> None:
    mt = parse_mimetype(value)
    assert (mt.type, mt.subtype, mt.suffix, list(mt.parameters.items())) == expected


def _alphabet_text(rnd: random.Random, alphabet: list[str], size: int) -> str:
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, size)))


def test_parse_mimetype_agrees_with_aiohttp_on_random_input() -> None:
    rnd = random.Random(1)
    alphabet = [*'aZ09 \t"\\;=/+*,:ü\x7f', "text", "html"]
    for _ in range(2000):
        value = _alphabet_text(rnd, alphabet, 14)
        ours, theirs = parse_mimetype(value), aiohttp_helpers.parse_mimetype(value)
        assert (ours.type, ours.subtype, ours.suffix, list(ours.parameters.items())) == (
            theirs.type,
            theirs.subtype,
            theirs.suffix,
            list(theirs.parameters.items()),
        ), value


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("attachment",), {}, "attachment"),
        (("attachment",), {"filename": "a b.txt"}, 'attachment; filename="a%20b.txt"'),
        (
            ("form-data",),
            {"name": "n", "filename": "файл.txt"},
            'form-data; name="n"; filename="%D1%84%D0%B0%D0%B9%D0%BB.txt"',
        ),
        (
            ("form-data", False),
            {"name": 'n"x', "filename": "a\\b"},
            'form-data; name="n\\"x"; filename="a\\\\b"',
        ),
        (("form-data",), {"name": "a;b f"}, 'form-data; name="a;b\\ f"'),
        (("form-data", True, "latin-1"), {"name": "ü"}, "form-data; name*=latin-1''%FC"),
        (("form-data",), {"name": "a\r\nb"}, "form-data; name*=utf-8''a%0D%0Ab"),
        (("inline",), {"x": ""}, 'inline; x=""'),
    ],
)
def test_content_disposition_header_quotes_like_aiohttp(
    args: tuple[Any, ...], kwargs: dict[str, str], expected: str
) -> None:
    assert content_disposition_header(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("disptype", "params", "message"),
    [
        ("in line", {}, "bad content disposition type 'in line'"),
        ("", {}, "bad content disposition type ''"),
        ("a", {"": "x"}, "bad content disposition parameter ''='x'"),
        ("a", {"a b": "x"}, "bad content disposition parameter 'a b'='x'"),
    ],
)
def test_content_disposition_header_rejects_non_tokens(
    disptype: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError) as info:
        content_disposition_header(disptype, **params)
    assert str(info.value) == message


def test_content_disposition_header_agrees_with_aiohttp_on_random_input() -> None:
    rnd = random.Random(2)
    alphabet = [*"aZ09 \t\"\\;=/+*,:ü\x7f\x00'()-_.%", "", "text"]

    def run(build: Callable[..., str], *args: Any, **kwargs: str) -> str:
        try:
            return build(*args, **kwargs)
        except ValueError as exc:
            return f"ValueError: {exc}"

    for _ in range(2000):
        disptype = _alphabet_text(rnd, alphabet, 4)
        params = {_alphabet_text(rnd, alphabet, 4): _alphabet_text(rnd, alphabet, 8)}
        params["name"] = params["filename"] = _alphabet_text(rnd, alphabet, 8)
        quote_fields = rnd.random() < 0.7
        charset = rnd.choice(["utf-8", "latin-1"])
        args = (disptype, quote_fields, charset)
        ours = run(content_disposition_header, *args, **params)
        theirs = run(aiohttp_helpers.content_disposition_header, *args, **params)
        assert ours == theirs, (args, params)


@pytest.mark.parametrize(
    ("header", "expected", "filename", "warned"),
    [
        (None, (None, {}), None, []),
        (
            'ATTACHMENT; FILENAME="foo.html"',
            ("attachment", {"filename": "foo.html"}),
            "foo.html",
            [],
        ),
        (
            'attachment; filename="f\\"oo;.html"',
            ("attachment", {"filename": 'f"oo;.html'}),
            'f"oo;.html',
            [],
        ),
        (
            "attachment; filename*=UTF-8''foo-%c3%a4.html",
            ("attachment", {"filename*": "foo-ä.html"}),
            "foo-ä.html",
            [],
        ),
        ("attachment; filename*=iso-8859-1''%E4", ("attachment", {"filename*": "ä"}), "ä", []),
        (
            "attachment; filename*=UTF-8''foo-ä.html",
            ("attachment", {}),
            None,
            [BadContentDispositionParam],
        ),
        ('attachment; filename="foo.html', (None, {}), None, [BadContentDispositionHeader]),
        ('attachment; filename="a"; filename="b"', (None, {}), None, [BadContentDispositionHeader]),
        ("attachment; filename=foo bar", (None, {}), None, [BadContentDispositionHeader]),
        ('"attachment"', (None, {}), None, [BadContentDispositionHeader]),
        ("attachment;", ("attachment", {}), None, [BadContentDispositionHeader]),
        ("attachment; =x", ("attachment", {}), None, [BadContentDispositionParam]),
        (
            "attachment; filename=x.txt; filename*=UTF-8''y.txt",
            ("attachment", {"filename": "x.txt", "filename*": "y.txt"}),
            "y.txt",
            [],
        ),
        (
            'attachment; filename*0="foo."; filename*1="html"',
            ("attachment", {"filename*0": "foo.", "filename*1": "html"}),
            "foo.html",
            [],
        ),
        (
            "attachment; filename*0*=UTF-8''foo-%c3%a4; filename*1=\".html\"",
            ("attachment", {"filename*0*": "UTF-8''foo-%c3%a4", "filename*1": ".html"}),
            "foo-ä.html",
            [],
        ),
        ("x; filename*1=b; filename*0=a", ("x", {"filename*1": "b", "filename*0": "a"}), "ab", []),
        ("x; filename*0=a; filename*2=c", ("x", {"filename*0": "a", "filename*2": "c"}), "a", []),
    ],
)
def test_parse_content_disposition_is_lenient_and_warns(
    header: str | None, expected: Any, filename: str | None, warned: list[type[Warning]]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = parse_content_disposition(header)
    assert result == expected
    assert content_disposition_filename(result[1]) == filename
    assert [w.category for w in caught] == warned


def test_parse_content_disposition_agrees_with_aiohttp_on_random_input() -> None:
    rnd = random.Random(3)
    alphabet = [*"aZ0 \t\"\\;=*'%ü\x7f-", "filename", "name", "*0", "*1", "utf-8''", "%41", "%ff"]

    def run(module: Any, header: str) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = module.parse_content_disposition(header)
            try:
                name = module.content_disposition_filename(result[1], "name")
            except ValueError:
                name = "crash"
        return result, name, [(w.category.__name__, str(w.message)) for w in caught]

    for _ in range(3000):
        header = rnd.choice(["x", "attachment", "form-data", "a\tb", ""]) + _alphabet_text(
            rnd, alphabet, 12
        )
        theirs = run(aiohttp_multipart, header)
        if theirs[1] == "crash" or '\\"' in header:
            continue  # aiohttp crashes there; backslash edge cases are covered above
        assert run(multipart, header) == theirs, header


def test_warnings_are_runtime_warnings() -> None:
    assert issubclass(BadContentDispositionHeader, RuntimeWarning)
    assert issubclass(BadContentDispositionParam, RuntimeWarning)


# --- writer ----------------------------------------------------------------------------


def aiohttp_writer(subtype: str = "mixed", boundary: str = "BOUND") -> Any:
    return aiohttp_multipart.MultipartWriter(subtype, boundary=boundary)


def fill_both(fill: Callable[[Any], None], subtype: str = "mixed") -> tuple[Any, Any]:
    ours = MultipartWriter(subtype, boundary="BOUND")
    theirs = aiohttp_writer(subtype)
    fill(ours)
    fill(theirs)
    return ours, theirs


def mixed_parts(w: Any) -> None:
    w.append("hello")
    w.append(b"bin", {"X-A": "1"})
    w.append_json({"a": 1})
    w.append_form({"k": "v", "k2": "v v"})
    w.append_form([("k", "v")])
    w.append(io.BytesIO(b"bio"))


@pytest.mark.parametrize("subtype", ["mixed", "form-data", "related"])
async def test_writer_bytes_match_aiohttp(subtype: str) -> None:
    ours, theirs = fill_both(mixed_parts, subtype)
    data = await written(ours)
    assert data == await written(theirs)
    assert ours.size == theirs.size == len(data)
    assert ours.content_type == theirs.content_type
    assert [list(p.headers.items()) for p, _, _ in ours] == [
        list(p.headers.items()) for p, _, _ in theirs
    ]


async def test_writer_layout_of_a_mixed_body() -> None:
    w = MultipartWriter(boundary="B")
    w.append("x", {"X": "y"})
    assert await written(w) == (
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\nX: y\r\nContent-Length: 1\r\n\r\n"
        b"x\r\n--B--\r\n"
    )
    assert await written(w, close_boundary=False) == (
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\nX: y\r\nContent-Length: 1\r\n\r\nx\r\n"
    )


async def test_empty_writer_writes_only_the_closing_boundary() -> None:
    w = MultipartWriter(boundary="BOUND")
    assert (w.size, len(w), bool(w)) == (11, 0, True)
    assert await written(w) == b"--BOUND--\r\n"


async def test_form_data_parts_get_section_names_and_no_content_length() -> None:
    w = MultipartWriter("form-data", boundary="FD")
    first = w.append("v")
    given = w.append("z", {"Content-Disposition": 'form-data; name="given"'})
    assert first.headers["Content-Disposition"] == 'form-data; name="section-0"'
    assert given.headers["Content-Disposition"] == 'form-data; name="given"'
    assert "Content-Length" not in first.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Encoding": "gzip"},
        {"Content-Encoding": "DEFLATE"},
        {"Content-Transfer-Encoding": "base64"},
        {"Content-Transfer-Encoding": "quoted-printable"},
        {"Content-Encoding": "gzip", "Content-Transfer-Encoding": "base64"},
        {"Content-Encoding": "identity"},
        {"Content-Transfer-Encoding": "binary"},
    ],
)
async def test_encoded_parts_match_aiohttp(headers: dict[str, str]) -> None:
    text = "xé=\r\n" * 20000

    def fill(w: Any) -> None:
        w.append(text, headers)

    ours, theirs = fill_both(fill)
    assert await written(ours) == await written(theirs)
    assert ours.size == theirs.size


async def test_encoded_part_round_trips_through_the_reader() -> None:
    w = MultipartWriter(boundary="B")
    w.append(
        b"\x00payload" * 5000, {"Content-Encoding": "gzip", "Content-Transfer-Encoding": "base64"}
    )
    assert w.size is None
    data = await w.as_bytes()
    assert data == await written(w)
    part = await reader(data, 4096).next()
    assert await part.read(decode=True) == b"\x00payload" * 5000


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Encoding": "br"}, "unknown content encoding: br"),
        ({"Content-Transfer-Encoding": "7bit"}, "unknown content transfer encoding: 7bit"),
    ],
)
def test_writer_refuses_encodings_it_cannot_apply(headers: dict[str, str], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        MultipartWriter().append("x", headers)


@pytest.mark.parametrize(
    ("boundary", "content_type"),
    [
        ("plain", "multipart/mixed; boundary=plain"),
        ('"quoted"', 'multipart/mixed; boundary="\\"quoted\\""'),
        ("a b", 'multipart/mixed; boundary="a b"'),
        ("a\\b", 'multipart/mixed; boundary="a\\\\b"'),
        ("a\tb", 'multipart/mixed; boundary="a\tb"'),
        ("", 'multipart/mixed; boundary=""'),
    ],
)
def test_boundary_is_quoted_unless_a_token(boundary: str, content_type: str) -> None:
    w = MultipartWriter(boundary=boundary)
    assert (w.boundary, w.content_type) == (boundary, content_type)


@pytest.mark.parametrize(
    ("boundary", "message"),
    [("ü", "ASCII only"), ("a\r\n", "invalid characters"), ("a\x7f", "invalid characters")],
)
def test_bad_boundaries_are_rejected(boundary: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MultipartWriter(boundary=boundary)


def test_default_boundary_is_random_hex() -> None:
    first, second = MultipartWriter().boundary, MultipartWriter().boundary
    assert first != second
    assert len(first) == 32
    int(first, 16)


def test_append_keeps_payloads_and_merges_headers() -> None:
    w = MultipartWriter(boundary="G")
    p = BytesPayload(b"qq")
    assert w.append(p, {"X-Extra": "1"}) is p
    assert list(p.headers.items()) == [
        ("Content-Type", "application/octet-stream"),
        ("X-Extra", "1"),
        ("Content-Length", "2"),
    ]
    assert [part for part, _, _ in w] == [p]


def test_append_rejects_what_has_no_payload() -> None:
    with pytest.raises(TypeError, match="Cannot create payload from 123"):
        MultipartWriter().append(123)


async def test_nested_writer_matches_aiohttp() -> None:
    def fill(w: Any) -> None:
        inner = type(w)("mixed", boundary="IN")
        inner.append("x")
        w.append(inner)
        w.append("after")

    ours, theirs = fill_both(fill, "form-data")
    assert await written(ours) == await written(theirs)
    assert ours.size == theirs.size


async def test_as_bytes_leaves_a_one_shot_part_writable() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    w = MultipartWriter(boundary="G")
    w.append(chunks())
    expected = b"--G\r\nContent-Type: application/octet-stream\r\n\r\nab\r\n--G--\r\n"
    assert w.size is None
    assert await w.as_bytes() == expected
    assert await written(w) == expected


def test_decode_lays_out_text_parts() -> None:
    w = MultipartWriter(boundary="G")
    w.append("abc")
    assert w.decode() == (
        "--G\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n"
        "abc\r\n--G--\r\n"
    )


async def test_close_closes_parts_and_autoclose_reflects_them(tmp_path: Any) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"file")
    with MultipartWriter(boundary="G") as w:
        w.append("x")
        assert w.autoclose
        f = open(path, "rb")  # noqa: SIM115 - the writer closes it
        w.append(f)
        assert not w.autoclose
    await w.close()
    assert w.consumed
    assert f.closed


def test_set_content_disposition_on_the_writer() -> None:
    w = MultipartWriter(boundary="G")
    w.set_content_disposition("attachment", filename="f.txt")
    assert w.headers["Content-Disposition"] == 'attachment; filename="f.txt"'
    assert w.filename is None


# --- reader ----------------------------------------------------------------------------


async def read_all(r: Any) -> list[Any]:
    out: list[Any] = []
    async for part in r:
        if isinstance(part, MultipartReader):
            out.append([(dict(p.headers), bytes(await p.read())) async for p in part])
        else:
            out.append((dict(part.headers), bytes(await part.read())))
    return out


@FEEDS
async def test_reader_returns_each_part_with_headers(chunk: int | None) -> None:
    body = b"--B\r\nX: 1\r\n\r\nhello\r\n--B\r\n\r\nworld\r\n--B--\r\n"
    r = reader(body, chunk)
    assert await read_all(r) == [({"X": "1"}, b"hello"), ({}, b"world")]
    assert r.at_eof()
    assert await r.next() is None


@FEEDS
async def test_reader_skips_preamble_and_epilogue(chunk: int | None) -> None:
    body = b"preamble\r\nmore\r\n--B\r\n\r\nx\r\n--B--\r\nepilogue\r\n--B\r\n"
    assert await read_all(reader(body, chunk)) == [({}, b"x")]


@FEEDS
async def test_reader_accepts_whitespace_after_boundaries(chunk: int | None) -> None:
    body = b"--B  \r\n\r\nabc\r\n--B \t\r\n\r\nd\r\n--B--"
    assert await read_all(reader(body, chunk)) == [({}, b"abc"), ({}, b"d")]


@FEEDS
@pytest.mark.parametrize("body", [b"--B\r\n\r\n\r\n--B--\r\n", b"--B\r\n\r\n--B--\r\n"])
async def test_empty_part_reads_as_empty(chunk: int | None, body: bytes) -> None:
    assert await read_all(reader(body, chunk)) == [({}, b"")]


async def test_body_holding_a_near_boundary_is_kept_whole() -> None:
    data = b"\r\n--Bogus\r\n-\r\n--\r\n" * 3
    body = b"--Bogus-real\r\n\r\n" + data + b"\r\n--Bogus-real--\r\n"
    for chunk in (None, 1, 5):
        r = reader(body, chunk, "multipart/mixed; boundary=Bogus-real")
        assert await read_all(r) == [({}, data)]


@FEEDS
async def test_readline_keeps_line_breaks_but_not_the_boundary_crlf(chunk: int | None) -> None:
    part = await reader(b"--B\r\n\r\nline1\r\nline2\nlast\r\n--B--\r\n", chunk).next()
    lines = []
    while line := await part.readline():
        lines.append(line)
    assert lines == [b"line1\r\n", b"line2\n", b"last"]
    assert part.at_eof()
    assert await part.read() == b""


@FEEDS
async def test_read_chunk_never_exceeds_size(chunk: int | None) -> None:
    part = await reader(b"--B\r\n\r\nabcdefgh\r\n--B--\r\n", chunk).next()
    pieces = []
    while piece := await part.read_chunk(3):
        assert len(piece) <= 3
        pieces.append(piece)
    assert b"".join(pieces) == b"abcdefgh"


async def test_large_part_is_streamed_in_pieces() -> None:
    payload = bytes(range(256)) * 400
    body = b"--B\r\n\r\n" + payload + b"\r\n--B\r\nH: 1\r\n\r\nsecond\r\n--B--\r\n"
    r = reader(body, 1000)
    first = await r.next()
    assert 0 < len(await first.read_chunk()) <= BodyPartReader.chunk_size
    second = await r.next()
    assert first.at_eof()
    assert (dict(second.headers), await second.read()) == ({"H": "1"}, bytearray(b"second"))


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (b"no boundary here", ValueError, "Could not find starting boundary"),
        (b"", ValueError, "Could not find starting boundary"),
        (b"--B\r\n\r\nabc", ValueError, "closing boundary"),
        (b"--B\r\n\r\nabc\r\n--Bxyz\r\n--B--", ValueError, "Invalid boundary b'--Bxyz'"),
        (b"--B\r\nBadHeader\r\n\r\nx\r\n--B--", InvalidHeader, "BadHeader"),
        (b"--B\r\nA: 1\r\n  folded\r\n\r\nx\r\n--B--", InvalidHeader, "folded"),
        (b"--B\r\nA :1\r\n\r\nx\r\n--B--", InvalidHeader, "A :1"),
        (b"--B\r\nA@: 1\r\n\r\nx\r\n--B--", InvalidHeader, "A@"),
        (b"--B\r\nA: a\x00b\r\n\r\nx\r\n--B--", InvalidHeader, "a\\\\x00b"),
        (b"--B\r\nA: " + b"x" * 9000 + b"\r\n\r\nx\r\n--B--", LineTooLong, "8190"),
        (b"--B\r\nContent-Length: 2\r\n\r\nabc\r\n--B--", ValueError, "did not read all"),
        (b"--B\r\nContent-Length: 5\r\n\r\nabc\r\n--B--", ValueError, "did not read all"),
    ],
)
async def test_malformed_bodies_raise(body: bytes, error: type[Exception], match: str) -> None:
    for chunk in (None, 1):
        with pytest.raises(error, match=match):
            await read_all(reader(body, chunk))


@FEEDS
async def test_header_values_and_content_length_parts(chunk: int | None) -> None:
    body = b"--B\r\nA:  \xc3\xa9  \r\nB:\r\nContent-Length: 3\r\n\r\nabc\r\n--B--"
    assert await read_all(reader(body, chunk)) == [
        ({"A": "é", "B": "", "Content-Length": "3"}, b"abc")
    ]


def test_reader_requires_a_multipart_type_with_a_sane_boundary() -> None:
    stream = FakeStream(b"")
    with pytest.raises(ValueError, match="multipart/\\* content type expected"):
        MultipartReader({"Content-Type": "text/plain"}, stream)
    with pytest.raises(ValueError, match="boundary missed"):
        MultipartReader({"Content-Type": "multipart/mixed"}, stream)
    with pytest.raises(ValueError, match="too long"):
        MultipartReader({"Content-Type": "multipart/mixed; boundary=" + "x" * 71}, stream)
    MultipartReader({"Content-Type": "multipart/mixed; boundary=" + "x" * 70}, stream)
    MultipartReader({"Content-Type": 'multipart/mixed; boundary="a b"'}, stream)


@pytest.mark.parametrize(
    ("headers", "raw", "decoded"),
    [
        ("Content-Transfer-Encoding: base64", base64.b64encode(b"hello world!!"), b"hello world!!"),
        ("Content-Transfer-Encoding: quoted-printable", b"x=C3=A9=\r\ny", b"x\xc3\xa9y"),
        ("Content-Transfer-Encoding: 7bit", b"xx", b"xx"),
        ("Content-Encoding: gzip", gzip.compress(b"zzz"), b"zzz"),
        ("Content-Encoding: deflate", zlib.compress(b"zzz")[2:-4], b"zzz"),
        ("Content-Encoding: deflate", zlib.compress(b"zzz"), b"zzz"),
        ("Content-Encoding: identity", b"zz", b"zz"),
    ],
)
async def test_read_decode_undoes_encodings(headers: str, raw: bytes, decoded: bytes) -> None:
    body = b"--B\r\n" + headers.encode() + b"\r\n\r\n" + raw + b"\r\n--B--"
    part = await reader(body, 3).next()
    assert await part.read(decode=True) == decoded


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("Content-Encoding: br", "unknown content encoding: br"),
        ("Content-Transfer-Encoding: weird", "unknown content transfer encoding: weird"),
    ],
)
async def test_unknown_encodings_raise_on_decode(headers: str, message: str) -> None:
    part = await reader(b"--B\r\n" + headers.encode() + b"\r\n\r\nxx\r\n--B--", None).next()
    with pytest.raises(RuntimeError, match=message):
        await part.read(decode=True)


async def test_text_json_and_form_use_the_part_charset() -> None:
    body = (
        b"--B\r\nContent-Type: text/plain; charset=latin-1\r\n"
        b'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n\xe9\r\n'
        b'--B\r\n\r\n{"a": 1}\r\n'
        b"--B\r\n\r\n\r\n"
        b"--B\r\n\r\na=1&b=&c=%C3%A9\r\n"
        b"--B\r\n\r\n\r\n"
        b"--B--\r\n"
    )
    r = reader(body, 5)
    part = await r.next()
    assert (part.name, part.filename, part.get_charset("d")) == ("f", "a.txt", "latin-1")
    assert await part.text() == "é"
    assert await (await r.next()).json() == {"a": 1}
    assert await (await r.next()).json() is None
    assert await (await r.next()).form() == [("a", "1"), ("b", ""), ("c", "é")]
    assert await (await r.next()).form() == []
    assert await r.next() is None


async def test_charset_field_sets_the_default_for_form_data() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nlatin-1\r\n'
        b'--B\r\nContent-Disposition: form-data; name="x"\r\n\r\n\xe9\r\n--B--'
    )
    part = await reader(body, None, "multipart/form-data; boundary=B").next()
    assert (part.name, part.get_charset("utf-8"), await part.text()) == ("x", "latin-1", "é")


async def test_filename_star_is_decoded() -> None:
    body = b"--B\r\nContent-Disposition: attachment; filename*=utf-8''%C3%A9.txt\r\n\r\nx\r\n--B--"
    part = await reader(body, None).next()
    assert (part.filename, part.name) == ("é.txt", None)


@FEEDS
@pytest.mark.parametrize("epilogue", [b"", b"ignored text\r\n"])
async def test_nested_multipart_is_read_through_the_enclosing_part(
    chunk: int | None, epilogue: bytes
) -> None:
    body = (
        b"--B\r\nContent-Type: multipart/mixed; boundary=IN\r\n\r\n"
        b"--IN\r\n\r\ninner1\r\n--IN\r\nX: y\r\n\r\ninner2\r\n--IN--\r\n" + epilogue + b"\r\n"
        b"--B\r\n\r\nouter2\r\n--B--\r\n"
    )
    assert await read_all(reader(body, chunk)) == [
        [({}, b"inner1"), ({"X": "y"}, b"inner2")],
        ({}, b"outer2"),
    ]


async def test_unread_nested_multipart_is_skipped() -> None:
    body = (
        b"--B\r\nContent-Type: multipart/mixed; boundary=IN\r\n\r\n"
        b"--IN\r\n\r\ninner1\r\n--IN--\r\n\r\n--B\r\n\r\nouter2\r\n--B--\r\n"
    )
    r = reader(body, 2)
    nested = await r.next()
    assert isinstance(nested, MultipartReader)
    second = await r.next()
    assert await second.read() == b"outer2"


async def test_release_drops_every_remaining_part() -> None:
    body = b"--B\r\n\r\n" + b"x" * 20000 + b"\r\n--B\r\n\r\nsecond\r\n--B--\r\n"
    r = reader(body, 1000)
    await r.release()
    assert r.at_eof()
    assert await r.next() is None


async def test_body_part_reader_iterates_its_whole_body_once() -> None:
    part = await reader(b"--B\r\n\r\n" + b"y" * 100 + b"\r\n--B--", 9).next()
    assert [len(item) async for item in part] == [100]


async def test_body_part_reader_works_standalone_on_a_stream() -> None:
    part = BodyPartReader(
        b"--B",
        CIMultiDictProxy(CIMultiDict()),
        FakeStream(b"data\r\n--B--\r\n", 2),
        subtype="form-data",
        default_charset="koi8-r",
    )
    assert (await part.read(), part.at_eof(), part.get_charset("x")) == (b"data", True, "koi8-r")


async def test_writer_output_reads_back() -> None:
    w = MultipartWriter("form-data", boundary="RT")
    w.append("text é")
    w.append(b"\r\n-RT\r\n--R\r\n", {"Content-Disposition": 'form-data; name="raw"'})
    w.append_json({"k": [1, 2]})
    body = await written(w)
    r = reader(body, 3, w.content_type)
    first = await r.next()
    assert (first.name, await first.text()) == ("section-0", "text é")
    raw = await r.next()
    assert (raw.name, await raw.read()) == ("raw", b"\r\n-RT\r\n--R\r\n")
    assert await (await r.next()).json() == {"k": [1, 2]}
    assert await r.next() is None


async def test_body_part_is_forwarded_as_a_payload() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="n"; filename="f.txt"\r\n\r\n'
        + b"z" * 70000
        + b"\r\n--B--\r\n"
    )
    part = await reader(body, 4096, "multipart/form-data; boundary=B").next()
    p = get_payload(part)
    assert type(p).__name__ == "BodyPartReaderPayload"
    assert p.headers["Content-Disposition"] == 'attachment; name="n"; filename="f.txt"'
    with pytest.raises(TypeError, match="Unable to decode"):
        p.decode()
    with pytest.raises(TypeError, match="Use write"):
        await p.as_bytes()
    assert await written(p) == b"z" * 70000


class FakeResponse:
    def __init__(self, body: bytes) -> None:
        self.headers = {"Content-Type": "multipart/mixed; boundary=B"}
        self.content = FakeStream(body, 4)
        self.released = False

    async def release(self) -> None:
        self.released = True


async def test_from_response_releases_the_response_after_the_last_part() -> None:
    resp = FakeResponse(b"--B\r\n\r\none\r\n--B--\r\n")
    wrapper = MultipartReader.from_response(resp)  # type: ignore[arg-type]
    parts = [bytes(await p.read()) async for p in wrapper]
    assert parts == [b"one"]
    assert resp.released
    assert wrapper.at_eof()


def test_string_payload_is_a_multipart_part_type() -> None:
    w = MultipartWriter()
    assert isinstance(w.append("x"), StringPayload)


async def test_reader_reads_from_a_real_stream_reader() -> None:
    import asyncio

    from airhttp.base_protocol import BaseProtocol
    from airhttp.streams import StreamReader

    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    body = b"--B\r\nX: 1\r\n\r\nhello\r\n--B\r\n\r\nworld\r\n--B--\r\n"
    for i in range(0, len(body), 5):
        stream.feed_data(body[i : i + 5])
    stream.feed_eof()
    r = MultipartReader({"Content-Type": "multipart/mixed; boundary=B"}, stream)
    assert await read_all(r) == [({"X": "1"}, b"hello"), ({}, b"world")]
