"""ClientRequest's automatic headers when DEFAULT_HEADERS is the stock one or changed."""

from __future__ import annotations

from typing import ClassVar

from multidict import CIMultiDict
from yarl import URL

import airhttp
from airhttp import hdrs

URL_ = URL("http://example.test/path")


async def test_a_request_without_headers_gets_host_then_the_stock_defaults_in_order() -> None:
    req = airhttp.ClientRequest("GET", URL_)
    assert list(req.headers) == ["Host", "Accept", "Accept-Encoding", "User-Agent"]
    assert req.headers["Accept"] == "*/*"
    assert req.headers["User-Agent"].startswith("Python/")


class _OwnAgent(airhttp.ClientRequest):
    DEFAULT_HEADERS: ClassVar[dict[str, str]] = {  # type: ignore[misc]
        "Accept": "text/plain",
        "User-Agent": "own/1.0",
    }


async def test_a_subclass_user_agent_in_default_headers_is_kept() -> None:
    req = _OwnAgent("GET", URL_)
    assert req.headers.getall(hdrs.USER_AGENT) == ["own/1.0"]
    assert req.headers.getall(hdrs.ACCEPT) == ["text/plain"]
    assert list(req.headers) == ["Host", "Accept", "User-Agent"]


class _CaseVariants(airhttp.ClientRequest):
    DEFAULT_HEADERS: ClassVar[CIMultiDict[str]] = CIMultiDict(  # type: ignore[misc]
        [("Accept", "a/b"), ("accept", "c/d"), ("Host", "other.test")]
    )


async def test_repeated_or_host_entries_in_default_headers_are_added_once_if_missing() -> None:
    req = _CaseVariants("GET", URL_)
    assert req.headers.getall(hdrs.ACCEPT) == ["a/b"]
    assert req.headers.getall(hdrs.HOST) == ["example.test"]
