"""One attempt of a request over one lent connection.

Lend a connection, write the request, wait for the head, retry once when a pooled
connection turns out stale. Redirects, auth and sessions are the caller's business.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from . import hdrs
from .client_exceptions import (
    ClientError,
    ClientOSError,
    ConnectionTimeoutError,
    ServerDisconnectedError,
)

if TYPE_CHECKING:
    from ._client_request import ClientRequest
    from ._client_response import ClientResponse
    from ._pool import BaseConnector, Connection
    from ._timeouts import ClientTimeout, RequestTimer
    from .abc import AbstractCookieJar
    from .tracing import Trace

__all__ = ("connect", "send_attempt")

# RFC 9110 9.2.2: these may be retried after a failure without changing meaning.
_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


async def send_attempt(
    req: ClientRequest,
    connector: BaseConnector,
    traces: list[Trace],
    timeout: ClientTimeout,
    timer: RequestTimer | None,
    *,
    cookie_jar: AbstractCookieJar,
    retry: bool,
    read_until_eof: bool,
    read_bufsize: int,
    auto_decompress: bool,
    max_line_size: int,
    max_field_size: int,
    max_headers: int,
) -> ClientResponse:
    """Lend a connection, write the request, wait for the head; retry once if stale."""
    attempt_retry = retry and req.method in _IDEMPOTENT_METHODS
    while True:
        conn = connector._get_pooled(req.connection_key)
        reused = conn is not None
        if conn is None:
            conn = await connect(req, connector, traces, timeout)
        elif traces:
            await connector._trace_reuse(conn, traces)
        protocol = conn.protocol
        assert protocol is not None
        if timer is not None:
            timer.attach(conn)
        continue_waiter = req._continue
        if continue_waiter is not None and continue_waiter.done():
            # Sent before (a retry or a middleware resending): each exchange waits for
            # its own 100 Continue.
            continue_waiter = req._continue = req.loop.create_future()
        protocol.expect_response(
            req.method,
            read_until_eof=read_until_eof,
            read_bufsize=read_bufsize,
            auto_decompress=auto_decompress,
            sock_read=timeout.sock_read,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
            continue_waiter=continue_waiter,
        )
        try:
            resp = await req.send(conn)
            try:
                await resp.start(conn)
            except BaseException:
                resp.close()
                raise
        except (ServerDisconnectedError, ClientOSError) as exc:
            conn.close()
            if timer is not None and timer.fired:
                raise asyncio.TimeoutError() from exc
            # A pooled connection the server closed just as we reused it: the
            # request never reached it, so an idempotent one is sent again once.
            if reused and attempt_retry:
                attempt_retry = False
                continue
            raise
        except BaseException:
            conn.close()
            raise
        set_cookies = resp.headers.getall(hdrs.SET_COOKIE, ())
        if set_cookies:
            cookie_jar.update_cookies_from_headers(set_cookies, resp.url)
        return resp


async def connect(
    req: ClientRequest,
    connector: BaseConnector,
    traces: list[Trace],
    timeout: ClientTimeout,
) -> Connection:
    try:
        if not timeout.connect:  # None or 0: no limit, as aiohttp reads it
            return await connector.connect(req, traces=traces, timeout=timeout)
        return await asyncio.wait_for(
            connector.connect(req, traces=traces, timeout=timeout), timeout.connect
        )
    except asyncio.TimeoutError as exc:
        if isinstance(exc, ClientError):
            raise
        raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc
