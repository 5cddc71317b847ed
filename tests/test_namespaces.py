"""airhttp's public modules offer the names of aiohttp's client-side modules.

Code and libraries written for aiohttp import names by module path
(`from aiohttp.helpers import TimerNoop`, `from aiohttp.http import SERVER_SOFTWARE`).
The installed aiohttp is the oracle: for every module pair its public names must exist
in airhttp, be the same kind of object, keep aiohttp's re-exports as one object, and
hold the same plain values. Names that are not there are listed below, each with why.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

import airhttp

MODULES = (
    "abc",
    "client",
    "client_exceptions",
    "client_middleware_digest_auth",
    "client_middlewares",
    "client_reqrep",
    "client_ws",
    "compression_utils",
    "connector",
    "cookiejar",
    "formdata",
    "hdrs",
    "helpers",
    "http",
    "http_exceptions",
    "http_parser",
    "http_websocket",
    "http_writer",
    "multipart",
    "payload",
    "resolver",
    "streams",
    "tracing",
    "typedefs",
)
PACKAGE = ""  # the key of the package itself in the tables below

_SERVER = "server side (aiohttp.web)"
_C_EXT = "handle of aiohttp's C extension; airhttp is pure Python"
_PARSER = (
    "aiohttp's protocol-coupled parser machinery; airhttp's parser is the sans-IO "
    "http_parser.ResponseParser, with its own API"
)
_MEMBERS = (
    "inside aiohttp 3.14's member loop; airhttp's ZLibDecompressor keeps the 3.13 "
    "one-member behaviour and the response decoder loops over members itself"
)
_WRITELINES = "aiohttp's transport.writelines() workaround switch; airhttp does not use writelines"

# Server-only or aiohttp-internal names that make no sense in airhttp.
EXCLUDED: dict[tuple[str, str], str] = {
    (PACKAGE, "GunicornWebWorker"): _SERVER,
    (PACKAGE, "GunicornUVLoopWebWorker"): _SERVER,
    ("abc", "AbstractAccessLogger"): _SERVER,
    ("abc", "AbstractMatchInfo"): _SERVER,
    ("abc", "AbstractRouter"): _SERVER,
    ("abc", "AbstractView"): _SERVER,
    ("helpers", "AppKey"): _SERVER,
    ("helpers", "BaseKey"): _SERVER,
    ("helpers", "RequestKey"): _SERVER,
    ("helpers", "ResponseKey"): _SERVER,
    ("typedefs", "Handler"): _SERVER,
    ("typedefs", "Middleware"): _SERVER,
    ("http", "HttpRequestParser"): _SERVER,
    ("http", "RawRequestMessage"): _SERVER,
    ("http_parser", "HttpRequestParser"): _SERVER,
    ("http_parser", "HttpRequestParserPy"): _SERVER,
    ("http_parser", "RawRequestMessage"): _SERVER,
    ("http_parser", "RawRequestMessagePy"): _SERVER,
    ("http_parser", "HttpRequestParserC"): _C_EXT,
    ("http_parser", "HttpResponseParserC"): _C_EXT,
    ("http_parser", "RawRequestMessageC"): _C_EXT,
    ("http_parser", "RawResponseMessageC"): _C_EXT,
    ("http", "HeadersParser"): _PARSER,
    ("http", "HttpParser"): _PARSER,
    ("http", "HttpResponseParser"): _PARSER,
    ("http_parser", "ChunkState"): _PARSER,
    ("http_parser", "DeflateBuffer"): _PARSER,
    ("http_parser", "HeadersParser"): _PARSER,
    ("http_parser", "HttpParser"): _PARSER,
    ("http_parser", "HttpPayloadParser"): _PARSER,
    ("http_parser", "HttpResponseParser"): _PARSER,
    ("http_parser", "HttpResponseParserPy"): _PARSER,
    ("http_parser", "ParseState"): _PARSER,
    ("http_parser", "PayloadState"): _PARSER,
    ("multipart", "HeadersParser"): _PARSER,
    ("compression_utils", "ConcatDecompressionHandler"): _MEMBERS,
    ("compression_utils", "MemberDecompressObjProtocol"): _MEMBERS,
    ("compression_utils", "MEMBER_WINDOW_MAX"): _MEMBERS,
    ("compression_utils", "MEMBER_WINDOW_MIN"): _MEMBERS,
    ("http_writer", "IS_PY313_BEFORE_313_2"): _WRITELINES,
    ("http_writer", "IS_PY_BEFORE_312_9"): _WRITELINES,
    ("http_writer", "MIN_PAYLOAD_FOR_WRITELINES"): _WRITELINES,
    ("http_writer", "SKIP_WRITELINES"): _WRITELINES,
    ("helpers", "EnsureOctetStream"): "e-mail message class inside aiohttp's parse_content_type",
    ("multipart", "MultipartPayloadWriter"): "internal helper of aiohttp's MultipartWriter.write",
    ("connector", "NEEDS_CLEANUP_CLOSED"): "aiohttp's switch for a CPython SSL-transport leak fix",
    ("client", "WebSocketDataQueue"): "aiohttp's reader-to-response queue; airhttp has none",
    ("client_ws", "WebSocketDataQueue"): "aiohttp's reader-to-response queue; airhttp has none",
}

# Names whose module is another engineer's; remove an entry once the name lands there.
PENDING: dict[tuple[str, str], str] = {}

# Names the import layers (pyproject.toml) keep out of their aiohttp module for now.
BLOCKED_BY_LAYERS: dict[tuple[str, str], str] = {
    ("http_websocket", "WebSocketReader"): "shared-types layer is below _ws_frames",
    ("http_websocket", "WebSocketWriter"): "shared-types layer is below _ws_writer",
    ("http_websocket", "ws_ext_gen"): "shared-types layer is below _ws_deflate",
    ("http_websocket", "ws_ext_parse"): "shared-types layer is below _ws_deflate",
    ("http_parser", "BrotliDecompressor"): "http_parser and compression_utils share a layer",
    ("http_parser", "ZLibDecompressor"): "http_parser and compression_utils share a layer",
    ("http_parser", "ZSTDDecompressor"): "http_parser and compression_utils share a layer",
    ("http_parser", "HAS_BROTLI"): "http_parser and compression_utils share a layer",
    ("http_parser", "HAS_ZSTD"): "http_parser and compression_utils share a layer",
    ("connector", "ClientRequest"): "connector is below the request layer",
    ("abc", "LooseCookies"): "abc and typedefs are both leaves",
    ("abc", "parse_set_cookie_headers"): "abc is a leaf, below _cookie_parsing",
}

_MISSING_ON_PURPOSE = EXCLUDED | PENDING | BLOCKED_BY_LAYERS

# Plain values that differ on purpose.
VALUE_DIFFERS: dict[tuple[str, str], str] = {
    ("http", "SERVER_SOFTWARE"): "names airhttp after the aiohttp version it follows",
    ("client_reqrep", "SERVER_SOFTWARE"): "names airhttp after the aiohttp version it follows",
    ("helpers", "NO_EXTENSIONS"): "airhttp has no C extensions",
    ("http_parser", "NO_EXTENSIONS"): "airhttp has no C extensions",
    ("http_writer", "NO_EXTENSIONS"): "airhttp has no C extensions",
    ("helpers", "TOKEN"): "aiohttp's set holds a stray HTAB; RFC 9110 tchar has none",
    ("multipart", "TOKEN"): "aiohttp's set holds a stray HTAB; RFC 9110 tchar has none",
}


def _aiohttp_module(name: str) -> types.ModuleType:
    return aiohttp if name == PACKAGE else importlib.import_module(f"aiohttp.{name}")


def _airhttp_module(name: str) -> types.ModuleType:
    return airhttp if name == PACKAGE else importlib.import_module(f"airhttp.{name}")


def _is_alias(obj: object) -> bool:
    return typing.get_origin(obj) is not None


def _is_incidental(name: str, obj: object) -> bool:
    """An import aiohttp uses itself (a module, `Any`, `re`, `URL`...), not its API."""
    if obj is None or isinstance(obj, types.ModuleType):
        return True  # `None` is how aiohttp spells type-checking-only names at run time
    if obj is getattr(typing, name, object()):
        return True  # TYPE_CHECKING
    if _is_alias(obj):
        return False
    if inspect.isclass(obj) or callable(obj):
        return not str(getattr(obj, "__module__", "")).startswith("aiohttp")
    return False


def _api(module: str) -> set[str]:
    mod = _aiohttp_module(module)
    if module == PACKAGE:
        return {name for name in mod.__all__ if not name.startswith("web")}
    return {
        name
        for name in dir(mod)
        if not name.startswith("_") and not _is_incidental(name, getattr(mod, name))
    }


def _kind(obj: object) -> str:
    if _is_alias(obj):
        return "type alias"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "value"


def _shared(module: str) -> Iterator[str]:
    ours = _airhttp_module(module)
    for name in sorted(_api(module)):
        if hasattr(ours, name):
            yield name


ALL = (PACKAGE, *MODULES)


@pytest.mark.parametrize("module", ALL, ids=lambda m: m or "airhttp")
def test_module_offers_every_public_name_of_aiohttp(module: str) -> None:
    ours = _airhttp_module(module)
    missing = sorted(
        name
        for name in _api(module)
        if not hasattr(ours, name) and (module, name) not in _MISSING_ON_PURPOSE
    )
    assert not missing, f"airhttp.{module or 'airhttp'} lacks aiohttp's {missing}"


def test_package_all_lists_aiohttp_client_names() -> None:
    missing = sorted(
        name
        for name in _api(PACKAGE)
        if name not in airhttp.__all__ and (PACKAGE, name) not in _MISSING_ON_PURPOSE
    )
    assert not missing


@pytest.mark.parametrize(
    "table", [EXCLUDED, PENDING, BLOCKED_BY_LAYERS], ids=["excluded", "pending", "blocked"]
)
def test_listed_names_are_aiohttp_api_and_still_missing(table: dict[tuple[str, str], str]) -> None:
    """Keeps the lists honest: an entry goes once the name lands or aiohttp drops it."""
    stale = [key for key in table if key[1] not in _api(key[0])]
    landed = [key for key in table if hasattr(_airhttp_module(key[0]), key[1])]
    assert not stale, f"not (or no longer) aiohttp API: {stale}"
    assert not landed, f"now present in airhttp, remove from the list: {landed}"


@pytest.mark.parametrize("module", ALL, ids=lambda m: m or "airhttp")
def test_names_are_the_same_kind_of_object(module: str) -> None:
    theirs, ours = _aiohttp_module(module), _airhttp_module(module)
    wrong = [
        (name, _kind(getattr(theirs, name)), _kind(getattr(ours, name)))
        for name in _shared(module)
        if _kind(getattr(theirs, name)) != _kind(getattr(ours, name))
    ]
    assert not wrong, f"(name, aiohttp's kind, airhttp's kind): {wrong}"


# (module, class, base): aiohttp's class derives from that base, ours not yet.
BASES_PENDING: dict[tuple[str, str, str], str] = {}


def _missing_bases(module: str) -> list[tuple[str, str, str]]:
    theirs, ours = _aiohttp_module(module), _airhttp_module(module)
    classes = [name for name in _shared(module) if inspect.isclass(getattr(theirs, name))]
    wrong = []
    for name in classes:
        mro = getattr(theirs, name).__mro__
        for base_name in classes:
            if base_name == name or getattr(theirs, base_name) not in mro:
                continue
            if getattr(ours, base_name) not in getattr(ours, name).__mro__:
                wrong.append((module, name, base_name))
    return wrong


@pytest.mark.parametrize("module", ALL, ids=lambda m: m or "airhttp")
def test_classes_keep_aiohttp_subclass_relations(module: str) -> None:
    """Where aiohttp's class derives from another listed class, ours does too."""
    wrong = [key for key in _missing_bases(module) if key not in BASES_PENDING]
    assert not wrong, f"(module, class, base it should derive from): {wrong}"


def test_pending_bases_are_still_missing() -> None:
    for module, name, base in BASES_PENDING:
        assert (module, name, base) in _missing_bases(module), "landed: drop it from the list"


def _owners() -> Iterator[tuple[str, str, str]]:
    """(module, other module, name) where aiohttp's two modules hold one object."""
    for first in ALL:
        for second in ALL:
            if first >= second:
                continue
            a_first, a_second = _aiohttp_module(first), _aiohttp_module(second)
            for name in _api(first) & _api(second):
                if getattr(a_first, name) is getattr(a_second, name):
                    yield first, second, name


# Names defined twice where aiohttp re-exports one object; the owner imports it instead.
IDENTITY_PENDING: dict[tuple[str, str], str] = {}


def _broken_reexports() -> set[tuple[str, str, str]]:
    broken = set()
    for first, second, name in _owners():
        mine = _airhttp_module(first), _airhttp_module(second)
        if not all(hasattr(mod, name) for mod in mine):
            continue  # reported as missing by the test above
        if getattr(mine[0], name) is not getattr(mine[1], name):
            broken.add((first, second, name))
    return broken


def test_reexports_are_the_same_object_as_in_aiohttp() -> None:
    broken = sorted(
        f"{first or 'airhttp'}.{name} is not {second}.{name}"
        for first, second, name in _broken_reexports()
        if (first, name) not in IDENTITY_PENDING and (second, name) not in IDENTITY_PENDING
    )
    assert not broken


def test_pending_reexports_are_still_separate_objects() -> None:
    broken = _broken_reexports()
    for module, name in IDENTITY_PENDING:
        assert any(module in (a, b) and n == name for a, b, n in broken), "landed: drop it"


def test_client_reexports_the_exception_classes_of_client_exceptions() -> None:
    from airhttp import client, client_exceptions

    assert client.ClientError is client_exceptions.ClientError
    assert client.ServerDisconnectedError is client_exceptions.ServerDisconnectedError
    assert client.RequestInfo is airhttp.client_reqrep.RequestInfo


_PLAIN = (str, bytes, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list, set, frozenset)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(key) and _plain(item) for key, item in value.items())
    return False


def _same_matches(theirs: re.Pattern[Any], ours: re.Pattern[Any]) -> bool:
    if isinstance(theirs.pattern, bytes) != isinstance(ours.pattern, bytes):
        return False
    probes = [chr(i) for i in range(256)] + ['"abc"', 'W/"a", "b"', "HTTP/1.1", "12a", "x y"]
    if isinstance(theirs.pattern, bytes):
        probes_b = [p.encode("latin-1") for p in probes]
        return all((theirs.fullmatch(p) is None) == (ours.fullmatch(p) is None) for p in probes_b)
    return all(
        [m.groups() for m in theirs.finditer(p)] == [m.groups() for m in ours.finditer(p)]
        for p in probes
    )


@pytest.mark.parametrize("module", ALL, ids=lambda m: m or "airhttp")
def test_plain_values_match_aiohttp(module: str) -> None:
    theirs, ours = _aiohttp_module(module), _airhttp_module(module)
    wrong = []
    for name in _shared(module):
        if (module, name) in VALUE_DIFFERS:
            continue
        value, mine = getattr(theirs, name), getattr(ours, name)
        if isinstance(value, re.Pattern):
            if not isinstance(mine, re.Pattern) or not _same_matches(value, mine):
                wrong.append(name)
        elif _plain(value) and value != mine:
            wrong.append(name)
    assert not wrong


def test_value_differences_are_real() -> None:
    same = [
        key
        for key in VALUE_DIFFERS
        if getattr(_aiohttp_module(key[0]), key[1]) == getattr(_airhttp_module(key[0]), key[1])
    ]
    assert not same, f"equal after all, remove from VALUE_DIFFERS: {same}"
