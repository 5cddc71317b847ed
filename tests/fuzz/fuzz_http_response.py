"""Fuzz target: HTTP/1.x responses through airhttp.http_parser.ResponseParser (sans-IO).

Input layout (see tests/fuzz/_fdp.py): settings from the end (limits, read_until_eof, the
request methods of up to three pipelined responses, EOF or not, up to 8 cut points), the
rest is the bytes the server sent.

A bug is any of:
- an exception other than an airhttp.http_exceptions.HttpProcessingError subclass, or the
  parser's internal-error safety net firing ("Internal parser error");
- the input parsed as pieces giving other events, another error class or other trailing
  data than the input fed whole (where a cut falls must not matter);
- more next_event() calls than the input allows (a loop), a body event that is not
  non-empty bytes, an error that is not sticky;
- an accepted head with CR, LF or NUL in the reason, a field name or value (or a trailer),
  an untrimmed value, a status outside 100..999, or a Content-Length beside chunked.
"""

from __future__ import annotations

from airhttp._settings import RequestSettings

from . import _fdp
from ._parser_run import check_split_agrees

METHODS = ("GET", "HEAD", "POST", "CONNECT")
DEFAULT_LIMITS = (8190, 8190, 128)


def read_settings(fdp: _fdp.Provider) -> RequestSettings:
    """The limits and read_until_eof, as a session could set them."""
    if _fdp.flag(fdp):
        line, field, headers = DEFAULT_LIMITS
    else:
        line = fdp.ConsumeIntInRange(1, 300)
        field = fdp.ConsumeIntInRange(1, 300)
        headers = fdp.ConsumeIntInRange(1, 12)
    return RequestSettings(
        read_until_eof=_fdp.flag(fdp),
        max_line_size=line,
        max_field_size=field,
        max_headers=headers,
    )


def one_input(data: bytes) -> None:
    fdp = _fdp.provider(data)
    settings = read_settings(fdp)
    methods = [METHODS[fdp.ConsumeIntInRange(0, 3)] for _ in range(fdp.ConsumeIntInRange(1, 3))]
    eof = _fdp.flag(fdp)
    cuts = _fdp.consume_cuts(fdp, 8)
    payload = _fdp.take_rest(fdp)
    check_split_agrees(payload, _fdp.split(payload, cuts), methods, settings, eof=eof)


def seed(
    payload: bytes,
    *,
    methods: tuple[int, ...] = (0,),
    eof: bool = True,
    cuts: tuple[int, ...] = (),
    limits: tuple[int, int, int] | None = None,
    read_until_eof: bool = True,
) -> bytes:
    """The input that makes `one_input` parse `payload` with these settings."""
    writer = _fdp.SeedWriter()
    writer.flag(limits is None)
    if limits is not None:
        writer.int_in_range(1, 300, limits[0])
        writer.int_in_range(1, 300, limits[1])
        writer.int_in_range(1, 12, limits[2])
    writer.flag(read_until_eof)
    writer.int_in_range(1, 3, len(methods))
    for method in methods:
        writer.int_in_range(0, 3, method)
    writer.flag(eof)
    writer.cuts(cuts, 8)
    return writer.build(payload)


def main() -> None:
    from ._harness import run

    run(one_input)


if __name__ == "__main__":
    main()
