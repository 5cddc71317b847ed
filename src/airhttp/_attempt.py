"""One attempt of a request over one lent connection.

Lend a connection, write the request, wait for the head, send it once more when the
server drops the connection before answering (the stale keep-alive race). Redirects,
auth and sessions are the caller's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from . import hdrs
from ._upload_tracker import start_attempt
from ._wait_within import wait_within
from .client_exceptions import (
    ClientError,
    ClientOSError,
    ConnectionTimeoutError,
    ServerDisconnectedError,
)

if TYPE_CHECKING:
    from ._client_request import ClientRequest
    from ._client_response import ClientResponse
    from ._interfaces import TraceHooks
    from ._pool import BaseConnector, Connection
    from ._request_timer import RequestTimer
    from ._settings import RequestSettings
    from ._timeouts import ClientTimeout
    from .abc import AbstractCookieJar

__all__ = ("send_attempt",)

# RFC 9110 9.2.2: these may be retried after a failure without changing meaning.
_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


async def send_attempt(
    req: ClientRequest,
    connector: BaseConnector,
    traces: Sequence[TraceHooks],
    settings: RequestSettings,
    timer: RequestTimer | None,
    *,
    cookie_jar: AbstractCookieJar,
    retry: bool,
) -> ClientResponse:
    """Lend a connection, write the request, wait for the head; once more if dropped."""
    retry = retry and req.method in _IDEMPOTENT_METHODS
    tracker = req.upload_tracker
    # An upgrade (WebSocket) needs a connection of its own, never an HTTP/2 stream.
    streams = not req.is_upgrade
    while True:
        if tracker is not None:
            start_attempt(tracker)
        conn = connector.take_idle(req.connection_key, streams)
        if conn is None:
            conn = await _connect_new(req, connector, traces, settings.timeout)
        elif traces:
            await connector.trace_reuse(conn, traces)
        protocol = conn.protocol
        assert protocol is not None
        if timer is not None:
            timer.attach(conn)
        # Armed before the request is written: the answer may arrive with the last byte.
        protocol.expect_response(req.method, settings, req.next_continue_waiter())
        try:
            resp = await req.send(conn)
            try:
                await resp.start(conn)
            except BaseException:
                resp.close()
                raise
        except (ServerDisconnectedError, ClientOSError) as exc:
            protocol.abandon_response()
            conn.close()
            if timer is not None and timer.fired:
                raise asyncio.TimeoutError() from exc
            # Mostly a pooled connection the server closed just as we reused it (the
            # request never reached it); as aiohttp does, an idempotent request is sent
            # again once, whether the connection was pooled or new, if its body can be.
            if retry and not req.body_spent:
                retry = False
                continue
            raise
        except BaseException:
            # E.g. a header refused as an injection: the head is never waited for.
            protocol.abandon_response()
            conn.close()
            raise
        set_cookies = resp.headers.getall(hdrs.SET_COOKIE, ())
        if set_cookies:
            cookie_jar.update_cookies_from_headers(set_cookies, resp.url)
        return resp


async def _connect_new(
    req: ClientRequest,
    connector: BaseConnector,
    traces: Sequence[TraceHooks],
    timeout: ClientTimeout,
) -> Connection:
    """A connection for `req` when no idle one was free, within the connect timeout.

    Through the public `connect()`, as aiohttp does: a connector subclass that overrides
    it still sees every new connection (the second look for an idle one is cheap).
    """
    try:
        if not timeout.connect:  # None or 0: no limit, as aiohttp reads it
            return await connector.connect(req, traces, timeout)
        return await wait_within(connector.connect(req, traces, timeout), timeout.connect)
    except asyncio.TimeoutError as exc:
        if isinstance(exc, ClientError):
            raise
        raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc
