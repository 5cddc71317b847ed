"""ClientTimeout, the public value that says how long each part of a request may take.

A plain value: it starts no timers itself (the request's timer is in `_request_timer`).
"""

from __future__ import annotations

import dataclasses
from typing import Final

__all__ = ("DEFAULT_TIMEOUT", "ClientTimeout")


@dataclasses.dataclass(frozen=True)
class ClientTimeout:
    """Timeouts in seconds; None disables one. `total` covers the whole request."""

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


DEFAULT_TIMEOUT: Final = ClientTimeout(total=5 * 60, sock_connect=30)
