"""Running one target under atheris: instrument airhttp, quiet its logs, hand over to libFuzzer.

Imported only by the targets' `main()`, so nothing else needs atheris installed.
"""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Callable, Sequence

from . import _fdp

# Packages whose code gives the fuzzer its coverage feedback.
DEFAULT_PACKAGES: tuple[str, ...] = ("airhttp",)


def _instrument(atheris: types.ModuleType, packages: Sequence[str]) -> int:
    """Add atheris's coverage hooks to every function already imported from `packages`."""
    import gc

    prefixes = tuple(packages)
    count = 0
    for obj in gc.get_objects():
        if not isinstance(obj, types.FunctionType):
            continue
        module = obj.__module__ or ""
        if module in prefixes or module.startswith(tuple(p + "." for p in prefixes)):
            try:
                atheris.instrument_func(obj)
            except Exception as exc:  # a function atheris cannot rewrite stays as it is
                print(f"INFO: not instrumented {obj.__qualname__}: {exc}", file=sys.stderr)
                continue
            count += 1
    return count


def run(
    one_input: Callable[[bytes], None],
    packages: Sequence[str] = DEFAULT_PACKAGES,
    argv: Sequence[str] | None = None,
) -> None:
    """Fuzz `one_input` with libFuzzer's command line `argv` (default: sys.argv)."""
    import atheris

    _fdp.use_atheris_provider(atheris.FuzzedDataProvider)
    # The parsers log what they drop (illegal cookie names...): one line per input.
    logging.disable(logging.CRITICAL)
    count = _instrument(atheris, packages)
    print(f"INFO: instrumented {count} functions of {', '.join(packages)}", file=sys.stderr)
    atheris.Setup(list(sys.argv if argv is None else argv), one_input)
    atheris.Fuzz()
