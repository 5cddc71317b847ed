"""Fuzz target: Set-Cookie values, from the response to the jar to the next request's Cookie.

The data is decoded as the response parser decodes header values (UTF-8, surrogateescape)
and cut into up to 4 Set-Cookie values (see tests/fuzz/_fdp.py). Each value goes through
airhttp._cookie_parsing's entry points: parse_set_cookie (the jar's reading),
morsel_from_set_cookie and parse_set_cookie_headers (the response's `cookies`), then
CookieJar.update_cookies_from_headers from an http or https URL, filter_cookies for a
request to that URL, and ClientRequest.update_cookies, which builds the Cookie header
the session sends. parse_cookie_header and parse_cookie_date read the values too.

None of these documents an exception for header text: they ignore what they cannot read.
A bug is any of:
- any exception on the way from Set-Cookie to the Cookie header;
- an accepted cookie whose name is empty, not printable ASCII, or holds any of `",;\\`, or
  whose name, value or attributes hold CR, LF or NUL;
- parse_set_cookie and morsel_from_set_cookie disagreeing on whether a value is a cookie,
  or on its name, value or coded value;
- a Cookie header holding CR, LF or NUL; a Max-Age that is not an int, an Expires that is
  not a finite POSIX time.
"""

from __future__ import annotations

import math
import re
from http.cookies import CookieError
from types import SimpleNamespace
from typing import Any

from multidict import CIMultiDict
from yarl import URL

from airhttp._client_request import ClientRequest
from airhttp._cookie_parsing import (
    morsel_from_set_cookie,
    parse_cookie_date,
    parse_cookie_header,
    parse_set_cookie,
    parse_set_cookie_headers,
)
from airhttp.cookiejar import CookieJar

from . import _fdp, _known

_BAD_NAME = re.compile(r'[^\x21-\x7e]|[",;\\]')
_CTL = ("\r", "\n", "\x00")
_URLS = (
    URL("http://example.com/a/b"),
    URL("https://www.example.com/"),
    URL("http://127.0.0.1:8080/x/"),
)


class CookieBug(AssertionError):
    """The cookie code broke its contract on this input (see the module docstring)."""


def _no_ctl(what: str, text: object) -> None:
    if isinstance(text, str) and any(ch in text for ch in _CTL):
        raise CookieBug(f"CR/LF/NUL in {what}: {text!r}")


def check_value(header: str) -> None:
    """One Set-Cookie value through the jar's and the response's readings."""
    spec = parse_set_cookie(header)
    morsel = morsel_from_set_cookie(header)
    if (spec is None) != (morsel is None):
        raise CookieBug(f"jar read {spec!r}, response read {morsel!r}")
    if spec is None or morsel is None:
        return
    if (spec.name, spec.value, spec.coded) != (morsel.key, morsel.value, morsel.coded_value):
        raise CookieBug(f"jar and response differ: {spec.name!r}={spec.coded!r} vs {morsel!r}")
    if not spec.name or _BAD_NAME.search(spec.name):
        raise CookieBug(f"illegal cookie name accepted: {spec.name!r}")
    for what in ("name", "value", "coded", "domain", "path", "samesite", "expires_text"):
        _no_ctl(what, getattr(spec, what))
    for key, value in morsel.items():
        _no_ctl(f"attribute {key}", value)
    if spec.max_age is not None and type(spec.max_age) is not int:
        raise CookieBug(f"Max-Age is {spec.max_age!r}")
    if spec.expires is not None and not math.isfinite(spec.expires):
        raise CookieBug(f"Expires is {spec.expires!r}")


def cookie_header_for(jar: CookieJar, url: URL) -> str:
    """The Cookie header a request to `url` would carry, built by the client's own code."""
    cookies = jar.filter_cookies(url)
    # update_cookies only touches `headers`: a stand-in spares building a whole request.
    request: Any = SimpleNamespace(headers=CIMultiDict())
    ClientRequest.update_cookies(request, cookies)
    return str(request.headers.get("Cookie", ""))


def one_input(data: bytes) -> None:
    fdp = _fdp.provider(data)
    url = _URLS[fdp.ConsumeIntInRange(0, len(_URLS) - 1)]
    unsafe = _fdp.flag(fdp)
    cuts = _fdp.consume_cuts(fdp, 3)
    raw = _fdp.split(_fdp.take_rest(fdp), cuts)
    values = [piece.decode("utf-8", "surrogateescape") for piece in raw] or [""]
    for value in values:
        check_value(value)
        parse_cookie_header(value)
        moment = parse_cookie_date(value)
        if moment is not None and not math.isfinite(moment):
            raise CookieBug(f"cookie date {value!r} gave {moment!r}")
    for name, morsel in parse_set_cookie_headers(values):
        if name != morsel.key:
            raise CookieBug(f"pair name {name!r} is not the Morsel's {morsel.key!r}")
    jar = CookieJar(unsafe=unsafe)
    jar.update_cookies_from_headers(values, url)
    try:
        header = cookie_header_for(jar, url)
    except (CookieError, AttributeError):
        if not _known.lenient():  # known bug 2 in tests/fuzz/_known.py
            raise
        return
    _no_ctl("the Cookie header", header)


def seed(values: list[bytes], *, url: int = 0, unsafe: bool = False) -> bytes:
    """The input that makes `one_input` read these Set-Cookie values (at most 4)."""
    data = b"".join(values)
    points: list[int] = []
    for value in values[:-1]:
        points.append((points[-1] if points else 0) + len(value))
    writer = _fdp.SeedWriter().int_in_range(0, len(_URLS) - 1, url).flag(unsafe)
    return writer.cuts(points, 3).build(data)


def main() -> None:
    from ._harness import run

    run(one_input)


if __name__ == "__main__":
    main()
