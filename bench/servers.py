"""Starts and stops the benchmark's servers: nginx for HTTP, bench/server.py for the rest.

bench/server.py serves the WebSocket echo and the upload sink, and every HTTP route when
nginx is missing (the report's notes say so). Only nginx serves TLS: without it (or without
trustme for its certificate), `https_base` stays None and the TLS workloads are skipped.
The servers run as separate processes; nothing here sends a benchmark request.
"""

from __future__ import annotations

import importlib.util
import selectors
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import nginx

SERVER: Final = Path(__file__).resolve().parent / "server.py"
START_TIMEOUT: Final = 30.0


@dataclass
class Servers:
    http_base: str
    python_base: str
    http_pid: int
    python_pid: int
    description: str
    # nginx's TLS server and the CA PEM file its certificate chains to, if it runs.
    https_base: str | None = None
    ca_file: str | None = None
    notes: list[str] = field(default_factory=list)
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        for stop in reversed(self.stoppers):
            stop()


def start_python_server() -> tuple[subprocess.Popen[str], int, str]:
    """bench/server.py on uvloop when it is installed: the cheaper the server, the better."""
    use_uvloop = importlib.util.find_spec("uvloop") is not None
    command = [sys.executable, str(SERVER), "--port", "0"] + (["--uvloop"] if use_uvloop else [])
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT)
    line = server.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        stop_process(server)
        raise RuntimeError(f"bench/server.py did not report its port (got {line!r})")
    return server, int(line), "bench/server.py on " + ("uvloop" if use_uvloop else "asyncio")


def stop_process(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def start_servers(force_python: bool = False) -> Servers:
    python, port, python_label = start_python_server()
    base = f"http://127.0.0.1:{port}"
    servers = Servers(base, base, python.pid, python.pid, python_label)
    servers.stoppers.append(lambda: stop_process(python))
    if force_python:
        servers.notes.append("HTTP served by bench/server.py (--python-server)")
        return servers
    binary = nginx.find_nginx() or nginx.install_nginx()
    if binary is None:
        print(nginx.INSTALL_HINT, file=sys.stderr)
        servers.notes.append("nginx missing, so HTTP was served by bench/server.py")
        return servers
    try:
        http = nginx.start_nginx(binary)
    except (OSError, RuntimeError) as exc:
        print(f"nginx did not start ({exc}); HTTP falls back to bench/server.py", file=sys.stderr)
        servers.notes.append(f"nginx failed to start ({exc}), so HTTP was bench/server.py")
        return servers
    servers.stoppers.append(http.stop)
    servers.http_base = f"http://127.0.0.1:{http.port}"
    servers.http_pid = http.pid
    servers.description = (
        f"nginx {nginx.nginx_version(binary)}; WebSocket and upload: {python_label}"
    )
    if http.tls_port is not None and http.ca_file is not None:
        servers.https_base = f"https://127.0.0.1:{http.tls_port}"
        servers.ca_file = str(http.ca_file)
    return servers
