"""Runs examples/demo.py the way a newcomer would and checks what it prints.

It starts the demo as a separate interpreter; it must not import the demo into the test process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

DEMO: Final = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


@pytest.fixture(scope="module")
def demo_run() -> subprocess.CompletedProcess[str]:
    # -W default shows every warning, ResourceWarning included, so a leak reaches stderr.
    return subprocess.run(
        [sys.executable, "-W", "default", str(DEMO)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_demo_exits_zero_without_stderr_output(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    assert demo_run.stderr == ""


def test_demo_get_shows_status_and_text(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert "GET / -> 200 OK" in demo_run.stdout
    assert "text: 'Hello from the airhttp demo server!'" in demo_run.stdout


def test_demo_post_json_round_trips(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert "POST /echo -> 200 (application/json)" in demo_run.stdout
    expected = "received: {'greeting': 'hello', 'numbers': [1, 2, 3], 'nested': {'ok': True}}"
    assert expected in demo_run.stdout


def test_demo_streams_the_whole_chunked_body(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert "GET /stream -> 200" in demo_run.stdout
    assert "total: 65536 bytes in " in demo_run.stdout


def test_demo_prints_the_response_headers(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert "Transfer-Encoding: chunked" in demo_run.stdout
    assert "Content-Type: application/octet-stream" in demo_run.stdout


def test_demo_reuses_one_keep_alive_connection(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    assert "answered 3 requests over 1 TCP connection " in demo_run.stdout
