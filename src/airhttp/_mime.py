"""Media types and Content-Disposition: parsing them and building them.

Pure string work on header values; no I/O, no knowledge of messages or bodies.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Final, NamedTuple
from urllib.parse import quote, unquote

from multidict import MultiDict, MultiDictProxy

__all__ = (
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "MimeType",
    "content_disposition_filename",
    "content_disposition_header",
    "parse_content_disposition",
    "parse_mimetype",
)

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
# "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# Characters that may stand in a quoted-string once escaped (RFC 9110 §5.6.4:
# qdtext plus quoted-pair over VCHAR, SP and HTAB); obs-text is left to RFC 5987.
_QUOTABLE_CHARS: Final = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\t"}
# Escaped with a backslash inside quoted parameter values, as aiohttp does.
_ESCAPED_CHARS: Final = frozenset(' \t"\\')


class MimeType(NamedTuple):
    """A parsed media type: ``type/subtype+suffix; parameters``."""

    type: str
    subtype: str
    suffix: str
    parameters: MultiDictProxy[str]


@functools.lru_cache(maxsize=56)
def parse_mimetype(mimetype: str) -> MimeType:
    """Split a Content-Type value into its parts; names are lower-cased.

    Lenient like aiohttp: never raises, and an empty string gives empty parts.
    """
    if not mimetype:
        return MimeType("", "", "", MultiDictProxy(MultiDict()))
    parts = mimetype.split(";")
    params: MultiDict[str] = MultiDict()
    for item in parts[1:]:
        if not item or item.isspace():
            continue
        key, _, value = item.partition("=")
        key = key.strip().lower()
        params.add(key, value.strip(' "'))
    fulltype = parts[0].strip().lower()
    if fulltype == "*":
        fulltype = "*/*"
    mtype, _, stype = fulltype.partition("/")
    stype, _, suffix = stype.partition("+")
    return MimeType(mtype, stype, suffix, MultiDictProxy(params))


# aiohttp also lets HTAB through in disposition types and parameter names.
_DISPOSITION_TOKEN_CHARS: Final = TOKEN_CHARS | {"\t"}


def _is_token(value: str) -> bool:
    return bool(value) and _DISPOSITION_TOKEN_CHARS.issuperset(value)


def _escape_quoted(value: str) -> str:
    if _ESCAPED_CHARS.isdisjoint(value):
        return value
    return "".join("\\" + ch if ch in _ESCAPED_CHARS else ch for ch in value)


def _escape_backslash_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def content_disposition_header(
    disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
) -> str:
    """Build a Content-Disposition value such as ``form-data; name="x"``.

    With `quote_fields`, values that cannot travel in a quoted-string use the
    RFC 5987 ``key*=charset''pct-encoded`` form and ``filename`` is percent-encoded;
    without it values are only backslash-escaped, as browsers send form fields.
    """
    if not _is_token(disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    if not params:
        return disptype
    out = [disptype]
    for key, val in params.items():
        if not _is_token(key):
            raise ValueError(f"bad content disposition parameter {key!r}={val!r}")
        if not quote_fields:
            out.append(f'{key}="{_escape_backslash_quote(val)}"')
        elif key == "filename":
            out.append(f'{key}="{quote(val, "", encoding=_charset)}"')
        elif _QUOTABLE_CHARS.issuperset(val):
            out.append(f'{key}="{_escape_quoted(val)}"')
        else:
            out.append(f"{key}*={_charset}''{quote(val, '', encoding=_charset)}")
    return "; ".join(out)


class BadContentDispositionHeader(RuntimeWarning):
    """Warned when a Content-Disposition value cannot be parsed at all."""


class BadContentDispositionParam(RuntimeWarning):
    """Warned when one Content-Disposition parameter is malformed."""


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == '"' and value[-1] == '"'


def _unescape(value: str) -> str:
    # RFC 9110 §5.6.4 quoted-pair; like aiohttp, only an ASCII character is
    # unescaped and a backslash before anything else stays as it is.
    if "\\" not in value:
        return value
    out: list[str] = []
    pos = 0
    end = len(value)
    while pos < end:
        ch = value[pos]
        if ch == "\\" and pos + 1 < end and value[pos + 1] <= "\x7f":
            out.append(value[pos + 1])
            pos += 2
        else:
            out.append(ch)
            pos += 1
    return "".join(out)


# RFC 5987 §3.2.1 ext-value pieces: charset, language and value-chars are all drawn
# from the token characters minus the apostrophe that separates them.
_EXT_VALUE_CHARS: Final = _DISPOSITION_TOKEN_CHARS - {"'"}
# Stripped from the start of quoted Content-Disposition values (see below).
_PATH_LEAD: Final = "\\/"


def _decode_ext_value(value: str) -> str | None:
    """Decode ``charset'lang'pct-encoded``; None when it is malformed."""
    pieces = value.split("'")
    if len(pieces) != 3 or not all(_EXT_VALUE_CHARS.issuperset(p) for p in pieces):
        return None
    charset, _, encoded = pieces
    try:
        return unquote(encoded, charset or "utf-8", "strict")
    except (LookupError, UnicodeError):  # UnicodeError: a codec such as punycode
        return None


def _is_continuation_key(key: str) -> bool:
    # RFC 2231 §3: name*N or name*N* carries one numbered piece of a long value.
    _, star, index = key.removesuffix("*").partition("*")
    return bool(star) and index.isdigit() and index.isascii()


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """Split a Content-Disposition value into its type and parameters.

    Lenient like aiohttp: a malformed header gives ``(None, {})`` and warns
    BadContentDispositionHeader; a malformed parameter is dropped with
    BadContentDispositionParam.
    """
    if not header:
        return None, {}
    parts = header.split(";")
    disptype = parts[0].strip()
    if not _is_token(disptype):
        warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
        return None, {}
    params: dict[str, str] = {}
    count = len(parts)
    pos = 1
    while pos < count:
        item = parts[pos]
        pos += 1
        if not item:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            continue
        key, eq, value = item.partition("=")
        if not eq:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        key = key.lower().strip()
        value = value.lstrip()
        if key in params:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        if not _is_token(key):
            warnings.warn(BadContentDispositionParam(item), stacklevel=2)
            continue
        if _is_continuation_key(key):
            if _is_quoted(value):
                params[key] = _unescape(value[1:-1])
            elif _is_token(value):
                params[key] = value
            else:
                warnings.warn(BadContentDispositionParam(item), stacklevel=2)
            continue
        if key[-1] == "*":
            decoded = _decode_ext_value(value)
            if decoded is None:
                warnings.warn(BadContentDispositionParam(item), stacklevel=2)
                continue
            params[key] = decoded
            continue
        stripped = value.rstrip()
        if _is_quoted(stripped):
            # As aiohttp: leading backslashes and slashes of quoted values are dropped, so a
            # filename="/etc/passwd" cannot name an absolute path.
            params[key] = _unescape(stripped[1:-1].lstrip(_PATH_LEAD))
        elif _is_token(value):
            params[key] = value
        else:
            # A quoted-string may hold one ";", which the split above cut through.
            if pos < count:
                value = f"{value};{parts[pos]}"
                pos += 1
            if not _is_quoted(value):
                warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
                return None, {}
            params[key] = _unescape(value[1:-1].lstrip(_PATH_LEAD))
    return disptype.lower(), params


def content_disposition_filename(params: Mapping[str, str], name: str = "filename") -> str | None:
    """Pick the value of `name` from parsed Content-Disposition parameters.

    Prefers the RFC 5987 ``name*`` form, then plain ``name``, then RFC 2231
    numbered pieces ``name*0``, ``name*1``... joined and decoded.
    """
    extended = name + "*"
    if extended in params:
        return params[extended]
    if name in params:
        return params[name]
    pieces: dict[int, str] = {}
    for key, value in params.items():
        if not key.startswith(extended):
            continue
        index = key[len(extended) :]
        if index[-1:] == "*":
            index = index[:-1]
        if index.isdigit() and index.isascii() and str(int(index)) == index:
            pieces.setdefault(int(index), value)
    chunks: list[str] = []
    while len(chunks) in pieces:
        chunks.append(pieces[len(chunks)])
    if not chunks:
        return None
    value = "".join(chunks)
    if "'" not in value:
        return value
    pieces_of_ext = value.split("'", 2)
    if len(pieces_of_ext) != 3:
        return value
    charset, _, encoded = pieces_of_ext
    try:
        return unquote(encoded, charset or "utf-8", "strict")
    except (LookupError, UnicodeError):  # UnicodeError: a codec such as punycode
        return None
