"""Property tests for the cookie jar: arbitrary input never breaks it, matching is exact.

Hypothesis generates names, values, domains, paths and dates; no network, no files.
"""

from __future__ import annotations

import calendar
import datetime
import re
import string
from http.cookies import CookieError

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from yarl import URL

from airhttp._cookie_parsing import morsel_from_set_cookie, parse_cookie_date, parse_set_cookie
from airhttp.cookiejar import CookieJar

# Control characters other than HTAB: a jar never stores a cookie holding one.
CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Printable ASCII without the characters a cookie name may not hold.
NAME_CHARS = "".join(c for c in string.printable[:94] if c not in '",;\\=')
# RFC 6265 cookie-octet: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash.
VALUE_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')

names = st.text(NAME_CHARS, min_size=1, max_size=12)
values = st.text(VALUE_CHARS, max_size=20)
labels = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8).filter(
    lambda label: not label.isdigit()
)
domains = st.lists(labels, min_size=1, max_size=3).map(".".join)
segments = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=6).filter(
    lambda segment: segment not in (".", "..")  # URLs normalise dot segments away
)
paths = st.lists(segments, max_size=3).map(lambda parts: "/" + "/".join(parts))


def sent(jar: CookieJar, url: URL) -> dict[str, str]:
    return {name: morsel.value for name, morsel in jar.filter_cookies(url).items()}


@PROPERTY_SETTINGS
@given(
    name=st.text(max_size=15),
    value=st.text(max_size=15),
    domain=st.text(max_size=15),
    path=st.text(max_size=15),
    extra=st.text(max_size=30),
    host=st.sampled_from(["http://h.com/a/b", "https://127.0.0.1/", "http://[::1]/x", ""]),
    unsafe=st.booleans(),
)
def test_arbitrary_set_cookie_text_never_raises(
    name: str, value: str, domain: str, path: str, extra: str, host: str, unsafe: bool
) -> None:
    jar = CookieJar(unsafe=unsafe)
    header = f"{name}={value}; Domain={domain}; Path={path}; {extra}"
    jar.update_cookies_from_headers([header, extra, f"{name}={value}"], URL(host))
    for url in (host, "https://h.com/", "/relative", f"http://{domain}/{path}"):
        try:
            request_url = URL(url)
        except ValueError:
            continue
        jar.filter_cookies(request_url)
    assert len(jar) == len(list(jar))


@PROPERTY_SETTINGS
@given(name=st.text(max_size=15), value=st.text(max_size=15), domain=st.text(max_size=10))
def test_arbitrary_update_cookies_stores_drops_or_raises_cookie_error(
    name: str, value: str, domain: str
) -> None:
    jar = CookieJar()
    try:
        jar.update_cookies({name: value}, URL("http://h.com/"))
    except CookieError:
        return
    if CONTROLS.search(value):
        # As aiohttp 3.14: a cookie that could not go out as it is was never stored.
        assert len(jar) == 0
        return
    assert sent(jar, URL("http://h.com/")) == {name: value}
    assume(domain)
    try:
        url = URL(f"http://{domain}/")
    except ValueError:
        return
    if url.raw_host != "h.com":
        assert sent(jar, url) == {}


@PROPERTY_SETTINGS
@given(
    name=names,
    value=values,
    domain=domains,
    subdomain=st.lists(labels, max_size=2).map(".".join),
    path=paths,
    tail=paths,
    use_domain=st.booleans(),
    secure=st.booleans(),
)
def test_stored_cookie_goes_to_matching_urls_and_never_to_other_hosts(
    name: str,
    value: str,
    domain: str,
    subdomain: str,
    path: str,
    tail: str,
    use_domain: bool,
    secure: bool,
) -> None:
    host = f"{subdomain}.{domain}" if subdomain else domain
    attributes = f"; Path={path}" + (f"; Domain={domain}" if use_domain else "")
    attributes += "; Secure" if secure else ""
    jar = CookieJar()
    jar.update_cookies_from_headers([f"{name}={value}{attributes}"], URL(f"https://{host}/"))
    assert len(jar) == 1

    request_path = path.rstrip("/") + tail
    assert sent(jar, URL(f"https://{host}{request_path}")) == {name: value}
    if use_domain:
        assert sent(jar, URL(f"https://{domain}{request_path}")) == {name: value}
        assert sent(jar, URL(f"https://deeper.{host}{request_path}")) == {name: value}
    else:
        assert sent(jar, URL(f"https://deeper.{host}{request_path}")) == {}
    if secure:
        assert sent(jar, URL(f"http://{host}{request_path}")) == {}

    # Generated labels never hold "-", so these hosts cannot domain-match the cookie.
    cookie_domain = domain if use_domain else host
    for other in (
        f"x{cookie_domain}",
        f"{cookie_domain}x",
        f"{cookie_domain}.other-site",
        "elsewhere.other-site",
    ):
        assert sent(jar, URL(f"https://{other}{request_path}")) == {}


@PROPERTY_SETTINGS
@given(
    first=st.tuples(names, values, domains, paths),
    second=st.tuples(names, values, domains, paths),
)
def test_cookies_for_different_domains_never_overwrite_each_other(
    first: tuple[str, str, str, str], second: tuple[str, str, str, str]
) -> None:
    assume(first[2] != second[2])
    jar = CookieJar()
    for name, value, domain, path in (first, second):
        jar.update_cookies_from_headers([f"{name}={value}; Path={path}"], URL(f"http://{domain}/"))
    assert len(jar) == 2
    for name, value, domain, path in (first, second):
        assert sent(jar, URL(f"http://{domain}{path}")) == {name: value}


@PROPERTY_SETTINGS
@given(text=st.text(max_size=40))
def test_cookie_date_parser_never_raises_and_stays_in_range(text: str) -> None:
    moment = parse_cookie_date(text)
    if moment is not None:
        assert -11644473600.0 <= moment <= 253402300799.0


@PROPERTY_SETTINGS
@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1601, 1, 1), max_value=datetime.datetime(9999, 12, 31)
    ).map(lambda value: value.replace(microsecond=0))
)
def test_cookie_dates_in_every_common_format_parse_to_the_same_moment(
    moment: datetime.datetime,
) -> None:
    expected = float(calendar.timegm(moment.timetuple()))
    imf = moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    asctime = moment.strftime("%a %b ") + f"{moment.day:2d}" + moment.strftime(" %H:%M:%S %Y")
    dashed = moment.strftime("%A, %d-%b-%Y %H:%M:%S GMT")
    for text in (imf, asctime, dashed):
        assert parse_cookie_date(text) == expected, text


# Fragments that steer generated lines into every branch of the tokenizer: quotes, escapes
# (octal too), separators and blanks; then a CTL, non-ASCII and a tab for the rejections.
VALUE_PIECES = ["a", "1", "=", ";", '"', "\\", '\\"', "\\101", "\\0", " ", ","]
LINE_PIECES = st.sampled_from([*VALUE_PIECES, "\t", "\xe4", "\x01", "; Path=/"])
quoted_values = st.builds(
    '{}"{}"{}'.format,
    st.sampled_from(["", " ", "\t"]),
    st.lists(st.sampled_from([p for p in VALUE_PIECES if p != '"']), max_size=6).map("".join),
    st.sampled_from(["", " ", "x", ' "y"', '"', "\\", "; Path=/", " ; Secure", 'x"']),
)
cookie_lines = st.builds(
    "{}={}{}".format,
    st.sampled_from(["a", " a ", "$a"]),
    st.one_of(quoted_values, st.lists(st.sampled_from(VALUE_PIECES), max_size=8).map("".join)),
    st.sampled_from(["", "; Path=/", ";Secure", ";"]),
)
set_cookie_lines = st.one_of(
    cookie_lines, cookie_lines, st.lists(LINE_PIECES, max_size=16).map("".join), st.text()
)


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(header=set_cookie_lines)
def test_jar_and_response_read_the_same_cookie_from_one_line(header: str) -> None:
    spec = parse_set_cookie(header)
    morsel = morsel_from_set_cookie(header)
    assert (spec is None) == (morsel is None)
    if spec is None or morsel is None:
        return
    # One tokenizer: the same name, value (unquoted whenever quotes wrap it, as aiohttp
    # shows it in both places) and the attributes the storage rules do not reinterpret.
    assert (spec.name, spec.coded, spec.value) == (morsel.key, morsel.coded_value, morsel.value)
    assert spec.path == morsel["path"]
    assert (spec.secure, spec.httponly) == (bool(morsel["secure"]), bool(morsel["httponly"]))
    assert (spec.samesite, spec.comment) == (morsel["samesite"], morsel["comment"])
