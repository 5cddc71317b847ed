"""CookieJar.save() and load(): aiohttp 3.14's JSON, and aiohttp 3.13's pickles read safely.

Time is faked through the `clock` fixture; files live in pytest's tmp_path.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import stat
from collections import defaultdict
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest

from airhttp.cookiejar import CookieJar

from .cookie_support import FUTURE, NOW, Clock, receive, sent, stored
from .cookie_support import clock as clock


@pytest.fixture
def cookie_file(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    yield tmp_path / "cookies.json"


def test_save_and_load_round_trip(clock: Clock, cookie_file: pathlib.Path) -> None:
    jar = CookieJar()
    receive(
        jar,
        "https://www.h.com/a/b",
        "sid=1; Secure; HttpOnly; SameSite=Lax; Max-Age=600",
        "dom=2; Domain=h.com; Path=/; Expires=" + FUTURE,
        'q="x y"',
        "chip=3; Secure; Partitioned; Path=/",
    )
    jar.update_cookies({"shared": "4"})
    jar.save(cookie_file)

    loaded = CookieJar()
    loaded.load(str(cookie_file))
    assert stored(loaded).keys() == stored(jar).keys()
    for key, morsel in stored(jar).items():
        copy = stored(loaded)[key]
        assert (copy.value, copy.coded_value) == (morsel.value, morsel.coded_value)
        for attribute in ("secure", "httponly", "samesite", "partitioned"):
            assert copy.get(attribute) == morsel.get(attribute)
    assert loaded.host_only_cookies == jar.host_only_cookies
    for url in ("https://www.h.com/a/x", "http://h.com/", "https://sub.h.com/"):
        assert sent(loaded, url) == sent(jar, url)
    clock.now += 601
    assert "sid" not in sent(loaded, "https://www.h.com/a/x")
    assert "dom" in sent(loaded, "https://www.h.com/a/x")


def test_saved_file_is_json_not_pickle(cookie_file: pathlib.Path) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1")
    jar.save(cookie_file)
    data = json.loads(cookie_file.read_text("utf-8"))
    assert data == {
        "h.com|": {
            "a": {
                "key": "a",
                "value": "1",
                "coded_value": "1",
                "path": "/",
                "domain": "h.com",
                "host_only": True,
            }
        }
    }


def test_saved_file_is_private_to_its_owner(cookie_file: pathlib.Path) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1")
    jar.save(cookie_file)
    assert stat.S_IMODE(os.stat(cookie_file).st_mode) & 0o077 == 0


class _Payload:
    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[pathlib.Path]]:
        return (pathlib.Path.touch, (self.marker,))


def test_loading_a_pickle_raises_without_running_it(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "pwned"
    payload = tmp_path / "cookies.pickle"
    payload.write_bytes(pickle.dumps(_Payload(marker)))
    jar = CookieJar()
    receive(jar, "http://h.com/", "keep=1")
    with pytest.raises(ValueError):
        jar.load(payload)
    assert not marker.exists()
    assert sent(jar, "http://h.com/") == {"keep": "1"}


@pytest.mark.parametrize(
    "content",
    [
        "{nope",
        "[1, 2]",
        '{"h.com|": []}',
        '{"h.com|": {"a": "x"}}',
        '{"h.com|": {"a": {"key": "a"}}}',
        '{"h.com|": {"a": {"key": "a", "value": 1}}}',
        '{"h.com|": {"a": {"key": "a", "value": "1", "expires_timestamp": "soon"}}}',
        '{"h.com|": {"a": {"key": "a", "value": "1", "expires_timestamp": NaN}}}',
        "\x80\x04truncated",
    ],
)
def test_malformed_file_raises_and_keeps_the_jar(cookie_file: pathlib.Path, content: str) -> None:
    cookie_file.write_text(content, "utf-8")
    jar = CookieJar()
    receive(jar, "http://h.com/", "keep=1")
    with pytest.raises(ValueError):
        jar.load(cookie_file)
    assert sent(jar, "http://h.com/") == {"keep": "1"}


def test_load_replaces_contents_and_applies_the_storage_rules(
    clock: Clock, cookie_file: pathlib.Path
) -> None:
    entry = {"value": "1", "coded_value": "1", "path": "/"}
    cookie_file.write_text(
        json.dumps(
            {
                "h.com|": {
                    "ok": dict(entry, key="ok", domain="h.com", host_only=True),
                    "old": dict(entry, key="old", domain="h.com", expires_timestamp=NOW - 1),
                    "bad name": dict(entry, key="bad name", domain="h.com"),
                },
                "1.2.3.4|": {"ip": dict(entry, key="ip", domain="1.2.3.4", host_only=True)},
                "|": {"shared": dict(entry, key="shared")},
            }
        ),
        "utf-8",
    )
    jar = CookieJar()
    receive(jar, "http://before.com/", "gone=1")
    jar.load(cookie_file)
    assert {m.key for m in jar} == {"ok", "shared"}
    assert sent(jar, "http://sub.h.com/") == {"shared": "1"}
    assert sent(jar, "http://h.com/") == {"ok": "1", "shared": "1"}

    unsafe = CookieJar(unsafe=True)
    unsafe.load(cookie_file)
    assert sent(unsafe, "http://1.2.3.4/") == {"ip": "1", "shared": "1"}


def test_saved_groups_follow_the_jar_and_entries_morsel_order(
    clock: Clock, cookie_file: pathlib.Path
) -> None:
    jar = CookieJar()
    receive(jar, "http://www.h.com/d/p", "z=1; Path=/q", "a=1; Max-Age=10", "m=1; Path=/q")
    receive(
        jar,
        "http://www.h.com/",
        "full=1; Domain=h.com; Path=/; Secure; HttpOnly; "
        "SameSite=Lax; Comment=c; Version=1; Expires=" + FUTURE,
    )
    jar.save(cookie_file)
    data = json.loads(cookie_file.read_text("utf-8"))
    assert list(data) == ["www.h.com|/q", "www.h.com|/d", "h.com|"]
    assert list(data["www.h.com|/q"]) == ["z", "m"]
    assert data["www.h.com|/d"]["a"]["expires_timestamp"] == NOW + 10
    full = data["h.com|"]["full"]
    assert list(full) == [
        "key", "value", "coded_value", "path", "comment", "domain",
        "secure", "httponly", "version", "samesite", "expires_timestamp",
    ]  # fmt: skip
    assert isinstance(full["expires_timestamp"], int)  # a whole second, as aiohttp writes it


def _aiohttp_3_13_file(path: pathlib.Path) -> None:
    groups: defaultdict[tuple[str, str], SimpleCookie] = defaultdict(SimpleCookie)
    groups["h.com", ""]["dom"] = "1"
    groups["h.com", ""]["dom"].update({"domain": "h.com", "path": "/", "expires": FUTURE})
    groups["h.com", ""]["old"] = "1"
    groups["h.com", ""]["old"].update(
        {"domain": "h.com", "expires": "Sun, 06 Nov 1994 08:49:37 GMT"}
    )
    groups["www.h.com", "/p"]["sec"] = "x y"
    groups["www.h.com", "/p"]["sec"].update({"domain": "www.h.com", "path": "/p/", "secure": True})
    groups["", ""]["shared"] = "s"
    path.write_bytes(pickle.dumps(groups, pickle.HIGHEST_PROTOCOL))


def test_an_aiohttp_3_13_pickle_file_loads_as_domain_cookies(
    clock: Clock, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "cookies.pickle"
    _aiohttp_3_13_file(path)
    jar = CookieJar()
    jar.load(path)
    assert [m.key for m in jar] == ["dom", "sec", "shared"]
    # Those files did not say which cookies were host-only: all are domain cookies.
    assert jar.host_only_cookies == frozenset()
    assert sent(jar, "https://x.www.h.com/p/q") == {"dom": "1", "sec": "x y", "shared": "s"}
    assert sent(jar, "http://h.com/p/q") == {"dom": "1", "shared": "s"}


def test_a_refused_pickle_is_a_value_error_and_an_unpickling_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cookies.pickle"
    path.write_bytes(pickle.dumps({"a": os.system}))
    with pytest.raises(ValueError, match="is not a cookie file") as caught:
        CookieJar().load(path)
    assert isinstance(caught.value, pickle.UnpicklingError)
    path.write_bytes(pickle.dumps([1, 2]))  # the right classes, the wrong shape
    with pytest.raises(ValueError, match="is not a cookie file"):
        CookieJar().load(path)
