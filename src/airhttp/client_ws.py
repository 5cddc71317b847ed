"""The client side of an open WebSocket: receiving, sending, pings and the close.

`ClientSession.ws_connect` makes the upgrade request; `upgrade()` here checks the
answer (`_ws_handshake`) and turns the connection into a `ClientWebSocketResponse`.
Frames are parsed by the sans-IO `_ws_frames.WebSocketReader` as bytes arrive and
written by `_ws_writer.WebSocketWriter`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableSet, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from . import hdrs
from ._client_response import ClientResponse
from ._ws_deflate import PerMessageDeflate
from ._ws_frames import MAX_CONTROL_PAYLOAD, WebSocketReader, close_payload
from ._ws_handshake import check_response
from ._ws_writer import WebSocketWriter
from .client_exceptions import (
    ClientConnectionResetError,
    ClientError,
    ServerTimeoutError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from .client_proto import ResponseHandler
from .helpers import calculate_timeout_when, set_result
from .http_websocket import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSHandshakeError,
    WSMessage,
    WSMessageDecodeText,
    WSMessageNoDecodeText,
    WSMsgType,
)
from .streams import EofStream
from .typedefs import (
    DEFAULT_JSON_DECODER,
    DEFAULT_JSON_ENCODER,
    JSONBytesEncoder,
    JSONDecoder,
    JSONEncoder,
)

if sys.version_info >= (3, 11):
    from typing import Self
elif TYPE_CHECKING:
    from typing_extensions import Self

__all__ = (
    "DEFAULT_JSON_DECODER",
    "DEFAULT_JSON_ENCODER",
    "DEFAULT_WS_CLIENT_TIMEOUT",
    "ClientError",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "JSONBytesEncoder",
    "JSONDecoder",
    "JSONEncoder",
    "WSMessageDecodeText",
    "WSMessageNoDecodeText",
    "calculate_timeout_when",
    "set_result",
    "shutdown_all",
    "upgrade",
    "ws_timeout_from",
)

# Received messages waiting for receive() beyond this many bytes pause the socket.
_QUEUE_HIGH_WATER: Final = 2**16

_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY
_PING: Final = WSMsgType.PING
_PONG: Final = WSMsgType.PONG
_CLOSE: Final = WSMsgType.CLOSE
_CLOSING: Final = WSMsgType.CLOSING
_ERROR: Final = WSMsgType.ERROR


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClientWSTimeout:
    """Timeouts for receiving one message and for the closing handshake (seconds)."""

    ws_receive: float | None = None
    ws_close: float | None = None


DEFAULT_WS_CLIENT_TIMEOUT: Final = ClientWSTimeout(ws_receive=None, ws_close=10.0)


class _Sink:
    """What the connection hands its bytes to after the 101 (kept apart: no public names)."""

    __slots__ = ("connection_lost", "feed_data")

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.feed_data = ws._feed_data
        self.connection_lost = ws._connection_lost


class ClientWebSocketResponse:
    """An open client WebSocket; `ClientSession.ws_connect` returns it."""

    def __init__(
        self,
        reader: WebSocketReader,
        writer: WebSocketWriter,
        protocol: str | None,
        response: ClientResponse,
        timeout: ClientWSTimeout,
        autoclose: bool,
        autoping: bool,
        loop: asyncio.AbstractEventLoop,
        *,
        heartbeat: float | None = None,
        compress: int = 0,
        client_notakeover: bool = False,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._protocol = protocol
        self._response = response
        self._timeout = timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._loop = loop
        self._heartbeat = heartbeat
        self._compress = compress
        self._client_notakeover = client_notakeover
        connection = response.connection
        assert connection is not None and connection.protocol is not None
        self._conn: ResponseHandler = connection.protocol
        self._messages: deque[WSMessage] = deque()
        self._queued = 0
        self._waiter: asyncio.Future[None] | None = None
        # Set once nothing more will arrive: the reader's error, or the lost connection.
        self._ended = False
        self._end_error: BaseException | None = None
        self._closed = False
        self._closing = False
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._waiting = False
        self._close_wait: asyncio.Future[None] | None = None
        self._last_rx = loop.time()
        self._heartbeat_handle: asyncio.TimerHandle | None = None
        self._pong_handle: asyncio.TimerHandle | None = None
        if heartbeat is not None:
            self._heartbeat_handle = loop.call_at(self._last_rx + heartbeat, self._heartbeat_due)
        # Last: bytes that came with the 101 (even a CLOSE) are fed from here on.
        self._conn.attach_sink(_Sink(self))

    # --- what the user reads ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def protocol(self) -> str | None:
        return self._protocol

    @property
    def compress(self) -> int:
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        return self._client_notakeover

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """A value from the transport's extra info (peername, sslcontext, ...)."""
        connection = self._response.connection
        transport = connection.transport if connection is not None else None
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    def exception(self) -> BaseException | None:
        return self._exception

    # --- bytes in: the connection calls these --------------------------------------------

    def _feed_data(self, data: bytes) -> None:
        reader = self._reader
        if self._heartbeat is not None:
            self._last_rx = self._loop.time()
        error: WebSocketError | None = None
        try:
            reader.feed_data(data)
        except WebSocketError as exc:
            error = exc
        message = reader.next_message()
        while message is not None:
            kind = message.type
            if kind is _PING and self._autoping:
                self._answer_ping(message.data)
            elif kind is _PONG and self._autoping:
                self._pong_arrived()
            else:
                if kind is _PONG:
                    self._pong_arrived()
                self._messages.append(message)
                if kind is _TEXT or kind is _BINARY:
                    self._queued += len(message.data)
                elif kind is _CLOSE:
                    # The closing handshake has begun: no more pings from us.
                    self._cancel_heartbeat()
            message = reader.next_message()
        if error is not None:
            self._end(error)
        elif self._queued > _QUEUE_HIGH_WATER:
            self._conn.pause_reading()
        waiter = self._waiter
        if waiter is not None and self._messages:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _connection_lost(self, exc: BaseException | None) -> None:
        self._end(exc)

    def _end(self, exc: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._end_error = exc
        self._cancel_heartbeat()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _answer_ping(self, payload: bytes) -> None:
        try:
            self._writer.write_frame(payload, WSMsgType.PONG)
        except ClientConnectionResetError:
            pass

    # --- heartbeat --------------------------------------------------------------------

    def _heartbeat_due(self) -> None:
        heartbeat = self._heartbeat
        assert heartbeat is not None
        now = self._loop.time()
        due = self._last_rx + heartbeat
        if self._conn.reading_paused:
            # We stopped reading (messages wait for receive()): the peer cannot be judged.
            due = now + heartbeat
        if now < due:
            # Data arrived since the timer was set: the peer is alive, look again later.
            self._heartbeat_handle = self._loop.call_at(due, self._heartbeat_due)
            return
        self._heartbeat_handle = None
        try:
            self._writer.write_frame(b"", WSMsgType.PING)
        except ClientConnectionResetError:
            return
        self._pong_handle = self._loop.call_at(now + heartbeat / 2, self._pong_missing)

    def _pong_arrived(self) -> None:
        handle = self._pong_handle
        if handle is not None:
            handle.cancel()
            self._pong_handle = None
            heartbeat = self._heartbeat
            assert heartbeat is not None
            self._heartbeat_handle = self._loop.call_at(
                self._loop.time() + heartbeat, self._heartbeat_due
            )

    def _pong_missing(self) -> None:
        self._pong_handle = None
        heartbeat = self._heartbeat
        assert heartbeat is not None
        if self._conn.reading_paused or self._loop.time() - self._last_rx < heartbeat / 2:
            # No PONG, but other data came in after the PING (or we stopped reading and
            # the PONG may be waiting unread): the peer is alive.
            self._heartbeat_handle = self._loop.call_at(
                self._last_rx + heartbeat, self._heartbeat_due
            )
            return
        exc = ServerTimeoutError(f"No PONG received after {heartbeat / 2} seconds")
        self._exception = exc
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._ended = True
        self._end_error = exc
        if self._waiting:
            # As aiohttp: a waiting receive() gets the error, a later one just CLOSED.
            self._messages.append(WSMessage(WSMsgType.ERROR, exc, None))
        else:
            self._closed = True
        self._response.close()
        self._wake()

    def _cancel_heartbeat(self) -> None:
        for handle in (self._heartbeat_handle, self._pong_handle):
            if handle is not None:
                handle.cancel()
        self._heartbeat_handle = self._pong_handle = None

    # --- sending ----------------------------------------------------------------------

    async def ping(self, message: bytes | str = b"") -> None:
        await self._writer.send_frame(_as_bytes(message), WSMsgType.PING)

    async def pong(self, message: bytes | str = b"") -> None:
        await self._writer.send_frame(_as_bytes(message), WSMsgType.PONG)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType | int, compress: int | None = None
    ) -> None:
        await self._writer.send_frame(message, opcode, compress)

    async def send_str(self, data: str, compress: int | None = None) -> None:
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        self._writer.write_frame(data.encode("utf-8"), _TEXT, compress)
        if self._conn.writing_paused:
            await self._writer.drain()

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        self._writer.write_frame(bytes(data), _BINARY, compress)
        if self._conn.writing_paused:
            await self._writer.drain()

    async def send_json(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], str] = json.dumps,
    ) -> None:
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], bytes],
    ) -> None:
        await self.send_frame(dumps(data), WSMsgType.BINARY, compress=compress)

    # --- closing ----------------------------------------------------------------------

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes | str = b"") -> bool:
        """Send a CLOSE frame and wait (up to ws_close) for the server's; True if this closed."""
        # Checked before anything changes: a bad code or reason leaves the socket as it was.
        payload = close_payload(code) + _as_bytes(message)
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError("Close reason cannot be longer than 123 bytes")
        if self._closed:
            return False
        self._closed = True
        self._cancel_heartbeat()
        try:
            if self._waiting:
                # A receive() in another task returns CLOSING; this call reads the answer.
                wait = self._close_wait = self._loop.create_future()
                self._wake()
                await wait
            # Written without waiting for the buffer to drain: a peer that stopped
            # reading must not hold close() past its ws_close deadline.
            self._writer.write_frame(payload, WSMsgType.CLOSE)
        except ClientConnectionResetError as exc:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._exception = exc
            self._response.close()
            return True
        except asyncio.CancelledError:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._abort()
            raise
        if self._closing or self._ended:
            # The server's CLOSE already came, or nothing more can: no answer to wait for.
            self._response.close()
            return True
        if await self._await_peer_close():
            self._response.close()
        else:
            self._abort()
        return True

    def _abort(self) -> None:
        """Drop the connection now, unsent bytes and all (a peer that does not read)."""
        self._conn.abort()
        self._response.close()

    def _shutdown(self) -> None:
        """The session is closing: say goodbye (1001) without waiting for the answer."""
        if self._closed:
            return
        self._closed = True
        self._close_code = WSCloseCode.GOING_AWAY
        self._cancel_heartbeat()
        try:
            self._writer.write_frame(close_payload(WSCloseCode.GOING_AWAY), WSMsgType.CLOSE)
        except ClientConnectionResetError:
            pass
        self._response.close()
        self._end(None)

    async def _await_peer_close(self) -> bool:
        """Read until the server's CLOSE; False if the wait ended without it."""
        timeout = self._timeout.ws_close
        deadline = None if timeout is None else self._loop.time() + timeout
        while True:
            try:
                message = await self._next_message(deadline)
            except asyncio.TimeoutError as exc:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._exception = exc
                return False
            except asyncio.CancelledError:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._abort()
                raise
            if message is None:
                # The peer hung up (or broke the protocol) instead of answering.
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                error = self._end_error
                self._exception = error if isinstance(error, WebSocketError) else EofStream()
                return True
            if message.type is _CLOSE:
                self._close_code = message.data
                return True

    async def _next_message(self, deadline: float | None) -> WSMessage | None:
        """The next queued message, waiting until `deadline`; None once nothing will come."""
        while True:
            messages = self._messages
            if messages:
                message = messages.popleft()
                kind = message.type
                if kind is _TEXT or kind is _BINARY:
                    self._queued -= len(message.data)
                    if self._queued <= _QUEUE_HIGH_WATER and self._conn.reading_paused:
                        self._conn.resume_reading()
                return message
            if self._ended:
                return None
            waiter = self._waiter = self._loop.create_future()
            if deadline is None:
                await waiter
                continue
            handle = self._loop.call_at(deadline, _expire, waiter)
            try:
                await waiter
            finally:
                handle.cancel()

    # --- receiving --------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message; pings, pongs and the closing handshake are handled here."""
        receive_timeout = timeout or self._timeout.ws_receive
        messages = self._messages
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                return WS_CLOSED_MESSAGE
            if self._closing:
                await self.close()
                return WS_CLOSED_MESSAGE
            if not messages:
                if self._ended:
                    return await self._on_ended()
                if await self._wait_for_data(receive_timeout):
                    return WS_CLOSING_MESSAGE
                continue
            message = messages.popleft()
            kind = message.type
            if kind is _TEXT or kind is _BINARY:
                self._queued -= len(message.data)
                if self._conn.reading_paused and self._queued <= _QUEUE_HIGH_WATER:
                    self._conn.resume_reading()
            elif kind is _CLOSE:
                self._closing = True
                self._close_code = message.data
                if not self._closed and self._autoclose:
                    await self.close()
            elif kind is _CLOSING:
                self._closing = True
            elif kind is _ERROR:
                self._closed = True
            return message

    async def _wait_for_data(self, timeout: float | None) -> bool:
        """Wait until a message or the end arrives; True if close() took over meanwhile."""
        waiter = self._waiter = self._loop.create_future()
        handle = None if timeout is None else self._loop.call_later(timeout, _expire, waiter)
        self._waiting = True
        try:
            await waiter
        except (asyncio.CancelledError, asyncio.TimeoutError):
            # As aiohttp: the socket stays usable, but close_code reads 1006 meanwhile.
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            raise
        finally:
            self._waiting = False
            if handle is not None:
                handle.cancel()
            close_wait = self._close_wait
            if close_wait is not None:
                # close() in another task woke us (or waits for us to leave): it takes
                # over the connection.
                self._close_wait = None
                if not close_wait.done():
                    close_wait.set_result(None)
        return close_wait is not None

    async def _on_ended(self) -> WSMessage:
        """receive() found nothing left: report why the connection ended."""
        if self._closed:
            return WS_CLOSED_MESSAGE
        error = self._end_error
        if isinstance(error, WebSocketError):
            self._exception = error
            self._close_code = error.code
            await self.close(code=error.code)
            return WSMessage(WSMsgType.ERROR, error, None)
        if isinstance(error, ServerTimeoutError):
            return WS_CLOSED_MESSAGE
        # The peer went away without a CLOSE frame.
        self._closed = True
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._exception = ClientConnectionResetError("Cannot write to closing transport")
        self._cancel_heartbeat()
        self._response.close()
        return WS_CLOSED_MESSAGE

    async def receive_str(self, *, timeout: float | None = None) -> str | bytes:
        message = await self.receive(timeout)
        if message.type is not _TEXT:
            raise WSMessageTypeError(
                f"Received message {int(message.type)}:{message.data!r} is not WSMsgType.TEXT"
            )
        # bytes when the socket was opened with decode_text=False, as in aiohttp.
        data: str | bytes = message.data
        return data

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        message = await self.receive(timeout)
        if message.type is not _BINARY:
            raise WSMessageTypeError(
                f"Received message {int(message.type)}:{message.data!r} is not WSMsgType.BINARY"
            )
        return bytes(message.data)

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        return loads(await self.receive_str(timeout=timeout))

    # --- iteration and context manager ------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WSMessage:
        message = await self.receive()
        if message.type in (_CLOSE, _CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return message

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def ws_timeout_from(timeout: Any, receive_timeout: float | None) -> ClientWSTimeout:
    """ws_connect's ClientWSTimeout, folding in the deprecated float forms (as aiohttp)."""
    if isinstance(timeout, ClientWSTimeout):
        result = timeout
    else:
        warnings.warn(
            "parameter 'timeout' of type 'float' is deprecated, please use "
            "'timeout=ClientWSTimeout(ws_close=...)'",
            DeprecationWarning,
            stacklevel=3,
        )
        if timeout is None or isinstance(timeout, (int, float)):
            result = ClientWSTimeout(ws_close=timeout)
        else:
            # Not a number of seconds (aiohttp would fail in close() later): the default.
            result = DEFAULT_WS_CLIENT_TIMEOUT
    if receive_timeout is not None:
        warnings.warn(
            "float parameter 'receive_timeout' is deprecated, please use parameter "
            "'timeout=ClientWSTimeout(ws_receive=...)'",
            DeprecationWarning,
            stacklevel=3,
        )
        result = dataclasses.replace(result, ws_receive=receive_timeout)
    return result


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


def _as_bytes(message: bytes | str) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


async def upgrade(
    request: Awaitable[ClientResponse],
    *,
    key: str,
    protocols: Sequence[str],
    compress: int,
    max_msg_size: int,
    timeout: ClientWSTimeout,
    autoclose: bool,
    autoping: bool,
    heartbeat: float | None,
    decode_text: bool,
    response_class: type[ClientWebSocketResponse],
    registry: MutableSet[ClientWebSocketResponse],
) -> ClientWebSocketResponse:
    """Check the server's answer to the upgrade request and open the WebSocket on it.

    Any failure closes the connection (it is never pooled) and raises
    `WSServerHandshakeError` with the response's status, headers and the reason.
    """
    response = await request
    # Each redirect hop sent a fresh key: check the answer against the one it answers.
    key = response.request_info.headers.get(hdrs.SEC_WEBSOCKET_KEY, key)
    try:
        outcome = check_response(response.status, response.headers, key, protocols, compress)
    except WSHandshakeError as exc:
        response.close()
        raise WSServerHandshakeError(
            response.request_info,
            response.history,
            message=str(exc),
            status=response.status,
            headers=response.headers,
        ) from None
    connection = response.connection
    if connection is None or connection.protocol is None:
        response.close()
        raise ClientConnectionResetError("Connection closed during the WebSocket handshake")
    params = outcome.deflate
    try:
        deflate = None if params is None else PerMessageDeflate(params)
        ws = response_class(
            WebSocketReader(max_msg_size=max_msg_size, deflate=deflate, decode_text=decode_text),
            WebSocketWriter(connection.protocol, deflate=deflate),
            outcome.protocol,
            response,
            timeout,
            autoclose,
            autoping,
            asyncio.get_running_loop(),
            heartbeat=heartbeat,
            compress=0 if params is None else params.client_max_window_bits,
            client_notakeover=False if params is None else params.client_no_context_takeover,
        )
    except BaseException:
        # Whatever failed (a custom ws_response_class, say), the socket is not left open.
        response.close()
        raise
    registry.add(ws)
    return ws


def shutdown_all(sockets: Iterable[ClientWebSocketResponse]) -> None:
    """Send CLOSE 1001 (going away) on each open socket and close it: the session ends."""
    for ws in list(sockets):
        ws._shutdown()
