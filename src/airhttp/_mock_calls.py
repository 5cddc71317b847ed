"""What airhttp.testing records of each mocked request, and the assertions over it.

A call holds the request as the router saw it (method, URL, headers, body bytes) and
what it got back. Nothing here matches routes, builds responses or touches a session.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict
from yarl import URL

if TYPE_CHECKING:
    from ._client_request import ClientRequest
    from ._client_response import ClientResponse

__all__ = ("UNSET", "Call", "CallAssertions", "CallList", "url_key", "url_matches")


class _Unset:
    """Marks an argument that was not given (None is a value for some of them)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

# How many calls an assertion message lists before it stops.
_SHOWN_CALLS: Final = 5


def url_key(url: URL) -> tuple[Any, ...]:
    """What two URLs must share to be the same: query order and fragment do not count."""
    return (
        url.scheme.lower(),
        (url.host or "").lower(),
        url.port,
        url.path or "/",
        sorted(url.query.items()),
    )


def url_matches(expected: str | URL | re.Pattern[str], url: URL) -> bool:
    """Whether `url` is `expected`: the same URL (see url_key), or a regex match from its start."""
    if isinstance(expected, re.Pattern):
        return expected.match(str(url)) is not None
    return url_key(URL(expected)) == url_key(url)


class Call:
    """One request a router saw, and what came of it.

    `body` is the whole request body as the caller gave it (before any compression),
    read from bytes, forms, files and streamed bodies alike.
    """

    __slots__ = ("body", "exception", "headers", "method", "request", "response", "route", "url")

    def __init__(self, request: ClientRequest, body: bytes, route: Any) -> None:
        self.request = request
        self.method = request.method
        self.url: URL = request.url
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(request.headers))
        self.body = body
        # The Route that answered, or None for a request no route matched.
        self.route = route
        self.response: ClientResponse | None = None
        self.exception: BaseException | None = None

    @property
    def params(self) -> Mapping[str, str]:
        """The URL's query parameters."""
        return self.url.query

    def text(self, encoding: str = "utf-8") -> str:
        return self.body.decode(encoding)

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError if it is not JSON)."""
        return jsonlib.loads(self.body)

    def form(self) -> MultiDict[str]:
        """The body parsed as an application/x-www-form-urlencoded form."""
        return MultiDict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def __repr__(self) -> str:
        return f"<Call {self.method} {self.url} body={_short(self.body)}>"


def _short(body: bytes) -> str:
    return repr(body) if len(body) <= 80 else repr(body[:77]) + "..."


def _pairs(value: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    items = value.items() if isinstance(value, Mapping) else value
    return sorted((str(key), str(item)) for key, item in items)


def differences(
    call: Call,
    url: str | URL | re.Pattern[str] | _Unset = UNSET,
    method: str | _Unset = UNSET,
    params: Mapping[str, Any] | Iterable[tuple[str, Any]] | _Unset = UNSET,
    headers: Mapping[str, str] | _Unset = UNSET,
    body: bytes | str | _Unset = UNSET,
    json: Any = UNSET,
    data: Mapping[str, Any] | Iterable[tuple[str, Any]] | _Unset = UNSET,
) -> list[str]:
    """How `call` differs from what was expected, one line per field; [] if it does not."""
    found: list[str] = []
    if not isinstance(method, _Unset) and method.upper() != call.method:
        found.append(f"method: expected {method.upper()}, got {call.method}")
    if not isinstance(url, _Unset) and not url_matches(url, call.url):
        found.append(f"url: expected {url}, got {call.url}")
    if not isinstance(params, _Unset) and _pairs(params) != _pairs(call.url.query.items()):
        found.append(f"params: expected {_pairs(params)}, got {_pairs(call.url.query.items())}")
    if not isinstance(headers, _Unset):
        for name, value in headers.items():
            sent = call.headers.getall(name, [])
            if value not in sent:
                found.append(f"header {name}: expected {value!r}, got {sent or 'none'}")
    if not isinstance(body, _Unset):
        expected = body.encode() if isinstance(body, str) else body
        if expected != call.body:
            found.append(f"body: expected {_short(expected)}, got {_short(call.body)}")
    if json is not UNSET:
        try:
            sent_json = call.json()
        except ValueError:
            found.append(
                f"json: expected {json!r}, got a body that is not JSON: {_short(call.body)}"
            )
        else:
            if sent_json != json:
                found.append(f"json: expected {json!r}, got {sent_json!r}")
    if not isinstance(data, _Unset):
        sent_form = _pairs(call.form().items())
        if _pairs(data) != sent_form:
            found.append(f"form data: expected {_pairs(data)}, got {sent_form}")
    return found


class CallAssertions:
    """mock-style assertions over the calls of a route, of a router, or a list of calls.

    Expectations are keyword arguments (`url` may come first): `method`, `url` (the same
    URL, query order aside, or a regex), `params`, `headers` (those named must be among
    the sent ones), `body`, `json` (the body parsed) and `data` (the body as a form).
    """

    def _asserted_calls(self) -> list[Call]:
        raise NotImplementedError

    def _what(self) -> str:
        return "the mock"

    def assert_called(self) -> None:
        if not self._asserted_calls():
            raise AssertionError(f"{self._what()} was not called")

    def assert_not_called(self) -> None:
        calls = self._asserted_calls()
        if calls:
            raise AssertionError(
                f"{self._what()} was called {len(calls)} times, expected never: {_listed(calls)}"
            )

    def assert_called_once(self) -> None:
        calls = self._asserted_calls()
        if len(calls) != 1:
            raise AssertionError(
                f"{self._what()} was called {len(calls)} times, expected once: {_listed(calls)}"
            )

    def assert_called_with(
        self, url: str | URL | re.Pattern[str] | _Unset = UNSET, **expected: Any
    ) -> None:
        """The last call was made with what is expected."""
        calls = self._asserted_calls()
        if not calls:
            raise AssertionError(f"{self._what()} was not called")
        found = differences(calls[-1], url, **expected)
        if found:
            raise AssertionError(
                f"the last call of {self._what()} differs: {calls[-1]!r}\n  " + "\n  ".join(found)
            )

    def assert_called_once_with(
        self, url: str | URL | re.Pattern[str] | _Unset = UNSET, **expected: Any
    ) -> None:
        self.assert_called_once()
        self.assert_called_with(url, **expected)

    def assert_any_call(
        self, url: str | URL | re.Pattern[str] | _Unset = UNSET, **expected: Any
    ) -> None:
        """Some call, not necessarily the last, was made with what is expected."""
        calls = self._asserted_calls()
        report: list[str] = []
        for call in calls:
            found = differences(call, url, **expected)
            if not found:
                return
            if len(report) < _SHOWN_CALLS:
                report.append(f"{call!r}\n    " + "\n    ".join(found))
        if not calls:
            raise AssertionError(f"{self._what()} was not called")
        raise AssertionError(
            f"no call of {self._what()} matches; the calls differ:\n  " + "\n  ".join(report)
        )


def _listed(calls: list[Call]) -> str:
    shown = ", ".join(repr(call) for call in calls[:_SHOWN_CALLS])
    return shown + (", ..." if len(calls) > _SHOWN_CALLS else "")


class CallList(list[Call], CallAssertions):
    """Calls in the order they were made, with mock-style assertions."""

    def _asserted_calls(self) -> list[Call]:
        return self

    def _what(self) -> str:
        return "the call list"

    @property
    def last(self) -> Call:
        """The most recent call (IndexError when there is none)."""
        return self[-1]

    @property
    def called(self) -> bool:
        return bool(self)

    @property
    def call_count(self) -> int:
        return len(self)
