"""aiohttp's cookie helper functions, airhttp against aiohttp: the same inputs to both.

parse_cookie_header (a request's Cookie header), parse_set_cookie_headers (a response's
Set-Cookie values) and preserve_morsel_with_coded_value get the same inputs in both libraries,
aiohttp (the oracle) run as a black box; what they return, raise and log must match.
Hypothesis feeds both generated text. Where airhttp differs on purpose, a test pins both sides.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from http.cookies import Morsel, SimpleCookie
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from airhttp import _cookie_parsing, client_reqrep, cookiejar, helpers
from airhttp._cookie_parsing import parse_cookie_date

from .cookie_support import SHOWN, CapturedLogs, made_morsel, morsel_view

COOKIE_HEADER = (aiohttp.client_reqrep.parse_cookie_header, client_reqrep.parse_cookie_header)
SET_COOKIE = (aiohttp.cookiejar.parse_set_cookie_headers, cookiejar.parse_set_cookie_headers)
PRESERVE = (
    aiohttp.cookiejar.preserve_morsel_with_coded_value,
    cookiejar.preserve_morsel_with_coded_value,
)
_EXPIRES = 3 + SHOWN.index("expires")  # in a morsel_view, after key, value and coded value


def _pairs(result: list[tuple[str, Morsel[str]]]) -> list[tuple[Any, ...]]:
    return [(name, type(morsel), *morsel_view(morsel), sorted(morsel)) for name, morsel in result]


def _outcome(function: Callable[[Any], Any], argument: Any) -> tuple[Any, list[tuple[int, str]]]:
    """What `function` returns (as plain values) or raises, and what it logs."""
    with CapturedLogs() as records:
        try:
            result: Any = _pairs(function(argument))
        except Exception as exc:
            result = type(exc)
    return result, records


def _both(
    functions: tuple[Callable[[Any], Any], Callable[[Any], Any]], argument: Any
) -> tuple[Any, Any]:
    theirs, ours = functions
    return _outcome(theirs, argument), _outcome(ours, argument)


# --- the names: the same objects where aiohttp shares one, the same signatures --------------


def test_the_cookiejar_names_are_the_helpers_and_parsing_objects() -> None:
    assert cookiejar.internal_logger is helpers.internal_logger
    assert cookiejar.is_ip_address is helpers.is_ip_address
    for name in ("parse_set_cookie_headers", "preserve_morsel_with_coded_value"):
        assert getattr(cookiejar, name) is getattr(_cookie_parsing, name)
        assert getattr(client_reqrep, name) is getattr(cookiejar, name)
    assert client_reqrep.parse_cookie_header is _cookie_parsing.parse_cookie_header


def test_cookie_item_means_a_value_or_a_morsel_as_in_aiohttp() -> None:
    def resolved(module: Any) -> Any:
        """The alias with aiohttp's forward reference ("Morsel[str]") evaluated."""

        def takes(item: Any) -> None: ...

        takes.__annotations__ = {"item": module.CookieItem}
        return typing.get_type_hints(takes, globalns=vars(module))["item"]

    assert typing.get_args(resolved(cookiejar)) == (str, Morsel[str])
    assert typing.get_args(resolved(cookiejar)) == typing.get_args(resolved(aiohttp.cookiejar))


@pytest.mark.parametrize(
    "functions",
    [COOKIE_HEADER, SET_COOKIE, PRESERVE],
    ids=["parse_cookie_header", "parse_set_cookie_headers", "preserve_morsel_with_coded_value"],
)
def test_the_functions_take_aiohttps_parameters(functions: tuple[Any, Any]) -> None:
    theirs, ours = (inspect.signature(function).parameters for function in functions)
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


# --- parse_cookie_header: a request's Cookie header -----------------------------------------

COOKIE_HEADERS = [
    *("", "a=b", "a=b; c=d", "a=b;c=d;", " a = b ", "a=b;;c=d", ";a=b", "a", "a;b", "a b c"),
    *('a="b c"; d=e', 'a="b\\"c"', 'a="x;y"; b=2', 'a="b', 'a="b; c=d', 'a="b"c; d=e'),
    *('a="b;c"d; e=f', 'a=""', 'a="\\073"', 'a="\\q"', 'a="b\\";c', 'a="b\\\ny"', 'a=b"c d'),
    *("a b=c", "a=b c", "a=b  c=d", "a=b\tc", "a=b\x0bc", "a=b\nc", "a\t=b", "a = \tb"),
    *("a=b,c=d", "a==b", "a=b=c", "a[0]=1", "path=1", "$Version=1; a=b", "Secure; HttpOnly"),
    *("=b", "a;=b", "= ;b=c", "é=1", "a,b=1; c,d=2", 'c"d=2; e=3', 'c"d; e=3', "c\\d=2"),
    *("a\x7f=b", "a=\x7f", "a=b\x00c", "\xa0a=b", "a\xa0=b", "a=\xa0b", "a=b\u2003c", "a=é"),
    *(
        "a\xa0b c=d",
        "a=\udcff",
        "a=Wed, 21 Oct 2099 07:28:00 GMT; b=1",
        "a=Sun Nov  6 08:49:37 1994",
        'a\xa0="x\\\ny"',
    ),
    "expires=Thu, 01 Jan 1970 00:00:00 UTC; b=1",
    "; ".join(f"c{i}=v" for i in range(60)),
    "a=" + "x" * 5000,
]


@pytest.mark.parametrize("header", COOKIE_HEADERS, ids=repr)
def test_a_cookie_header_reads_as_in_aiohttp(header: str) -> None:
    theirs, ours = _both(COOKIE_HEADER, header)
    assert ours == theirs


@pytest.mark.parametrize("header", [None, b"", b"a=b", 1], ids=repr)
def test_a_cookie_header_that_is_not_text_fails_as_in_aiohttp(header: Any) -> None:
    theirs, ours = _both(COOKIE_HEADER, header)
    assert ours == theirs


_PIECES = [*" \t\n\r\x0b\x0c;=\"\\,$'([/:-\x00\x1f\x7f\xa0é\u2003\udcff", "\\073", '\\"', '"x"']
_PIECES += ["a", "Z9", "Path", "expires", "Secure", "Wed, 21 Oct 2099 07:28:00 GMT", "Jan", "00"]
TEXT = st.lists(st.sampled_from(_PIECES) | st.characters(max_codepoint=0x3000), max_size=20).map(
    "".join
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=TEXT)
def test_generated_cookie_headers_read_as_in_aiohttp(header: str) -> None:
    theirs, ours = _both(COOKIE_HEADER, header)
    assert ours == theirs


# --- parse_set_cookie_headers: a response's Set-Cookie values -------------------------------

_ALL_ATTRIBUTES = "Path=/p; Domain=x.com; Max-Age=10; Expires=Wed, 21 Oct 2099 07:28:00 GMT"
_ALL_ATTRIBUTES += "; Secure; HttpOnly; SameSite=Lax; Comment=hi; Version=1; Partitioned"
SET_COOKIE_HEADERS = [
    [],
    [""],
    [None, "", "a=1"],
    ["a=b", "c=d", "a=2"],
    ["a=b; " + _ALL_ATTRIBUTES],
    ['a="b c"; Path=/', 'a="b\\"c"', "a=b,c=d", "a=b c", 'a="x;y"; b=2'],
    ["a", "=b", "a=\x01", "a=b\tc", "é=1", "a b=1", "a[0]=1", "path=1"],
    ["a=b; path", "a=b; foo=bar", "a=b; Path=/ Max-Age=0", "a=1; Max-Age=abc"],
    ["a=1; Secure=yes", "a=1; Domain=", "a=1; Domain=.x.com", "a=1; SameSite"],
    ["a=1; Max-Age=0; Max-Age=5", "a=1; Path=/a; Path=/b", "a=1; Path=/x y"],
    ["a=1; Path=\xa0/x", 'a=1; Pa"th=/x', "a=1; Path=/x\\y", "a=1; Secure\xa0"],
    # A flag counts whatever its value: one with a tab, one too long to keep.
    ['a=1; Secure="x\t"', "a=1; HttpOnly=" + "x" * 2000, 'a=1; Path=/; Path="\t'],
    [f"c{i}=v" for i in range(60)],
]


@pytest.mark.parametrize("headers", SET_COOKIE_HEADERS, ids=repr)
def test_set_cookie_headers_read_as_in_aiohttp(headers: list[str]) -> None:
    theirs, ours = _both(SET_COOKIE, headers)
    assert ours == theirs


@pytest.mark.parametrize("headers", [None, [b"a=b"], [b""], "a=b", ("a=1", "b=2")], ids=repr)
def test_set_cookie_headers_of_other_types_end_as_in_aiohttp(headers: Any) -> None:
    theirs, ours = _both(SET_COOKIE, headers)
    assert ours == theirs


def test_an_expires_date_aiohttp_cuts_short_is_shown_whole() -> None:
    """Differs on purpose: aiohttp keeps "Thu," of a date outside its two patterns.

    airhttp shows the date RFC 6265 5.1.1 reads (docs/migrating.md), as resp.cookies does.
    """
    line = "a=1; Expires=Thu, 01 Jan 1970 00:00:00 UTC"
    ((_, theirs),) = aiohttp.cookiejar.parse_set_cookie_headers([line])
    ((_, ours),) = cookiejar.parse_set_cookie_headers([line])
    assert theirs["expires"] == "Thu,"
    assert ours["expires"] == "Thu, 01 Jan 1970 00:00:00 UTC"


def _only_longer_dates(theirs: Any, ours: Any) -> bool:
    """Whether the results differ only where airhttp read an Expires date aiohttp cut short."""
    if not isinstance(theirs, list) or not isinstance(ours, list) or len(theirs) != len(ours):
        return False
    for aio, air in zip(theirs, ours, strict=True):
        short, whole = aio[_EXPIRES], air[_EXPIRES]
        if short != whole and (not whole.startswith(short) or parse_cookie_date(whole) is None):
            return False
    return [aio[:_EXPIRES] + aio[_EXPIRES + 1 :] for aio in theirs] == [
        air[:_EXPIRES] + air[_EXPIRES + 1 :] for air in ours
    ]


_ATTRIBUTE_NAMES = ["Path", "Domain", "Expires", "Max-Age", "Secure", "HttpOnly", "SameSite"]
_ATTRIBUTE_NAMES += ["Partitioned", "Comment", "Version", "Foo", "path", "EXPIRES"]
_SHORT = st.lists(st.sampled_from(_PIECES) | st.characters(max_codepoint=0x7F), max_size=5)
ATTRIBUTE = st.tuples(
    st.sampled_from(["; ", ";", " ", "\t"]),
    st.sampled_from(_ATTRIBUTE_NAMES),
    st.sampled_from(["", "=", " = "]),
    _SHORT.map("".join) | st.sampled_from(["/", "/x", "10", "-1", "Lax", "x.com", '"q"']),
).map("".join)
SET_COOKIE_LINE = st.one_of(
    TEXT,
    st.tuples(
        _SHORT.map("".join),
        st.sampled_from(["=", " = ", '="', ""]),
        _SHORT.map("".join),
        st.lists(ATTRIBUTE, max_size=5).map("".join),
    ).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(SET_COOKIE_LINE, max_size=4))
def test_generated_set_cookie_headers_read_as_in_aiohttp(headers: list[str]) -> None:
    (theirs, their_logs), (ours, our_logs) = _both(SET_COOKIE, headers)
    if theirs != ours:
        assume(not _only_longer_dates(theirs, ours))
    assert (ours, our_logs) == (theirs, their_logs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(SET_COOKIE_LINE, max_size=4))
def test_generated_set_cookie_lines_as_a_cookie_header_read_as_in_aiohttp(
    headers: list[str],
) -> None:
    theirs, ours = _both(COOKIE_HEADER, "; ".join(headers))
    assert ours == theirs


def test_response_cookies_are_the_parsed_pairs_last_name_winning() -> None:
    headers = ["a=1; Path=/", "b=2", "a=3; Secure"]
    shown = _cookie_parsing.response_cookies(headers)
    expected = SimpleCookie()
    for name, morsel in cookiejar.parse_set_cookie_headers(headers):
        expected[name] = morsel
    assert [morsel_view(m) for m in shown.values()] == [morsel_view(m) for m in expected.values()]
    assert shown["a"]["secure"] is True


# --- preserve_morsel_with_coded_value ------------------------------------------------------


class _MyMorsel(Morsel[str]):
    pass


def _subclassed() -> Morsel[str]:
    morsel = _MyMorsel()
    morsel.set("k", "v", '"v"')
    return morsel


def _from_simple_cookie() -> Morsel[str]:
    cookies = SimpleCookie()
    cookies["x"] = "a b"
    cookies["x"]["max-age"] = 5
    return cookies["x"]


def _odd_name() -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    morsel.__setstate__({"key": "a[0]", "value": "v", "coded_value": "%76"})  # type: ignore[attr-defined]
    return morsel


MORSELS: dict[str, Callable[[], Any]] = {
    "with attributes": lambda: made_morsel("a", "b c", '"b c"', path="/x", secure=True),
    "blank": Morsel,
    "subclass": _subclassed,
    "from a SimpleCookie": _from_simple_cookie,
    "a name Morsel.set refuses": _odd_name,
    "not a Morsel but shaped like one": lambda: SimpleNamespace(key=1, value=2, coded_value=3),
    "without coded_value": lambda: SimpleNamespace(key="a", value="b"),
    "without value": lambda: SimpleNamespace(key="a", coded_value="b"),
    "a string": lambda: "a=b",
    "None": lambda: None,
}


@pytest.mark.parametrize("make", MORSELS.values(), ids=MORSELS)
def test_a_preserved_morsel_is_what_aiohttp_makes_of_it(make: Callable[[], Any]) -> None:
    def preserved(function: Callable[[Any], Morsel[str]]) -> Any:
        cookie = make()
        try:
            copy = function(cookie)
        except Exception as exc:
            return type(exc), str(exc)
        assert copy is not cookie
        return type(copy), copy.key, copy.value, copy.coded_value, dict(copy)

    theirs, ours = (preserved(function) for function in PRESERVE)
    assert ours == theirs
