"""Client middleware types and the composition of a middleware chain around a handler.

Only composes callables; it never looks inside requests or responses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from .client_reqrep import ClientHandlerType, ClientRequest, ClientResponse

__all__ = (
    "ClientHandlerType",
    "ClientMiddlewareType",
    "ClientRequest",
    "ClientResponse",
    "build_client_middlewares",
)

ClientMiddlewareType = Callable[[ClientRequest, ClientHandlerType], Awaitable[ClientResponse]]


def _bind(middleware: ClientMiddlewareType, next_handler: ClientHandlerType) -> ClientHandlerType:
    # A plain function handing back the middleware's own awaitable: no extra coroutine
    # frame per layer, which an `async def` wrapper would add to every request.
    def handler(request: ClientRequest) -> Awaitable[ClientResponse]:
        return middleware(request, next_handler)

    return handler


def build_client_middlewares(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """Wrap `handler` so that `middlewares[0]` runs first and `handler` runs last."""
    if not middlewares:
        return handler
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler
