"""Set-Cookie lines, Cookie headers and cookie dates (RFC 6265 5.1.1, 5.2, 5.4).

One tokenizer and its builders: CookieSpecs for the jar, Morsels for the response and for
aiohttp's helper functions. Pure data work, no storage and no I/O: the jar decides what to
keep, the response shows it.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from http.cookies import Morsel, SimpleCookie
from typing import Any, Final, NamedTuple, TypeVar

from .helpers import internal_logger

# RFC 6265 section 6.1 minimum a user agent should support (UTF-8 bytes of name and value,
# as aiohttp 3.14 counts them); more is a memory DoS vector.
_MAX_NAME_VALUE_SIZE: Final = 4096
# Limits aiohttp 3.14 puts on one line's attributes, measured on it: tokens read, and the
# length of one attribute value (a longer one is dropped, the rest still read).
_MAX_ATTRIBUTES: Final = 32
_MAX_ATTRIBUTE_VALUE: Final = 1024
# Past 10**15 seconds every Max-Age means "after year 9999"; int() of thousands of digits
# would raise (and is quadratic), so longer ones are clamped without converting them.
_MAX_AGE_DIGITS: Final = 15
# RFC 6265bis Set-Cookie parsing, step 1: a CTL other than HTAB rejects the whole line.
CTL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# What no cookie that can be sent may hold, unquoted (aiohttp 3.14's test, HTAB included).
UNSENDABLE_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
# Names stay printable ASCII without the characters that would break the Cookie header.
BAD_NAME_RE: Final = re.compile(r'[^\x21-\x7e]|[",;\\]')
# How http.cookies quotes a value for a Cookie header ("a b" -> '"a b"').
quote_value: Final = SimpleCookie().value_encode
# RFC 6265 5.2 trims WSP (SP and HTAB) only, never other Unicode spaces.
_BLANKS: Final = " \t"
# RFC 6265 5.1.1 delimiter set.
_DATE_DELIMITERS_RE: Final = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
# IMF-fixdate (RFC 9110 5.6.7), e.g. "Wed, 21 Oct 2099 07:28:00 GMT".
_IMF_FIXDATE_RE: Final = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) ([A-Za-z]{3}) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_OCTAL_DIGITS: Final = frozenset("01234567")
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


def _count_digits(text: str, start: int) -> int:
    end = start
    length = len(text)
    while end < length and "0" <= text[end] <= "9":
        end += 1
    return end - start


def _leading_number(token: str, shortest: int, longest: int) -> int | None:
    """`shortest*longestDIGIT ( non-digit *OCTET )` from RFC 6265 5.1.1."""
    count = _count_digits(token, 0)
    if shortest <= count <= longest:
        return int(token[:count])
    return None


def _time_of_day(token: str) -> tuple[int, int, int] | None:
    """`hms-time ( non-digit *OCTET )` from RFC 6265 5.1.1."""
    if ":" not in token:
        return None
    fields = []
    pos = 0
    for index in range(3):
        count = _count_digits(token, pos)
        if not 1 <= count <= 2:
            return None
        fields.append(int(token[pos : pos + count]))
        pos += count
        if index < 2:
            if token[pos : pos + 1] != ":":
                return None
            pos += 1
    return fields[0], fields[1], fields[2]


def parse_cookie_date(text: str) -> float | None:
    """Return the POSIX time of a cookie date (RFC 6265 5.1.1), or None if it does not parse."""
    fixdate = _IMF_FIXDATE_RE.fullmatch(text)
    if fixdate is not None:
        # The one format servers nearly always send; the general algorithm gives the same
        # answer three times slower.
        day_text, month_text, year_text, hour, minute, second = fixdate.groups()
        fix_month = _MONTHS.get(month_text.lower())
        if fix_month is not None:
            return _cookie_time(
                int(year_text), fix_month, int(day_text), int(hour), int(minute), int(second)
            )
    clock: tuple[int, int, int] | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for token in _DATE_DELIMITERS_RE.split(text):
        if not token:
            continue
        if clock is None:
            clock = _time_of_day(token)
            if clock is not None:
                continue
        if day is None:
            day = _leading_number(token, 1, 2)
            if day is not None:
                continue
        if month is None:
            month = _MONTHS.get(token[:3].lower())
            if month is not None:
                continue
        if year is None:
            year = _leading_number(token, 2, 4)
    if clock is None or day is None or month is None or year is None:
        return None
    return _cookie_time(year, month, day, *clock)


def _cookie_time(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> float | None:
    """5.1.1 steps 3 to 6: two-digit years, range checks, then the date must exist."""
    if 70 <= year <= 99:
        year += 1900
    elif year <= 69:
        year += 2000
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        moment = datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:  # e.g. 31 Feb: "if no such date exists ... fail"
        return None
    return float(calendar.timegm(moment.timetuple()))


def _parse_max_age(text: str) -> int | None:
    """RFC 6265 5.2.2: an optional "-" then digits, nothing else."""
    digits = text[1:] if text[:1] == "-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) > _MAX_AGE_DIGITS:
        huge = 10**_MAX_AGE_DIGITS
        return -huge if text[0] == "-" else huge
    return int(text)


# --- one Set-Cookie line, tokenized ---------------------------------------------------------
#
# The name-value pair follows RFC 6265 5.2: it ends at the first ";" unless it is one whole
# quoted-string. The attributes are read as aiohttp 3.14 reads them (measured by running
# it): one token at a time, split by ";" or by blanks, so "Path=/ Max-Age=0" with its ";"
# missing still sets both. A token that does not parse is skipped up to the next ";".
# The same tokens are the pairs of a request's Cookie header (parse_cookie_header below).


def _char_class(excluded: str) -> str:
    """A regex class of the printable ASCII characters that are not in `excluded`."""
    kept = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) not in excluded)
    return "[" + re.escape(kept) + "]"


_AV_NAME: Final = _char_class('";=\\')
_AV_PLAIN: Final = _char_class('";\\')
_AV_QUOTED: Final = r'"(?:[^\\"]|\\.)*"'
# A quote that is never closed: the value is the text as sent, up to the next ";".
_AV_OPEN_QUOTE: Final = r'"[^";]*'
# The two dates with blanks in them that aiohttp reads whole: RFC 1123 / RFC 850 (day name
# of 3 letters or a "...day" of up to 9) and asctime. Others end at their first blank.
_AV_DATE: Final = (
    r"\w{3}(?:\w{0,3}day)?,\s[\w\s-]{9,11}\s[\d:]{8}\s(?:GMT|[+-]\d{4})"
    r"|\w{3}\s+\w{3}\s+[\s\d]\d\s+\d\d:\d\d:\d\d\s+\d{4}"
)
# Blanks are ASCII whitespace (\s under re.ASCII), as aiohttp splits a Cookie header; a
# Set-Cookie line with whitespace other than SP and HTAB is refused before (CTL_RE).
_TOKEN_RE: Final = re.compile(
    rf"\s*({_AV_NAME}+)"
    rf"(?:\s*=\s*(?:({_AV_QUOTED})|({_AV_DATE})|({_AV_PLAIN}*)|({_AV_OPEN_QUOTE})))?"
    r"\s*(?:\s|;|\Z)",
    re.ASCII,
)
_SEPARATORS: Final = "; \t"
# The attributes that take no value: whatever follows their "=" does not matter.
_FLAGS: Final = frozenset({"secure", "httponly", "partitioned"})
# Where a date read past its first blank stops: ";", or a blank before a known attribute.
_DATE_STOP_RE: Final = re.compile(
    r";|[ \t]+(?=(?:expires|max-age|path|domain|secure|httponly|samesite|partitioned"
    r"|comment|version)(?:[ \t]*[=;]|[ \t]|\Z))",
    re.IGNORECASE,
)


def _closing_quote(header: str, opening: int) -> int:
    """Index of the DQUOTE that ends the quoted value opened at `opening`, or -1."""
    pos = opening + 1
    while True:
        quote_at = header.find('"', pos)
        if quote_at < 0:
            return -1
        # An odd run of backslashes escapes the quote; the opening quote bounds the run.
        slash = quote_at
        while header[slash - 1] == "\\":
            slash -= 1
        if (quote_at - slash) % 2 == 0:
            return quote_at
        pos = quote_at + 1


def _unescape(inner: str) -> str:
    # The backslash escapes http.cookies writes (\" \\ and \ooo octal), so values quoted by
    # Python servers come back as they were set.
    if "\\" not in inner:
        return inner
    parts = []
    pos = 0
    end = len(inner)
    while pos < end:
        slash = inner.find("\\", pos)
        if slash < 0 or slash == end - 1:
            parts.append(inner[pos:])
            break
        parts.append(inner[pos:slash])
        octal = inner[slash + 1 : slash + 4]
        if len(octal) == 3 and octal[0] in "0123" and _OCTAL_DIGITS.issuperset(octal):
            parts.append(chr(int(octal, 8)))
            pos = slash + 4
        elif octal[0] == "\n":
            # http.cookies leaves a backslash before a line feed (only a Cookie header has one).
            parts.append("\\")
            pos = slash + 1
        else:
            parts.append(inner[slash + 1])
            pos = slash + 2
    return "".join(parts)


def _unquoted(coded: str) -> str:
    """The value a Morsel shows: unquoted whenever quotes wrap it, as SimpleCookie does."""
    if len(coded) >= 2 and coded[0] == '"' == coded[-1]:
        return _unescape(coded[1:-1])
    return coded


def _utf8_over(limit: int, text: str) -> bool:
    """Whether non-ASCII `text` takes more than `limit` UTF-8 bytes, as aiohttp counts.

    Text that cannot be encoded (a lone surrogate: a byte the header decoding could not
    read) is over any limit, so it never reaches the jar or a Cookie header.
    """
    try:
        return len(text.encode()) > limit
    except UnicodeEncodeError:
        return True


class _SetCookieLine(NamedTuple):
    name: str
    # The value as sent, quotes and escapes included: what goes back out in Cookie.
    coded: str
    # (lower-cased name, value unquoted, or None without "=") for each attribute read.
    attributes: list[tuple[str, str | None]]


def _whole_expires(header: str, start: int) -> tuple[str, int] | None:
    """An Expires date read past its first blank, as RFC 6265 5.2.1 reads it, and the end.

    aiohttp keeps only the first word of a date it does not recognise ("Tue,"), which can
    never parse, so a server's "Expires=Thu, 01 Jan 1970 00:00:00 UTC" would not delete.
    The date stops at ";" or at the next attribute name, so a missing ";" still works.
    """
    stop_at = _DATE_STOP_RE.search(header, start)
    if stop_at is None:
        stop = resume = len(header)
    else:
        stop = stop_at.start()
        resume = stop_at.end()
    text = header[start:stop].strip(_BLANKS)
    if parse_cookie_date(text) is None:
        return None
    return text, resume


def _scan_attributes(header: str, pos: int) -> list[tuple[str, str | None]]:
    """The cookie-av tokens after the name-value pair, at most 32 of them."""
    attributes: list[tuple[str, str | None]] = []
    end = len(header)
    match = _TOKEN_RE.match
    for _ in range(_MAX_ATTRIBUTES):
        if pos >= end:
            break
        token = match(header, pos)
        if token is None:
            # Junk: skip to the next ";" and the separators after it (one token's cost).
            semicolon = header.find(";", pos)
            if semicolon < 0:
                break
            pos = semicolon + 1
            while pos < end and header[pos] in _SEPARATORS:
                pos += 1
            continue
        pos = token.end()
        key, quoted, date, plain, open_quote = token.groups()
        key = key.lower()
        raw = quoted or date or open_quote or plain
        if raw is None:
            attributes.append((key, None))
            continue
        if (
            key == "expires"
            and plain is not None
            and "=" not in plain  # no date holds one: this is the next attribute
            and parse_cookie_date(plain) is None
        ):
            longer = _whole_expires(header, token.start(4))
            if longer is not None:
                raw, pos = longer
        if (
            "\t" in raw
            or len(raw) > _MAX_ATTRIBUTE_VALUE
            or (not raw.isascii() and _utf8_over(_MAX_ATTRIBUTE_VALUE, raw))
        ):
            # The value is dropped; a flag still counts, as in aiohttp.
            if key in _FLAGS:
                attributes.append((key, None))
            continue
        attributes.append((key, _unescape(raw[1:-1]) if quoted else raw))
    return attributes


def _split_set_cookie(header: str) -> _SetCookieLine | None:
    """Tokenize one Set-Cookie value; None when the line must be ignored."""
    # An empty field (or None, which aiohttp skips too) holds no cookie.
    if not header or CTL_RE.search(header) is not None:
        return None
    equals = header.find("=")
    semicolon = header.find(";")
    # 5.2 step 2: no "=" in the name-value-pair ignores the whole line.
    if equals < 0 or 0 <= semicolon < equals:
        return None
    name = header[:equals].strip(_BLANKS)
    # 5.2 step 5: an empty name ignores the whole line.
    if not name:
        return None
    start = equals + 1
    end = len(header)
    while start < end and header[start] in _BLANKS:
        start += 1
    coded = ""
    value_end = -1
    if header.startswith('"', start):
        # A quoted value may hold ";" (http.cookies and aiohttp read it that way), as long
        # as nothing but blanks follows the closing quote.
        closing = _closing_quote(header, start)
        if closing > 0:
            after = header.find(";", closing + 1)
            if after < 0:
                after = end
            if not header[closing + 1 : after].strip(_BLANKS):
                coded = header[start : closing + 1]
                value_end = after
    if value_end < 0:
        value_end = header.find(";", start)
        if value_end < 0:
            value_end = end
        coded = header[start:value_end].rstrip(_BLANKS)
    attributes = _scan_attributes(header, value_end + 1) if value_end < end else []
    return _SetCookieLine(name, coded, attributes)


def _named_line(header: str) -> _SetCookieLine | None:
    """The tokenized line if its name and value can be stored and sent.

    In aiohttp's order: an illegal name is logged, then the value is checked.
    """
    line = _split_set_cookie(header)
    if line is None:
        return None
    name = line.name
    if BAD_NAME_RE.search(name) is not None:
        internal_logger.warning("Can not load cookies: Illegal cookie name %r", name)
        return None
    coded = line.coded
    # A tab inside the value (not around it) ignores the line, as in aiohttp.
    if len(name) + len(coded) > _MAX_NAME_VALUE_SIZE or "\t" in coded:
        return None
    if not coded.isascii() and _utf8_over(_MAX_NAME_VALUE_SIZE, name + coded):
        return None
    # A quoted value's escapes ("\\000", "\\012") unquote to control characters: such a
    # cookie could not go out as it is, and aiohttp drops it.
    if "\\" in coded and UNSENDABLE_RE.search(_unquoted(coded)) is not None:
        return None
    return line


# aiohttp keeps at most this many cookies from one response.
_MAX_RESPONSE_COOKIES: Final = 50

_Cookie = TypeVar("_Cookie")


def read_set_cookies(
    headers: Iterable[str], build: Callable[[str], _Cookie | None]
) -> list[_Cookie]:
    """A response's Set-Cookie values, each read by `build`: the first 50 that are valid.

    What is dropped is counted on the debug log, as aiohttp does.
    """
    kept: list[_Cookie] = []
    invalid = over = 0
    for header in headers:
        cookie = build(header)
        if cookie is None:
            invalid += 1
        elif len(kept) >= _MAX_RESPONSE_COOKIES:
            over += 1
        else:
            kept.append(cookie)
    if invalid or over:
        internal_logger.debug(
            "Ignored %d invalid Set-Cookie field(s) and %d over the %d-cookie limit",
            invalid,
            over,
            _MAX_RESPONSE_COOKIES,
        )
    return kept


# --- the jar's view: a CookieSpec for the storage model -------------------------------------


class CookieSpec:
    """One cookie as a server (or the user) described it, before the storage rules run."""

    __slots__ = (
        "coded",
        "comment",
        "domain",
        "expires",
        "expires_text",
        "httponly",
        "max_age",
        "max_age_text",
        "name",
        "partitioned",
        "path",
        "samesite",
        "secure",
        "value",
        "version",
    )

    def __init__(self, name: str, value: str, coded: str) -> None:
        self.name = name
        self.value = value
        self.coded = coded
        self.domain = ""
        self.path = ""
        self.expires: float | None = None
        self.expires_text = ""
        self.max_age: int | None = None
        self.max_age_text = ""
        self.secure = False
        self.httponly = False
        self.partitioned = False
        self.samesite = ""
        self.comment = ""
        self.version = ""

    def set_expires(self, text: str) -> None:
        # 5.2.1: a date that does not parse is ignored, so an earlier valid one stays.
        moment = parse_cookie_date(text)
        if moment is not None:
            self.expires = moment
            self.expires_text = text

    def set_max_age(self, text: str) -> None:
        # 5.2.2: so is a Max-Age that is not an integer.
        seconds = _parse_max_age(text)
        if seconds is not None:
            self.max_age = seconds
            self.max_age_text = text

    @classmethod
    def from_morsel(cls, morsel: Morsel[Any]) -> CookieSpec:
        spec = cls(morsel.key, morsel.value, morsel.coded_value)
        spec.domain = str(morsel.get("domain") or "")
        spec.path = str(morsel.get("path") or "")
        max_age = morsel.get("max-age")
        if max_age or max_age == 0:
            spec.set_max_age(str(max_age).strip())
        expires = morsel.get("expires")
        # An int "expires" means "seconds from now" in Morsel.output(); it is not a date.
        if expires and isinstance(expires, str):
            spec.set_expires(expires)
        spec.secure = bool(morsel.get("secure"))
        spec.httponly = bool(morsel.get("httponly"))
        spec.partitioned = bool(morsel.get("partitioned"))
        spec.samesite = str(morsel.get("samesite") or "")
        spec.comment = str(morsel.get("comment") or "")
        spec.version = str(morsel.get("version") or "")
        return spec


# The attributes the spec keeps as text under their own (lower-case) name. The last of each
# wins, a Path even when it is invalid (RFC 6265 5.2.4: it then means the default).
_SPEC_TEXTS: Final = frozenset({"path", "samesite", "comment", "version"})


def _apply_attribute(spec: CookieSpec, key: str, value: str | None) -> None:
    # The storage rules use the last valid Expires/Max-Age and the last non-empty Domain
    # (RFC 6265 5.2.1-5.2.3, 5.3); the Morsel shows what they used, as aiohttp shows it.
    text = value or ""
    if key == "expires":
        spec.set_expires(text)
    elif key == "max-age":
        spec.set_max_age(text)
    elif key == "domain":
        if text:
            spec.domain = text
    elif key in _FLAGS:
        setattr(spec, key, True)
    elif key in _SPEC_TEXTS:
        setattr(spec, key, text)


def parse_set_cookie(header: str) -> CookieSpec | None:
    """One Set-Cookie value as the jar reads it; None when it is ignored."""
    line = _named_line(header)
    if line is None:
        return None
    spec = CookieSpec(line.name, _unquoted(line.coded), line.coded)
    last_expires: str | None = None
    last_max_age = ""
    for key, value in line.attributes:
        _apply_attribute(spec, key, value)
        if key == "expires":
            last_expires = value or ""
        elif key == "max-age":
            last_max_age = value or ""
    # aiohttp reads Expires only without a (non-empty) Max-Age, and only then does it hide
    # a date it cannot read.
    if last_max_age and last_expires is not None:
        spec.expires_text = last_expires
    return spec


# --- Morsels: Set-Cookie as the response shows it, and aiohttp's helper functions ----------

_VALUE_ATTRIBUTES: Final = frozenset(
    {"expires", "path", "comment", "domain", "max-age", "version", "samesite"}
)
# Python 3.14 taught Morsel the CHIPS "Partitioned" flag; older ones cannot carry it.
MORSEL_HAS_PARTITIONED: Final = Morsel().isReservedKey("partitioned")
_MORSEL_FLAGS: Final = _FLAGS if MORSEL_HAS_PARTITIONED else _FLAGS - {"partitioned"}


def _plain_morsel(name: str, value: str, coded: str) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    # __setstate__ takes the name as sent: Morsel.set() refuses names servers do use.
    morsel.__setstate__(  # type: ignore[attr-defined]
        {"key": name, "value": value, "coded_value": coded}
    )
    return morsel


def morsel_from_set_cookie(header: str) -> Morsel[str] | None:
    """One Set-Cookie value as a Morsel, as aiohttp shows it; None when it is ignored."""
    line = _named_line(header)
    if line is None:
        return None
    morsel = _plain_morsel(line.name, _unquoted(line.coded), line.coded)
    for key, attr_value in line.attributes:
        if key in _MORSEL_FLAGS:
            morsel[key] = True
        elif key in _VALUE_ATTRIBUTES:
            morsel[key] = attr_value or ""
    return morsel


def parse_set_cookie_headers(headers: Sequence[str]) -> list[tuple[str, Morsel[str]]]:
    """A response's Set-Cookie values as (name, Morsel) pairs, in order, repeats kept.

    aiohttp's function of that name: the first 50 valid lines, read as the response reads
    them; what is dropped is logged as by the jar.
    """
    return [(morsel.key, morsel) for morsel in read_set_cookies(headers, morsel_from_set_cookie)]


def response_cookies(headers: Sequence[str]) -> SimpleCookie:
    """A response's Set-Cookie values as one SimpleCookie; the last of a name wins."""
    cookies = SimpleCookie()
    for name, morsel in parse_set_cookie_headers(headers):
        cookies[name] = morsel
    return cookies


def parse_cookie_header(header: str) -> list[tuple[str, Morsel[str]]]:
    """A request's Cookie header (RFC 6265 5.4) as (name, Morsel) pairs, in order.

    aiohttp's function of that name, read as it reads the header (measured by running it):
    with the Set-Cookie attribute tokens, so a blank splits pairs as ";" does. A stretch the
    tokens cannot read is one pair up to the next ";" if it holds "=" (name and value
    stripped), else nothing. Illegal names are dropped and logged once, at debug level.
    """
    if not header:
        return []
    cookies: list[tuple[str, Morsel[str]]] = []
    illegal: list[str] = []
    pos = 0
    end = len(header)
    while pos < end:
        token = _TOKEN_RE.match(header, pos)
        if token is not None:
            pos = token.end()
            name = token[1]
            coded = next((text for text in token.groups()[1:] if text is not None), "")
        else:
            stop = header.find(";", pos)
            if stop < 0:
                stop = end
            name, equals, coded = header[pos:stop].partition("=")
            pos = stop + 1
            if not equals:
                continue
            name = name.strip()
            coded = coded.strip()
        if not name or BAD_NAME_RE.search(name) is not None:
            illegal.append(name)
        else:
            cookies.append((name, _plain_morsel(name, _unquoted(coded), coded)))
    if illegal:
        internal_logger.debug("Cannot load cookie. Illegal cookie names: %r", illegal)
    return cookies


def preserve_morsel_with_coded_value(cookie: Morsel[str]) -> Morsel[str]:
    """A new plain Morsel with the name, value and coded value of `cookie`, nothing else.

    aiohttp's function of that name: the copy keeps the coded value exactly as it came
    (Morsel.set() would refuse names servers send); the attributes are not copied.
    """
    return _plain_morsel(cookie.key, cookie.value, cookie.coded_value)


def cookie_specs(cookies: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[CookieSpec]:
    """The cookies of a `cookies=` mapping or sequence (values or Morsels), not yet stored.

    Raises CookieError for names http.cookies cannot carry, as SimpleCookie-based jars do.
    """
    items: Iterable[tuple[str, Any]] = cookies.items() if isinstance(cookies, Mapping) else cookies
    specs: list[CookieSpec] = []
    for name, value in items:
        if isinstance(value, Morsel):
            if value.key:
                specs.append(CookieSpec.from_morsel(value))
        else:
            probe: Morsel[str] = Morsel()
            text = str(value)
            probe.set(name, text, quote_value(text)[1])
            specs.append(CookieSpec(name, text, probe.coded_value))
    return specs
