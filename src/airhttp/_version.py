"""The package version, in a module of its own so that any module can read it.

It imports nothing: modules deep in the package name the version without importing
the package's `__init__` (which imports them).
"""

from typing import Final

__version__: Final = "0.1.0.dev0"
