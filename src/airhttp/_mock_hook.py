"""The switch `airhttp.testing` flips: the middlewares of the mock routers now active.

A leaf with no imports from airhttp. The session reads `ACTIVE` once per request and
appends what it holds innermost; only `airhttp.testing` changes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

__all__ = ("ACTIVE",)

# Newest router first: it is asked first, and what it passes on reaches the older ones.
# Mutated in place, never rebound: the session binds this list once at import.
ACTIVE: Final[list[Callable[[Any, Any], Awaitable[Any]]]] = []
