"""Set-Cookie lines and cookie dates (RFC 6265 sections 5.1.1 and 5.2), parsed into specs.

Pure string work: no storage rules, no clock and no I/O; the jar decides what to keep.
"""

from __future__ import annotations

import calendar
import datetime
import re
from http.cookies import Morsel
from typing import Any, Final

# RFC 6265 section 6.1 minimum a user agent should support; more is a memory DoS vector.
_MAX_NAME_VALUE_SIZE: Final = 4096
# RFC 6265bis Set-Cookie parsing, step 1: a CTL other than HTAB rejects the whole line.
_CTL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Names stay printable ASCII without the characters that would break the Cookie header.
_BAD_NAME_RE: Final = re.compile(r'[^\x21-\x7e]|[",;\\]')
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


def _parse_cookie_date(text: str) -> float | None:
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


def _closing_quote(header: str, opening: int) -> int:
    """Index of the DQUOTE that ends the quoted value opened at `opening`, or -1."""
    pos = opening + 1
    while True:
        quote_at = header.find('"', pos)
        if quote_at < 0:
            return -1
        slash = quote_at
        while header[slash - 1] == "\\":
            slash -= 1
        if (quote_at - slash) % 2 == 0:
            return quote_at
        pos = quote_at + 1


class _CookieSpec:
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
        moment = _parse_cookie_date(text)
        if moment is not None:
            self.expires = moment
            self.expires_text = text

    def set_max_age(self, text: str) -> None:
        seconds = _parse_max_age(text)
        if seconds is not None:
            self.max_age = seconds
            self.max_age_text = text

    @classmethod
    def from_morsel(cls, morsel: Morsel[Any]) -> _CookieSpec:
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


def _parse_set_cookie(header: str) -> _CookieSpec | None:
    """Parse one Set-Cookie value (RFC 6265 5.2); None when the line must be ignored."""
    if _CTL_RE.search(header) is not None:
        return None
    equals = header.find("=")
    semicolon = header.find(";")
    # 5.2 step 2: no "=" in the name-value-pair ignores the whole line.
    if equals < 0 or 0 <= semicolon < equals:
        return None
    name = header[:equals].strip(" \t")
    if not name or _BAD_NAME_RE.search(name) is not None:
        return None
    start = equals + 1
    end = len(header)
    while start < end and header[start] in " \t":
        start += 1
    value = coded = ""
    value_end = -1
    if header.startswith('"', start):
        # A quoted value may hold ";" (http.cookies and aiohttp read it that way), as long
        # as nothing but blanks follows the closing quote.
        closing = _closing_quote(header, start)
        if closing > 0:
            after = header.find(";", closing + 1)
            if after < 0:
                after = end
            if not header[closing + 1 : after].strip(" \t"):
                coded = header[start : closing + 1]
                value = _unescape(coded[1:-1])
                value_end = after
    if value_end < 0:
        value_end = header.find(";", start)
        if value_end < 0:
            value_end = end
        coded = value = header[start:value_end].rstrip(" \t")
    if len(name) + len(coded) > _MAX_NAME_VALUE_SIZE:
        return None
    spec = _CookieSpec(name, value, coded)
    if value_end >= end:
        return spec
    for attribute in header[value_end + 1 :].split(";"):
        key, _, attr_value = attribute.partition("=")
        key = key.strip(" \t").lower()
        attr_value = attr_value.strip(" \t")
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
