"""Set-Cookie lines and cookie dates (RFC 6265 5.1.1, 5.2): one tokenizer, two builders.

Pure string work, no storage and no I/O: the jar decides what to keep, the response shows it.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import re
from collections.abc import Iterable
from http.cookies import Morsel, SimpleCookie
from typing import Any, Final, NamedTuple

_internal_logger: Final = logging.getLogger("airhttp.internal")

# RFC 6265 section 6.1 minimum a user agent should support; more is a memory DoS vector.
_MAX_NAME_VALUE_SIZE: Final = 4096
# RFC 6265bis Set-Cookie parsing, step 1: a CTL other than HTAB rejects the whole line.
CTL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Names stay printable ASCII without the characters that would break the Cookie header.
BAD_NAME_RE: Final = re.compile(r'[^\x21-\x7e]|[",;\\]')
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
    return int(text)


# --- one Set-Cookie line, tokenized (RFC 6265 5.2) ------------------------------------------


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
        else:
            parts.append(inner[slash + 1])
            pos = slash + 2
    return "".join(parts)


class _SetCookieLine(NamedTuple):
    name: str
    # The value as sent, quotes and escapes included: what goes back out in Cookie.
    coded: str
    # `coded` unquoted when it is one whole quoted-string, else `coded` itself.
    value: str
    quoted: bool
    # (lower-cased name, stripped value, had "=") for each ";"-separated attribute.
    attributes: list[tuple[str, str, bool]]


def _split_set_cookie(header: str) -> _SetCookieLine | None:
    """Tokenize one Set-Cookie value (RFC 6265 5.2); None when the line must be ignored."""
    if CTL_RE.search(header) is not None:
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
    coded = value = ""
    quoted = False
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
                value = _unescape(coded[1:-1])
                quoted = True
                value_end = after
    if not quoted:
        value_end = header.find(";", start)
        if value_end < 0:
            value_end = end
        coded = value = header[start:value_end].rstrip(_BLANKS)
    attributes = []
    if value_end < end:
        for attribute in header[value_end + 1 :].split(";"):
            key, has_equals, attr_value = attribute.partition("=")
            attributes.append(
                (key.strip(_BLANKS).lower(), attr_value.strip(_BLANKS), bool(has_equals))
            )
    return _SetCookieLine(name, coded, value, quoted, attributes)


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
        # 5.2.1: a date that does not parse leaves the attribute out entirely.
        moment = parse_cookie_date(text)
        if moment is not None:
            self.expires = moment
            self.expires_text = text

    def set_max_age(self, text: str) -> None:
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


def parse_set_cookie(header: str) -> CookieSpec | None:
    """One Set-Cookie value as the jar reads it (RFC 6265 5.2); None when it is ignored."""
    line = _split_set_cookie(header)
    if line is None or BAD_NAME_RE.search(line.name) is not None:
        return None
    # The jar follows RFC 6265 storage rules: 6.1 caps what one cookie may cost.
    if len(line.name) + len(line.coded) > _MAX_NAME_VALUE_SIZE:
        return None
    # The jar follows RFC 6265 5.2: a value that only looks quoted is kept as it was sent.
    spec = CookieSpec(line.name, line.value, line.coded)
    # The jar follows RFC 6265 5.2 here too: an attribute without "=" has an empty value.
    for key, attr_value, _ in line.attributes:
        if key == "expires":
            spec.set_expires(attr_value)
        elif key == "max-age":
            spec.set_max_age(attr_value)
        elif key == "domain":
            # 5.2.3: an empty Domain is ignored, so an earlier one stays.
            if attr_value:
                spec.domain = attr_value
        elif key == "path":
            # 5.2.4: the last Path wins even when it is invalid (it then means the default).
            spec.path = attr_value
        elif key == "secure":
            spec.secure = True
        elif key == "httponly":
            spec.httponly = True
        elif key == "partitioned":
            spec.partitioned = True
        elif key == "samesite":
            if attr_value:
                spec.samesite = attr_value
        elif key == "comment":
            spec.comment = attr_value
        elif key == "version":
            spec.version = attr_value
    return spec


# --- the response's view: Set-Cookie as a SimpleCookie, as aiohttp shows it ----------------

# aiohttp keeps at most this many cookies from one response.
_MAX_RESPONSE_COOKIES: Final = 50
_VALUE_CHARS: Final = frozenset(chr(c) for c in range(0x20, 0x7F))
_FLAG_ATTRIBUTES: Final = frozenset({"secure", "httponly"})
_VALUE_ATTRIBUTES: Final = frozenset(
    {"expires", "path", "comment", "domain", "max-age", "version", "samesite"}
)
# Python 3.14 taught Morsel the CHIPS "Partitioned" flag; older ones cannot carry it.
MORSEL_HAS_PARTITIONED: Final = Morsel().isReservedKey("partitioned")


def morsel_from_set_cookie(header: str) -> Morsel[str] | None:
    """One Set-Cookie value as a Morsel, as aiohttp shows it; None when it is ignored."""
    line = _split_set_cookie(header)
    if line is None:
        return None
    name = line.name
    if BAD_NAME_RE.search(name) is not None:
        _internal_logger.warning("Can not load cookies: Illegal cookie name %r", name)
        return None
    coded = line.coded
    # The response mirrors aiohttp's SimpleCookie parsing, which drops non-printable values.
    if not _VALUE_CHARS.issuperset(coded):
        return None
    value = line.value
    # The response mirrors SimpleCookie, which unquotes any value wrapped in quotes.
    if not line.quoted and len(coded) >= 2 and coded[0] == '"' == coded[-1]:
        value = _unescape(coded[1:-1])
    morsel: Morsel[str] = Morsel()
    # __setstate__ takes the name as sent: Morsel.set() refuses names servers do use.
    morsel.__setstate__(  # type: ignore[attr-defined]
        {"key": name, "value": value, "coded_value": coded}
    )
    for key, attr_value, has_equals in line.attributes:
        # The response mirrors SimpleCookie: it knows fewer attributes and needs "=" on them.
        if key in _FLAG_ATTRIBUTES or (key == "partitioned" and MORSEL_HAS_PARTITIONED):
            morsel[key] = True
        elif has_equals and key in _VALUE_ATTRIBUTES:
            # As SimpleCookie reads them, only a date holds blanks; elsewhere the first
            # word is the value (none at all for a value of only Unicode blanks).
            if key != "expires":
                words = attr_value.split(None, 1)
                attr_value = words[0] if words else ""
            morsel[key] = attr_value
    return morsel


def response_cookies(headers: Iterable[str]) -> SimpleCookie:
    """A response's Set-Cookie values as one SimpleCookie; the last of a name wins."""
    cookies = SimpleCookie()
    kept = invalid = over = 0
    for header in headers:
        morsel = morsel_from_set_cookie(header)
        if morsel is None:
            invalid += 1
        elif kept >= _MAX_RESPONSE_COOKIES:
            over += 1
        else:
            kept += 1
            cookies[morsel.key] = morsel
    if invalid or over:
        _internal_logger.debug(
            "Ignored %d invalid Set-Cookie field(s) and %d over the %d-cookie limit",
            invalid,
            over,
            _MAX_RESPONSE_COOKIES,
        )
    return cookies
