"""A list of async callbacks that is filled at setup time and then frozen and fired.

Used by tracing; it only awaits its receivers in order and schedules nothing itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec

from frozenlist import FrozenList

__all__ = ("Signal",)

_P = ParamSpec("_P")


class Signal(FrozenList[Callable[_P, Awaitable[object]]], Generic[_P]):
    """Async callbacks fired in registration order once the owner freezes the list.

    Mutating a frozen signal, or sending through one that is not frozen yet, raises
    RuntimeError: receivers are meant to be fixed before the first event fires.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: object) -> None:
        super().__init__()
        self._owner = owner

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self.frozen}, {list(self)!r}>"

    async def send(self, *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Await every receiver with the same arguments, first registered first."""
        if not self.frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for receiver in self:
            await receiver(*args, **kwargs)
