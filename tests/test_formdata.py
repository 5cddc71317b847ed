"""Tests for airhttp.formdata: form bodies, compared byte for byte with aiohttp's."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from multidict import MultiDict

from airhttp.formdata import FormData
from airhttp.multipart import MultipartWriter
from airhttp.payload import BytesPayload, Payload

aiohttp = pytest.importorskip("aiohttp")


class CollectingWriter:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))


async def body_of(p: Any) -> tuple[str, bytes, int | None]:
    """Type, bytes and size of a form body, with a random boundary made fixed."""
    writer = CollectingWriter()
    await p.write(writer)
    data = b"".join(writer.chunks)
    content_type = p.content_type
    if isinstance(p, (MultipartWriter, aiohttp.MultipartWriter)):
        boundary = p.boundary
        data = data.replace(boundary.encode(), b"BOUNDARY")
        content_type = content_type.replace(boundary, "BOUNDARY")
    return content_type, data, p.size


def both(build: Callable[[Any], Any]) -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return build(FormData), build(aiohttp.FormData)


def named_bytes_io(data: bytes, name: str) -> io.BytesIO:
    value = io.BytesIO(data)
    value.name = name
    return value


def add_many(cls: Any) -> Any:
    form = cls()
    form.add_field("name", "value")
    form.add_field("file", b"data", filename="f.bin")
    form.add_field("ct", "v", content_type="text/html")
    form.add_field("bytes", b"raw")
    form.add_field("nonascii é", "vé", filename="fé.txt")
    form.add_field("io", io.BytesIO(b"iodata"))
    form.add_field("strio", io.StringIO("sio"))
    form.add_field('quote"d', "x")
    form.add_field("csv", "x", content_type="text/csv", filename="f.txt")
    form.add_field("given", io.BytesIO(b"x"), filename="given.png")
    return form


def unquoted(cls: Any) -> Any:
    form = cls(quote_fields=False)
    form.add_field("nonascii é", "vé", filename='fé".txt')
    return form


def latin1(cls: Any) -> Any:
    form = cls(charset="latin-1")
    form.add_field("é", "é", filename="fé")
    form.add_field("b", "é", content_type="text/csv")
    return form


def from_pairs(cls: Any) -> Any:
    form = cls()
    form.add_fields(("a", "b"), ["c", "d"], MultiDict(e="f"), io.BytesIO(b"x"))
    form.add_fields(named_bytes_io(b"n", "named.txt"))
    return form


FORMS: dict[str, Callable[[Any], Any]] = {
    "dict": lambda cls: cls({"a": "1", "b": "x y&z=é"}),
    "pairs": lambda cls: cls([("a", "1"), ("a", "2")]),
    "multidict": lambda cls: cls(MultiDict([("a", "1"), ("a", "2")])),
    "non-str values": lambda cls: cls({"a": 1, "b": None, "c": 1.5, "d": True}),
    "list value": lambda cls: cls({"a": ["1", "2"]}),
    "empty": lambda cls: cls(),
    "charset": lambda cls: cls({"a": "é"}, charset="latin-1"),
    "utf-8 charset": lambda cls: cls({"a": "é"}, charset="utf-8"),
    "bytes value": lambda cls: cls({"a": b"bytes"}),
    "bytearray value": lambda cls: cls({"a": bytearray(b"x")}),
    "bytes io": lambda cls: cls({"a": io.BytesIO(b"bio")}),
    "bare io": lambda cls: cls(io.BytesIO(b"bare")),
    "default multipart": lambda cls: cls({"a": "1"}, default_to_multipart=True),
    "many fields": add_many,
    "unquoted": unquoted,
    "latin-1 multipart": latin1,
    "add_fields": from_pairs,
}


@pytest.mark.parametrize("build", FORMS.values(), ids=FORMS.keys())
async def test_form_body_matches_aiohttp(build: Callable[[Any], Any]) -> None:
    ours, theirs = both(build)
    assert ours.is_multipart == theirs.is_multipart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ours_body, theirs_body = ours(), theirs()
    assert await body_of(ours_body) == await body_of(theirs_body)


async def test_plain_fields_give_a_urlencoded_bytes_payload() -> None:
    p = FormData({"a": "b", "c": "d e"})()
    assert type(p) is BytesPayload
    assert (p.content_type, p.buffer, p.size) == (
        "application/x-www-form-urlencoded",
        b"a=b&c=d+e",
        9,
    )


async def test_a_file_makes_the_form_multipart(tmp_path: Path) -> None:
    path = tmp_path / "upload.py"
    path.write_bytes(b"print(1)\n")
    with open(path, "rb") as f:
        form = FormData({"f": f})
        assert form.is_multipart
        content_type, data, _ = await body_of(form())
    assert content_type == "multipart/form-data; boundary=BOUNDARY"
    assert data == (
        b"--BOUNDARY\r\nContent-Type: text/x-python\r\n"
        b'Content-Disposition: form-data; name="f"; filename="upload.py"\r\n\r\n'
        b"print(1)\n\r\n--BOUNDARY--\r\n"
    )


@pytest.mark.parametrize(
    "kwargs", [{"content_type": "text/plain"}, {"filename": "f"}], ids=["content_type", "filename"]
)
def test_any_option_makes_the_form_multipart(kwargs: dict[str, str]) -> None:
    form = FormData()
    form.add_field("a", "b")
    assert not form.is_multipart
    form.add_field("c", "d", **kwargs)
    assert form.is_multipart


def test_bytes_without_a_filename_warn_and_use_the_name() -> None:
    form = FormData()
    with pytest.warns(DeprecationWarning, match="passing bytes will no longer create a file"):
        form.add_field("a", b"x")
    assert form.is_multipart


async def test_content_transfer_encoding_is_deprecated_and_ignored() -> None:
    form = FormData()
    with pytest.warns(DeprecationWarning, match="content_transfer_encoding is deprecated"):
        form.add_field("a", b"abc", content_transfer_encoding="base64")
    _, data, _ = await body_of(form())
    assert b"Transfer-Encoding" not in data
    assert b"\r\n\r\nabc\r\n" in data


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"content_type": 1}, "content_type must be an instance of str. Got: 1"),
        ({"filename": 1}, "filename must be an instance of str. Got: 1"),
        (
            {"content_transfer_encoding": 1},
            "content_transfer_encoding must be an instance of str. Got: 1",
        ),
    ],
)
def test_options_must_be_strings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as info:
        FormData().add_field("a", "b", **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("bad", ["\r", "\n", "\x00", "\x01", "\x7f"])
@pytest.mark.parametrize("where", ["name", "filename", "content_type"])
def test_control_characters_that_could_inject_headers_are_refused(bad: str, where: str) -> None:
    kwargs: dict[str, str] = {} if where == "name" else {where: f"a{bad}b"}
    name = f"a{bad}b" if where == "name" else "n"
    with pytest.raises(ValueError, match="Forbidden control character"):
        FormData().add_field(name, "v", **kwargs)


def test_tab_is_allowed_in_a_field_name() -> None:
    FormData().add_field("a\tb", "v")


@pytest.mark.parametrize("fields", ["string", b"bytes", [("a", "1", "extra")], [1]])
def test_only_files_multidicts_and_pairs_are_accepted_as_fields(fields: Any) -> None:
    with pytest.raises(TypeError, match=r"Only io.IOBase, multidict and \(name, file\) pairs"):
        FormData(fields)


def test_unserialisable_multipart_value_names_its_type() -> None:
    form = FormData()
    form.add_field("a", 1, filename="x")
    with pytest.raises(TypeError, match="Can not serialize value type: <class 'int'>"):
        form()


def test_multipart_body_is_reused_until_a_field_is_added() -> None:
    form = FormData({"a": io.BytesIO(b"x")})
    first = form()
    assert form() is first
    form.add_field("b", "2")
    second = form()
    assert second is not first
    assert isinstance(second, MultipartWriter)
    assert len(second) == 2


def test_urlencoded_body_is_fresh_each_call_and_sees_new_fields() -> None:
    form = FormData({"a": "1"})
    first: Payload = form()
    form.add_field("b", "2")
    second = form()
    assert first is not second
    assert isinstance(second, BytesPayload)
    assert second.buffer == b"a=1&b=2"


async def test_forms_posted_through_the_client_reach_an_aiohttp_server(web_server: Any) -> None:
    from aiohttp import web

    import airhttp

    async def echo(request: web.Request) -> web.Response:
        fields = []
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                fields.append([name, value.filename, value.file.read().decode()])
            else:
                fields.append([name, value])
        return web.json_response({"type": request.content_type, "fields": fields})

    app = web.Application()
    app.router.add_post("/", echo)
    url = await web_server.start(app)
    form = FormData()
    form.add_field("f", io.BytesIO(b"filedata"), filename="x.txt")
    form.add_field("t", "té xt")
    async with airhttp.ClientSession() as session:
        async with session.post(url, data={"a": "1", "b": "é"}) as resp:
            assert await resp.json() == {
                "type": "application/x-www-form-urlencoded",
                "fields": [["a", "1"], ["b", "é"]],
            }
        async with session.post(url, data=form) as resp:
            assert await resp.json() == {
                "type": "multipart/form-data",
                "fields": [["f", "x.txt", "filedata"], ["t", "té xt"]],
            }
