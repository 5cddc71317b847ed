"""The documentation site builds without a warning, and its API reference misses no name.

The build is the one `make docs` runs (warnings as errors), with Sphinx's `dummy` builder:
every page is read and every cross-reference checked, but no HTML is written, which keeps
the test to seconds. It needs the `docs` extra and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

import airhttp

DOCS: Final = Path(__file__).resolve().parent.parent / "docs"
# What the api.md directives name: `.. autoclass:: ClientSession`, `.. py:data:: hdrs`.
_DOCUMENTED: Final = re.compile(r"^\.\. (?:auto\w+|py:\w+):: (?:airhttp\.)?(\w+)\s*$", re.M)


def _missing_docs_tools() -> list[str]:
    return [
        name for name in ("sphinx", "myst_parser", "furo") if not importlib.util.find_spec(name)
    ]


def test_the_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    missing = _missing_docs_tools()
    if missing:
        pytest.skip(f"the docs extra is not installed ({', '.join(missing)} missing)")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "dummy"]
    result = subprocess.run(
        [*command, str(DOCS), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr or result.stdout


def test_every_public_name_is_in_the_api_reference() -> None:
    documented = set(_DOCUMENTED.findall((DOCS / "api.md").read_text(encoding="utf-8")))
    public = set(airhttp.__all__)
    assert sorted(public - documented) == []
