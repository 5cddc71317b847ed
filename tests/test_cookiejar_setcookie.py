"""Set-Cookie lines as the jar reads them: aiohttp 3.14's attribute grammar, RFC 6265 dates.

One tokenizer serves the jar and `resp.cookies` (src/airhttp/_cookie_parsing.py); these tests
feed it lines whole, with blanks for ";", junk, limits and odd dates. No network.
"""

from __future__ import annotations

import logging
import warnings
from http.cookies import Morsel

import pytest
from yarl import URL

from airhttp._cookie_parsing import parse_cookie_date, response_cookies
from airhttp.cookiejar import CookieJar

from .cookie_support import Clock, receive, sent
from .cookie_support import clock as clock


def attributes(header: str) -> dict[str, object]:
    jar = CookieJar()
    receive(jar, "https://h.com/", header)
    (morsel,) = jar
    return {key: value for key, value in morsel.items() if value}


# -- attributes split by blanks as well as ";" (aiohttp 3.14's grammar) ------------------


@pytest.mark.parametrize(
    "header",
    [
        "c3=cookie3; HttpOnly; Path=/ Expires=Tue, 1 Jan 1980 12:00:00 GMT; ",
        "c4=cookie4; HttpOnly; Path=/ Max-Age=0; ",
        "c5=1; Secure Max-Age=-1",
    ],
)
def test_a_missing_semicolon_does_not_hide_an_expiry_that_deletes(header: str) -> None:
    jar = CookieJar()
    receive(jar, "https://h.com/", header.split("=")[0] + "=old", header)
    assert len(jar) == 0


def test_blank_separated_attributes_are_each_read() -> None:
    assert attributes("a=1; Path=/a Secure HttpOnly SameSite=Lax") == {
        "domain": "h.com",
        "path": "/a",
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
    }


def test_a_date_with_blanks_is_read_whole_then_the_next_attribute() -> None:
    got = attributes("a=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT Path=/x")
    assert (got["expires"], got["path"]) == ("Wed, 21 Oct 2099 07:28:00 GMT", "/x")


def test_a_token_that_does_not_parse_is_skipped_to_the_next_semicolon() -> None:
    assert attributes('a=1; "q" Secure; HttpOnly; Path=/é Secure; Path=/p') == {
        "domain": "h.com",
        "path": "/p",
        "httponly": True,
    }


def test_quoted_attribute_values_are_unquoted_and_an_open_quote_runs_to_the_semicolon() -> None:
    assert attributes('a=1; Path="/a;b"; Comment="x\\"y"')["path"] == "/a;b"
    assert attributes('a=1; Comment="open; Secure')["comment"] == '"open'


def test_only_the_first_32_attribute_tokens_are_read() -> None:
    assert "secure" in attributes("a=1" + "; x" * 31 + "; Secure")
    assert "secure" not in attributes("a=1" + "; x" * 32 + "; Secure")
    assert "secure" in attributes("a=1" + ";" * 100 + " Secure")  # empty ones are free


def test_an_attribute_value_over_1024_bytes_is_dropped_alone() -> None:
    assert attributes("a=1; Comment=" + "c" * 1024 + "; Secure")["comment"] == "c" * 1024
    assert attributes("a=1; Comment=" + "c" * 1025 + "; Secure") == {
        "domain": "h.com",
        "path": "/",
        "secure": True,
    }
    assert "comment" not in attributes('a=1; Comment="' + "é" * 512 + '"')


def test_a_tab_inside_a_value_ignores_the_line_but_around_it_is_trimmed() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=x\ty", "b=\t1\t", 'c=1; Comment="x\ty"; Secure')
    assert [(m.key, m.value, m["secure"], m["comment"]) for m in jar] == [
        ("b", "1", "", ""),
        ("c", "1", True, ""),
    ]


def test_a_value_with_a_byte_the_header_could_not_decode_is_ignored() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "bad=\udce4x", "ok=é", 'p=1; Path="/\udce4"')
    assert [m.key for m in jar] == ["ok", "p"]
    assert sent(jar, "http://h.com/") == {"ok": "é", "p": "1"}


# -- Expires and Max-Age -----------------------------------------------------------------


@pytest.mark.parametrize("digits", [40, 1000])
def test_a_huge_max_age_is_clamped_to_the_year_9999(clock: Clock, digits: int) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "far=1; Max-Age=" + "9" * digits, "gone=1")
    receive(jar, "http://h.com/", "gone=; Max-Age=-" + "9" * digits)
    clock.now = 253402300798.0  # 9999-12-31T23:59:58Z
    assert sent(jar, "http://h.com/") == {"far": "1"}
    clock.now += 2
    assert sent(jar, "http://h.com/") == {}


@pytest.mark.parametrize("digits", [4301, 100_000])
def test_a_morsel_max_age_too_long_for_int_is_clamped_not_an_error(
    clock: Clock, digits: int
) -> None:
    far: Morsel[str] = Morsel()
    far.set("far", "1", "1")
    far["max-age"] = "9" * digits
    gone: Morsel[str] = Morsel()
    gone.set("gone", "1", "1")
    gone["max-age"] = "-" + "9" * digits
    jar = CookieJar()
    jar.update_cookies({"far": far, "gone": gone}, URL("http://h.com/"))
    assert sent(jar, "http://h.com/") == {"far": "1"}
    clock.now = 253402300800.0
    assert sent(jar, "http://h.com/") == {}


@pytest.mark.parametrize(
    "date",
    [
        "Thu, 01 Jan 1970 00:00:00 GMT",  # the epoch (aiohttp reads time 0 as no date)
        "Thu, 01 Jan 1970 00:00:01 UTC",  # outside aiohttp's date patterns
        "Thu, 1 Jan 70 00:00:01 GMT",
    ],
)
def test_past_dates_servers_use_to_delete_do_delete(date: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "sid=secret", "keep=1")
    receive(jar, "http://h.com/", f"sid=; Path=/; Expires={date}")
    assert sent(jar, "http://h.com/") == {"keep": "1"}


def test_an_unreadable_expires_shows_as_sent_unless_max_age_decides() -> None:
    assert "expires" not in attributes("a=1; Expires=garbage")
    assert attributes("a=1; Max-Age=100; Expires=garbage")["expires"] == "garbage"
    assert "max-age" not in attributes("a=1; Max-Age=abc")


# -- logging, as aiohttp logs ------------------------------------------------------------


def test_invalid_lines_are_logged_like_aiohttps(caplog: pytest.LogCaptureFixture) -> None:
    jar = CookieJar()
    with caplog.at_level(logging.DEBUG, logger="airhttp.internal"):
        receive(
            jar, "http://h.com/", "a b=1", "=x", "novalue", "ok=1", *(f"c{i}=1" for i in range(50))
        )
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "Can not load cookies: Illegal cookie name 'a b'"),
        (logging.DEBUG, "Ignored 3 invalid Set-Cookie field(s) and 1 over the 50-cookie limit"),
    ]
    assert len(jar) == 50


def test_an_ip_host_a_safe_jar_refuses_is_not_parsed_or_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="airhttp.internal"):
        receive(CookieJar(), "http://127.0.0.1/", "a b=1")
    assert caplog.records == []


def test_the_response_view_reads_the_same_grammar() -> None:
    shown = response_cookies(["a=1; Path=/ Max-Age=0", 'b="x y"; Expires=garbage Secure'])
    assert (shown["a"]["path"], shown["a"]["max-age"]) == ("/", "0")
    assert (shown["b"].value, shown["b"]["expires"], shown["b"]["secure"]) == (
        "x y",
        "garbage",
        True,
    )


# -- filter_cookies with a str ------------------------------------------------------------


def test_filter_cookies_with_a_str_warns_at_the_caller_and_still_works() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert list(jar.filter_cookies("http://h.com/")) == ["a"]  # type: ignore[arg-type]
    (warning,) = record
    assert warning.category is DeprecationWarning
    assert str(warning.message) == (
        "filter_cookies expects yarl.URL instances only,and will stop working in 4.x, "
        "got <class 'str'>"
    )
    assert warning.filename == __file__


# -- names and values --------------------------------------------------------------------


def test_unknown_attributes_do_not_become_cookies() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Priority=High; SameParty; Foo=bar")
    assert sent(jar, "http://h.com/") == {"a": "1"}


@pytest.mark.parametrize(
    "header",
    [
        "novalue",
        "novalue; Path=/",
        "=value",
        "  =value",
        "a b=1",
        'a"b=1',
        "a,b=1",
        "café=1",
        "a=1\x00",
        "a=1\x7f",
        "a=1; Path=/\x01",
        "a=" + "x" * 4096,
        "",
    ],
)
def test_set_cookie_lines_that_must_be_ignored(header: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", header)
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("header", "name", "value"),
    [
        ("a[0]=1", "a[0]", "1"),
        ("path=4", "path", "4"),
        ("  lead  =  spaced  ; Path=/", "lead", "spaced"),
        ("eq=a=b", "eq", "a=b"),
        ("empty=", "empty", ""),
        ("tab=\tv\t", "tab", "v"),
        ("ab=" + "x" * 4094, "ab", "x" * 4094),
        ("json={%22a%22:1}", "json", "{%22a%22:1}"),
    ],
)
def test_real_world_name_and_value_shapes_are_accepted(header: str, name: str, value: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", header)
    assert sent(jar, "http://h.com/") == {name: value}


def test_quoted_value_is_unquoted_and_sent_back_as_the_server_quoted_it() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", 'q="hello world"', 'semi="a;b"; Path=/', 'esc="x\\"y\\073"')
    cookies = jar.filter_cookies(URL("http://h.com/"))
    assert {k: (m.value, m.coded_value) for k, m in cookies.items()} == {
        "q": ("hello world", '"hello world"'),
        "semi": ("a;b", '"a;b"'),
        "esc": ('x"y;', '"x\\"y\\073"'),
    }


# -- dates (RFC 6265 5.1.1) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412480.0),
        ("Wed Oct 21 07:28:00 2015", 1445412480.0),
        ("wed, 21-oct-2015 07:28:00 gmt", 1445412480.0),
        ("21 Oct 2015 7:28:0", 1445412480.0),
        ("Wed!#21&Oct<2015?07:28:00}GMT", 1445412480.0),
        ("Wed, 21 Oct 0015 07:28:00 GMT", 1445412480.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("01 Jan 69 00:00:00", 3124224000.0),
        ("01 Jan 70 00:00:00", 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799.0),
        ("Mon, 01 Jan 1601 00:00:00 GMT", -11644473600.0),
    ],
)
def test_cookie_dates_parse_with_the_rfc_algorithm(text: str, expected: float) -> None:
    assert parse_cookie_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Wed, 21 Oct 2015",
        "Wed, 32 Oct 2015 07:28:00 GMT",
        "Wed, 00 Oct 2015 07:28:00 GMT",
        "Sat, 30 Feb 2016 07:28:00 GMT",
        "Wed, 21 Oct 2015 24:00:00 GMT",
        "Wed, 21 Oct 2015 07:60:00 GMT",
        "Wed, 21 Oct 2015 07:28:60 GMT",
        "Wed, 21 Oct 1600 07:28:00 GMT",
        "Wed, 21 Oct 99999 07:28:00 GMT",
        "Wed, 021 Oct 2015 07:28:00 GMT",
        "Wed, 21 Foo 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 007:28:00 GMT",
    ],
)
def test_invalid_cookie_dates_do_not_parse(text: str) -> None:
    assert parse_cookie_date(text) is None
