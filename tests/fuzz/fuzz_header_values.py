"""Fuzz target: the header-value parsers behind Link, Content-Type and Content-Disposition.

The data is decoded as the response parser decodes header values (UTF-8, surrogateescape)
and cut into up to 3 values (see tests/fuzz/_fdp.py). Each value goes through
helpers.parse_mimetype (multipart), helpers.parse_content_type (HeadersMixin), the
response's Content-Type reading (airhttp._client_response: its plain fast path and the
email-package slow path), multipart.parse_content_disposition and
content_disposition_filename (BodyPartReader.name / .filename); all the values together
are one response's Link headers (ClientResponse.links) against a fixed base URL.

What each documents: parse_mimetype never raises; parse_content_type and the response's
reading give application/octet-stream for what they cannot read; parse_content_disposition
gives (None, {}) for a malformed header and drops malformed parameters, warning only
BadContentDispositionHeader or BadContentDispositionParam; links raises only the
ValueError of yarl refusing a link target (as aiohttp does). A bug is any of:
- any other exception, or any other warning;
- results of the wrong shape: a media type that is not lower case, a disposition type
  that is not a lower-case token, parameters that are not str -> str (parse_content_type
  may give the email package's (charset, language, text) triple for a malformed RFC 2231
  parameter, exactly as aiohttp's does), a filename or name
  that is neither str nor None, a link without its "url" or not keyed by str;
- the response's fast path for plain values disagreeing with the email-package reading
  (airhttp._client_response promises they agree).
"""

from __future__ import annotations

import warnings

from multidict import MultiDictProxy
from yarl import URL

from airhttp._client_response import (
    _LINK_RE,
    _LINK_SPLIT_RE,
    _parse_content_type_slowly,
    _parse_links,
    _parse_plain_content_type,
)
from airhttp.helpers import parse_content_type, parse_mimetype
from airhttp.multipart import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    content_disposition_filename,
    parse_content_disposition,
)

from . import _fdp, _known

_BASES = (URL("http://example.com/a/b?q=1"), URL("https://[::1]:8443/"))
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz\t")
_DOCUMENTED_WARNINGS = (BadContentDispositionHeader, BadContentDispositionParam)


class HeaderBug(AssertionError):
    """A header parser broke its contract on this input (see the module docstring)."""


def _is_param_value(value: object) -> bool:
    # The email package leaves an RFC 2231 value it could not join as its (charset,
    # language, text) triple; aiohttp's parse_content_type hands that out the same way.
    if isinstance(value, tuple):
        return len(value) == 3 and all(part is None or isinstance(part, str) for part in value)
    return isinstance(value, str)


def _known_slash(value: str) -> bool:
    """Known bug 4 (tests/fuzz/_known.py): a "/" in a parameter value."""
    return _known.lenient() and "/" in value.partition(";")[2]


def check_media_type(value: str) -> None:
    mime = parse_mimetype(value)
    if not all(isinstance(part, str) for part in mime[:3]):
        raise HeaderBug(f"parse_mimetype gave {mime!r}")
    if not isinstance(mime.parameters, MultiDictProxy):
        raise HeaderBug(f"parse_mimetype parameters {mime.parameters!r}")
    media_type, params = parse_content_type(value)
    if media_type != media_type.lower() or not all(
        isinstance(k, str) and _is_param_value(v) for k, v in params.items()
    ):
        raise HeaderBug(f"parse_content_type gave {media_type!r} {params!r}")
    slow = _parse_content_type_slowly(value)
    plain = _parse_plain_content_type(value)
    if plain is not None and plain != slow and not _known_slash(value):
        raise HeaderBug(f"Content-Type fast path {plain!r} but email package {slow!r}")
    if slow[0] != slow[0].lower() or not (slow[1] is None or isinstance(slow[1], str)):
        raise HeaderBug(f"Content-Type read as {slow!r}")


def check_disposition(value: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            disptype, params = parse_content_disposition(value)
            names = [content_disposition_filename(params, key) for key in ("filename", "name")]
        except UnicodeError as exc:
            if not _known.lenient() or isinstance(exc, UnicodeDecodeError):
                raise
            return  # known bug 3 in tests/fuzz/_known.py
    for warning in caught:
        if not issubclass(warning.category, _DOCUMENTED_WARNINGS):
            raise HeaderBug(f"undocumented warning {warning.category.__name__}: {warning.message}")
    if disptype is None:
        if params:
            raise HeaderBug(f"no disposition type but parameters {params!r}")
    elif not disptype or disptype != disptype.lower() or not _TOKEN.issuperset(disptype):
        raise HeaderBug(f"disposition type {disptype!r} is not a lower-case token")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise HeaderBug(f"disposition parameters {params!r}")
    if not all(name is None or isinstance(name, str) for name in names):
        raise HeaderBug(f"filename/name {names!r}")


def _refused_target(values: list[str], base: URL) -> bool:
    """Whether yarl refuses a link target that the Link parsing takes out of `values`."""
    for header in values:
        for link in _LINK_SPLIT_RE.split(header):
            match = _LINK_RE.match(link)
            if match is None:
                continue
            try:
                base.join(URL(match.group(1)))
            except ValueError:
                return True
    return False


def check_links(values: list[str], base: URL) -> None:
    try:
        links = _parse_links(values, base)
    except ValueError as exc:
        if _refused_target(values, base):
            return
        raise HeaderBug(f"links raised {exc!r} though yarl takes every target") from exc
    for rel, link in links.items():
        if not isinstance(rel, str) or not isinstance(link.get("url"), URL):
            raise HeaderBug(f"link {rel!r}: {link!r}")


def one_input(data: bytes) -> None:
    fdp = _fdp.provider(data)
    base = _BASES[fdp.ConsumeIntInRange(0, len(_BASES) - 1)]
    cuts = _fdp.consume_cuts(fdp, 2)
    raw = _fdp.split(_fdp.take_rest(fdp), cuts)
    values = [piece.decode("utf-8", "surrogateescape") for piece in raw] or [""]
    for value in values:
        check_media_type(value)
        check_disposition(value)
    check_links(values, base)


def seed(values: list[bytes], *, base: int = 0) -> bytes:
    """The input that makes `one_input` read these header values (at most 3)."""
    points: list[int] = []
    for value in values[:-1]:
        points.append((points[-1] if points else 0) + len(value))
    writer = _fdp.SeedWriter().int_in_range(0, len(_BASES) - 1, base).cuts(points, 2)
    return writer.build(b"".join(values))


def main() -> None:
    from ._harness import run

    run(one_input)


if __name__ == "__main__":
    main()
