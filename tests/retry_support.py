"""Helpers for the RetryMiddleware tests: a middleware that records its waits, and an
aiohttp.web app answering each path with scripted replies.

Test scaffolding only: the app listens on loopback through the `web_server` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

from airhttp import RetryMiddleware

from .conftest import WebServer

__all__ = ("RecordingRetry", "Reply", "ScriptedApp", "Seen", "no_jitter", "serve")


class RecordingRetry(RetryMiddleware):
    """Records each wait instead of sleeping, and may run a step before the next try."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delays: list[float] = []
        self.before_next: Callable[[], Any] | None = None

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        if self.before_next is not None:
            result = self.before_next()
            if asyncio.iscoroutine(result):
                await result


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


@dataclass
class Seen:
    method: str
    path: str
    body: bytes
    peer: Any
    authorization: str | None


class ScriptedApp:
    """An aiohttp.web app answering each path with its scripted replies in turn.

    The last reply of a script repeats; paths without a script answer 200.
    """

    def __init__(self, **scripts: list[Reply]) -> None:
        self.scripts = {f"/{name}": list(replies) for name, replies in scripts.items()}
        self.seen: list[Seen] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    def hits(self, path: str) -> int:
        return sum(1 for seen in self.seen if seen.path == path)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.seen.append(
            Seen(request.method, request.path, body, peer, request.headers.get("Authorization"))
        )
        script = self.scripts.get(request.path)
        if not script:
            return web.Response(body=b"ok")
        reply = script.pop(0) if len(script) > 1 else script[0]
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)


async def serve(web_server: WebServer, **scripts: list[Reply]) -> tuple[ScriptedApp, URL]:
    scripted = ScriptedApp(**scripts)
    return scripted, await web_server.start(scripted.app)


def no_jitter(**kwargs: Any) -> RecordingRetry:
    return RecordingRetry(jitter=False, **kwargs)
