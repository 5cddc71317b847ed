"""HTTP/2 header blocks, sans-IO: a request's fields out, a response's fields checked in.

RFC 9113 section 8.2 and 8.3: names are lowercase, connection-specific fields are not
sent, pseudo-header fields come first, and a response that breaks these rules is
malformed. The HPACK coding and framing belong to the `h2` library; this module only
decides which fields go and whether the fields that came are valid. No I/O, no `h2`.
"""

from __future__ import annotations

import http
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from multidict import CIMultiDict, CIMultiDictProxy

from ._head_syntax import ENCODING, ERRORS, FORBIDDEN_IN_HEAD, injection_error
from ._http_events import RawResponseMessage
from ._httpversion import HttpVersion
from .http_exceptions import BadHttpMessage, InvalidHeader, LineTooLong

__all__ = (
    "HttpVersion20",
    "RawHeaders",
    "ResponseHeads",
    "request_fields",
    "response_head",
    "trailer_fields",
)

HttpVersion20: Final = HttpVersion(2, 0)
# Header fields as `h2` hands them over and takes them: (name, value) byte strings.
RawHeaders = list[tuple[bytes, bytes]]

# RFC 9113 8.2.2: fields that only mean something to one HTTP/1.1 connection. Host
# becomes :authority (8.3.1); TE may only say "trailers".
_NOT_SENT: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}
)
_CONNECTION_SPECIFIC: Final = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
# A field name: an RFC 9110 token, lowercase (RFC 9113 8.2.1).
_NAME: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
# What a value may not hold (NUL, CR, LF), and may not start or end with (SP, HTAB).
_BAD_VALUE: Final = re.compile(rb"[\x00\r\n]|^[ \t]|[ \t]$")
_COMPRESSIONS: Final = {name: name for name in ("gzip", "deflate", "br", "zstd")}
_REASONS: Final = {status.value: status.phrase for status in http.HTTPStatus}
# How many distinct response blocks a connection remembers (see ResponseHeads).
_HEADS_KEPT: Final = 8


def request_fields(
    method: str, scheme: str, authority: str, target: str, headers: Mapping[str, str]
) -> RawHeaders:
    """The header block of a request: pseudo-header fields first, then `headers`.

    Names are lowercased and connection-specific fields dropped (RFC 9113 8.2.2), a Host
    field becomes :authority. Raises ValueError for CR, LF or NUL anywhere, as the
    HTTP/1.1 writer does.
    """
    host = headers.get("Host")
    if host:
        authority = host
    probe = "".join((method, authority, target, *headers.keys(), *headers.values()))
    if not probe.isprintable() and FORBIDDEN_IN_HEAD.search(probe) is not None:
        raise injection_error(f"{method} {target}", headers)
    fields: RawHeaders = [
        (b":method", method.encode(ENCODING)),
        (b":scheme", scheme.encode(ENCODING)),
        (b":authority", authority.encode(ENCODING, ERRORS)),
        (b":path", target.encode(ENCODING, ERRORS)),
    ]
    if method == "CONNECT":  # RFC 9113 8.5: only :method and :authority
        fields = [fields[0], fields[2]]
    append = fields.append
    for name, value in headers.items():
        lower = name.lower()
        if lower in _NOT_SENT:
            continue
        if lower == "te" and value.strip().lower() != "trailers":
            continue
        append((lower.encode(ENCODING, ERRORS), value.encode(ENCODING, ERRORS)))
    return fields


def _decode(raw: bytes) -> str:
    return raw.decode(ENCODING, ERRORS)


def _regular_fields(
    fields: Iterable[tuple[bytes, bytes]], max_field_size: int, max_headers: int
) -> CIMultiDict[str]:
    """Check and decode the regular fields of a block (pseudo-header fields excluded)."""
    out: CIMultiDict[str] = CIMultiDict()
    add = out.add
    for count, (name, value) in enumerate(fields, 1):
        if name[:1] == b":":
            raise BadHttpMessage(f"Pseudo-header field {_decode(name)!r} not allowed here")
        if _NAME.fullmatch(name) is None or name in _CONNECTION_SPECIFIC:
            raise InvalidHeader(name)
        if value and _BAD_VALUE.search(value) is not None:
            raise InvalidHeader(name + b": " + value)
        if len(name) + len(value) + 2 > max_field_size:
            raise LineTooLong(name[:100] + b"...", max_field_size, len(name) + len(value) + 2)
        if count > max_headers:
            raise BadHttpMessage("Too many headers received")
        add(_decode(name), _decode(value))
    return out


class ResponseHeads:
    """`response_head` for one connection, remembering the last few distinct blocks.

    A server answers with the same fields again and again (as the HTTP/1.1 parser finds,
    which remembers heads the same way): a block seen before, under the same limits, is
    not checked and decoded again; every response still gets a message of its own.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], tuple[RawResponseMessage, tuple[int, int]]] = {}

    def head(self, fields: RawHeaders, max_field_size: int, max_headers: int) -> RawResponseMessage:
        key = tuple(fields)
        limits = (max_field_size, max_headers)
        seen = self._seen.get(key)
        if seen is not None and seen[1] == limits:
            known = seen[0]
        else:
            known = response_head(fields, max_field_size=max_field_size, max_headers=max_headers)
            if len(self._seen) >= _HEADS_KEPT:
                self._seen.clear()
            self._seen[key] = (known, limits)
        return RawResponseMessage(
            HttpVersion20,
            known.code,
            known.reason,
            known.headers,
            False,
            known.compression,
            False,
            False,
            known.content_length,
        )


def response_head(
    fields: RawHeaders, *, max_field_size: int, max_headers: int
) -> RawResponseMessage:
    """The head of an HTTP/2 response from its decoded header block.

    Raises BadHttpMessage (or a subclass) for a malformed block (RFC 9113 8.3.2): no
    :status, a pseudo-header field other than :status or after a regular one, an
    uppercase or connection-specific name, a value with NUL/CR/LF or surrounding
    whitespace; LineTooLong or "Too many headers" past the limits.
    """
    if not fields or fields[0][0] != b":status":
        raise BadHttpMessage("Response header block without :status first")
    status = fields[0][1]
    if len(status) != 3 or not status.isdigit():
        raise BadHttpMessage(f"Invalid :status {_decode(status)!r}")
    code = int(status)
    headers = _regular_fields(fields[1:], max_field_size, max_headers)
    content_length: int | None = None
    lengths = headers.getall("Content-Length", None)
    if lengths is not None:
        value = lengths[0]
        if len(lengths) > 1 and any(other != value for other in lengths):
            raise BadHttpMessage("Conflicting Content-Length fields")
        if not (value.isdigit() and value.isascii()) or len(value) > 18:
            raise InvalidHeader(b"content-length: " + value.encode(ENCODING, ERRORS))
        content_length = int(value)
    compression = headers.get("Content-Encoding")
    if compression is not None:
        compression = _COMPRESSIONS.get(compression.lower())
    return RawResponseMessage(
        HttpVersion20,
        code,
        _REASONS.get(code, ""),
        CIMultiDictProxy(headers),
        False,
        compression,
        False,
        False,
        content_length,
    )


def trailer_fields(
    fields: RawHeaders, *, max_field_size: int, max_headers: int
) -> CIMultiDictProxy[str]:
    """The trailer fields of a response: regular fields only (RFC 9113 8.1)."""
    return CIMultiDictProxy(_regular_fields(fields, max_field_size, max_headers))
