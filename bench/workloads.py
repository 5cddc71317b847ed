"""What the benchmark measures: the workloads, their counts and the targets of issues 12, 14.

Plain definitions shared by bench/run.py (which orchestrates) and bench/client.py (which
measures); importing it must stay cheap and import no client library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from payloads import DOWNLOAD_SIZE, GZIP_SOURCE_SIZE, UPLOAD_SIZE

MODES: Final = ("airhttp", "airhttp-h2", "aiohttp", "aiohttp-py", "httpx", "floor")
# The clients airhttp is compared with, in report order.
OTHERS: Final = ("aiohttp", "aiohttp-py", "httpx", "floor")
# Modes that speak HTTP/2 and so run only the TLS workloads (nginx offers h2 on TLS only).
HTTP2_MODES: Final = ("airhttp-h2",)
LABELS: Final = {
    "airhttp": "airhttp",
    "airhttp-h2": "airhttp-h2",
    "aiohttp": "aiohttp (C)",
    "aiohttp-py": "aiohttp-py",
    "httpx": "httpx",
    "floor": "floor",
}
MICRO: Final = "micro"


@dataclass(frozen=True)
class Workload:
    name: str
    path: str
    description: str
    default_n: int
    quick_n: int
    # Untimed operations first, so imports, pools and caches are warm when timing starts.
    warmup: int
    quick_warmup: int
    # Bytes one operation moves, for MB/s; 0 means the workload is counted in requests.
    unit_bytes: int = 0
    concurrency: int = 1
    # "nginx" when it is there (else bench/server.py); "python": always bench/server.py.
    server: Literal["nginx", "python"] = "nginx"
    websocket: bool = False
    # Over https:// (nginx only): named "tls-" + the plain workload it repeats.
    tls: bool = False
    # The target (issue 12 or 14) for `subject` / `target_vs`, median of paired ratios.
    target: float | None = None
    target_vs: str = "aiohttp"
    subject: str = "airhttp"
    # Whether the bare-asyncio floor client runs it (prebuilt requests, minimal parsing).
    floor: bool = False

    @property
    def per_second(self) -> str:
        return "MB/s" if self.unit_bytes else "req/s"

    @property
    def kind(self) -> str:
        """The plain workload whose operation this one repeats: tls-c64 does c64's."""
        return self.name.removeprefix("tls-")

    def runs(self, mode: str) -> bool:
        if mode == "floor":
            return self.floor
        if mode in HTTP2_MODES:
            return self.tls
        return not (mode == "httpx" and self.websocket)


WORKLOADS: Final = {
    w.name: w
    for w in (
        Workload(
            "seq", "/small", "sequential GET of a 13-byte body, one keep-alive connection",
            4000, 1200, 300, 100, target=2.0, floor=True,
        ),
        Workload(
            "c64", "/small", "64 tasks sharing one session, GET of a 13-byte body",
            10000, 3000, 640, 320, concurrency=64, target=2.5,
        ),
        Workload(
            "headers30", "/headers30", "sequential GET, a response with 30 header fields",
            4000, 1200, 300, 100, target=2.0,
        ),
        Workload(
            "download", "/download", "64 MiB streamed with iter_chunked(65536), body discarded",
            16, 5, 2, 1, unit_bytes=DOWNLOAD_SIZE, target=0.8, target_vs="floor", floor=True,
        ),
        Workload(
            "gzip", "/gzip", "1 MiB of text, gzip and chunked, read whole with read()",
            250, 80, 20, 10, unit_bytes=GZIP_SOURCE_SIZE, target=1.2,
        ),
        Workload(
            "upload", "/upload", "POST of 32 MiB of bytes in memory, small reply",
            20, 6, 2, 1, unit_bytes=UPLOAD_SIZE, server="python", target=1.5,
        ),
        Workload(
            "ws", "/ws", "WebSocket: send_str + receive of a 13-byte text, one socket",
            8000, 2400, 400, 200, server="python", websocket=True, target=1.3,
        ),
        Workload(
            "cold", "/small", "new ClientSession, one GET, close: set-up cost",
            600, 200, 40, 20, target=1.5,
        ),
        Workload(
            "json", "/json", "POST json= of a 0.9 KB document, reply read with json()",
            3000, 1000, 200, 100,
        ),
        # Issue 14: HTTP/2 against HTTP/1.1 pools, every client over the same TLS server.
        Workload(
            "tls-c64", "/small", "c64 over TLS; airhttp-h2: 64 streams of one HTTP/2 connection",
            10000, 3000, 640, 320, concurrency=64, tls=True, target=1.0,
            subject="airhttp-h2",
        ),
        Workload(
            "tls-download", "/download", "download over TLS; airhttp-h2: one HTTP/2 stream",
            16, 5, 2, 1, unit_bytes=DOWNLOAD_SIZE, tls=True, target=0.8, target_vs="airhttp",
            subject="airhttp-h2",
        ),
    )
}  # fmt: skip
DEFAULT_WORKLOADS: Final = (*WORKLOADS, MICRO)
# Issue 12: client CPU per small request at most this share of aiohttp's (C).
CPU_TARGET: Final = 0.5
