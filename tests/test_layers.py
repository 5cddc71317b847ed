"""The import layers of docs/architecture.md, checked by import-linter in the test run too.

`make lint` runs the same contract; running it here puts it in CI (`make test`), and the
second test shows that a type-only upward import really breaks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(package_parent: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(package_parent))
    # A private cache directory: a stale shared cache must not hide a new import.
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_import_points_down_the_layers(tmp_path: Path) -> None:
    result = _lint_imports(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_type_only_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "airhttp", copy / "airhttp")
    module = copy / "airhttp" / "_client_response.py"
    text = module.read_text()
    anchor = "if TYPE_CHECKING:\n"
    assert anchor in text
    module.write_text(text.replace(anchor, anchor + "    from .client import ClientSession\n", 1))
    result = _lint_imports(copy, tmp_path)
    assert result.returncode != 0
    assert "airhttp._client_response is not allowed to import airhttp.client" in result.stdout
