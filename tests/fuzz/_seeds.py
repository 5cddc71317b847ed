"""The corpora: `python -m tests.fuzz._seeds` (re)writes tests/fuzz/corpus/<target>/.

Seeds (seed-*) are small, valid-looking inputs (and a few near misses) built with each
target's `seed()` helper, so the settings the target reads are the intended ones. The
crash-* files are the bugs the fuzzers found, cut down to a minimal input by hand and
built the same way; tests/test_fuzz_smoke.py replays them as strict xfails.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import brotli
from backports import zstd

from . import corpus_dir
from . import fuzz_chunked as chunked
from . import fuzz_decompress as decompress
from . import fuzz_header_values as header_values
from . import fuzz_http_response as http_response
from . import fuzz_set_cookie as set_cookie
from . import fuzz_websocket as websocket


def _response(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


def http_response_seeds() -> Iterator[bytes]:
    ok = _response("HTTP/1.1 200 OK\nContent-Length: 5\n", b"hello")
    yield http_response.seed(ok)
    yield http_response.seed(ok + ok, methods=(0, 0), cuts=(3, 20, 40))
    yield http_response.seed(ok, methods=(1,), eof=False)
    yield http_response.seed(_response("HTTP/1.1 204 No Content\nServer: x\n"))
    yield http_response.seed(_response('HTTP/1.1 304 Not Modified\nETag: "a"\n'))
    yield http_response.seed(_response("HTTP/1.0 200 OK\nConnection: keep-alive\n", b"abc"))
    yield http_response.seed(_response("HTTP/1.0 200 OK\n", b"until close"), read_until_eof=False)
    yield http_response.seed(_response("HTTP/1.1 100 Continue\n") + ok, cuts=(10,))
    yield http_response.seed(_response("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n"))
    yield http_response.seed(_response("HTTP/1.1 200 Connection established\n"), methods=(3,))
    yield http_response.seed(
        _response("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", b"3\r\nabc\r\n0\r\nX: y\r\n\r\n")
    )
    yield http_response.seed(_response("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n"))
    yield http_response.seed(_response("HTTP/1.1 200 OK\nContent-Length: 1, 1\n", b"x"))
    yield http_response.seed(_response("HTTP/1.1 200 OK\nContent-Length: +1\n", b"x"))
    yield http_response.seed(_response("HTTP/1.1 200 OK\nContent-Encoding: GZIP\n"))
    yield http_response.seed(_response("HTTP/1.1 200 OK\nConnection: close, Upgrade\n"))
    yield http_response.seed(_response("HTTP/1.1 200 OK\nFolded: a\n b\n"))
    yield http_response.seed(b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", cuts=(5, 9))
    yield http_response.seed(_response("HTTP/1.1 200 OK\nA:b\nC :d\n"))
    yield http_response.seed(_response("HTTP/1.1 200 \xe9t\xe9\nX: \xff\n"))
    yield http_response.seed(_response("HTTP/1.1 999\n"))
    yield http_response.seed(_response("HTTP/2.0 200 OK\n"))
    yield http_response.seed(
        _response("HTTP/1.1 200 OK\nX-Long: " + "v" * 40 + "\n"), limits=(20, 30, 2)
    )
    yield http_response.seed(_response("HTTP/1.1 200 OK\n" + "H: v\n" * 5), limits=(50, 50, 3))
    yield http_response.seed(b"\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    yield http_response.seed(b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n")
    yield http_response.seed(b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n")
    yield http_response.seed(b"HTTP/1.1 200 OK\r\nContent-Len", eof=True)
    yield http_response.seed(b"ICY 200 OK\r\n\r\n")


def chunked_seeds() -> Iterator[bytes]:
    yield chunked.seed(b"5\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", cuts=(1, 4, 9, 20))
    yield chunked.seed(b"A\r\n0123456789\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n")
    yield chunked.seed(b"5;name=value\r\nhello\r\n0;x\r\n\r\n")
    yield chunked.seed(b'5 ;a="q"\r\nhello\r\n0\r\n\r\n')
    yield chunked.seed(b"5\t;a\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n")
    yield chunked.seed(b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", limits=(8, 40, 2))
    yield chunked.seed(b"5\r\nhello\r\n0\r\n\n")
    yield chunked.seed(b"5\r\nhel", eof=True)
    yield chunked.seed(b"5\r\nhello\r", eof=False)
    yield chunked.seed(b"5\r\nhelloXX0\r\n\r\n")
    yield chunked.seed(b"5\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"-5\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"0x5\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"00000000000000005\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"fffffffffffffff\r\nabc", eof=True)
    yield chunked.seed(b"5;\x01\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"5\r\r\nhello\r\n0\r\n\r\n")
    yield chunked.seed(b"1" * 70 + b"\r\n", limits=(64, 100, 4))
    yield chunked.seed(b"1\r\na\r\n" * 8 + b"0\r\n\r\n", cuts=(2, 3, 5, 7, 11, 13, 17, 19))
    yield chunked.seed(b"0\r\nA: " + b"b" * 60 + b"\r\n\r\n", limits=(16, 40, 2))
    yield chunked.seed(b"0\r\n" + b"T: v\r\n" * 12 + b"\r\n", limits=(16, 40, 4))
    yield chunked.seed(b"", eof=True)


def _gzip(data: bytes) -> bytes:
    obj = zlib.compressobj(6, zlib.DEFLATED, 31)
    return obj.compress(data) + obj.flush()


def _raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(6, zlib.DEFLATED, -15)
    return obj.compress(data) + obj.flush()


def decompress_seeds() -> Iterator[bytes]:
    text = b"The quick brown fox jumps over the lazy dog. " * 3
    bodies = {
        0: [_gzip(text), _gzip(b"a") + _gzip(b"b"), _gzip(b"x" * 2000), _gzip(text)[:20]],
        1: [zlib.compress(text), _raw_deflate(text), zlib.compress(b"z" * 3000) + b"!"],
        2: [
            bytes(brotli.compress(text)),
            bytes(brotli.compress(b"")),
            bytes(brotli.compress(text))[:9],
        ],
        3: [
            zstd.compress(text),
            zstd.compress(b"a") + zstd.compress(b"b"),
            zstd.compress(b"q" * 5000),
        ],
        4: [zstd.compress(text) + zstd.compress(b"tail")],
    }
    for coding, samples in bodies.items():
        for index, body in enumerate(samples):
            yield decompress.seed(body, coding, 0, (7, 64, 4096)[index % 3], cuts=(1, 10))
    for coding in range(5):
        yield decompress.seed(text, coding, 1, 16, cuts=(3,))
        yield decompress.seed(text, coding, 2, 100, where=20)
        yield decompress.seed(text, coding, 3, 5, where=12)
    yield decompress.seed(b"\x1f\x8b\x08\x00" + b"\x00" * 8, 0, 0, 1)
    yield decompress.seed(b"\x78\x9c", 1, 0, 1)


def websocket_seeds() -> Iterator[bytes]:
    yield websocket.seed(b"\x81\x05hello\x82\x03abc")
    yield websocket.seed(b"\x81\x05hello\x82\x03abc", cuts=(1, 2, 8))
    yield websocket.seed(b"\x01\x03hel\x89\x02hi\x80\x02lo", decode_text=False)
    yield websocket.seed(b"\x88\x02\x03\xe8\x88\x00\x88\x04\x0f\xa0ok")
    yield websocket.seed(b"\x88\x01\x03")
    yield websocket.seed(b"\x88\x02\x03\xed")
    yield websocket.seed(b"\x8a\x00\x89\x7e" + b"\x00" * 2)
    yield websocket.seed(b"\x82\x7e\x00\x80" + b"b" * 128)
    yield websocket.seed(b"\x82\x7f" + (300).to_bytes(8, "big") + b"c" * 300, limit=4)
    yield websocket.seed(b"\x82\x7f\x80" + b"\x00" * 7)
    yield websocket.seed(b"\x82\x85abcde")
    yield websocket.seed(b"\x83\x00")
    yield websocket.seed(b"\xc1\x00")
    yield websocket.seed(b"\x81\x02\xc3\x28")
    yield websocket.seed(b"\x01\x01\xe2\x80\x82\x80\xac", cuts=(4, 7))
    yield websocket.seed(b"\x81\x06abcdef", limit=1)
    yield websocket.seed(b"\x00\x01a")
    yield websocket.seed(b"\x01\x01a\x01\x01b")
    yield websocket.seed(b"\x09\x00")
    params = (15, False)
    deflated = _raw_deflate(b"compressed hello")
    sync = zlib.compressobj(1, zlib.DEFLATED, -15)
    body = sync.compress(b"compressed hello") + sync.flush(zlib.Z_SYNC_FLUSH)
    yield websocket.seed(b"\xc1" + bytes([len(body) - 4]) + body[:-4], deflate=params)
    yield websocket.seed(b"\xc2" + bytes([len(deflated)]) + deflated, deflate=(9, True))
    yield websocket.seed(b"\xc1\x03abc", deflate=params)
    yield websocket.seed(b"\xc9\x00", deflate=params)
    yield websocket.seed(b"\x01hello\x82world\x03\x89bye\x04!!", framed=True, cuts=(6, 12, 16))
    yield websocket.seed(b"!text\x22bin\x29frag" * 3, framed=True, deflate=(8, False), cuts=(5, 9))
    yield websocket.seed(b"\xb9" + b"long fragmented message " * 4, framed=True, deflate=params)


def set_cookie_seeds() -> Iterator[bytes]:
    values = [
        [b"sid=abc123; Path=/; HttpOnly; Secure; SameSite=Lax"],
        [b'q="quoted;value"; Max-Age=60', b"plain=1"],
        [b"a=1; Domain=example.com; Path=/a", b"a=2; Domain=.example.com"],
        [b"gone=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
        [b"e=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT; Max-Age=-1"],
        [b"e=1; expires=Sunday, 06-Nov-94 08:49:37 GMT"],
        [b"e=1; Expires=Sun Nov  6 08:49:37 1994"],
        [b"e=1; Expires=1 jan 70 0:0:0"],
        [b"m=1; Max-Age=99999999999999999999999"],
        [b"p=1; Partitioned; Secure; Path=/"],
        [b"sp = v ; path = /x ; domain = EXAMPLE.com"],
        [b"no-equals", b"=novalue", b'x="unterminated'],
        [b'esc="a\\"b\\\\c\\073"'],
        [b"utf=\xc3\xa9t\xc3\xa9", b"bad\xff=1"],
        [b"ip=1; Domain=127.0.0.1"],
        [b"t=a\tb", b"c=1\x01"],
        [b"a=b; Path=/ Max-Age=0"],
        [b"n=1; " + b"x; " * 40],
        [b"a=1; Comment=hi; Version=1"],
    ]
    for index, group in enumerate(values):
        yield set_cookie.seed(group, url=index % 3, unsafe=index % 4 == 0)


def header_values_seeds() -> Iterator[bytes]:
    values = [
        [b"text/html; charset=UTF-8"],
        [b"application/json"],
        [b"multipart/form-data; boundary=----abc; charset=utf-8"],
        [b'text/plain; charset="iso-8859-1"; format=flowed'],
        [b"application/vnd.api+json; q=0.9"],
        [b"*; a=b"],
        [b"text/html; charset*=utf-8''%e9"],
        [b"x/y; a*"],
        [b'form-data; name="field"; filename="a b.txt"'],
        [b"attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf"],
        [b'attachment; filename*0="foo."; filename*1="html"'],
        [b"attachment; filename*0*=utf-8''%e2%82; filename*1*=%ac"],
        [b'attachment; filename="/etc/passwd"'],
        [b'inline; filename="semi;colon.txt"'],
        [b"attachment; filename=a; filename=b"],
        [b"attachment;; x"],
        [b"<https://example.com/page/2>; rel=next", b'</page/9>; rel="last"'],
        [b'<a>; rel="x, y", <b>; title="t"; rel=next'],
        [b"<http://[::1/>; rel=broken"],
        [b"<//example.org/x>; rel='single'"],
    ]
    for index, group in enumerate(values):
        yield header_values.seed(group, base=index % 2)


# (target, crash file name) -> input; see tests/fuzz/_known.py for the bugs.
CRASHES: dict[tuple[str, str], bytes] = {
    # Known bug 1: whole, the bare CR is found first (InvalidHeader); cut after 26
    # bytes, the long partial line makes the status line be checked first (BadStatusLine).
    ("http_response", "crash-head-bare-cr-or-bad-status"): http_response.seed(
        b"XX\n" + b"A" * 30 + b"\rB", eof=False, cuts=(26,), limits=(100, 10, 12)
    ),
    # Known bug 1: whole, the complete bad status line is a BadStatusLine; cut short, the
    # same line is too long first (LineTooLong).
    ("http_response", "crash-head-long-bad-status"): http_response.seed(
        b"ICY " + b"x" * 30 + b"\n\n", eof=False, cuts=(25,), limits=(5, 100, 12)
    ),
    # Known bug 1: whole, nothing is checked until the head ends (no error yet); cut in
    # the long field line, the status line "HTTP" is checked at once (BadStatusLine).
    ("http_response", "crash-head-bad-status-waits"): http_response.seed(
        b"HTTP\r\nX: " + b"v" * 30 + b"\r\nY", eof=False, cuts=(30,), limits=(100, 10, 12)
    ),
    # Known bug 1 in a trailer section: a complete over-long trailer line waits for the
    # end of the section, a partial one fails at once (LineTooLong).
    ("chunked", "crash-trailer-long-line-waits"): chunked.seed(
        b"0\r\nT: " + b"v" * 70 + b"\r\nZ", eof=False, cuts=(120,), limits=(16, 32, 2)
    ),
    # Known bug 2: the jar keeps "a(b" (as aiohttp's does); the next request's Cookie
    # header raises CookieError("Illegal key 'a(b'").
    ("set_cookie", "crash-cookie-name-not-a-morsel-key"): set_cookie.seed([b"a(b=1"]),
    # Known bug 2: a cookie named like a Morsel attribute: CookieError("Attempt to set a
    # reserved key 'Version'").
    ("set_cookie", "crash-cookie-name-reserved"): set_cookie.seed([b"Version=1"]),
    # Known bug 2: a cookie named like a Morsel attribute: AttributeError("'str' object
    # has no attribute 'set'").
    ("set_cookie", "crash-cookie-name-is-an-attribute"): set_cookie.seed([b"path=1"]),
    # Known bug 3: UnicodeError out of parse_content_disposition.
    ("header_values", "crash-disposition-punycode-charset"): header_values.seed(
        [b"attachment; filename*=punycode''%5c"]
    ),
    # Known bug 4: ClientResponse.charset "utf-8/x" where aiohttp (and the email package
    # airhttp falls back to) says "utf-8". Found by the smoke test's mutated seeds.
    ("header_values", "crash-content-type-slash-in-charset"): header_values.seed(
        [b"text/html; charset=utf-8/x"]
    ),
    # Known bug 5: whole, zlib fails on the frame first (1002); cut after 8 bytes, the
    # first part inflates to invalid UTF-8 first (1007).
    ("websocket", "crash-compressed-close-code-depends-on-cut"): websocket.seed(
        b"\xc1\x12J<\xcf-\x87(J-\x00\x00", deflate=(13, False), cuts=(8,)
    ),
    # Known bug 5: whole, the inflated text passes max_msg_size=125 first (1009); cut
    # after 12 bytes, its first part is invalid UTF-8 first (1007).
    ("websocket", "crash-compressed-too-big-or-bad-text"): websocket.seed(
        b"\xc1\x12+\xce\xcf-(J\xff\xff\xff\xff\xff\x81\x02\xc3(\x00\x00\x00",
        limit=3,
        deflate=(9, True),
        cuts=(12, 18),
    ),
}


SEEDS: dict[str, Callable[[], Iterator[bytes]]] = {
    "http_response": http_response_seeds,
    "chunked": chunked_seeds,
    "decompress": decompress_seeds,
    "websocket": websocket_seeds,
    "set_cookie": set_cookie_seeds,
    "header_values": header_values_seeds,
}


def write_all() -> None:
    for target, make in SEEDS.items():
        directory: Path = corpus_dir(target)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("seed-*"):
            old.unlink()
        for index, data in enumerate(make()):
            (directory / f"seed-{index:03d}").write_bytes(data)
    for (target, name), data in CRASHES.items():
        (corpus_dir(target) / name).write_bytes(data)


if __name__ == "__main__":
    write_all()
