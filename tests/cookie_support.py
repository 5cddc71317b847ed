"""What the cookie tests share: a fake clock for the jar, a loopback resolver, and views.

Test scaffolding only: it feeds jars and reads them back, and puts what aiohttp and airhttp
show of a cookie into plain values that compare; it holds no assertions of its own.
"""

from __future__ import annotations

import logging
import socket
from http.cookies import Morsel
from typing import Any, Final

import aiohttp
import pytest
from yarl import URL

import airhttp
from airhttp import cookiejar
from airhttp._cookie_parsing import MORSEL_HAS_PARTITIONED
from airhttp.abc import AbstractResolver, ResolveResult
from airhttp.cookiejar import CookieJar, DummyCookieJar

NOW: Final = 1_700_000_000.0  # 2023-11-14T22:13:20Z
FUTURE: Final = "Wed, 21 Oct 2099 07:28:00 GMT"
PAST: Final = "Thu, 01 Jan 1970 00:00:00 GMT"


class Clock:
    """Stands in for time.time() inside the cookiejar module."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(NOW)
    monkeypatch.setattr(cookiejar, "time", fake)
    return fake


def receive(jar: CookieJar, url: str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


def sent(jar: CookieJar | DummyCookieJar, url: str | URL) -> dict[str, str]:
    return {name: morsel.value for name, morsel in jar.filter_cookies(URL(url)).items()}


def stored(jar: CookieJar) -> dict[tuple[str, str, str], Morsel[str]]:
    return {(m["domain"], m["path"], m.key): m for m in jar}


class LoopbackResolver(AbstractResolver):
    """Sends every host name to 127.0.0.1, so one server plays every domain."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        pass


# --- airhttp against aiohttp: what code can observe of a cookie, as plain values -----------

LIBS: Final = (aiohttp, airhttp)
# aiohttp logs on "aiohttp.internal", airhttp on "airhttp.internal": same level and text.
INTERNAL_LOGGERS: Final = ("aiohttp.internal", "airhttp.internal")
PROBE_HOSTS: Final = ("example.com", "sub.example.com", "other.com")
PROBE_PATHS: Final = ("/", "/a", "/a/", "/a/b", "/ab", "/x")

_ATTRIBUTES = ("domain", "path", "expires", "max-age", "secure", "httponly", "samesite")
_ATTRIBUTES += ("comment", "version")
# The attributes a Morsel can carry here: "partitioned" only from Python 3.14 on.
SHOWN: Final = (*_ATTRIBUTES, "partitioned") if MORSEL_HAS_PARTITIONED else _ATTRIBUTES


def internal_records(caplog: pytest.LogCaptureFixture, start: int) -> list[tuple[str, int, str]]:
    """What either library logged on its internal logger since record `start`."""
    return [
        ("internal", r.levelno, r.getMessage())
        for r in caplog.records[start:]
        if r.name in INTERNAL_LOGGERS
    ]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


class CapturedLogs:
    """The records of aiohttp.internal and airhttp.internal while the block runs.

    For property tests, which cannot use pytest's function-scoped `caplog`.
    """

    def __enter__(self) -> list[tuple[int, str]]:
        self._handler = _ListHandler()
        self._saved: list[tuple[logging.Logger, int]] = []
        for name in INTERNAL_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self._handler)
        return self._handler.records

    def __exit__(self, *exc: object) -> None:
        for logger, level in self._saved:
            logger.removeHandler(self._handler)
            logger.setLevel(level)


def morsel_view(morsel: Morsel[str]) -> tuple[Any, ...]:
    shown = tuple(morsel.get(key, "") for key in SHOWN)
    return (morsel.key, morsel.value, morsel.coded_value, *shown)


def jar_view(jar: Any) -> dict[str, Any]:
    return {
        "morsels": [morsel_view(m) for m in jar],
        "len": len(jar),
        "host_only": sorted(jar.host_only_cookies),
        "groups": [(key, list(group)) for key, group in jar.cookies.items()],
    }


def sent_coded(jar: Any, urls: list[str]) -> dict[str, list[tuple[str, str]]]:
    """What `jar` sends to each URL: (name, coded value) pairs in order."""
    return {u: [(k, m.coded_value) for k, m in jar.filter_cookies(URL(u)).items()] for u in urls}


def made_morsel(name: str, value: str, coded: str | None = None, **attrs: Any) -> Morsel[str]:
    """A Morsel as user code builds one; `max_age=` sets "max-age"."""
    morsel: Morsel[str] = Morsel()
    morsel.set(name, value, value if coded is None else coded)
    for key, attr in attrs.items():
        morsel[key.replace("_", "-")] = attr
    return morsel
