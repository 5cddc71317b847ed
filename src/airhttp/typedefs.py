"""Type aliases that the public signatures of the client share.

Aliases and two default JSON callables only; nothing here runs at request time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from http.cookies import BaseCookie, Morsel
from typing import Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL
from yarl import Query as _YarlQuery

__all__ = (
    "DEFAULT_JSON_DECODER",
    "DEFAULT_JSON_ENCODER",
    "Byteish",
    "JSONBytesEncoder",
    "JSONDecoder",
    "JSONEncoder",
    "LooseCookies",
    "LooseCookiesIterables",
    "LooseCookiesMappings",
    "LooseHeaders",
    "PathLike",
    "Query",
    "RawHeaders",
    "StrOrURL",
)

DEFAULT_JSON_ENCODER: Final[Callable[[Any], str]] = json.dumps
DEFAULT_JSON_DECODER: Final[Callable[[str], Any]] = json.loads

JSONEncoder = Callable[[Any], str]
JSONBytesEncoder = Callable[[Any], bytes]
JSONDecoder = Callable[[str], Any]

Byteish = bytes | bytearray | memoryview

LooseHeaders = (
    Mapping[str, str]
    | Mapping[istr, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | Iterable[tuple[str | istr, str]]
)
RawHeaders = tuple[tuple[bytes, bytes], ...]
StrOrURL = str | URL

_CookieValue = str | BaseCookie[str] | Morsel[Any]
LooseCookiesMappings = Mapping[str, _CookieValue]
LooseCookiesIterables = Iterable[tuple[str, _CookieValue]]
LooseCookies = LooseCookiesMappings | LooseCookiesIterables | BaseCookie[str]

Query = _YarlQuery
PathLike = str | os.PathLike[str]
