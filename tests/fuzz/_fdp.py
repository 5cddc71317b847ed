"""Splitting one fuzz input into settings and data, with or without atheris.

Under the fuzzer the targets use `atheris.FuzzedDataProvider`; in plain Python (the smoke
test) they use `DataProvider`, which reads the same bytes the same way for the calls the
targets make (tests/test_fuzz_smoke.py checks that against atheris when it is installed):

- `ConsumeIntInRange(lo, hi)` takes whole bytes from the END of the input, the first byte
  taken being the most significant, just enough for `hi - lo`, and returns
  `lo + value % (hi - lo + 1)` (`lo` once the input is used up);
- (atheris's own ConsumeBool() reads from the front instead: the targets use `flag()`);
- `ConsumeBytes(n)` takes up to `n` bytes from the FRONT.

So a target reads its settings first and then `ConsumeBytes(remaining_bytes())` as the data,
and `SeedWriter` builds seed files the other way round: data first, settings appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Protocol


class Provider(Protocol):
    """The part of atheris.FuzzedDataProvider the targets use."""

    def ConsumeIntInRange(self, lo: int, hi: int) -> int: ...

    def ConsumeBytes(self, count: int) -> bytes: ...

    def remaining_bytes(self) -> int: ...


class DataProvider:
    """A pure-Python stand-in for atheris.FuzzedDataProvider (see the module docstring)."""

    __slots__ = ("_data", "_end", "_start")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._start = 0
        self._end = len(self._data)

    def ConsumeIntInRange(self, lo: int, hi: int) -> int:
        if lo > hi:
            raise ValueError("lo must not exceed hi")
        span = hi - lo
        value = 0
        shift = 0
        while span >> shift and self._end > self._start:
            self._end -= 1
            value = (value << 8) | self._data[self._end]
            shift += 8
        return lo + value % (span + 1)

    def ConsumeBytes(self, count: int) -> bytes:
        stop = min(self._end, self._start + max(count, 0))
        out = self._data[self._start : stop]
        self._start = stop
        return out

    def remaining_bytes(self) -> int:
        return self._end - self._start


# Set by the fuzz harness (tests/fuzz/_harness.py) once atheris is imported.
_atheris_provider: Any = None


def use_atheris_provider(factory: Any) -> None:
    """Make `provider()` hand out atheris's own FuzzedDataProvider (the harness calls this)."""
    global _atheris_provider
    _atheris_provider = factory


def provider(data: bytes) -> Provider:
    """The data provider for one input: atheris's under the fuzzer, else `DataProvider`."""
    if _atheris_provider is not None:
        return _atheris_provider(data)  # type: ignore[no-any-return]
    return DataProvider(data)


def flag(fdp: Provider) -> bool:
    """One yes/no setting, taken from the end like the integers."""
    return fdp.ConsumeIntInRange(0, 1) == 1


def take_rest(fdp: Provider) -> bytes:
    """Everything the settings left over, as the data of the input."""
    return fdp.ConsumeBytes(fdp.remaining_bytes())


def consume_cuts(fdp: Provider, most: int) -> list[int]:
    """Up to `most` raw cut points (0..65535); `split()` maps them onto the data."""
    count = fdp.ConsumeIntInRange(0, most)
    return [fdp.ConsumeIntInRange(0, 0xFFFF) for _ in range(count)]


def split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """`data` cut at the given points (taken modulo its length + 1), in order; no empty piece."""
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in pairwise(points) if b > a]


class SeedWriter:
    """Builds an input that a target reading these values in this order will see.

    Call `int_in_range` / `bool` in the order the target consumes them, then `build(data)`.
    """

    def __init__(self) -> None:
        self._tail: list[bytes] = []

    def int_in_range(self, lo: int, hi: int, value: int) -> SeedWriter:
        if not lo <= value <= hi:
            raise ValueError(f"{value} is not in [{lo}, {hi}]")
        span = hi - lo
        size = 0
        while span >> (8 * size):
            size += 1
        # Read from the end, most significant first: stored little-endian before the rest.
        self._tail.append((value - lo).to_bytes(size, "little") if size else b"")
        return self

    def flag(self, value: bool) -> SeedWriter:
        return self.int_in_range(0, 1, int(value))

    def cuts(self, points: Sequence[int], most: int) -> SeedWriter:
        self.int_in_range(0, most, len(points))
        for point in points:
            self.int_in_range(0, 0xFFFF, point)
        return self

    def build(self, data: bytes) -> bytes:
        return data + b"".join(reversed(self._tail))
