"""`install_as_aiohttp()`: let libraries written for aiohttp import airhttp instead.

After the call, `import aiohttp` gives the airhttp package and `import aiohttp.<name>`
the airhttp module of that name (the same module objects, so classes and exceptions
compare equal). The server side (`aiohttp.web`, its test utilities, the gunicorn
worker) does not exist in airhttp; importing it raises an ImportError that says so.
Nothing happens unless the application calls this function.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Final

__all__ = ("install_as_aiohttp",)

_ALIAS: Final = "aiohttp"
_PACKAGE: Final = "airhttp"
# aiohttp's server-side modules (and web_*): no client code needs them, airhttp has none.
_SERVER_MODULES: Final = frozenset(("web", "test_utils", "pytest_plugin", "worker"))


class _AliasLoader(importlib.abc.Loader):
    """Loads `aiohttp.<name>` by putting airhttp's module of that name in its place."""

    def __init__(self, target: str) -> None:
        self._target = target

    def exec_module(self, module: ModuleType) -> None:
        # The import system reads the module back from sys.modules after exec_module, so
        # the placeholder it made is replaced by the real airhttp module here.
        sys.modules[module.__name__] = importlib.import_module(self._target)


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers imports of `aiohttp.*` with airhttp's modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_ALIAS + "."):
            return None
        name = fullname[len(_ALIAS) + 1 :]
        head = name.split(".")[0]
        if head in _SERVER_MODULES or head.startswith("web_"):
            raise ImportError(
                f"{fullname} is part of aiohttp's server, which airhttp does not provide: "
                "airhttp.install_as_aiohttp() replaces only aiohttp's client. Install the real "
                "aiohttp and do not call install_as_aiohttp() to use aiohttp.web.",
                name=fullname,
            )
        target_name = f"{_PACKAGE}.{name}"
        if importlib.util.find_spec(target_name) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


def install_as_aiohttp() -> None:
    """Make `import aiohttp` and `import aiohttp.<client module>` resolve to airhttp.

    Call it once, before anything imports aiohttp. Raises RuntimeError if the real
    aiohttp is already imported: its classes would then live side by side with
    airhttp's, and code catching one would miss the other. Calling it again is harmless.
    """
    package = sys.modules[_PACKAGE]
    current = sys.modules.get(_ALIAS)
    if current is package:
        return
    if current is not None:
        raise RuntimeError(
            "aiohttp is already imported; call airhttp.install_as_aiohttp() before "
            "anything imports aiohttp"
        )
    sys.meta_path.insert(0, _AliasFinder())
    sys.modules[_ALIAS] = package
