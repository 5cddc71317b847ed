"""What the request methods return: awaitable, and an async context manager.

`async with` releases the response at the end; the one-shot variant also closes the
session it made. No request logic here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from yarl import URL

from ._client_response import ClientResponse
from .client_ws import ClientWebSocketResponse

if TYPE_CHECKING:
    import ssl

    from ._interfaces import SessionLike
    from ._reqrep_types import Fingerprint
    from ._timeouts import ClientTimeout
    from ._upload_tracker import UploadTracker
    from .client_middlewares import ClientMiddlewareType
    from .helpers import BasicAuth

__all__ = (
    "_RequestContextManager",
    "_RequestOptions",
    "_SessionRequestContextManager",
    "_WSRequestContextManager",
)

_RetType = TypeVar("_RetType", ClientResponse, ClientWebSocketResponse)


class _BaseRequestContextManager(Coroutine[Any, Any, _RetType], Generic[_RetType]):
    """Await it for the response, or `async with` it to release (or close) it at the end."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, _RetType]) -> None:
        self._coro: Coroutine[Any, Any, _RetType] = coro

    def send(self, arg: None) -> Any:
        return self._coro.send(arg)

    def throw(self, *args: Any, **kwargs: Any) -> Any:
        return self._coro.throw(*args, **kwargs)

    def close(self) -> None:
        return self._coro.close()

    def __await__(self) -> Generator[Any, None, _RetType]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, _RetType]:
        return self.__await__()

    async def __aenter__(self) -> _RetType:
        self._resp: _RetType = await self._coro
        return await self._resp.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._resp.__aexit__(exc_type, exc, tb)


class _RequestContextManager(_BaseRequestContextManager[ClientResponse]):
    __slots__ = ()


class _WSRequestContextManager(_BaseRequestContextManager[ClientWebSocketResponse]):
    __slots__ = ()


class _SessionRequestContextManager:
    """The one-shot request(): closes the session it made once the response is done."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: SessionLike) -> None:
        self._coro = coro
        self._resp: ClientResponse | None = None
        self._session = session

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        else:
            return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._resp is not None
        self._resp.release()
        await self._session.close()


class _RequestOptions(TypedDict, total=False):
    """The keyword arguments of `ClientSession.request()` and the verb methods."""

    params: Any
    data: Any
    json: Any
    cookies: Any
    headers: Any
    skip_auto_headers: Iterable[str] | None
    auth: BasicAuth | None
    allow_redirects: bool
    max_redirects: int
    compress: str | bool | None
    chunked: bool | None
    expect100: bool
    raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] | None
    read_until_eof: bool
    proxy: str | URL | None
    proxy_auth: BasicAuth | None
    timeout: ClientTimeout | None
    ssl: ssl.SSLContext | bool | Fingerprint
    server_hostname: str | None
    proxy_headers: Any
    trace_request_ctx: Mapping[str, Any] | None
    middlewares: Sequence[ClientMiddlewareType] | None
    read_bufsize: int | None
    auto_decompress: bool | None
    max_line_size: int | None
    max_field_size: int | None
    max_headers: int | None
    upload_tracker: UploadTracker | None
    verify_ssl: bool | None
    fingerprint: bytes | None
    ssl_context: ssl.SSLContext | None
