"""Coverage-guided fuzz targets for airhttp's parsers (run with `python -m tests.fuzz.run`).

Each `fuzz_<name>.py` module has a plain `one_input(data: bytes) -> None` that raises only
on a real bug (its docstring says what counts as one) and a `main()` that runs it under
atheris. Seed inputs live in `corpus/<name>/`; `tests/test_fuzz_smoke.py` replays them (and
seeded random inputs) without atheris, so the plain test run does not need the extra.

Nothing here imports airhttp at package import time: the fuzzer must instrument airhttp's
code before the first import of it.
"""

from __future__ import annotations

from pathlib import Path

# Target name -> module under tests.fuzz; the order `run.py` runs them in.
TARGETS: dict[str, str] = {
    "http_response": "tests.fuzz.fuzz_http_response",
    "chunked": "tests.fuzz.fuzz_chunked",
    "decompress": "tests.fuzz.fuzz_decompress",
    "websocket": "tests.fuzz.fuzz_websocket",
    "set_cookie": "tests.fuzz.fuzz_set_cookie",
    "header_values": "tests.fuzz.fuzz_header_values",
}

CORPUS_ROOT: Path = Path(__file__).resolve().parent / "corpus"


def corpus_dir(target: str) -> Path:
    """The seed directory of `target`, kept in the repository."""
    return CORPUS_ROOT / target
