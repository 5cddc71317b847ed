"""nginx as the benchmark's HTTP server: find or install it, write its config, run it.

It runs as one process with every path under a temp dir (no daemon, no master); it must
never touch the system's own nginx configuration or service.

No upload route: nginx either answers a POST before its body is in (`return`) or, proxied
with request buffering, reads it into a fresh buffer at 3.6x the CPU per MB of
bench/server.py's counting sink, which slowed every client; uploads go to bench/server.py.

A second server block of the same process serves /small and /download over TLS, offering
HTTP/2 by ALPN, with a certificate trustme makes at start (its CA goes to the clients).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from payloads import (
    DOWNLOAD_SIZE,
    MIB,
    SMALL_BODY,
    download_block,
    extra_headers,
    gzip_body,
    gzip_source,
    json_body,
)

SEARCH_PATHS: Final = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
INSTALL_HINT: Final = (
    "nginx is not installed. Install it with your package manager, e.g. "
    "`sudo apt-get install nginx`, `sudo dnf install nginx` or `brew install nginx`, "
    "then run the benchmark again; until then the HTTP workloads use bench/server.py."
)
START_TIMEOUT: Final = 10.0
# nginx 1.25.1 replaced `listen ... http2` with the `http2` directive.
HTTP2_DIRECTIVE_SINCE: Final = (1, 25, 1)
# DATA frames nginx slices a body into, at most (its default: 8k); it also caps them at the
# client's SETTINGS_MAX_FRAME_SIZE (16 KiB unless the client asks for more; airhttp asks
# for 256 KiB). Per frame a pure-Python h2 client pays a lot: on tls-download airhttp-h2
# spent about 9 ms/MB with 8k, 6 with 16k, 4.7 with 64k, 4.2 (within noise) with 256k.
HTTP2_CHUNK_SIZE: Final = "64k"
# Debian's build keeps temp files under /var/lib/nginx; every one is moved into our dir.
TEMP_PATHS: Final = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in SEARCH_PATHS if os.access(path, os.X_OK)), None)


def install_nginx() -> str | None:
    """apt-get install nginx when running as root on a system with apt; None otherwise.

    Progress goes to stderr as it happens: on a fresh machine this takes a while.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "nginx"]
    # A fresh machine may have no package lists yet: update once, only if the first try fails.
    for attempt in ([install], [["apt-get", "update", "-q"], install]):
        print("installing nginx: " + " && ".join(" ".join(s) for s in attempt), file=sys.stderr)
        for step in attempt:
            done = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"`{' '.join(step)}` failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
                break
        else:
            return find_nginx()
    return None


def nginx_version(binary: str) -> str:
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    # `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
    return done.stderr.strip().rpartition("/")[2] or "?"


def version_tuple(version: str) -> tuple[int, ...]:
    parts = version.split(".")
    return tuple(int(part) for part in parts) if all(p.isdigit() for p in parts) else ()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def quoted(text: str) -> str:
    """An nginx string literal; the bodies we put in the config have no quote of this kind."""
    if "'" in text or "$" in text or "\\" in text:
        raise ValueError(f"cannot quote {text[:40]!r} for nginx")
    return f"'{text}'"


def write_files(root: Path) -> None:
    www = root / "www"
    www.mkdir()
    (root / "logs").mkdir()
    for name in TEMP_PATHS:
        (root / "tmp" / name).mkdir(parents=True)
    block = download_block()
    with open(www / "download.bin", "wb") as out:
        for _ in range(DOWNLOAD_SIZE // MIB):
            out.write(block)
    (www / "gzip.txt").write_bytes(gzip_source())
    (www / "gzip.txt.gz").write_bytes(gzip_body())


def write_certificate(root: Path) -> Path | None:
    """A CA and a 127.0.0.1 certificate for the TLS server; the CA's PEM path, or None.

    None (and a message) when trustme, which the `bench` extra installs, is missing.
    """
    try:
        import trustme
    except ImportError:
        print("trustme is not installed, so the TLS workloads are skipped", file=sys.stderr)
        return None
    tls = root / "tls"
    tls.mkdir()
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    issued.private_key_and_cert_chain_pem.write_to_path(str(tls / "server.pem"))
    authority.cert_pem.write_to_path(str(tls / "ca.pem"))
    return tls / "ca.pem"


def small_location() -> str:
    return f"""        location = /small {{
            default_type text/plain;
            add_header Cache-Control no-cache;
            return 200 {quoted(SMALL_BODY.decode())};
        }}"""


def tls_server(root: Path, port: int, http2_directive: bool) -> str:
    """The https:// server block: /small and /download, h2 or http/1.1 by ALPN."""
    listen = f"listen 127.0.0.1:{port} ssl backlog=1024;\n        http2 on;"
    if not http2_directive:
        listen = f"listen 127.0.0.1:{port} ssl http2 backlog=1024;"
    return f"""
    server {{
        {listen}
        ssl_certificate {root}/tls/server.pem;
        ssl_certificate_key {root}/tls/server.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_concurrent_streams 128;
        http2_chunk_size {HTTP2_CHUNK_SIZE};
        root {root}/www;
{small_location()}
        location = /download {{
            try_files /download.bin =404;
        }}
    }}"""


def config_text(root: Path, port: int, tls: str = "") -> str:
    """The whole configuration; `tls` is tls_server()'s block, or empty for none."""
    headers30 = "\n".join(f"            add_header {k} {v};" for k, v in extra_headers())
    temp_paths = "\n".join(f"    {name}_temp_path {root}/tmp/{name};" for name in TEMP_PATHS)
    return f"""
worker_processes 1;
master_process off;
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp_paths}
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    sendfile on;
    tcp_nodelay on;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        root {root}/www;
{small_location()}
        location = /headers30 {{
            default_type text/plain;
{headers30}
            return 200 {quoted(SMALL_BODY.decode())};
        }}
        # POST is refused by nginx's static handler, so the document is the config's literal.
        location = /json {{
            default_type application/json;
            return 200 {quoted(json_body().decode())};
        }}
        location = /download {{
            try_files /download.bin =404;
        }}
        # Precompressed (gzip_static): compressing 1 MiB per request on the fly kept nginx
        # at 94% of a core, the bottleneck. SSI, which finds nothing to include, drops the
        # length, so the reply still goes out chunked as an on-the-fly one would.
        location = /gzip {{
            default_type text/plain;
            gzip_static on;
            ssi on;
            ssi_types text/plain;
            chunked_transfer_encoding on;
            try_files /gzip.txt =404;
        }}
    }}{tls}
}}
"""


@dataclass
class NginxServer:
    process: subprocess.Popen[bytes]
    root: Path
    port: int
    # The TLS server's port and the CA its certificate chains to, when it runs.
    tls_port: int | None = None
    ca_file: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited at start: {log.read_text(errors='replace')[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening in time")


def start_nginx(binary: str) -> NginxServer:
    root = Path(tempfile.mkdtemp(prefix="airhttp-bench-nginx-"))
    try:
        write_files(root)
        port = free_port()
        ca_file = write_certificate(root)
        tls_port = free_port() if ca_file is not None else None
        tls = ""
        if tls_port is not None:
            directive = version_tuple(nginx_version(binary)) >= HTTP2_DIRECTIVE_SINCE
            tls = tls_server(root, tls_port, directive)
        (root / "nginx.conf").write_text(config_text(root, port, tls), encoding="utf-8")
        command = [binary, "-p", str(root), "-c", "nginx.conf", "-e", "logs/error.log"]
        command += ["-g", "daemon off;"]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = NginxServer(process, root, port, tls_port, ca_file)
    try:
        for listening in (port, tls_port):
            if listening is not None:
                wait_listening(listening, process, root / "logs" / "error.log")
    except BaseException:
        server.stop()
        raise
    return server
