"""proxy.py, a real forward proxy, run as a subprocess for the proxy and WebSocket tests.

Test scaffolding only: it listens on loopback, and its whole process group is ended
when the test is done with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from yarl import URL


@contextlib.contextmanager
def proxy_py(workdir: Path, *options: str) -> Iterator[URL]:
    """Run proxy.py on a free loopback port; its whole process group is ended afterwards."""
    workdir.mkdir()
    port_file = workdir / "port"
    command = [
        sys.executable,
        "-m",
        "proxy",
        "--hostname",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--num-workers",
        "1",
        "--num-acceptors",
        "1",
        "--data-dir",
        str(workdir),
        "--log-level",
        "WARNING",
        *options,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        port = 0
        while not port:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("proxy.py did not start")
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = int(text) if text else 0
            if not port:
                time.sleep(0.02)
        scheme = "https" if "--cert-file" in options else "http"
        yield URL.build(scheme=scheme, host="127.0.0.1", port=port)
    finally:
        # A new session makes proxy.py's acceptor processes one group with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
