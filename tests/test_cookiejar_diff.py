"""The cookie jar, airhttp against aiohttp: the same calls on both jars, and what each does.

aiohttp's CookieJar (the oracle) and airhttp's get the same Set-Cookie lines, Morsels,
clock, files and quotas; what they store, send, warn and log must match. Where airhttp
differs on purpose (aiohttp's behaviour hurts users), a test pins both sides and says why;
docs/migrating.md lists them. A property feeds both generated Set-Cookie lines.
"""

from __future__ import annotations

import json
import pickle
import time
import warnings
from collections import defaultdict
from http.cookies import Morsel, SimpleCookie
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from yarl import URL

import airhttp
from airhttp import cookiejar as air_cookiejar
from airhttp._cookie_parsing import MORSEL_HAS_PARTITIONED, response_cookies

from .cookie_support import (
    LIBS,
    PROBE_HOSTS,
    PROBE_PATHS,
    CapturedLogs,
    Clock,
    jar_view,
    made_morsel,
    morsel_view,
    sent_coded,
)

# --- the jar on its own ---------------------------------------------------------------------


def _both_jars(**kwargs: Any) -> tuple[Any, Any]:
    return aiohttp.CookieJar(**kwargs), airhttp.CookieJar(**kwargs)


def _feed(jars: tuple[Any, ...], url: str, *lines: str) -> None:
    for jar in jars:
        jar.update_cookies_from_headers(list(lines), URL(url))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(time.time())
    monkeypatch.setattr(time, "time", fake)  # aiohttp's jar calls time.time()
    monkeypatch.setattr(air_cookiejar, "time", fake)
    return fake


async def test_filter_cookies_with_a_str_url_warns_as_aiohttp_does() -> None:
    """aiohttp: DeprecationWarning "filter_cookies expects yarl.URL instances only,..."."""
    caught = {}
    for jar in _both_jars():
        jar.update_cookies_from_headers(["a=1"], URL("http://h.com/"))
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            got = list(jar.filter_cookies("http://h.com/"))  # type: ignore[arg-type]
        assert got == ["a"]
        caught[type(jar).__module__] = [
            (w.category, str(w.message), w.filename == __file__) for w in record
        ]
    assert caught["airhttp.cookiejar"] == caught["aiohttp.cookiejar"]
    assert caught["aiohttp.cookiejar"][0][0] is DeprecationWarning


async def test_expired_cookies_leave_every_view_at_the_same_moment(clock: Clock) -> None:
    """aiohttp hides a cookie from iteration, filter_cookies, `cookies`, clear() once due."""
    views: dict[str, list[Any]] = {}
    for jar in _both_jars():
        jar.update_cookies_from_headers(["a=1; Max-Age=5", "b=2"], URL("http://h.com/"))
        seen: list[Any] = []
        for step in (4.0, 2.0):
            clock.now += step
            asked: list[str] = []
            jar.clear(lambda morsel, asked=asked: asked.append(morsel.key) is None and False)
            seen += [
                [m.key for m in jar],
                list(jar.filter_cookies(URL("http://h.com/"))),
                [(key, list(group)) for key, group in jar.cookies.items()],
                asked,
            ]
        views[type(jar).__module__] = seen
        clock.now -= 6.0
    assert views["airhttp.cookiejar"] == views["aiohttp.cookiejar"]


async def test_len_counts_only_cookies_that_have_not_expired(clock: Clock) -> None:
    """Differs on purpose: aiohttp's len() and host_only_cookies count expired cookies."""
    aio, air = _both_jars()
    _feed((aio, air), "http://h.com/", "a=1; Max-Age=5", "b=2")
    clock.now += 10
    assert (len(aio), len(aio.host_only_cookies)) == (2, 2)
    assert (len(air), len(air.host_only_cookies)) == (1, 1)
    assert [m.key for m in aio] == [m.key for m in air] == ["b"]


async def test_cookies_and_host_only_cookies_have_aiohttp_3_14s_shape() -> None:
    """aiohttp 3.14: `cookies` maps (domain, path without /) to SimpleCookie, in order."""
    shapes = []
    for jar in _both_jars():
        jar.update_cookies_from_headers(
            ["a=1", "b=2; Domain=h.com; Path=/p/", "c=3; Path=/q"], URL("http://s.h.com/x/y")
        )
        jar.update_cookies({"s": "1"})
        view = jar.cookies
        shapes.append(
            (
                type(view).__name__,
                [(key, type(group).__name__, list(group)) for key, group in view.items()],
                type(jar.host_only_cookies).__name__,
                sorted(jar.host_only_cookies),
            )
        )
    assert shapes[0] == shapes[1]


def _of_example_com(morsel: Morsel[str]) -> bool:
    return bool(morsel["domain"] == "example.com")


async def test_clear_and_clear_domain_remove_the_same_cookies() -> None:
    """aiohttp's clear(predicate) and clear_domain() (domain and its subdomains)."""
    lines = [("http://example.com/", "a=1"), ("http://sub.example.com/", "b=1; Domain=example.com")]
    lines += [("http://sub.example.com/", "c=1"), ("http://notexample.com/", "d=1")]
    lines += [("http://127.0.0.1/", "e=1")]
    for action in (
        lambda jar: jar.clear_domain("example.com"),
        lambda jar: jar.clear_domain("sub.example.com"),
        lambda jar: jar.clear_domain(".example.com"),
        lambda jar: jar.clear_domain(""),
        lambda jar: jar.clear_domain("127.0.0.1"),
        lambda jar: jar.clear(_of_example_com),
        lambda jar: jar.clear(),
    ):
        left = []
        for jar in _both_jars(unsafe=True):
            for url, line in lines:
                jar.update_cookies_from_headers([line], URL(url))
            jar.update_cookies({"s": "1"})
            action(jar)
            left.append([m.key for m in jar])
        assert left[0] == left[1]


async def test_clear_domain_ignores_the_case_of_its_argument() -> None:
    """Differs on purpose: aiohttp's clear_domain("EXAMPLE.com") removes nothing."""
    aio, air = _both_jars()
    _feed((aio, air), "http://example.com/", "a=1")
    aio.clear_domain("EXAMPLE.com")
    air.clear_domain("EXAMPLE.com")
    assert (len(aio), len(air)) == (1, 0)


async def test_quotas_per_domain_per_jar_and_per_request_are_aiohttp_3_14s() -> None:
    """aiohttp 3.14: 180 -> 150 a domain, 3300 -> 3000 a jar, 150 and 8182 bytes a request."""
    outcome = []
    for jar in _both_jars():
        for i in range(181):
            jar.update_cookies_from_headers([f"c{i}=1; Path=/p{i}"], URL("http://h.com/"))
        for site in range(66):
            lines = [f"c{i}=1" for i in range(50)]
            jar.update_cookies_from_headers(lines, URL(f"http://s{site}.com/"))
        jar.filter_cookies(URL("http://s0.com/"))
        jar.update_cookies_from_headers(["new=1"], URL("http://late.com/"))
        big = [f"b{i}={'v' * s}" for i, s in enumerate((100, 4090, 4090, 20))]
        jar.update_cookies_from_headers(big, URL("http://big.com/"))
        outcome.append(
            (
                len(jar),
                sorted({m["domain"] for m in jar})[:6],
                sum(m["domain"] == "h.com" for m in jar),
                list(jar.filter_cookies(URL("http://big.com/"))),
                len(jar.filter_cookies(URL("http://h.com/p1"))),
            )
        )
    assert outcome[0] == outcome[1]


async def test_update_cookies_with_morsels_stores_what_aiohttp_stores() -> None:
    """aiohttp's jar for update_cookies() with Morsels (Domain, Path, Max-Age, Expires)."""
    stored = []
    for jar in _both_jars():
        jar.update_cookies(
            {
                "a": made_morsel("a", "1", domain="example.com", path="/p"),
                "b": made_morsel("b", "2", max_age="9" * 40),
                "c": made_morsel("c", "3", max_age="0"),
                "d": made_morsel("d", "4", expires="Tue, 01 Jan 1980 12:00:00 GMT"),
                "e": made_morsel("e", "x y", '"x y"', secure=True),
            },
            URL("http://www.example.com/dir/page"),
        )
        jar.update_cookies({"s": "plain", "t": 'q"q'})
        stored.append(
            (jar_view(jar), sent_coded(jar, ["https://www.example.com/p/x", "http://a.com/"]))
        )
    assert stored[0] == stored[1]


# --- save() and load() ----------------------------------------------------------------------

SAVED_LINES = [
    "a=1; Max-Age=500; Secure; HttpOnly; SameSite=Lax; Comment=c; Version=1",
    'b="x y"; Path=/p/; Domain=example.com',
    "c=3; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
    "d=4; Path=/x/y",
]


def _filled(lib: ModuleType) -> Any:
    jar = lib.CookieJar(unsafe=True)
    jar.update_cookies_from_headers(SAVED_LINES, URL("http://sub.example.com/dir/page"))
    jar.update_cookies({"shared": "s"})
    jar.update_cookies_from_headers(["ip=1"], URL("http://127.0.0.1/"))
    return jar


PROBES = ["https://sub.example.com/dir/x", "http://example.com/p/x", "http://127.0.0.1/"]


@pytest.mark.parametrize("writer", LIBS, ids=lambda lib: f"saved-by-{lib.__name__}")
@pytest.mark.parametrize("reader", LIBS, ids=lambda lib: f"loaded-by-{lib.__name__}")
async def test_a_saved_jar_loads_the_same_in_either_library(
    tmp_path: Any, clock: Clock, writer: ModuleType, reader: ModuleType
) -> None:
    """aiohttp 3.14's save()/load(): JSON either can read, host-only and expiry kept."""
    path = tmp_path / "cookies.json"
    _filled(writer).save(path)
    loaded = reader.CookieJar(unsafe=True)
    loaded.load(path)
    oracle = aiohttp.CookieJar(unsafe=True)
    oracle.load(path)
    before = (jar_view(loaded), sent_coded(loaded, PROBES))
    assert before == (jar_view(oracle), sent_coded(oracle, PROBES))
    clock.now += 501  # the Max-Age=500 cookie goes in both
    assert [m.key for m in loaded] == [m.key for m in oracle]
    assert "a" not in [m.key for m in loaded]


async def test_saved_files_are_the_same_json_as_aiohttps(tmp_path: Any) -> None:
    """aiohttp 3.14's file layout: groups "domain|path", Morsel attribute order, host_only."""
    texts = []
    for lib in LIBS:
        path = tmp_path / f"{lib.__name__}.json"
        _filled(lib).save(path)
        data = json.loads(path.read_text("utf-8"))
        for group in data.values():
            for entry in group.values():
                # Max-Age is counted from each save's own clock.
                entry["expires_timestamp"] = int(entry.get("expires_timestamp", 0))
                if entry["key"] == "a":
                    del entry["expires_timestamp"]
        texts.append(json.dumps(data))
    assert texts[0] == texts[1]


def _legacy_pickle() -> bytes:
    """A file as aiohttp 3.13 and older wrote it: a pickled {(domain, path): SimpleCookie}."""
    groups: defaultdict[tuple[str, str], SimpleCookie] = defaultdict(SimpleCookie)
    groups["h.com", ""]["a"] = "1"
    groups["h.com", ""]["a"].update({"domain": "h.com", "path": "/"})
    groups["h.com", ""]["old"] = "1"
    groups["h.com", ""]["old"].update(
        {"domain": "h.com", "path": "/", "expires": "Tue, 01 Jan 1980 12:00:00 GMT"}
    )
    groups["www.h.com", "/p"]["b"] = "x y"
    groups["www.h.com", "/p"]["b"].update({"domain": "www.h.com", "path": "/p/", "secure": True})
    groups["", ""]["s"] = "1"
    groups["", ""]["s"]["path"] = "/"
    return pickle.dumps(groups, pickle.HIGHEST_PROTOCOL)


async def test_a_pickled_aiohttp_3_13_file_loads_as_aiohttp_3_14_loads_it(tmp_path: Any) -> None:
    """aiohttp 3.14 reads old pickles with an unpickler limited to the cookie classes."""
    path = tmp_path / "cookies.pickle"
    path.write_bytes(_legacy_pickle())
    views = []
    for jar in _both_jars():
        jar.load(path)
        views.append((jar_view(jar), sent_coded(jar, ["https://x.www.h.com/p/y", "http://h.com/"])))
    assert views[0] == views[1]


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (print, ("pwned",))


async def test_a_pickle_naming_other_classes_is_refused_as_in_aiohttp(tmp_path: Any) -> None:
    """aiohttp raises pickle.UnpicklingError; airhttp's error is one, and a ValueError."""
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps(_Payload()))
    for jar in _both_jars():
        with pytest.raises(pickle.UnpicklingError):
            jar.load(path)
    with pytest.raises(ValueError, match="is not a cookie file"):
        airhttp.CookieJar().load(path)


async def test_an_unreadable_file_raises_value_error(tmp_path: Any) -> None:
    """Differs on purpose: aiohttp raises KeyError, AttributeError, EOFError... by accident."""
    path = tmp_path / "cookies.json"
    for content, aiohttp_error in ((b"{nope", KeyError), (b"[1, 2]", AttributeError)):
        path.write_bytes(content)
        with pytest.raises(aiohttp_error):
            aiohttp.CookieJar().load(path)
        with pytest.raises(ValueError):
            airhttp.CookieJar().load(path)


# --- where airhttp keeps RFC 6265 and aiohttp does not --------------------------------------


def _stored(jar: Any) -> list[tuple[str, str, str]]:
    return [(m.key, m["domain"], m["path"]) for m in jar]


async def test_an_expires_date_aiohttp_cannot_read_still_deletes() -> None:
    """Differs on purpose: aiohttp keeps only "Thu," of a date outside its two patterns."""
    lines = ["a=; Expires=Thu, 01 Jan 1970 00:00:01 UTC", "b=; Expires=Thu, 1 Jan 70 00:00:01 GMT"]
    aio, air = _both_jars()
    _feed((aio, air), "http://h.com/", "a=1", "b=1", "c=1")
    _feed((aio, air), "http://h.com/", *lines)
    assert [m.key for m in aio] == ["a", "b", "c"]
    assert [m.key for m in air] == ["c"]


async def test_expires_at_the_epoch_deletes_the_cookie() -> None:
    """Differs on purpose: aiohttp reads "Thu, 01 Jan 1970 00:00:00 GMT" (time 0) as no date.

    It is the usual way servers delete a cookie; aiohttp keeps it, now with an empty value.
    """
    aio, air = _both_jars()
    _feed((aio, air), "http://h.com/", "sid=secret", "keep=1")
    _feed((aio, air), "http://h.com/", "sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert [(m.key, m.value) for m in aio] == [("sid", ""), ("keep", "1")]
    assert [(m.key, m.value) for m in air] == [("keep", "1")]


async def test_an_invalid_or_empty_attribute_does_not_undo_a_valid_one() -> None:
    """Differs on purpose: in aiohttp a later bad Max-Age/Expires/Domain wins (RFC: ignored)."""
    aio, air = _both_jars()
    lines = [
        "a=1; Max-Age=0; Max-Age=abc",
        "b=1; Max-Age=abc; Expires=Thu, 01 Jan 1970 00:00:01 GMT",
    ]
    lines += ["c=1; Domain=h.com; Domain="]
    _feed((aio, air), "http://www.h.com/", *lines)
    assert _stored(aio) == [(name, "www.h.com", "/") for name in "abc"]
    assert _stored(air) == [("c", "h.com", "/")]


async def test_a_domain_attribute_matches_whatever_its_case() -> None:
    """Differs on purpose: aiohttp drops "Domain=Example.COM" from example.com (RFC 5.2.3)."""
    aio, air = _both_jars()
    _feed((aio, air), "http://example.com/", "a=1; Domain=Example.COM")
    assert (_stored(aio), _stored(air)) == ([], [("a", "example.com", "/")])


async def test_a_percent_encoded_path_attribute_matches_the_request_path() -> None:
    """Differs on purpose: aiohttp compares Path with the decoded path, so it never matches."""
    aio, air = _both_jars()
    _feed((aio, air), "http://h.com/", "a=1; Path=/caf%C3%A9", "b=1; Path=/q%20r")
    for url in ("http://h.com/caf%C3%A9/menu", "http://h.com/q%20r"):
        assert list(aio.filter_cookies(URL(url, encoded=True))) == []
    assert list(air.filter_cookies(URL("http://h.com/caf%C3%A9/menu", encoded=True))) == ["a"]
    assert list(air.filter_cookies(URL("http://h.com/q%20r", encoded=True))) == ["b"]


@pytest.mark.skipif(MORSEL_HAS_PARTITIONED, reason="Morsel carries Partitioned on 3.14")
async def test_partitioned_is_kept_on_pythons_whose_morsel_lacks_it() -> None:
    """Differs on purpose: aiohttp drops CHIPS "Partitioned" before Python 3.14."""
    aio, air = _both_jars()
    _feed((aio, air), "https://h.com/", "a=1; Secure; Partitioned")
    assert [m.get("partitioned") for m in aio] == [None]
    assert [m["partitioned"] for m in air] == [True]


# --- the property ---------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "B", "$x", "a[0]", "path", "__Host-id", "a b", "ä", "a,b", ""])
VALUE_CHARS = st.sampled_from([*list('ab1 =,\\"é'), "\\101", "x y"])
VALUES = st.one_of(
    st.lists(VALUE_CHARS, max_size=6).map("".join),
    st.lists(VALUE_CHARS, max_size=4).map(lambda parts: '"' + "".join(parts) + '"'),
)
_DATES = st.sampled_from(
    [
        "Wed, 21 Oct 2099 07:28:00 GMT",
        # Not 00:00:00: aiohttp reads the epoch as "no Expires" (a test above pins it).
        "Thu, 01 Jan 1970 00:00:01 GMT",
        "Thursday, 01-Jan-70 00:00:01 GMT",
        "Sun Nov  6 08:49:37 2094",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 01 Jan 1601 00:00:00 +0000",
        "garbage",
        "",
    ]
)
# Valid values first in each list: _bad() knows the invalid ones.
_ATTRIBUTE_VALUES: dict[str, st.SearchStrategy[str]] = {
    "Path": st.sampled_from(["/", "/a", "/a/", "/a/b", '"/a"', "rel", ""]),
    # Lower case only: aiohttp compares Domain case-sensitively (see the test above).
    "Domain": st.sampled_from(
        ["example.com", ".example.com", "sub.example.com", "other.com", "com", ""]
    ),
    "Max-Age": st.one_of(
        st.integers(-(10**30), 10**30).filter(lambda n: n <= 0 or n >= 100).map(str),
        st.sampled_from(["9" * 50, "abc", "1.5", ""]),
    ),
    "Expires": _DATES,
    "SameSite": st.sampled_from(["Lax", "Strict", "None", ""]),
    "Comment": st.sampled_from(["hi", '"x y"', ""]),
    "Version": st.sampled_from(["1", ""]),
}
_FLAGS = st.sampled_from(["Secure", "HttpOnly", "secure=no", "[x]", "é", '"q"', "Foo=bar"])


def _spelled(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper()])


ATTRIBUTE = st.one_of(
    _FLAGS.map(lambda flag: ("flag", flag, "")),
    st.sampled_from(sorted(_ATTRIBUTE_VALUES)).flatmap(
        lambda key: st.tuples(st.just(key), _spelled(key), _ATTRIBUTE_VALUES[key])
    ),
)
SEPARATORS = st.sampled_from(["; ", ";", " ", "  ", " ; ", ";;"])


def _bad(key: str, value: str) -> bool:
    if key == "Max-Age":
        return not value.lstrip("-").isdigit()
    if key == "Expires":
        return value in ("garbage", "")
    return key == "Domain" and not value


def _aiohttp_misreads(attributes: list[tuple[str, str, str]]) -> bool:
    """The classes where aiohttp breaks RFC 6265 5.2/5.3 and airhttp does not follow it.

    A bad Max-Age, Expires or empty Domain after (or, for Max-Age, beside an Expires)
    a good one undoes it in aiohttp; RFC 6265 ignores the bad attribute.
    """
    seen: dict[str, list[bool]] = {}
    for key, _, value in attributes:
        seen.setdefault(key, []).append(_bad(key, value))
    for key in ("Max-Age", "Expires", "Domain"):
        marks = seen.get(key, [])
        if len(marks) > 1 and any(marks) and not all(marks):
            return True
    return "Max-Age" in seen and all(seen["Max-Age"]) and "Expires" in seen


@st.composite
def set_cookie_lines(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, str]]]:
    """One Set-Cookie value, and the attributes it was made of (for _aiohttp_misreads)."""
    attributes = draw(st.lists(ATTRIBUTE, max_size=5))
    line = draw(NAMES) + draw(st.sampled_from(["=", " = "])) + draw(VALUES)
    for kind, spelled, value in attributes:
        line += draw(SEPARATORS) + spelled
        # An empty value is written as "Key=" or as a bare "Key".
        if kind != "flag" and (value or draw(st.booleans())):
            line += "=" + value
    return line + draw(st.sampled_from(["", ";", " "])), attributes


SETTERS = st.sampled_from(
    [
        "http://example.com/a/b",
        "http://sub.example.com/",
        "https://example.com/a/",
        "http://127.0.0.1/x",
    ]
)
FILTER_URLS = [f"{s}://{h}{p}" for s in ("http", "https") for h in PROBE_HOSTS for p in PROBE_PATHS]
FILTER_URLS += ["http://127.0.0.1/x/y", "http://127.0.0.1/"]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(set_cookie_lines(), min_size=1, max_size=4),
    setter=SETTERS,
    unsafe=st.booleans(),
)
async def test_generated_set_cookie_lines_leave_both_jars_the_same(
    lines: list[tuple[str, list[tuple[str, str, str]]]], setter: str, unsafe: bool
) -> None:
    """aiohttp 3.14's jar and resp.cookies for such lines: contents, order, sends, logs.

    Left out, as aiohttp's bugs (each pinned by a test above): case in Domain, percent-
    encoded paths, dates outside aiohttp's patterns, a bad attribute undoing a good one,
    "+5" as Max-Age, and Partitioned before Python 3.14.
    """
    assume(not any(_aiohttp_misreads(attributes) for _, attributes in lines))
    headers = [line for line, _ in lines]
    seen = []
    for jar in _both_jars(unsafe=unsafe):
        with CapturedLogs() as records:
            jar.update_cookies_from_headers(headers, URL(setter))
        seen.append((jar_view(jar), sent_coded(jar, FILTER_URLS), records))
    assert seen[0] == seen[1]
    # resp.cookies: aiohttp builds it from parse_set_cookie_headers (public in 3.14).
    with CapturedLogs():
        shown: SimpleCookie = SimpleCookie()
        for name, morsel in aiohttp.cookiejar.parse_set_cookie_headers(headers):
            shown[name] = morsel
        ours = response_cookies(headers)
    assert [morsel_view(m) for m in ours.values()] == [morsel_view(m) for m in shown.values()]
