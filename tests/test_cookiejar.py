"""CookieJar and DummyCookieJar against RFC 6265 section 5 with real-world Set-Cookie lines.

Time is faked through the `clock` fixture; no test touches the network.
"""

from __future__ import annotations

from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie

import pytest
from yarl import URL

from airhttp.cookiejar import CookieJar, DummyCookieJar

from .cookie_support import FUTURE, PAST, Clock, receive, sent
from .cookie_support import clock as clock

# -- domains and host-only cookies (5.1.3, 5.3 steps 4-6) -------------------------------


def test_cookie_without_domain_is_sent_back_to_the_same_host() -> None:
    jar = CookieJar()
    receive(jar, "http://www.example.com/", "sessionid=38afes7a8; HttpOnly; Path=/")
    assert sent(jar, "http://www.example.com/anything") == {"sessionid": "38afes7a8"}


@pytest.mark.parametrize(
    "other", ["http://example.com/", "http://api.www.example.com/", "http://www.example.org/"]
)
def test_host_only_cookie_is_not_sent_to_parent_sub_or_other_hosts(other: str) -> None:
    jar = CookieJar()
    receive(jar, "http://www.example.com/", "sessionid=38afes7a8; Path=/")
    assert sent(jar, other) == {}


@pytest.mark.parametrize("attribute", ["Domain=example.com", "Domain=.example.com"])
def test_domain_cookie_is_sent_to_the_domain_and_its_subdomains(attribute: str) -> None:
    jar = CookieJar()
    receive(jar, "http://www.example.com/", f"lang=en-US; Path=/; {attribute}")
    assert [m["domain"] for m in jar] == ["example.com"]
    for url in ("http://example.com/", "http://www.example.com/", "http://a.b.example.com/"):
        assert sent(jar, url) == {"lang": "en-US"}
    assert sent(jar, "http://notexample.com/") == {}
    assert sent(jar, "http://example.com.evil.org/") == {}


def test_domain_attribute_is_compared_case_insensitively() -> None:
    jar = CookieJar()
    receive(jar, "http://WWW.Example.COM/", "a=1; Domain=EXAMPLE.com")
    assert sent(jar, "http://shop.example.com/") == {"a": "1"}


@pytest.mark.parametrize(
    "domain",
    ["other.com", "ample.com", "api.www.example.com", "www.example.com.evil.org", "e.com"],
)
def test_domain_that_the_response_host_does_not_match_is_rejected(domain: str) -> None:
    jar = CookieJar()
    receive(jar, "http://www.example.com/", f"a=1; Domain={domain}")
    assert len(jar) == 0


def test_last_domain_attribute_wins_and_an_empty_one_is_ignored() -> None:
    jar = CookieJar()
    receive(jar, "http://www.example.com/", "a=1; Domain=other.com; Domain=example.com; Domain=")
    assert [m["domain"] for m in jar] == ["example.com"]


def test_non_ascii_domain_attribute_is_matched_in_punycode() -> None:
    jar = CookieJar()
    receive(jar, "http://www.bücher.de/", 'id=1; Domain="bücher.de"')
    assert [m["domain"] for m in jar] == ["xn--bcher-kva.de"]
    assert sent(jar, "http://bücher.de/") == {"id": "1"}


def test_unquoted_non_ascii_attribute_is_skipped_as_aiohttp_skips_it() -> None:
    jar = CookieJar()
    receive(jar, "http://www.bücher.de/", "id=1; Domain=bücher.de; Secure")
    assert [(m["domain"], m["secure"]) for m in jar] == [("www.xn--bcher-kva.de", True)]


def test_cookies_from_an_ip_address_are_refused_by_default() -> None:
    jar = CookieJar()
    receive(jar, "http://127.0.0.1:8080/", "a=1", "b=2; Domain=127.0.0.1")
    receive(jar, "http://[::1]/", "c=3")
    jar.update_cookies({"d": "4"}, URL("http://10.0.0.1/"))
    assert len(jar) == 0


def test_unsafe_jar_keeps_ip_cookies_for_that_exact_address() -> None:
    jar = CookieJar(unsafe=True)
    receive(jar, "http://127.0.0.1:8080/", "a=1", "b=2; Domain=127.0.0.1", "c=3; Domain=0.0.1")
    receive(jar, "http://[::1]/", "v6=1")
    assert {(m.key, m["domain"]) for m in jar} == {
        ("a", "127.0.0.1"),
        ("b", "127.0.0.1"),
        ("v6", "::1"),
    }
    assert sent(jar, "http://127.0.0.1/") == {"a": "1", "b": "2"}
    assert sent(jar, "http://127.0.0.2/") == {}
    assert sent(jar, "http://[::1]:81/") == {"v6": "1"}


def test_domain_cookie_never_reaches_an_ip_address_that_ends_like_it() -> None:
    jar = CookieJar(unsafe=True)
    receive(jar, "http://x.0.0.1/", "a=1; Domain=0.0.1")
    assert sent(jar, "http://x.0.0.1/") == {"a": "1"}
    assert sent(jar, "http://1.0.0.1/") == {}


def test_cookies_ignore_the_port() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com:8080/", "a=1")
    assert sent(jar, "http://example.com:9090/") == {"a": "1"}


# -- paths (5.1.4, 5.2.4) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("response_url", "default_path"),
    [
        ("http://h.com", "/"),
        ("http://h.com/", "/"),
        ("http://h.com/login", "/"),
        ("http://h.com/account/", "/account"),
        ("http://h.com/account/login?next=/a/b", "/account"),
        ("http://h.com/a/b/c", "/a/b"),
    ],
)
def test_cookie_without_path_gets_the_directory_of_the_response_path(
    response_url: str, default_path: str
) -> None:
    jar = CookieJar()
    receive(jar, response_url, "a=1")
    assert [m["path"] for m in jar] == [default_path]


@pytest.mark.parametrize("attribute", ["Path=", "Path=account", "Path=/x; Path=rel"])
def test_path_attribute_without_leading_slash_means_the_default_path(attribute: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/shop/cart", f"a=1; {attribute}")
    assert [m["path"] for m in jar] == ["/shop"]


@pytest.mark.parametrize(
    ("cookie_path", "request_path", "matches"),
    [
        ("/", "/", True),
        ("/", "/anything/at/all", True),
        ("/docs", "/docs", True),
        ("/docs", "/docs/", True),
        ("/docs", "/docs/web", True),
        ("/docs", "/docsets", False),
        ("/docs", "/Docs", False),
        ("/docs", "/", False),
        ("/docs/", "/docs", False),
        ("/docs/", "/docs/web", True),
        ("/a/b", "/a", False),
    ],
)
def test_path_match(cookie_path: str, request_path: str, matches: bool) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", f"a=1; Path={cookie_path}")
    assert sent(jar, "http://h.com" + request_path) == ({"a": "1"} if matches else {})


def test_non_ascii_path_attribute_matches_the_encoded_request_path() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Path=/café")
    assert sent(jar, "http://h.com/café/menu") == {"a": "1"}


def test_same_name_with_different_paths_coexist_and_the_longest_path_is_sent() -> None:
    jar = CookieJar()
    receive(
        jar,
        "http://h.com/",
        "theme=site; Path=/",
        "theme=docs; Path=/docs",
        "theme=api; Path=/docs/api",
    )
    assert len(jar) == 3
    assert sent(jar, "http://h.com/docs/api/v1") == {"theme": "api"}
    assert sent(jar, "http://h.com/docs/intro") == {"theme": "docs"}
    assert sent(jar, "http://h.com/") == {"theme": "site"}


def test_cookies_are_sent_shortest_path_first_then_oldest_first_as_aiohttp_does() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "root1=1; Path=/", "deep=1; Path=/a/b", "mid=1; Path=/a")
    receive(jar, "http://h.com/", "root2=1; Path=/", "mid2=1; Path=/a")
    order = list(jar.filter_cookies(URL("http://h.com/a/b/c")))
    assert order == ["root1", "root2", "mid", "mid2", "deep"]


def test_shared_cookies_come_first_then_parent_domains_then_the_host() -> None:
    jar = CookieJar()
    receive(jar, "http://www.h.com/", "host=1; Path=/", "parent=1; Domain=h.com; Path=/")
    jar.update_cookies({"shared": "1"})
    assert list(jar.filter_cookies(URL("http://www.h.com/"))) == ["shared", "parent", "host"]


def test_of_two_cookies_with_one_name_the_more_specific_is_sent_in_its_place() -> None:
    jar = CookieJar()
    receive(jar, "http://www.h.com/", "a=root; Path=/", "b=1; Path=/", "a=deep; Path=/x")
    receive(jar, "http://www.h.com/", "a=parent; Domain=h.com; Path=/")
    got = jar.filter_cookies(URL("http://www.h.com/x/y"))
    assert [(name, morsel.value) for name, morsel in got.items()] == [("b", "1"), ("a", "deep")]
    assert sent(jar, "http://www.h.com/") == {"a": "root", "b": "1"}


def test_paths_differing_by_a_trailing_slash_are_one_cookie_as_in_aiohttp() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "x=slash; Path=/a/", "z=1; Path=/a/")
    receive(jar, "http://h.com/", "x=noslash; Path=/a")
    assert [(m.key, m.value, m["path"]) for m in jar] == [("x", "noslash", "/a"), ("z", "1", "/a/")]
    # Each keeps its own path for matching (RFC 6265 5.1.4).
    assert sent(jar, "http://h.com/a") == {"x": "noslash"}


def test_iteration_follows_the_order_the_domain_path_groups_were_made() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Path=/p", "b=1; Path=/q", "c=1; Path=/p")
    assert [m.key for m in jar] == ["a", "c", "b"]
    receive(jar, "http://h.com/", "a=; Path=/p; Max-Age=0", "c=; Path=/p; Max-Age=0")
    receive(jar, "http://h.com/", "a=2; Path=/p")
    assert [m.key for m in jar] == ["b", "a"]
    assert list(jar.cookies) == [("h.com", "/q"), ("h.com", "/p")]


def test_a_cookie_deleted_and_set_again_in_one_response_keeps_its_place() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1", "b=1")
    receive(jar, "http://h.com/", "a=; Max-Age=0", "a=2")
    assert [(m.key, m.value) for m in jar] == [("a", "2"), ("b", "1")]
    receive(jar, "http://h.com/", "a=; Max-Age=0", "b=2")
    assert [(m.key, m.value) for m in jar] == [("b", "2")]
    assert len(jar) == 1


# -- identity and replacement (5.3 step 11) ---------------------------------------------


def test_same_name_domain_and_path_replaces_the_value() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "sid=old; Path=/")
    receive(jar, "http://h.com/", "sid=new; Path=/")
    assert len(jar) == 1
    assert sent(jar, "http://h.com/") == {"sid": "new"}


def test_replacement_keeps_the_original_creation_order() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "first=1", "second=1")
    receive(jar, "http://h.com/", "first=2")
    assert list(jar.filter_cookies(URL("http://h.com/"))) == ["first", "second"]


def test_same_name_on_different_domains_does_not_collide() -> None:
    jar = CookieJar()
    receive(jar, "http://a.example.com/", "sid=a")
    receive(jar, "http://b.example.com/", "sid=b")
    receive(jar, "http://other.org/", "sid=o")
    assert len(jar) == 3
    assert sent(jar, "http://a.example.com/") == {"sid": "a"}
    assert sent(jar, "http://b.example.com/") == {"sid": "b"}
    assert sent(jar, "http://other.org/") == {"sid": "o"}


def test_host_only_and_domain_cookie_of_the_same_host_are_one_cookie() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "n=host; Path=/")
    receive(jar, "http://example.com/", "n=domain; Path=/; Domain=example.com")
    assert len(jar) == 1
    assert sent(jar, "http://sub.example.com/") == {"n": "domain"}
    receive(jar, "http://example.com/", "n=host-again; Path=/")
    assert sent(jar, "http://sub.example.com/") == {}
    assert jar.host_only_cookies == frozenset({("example.com", "", "n")})


# -- expiry (5.2.1, 5.2.2, 5.3 step 3) --------------------------------------------------


def test_session_cookie_stays_until_cleared(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "sid=1")
    clock.now += 10 * 365 * 86400
    assert sent(jar, "http://h.com/") == {"sid": "1"}


def test_cookie_disappears_once_max_age_has_passed(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "short=1; Max-Age=60", "long=1; Max-Age=3600")
    clock.now += 59
    assert sent(jar, "http://h.com/") == {"short": "1", "long": "1"}
    clock.now += 1
    assert sent(jar, "http://h.com/") == {"long": "1"}
    assert len(jar) == 1
    assert [m.key for m in jar] == ["long"]


def test_cookie_disappears_at_its_expires_date(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Expires=Wed, 15 Nov 2023 00:00:00 GMT")
    clock.now = 1_700_006_399.0
    assert len(jar) == 1
    clock.now = 1_700_006_400.0
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("attributes", "kept"),
    [
        (f"Max-Age=100; Expires={PAST}", True),
        (f"Expires={PAST}; Max-Age=100", True),
        (f"Max-Age=0; Expires={FUTURE}", False),
    ],
)
def test_max_age_wins_over_expires(attributes: str, kept: bool) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", f"a=1; {attributes}")
    assert len(jar) == (1 if kept else 0)


@pytest.mark.parametrize(
    "deletion",
    [
        "sid=; Max-Age=0",
        "sid=; Max-Age=-1",
        f"sid=deleted; Expires={PAST}",
        "sid=; Expires=Sun, 06-Nov-94 08:49:37 GMT",
        "sid=; Max-Age=0; Max-Age=",
    ],
)
def test_past_expiry_deletes_the_stored_cookie(deletion: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "sid=1; Path=/", "other=1")
    receive(jar, "http://h.com/", f"{deletion}; Path=/")
    assert sent(jar, "http://h.com/") == {"other": "1"}


def test_deletion_only_removes_the_cookie_with_the_same_path() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "sid=root; Path=/", "sid=docs; Path=/docs")
    receive(jar, "http://h.com/", "sid=; Path=/docs; Max-Age=0")
    assert sent(jar, "http://h.com/docs/x") == {"sid": "root"}


@pytest.mark.parametrize("max_age", ["abc", "1e3", "+5", "5s", " ", "--1", "٣"])
def test_malformed_max_age_is_ignored(clock: Clock, max_age: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", f"a=1; Max-Age={max_age}")
    clock.now += 10**6
    assert [(m.key, m["max-age"]) for m in jar] == [("a", "")]


@pytest.mark.parametrize("expires", ["garbage", "Wed, 21 Oct 2099", "21 Oct 2099 25:00:00"])
def test_unparseable_expires_is_ignored(clock: Clock, expires: str) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", f"a=1; Expires={expires}")
    clock.now += 100 * 365 * 86400
    assert [(m.key, m["expires"]) for m in jar] == [("a", "")]


def test_the_last_valid_expires_is_used(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", f"a=1; Expires={PAST}; Expires=nonsense")
    assert len(jar) == 0


def test_enormous_max_age_is_clamped_to_year_9999(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Max-Age=" + "9" * 400)
    clock.now = 253402300798.0
    assert len(jar) == 1
    clock.now = 253402300799.0
    assert len(jar) == 0


def test_refreshed_cookie_uses_its_latest_expiry(clock: Clock) -> None:
    jar = CookieJar()
    for _ in range(500):
        clock.now += 5
        receive(jar, "http://h.com/", "a=1; Max-Age=10")
    assert len(jar._expiry_heap) < 100  # superseded expiry entries get compacted away
    clock.now += 9
    assert len(jar) == 1
    clock.now += 1
    assert len(jar) == 0


def test_cookie_replaced_by_a_session_cookie_no_longer_expires(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Max-Age=10")
    receive(jar, "http://h.com/", "a=2")
    clock.now += 3600
    assert sent(jar, "http://h.com/") == {"a": "2"}


def test_do_expiration_uses_the_wall_clock(clock: Clock) -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Max-Age=1")
    clock.now += 2
    jar._do_expiration()
    assert jar._count == 0


# -- Secure (5.4 step 1) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "sends"),
    [
        ("https://h.com/", True),
        ("wss://h.com/", True),
        ("http://h.com/", False),
        ("ws://h.com/", False),
    ],
)
def test_secure_cookie_is_sent_only_over_secure_schemes(url: str, sends: bool) -> None:
    jar = CookieJar()
    receive(jar, "https://h.com/", "__Secure-sid=1; Secure; Path=/", "plain=1")
    expected = {"__Secure-sid": "1", "plain": "1"} if sends else {"plain": "1"}
    assert sent(jar, url) == expected


@pytest.mark.parametrize(
    "origins",
    [
        "http://dev.test:8000",
        URL("http://dev.test:8000/some/path"),
        ["http://elsewhere.test", URL("http://dev.test:8000")],
        ("http://dev.test:8000/",),
    ],
)
def test_treat_as_secure_origin_receives_secure_cookies_over_http(
    origins: str | URL | list[str | URL] | tuple[str],
) -> None:
    jar = CookieJar(treat_as_secure_origin=origins)
    receive(jar, "https://dev.test/", "s=1; Secure")
    assert URL("http://dev.test:8000") in jar.treat_as_secure_origin
    assert sent(jar, "http://dev.test:8000/x") == {"s": "1"}
    assert sent(jar, "http://dev.test:8001/x") == {}
    assert sent(jar, "http://dev.test/x") == {}


def test_treat_as_secure_origin_must_be_absolute() -> None:
    with pytest.raises(ValueError):
        CookieJar(treat_as_secure_origin="localhost")


# -- attributes -------------------------------------------------------------------------


def test_httponly_samesite_and_secure_are_kept_on_the_stored_morsel() -> None:
    jar = CookieJar()
    receive(jar, "https://h.com/", "id=a3fWa; Secure; HttpOnly; SameSite=Strict; Max-Age=60")
    (morsel,) = jar
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["max-age"] == "60"
    assert morsel["domain"] == "h.com"
    assert morsel["path"] == "/"


def test_partitioned_flag_is_kept_and_written_back_out() -> None:
    jar = CookieJar()
    receive(jar, "https://h.com/", "__Host-chip=1; Secure; Path=/; Partitioned; SameSite=None")
    (morsel,) = jar
    assert morsel["partitioned"] is True
    assert "Partitioned" in morsel.OutputString()
    assert isinstance(morsel, Morsel)
    assert sent(jar, "https://h.com/") == {"__Host-chip": "1"}


def test_quote_cookie_true_quotes_values_with_special_characters() -> None:
    jar = CookieJar()
    assert jar.quote_cookie is True
    jar.update_cookies({"plain": "abc", "spaced": "a b", "comma": "a,b"}, URL("http://h.com/"))
    coded = {k: m.coded_value for k, m in jar.filter_cookies(URL("http://h.com/")).items()}
    assert coded == {"plain": "abc", "spaced": '"a b"', "comma": '"a\\054b"'}


def test_quote_cookie_false_sends_values_unquoted() -> None:
    jar = CookieJar(quote_cookie=False)
    assert jar.quote_cookie is False
    jar.update_cookies({"spaced": "a b", "comma": "a,b"}, URL("http://h.com/"))
    receive(jar, "http://h.com/", 'q="x y"')
    coded = {k: m.coded_value for k, m in jar.filter_cookies(URL("http://h.com/")).items()}
    assert coded == {"spaced": "a b", "comma": "a,b", "q": "x y"}


def test_sent_morsels_carry_no_attributes() -> None:
    jar = CookieJar()
    receive(jar, "https://h.com/", "a=1; Secure; HttpOnly; Max-Age=60; Path=/")
    cookies = jar.filter_cookies(URL("https://h.com/"))
    assert isinstance(cookies, BaseCookie)
    assert cookies.output(header="Cookie:") == "Cookie: a=1"


# -- update_cookies and shared cookies --------------------------------------------------


def test_update_cookies_accepts_mappings_pairs_and_simple_cookies() -> None:
    jar = CookieJar()
    url = URL("http://h.com/app/page")
    jar.update_cookies({"m": "1", "n": "2"}, url)
    jar.update_cookies([("p", "3")], url)
    simple = SimpleCookie()
    simple["s"] = "4"
    simple["s"]["path"] = "/"
    simple["s"]["domain"] = "h.com"
    jar.update_cookies(simple, url)
    assert {(m.key, m["domain"], m["path"]) for m in jar} == {
        ("m", "h.com", "/app"),
        ("n", "h.com", "/app"),
        ("p", "h.com", "/app"),
        ("s", "h.com", "/"),
    }
    assert sent(jar, "http://sub.h.com/") == {"s": "4"}
    assert sent(jar, "http://h.com/app/x") == {"m": "1", "n": "2", "p": "3", "s": "4"}


def test_update_cookies_applies_morsel_attributes() -> None:
    jar = CookieJar()
    morsel: Morsel[str] = Morsel()
    morsel.set("gone", "1", "1")
    morsel["max-age"] = 0
    jar.update_cookies({"gone": morsel}, URL("http://h.com/"))
    secure: Morsel[str] = Morsel()
    secure.set("s", "1", "1")
    secure["secure"] = True
    jar.update_cookies({"whatever": secure}, URL("http://h.com/"))
    assert sent(jar, "http://h.com/") == {}
    assert sent(jar, "https://h.com/") == {"s": "1"}


@pytest.mark.parametrize("name", ["a b", "expires", "a[0]", ""])
def test_update_cookies_rejects_names_http_cookies_cannot_carry(name: str) -> None:
    jar = CookieJar()
    with pytest.raises(CookieError):
        jar.update_cookies({name: "1"}, URL("http://h.com/"))


def test_cookies_without_response_url_are_shared_with_every_request() -> None:
    jar = CookieJar()
    jar.update_cookies({"shared": "1"})
    assert [m["domain"] for m in jar] == [""]
    assert sent(jar, "http://a.com/") == {"shared": "1"}
    assert sent(jar, "https://b.org/deep/path") == {"shared": "1"}
    assert sent(jar, "http://127.0.0.1/") == {"shared": "1"}
    assert sent(jar, "/relative") == {"shared": "1"}


def test_request_url_without_host_gets_no_host_cookies() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1")
    assert sent(jar, "/") == {}
    assert sent(jar, URL()) == {}


def test_empty_jar_returns_a_fresh_empty_base_cookie() -> None:
    jar = CookieJar()
    first = jar.filter_cookies(URL("http://h.com/"))
    assert isinstance(first, BaseCookie)
    assert not first
    assert jar.filter_cookies(URL("http://h.com/")) is not first


def test_loop_argument_is_accepted_and_ignored() -> None:
    jar = CookieJar(loop=object())
    receive(jar, "http://h.com/", "a=1")
    assert len(jar) == 1


# -- limits (RFC 6265 6.1) --------------------------------------------------------------


def test_one_response_stores_at_most_50_cookies() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", *(f"c{i}=1" for i in range(60)))
    assert {m.key for m in jar} == {f"c{i}" for i in range(50)}
    receive(jar, "http://h.com/", *(f"d{i}=1" for i in range(10)))
    assert len(jar) == 60


def test_the_50_count_values_that_parse_even_if_the_storage_rules_drop_them() -> None:
    jar = CookieJar()
    foreign = [f"x{i}=1; Domain=other.com" for i in range(50)]
    receive(jar, "http://h.com/", "bad name=1", *foreign, "dropped=1")
    assert len(jar) == 0
    receive(jar, "http://h.com/", "bad name=1", *foreign[1:], "kept=1")
    assert [m.key for m in jar] == ["kept"]


def test_least_recently_used_cookies_are_evicted_beyond_3300() -> None:
    jar = CookieJar()
    for site in range(110):
        receive(jar, f"http://s{site}.com/", *(f"c{i}=1" for i in range(30)))
    assert len(jar) == 3300  # eviction waits for some slack so it stays rare
    assert len(sent(jar, "http://s0.com/")) == 30  # s0 becomes the most recently used
    receive(jar, "http://late.com/", "new=1")
    assert len(jar) == 3001  # 3000 old ones and the new one, as in aiohttp
    assert len(sent(jar, "http://s0.com/")) == 30
    assert sent(jar, "http://s1.com/") == {}
    assert sent(jar, "http://late.com/") == {"new": "1"}


def test_a_domain_past_180_cookies_keeps_the_150_used_most_recently() -> None:
    jar = CookieJar()
    for i in range(180):
        receive(jar, "http://h.com/", f"c{i}=1; Path=/p{i}")
    receive(jar, "http://other.com/", "o=1")
    assert len(jar) == 181
    for i in range(10):
        sent(jar, f"http://h.com/p{i}")  # sending counts as use
    receive(jar, "http://h.com/", "c10=2; Path=/p10")  # so does setting again
    receive(jar, "http://h.com/", "new=1")
    names = {m.key for m in jar if m["domain"] == "h.com"}
    assert len(names) == 150
    assert {"new", "c10"} | {f"c{i}" for i in range(10)} <= names
    assert "c11" not in names
    assert sent(jar, "http://other.com/") == {"o": "1"}


def test_a_request_carries_the_last_150_cookies() -> None:
    jar = CookieJar()
    for batch in range(4):
        receive(jar, "http://h.com/", *(f"c{batch}_{i:02d}=1" for i in range(40)))
    carried = list(jar.filter_cookies(URL("http://h.com/")))
    assert len(carried) == 150
    assert carried[0] == "c0_10"
    assert carried[-1] == "c3_39"


def test_a_cookie_header_over_8182_bytes_leaves_out_earlier_cookies_that_do_not_fit() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "c0=" + "v" * 100, "c1=" + "v" * 4090, "c2=" + "v" * 4090)
    assert list(jar.filter_cookies(URL("http://h.com/"))) == ["c0", "c2"]
    wide = CookieJar(quote_cookie=False)
    receive(wide, "http://h.com/", "a=" + "é" * 2045, "b=" + "é" * 2045)  # bytes, not characters
    assert list(wide.filter_cookies(URL("http://h.com/"))) == ["b"]
    fits = CookieJar()
    receive(fits, "http://h.com/", "c0=" + "v" * 100, "c1=" + "v" * 4000, "c2=" + "v" * 4000)
    assert list(fits.filter_cookies(URL("http://h.com/"))) == ["c0", "c1", "c2"]


# -- clear ------------------------------------------------------------------------------


def test_clear_without_predicate_empties_the_jar() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "a=1; Max-Age=10", "b=2")
    jar.clear()
    assert len(jar) == 0
    assert sent(jar, "http://h.com/") == {}


def test_clear_with_predicate_removes_matching_morsels_only() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/", "tracking=1", "sid=2")
    jar.clear(lambda morsel: morsel.key == "tracking")
    assert sent(jar, "http://h.com/") == {"sid": "2"}


def test_clear_domain_removes_the_domain_and_its_subdomains() -> None:
    jar = CookieJar()
    receive(jar, "http://example.com/", "apex=1")
    receive(jar, "http://www.example.com/", "www=1", "dom=1; Domain=example.com")
    receive(jar, "http://notexample.com/", "other=1")
    jar.update_cookies({"shared": "1"})
    jar.clear_domain("Example.com")
    assert {m.key for m in jar} == {"other", "shared"}
    jar.clear_domain("")
    assert {m.key for m in jar} == {"other"}


# -- views ------------------------------------------------------------------------------


def test_cookies_view_groups_morsels_by_domain_and_path() -> None:
    jar = CookieJar()
    receive(jar, "http://h.com/a/b", "x=1", "y=2; Path=/")
    view = jar.cookies
    assert set(view) == {("h.com", "/a"), ("h.com", "")}
    assert isinstance(view[("h.com", "/a")], SimpleCookie)
    assert view[("h.com", "/a")]["x"].value == "1"
    with pytest.raises(TypeError):
        view[("h.com", "/z")] = SimpleCookie()  # type: ignore[index]


def test_unsafe_property_reflects_the_constructor() -> None:
    assert CookieJar(unsafe=True).unsafe is True
    assert CookieJar().unsafe is False
    assert CookieJar().treat_as_secure_origin == frozenset()


# -- DummyCookieJar ---------------------------------------------------------------------


def test_dummy_cookie_jar_stores_nothing() -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"})
    jar.update_cookies_from_headers(["b=2"], URL("http://h.com/"))
    assert len(jar) == 0
    assert list(jar) == []
    cookies = jar.filter_cookies(URL("http://h.com/"))
    assert isinstance(cookies, SimpleCookie)
    assert not cookies
    assert jar.quote_cookie is True
    assert not jar.cookies
    assert jar.host_only_cookies == frozenset()
    jar.clear()
    jar.clear_domain("h.com")
