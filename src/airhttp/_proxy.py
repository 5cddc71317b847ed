"""HTTP proxies: the headers a proxied request carries, and the CONNECT that opens a tunnel.

Builds what is said to a proxy and reads its answer to CONNECT on a connection already
open; dialling, DNS and TLS belong to `connector`, pooling to `_pool`. No sockets here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import hdrs
from ._reqrep_types import ConnectionKey, RequestInfo
from ._settings import RequestSettings
from .client_exceptions import (
    ClientConnectorError,
    ClientHttpProxyError,
    ClientResponseError,
    InvalidURL,
)
from .helpers import BasicAuth
from .http_exceptions import HttpProcessingError
from .http_writer import serialize_headers

if TYPE_CHECKING:
    from ._interfaces import OutgoingRequest
    from ._timeouts import ClientTimeout
    from .client_proto import ResponseHandler

__all__ = (
    "connect_headers",
    "open_tunnel",
    "prepare_proxied_headers",
    "proxy_authorization",
    "proxy_connection_key",
    "proxy_uses_tls",
)

# The proxy itself is spoken to over TLS for these schemes (as aiohttp does).
_TLS_PROXY_SCHEMES: Final = frozenset({"https", "wss"})
_EARLY_TUNNEL_DATA: Final = "The proxy sent data into the tunnel before the TLS handshake"


def proxy_authorization(proxy: URL, proxy_auth: BasicAuth | None) -> str | None:
    """The Proxy-Authorization value for `proxy`: `proxy_auth` wins over the URL's userinfo."""
    if proxy_auth is None:
        proxy_auth = BasicAuth.from_url(proxy)
        if proxy_auth is None:
            return None
    return proxy_auth.encode()


def proxy_uses_tls(proxy: URL) -> bool:
    """Whether the connection to the proxy itself is TLS (an https:// proxy)."""
    return proxy.scheme in _TLS_PROXY_SCHEMES


def proxy_connection_key(proxy: URL) -> ConnectionKey:
    """The key that names the proxy in connection errors: the proxy as a direct host.

    Raises InvalidURL for a proxy URL without a host: connecting to the target instead
    would silently bypass the proxy the caller asked for.
    """
    host = proxy.raw_host
    if not host:
        raise InvalidURL(proxy)
    return ConnectionKey(host, proxy.port, proxy_uses_tls(proxy), True, None, None, None, None)


def prepare_proxied_headers(req: OutgoingRequest) -> None:
    """Fit the headers of a request that goes through `req.proxy`, just before it is sent.

    A plain-HTTP request is read by the proxy (RFC 9112 3.2.2, absolute form): it gets
    the proxy headers (where the request has no header of that name) and the proxy's
    credentials. A request inside a CONNECT tunnel is read by the target only, so
    credentials for the proxy never go in it. Calling this twice changes nothing more.
    """
    proxy = req.proxy
    assert proxy is not None
    headers = req.headers
    if req.is_ssl():
        headers.popall(hdrs.PROXY_AUTHORIZATION, None)
        return
    extra = req.proxy_headers
    if extra:
        # Built before extending, so every value of a repeated proxy header comes along.
        headers.extend(CIMultiDict((n, v) for n, v in extra.items() if n not in headers))
    auth = proxy_authorization(proxy, req.proxy_auth)
    if auth is not None:
        headers[hdrs.PROXY_AUTHORIZATION] = auth


def connect_headers(req: OutgoingRequest) -> CIMultiDict[str]:
    """The headers of the CONNECT that asks the proxy for a tunnel to `req`'s target.

    Host names the target (RFC 9110 9.3.6); then the proxy headers, the default
    Accept headers and the request's User-Agent, and the proxy's credentials. The
    target's Authorization and every other request header stay out of it.
    """
    url = req.url
    headers: CIMultiDict[str] = CIMultiDict()
    headers[hdrs.HOST] = url.host_port_subcomponent or ""
    extra = req.proxy_headers
    if extra:
        headers.extend((n, v) for n, v in extra.items() if n.lower() != "host")
    for name, value in req.DEFAULT_HEADERS.items():
        if name not in headers:
            headers[name] = value
    agent = req.headers.get(hdrs.USER_AGENT)
    if agent is not None and hdrs.USER_AGENT not in headers:
        headers[hdrs.USER_AGENT] = agent
    proxy = req.proxy
    assert proxy is not None
    auth = proxy_authorization(proxy, req.proxy_auth)
    if auth is not None:
        headers[hdrs.PROXY_AUTHORIZATION] = auth
    return headers


async def open_tunnel(
    protocol: ResponseHandler, req: OutgoingRequest, timeout: ClientTimeout
) -> None:
    """Send CONNECT over `protocol` (connected to the proxy) and wait for the tunnel.

    Returns once the proxy answered 2xx: the transport then carries bytes to and from
    the target. Raises ClientHttpProxyError for any other answer, ClientResponseError
    (400) for a malformed one, and what the protocol raises when the proxy hangs up or
    stays silent past `timeout.sock_read`. The caller closes the connection on failure.
    """
    transport = protocol.transport
    assert transport is not None
    url = req.url
    headers = connect_headers(req)
    # RFC 9110 9.3.6: the request target of CONNECT is the authority, port included.
    head = serialize_headers(f"CONNECT {url.host_subcomponent}:{url.port} HTTP/1.1", headers)
    waiter = protocol.expect_response(hdrs.METH_CONNECT, RequestSettings(timeout=timeout))
    transport.write(head)
    proxy = req.proxy
    assert proxy is not None
    try:
        message = await waiter
    except HttpProcessingError as exc:
        raise ClientResponseError(
            _request_info(req, proxy, headers),
            (),
            status=exc.code,
            message=exc.message,
            headers=exc.headers,
        ) from exc
    if not 200 <= message.code < 300:
        raise ClientHttpProxyError(
            _request_info(req, proxy, headers),
            (),
            status=message.code,
            message=message.reason,
            headers=message.headers,
        )
    if protocol.upgrade_tail():
        # TLS starts with the client's hello: anything the proxy sent first cannot belong.
        raise ClientConnectorError(req.connection_key, OSError(None, _EARLY_TUNNEL_DATA))


def _request_info(req: OutgoingRequest, proxy: URL, headers: CIMultiDict[str]) -> RequestInfo:
    return RequestInfo(req.url, hdrs.METH_CONNECT, CIMultiDictProxy(headers), proxy)
