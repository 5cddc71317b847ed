"""RequestSettings: the limits and options one request runs with, as one frozen value.

The session builds one from its own arguments and derives a request's from it only
when the request overrides something; the attempt, the protocol and the parser read it.
It holds no state and does no I/O.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from ._timeouts import DEFAULT_TIMEOUT, ClientTimeout

__all__ = ("DEFAULT_SETTINGS", "RequestSettings")


@dataclasses.dataclass(frozen=True, slots=True)
class RequestSettings:
    """How one request is timed, read and decoded."""

    timeout: ClientTimeout = DEFAULT_TIMEOUT
    # RFC 9112 6.3 item 8: a body framed by neither length nor chunks runs to the close;
    # False treats it as empty instead.
    read_until_eof: bool = True
    read_bufsize: int = 2**16
    auto_decompress: bool = True
    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 128

    def derive(
        self,
        *,
        timeout: ClientTimeout | None = None,
        read_until_eof: bool | None = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
    ) -> RequestSettings:
        """These settings with the given (not None) values replaced; self if none is."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("timeout", timeout),
                ("read_until_eof", read_until_eof),
                ("read_bufsize", read_bufsize),
                ("auto_decompress", auto_decompress),
                ("max_line_size", max_line_size),
                ("max_field_size", max_field_size),
                ("max_headers", max_headers),
            )
            if value is not None and value != getattr(self, name)
        }
        return dataclasses.replace(self, **changes) if changes else self


DEFAULT_SETTINGS: Final = RequestSettings()
