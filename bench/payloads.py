"""The bodies the benchmark servers send and the clients check, built the same way everywhere.

Pure data: every function is deterministic, so nginx's files, the Python server and the
clients' checks agree without passing files around. No I/O here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from functools import cache
from typing import Final

SMALL_BODY: Final = b"Hello, World!"
HEADERS30_COUNT: Final = 30
MIB: Final = 1024 * 1024
DOWNLOAD_SIZE: Final = 64 * MIB
UPLOAD_SIZE: Final = 32 * MIB
GZIP_SOURCE_SIZE: Final = MIB
UPLOAD_REPLY: Final = b"ok"
# Enough fields to resemble an API reply; its encoding is about 1 KiB.
JSON_DOCUMENT: Final = {
    "id": 12345,
    "name": "airhttp benchmark",
    "active": True,
    "score": 98.25,
    "tags": ["http", "asyncio", "client", "benchmark", "pure-python"],
    "owner": {
        "login": "bench",
        "id": 1,
        "site_admin": False,
        "url": "http://127.0.0.1/users/bench",
    },
    "items": [
        {"sku": f"item-{i:03d}", "price": i * 1.5, "qty": i % 7, "ok": i % 2 == 0}
        for i in range(10)
    ],
    "description": "A fixed document used to measure JSON response handling. " * 2,
}


def json_body() -> bytes:
    return json.dumps(JSON_DOCUMENT, separators=(",", ":")).encode()


def extra_headers() -> list[tuple[str, str]]:
    """The fields /headers30 adds to what its server sends anyway, 30 fields in all."""
    # nginx sends Server, Date, Content-Type, Content-Length and Connection itself.
    return [
        (f"X-Bench-Header-{i:02d}", f"value-{i:02d}-abcdefghijklmnop")
        for i in range(HEADERS30_COUNT - 5)
    ]


@cache
def gzip_source() -> bytes:
    """1 MiB of log-like text: compressible as real text is (about 4:1), not a run of one byte."""
    rng = random.Random(12)
    words = ["GET", "POST", "/api/v1/items", "/login", "200", "404", "ok", "user", "session"]
    lines: list[bytes] = []
    size = 0
    while size < GZIP_SOURCE_SIZE:
        line = (
            f"2026-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
            f" {rng.choice(words)} {rng.choice(words)} id={rng.randint(0, 10**9)}"
            f" ms={rng.random() * 100:.3f} {' '.join(rng.choices(words, k=4))}\n"
        ).encode()
        lines.append(line)
        size += len(line)
    return b"".join(lines)[:GZIP_SOURCE_SIZE]


@cache
def gzip_body() -> bytes:
    """gzip_source() compressed once, as nginx's gzip_static serves it (level 6, no mtime)."""
    return gzip.compress(gzip_source(), compresslevel=6, mtime=0)


def download_block() -> bytes:
    """One MiB that repeats to make the download: not all zeros, so nothing can cheat on it."""
    return random.Random(64).randbytes(MIB)


@cache
def download_digest() -> str:
    digest = hashlib.blake2b()
    block = download_block()
    for _ in range(DOWNLOAD_SIZE // MIB):
        digest.update(block)
    return digest.hexdigest()


def upload_body() -> bytes:
    return b"u" * UPLOAD_SIZE
