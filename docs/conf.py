"""Sphinx configuration of airhttp's documentation site (`make docs`).

The pages are the Markdown files beside this one (MyST); the API reference is built from
the package's docstrings by autodoc. Nothing here may reach the network: the build runs
offline (in CI too), so there is no intersphinx.
"""

from __future__ import annotations

import builtins
import inspect
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
# The checkout's own sources, so the reference never documents some other installed copy.
sys.path.insert(0, str(DOCS.parent / "src"))

from airhttp._version import __version__  # noqa: E402

project = "airhttp"
author = "airhttp developers"
copyright = "airhttp developers"
version = release = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc"]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: tables and fenced code are CommonMark/GFM already; `#anchor` links to headings need
# the slugs, and `{eval-rst}` blocks (api.md) need nothing more.
myst_heading_anchors = 3

# Docstrings are plain prose with Markdown-style `backticks` for code. In reST one pair of
# backticks is "interpreted text" with the default role: make that inline code, as on GitHub.
default_role = "code"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Show defaults as written (`_SENTINEL`, `json.dumps`), not as `<object object at 0x..>`.
autodoc_preserve_defaults = True
# Long signatures (ClientSession has 30 parameters) go one parameter per line.
python_maximum_signature_line_length = 88

html_theme = "furo"
html_title = f"airhttp {release}"
html_static_path: list[str] = []

_BUILTIN_NAMES = frozenset(dir(builtins))


def _unlink_builtins(app: Sphinx, doctree: nodes.document) -> None:
    """Turn references to builtins (`int`, `type`, `bytes`) in signatures into plain text.

    Without intersphinx they can never resolve to Python's docs; worse, the Python domain
    then matches them by suffix against our own attributes (`type` -> `WSMessage.type`).
    """
    for ref in list(doctree.findall(pending_xref)):
        if ref.get("refdomain") == "py" and ref.get("reftarget") in _BUILTIN_NAMES:
            ref.replace_self(ref.children)


def _drop_inherited_value_docs(
    app: Sphinx, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """A constant (`frozenset`, `tuple`, `str`) has no docstring of its own: autodoc would
    show its type's (`Built-in immutable sequence...`). The page's own text is kept."""
    if what in ("data", "attribute") and not callable(obj):
        inherited = inspect.getdoc(type(obj))
        if inherited and "\n".join(lines).strip() == inspect.cleandoc(inherited).strip():
            lines.clear()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", _unlink_builtins)
    app.connect("autodoc-process-docstring", _drop_inherited_value_docs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
