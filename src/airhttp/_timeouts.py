"""ClientTimeout, the public value that says how long each part of a request may take.

A plain value: it starts no timers itself (the request's timer is in `_request_timer`).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Final

__all__ = ("DEFAULT_TIMEOUT", "UNSET", "ClientTimeout", "request_timeout", "session_timeout")


@dataclasses.dataclass(frozen=True)
class ClientTimeout:
    """Timeouts in seconds; None disables one. `total` covers the whole request."""

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


DEFAULT_TIMEOUT: Final = ClientTimeout(total=5 * 60, sock_connect=30)

# The default of timeout arguments: tells "not given" from None (no limit).
UNSET: Final[Any] = object()


def session_timeout(timeout: Any, read_timeout: Any, conn_timeout: Any) -> ClientTimeout:
    """The session's ClientTimeout, folding in the pre-3.3 read/conn timeouts."""
    if timeout is UNSET or timeout is None:
        result = DEFAULT_TIMEOUT
        # stacklevel 3: the warnings point at the code that built the session.
        if read_timeout is not UNSET:
            warnings.warn(
                "read_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = dataclasses.replace(result, total=read_timeout)
        if conn_timeout is not None:
            warnings.warn(
                "conn_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = dataclasses.replace(result, connect=conn_timeout)
        return result
    if not isinstance(timeout, ClientTimeout):
        raise ValueError(
            f"timeout parameter cannot be of {type(timeout)} type, "
            "please use 'timeout=ClientTimeout(...)'"
        )
    if read_timeout is not UNSET:
        raise ValueError("read_timeout and timeout parameters conflict, please setup timeout.read")
    if conn_timeout is not None:
        raise ValueError(
            "conn_timeout and timeout parameters conflict, please setup timeout.connect"
        )
    return timeout


def request_timeout(timeout: Any) -> ClientTimeout | None:
    """A request's own timeout argument as a ClientTimeout; None keeps the session's."""
    if timeout is UNSET:
        return None
    if isinstance(timeout, ClientTimeout):
        return timeout
    # The pre-3.3 form: a number (or None) is the total timeout and nothing else.
    return ClientTimeout(total=timeout)
