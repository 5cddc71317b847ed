"""Tests for airhttp.helpers: credentials, proxy environment, value types and small rules."""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
import os
import pickle
import sys
from pathlib import Path

import attrs
import propcache.api
import pytest
from yarl import URL

from airhttp import _mime, helpers
from airhttp.helpers import (
    BasicAuth,
    ChainMapProxy,
    ETag,
    ProxyInfo,
    basicauth_from_netrc,
    calculate_timeout_when,
    encode_basic_auth,
    get_env_proxy_for_url,
    guess_filename,
    is_ip_address,
    method_must_be_empty_body,
    must_be_empty_body,
    netrc_from_env,
    parse_http_date,
    proxies_from_env,
    set_exception,
    set_result,
    status_code_must_be_empty_body,
    strip_auth_from_url,
)

# --- BasicAuth -------------------------------------------------------------------------


def test_basic_auth_defaults_to_empty_password_and_latin1() -> None:
    auth = BasicAuth("user")
    assert auth == ("user", "", "latin1")
    assert (auth.login, auth.password, auth.encoding) == ("user", "", "latin1")
    assert repr(auth) == "BasicAuth(login='user', password='', encoding='latin1')"


def test_basic_auth_is_an_immutable_namedtuple() -> None:
    auth = BasicAuth("user", "pass", "utf-8")
    assert isinstance(auth, tuple)
    assert auth._fields == ("login", "password", "encoding")
    assert auth._asdict() == {"login": "user", "password": "pass", "encoding": "utf-8"}
    with pytest.raises(AttributeError):
        auth.login = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(auth)) == auth
    assert hash(auth) == hash(BasicAuth("user", "pass", "utf-8"))


@pytest.mark.parametrize(
    ("login", "password", "message"),
    [
        (None, "p", "None is not allowed as login value"),
        ("u", None, "None is not allowed as password value"),
        ("u:x", "p", 'A ":" is not allowed in login (RFC 1945#section-11.1)'),
    ],
)
def test_basic_auth_rejects_bad_credentials(
    login: str | None, password: str | None, message: str
) -> None:
    with pytest.raises(ValueError) as exc_info:
        BasicAuth(login, password)  # type: ignore[arg-type]
    assert str(exc_info.value) == message


def test_basic_auth_allows_colon_in_password() -> None:
    assert BasicAuth("a", "b:c").encode() == "Basic YTpiOmM="


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (BasicAuth("a", "b"), "Basic YTpi"),
        (BasicAuth("\xe4", "b"), "Basic 5Dpi"),
        (BasicAuth("\xe4", "b", "utf-8"), "Basic w6Q6Yg=="),
        (BasicAuth("a"), "Basic YTo="),
    ],
)
def test_basic_auth_encode_uses_its_encoding(auth: BasicAuth, expected: str) -> None:
    assert auth.encode() == expected


def test_basic_auth_encode_fails_for_characters_outside_the_encoding() -> None:
    with pytest.raises(UnicodeEncodeError):
        BasicAuth("\u20ac", "b").encode()


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (_basic(b"a:b"), BasicAuth("a", "b")),
        (_basic(b"a:b:c"), BasicAuth("a", "b:c")),
        (_basic(b"a:"), BasicAuth("a", "")),
        ("basic " + base64.b64encode(b"a:b").decode(), BasicAuth("a", "b")),
        ("BASIC YTpi", BasicAuth("a", "b")),
        (_basic(b"\xe4:b"), BasicAuth("\xe4", "b")),
    ],
)
def test_basic_auth_decode_parses_valid_headers(header: str, expected: BasicAuth) -> None:
    assert BasicAuth.decode(header) == expected


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic", "Could not parse authorization header."),
        ("Basic\tYTpi", "Could not parse authorization header."),
        ("Bearer xxx", "Unknown authorization method Bearer"),
        ("Basic !!!", "Invalid base64 encoding."),
        ("Basic YTp", "Invalid base64 encoding."),
        ("Basic  YTpi", "Invalid base64 encoding."),
        ("Basic YTpi YTpi", "Invalid base64 encoding."),
        (_basic(b"ab"), "Invalid credentials."),
    ],
)
def test_basic_auth_decode_rejects_malformed_headers(header: str, message: str) -> None:
    with pytest.raises(ValueError) as exc_info:
        BasicAuth.decode(header)
    assert str(exc_info.value) == message


def test_basic_auth_decode_uses_the_given_encoding() -> None:
    auth = BasicAuth.decode(_basic("\xe4:\u20ac".encode()), encoding="utf-8")
    assert auth == BasicAuth("\xe4", "\u20ac", "utf-8")
    with pytest.raises(UnicodeDecodeError):
        BasicAuth.decode(_basic(b"\xff:b"), encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://u:p@h/", BasicAuth("u", "p")),
        ("http://u@h/", BasicAuth("u", "")),
        ("http://:p@h/", BasicAuth("", "p")),
        ("http://:@h/", BasicAuth("", "")),
        ("http://u%3Ax:p%40@h/", ("u:x", "p@", "latin1")),
        ("http://h/", None),
        ("http://@h/", None),
    ],
)
def test_basic_auth_from_url_reads_userinfo(url: str, expected: BasicAuth | None) -> None:
    assert BasicAuth.from_url(URL(url)) == expected


def test_basic_auth_from_url_keeps_the_encoding_and_needs_a_url_object() -> None:
    auth = BasicAuth.from_url(URL("http://u:p@h/"), encoding="utf-8")
    assert auth is not None and auth.encoding == "utf-8"
    with pytest.raises(TypeError, match=r"url should be yarl\.URL instance"):
        BasicAuth.from_url("http://u:p@h/")  # type: ignore[arg-type]


def test_encode_basic_auth_defaults_to_utf8() -> None:
    assert encode_basic_auth("\xe4", "p") == "Basic w6Q6cA=="
    assert encode_basic_auth("\xe4", "p", "latin1") == "Basic 5Dpw"
    assert encode_basic_auth("a") == "Basic YTo="
    with pytest.raises(ValueError, match="RFC 7617"):
        encode_basic_auth("a:x", "b")


def test_strip_auth_from_url_separates_credentials() -> None:
    url, auth = strip_auth_from_url(URL("http://u:p@h/x?q=1#f"))
    assert url == URL("http://h/x?q=1#f")
    assert auth == BasicAuth("u", "p")


def test_strip_auth_from_url_leaves_url_without_credentials_alone() -> None:
    url = URL("http://h/x")
    stripped, auth = strip_auth_from_url(url)
    assert stripped is url
    assert auth is None


# --- .netrc ----------------------------------------------------------------------------

# Python 3.10's netrc rejects a machine entry without a password; 3.11 accepts it.
_LOGIN_ONLY_ACCEPTED = sys.version_info >= (3, 11)
_NETRC = "machine proxy login nu password np\n" + (
    "machine onlylogin login ol\n" if _LOGIN_ONLY_ACCEPTED else ""
)


@pytest.fixture
def netrc_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "netrc"
    path.write_text(_NETRC + "default login dl password dp\n")
    monkeypatch.setenv("NETRC", str(path))
    return path


def test_netrc_from_env_reads_the_file_named_by_netrc(netrc_file: Path) -> None:
    loaded = netrc_from_env()
    assert loaded is not None
    assert basicauth_from_netrc(loaded, "proxy") == BasicAuth("nu", "np")


def test_netrc_from_env_falls_back_to_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    assert netrc_from_env() is None
    (tmp_path / ".netrc").write_text(_NETRC)
    loaded = netrc_from_env()
    assert loaded is not None
    assert basicauth_from_netrc(loaded, "proxy") == BasicAuth("nu", "np")


def test_netrc_from_env_without_home_returns_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETRC", raising=False)

    def no_home() -> Path:
        raise RuntimeError("no home")

    monkeypatch.setattr(Path, "home", no_home)
    assert netrc_from_env() is None


def test_netrc_from_env_warns_about_an_unreadable_explicit_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "missing"))
    with caplog.at_level(logging.WARNING, logger="airhttp.client"):
        assert netrc_from_env() is None
    assert "Could not read .netrc file" in caplog.text


def test_netrc_from_env_warns_and_gives_none_on_parse_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine x login u password p\nbogus-token\n")
    monkeypatch.setenv("NETRC", str(path))
    with caplog.at_level(logging.WARNING, logger="airhttp.client"):
        assert netrc_from_env() is None
    assert "Could not parse .netrc file" in caplog.text


def test_basicauth_from_netrc_finds_machine_and_default_entries(netrc_file: Path) -> None:
    loaded = netrc_from_env()
    assert basicauth_from_netrc(loaded, "proxy") == BasicAuth("nu", "np")
    assert basicauth_from_netrc(loaded, "elsewhere") == BasicAuth("dl", "dp")


@pytest.mark.skipif(not _LOGIN_ONLY_ACCEPTED, reason="Python 3.10's netrc needs a password")
def test_basicauth_from_netrc_gives_an_empty_password_to_a_login_only_entry(
    netrc_file: Path,
) -> None:
    assert basicauth_from_netrc(netrc_from_env(), "onlylogin") == BasicAuth("ol", "")


def test_basicauth_from_netrc_raises_lookup_error_without_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "netrc"
    path.write_text(_NETRC)
    monkeypatch.setenv("NETRC", str(path))
    with pytest.raises(LookupError, match=r"No entry for zz found in the `\.netrc` file\."):
        basicauth_from_netrc(netrc_from_env(), "zz")
    with pytest.raises(LookupError, match=r"No \.netrc file found"):
        basicauth_from_netrc(None, "proxy")


# --- Proxy environment -----------------------------------------------------------------


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)
    empty = tmp_path / "empty-netrc"
    empty.write_text("")
    monkeypatch.setenv("NETRC", str(empty))
    return monkeypatch


def test_proxies_from_env_keeps_http_and_ws_schemes_only(proxy_env: pytest.MonkeyPatch) -> None:
    proxy_env.setenv("http_proxy", "http://u:p@proxy:3128")
    proxy_env.setenv("ws_proxy", "http://wsp")
    proxy_env.setenv("ftp_proxy", "http://ftp")
    assert proxies_from_env() == {
        "http": ProxyInfo(URL("http://proxy:3128"), BasicAuth("u", "p")),
        "ws": ProxyInfo(URL("http://wsp"), None),
    }


def test_proxies_from_env_ignores_tls_proxies_with_a_warning(
    proxy_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    proxy_env.setenv("https_proxy", "https://sproxy:443")
    with caplog.at_level(logging.WARNING, logger="airhttp.client"):
        assert proxies_from_env() == {}
    assert "HTTPS proxies https://sproxy are not supported, ignoring" in caplog.text


def test_proxies_from_env_takes_missing_credentials_from_netrc(
    proxy_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "netrc"
    path.write_text(_NETRC)
    proxy_env.setenv("NETRC", str(path))
    proxy_env.setenv("http_proxy", "http://proxy:3128")
    proxy_env.setenv("ws_proxy", "http://u:@other")
    proxy_env.setenv("wss_proxy", "http://nowhere")
    assert proxies_from_env() == {
        "http": ProxyInfo(URL("http://proxy:3128"), BasicAuth("nu", "np")),
        "ws": ProxyInfo(URL("http://other"), BasicAuth("u", "")),
        "wss": ProxyInfo(URL("http://nowhere"), None),
    }


def test_get_env_proxy_for_url_picks_the_scheme_proxy(proxy_env: pytest.MonkeyPatch) -> None:
    proxy_env.setenv("http_proxy", "http://u:p@proxy:3128")
    assert get_env_proxy_for_url(URL("http://a.com/")) == (
        URL("http://proxy:3128"),
        BasicAuth("u", "p"),
    )
    with pytest.raises(LookupError, match=r"No proxies found for `https://a.com/` in the env"):
        get_env_proxy_for_url(URL("https://a.com/"))


@pytest.mark.parametrize("url", ["http://skip.com/", "http://x.skip2.org/", "http://SKIP.com:8080"])
def test_get_env_proxy_for_url_honours_no_proxy(proxy_env: pytest.MonkeyPatch, url: str) -> None:
    proxy_env.setenv("http_proxy", "http://proxy:3128")
    proxy_env.setenv("no_proxy", "skip.com,.skip2.org")
    with pytest.raises(LookupError, match="Proxying is disallowed for"):
        get_env_proxy_for_url(URL(url))


def test_proxy_info_is_a_frozen_value() -> None:
    info = ProxyInfo(URL("http://p"), None)
    assert info == ProxyInfo(URL("http://p"), None)
    assert repr(info) == "ProxyInfo(proxy=URL('http://p'), proxy_auth=None)"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        info.proxy = URL("http://q")  # type: ignore[misc]


# --- ETag and ChainMapProxy ------------------------------------------------------------


def test_etag_is_a_frozen_slotted_value() -> None:
    etag = ETag("abc")
    assert etag.is_weak is False
    assert etag == ETag(value="abc", is_weak=False)
    assert etag != ETag("abc", is_weak=True)
    assert repr(etag) == "ETag(value='abc', is_weak=False)"
    assert not hasattr(etag, "__dict__")
    assert hash(etag) == hash(ETag("abc"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        etag.value = "x"  # type: ignore[misc]


def test_chain_map_proxy_looks_keys_up_first_map_first() -> None:
    proxy = ChainMapProxy([{"a": 1}, {"a": 2, "b": 3}])
    assert proxy["a"] == 1
    assert proxy["b"] == 3
    assert proxy.get("b") == 3
    assert proxy.get("z") is None
    assert proxy.get("z", 5) == 5
    assert ChainMapProxy([{"a": None}]).get("a", 5) is None
    with pytest.raises(KeyError):
        proxy["z"]


def test_chain_map_proxy_sizes_iterates_and_compares_like_a_mapping() -> None:
    proxy = ChainMapProxy([{"x": 1, "b": 1}, {"a": 2, "x": 3}])
    assert len(proxy) == 3
    assert list(proxy) == ["a", "x", "b"]
    assert "b" in proxy
    assert "z" not in proxy
    assert proxy == {"x": 1, "b": 1, "a": 2}
    assert bool(proxy)
    assert not ChainMapProxy([])
    assert not ChainMapProxy([{}, {}])


def test_chain_map_proxy_accepts_any_iterable_and_has_a_readable_repr() -> None:
    proxy = ChainMapProxy(iter([{"a": 1}, {"b": 2}]))
    assert proxy["b"] == 2
    assert repr(proxy) == "ChainMapProxy({'a': 1}, {'b': 2})"


def test_chain_map_proxy_is_read_only_unhashable_and_final() -> None:
    proxy = ChainMapProxy([{"a": 1}])
    with pytest.raises(TypeError):
        proxy["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(proxy)
    with pytest.raises(TypeError, match="Inheritance class Sub from ChainMapProxy is forbidden"):
        type("Sub", (ChainMapProxy,), {})


# --- Hosts, dates, body rules, timeouts ------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("fe80::1%eth0", True),
        ("::ffff:1.2.3.4", True),
        ("123", True),
        ("example.com", False),
        ("localhost", False),
        ("1a.2", False),
        ("1.2.3.4 ", False),
        ("0x7f.1", False),
        (".", False),
        ("", False),
        (None, False),
    ],
)
def test_is_ip_address_tells_literals_from_names(host: str | None, expected: bool) -> None:
    assert is_ip_address(host) is expected


@pytest.mark.parametrize(
    "date_str",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ],
)
def test_parse_http_date_accepts_all_three_rfc9110_forms(date_str: str) -> None:
    assert parse_http_date(date_str) == datetime.datetime(
        1994, 11, 6, 8, 49, 37, tzinfo=datetime.timezone.utc
    )


@pytest.mark.parametrize(
    "date_str",
    [
        None,
        "",
        "garbage",
        "06 Nov 1994",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 10000 08:49:37 GMT",
    ],
)
def test_parse_http_date_returns_none_for_invalid_dates(date_str: str | None) -> None:
    assert parse_http_date(date_str) is None


@pytest.mark.parametrize(
    ("method", "code", "expected"),
    [
        ("GET", 200, False),
        ("GET", 205, False),
        ("POST", 500, False),
        ("HEAD", 200, True),
        ("GET", 100, True),
        ("GET", 101, True),
        ("GET", 199, True),
        ("GET", 204, True),
        ("POST", 304, True),
        ("CONNECT", 200, True),
        ("CONNECT", 299, True),
        ("CONNECT", 300, False),
        ("CONNECT", 407, False),
    ],
)
def test_must_be_empty_body_follows_rfc9110(method: str, code: int, expected: bool) -> None:
    assert must_be_empty_body(method, code) is expected


def test_empty_body_rules_split_by_method_and_status() -> None:
    assert method_must_be_empty_body("HEAD")
    assert not method_must_be_empty_body("GET")
    assert status_code_must_be_empty_body(204)
    assert status_code_must_be_empty_body(304)
    assert status_code_must_be_empty_body(103)
    assert not status_code_must_be_empty_body(200)
    assert not status_code_must_be_empty_body(205)


@pytest.mark.parametrize(
    ("loop_time", "timeout", "threshold", "expected"),
    [
        (100.3, 3, 5, 103.3),
        (100.3, 5, 5, 105.3),
        (100.3, 10, 5, 111),
        (12345.67, 10, 5, 12356),
        (100.0, 10, 5, 110),
        (100.3, 10, 20, 110.3),
        (100.3, 0, 5, 100.3),
    ],
)
def test_calculate_timeout_when_rounds_only_long_timeouts_up(
    loop_time: float, timeout: float, threshold: float, expected: float
) -> None:
    assert calculate_timeout_when(loop_time, timeout, threshold) == pytest.approx(expected)


# --- File names ------------------------------------------------------------------------


class _Named:
    def __init__(self, name: object) -> None:
        self.name = name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/tmp/dir/report.txt", "report.txt"),
        ("report.txt", "report.txt"),
        ("<stdin>", "dflt"),
        ("<fd", "dflt"),
        ("fd>", "dflt"),
        ("", "dflt"),
        (3, "dflt"),
        (None, "dflt"),
    ],
)
def test_guess_filename_takes_the_base_name_of_a_real_path(name: object, expected: str) -> None:
    assert guess_filename(_Named(name), "dflt") == expected


def test_guess_filename_defaults_to_none_and_ignores_objects_without_a_name() -> None:
    assert guess_filename(object()) is None
    assert guess_filename(_Named("<stdin>")) is None
    assert guess_filename(object(), "x") == "x"


# --- Futures ---------------------------------------------------------------------------


async def test_set_result_ignores_futures_that_are_already_done() -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()
    set_result(fut, 1)
    set_result(fut, 2)
    assert fut.result() == 1
    cancelled: asyncio.Future[int] = loop.create_future()
    cancelled.cancel()
    set_result(cancelled, 1)
    assert cancelled.cancelled()


async def test_set_exception_chains_the_cause_and_ignores_done_futures() -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()
    cause = KeyError("cause")
    error = ValueError("boom")
    set_exception(fut, error, cause)
    set_exception(fut, TypeError("late"))
    assert fut.exception() is error
    assert error.__cause__ is cause


async def test_set_exception_without_cause_leaves_cause_unset() -> None:
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    error = ValueError("boom")
    set_exception(fut, error)
    assert fut.exception() is error
    assert error.__cause__ is None


def test_set_exception_forwards_to_protocol_like_objects() -> None:
    received: list[BaseException] = []

    class Protocolish:
        def set_exception(self, exc: BaseException, exc_cause: object = None) -> None:
            received.append(exc)

    error = ValueError("boom")
    cause = KeyError("cause")
    set_exception(Protocolish(), error, cause)
    assert received == [error]
    assert error.__cause__ is cause


# --- Re-exports ------------------------------------------------------------------------


def test_mime_helpers_are_reexported_from_mime_module() -> None:
    assert helpers.MimeType is _mime.MimeType
    assert helpers.parse_mimetype is _mime.parse_mimetype
    assert helpers.content_disposition_header is _mime.content_disposition_header


def test_reify_caches_in_the_instance_cache_dict() -> None:
    assert helpers.reify is propcache.api.under_cached_property
    calls: list[int] = []

    class Holder:
        def __init__(self) -> None:
            self._cache: dict[str, int] = {}

        @helpers.reify
        def value(self) -> int:
            calls.append(1)
            return 42

    holder = Holder()
    assert holder.value == 42
    assert holder.value == 42
    assert calls == [1]
    assert holder._cache == {"value": 42}


def test_sentinel_is_a_singleton_distinct_from_none() -> None:
    assert helpers.sentinel is helpers.sentinel
    assert helpers.sentinel is not None
    assert pickle.loads(pickle.dumps(helpers.sentinel)) is helpers.sentinel
